#include "jetstream/jetstream_impl.h"

#include <fmt/format.h>

#include <filesystem>

namespace sluice::jetstream {
namespace {

constexpr std::string_view kApiPrefix = "$JS.API.";

void LogLine(std::string_view line) { fmt::print(stderr, "[jetstream] {}\n", line); }

constexpr std::string_view kStreamCreatePrefix = "$JS.API.STREAM.CREATE.";
constexpr auto kCreateHoldLimit = std::chrono::seconds(5);
// Set on the API thread: a request it publishes itself is only queued.
thread_local bool t_api_thread = false;

}  // namespace

// The `$JS.API.>` sink: copies the request and queues it for the API thread.
class JetStreamImpl::ApiSink final : public router::SubscriberSink {
 public:
  explicit ApiSink(JetStreamImpl* owner, std::string domain_prefix)
      : owner_(owner), domain_prefix_(std::move(domain_prefix)) {}
  bool Deliver(router::Subscription&, const router::Message& m) override {
    ApiRequest r;
    if (!domain_prefix_.empty() && m.subject.starts_with(domain_prefix_)) {
      r.subject = std::string(kApiPrefix) + std::string(m.subject.substr(domain_prefix_.size()));
    } else {
      r.subject = std::string(m.subject);
    }
    r.reply = std::string(m.reply);
    r.payload = std::string(m.payload);
    // A stream create binds subjects: the connection's next message (often
    // a publish to them, pipelined without waiting for this reply) must be
    // routed after it. A client connection's later input is held until the
    // API thread has handled it; any other sender waits here (bounded, in
    // case it is a thread the API thread itself waits on).
    if (r.subject.starts_with(kStreamCreatePrefix) && !t_api_thread) {
      if (std::function<void()> resume = owner_->publisher_.HoldSenderInput()) {
        r.on_handled = std::move(resume);
        owner_->Enqueue(std::move(r));
        return true;
      }
      auto handled = std::make_shared<std::promise<void>>();
      std::future<void> done = handled->get_future();
      r.on_handled = [handled] { handled->set_value(); };
      owner_->Enqueue(std::move(r));
      done.wait_for(kCreateHoldLimit);
      return true;
    }
    owner_->Enqueue(std::move(r));
    return true;
  }
  void OnSubscriptionExpired(router::Subscription&) override {}

