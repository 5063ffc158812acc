#include "server/monitor.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <cmath>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <utility>  // before Boost 1.74 asio (std::exchange)
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "core/subject.h"
#include "server/server.h"

namespace sluice::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::ordered_json;

// ---------------------------------------------------------------- formatting

std::string FormatGoDuration(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = static_cast<uint64_t>(ns < 0 ? -ns : ns);
  char buf[64];
  if (u < 1000) {
    std::snprintf(buf, sizeof(buf), "%s%lluns", sign.c_str(), static_cast<unsigned long long>(u));
    return buf;
  }
  auto trim = [](std::string s) {
    if (s.find('.') != std::string::npos) {
      while (!s.empty() && s.back() == '0') s.pop_back();
      if (!s.empty() && s.back() == '.') s.pop_back();
    }
    return s;
  };
  if (u < 1000000) {
    std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(u) / 1e3);
    return sign + trim(buf) + "\xC2\xB5s";
  }
  if (u < 1000000000) {
    std::snprintf(buf, sizeof(buf), "%.6f", static_cast<double>(u) / 1e6);
    return sign + trim(buf) + "ms";
  }
  uint64_t hours = u / 3600000000000ull;
  uint64_t rest = u % 3600000000000ull;
  uint64_t minutes = rest / 60000000000ull;
  rest %= 60000000000ull;
  std::snprintf(buf, sizeof(buf), "%llu.%09llu", static_cast<unsigned long long>(rest / 1000000000ull),
                static_cast<unsigned long long>(rest % 1000000000ull));
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + trim(buf) + "s";
}

std::string FormatRfc3339(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(ns % 1000000000));
  return buf;
}

namespace {

// Uptime as nats-server prints it in /varz: "1d2h3m4s", whole seconds.
std::string FormatUptime(std::chrono::nanoseconds d) {
  int64_t s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  int64_t days = s / 86400, hours = (s % 86400) / 3600, minutes = (s % 3600) / 60, seconds = s % 60;
  std::string out;
  if (days) out += std::to_string(days) + "d";
  if (days || hours) out += std::to_string(hours) + "h";
  if (days || hours || minutes) out += std::to_string(minutes) + "m";
  return out + std::to_string(seconds) + "s";
}

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

using Query = std::map<std::string, std::string>;

Query ParseQuery(std::string_view target) {
  Query q;
  size_t qm = target.find('?');
  if (qm == std::string_view::npos) return q;
  std::string_view rest = target.substr(qm + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    size_t eq = pair.find('=');
    std::string key(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    // Minimal percent-decoding.
    std::string decoded;
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '%' && i + 2 < value.size()) {
        decoded.push_back(static_cast<char>(std::stoi(value.substr(i + 1, 2), nullptr, 16)));
        i += 2;
      } else {
        decoded.push_back(value[i] == '+' ? ' ' : value[i]);
      }
    }
    q[key] = decoded;
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return q;
}

bool TruthyParam(const Query& q, const std::string& key) {
  auto it = q.find(key);
  if (it == q.end()) return false;
  return it->second == "1" || it->second == "true" || it->second == "detail" || it->second.empty();
}

struct Response {
  http::status status = http::status::ok;
  std::string content_type = "application/json";
  std::string body;
};

// The JetStream figures /varz and /jsz share: its config block and the
// account-wide usage (one account for now).
struct JetStreamUsage {
  json config;
  json stats;
  jetstream::Stats raw;
};

JetStreamUsage GetJetStreamUsage(Server& server, jetstream::JetStream& js) {
  JetStreamUsage u;
  const auto& c = server.jetstream_config();
  u.raw = js.GetStats();
  u.config["max_memory"] = c.max_memory;
  u.config["max_storage"] = c.max_storage;
  u.config["store_dir"] = c.store_dir;
  if (!c.domain.empty()) u.config["domain"] = c.domain;
  u.stats["memory"] = u.raw.memory;
  u.stats["storage"] = u.raw.storage;
  u.stats["reserved_memory"] = 0;
  u.stats["reserved_storage"] = 0;
  u.stats["accounts"] = 1;
  u.stats["ha_assets"] = 0;
  u.stats["api"] = {{"total", u.raw.api_total}, {"errors", u.raw.api_errors}};
  return u;
}

Response BadRequest(std::string text) { return {http::status::bad_request, "text/plain; charset=utf-8", text}; }

// Process CPU percent since the previous call (nats-server reports the same idea).
class CpuMeter {
 public:
  double Percent() {
    std::lock_guard lock(mu_);
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    auto now = std::chrono::steady_clock::now();
    double wall = std::chrono::duration<double>(now - last_wall_).count();
    double pct = wall > 0 ? (cpu - last_cpu_) / wall * 100.0 : 0;
    last_cpu_ = cpu;
    last_wall_ = now;
    return std::round(pct * 10) / 10;
  }

