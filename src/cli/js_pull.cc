#include "js_pull.h"

#include <fmt/format.h>

#include <cstdlib>
#include <vector>

#include "js_api.h"

namespace sluice::cli {
namespace {

std::vector<std::string> Tokens(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    out.push_back(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

uint64_t ToU64(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 10); }

}  // namespace

std::optional<AckMetadata> ParseAckSubject(const std::string& reply) {
  std::vector<std::string> t = Tokens(reply);
  if (t.size() < 9 || t[0] != "$JS" || t[1] != "ACK") return std::nullopt;
  // 9 tokens: the 2.9 form; 11 or more: $JS.ACK.<domain>.<account hash>.<stream>… (newer servers).
  size_t base = t.size() == 9 ? 2 : 4;
  if (t.size() != 9 && t.size() < 11) return std::nullopt;
  AckMetadata m;
  m.stream = t[base];
  m.consumer = t[base + 1];
  m.delivered = ToU64(t[base + 2]);
  m.stream_seq = ToU64(t[base + 3]);
  m.consumer_seq = ToU64(t[base + 4]);
  m.timestamp_ns = static_cast<int64_t>(ToU64(t[base + 5]));
  m.pending = ToU64(t[base + 6]);
  return m;
}

int StatusOf(natsMsg* msg, std::string* description) {
  if (natsMsg_GetDataLength(msg) > 0) return 0;
  const char* status = nullptr;
  // nats.c files the status line of "NATS/1.0 408 Request Timeout" under these two keys.
  if (natsMsgHeader_Get(msg, "Status", &status) != NATS_OK || status == nullptr || *status == '\0') return 0;
  if (description != nullptr) {
    const char* d = nullptr;
    *description = natsMsgHeader_Get(msg, "Description", &d) == NATS_OK && d != nullptr ? d : "";
  }
  return std::atoi(status);
}

void Ack(natsConnection* nc, natsMsg* msg) {
  const char* reply = natsMsg_GetReply(msg);
  if (reply == nullptr || *reply == '\0') return;
  CheckNats(natsConnection_Publish(nc, reply, "+ACK", 4), "ack");
}

PullReader::PullReader(const Connection& conn, std::string stream, std::string consumer)
    : nc_(conn.get()), stream_(std::move(stream)), consumer_(std::move(consumer)) {
  natsInbox* inbox = nullptr;
  CheckNats(natsInbox_Create(&inbox), "inbox");
  inbox_ = inbox;
  natsInbox_Destroy(inbox);
  sub_ = SubscribeSync(conn, inbox_, "", 0);
}

void PullReader::Request(int batch, std::chrono::nanoseconds expires, bool no_wait) {
  ojson req;
  req["batch"] = batch;
  if (no_wait) {
    req["no_wait"] = true;
  } else {
    req["expires"] = expires.count();
  }
  std::string body = req.dump();
  std::string subject = fmt::format("$JS.API.CONSUMER.MSG.NEXT.{}.{}", stream_, consumer_);
  CheckNats(natsConnection_PublishRequest(nc_, subject.c_str(), inbox_.c_str(), body.data(),
                                          static_cast<int>(body.size())),
            "pull request");
}

std::optional<PullReader::Delivery> PullReader::Next(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    natsMsg* raw = nullptr;
    natsStatus s = natsSubscription_NextMsg(&raw, sub_.get(), left.count());
    if (s == NATS_TIMEOUT) return std::nullopt;
    CheckNats(s, fmt::format("reading consumer {} of stream {}", consumer_, stream_));
    Delivery d;
    d.msg.reset(raw);
    d.status = StatusOf(raw, &d.description);
    if (d.status == 100) continue;  // idle heartbeat
    return d;
  }
}

}  // namespace sluice::cli
