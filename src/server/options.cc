#include "server/options.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>

#include "server/config_loader.h"

namespace sluice::server {
namespace {

// nats-server uses Go's flag package: every flag may be written with one dash
// or two, with "=value" or a separate value. CLI11 wants "--long" for names
// longer than one letter, so rewrite those first. Combined verbosity flags
// (-DV, -DVV, -VV) expand to their parts.
std::vector<std::string> NormalizeGoFlags(int argc, char** argv) {
  static const std::map<std::string, std::vector<std::string>> kCombined = {
      {"-DV", {"-D", "-V"}}, {"-DVV", {"-D", "-V"}}, {"-VV", {"-V"}}, {"-js", {"--jetstream"}},
      {"-sd", {"--store_dir"}}};
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (arg.size() > 2 && arg[0] == '-' && arg[1] != '-') {
      size_t eq = arg.find('=');
      std::string name = eq == std::string::npos ? arg : arg.substr(0, eq);
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        has_value = true;
      }
      auto combined = kCombined.find(name);
      if (combined != kCombined.end()) {
        for (size_t k = 0; k < combined->second.size(); ++k) {
          out.push_back(combined->second[k]);
        }
        if (has_value) out.push_back(value);
        continue;
      }
      if (name.size() > 2) {
        // -port 4222, -user x: a long name with one dash.
        out.push_back("-" + name);
        if (has_value) out.push_back(value);
        continue;
      }
      // -p=4222
      out.push_back(name);
      if (has_value) out.push_back(value);
      continue;
    }
    out.push_back(arg);
  }
  return out;
}


}  // namespace

std::optional<ServerOptions> ParseCommandLine(int argc, char** argv, int& exit_code) {
  ServerOptions opts;
  CLI::App app{"sluice-server: a NATS-compatible message broker with durable JetStream", "sluice-server"};
  app.set_help_flag("-h,--help", "Show this message");
  bool show_version = false;
  app.add_flag("-v,--version", show_version, "Show version");

  std::optional<int> port;
  std::optional<std::string> host, name, log_file, store_dir, user, pass, token, config;
  std::optional<int64_t> max_payload, http_port;
  bool debug = false, trace = false, jetstream = false;
  app.add_option("-p,--port", port, "Port to listen on (-1 for a random port)");
  app.add_option("-a,--addr,--net", host, "Network host to listen on");
  app.add_option("-n,--name,--server_name", name, "Server name");
  app.add_option("-m,--http_port", http_port, "HTTP monitoring port");
  app.add_option("-c,--config", config, "Configuration file");
  app.add_flag("-t", opts.check_config_only, "Test the configuration and exit");
  app.add_flag("-D,--debug", debug, "Enable debug logging");
  app.add_flag("-V,--trace", trace, "Enable protocol trace logging");
  app.add_option("-l,--log", log_file, "File to redirect log output to");
  app.add_option("--max_payload", max_payload, "Maximum message payload in bytes");
  app.add_flag("--jetstream", jetstream, "Enable JetStream (-js)");
  app.add_option("--store_dir", store_dir, "JetStream storage directory (-sd)");
  app.add_option("--user", user, "User required for connections");
  app.add_option("--pass", pass, "Password required for connections");
  app.add_option("--auth", token, "Authorization token required for connections");
  app.add_option("--event_loops", opts.event_loops, "Event-loop threads (default: one per core)");

  std::vector<std::string> args = NormalizeGoFlags(argc, argv);
  std::reverse(args.begin(), args.end());  // CLI11 takes them in reverse
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    exit_code = app.exit(e);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "sluice-server: %s\nRun 'sluice-server -h' for the list of flags.\n", e.what());
    exit_code = 1;
    return std::nullopt;
  }
  if (show_version) {
    std::printf("sluice-server: v%s (NATS protocol compatible with nats-server v2.11.0)\n", SLUICE_VERSION);
    exit_code = 0;
    return std::nullopt;
  }

  // The file first, then the flags over it.
  if (config) {
    opts.config_file = *config;
    std::string error = ApplyConfigFile(*config, opts);
    if (!error.empty()) {
      std::fprintf(stderr, "sluice-server: %s\n", error.c_str());
      exit_code = 1;
      return std::nullopt;
    }
  }
  if (port) opts.port = *port;
  if (host) opts.host = *host;
  if (name) opts.server_name = *name;
  if (http_port) opts.http_port = static_cast<int>(*http_port);
  if (debug) opts.debug = true;
  if (trace) opts.trace = true;
  if (log_file) opts.log_file = *log_file;
  if (max_payload) opts.max_payload = *max_payload;
  if (jetstream) opts.jetstream = true;
  if (store_dir) opts.store_dir = *store_dir;
  if (user) opts.auth.user = *user;
  if (pass) opts.auth.password = *pass;
  if (token) opts.auth.token = *token;

  opts.auth_timeout = opts.auth.timeout;
  std::string error = ValidateOptions(opts);
  if (!error.empty()) {
    std::fprintf(stderr, "sluice-server: %s\n", error.c_str());
    exit_code = 1;
    return std::nullopt;
  }
  if (opts.check_config_only) {
    std::printf("sluice-server: configuration is valid\n");
    exit_code = 0;
    return std::nullopt;
  }
  return opts;
}

std::string FirstNonReloadableChange(const ServerOptions& a, const ServerOptions& b) {
  if (a.host != b.host) return "host";
  if (a.port != b.port) return "port";
  if (a.http_port != b.http_port) return "http_port";
  if (a.jetstream != b.jetstream) return "jetstream";
  if (a.store_dir != b.store_dir) return "store_dir";
  if (a.server_name != b.server_name) return "server_name";
  if (a.log_file != b.log_file) return "logfile";
  if (a.event_loops != b.event_loops) return "event_loops";
  return "";
}

std::string ValidateOptions(const ServerOptions& o) {
  if (o.port < -1 || o.port > 65535) return "invalid port " + std::to_string(o.port) + ": must be -1 to 65535";
  if (o.http_port < -1 || o.http_port > 65535) return "invalid monitoring port " + std::to_string(o.http_port);
  if (o.max_payload <= 0) return "max_payload must be positive";
  if (o.max_payload > o.max_pending)
    return "max_payload (" + std::to_string(o.max_payload) + ") cannot be higher than max_pending (" +
           std::to_string(o.max_pending) + ")";
  if (o.max_control_line <= 0) return "max_control_line must be positive";
  if (o.max_connections < 0) return "max_connections cannot be negative";
  if (o.max_subscriptions < 0) return "max_subscriptions cannot be negative";
  if (o.ping_interval.count() <= 0) return "ping_interval must be positive";
  if (o.ping_max <= 0) return "ping_max must be positive";
  if (o.write_deadline.count() <= 0) return "write_deadline must be positive";
  if (!o.auth.user.empty() && o.auth.password.empty()) return "--user requires --pass";
  if (o.auth.user.empty() && !o.auth.password.empty()) return "--pass requires --user";
  {
    std::string auth_error;
    if (!auth::ValidateAuthConfig(o.auth, auth_error)) return auth_error;
  }
  if (o.event_loops < 0 || o.event_loops > 256) return "event_loops must be 0 to 256";
  if (!o.store_dir.empty() && o.store_dir.find('\0') != std::string::npos) return "invalid store_dir";
  return "";
}

}  // namespace sluice::server
