// sluice stream add <name> [--subjects a,b] [--storage file|memory] [--retention limits|interest|workqueue]
//                          [--max-msgs N] [--max-bytes SIZE] [--max-age D] [--max-msg-size SIZE]
//                          [--max-msgs-per-subject N] [--discard old|new] [--dupe-window D] [--replicas N]
//                          [--allow-rollup] [--deny-delete] [--deny-purge] [--allow-direct] [--description T]
// sluice stream ls [--subject filter] [--names]
// sluice stream info <name>
// sluice stream rm <name> [-f]
// sluice stream purge <name> [--subject s] [--seq n | --keep n] [-f]
// sluice stream get <name> <seq> | --last-for <subject>
//
// All through the JetStream JSON API (js_api.h). With --json: add and info
// print the StreamInfo, ls an array of StreamInfo (of names with --names),
// get the message, rm and purge a small result object.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <memory>

#include "commands.h"
#include "connection.h"
#include "js_api.h"
#include "js_output.h"
#include "message_output.h"
#include "progress_line.h"

namespace sluice::cli {
namespace {

struct StreamOptions {
  std::string name;
  // add
  std::vector<std::string> subjects;
  std::string storage = "file";
  std::string retention = "limits";
  int64_t max_msgs = -1;
  std::string max_bytes = "-1";
  std::string max_age;
  std::string max_msg_size = "-1";
  int64_t max_msgs_per_subject = -1;
  std::string discard = "old";
  std::string dupe_window;
  int replicas = 1;
  bool allow_rollup = false, deny_delete = false, deny_purge = false, allow_direct = false;
  std::string description;
  // ls
  std::string subject_filter;
  bool names_only = false;
  // rm, purge
  bool force = false;
  std::string purge_subject;
  std::optional<uint64_t> purge_seq, purge_keep;
  // get
  std::optional<uint64_t> seq;
  std::string last_for;
};

std::string Limit(const ojson& cfg, const char* key, bool bytes) {
  if (!cfg.contains(key) || !cfg[key].is_number()) return "unlimited";
  int64_t v = cfg[key].get<int64_t>();
  if (v <= 0) return "unlimited";
  return bytes ? FormatBytes(static_cast<double>(v)) : WithThousands(static_cast<uint64_t>(v));
}

// Config and state of a StreamInfo, for add and info.
std::string DescribeStream(const ojson& info) {
  const ojson cfg = info.value("config", ojson::object());
  const ojson state = info.value("state", ojson::object());
  std::string out = fmt::format("Stream {} (created {})\n\nConfiguration:\n", Str(cfg, "name"), Str(info, "created", "?"));
  if (!Str(cfg, "description").empty()) Row(out, "Description", Str(cfg, "description"));
  Row(out, "Subjects", cfg.contains("subjects") ? Joined(cfg["subjects"], ", ") : "");
  Row(out, "Storage", Str(cfg, "storage", "file"));
  Row(out, "Retention", Str(cfg, "retention", "limits"));
  Row(out, "Replicas", std::to_string(Num(cfg, "num_replicas")));
  Row(out, "Discard policy", Str(cfg, "discard", "old"));
  Row(out, "Duplicate window", FormatGoDuration(cfg.value("duplicate_window", int64_t{0})));
  Row(out, "Maximum messages", Limit(cfg, "max_msgs", false));
  Row(out, "Maximum per subject", Limit(cfg, "max_msgs_per_subject", false));
  Row(out, "Maximum bytes", Limit(cfg, "max_bytes", true));
  int64_t age = cfg.value("max_age", int64_t{0});
  Row(out, "Maximum age", age > 0 ? FormatGoDuration(age) : "unlimited");
  Row(out, "Maximum message size", Limit(cfg, "max_msg_size", true));
  Row(out, "Maximum consumers", Limit(cfg, "max_consumers", false));
  std::vector<std::string> flags;
  if (cfg.value("allow_rollup_hdrs", false)) flags.push_back("allow rollup");
  if (cfg.value("deny_delete", false)) flags.push_back("deny delete");
  if (cfg.value("deny_purge", false)) flags.push_back("deny purge");
  if (cfg.value("allow_direct", false)) flags.push_back("allow direct");
  if (cfg.value("sealed", false)) flags.push_back("sealed");
  if (!flags.empty()) Row(out, "Flags", fmt::format("{}", fmt::join(flags, ", ")));

  out += "\nState:\n";
  Row(out, "Messages", WithThousands(Num(state, "messages")));
  Row(out, "Bytes", FormatBytes(static_cast<double>(Num(state, "bytes"))));
  auto seq_at = [&](const char* seq, const char* ts) {
    uint64_t n = Num(state, seq);
    std::string t = Str(state, ts);
    return ParseRfc3339(t) ? fmt::format("{} @ {} ({})", WithThousands(n), t, Ago(t)) : WithThousands(n);
  };
  Row(out, "First sequence", seq_at("first_seq", "first_ts"));
  Row(out, "Last sequence", seq_at("last_seq", "last_ts"));
  if (Num(state, "num_deleted") > 0) Row(out, "Deleted messages", WithThousands(Num(state, "num_deleted")));
  if (state.contains("num_subjects")) Row(out, "Subjects with messages", WithThousands(Num(state, "num_subjects")));
  Row(out, "Consumers", WithThousands(Num(state, "consumer_count")));
  return out;
}

Connection Open(const GlobalOptions& global) { return Connection::Open(global, {.name = "sluice stream"}); }

int RunAdd(const GlobalOptions& global, const StreamOptions& o) {
  CheckStreamName(o.name);
  ojson cfg;
  cfg["name"] = o.name;
  if (!o.description.empty()) cfg["description"] = o.description;
  if (!o.subjects.empty()) cfg["subjects"] = o.subjects;
  cfg["retention"] = o.retention;
  cfg["max_consumers"] = -1;
  cfg["max_msgs"] = o.max_msgs;
  cfg["max_bytes"] = RequireSize(o.max_bytes, "--max-bytes");
  cfg["max_age"] = o.max_age.empty() ? 0 : RequireLongDuration(o.max_age, "--max-age").count();
  cfg["max_msgs_per_subject"] = o.max_msgs_per_subject;
  int64_t msg_size = RequireSize(o.max_msg_size, "--max-msg-size");
  if (msg_size > INT32_MAX) throw UsageError("--max-msg-size: at most 2GiB-1");
  cfg["max_msg_size"] = msg_size;
  cfg["discard"] = o.discard;
  cfg["storage"] = o.storage;
  cfg["num_replicas"] = o.replicas;
  if (!o.dupe_window.empty()) cfg["duplicate_window"] = RequireLongDuration(o.dupe_window, "--dupe-window").count();
  cfg["allow_rollup_hdrs"] = o.allow_rollup;
  cfg["deny_delete"] = o.deny_delete;
  cfg["deny_purge"] = o.deny_purge;
  cfg["allow_direct"] = o.allow_direct;

  auto conn = Open(global);
  ojson info = WithoutType(JsRequest(conn.get(), "STREAM.CREATE." + o.name, cfg, global.Timeout()));
  if (global.json) {
    std::printf("%s\n", Pretty(info).c_str());
  } else {
    std::fprintf(stderr, "Stream %s created\n", o.name.c_str());
    std::printf("%s", DescribeStream(info).c_str());
  }
  return 0;
}

int RunLs(const GlobalOptions& global, const StreamOptions& o) {
  auto conn = Open(global);
  const bool names = o.names_only;
  ojson items = ListAll(conn.get(), names ? "STREAM.NAMES" : "STREAM.LIST", o.subject_filter, "streams", global.Timeout());
  if (!names) {
    std::sort(items.begin(), items.end(), [](const ojson& a, const ojson& b) {
      return Str(a.value("config", ojson::object()), "name") < Str(b.value("config", ojson::object()), "name");
    });
  }
  if (global.json) {
    std::printf("%s\n", Pretty(items).c_str());
    return 0;
  }
  if (items.empty()) {
    std::fprintf(stderr, "No streams defined%s\n",
                 o.subject_filter.empty() ? "" : fmt::format(" with subjects matching \"{}\"", o.subject_filter).c_str());
    return 0;
  }
  if (names) {
    for (auto& n : items) std::printf("%s\n", n.is_string() ? n.get<std::string>().c_str() : n.dump().c_str());
    return 0;
  }
  std::vector<std::array<std::string, 5>> rows = {{"Name", "Subjects", "Messages", "Bytes", "Last Message"}};
  for (auto& s : items) {
    const ojson cfg = s.value("config", ojson::object());
    const ojson state = s.value("state", ojson::object());
    rows.push_back({Str(cfg, "name"), cfg.contains("subjects") ? Joined(cfg["subjects"], ", ") : "",
                    WithThousands(Num(state, "messages")), FormatBytes(static_cast<double>(Num(state, "bytes"))),
                    Num(state, "messages") > 0 || Num(state, "last_seq") > 0 ? Ago(Str(state, "last_ts")) : "never"});
  }
  std::array<size_t, 5> width{};
  for (auto& r : rows) {
    for (size_t i = 0; i < 5; ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (auto& r : rows) {
    std::printf("%-*s  %-*s  %*s  %*s  %s\n", static_cast<int>(width[0]), r[0].c_str(), static_cast<int>(width[1]),
                r[1].c_str(), static_cast<int>(width[2]), r[2].c_str(), static_cast<int>(width[3]), r[3].c_str(),
                r[4].c_str());
  }
  return 0;
}

int RunInfo(const GlobalOptions& global, const StreamOptions& o) {
  CheckStreamName(o.name);
  auto conn = Open(global);
  ojson info = WithoutType(JsRequest(conn.get(), "STREAM.INFO." + o.name, ojson(), global.Timeout()));
  if (global.json) {
    std::printf("%s\n", Pretty(info).c_str());
  } else {
    std::printf("%s", DescribeStream(info).c_str());
  }
  return 0;
}

int RunRm(const GlobalOptions& global, const StreamOptions& o) {
  CheckStreamName(o.name);
  auto conn = Open(global);
  if (!o.force) {
    // Fail on a missing stream before asking about it.
    JsRequest(conn.get(), "STREAM.INFO." + o.name, ojson(), global.Timeout());
    Confirm(fmt::format("Really delete stream {} and all its messages?", o.name),
            fmt::format("refusing to delete stream {}", o.name));
  }
  JsRequest(conn.get(), "STREAM.DELETE." + o.name, ojson(), global.Timeout());
  if (global.json) {
    ojson r;
    r["stream"] = o.name;
    r["deleted"] = true;
    std::printf("%s\n", JsonLine(r).c_str());
  } else {
    std::fprintf(stderr, "Deleted stream %s\n", o.name.c_str());
  }
  return 0;
}

int RunPurge(const GlobalOptions& global, const StreamOptions& o) {
  CheckStreamName(o.name);
  if (o.purge_seq && o.purge_keep) throw UsageError("--seq and --keep cannot be used together");
  ojson req = ojson::object();
  if (!o.purge_subject.empty()) req["filter"] = o.purge_subject;
  if (o.purge_seq) req["seq"] = *o.purge_seq;
  if (o.purge_keep) req["keep"] = *o.purge_keep;
  auto conn = Open(global);
  if (!o.force) {
    JsRequest(conn.get(), "STREAM.INFO." + o.name, ojson(), global.Timeout());
    Confirm(fmt::format("Really purge {}messages of stream {}?",
                        o.purge_subject.empty() ? "" : fmt::format("\"{}\" ", o.purge_subject), o.name),
            fmt::format("refusing to purge stream {}", o.name));
  }
  ojson r = JsRequest(conn.get(), "STREAM.PURGE." + o.name, req, global.Timeout());
  uint64_t purged = Num(r, "purged");
  if (global.json) {
    ojson out;
    out["stream"] = o.name;
    out["purged"] = purged;
    std::printf("%s\n", JsonLine(out).c_str());
  } else {
    std::fprintf(stderr, "Purged %s message%s from stream %s\n", WithThousands(purged).c_str(), purged == 1 ? "" : "s",
                 o.name.c_str());
  }
  return 0;
}

int RunGet(const GlobalOptions& global, const StreamOptions& o) {
  CheckStreamName(o.name);
  if (o.seq.has_value() == !o.last_for.empty()) {
    throw UsageError("give a sequence number or --last-for <subject> (exactly one of them)");
  }
  if (o.seq && *o.seq == 0) throw UsageError("sequence numbers start at 1");
  ojson req;
  if (o.seq) {
    req["seq"] = *o.seq;
  } else {
    req["last_by_subj"] = o.last_for;
  }
  auto conn = Open(global);
  ojson r = JsRequest(conn.get(), "STREAM.MSG.GET." + o.name, req, global.Timeout());
  const ojson m = r.value("message", ojson::object());
  std::string data = Base64Decode(Str(m, "data"));
  auto headers = ParseHeaderBlock(Base64Decode(Str(m, "hdrs")));
  if (global.json) {
    ojson out;
    out["stream"] = o.name;
    out["subject"] = Str(m, "subject");
    out["seq"] = Num(m, "seq");
    out["time"] = Str(m, "time");
    if (!headers.empty()) {
      ojson h = ojson::object();
      for (auto& [k, vs] : headers) h[k] = vs;
      out["headers"] = h;
    }
    out["data"] = data;
    out["size"] = data.size();
    std::printf("%s\n", JsonLine(out).c_str());
    return 0;
  }
  std::string text = fmt::format("Stream {} message {} on subject \"{}\"\nTime: {} ({})\n", o.name, Num(m, "seq"),
                                 Str(m, "subject"), Str(m, "time"), Ago(Str(m, "time")));
  if (!headers.empty()) {
    text += "Headers:\n";
    for (auto& [k, vs] : headers) {
      for (auto& v : vs) text += fmt::format("  {}: {}\n", k, v);
    }
  }
  text += "\n";
  std::fputs(text.c_str(), stdout);
  std::fwrite(data.data(), 1, data.size(), stdout);
  std::fputs("\n", stdout);
  return 0;
}

}  // namespace

void AddStreamCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  CLI::App* stream = app.add_subcommand("stream", "manage JetStream streams");
  stream->alias("str");
  RequireOneOf(*stream, "add, ls, info, rm, purge, get");
  auto o = std::make_shared<StreamOptions>();
  auto bind = [&global, &action, o](CLI::App* cmd, int (*run)(const GlobalOptions&, const StreamOptions&)) {
    RunOnSelect(cmd, global, action, o, run);
  };

  CLI::App* add = stream->add_subcommand("add", "create a stream");
  add->alias("create");
  add->add_option("name", o->name, "stream name")->required();
  add->add_option("--subjects", o->subjects, "subjects the stream stores, comma separated (default: the name)")
      ->delimiter(',');
  add->add_option("--storage", o->storage, "file or memory")->check(CLI::IsMember({"file", "memory"}))
      ->capture_default_str();
  add->add_option("--retention", o->retention, "limits, interest or workqueue")
      ->check(CLI::IsMember({"limits", "interest", "workqueue"}))
      ->capture_default_str();
  add->add_option("--max-msgs", o->max_msgs, "most messages kept (-1: unlimited)")->capture_default_str();
  add->add_option("--max-bytes", o->max_bytes, "most bytes kept: 1024, 512KB, 1GB (-1: unlimited)")
      ->capture_default_str();
  add->add_option("--max-age", o->max_age, "oldest message kept: 1h, 7d, 1y (default unlimited)");
  add->add_option("--max-msg-size", o->max_msg_size, "largest message accepted (-1: unlimited)")->capture_default_str();
  add->add_option("--max-msgs-per-subject", o->max_msgs_per_subject, "most messages kept per subject (-1: unlimited)")
      ->capture_default_str();
  add->add_option("--discard", o->discard, "when full: old (drop the oldest) or new (refuse new ones)")
      ->check(CLI::IsMember({"old", "new"}))
      ->capture_default_str();
  add->add_option("--dupe-window", o->dupe_window, "duplicate detection window (server default 2m)");
  add->add_option("--replicas", o->replicas, "replicas (1 on a single server)")
      ->check(CLI::Range(1, 5))
      ->capture_default_str();
  add->add_flag("--allow-rollup", o->allow_rollup, "allow Nats-Rollup headers");
  add->add_flag("--deny-delete", o->deny_delete, "refuse deleting single messages");
  add->add_flag("--deny-purge", o->deny_purge, "refuse purging");
  add->add_flag("--allow-direct", o->allow_direct, "answer direct get requests");
  add->add_option("--description", o->description, "a description");
  bind(add, RunAdd);

  CLI::App* ls = stream->add_subcommand("ls", "list streams");
  ls->alias("list");
  ls->add_option("--subject", o->subject_filter, "only streams whose subjects overlap this one");
  ls->add_flag("-n,--names", o->names_only, "names only");
  bind(ls, RunLs);

  CLI::App* info = stream->add_subcommand("info", "a stream's configuration and state");
  info->add_option("name", o->name, "stream name")->required();
  bind(info, RunInfo);

  CLI::App* rm = stream->add_subcommand("rm", "delete a stream and its messages");
  rm->alias("delete");
  rm->add_option("name", o->name, "stream name")->required();
  rm->add_flag("-f,--force", o->force, "do not ask (required when stdin is not a terminal)");
  bind(rm, RunRm);

  CLI::App* purge = stream->add_subcommand("purge", "remove messages, keeping the stream");
  purge->add_option("name", o->name, "stream name")->required();
  purge->add_option("--subject", o->purge_subject, "only messages on this subject (wildcards allowed)");
  purge->add_option("--seq", o->purge_seq, "only messages below this sequence");
  purge->add_option("--keep", o->purge_keep, "keep the newest N messages");
  purge->add_flag("-f,--force", o->force, "do not ask (required when stdin is not a terminal)");
  bind(purge, RunPurge);

  CLI::App* get = stream->add_subcommand("get", "print one stored message");
  get->add_option("name", o->name, "stream name")->required();
  get->add_option("seq", o->seq, "sequence number");
  get->add_option("--last-for", o->last_for, "the newest message on this subject instead");
  bind(get, RunGet);
}

}  // namespace sluice::cli
