// Consumer: one consumer of a stream, pull (jetstream-api.md §4, §7, §8) or
// push (a deliver subject), and the Dispatcher thread that runs every
// consumer's deliveries, acks and timers.
//
// Threads: everything that sends (deliveries, status messages, flow-control
// requests, heartbeats, AckSync replies, advisories of deliveries) runs on
// the Dispatcher thread, so a consumer's messages leave in consumer-sequence
// order. Event loops (the ack and flow-control subscriptions, the publish
// path) and the API thread only post tasks (acks: queued on the consumer
// under acks_mu_, one DrainAcks task per batch). Consumer::mu_ guards the state;
// it is taken before Stream::mu_ (loads, removals) and before
// Dispatcher::mu_ (arming a timer), and never while Publisher::Publish or
// Router::RouteTo runs.
//
// On disk (durables of file streams): <stream dir>/obs/<name>.json is the
// snapshot (config and state: delivered sequences, pending acks with their
// delivery counts; temp file, fsync, rename, directory fsync) and
// <name>.journal the changes committed since it, one CRC-framed record per
// commit, fdatasynced before an AckSync reply leaves (consumer_state.h).
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "jetstream/consumer_config.h"
#include "jetstream/consumer_state.h"
#include "jetstream/consumer_timers.h"
#include "jetstream/jetstream.h"
#include "jetstream/stream.h"
#include "router/router.h"
#include "store/store.h"

namespace sluice::jetstream {

class Consumer;

// The consumers' thread. It runs posted tasks, then the consumer timers that
// are due (a deadline-ordered heap: a round costs O(due)), and re-checks the
// deliver-subject interest of a push consumer when the router reports a
// subscription inserted or removed on exactly its deliver subject (the
// router's InterestObserver: no polling).
class Dispatcher final : public router::InterestObserver {
 public:
  explicit Dispatcher(store::Clock* clock);
  ~Dispatcher() override;
  void Post(std::function<void()> task);
  // Calls consumer->OnTimer() once deadline_ns has passed (any thread). A
  // consumer re-arms from OnTimer; stale entries are skipped there.
  void ScheduleTimer(std::weak_ptr<Consumer> consumer, int64_t deadline_ns);
  // Push consumers: CheckInterest() runs in the next round, then whenever a
  // subscription on the consumer's deliver subject is inserted or removed.
  // The first call registers the dispatcher as the router's observer.
  void WatchInterest(std::weak_ptr<Consumer> consumer, router::Router* router);
  // A push consumer's deliver subject changed: re-reads every watched
  // consumer's deliver subject and checks each in the next round.
  void RecheckInterest();
  // router::InterestObserver: on the subscribing thread, no router trie lock
  // held; takes watch_mu_ then mu_ (to wake the thread), nothing else.
  void OnInterestChanged(const router::Subscription& subscription, bool added) override;
  void Wake();
  // Blocks until every task posted before ran and the round that ran the
  // last of them finished (its commits, interest checks and due timers), so
  // whatever those tasks set off has been posted (tests, shutdown).
  void Flush();
  void Stop();
  int64_t Now();
  // Is the caller the dispatcher thread?
  bool OnThread() const { return std::this_thread::get_id() == thread_.get_id(); }
  // Dispatcher thread only: commit this consumer's state after the batch.
  void MarkDirty(std::shared_ptr<Consumer> consumer);
  // Dispatcher thread only: commit it once the dispatcher runs out of work,
  // or after kLazyCommitRounds busy rounds (for changes nobody waits to see
  // confirmed: plain acks).
  void MarkDirtyLazy(std::shared_ptr<Consumer> consumer);
  static constexpr uint32_t kLazyCommitRounds = 32;
  // Dispatcher thread only: its match cache for deliveries.
  router::MatchCache& cache() { return cache_; }
  // Does anyone subscribe to subject? (dispatcher thread)
  bool HasInterest(router::Router& router, const std::string& subject);

