#include "server/server.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <random>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <future>

#include "server/client_connection.h"
#include "server/event_loop.h"
#include "server/monitor.h"

namespace sluice::server {
namespace {

// The version clients gate features on (DECISIONS.md); Sluice's own is separate.
constexpr const char* kAdvertisedVersion = "2.11.0";
constexpr std::chrono::seconds kShutdownGrace{5};
constexpr size_t kClosedConnectionsKept = 10000;  // as nats-server's /connz?state=closed
constexpr std::chrono::seconds kLoopTaskTimeout{2};

// 56 characters from the base32 alphabet starting with 'N', shaped like a
// nats-server id (a server public nkey).
std::string NewServerId() {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  std::string id = "N";
  while (id.size() < 56) id.push_back(kAlphabet[rng() % 32]);
  return id;
}

}  // namespace

std::shared_ptr<const RuntimeSettings> RuntimeSettings::From(const ServerOptions& o) {
  auto s = std::make_shared<RuntimeSettings>();
  s->max_payload = o.max_payload;
  s->max_pending = o.max_pending;
  s->max_connections = o.max_connections;
  s->max_subscriptions = o.max_subscriptions;
  s->max_control_line = o.max_control_line;
  s->ping_max = o.ping_max;
  s->ping_interval = o.ping_interval;
  s->write_deadline = o.write_deadline;
  s->auth_timeout = o.auth.timeout;
  s->debug = o.debug;
  s->trace = o.trace;
  if (o.auth.required()) s->authenticator = std::make_shared<auth::Authenticator>(o.auth);
  return s;
}

Server::Server(ServerOptions options)
    : options_(std::move(options)), acceptor_(accept_io_), signals_(accept_io_, SIGINT, SIGTERM, SIGHUP) {
  server_id_ = NewServerId();
  if (options_.server_name.empty()) options_.server_name = server_id_;
  settings_ = RuntimeSettings::From(options_);
  config_load_time_ = std::chrono::system_clock::now();
}

std::shared_ptr<const RuntimeSettings> Server::settings() const {
  std::lock_guard lock(settings_mutex_);
  return settings_;
}

std::chrono::system_clock::time_point Server::config_load_time() const {
  std::lock_guard lock(settings_mutex_);
  return config_load_time_;
}

std::string Server::Reload() {
  if (!reload_loader_) return "no configuration to reload";
  std::string error;
  std::optional<ServerOptions> next = reload_loader_(error);
  if (!next) return error;
  if (next->server_name.empty()) next->server_name = options_.server_name;
  std::string changed = FirstNonReloadableChange(options_, *next);
  if (!changed.empty()) return "config reload not supported for " + changed;
  auto built = std::const_pointer_cast<RuntimeSettings>(RuntimeSettings::From(*next));
  built->info_prefix = BuildInfoPrefix(*next);
  std::shared_ptr<const RuntimeSettings> fresh = built;
  {
    std::lock_guard lock(settings_mutex_);
    settings_ = fresh;
    config_load_time_ = std::chrono::system_clock::now();
  }
  spdlog::default_logger()->set_level(fresh->trace   ? spdlog::level::trace
                                      : fresh->debug ? spdlog::level::debug
                                                     : spdlog::level::info);
  RunOnEveryLoop([fresh](EventLoop& loop) {
    for (auto& c : loop.SnapshotConnections()) c->ApplySettings(fresh);
    loop.FlushNoted();
  });
  return "";
}

// Publishes on behalf of the server's internal services (JetStream): from an
// event loop it stages like any delivery; from another thread it uses its own
// match cache under a lock and the connections' cross-thread path.
class InternalPublisher : public jetstream::Publisher {
 public:
  explicit InternalPublisher(router::Router& router) : router_(router) {}
  void Publish(std::string_view subject, std::string_view reply, std::string_view header,
               std::string_view payload) override {
    router::Message msg{subject, reply, header, payload};
    // Internal publishes mostly answer requests on unique inboxes: caching
    // those subjects would only evict the loops' useful entries.
    router::MatchResult result = router_.MatchUncached(subject);
    if (EventLoop* loop = EventLoop::Current()) {
      router_.RouteTo(result, msg, nullptr, true, loop->match_cache());
      return;
    }
    std::lock_guard lock(mutex_);
    router_.RouteTo(result, msg, nullptr, true, cache_);
  }
  void CommitStaged() override {
    if (EventLoop* loop = EventLoop::Current()) loop->CommitAllStaged();
  }
  std::function<void()> HoldSenderInput() override {
    EventLoop* loop = EventLoop::Current();
    ClientConnection* reader = loop != nullptr ? loop->reader() : nullptr;
    if (reader == nullptr) return {};
    return reader->HoldInput();
  }

