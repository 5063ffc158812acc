// Consumer lifecycle: creation and positioning, the state file, Start/Stop,
// updates, ConsumerInfo, num_pending, purges; and the status-message helpers
// of consumer_status.h. Deliveries are in consumer_delivery.cc, pull
// requests in consumer_pull.cc, acks / timers / advisories in
// consumer_acks.cc, the thread in consumer_dispatcher.cc.
#include "jetstream/consumer.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <random>

#include "config/config_file.h"
#include "core/subject.h"
#include "jetstream/consumer_status.h"
#include "jetstream/wire.h"
#include "store/filesystem.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr char kObsDir[] = "obs";
// nats-server's JsFlowControlMaxPending: the largest flow-control window.
constexpr int64_t kFlowControlMaxPending = 32 * 1024 * 1024;

store::Status WriteFileDurably(const std::string& dir, const std::string& name, const std::string& text,
                               bool fsync) {
  store::FileSystem& fs = store::PosixFileSystem();
  auto st = fs.MakeDirs(dir);
  if (!st.ok()) return st;
  std::string tmp = dir + "/" + name + ".tmp";
  auto file = fs.Open(tmp, store::OpenMode::kCreateTruncate);
  if (!file.ok()) return file.status();
  st = store::WriteAll(**file, text);
  if (st.ok() && fsync) st = (*file)->Sync();
  file->reset();
  if (st.ok()) st = fs.Rename(tmp, dir + "/" + name);
  if (st.ok() && fsync) st = fs.SyncDir(dir);
  return st;
}

}  // namespace

// ---- status-message helpers (consumer_status.h) ----

namespace consumer_wire {

std::string Status(std::string_view line, std::string_view extra) {
  std::string out = "NATS/1.0 ";
  out.append(line).append("\r\n").append(extra).append("\r\n");
  return out;
}

std::string PendingHeaders(int64_t msgs, int64_t bytes) {
  return fmt::format("Nats-Pending-Messages: {}\r\nNats-Pending-Bytes: {}\r\n", msgs, bytes);
}

std::string GoDuration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 1'000'000'000) {
    if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
    if (ns % 1'000 == 0) return fmt::format("{}µs", ns / 1'000);
    return fmt::format("{}ns", ns);
  }
  int64_t h = ns / 3'600'000'000'000, rem = ns % 3'600'000'000'000;
  int64_t m = rem / 60'000'000'000;
  rem %= 60'000'000'000;
  if (h) out += fmt::format("{}h", h);
  if (h || m) out += fmt::format("{}m", m);
  int64_t s = rem / 1'000'000'000, frac = rem % 1'000'000'000;
  if (frac == 0) {
    out += fmt::format("{}s", s);
  } else {
    std::string f = fmt::format("{:09d}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += fmt::format("{}.{}s", s, f);
  }
  return out;
}

int64_t ParseGoDuration(std::string_view s) {
  std::chrono::nanoseconds ns{};
  return config::ParseGoDuration(s, ns) ? ns.count() : 0;
}

std::string RandomToken(size_t n) {
  static const char kChars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(n, ' ');
  for (auto& c : out) c = kChars[rng() % (sizeof(kChars) - 1)];
  return out;
}

}  // namespace consumer_wire

// ---- lifecycle ----

Consumer::Consumer(const StreamEnv& env, std::shared_ptr<Stream> stream, ConsumerConfig config)
    : env_(env), stream_(stream), stream_name_(stream->name()), config_(std::move(config)) {
  name_ = !config_.durable_name.empty() ? config_.durable_name : config_.name;
  push_ = !config_.deliver_subject.empty();
  ack_prefix_ = "$JS.ACK." + stream_name_ + "." + name_ + ".";
  if (push_ && config_.flow_control) {
    fc_.pblimit = kFlowControlMaxPending;
    fc_.maxpb = fc_.pblimit / 16;
  }
}

Consumer::~Consumer() = default;

int64_t Consumer::Now() { return env_.clock ? env_.clock->NowNs() : store::SystemClock().NowNs(); }

