#include "jetstream/stream.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <set>

#include "core/subject.h"
#include "jetstream/consumer.h"
#include "jetstream/msg_ttl.h"
#include "jetstream/wire.h"
#include "store/filesystem.h"
#include "store/group_commit.h"

namespace sluice::jetstream {
namespace {

using ojson = nlohmann::ordered_json;

constexpr char kMetaFile[] = "meta.json";
// A sync round covering at most this many appends sends their acks from the
// committer's thread itself (no hand-off to the AckSender).
constexpr uint64_t kInlineAckLimit = 16;
constexpr char kMsgsDir[] = "msgs";

std::string Quote(const std::string& s) { return nlohmann::json(s).dump(); }

ApiError StoreError(const store::Status& status) {
  switch (status.code()) {
    case store::StatusCode::kMaxMessages: return MakeError(ErrorId::kStreamStoreFailed, "maximum messages exceeded");
    case store::StatusCode::kMaxBytes: return MakeError(ErrorId::kStreamStoreFailed, "maximum bytes exceeded");
    case store::StatusCode::kMaxPerSubject:
      return MakeError(ErrorId::kStreamStoreFailed, "maximum messages per subject exceeded");
    case store::StatusCode::kMaxMessageSize: return MakeError(ErrorId::kStreamMessageExceedsMaximum);
    default: return MakeError(ErrorId::kStreamStoreFailed, status.message());
  }
}

}  // namespace

// ---- acknowledgements ----

namespace {

// `{"stream":"X"` plus `, "domain":"D"` when set: what precedes the sequence.
std::string PubAckPrefix(const std::string& stream, const std::string& domain) {
  std::string out = "{\"stream\":" + Quote(stream);
  if (!domain.empty()) out += ", \"domain\":" + Quote(domain);
  return out;
}

void AppendPubAck(std::string& out, std::string_view prefix, uint64_t seq, bool duplicate) {
  out.append(prefix);
  out.append(", \"seq\":");
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, seq);
  out.append(digits, end);
  if (duplicate) out.append(",\"duplicate\": true");
  out.push_back('}');
}

}  // namespace

std::string FormatPubAck(const std::string& stream, const std::string& domain, uint64_t seq, bool duplicate) {
  std::string out;
  AppendPubAck(out, PubAckPrefix(stream, domain), seq, duplicate);
  return out;
}

ojson ErrorJson(const ApiError& error) {
  ojson e;
  e["code"] = error.code;
  e["err_code"] = error.err_code;
  e["description"] = error.description;
  return e;
}

std::string FormatErrorAck(const std::string& stream, const ApiError& error) {
  ojson j;
  j["error"] = ErrorJson(error);
  j["stream"] = stream;
  j["seq"] = 0;
  return j.dump();
}

void AckQueue::Push(uint64_t wait_seq, std::string reply, std::string body) {
  std::lock_guard lock(mu_);
  items_.push_back(Item{wait_seq, false, std::move(reply), std::move(body)});
}

void AckQueue::PushSuccess(uint64_t seq, std::string reply) {
  std::lock_guard lock(mu_);
  items_.push_back(Item{seq, true, std::move(reply), {}});
}

uint64_t AckQueue::MarkDurable(uint64_t seq, std::string error_ack) {
  std::lock_guard lock(mu_);
  if (seq <= durable_seq_) return 0;
  if (!error_ack.empty()) failed_.push_back(FailedRange{durable_seq_ + 1, seq, std::move(error_ack)});
  uint64_t covered = seq - durable_seq_;
  durable_seq_ = seq;
  return covered;
}

bool AckQueue::HasReady() {
  std::lock_guard lock(mu_);
  return !items_.empty() && items_.front().wait_seq <= durable_seq_;
}

void AckQueue::Drain() {
  std::unique_lock lock(mu_);
  if (draining_) return;  // the drainer re-checks the queue after each send
  draining_ = true;
  std::string body;
  while (!items_.empty() && items_.front().wait_seq <= durable_seq_) {
    while (!items_.empty() && items_.front().wait_seq <= durable_seq_) {
      Item item = std::move(items_.front());
      items_.pop_front();
      while (!failed_.empty() && failed_.front().to < item.wait_seq) failed_.pop_front();
      if (item.success) {
        if (!failed_.empty() && failed_.front().from <= item.wait_seq) {
          item.body = failed_.front().error_ack;
        } else {
          body.clear();
          AppendPubAck(body, ack_prefix_, item.wait_seq, false);
          item.body.swap(body);
        }
      }
      lock.unlock();
      if (!item.reply.empty()) publisher_->Publish(item.reply, "", "", item.body);
      if (item.success) body.swap(item.body);  // keeps the buffer for the next ack
      lock.lock();
    }
    // On an event loop (a sync round it led) the acks were only staged:
    // they reach their connections before this thread stops being the
    // drainer, so no later ack sent by another drainer overtakes them.
    lock.unlock();
    publisher_->CommitStaged();
    lock.lock();
  }
  draining_ = false;
}

