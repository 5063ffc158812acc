#include "server/client_connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "core/subject.h"
#include "protocol/frame_writer.h"
#include "auth/permissions.h"
#include "server/connection_tuning.h"
#include "server/event_loop.h"
#include "server/server.h"

namespace sluice::server {

using protocol::ClientOp;
using protocol::ParsedOp;
using protocol::ParseStatus;
using protocol::ProtocolError;
using Clock = std::chrono::steady_clock;

namespace {

// Reads a JSON field of CONNECT with Go's strictness: a wrong type is an error.
bool ReadBool(const nlohmann::json& j, const char* key, bool& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_boolean()) return false;
  out = it->get<bool>();
  return true;
}

bool ReadString(const nlohmann::json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool ReadInt(const nlohmann::json& j, const char* key, int& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_integer()) return false;
  out = it->get<int>();
  return true;
}

// Prefix test against a literal: its length is a constant, so the compare
// is a couple of loads, not a memcmp call (it runs several times per PUB).
template <size_t N>
inline bool StartsWith(std::string_view s, const char (&prefix)[N]) {
  return s.size() >= N - 1 && std::memcmp(s.data(), prefix, N - 1) == 0;
}

}  // namespace

const char* CloseReasonText(CloseReason reason) {
  switch (reason) {
    case CloseReason::kClientClosed: return "Client Closed";
    case CloseReason::kServerShutdown: return "Server Shutdown";
    case CloseReason::kProtocolViolation: return "Protocol Violation";
    case CloseReason::kParseError: return "Parse Error";
    case CloseReason::kMaxPayload: return "Maximum Message Payload Exceeded";
    case CloseReason::kMaxControlLine: return "Maximum Control Line Exceeded";
    case CloseReason::kAuthViolation: return "Authentication Failure";
    case CloseReason::kAuthTimeout: return "Authentication Timeout";
    case CloseReason::kSlowConsumerPendingBytes: return "Slow Consumer (Pending Bytes)";
    case CloseReason::kSlowConsumerWriteDeadline: return "Slow Consumer (Write Deadline)";
    case CloseReason::kStaleConnection: return "Stale Connection";
    case CloseReason::kMaxConnections: return "Maximum Connections Exceeded";
    case CloseReason::kWriteError: return "Write Error";
    case CloseReason::kReadError: return "Read Error";
    case CloseReason::kBadClientProtocol: return "Bad Client Protocol Version";
    case CloseReason::kNoRespondersNeedsHeaders: return "No Responders Requires Headers";
  }
  return "Unknown";
}

ClientConnection::ClientConnection(EventLoop& loop, boost::asio::ip::tcp::socket socket, uint64_t client_id)
    : loop_(loop),
      server_(loop.server()),
      socket_(std::move(socket)),
      client_id_(client_id),
      ping_timer_(loop.io()),
      auth_timer_(loop.io()),
      stall_timer_(loop.io()) {
  settings_ = server_.settings();
  parser_.set_limits({static_cast<size_t>(settings_->max_control_line), settings_->max_payload});
  max_pending_.store(static_cast<size_t>(settings_->max_pending), std::memory_order_relaxed);
  stage_slots_.reset(new int32_t[server_.loop_count()]);
  for (size_t i = 0; i < server_.loop_count(); ++i) stage_slots_[i] = -1;
  boost::system::error_code ec;
  auto endpoint = socket_.remote_endpoint(ec);
  if (!ec) {
    client_ip_ = endpoint.address().to_string();
    remote_port_ = endpoint.port();
    remote_address_ = fmt::format("{}:{}", client_ip_, remote_port_);
  }
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  started_at = std::chrono::system_clock::now();
  last_input_ = Clock::now();
  server_.live_connection_objects.fetch_add(1, std::memory_order_relaxed);
}

ClientConnection::~ClientConnection() { server_.live_connection_objects.fetch_sub(1, std::memory_order_relaxed); }

void ClientConnection::Start(bool over_connection_limit) {
  std::string info;
  protocol::AppendInfo(info, server_.InfoJson(client_id_, client_ip_));
  SendLocal(info);
  if (over_connection_limit) {
    SendError("maximum connections exceeded");
    CloseAfterFlush(CloseReason::kMaxConnections);
    loop_.FlushNoted();
    return;
  }
  spdlog::debug("{} - cid:{} - Client connection created", remote_address_, client_id_);
  if (settings_->authenticator) ArmAuthTimer();
  // The first PING comes early (at most 2 s) with up to 20 % jitter, as nats-server does.
  auto first = std::min<std::chrono::nanoseconds>(settings_->ping_interval, kFirstPingMax);
  thread_local std::minstd_rand jitter_rng{std::random_device{}()};
  auto jitter = std::chrono::nanoseconds(first.count() / 5 > 0 ? jitter_rng() % (first.count() / 5) : 0);
  ArmPingTimer(first + jitter);
  loop_.FlushNoted();
  ScheduleRead();
}