std::shared_ptr<Consumer> Consumer::Create(const StreamEnv& env, const std::shared_ptr<Stream>& stream,
                                           const ConsumerConfig& config, std::string& error) {
  std::shared_ptr<Consumer> c(new Consumer(env, stream, config));
  c->created_ns_ = c->Now();
  c->last_activity_ns_ = c->inactive_since_ = c->created_ns_;
  const bool persist = config.durable() && !stream->memory() && !config.mem_storage;
  if (persist) c->dir_ = stream->dir() + "/" + kObsDir;
  auto filters = config.Filters();
  store::StoreState st = stream->State();
  uint64_t first = st.msgs ? st.first_seq : st.last_seq + 1;
  switch (config.deliver_policy) {
    case DeliverPolicy::kAll: c->next_sseq_ = std::max<uint64_t>(first, 1); break;
    case DeliverPolicy::kLast: {
      uint64_t last = stream->LastMatching(filters);
      c->next_sseq_ = last ? last : st.last_seq + 1;
      break;
    }
    case DeliverPolicy::kNew: c->next_sseq_ = st.last_seq + 1; break;
    case DeliverPolicy::kByStartSequence: c->next_sseq_ = config.opt_start_seq; break;
    case DeliverPolicy::kByStartTime: c->next_sseq_ = stream->FirstAtOrAfter(config.opt_start_time_ns); break;
    case DeliverPolicy::kLastPerSubject: {
      auto seqs = stream->LastPerSubject(filters);
      c->last_per_subject_.assign(seqs.begin(), seqs.end());
      c->next_sseq_ = st.last_seq + 1;
      break;
    }
  }
  c->delivered_sseq_ = c->last_per_subject_.empty() ? c->next_sseq_ - 1 : c->last_per_subject_.front() - 1;
  if (persist) {
    std::lock_guard lock(c->mu_);
    // Generations start at the creation time, so no journal left behind by
    // an earlier consumer of this name can match this one's snapshots.
    c->journal_gen_ = static_cast<uint64_t>(std::max<int64_t>(c->created_ns_, 0));
    if (!c->SaveLocked(error)) return nullptr;
  }
  return c;
}