 private:
  std::mutex mu_;
  double last_cpu_ = 0;
  std::chrono::steady_clock::time_point last_wall_ = std::chrono::steady_clock::now();
};

}  // namespace

struct Monitor::Impl {
  explicit Impl(Server& s) : server(s), acceptor(io) {}

  Server& server;
  asio::io_context io{1};
  asio::ip::tcp::acceptor acceptor;
  std::thread thread;
  int port = 0;
  std::string host;
  CpuMeter cpu;
  std::mutex stats_mu;
  std::map<std::string, uint64_t> request_counts;  // guarded by stats_mu

  void Accept();
  void Serve(std::shared_ptr<asio::ip::tcp::socket> socket);
  Response Handle(const std::string& path, const Query& q);

  Response Varz();
  Response Connz(const Query& q);
  Response Subsz(const Query& q);
  Response Healthz();
  Response Jsz();
  Response Metrics();
  Response Root();
  json ConnectionJson(const ConnectionInfo& c, bool closed, int subs_mode, bool auth,
                      std::chrono::system_clock::time_point now);
};

Monitor::Monitor(Server& server) : impl_(std::make_unique<Impl>(server)) {}
Monitor::~Monitor() { Stop(); }

int Monitor::bound_port() const { return impl_->port; }

std::string Monitor::Start(const std::string& host, int port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return "invalid monitoring address \"" + host + "\"";
  asio::ip::tcp::endpoint endpoint(address, static_cast<uint16_t>(port < 0 ? 0 : port));
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen for monitoring on " + host + ":" + std::to_string(port) + ": " + ec.message();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->host = host;
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return "";
}

void Monitor::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    impl_->io.stop();
  });
  impl_->thread.join();
}

void Monitor::Impl::Accept() {
  acceptor.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) Serve(std::make_shared<asio::ip::tcp::socket>(std::move(socket)));
    Accept();
  });
}

// One request at a time per connection, keep-alive honoured. Requests are
// small; each is answered from this thread.
void Monitor::Impl::Serve(std::shared_ptr<asio::ip::tcp::socket> socket) {
  auto buffer = std::make_shared<beast::flat_buffer>();
  auto request = std::make_shared<http::request<http::string_body>>();
  http::async_read(*socket, *buffer, *request,
                   [this, socket, buffer, request](const boost::system::error_code& ec, size_t) {
                     if (ec) return;
                     std::string target(request->target());
                     std::string path = target.substr(0, target.find('?'));
                     Query q = ParseQuery(target);
                     Response r;
                     if (request->method() != http::verb::get && request->method() != http::verb::head) {
                       r = {http::status::method_not_allowed, "text/plain", "method not allowed"};
                     } else {
                       r = Handle(path, q);
                     }
                     if (auto cb = q.find("callback"); cb != q.end() && r.content_type == "application/json") {
                       r.body = cb->second + "(" + r.body + ")";
                       r.content_type = "application/javascript";
                     }
                     auto response = std::make_shared<http::response<http::string_body>>(r.status, request->version());
                     response->set(http::field::server, "sluice-server");
                     response->set(http::field::content_type, r.content_type);
                     response->set(http::field::access_control_allow_origin, "*");
                     response->keep_alive(request->keep_alive());
                     response->body() = std::move(r.body);
                     response->prepare_payload();
                     http::async_write(*socket, *response,
                                       [this, socket, response](const boost::system::error_code& wec, size_t) {
                                         if (wec || !response->keep_alive()) {
                                           boost::system::error_code ignored;
                                           socket->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
                                           return;
                                         }
                                         Serve(socket);
                                       });
                   });
}

