// sluice consumer add <stream> [name] [--pull | --target <subject> [--deliver-group g] [--heartbeat D]
//                                       [--flow-control] [--headers-only]]
//                     [--filter s]... [--ack explicit|all|none] [--deliver all|last|new|last-per-subject|<seq>|<time>]
//                     [--max-deliver N] [--wait D] [--backoff D,D,…] [--max-pending N] [--max-waiting N]
//                     [--inactive-threshold D] [--replay instant|original] [--description T]
// sluice consumer ls <stream> [--names]
// sluice consumer info <stream> <name>
// sluice consumer rm <stream> <name> [-f]
// sluice consumer next <stream> <name> [--count N] [--no-ack] [--raw]
//
// Through the JetStream JSON API (js_api.h) like the stream commands. With a
// name, add creates a durable consumer ($JS.API.CONSUMER.CREATE.<stream>.<name>);
// without one an ephemeral consumer the server names. `next` sends one pull
// request for --count messages that expires after --timeout, prints them the
// way `sub` does and acknowledges each (unless --no-ack).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <optional>

#include "commands.h"
#include "connection.h"
#include "duration.h"
#include "js_api.h"
#include "js_output.h"
#include "js_pull.h"
#include "message_output.h"
#include "progress_line.h"

namespace sluice::cli {
namespace {

struct ConsumerOptions {
  std::string stream;
  std::string name;
  // add
  bool pull = false;
  std::string target;  // push: deliver subject
  std::string deliver_group;
  std::vector<std::string> filters;
  std::string ack = "explicit";
  std::string deliver = "all";
  int64_t max_deliver = -1;
  std::string wait;
  std::vector<std::string> backoff;
  std::optional<int64_t> max_pending;
  std::optional<int64_t> max_waiting;
  std::string inactive_threshold;
  std::string heartbeat;
  bool flow_control = false;
  bool headers_only = false;
  std::string replay = "instant";
  std::string description;
  // ls
  bool names_only = false;
  // rm
  bool force = false;
  // next
  int count = 1;
  bool no_ack = false;
  bool raw = false;
};

Connection Open(const GlobalOptions& global) { return Connection::Open(global, {.name = "sluice consumer"}); }

// Names go into API subjects: the same rules as stream names.
void CheckConsumerName(const std::string& name) {
  if (name.empty()) throw UsageError("the consumer name is empty");
  bool bad = name == "*" || name == ">";
  for (char c : name) bad = bad || c == '.' || std::isspace(static_cast<unsigned char>(c)) || c == '\0';
  if (bad) throw UsageError(fmt::format("invalid consumer name \"{}\": it may not contain '.' or whitespace", name));
}

int64_t Nanos(const std::string& text, const std::string& flag) { return RequireLongDuration(text, flag).count(); }

// --deliver: a policy name, a stream sequence, an RFC 3339 time or a
// duration (messages newer than now minus it).
void ApplyDeliver(ojson& cfg, const std::string& deliver) {
  std::string d = deliver;
  std::replace(d.begin(), d.end(), '-', '_');
  if (d == "all" || d == "last" || d == "new" || d == "last_per_subject") {
    cfg["deliver_policy"] = d;
    return;
  }
  if (!deliver.empty() && std::all_of(deliver.begin(), deliver.end(), [](char c) { return std::isdigit(c); })) {
    uint64_t seq = std::stoull(deliver);
    if (seq == 0) throw UsageError("--deliver: stream sequences start at 1");
    cfg["deliver_policy"] = "by_start_sequence";
    cfg["opt_start_seq"] = seq;
    return;
  }
  if (ParseRfc3339(deliver)) {
    cfg["deliver_policy"] = "by_start_time";
    cfg["opt_start_time"] = deliver;
    return;
  }
  std::chrono::nanoseconds ago;
  try {
    ago = RequireLongDuration(deliver, "--deliver");
  } catch (const UsageError&) {
    throw UsageError(fmt::format(
        "--deliver: \"{}\" is not all, last, new, last-per-subject, a stream sequence, an RFC 3339 time or a "
        "duration (1h: messages of the last hour)",
        deliver));
  }
  int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  cfg["deliver_policy"] = "by_start_time";
  cfg["opt_start_time"] = FormatRfc3339(now - ago.count());
}

ojson BuildConfig(const ConsumerOptions& o) {
  if (o.pull && !o.target.empty()) throw UsageError("--pull and --target cannot be used together");
  const bool push = !o.target.empty();
  if (!push) {
    for (auto [set, flag] : std::array<std::pair<bool, const char*>, 3>{
             {{!o.deliver_group.empty(), "--deliver-group"}, {!o.heartbeat.empty(), "--heartbeat"},
              {o.flow_control, "--flow-control"}}}) {
      if (set) throw UsageError(fmt::format("{} needs a push consumer (--target <subject>)", flag));
    }
  } else if (o.max_waiting) {
    throw UsageError("--max-waiting is for pull consumers");
  }
  if (o.flow_control && o.heartbeat.empty()) throw UsageError("--flow-control needs --heartbeat");
  ojson cfg;
  if (!o.name.empty()) {
    cfg["durable_name"] = o.name;
    cfg["name"] = o.name;
  }
  if (!o.description.empty()) cfg["description"] = o.description;
  ApplyDeliver(cfg, o.deliver);
  cfg["ack_policy"] = o.ack;
  if (!o.wait.empty()) cfg["ack_wait"] = Nanos(o.wait, "--wait");
  cfg["max_deliver"] = o.max_deliver;
  if (!o.backoff.empty()) {
    ojson b = ojson::array();
    for (auto& d : o.backoff) b.push_back(Nanos(d, "--backoff"));
    cfg["backoff"] = b;
  }
  for (auto& f : o.filters) CheckSubject(f);
  if (o.filters.size() == 1) cfg["filter_subject"] = o.filters[0];
  if (o.filters.size() > 1) cfg["filter_subjects"] = o.filters;
  cfg["replay_policy"] = o.replay;
  if (o.max_pending) cfg["max_ack_pending"] = *o.max_pending;
  if (o.max_waiting) cfg["max_waiting"] = *o.max_waiting;
  if (!o.inactive_threshold.empty()) cfg["inactive_threshold"] = Nanos(o.inactive_threshold, "--inactive-threshold");
  if (push) {
    CheckSubject(o.target);
    cfg["deliver_subject"] = o.target;
    if (!o.deliver_group.empty()) cfg["deliver_group"] = o.deliver_group;
    if (!o.heartbeat.empty()) cfg["idle_heartbeat"] = Nanos(o.heartbeat, "--heartbeat");
    if (o.flow_control) cfg["flow_control"] = true;
  }
  if (o.headers_only) cfg["headers_only"] = true;
  return cfg;
}

std::string DurationOr(const ojson& cfg, const char* key, const char* none) {
  int64_t v = cfg.contains(key) && cfg[key].is_number() ? cfg[key].get<int64_t>() : 0;
  return v > 0 ? FormatGoDuration(v) : none;
}

std::string LimitOr(const ojson& cfg, const char* key) {
  int64_t v = cfg.contains(key) && cfg[key].is_number() ? cfg[key].get<int64_t>() : 0;
  return v > 0 ? WithThousands(static_cast<uint64_t>(v)) : "unlimited";
}

// Config and state of a ConsumerInfo, for add and info.
std::string DescribeConsumer(const ojson& info) {
  const ojson cfg = info.value("config", ojson::object());
  std::string out = fmt::format("Consumer {} of stream {} (created {})\n\nConfiguration:\n", Str(info, "name"),
                                Str(info, "stream_name"), Str(info, "created", "?"));
  Row(out, "Name", Str(info, "name"));
  if (!Str(cfg, "durable_name").empty()) Row(out, "Durable", "yes");
  if (!Str(cfg, "description").empty()) Row(out, "Description", Str(cfg, "description"));
  const bool push = !Str(cfg, "deliver_subject").empty();
  if (push) {
    Row(out, "Delivery subject", Str(cfg, "deliver_subject"));
    if (!Str(cfg, "deliver_group").empty()) Row(out, "Deliver group", Str(cfg, "deliver_group"));
  } else {
    Row(out, "Pull mode", "yes");
  }
  if (!Str(cfg, "filter_subject").empty()) Row(out, "Filter subject", Str(cfg, "filter_subject"));
  if (cfg.contains("filter_subjects")) Row(out, "Filter subjects", Joined(cfg["filter_subjects"], ", "));
  std::string policy = Str(cfg, "deliver_policy", "all");
  if (policy == "by_start_sequence") policy += fmt::format(" ({})", Num(cfg, "opt_start_seq"));
  if (policy == "by_start_time") policy += fmt::format(" ({})", Str(cfg, "opt_start_time"));
  Row(out, "Deliver policy", policy);
  Row(out, "Ack policy", Str(cfg, "ack_policy", "none"));
  if (Str(cfg, "ack_policy") != "none") Row(out, "Ack wait", DurationOr(cfg, "ack_wait", "30s"));
  Row(out, "Replay policy", Str(cfg, "replay_policy", "instant"));
  Row(out, "Maximum deliveries", LimitOr(cfg, "max_deliver"));
  if (cfg.contains("backoff") && cfg["backoff"].is_array()) {
    std::vector<std::string> b;
    for (auto& v : cfg["backoff"]) b.push_back(FormatGoDuration(v.is_number() ? v.get<int64_t>() : 0));
    Row(out, "Backoff", fmt::format("{}", fmt::join(b, ", ")));
  }
  Row(out, "Maximum ack pending", LimitOr(cfg, "max_ack_pending"));
  if (!push) Row(out, "Maximum waiting pulls", LimitOr(cfg, "max_waiting"));
  if (push) {
    Row(out, "Idle heartbeat", DurationOr(cfg, "idle_heartbeat", "none"));
    Row(out, "Flow control", cfg.value("flow_control", false) ? "yes" : "no");
  }
  if (cfg.value("headers_only", false)) Row(out, "Headers only", "yes");
  if (cfg.contains("inactive_threshold")) Row(out, "Inactive threshold", DurationOr(cfg, "inactive_threshold", "none"));

  const ojson delivered = info.value("delivered", ojson::object());
  const ojson floor = info.value("ack_floor", ojson::object());
  out += "\nState:\n";
  auto seqs = [](const ojson& j) {
    std::string s = fmt::format("consumer sequence {} stream sequence {}", WithThousands(Num(j, "consumer_seq")),
                                WithThousands(Num(j, "stream_seq")));
    if (ParseRfc3339(Str(j, "last_active"))) s += fmt::format(" ({})", Ago(Str(j, "last_active")));
    return s;
  };
  Row(out, "Last delivered message", seqs(delivered));
  Row(out, "Acknowledgment floor", seqs(floor));
  Row(out, "Outstanding acks", WithThousands(Num(info, "num_ack_pending")));
  Row(out, "Redelivered messages", WithThousands(Num(info, "num_redelivered")));
  Row(out, "Unprocessed messages", WithThousands(Num(info, "num_pending")));
  if (!push) Row(out, "Waiting pulls", WithThousands(Num(info, "num_waiting")));
  return out;
}

void PrintInfo(const GlobalOptions& global, const ojson& info) {
  if (global.json) {
    std::printf("%s\n", Pretty(info).c_str());
  } else {
    std::printf("%s", DescribeConsumer(info).c_str());
  }
}

int RunAdd(const GlobalOptions& global, const ConsumerOptions& o) {
  CheckStreamName(o.stream);
  if (!o.name.empty()) CheckConsumerName(o.name);
  ojson cfg = BuildConfig(o);
  ojson req;
  req["stream_name"] = o.stream;
  req["config"] = cfg;
  auto conn = Open(global);
  std::string api = o.name.empty() ? "CONSUMER.CREATE." + o.stream : "CONSUMER.CREATE." + o.stream + "." + o.name;
  ojson info = WithoutType(JsRequest(conn.get(), api, req, global.Timeout()));
  if (o.filters.size() > 1 && !info.value("config", ojson::object()).contains("filter_subjects")) {
    // A server before 2.10 ignores filter_subjects: the consumer would see the whole stream.
    JsRequest(conn.get(), fmt::format("CONSUMER.DELETE.{}.{}", o.stream, Str(info, "name")), ojson(),
              global.Timeout());
    throw CliError("this server does not support several --filter subjects (nats-server 2.10 and later do)");
  }
  if (!global.json) std::fprintf(stderr, "Consumer %s created on stream %s\n", Str(info, "name").c_str(), o.stream.c_str());
  PrintInfo(global, info);
  return 0;
}

int RunLs(const GlobalOptions& global, const ConsumerOptions& o) {
  CheckStreamName(o.stream);
  auto conn = Open(global);
  const bool names = o.names_only;
  ojson items = ListAll(conn.get(), (names ? "CONSUMER.NAMES." : "CONSUMER.LIST.") + o.stream, "", "consumers",
                        global.Timeout());
  if (names) {
    std::sort(items.begin(), items.end());
  } else {
    std::sort(items.begin(), items.end(), [](const ojson& a, const ojson& b) { return Str(a, "name") < Str(b, "name"); });
  }
  if (global.json) {
    std::printf("%s\n", Pretty(items).c_str());
    return 0;
  }
  if (items.empty()) {
    std::fprintf(stderr, "No consumers defined on stream %s\n", o.stream.c_str());
    return 0;
  }
  if (names) {
    for (auto& n : items) std::printf("%s\n", n.is_string() ? n.get<std::string>().c_str() : n.dump().c_str());
    return 0;
  }
  std::vector<std::array<std::string, 6>> rows = {
      {"Name", "Mode", "Filter", "Ack Pending", "Unprocessed", "Last Delivery"}};
  for (auto& c : items) {
    const ojson cfg = c.value("config", ojson::object());
    std::string filter = Str(cfg, "filter_subject");
    if (cfg.contains("filter_subjects")) filter = Joined(cfg["filter_subjects"], ", ");
    const ojson delivered = c.value("delivered", ojson::object());
    rows.push_back({Str(c, "name"), Str(cfg, "deliver_subject").empty() ? "pull" : "push", filter,
                    WithThousands(Num(c, "num_ack_pending")), WithThousands(Num(c, "num_pending")),
                    Num(delivered, "stream_seq") > 0 && ParseRfc3339(Str(delivered, "last_active"))
                        ? Ago(Str(delivered, "last_active"))
                        : "never"});
  }
  std::array<size_t, 6> width{};
  for (auto& r : rows) {
    for (size_t i = 0; i < 6; ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (auto& r : rows) {
    std::printf("%-*s  %-*s  %-*s  %*s  %*s  %s\n", static_cast<int>(width[0]), r[0].c_str(),
                static_cast<int>(width[1]), r[1].c_str(), static_cast<int>(width[2]), r[2].c_str(),
                static_cast<int>(width[3]), r[3].c_str(), static_cast<int>(width[4]), r[4].c_str(), r[5].c_str());
  }
  return 0;
}

ojson Info(natsConnection* nc, const ConsumerOptions& o, std::chrono::nanoseconds timeout) {
  return WithoutType(JsRequest(nc, fmt::format("CONSUMER.INFO.{}.{}", o.stream, o.name), ojson(), timeout));
}

int RunInfo(const GlobalOptions& global, const ConsumerOptions& o) {
  CheckStreamName(o.stream);
  CheckConsumerName(o.name);
  auto conn = Open(global);
  PrintInfo(global, Info(conn.get(), o, global.Timeout()));
  return 0;
}

int RunRm(const GlobalOptions& global, const ConsumerOptions& o) {
  CheckStreamName(o.stream);
  CheckConsumerName(o.name);
  auto conn = Open(global);
  if (!o.force) {
    Info(conn.get(), o, global.Timeout());  // fail on a missing consumer before asking about it
    Confirm(fmt::format("Really delete consumer {} of stream {}?", o.name, o.stream),
            fmt::format("refusing to delete consumer {}", o.name));
  }
  JsRequest(conn.get(), fmt::format("CONSUMER.DELETE.{}.{}", o.stream, o.name), ojson(), global.Timeout());
  if (global.json) {
    ojson r;
    r["stream"] = o.stream;
    r["consumer"] = o.name;
    r["deleted"] = true;
    std::printf("%s\n", JsonLine(r).c_str());
  } else {
    std::fprintf(stderr, "Deleted consumer %s of stream %s\n", o.name.c_str(), o.stream.c_str());
  }
  return 0;
}

int RunNext(const GlobalOptions& global, const ConsumerOptions& o) {
  CheckStreamName(o.stream);
  CheckConsumerName(o.name);
  const auto timeout = global.Timeout();
  auto conn = Open(global);
  ojson info = Info(conn.get(), o, timeout);
  const ojson cfg = info.value("config", ojson::object());
  if (!Str(cfg, "deliver_subject").empty()) {
    throw CliError(fmt::format("consumer {} is a push consumer (it delivers to \"{}\"); next reads pull consumers",
                               o.name, Str(cfg, "deliver_subject")));
  }
  const bool ack = !o.no_ack && Str(cfg, "ack_policy", "none") != "none";
  PullReader reader(conn, o.stream, o.name);
  reader.Request(o.count, timeout);
  MessageFormat format{.mode = global.json ? OutputMode::kJson : o.raw ? OutputMode::kRaw : OutputMode::kHuman};
  int received = 0;
  std::string ended;
  // The server ends the request itself after `timeout` (408); wait a little longer for that.
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(timeout) + std::chrono::seconds(2);
  while (received < o.count) {
    auto d = reader.Next(wait);
    if (!d) {
      ended = "no answer to the pull request";
      break;
    }
    if (d->status != 0) {
      if (d->status != 404 && d->status != 408) {
        throw CliError(fmt::format("pull request ended: {} {}", d->status, d->description));
      }
      ended = fmt::format("{} {}", d->status, d->description);
      break;
    }
    ++received;
    natsMsg* m = d->msg.get();
    std::string note;
    ojson extra = ojson::object();
    if (auto md = ParseAckSubject(natsMsg_GetReply(m) ? natsMsg_GetReply(m) : "")) {
      note = fmt::format("stream seq {}, delivered {}, pending {}", md->stream_seq, md->delivered, md->pending);
      extra["stream_seq"] = md->stream_seq;
      extra["consumer_seq"] = md->consumer_seq;
      extra["delivered"] = md->delivered;
      extra["pending"] = md->pending;
      extra["time"] = FormatRfc3339(md->timestamp_ns);
    }
    PrintMessage(stdout, m, static_cast<uint64_t>(received), format, note, extra);
    if (ack) Ack(conn.get(), m);
  }
  if (ack && received > 0) conn.Flush(timeout);  // the server has every ack before we exit
  if (received == 0) {
    throw CliError(fmt::format("no messages from consumer {} of stream {} within {} ({})", o.name, o.stream,
                               FormatDuration(timeout), ended));
  }
  std::fprintf(stderr, "Received %d message%s%s\n", received, received == 1 ? "" : "s",
               ack ? ", acknowledged" : "");
  return 0;
}

}  // namespace

void AddConsumerCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  CLI::App* consumer = app.add_subcommand("consumer", "manage JetStream consumers");
  consumer->alias("con");
  RequireOneOf(*consumer, "add, ls, info, rm, next");
  auto o = std::make_shared<ConsumerOptions>();
  auto bind = [&global, &action, o](CLI::App* cmd, int (*run)(const GlobalOptions&, const ConsumerOptions&)) {
    RunOnSelect(cmd, global, action, o, run);
  };

  CLI::App* add = consumer->add_subcommand("add", "create a consumer (durable with a name, else ephemeral)");
  add->alias("create");
  add->add_option("stream", o->stream, "stream name")->required();
  add->add_option("name", o->name, "consumer name (durable); none: an ephemeral consumer");
  add->add_flag("--pull", o->pull, "a pull consumer (the default)");
  add->add_option("--target,--deliver-subject", o->target, "a push consumer delivering to this subject");
  add->add_option("--deliver-group", o->deliver_group, "push: the queue group that shares the deliveries");
  add->add_option("--filter", o->filters, "only messages on this subject (repeat for several)");
  add->add_option("--ack", o->ack, "explicit, all or none")->check(CLI::IsMember({"explicit", "all", "none"}))
      ->capture_default_str();
  add->add_option("--deliver", o->deliver,
                  "start with: all, last, new, last-per-subject, a stream sequence, an RFC 3339 time or a duration "
                  "(1h: the last hour)")
      ->capture_default_str();
  add->add_option("--max-deliver", o->max_deliver, "most deliveries of a message (-1: unlimited)")
      ->capture_default_str();
  add->add_option("--wait", o->wait, "ack wait: how long before an unacknowledged message is redelivered (30s)");
  add->add_option("--backoff", o->backoff, "redelivery delays, comma separated (1s,5s,30s)")->delimiter(',');
  add->add_option("--max-pending", o->max_pending, "most unacknowledged messages (max_ack_pending)");
  add->add_option("--max-waiting", o->max_waiting, "pull: most waiting pull requests");
  add->add_option("--inactive-threshold", o->inactive_threshold, "remove the consumer after this long without use");
  add->add_option("--heartbeat", o->heartbeat, "push: idle heartbeat interval");
  add->add_flag("--flow-control", o->flow_control, "push: flow control (needs --heartbeat)");
  add->add_flag("--headers-only", o->headers_only, "deliver headers and the payload size, not the payload");
  add->add_option("--replay", o->replay, "instant or original")->check(CLI::IsMember({"instant", "original"}))
      ->capture_default_str();
  add->add_option("--description", o->description, "a description");
  bind(add, RunAdd);

  CLI::App* ls = consumer->add_subcommand("ls", "list the consumers of a stream");
  ls->alias("list");
  ls->add_option("stream", o->stream, "stream name")->required();
  ls->add_flag("-n,--names", o->names_only, "names only");
  bind(ls, RunLs);

  CLI::App* info = consumer->add_subcommand("info", "a consumer's configuration and state");
  info->add_option("stream", o->stream, "stream name")->required();
  info->add_option("name", o->name, "consumer name")->required();
  bind(info, RunInfo);

  CLI::App* rm = consumer->add_subcommand("rm", "delete a consumer");
  rm->alias("delete");
  rm->add_option("stream", o->stream, "stream name")->required();
  rm->add_option("name", o->name, "consumer name")->required();
  rm->add_flag("-f,--force", o->force, "do not ask (required when stdin is not a terminal)");
  bind(rm, RunRm);

  CLI::App* next = consumer->add_subcommand("next", "fetch messages from a pull consumer, print and acknowledge them");
  next->add_option("stream", o->stream, "stream name")->required();
  next->add_option("name", o->name, "consumer name")->required();
  next->add_option("--count", o->count, "messages to fetch")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  next->add_flag("--no-ack", o->no_ack, "do not acknowledge them");
  next->add_flag("!--ack", o->no_ack, "acknowledge them (the default)");
  next->add_flag("--raw", o->raw, "print only the bodies, one a line");
  bind(next, RunNext);
}

}  // namespace sluice::cli
