// Reading a pull consumer over the wire: pull requests to
// $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer> answered on an inbox of our
// own, the status messages that end a request (404 no messages, 408 request
// timeout, 409 …), acks, and the metadata in a delivery's $JS.ACK reply
// subject. Used by `consumer next`, `bench js-consume --pull` and the Object
// Store reader. One thread uses a PullReader at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "connection.h"

namespace sluice::cli {

// From a delivery's reply subject
// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ns>.<pending>
// (also with the domain/account prefix tokens of newer servers).
struct AckMetadata {
  std::string stream;
  std::string consumer;
  uint64_t delivered = 0;
  uint64_t stream_seq = 0;
  uint64_t consumer_seq = 0;
  int64_t timestamp_ns = 0;
  uint64_t pending = 0;
};
std::optional<AckMetadata> ParseAckSubject(const std::string& reply);

// A status message's code ("NATS/1.0 408 Request Timeout" → 408) and
// description, or 0 when msg is a normal message.
int StatusOf(natsMsg* msg, std::string* description = nullptr);

// Acknowledges a delivery (publishes "+ACK" to its reply subject; nothing when it has none).
void Ack(natsConnection* nc, natsMsg* msg);

class PullReader {
 public:
  // Subscribes to a fresh inbox; throws CliError when that fails.
  PullReader(const Connection& conn, std::string stream, std::string consumer);

  // Asks for up to `batch` messages; the server ends the request with a 408
  // status after `expires` (no_wait: with a 404 at once when there is nothing).
  void Request(int batch, std::chrono::nanoseconds expires, bool no_wait = false);

  struct Delivery {
    MsgPtr msg;              // a stored message (status == 0) or the status message
    int status = 0;          // 404, 408, 409, …: the request is over
    std::string description;
  };
  // The next message on the inbox, nullopt after `wait` without one.
  // Heartbeats (100) are skipped. Throws CliError when the subscription fails.
  std::optional<Delivery> Next(std::chrono::milliseconds wait);

  natsConnection* connection() const { return nc_; }

 private:
  natsConnection* nc_;
  std::string stream_;
  std::string consumer_;
  std::string inbox_;
  SubscriptionPtr sub_;
};

}  // namespace sluice::cli