std::vector<std::shared_ptr<Consumer>> Consumer::LoadAll(const StreamEnv& env, const std::shared_ptr<Stream>& stream) {
  std::vector<std::shared_ptr<Consumer>> out;
  std::string dir = stream->dir() + "/" + kObsDir;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string path = entry.path().string();
    if (!path.ends_with(".json")) continue;
    store::FileSystem& fs = store::PosixFileSystem();
    auto file = fs.Open(path, store::OpenMode::kRead);
    if (!file.ok()) continue;
    auto size = (*file)->Size();
    std::string text(size.ok() ? *size : 0, '\0');
    if (!size.ok() || !store::ReadExact(**file, 0, text.size(), text.data()).ok()) continue;
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("config") || !j.contains("state")) {
      if (env.log) env.log("cannot read consumer file " + path);
      continue;
    }
    ConsumerConfig config;
    if (!ParseConsumerConfig(j["config"], config).ok()) continue;
    NormalizeConsumer(config);
    std::shared_ptr<Consumer> c(new Consumer(env, stream, config));
    if (c->name_.empty() || path != dir + "/" + c->name_ + ".json") {
      if (env.log) env.log("consumer file " + path + " does not match its config");
      continue;
    }
    c->dir_ = dir;
    c->created_ns_ = j.value("created", int64_t{0});
    int64_t now = c->Now();
    c->last_activity_ns_ = c->inactive_since_ = now;
    try {
      const json& s = j["state"];
      c->next_sseq_ = s.value("next_sseq", uint64_t{1});
      c->dseq_ = s.value("dseq", uint64_t{0});
      c->delivered_sseq_ = s.value("delivered_sseq", uint64_t{0});
      if (s.contains("last_per_subject"))
        for (const auto& v : s["last_per_subject"]) c->last_per_subject_.push_back(v.get<uint64_t>());
      if (s.contains("pending")) {
        for (const auto& p : s["pending"]) {
          PendingAck pa;
          uint64_t seq = p.at(0).get<uint64_t>();
          pa.cseq = p.at(1).get<uint64_t>();
          pa.deliveries = static_cast<uint32_t>(p.at(2).get<uint64_t>());
          c->pending_[seq] = pa;
        }
      }
    } catch (const std::exception& e) {
      if (env.log) env.log("consumer file " + path + " has a bad state: " + e.what());
      continue;
    }
    // The journal's records since this snapshot (a file of the previous
    // version has no "journal_gen" and no journal: generation 0, nothing).
    c->journal_gen_ = j.value("journal_gen", uint64_t{0});
    std::string journal_path = dir + "/" + c->name_ + ".journal";
    JournalContents journal = ReadJournal(store::PosixFileSystem(), journal_path, c->journal_gen_);
    if (!journal.problem.empty() && env.log)
      env.log("consumer journal " + journal_path + ": " + journal.problem + "; replayed " +
              std::to_string(journal.records.size()) + " records before it");
    for (const StateDelta& d : journal.records) {
      c->next_sseq_ = d.next_sseq;
      c->dseq_ = d.dseq;
      c->delivered_sseq_ = d.delivered_sseq;
      while (c->last_per_subject_.size() > d.last_per_subject_left) c->last_per_subject_.pop_front();
      for (const auto& r : d.removed) {
        c->pending_.erase(c->pending_.lower_bound(r.first), c->pending_.lower_bound(r.first + r.count));
      }
      for (const auto& e : d.set) {
        PendingAck& pa = c->pending_[e.sseq];
        pa.cseq = e.cseq;
        pa.deliveries = e.deliveries;
      }
    }
    // The journal stays as it is until the first commit, which writes a
    // fresh snapshot (journal_ is not open yet) and starts a new journal.
    for (auto& [seq, slot] : c->pending_) {
      if (c->config_.max_deliver > 0 && static_cast<int64_t>(slot.deliveries) >= c->config_.max_deliver) {
        // No delivery left: it ends as it would have (advisory at expiry).
        c->ScheduleRedeliveryLocked(seq, slot, now + c->BackoffFor(slot.deliveries));
      } else {
        // Every other unacknowledged message is redelivered after a restart.
        slot.deadline = 0;
        c->redeliver_.insert(seq);
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

void Consumer::Start() {
  auto self = shared_from_this();
  ConsumerConfig cfg = config();
  std::shared_ptr<router::Subscription> ack_sub, fc_sub;
  if (env_.router && cfg.ack_policy != AckPolicy::kNone) {
    ack_sub = std::make_shared<router::Subscription>(self, "$JS.ACK." + stream_name_ + "." + name_ + ".>", "",
                                                     "$JS.ACK." + stream_name_ + "." + name_);
    env_.router->Insert(ack_sub);
  }
  if (env_.router && push_ && cfg.flow_control) {
    fc_sub = std::make_shared<router::Subscription>(self, "$JS.FC." + stream_name_ + "." + name_ + ".*", "",
                                                    "$JS.FC." + stream_name_ + "." + name_);
    fc_sub->sink_flags = consumer_wire::kFlowControlSinkFlag;
    env_.router->Insert(fc_sub);
  }
  const bool bound = push_ && InterestIn(cfg.deliver_subject, cfg.deliver_group, nullptr);
  uint64_t last_seq = 0;
  if (auto stream = stream_.lock()) last_seq = stream->State().last_seq;
  int64_t now = Now();
  {
    std::lock_guard lock(mu_);
    ack_sub_ = std::move(ack_sub);
    fc_sub_ = std::move(fc_sub);
    if (config_.replay_policy == "original") {
      replay_.replaying = true;
      replay_.until_seq = last_seq;
    }
    if (config_.rate_limit_bps > 0) {
      rate_.tokens = 0;  // filled to the burst on first use
      rate_.at = 0;
    }
    if (push_) {
      active_ = bound;
      if (!active_) inactive_since_ = now;
      if (config_.idle_heartbeat_ns > 0) heartbeat_due_ = now + config_.idle_heartbeat_ns;
    }
    // A paused consumer (created paused, or reloaded) resumes by itself at
    // its deadline; no advisory here (nats-server sends none at a restart).
    pause_wait_ = config_.PausedAt(now);
    ArmTimerLocked(now);  // OnTimer works out every deadline
  }
  if (env_.dispatcher) {
    if (push_) env_.dispatcher->WatchInterest(self, env_.router);
    Kick();
  }
}

void Consumer::Stop(bool remove_files, bool notify) {
  Outbox out;
  std::shared_ptr<router::Subscription> ack_sub, fc_sub;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    ack_sub = std::move(ack_sub_);
    fc_sub = std::move(fc_sub_);
    if (notify) {
      for (auto& w : waiting_) out.push_back({w.reply, "", consumer_wire::Status("409 Consumer Deleted"), "", ""});
      ojson action;
      action["action"] = "delete";
      AdvisoryLocked("DELETED", std::move(action), out);
    }
    waiting_.clear();
    timers_.Clear();
    if (!dir_.empty()) {
      if (remove_files) {
        journal_.reset();
        // The journal first: a journal without its snapshot could otherwise
        // be replayed over a new consumer of the same name.
        std::error_code ec;
        std::filesystem::remove(dir_ + "/" + name_ + ".journal", ec);
        std::filesystem::remove(dir_ + "/" + name_ + ".json", ec);
      } else {
        std::string error;
        if (!CommitStateLocked(error) && env_.log)
          env_.log("consumer " + stream_name_ + " > " + name_ + ": cannot save state: " + error);
        journal_.reset();
      }
    }
  }
  if (env_.router) {
    if (ack_sub) env_.router->Remove(ack_sub);
    if (fc_sub) env_.router->Remove(fc_sub);
  }
  Publish(out);  // no routed entries: safe off the dispatcher thread
}

void Consumer::AnnouncePauseIfPaused() {
  Outbox out;
  {
    std::lock_guard lock(mu_);
    const int64_t now = Now();
    if (stopped_ || !config_.PausedAt(now)) return;
    PauseAdvisoryLocked(now, out);
  }
  Publish(out);
}

ApiError Consumer::SetPause(bool has, int64_t until_ns, const std::string& as_sent, bool& paused,
                            int64_t& remaining_ns) {
  Outbox out;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return MakeError(ErrorId::kConsumerNotFound);
    ConsumerConfig old = config_;
    config_.SetPauseUntil(has, until_ns, as_sent);
    if (!dir_.empty()) {
      std::string error;
      if (!SaveLocked(error)) {
        config_ = old;
        return MakeError(ErrorId::kConsumerStoreFailed, error);
      }
    }
    const int64_t now = Now();
    paused = config_.PausedAt(now);
    remaining_ns = paused ? config_.pause_until_ns - now : 0;
    pause_wait_ = paused;
    if (paused) ArmTimerLocked(config_.pause_until_ns);
    // nats-server compares the deadlines as times (unset is Go's zero time).
    const int64_t old_at = old.has_pause_until ? old.pause_until_ns : INT64_MIN;
    const int64_t new_at = config_.has_pause_until ? config_.pause_until_ns : INT64_MIN;
    if (old_at != new_at) PauseAdvisoryLocked(now, out);
  }
  Publish(out);  // advisories only: safe off the dispatcher thread
  if (!paused) Kick();  // deliveries go on where they stopped
  return {};
}