Response Monitor::Impl::Handle(const std::string& raw_path, const Query& q) {
  std::string path = raw_path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  {
    std::lock_guard lock(stats_mu);
    ++request_counts[path.empty() ? "/" : path];
  }
  if (path == "/varz") return Varz();
  if (path == "/connz") return Connz(q);
  if (path == "/subsz" || path == "/subscriptionsz") return Subsz(q);
  if (path == "/healthz") return Healthz();
  if (path == "/jsz") return Jsz();
  if (path == "/metrics") return Metrics();
  if (path == "/" || path.empty()) return Root();
  return {http::status::not_found, "text/plain", "404 page not found\n"};
}

Response Monitor::Impl::Root() {
  std::string body =
      "<html><body><h1>sluice-server</h1><ul>"
      "<li><a href=\"varz\">varz</a></li><li><a href=\"connz\">connz</a></li>"
      "<li><a href=\"subsz\">subsz</a></li><li><a href=\"jsz\">jsz</a></li>"
      "<li><a href=\"healthz\">healthz</a></li><li><a href=\"metrics\">metrics</a></li></ul></body></html>";
  return {http::status::ok, "text/html; charset=utf-8", body};
}

Response Monitor::Impl::Varz() {
  const ServerOptions& o = server.options();
  auto now = std::chrono::system_clock::now();
  ServerTotals totals = server.CollectTotals();
  json j;
  j["server_id"] = server.server_id();
  j["server_name"] = o.server_name;
  j["version"] = "2.11.0";
  j["proto"] = 1;
  j["go"] = "c++20";
  j["host"] = o.host;
  j["port"] = server.bound_port();
  auto settings = server.settings();
  if (settings->authenticator) j["auth_required"] = true;
  j["max_connections"] = o.max_connections;
  if (o.max_subscriptions > 0) j["max_subscriptions"] = o.max_subscriptions;
  j["ping_interval"] = o.ping_interval.count();
  j["ping_max"] = o.ping_max;
  j["http_host"] = host;
  j["http_port"] = port;
  j["http_base_path"] = "";
  j["https_port"] = 0;
  j["auth_timeout"] = std::chrono::duration<double>(o.auth_timeout).count();
  j["max_control_line"] = o.max_control_line;
  j["max_payload"] = o.max_payload;
  j["max_pending"] = o.max_pending;
  j["cluster"] = json::object();
  j["gateway"] = json::object();
  j["leaf"] = json::object();
  j["mqtt"] = json::object();
  j["websocket"] = json::object();
  if (auto* js = server.jetstream()) {
    JetStreamUsage usage = GetJetStreamUsage(server, *js);
    json config = usage.config;
    config["sync_interval"] = server.jetstream_config().sync_interval
                                  ? server.jetstream_config().sync_interval->count()
                                  : 0;
    config["sync_always"] = !server.jetstream_config().sync_interval.has_value();
    j["jetstream"] = {{"config", config}, {"stats", usage.stats}};
  } else {
    j["jetstream"] = json::object();
  }
  j["tls_timeout"] = 2;
  j["write_deadline"] = o.write_deadline.count();
  j["start"] = FormatRfc3339(server.start_time());
  j["now"] = FormatRfc3339(now);
  j["uptime"] = FormatUptime(now - server.start_time());
  j["mem"] = ResidentBytes();
  j["cores"] = std::thread::hardware_concurrency();
  j["gomaxprocs"] = std::thread::hardware_concurrency();
  j["cpu"] = cpu.Percent();
  j["connections"] = std::max<int64_t>(0, server.current_connections.load());
  j["total_connections"] = server.total_connections.load();
  j["routes"] = 0;
  j["remotes"] = 0;
  j["leafnodes"] = 0;
  j["in_msgs"] = totals.in_msgs;
  j["out_msgs"] = totals.out_msgs;
  j["in_bytes"] = totals.in_bytes;
  j["out_bytes"] = totals.out_bytes;
  j["slow_consumers"] = server.slow_consumers.load();
  j["subscriptions"] = server.router().subscription_count();
  {
    std::lock_guard lock(stats_mu);
    json reqs = json::object();
    for (const auto& [p, n] : request_counts) reqs[p] = n;
    j["http_req_stats"] = reqs;
  }
  j["config_load_time"] = FormatRfc3339(server.config_load_time());
  j["system_account"] = "$SYS";
  j["sluice_version"] = SLUICE_VERSION;
  return {http::status::ok, "application/json", j.dump(2)};
}