// ---------------------------------------------------------------- input

// Arms one wait for readability (idempotent). asio registers the socket
// edge-triggered and a wait only completes on a *new* edge, so it must be
// armed either after recv said EAGAIN or, as below, right after a short read
// (the socket was empty then; anything later is a new edge).
void ClientConnection::ScheduleRead() {
  if (read_armed_ || closed_) return;
  read_armed_ = true;
  socket_.async_wait(boost::asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       self->read_armed_ = false;
                       if (ec) {
                         if (!self->closed_) self->CloseNow(CloseReason::kReadError);
                         return;
                       }
                       self->OnReadable();
                     });
}

void ClientConnection::OnReadable() {
  if (closed_ || stalled_ || input_held_) return;
  auto self = shared_from_this();
  loop_.set_reader(this);
  ReadAndProcess();
  // Whatever way the batch ended (even by closing), commit what it staged.
  loop_.FlushNoted();
  loop_.set_reader(nullptr);
}

std::function<void()> ClientConnection::HoldInput() {
  if (settings_->trace) spdlog::trace("{} - cid:{} - input held until the JetStream API handled it", remote_address_, client_id_);
  input_held_ = true;
  return [self = shared_from_this()] {
    boost::asio::post(self->loop_.io(), [self] { self->ResumeHeldInput(); });
  };
}

void ClientConnection::ResumeHeldInput() {
  input_held_ = false;
  held_input_ready_ = true;
  OnReadable();  // processes what was kept, then reads on (unless stalled: then later)
}

void ClientConnection::ReadAndProcess() {
  loop_.TakeStall();  // a stall noted outside a read batch is not ours
  if (held_input_ready_) {
    // Input kept by a hold: whole operations may wait in it, so process it
    // before reading (a read might find nothing and leave them waiting).
    held_input_ready_ = false;
    if (partial_.size > 0) {
      size_t min_bytes = 0;
      const size_t consumed = ProcessInput(partial_.data.get(), partial_.size, min_bytes);
      if (closed_) return;
      partial_.Consume(consumed);
      partial_min_bytes_ = partial_.size > 0 ? min_bytes : 0;
      if (input_held_ || close_after_flush_) return;
    }
  }
  const int fd = socket_.native_handle();
  size_t total = 0;
  bool drained = false;
  while (!closed_ && !close_after_flush_) {
    // Read into the loop's scratch buffer, after the kept tail of a split
    // operation when it is small; an operation larger than half the scratch
    // (a big payload) is assembled in the connection's own buffer instead.
    EventLoop::Scratch& scratch = loop_.scratch();
    const bool large = partial_.size > 0 &&
                       (partial_.size > scratch.size() / 2 || partial_min_bytes_ > scratch.size());
    char* base;
    size_t have;
    size_t room;
    if (large) {
      partial_.Reserve(std::max(partial_min_bytes_, partial_.size + scratch.size()));
      base = partial_.data.get();
      have = partial_.size;
      room = partial_.capacity - have;
    } else {
      base = scratch.data();
      have = partial_.size;
      if (have > 0) std::memcpy(base, partial_.data.get(), have);
      room = scratch.size() - have;
    }
    ssize_t n = ::recv(fd, base + have, room, 0);
    if (n == 0) {
      CloseNow(CloseReason::kClientClosed);
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        drained = true;
        break;
      }
      CloseNow(CloseReason::kReadError);
      return;
    }
    last_input_ = Clock::now();
    const size_t got = static_cast<size_t>(n);
    total += got;
    // A short read emptied the socket: arm the wait now and skip the recv
    // that would only say EAGAIN.
    const bool short_read = got < room;
    if (short_read) ScheduleRead();
    size_t min_bytes = 0;
    const size_t filled = have + got;
    const size_t consumed = ProcessInput(base, filled, min_bytes);
    if (closed_) return;
    const size_t left = filled - consumed;
    if (large) {
      partial_.size = filled;
      partial_.Consume(consumed);
      if (partial_.size == 0 && partial_.capacity > kKeepBufferBytes) partial_.Release();
    } else if (left > 0) {
      partial_.Reserve(std::max({min_bytes, left, size_t{4096}}));
      std::memmove(partial_.data.get(), base + consumed, left);
      partial_.size = left;
    } else {
      partial_.size = 0;
      if (partial_.capacity > kKeepBufferBytes) partial_.Release();
    }
    partial_min_bytes_ = left > 0 ? min_bytes : 0;
    if (input_held_ || short_read || total >= kMaxReadPerWakeup) break;
  }
  loop_.FlushNoted();
  if (closed_ || close_after_flush_ || input_held_) return;
  if (auto stalled_on = loop_.TakeStall(); !stalled_on.expired()) {
    stalled_ = true;  // an armed wait that fires meanwhile is ignored
    StallReads(std::move(stalled_on), Clock::now() + kMaxStall);
    return;
  }
  if (read_armed_) return;
  if (drained) {
    ScheduleRead();
  } else {
    // More may be waiting: come back after the loop's other work.
    boost::asio::post(loop_.io(), [self = shared_from_this()] { self->OnReadable(); });
  }
}

