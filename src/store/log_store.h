// Internal: LogStore, the one engine behind both backends. It owns the
// index (segments of 16-byte slots, the subject table, per-segment subject
// summaries), the limits, purges, expiry and the group-commit bookkeeping;
// a SegmentIo (memory or file) holds the bytes.
//
// Locks: sync_mu_ (one sync round at a time) is taken before mu_ (everything
// else). fsyncs and checkpoint writes run holding sync_mu_ only. The
// GroupCommitter's lock is taken under mu_ (Schedule) and never the other
// way round. Durable callbacks run holding sync_mu_ only.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/checkpoint.h"
#include "store/group_commit.h"
#include "store/segment_io.h"
#include "store/store.h"
#include "store/ttl_index.h"

namespace sluice::store {

class LogStore final : public MessageStore, public SyncTarget {
 public:
  LogStore(const StoreConfig& config, std::unique_ptr<SegmentIo> io);
  ~LogStore() override;

  // File backend: rebuilds the index from the segments in dir.
  Status Recover(FileSystem& fs, const std::string& dir);

  StatusOr<AppendResult> Append(std::string_view subject, std::string_view headers, std::string_view payload,
                                DurableCallback on_durable, const AppendOptions& options) override;
  StatusOr<uint64_t> SkipSequence() override;
  StatusOr<StoredMessage> Load(uint64_t seq) override;
  StatusOr<StoredMessage> LoadNext(std::string_view filter, uint64_t start) override;
  StatusOr<size_t> LoadNextBatch(std::string_view filter, uint64_t start, size_t max_msgs, size_t max_bytes,
                                 const MessageVisitor& visit) override;
  StatusOr<StoredMessage> LoadLast(std::string_view filter) override;
  std::map<std::string, uint64_t> SubjectCounts(std::string_view filter) override;
  Status Delete(uint64_t seq) override;
  StatusOr<uint64_t> Purge(const PurgeRequest& request) override;
  StoreState State() override;
  uint64_t StoredBytes() override;
  uint64_t ExpireOld(int64_t now_ns) override;
  ExpiryResult Expire(int64_t now_ns, bool hold_last_of_subject) override;
  int64_t NextExpiry() override;
  Status UpdateLimits(const StreamLimits& limits) override;
  Status Sync() override;
  Status WaitDurable(uint64_t seq) override;
  size_t SyncPending() override;
  uint64_t IndexMemoryBytes() override;
  Status Close() override;

  void RunSyncRound() override;
  // A leader thread's round (group_commit.h): runs only while few writes
  // wait (a synchronous publisher's), else leaves them to the committer.
  bool RunLeaderRound() override;

  // Refills the TTL index from the live messages' headers (config.message_ttl)
  // after recovery (log_store_ttl.cc).
  void RebuildTtlIndex();

 private:
  struct Segment {
    uint32_t id = 0;
    uint64_t base_seq = 0;
    int64_t base_ts = 0;
    uint32_t count = 0;              // slots, live or dead
    std::vector<Slot> slots;         // emptied (freed) once every slot of a sealed segment is dead
    uint64_t live = 0;
    std::vector<uint32_t> subjects;  // distinct subject ids; sorted once sealed (may hold stale ids)
    bool sealed = false;
    bool checkpointed = false;       // a checkpoint covers the whole sealed segment
    uint64_t checkpointed_size = 0;
    uint64_t size = 0;               // bytes (the file's size once sealed)
    uint64_t last_record_offset = UINT64_MAX;
    uint32_t last_record_crc = 0;
    std::vector<uint64_t> tombstones;  // file backend: tombstone records in this segment (for its checkpoint)
    uint64_t floor = 0;                // highest floor record in this segment
    bool write_failed = false;         // a buffered write of it failed: never checkpointed (recovery scans it)
  };
  struct SubjectInfo {
    const std::string* name = nullptr;  // key of subject_ids_; nullptr when the id is free
    uint64_t count = 0;
    uint64_t first = 0;  // lower bound of the first sequence
    uint64_t last = 0;   // upper bound of the last sequence
    uint32_t last_segment = UINT32_MAX;
  };
  struct PendingAck {
    uint64_t gen;
    uint64_t seq;
    DurableCallback cb;
  };
  struct Located {
    Segment* seg = nullptr;
    size_t idx = 0;
  };
  struct Callback {
    DurableCallback cb;
    uint64_t seq;
    Status status;
  };