json Monitor::Impl::ConnectionJson(const ConnectionInfo& c, bool closed, int subs_mode, bool auth,
                                   std::chrono::system_clock::time_point now) {
  json j;
  j["cid"] = c.cid;
  j["kind"] = "Client";
  j["type"] = "nats";
  j["ip"] = c.ip;
  j["port"] = c.port;
  j["start"] = FormatRfc3339(c.start);
  j["last_activity"] = FormatRfc3339(c.last_activity);
  if (closed) {
    j["stop"] = FormatRfc3339(c.stop);
    j["reason"] = c.reason;
  }
  j["rtt"] = FormatGoDuration(c.rtt);
  auto end = closed ? c.stop : now;
  j["uptime"] = FormatUptime(end - c.start);
  j["idle"] = FormatUptime(end - c.last_activity);
  j["pending_bytes"] = c.pending_bytes;
  j["in_msgs"] = c.in_msgs;
  j["out_msgs"] = c.out_msgs;
  j["in_bytes"] = c.in_bytes;
  j["out_bytes"] = c.out_bytes;
  j["subscriptions"] = c.num_subs;
  if (!c.name.empty()) j["name"] = c.name;
  if (!c.lang.empty()) j["lang"] = c.lang;
  if (!c.version.empty()) j["version"] = c.version;
  if (auth && !c.user.empty()) j["authorized_user"] = c.user;
  if (subs_mode == 1 && !c.subs.empty()) {
    json list = json::array();
    for (const auto& s : c.subs) list.push_back(s.subject);
    j["subscriptions_list"] = list;
  } else if (subs_mode == 2 && !c.subs.empty()) {
    json list = json::array();
    for (const auto& s : c.subs) {
      json d;
      d["subject"] = s.subject;
      if (!s.queue.empty()) d["qgroup"] = s.queue;
      d["sid"] = s.sid;
      d["msgs"] = s.msgs;
      if (s.max) d["max"] = s.max;
      d["cid"] = s.cid;
      list.push_back(d);
    }
    j["subscriptions_list_detail"] = list;
  }
  return j;
}

