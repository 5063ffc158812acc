// The log store: one interface (MessageStore), two backends (file, memory).
// JetStream streams sit on it; later Kafka partitions will too.
//
// A message is (sequence, timestamp in ns, subject, headers, payload).
// Sequences start at 1, grow by one per append and are never reused, not
// even after a purge. Timestamps never go backwards inside a store: an append
// stamped earlier than the last message gets the last message's time (this
// keeps age expiry a walk from the front, never a scan).
//
// VISIBILITY AND DURABILITY. A message is visible to every Load* call as soon
// as Append returns ok. It is durable (survives power loss) only once an
// fsync covers it; the DurableCallback passed to Append tells when:
//   * sync_interval == 0 ("always", the default): the callback runs after the
//     fsync that covers the append (with write_buffer_bytes, the append is
//     written to its file by that round, just before the fsync) (and, for a new segment, after the fsync of
//     its directory). Appends that arrive while an fsync runs share the next
//     one (group commit). The callback runs on the sync thread (the
//     GroupCommitter's, or the caller's thread inside SyncPending()), in
//     sequence order, with ok or with the error that stopped the fsync. Only
//     after an ok callback may a PubAck be sent.
//   * sync_interval > 0: the callback runs inside Append, on the caller's
//     thread, with ok: the data is in the kernel (it survives a crash of the
//     process) but reaches the disk only at the next periodic fsync, at most
//     sync_interval later (a power loss can lose that much).
//   * memory backend: the callback runs inside Append (nothing is durable).
// A callback must not call SyncPending(), Sync(), WaitDurable() or Close()
// (it would wait on itself); Append, Load* and State are fine.
//
// Deletes, purges and expiry are visible at once; with sync "always"
// Delete/Purge return after the fsync that makes them durable.
//
// Threading: every method is thread-safe (one mutex per store; fsyncs run
// without it, see src/store/README.md for the lock order).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/status.h"

namespace sluice::store {

class FileSystem;
class GroupCommitter;

struct StoredMessage {
  uint64_t seq = 0;
  int64_t timestamp_ns = 0;
  std::string subject;
  std::string headers;  // the NATS header block ("NATS/1.0\r\n…"), empty if none
  std::string payload;
};

// A stored message seen in place (LoadNextBatch's visitor): the views point
// into the store's read buffer and are valid only during that call.
struct MessageView {
  uint64_t seq = 0;
  int64_t timestamp_ns = 0;
  std::string_view subject, headers, payload;
};
// Returns false to stop the batch after this message.
using MessageVisitor = std::function<bool(const MessageView&)>;

enum class DiscardPolicy : uint8_t { kOld, kNew };

// JetStream's stream limits (jetstream-api.md §3.1, §5). A value <= 0 means
// unlimited.
struct StreamLimits {
  int64_t max_msgs = -1;
  int64_t max_bytes = -1;              // compared with StoreState::bytes
  int64_t max_age_ns = 0;
  int64_t max_msgs_per_subject = -1;
  int64_t max_msg_size = -1;           // header + payload bytes; equal is allowed
  DiscardPolicy discard = DiscardPolicy::kOld;
  bool discard_new_per_subject = false;  // with kNew: refuse instead of dropping the subject's oldest
};

// The time source for message timestamps and age expiry; tests move it.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowNs() = 0;  // wall-clock ns since the Unix epoch
};
Clock& SystemClock();

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ns = 1'700'000'000'000'000'000) : now_(now_ns) {}
  int64_t NowNs() override { return now_; }
  void Set(int64_t now_ns) { now_ = now_ns; }
  void Advance(int64_t ns) { now_ += ns; }

 private:
  int64_t now_;
};

