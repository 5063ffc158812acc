// Stream: one JetStream stream on one MessageStore. It is the router sink for
// the stream's subjects (the publish path, jetstream-api.md §6), answers the
// per-stream API operations (info, purge, get, delete, update) and keeps its
// config in its own directory.
//
// Publish path and acknowledgements. Deliver() runs on the publisher's event
// loop: under mu_ it checks the headers, dedups and appends. File storage
// with sync "always": the PubAck is queued in append order in an AckQueue
// and sent only when the store's once-per-round on_durable_seq watermark
// covers it (from the committer thread, or from the publisher's own loop
// when it led the round); errors and duplicates wait behind the acks of
// earlier appends. Memory storage and sync_interval: every reply is ready at
// once and is published by Deliver itself once mu_ is released, never
// queued. So a publisher's acks leave in its publish order, and a success
// ack of a file stream leaves only after the fsync that covers the message.
//
// Locks: mu_ (config, dedup, subscriptions, the store handle) is taken
// before AckQueue::mu_; no lock of ours is held while Publisher::Publish
// runs (a PubAck may be routed back into a stream). See docs/LOCKING.md.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <thread>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <map>
#include <unordered_map>
#include <vector>

#include "jetstream/dedup.h"
#include "jetstream/errors.h"
#include "jetstream/jetstream.h"
#include "jetstream/stream_config.h"
#include "router/router.h"
#include "store/store.h"

namespace sluice::store {
class GroupCommitter;
}

namespace sluice::jetstream {

class AckQueue;
class Consumer;
class Dispatcher;

// The thread that sends the ready-at-once error and duplicate acks of file
// streams and the acks of big fsync rounds. A loop stages its output until
// the end of its batch, so an ack a loop drains (a round it led) could be
// overtaken by a later ack another thread publishes straight away: a drainer
// on a loop therefore commits what it staged before it stops draining
// (AckQueue::Drain, Publisher::CommitStaged).
class AckSender {
 public:
  AckSender();
  ~AckSender();  // stops the thread after sending what is queued
  void Wake(std::shared_ptr<AckQueue> queue);

 private:
  void Run();
  std::mutex mu_;  // guards queue_, stopping_
  std::condition_variable cv_;
  std::deque<std::shared_ptr<AckQueue>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// Bytes stored by all streams of one JetStream, per storage type, and the
// server's limits (jetstream { max_mem, max_file }). Each stream adds the
// change of its own byte count after every mutation (SyncUsageLocked), so a
// publish can check the server total without locking other streams.
struct ResourceUsage {
  std::atomic<int64_t> memory{0};
  std::atomic<int64_t> storage{0};
  int64_t max_memory = 0;   // <= 0: unlimited
  int64_t max_storage = 0;  // <= 0: unlimited
  // nats-server's limitsExceeded: the bytes already stored exceed the limit.
  bool Exceeded(Storage s) const {
    if (s == Storage::kMemory) return max_memory > 0 && memory.load() > max_memory;
    return max_storage > 0 && storage.load() > max_storage;
  }
};

// What every stream shares with its JetStream.
struct StreamEnv {
  ResourceUsage* usage = nullptr;  // nullptr: no server limits (tests)
  AckSender* ack_sender = nullptr;  // nullptr: acks are drained inline (tests)
  Publisher* publisher = nullptr;
  router::Router* router = nullptr;
  store::GroupCommitter* committer = nullptr;
  int64_t sync_interval_ns = 0;  // 0 = always
  std::string domain;
  store::Clock* clock = nullptr;  // nullptr: the system clock
  std::function<void(std::string_view)> log;
  Dispatcher* dispatcher = nullptr;  // nullptr: no consumers (tests)
  int64_t max_payload = 1024 * 1024;  // the server's max_payload (push rate-limit burst)
};

// PubAcks of one stream waiting for their fsync, in publish order.
// Readiness is a watermark: the store reports "durable up to seq N" once per
// sync round (StoreConfig::on_durable_seq) and every queued ack waiting for
// a sequence <= N may leave. Success acks are formatted when they leave.
class AckQueue {
 public:
  explicit AckQueue(Publisher* publisher) : publisher_(publisher) {}
  // The PubAck text before `, "seq":N` ({"stream":"X" plus the domain); set
  // once, before the first PushSuccess.
  void SetAckPrefix(std::string prefix) { ack_prefix_ = std::move(prefix); }
  // Queues a reply that may leave once everything up to wait_seq is durable.
  void Push(uint64_t wait_seq, std::string reply, std::string body);
  // Queues the success PubAck of the append with sequence seq; it becomes
  // the error ack of a failure report covering seq instead.
  void PushSuccess(uint64_t seq, std::string reply);
  // The store reported everything up to seq durable, or (error_ack not
  // empty) every append above the previous report and up to seq failed.
  // Returns how many sequences the report newly covers.
  uint64_t MarkDurable(uint64_t seq, std::string error_ack);
  // Whether the first queued reply may leave now.
  bool HasReady();
  // Sends every ready reply; safe to call re-entrantly (one drainer at a time).
  void Drain();