AckSender::AckSender() : thread_([this] { Run(); }) {}

AckSender::~AckSender() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void AckSender::Wake(std::shared_ptr<AckQueue> queue) {
  bool was_idle;
  {
    std::lock_guard lock(mu_);
    // One entry per ack queue is enough (a Drain sends all that is ready),
    // and only the first entry needs a wake-up: a thread that is draining
    // or already signalled finds the rest when it looks again.
    for (const auto& q : queue_) {
      if (q == queue) return;
    }
    was_idle = queue_.empty();
    queue_.push_back(std::move(queue));
  }
  if (was_idle) cv_.notify_one();
}

void AckSender::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and nothing left
    std::shared_ptr<AckQueue> q = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    q->Drain();
    lock.lock();
  }
}

// ---- lifecycle ----

Stream::Stream(const StreamEnv& env, std::string dir)
    : env_(env), dir_(std::move(dir)), acks_(std::make_shared<AckQueue>(env.publisher)) {}

Stream::~Stream() { Close(false); }

void Stream::SyncUsageLocked() {
  if (!env_.usage) return;
  int64_t bytes = store_ && !closed_ ? static_cast<int64_t>(store_->StoredBytes()) : 0;
  int64_t delta = bytes - reported_bytes_;
  if (delta == 0) return;
  reported_bytes_ = bytes;
  (config_.storage == Storage::kMemory ? env_.usage->memory : env_.usage->storage) += delta;
}

int64_t Stream::NowNs() { return env_.clock ? env_.clock->NowNs() : store::SystemClock().NowNs(); }

store::StoreConfig Stream::StoreConfigFor(const StreamConfig& c) const {
  store::StoreConfig sc;
  sc.limits.max_msgs = c.max_msgs;
  sc.limits.max_bytes = c.max_bytes;
  sc.limits.max_age_ns = c.max_age_ns;
  sc.limits.max_msgs_per_subject = c.max_msgs_per_subject;
  sc.limits.max_msg_size = c.max_msg_size;
  sc.limits.discard = c.discard == Discard::kNew ? store::DiscardPolicy::kNew : store::DiscardPolicy::kOld;
  sc.limits.discard_new_per_subject = c.discard_new_per_subject;
  sc.sync_interval_ns = env_.sync_interval_ns;
  // Sync "always": one write(2) per fsync round instead of one per message
  // (an unacknowledged message may then be lost by a process crash).
  sc.write_buffer_bytes = 1 << 20;
  sc.committer = env_.committer;
  if (c.storage == Storage::kFile && env_.sync_interval_ns == 0) {
    // Once per sync round, on the committer's thread: release the acks.
    sc.on_durable_seq = [acks = acks_, sender = env_.ack_sender, name = c.name](uint64_t seq,
                                                                                 const store::Status& status) {
      uint64_t covered = acks->MarkDurable(
          seq, status.ok() ? std::string()
                           : FormatErrorAck(name, MakeError(ErrorId::kStreamStoreFailed, status.ToString())));
      // A few acks (synchronous publishers) leave from here at once; a big
      // round's go to the sender thread, so the next fsync need not wait.
      if (sender && covered > kInlineAckLimit) sender->Wake(acks);
      else acks->Drain();
    };
  }
  sc.clock = env_.clock;
  if (c.allow_msg_ttl) sc.message_ttl = MessageTtlNs;  // rebuilds the TTL index at open
  if (env_.log) {
    auto log = env_.log;
    std::string prefix = "stream " + c.name + ": ";
    sc.log = [log, prefix](std::string_view line) { log(prefix + std::string(line)); };
  }
  return sc;
}

bool Stream::OpenStore(std::string& error) {
  store::StoreConfig sc = StoreConfigFor(config_);
  if (config_.storage == Storage::kMemory) {
    store_ = store::NewMemoryStore(sc);
    return true;
  }
  auto opened = store::OpenFileStore(dir_ + "/" + kMsgsDir, sc, store::PosixFileSystem());
  if (!opened.ok()) {
    error = opened.status().ToString();
    return false;
  }
  store_ = std::move(opened).value();
  return true;
}

bool Stream::SaveConfigLocked(std::string& error) {
  if (config_.storage == Storage::kMemory) return true;
  store::FileSystem& fs = store::PosixFileSystem();
  ojson meta;
  meta["config"] = ToJson(config_);
  meta["created"] = created_ns_;
  std::string tmp = dir_ + "/" + kMetaFile + ".tmp";
  auto st = fs.MakeDirs(dir_);
  if (!st.ok()) {
    error = st.ToString();
    return false;
  }
  auto file = fs.Open(tmp, store::OpenMode::kCreateTruncate);
  if (!file.ok()) {
    error = file.status().ToString();
    return false;
  }
  st = store::WriteAll(**file, meta.dump(2) + "\n");
  if (st.ok()) st = (*file)->Sync();
  file->reset();
  if (st.ok()) st = fs.Rename(tmp, dir_ + "/" + kMetaFile);
  if (st.ok()) st = fs.SyncDir(dir_);
  if (!st.ok()) {
    error = "cannot save the stream config: " + st.ToString();
    return false;
  }
  return true;
}

