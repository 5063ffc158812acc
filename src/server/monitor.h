// Monitor: the HTTP monitoring listener (-m / http_port): /varz, /connz,
// /subsz, /healthz, /jsz, /metrics, with nats-server's JSON shapes.
//
// It runs on its own thread and io_context so it answers while the event
// loops are saturated; it reads connection state by asking each loop for a
// snapshot (a posted task) and server-wide counters directly.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace sluice::server {

class Server;

class Monitor {
 public:
  explicit Monitor(Server& server);
  ~Monitor();
  // Binds host:port; returns "" or an error. Port -1 picks a free port.
  std::string Start(const std::string& host, int port);
  void Stop();
  int bound_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Go's time.Duration.String(): "1h2m3.5s", "316µs", "0s".
std::string FormatGoDuration(std::chrono::nanoseconds d);
// RFC 3339 with nanoseconds, UTC: "2026-11-26T05:34:06.123456789Z".
std::string FormatRfc3339(std::chrono::system_clock::time_point t);

}  // namespace sluice::server
