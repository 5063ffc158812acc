// ClientConnection, output: deliveries into the loops' staging buffers,
// committing them to the socket, asynchronous writes when it is full, and
// the back-pressure stall.
#include "server/client_connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "auth/permissions.h"
#include "protocol/frame_writer.h"
#include "server/connection_tuning.h"
#include "server/event_loop.h"
#include "server/server.h"

namespace sluice::server {

using Clock = std::chrono::steady_clock;

bool ClientConnection::Deliver(router::Subscription& sub, const router::Message& m) {
  if (close_requested_.load(std::memory_order_relaxed)) return false;
  if (sub.sink_flags & kFilterDelivery) {
    std::lock_guard lock(permissions_mutex_);
    if (delivery_rules_ && !delivery_rules_->DeliveryAllowed(m.subject)) return false;
  }
  if (!m.reply.empty() && allow_responses_.load(std::memory_order_relaxed)) NoteResponsePermission(m.reply);
  const bool headers = headers_.load(std::memory_order_relaxed);
  const size_t max_pending = max_pending_.load(std::memory_order_relaxed);
  EventLoop* current = EventLoop::Current();
  if (current == nullptr) {
    // Not on an event loop (an internal publisher): append under the lock
    // and let the owner's loop flush.
    {
      std::lock_guard lock(out_mutex_);
      size_t before = out_pending_.size();
      protocol::AppendMessage(out_pending_, m.subject, sub.sid(), m.reply, m.header, m.payload, headers);
      if (queued_bytes_.load(std::memory_order_relaxed) + (out_pending_.size() - before) > max_pending) {
        out_pending_.Truncate(before);
        goto slow_consumer;
      }
      queued_bytes_.store(queued_bytes_.load(std::memory_order_relaxed) + (out_pending_.size() - before),
                          std::memory_order_relaxed);
      out_msgs_ += 1;
      out_bytes_ += m.header.size() + m.payload.size();
    }
    // One flush request covers every message appended until it runs (a burst
    // of PubAcks from the store's committer becomes one write).
    if (!flush_posted_.exchange(true, std::memory_order_acq_rel)) {
      boost::asio::post(loop_.io(), [self = shared_from_this()] {
        self->flush_posted_.store(false, std::memory_order_release);
        self->Flush();
      });
    }
    return true;
  }
  {
    EventLoop::StagedOutput& staged = current->StageFor(*this);
    const size_t before = staged.bytes.size();
    protocol::AppendMessage(staged.bytes, m.subject, sub.sid(), m.reply, m.header, m.payload, headers);
    const size_t queued = queued_bytes_.load(std::memory_order_relaxed) + staged.bytes.size();
    if (queued > max_pending) {
      staged.bytes.Truncate(before);
      goto slow_consumer;
    }
    staged.msgs += 1;
    staged.payload_bytes += m.header.size() + m.payload.size();
    current->stats.CountOut(m.header.size() + m.payload.size());
    if (queued > max_pending / 4 * 3) current->NoteStall(weak_from_this());
    if (staged.bytes.size() >= kCommitEarlyBytes) current->CommitEarly(staged);
    return true;
  }

slow_consumer:
  server_.slow_consumers.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("{} - cid:{} - Slow Consumer Detected: MaxPending of {} Exceeded", remote_address_, client_id_,
               max_pending);
  RequestClose(CloseReason::kSlowConsumerPendingBytes);
  return false;
}

size_t ClientConnection::DeliverBatch(router::Subscription& sub, const router::Message* messages, size_t count) {
  if (EventLoop::Current() != nullptr || (sub.sink_flags & kFilterDelivery) ||
      allow_responses_.load(std::memory_order_relaxed)) {
    return SubscriberSink::DeliverBatch(sub, messages, count);
  }
  if (close_requested_.load(std::memory_order_relaxed)) return 0;
  const bool headers = headers_.load(std::memory_order_relaxed);
  const size_t max_pending = max_pending_.load(std::memory_order_relaxed);
  size_t n = 0;
  {
    std::lock_guard lock(out_mutex_);
    const size_t queued = queued_bytes_.load(std::memory_order_relaxed);
    const size_t start = out_pending_.size();
    uint64_t payload_bytes = 0;
    for (; n < count; ++n) {
      const router::Message& m = messages[n];
      const size_t before = out_pending_.size();
      protocol::AppendMessage(out_pending_, m.subject, sub.sid(), m.reply, m.header, m.payload, headers);
      if (queued + (out_pending_.size() - start) > max_pending) {
        out_pending_.Truncate(before);
        break;
      }
      payload_bytes += m.header.size() + m.payload.size();
    }
    queued_bytes_.store(queued + (out_pending_.size() - start), std::memory_order_relaxed);
    out_msgs_ += n;
    out_bytes_ += payload_bytes;
  }
  if (n > 0 && !flush_posted_.exchange(true, std::memory_order_acq_rel)) {
    boost::asio::post(loop_.io(), [self = shared_from_this()] {
      self->flush_posted_.store(false, std::memory_order_release);
      self->Flush();
    });
  }
  if (n < count) {
    server_.slow_consumers.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("{} - cid:{} - Slow Consumer Detected: MaxPending of {} Exceeded", remote_address_, client_id_,
                 max_pending);
    RequestClose(CloseReason::kSlowConsumerPendingBytes);
  }
  return n;
}

size_t ClientConnection::PendingBytes() { return queued_bytes_.load(std::memory_order_relaxed); }

size_t ClientConnection::StallThreshold() const { return max_pending_.load(std::memory_order_relaxed) / 4 * 3; }

void ClientConnection::StallReads(std::weak_ptr<ClientConnection> receiver, Clock::time_point until) {
  auto r = receiver.lock();
  if (!r || r->closed_ || r->close_requested_.load(std::memory_order_relaxed) ||
      r->PendingBytes() < r->StallThreshold() || Clock::now() >= until) {
    stalled_ = false;
    OnReadable();  // resume: reads what waited, then re-arms the read wait
    return;
  }
  stall_timer_.expires_after(kStallCheck);
  stall_timer_.async_wait([self = shared_from_this(), receiver = std::move(receiver),
                           until](const boost::system::error_code& ec) {
    if (ec || self->closed_) return;
    self->StallReads(receiver, until);
  });
}

void ClientConnection::OnSubscriptionExpired(router::Subscription& sub) {
  auto self = shared_from_this();
  std::string sid = sub.sid();
  const router::Subscription* which = &sub;
  auto erase = [self, sid = std::move(sid), which] {
    auto it = self->subscriptions_.find(sid);
    if (it != self->subscriptions_.end() && it->second.get() == which) self->subscriptions_.erase(it);
  };
  if (loop_.InThisLoop()) {
    erase();
  } else {
    boost::asio::post(loop_.io(), std::move(erase));
  }
}

void ClientConnection::SendLocal(std::string_view bytes) {
  // Owner thread: staged on our own loop, so it stays in order with the
  // messages this loop delivers to us in the same batch.
  loop_.StageFor(*this).bytes.append(bytes);
}

void ClientConnection::SendError(std::string_view text) {
  std::string frame;
  protocol::AppendError(frame, text);
  SendLocal(frame);
}

// Under out_mutex_: queues `staged` (if any) after what is already pending and
// writes straight to the socket until everything is out or the socket is full
// (then async_writing_ is set and the owner's loop takes over). When nothing
// was pending, `staged` is written from its own buffer without a copy.
// Returns false on a write error.
bool ClientConnection::SendPendingLocked(protocol::ByteBuffer* staged) {
  if (staged != nullptr && !staged->empty()) {
    if (out_pending_.empty() && !async_writing_) {
      // The common case: nothing queued before, write from the staging buffer itself.
      while (!staged->empty()) {
        ssize_t n = ::send(socket_.native_handle(), staged->data(), staged->size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
          staged->Consume(static_cast<size_t>(n));
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
        break;  // full: the rest is queued below
      }
    }
    if (!staged->empty()) out_pending_.append(staged->view());
    staged->clear();
  }
  while (!async_writing_ && !out_pending_.empty()) {
    ssize_t n = ::send(socket_.native_handle(), out_pending_.data(), out_pending_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_pending_.Consume(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    async_writing_ = true;  // the socket is full: the owner's loop waits for it to drain
  }
  if (!async_writing_ && out_pending_.capacity() > kKeepBusyOutputBytes) out_pending_.Release();
  queued_bytes_.store(out_pending_.size() + out_inflight_.size(), std::memory_order_relaxed);
  return true;
}

void ClientConnection::CommitStaged(protocol::ByteBuffer& staged, uint64_t msgs, uint64_t payload_bytes) {
  SendAndHandOver(&staged, msgs, payload_bytes);
}

void ClientConnection::Flush() { SendAndHandOver(nullptr, 0, 0); }

void ClientConnection::SendAndHandOver(protocol::ByteBuffer* staged, uint64_t msgs, uint64_t payload_bytes) {
  const bool on_owner = loop_.InThisLoop();
  bool start_async = false;
  {
    std::unique_lock lock(out_mutex_);
    if (!socket_open_) return;
    out_msgs_ += msgs;
    out_bytes_ += payload_bytes;
    const bool was_async = async_writing_;
    if (!SendPendingLocked(staged)) {
      lock.unlock();
      RequestClose(CloseReason::kWriteError);
      return;
    }
    start_async = async_writing_ && !was_async;
    if (!async_writing_ && out_pending_.empty()) {
      lock.unlock();
      if (on_owner && close_after_flush_) CloseNow(close_reason_);
      return;
    }
  }
  if (!start_async) return;  // an async write is already under way; its completion sends the rest
  if (on_owner) {
    StartAsyncWrite();
  } else {
    boost::asio::post(loop_.io(), [self = shared_from_this()] { self->StartAsyncWrite(); });
  }
}

// Owner thread, with async_writing_ claimed.
void ClientConnection::StartAsyncWrite() {
  if (closed_) return;
  {
    std::lock_guard lock(out_mutex_);
    out_inflight_.swap(out_pending_);
    if (out_inflight_.empty()) {
      async_writing_ = false;
      return;
    }
  }
  write_started_ = Clock::now();
  boost::asio::async_write(socket_, boost::asio::buffer(out_inflight_.data(), out_inflight_.size()),
                           [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                             self->OnWriteDone(ec, n);
                           });
}

void ClientConnection::OnWriteDone(const boost::system::error_code& ec, size_t) {
  if (closed_) return;
  if (ec) {
    CloseNow(CloseReason::kWriteError);
    return;
  }
  {
    std::lock_guard lock(out_mutex_);
    if (out_inflight_.capacity() > kKeepBusyOutputBytes) {
      out_inflight_.Release();
    } else {
      out_inflight_.clear();
    }
    async_writing_ = false;
  }
  Flush();  // back to direct writes; what piled up meanwhile goes now
}

}  // namespace sluice::server
