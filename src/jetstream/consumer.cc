#include "jetstream/consumer.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <filesystem>

#include "core/subject.h"
#include "jetstream/wire.h"
#include "store/filesystem.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr char kObsDir[] = "obs";
constexpr int64_t kNever = INT64_MAX;

std::string Status(const std::string& line, const std::string& extra = "") {
  return "NATS/1.0 " + line + "\r\n" + extra + "\r\n";
}

std::string PendingHeaders(int64_t msgs, int64_t bytes) {
  return fmt::format("Nats-Pending-Messages: {}\r\nNats-Pending-Bytes: {}\r\n", msgs, bytes);
}

// Go's time.Duration String for the 409 Exceeded MaxRequestExpires text.
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

// "-NAK 1s" / "-NAK 250ms": a Go duration; 0 when not one.
int64_t ParseGoDuration(std::string_view s) {
  int64_t total = 0;
  size_t i = 0;
  if (s.empty()) return 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
    if (j == i) return 0;
    double v = std::stod(std::string(s.substr(i, j - i)));
    size_t k = j;
    while (k < s.size() && !std::isdigit(static_cast<unsigned char>(s[k])) && s[k] != '.') ++k;
    std::string_view unit = s.substr(j, k - j);
    double mult = 0;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "µs") mult = 1e3;
    else if (unit == "ms") mult = 1e6;
    else if (unit == "s") mult = 1e9;
    else if (unit == "m") mult = 60e9;
    else if (unit == "h") mult = 3600e9;
    else return 0;
    total += static_cast<int64_t>(v * mult);
    i = k;
  }
  return total;
}

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

// ---- Dispatcher ----

Dispatcher::Dispatcher(store::Clock* clock) : clock_(clock), thread_([this] { Run(); }) {}

Dispatcher::~Dispatcher() { Stop(); }

int64_t Dispatcher::Now() { return clock_ ? clock_->NowNs() : store::SystemClock().NowNs(); }

void Dispatcher::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void Dispatcher::Watch(const std::shared_ptr<Consumer>& consumer) {
  {
    std::lock_guard lock(mu_);
    watched_.push_back(consumer);
    wake_ = true;
  }
  cv_.notify_one();
}

void Dispatcher::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_one();
}

void Dispatcher::Flush() {
  if (std::this_thread::get_id() == thread_.get_id()) return;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    tasks_.push_back([&] {
      std::lock_guard l(m);
      done = true;
      cv.notify_all();
    });
  }
  cv_.notify_one();
  std::unique_lock l(m);
  cv.wait(l, [&] { return done; });
}

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::MarkDirty(std::shared_ptr<Consumer> consumer) {
  for (auto& c : dirty_) {
    if (c == consumer) return;
  }
  dirty_.push_back(std::move(consumer));
}

void Dispatcher::Run() {
  std::unique_lock lock(mu_);
  int64_t next = 0;
  while (true) {
    if (tasks_.empty() && !wake_ && !stopping_) {
      // Real time bounds the wait also under a manual clock (tests wake us).
      auto wait = std::chrono::milliseconds(1000);
      if (next != 0) {
        int64_t delta = next - Now();
        wait = std::min(wait, std::chrono::milliseconds(std::max<int64_t>(delta / 1'000'000, 0) + 1));
      }
      cv_.wait_for(lock, wait, [this] { return stopping_ || wake_ || !tasks_.empty(); });
    }
    if (stopping_) {
      // Run what is queued (e.g. a Flush), then leave.
      auto tasks = std::move(tasks_);
      lock.unlock();
      for (auto& t : tasks) t();
      for (auto& c : dirty_) c->Commit();
      dirty_.clear();
      return;
    }
    wake_ = false;
    auto tasks = std::move(tasks_);
    tasks_.clear();
    std::vector<std::weak_ptr<Consumer>> watched = watched_;
    lock.unlock();
    for (auto& t : tasks) t();
    for (auto& c : dirty_) c->Commit();
    dirty_.clear();
    next = 0;
    int64_t now = Now();
    bool prune = false;
    for (auto& w : watched) {
      auto c = w.lock();
      if (!c) {
        prune = true;
        continue;
      }
      int64_t n = c->OnTimer(now);
      if (n != 0 && (next == 0 || n < next)) next = n;
    }
    for (auto& c : dirty_) c->Commit();
    dirty_.clear();
    lock.lock();
    if (prune) {
      std::erase_if(watched_, [](const std::weak_ptr<Consumer>& w) { return w.expired(); });
    }
  }
}