 private:
  router::Router& router_;
  std::mutex mutex_;  // guards cache_, used here only for its queue-member random state
  router::MatchCache cache_;
};

Server::~Server() {
  if (monitor_) monitor_->Stop();
  for (auto& loop : loops_) loop->Join();
  if (jetstream_) jetstream_->Shutdown();
}

std::string Server::JetStreamDir() const {
  std::string base = options_.store_dir;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = std::string(tmp && *tmp ? tmp : "/tmp") + "/nats";
  }
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base + "/jetstream";
}

template <typename Fn>
void Server::RunOnEveryLoop(Fn fn) {
  std::vector<std::future<void>> done;
  for (auto& loop : loops_) {
    auto task = std::make_shared<std::packaged_task<void()>>([l = loop.get(), fn] { fn(*l); });
    done.push_back(task->get_future());
    boost::asio::post(loop->io(), [task] { (*task)(); });
  }
  auto deadline = std::chrono::steady_clock::now() + kLoopTaskTimeout;
  for (auto& f : done) f.wait_until(deadline);
}

std::vector<ConnectionInfo> Server::CollectConnections(bool with_subscriptions) {
  auto per_loop = std::make_shared<std::vector<std::vector<ConnectionInfo>>>(loops_.size());
  RunOnEveryLoop([per_loop, with_subscriptions](EventLoop& loop) {
    auto& out = (*per_loop)[static_cast<size_t>(loop.index())];
    for (auto& c : loop.SnapshotConnections()) {
      if (!c->closed()) out.push_back(c->Snapshot(with_subscriptions));
    }
  });
  std::vector<ConnectionInfo> all;
  for (auto& v : *per_loop) std::move(v.begin(), v.end(), std::back_inserter(all));
  return all;
}

ServerTotals Server::CollectTotals() {
  ServerTotals t;
  for (auto& loop : loops_) {
    t.in_msgs += loop->stats.in_msgs.load(std::memory_order_relaxed);
    t.in_bytes += loop->stats.in_bytes.load(std::memory_order_relaxed);
    t.out_msgs += loop->stats.out_msgs.load(std::memory_order_relaxed);
    t.out_bytes += loop->stats.out_bytes.load(std::memory_order_relaxed);
  }
  auto caches = std::make_shared<std::vector<ServerTotals>>(loops_.size());
  RunOnEveryLoop([caches](EventLoop& loop) {
    auto& c = (*caches)[static_cast<size_t>(loop.index())];
    c.cache_hits = loop.match_cache().hits();
    c.cache_misses = loop.match_cache().misses();
    c.cache_entries = loop.match_cache().size();
  });
  for (auto& c : *caches) {
    t.cache_hits += c.cache_hits;
    t.cache_misses += c.cache_misses;
    t.cache_entries += c.cache_entries;
  }
  return t;
}

void Server::RecordClosed(ConnectionInfo info) {
  std::lock_guard lock(closed_mutex_);
  if (closed_.size() < kClosedConnectionsKept) {
    closed_.push_back(std::move(info));
  } else {
    closed_[closed_next_] = std::move(info);
    closed_next_ = (closed_next_ + 1) % kClosedConnectionsKept;
  }
}

std::vector<ConnectionInfo> Server::ClosedConnections() const {
  std::lock_guard lock(closed_mutex_);
  std::vector<ConnectionInfo> out;
  out.reserve(closed_.size());
  // Oldest first.
  for (size_t i = 0; i < closed_.size(); ++i) out.push_back(closed_[(closed_next_ + i) % closed_.size()]);
  return out;
}

