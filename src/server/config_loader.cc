#include "server/config_loader.h"

#include <set>

#ifdef SLUICE_HAVE_CONFIG
#include "config/config_file.h"

namespace sluice::server {
namespace {

using config::Value;

std::string Where(const config::Position& p) {
  return p.file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": ";
}

// Keys nats-server knows that Sluice refuses until it implements them: running
// without them silently (TLS above all) would mislead the operator.
const std::set<std::string>& UnsupportedKeys() {
  static const std::set<std::string> keys = {
      "tls", "cluster", "leafnodes", "leaf", "gateway", "gateways", "accounts", "mqtt", "websocket", "ws",
      "operator", "operators", "resolver", "resolver_preload", "system_account", "system", "trusted",
      "trusted_keys", "https_port", "https", "ocsp", "nkey", "nkeys", "no_system_account", "lame_duck_duration",
      "lame_duck_grace_period", "pid_file", "ports_file_dir", "syslog", "remote_syslog", "default_js_domain",
      "jetstream_max_memory", "jetstream_max_store"};
  return keys;
}

bool ToInt(const Value& v, const std::string& key, int64_t& out, std::string& error) {
  if (v.kind != Value::Kind::kInteger) {
    error = Where(v.key_position) + "invalid value for \"" + key + "\": expected an integer";
    return false;
  }
  out = v.integer;
  return true;
}

bool ToBool(const Value& v, const std::string& key, bool& out, std::string& error) {
  if (v.kind != Value::Kind::kBool) {
    error = Where(v.key_position) + "invalid value for \"" + key + "\": expected true or false";
    return false;
  }
  out = v.boolean;
  return true;
}

bool ToString(const Value& v, const std::string& key, std::string& out, std::string& error) {
  if (v.kind == Value::Kind::kString) {
    out = v.string;
    return true;
  }
  if (v.kind == Value::Kind::kInteger) {  // e.g. server_name: 1
    out = std::to_string(v.integer);
    return true;
  }
  error = Where(v.key_position) + "invalid value for \"" + key + "\": expected a string";
  return false;
}

bool ToDurationKey(const Value& v, const std::string& key, std::chrono::nanoseconds& out, std::string& error) {
  std::string warning;
  if (!config::ToDuration(v, key, out, warning, error)) {
    if (error.find(':') == std::string::npos) error = Where(v.position) + error;
    return false;
  }
  if (!warning.empty()) std::fprintf(stderr, "sluice-server: warning: %s\n", warning.c_str());
  return true;
}

bool ApplyJetStream(const Value& v, ServerOptions& o, std::string& error) {
  if (v.kind == Value::Kind::kBool) {
    o.jetstream = v.boolean;
    return true;
  }
  if (v.kind == Value::Kind::kString) {
    if (v.string == "enabled" || v.string == "enable") {
      o.jetstream = true;
      return true;
    }
    if (v.string == "disabled" || v.string == "disable") {
      o.jetstream = false;
      return true;
    }
    error = Where(v.key_position) + "invalid value for \"jetstream\": " + v.string;
    return false;
  }
  if (v.kind != Value::Kind::kMap) {
    error = Where(v.position) + "\"jetstream\" must be a block or enabled/disabled";
    return false;
  }
  o.jetstream = true;
  for (size_t i = 0; i < v.map.size(); ++i) {
    const auto& [key, item] = v.map[i];
    if (key == "store_dir" || key == "store" || key == "storedir") {
      if (!ToString(item, key, o.store_dir, error)) return false;
    } else if (key == "enabled" || key == "enable") {
      if (!ToBool(item, key, o.jetstream, error)) return false;
    } else if (key == "max_mem" || key == "max_memory_store" || key == "max_mem_store") {
      if (!config::ToSize(item, o.js_max_memory, error)) return false;
    } else if (key == "max_file" || key == "max_file_store") {
      if (!config::ToSize(item, o.js_max_storage, error)) return false;
    } else if (key == "sync_interval" || key == "sync") {
      if (item.kind == Value::Kind::kString && item.string == "always") {
        o.js_sync_interval.reset();
      } else {
        std::chrono::nanoseconds d{0};
        if (!ToDurationKey(item, key, d, error)) return false;
        if (d.count() <= 0) {
          error = Where(item.key_position) + "sync_interval must be \"always\" or a positive duration";
          return false;
        }
        o.js_sync_interval = d;
      }
    } else if (key == "domain") {
      if (!ToString(item, key, o.js_domain, error)) return false;
    } else if (key == "max_outstanding_catchup") {
      // Clustering only; accepted and unused on a single server.
    } else {
      error = Where(v.key_positions[i]) + "unknown field \"" + key + "\" in jetstream";
      return false;
    }
  }
  return true;
}

}  // namespace

std::string ApplyConfigFile(const std::string& path, ServerOptions& o) {
  Value root;
  std::string error;
  config::ParseOptions parse_options;
  parse_options.keep_referenced_variables = true;  // `port: 4222` + `x: $port` keeps the port
  if (!config::ParseFile(path, root, error, parse_options)) return error;
  if (root.kind != Value::Kind::kMap) return path + ": not a configuration";

  for (size_t i = 0; i < root.map.size(); ++i) {
    const auto& [key, v] = root.map[i];
    const config::Position& kp = root.key_positions[i];
    bool ok = true;
    int64_t n = 0;
    if (key == "port") {
      ok = ToInt(v, key, n, error);
      o.port = static_cast<int>(n);
    } else if (key == "host" || key == "net" || key == "addr") {
      ok = ToString(v, key, o.host, error);
    } else if (key == "listen") {
      std::string listen;
      ok = ToString(v, key, listen, error);
      if (ok) {
        size_t colon = listen.rfind(':');
        if (colon == std::string::npos) {
          error = Where(v.position) + "invalid listen address \"" + listen + "\"";
          ok = false;
        } else {
          if (colon > 0) o.host = listen.substr(0, colon);
          try {
            o.port = std::stoi(listen.substr(colon + 1));
          } catch (...) {
            error = Where(v.position) + "invalid listen port in \"" + listen + "\"";
            ok = false;
          }
        }
      }
    } else if (key == "server_name") {
      ok = ToString(v, key, o.server_name, error);
    } else if (key == "http_port" || key == "monitor_port") {
      ok = ToInt(v, key, n, error);
      o.http_port = static_cast<int>(n);
    } else if (key == "max_payload") {
      ok = config::ToSize(v, o.max_payload, error);
    } else if (key == "max_pending") {
      ok = config::ToSize(v, o.max_pending, error);
    } else if (key == "max_connections" || key == "max_conn") {
      ok = ToInt(v, key, o.max_connections, error);
    } else if (key == "max_subscriptions" || key == "max_subs") {
      ok = ToInt(v, key, o.max_subscriptions, error);
    } else if (key == "max_control_line") {
      ok = config::ToSize(v, o.max_control_line, error);
    } else if (key == "ping_interval") {
      ok = ToDurationKey(v, key, o.ping_interval, error);
    } else if (key == "ping_max") {
      ok = ToInt(v, key, o.ping_max, error);
    } else if (key == "write_deadline") {
      ok = ToDurationKey(v, key, o.write_deadline, error);
    } else if (key == "debug") {
      ok = ToBool(v, key, o.debug, error);
    } else if (key == "trace") {
      ok = ToBool(v, key, o.trace, error);
    } else if (key == "logtime") {
      ok = ToBool(v, key, o.logtime, error);
    } else if (key == "logfile" || key == "log_file") {
      ok = ToString(v, key, o.log_file, error);
    } else if (key == "authorization") {
      std::string saved_no_auth_user = o.auth.no_auth_user;
      ok = auth::ParseAuthorization(v, o.auth, error);
      if (o.auth.no_auth_user.empty()) o.auth.no_auth_user = saved_no_auth_user;
    } else if (key == "no_auth_user") {
      ok = ToString(v, key, o.auth.no_auth_user, error);
    } else if (key == "jetstream") {
      ok = ApplyJetStream(v, o, error);
    } else if (v.referenced) {
      // A variable definition used elsewhere: not a key.
    } else if (UnsupportedKeys().count(key)) {
      error = Where(kp) + "\"" + key + "\" is not supported yet by sluice-server";
      ok = false;
    } else {
      error = Where(kp) + "unknown field \"" + key + "\"";
      ok = false;
    }
    if (!ok) {
      if (error.empty()) error = Where(v.key_position) + "invalid value for \"" + key + "\"";
      return error;
    }
  }
  return "";
}

}  // namespace sluice::server
#else
namespace sluice::server {
std::string ApplyConfigFile(const std::string& path, ServerOptions&) {
  return path + ": configuration files are not supported in this build";
}
}  // namespace sluice::server
#endif