// ---- Consumer: lifecycle ----

Consumer::Consumer(const StreamEnv& env, std::shared_ptr<Stream> stream, ConsumerConfig config)
    : env_(env), stream_(stream), stream_name_(stream->name()), config_(std::move(config)) {
  name_ = !config_.durable_name.empty() ? config_.durable_name : config_.name;
}

Consumer::~Consumer() = default;

int64_t Consumer::Now() { return env_.clock ? env_.clock->NowNs() : store::SystemClock().NowNs(); }

std::shared_ptr<Consumer> Consumer::Create(const StreamEnv& env, const std::shared_ptr<Stream>& stream,
                                           const ConsumerConfig& config, std::string& error) {
  std::shared_ptr<Consumer> c(new Consumer(env, stream, config));
  c->created_ns_ = c->Now();
  c->inactive_since_ = c->created_ns_;
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
  c->delivered_sseq_ = c->last_per_subject_.empty() ? c->next_sseq_ - 1
                                                     : c->last_per_subject_.front() - 1;
  if (persist) {
    std::lock_guard lock(c->mu_);
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
    c->inactive_since_ = c->Now();
    try {
    const json& s = j["state"];
    c->next_sseq_ = s.value("next_sseq", uint64_t{1});
    c->dseq_ = s.value("dseq", uint64_t{0});
    c->delivered_sseq_ = s.value("delivered_sseq", uint64_t{0});
    if (s.contains("last_per_subject"))
      for (const auto& v : s["last_per_subject"]) c->last_per_subject_.push_back(v.get<uint64_t>());
    int64_t now = c->Now();
    if (s.contains("pending")) {
      for (const auto& p : s["pending"]) {
        PendingAck pa;
        uint64_t seq = p.at(0).get<uint64_t>();
        pa.cseq = p.at(1).get<uint64_t>();
        pa.deliveries = p.at(2).get<uint64_t>();
        // Every unacknowledged message is redelivered after a restart.
        if (c->config_.max_deliver > 0 && static_cast<int64_t>(pa.deliveries) >= c->config_.max_deliver) {
          pa.deadline = kNever;
        } else {
          pa.deadline = now;
          c->redeliver_.insert(seq);
        }
        c->pending_[seq] = pa;
      }
    }
    } catch (const std::exception& e) {
      if (env.log) env.log("consumer file " + path + " has a bad state: " + e.what());
      continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

void Consumer::Start() {
  auto self = shared_from_this();
  ack_sub_ = std::make_shared<router::Subscription>(self, "$JS.ACK." + stream_name_ + "." + name_ + ".>", "",
                                                    "$JS.ACK." + stream_name_ + "." + name_);
  if (env_.router) env_.router->Insert(ack_sub_);
  if (env_.dispatcher) {
    env_.dispatcher->Watch(self);
    Kick();
  }
}

void Consumer::Stop(bool remove_files, bool notify) {
  std::vector<Out> out;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    if (notify) {
      for (auto& w : waiting_) out.push_back({w.reply, "", Status("409 Consumer Deleted"), "", ""});
    }
    waiting_.clear();
    if (!dir_.empty()) {
      if (remove_files) {
        std::error_code ec;
        std::filesystem::remove(dir_ + "/" + name_ + ".json", ec);
      } else {
        std::string error;
        (void)SaveLocked(error);
      }
    }
  }
  if (ack_sub_ && env_.router) env_.router->Remove(ack_sub_);
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
  return {};
}

ojson Consumer::StateJsonLocked() {
  ojson s;
  s["next_sseq"] = next_sseq_;
  s["dseq"] = dseq_;
  s["delivered_sseq"] = delivered_sseq_;
  if (!last_per_subject_.empty()) s["last_per_subject"] = std::vector<uint64_t>(last_per_subject_.begin(), last_per_subject_.end());
  ojson pending = ojson::array();
  for (const auto& [seq, p] : pending_) pending.push_back({seq, p.cseq, p.deliveries});
  s["pending"] = pending;
  return s;
}

bool Consumer::SaveLocked(std::string& error) {
  if (dir_.empty()) return true;
  ojson j;
  j["config"] = ToJson(config_);
  j["created"] = created_ns_;
  j["state"] = StateJsonLocked();
  auto st = WriteFileDurably(dir_, name_ + ".json", j.dump() + "\n", env_.sync_interval_ns == 0);
  if (!st.ok()) {
    error = st.ToString();
    return false;
  }
  dirty_ = false;
  return true;
}

uint64_t Consumer::NumPendingLocked() {
  auto stream = stream_.lock();
  if (!stream) return 0;
  return last_per_subject_.size() + stream->CountMatching(config_.Filters(), next_sseq_);
}

ojson Consumer::Info() {
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
  uint64_t redelivered = 0;
  for (const auto& [_, p] : pending_) redelivered += p.deliveries > 1;
  j["num_redelivered"] = redelivered;
  j["num_waiting"] = waiting_.size();
  j["num_pending"] = NumPendingLocked();
  j["ts"] = FormatTime(store::SystemClock().NowNs());
  return j;
}

void Consumer::Purged() {
  {
    std::lock_guard lock(mu_);
    auto stream = stream_.lock();
    if (stopped_ || !stream) return;
    store::StoreState st = stream->State();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (!stream->LoadSeq(it->first).ok()) {
        redeliver_.erase(it->first);
        it = pending_.erase(it);
        dirty_ = true;
      } else {
        ++it;
      }
    }
    if (st.msgs == 0 ? next_sseq_ <= st.last_seq : next_sseq_ < st.first_seq) {
      next_sseq_ = st.msgs == 0 ? st.last_seq + 1 : st.first_seq;
      delivered_sseq_ = std::max(delivered_sseq_, next_sseq_ - 1);
      dirty_ = true;
    }
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

// ---- deliveries ----

void Consumer::Kick() {
  if (!env_.dispatcher || kick_scheduled_.exchange(true)) return;
  std::weak_ptr<Consumer> weak = weak_from_this();
  env_.dispatcher->Post([weak] {
    if (auto c = weak.lock()) {
      c->kick_scheduled_ = false;
      c->Pump();
    }
  });
}

void Consumer::Publish(std::vector<Out>& out) {
  for (auto& o : out) {
    if (o.route.empty()) {
      if (env_.publisher) env_.publisher->Publish(o.subject, o.reply, o.header, o.payload);
    } else if (env_.router && env_.dispatcher) {
      // Dispatcher thread: its own match cache.
      router::MatchCache& cache = env_.dispatcher->cache();
      auto result = env_.router->Match(o.route, cache);
      router::Message msg{o.subject, o.reply, o.header, o.payload};
      env_.router->RouteTo(*result, msg, nullptr, true, cache);
    }
  }
  out.clear();
}

int64_t Consumer::BackoffFor(uint64_t deliveries) const {
  if (config_.backoff_ns.empty() || deliveries == 0) return config_.ack_wait_ns;
  size_t i = std::min<size_t>(deliveries - 1, config_.backoff_ns.size() - 1);
  return config_.backoff_ns[i];
}

void Consumer::Pump() {
  std::vector<Out> out;
  std::vector<uint64_t> acked;
  {
    std::lock_guard lock(mu_);
    PumpLocked(out, acked);
  }
  Publish(out);
  AfterAcks(acked);
  if (!acked.empty() && !dir_.empty() && env_.dispatcher) env_.dispatcher->MarkDirty(shared_from_this());
}

void Consumer::PumpLocked(std::vector<Out>& out, std::vector<uint64_t>& acked) {
  if (stopped_ || waiting_.empty()) return;
  auto stream = stream_.lock();
  if (!stream) return;
  const auto filters = config_.Filters();
  const bool acks = config_.ack_policy != AckPolicy::kNone;
  std::optional<uint64_t> pending_count;
  int64_t now = Now();
  while (!waiting_.empty()) {
    // The next message: a due redelivery, else a new one (unless max_ack_pending is reached).
    store::StatusOr<store::StoredMessage> msg = store::NotFound();
    bool redelivery = false;
    while (!redeliver_.empty()) {
      uint64_t seq = *redeliver_.begin();
      auto m = stream->LoadSeq(seq);
      if (m.ok() && pending_.count(seq)) {
        msg = std::move(m);
        redelivery = true;
        break;
      }
      redeliver_.erase(redeliver_.begin());
      if (!m.ok()) pending_.erase(seq);  // removed from the stream meanwhile
    }
    if (!redelivery) {
      if (acks && config_.max_ack_pending > 0 && static_cast<int64_t>(pending_.size()) >= config_.max_ack_pending)
        break;
      while (!last_per_subject_.empty()) {
        auto m = stream->LoadSeq(last_per_subject_.front());
        if (m.ok()) {
          msg = std::move(m);
          break;
        }
        last_per_subject_.pop_front();
      }
      if (!msg.ok()) msg = stream->LoadNextMatching(filters, next_sseq_);
      if (!msg.ok()) break;
    }
    if (env_.router && env_.dispatcher && !env_.dispatcher->HasInterest(*env_.router, waiting_.front().reply)) {
      waiting_.pop_front();  // nobody listens on its inbox any more
      if (waiting_.empty()) inactive_since_ = now;
      continue;
    }
    Waiting& w = waiting_.front();
    const store::StoredMessage& m = *msg;
    uint64_t deliveries = redelivery ? pending_[m.seq].deliveries + 1 : 1;
    if (!pending_count) pending_count = NumPendingLocked();
    uint64_t left = redelivery ? *pending_count : (*pending_count > 0 ? *pending_count - 1 : 0);
    std::string reply = fmt::format("$JS.ACK.{}.{}.{}.{}.{}.{}.{}", stream_name_, name_, deliveries, m.seq,
                                    dseq_ + 1, m.timestamp_ns, left);
    std::string header = m.headers;
    std::string payload = m.payload;
    if (config_.headers_only) {
      std::string base = header.empty() ? std::string("NATS/1.0\r\n") : header.substr(0, header.size() - 2);
      header = base + fmt::format("Nats-Msg-Size: {}\r\n\r\n", payload.size());
      payload.clear();
    }
    if (w.has_max_bytes) {
      int64_t cost = static_cast<int64_t>(m.subject.size() + reply.size() + header.size() + payload.size());
      if (cost > w.max_bytes) {
        out.push_back({w.reply, "", Status("409 Message Size Exceeds MaxBytes", PendingHeaders(w.batch, w.max_bytes)), "", ""});
        waiting_.pop_front();
        continue;
      }
      w.max_bytes -= cost;
    }
    // Commit the delivery.
    ++dseq_;
    if (redelivery) {
      redeliver_.erase(m.seq);
    } else if (!last_per_subject_.empty() && last_per_subject_.front() == m.seq) {
      last_per_subject_.pop_front();
      if (pending_count && *pending_count > 0) --*pending_count;
    } else {
      next_sseq_ = m.seq + 1;
      if (pending_count && *pending_count > 0) --*pending_count;
    }
    if (m.seq > delivered_sseq_ || !redelivery) delivered_sseq_ = std::max(delivered_sseq_, m.seq);
    last_delivered_ns_ = now;
    if (acks) {
      PendingAck& p = pending_[m.seq];
      p.cseq = dseq_;
      p.deliveries = deliveries;
      if (config_.max_deliver > 0 && static_cast<int64_t>(deliveries) >= config_.max_deliver)
        p.deadline = kNever;
      else
        p.deadline = now + BackoffFor(deliveries);
    } else {
      acked.push_back(m.seq);
    }
    // To the request's inbox, shown with the stored message's subject.
    out.push_back({m.subject, reply, header, payload, w.reply});
    w.last_sent = now;
    w.delivered_any = true;
    if (--w.batch <= 0) {
      if (w.has_max_bytes && w.max_bytes > 0)
        out.push_back({w.reply, "", Status("409 Batch Completed", PendingHeaders(0, w.max_bytes)), "", ""});
      waiting_.pop_front();
      if (waiting_.empty()) inactive_since_ = now;
    }
  }
  // no_wait requests that got what there was end now.
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->no_wait) {
      out.push_back({it->reply, "", Status("408 Request Timeout", PendingHeaders(it->batch, it->has_max_bytes ? it->max_bytes : 0)), "", ""});
      it = waiting_.erase(it);
      if (waiting_.empty()) inactive_since_ = now;
    } else {
      ++it;
    }
  }
  if (!acks) dirty_ = true;
}

bool Dispatcher::HasInterest(router::Router& router, const std::string& subject) {
  auto result = router.Match(subject, cache_);
  return !result->plain.empty() || !result->queue_groups.empty();
}

// ---- pull requests ----

void Consumer::PullRequest(std::string reply, std::string payload) {
  if (!env_.dispatcher) return;
  std::weak_ptr<Consumer> weak = weak_from_this();
  env_.dispatcher->Post([weak, reply = std::move(reply), payload = std::move(payload)] {
    if (auto c = weak.lock()) c->HandlePull(reply, payload);
  });
}

void Consumer::HandlePull(const std::string& reply, const std::string& payload) {
  if (reply.empty()) return;
  std::vector<Out> out;
  std::vector<uint64_t> acked;
  auto status = [&](const std::string& line, const std::string& extra = "") {
    out.push_back({reply, "", Status(line, extra), "", ""});
  };
  Waiting w;
  w.reply = reply;
  int64_t expires = 0;
  size_t b = payload.find_first_not_of(" \t\r\n");
  std::string body = b == std::string::npos ? "" : payload.substr(b, payload.find_last_not_of(" \t\r\n") - b + 1);
  bool parsed = true;
  if (body.empty()) {
    w.batch = 1;
  } else if (body.find_first_not_of("0123456789") == std::string::npos) {
    w.batch = std::max<int64_t>(1, std::stoll(body.substr(0, 18)));
  } else if (body.front() == '{') {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      parsed = false;
    } else {
      auto num = [&](const char* key) -> int64_t {
        auto it = j.find(key);
        return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
      };
      w.batch = std::max<int64_t>(1, num("batch"));
      expires = std::max<int64_t>(0, num("expires"));
      w.max_bytes = std::max<int64_t>(0, num("max_bytes"));
      w.has_max_bytes = w.max_bytes > 0;
      w.heartbeat_ns = std::max<int64_t>(0, num("idle_heartbeat"));
      auto nw = j.find("no_wait");
      w.no_wait = nw != j.end() && nw->is_boolean() && nw->get<bool>();
    }
  }
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    int64_t now = Now();
    if (!parsed) {
      status("400 Bad Request - invalid JSON");
    } else if (config_.max_batch > 0 && w.batch > config_.max_batch) {
      status(fmt::format("409 Exceeded MaxRequestBatch of {}", config_.max_batch));
    } else if (config_.max_expires_ns > 0 && expires > config_.max_expires_ns) {
      status("409 Exceeded MaxRequestExpires of " + GoDuration(config_.max_expires_ns));
    } else if (config_.max_bytes > 0 && w.max_bytes > config_.max_bytes) {
      status(fmt::format("409 Exceeded MaxRequestMaxBytes of {}", config_.max_bytes));
    } else if (w.heartbeat_ns > 0 && (expires == 0 || 2 * w.heartbeat_ns > expires)) {
      status("400 Bad Request - heartbeat value too large");
    } else if (static_cast<int64_t>(waiting_.size()) >= config_.max_waiting && config_.max_waiting > 0) {
      status("409 Exceeded MaxWaiting");
    } else {
      bool available = !redeliver_.empty();
      if (!available && w.no_wait) {
        const bool blocked = config_.ack_policy != AckPolicy::kNone && config_.max_ack_pending > 0 &&
                             static_cast<int64_t>(pending_.size()) >= config_.max_ack_pending;
        auto stream = stream_.lock();
        available = !blocked && stream &&
                    (!last_per_subject_.empty() || stream->LoadNextMatching(config_.Filters(), next_sseq_).ok());
      }
      if (w.no_wait && !available && expires == 0) {
        status("404 No Messages");
      } else {
        if (w.no_wait && !available) w.no_wait = false;  // with expires: waits like any request
        if (expires > 0) w.expires_at = now + expires;
        w.last_sent = now;
        waiting_.push_back(std::move(w));
        PumpLocked(out, acked);
      }
    }
  }
  Publish(out);
  AfterAcks(acked);
  if (env_.dispatcher) env_.dispatcher->Wake();  // new expiry / heartbeat deadlines
  if (!acked.empty() && !dir_.empty() && env_.dispatcher) env_.dispatcher->MarkDirty(shared_from_this());
}