std::shared_ptr<Stream> Stream::Create(const StreamEnv& env, const std::string& dir, const StreamConfig& config,
                                       std::string& error) {
  std::shared_ptr<Stream> s(new Stream(env, dir));
  std::lock_guard lock(s->mu_);
  s->name_ = config.name;
  s->ack_prefix_ = PubAckPrefix(s->name_, env.domain);
  s->acks_->SetAckPrefix(s->ack_prefix_);
  s->config_ = config;
  s->created_ns_ = s->NowNs();
  s->dedup_.SetWindow(config.duplicate_window_ns);
  if (config.storage == Storage::kFile) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);  // leftovers of a stream deleted half-way
    if (!s->SaveConfigLocked(error)) return nullptr;
  }
  if (!s->OpenStore(error)) return nullptr;
  if (config.first_seq > 1) {
    auto purged = s->store_->Purge(store::PurgeRequest{"", config.first_seq, std::nullopt});
    (void)purged;
  }
  s->SyncUsageLocked();
  return s;
}

std::shared_ptr<Stream> Stream::Open(const StreamEnv& env, const std::string& dir, std::string& error) {
  std::shared_ptr<Stream> s(new Stream(env, dir));
  store::FileSystem& fs = store::PosixFileSystem();
  std::string path = dir + "/" + kMetaFile;
  auto file = fs.Open(path, store::OpenMode::kRead);
  if (!file.ok()) {
    error = "cannot read " + path + ": " + file.status().ToString();
    return nullptr;
  }
  auto size = (*file)->Size();
  std::string text(size.ok() ? *size : 0, '\0');
  if (!size.ok() || !store::ReadExact(**file, 0, text.size(), text.data()).ok()) {
    error = "cannot read " + path;
    return nullptr;
  }
  auto meta = nlohmann::json::parse(text, nullptr, false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("config")) {
    error = path + " is not a stream config";
    return nullptr;
  }
  std::lock_guard lock(s->mu_);
  ApiError perr = ParseStreamConfig(meta["config"], s->config_);
  if (!perr.ok()) {
    error = path + ": " + perr.description;
    return nullptr;
  }
  Normalize(s->config_);
  s->name_ = s->config_.name;
  s->ack_prefix_ = PubAckPrefix(s->name_, env.domain);
  s->acks_->SetAckPrefix(s->ack_prefix_);
  s->created_ns_ = meta.value("created", int64_t{0});
  s->dedup_.SetWindow(s->config_.duplicate_window_ns);
  if (!s->OpenStore(error)) return nullptr;
  s->RebuildDedupLocked();
  s->acks_->MarkDurable(s->last_appended_seq_, "");  // recovered messages are durable
  s->SyncUsageLocked();
  return s;
}

// The ids stored within the duplicate window, found by walking back from the
// newest message until one is older than the window.
void Stream::RebuildDedupLocked() {
  store::StoreState st = store_->State();
  last_appended_seq_ = st.last_seq;
  if (st.msgs == 0) return;
  if (auto last = store_->Load(st.last_seq); last.ok()) {
    if (auto id = HeaderValue(last->headers, "Nats-Msg-Id")) last_msg_id_ = std::string(*id);
  }
  int64_t cutoff = NowNs() - config_.duplicate_window_ns;
  std::vector<store::StoredMessage> recent;
  for (uint64_t seq = st.last_seq; seq >= st.first_seq && seq > 0; --seq) {
    auto m = store_->Load(seq);
    if (!m.ok()) continue;
    if (m->timestamp_ns <= cutoff) break;
    recent.push_back(std::move(*m));
  }
  for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
    if (auto id = HeaderValue(it->headers, "Nats-Msg-Id")) dedup_.Record(*id, it->seq, it->timestamp_ns);
  }
}

bool Stream::Subscribe() {
  std::lock_guard lock(mu_);
  auto self = shared_from_this();
  for (const auto& subject : config_.subjects) {
    auto sub = std::make_shared<router::Subscription>(self, subject, "", "$JS.stream." + name_);
    if (!env_.router->Insert(sub)) return false;
    subscriptions_.push_back(std::move(sub));
  }
  return true;
}

void Stream::Unsubscribe() {
  std::vector<std::shared_ptr<router::Subscription>> subs;
  {
    std::lock_guard lock(mu_);
    subs.swap(subscriptions_);
  }
  for (auto& sub : subs) env_.router->Remove(sub);
}