 private:
  struct Timer {
    int64_t deadline;
    std::weak_ptr<Consumer> consumer;
  };
  static bool Later(const Timer& a, const Timer& b) { return a.deadline > b.deadline; }
  void Run();
  void CheckInterests();
  // Rebuilds watched_ from the live consumers' deliver subjects.
  void RebuildWatched(const std::vector<std::weak_ptr<Consumer>>& push);
  void RunDueTimers();
  void CommitDirty();
  void CommitLazy();

  store::Clock* clock_;
  std::mutex mu_;  // guards tasks_, timers_, stopping_, wake_, rounds_done_
  std::condition_variable cv_;
  std::condition_variable round_cv_;  // signalled when a round ends (Flush waits on it)
  uint64_t rounds_done_ = 0;          // rounds finished
  std::deque<std::function<void()>> tasks_;
  std::vector<Timer> timers_;  // min-heap by deadline
  bool stopping_ = false;
  bool wake_ = false;
  // Dispatcher thread only.
  std::vector<std::shared_ptr<Consumer>> dirty_;
  std::vector<std::shared_ptr<Consumer>> lazy_;
  uint32_t lazy_rounds_ = 0;  // busy rounds since lazy_ got its first entry
  router::MatchCache cache_;
  // Interest watching. watch_mu_ guards push_, watched_, to_check_,
  // recheck_all_, prune_at_, rebuilding_ and added_while_rebuilding_; it is taken under the router's observer
  // lock (OnInterestChanged) and before mu_, never the other way round.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::mutex watch_mu_;
  std::vector<std::weak_ptr<Consumer>> push_;  // every watched push consumer
  // Deliver subject -> the consumers delivering there (exact subjects: only
  // a subscription on exactly that subject is interest, see InterestIn).
  std::unordered_map<std::string, std::vector<std::weak_ptr<Consumer>>, StringHash, std::equal_to<>> watched_;
  std::vector<std::weak_ptr<Consumer>> to_check_;  // checked in the next round
  bool recheck_all_ = false;                       // rebuild watched_, check every push consumer
  size_t prune_at_ = 16;                           // push_ size that triggers dropping dead entries
  // While RebuildWatched reads deliver subjects, WatchInterest also notes
  // its additions here so that the swap keeps them.
  bool rebuilding_ = false;
  std::vector<std::pair<std::string, std::weak_ptr<Consumer>>> added_while_rebuilding_;
  std::atomic<bool> interest_pending_{false};      // to_check_ or recheck_all_ may be set
  // observer_mu_ guards observed_ and observer_closed_; taken only around
  // Router::Add/RemoveInterestObserver, never under watch_mu_ or mu_.
  std::mutex observer_mu_;
  router::Router* observed_ = nullptr;  // the router we observe (nullptr: none)
  bool observer_closed_ = false;        // Stop ran: observe nothing more
  std::thread thread_;
};

class Consumer final : public router::SubscriberSink, public std::enable_shared_from_this<Consumer> {
 public:
  // A new consumer positioned by its deliver policy.
  static std::shared_ptr<Consumer> Create(const StreamEnv& env, const std::shared_ptr<Stream>& stream,
                                          const ConsumerConfig& config, std::string& error);
  // Reopens the consumers saved under the stream's directory.
  static std::vector<std::shared_ptr<Consumer>> LoadAll(const StreamEnv& env, const std::shared_ptr<Stream>& stream);
  ~Consumer() override;

  // The ack subscription ($JS.ACK.<stream>.<consumer>.>) and the flow-control
  // replies ($JS.FC.<stream>.<consumer>.*): copied and posted to the dispatcher.
  bool Deliver(router::Subscription& subscription, const router::Message& message) override;
  void OnSubscriptionExpired(router::Subscription&) override {}

  // Subscribes acks (and flow-control replies), checks the deliver
  // subject's interest, starts the timers.
  void Start();
  // Ends the consumer. With notify (a delete): waiting pull requests get
  // 409 Consumer Deleted and the DELETED advisory goes out. With
  // remove_files its state file goes.
  void Stop(bool remove_files, bool notify);
  // The CREATED advisory (API thread, after Start).
  void AnnounceCreated();
  // nats-server 2.11: after every create or update reply of a paused
  // consumer, the PAUSE advisory (paused true) goes out (API thread).
  void AnnouncePauseIfPaused();