size_t ClientConnection::ProcessInput(const char* data, size_t size, size_t& min_bytes) {
  size_t pos = 0;
  while (pos < size) {
    ParsedOp op = parser_.Next(std::string_view(data + pos, size - pos));
    if (op.status == ParseStatus::kNeedMore) {
      pos += op.consumed;
      min_bytes = op.min_bytes > op.consumed ? op.min_bytes - op.consumed : 0;
      return pos;
    }
    if (op.status == ParseStatus::kError) {
      HandleProtocolError(op);
      return size;
    }
    pos += op.consumed;
    if (!HandleOp(op)) return size;
    if (input_held_) {
      min_bytes = 0;
      return pos;  // the rest is kept until the hold ends
    }
  }
  min_bytes = 0;
  return pos;
}

void ClientConnection::HandleProtocolError(const ParsedOp& op) {
  CloseReason reason = CloseReason::kProtocolViolation;
  switch (op.error) {
    case ProtocolError::kUnknownOp: reason = CloseReason::kParseError; break;
    case ProtocolError::kMaxPayload: reason = CloseReason::kMaxPayload; break;
    case ProtocolError::kMaxControlLine: reason = CloseReason::kMaxControlLine; break;
    default: break;
  }
  std::string_view text = protocol::ProtocolErrorText(op.error);
  if (!text.empty()) SendError(text);
  spdlog::debug("{} - cid:{} - Protocol error: {}", remote_address_, client_id_,
                text.empty() ? "malformed arguments" : text);
  CloseAfterFlush(reason);
}

bool ClientConnection::HandleOp(const ParsedOp& op) {
  if (settings_->trace) {
    spdlog::trace("{} - cid:{} - <<- op {} {}", remote_address_, client_id_, static_cast<int>(op.op),
                  op.subject.empty() ? op.sid : op.subject);
  }
  // With auth configured, nothing but CONNECT is accepted first.
  if (!authorized_ && settings_->authenticator && op.op != ClientOp::kConnect) {
    SendError("Authorization Violation");
    CloseAfterFlush(CloseReason::kAuthViolation);
    return false;
  }
  switch (op.op) {
    case ClientOp::kConnect:
      return HandleConnect(op.json);
    case ClientOp::kPub:
    case ClientOp::kHPub:
      HandlePub(op);
      return !close_after_flush_;
    case ClientOp::kSub:
      HandleSub(op);
      return true;
    case ClientOp::kUnsub:
      HandleUnsub(op);
      return true;
    case ClientOp::kPing:
      SendLocal(protocol::kPong);
      return true;
    case ClientOp::kPong:
      if (pings_outstanding_ > 0) {
        rtt_ = Clock::now() - ping_sent_at_;
        rtt_measured_ = true;
      }
      pings_outstanding_ = 0;
      return true;
    case ClientOp::kInfo: {
      auto j = nlohmann::json::parse(op.json, nullptr, false);
      if (j.is_discarded()) {
        CloseAfterFlush(CloseReason::kProtocolViolation);
        return false;
      }
      return true;
    }
    case ClientOp::kOk:
      return true;
    case ClientOp::kErr:
      CloseAfterFlush(CloseReason::kClientClosed);
      return false;
  }
  return true;
}

