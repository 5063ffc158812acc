#include "helpers.h"

#include <stdlib.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>

namespace sluice::itc {

Opts DefaultOptions(const std::string& url) {
  natsOptions* raw = nullptr;
  if (natsOptions_Create(&raw) != NATS_OK) return nullptr;
  Opts opts(raw);
  natsOptions_SetURL(raw, url.c_str());
  natsOptions_SetAllowReconnect(raw, false);
  natsOptions_SetTimeout(raw, kWaitMs);
  // Large client-side pending limits: the tests count every message.
  natsOptions_SetMaxPendingMsgs(raw, 1000000);
  return opts;
}

Conn Connect(const std::string& url, natsOptions* opts, natsStatus* status, std::string* error) {
  Opts own;
  if (opts == nullptr) {
    own = DefaultOptions(url);
    opts = own.get();
  }
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, opts);
  if (status) *status = s;
  if (s != NATS_OK) {
    if (error) {
      const char* text = nats_GetLastError(nullptr);
      *error = text ? text : "";
    }
    if (nc) natsConnection_Destroy(nc);
    return nullptr;
  }
  return Conn(nc);
}

Sub SubscribeSync(natsConnection* nc, const std::string& subject) {
  natsSubscription* sub = nullptr;
  if (natsConnection_SubscribeSync(&sub, nc, subject.c_str()) != NATS_OK) return nullptr;
  // Unlimited client-side pending: nothing is dropped by the client.
  natsSubscription_SetPendingLimits(sub, -1, -1);
  return Sub(sub);
}

Sub QueueSubscribeSync(natsConnection* nc, const std::string& subject, const std::string& queue) {
  natsSubscription* sub = nullptr;
  if (natsConnection_QueueSubscribeSync(&sub, nc, subject.c_str(), queue.c_str()) != NATS_OK) return nullptr;
  natsSubscription_SetPendingLimits(sub, -1, -1);
  return Sub(sub);
}

Msg NextMsg(natsSubscription* sub, int64_t timeout_ms) {
  natsMsg* msg = nullptr;
  if (natsSubscription_NextMsg(&msg, sub, timeout_ms) != NATS_OK) return nullptr;
  return Msg(msg);
}

int Queued(natsSubscription* sub) {
  uint64_t n = 0;
  if (natsSubscription_QueuedMsgs(sub, &n) != NATS_OK) return -1;
  return static_cast<int>(n);
}

std::string Data(natsMsg* msg) {
  return std::string(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
}
std::string Subject(natsMsg* msg) { return natsMsg_GetSubject(msg); }
std::string Reply(natsMsg* msg) {
  const char* r = natsMsg_GetReply(msg);
  return r ? r : "";
}

ConfigFile::ConfigFile(const std::string& contents) {
  char tmpl[] = "/tmp/sluice-itc-conf-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return;
  dir_ = tmpl;
  path_ = dir_ + "/server.conf";
  std::ofstream out(path_);
  out << contents;
}

ConfigFile::~ConfigFile() {
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

namespace {

std::vector<std::string_view> SplitBlanks(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) parts.push_back(line.substr(start, i - start));
  }
  return parts;
}

}  // namespace

size_t ParseRawMsgs(std::string_view data, std::vector<RawMsg>* out) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) break;
    std::string_view line = data.substr(pos, eol - pos);
    if (line == "PING" || line == "PONG" || line == "+OK") {
      pos = eol + 2;
      continue;
    }
    auto parts = SplitBlanks(line);
    if (parts.empty() || parts[0] != "MSG" || (parts.size() != 4 && parts.size() != 5)) break;
    size_t len = 0;
    std::string_view len_text = parts.back();
    if (std::from_chars(len_text.data(), len_text.data() + len_text.size(), len).ec != std::errc()) break;
    size_t body = eol + 2;
    if (body + len + 2 > data.size()) break;  // incomplete frame
    RawMsg m;
    m.subject = parts[1];
    m.sid = parts[2];
    if (parts.size() == 5) m.reply = parts[3];
    m.payload = data.substr(body, len);
    out->push_back(std::move(m));
    pos = body + len + 2;
  }
  return pos;
}

bool RawHandshake(RawClient& rc, int port, std::string* info_line) {
  if (!rc.Connect(port)) return false;
  std::string info = rc.ReadLine();
  if (info.rfind("INFO ", 0) != 0) return false;
  if (info_line) *info_line = info;
  if (!rc.Send("CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1,\"headers\":true,"
               "\"no_responders\":true,\"lang\":\"raw\",\"version\":\"0\"}\r\nPING\r\n"))
    return false;
  return !rc.ReadUntil("PONG\r\n").empty();
}

void JetStreamFixture::SetUp() {
  char tmpl[] = "/tmp/sluice-itc-js-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  store_dir_ = tmpl;
  server_ = ServerProcess::Start(GetParam(), {"-js", "-sd", store_dir_});
  ASSERT_NE(server_, nullptr);
  nc_ = Connect(server_->url());
  ASSERT_NE(nc_, nullptr);
  ASSERT_EQ(natsConnection_JetStream(&js_, nc_.get(), nullptr), NATS_OK);
}

void JetStreamFixture::TearDown() {
  if (js_) jsCtx_Destroy(js_);
  js_ = nullptr;
  nc_.reset();
  server_.reset();
  std::error_code ec;
  std::filesystem::remove_all(store_dir_, ec);
}

void ServerTest::Start(const std::string& config) {
  std::vector<std::string> args;
  if (!config.empty()) {
    config_ = std::make_unique<ConfigFile>(config);
    ASSERT_FALSE(config_->path().empty());
    args = {"-c", config_->path()};
  }
  server_ = ServerProcess::Start(GetParam(), args);
  ASSERT_NE(server_, nullptr) << "could not start " << testing::ServerBinary(GetParam());
}

std::string KindName(const ::testing::TestParamInfo<ServerKind>& info) {
  return info.param == ServerKind::kSluice ? "Sluice" : "NatsServer";
}

}  // namespace sluice::itc
