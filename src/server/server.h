// Server: listeners, event loops, the router, shutdown.
#pragma once

#include <atomic>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp needs std::exchange
#include <boost/asio.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "router/router.h"
#include "server/connection_info.h"
#include "server/options.h"

namespace sluice::server {

class EventLoop;
class Monitor;

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

  const ServerOptions& options() const { return options_; }
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
  int monitor_port() const;

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

  ServerOptions options_;
  router::Router router_;
  std::string server_id_;
  std::string info_prefix_;  // INFO JSON without the closing brace
  std::vector<std::unique_ptr<EventLoop>> loops_;
  boost::asio::io_context accept_io_{1};
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::signal_set signals_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<uint64_t> next_client_id_{0};
  size_t next_loop_ = 0;
  int bound_port_ = 0;
  std::chrono::system_clock::time_point start_time_;
  std::unique_ptr<Monitor> monitor_;
  mutable std::mutex closed_mutex_;        // guards closed_ (leaf lock)
  std::vector<ConnectionInfo> closed_;     // ring of recently closed connections
  size_t closed_next_ = 0;
};

}  // namespace sluice::server