Response Monitor::Impl::Connz(const Query& q) {
  auto now = std::chrono::system_clock::now();
  int subs_mode = 0;
  if (auto it = q.find("subs"); it != q.end()) {
    if (it->second == "detail") {
      subs_mode = 2;
    } else if (it->second == "1" || it->second == "true") {
      subs_mode = 1;
    } else if (!it->second.empty() && it->second != "0" && it->second != "false") {
      return BadRequest("invalid value for subs: " + it->second);
    }
  }
  bool auth = TruthyParam(q, "auth");
  std::string sort = q.count("sort") ? q.at("sort") : "cid";
  static const std::set<std::string> kSorts = {"cid",      "start",      "subs", "pending", "msgs_to", "msgs_from",
                                               "bytes_to", "bytes_from", "last", "idle",    "uptime",  "stop",
                                               "reason",   "rtt"};
  if (!kSorts.count(sort)) return BadRequest("invalid sorting option: " + sort);
  std::string state = q.count("state") ? q.at("state") : "open";
  if (state != "open" && state != "closed" && state != "any" && state != "all")
    return BadRequest("invalid connection state: " + state);
  if ((sort == "stop" || sort == "reason") && state == "open")
    return BadRequest("sort by stop only valid on closed connections");
  auto parse_int = [&](const char* key, int64_t def, int64_t& out) -> bool {
    out = def;
    auto it = q.find(key);
    if (it == q.end() || it->second.empty()) return true;
    try {
      size_t used = 0;
      out = std::stoll(it->second, &used);
      return used == it->second.size() && out >= 0;
    } catch (...) {
      return false;
    }
  };
  int64_t offset = 0, limit = 1024, cid = 0;
  if (!parse_int("offset", 0, offset)) return BadRequest("invalid offset");
  if (!parse_int("limit", 1024, limit)) return BadRequest("invalid limit");
  if (!parse_int("cid", 0, cid)) return BadRequest("invalid cid");

  std::vector<std::pair<ConnectionInfo, bool>> conns;  // info, closed
  if (state != "closed") {
    for (auto& c : server.CollectConnections(subs_mode != 0)) conns.emplace_back(std::move(c), false);
  }
  if (state != "open") {
    for (auto& c : server.ClosedConnections()) conns.emplace_back(std::move(c), true);
  }
  if (cid > 0) {
    conns.erase(std::remove_if(conns.begin(), conns.end(),
                               [cid](const auto& p) { return p.first.cid != static_cast<uint64_t>(cid); }),
                conns.end());
  }
  if (auto it = q.find("user"); it != q.end() && !it->second.empty()) {
    conns.erase(std::remove_if(conns.begin(), conns.end(),
                               [&](const auto& p) { return p.first.user != it->second; }),
                conns.end());
  }
  auto key = [&](const ConnectionInfo& c) -> double {
    if (sort == "start") return std::chrono::duration<double>(c.start.time_since_epoch()).count();
    if (sort == "subs") return static_cast<double>(c.num_subs);
    if (sort == "pending") return static_cast<double>(c.pending_bytes);
    if (sort == "msgs_to") return static_cast<double>(c.out_msgs);
    if (sort == "msgs_from") return static_cast<double>(c.in_msgs);
    if (sort == "bytes_to") return static_cast<double>(c.out_bytes);
    if (sort == "bytes_from") return static_cast<double>(c.in_bytes);
    if (sort == "last") return std::chrono::duration<double>(c.last_activity.time_since_epoch()).count();
    if (sort == "idle") return std::chrono::duration<double>(now - c.last_activity).count();
    if (sort == "uptime") return std::chrono::duration<double>(now - c.start).count();
    if (sort == "stop") return std::chrono::duration<double>(c.stop.time_since_epoch()).count();
    if (sort == "rtt") return static_cast<double>(c.rtt.count());
    return static_cast<double>(c.cid);
  };
  if (sort == "cid" || sort == "start") {
    std::stable_sort(conns.begin(), conns.end(), [&](const auto& a, const auto& b) { return key(a.first) < key(b.first); });
  } else if (sort == "reason") {
    std::stable_sort(conns.begin(), conns.end(), [](const auto& a, const auto& b) { return a.first.reason < b.first.reason; });
  } else {
    // nats-server sorts these descending: the busiest first.
    std::stable_sort(conns.begin(), conns.end(), [&](const auto& a, const auto& b) { return key(a.first) > key(b.first); });
  }
  json j;
  j["server_id"] = server.server_id();
  j["now"] = FormatRfc3339(now);
  size_t total = conns.size();
  json list = json::array();
  for (size_t i = static_cast<size_t>(offset); i < total && list.size() < static_cast<size_t>(limit); ++i) {
    list.push_back(ConnectionJson(conns[i].first, conns[i].second, subs_mode, auth, now));
  }
  j["num_connections"] = list.size();
  j["total"] = total;
  j["offset"] = offset;
  j["limit"] = limit;
  j["connections"] = list;
  return {http::status::ok, "application/json", j.dump(2)};
}

