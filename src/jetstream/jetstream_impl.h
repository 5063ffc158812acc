// JetStreamImpl: the JetStream of one server (one global account). Owns the
// streams, the shared GroupCommitter, the `$JS.API.>` subscription with its
// worker thread, and the age-expiry timer thread. The API handlers are in
// api.cc; start-up, persistence layout, timers and stats in jetstream_impl.cc.
//
// On disk: <store_dir>/<stream name>/meta.json (config + created, written
// to a temp file, fsynced, renamed, directory fsynced) and
// <store_dir>/<stream name>/msgs/ (the file store). Memory streams have no
// directory.
//
// Threads and locks: API requests are queued by the sink (on an event loop)
// and handled one at a time on api_thread_, so creates, updates and deletes
// never race each other. A STREAM.CREATE holds the rest of its sender
// connection's input (Publisher::HoldSenderInput; other connections of that
// event loop go on) until the API thread has handled it, so a publish
// pipelined right behind it on the same connection finds the stream bound. streams_mu_ guards the name -> stream map only; it
// is never held while a stream's lock is taken or a reply is published.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "jetstream/consumer.h"
#include "jetstream/jetstream.h"
#include "jetstream/stream.h"
#include "router/router.h"
#include "store/group_commit.h"

namespace sluice::jetstream {

class JetStreamImpl final : public JetStream {
 public:
  JetStreamImpl(const Config& config, router::Router& router, Publisher& publisher, store::Clock* clock);
  ~JetStreamImpl() override;
  bool Init(std::string& error);

  void Shutdown() override;
  Stats GetStats() override;
  std::string HealthError() override;

  struct ApiRequest {
    std::string subject;  // with the $JS.API. prefix
    std::string reply;
    std::string payload;
    // Set for a request whose sender's later messages wait until it is
    // handled (a stream create: see ApiSink::Deliver); called after
    // HandleApi returns, or when the API thread stops.
    std::function<void()> on_handled;
  };
  // Queues a request for the API thread (any thread).
  void Enqueue(ApiRequest request);
  // Handles one request on the calling thread (the API thread; tests).
  void HandleApi(const ApiRequest& request);
  // Tests: the consumers' thread (Flush, Wake).
  Dispatcher& dispatcher() { return *dispatcher_; }

 private:
  using ojson = nlohmann::ordered_json;
  class ApiSink;

  void ApiLoop();
  void TimerLoop();
  void Reply(const std::string& reply, const ojson& body);
  void ReplyError(const std::string& reply, const char* type, const ApiError& error, ojson extra = ojson::object());
  std::shared_ptr<Stream> FindStream(const std::string& name);
  std::vector<std::shared_ptr<Stream>> AllStreams();
  void WakeTimer();
  // Bytes reserved (max_bytes > 0) by the streams of storage type `storage`,
  // leaving out the stream named `except`.
  int64_t Reserved(Storage storage, const std::string& except = "");
  // nats-server's checkBytesLimits for a new or updated config: 10028 / 10047
  // when the server's max_mem / max_file cannot hold the reservation.
  ApiError CheckResources(const StreamConfig& config, const std::string& except);

  // Handlers (api.cc). `name` is the stream token of the subject.
  void AccountInfo(const ApiRequest& r);
  void StreamCreate(const ApiRequest& r, const std::string& name);
  void StreamUpdate(const ApiRequest& r, const std::string& name);
  void StreamDelete(const ApiRequest& r, const std::string& name);
  void StreamInfo(const ApiRequest& r, const std::string& name);
  void StreamNamesOrList(const ApiRequest& r, bool list);
  void StreamPurge(const ApiRequest& r, const std::string& name);
  void StreamMsgGet(const ApiRequest& r, const std::string& name);
  void StreamMsgDelete(const ApiRequest& r, const std::string& name);
  void DirectGet(const ApiRequest& r, const std::string& name, const std::string& subject);
  void ConsumerRequest(const ApiRequest& r, const std::string& rest);  // consumer_api.cc
  void ConsumerPause(const ApiRequest& r, const std::string& stream, const std::string& consumer);
  void ConsumerUnpin(const ApiRequest& r, const std::string& stream, const std::string& consumer);
  enum class CreateForm { kLegacy, kDurable, kNamed, kFiltered };
  void ConsumerCreate(const ApiRequest& r, const std::string& stream, const std::string& subject_name,
                      const std::string& subject_filter, CreateForm form);

  Config config_;
  router::Router& router_;
  Publisher& publisher_;
  store::Clock* clock_;
  std::unique_ptr<store::GroupCommitter> committer_;
  std::unique_ptr<AckSender> ack_sender_;
  std::unique_ptr<Dispatcher> dispatcher_;  // consumers' deliveries, acks and timers
  ResourceUsage usage_;
  StreamEnv env_;
  std::vector<std::shared_ptr<router::Subscription>> api_subs_;

  std::mutex streams_mu_;  // guards streams_ and open_errors_
  std::map<std::string, std::shared_ptr<Stream>> streams_;
  std::vector<std::string> open_errors_;

  std::mutex api_mu_;  // guards api_queue_, api_stopping_
  std::condition_variable api_cv_;
  std::deque<ApiRequest> api_queue_;
  bool api_stopping_ = false;
  std::thread api_thread_;

  std::mutex timer_mu_;  // guards timer_stopping_, timer_wake_
  std::condition_variable timer_cv_;
  bool timer_stopping_ = false;
  bool timer_wake_ = false;
  std::thread timer_thread_;

  std::atomic<uint64_t> api_total_{0};
  std::atomic<uint64_t> api_errors_{0};
  std::atomic<bool> shut_down_{false};
};

}  // namespace sluice::jetstream
