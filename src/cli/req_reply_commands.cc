// sluice req <subject> [body] [--header K:V]... [--raw]
// sluice reply <subject> <body-template> [--queue q] [--count N]
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include <nlohmann/json.hpp>

#include "body_template.h"
#include "commands.h"
#include "connection.h"
#include "duration.h"
#include "message_output.h"
#include "signals.h"

namespace sluice::cli {
namespace {

struct ReqOptions {
  std::string subject;
  std::string body;
  std::vector<std::string> headers;
  bool raw = false;
};

int RunReq(const GlobalOptions& global, const ReqOptions& o) {
  CheckSubject(o.subject);
  const auto timeout = global.Timeout();
  const TemplateContext context{.count = 1, .request = {}};
  const std::string body = BodyTemplate::Parse(o.body).Render(context);
  const auto headers = ParseHeaderFlags(o.headers);

  Connection conn = Connection::Open(global, {.name = "sluice req", .long_running = false, .send_asap = true});
  natsMsg* raw = nullptr;
  CheckNats(natsMsg_Create(&raw, o.subject.c_str(), nullptr, body.data(), static_cast<int>(body.size())),
            fmt::format("request on \"{}\"", o.subject));
  MsgPtr request(raw);
  ApplyHeaders(request.get(), headers, context);

  if (!global.json && !o.raw) std::fprintf(stderr, "Sending request on \"%s\"\n", o.subject.c_str());
  const auto start = std::chrono::steady_clock::now();
  natsMsg* reply_raw = nullptr;
  natsStatus s = natsConnection_RequestMsg(&reply_raw, conn.get(), request.get(), ToMillis(timeout));
  const auto rtt = std::chrono::steady_clock::now() - start;
  if (s == NATS_TIMEOUT) {
    throw CliError(fmt::format("no reply on \"{}\" within {}", o.subject, FormatDuration(timeout)));
  }
  if (s == NATS_NO_RESPONDERS) throw CliError(fmt::format("no responders are listening on \"{}\"", o.subject));
  CheckNats(s, fmt::format("request on \"{}\"", o.subject));
  MsgPtr reply(reply_raw);

  if (global.json) {
    nlohmann::ordered_json j = MessageToJson(reply.get(), 1, true);
    j.erase("seq");
    j["rtt_ns"] = std::chrono::duration_cast<std::chrono::nanoseconds>(rtt).count();
    std::printf("%s\n", JsonLine(j).c_str());
  } else if (o.raw) {
    PrintMessage(stdout, reply.get(), 1, {.mode = OutputMode::kRaw, .headers_only = false});
  } else {
    std::fprintf(stderr, "Received with rtt %s\n",
                 FormatDuration(std::chrono::duration_cast<std::chrono::nanoseconds>(rtt)).c_str());
    nlohmann::ordered_json j = MessageToJson(reply.get(), 1, false);
    std::string text;
    if (j.contains("headers")) {
      for (auto& [key, values] : j["headers"].items()) {
        for (auto& v : values) text += fmt::format("{}: {}\n", key, v.get<std::string>());
      }
      text += "\n";
    }
    std::fputs(text.c_str(), stdout);
    PrintMessage(stdout, reply.get(), 1, {.mode = OutputMode::kRaw, .headers_only = false});
  }
  return 0;
}

struct ReplyOptions {
  std::string subject;
  std::string body;
  std::string queue;
  uint64_t count = 0;
};

int RunReply(const GlobalOptions& global, const ReplyOptions& o) {
  CheckSubject(o.subject);
  const auto timeout = global.Timeout();
  const BodyTemplate body = BodyTemplate::Parse(o.body, /*allow_request=*/true);
  InstallStopSignals();
  Connection conn = Connection::Open(global, {.name = "sluice reply", .long_running = true, .send_asap = true});
  SubscriptionPtr sub = SubscribeSync(conn, o.subject, o.queue, o.count);
  conn.Flush(timeout);
  std::string ready = fmt::format("Listening on \"{}\"", o.subject);
  if (!o.queue.empty()) ready += fmt::format(" in group \"{}\"", o.queue);
  std::fprintf(stderr, "%s\n", ready.c_str());

  const MessageFormat format{.mode = global.json ? OutputMode::kJson : OutputMode::kHuman, .headers_only = false};
  uint64_t handled = 0;
  while (!StopRequested() && (o.count == 0 || handled < o.count)) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, sub.get(), 200);
    if (s == NATS_TIMEOUT) continue;
    if (s == NATS_SLOW_CONSUMER) {
      std::fprintf(stderr, "sluice: slow consumer: requests were dropped\n");
      continue;
    }
    if (s != NATS_OK) throw CliError(fmt::format("subscription on \"{}\" ended: {}", o.subject, NatsErrorText(s)));
    MsgPtr msg(m);
    ++handled;
    PrintMessage(stdout, msg.get(), handled, format);
    const char* reply_to = natsMsg_GetReply(msg.get());
    if (reply_to == nullptr || *reply_to == '\0') {
      std::fprintf(stderr, "sluice: message #%llu on \"%s\" has no reply subject; not answered\n",
                   static_cast<unsigned long long>(handled), natsMsg_GetSubject(msg.get()));
      continue;
    }
    const char* data = natsMsg_GetData(msg.get());
    std::string answer = body.Render(
        {.count = handled,
         .request = std::string_view(data ? data : "", static_cast<size_t>(natsMsg_GetDataLength(msg.get())))});
    // The connection sends at once (send_asap): no flush per reply.
    CheckNats(natsConnection_Publish(conn.get(), reply_to, answer.data(), static_cast<int>(answer.size())),
              "send the reply");
  }
  conn.Flush(timeout);  // the last reply has reached the server before we exit
  return 0;
}

}  // namespace

void AddReqCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto o = std::make_shared<ReqOptions>();
  CLI::App* cmd = app.add_subcommand("req", "send a request and print the reply");
  cmd->alias("request");
  cmd->add_option("subject", o->subject, "subject to send the request to")->required();
  cmd->add_option("body", o->body, "request body (a template, see pub)");
  cmd->add_option("-H,--header", o->headers, "header Key:Value, repeatable");
  cmd->add_flag("--raw", o->raw, "print only the reply body");
  RunOnSelect(cmd, global, action, o, RunReq);
}

void AddReplyCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto o = std::make_shared<ReplyOptions>();
  CLI::App* cmd = app.add_subcommand("reply", "answer requests on a subject");
  cmd->add_option("subject", o->subject, "subject to answer on")->required();
  cmd->add_option("body", o->body,
                  "reply body, a template: {{Count}}, {{Request}} (the request's body), {{Time}}, ... (see pub)")
      ->required();
  cmd->add_option("--queue", o->queue, "join this queue group");
  cmd->add_option("--count", o->count, "exit after this many requests")->check(CLI::Range(uint64_t{1}, uint64_t{INT32_MAX}));
  RunOnSelect(cmd, global, action, o, RunReply);
}

}  // namespace sluice::cli