ApiError Consumer::Unpin(const std::string& group) {
  Outbox out;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return MakeError(ErrorId::kConsumerNotFound);
    const auto& groups = config_.priority_groups;
    if (std::find(groups.begin(), groups.end(), group) == groups.end())
      return MakeError(ErrorId::kConsumerInvalidPriorityGroup);
    // As nats-server: whatever the policy and whether or not a pin is
    // held, the pin is cleared and the advisory goes out.
    pin_id_.clear();
    pin_deadline_ = 0;
    UnpinnedAdvisoryLocked("admin", out);
  }
  Publish(out);  // advisories only: safe off the dispatcher thread
  Kick();        // a waiting request may take the pin now
  return {};
}

void Consumer::AnnounceCreated() {
  Outbox out;
  {
    std::lock_guard lock(mu_);
    ojson action;
    action["action"] = "create";
    AdvisoryLocked("CREATED", std::move(action), out);
  }
  Publish(out);
}

ConsumerConfig Consumer::config() {
  std::lock_guard lock(mu_);
  return config_;
}

std::vector<std::string> Consumer::filters() {
  std::lock_guard lock(mu_);
  return config_.Filters();
}

ApiError Consumer::Update(const ConsumerConfig& config) {
  bool recheck = false;
  {
    std::lock_guard lock(mu_);
    ConsumerConfig old = config_;
    config_ = config;
    if (!dir_.empty()) {
      std::string error;
      if (!SaveLocked(error)) {
        config_ = old;
        return MakeError(ErrorId::kConsumerCreate, error);
      }
    }
    if (old.deliver_subject != config_.deliver_subject || old.deliver_group != config_.deliver_group) {
      active_ = false;  // until the dispatcher has looked at the new subject
      inactive_since_ = Now();
      recheck = true;
    }
    if (old.rate_limit_bps != config_.rate_limit_bps) rate_ = RateLimit{};
    if (old.Filters() != config_.Filters()) npc_.valid = false;
    pause_wait_ = config_.PausedAt(Now());  // the API keeps pause_until over updates
    // A pin belongs to pinned_client: another policy drops it (nats-server
    // keeps it, and then passes over every request without that id).
    if (config_.priority_policy != PriorityPolicy::kPinnedClient) {
      pin_id_.clear();
      pin_deadline_ = 0;
    }
    ArmTimerLocked(Now());  // deadlines may have moved (inactive threshold, heartbeats)
  }
  if (recheck && env_.dispatcher) env_.dispatcher->RecheckInterest();
  return {};
}