 private:
  struct Item {
    uint64_t wait_seq;
    bool success;  // the append's own PubAck (formatted when it leaves)
    std::string reply;
    std::string body;
  };
  struct FailedRange {
    uint64_t from, to;
    std::string error_ack;
  };
  Publisher* publisher_;
  std::string ack_prefix_;
  std::mutex mu_;  // guards everything below
  std::deque<Item> items_;
  uint64_t durable_seq_ = 0;
  std::deque<FailedRange> failed_;  // appends whose success ack becomes error_ack, ascending
  bool draining_ = false;
};

struct MessageQuery {
  uint64_t seq = 0;
  std::string last_by_subject;
  std::string next_by_subject;
};

class Stream final : public router::SubscriberSink, public std::enable_shared_from_this<Stream> {
 public:
  // Creates a new stream (writes its config for file storage). dir: its directory.
  static std::shared_ptr<Stream> Create(const StreamEnv& env, const std::string& dir, const StreamConfig& config,
                                        std::string& error);
  // Reopens a file stream from dir (its meta.json and messages).
  static std::shared_ptr<Stream> Open(const StreamEnv& env, const std::string& dir, std::string& error);
  ~Stream() override;

  // Router sink: the publish path.
  bool Deliver(router::Subscription& subscription, const router::Message& message) override;
  void OnSubscriptionExpired(router::Subscription&) override {}

  bool Subscribe();    // inserts the subscriptions for the configured subjects
  void Unsubscribe();  // removes them

  StreamConfig config();
  const std::string& name() const { return name_; }
  int64_t created_ns() const { return created_ns_; }

  ApiError Update(const StreamConfig& config);
  // StreamInfo: config, created, state (+ subjects / deleted on request).
  nlohmann::ordered_json Info(bool deleted_details, const std::string& subjects_filter);
  nlohmann::ordered_json StateJson(bool deleted_details, const std::string& subjects_filter);
  ApiError Purge(const store::PurgeRequest& request, uint64_t& purged);
  ApiError GetMessage(const MessageQuery& query, store::StoredMessage& out);
  ApiError DeleteMessage(uint64_t seq, bool no_erase);
  store::StoreState State();
  // Age and per-message TTL expiry: runs the store's Expire when due, places
  // subject delete markers (stream_ttl.cc) and returns the next expiry (0: none).
  int64_t RunExpiry(int64_t now_ns);
  // Closes the store (pending acks are sent) and, with remove_files, deletes the directory.
  void Close(bool remove_files);

  uint64_t lost_messages();
  const std::string& dir() const { return dir_; }
  bool memory() { return config().storage == Storage::kMemory; }

  // Consumers (consumers_mu_ is a leaf, also taken under mu_).
  void AddConsumer(const std::shared_ptr<Consumer>& consumer, std::vector<std::string> filters);
  void SetConsumerFilters(const std::string& name, std::vector<std::string> filters);
  std::shared_ptr<Consumer> RemoveConsumer(const std::string& name);
  std::shared_ptr<Consumer> FindConsumer(const std::string& name);
  std::vector<std::shared_ptr<Consumer>> Consumers();  // by name
  // Every filter of every consumer (empty string: a consumer without filter).
  std::vector<std::vector<std::string>> ConsumerFilters();