// ---- acks ----

bool Consumer::Deliver(router::Subscription&, const router::Message& m) {
  if (!env_.dispatcher) return true;
  std::weak_ptr<Consumer> weak = weak_from_this();
  env_.dispatcher->Post([weak, subject = std::string(m.subject), reply = std::string(m.reply),
                         body = std::string(m.payload)] {
    if (auto c = weak.lock()) c->HandleAck(subject, reply, body);
  });
  return true;
}

bool Consumer::AckLocked(uint64_t sseq, std::vector<uint64_t>& acked) {
  auto it = pending_.find(sseq);
  if (it == pending_.end()) return false;
  pending_.erase(it);
  redeliver_.erase(sseq);
  acked.push_back(sseq);
  last_ack_ns_ = Now();
  dirty_ = true;
  return true;
}

void Consumer::HandleAck(const std::string& subject, const std::string& reply, const std::string& body) {
  // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
  std::string prefix = "$JS.ACK." + stream_name_ + "." + name_ + ".";
  std::vector<std::string> tokens;
  if (subject.starts_with(prefix)) {
    std::string_view rest = std::string_view(subject).substr(prefix.size());
    size_t start = 0;
    while (true) {
      size_t dot = rest.find('.', start);
      tokens.emplace_back(rest.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  std::optional<uint64_t> sseq;
  if (tokens.size() == 5) sseq = ParseUint(tokens[1]);
  std::vector<Out> out;
  std::vector<uint64_t> acked;
  bool sync_reply = !reply.empty();
  bool pump = false;
  std::optional<std::string> next_request;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    int64_t now = Now();
    if (sseq) {
      auto ack = [&] {
        if (config_.ack_policy == AckPolicy::kAll) {
          while (!pending_.empty() && pending_.begin()->first <= *sseq) AckLocked(pending_.begin()->first, acked);
        } else {
          AckLocked(*sseq, acked);
        }
      };
      if (body.empty() || body == "+ACK" || body == "+OK") {
        ack();
      } else if (body == "-NAK" || body.starts_with("-NAK ")) {
        auto it = pending_.find(*sseq);
        if (it != pending_.end()) {
          int64_t delay = 0;
          std::string arg = body.size() > 5 ? body.substr(5) : "";
          if (!arg.empty() && arg.front() == '{') {
            json j = json::parse(arg, nullptr, false);
            if (j.is_object() && j.contains("delay") && j["delay"].is_number_integer()) delay = j["delay"].get<int64_t>();
          } else if (!arg.empty()) {
            try {
              delay = ParseGoDuration(arg);
            } catch (...) {
              delay = 0;
            }
          }
          if (delay > 0) {
            it->second.deadline = now + delay;
          } else {
            redeliver_.insert(*sseq);
            pump = true;
          }
        }
      } else if (body == "+WPI") {
        auto it = pending_.find(*sseq);
        if (it != pending_.end() && it->second.deadline != kNever && !redeliver_.count(*sseq))
          it->second.deadline = now + BackoffFor(it->second.deliveries);
      } else if (body == "+TERM" || body.starts_with("+TERM ")) {
        AckLocked(*sseq, acked);
      } else if (body == "+NXT" || body.starts_with("+NXT ")) {
        ack();
        sync_reply = false;
        if (!reply.empty()) next_request = body.size() > 5 ? body.substr(5) : "";
      }
    }
    if (!acked.empty()) pump = true;
    if (sync_reply) sync_replies_.push_back(reply);
  }
  AfterAcks(acked);
  if (env_.dispatcher && (sync_reply || !acked.empty())) env_.dispatcher->MarkDirty(shared_from_this());
  if (next_request) HandlePull(reply, *next_request);
  else if (pump) Pump();
}

void Consumer::AfterAcks(const std::vector<uint64_t>& removed) {
  if (removed.empty()) return;
  auto stream = stream_.lock();
  if (!stream) return;
  Retention retention = stream->config().retention;
  for (uint64_t seq : removed) {
    if (retention == Retention::kWorkQueue) stream->RemoveConsumed(seq);
    else if (retention == Retention::kInterest) stream->CheckInterest(seq);
  }
}

void Consumer::Commit() {
  std::vector<std::string> replies;
  {
    std::lock_guard lock(mu_);
    if (dirty_ && !dir_.empty() && !stopped_) {
      std::string error;
      if (!SaveLocked(error)) {
        if (env_.log) env_.log("consumer " + stream_name_ + " > " + name_ + ": cannot save state: " + error);
        return;  // no confirmation without durability
      }
    }
    dirty_ = false;
    replies.swap(sync_replies_);
  }
  if (env_.publisher) {
    for (const auto& r : replies) env_.publisher->Publish(r, "", "", "");
  }
}

// ---- timers ----

int64_t Consumer::OnTimer(int64_t now) {
  std::vector<Out> out;
  std::vector<uint64_t> acked;
  int64_t next = 0;
  auto take = [&next](int64_t t) {
    if (t != 0 && t != kNever && (next == 0 || t < next)) next = t;
  };
  bool reap = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return 0;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      bool gone = env_.router && env_.dispatcher && !env_.dispatcher->HasInterest(*env_.router, it->reply);
      if (gone) {
        it = waiting_.erase(it);
        if (waiting_.empty()) inactive_since_ = now;
        continue;
      }
      if (it->expires_at != 0 && now >= it->expires_at) {
        out.push_back({it->reply, "",
                       Status("408 Request Timeout", PendingHeaders(it->batch, it->has_max_bytes ? it->max_bytes : 0)),
                       "", ""});
        it = waiting_.erase(it);
        if (waiting_.empty()) inactive_since_ = now;
        continue;
      }
      if (it->heartbeat_ns > 0) {
        if (now - it->last_sent >= it->heartbeat_ns) {
          out.push_back({it->reply, "",
                         Status("100 Idle Heartbeat", fmt::format("Nats-Last-Consumer: {}\r\nNats-Last-Stream: {}\r\n",
                                                                  dseq_, next_sseq_ - 1)),
                         "", ""});
          it->last_sent = now;
        }
        take(it->last_sent + it->heartbeat_ns);
      }
      take(it->expires_at);
      ++it;
    }
    for (auto& [seq, p] : pending_) {
      if (p.deadline == kNever || redeliver_.count(seq)) continue;
      if (p.deadline <= now) {
        redeliver_.insert(seq);
      } else {
        take(p.deadline);
      }
    }
    if (!redeliver_.empty() && !waiting_.empty()) PumpLocked(out, acked);
    if (config_.inactive_threshold_ns > 0 && waiting_.empty()) {
      if (now - inactive_since_ >= config_.inactive_threshold_ns) reap = true;
      else take(inactive_since_ + config_.inactive_threshold_ns);
    }
  }
  Publish(out);
  AfterAcks(acked);
  if (reap) {
    auto stream = stream_.lock();
    if (stream) stream->RemoveConsumer(name_);
    Stop(true, false);
    if (stream) stream->RecheckInterest();
    return 0;
  }
  return next;
}

}  // namespace sluice::jetstream
