// sluice pub <subject> [body] [--count N] [--size N] [--sleep D] [--header K:V]...
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <iterator>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "body_template.h"
#include "commands.h"
#include "connection.h"
#include "duration.h"
#include "message_output.h"
#include "progress_line.h"

namespace sluice::cli {
namespace {

struct PubOptions {
  std::string subject;
  std::string body;
  CLI::Option* body_option = nullptr;
  uint64_t count = 1;
  int64_t size = -1;
  std::string sleep = "0s";
  std::vector<std::string> headers;
  bool no_progress = false;
};

int RunPub(const GlobalOptions& global, const PubOptions& o) {
  CheckSubject(o.subject);
  const auto timeout = global.Timeout();
  const auto sleep = RequireDuration(o.sleep, "--sleep");
  const bool has_body = o.body_option->count() > 0;
  if (o.size >= 0 && has_body) throw UsageError("give either a body or --size, not both");

  BodyTemplate body = BodyTemplate::Parse("");
  if (o.size >= 0) {
    body = BodyTemplate::Parse(RandomAlphanumeric(static_cast<size_t>(o.size)));  // letters and digits only
  } else if (has_body) {
    body = BodyTemplate::Parse(o.body);
  } else if (::isatty(STDIN_FILENO) != 1) {
    std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    body = BodyTemplate::Parse(in);
  }
  const auto headers = ParseHeaderFlags(o.headers);

  Connection conn = Connection::Open(global, {.name = "sluice pub", .long_running = false, .send_asap = false});
  std::atomic<uint64_t> published{0};
  uint64_t bytes = 0;
  ProgressLine progress("Publishing", o.count, [&] { return published.load(); }, !o.no_progress && o.count > 1);
  std::string fixed = body.is_static() ? body.Render({}) : std::string();
  for (uint64_t i = 1; i <= o.count; ++i) {
    TemplateContext context{.count = i, .request = {}};
    std::string rendered = body.is_static() ? std::string() : body.Render(context);
    const std::string& data = body.is_static() ? fixed : rendered;
    if (headers.empty()) {
      CheckNats(natsConnection_Publish(conn.get(), o.subject.c_str(), data.data(), static_cast<int>(data.size())),
                fmt::format("publish to \"{}\"", o.subject));
    } else {
      natsMsg* raw = nullptr;
      CheckNats(natsMsg_Create(&raw, o.subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())),
                fmt::format("publish to \"{}\"", o.subject));
      MsgPtr msg(raw);
      ApplyHeaders(msg.get(), headers, context);
      CheckNats(natsConnection_PublishMsg(conn.get(), msg.get()), fmt::format("publish to \"{}\"", o.subject));
    }
    bytes += data.size();
    published.store(i);
    if (sleep.count() > 0 && i < o.count) std::this_thread::sleep_for(sleep);
  }
  conn.Flush(timeout);
  progress.Stop();

  if (global.json) {
    nlohmann::ordered_json j{{"subject", o.subject}, {"messages", o.count}, {"bytes", bytes}};
    std::printf("%s\n", JsonLine(j).c_str());
  } else if (o.count == 1) {
    std::fprintf(stderr, "Published %llu bytes to \"%s\"\n", static_cast<unsigned long long>(bytes),
                 o.subject.c_str());
  } else {
    std::fprintf(stderr, "Published %s messages (%s bytes) to \"%s\"\n", WithThousands(o.count).c_str(),
                 WithThousands(bytes).c_str(), o.subject.c_str());
  }
  return 0;
}

}  // namespace

void AddPubCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto o = std::make_shared<PubOptions>();
  CLI::App* cmd = app.add_subcommand("pub", "publish messages to a subject");
  cmd->add_option("subject", o->subject, "subject to publish to")->required();
  o->body_option = cmd->add_option(
      "body", o->body,
      "message body, a template: {{Count}}, {{Time}}, {{TimeStamp}}, {{Unix}}, {{ID}}, {{Random(min,max)}} "
      "(read from stdin when left out and stdin is not a terminal)");
  cmd->add_option("--count", o->count, "number of messages to publish")->check(CLI::Range(uint64_t{1}, uint64_t{INT64_MAX}));
  cmd->add_option("--size", o->size, "publish a random body of this many bytes")->check(CLI::Range(0, 64 << 20));
  cmd->add_option("--sleep", o->sleep, "pause between messages (100ms, 1s)");
  cmd->add_option("-H,--header", o->headers, "header Key:Value (a template), repeatable");
  cmd->add_flag("--no-progress", o->no_progress, "no progress line");
  RunOnSelect(cmd, global, action, o, RunPub);
}

}  // namespace sluice::cli