 private:
  JetStreamImpl* owner_;
  std::string domain_prefix_;  // "$JS.<domain>.API." or ""
};

std::unique_ptr<JetStream> JetStream::Start(const Config& config, router::Router& router, Publisher& publisher,
                                            std::string& error) {
  auto js = std::make_unique<JetStreamImpl>(config, router, publisher, nullptr);
  if (!js->Init(error)) return nullptr;
  return js;
}

JetStreamImpl::JetStreamImpl(const Config& config, router::Router& router, Publisher& publisher,
                             store::Clock* clock)
    : config_(config), router_(router), publisher_(publisher), clock_(clock) {
  // Leader rounds: an event loop may run a small round itself (group_commit.h).
  committer_ = std::make_unique<store::GroupCommitter>(1, /*leader_rounds=*/true);
  ack_sender_ = std::make_unique<AckSender>();
  dispatcher_ = std::make_unique<Dispatcher>(clock);
  usage_.max_memory = config_.max_memory;
  usage_.max_storage = config_.max_storage;
  env_.usage = &usage_;
  env_.ack_sender = ack_sender_.get();
  env_.publisher = &publisher_;
  env_.router = &router_;
  env_.committer = committer_.get();
  env_.sync_interval_ns = config_.sync_interval ? config_.sync_interval->count() : 0;
  env_.domain = config_.domain;
  env_.clock = clock_;
  env_.log = LogLine;
  env_.dispatcher = dispatcher_.get();
  env_.max_payload = config_.max_payload;
}

JetStreamImpl::~JetStreamImpl() { Shutdown(); }

bool JetStreamImpl::Init(std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(config_.store_dir, ec);
  if (ec) {
    error = "cannot create " + config_.store_dir + ": " + ec.message();
    return false;
  }
  for (const auto& entry : std::filesystem::directory_iterator(config_.store_dir, ec)) {
    if (!entry.is_directory()) continue;
    std::string dir = entry.path().string();
    if (!std::filesystem::exists(dir + "/meta.json")) {
      // A stream deleted or created half-way: nothing in it was acknowledged.
      std::filesystem::remove_all(dir, ec);
      continue;
    }
    std::string err;
    auto stream = Stream::Open(env_, dir, err);
    if (!stream) {
      LogLine("cannot open stream in " + dir + ": " + err);
      std::lock_guard lock(streams_mu_);
      open_errors_.push_back("stream in " + dir + " could not be opened: " + err);
      continue;
    }
    if (!stream->Subscribe()) {
      LogLine("stream " + stream->name() + " has subjects the router refused");
    }
    for (auto& consumer : Consumer::LoadAll(env_, stream)) {
      stream->AddConsumer(consumer, consumer->filters());
      consumer->Start();
    }
    std::lock_guard lock(streams_mu_);
    streams_[stream->name()] = std::move(stream);
  }
  if (ec) {
    error = "cannot list " + config_.store_dir + ": " + ec.message();
    return false;
  }
  auto add_api_sub = [&](const std::string& subject, const std::string& domain_prefix) {
    auto sink = std::make_shared<ApiSink>(this, domain_prefix);
    auto sub = std::make_shared<router::Subscription>(sink, subject, "", "$JS.API");
    router_.Insert(sub);
    api_subs_.push_back(std::move(sub));
  };
  add_api_sub("$JS.API.>", "");
  if (!config_.domain.empty()) {
    std::string prefix = "$JS." + config_.domain + ".API.";
    add_api_sub(prefix + ">", prefix);
  }
  api_thread_ = std::thread([this] { ApiLoop(); });
  timer_thread_ = std::thread([this] { TimerLoop(); });
  return true;
}

void JetStreamImpl::Shutdown() {
  if (shut_down_.exchange(true)) return;
  for (auto& sub : api_subs_) router_.Remove(sub);
  api_subs_.clear();
  {
    std::lock_guard lock(api_mu_);
    api_stopping_ = true;
  }
  api_cv_.notify_all();
  if (api_thread_.joinable()) api_thread_.join();
  {
    std::lock_guard lock(timer_mu_);
    timer_stopping_ = true;
  }
  timer_cv_.notify_all();
  if (timer_thread_.joinable()) timer_thread_.join();
  dispatcher_->Stop();  // runs what is queued, commits consumer state
  for (auto& stream : AllStreams()) stream->Close(false);
  {
    std::lock_guard lock(streams_mu_);
    streams_.clear();
  }
  committer_.reset();
  ack_sender_.reset();
}

void JetStreamImpl::Enqueue(ApiRequest request) {
  {
    std::lock_guard lock(api_mu_);
    if (api_stopping_) return;
    api_queue_.push_back(std::move(request));
  }
  api_cv_.notify_one();
}

void JetStreamImpl::ApiLoop() {
  t_api_thread = true;
  std::unique_lock lock(api_mu_);
  while (true) {
    api_cv_.wait(lock, [this] { return api_stopping_ || !api_queue_.empty(); });
    if (api_stopping_) {
      // Releases the senders waiting for their create (and held input).
      std::deque<ApiRequest> dropped = std::exchange(api_queue_, {});
      lock.unlock();
      for (auto& r : dropped)
        if (r.on_handled) r.on_handled();
      return;
    }
    ApiRequest r = std::move(api_queue_.front());
    api_queue_.pop_front();
    lock.unlock();
    HandleApi(r);
    if (r.on_handled) r.on_handled();
    lock.lock();
  }
}

void JetStreamImpl::WakeTimer() {
  {
    std::lock_guard lock(timer_mu_);
    timer_wake_ = true;
  }
  timer_cv_.notify_all();
}

// Age and TTL expiry for every stream with max_age or allow_msg_ttl: sleeps
// until the earliest NextExpiry, at most 250 ms while such a stream exists
// (an append with an earlier expiry gives no signal), else until woken.
void JetStreamImpl::TimerLoop() {
  std::unique_lock lock(timer_mu_);
  while (!timer_stopping_) {
    lock.unlock();
    int64_t now = clock_ ? clock_->NowNs() : store::SystemClock().NowNs();
    int64_t next = 0;
    bool any_age = false;
    for (auto& stream : AllStreams()) {
      int64_t n = stream->RunExpiry(now);
      if (StreamConfig c = stream->config(); c.max_age_ns > 0 || c.allow_msg_ttl) any_age = true;
      if (n != 0 && (next == 0 || n < next)) next = n;
    }
    lock.lock();
    if (timer_stopping_) break;
    auto wait = std::chrono::nanoseconds(any_age ? 250'000'000 : 3'600'000'000'000);
    if (next != 0) wait = std::min<std::chrono::nanoseconds>(wait, std::chrono::nanoseconds(std::max<int64_t>(next - now, 1'000'000)));
    timer_cv_.wait_for(lock, wait, [this] { return timer_stopping_ || timer_wake_; });
    timer_wake_ = false;
  }
}

std::shared_ptr<Stream> JetStreamImpl::FindStream(const std::string& name) {
  std::lock_guard lock(streams_mu_);
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Stream>> JetStreamImpl::AllStreams() {
  std::lock_guard lock(streams_mu_);
  std::vector<std::shared_ptr<Stream>> out;
  for (auto& [_, s] : streams_) out.push_back(s);
  return out;
}

int64_t JetStreamImpl::Reserved(Storage storage, const std::string& except) {
  int64_t total = 0;
  for (auto& stream : AllStreams()) {
    if (stream->name() == except) continue;
    StreamConfig c = stream->config();
    if (c.storage == storage && c.max_bytes > 0) total += c.max_bytes;
  }
  return total;
}

ApiError JetStreamImpl::CheckResources(const StreamConfig& config, const std::string& except) {
  // An unlimited stream reserves nothing but still needs one byte of room.
  const int64_t add = config.max_bytes > 0 ? config.max_bytes : 1;
  if (config.storage == Storage::kMemory) {
    if (config_.max_memory > 0 && Reserved(Storage::kMemory, except) + add > config_.max_memory)
      return MakeError(ErrorId::kMemoryResourcesExceeded);
  } else if (config_.max_storage > 0 && Reserved(Storage::kFile, except) + add > config_.max_storage) {
    return MakeError(ErrorId::kStorageResourcesExceeded);
  }
  return {};
}

Stats JetStreamImpl::GetStats() {
  Stats stats;
  for (auto& stream : AllStreams()) {
    store::StoreState st = stream->State();
    ++stats.streams;
    stats.consumers += stream->Consumers().size();
    stats.messages += st.msgs;
    stats.bytes += st.bytes;
    if (stream->config().storage == Storage::kMemory) stats.memory += st.bytes;
    else stats.storage += st.bytes;
  }
  stats.api_total = api_total_.load();
  stats.api_errors = api_errors_.load();
  return stats;
}

std::string JetStreamImpl::HealthError() {
  {
    std::lock_guard lock(streams_mu_);
    if (!open_errors_.empty()) return "JetStream " + open_errors_.front();
  }
  for (auto& stream : AllStreams()) {
    store::StoreState st = stream->State();
    if (st.lost_msgs > 0)
      return fmt::format("JetStream stream '{}' is corrupt: {} messages lost", stream->name(), st.lost_msgs);
  }
  return "";
}

}  // namespace sluice::jetstream