// ---- state file ----

ojson Consumer::StateJsonLocked() {
  ojson s;
  s["next_sseq"] = next_sseq_;
  s["dseq"] = dseq_;
  s["delivered_sseq"] = delivered_sseq_;
  if (!last_per_subject_.empty()) s["last_per_subject"] = std::vector<uint64_t>(last_per_subject_.begin(), last_per_subject_.end());
  s["pending"] = ojson::array();  // filled in as text by SaveLocked (the state's last key)
  return s;
}

bool Consumer::SaveLocked(std::string& error) {
  if (dir_.empty()) return true;
  // Every attempt takes a new generation: once this snapshot may be in place,
  // records of the old journal (the old generation) must never be replayed
  // over it, nor new records appended to that journal.
  journal_.reset();
  const uint64_t gen = ++journal_gen_;
  ojson j;
  j["config"] = ToJson(config_);
  j["created"] = created_ns_;
  j["journal_gen"] = gen;
  j["state"] = StateJsonLocked();
  // The pending list ([[sseq, cseq, deliveries], ...], up to max_ack_pending
  // entries) is written as text: a JSON node per number would cost more than
  // the write. "pending" is the last key of "state", the last key of the file.
  std::string text = j.dump();
  constexpr std::string_view kEmptyTail = "[]}}";
  if (!text.ends_with(kEmptyTail)) {
    error = "unexpected consumer state layout";
    return false;
  }
  text.resize(text.size() - kEmptyTail.size());
  text.reserve(text.size() + pending_.size() * 24 + 8);
  auto it = std::back_inserter(text);
  text.push_back('[');
  bool first = true;
  for (const auto& [seq, p] : pending_) {
    fmt::format_to(it, "{}[{},{},{}]", first ? "" : ",", seq, p.cseq, p.deliveries);
    first = false;
  }
  text += "]}}\n";
  const bool sync = env_.sync_interval_ns == 0;
  auto st = WriteFileDurably(dir_, name_ + ".json", text, sync);
  if (!st.ok()) {
    error = st.ToString();
    return false;
  }
  snapshot_bytes_ = text.size();
  dirty_ = false;
  changed_.clear();
  changed_compact_at_ = 0;
  // The snapshot holds everything: a journal that fails to start only means
  // the next commit writes a snapshot again.
  auto journal = std::make_unique<ConsumerJournal>(store::PosixFileSystem(), dir_ + "/" + name_ + ".journal", sync);
  st = journal->Reset(gen);
  if (st.ok()) {
    journal_ = std::move(journal);
  } else if (env_.log) {
    env_.log("consumer " + stream_name_ + " > " + name_ + ": cannot start the state journal: " + st.ToString());
  }
  return true;
}

