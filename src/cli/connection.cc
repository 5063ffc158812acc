#include "connection.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <vector>

#include "duration.h"

namespace sluice::cli {
namespace {

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

void OnAsyncError(natsConnection*, natsSubscription*, natsStatus err, void*) {
  std::fprintf(stderr, "sluice: %s\n", err == NATS_SLOW_CONSUMER ? "slow consumer: messages were dropped"
                                                                  : natsStatus_GetText(err));
}

// Set when the CLI starts closing its connections (it does so only on its
// way out), so that the disconnect that closing causes is not reported.
// Process-wide, not per connection: nats.c may run the callback after
// natsConnection_Destroy has returned, so its closure must outlive every
// Connection.
std::atomic<bool> g_closing{false};

void OnDisconnected(natsConnection*, void*) {
  if (!g_closing.load()) std::fprintf(stderr, "sluice: disconnected, reconnecting\n");
}

void OnReconnected(natsConnection* nc, void*) {
  char url[256] = "";
  natsConnection_GetConnectedUrl(nc, url, sizeof(url));
  std::fprintf(stderr, "sluice: reconnected to %s\n", url);
}

std::vector<std::string> SplitServers(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string one = list.substr(start, comma - start);
    while (!one.empty() && one.front() == ' ') one.erase(0, 1);
    while (!one.empty() && one.back() == ' ') one.pop_back();
    if (!one.empty()) out.push_back(one);
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::chrono::nanoseconds GlobalOptions::Timeout() const {
  auto d = RequireDuration(timeout, "--timeout");
  if (d.count() <= 0) throw UsageError("--timeout must be greater than zero");
  return d;
}

int64_t ToMillis(std::chrono::nanoseconds d) {
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms < 1 ? 1 : ms;
}

std::string NatsErrorText(natsStatus s) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  if (last != s || text == nullptr || *text == '\0') return natsStatus_GetText(s);
  std::string out = text;
  // nats.c prefixes its messages with "(conn.c:1905): ": not for users.
  if (out.size() > 1 && out[0] == '(') {
    size_t end = out.find("): ");
    if (end != std::string::npos) out.erase(0, end + 3);
  }
  return out;
}

void CheckNats(natsStatus s, std::string_view what) {
  if (s != NATS_OK) throw CliError(fmt::format("{}: {}", what, NatsErrorText(s)));
}

Connection Connection::Open(const GlobalOptions& global, const ConnectSettings& settings) {
  const auto timeout = global.Timeout();
  std::vector<std::string> servers = SplitServers(global.server);
  if (servers.empty()) throw UsageError("--server: no server URL given");
  std::vector<const char*> server_ptrs;
  for (auto& s : servers) server_ptrs.push_back(s.c_str());

  natsOptions* raw = nullptr;
  CheckNats(natsOptions_Create(&raw), "cannot create connection options");
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);
  CheckNats(natsOptions_SetServers(raw, server_ptrs.data(), static_cast<int>(server_ptrs.size())),
            fmt::format("invalid server URL \"{}\"", global.server));
  CheckNats(natsOptions_SetName(raw, settings.name.c_str()), "cannot set the connection name");
  CheckNats(natsOptions_SetTimeout(raw, ToMillis(timeout)), "cannot set the timeout");
  if (!global.user.empty() || !global.password.empty()) {
    CheckNats(natsOptions_SetUserInfo(raw, global.user.c_str(), global.password.c_str()),
              "cannot set user and password");
  }
  if (!global.token.empty()) CheckNats(natsOptions_SetToken(raw, global.token.c_str()), "cannot set the token");
  // A CLI run should not keep retrying a server that is not there.
  natsOptions_SetRetryOnFailedConnect(raw, false, nullptr, nullptr);
  if (settings.send_asap) natsOptions_SetSendAsap(raw, true);
  if (settings.long_running) {
    natsOptions_SetMaxReconnect(raw, -1);
    natsOptions_SetErrorHandler(raw, OnAsyncError, nullptr);
    natsOptions_SetDisconnectedCB(raw, OnDisconnected, nullptr);
    natsOptions_SetReconnectedCB(raw, OnReconnected, nullptr);
  } else {
    natsOptions_SetAllowReconnect(raw, false);
  }

  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, raw);
  if (s != NATS_OK) {
    std::string why = NatsErrorText(s);
    if (s == NATS_NO_SERVER) why = "no server available (is it running?)";
    throw CliError(fmt::format("cannot connect to {}: {}", global.server, why));
  }
  return Connection(nc);
}

Connection::~Connection() {
  if (nc_ == nullptr) return;
  g_closing.store(true);
  natsConnection_Close(nc_);
  natsConnection_Destroy(nc_);
}

void Connection::Flush(std::chrono::nanoseconds timeout) const {
  CheckNats(natsConnection_FlushTimeout(nc_, ToMillis(timeout)), "flush");
}

SubscriptionPtr SubscribeSync(const Connection& conn, const std::string& subject, const std::string& queue,
                              uint64_t count) {
  natsSubscription* raw = nullptr;
  if (queue.empty()) {
    CheckNats(natsConnection_SubscribeSync(&raw, conn.get(), subject.c_str()),
              fmt::format("subscribe to \"{}\"", subject));
  } else {
    CheckNats(natsConnection_QueueSubscribeSync(&raw, conn.get(), subject.c_str(), queue.c_str()),
              fmt::format("subscribe to \"{}\"", subject));
  }
  SubscriptionPtr sub(raw);
  natsSubscription_SetPendingLimits(sub.get(), 1 << 20, 1 << 30);
  if (count > 0) {
    CheckNats(natsSubscription_AutoUnsubscribe(sub.get(), static_cast<int>(count)), "auto-unsubscribe");
  }
  return sub;
}

}  // namespace sluice::cli
