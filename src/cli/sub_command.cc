// sluice sub <subject> [--queue q] [--count N] [--raw] [--headers-only]
#include <fmt/format.h>

#include <memory>

#include "commands.h"
#include "connection.h"
#include "message_output.h"
#include "signals.h"

namespace sluice::cli {
namespace {

struct SubOptions {
  std::string subject;
  std::string queue;
  uint64_t count = 0;
  bool raw = false;
  bool headers_only = false;
};

int RunSub(const GlobalOptions& global, const SubOptions& o) {
  CheckSubject(o.subject);
  const auto timeout = global.Timeout();
  InstallStopSignals();
  Connection conn = Connection::Open(global, {.name = "sluice sub", .long_running = true, .send_asap = false});
  SubscriptionPtr sub = SubscribeSync(conn, o.subject, o.queue, o.count);
  conn.Flush(timeout);  // the server has the subscription before we say so
  std::string ready = fmt::format("Subscribing on {}", o.subject);
  if (!o.queue.empty()) ready += fmt::format(" in group {}", o.queue);
  if (o.count > 0) ready += fmt::format(", for {} message{}", o.count, o.count == 1 ? "" : "s");
  std::fprintf(stderr, "%s\n", ready.c_str());

  MessageFormat format{.mode = global.json ? OutputMode::kJson : o.raw ? OutputMode::kRaw : OutputMode::kHuman,
                       .headers_only = o.headers_only};
  uint64_t received = 0;
  while (!StopRequested() && (o.count == 0 || received < o.count)) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, sub.get(), 200);
    if (s == NATS_OK) {
      MsgPtr msg(m);
      PrintMessage(stdout, msg.get(), ++received, format);
    } else if (s == NATS_TIMEOUT) {
      continue;
    } else if (s == NATS_SLOW_CONSUMER) {
      std::fprintf(stderr, "sluice: slow consumer: messages were dropped\n");
    } else {
      throw CliError(fmt::format("subscription on \"{}\" ended: {}", o.subject, NatsErrorText(s)));
    }
  }
  return 0;
}

}  // namespace

void AddSubCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto o = std::make_shared<SubOptions>();
  CLI::App* cmd = app.add_subcommand("sub", "print the messages published to a subject (wildcards allowed)");
  cmd->add_option("subject", o->subject, "subject to subscribe to")->required();
  cmd->add_option("--queue", o->queue, "join this queue group");
  cmd->add_option("--count", o->count, "exit after this many messages")->check(CLI::Range(uint64_t{1}, uint64_t{INT32_MAX}));
  cmd->add_flag("--raw", o->raw, "print only the bodies, one a line");
  cmd->add_flag("--headers-only", o->headers_only, "print only the headers");
  RunOnSelect(cmd, global, action, o, RunSub);
}

}  // namespace sluice::cli
