// ClientConnection: one NATS client on a TCP socket.
//
// Owned by one EventLoop; every method but Deliver(), OnSubscriptionExpired()
// and RequestClose() runs on that loop's thread. Deliver() may run on any
// loop's thread: it appends a frame to the outbound buffer under out_mutex_
// (a leaf lock, see docs/LOCKING.md) and the publisher's loop later asks this
// connection's loop to flush.
#pragma once

#include <atomic>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp needs std::exchange
#include <boost/asio.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "auth/auth.h"
#include "protocol/byte_buffer.h"
#include "protocol/client_parser.h"
#include "server/connection_info.h"
#include "router/router.h"

namespace sluice::server {

class EventLoop;
class Server;
struct RuntimeSettings;

// Why a connection closed (the texts nats-server's /connz shows).
enum class CloseReason {
  kClientClosed,
  kServerShutdown,
  kProtocolViolation,
  kParseError,
  kMaxPayload,
  kMaxControlLine,
  kAuthViolation,
  kAuthTimeout,
  kSlowConsumerPendingBytes,
  kSlowConsumerWriteDeadline,
  kStaleConnection,
  kMaxConnections,
  kWriteError,
  kReadError,
  kBadClientProtocol,
  kNoRespondersNeedsHeaders,
};
const char* CloseReasonText(CloseReason reason);

class ClientConnection : public router::SubscriberSink, public std::enable_shared_from_this<ClientConnection> {
 public:
  ClientConnection(EventLoop& loop, boost::asio::ip::tcp::socket socket, uint64_t client_id);
  ~ClientConnection() override;

  // Loop thread: sends INFO and starts reading.
  void Start(bool over_connection_limit);

  // router::SubscriberSink (any thread)
  bool Deliver(router::Subscription& subscription, const router::Message& message) override;
  // Off the event loops (a push consumer's batch from the JetStream
  // dispatcher): the whole batch is appended under one out_mutex_ hold, with
  // one flush request. Elsewhere, or with per-message checks (delivery
  // filters, reply permits), message by message.
  size_t DeliverBatch(router::Subscription& subscription, const router::Message* messages, size_t count) override;
  void OnSubscriptionExpired(router::Subscription& subscription) override;

  // Any thread: closes the connection on its loop.
  void RequestClose(CloseReason reason);

  // Loop thread, while this connection's input is being processed (a
  // message it published is being delivered): the rest of its input waits,
  // kept, until the returned function is called (any thread, once); the
  // loop's other connections go on. Used for $JS.API.STREAM.CREATE, whose
  // subjects must be bound before the connection's next message is routed.
  std::function<void()> HoldInput();

  // Loop thread.
  // Any thread: writes what is pending straight to the socket when it can
  // (no owner-loop hop); hands the rest to the owner when the socket is full.
  void Flush();
  void Sweep(std::chrono::steady_clock::time_point now);
  void CloseAfterFlush(CloseReason reason);
  void CloseNow(CloseReason reason);
  bool closed() const { return closed_; }
  uint64_t client_id() const { return client_id_; }
  EventLoop& loop() { return loop_; }

  // Loop thread: takes reloaded settings; re-checks the credentials when the
  // auth configuration changed (closing with 'Authorization Violation' if
  // they no longer pass).
  void ApplySettings(std::shared_ptr<const RuntimeSettings> settings);

  // Loop thread: a copy of this connection's state for monitoring.
  ConnectionInfo Snapshot(bool with_subscriptions);

  // Bytes queued for this connection and not yet written (any thread).
  size_t PendingBytes();
  // Above this much pending output, publishers feeding this connection are
  // paused (their reads, not their loop) until it drains or the stall budget ends.
  size_t StallThreshold() const;

  // Any thread: output staged by a loop for this connection, committed in
  // order after what is already queued (usually sent straight from `staged`).
  void CommitStaged(protocol::ByteBuffer& staged, uint64_t msgs, uint64_t payload_bytes);

  // This connection's staging slot on loop `loop_index` (-1: none); each
  // element is used by its own loop's thread only.
  int32_t& stage_slot(int loop_index) { return stage_slots_[static_cast<size_t>(loop_index)]; }

 private:
  struct ConnectOptions {
    bool verbose = true;  // nats-server's pre-CONNECT defaults
    bool pedantic = true;
    bool echo = true;
    bool headers = false;
    bool no_responders = false;
    int protocol = 0;
    std::string name, lang, version;
  };

  void ScheduleRead();
  void OnReadable();
  void ReadAndProcess();
  void ResumeHeldInput();  // loop thread: the hold HoldInput set is over
  // Parses `data`; returns bytes consumed (the rest must be kept).
  size_t ProcessInput(const char* data, size_t size, size_t& min_bytes);
  bool HandleOp(const protocol::ParsedOp& op);  // false: stop processing (closing)
  bool HandleConnect(std::string_view json);
  void HandlePub(const protocol::ParsedOp& op);
  void HandleSub(const protocol::ParsedOp& op);
  void HandleUnsub(const protocol::ParsedOp& op);
  void HandleProtocolError(const protocol::ParsedOp& op);

  // Output from this connection's own thread (replies to its own ops).
  void SendLocal(std::string_view bytes);
  void SendError(std::string_view text);
  void SendOk() {
    if (opts_.verbose) SendLocal("+OK\r\n");
  }
  void SendNoResponders(std::string_view reply);