bool ClientConnection::HandleConnect(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  ConnectOptions next = opts_;
  std::string user, pass, token, account;
  bool new_account = false;
  bool ok = !j.is_discarded() && j.is_object();
  if (ok) {
    ok = ReadBool(j, "verbose", next.verbose) && ReadBool(j, "pedantic", next.pedantic) &&
         ReadBool(j, "echo", next.echo) && ReadBool(j, "headers", next.headers) &&
         ReadBool(j, "no_responders", next.no_responders) && ReadInt(j, "protocol", next.protocol) &&
         ReadString(j, "name", next.name) && ReadString(j, "lang", next.lang) &&
         ReadString(j, "version", next.version) && ReadString(j, "user", user) && ReadString(j, "pass", pass) &&
         ReadString(j, "auth_token", token) && ReadString(j, "account", account) &&
         ReadBool(j, "new_account", new_account);
  }
  if (!ok) {
    spdlog::debug("{} - cid:{} - Invalid CONNECT", remote_address_, client_id_);
    CloseAfterFlush(CloseReason::kProtocolViolation);
    return false;
  }
  bool authorized = account.empty() && !new_account;
  std::optional<auth::Identity> identity;
  auth::ConnectCredentials credentials{user, pass, token};
  if (authorized && settings_->authenticator) {
    identity = settings_->authenticator->Authenticate(credentials);
    authorized = identity.has_value();
  }
  if (!authorized) {
    opts_.name = next.name;  // shown in /connz?state=closed, as nats-server does
    opts_.lang = next.lang;
    opts_.version = next.version;
    spdlog::info("{} - cid:{} - authentication error", remote_address_, client_id_);
    SendError("Authorization Violation");
    CloseAfterFlush(CloseReason::kAuthViolation);
    return false;
  }
  if (next.protocol < 0 || next.protocol > 1) {
    SendError("invalid client protocol");
    CloseAfterFlush(CloseReason::kBadClientProtocol);
    return false;
  }
  if (next.no_responders && !next.headers) {
    SendError("no responders requires headers support");
    CloseAfterFlush(CloseReason::kNoRespondersNeedsHeaders);
    return false;
  }
  opts_ = next;
  credentials_ = std::move(credentials);  // kept (never logged or shown) to re-check them on reload
  SetIdentity(identity ? std::move(*identity) : auth::Identity{});
  if (!identity) authorized_user_ = credentials_.user;  // no auth: /connz?auth=1 shows what CONNECT said
  headers_.store(opts_.headers, std::memory_order_relaxed);
  parser_.set_headers_allowed(opts_.headers);
  connect_received_ = true;
  authorized_ = true;
  auth_timer_.cancel();
  SendOk();
  return true;
}