Response Monitor::Impl::Subsz(const Query& q) {
  ServerTotals totals = server.CollectTotals();
  router::Router& router = server.router();
  json j;
  bool want_list = TruthyParam(q, "subs");
  std::string test = q.count("test") ? q.at("test") : "";
  if (!test.empty() && !IsValidLiteralSubject(test)) return BadRequest("invalid test subject, must be valid publish subject: " + test);
  std::vector<SubscriptionInfo> subs;
  if (want_list) {
    for (auto& c : server.CollectConnections(true)) {
      for (auto& s : c.subs) {
        if (!test.empty() && !SubjectMatchesFilter(s.subject, test)) continue;
        subs.push_back(std::move(s));
      }
    }
  }
  uint64_t lookups = totals.cache_hits + totals.cache_misses;
  json stats;
  stats["num_subscriptions"] = router.subscription_count();
  stats["num_cache"] = totals.cache_entries;
  stats["num_inserts"] = router.inserts();
  stats["num_removes"] = router.removes();
  stats["num_matches"] = lookups;
  stats["cache_hit_rate"] = lookups ? static_cast<double>(totals.cache_hits) / static_cast<double>(lookups) : 0.0;
  stats["max_fanout"] = 0;
  stats["avg_fanout"] = 0;
  if (subs.empty()) return {http::status::ok, "application/json", stats.dump(2)};
  int64_t offset = 0, limit = 1024;
  try {
    if (q.count("offset")) offset = std::stoll(q.at("offset"));
    if (q.count("limit")) limit = std::stoll(q.at("limit"));
  } catch (...) {
    return BadRequest("invalid offset or limit");
  }
  j["server_id"] = server.server_id();
  j["now"] = FormatRfc3339(std::chrono::system_clock::now());
  for (auto& [k, v] : stats.items()) j[k] = v;
  j["total"] = subs.size();
  j["offset"] = offset;
  j["limit"] = limit;
  json list = json::array();
  for (size_t i = static_cast<size_t>(std::max<int64_t>(0, offset)); i < subs.size() && list.size() < static_cast<size_t>(std::max<int64_t>(0, limit)); ++i) {
    json d;
    d["account"] = "$G";
    d["subject"] = subs[i].subject;
    if (!subs[i].queue.empty()) d["qgroup"] = subs[i].queue;
    d["sid"] = subs[i].sid;
    d["msgs"] = subs[i].msgs;
    if (subs[i].max) d["max"] = subs[i].max;
    d["cid"] = subs[i].cid;
    list.push_back(d);
  }
  j["subscriptions_list"] = list;
  return {http::status::ok, "application/json", j.dump(2)};
}

Response Monitor::Impl::Healthz() {
  json j;
  if (auto* js = server.jetstream()) {
    std::string problem = js->HealthError();
    if (!problem.empty()) {
      j["status"] = "unavailable";
      j["error"] = problem;
      return {http::status::service_unavailable, "application/json", j.dump()};
    }
  }
  j["status"] = "ok";
  return {http::status::ok, "application/json", j.dump()};
}

Response Monitor::Impl::Jsz() {
  auto now = std::chrono::system_clock::now();
  json j;
  j["server_id"] = server.server_id();
  j["now"] = FormatRfc3339(now);
  auto* js = server.jetstream();
  if (!js) {
    j["disabled"] = true;
    j["config"] = {{"max_memory", 0}, {"max_storage", 0}};
    j["memory"] = 0;
    j["storage"] = 0;
    j["reserved_memory"] = 0;
    j["reserved_storage"] = 0;
    j["accounts"] = 0;
    j["ha_assets"] = 0;
    j["api"] = {{"total", 0}, {"errors", 0}};
    j["streams"] = 0;
    j["consumers"] = 0;
    j["messages"] = 0;
    j["bytes"] = 0;
    return {http::status::ok, "application/json", j.dump(2)};
  }
  JetStreamUsage usage = GetJetStreamUsage(server, *js);
  const auto& st = usage.raw;
  j["config"] = usage.config;
  for (auto& [key, value] : usage.stats.items()) j[key] = value;
  j["streams"] = st.streams;
  j["consumers"] = st.consumers;
  j["messages"] = st.messages;
  j["bytes"] = st.bytes;
  return {http::status::ok, "application/json", j.dump(2)};
}