  // Store access for consumers. filters empty: every subject.
  store::StatusOr<store::StoredMessage> LoadNextMatching(const std::vector<std::string>& filters, uint64_t start);
  store::StatusOr<store::StoredMessage> LoadSeq(uint64_t seq);
  // Read-ahead for consumers: visits the next messages LoadNextMatching would
  // give from start on, up to max_msgs / about max_bytes, in sequence order
  // (one store read per run of records; see MessageStore::LoadNextBatch: the
  // visitor runs under the locks and copies what it keeps). Returns how many.
  size_t LoadNextBatch(const std::vector<std::string>& filters, uint64_t start, size_t max_msgs, size_t max_bytes,
                       const store::MessageVisitor& visit);
  // With `state`, the store state the count was taken at (same lock).
  uint64_t CountMatching(const std::vector<std::string>& filters, uint64_t start,
                         store::StoreState* state = nullptr);
  // The newest message of each subject matching filters, ascending.
  std::vector<uint64_t> LastPerSubject(const std::vector<std::string>& filters);
  uint64_t LastMatching(const std::vector<std::string>& filters);  // 0: none
  uint64_t FirstAtOrAfter(int64_t time_ns);  // last_seq + 1 when none
  // Removes a message consumed under workqueue/interest retention.
  void RemoveConsumed(uint64_t seq);
  // Interest retention: removes seq once every consumer whose filter
  // matches it acknowledged it. Called with no consumer lock held.
  void CheckInterest(uint64_t seq);
  // Interest retention after a consumer went: re-checks every message.
  void RecheckInterest();

 private:
  Stream(const StreamEnv& env, std::string dir);
  bool OpenStore(std::string& error);
  bool SaveConfigLocked(std::string& error);
  void RebuildDedupLocked();
  void HandlePublish(const router::Message& message);
  bool HasInterestLocked(std::string_view subject);
  std::string ErrorAck(const ApiError& error) const;
  std::string SuccessAck(uint64_t seq, bool duplicate) const;
  // File storage with sync "always": acks are released by the store's
  // per-round watermark (mu_ held); else an append is durable at once.
  bool WatermarkAcks() const;
  int64_t NowNs();
  store::StoreConfig StoreConfigFor(const StreamConfig& config) const;
  // Reports the change of this stream's stored bytes to env_.usage.
  void SyncUsageLocked();
  // Replaces an expired last message of its subject with a MaxAge marker
  // (or deletes it); true when a marker was appended. stream_ttl.cc.
  bool PlaceMarkerLocked(const store::ExpiredLast& held);

  const StreamEnv env_;
  const std::string dir_;
  std::string name_;
  int64_t created_ns_ = 0;
  std::shared_ptr<AckQueue> acks_;
  std::string ack_prefix_;  // {"stream":"X" (+ domain): set at Create/Open, then read-only

  std::mutex mu_;  // guards everything below
  StreamConfig config_;
  std::unique_ptr<store::MessageStore> store_;
  std::vector<std::shared_ptr<router::Subscription>> subscriptions_;
  DedupWindow dedup_;
  std::string last_msg_id_;
  uint64_t last_appended_seq_ = 0;
  int64_t reported_bytes_ = 0;  // what env_.usage holds for this stream
  bool closed_ = false;

  struct ConsumerEntry {
    std::shared_ptr<Consumer> consumer;
    std::vector<std::string> filters;
  };
  std::mutex consumers_mu_;  // guards consumers_
  std::map<std::string, ConsumerEntry> consumers_;
};

// The PubAck and error-ack texts (exposed for tests).
std::string FormatPubAck(const std::string& stream, const std::string& domain, uint64_t seq, bool duplicate);
std::string FormatErrorAck(const std::string& stream, const ApiError& error);
nlohmann::ordered_json ErrorJson(const ApiError& error);

}  // namespace sluice::jetstream