void ClientConnection::HandlePub(const ParsedOp& op) {
  const size_t size = op.header.size() + op.payload.size();
  in_msgs.store(in_msgs.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  in_bytes.store(in_bytes.load(std::memory_order_relaxed) + size, std::memory_order_relaxed);
  loop_.stats.CountIn(size);

  // nats-server's order: a pedantic client's bad subject is reported but the
  // message still goes out; reserved prefixes stop it. The +OK of a verbose
  // client precedes any copy of the message it receives itself.
  if (opts_.pedantic && !IsValidLiteralSubject(op.subject)) SendError("Invalid Publish Subject");
  if (StartsWith(op.subject, "_GR_.") || (permissions_ && !PublishAllowed(op.subject))) {
    SendError(auth::PublishViolation(op.subject));
    SendOk();
    return;
  }
  if (!op.reply.empty() &&
      (StartsWith(op.reply, "_R_.") || StartsWith(op.reply, "_GR_.") || StartsWith(op.reply, "$JS.ACK."))) {
    SendError(fmt::format("Permissions Violation for Publish with Reply of \"{}\"", op.reply));
    SendOk();
    return;
  }
  SendOk();
  router::Router& router = server_.router();
  if (StartsWith(op.subject, "$JS.ACK.")) {
    // Every JetStream ack has a subject of its own: caching its match would
    // only cost an insert and evict useful entries.
    const router::MatchResult result = router.MatchUncached(op.subject);
    router::Message msg{op.subject, op.reply, op.header, op.payload};
    auto outcome = router.RouteTo(result, msg, this, opts_.echo, loop_.match_cache());
    if (outcome.delivered == 0 && !op.reply.empty() && opts_.no_responders) SendNoResponders(op.reply);
    return;
  }
  const uint64_t generation = router.generation();
  if (!memo_result_ || generation != memo_generation_ || op.subject != memo_subject_) {
    memo_result_ = router.Match(op.subject, loop_.match_cache());
    memo_subject_.assign(op.subject);
    memo_generation_ = generation;
  }
  router::Message msg{op.subject, op.reply, op.header, op.payload};
  auto outcome = router.RouteTo(*memo_result_, msg, this, opts_.echo, loop_.match_cache());
  if (outcome.delivered == 0 && !op.reply.empty() && opts_.no_responders) SendNoResponders(op.reply);
}

void ClientConnection::SendNoResponders(std::string_view reply) {
  auto result = server_.router().Match(reply, loop_.match_cache());
  for (const auto& sub : result->plain) {
    if (sub->sink() != this || sub->closed()) continue;
    static constexpr std::string_view kHeader = "NATS/1.0 503\r\n\r\n";
    router::Message status{reply, {}, kHeader, {}};
    Deliver(*sub, status);
    return;
  }
}

void ClientConnection::HandleSub(const ParsedOp& op) {
  if (op.queue == "_sys_" || (permissions_ && !permissions_->Subscribe(op.subject, op.queue))) {
    SendError(auth::SubscribeViolation(op.subject, op.queue));
    return;
  }
  if (op.queue == "_sys_") {
    SendError(fmt::format("Permissions Violation for Subscription to \"{}\" using queue \"{}\"", op.subject,
                          op.queue));
    return;
  }
  std::string sid(op.sid);
  if (settings_->max_subscriptions > 0 &&
      subscriptions_.size() >= static_cast<size_t>(settings_->max_subscriptions)) {
    SendError("maximum subscriptions exceeded");
    return;
  }
  if (subscriptions_.count(sid)) {
    SendOk();  // a reused sid is ignored, first one wins
    return;
  }
  if (!IsValidSubject(op.subject)) {
    SendError("Invalid Subject");
    return;
  }
  auto sub = std::make_shared<router::Subscription>(shared_from_this(), std::string(op.subject),
                                                    std::string(op.queue), sid);
  // A wildcard subscription that deny rules only partly cover is allowed,
  // but the denied subjects are filtered out on delivery (as nats-server does).
  if (permissions_ && permissions_->NeedsDeliveryFilter(op.subject)) sub->sink_flags = kFilterDelivery;
  server_.router().Insert(sub);
  subscriptions_.emplace(std::move(sid), std::move(sub));
  SendOk();
}

void ClientConnection::HandleUnsub(const ParsedOp& op) {
  auto it = subscriptions_.find(std::string(op.sid));
  if (it != subscriptions_.end()) {
    auto sub = it->second;
    uint64_t max = op.unsub_max > 0 ? static_cast<uint64_t>(op.unsub_max) : 0;
    if (max > 0 && sub->delivered() < max) {
      sub->set_max_messages(max);
      if (sub->delivered() >= max) {  // raced with deliveries
        server_.router().Remove(sub);
        subscriptions_.erase(it);
      }
    } else {
      server_.router().Remove(sub);
      subscriptions_.erase(it);
    }
  }
  SendOk();
}

// ---------------------------------------------------------------- output

ConnectionInfo ClientConnection::Snapshot(bool with_subscriptions) {
  ConnectionInfo info;
  info.cid = client_id_;
  info.ip = client_ip_;
  info.port = remote_port_;
  info.start = started_at;
  info.last_activity = std::chrono::system_clock::now() -
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(Clock::now() - last_input_);
  info.rtt = rtt_;
  info.in_msgs = in_msgs.load(std::memory_order_relaxed);
  info.in_bytes = in_bytes.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(out_mutex_);
    info.out_msgs = out_msgs_;
    info.out_bytes = out_bytes_;
    info.pending_bytes = queued_bytes_.load(std::memory_order_relaxed);
  }
  info.num_subs = subscriptions_.size();
  info.name = opts_.name;
  info.lang = opts_.lang;
  info.version = opts_.version;
  info.user = authorized_user_;
  if (with_subscriptions) {
    info.subs.reserve(subscriptions_.size());
    for (const auto& [sid, sub] : subscriptions_) {
      info.subs.push_back({sub->subject(), sub->queue(), sid, sub->delivered(), sub->max_messages(), client_id_});
    }
  }
  return info;
}

// ---------------------------------------------------------------- lifecycle

void ClientConnection::RequestClose(CloseReason reason) {
  if (close_requested_.exchange(true)) return;
  auto self = shared_from_this();
  boost::asio::post(loop_.io(), [self, reason] { self->CloseNow(reason); });
}