// Prometheus text, with prometheus-nats-exporter's names (gnatsd_varz_*,
// gnatsd_connz_*) so existing dashboards work, plus sluice_* of our own.
Response Monitor::Impl::Metrics() {
  const ServerOptions& o = server.options();
  ServerTotals t = server.CollectTotals();
  std::string id = server.server_id();
  std::ostringstream out;
  auto metric = [&](const char* name, const char* type, const char* help, double value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
        << name << "{server_id=\"" << id << "\"} " << std::fixed << std::setprecision(0) << value << '\n';
  };
  auto now = std::chrono::system_clock::now();
  metric("gnatsd_varz_connections", "gauge", "Current number of client connections",
         static_cast<double>(std::max<int64_t>(0, server.current_connections.load())));
  metric("gnatsd_varz_total_connections", "counter", "Connections accepted since start",
         static_cast<double>(server.total_connections.load()));
  metric("gnatsd_varz_in_msgs", "counter", "Messages received", static_cast<double>(t.in_msgs));
  metric("gnatsd_varz_out_msgs", "counter", "Messages sent", static_cast<double>(t.out_msgs));
  metric("gnatsd_varz_in_bytes", "counter", "Bytes received", static_cast<double>(t.in_bytes));
  metric("gnatsd_varz_out_bytes", "counter", "Bytes sent", static_cast<double>(t.out_bytes));
  metric("gnatsd_varz_slow_consumers", "counter", "Slow consumers disconnected",
         static_cast<double>(server.slow_consumers.load()));
  metric("gnatsd_varz_subscriptions", "gauge", "Current subscriptions",
         static_cast<double>(server.router().subscription_count()));
  metric("gnatsd_varz_mem", "gauge", "Resident memory in bytes", static_cast<double>(ResidentBytes()));
  metric("gnatsd_varz_max_payload", "gauge", "max_payload", static_cast<double>(o.max_payload));
  metric("gnatsd_varz_max_connections", "gauge", "max_connections", static_cast<double>(o.max_connections));
  metric("gnatsd_varz_max_pending", "gauge", "max_pending", static_cast<double>(o.max_pending));
  metric("gnatsd_varz_uptime", "counter", "Seconds since start",
         std::chrono::duration<double>(now - server.start_time()).count());
  metric("gnatsd_connz_num_connections", "gauge", "Open client connections",
         static_cast<double>(std::max<int64_t>(0, server.current_connections.load())));
  if (auto* js = server.jetstream()) {
    auto st = js->GetStats();
    metric("jetstream_server_total_streams", "gauge", "Streams", static_cast<double>(st.streams));
    metric("jetstream_server_total_consumers", "gauge", "Consumers", static_cast<double>(st.consumers));
    metric("jetstream_server_total_messages", "gauge", "Messages stored", static_cast<double>(st.messages));
    metric("jetstream_server_total_message_bytes", "gauge", "Bytes stored", static_cast<double>(st.bytes));
    metric("jetstream_server_max_memory", "gauge", "JetStream memory limit",
           static_cast<double>(server.jetstream_config().max_memory));
    metric("jetstream_server_max_storage", "gauge", "JetStream storage limit",
           static_cast<double>(server.jetstream_config().max_storage));
  }
  metric("sluice_subject_cache_hits_total", "counter", "Match cache hits", static_cast<double>(t.cache_hits));
  metric("sluice_subject_cache_misses_total", "counter", "Match cache misses", static_cast<double>(t.cache_misses));
  return {http::status::ok, "text/plain; version=0.0.4; charset=utf-8", out.str()};
}

}  // namespace sluice::server