void Stream::Close(bool remove_files) {
  std::map<std::string, ConsumerEntry> consumers;
  {
    std::lock_guard lock(consumers_mu_);
    consumers.swap(consumers_);
  }
  for (auto& [_, e] : consumers) e.consumer->Stop(false, remove_files);
  Unsubscribe();
  std::unique_ptr<store::MessageStore> store;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    SyncUsageLocked();  // closed: gives this stream's bytes back
    store = std::move(store_);
  }
  if (store) (void)store->Close();  // fires the remaining durable callbacks
  acks_->Drain();
  store.reset();
  if (remove_files) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

StreamConfig Stream::config() {
  std::lock_guard lock(mu_);
  return config_;
}

// ---- the publish path ----

bool Stream::Deliver(router::Subscription&, const router::Message& message) {
  HandlePublish(message);
  return true;
}

bool Stream::WatermarkAcks() const {
  return config_.storage == Storage::kFile && env_.sync_interval_ns == 0;
}

std::string Stream::SuccessAck(uint64_t seq, bool duplicate) const {
  return FormatPubAck(name_, env_.domain, seq, duplicate);
}

std::string Stream::ErrorAck(const ApiError& error) const { return FormatErrorAck(name_, error); }

bool Stream::HasInterestLocked(std::string_view subject) {
  std::lock_guard lock(consumers_mu_);
  for (const auto& [_, e] : consumers_) {
    if (e.filters.empty()) return true;
    for (const auto& f : e.filters) {
      if (SubjectIsSubsetOf(subject, f)) return true;
    }
  }
  return false;
}