  // $JS.API.CONSUMER.PAUSE: sets (has) or clears the pause deadline, writes
  // the config (a durable's snapshot: durable when it returns ok), arms the
  // resume timer, and sends the PAUSE advisory when the deadline changed.
  // A deadline in the past resumes. `paused` / `remaining_ns`: the state now.
  ApiError SetPause(bool has, int64_t until_ns, const std::string& as_sent, bool& paused, int64_t& remaining_ns);
  // $JS.API.CONSUMER.UNPIN: forgets the pin of `group` (10160 when the
  // consumer has no such group), sends the UNPINNED advisory (reason
  // "admin"), and lets the waiting requests take a new pin.
  ApiError Unpin(const std::string& group);

  const std::string& name() const { return name_; }
  bool push() const { return push_; }
  ConsumerConfig config();
  std::vector<std::string> filters();
  ApiError Update(const ConsumerConfig& config);
  nlohmann::ordered_json Info();
  // Does the deliver subject have a subscriber now? (any thread, uncached)
  bool DeliverSubjectHasInterest();
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
  void OnTimer(int64_t now_ns);
  // Push consumers: re-reads the deliver subject's interest; true when bound.
  bool CheckInterest();
  void Commit();  // writes the state, then sends the AckSync replies

  // Memory accounting for tests and docs: heap entries of the redelivery timers.
  size_t timer_entries();

 private:
  struct PendingAck {
    uint64_t cseq = 0;
    int64_t deadline = 0;  // redelivery due; 0 while queued for redelivery
    int64_t delivered_ns = 0;  // the latest delivery (sample_freq's ack_time; not saved)
    uint32_t deliveries = 0;
  };
  struct Waiting {
    std::string reply;
    int64_t batch = 1;
    int64_t max_bytes = 0;  // 0: no limit; else the budget left
    bool has_max_bytes = false;
    int64_t expires_at = 0;  // 0: never
    bool no_wait = false;
    int64_t heartbeat_ns = 0;
    int64_t next_heartbeat = 0;  // 0: none
    int64_t delivered = 0;
    // Priority groups (a consumer with a priority_policy): overflow's
    // thresholds, and pinned_client's pin id (sent by the client, or
    // assigned when this request takes a new pin).
    int64_t min_pending = 0, min_ack_pending = 0;
    std::string pin_id;
  };
  struct Out {
    std::string subject, reply, header, payload;
    std::string route;  // non-empty: delivered to this subject's subscribers, shown as `subject`
    bool advisory = false;  // sent only when someone subscribes to `subject`
    // count > 0: instead of the strings above, the Outbox's deliveries
    // [first, first + count), all routed to `route` as one batch.
    size_t first = 0, count = 0;
  };
  // A delivery formatted into an Outbox's arena (offsets: the arena grows).
  struct Delivery {
    uint32_t subject = 0, reply = 0, header = 0, payload = 0;  // offsets of the four parts
    uint32_t subject_len = 0, reply_len = 0, header_len = 0, payload_len = 0;
  };
  // What one pump (or ack drain, timer, pull request) sends, in order.
  // Deliveries are copied into one arena instead of four strings each.
  struct Outbox : std::vector<Out> {
    // The arena's capacity is kept from batch to batch on each thread
    // (consumer_delivery.cc), so a busy consumer's batches fault no new pages.
    Outbox();
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;
    std::string arena;
    std::vector<Delivery> deliveries;
  };
  // The next message to deliver. The views point into `owned` (a
  // redelivery, a last-per-subject message) or into the read-ahead arena,
  // which does not change until the next NextLocked call.
  struct Candidate {
    uint64_t seq = 0;
    int64_t timestamp_ns = 0;
    std::string_view subject, headers, payload;
    std::unique_ptr<store::StoredMessage> owned;
    uint32_t deliveries = 1;
    enum class Kind : uint8_t { kRedelivery, kLastPerSubject, kFresh } kind = Kind::kFresh;
  };
  static Candidate OwnedCandidate(store::StoredMessage m);