void ClientConnection::CloseAfterFlush(CloseReason reason) {
  if (closed_) return;
  close_after_flush_ = true;
  close_reason_ = reason;
  close_requested_.store(true, std::memory_order_relaxed);
  // The final flush happens when the loop commits its staged output (at the
  // end of the read batch): make sure there is an entry for us.
  loop_.StageFor(*this);
}

void ClientConnection::CloseNow(CloseReason reason) {
  if (closed_) return;
  auto self = shared_from_this();  // Forget() below may drop the loop's reference
  {
    ConnectionInfo info = Snapshot(false);
    info.stop = std::chrono::system_clock::now();
    info.reason = CloseReasonText(reason);
    server_.RecordClosed(std::move(info));
  }
  closed_ = true;
  close_requested_.store(true, std::memory_order_relaxed);
  for (auto& [sid, sub] : subscriptions_) server_.router().Remove(sub);
  subscriptions_.clear();
  {
    std::lock_guard lock(out_mutex_);
    socket_open_ = false;  // no thread writes to the fd from now on
    out_pending_.Release();
    out_inflight_.Release();
    queued_bytes_.store(0, std::memory_order_relaxed);
  }
  boost::system::error_code ec;
  ping_timer_.cancel();
  auth_timer_.cancel();
  stall_timer_.cancel();
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  partial_.Release();
  memo_result_.reset();
  server_.current_connections.fetch_sub(1, std::memory_order_relaxed);
  if (reason == CloseReason::kSlowConsumerWriteDeadline || reason == CloseReason::kSlowConsumerPendingBytes ||
      reason == CloseReason::kStaleConnection || reason == CloseReason::kAuthViolation ||
      reason == CloseReason::kAuthTimeout) {
    spdlog::info("{} - cid:{} - Client connection closed: {}", remote_address_, client_id_, CloseReasonText(reason));
  } else {
    spdlog::debug("{} - cid:{} - Client connection closed: {}", remote_address_, client_id_,
                  CloseReasonText(reason));
  }
  loop_.Forget(this);
}

void ClientConnection::Sweep(Clock::time_point now) {
  if (closed_) return;
  bool async_writing;
  {
    std::lock_guard lock(out_mutex_);
    async_writing = async_writing_;
    // An idle connection gives its large buffers back.
    if (!async_writing && out_pending_.empty() && out_pending_.capacity() > kKeepBufferBytes &&
        now - last_input_ > std::chrono::seconds(1)) {
      out_pending_.Release();
    }
    if (!async_writing && out_inflight_.capacity() > kKeepBufferBytes) out_inflight_.Release();
  }

  if (async_writing && !out_inflight_.empty() && now - write_started_ > settings_->write_deadline) {
    server_.slow_consumers.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("{} - cid:{} - Slow Consumer Detected: WriteDeadline of {}ms exceeded", remote_address_,
                 client_id_,
                 std::chrono::duration_cast<std::chrono::milliseconds>(settings_->write_deadline).count());
    CloseNow(close_after_flush_ ? close_reason_ : CloseReason::kSlowConsumerWriteDeadline);
  }
}

void ClientConnection::ArmPingTimer(std::chrono::nanoseconds delay) {
  ping_timer_.expires_after(delay);
  ping_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->OnPingTimer();
  });
}

void ClientConnection::OnPingTimer() {
  if (closed_ || close_after_flush_) return;
  const RuntimeSettings& o = *settings_;
  const auto now = Clock::now();
  // Skip the PING when the client was active within the interval, once its
  // round trip has been measured.
  const bool active = now - last_input_ < o.ping_interval;
  if (!rtt_measured_ || !active) {
    if (pings_outstanding_ + 1 > o.ping_max) {
      spdlog::debug("{} - cid:{} - Stale Client Connection - Closing", remote_address_, client_id_);
      SendError("Stale Connection");
      CloseAfterFlush(CloseReason::kStaleConnection);
      loop_.FlushNoted();
      return;
    }
    ++pings_outstanding_;
    ping_sent_at_ = now;
    SendLocal(protocol::kPing);
    loop_.FlushNoted();
  }
  ArmPingTimer(o.ping_interval);
}

void ClientConnection::ArmAuthTimer() {
  auth_timer_.expires_after(settings_->auth_timeout);
  auth_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_ || self->authorized_) return;
    self->SendError("Authentication Timeout");
    self->CloseAfterFlush(CloseReason::kAuthTimeout);
    self->loop_.FlushNoted();
  });
}

}  // namespace sluice::server
