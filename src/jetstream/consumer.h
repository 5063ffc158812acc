// Consumer: one pull consumer of a stream (jetstream-api.md §4, §7, §8), and
// the Dispatcher thread that runs every consumer's deliveries, acks and timers.
//
// Threads: everything that sends (deliveries, status messages, AckSync
// replies) runs on the Dispatcher thread, so a pull request's messages leave
// in consumer-sequence order. Event loops (the ack subscription, the publish
// path) and the API thread only post tasks. Consumer::mu_ guards the state;
// it is taken before Stream::mu_ (loads, removals) and never while
// Publisher::Publish runs.
//
// On disk (durables of file streams): <stream dir>/obs/<name>.json holds the
// config and the state (delivered sequences, pending acks with their delivery
// counts); written to a temp file, fsynced, renamed, directory fsynced before
// an AckSync reply leaves.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "jetstream/consumer_config.h"
#include "jetstream/jetstream.h"
#include "jetstream/stream.h"
#include "router/router.h"
#include "store/store.h"

namespace sluice::jetstream {

class Consumer;

class Dispatcher {
 public:
  explicit Dispatcher(store::Clock* clock);
  ~Dispatcher();
  void Post(std::function<void()> task);
  void Watch(const std::shared_ptr<Consumer>& consumer);
  void Wake();
  // Blocks until every task posted before ran (tests, shutdown).
  void Flush();
  void Stop();
  int64_t Now();
  // Dispatcher thread only: commit this consumer's state after the batch.
  void MarkDirty(std::shared_ptr<Consumer> consumer);
  // Dispatcher thread only: its match cache for deliveries.
  router::MatchCache& cache() { return cache_; }
  // Does anyone subscribe to subject? (dispatcher thread)
  bool HasInterest(router::Router& router, const std::string& subject);

 private:
  void Run();
  store::Clock* clock_;
  std::mutex mu_;  // guards tasks_, watched_, stopping_, wake_
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::weak_ptr<Consumer>> watched_;
  bool stopping_ = false;
  bool wake_ = false;
  std::vector<std::shared_ptr<Consumer>> dirty_;  // dispatcher thread only
  router::MatchCache cache_;                       // dispatcher thread only
  std::thread thread_;
};

class Consumer final : public router::SubscriberSink, public std::enable_shared_from_this<Consumer> {
 public:
  // A new consumer positioned by its deliver policy. dir: "" for no file.
  static std::shared_ptr<Consumer> Create(const StreamEnv& env, const std::shared_ptr<Stream>& stream,
                                          const ConsumerConfig& config, std::string& error);
  // Reopens the consumers saved under the stream's directory.
  static std::vector<std::shared_ptr<Consumer>> LoadAll(const StreamEnv& env, const std::shared_ptr<Stream>& stream);
  ~Consumer() override;

  // The ack subscription ($JS.ACK.<stream>.<consumer>.>).
  bool Deliver(router::Subscription& subscription, const router::Message& message) override;
  void OnSubscriptionExpired(router::Subscription&) override {}

  // Subscribes the acks and starts the timers.
  void Start();
  // Ends the consumer: waiting requests get 409 Consumer Deleted (when
  // notify), the ack subscription goes, and with remove_files its file.
  void Stop(bool remove_files, bool notify);

  const std::string& name() const { return name_; }
  ConsumerConfig config();
  std::vector<std::string> filters();
  ApiError Update(const ConsumerConfig& config);
  nlohmann::ordered_json Info();
  // A MSG.NEXT request (any thread): queued for the dispatcher.
  void PullRequest(std::string reply, std::string payload);
  // New messages in the stream (any thread).
  void Kick();
  // Messages were purged or deleted from the stream: forget their pending acks.
  void Purged();
  // Has this consumer acknowledged (or terminated) stream sequence seq?
  bool HasAcked(uint64_t seq);

  // Dispatcher thread.
  void Pump();
  int64_t OnTimer(int64_t now_ns);  // next deadline (0: none)
  void Commit();                    // writes the state, then sends the AckSync replies

 private:
  struct PendingAck {
    uint64_t cseq = 0;
    uint64_t deliveries = 0;
    int64_t deadline = 0;  // redelivery due (INT64_MAX: never)
  };
  struct Waiting {
    std::string reply;
    int64_t batch = 1;
    int64_t max_bytes = 0;  // 0: no limit; else the budget left
    bool has_max_bytes = false;
    int64_t expires_at = 0;  // 0: never
    bool no_wait = false;
    int64_t heartbeat_ns = 0;
    int64_t last_sent = 0;
    bool delivered_any = false;
  };
  struct Out {
    std::string subject, reply, header, payload;
    std::string route;  // non-empty: delivered to this inbox's subscribers, shown as `subject`
  };

  Consumer(const StreamEnv& env, std::shared_ptr<Stream> stream, ConsumerConfig config);
  void HandleAck(const std::string& subject, const std::string& reply, const std::string& body);
  void HandlePull(const std::string& reply, const std::string& payload);
  void PumpLocked(std::vector<Out>& out, std::vector<uint64_t>& acked);
  void AfterAcks(const std::vector<uint64_t>& removed);
  bool AckLocked(uint64_t sseq, std::vector<uint64_t>& acked);
  int64_t BackoffFor(uint64_t deliveries) const;
  uint64_t NumPendingLocked();
  nlohmann::ordered_json StateJsonLocked();
  bool SaveLocked(std::string& error);
  void Publish(std::vector<Out>& out);
  int64_t Now();

  const StreamEnv env_;
  std::weak_ptr<Stream> stream_;
  std::string stream_name_;
  std::string dir_;  // "" : nothing on disk
  std::string name_;
  int64_t created_ns_ = 0;
  std::shared_ptr<router::Subscription> ack_sub_;
  std::atomic<bool> kick_scheduled_{false};

  std::mutex mu_;  // guards everything below
  ConsumerConfig config_;
  bool stopped_ = false;
  uint64_t next_sseq_ = 1;       // next stream sequence to examine
  uint64_t dseq_ = 0;            // last consumer sequence used
  uint64_t delivered_sseq_ = 0;  // last stream sequence delivered
  int64_t last_delivered_ns_ = 0, last_ack_ns_ = 0;
  std::deque<uint64_t> last_per_subject_;  // sequences still to deliver first
  std::map<uint64_t, PendingAck> pending_;
  std::set<uint64_t> redeliver_;  // due now
  std::deque<Waiting> waiting_;
  int64_t inactive_since_ = 0;
  bool dirty_ = false;
  std::vector<std::string> sync_replies_;  // AckSync replies waiting for Commit
};

}  // namespace sluice::jetstream