struct StoreConfig {
  StreamLimits limits;
  // nats-server's jetstream { sync_interval }: 0 = "always" (acknowledge only
  // after fsync; the default), > 0 = fsync at most this often and report
  // appends durable at once (see the header comment and docs/storage-format.md).
  int64_t sync_interval_ns = 0;
  // Who runs fsyncs. nullptr and manual_sync == false: the store starts its
  // own GroupCommitter thread on the first write. manual_sync == true: no
  // thread, the owner calls SyncPending() (tests use this).
  GroupCommitter* committer = nullptr;
  bool manual_sync = false;
  // File backend: a segment is closed (and a new one started) when it
  // reaches this size; the active segment's index is checkpointed every
  // checkpoint_bytes of new data.
  uint64_t segment_bytes = 32ull << 20;
  uint64_t checkpoint_bytes = 8ull << 20;
  // File backend with sync "always": > 0 lets appends collect in a memory
  // buffer (up to this many bytes) that reaches the segment file in one
  // write(2) per sync round. Such an append is visible at once (loads read
  // the buffer) and its space is reserved on disk first (a full disk still
  // fails the append), but until its round writes it a process crash loses
  // it: acknowledged messages are never affected. 0: write(2) per append.
  uint64_t write_buffer_bytes = 0;
  // File backend with sync "always": a watermark instead of (or besides) a
  // DurableCallback per append. Called on the sync thread after sync rounds,
  // in order, never concurrently: (seq, ok) means every append up to seq is
  // durable; (seq, error) means every append above the previous report and
  // up to seq failed (withdrawn, never to be acknowledged). Same thread
  // rules as a DurableCallback.
  std::function<void(uint64_t seq, const Status& status)> on_durable_seq;
  Clock* clock = nullptr;  // nullptr: SystemClock()
  // Per-message TTL: the TTL (ns; < 0 never, 0 none) a stored message's
  // header block carries. When set, opening a file store rebuilds the TTL
  // timer index from the headers of the live messages that have headers.
  std::function<int64_t(std::string_view headers)> message_ttl;
  // Reports of recovery events (torn tails cut, corrupt records skipped,
  // indexes rebuilt) and write failures, one line each. May be empty.
  std::function<void(std::string_view)> log;
};

struct StoreState {
  uint64_t msgs = 0;
  uint64_t bytes = 0;       // sum of the per-message sizes of jetstream-api.md §3.2
  uint64_t first_seq = 0;   // first present message; last_seq + 1 when empty (0 on a new stream)
  int64_t first_ts = 0;     // 0 when empty
  uint64_t last_seq = 0;    // last assigned sequence
  int64_t last_ts = 0;
  uint64_t num_deleted = 0;   // interior gaps between first_seq and last_seq
  uint64_t num_subjects = 0;
  uint64_t lost_msgs = 0;     // records found corrupt (skipped at recovery or failing a read)
  uint64_t lost_bytes = 0;
  std::vector<uint64_t> lost_seqs;  // the first 1000 lost sequences, when known
};

struct AppendOptions {
  int64_t timestamp_ns = 0;  // 0: now, from the store's clock
  // Checked and applied atomically with the append (kWrongLastSequence):
  std::optional<uint64_t> expected_last_seq;          // the stream's last_seq
  std::optional<uint64_t> expected_last_subject_seq;  // last seq of expected_subject (0: none stored)
  std::string expected_subject;                       // empty: the message's own subject
  // Per-message TTL (nats-server 2.11 `Nats-TTL`): > 0 the message expires
  // ttl_ns after its timestamp (Expire removes it, driven by the owner's
  // timer, never by a scan); < 0 it never expires, not even by max_age;
  // 0 none. Kept in the store's timer index (store/ttl_index.h).
  int64_t ttl_ns = 0;
};

struct AppendResult {
  uint64_t seq = 0;
  int64_t timestamp_ns = 0;
};

// Called once per successful Append when the message is durable (or with the
// error that prevented it). See the header comment for the thread.
using DurableCallback = std::function<void(uint64_t seq, const Status&)>;

// What Expire did. held: due messages that were the last of their subject
// and were kept (hold_last_of_subject), oldest first; the owner replaces each
// with a subject delete marker (which rolls it up) or deletes it.
struct ExpiredLast {
  uint64_t seq = 0;
  std::string subject;
};
struct ExpiryResult {
  uint64_t removed = 0;
  std::vector<ExpiredLast> held;
};

struct PurgeRequest {
  std::string filter;          // empty: every subject; wildcards allowed
  uint64_t up_to_seq = 0;      // > 0: remove only sequences below it (JetStream "seq")
  std::optional<uint64_t> keep;  // keep the newest N (matching) messages; 0 = remove all
};

class MessageStore {
 public:
  virtual ~MessageStore() = default;