  bool SendPendingLocked(protocol::ByteBuffer* staged);
  void SendAndHandOver(protocol::ByteBuffer* staged, uint64_t msgs, uint64_t payload_bytes);
  void StartAsyncWrite();
  void OnWriteDone(const boost::system::error_code& ec, size_t bytes);
  void ArmPingTimer(std::chrono::nanoseconds delay);
  void OnPingTimer();
  void ArmAuthTimer();
  void StallReads(std::weak_ptr<ClientConnection> receiver, std::chrono::steady_clock::time_point until);

  EventLoop& loop_;
  Server& server_;
  boost::asio::ip::tcp::socket socket_;
  uint64_t client_id_;
  std::string remote_address_;  // "ip:port" for logs
  std::string client_ip_;
  protocol::ClientParser parser_;
  ConnectOptions opts_;
  bool connect_received_ = false;
  bool authorized_ = false;
  std::string authorized_user_;
  auth::ConnectCredentials credentials_;  // never logged nor shown; for reload
  std::shared_ptr<const RuntimeSettings> settings_;  // loop thread only
  std::shared_ptr<const auth::PermissionRules> permissions_;  // loop thread only; nullptr: all allowed

  // Read by publishers' threads: deny-filtered deliveries and allow_responses.
  struct ResponsePermit {
    int64_t remaining = 0;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex permissions_mutex_;  // guards delivery_rules_, response_* below (leaf lock)
  std::shared_ptr<const auth::PermissionRules> delivery_rules_;
  std::unordered_map<std::string, ResponsePermit> response_permissions_;
  int64_t response_max_msgs_ = 1;
  std::chrono::nanoseconds response_ttl_{0};
  std::atomic<bool> allow_responses_{false};

  void SetIdentity(auth::Identity identity);
  void NoteResponsePermission(std::string_view reply);
  void PruneResponsePermits();
  bool PublishAllowed(std::string_view subject);

  // Input: bytes of an operation split across reads (uninitialised storage,
  // so a large payload arriving in pieces is not zero-filled again and again).
  struct PartialInput {
    std::unique_ptr<char[]> data;
    size_t size = 0;
    size_t capacity = 0;
    void Reserve(size_t want) {
      if (want <= capacity) return;
      std::unique_ptr<char[]> bigger(new char[want]);
      if (size > 0) std::memcpy(bigger.get(), data.get(), size);
      data = std::move(bigger);
      capacity = want;
    }
    void Consume(size_t n) {
      if (n > 0 && n < size) std::memmove(data.get(), data.get() + n, size - n);
      size -= n;
    }
    void Release() {
      data.reset();
      size = capacity = 0;
    }
  };
  PartialInput partial_;
  bool read_armed_ = false;  // a readability wait is queued
  bool stalled_ = false;     // reads paused for back-pressure (StallReads)
  bool input_held_ = false;  // processing paused mid-input (HoldInput): the rest is in partial_
  bool held_input_ready_ = false;  // the hold ended: partial_ may hold whole operations to process first
  size_t partial_min_bytes_ = 0;

  // Output. Any thread may append to out_pending_ and write it to the socket
  // directly (non-blocking, under out_mutex_); when the socket is full the
  // owner's loop takes over with an asynchronous write of out_inflight_.
  std::mutex out_mutex_;
  protocol::ByteBuffer out_pending_;  // guarded by out_mutex_
  bool async_writing_ = false;        // guarded by out_mutex_: the owner's async write owns the socket
  bool socket_open_ = true;           // guarded by out_mutex_: the fd may be written
  std::atomic<bool> flush_posted_{false};  // a Flush is posted to the owner (off-loop deliveries)
  std::atomic<size_t> queued_bytes_{0};  // out_pending_ + out_inflight_, for max_pending and stalls
  std::atomic<size_t> max_pending_{0};   // cached from the options (reloadable)
  std::unique_ptr<int32_t[]> stage_slots_;
  std::atomic<bool> headers_{false};  // CONNECT's headers, read by publishers' threads
  uint64_t out_msgs_ = 0;             // guarded by out_mutex_
  uint64_t out_bytes_ = 0;            // guarded by out_mutex_
  protocol::ByteBuffer out_inflight_;  // guarded by out_mutex_; written to the socket by the owner's async write
  std::chrono::steady_clock::time_point write_started_;  // loop thread only
  bool close_after_flush_ = false;
  CloseReason close_reason_ = CloseReason::kClientClosed;
  std::atomic<bool> close_requested_{false};
  bool closed_ = false;

  // The last publish subject's match result, reused while the router's
  // generation is unchanged (publishers mostly repeat their subject).
  std::string memo_subject_;
  uint64_t memo_generation_ = 0;
  std::shared_ptr<const router::MatchResult> memo_result_;

  // Subscriptions by sid.
  std::unordered_map<std::string, std::shared_ptr<router::Subscription>> subscriptions_;

  // Keepalive.
  boost::asio::steady_timer ping_timer_;
  boost::asio::steady_timer auth_timer_;
  boost::asio::steady_timer stall_timer_;
  int pings_outstanding_ = 0;
  bool rtt_measured_ = false;
  std::chrono::steady_clock::time_point last_input_;
  std::chrono::steady_clock::time_point ping_sent_at_;
  std::chrono::nanoseconds rtt_{0};
  int remote_port_ = 0;

 public:
  // Statistics (monitoring).
  // in_* are written by the loop thread only; relaxed atomics for readers.
  std::atomic<uint64_t> in_msgs{0}, in_bytes{0};
  std::chrono::system_clock::time_point started_at;
};

}  // namespace sluice::server
