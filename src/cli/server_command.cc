// sluice server info  [--monitor URL]   GET /varz, a summary (or the JSON with --json)
// sluice server check [--monitor URL]   GET /healthz, exit 0 when healthy, 1 when not
#include <fmt/format.h>

#include <ctime>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "http_get.h"
#include "message_output.h"
#include "progress_line.h"

namespace sluice::cli {
namespace {

constexpr const char* kDefaultMonitor = "http://127.0.0.1:8222";

struct ServerOptions {
  std::string monitor = kDefaultMonitor;
};

std::string HumanBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

// "2d3h4m5s" and the like from /varz's "uptime" or from start/now.
std::string Uptime(const nlohmann::ordered_json& varz) {
  if (varz.contains("uptime") && varz["uptime"].is_string()) return varz["uptime"].get<std::string>();
  return "";
}

nlohmann::ordered_json GetJson(const std::string& monitor, const char* path, const GlobalOptions& global, int* status) {
  HttpResponse r = HttpGet(monitor, path, global.Timeout());
  *status = r.status;
  auto j = nlohmann::ordered_json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    throw CliError(fmt::format("{}{}: HTTP {} and not JSON: {}", monitor, path, r.status, r.body.substr(0, 200)));
  }
  return j;
}

int RunInfo(const GlobalOptions& global, const ServerOptions& o) {
  int status = 0;
  nlohmann::ordered_json varz = GetJson(o.monitor, "/varz", global, &status);
  if (status != 200) throw CliError(fmt::format("{}/varz: HTTP {}", o.monitor, status));
  if (global.json) {
    std::printf("%s\n", varz.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
    return 0;
  }
  auto str = [&](const char* key) -> std::string {
    if (!varz.contains(key)) return "";
    const auto& v = varz[key];
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
  };
  auto num = [&](const char* key) -> std::string {
    if (!varz.contains(key) || !varz[key].is_number()) return "";
    if (varz[key].is_number_float()) return fmt::format("{:.1f}", varz[key].get<double>());
    return WithThousands(varz[key].get<uint64_t>());
  };
  std::string out = str("server_name") == str("server_id") || str("server_name").empty()
                        ? fmt::format("Server information for {}\n\n", str("server_id"))
                        : fmt::format("Server information for {} ({})\n\n", str("server_name"), str("server_id"));
  auto line = [&](const char* label, const std::string& value) {
    if (!value.empty()) out += fmt::format("  {:>18}: {}\n", label, value);
  };
  line("Version", str("version"));
  line("Sluice version", str("sluice_version"));
  line("Go", str("go"));
  if (varz.contains("host")) line("Client URL", fmt::format("{}:{}", str("host"), str("port")));
  line("Started", str("start"));
  line("Uptime", Uptime(varz));
  line("Max payload", varz.contains("max_payload") && varz["max_payload"].is_number()
                          ? HumanBytes(varz["max_payload"].get<double>())
                          : "");
  line("Auth required", str("auth_required"));
  line("JetStream", varz.contains("jetstream") && varz["jetstream"].is_object() &&
                            varz["jetstream"].contains("config")
                        ? "enabled"
                        : (varz.contains("jetstream") ? "disabled" : ""));
  out += "\n";
  line("Connections", num("connections"));
  line("Total connections", num("total_connections"));
  line("Subscriptions", num("subscriptions"));
  line("Messages in", num("in_msgs"));
  line("Messages out", num("out_msgs"));
  line("Bytes in", varz.contains("in_bytes") && varz["in_bytes"].is_number()
                       ? HumanBytes(varz["in_bytes"].get<double>())
                       : "");
  line("Bytes out", varz.contains("out_bytes") && varz["out_bytes"].is_number()
                        ? HumanBytes(varz["out_bytes"].get<double>())
                        : "");
  line("Slow consumers", num("slow_consumers"));
  line("Memory", varz.contains("mem") && varz["mem"].is_number() ? HumanBytes(varz["mem"].get<double>()) : "");
  line("CPU %", num("cpu"));
  std::fputs(out.c_str(), stdout);
  return 0;
}

int RunCheck(const GlobalOptions& global, const ServerOptions& o) {
  std::string url = o.monitor;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.find("://") == std::string::npos) url = "http://" + url;
  url += "/healthz";
  int http_status = 0;
  nlohmann::ordered_json body = GetJson(o.monitor, "/healthz", global, &http_status);
  std::string status = body.contains("status") && body["status"].is_string() ? body["status"].get<std::string>() : "";
  std::string error = body.contains("error") && body["error"].is_string() ? body["error"].get<std::string>() : "";
  const bool healthy = http_status == 200 && status == "ok";
  if (global.json) {
    nlohmann::ordered_json j{{"url", url}, {"healthy", healthy}, {"http_status", http_status}, {"status", status}};
    if (!error.empty()) j["error"] = error;
    std::printf("%s\n", JsonLine(j).c_str());
  } else if (healthy) {
    std::printf("OK: %s: status ok\n", url.c_str());
  } else {
    std::printf("CRITICAL: %s: HTTP %d, status %s%s%s\n", url.c_str(), http_status,
                status.empty() ? "(none)" : status.c_str(), error.empty() ? "" : ": ", error.c_str());
  }
  return healthy ? 0 : kExitFailure;
}

}  // namespace

void AddServerCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  CLI::App* server = app.add_subcommand("server", "ask a server's monitoring port about its state");
  RequireOneOf(*server, "info, check");
  auto add = [&](const char* name, const char* help, int (*run)(const GlobalOptions&, const ServerOptions&)) {
    auto o = std::make_shared<ServerOptions>();
    CLI::App* cmd = server->add_subcommand(name, help);
    cmd->add_option("--monitor", o->monitor, "monitoring URL of the server")->capture_default_str();
    RunOnSelect(cmd, global, action, o, run);
  };
  add("info", "general information from /varz", RunInfo);
  add("check", "health from /healthz: exit 0 when healthy, 1 when not", RunCheck);
}

}  // namespace sluice::cli