  // Appends a message; see the header comment for visibility and durability.
  // Enforces the limits (discard new refusals are kMax* codes; discard old
  // removes the oldest messages after the append).
  virtual StatusOr<AppendResult> Append(std::string_view subject, std::string_view headers,
                                        std::string_view payload, DurableCallback on_durable = {},
                                        const AppendOptions& options = {}) = 0;
  // Consumes the next sequence without storing a message (interest retention
  // with no interested consumer). Returns the sequence.
  virtual StatusOr<uint64_t> SkipSequence() = 0;

  virtual StatusOr<StoredMessage> Load(uint64_t seq) = 0;
  // The first message with sequence >= start whose subject matches filter
  // (empty or ">" matches all). kNotFound when there is none.
  virtual StatusOr<StoredMessage> LoadNext(std::string_view filter, uint64_t start) = 0;
  // Read-ahead for consumers: visits, in sequence order, the messages that
  // LoadNext(filter, start) and its successors would return, up to max_msgs
  // of them, stopping once the visited records reach max_bytes (at least one
  // is visited). Adjacent records are read a block at a time (one read per
  // run, not one per message) and each is CRC-checked; corrupt ones are
  // counted lost and skipped, as by LoadNext. visit runs under the store's
  // lock: it copies what it keeps and must not call the store. Returns how
  // many messages were visited (0: none matches); an error only when nothing
  // was visited (closed, a failed read).
  virtual StatusOr<size_t> LoadNextBatch(std::string_view filter, uint64_t start, size_t max_msgs,
                                         size_t max_bytes, const MessageVisitor& visit) = 0;
  // The newest message whose subject matches filter (a literal subject or a
  // wildcard filter).
  virtual StatusOr<StoredMessage> LoadLast(std::string_view filter) = 0;
  // Messages per subject, for the subjects matching filter (empty: all).
  virtual std::map<std::string, uint64_t> SubjectCounts(std::string_view filter) = 0;

  // Removes one message (interior deletes leave a gap). kNotFound if absent.
  virtual Status Delete(uint64_t seq) = 0;
  // Returns the number of messages removed. up_to_seq beyond last_seq + 1
  // moves the sequences forward (the next append gets up_to_seq).
  virtual StatusOr<uint64_t> Purge(const PurgeRequest& request) = 0;

  virtual StoreState State() = 0;
  // StoreState::bytes alone, without the rest of State()'s work (the
  // publish path reports it after every append).
  virtual uint64_t StoredBytes() = 0;

  // Age and TTL expiry: removes every message with timestamp <= now -
  // max_age (except those whose TTL is "never") and every message whose
  // per-message TTL is due (found in the timer index, not by a scan).
  // Returns how many were removed. The owner calls it from a timer.
  virtual uint64_t ExpireOld(int64_t now_ns) = 0;
  // The same; with hold_last_of_subject (subject delete markers) a due
  // message that is the last one left of its subject is kept and reported.
  virtual ExpiryResult Expire(int64_t now_ns, bool hold_last_of_subject) = 0;
  // When the next message will expire by age or TTL (ns since the epoch); 0
  // when nothing will (empty stream, no max_age and no TTL).
  virtual int64_t NextExpiry() = 0;
  // Replaces the limits and enforces them now (stream update).
  virtual Status UpdateLimits(const StreamLimits& limits) = 0;

  // Blocks until everything written so far is durable (or fails).
  virtual Status Sync() = 0;
  // Blocks until the append with sequence seq is durable.
  virtual Status WaitDurable(uint64_t seq) = 0;
  // Runs one group-commit round on the calling thread: fsyncs what is
  // pending and fires the callbacks it covers. Returns the callbacks fired.
  virtual size_t SyncPending() = 0;

  // Bytes held in memory by the index (slots, subject summaries, subject
  // table), for the "index bytes per message" measurement.
  virtual uint64_t IndexMemoryBytes() = 0;

  // Makes everything durable, writes the index checkpoint, releases files.
  // Later calls return kClosed. The destructor closes too.
  virtual Status Close() = 0;
};

// Opens (creating if needed) a file store in dir. Recovery runs here: torn
// tails are cut, corrupt records skipped and counted as lost, indexes loaded
// from checkpoints or rebuilt. fs: PosixFileSystem() in production.
StatusOr<std::unique_ptr<MessageStore>> OpenFileStore(const std::string& dir, const StoreConfig& config,
                                                      FileSystem& fs);
std::unique_ptr<MessageStore> NewMemoryStore(const StoreConfig& config);

}  // namespace sluice::store
