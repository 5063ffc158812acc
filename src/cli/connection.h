// Connecting to the server through nats.c with the global flags, and small
// owners for nats.c objects.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "cli_common.h"

namespace sluice::cli {

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

struct SubscriptionDeleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};
using SubscriptionPtr = std::unique_ptr<natsSubscription, SubscriptionDeleter>;

// Throws CliError("<what>: <nats.c's text>") unless s is NATS_OK.
void CheckNats(natsStatus s, std::string_view what);

// nats.c's last error text for this thread, or the status text.
std::string NatsErrorText(natsStatus s);

struct ConnectSettings {
  std::string name = "sluice";
  // sub, reply and the bench subscribers keep going across server restarts
  // (reconnecting forever) and report disconnects and async errors on stderr.
  bool long_running = false;
  // Write each publish at once instead of letting nats.c's flusher batch
  // them (which can add about a millisecond): for request/reply latency.
  bool send_asap = false;
};

// One client connection, closed and destroyed with the object.
class Connection {
 public:
  // Throws CliError("cannot connect to <url>: <why>").
  static Connection Open(const GlobalOptions& global, const ConnectSettings& settings = {});

  Connection(Connection&& other) noexcept : nc_(other.nc_) { other.nc_ = nullptr; }
  Connection& operator=(Connection&&) = delete;
  ~Connection();

  natsConnection* get() const { return nc_; }
  // PING/PONG round trip: everything sent before has been processed by the server.
  void Flush(std::chrono::nanoseconds timeout) const;

 private:
  explicit Connection(natsConnection* nc) : nc_(nc) {}
  natsConnection* nc_;
};

// A synchronous subscription (queue group when `queue` is not empty) with
// generous pending limits, auto-unsubscribed after `count` messages when
// count > 0. Throws CliError when the subscribe fails.
SubscriptionPtr SubscribeSync(const Connection& conn, const std::string& subject, const std::string& queue,
                              uint64_t count);

// Milliseconds for nats.c, at least 1.
int64_t ToMillis(std::chrono::nanoseconds d);

}  // namespace sluice::cli