void Stream::HandlePublish(const router::Message& m) {
  bool appended = false;
  bool queued_acks = false;
  // Memory storage or sync_interval: every reply is ready at once and leaves
  // from this thread as soon as mu_ is released (on an event loop, in the
  // output of the read batch that carried the publish). Its acks never queue,
  // so they stay in this publisher's order without any hand-off.
  std::string direct_reply;
  {
    std::unique_lock lock(mu_);
    if (closed_ || !store_) return;
    const bool want_ack = !m.reply.empty() && !config_.no_ack;
    const bool ready_at_once = !WatermarkAcks();
    queued_acks = !ready_at_once;
    // A reply that may leave once everything up to wait_seq is durable.
    auto respond = [&](uint64_t wait_seq, std::string body) {
      if (!want_ack) return;
      if (ready_at_once) {
        direct_reply = std::move(body);
      } else {
        acks_->Push(wait_seq, std::string(m.reply), std::move(body));
      }
    };
    auto fail = [&](ErrorId id, std::string_view detail = {}) {
      respond(last_appended_seq_, ErrorAck(MakeError(id, detail)));
    };
    if (config_.sealed) {
      fail(ErrorId::kStreamSealed);
    } else {
      const std::string_view h = m.header;
      std::optional<std::string_view> msg_id, rollup;
      store::AppendOptions options;
      bool ok = true;
      if (!h.empty()) {
        if (auto v = HeaderValue(h, "Nats-Expected-Stream"); v && *v != name_) {
          fail(ErrorId::kStreamNotMatch);
          ok = false;
        }
        if (ok && !config_.allow_msg_ttl) {  // nats-server checks this before dedup
          if (auto ttl = MessageTtlSeconds(h); ttl && *ttl != 0) {
            fail(ErrorId::kMessageTtlDisabled);
            ok = false;
          }
        }
        if (ok) msg_id = HeaderValue(h, "Nats-Msg-Id");
        if (ok && msg_id && !msg_id->empty()) {
          if (auto seq = dedup_.Find(*msg_id, NowNs())) {
            respond(last_appended_seq_, SuccessAck(*seq, true));
            ok = false;
          }
        }
        if (ok) {
          if (auto v = HeaderValue(h, "Nats-Expected-Last-Subject-Sequence")) {
            auto n = ParseUint(*v);
            if (!n) {
              fail(ErrorId::kStreamWrongLastSequence, "0");
              ok = false;
            } else {
              auto last = store_->LoadLast(m.subject);
              uint64_t actual = last.ok() ? last->seq : 0;
              if (actual != *n) {
                fail(ErrorId::kStreamWrongLastSequence, std::to_string(actual));
                ok = false;
              }
              options.expected_last_subject_seq = *n;
            }
          }
        }
        if (ok) {
          if (auto v = HeaderValue(h, "Nats-Expected-Last-Sequence")) {
            auto n = ParseUint(*v);
            if (!n) {
              fail(ErrorId::kStreamWrongLastSequence, std::to_string(store_->State().last_seq));
              ok = false;
            } else {
              uint64_t actual = store_->State().last_seq;
              if (actual != *n) {
                fail(ErrorId::kStreamWrongLastSequence, std::to_string(actual));
                ok = false;
              }
              options.expected_last_seq = *n;
            }
          }
        }
        if (ok) {
          if (auto v = HeaderValue(h, "Nats-Expected-Last-Msg-Id"); v && *v != last_msg_id_) {
            fail(ErrorId::kStreamWrongLastMsgId, last_msg_id_);
            ok = false;
          }
        }
        if (ok) {
          rollup = HeaderValue(h, "Nats-Rollup");
          if (rollup) {
            if (!config_.allow_rollup_hdrs || config_.deny_purge) {
              fail(ErrorId::kStreamRollupFailed);
              ok = false;
            } else if (*rollup != "sub" && *rollup != "all") {
              ok = false;  // nats-server drops it without an ack
            }
          }
        }
        if (ok && h.size() > 65535) {
          fail(ErrorId::kStreamHeaderExceedsMaximum);
          ok = false;
        }
      }
      if (ok && config_.max_msg_size > 0 &&
          static_cast<int64_t>(h.size() + m.payload.size()) > config_.max_msg_size) {
        fail(ErrorId::kStreamMessageExceedsMaximum);
        ok = false;
      }
      if (ok && env_.usage && env_.usage->Exceeded(config_.storage)) {
        fail(ErrorId::kInsufficientResources);
        ok = false;
      }
      std::string ttl_headers;  // the block with Nats-TTL raised to the marker TTL
      if (ok && !h.empty()) {  // an invalid value is 10165 even where TTLs are off (2.11)
        auto ttl = MessageTtlSeconds(h);
        if (!ttl) {
          fail(ErrorId::kMessageTtlInvalid);
          ok = false;
        } else if (*ttl != 0) {
          // nats-server: with markers, a TTL is at least the marker TTL (so a
          // marker is never missed), except with max_msgs_per_subject 1.
          int64_t floor_s = config_.subject_delete_marker_ttl_ns / kSecondNs;
          if (*ttl > 0 && floor_s > 0 && config_.max_msgs_per_subject != 1 && *ttl < floor_s) {
            *ttl = floor_s;
            ttl_headers = ReplaceHeader(h, kMessageTtlHeader, std::to_string(*ttl));
          }
          options.ttl_ns = *ttl < 0 ? -1 : *ttl * kSecondNs;
        }
      }
      if (ok) {
        if (config_.retention == Retention::kInterest && !HasInterestLocked(m.subject)) {
          // Nobody would ever consume it: the sequence is used, nothing stored.
          auto skipped = store_->SkipSequence();
          if (skipped.ok()) {
            // Waits for the earlier appends only: nothing of its own to fsync.
            respond(last_appended_seq_, SuccessAck(*skipped, false));
          } else {
            respond(last_appended_seq_, ErrorAck(StoreError(skipped.status())));
          }
          ok = false;
        }
      }
      if (ok) {
        // File storage with sync "always": the store's watermark report
        // (StoreConfigFor) releases the ack; otherwise it is durable at once.
        auto result = store_->Append(m.subject, ttl_headers.empty() ? h : std::string_view(ttl_headers), m.payload,
                                     {}, options);
        appended = result.ok();
        if (!result.ok()) {
          if (result.status().code() == store::StatusCode::kWrongLastSequence) {
            uint64_t actual = 0;
            if (options.expected_last_subject_seq) {
              auto last = store_->LoadLast(m.subject);
              actual = last.ok() ? last->seq : 0;
            } else {
              actual = store_->State().last_seq;
            }
            fail(ErrorId::kStreamWrongLastSequence, std::to_string(actual));
          } else {
            respond(last_appended_seq_, ErrorAck(StoreError(result.status())));
          }
        } else {
          uint64_t seq = result->seq;
          last_appended_seq_ = seq;
          if (msg_id && !msg_id->empty()) {
            dedup_.Record(*msg_id, seq, result->timestamp_ns);
            last_msg_id_ = std::string(*msg_id);
          } else {
            last_msg_id_.clear();
          }
          if (rollup) {
            store::PurgeRequest req;
            if (*rollup == "sub") req.filter = std::string(m.subject);
            req.keep = 1;
            (void)store_->Purge(req);
          }
          if (want_ack && ready_at_once) {
            AppendPubAck(direct_reply, ack_prefix_, seq, false);
          } else if (want_ack) {
            acks_->PushSuccess(seq, std::string(m.reply));
          }
        }
        SyncUsageLocked();
      }
    }
  }
  if (!direct_reply.empty()) env_.publisher->Publish(m.reply, "", "", direct_reply);
  // Success acks of file streams wait for the fsync round, which sends them
  // itself: no wake-up per publish. Errors and duplicates may be ready now.
  if (queued_acks && !env_.ack_sender) {
    acks_->Drain();
  } else if (queued_acks && acks_->HasReady()) {
    env_.ack_sender->Wake(acks_);
  }
  if (appended) {
    for (auto& c : Consumers()) c->Kick();
  }
}

// ---- API operations ----