  // Index helpers (mu_ held).
  size_t SegmentIndexFor(uint64_t seq) const;  // segments_.size() if none
  bool LocateLive(uint64_t seq, Located* out);
  uint64_t StoredSize(const Slot& s) const;
  uint32_t InternSubject(std::string_view subject);
  void RemoveSlot(Segment& seg, size_t idx);
  void AfterRemovals();
  bool SegmentMayHold(const Segment& seg, uint32_t id) const;
  bool SegmentMayHoldAny(const Segment& seg, const std::vector<bool>& ids) const;
  const std::vector<bool>* MatchingIds(std::string_view filter);
  // Calls fn for each live message matching filter with sequence >= start,
  // in order, until fn returns false. Skips segments whose summary cannot match.
  void ForEachMatch(std::string_view filter, uint64_t start,
                    const std::function<bool(Segment&, size_t, uint64_t)>& fn);
  uint64_t ResolveFirst(uint32_t id);
  uint64_t ResolveLast(uint32_t id);
  StatusOr<StoredMessage> ReadSlot(Segment& seg, size_t idx);
  int64_t ExactTs(Segment& seg, size_t idx);
  bool FirstLive(Located* out);

  // Write helpers (mu_ held).
  Status EnsureActive(uint64_t seq, int64_t ts, size_t bytes);
  void SealActive();
  Status WriteRecords(const std::string& bytes);  // markers: tombstones, floors
  Status WriteFloorIfDirty();
  void NoteWrite(uint64_t seq, DurableCallback cb, std::vector<Callback>* inline_cbs);
  void ScheduleSyncLocked(bool now = false);
  uint64_t RemoveOldestForLimits();
  uint64_t PurgeBelow(uint64_t floor, Status* st);
  std::string BuildCheckpoint(const Segment& seg, uint64_t covered_len);
  void WithdrawUndurable();
  // A failed fsync or buffered write: fails every unacknowledged append
  // (their callbacks go to cbs), withdraws their messages, rolls the segment.
  void FailUndurableLocked(const Status& st, std::vector<Callback>* cbs);
  // Takes a deferred (buffered) write error from io_ and fails as above.
  bool HandleDeferredWriteErrorLocked(std::vector<Callback>* cbs);
  void MarkWriteFailedLocked(const DeferredWriteError& e);
  // After callbacks of a failure ran: lets Sync/WaitDurable see it.
  void PublishDoneLocked();
  // Delivers the queued watermark_events_ (sync_mu_ held, mu_ not).
  void ReportWatermark();
  Status FinishMutation(std::unique_lock<std::mutex>& lock, Status st);

  StoreConfig config_;
  StreamLimits limits_;
  Clock* clock_;
  std::unique_ptr<SegmentIo> io_;
  bool file_sizes_;

  std::mutex sync_mu_;
  std::mutex mu_;
  std::condition_variable durable_cv_;

  std::deque<std::unique_ptr<Segment>> segments_;
  Segment* active_ = nullptr;  // the last segment while it takes appends
  bool needs_roll_ = false;
  uint32_t next_segment_id_ = 1;

  std::unordered_map<std::string, uint32_t> subject_ids_;
  std::vector<SubjectInfo> subjects_;
  std::vector<uint32_t> free_ids_;
  uint64_t subjects_version_ = 0;
  std::string match_filter_;
  uint64_t match_version_ = UINT64_MAX;
  std::vector<bool> match_ids_;

  uint64_t next_seq_ = 1;
  uint64_t first_seq_ = 0;
  uint64_t msgs_ = 0;
  uint64_t bytes_ = 0;
  int64_t last_ts_ = 0;
  bool floor_dirty_ = false;
  uint64_t lost_msgs_ = 0;
  uint64_t lost_bytes_ = 0;
  std::vector<uint64_t> lost_seqs_;
  TtlIndex ttl_;  // per-message TTLs of live messages (log_store_ttl.cc)

  // Durability bookkeeping.
  uint64_t write_gen_ = 0;    // every record write bumps it
  uint64_t durable_gen_ = 0;
  uint64_t failed_gen_ = 0;   // writes up to here failed to become durable
  uint64_t durable_seq_ = 0;
  uint64_t failed_seq_ = 0;
  // The same four, published only after the round's callbacks have run:
  // Sync() and WaitDurable() wait on these.
  uint64_t done_gen_ = 0, done_seq_ = 0, done_failed_gen_ = 0, done_failed_seq_ = 0;
  Status last_sync_error_;
  std::vector<std::pair<uint64_t, uint64_t>> withdrawn_;  // sequence ranges failed by an fsync (newest 64)
  std::deque<PendingAck> pending_;
  // Reports for config_.on_durable_seq, queued under mu_ in the order the
  // state changed and delivered by SyncPending under sync_mu_.
  std::vector<std::pair<uint64_t, Status>> watermark_events_;
  std::string append_scratch_;  // Append encodes its records here (mu_ held)
  bool sync_scheduled_ = false;
  GroupCommitter* committer_ = nullptr;
  std::unique_ptr<GroupCommitter> own_committer_;
  bool closed_ = false;
};

}  // namespace sluice::store