  // Why NextLocked found nothing.
  enum class Halt : uint8_t { kNone, kEndOfStream, kMaxAckPending };
  // nats-server's window: JsFlowControlMaxPending, starting at 1/16 and
  // doubling with each answered request.
  struct FlowControl {
    int64_t pbytes = 0;  // delivered bytes not yet covered by an answered request
    int64_t maxpb = 0;   // current window (0: no flow control)
    int64_t pblimit = 0;
    int64_t fcsz = 0;  // bytes the outstanding request covers
    std::string fcid;  // the outstanding request's reply subject
  };
  struct Replay {  // replay_policy original
    bool replaying = false;
    uint64_t until_seq = 0;  // the stream's last sequence when the consumer started
    int64_t last_ts = 0;
    int64_t hold_until = 0;
    uint64_t hold_seq = 0;
  };
  struct RateLimit {  // rate_limit_bps: a token bucket in bytes
    double tokens = 0;
    double burst = 0;
    int64_t at = 0;  // 0: not started (filled to the burst on first use)
    int64_t hold_until = 0;
  };
  struct PendingCount {  // num_pending of messages >= next_sseq_, kept incrementally
    bool valid = false;
    uint64_t count = 0, last_seq = 0, first_seq = 0, deleted = 0;
  };

  Consumer(const StreamEnv& env, std::shared_ptr<Stream> stream, ConsumerConfig config);

  // consumer_acks.cc
  // An ack as it arrived on an event loop, queued for the dispatcher.
  struct AckIn {
    std::string subject, reply, body;
  };
  // Dispatcher: handles every ack queued so far, then pumps once.
  void DrainAcks();
  // One ack: returns whether deliveries may go on (a slot freed, a NAK).
  // Fills `acked` (AfterAcks runs once per batch); `dirty` when the state
  // must be committed, `confirm` when an AckSync reply waits for that commit.
  bool HandleAck(const std::string& subject, const std::string& reply, const std::string& body,
                 std::vector<uint64_t>& acked, bool& dirty, bool& confirm);
  void HandleFlowControlReply(const std::string& subject);
  bool AckLocked(uint64_t sseq, std::vector<uint64_t>& acked);
  void ExhaustLocked(uint64_t seq, uint32_t deliveries, std::vector<Out>& out);
  void AfterAcks(const std::vector<uint64_t>& removed);
  void AdvisoryLocked(const char* kind, nlohmann::ordered_json body, std::vector<Out>& out);
  // The PAUSE advisory of config_'s deadline (paused: now is before it).
  void PauseAdvisoryLocked(int64_t now, std::vector<Out>& out);
  // sample_freq: the ack metric ($JS.EVENT.METRIC.CONSUMER.ACK.<stream>.<consumer>)
  // for the sampled share of explicit acks of pending messages.
  void SampleAckLocked(uint64_t sseq, uint64_t dseq, uint64_t dc, const PendingAck& p, std::vector<Out>& out);
  int64_t BackoffFor(uint64_t deliveries) const;
  void ScheduleRedeliveryLocked(uint64_t seq, PendingAck& p, int64_t deadline);
  bool TimerIsCurrent(uint64_t seq, int64_t deadline) const;
  void CompactTimersLocked();