ApiError Stream::Update(const StreamConfig& next) {
  std::vector<std::shared_ptr<router::Subscription>> old_subs, new_subs;
  {
    std::lock_guard lock(mu_);
    if (closed_) return MakeError(ErrorId::kStreamNotFound);
    StreamConfig c = next;
    if (c.sealed) {  // sealing forces these (jetstream-api.md §3.1)
      c.discard = Discard::kNew;
      c.max_age_ns = 0;
      c.deny_delete = true;
      c.deny_purge = true;
      c.allow_rollup_hdrs = false;
    }
    auto status = store_->UpdateLimits(StoreConfigFor(c).limits);
    if (!status.ok()) return MakeError(ErrorId::kStreamGeneralError, status.ToString());
    bool subjects_changed = c.subjects != config_.subjects;
    StreamConfig previous = config_;
    config_ = c;
    SyncUsageLocked();  // tighter limits may have removed messages
    dedup_.SetWindow(c.duplicate_window_ns);
    std::string error;
    if (!SaveConfigLocked(error)) {
      config_ = previous;
      (void)store_->UpdateLimits(StoreConfigFor(previous).limits);
      return MakeError(ErrorId::kStreamGeneralError, error);
    }
    if (subjects_changed) {
      old_subs.swap(subscriptions_);
      auto self = shared_from_this();
      for (const auto& subject : config_.subjects) {
        auto sub = std::make_shared<router::Subscription>(self, subject, "", "$JS.stream." + name_);
        new_subs.push_back(sub);
        subscriptions_.push_back(sub);
      }
    }
  }
  for (auto& sub : new_subs) env_.router->Insert(sub);
  for (auto& sub : old_subs) env_.router->Remove(sub);
  return {};
}

store::StoreState Stream::State() {
  std::lock_guard lock(mu_);
  if (!store_) return {};
  return store_->State();
}

uint64_t Stream::lost_messages() { return State().lost_msgs; }

ojson Stream::StateJson(bool deleted_details, const std::string& subjects_filter) {
  std::lock_guard lock(mu_);
  ojson s;
  store::StoreState st = store_ ? store_->State() : store::StoreState{};
  s["messages"] = st.msgs;
  s["bytes"] = st.bytes;
  s["first_seq"] = st.first_seq;
  s["first_ts"] = FormatTime(st.msgs ? st.first_ts : 0);
  s["last_seq"] = st.last_seq;
  s["last_ts"] = FormatTime(st.last_ts);
  if (st.num_subjects) s["num_subjects"] = st.num_subjects;
  if (!subjects_filter.empty() && store_) {
    auto counts = store_->SubjectCounts(subjects_filter == ">" ? "" : subjects_filter);
    if (!counts.empty()) s["subjects"] = counts;
  }
  if (st.num_deleted) {
    s["num_deleted"] = st.num_deleted;
    if (deleted_details && store_) {
      std::vector<uint64_t> gaps;
      uint64_t expect = st.first_seq;
      while (expect <= st.last_seq) {
        auto m = store_->LoadNext("", expect);
        uint64_t upto = m.ok() ? m->seq : st.last_seq + 1;
        for (uint64_t g = expect; g < upto; ++g) gaps.push_back(g);
        expect = upto + 1;
      }
      s["deleted"] = gaps;
    }
  }
  if (st.lost_msgs) {
    ojson lost;
    lost["msgs"] = st.lost_seqs;
    lost["bytes"] = st.lost_bytes;
    s["lost"] = lost;
  }
  {
    std::lock_guard clock(consumers_mu_);
    s["consumer_count"] = consumers_.size();
  }
  return s;
}

ojson Stream::Info(bool deleted_details, const std::string& subjects_filter) {
  ojson j;
  j["config"] = ToJson(config());
  j["created"] = FormatTime(created_ns_);
  j["state"] = StateJson(deleted_details, subjects_filter);
  return j;
}

ApiError Stream::Purge(const store::PurgeRequest& request, uint64_t& purged) {
  std::lock_guard lock(mu_);
  if (closed_) return MakeError(ErrorId::kStreamNotFound);
  if (config_.sealed) return MakeError(ErrorId::kStreamSealed);
  if (config_.deny_purge) return MakeError(ErrorId::kStreamPurgeFailed);
  if (!request.filter.empty() && !IsValidSubject(request.filter))
    return MakeError(ErrorId::kStreamGeneralError, "invalid subject filter");
  auto r = store_->Purge(request);
  SyncUsageLocked();
  if (!r.ok()) return MakeError(ErrorId::kStreamGeneralError, r.status().ToString());
  purged = *r;
  return {};
}

