#include "transcript.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

#include "raw_client.h"

namespace sluice::difftest {
namespace {

using namespace std::chrono_literals;
using testing::RawClient;
using testing::ServerKind;
using testing::ServerProcess;

constexpr auto kWait = 5s;

bool StartsWith(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

std::vector<std::string> SplitBlanks(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool ParseSize(const std::string& s, size_t* out) {
  if (s.empty() || s.size() > 12) return false;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  *out = v;
  return true;
}

bool IsMsgLine(const std::string& line) { return StartsWith(line, "MSG ") || StartsWith(line, "HMSG "); }

// The documented 2.9.10-vs-2.11 difference: 2.9.10 writes server-generated
// messages without a reply subject as "MSG <subj> <sid>  <len>" (two spaces).
std::string CollapseDoubleSpaces(std::string line) {
  std::string out;
  for (char c : line) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
  return out;
}

std::string JsonType(const nlohmann::json& v) {
  if (v.is_number_integer()) return "integer";  // signed and unsigned alike
  return v.type_name();
}

class Runner {
 public:
  Runner(const Scenario& sc, bool split, bool reference, RunResult* out)
      : sc_(sc), split_(split), reference_(reference), out_(out) {}

  void Run(int port) {
    port_ = port;
    for (const Step& st : sc_.steps) RunStep(st);
  }

 private:
  RawClient* Conn(int k) {
    auto& c = conns_[k];
    if (!c) c = std::make_unique<RawClient>();
    return c.get();
  }

  void Record(int k, const std::string& raw) {
    std::string norm = Normalise(raw, reference_, &out_->infos);
    RecordNormalised(k, norm);
  }
  void RecordNormalised(int k, const std::string& norm) {
    out_->per_conn[k] += norm;
    out_->combined += "[" + std::to_string(k) + "] " + Escape(norm) + "\n";
  }

  void SendBytes(int k, const std::string& data) {
    RawClient* c = Conn(k);
    if (!split_) {
      c->Send(data);
      return;
    }
    // One byte per write; very large sends go in odd-sized chunks instead.
    const size_t chunk = data.size() > 8192 ? 4093 : 1;
    for (size_t i = 0; i < data.size(); i += chunk) {
      if (!c->Send(std::string_view(data).substr(i, chunk))) return;
    }
  }

  std::string Missing(RawClient* c, const char* what) {
    std::string got = c->TakeBuffered();
    return got + (c->closed_by_peer() ? "<closed>" : std::string("<timeout: ") + what + ">");
  }

  void Await(int k, const std::string& needle) {
    RawClient* c = Conn(k);
    std::string got = c->ReadUntil(needle, kWait);
    if (got.empty()) got = Missing(c, "awaited bytes did not arrive");
    Record(k, got);
  }

  bool Open(int k, std::string* info) {
    RawClient* c = Conn(k);
    if (!c->Connect(port_)) {
      *info = "<connect failed>";
      return false;
    }
    *info = c->ReadLine(kWait);
    if (info->empty()) {
      *info = Missing(c, "no INFO");
      return false;
    }
    return true;
  }

  void RunStep(const Step& st) {
    const int k = st.conn;
    switch (st.kind) {
      case Step::Kind::kOpen: {
        std::string info;
        Open(k, &info);
        Record(k, info);
        break;
      }
      case Step::Kind::kOpenAccepted: {
        // Polls: nothing signals that the server has forgotten an earlier,
        // already closed connection (e.g. ServerProcess's start-up probe).
        auto deadline = std::chrono::steady_clock::now() + 10s;
        std::string got;
        while (true) {
          std::string info;
          if (Open(k, &info)) {
            Conn(k)->Send("PING\r\n");
            std::string pong = Conn(k)->ReadUntil("PONG\r\n", kWait);
            if (!pong.empty()) {
              got = info + pong;
              break;
            }
          }
          if (std::chrono::steady_clock::now() > deadline) {
            got = info + "<never accepted>";
            break;
          }
          Conn(k)->Close();
          std::this_thread::sleep_for(20ms);
        }
        Record(k, got);
        break;
      }
      case Step::Kind::kSend:
        SendBytes(k, st.data);
        break;
      case Step::Kind::kAwait:
        Await(k, st.data);
        break;
      case Step::Kind::kSync:
        SendBytes(k, "PING\r\n");
        Await(k, "PONG\r\n");
        break;
      case Step::Kind::kFrames: {
        RawClient* c = Conn(k);
        std::vector<std::string> frames;
        std::string tail;
        for (int i = 0; i < st.count; ++i) {
          std::string line = c->ReadUntil("\r\n", kWait);
          if (line.empty()) {
            tail = Missing(c, "fewer frames than expected");
            break;
          }
          std::string head = line.substr(0, line.size() - 2);
          std::string payload;
          if (IsMsgLine(head)) {
            auto tok = SplitBlanks(head);
            size_t n = 0;
            if (tok.size() >= 4 && ParseSize(tok.back(), &n)) {
              payload = c->ReadBytes(n + 2, kWait);
              if (payload.empty()) {
                tail = Missing(c, "payload did not arrive");
                frames.push_back(Normalise(line, reference_, &out_->infos));
                break;
              }
              auto alias = st.sid_alias.find(tok[2]);
              if (alias != st.sid_alias.end()) {
                // Rebuild the line with the sid replaced, keeping the spacing.
                size_t pos = head.find(' ', head.find(' ') + 1);  // after the subject
                while (pos < head.size() && head[pos] == ' ') ++pos;
                head.replace(pos, tok[2].size(), alias->second);
                line = head + "\r\n";
              }
            }
          }
          frames.push_back(Normalise(line + payload, reference_, &out_->infos));
        }
        std::sort(frames.begin(), frames.end());
        std::string all;
        for (auto& f : frames) all += f;
        all += Normalise(tail, reference_, &out_->infos);
        RecordNormalised(k, all);
        break;
      }
      case Step::Kind::kClosed: {
        RawClient* c = Conn(k);
        std::string got = c->ReadUntilClosed(kWait);
        got += c->closed_by_peer() ? "<closed>" : "<still open>";
        Record(k, got);
        break;
      }
      case Step::Kind::kClose:
        Conn(k)->Close();
        out_->combined += "[" + std::to_string(k) + "] (client closes)\n";
        break;
    }
  }

  const Scenario& sc_;
  bool split_;
  bool reference_;
  RunResult* out_;
  int port_ = 0;
  std::map<int, std::unique_ptr<RawClient>> conns_;
};

}  // namespace

std::string Normalise(const std::string& raw, bool reference, std::vector<nlohmann::json>* infos) {
  std::string out;
  size_t i = 0;
  while (i < raw.size()) {
    size_t eol = raw.find("\r\n", i);
    if (eol == std::string::npos) {
      out += raw.substr(i);
      break;
    }
    std::string line = raw.substr(i, eol - i);
    i = eol + 2;
    if (StartsWith(line, "INFO ")) {
      size_t open = line.find('{');
      size_t close = line.rfind('}');
      if (open != std::string::npos && close != std::string::npos && close > open) {
        auto j = nlohmann::json::parse(line.substr(open, close - open + 1), nullptr, false);
        if (!j.is_discarded()) {
          infos->push_back(j);
          out += line.substr(0, open) + "{...}" + line.substr(close + 1) + "\r\n";
          continue;
        }
      }
      infos->push_back(nlohmann::json());  // unparsable: compared as null
      out += line + "\r\n";
      continue;
    }
    if (IsMsgLine(line)) {
      auto tok = SplitBlanks(line);
      size_t n = 0;
      out += (reference ? CollapseDoubleSpaces(line) : line) + "\r\n";
      if (tok.size() >= 4 && ParseSize(tok.back(), &n)) {
        size_t take = std::min(n + 2, raw.size() - i);
        out += raw.substr(i, take);
        i += take;
      }
      continue;
    }
    out += line + "\r\n";
  }
  return out;
}

std::string Escape(const std::string& raw) {
  std::string out;
  for (size_t i = 0; i < raw.size();) {
    size_t run = 1;
    while (i + run < raw.size() && raw[i + run] == raw[i]) ++run;
    unsigned char c = static_cast<unsigned char>(raw[i]);
    std::string one;
    if (c == '\r') one = "\\r";
    else if (c == '\n') one = "\\n";
    else if (c == '\t') one = "\\t";
    else if (c == '\\') one = "\\\\";
    else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      one = buf;
    } else one = std::string(1, static_cast<char>(c));
    if (run > 12) {
      out += "<" + one + " x" + std::to_string(run) + ">";
      i += run;
    } else {
      out += one;
      ++i;
    }
  }
  return out;
}

std::vector<std::string> CompareInfo(const nlohmann::json& reference, const nlohmann::json& candidate) {
  // Values that differ from run to run or from server to server.
  static const std::set<std::string> kVolatile = {"server_id", "server_name", "version", "go",   "git_commit",
                                                  "client_id", "client_ip",   "host",    "port", "nonce"};
  // INFO keys documented as differing between 2.9.10 and 2.11 for a plain client
  // connection: none (2.10's `xkey` needs auth callout; `compression` is route/leaf only).
  static const std::set<std::string> kVersionDifferences = {};
  std::vector<std::string> problems;
  if (!reference.is_object()) {
    problems.push_back("reference INFO is not a JSON object");
    return problems;
  }
  if (!candidate.is_object()) {
    problems.push_back("Sluice INFO is not a JSON object: " + candidate.dump());
    return problems;
  }
  for (auto it = reference.begin(); it != reference.end(); ++it) {
    const std::string& key = it.key();
    if (kVersionDifferences.count(key)) continue;
    if (!candidate.contains(key)) {
      problems.push_back("INFO lacks \"" + key + "\" (nats-server sends " + it.value().dump() + ")");
      continue;
    }
    const auto& got = candidate[key];
    if (JsonType(got) != JsonType(it.value())) {
      problems.push_back("INFO \"" + key + "\" has type " + JsonType(got) + ", nats-server's is " +
                         JsonType(it.value()));
      continue;
    }
    if (!kVolatile.count(key) && got != it.value()) {
      problems.push_back("INFO \"" + key + "\" is " + got.dump() + ", nats-server sends " + it.value().dump());
    }
  }
  return problems;
}

RunResult RunScenario(ServerKind kind, const Scenario& sc, bool split, bool reference) {
  RunResult result;
  std::vector<std::string> args;
  std::string conf_dir;
  if (!sc.config.empty()) {
    char tmpl[] = "/tmp/sluice-diff-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      result.error = "mkdtemp failed";
      return result;
    }
    conf_dir = tmpl;
    std::ofstream(conf_dir + "/server.conf") << sc.config;
    args = {"-c", conf_dir + "/server.conf"};
  }
  {
    auto server = ServerProcess::Start(kind, args);
    if (!server) {
      result.error = std::string("could not start ") + testing::ServerKindName(kind);
    } else {
      result.started = true;
      Runner runner(sc, split, reference, &result);
      runner.Run(server->port());
      // The runner's connections are closed here, before the server stops.
    }
  }
  if (!conf_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(conf_dir, ec);
  }
  return result;
}

}  // namespace sluice::difftest