  // consumer_delivery.cc
  // want / want_bytes: how many fresh messages the caller may still take in
  // this batch (the read-ahead reads no more than that).
  std::optional<Candidate> NextLocked(Stream& stream, const std::vector<std::string>& filters,
                                      std::vector<Out>& out, Halt& halt, size_t want, size_t want_bytes);
  // Ends a pump batch's read-ahead (every Pump*Locked does, on every exit).
  void DropReadAheadLocked();
  // Appends c's ack reply subject to `to` (no allocation once to has room).
  void AppendAckReplyLocked(std::string& to, const Candidate& c, uint64_t pending_left) const;
  // Copies c (its subject, ack reply, headers, payload; headers only if so
  // configured) into the outbox's arena. Undo: out.arena.resize(mark).
  // pin_id non-empty: a Nats-Pin-Id header line is added (pinned_client).
  Delivery FormatDeliveryLocked(Outbox& out, const Candidate& c, uint64_t pending_left,
                                std::string_view pin_id = {}) const;
  // Queues a formatted delivery for `route` (extending the last Out when it
  // is a run for the same route).
  static void QueueDelivery(Outbox& out, const Delivery& d, const std::string& route);
  void CommitDeliveryLocked(const Candidate& c, int64_t now, std::vector<uint64_t>& acked);
  bool ReplayAllowsLocked(const Candidate& c, int64_t now);
  bool RateAllowsLocked(size_t size, int64_t now);
  void EndOfBacklogLocked();
  bool PumpPushLocked(Outbox& out, std::vector<uint64_t>& acked);
  bool PumpPullLocked(Outbox& out, std::vector<uint64_t>& acked);
  void FlowControlAfterLocked(int64_t size, std::vector<Out>& out);
  std::string HeartbeatHeaderLocked() const;
  void Publish(Outbox& out);
  // Ack none: commits the delivered position after a Pump (settled: nothing
  // more to send now), throttled while a backlog drains.
  void CommitProgress(bool settled);

  // consumer_pull.cc
  void HandlePull(const std::string& reply, const std::string& payload);
  void PruneWaitingLocked(int64_t now, std::vector<Out>& out);
  // The 408 status that ends pull request `w` (expired, or a no_wait request
  // at the end of the stream), with its pending-messages/bytes headers.
  static Out RequestTimeout(const Waiting& w);
  // Ends (408) the one-shot (no_wait) requests that already got messages.
  void EndServedOneShotsLocked(std::vector<Out>& out);
  bool WaitingHasInterest(const std::string& reply);
  // Priority groups: the checks of a new request (nats-server's order; its
  // 400 statuses and 423). False: refused, the status is in `out`. A
  // matching pin id restarts the pin's timeout.
  bool AdmitPriorityRequestLocked(Waiting& w, bool json_body, const std::string& group, int64_t now,
                                  std::vector<Out>& out);
  // Priority groups: puts at waiting_'s front the request that may take
  // candidate `c` (nats-server's nextWaiting): pinned_client assigns a pin
  // when none is held, ends requests with a stale pin (423), passes over
  // requests without one; overflow passes over requests whose min_pending /
  // min_ack_pending are not reached. False: no request may take it now.
  bool SelectPriorityRequestLocked(const Candidate& c, uint64_t pending_count, int64_t now, std::vector<Out>& out);
  void PinnedAdvisoryLocked(std::vector<Out>& out);
  void UnpinnedAdvisoryLocked(const char* reason, std::vector<Out>& out);

  uint64_t NumPendingLocked(Stream& stream);
  nlohmann::ordered_json StateJsonLocked();
  // Writes a snapshot (the whole state) and starts a new journal.
  bool SaveLocked(std::string& error);
  // Commits the changes since the last commit: one journal record, or a
  // snapshot when the journal is not open or has outgrown its bound.
  // Durable when it returns true.
  bool CommitStateLocked(std::string& error);
  // A pending ack was added, changed or removed: the next commit records it.
  void NoteChangedLocked(uint64_t seq);
  StateDelta DeltaLocked();
  void ArmTimerLocked(int64_t deadline_ns);
  bool InterestIn(const std::string& subject, const std::string& group, router::MatchCache* cache);
  int64_t Now();

  const StreamEnv env_;
  std::weak_ptr<Stream> stream_;
  std::string stream_name_;
  std::string dir_;  // "" : nothing on disk
  std::string name_;
  bool push_ = false;  // a consumer never changes mode
  int64_t created_ns_ = 0;
  std::atomic<bool> kick_scheduled_{false};
  static constexpr uint32_t kProgressCommitPumps = 32;
  // Dispatcher thread only: pumps whose ack-none progress is not committed yet.
  uint32_t pumps_since_commit_ = 0;