ApiError Stream::GetMessage(const MessageQuery& q, store::StoredMessage& out) {
  std::lock_guard lock(mu_);
  if (closed_) return MakeError(ErrorId::kStreamNotFound);
  store::StatusOr<store::StoredMessage> r = store::NotFound();
  if (!q.last_by_subject.empty()) {
    r = store_->LoadLast(q.last_by_subject);
  } else if (!q.next_by_subject.empty()) {
    r = store_->LoadNext(q.next_by_subject, q.seq);
  } else {
    r = store_->Load(q.seq);
  }
  if (!r.ok()) return MakeError(ErrorId::kNoMessageFound);
  out = std::move(*r);
  return {};
}

ApiError Stream::DeleteMessage(uint64_t seq, bool /*no_erase: the store never overwrites in place*/) {
  std::lock_guard lock(mu_);
  if (closed_) return MakeError(ErrorId::kStreamNotFound);
  if (config_.sealed) return MakeError(ErrorId::kStreamSealed);
  if (config_.deny_delete) return MakeError(ErrorId::kStreamMsgDeleteFailed, "message delete not permitted");
  if (seq == 0) return MakeError(ErrorId::kStreamMsgDeleteFailed, "no message found");
  store::StoreState st = store_->State();
  if (seq > st.last_seq) return MakeError(ErrorId::kStreamMsgDeleteFailed, "stream store EOF");
  if (seq < st.first_seq) return MakeError(ErrorId::kStreamMsgDeleteFailed, "no message found");
  auto status = store_->Delete(seq);
  SyncUsageLocked();
  if (status.code() == store::StatusCode::kNotFound)
    return MakeError(ErrorId::kSequenceNotFound, std::to_string(seq));
  if (!status.ok()) return MakeError(ErrorId::kStreamMsgDeleteFailed, status.ToString());
  return {};
}

// RunExpiry (age, TTL, subject delete markers): stream_ttl.cc.

// ---- consumers ----

void Stream::AddConsumer(const std::shared_ptr<Consumer>& consumer, std::vector<std::string> filters) {
  std::lock_guard lock(consumers_mu_);
  consumers_[consumer->name()] = ConsumerEntry{consumer, std::move(filters)};
}

void Stream::SetConsumerFilters(const std::string& name, std::vector<std::string> filters) {
  std::lock_guard lock(consumers_mu_);
  if (auto it = consumers_.find(name); it != consumers_.end()) it->second.filters = std::move(filters);
}

std::shared_ptr<Consumer> Stream::RemoveConsumer(const std::string& name) {
  std::lock_guard lock(consumers_mu_);
  auto it = consumers_.find(name);
  if (it == consumers_.end()) return nullptr;
  auto c = it->second.consumer;
  consumers_.erase(it);
  return c;
}

std::shared_ptr<Consumer> Stream::FindConsumer(const std::string& name) {
  std::lock_guard lock(consumers_mu_);
  auto it = consumers_.find(name);
  return it == consumers_.end() ? nullptr : it->second.consumer;
}

std::vector<std::shared_ptr<Consumer>> Stream::Consumers() {
  std::lock_guard lock(consumers_mu_);
  std::vector<std::shared_ptr<Consumer>> out;
  for (auto& [_, e] : consumers_) out.push_back(e.consumer);
  return out;
}

std::vector<std::vector<std::string>> Stream::ConsumerFilters() {
  std::lock_guard lock(consumers_mu_);
  std::vector<std::vector<std::string>> out;
  for (auto& [_, e] : consumers_) out.push_back(e.filters);
  return out;
}

store::StatusOr<store::StoredMessage> Stream::LoadNextMatching(const std::vector<std::string>& filters,
                                                               uint64_t start) {
  std::lock_guard lock(mu_);
  if (closed_ || !store_) return store::NotFound();
  if (filters.empty()) return store_->LoadNext("", start);
  store::StatusOr<store::StoredMessage> best = store::NotFound();
  for (const auto& f : filters) {
    auto m = store_->LoadNext(f, start);
    if (m.ok() && (!best.ok() || m->seq < best->seq)) best = std::move(m);
  }
  return best;
}

size_t Stream::LoadNextBatch(const std::vector<std::string>& filters, uint64_t start, size_t max_msgs,
                             size_t max_bytes, const store::MessageVisitor& visit) {
  std::lock_guard lock(mu_);
  if (closed_ || !store_ || max_msgs == 0) return 0;
  if (filters.size() <= 1) {
    auto n = store_->LoadNextBatch(filters.empty() ? std::string_view() : std::string_view(filters[0]), start,
                                   max_msgs, max_bytes, visit);
    return n.ok() ? *n : 0;
  }
  // Several filters: the nearest match of any, one message at a time.
  size_t n = 0, bytes = 0;
  while (n < max_msgs && (n == 0 || bytes < max_bytes)) {
    store::StatusOr<store::StoredMessage> best = store::NotFound();
    for (const auto& f : filters) {
      auto m = store_->LoadNext(f, start);
      if (m.ok() && (!best.ok() || m->seq < best->seq)) best = std::move(m);
    }
    if (!best.ok()) break;
    start = best->seq + 1;
    bytes += best->subject.size() + best->headers.size() + best->payload.size();
    ++n;
    if (!visit(store::MessageView{best->seq, best->timestamp_ns, best->subject, best->headers, best->payload})) break;
  }
  return n;
}