int Server::monitor_port() const { return monitor_ ? monitor_->bound_port() : 0; }

// INFO without its closing brace: the fields clients rely on, in
// nats-server's order. Rebuilt on reload (max_payload, auth_required).
std::string Server::BuildInfoPrefix(const ServerOptions& o) const {
  nlohmann::ordered_json info;
  info["server_id"] = server_id_;
  info["server_name"] = options_.server_name;
  info["version"] = kAdvertisedVersion;
  info["proto"] = 1;
  info["go"] = "c++20";  // nats-server names its Go runtime here; clients only display it
  info["host"] = options_.host;
  info["port"] = bound_port_;
  info["headers"] = true;
  if (o.auth_required()) info["auth_required"] = true;
  info["max_payload"] = o.max_payload;
  if (jetstream_) info["jetstream"] = true;
  info["sluice_version"] = SLUICE_VERSION;
  std::string prefix = info.dump();
  prefix.pop_back();
  return prefix;
}

std::string Server::InfoJson(uint64_t client_id, const std::string& client_ip) const {
  std::string json = settings()->info_prefix;
  json += ",\"client_id\":";
  json += std::to_string(client_id);
  json += ",\"client_ip\":";
  json += nlohmann::json(client_ip).dump();
  json += "}";
  return json;
}

