#include "server/event_loop.h"

#include <spdlog/spdlog.h>

#include "server/client_connection.h"
#include "server/server.h"

namespace sluice::server {
namespace {
thread_local EventLoop* current_loop = nullptr;
constexpr size_t kScratchBytes = 256 * 1024;
}  // namespace

EventLoop* EventLoop::Current() { return current_loop; }

EventLoop::EventLoop(Server& server, int index)
    : server_(server), index_(index), work_(io_.get_executor()), scratch_(kScratchBytes), sweep_timer_(io_) {}

EventLoop::~EventLoop() { Join(); }

void EventLoop::Start() {
  thread_ = std::thread([this] {
    current_loop = this;
    thread_id_ = std::this_thread::get_id();
    ScheduleSweep();
    io_.run();
    current_loop = nullptr;
  });
}

void EventLoop::Join() {
  if (thread_.joinable()) thread_.join();
}

void EventLoop::Adopt(std::shared_ptr<ClientConnection> connection) {
  ClientConnection* key = connection.get();
  connections_.emplace(key, std::move(connection));
}

void EventLoop::Forget(ClientConnection* connection) {
  connections_.erase(connection);
  if (draining_) CheckDrained();
}

std::vector<std::shared_ptr<ClientConnection>> EventLoop::SnapshotConnections() const {
  std::vector<std::shared_ptr<ClientConnection>> all;
  all.reserve(connections_.size());
  for (const auto& [key, c] : connections_) all.push_back(c);
  return all;
}

void EventLoop::NoteOutput(const std::shared_ptr<ClientConnection>& target) { noted_.push_back(target); }

void EventLoop::FlushNoted() {
  // Flushing may note more output (a close after flush): loop until empty.
  while (!noted_.empty()) {
    flushing_.swap(noted_);
    for (auto& c : flushing_) {
      // Written in place from this thread; only a full socket involves the
      // receiver's own loop.
      c->flush_noted.store(false, std::memory_order_release);
      c->Flush();
    }
    flushing_.clear();
  }
}

void EventLoop::ScheduleSweep() {
  auto period = std::chrono::duration_cast<std::chrono::milliseconds>(server_.options().write_deadline / 4);
  period = std::clamp(period, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  sweep_timer_.expires_after(period);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    Sweep();
    ScheduleSweep();
  });
}

void EventLoop::Sweep() {
  auto now = std::chrono::steady_clock::now();
  // Copy: a sweep may close connections (and so erase from the set).
  auto all = SnapshotConnections();
  for (auto& c : all) c->Sweep(now);
  if (draining_) CheckDrained();
}

void EventLoop::BeginDrain(std::chrono::steady_clock::time_point deadline) {
  draining_ = true;
  drain_deadline_ = deadline;
  auto all = SnapshotConnections();
  for (auto& c : all) c->CloseAfterFlush(CloseReason::kServerShutdown);
  FlushNoted();
  CheckDrained();
}

void EventLoop::CheckDrained() {
  if (connections_.empty() || std::chrono::steady_clock::now() >= drain_deadline_) {
    auto all = SnapshotConnections();
    for (auto& c : all) {
      if (!c->closed()) c->CloseNow(CloseReason::kServerShutdown);
    }
    sweep_timer_.cancel();
    work_.reset();
    io_.stop();
  }
}

}  // namespace sluice::server
