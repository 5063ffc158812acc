// Server: listeners, event loops, the router, shutdown.
#pragma once

#include <atomic>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp needs std::exchange
#include <boost/asio.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <vector>

#include "jetstream/jetstream.h"
#include "router/router.h"
#include "server/connection_info.h"
#include "server/options.h"

namespace sluice::server {

class EventLoop;
class Monitor;
class InternalPublisher;

// What a reload (SIGHUP) can change, read by connections on their own
// threads. Replaced whole; a connection keeps the snapshot it was given until
// its loop hands it the next one.
struct RuntimeSettings {
  int64_t max_payload = 0, max_pending = 0, max_connections = 0, max_subscriptions = 0, max_control_line = 0;
  int64_t ping_max = 0;
  std::chrono::nanoseconds ping_interval{0}, write_deadline{0}, auth_timeout{0};
  bool debug = false, trace = false;
  std::shared_ptr<const auth::Authenticator> authenticator;  // nullptr: no auth
  std::string info_prefix;  // INFO JSON without the per-connection fields and closing brace
  static std::shared_ptr<const RuntimeSettings> From(const ServerOptions& options);
};

// Server-wide totals gathered from the loops, for /varz and /metrics.
struct ServerTotals {
  uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0;
  uint64_t cache_hits = 0, cache_misses = 0, cache_entries = 0;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  // Binds the listener and starts the loops. Returns "" or an error.
  std::string Start();
  // Blocks until shutdown completes (after SIGINT/SIGTERM or Shutdown()).
  void Wait();
  // Any thread: stop accepting, flush and close every client, stop the loops.
  void Shutdown();

  // The options the server started with. What a reload may change is in
  // settings(); use that for limits and auth.
  const ServerOptions& options() const { return options_; }
  std::shared_ptr<const RuntimeSettings> settings() const;

  // SIGHUP: re-reads the configuration with `loader` (set by main) and
  // applies what may change; connections whose credentials no longer pass
  // are closed with 'Authorization Violation'. Returns "" or why not.
  using OptionsLoader = std::function<std::optional<ServerOptions>(std::string& error)>;
  void set_reload_loader(OptionsLoader loader) { reload_loader_ = std::move(loader); }
  std::string Reload();
  router::Router& router() { return router_; }
  int bound_port() const { return bound_port_; }
  size_t loop_count() const { return loops_.size(); }
  const std::string& server_id() const { return server_id_; }

  // INFO for a new connection (with its client id and address).
  std::string InfoJson(uint64_t client_id, const std::string& client_ip) const;

  // Monitoring (any thread but the loops'): copies gathered from each loop.
  std::vector<ConnectionInfo> CollectConnections(bool with_subscriptions);
  std::vector<ConnectionInfo> ClosedConnections() const;
  void RecordClosed(ConnectionInfo info);  // called by a connection as it closes
  ServerTotals CollectTotals();
  std::chrono::system_clock::time_point start_time() const { return start_time_; }
  std::chrono::system_clock::time_point config_load_time() const;
  int monitor_port() const;
  // nullptr when JetStream is off (or not built).
  jetstream::JetStream* jetstream() { return jetstream_.get(); }
  // The directory JetStream keeps its data in: <store_dir>/jetstream.
  std::string JetStreamDir() const;
  // The limits JetStream runs with (valid when jetstream() is not null).
  const jetstream::Config& jetstream_config() const { return jetstream_config_; }

  // Connection accounting (any thread).
  std::atomic<int64_t> current_connections{0};
  std::atomic<uint64_t> total_connections{0};
  std::atomic<uint64_t> slow_consumers{0};
  std::atomic<int64_t> live_connection_objects{0};

 private:
  void Accept();
  // Runs fn(loop) on every loop's thread and waits (bounded) for all.
  template <typename Fn>
  void RunOnEveryLoop(Fn fn);
  void OnSignal(int signal);
  void WaitForSignal();
  std::string StartJetStream();

  ServerOptions options_;
  router::Router router_;
  std::string server_id_;
  std::string BuildInfoPrefix(const ServerOptions& options) const;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  boost::asio::io_context accept_io_{1};
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::signal_set signals_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<uint64_t> next_client_id_{0};
  size_t next_loop_ = 0;
  int bound_port_ = 0;
  std::chrono::system_clock::time_point start_time_;
  mutable std::mutex settings_mutex_;                 // guards settings_ (leaf lock)
  std::shared_ptr<const RuntimeSettings> settings_;
  OptionsLoader reload_loader_;
  std::chrono::system_clock::time_point config_load_time_;
  std::unique_ptr<Monitor> monitor_;
  std::unique_ptr<InternalPublisher> internal_publisher_;
  std::unique_ptr<jetstream::JetStream> jetstream_;
  jetstream::Config jetstream_config_;
  mutable std::mutex closed_mutex_;        // guards closed_ (leaf lock)
  std::vector<ConnectionInfo> closed_;     // ring of recently closed connections
  size_t closed_next_ = 0;
};

}  // namespace sluice::server
