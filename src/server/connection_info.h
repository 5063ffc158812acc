// ConnectionInfo: a copy of one connection's state for monitoring (/connz,
// /varz), taken on the connection's own loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::server {

struct SubscriptionInfo {
  std::string subject;
  std::string queue;
  std::string sid;
  uint64_t msgs = 0;
  uint64_t max = 0;
  uint64_t cid = 0;
};

struct ConnectionInfo {
  uint64_t cid = 0;
  std::string ip;
  int port = 0;
  std::chrono::system_clock::time_point start;
  std::chrono::system_clock::time_point last_activity;
  std::chrono::system_clock::time_point stop;  // closed connections only
  std::string reason;                          // closed connections only
  std::chrono::nanoseconds rtt{0};
  uint64_t pending_bytes = 0;
  uint64_t in_msgs = 0, out_msgs = 0, in_bytes = 0, out_bytes = 0;
  uint64_t num_subs = 0;
  std::string name, lang, version;
  std::string user;  // authorized user (never a password or token)
  std::vector<SubscriptionInfo> subs;  // filled when asked for
};

}  // namespace sluice::server