void Consumer::NoteChangedLocked(uint64_t seq) {
  if (dir_.empty()) return;
  changed_.push_back(seq);
  // Redeliveries of a consumer nobody acks add entries without a commit:
  // keep the list to distinct sequences. It is compacted once it has doubled
  // since the last compaction: amortised O(log n) per entry. (A fixed bound
  // re-sorted the whole list on every entry once more distinct sequences
  // than that were waiting for a lazy commit: pull consumers at full speed
  // spent most of the dispatcher's time in that sort.)
  if (changed_.size() > std::max(changed_compact_at_, 2 * pending_.size() + 4096)) {
    std::sort(changed_.begin(), changed_.end());
    changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
    changed_compact_at_ = 2 * changed_.size();
  }
}

StateDelta Consumer::DeltaLocked() {
  StateDelta d;
  d.next_sseq = next_sseq_;
  d.dseq = dseq_;
  d.delivered_sseq = delivered_sseq_;
  d.last_per_subject_left = static_cast<uint32_t>(last_per_subject_.size());
  std::sort(changed_.begin(), changed_.end());
  changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
  std::vector<uint64_t> removed;
  for (uint64_t seq : changed_) {
    auto it = pending_.find(seq);
    if (it == pending_.end()) removed.push_back(seq);
    else d.set.push_back({seq, it->second.cseq, it->second.deliveries});
  }
  AppendRemovedRuns(removed, d.removed);
  return d;
}

bool Consumer::CommitStateLocked(std::string& error) {
  if (dir_.empty()) return true;
  if (!journal_ || !journal_->usable() || journal_->ShouldCompact(snapshot_bytes_)) return SaveLocked(error);
  auto st = journal_->Append(DeltaLocked());
  if (!st.ok()) {
    // The record may be torn on disk: a snapshot replaces it and the journal.
    if (env_.log) env_.log("consumer " + stream_name_ + " > " + name_ + ": state journal write failed: " + st.ToString());
    return SaveLocked(error);
  }
  changed_.clear();
  changed_compact_at_ = 0;
  dirty_ = false;
  return true;
}

// ---- info ----

uint64_t Consumer::NumPendingLocked(Stream& stream) {
  const auto filters = config_.Filters();
  PendingCount& c = npc_;
  store::StoreState st = stream.State();
  bool recount = !c.valid || st.num_deleted != c.deleted || st.last_seq < c.last_seq ||
                 (st.first_seq != c.first_seq && st.first_seq > next_sseq_);
  if (!recount && st.last_seq > c.last_seq) {
    // Only the appended tail is new: count it (the shorter walk).
    store::StoreState at;
    uint64_t added = stream.CountMatching(filters, std::max(c.last_seq + 1, next_sseq_), &at);
    if (at.num_deleted != st.num_deleted || at.first_seq != st.first_seq) {
      recount = true;  // something went meanwhile
    } else {
      c.count += added;
      st = at;
    }
  }
  if (recount) {
    store::StoreState at;
    c.count = stream.CountMatching(filters, next_sseq_, &at);
    c.valid = true;
    st = at;
  }
  c.last_seq = st.last_seq;
  c.first_seq = st.first_seq;
  c.deleted = st.num_deleted;
  return c.count + last_per_subject_.size();
}

bool Consumer::InterestIn(const std::string& subject, const std::string& group, router::MatchCache* cache) {
  if (!env_.router || subject.empty()) return false;
  // nats-server counts only subscriptions on exactly the deliver subject (its
  // sublist notification), and for a deliver group only that queue group.
  auto bound = [&](const router::MatchResult& r) {
    if (group.empty()) {
      for (const auto& s : r.plain) {
        if (s->subject() == subject && !s->closed()) return true;
      }
      return false;
    }
    for (const auto& members : r.queue_groups) {
      for (const auto& s : members) {
        if (s->queue() == group && s->subject() == subject && !s->closed()) return true;
      }
    }
    return false;
  };
  if (cache) return bound(*env_.router->Match(subject, *cache));
  return bound(env_.router->MatchUncached(subject));
}

bool Consumer::DeliverSubjectHasInterest() {
  if (!push_) return false;
  std::string subject, group;
  {
    std::lock_guard lock(mu_);
    subject = config_.deliver_subject;
    group = config_.deliver_group;
  }
  return InterestIn(subject, group, nullptr);
}

