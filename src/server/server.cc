#include "server/server.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <random>

#include "server/client_connection.h"
#include "server/event_loop.h"

namespace sluice::server {
namespace {

// The version clients gate features on (DECISIONS.md); Sluice's own is separate.
constexpr const char* kAdvertisedVersion = "2.11.0";
constexpr std::chrono::seconds kShutdownGrace{5};

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

Server::Server(ServerOptions options)
    : options_(std::move(options)), acceptor_(accept_io_), signals_(accept_io_, SIGINT, SIGTERM) {
  server_id_ = NewServerId();
  if (options_.server_name.empty()) options_.server_name = server_id_;
}

Server::~Server() {
  for (auto& loop : loops_) loop->Join();
}

std::string Server::InfoJson(uint64_t client_id, const std::string& client_ip) const {
  std::string json = info_prefix_;
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

  // INFO: the fields clients rely on, in nats-server's order.
  nlohmann::ordered_json info;
  info["server_id"] = server_id_;
  info["server_name"] = options_.server_name;
  info["version"] = kAdvertisedVersion;
  info["proto"] = 1;
  info["go"] = "c++20";  // nats-server names its Go runtime here; clients only display it
  info["host"] = options_.host;
  info["port"] = bound_port_;
  info["headers"] = true;
  if (options_.auth_required()) info["auth_required"] = true;
  info["max_payload"] = options_.max_payload;
  if (options_.jetstream) info["jetstream"] = true;
  info["sluice_version"] = SLUICE_VERSION;
  info_prefix_ = info.dump();
  info_prefix_.pop_back();  // the closing brace; InfoJson adds per-connection fields

  int n = options_.event_loops > 0 ? options_.event_loops : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  for (int i = 0; i < n; ++i) loops_.push_back(std::make_unique<EventLoop>(*this, i));
  for (auto& loop : loops_) loop->Start();

  signals_.async_wait([this](const boost::system::error_code& e, int sig) {
    if (!e) OnSignal(sig);
  });
  Accept();

  spdlog::info("Starting sluice-server");
  spdlog::info("  Version:  {} (NATS protocol as nats-server {})", SLUICE_VERSION, kAdvertisedVersion);
  spdlog::info("  ID:       {}", server_id_);
  spdlog::info("  Name:     {}", options_.server_name);
  spdlog::info("  Loops:    {}", n);
  if (!options_.config_file.empty()) spdlog::info("Using configuration file: {}", options_.config_file);
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
    bool over_limit = now_open > options_.max_connections;
    auto connection = std::make_shared<ClientConnection>(loop, std::move(socket), cid);
    boost::asio::post(loop.io(), [&loop, connection, over_limit] {
      loop.Adopt(connection);
      connection->Start(over_limit);
    });
    Accept();
  });
}

void Server::OnSignal(int sig) {
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