store::StatusOr<store::StoredMessage> Stream::LoadSeq(uint64_t seq) {
  std::lock_guard lock(mu_);
  if (closed_ || !store_) return store::NotFound();
  return store_->Load(seq);
}

uint64_t Stream::CountMatching(const std::vector<std::string>& filters, uint64_t start,
                               store::StoreState* state) {
  std::lock_guard lock(mu_);
  if (closed_ || !store_) return 0;
  store::StoreState st = store_->State();
  if (state) *state = st;
  if (start > st.last_seq || st.msgs == 0) return 0;
  if (start <= st.first_seq) {
    if (filters.empty()) return st.msgs;
    uint64_t n = 0;
    for (const auto& f : filters) {
      for (const auto& [_, count] : store_->SubjectCounts(f)) n += count;
    }
    return n;
  }
  if (filters.empty() && st.num_deleted == 0) return st.last_seq - start + 1;  // no gaps: plain arithmetic
  // Walk the shorter side: the matches below start (subtracted from the
  // per-subject totals) or the matches from start on.
  std::vector<std::string> fs = filters.empty() ? std::vector<std::string>{""} : filters;
  auto walk = [&](uint64_t from, uint64_t below) {
    uint64_t n = 0;
    for (const auto& f : fs) {
      uint64_t seq = from;
      while (true) {
        auto m = store_->LoadNext(f, seq);
        if (!m.ok() || m->seq >= below) break;
        ++n;
        seq = m->seq + 1;
      }
    }
    return n;
  };
  if (start - st.first_seq < st.last_seq - start) {
    uint64_t total = 0;
    if (filters.empty()) {
      total = st.msgs;
    } else {
      for (const auto& f : filters) {
        for (const auto& [_, count] : store_->SubjectCounts(f)) total += count;
      }
    }
    uint64_t below = walk(st.first_seq, start);
    return total > below ? total - below : 0;
  }
  return walk(start, UINT64_MAX);
}

std::vector<uint64_t> Stream::LastPerSubject(const std::vector<std::string>& filters) {
  std::lock_guard lock(mu_);
  std::set<uint64_t> seqs;
  if (closed_ || !store_) return {};
  std::vector<std::string> fs = filters.empty() ? std::vector<std::string>{""} : filters;
  for (const auto& f : fs) {
    for (const auto& [subject, _] : store_->SubjectCounts(f)) {
      auto m = store_->LoadLast(subject);
      if (m.ok()) seqs.insert(m->seq);
    }
  }
  return {seqs.begin(), seqs.end()};
}

uint64_t Stream::LastMatching(const std::vector<std::string>& filters) {
  std::lock_guard lock(mu_);
  if (closed_ || !store_) return 0;
  if (filters.empty()) return store_->State().msgs ? store_->State().last_seq : 0;
  uint64_t best = 0;
  for (const auto& f : filters) {
    auto m = store_->LoadLast(f);
    if (m.ok()) best = std::max(best, m->seq);
  }
  return best;
}

uint64_t Stream::FirstAtOrAfter(int64_t time_ns) {
  std::lock_guard lock(mu_);
  if (closed_ || !store_) return 1;
  store::StoreState st = store_->State();
  uint64_t seq = st.first_seq;
  while (true) {
    auto m = store_->LoadNext("", seq);
    if (!m.ok()) return st.last_seq + 1;
    if (m->timestamp_ns >= time_ns) return m->seq;
    seq = m->seq + 1;
  }
}

void Stream::RemoveConsumed(uint64_t seq) {
  std::lock_guard lock(mu_);
  if (closed_ || !store_) return;
  (void)store_->Delete(seq);
  SyncUsageLocked();
}

void Stream::RecheckInterest() {
  if (config().retention != Retention::kInterest) return;
  uint64_t seq = State().first_seq;
  while (true) {
    auto m = LoadNextMatching({}, seq);
    if (!m.ok()) break;
    CheckInterest(m->seq);
    seq = m->seq + 1;
  }
}

void Stream::CheckInterest(uint64_t seq) {
  auto m = LoadSeq(seq);
  if (!m.ok()) return;
  std::vector<ConsumerEntry> entries;
  {
    std::lock_guard lock(consumers_mu_);
    for (auto& [_, e] : consumers_) entries.push_back(e);
  }
  for (auto& e : entries) {
    bool matches = e.filters.empty();
    for (const auto& f : e.filters) matches = matches || SubjectIsSubsetOf(m->subject, f);
    if (matches && !e.consumer->HasAcked(seq)) return;
  }
  RemoveConsumed(seq);
}

}  // namespace sluice::jetstream