ojson Consumer::Info() {
  const bool bound = DeliverSubjectHasInterest();
  std::lock_guard lock(mu_);
  ojson j;
  j["stream_name"] = stream_name_;
  j["name"] = name_;
  j["created"] = FormatTime(created_ns_);
  j["config"] = ToJson(config_);
  ojson delivered;
  delivered["consumer_seq"] = dseq_;
  delivered["stream_seq"] = delivered_sseq_;
  if (last_delivered_ns_) delivered["last_active"] = FormatTime(last_delivered_ns_);
  j["delivered"] = delivered;
  ojson floor;
  if (config_.ack_policy == AckPolicy::kNone || pending_.empty()) {
    floor["consumer_seq"] = dseq_;
    floor["stream_seq"] = delivered_sseq_;
  } else {
    const auto& [seq, p] = *pending_.begin();
    uint64_t min_cseq = p.cseq;
    for (const auto& [_, q] : pending_) min_cseq = std::min(min_cseq, q.cseq);
    floor["consumer_seq"] = min_cseq - 1;
    floor["stream_seq"] = seq - 1;
  }
  if (last_ack_ns_ && config_.ack_policy != AckPolicy::kNone) floor["last_active"] = FormatTime(last_ack_ns_);
  j["ack_floor"] = floor;
  j["num_ack_pending"] = pending_.size();
  uint64_t redelivered = exhausted_.size();
  for (const auto& [_, p] : pending_) redelivered += p.deliveries > 1;
  j["num_redelivered"] = redelivered;
  j["num_waiting"] = waiting_.size();
  auto stream = stream_.lock();
  j["num_pending"] = stream ? NumPendingLocked(*stream) : 0;
  if (bound) j["push_bound"] = true;
  if (const int64_t now = Now(); config_.PausedAt(now)) {
    j["paused"] = true;
    j["pause_remaining"] = config_.pause_until_ns - now;
  }
  j["ts"] = FormatTime(store::SystemClock().NowNs());
  if (!config_.priority_groups.empty()) {
    // nats-server 2.11: one entry, the first group; pinned_ts is always
    // written (Go's zero time before the first pin) and outlives the pin.
    ojson g;
    g["group"] = config_.priority_groups.front();
    if (!pin_id_.empty()) g["pinned_client_id"] = pin_id_;
    g["pinned_ts"] = FormatTime(pinned_ts_);
    j["priority_groups"] = ojson::array({g});
  }
  return j;
}

size_t Consumer::timer_entries() {
  std::lock_guard lock(mu_);
  return timers_.size();
}

// ---- stream changes ----

void Consumer::Purged() {
  {
    std::lock_guard lock(mu_);
    auto stream = stream_.lock();
    if (stopped_ || !stream) return;
    store::StoreState st = stream->State();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (!stream->LoadSeq(it->first).ok()) {
        redeliver_.erase(it->first);
        NoteChangedLocked(it->first);
        it = pending_.erase(it);
        dirty_ = true;
      } else {
        ++it;
      }
    }
    std::erase_if(exhausted_, [&](uint64_t seq) { return seq < st.first_seq; });
    CompactTimersLocked();
    if (st.msgs == 0 ? next_sseq_ <= st.last_seq : next_sseq_ < st.first_seq) {
      next_sseq_ = st.msgs == 0 ? st.last_seq + 1 : st.first_seq;
      delivered_sseq_ = std::max(delivered_sseq_, next_sseq_ - 1);
      dirty_ = true;
    }
    npc_.valid = false;
  }
  Kick();
}

bool Consumer::HasAcked(uint64_t seq) {
  std::lock_guard lock(mu_);
  if (pending_.count(seq)) return false;
  for (uint64_t s : last_per_subject_) {
    if (s == seq) return false;
  }
  return seq < next_sseq_;
}

void Consumer::ArmTimerLocked(int64_t deadline_ns) {
  if (deadline_ns <= 0 || !env_.dispatcher) return;
  if (timer_at_ != 0 && timer_at_ <= deadline_ns) return;
  timer_at_ = deadline_ns;
  env_.dispatcher->ScheduleTimer(weak_from_this(), deadline_ns);
}

}  // namespace sluice::jetstream