  // Acks from the event loops wait here; one DrainAcks task per batch (not
  // one dispatcher task per ack). A leaf lock: nothing else is taken under it.
  std::mutex acks_mu_;  // guards acks_in_, acks_scheduled_
  std::vector<AckIn> acks_in_;
  bool acks_scheduled_ = false;  // a DrainAcks task is posted and has not taken the queue yet

  std::mutex mu_;  // guards everything below
  // The ack and flow-control subscriptions hold this consumer as their sink:
  // Stop() drops them, breaking that cycle.
  std::shared_ptr<router::Subscription> ack_sub_, fc_sub_;
  ConsumerConfig config_;
  bool stopped_ = false;
  uint64_t next_sseq_ = 1;       // next stream sequence to examine
  uint64_t dseq_ = 0;            // last consumer sequence used
  uint64_t delivered_sseq_ = 0;  // last stream sequence delivered
  int64_t last_delivered_ns_ = 0, last_ack_ns_ = 0;
  std::deque<uint64_t> last_per_subject_;  // sequences still to deliver first
  std::map<uint64_t, PendingAck> pending_;
  RedeliveryTimers timers_;       // deadlines of pending_ entries
  std::set<uint64_t> redeliver_;  // due now, in stream order
  std::set<uint64_t> exhausted_;  // hit max_deliver (counted in num_redelivered)
  PendingCount npc_;
  // Fresh messages are read ahead by NextLocked (Stream::LoadNextBatch, one
  // store read per run of records) into the dispatcher thread's ReadAhead
  // scratch (consumer_delivery.cc). It lives only within the lock hold of
  // one pump batch (DropReadAheadLocked), so a message deleted, purged or
  // filtered out meanwhile is never served from it, and idle consumers hold
  // no read buffers.
  std::string ack_prefix_;  // "$JS.ACK.<stream>.<consumer>." (set at construction, then read-only)
  std::deque<Waiting> waiting_;     // pull requests
  int64_t last_activity_ns_ = 0;    // pull: last request, delivery or ack
  bool active_ = false;             // push: the deliver subject has interest
  int64_t inactive_since_ = 0;      // push: when interest went (or creation)
  int64_t heartbeat_due_ = 0;       // push: next idle heartbeat
  FlowControl fc_;
  Replay replay_;
  RateLimit rate_;
  int64_t timer_at_ = 0;  // the earliest deadline armed with the dispatcher (0: none)
  // A pause deadline is ahead (config_.pause_until_ns, armed with the
  // dispatcher): at it OnTimer sends the resume advisory and pumps.
  bool pause_wait_ = false;
  // pinned_client: the current pin (empty: none; not saved, as nats-server),
  // when it was assigned (Unix ns, kept after the pin goes, as nats-server's
  // info shows it), and when it lapses without a request carrying it (0:
  // not armed; armed with the dispatcher, OnTimer releases it).
  std::string pin_id_;
  int64_t pinned_ts_ = 0;
  int64_t pin_deadline_ = 0;
  bool dirty_ = false;
  std::vector<std::string> sync_replies_;  // AckSync replies waiting for Commit
  // State files (dir_ non-empty). changed_: stream sequences whose pending
  // ack changed since the last commit (duplicates allowed). journal_: open
  // after a snapshot started it; nullptr until the first snapshot after a
  // load, and after a write error (the next commit writes a snapshot).
  std::vector<uint64_t> changed_;
  size_t changed_compact_at_ = 0;  // NoteChangedLocked compacts changed_ past this size
  std::unique_ptr<ConsumerJournal> journal_;
  uint64_t journal_gen_ = 0;      // generation of the last snapshot attempt
  uint64_t snapshot_bytes_ = 0;   // size of the last snapshot
};

}  // namespace sluice::jetstream
