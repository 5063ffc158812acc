// JetStream: streams (and later consumers, KV, Object Store) on the log store.
//
// Floor 3. It talks to the rest of the server only through the router (it
// subscribes its own sinks, e.g. to `$JS.API.>` and to every stream's
// subjects) and through a Publisher (to answer requests and send PubAcks). It
// includes nothing from server/.
//
// Threads: a sink's Deliver() runs on whichever event loop received the
// publish; store durability callbacks run on the store's committer thread.
// Publisher::Publish may be called from both.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::router {
class Router;
}

namespace sluice::jetstream {

// How JetStream sends messages: API replies, PubAcks, (later) deliveries.
class Publisher {
 public:
  virtual ~Publisher() = default;
  // Routes a message as if a client had published it. Any thread.
  virtual void Publish(std::string_view subject, std::string_view reply, std::string_view header,
                       std::string_view payload) = 0;
  // Hands what Publish staged on the calling thread (an event loop holds its
  // output until the end of its read batch) to the receivers' connections
  // now. No-op elsewhere.
  virtual void CommitStaged() {}
  // Called while a message is being delivered on the thread that read it
  // from a client connection: holds that connection's later input (it is
  // kept, not read or routed) until the returned function is called (from
  // any thread, exactly once). An empty function when the caller is not
  // such a thread: it must then wait itself if it needs the ordering.
  virtual std::function<void()> HoldSenderInput() { return {}; }
};

struct Config {
  std::string store_dir;        // where streams live (the server passes <store_dir>/jetstream)
  int64_t max_memory = 0;       // bytes available to memory streams
  int64_t max_storage = 0;      // bytes available to file streams
  // nullopt: fsync before every acknowledgement ("always"); else the period.
  std::optional<std::chrono::nanoseconds> sync_interval;
  std::string domain;
  int64_t max_payload = 1024 * 1024;  // the server's max_payload (stream max_msg_size bound)
};

struct Stats {
  uint64_t streams = 0, consumers = 0, messages = 0, bytes = 0;
  uint64_t memory = 0, storage = 0;  // bytes used
  uint64_t api_total = 0, api_errors = 0;
};

class JetStream {
 public:
  // Opens every stream found under config.store_dir and subscribes the API.
  // Returns nullptr and sets `error` when the store cannot be used.
  static std::unique_ptr<JetStream> Start(const Config& config, router::Router& router, Publisher& publisher,
                                          std::string& error);
  virtual ~JetStream() = default;
  // Stops accepting, waits for pending fsyncs, closes the stores.
  virtual void Shutdown() = 0;
  virtual Stats GetStats() = 0;
  // "" when healthy; else why /healthz should say 503 (a corrupt stream, a
  // store that cannot write).
  virtual std::string HealthError() = 0;
};

}  // namespace sluice::jetstream