std::string Server::Start() {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options_.host == "localhost" ? "127.0.0.1" : options_.host, ec);
  if (ec) return "invalid listen address \"" + options_.host + "\": " + ec.message();
  asio::ip::tcp::endpoint endpoint(address, static_cast<uint16_t>(options_.port < 0 ? 0 : options_.port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " + ec.message();
  bound_port_ = acceptor_.local_endpoint().port();

  if (options_.jetstream) {
    std::string jerr = StartJetStream();
    if (!jerr.empty()) return jerr;
  }

  {
    auto with_info = std::make_shared<RuntimeSettings>(*settings());
    with_info->info_prefix = BuildInfoPrefix(options_);
    std::lock_guard lock(settings_mutex_);
    settings_ = std::move(with_info);
  }

  start_time_ = std::chrono::system_clock::now();
  if (options_.http_port != 0) {
    monitor_ = std::make_unique<Monitor>(*this);
    std::string merr = monitor_->Start(options_.host, options_.http_port);
    if (!merr.empty()) return merr;
  }

  int n = options_.event_loops > 0 ? options_.event_loops : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  for (int i = 0; i < n; ++i) loops_.push_back(std::make_unique<EventLoop>(*this, i));
  for (auto& loop : loops_) loop->Start();

  WaitForSignal();
  Accept();

  spdlog::info("Starting sluice-server");
  spdlog::info("  Version:  {} (NATS protocol as nats-server {})", SLUICE_VERSION, kAdvertisedVersion);
  spdlog::info("  ID:       {}", server_id_);
  spdlog::info("  Name:     {}", options_.server_name);
  spdlog::info("  Loops:    {}", n);
  if (!options_.config_file.empty()) spdlog::info("Using configuration file: {}", options_.config_file);
  if (monitor_) spdlog::info("Starting http monitor on {}:{}", options_.host, monitor_->bound_port());
  spdlog::info("Listening for client connections on {}:{}", options_.host, bound_port_);
  spdlog::info("Server is ready");
  return "";
}

void Server::Accept() {
  EventLoop& loop = *loops_[next_loop_];
  next_loop_ = (next_loop_ + 1) % loops_.size();
  acceptor_.async_accept(loop.io(), [this, &loop](const boost::system::error_code& ec,
                                                  boost::asio::ip::tcp::socket socket) {
    if (shutting_down_) return;
    if (ec) {
      if (ec == boost::asio::error::operation_aborted) return;
      // Out of descriptors and the like: log, back off a little, go on.
      spdlog::error("Error accepting client connection: {}", ec.message());
      auto timer = std::make_shared<boost::asio::steady_timer>(accept_io_, std::chrono::milliseconds(20));
      timer->async_wait([this, timer](const boost::system::error_code&) { Accept(); });
      return;
    }
    uint64_t cid = next_client_id_.fetch_add(1, std::memory_order_relaxed) + 1;
    total_connections.fetch_add(1, std::memory_order_relaxed);
    int64_t now_open = current_connections.fetch_add(1, std::memory_order_relaxed) + 1;
    bool over_limit = now_open > settings()->max_connections;
    auto connection = std::make_shared<ClientConnection>(loop, std::move(socket), cid);
    boost::asio::post(loop.io(), [&loop, connection, over_limit] {
      loop.Adopt(connection);
      connection->Start(over_limit);
    });
    Accept();
  });
}

std::string Server::StartJetStream() {
#ifdef SLUICE_HAVE_JETSTREAM
  jetstream::Config config;
  config.store_dir = JetStreamDir();
  std::error_code ec;
  std::filesystem::create_directories(config.store_dir, ec);
  if (ec) return "cannot create JetStream store directory " + config.store_dir + ": " + ec.message();
  if (options_.js_max_memory >= 0) {
    config.max_memory = options_.js_max_memory;
  } else {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    config.max_memory = static_cast<int64_t>(pages) * page / 4 * 3;
  }
  if (options_.js_max_storage >= 0) {
    config.max_storage = options_.js_max_storage;
  } else {
    auto space = std::filesystem::space(config.store_dir, ec);
    config.max_storage = ec ? 0 : static_cast<int64_t>(space.available / 4 * 3);
  }
  config.sync_interval = options_.js_sync_interval;
  config.domain = options_.js_domain;
  config.max_payload = options_.max_payload;
  internal_publisher_ = std::make_unique<InternalPublisher>(router_);
  std::string error;
  jetstream_config_ = config;
  jetstream_ = jetstream::JetStream::Start(config, router_, *internal_publisher_, error);
  if (!jetstream_) return "JetStream could not start: " + error;
  spdlog::info("Starting JetStream");
  spdlog::info("  Store directory:  \"{}\"", config.store_dir);
  spdlog::info("  Max memory:       {} bytes", config.max_memory);
  spdlog::info("  Max storage:      {} bytes", config.max_storage);
  spdlog::info("  Sync:             {}", config.sync_interval ? "every " + std::to_string(config.sync_interval->count() / 1000000) + " ms (acknowledged before fsync)" : std::string("always (acknowledged after fsync)"));
  return "";
#else
  // Not built yet: say so loudly, and advertise no JetStream, so clients get
  // "JetStream not enabled" rather than a server that pretends.
  spdlog::warn("JetStream was requested but is not built into this sluice-server yet; "
               "JetStream API requests will be answered with no responders (JetStream not enabled)");
  return "";
#endif
}

void Server::WaitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& e, int sig) {
    if (!e) OnSignal(sig);
  });
}

void Server::OnSignal(int sig) {
  if (sig == SIGHUP) {
    spdlog::info("Trapped \"hangup\" signal");
    std::string error = Reload();
    if (error.empty()) {
      spdlog::info("Reloaded server configuration");
    } else {
      spdlog::error("Failed to reload server configuration: {}", error);
    }
    WaitForSignal();
    return;
  }
  spdlog::info("Trapped \"{}\" signal", sig == SIGINT ? "interrupt" : "terminated");
  Shutdown();
}

void Server::Shutdown() {
  if (shutting_down_.exchange(true)) return;
  boost::asio::post(accept_io_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    signals_.cancel(ec);
    spdlog::info("Initiating Shutdown...");
    if (monitor_) monitor_->Stop();
    auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
    for (auto& loop : loops_) {
      EventLoop* l = loop.get();
      boost::asio::post(l->io(), [l, deadline] { l->BeginDrain(deadline); });
    }
  });
}

void Server::Wait() {
  accept_io_.run();
  for (auto& loop : loops_) loop->Join();
  spdlog::info("Server Exiting..");
}

}  // namespace sluice::server
