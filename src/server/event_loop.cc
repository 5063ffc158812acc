#include "server/event_loop.h"

#include <spdlog/spdlog.h>

#include "server/client_connection.h"
#include "server/server.h"
#ifdef SLUICE_HAVE_JETSTREAM
#include "store/group_commit.h"
#endif

namespace sluice::server {
namespace {
thread_local EventLoop* current_loop = nullptr;
constexpr size_t kScratchBytes = 256 * 1024;
constexpr size_t kSpareBuffers = 16;
constexpr size_t kSpareBufferBytes = 512 * 1024;

#ifdef SLUICE_HAVE_JETSTREAM
// The loop as the leader of small sync rounds of the stores it appends to
// (store/group_commit.h): a synchronous publisher's fsync runs on its own
// loop at the end of the read batch and its PubAck leaves from there, with
// no wake-up of the committer thread and none back.
class LoopRoundLeader final : public store::RoundLeader {
 public:
  explicit LoopRoundLeader(EventLoop& loop) : loop_(loop) {}
  void OnRoundDeferred() override { loop_.NoteDeferredRound(); }

 private:
  EventLoop& loop_;
};
#endif
}  // namespace

EventLoop* EventLoop::Current() { return current_loop; }

EventLoop::EventLoop(Server& server, int index)
    : server_(server), index_(index), work_(io_.get_executor()), sweep_timer_(io_) {
  scratch_.bytes.reset(new char[kScratchBytes]);  // default-initialised: not touched
  scratch_.length = kScratchBytes;
}

EventLoop::~EventLoop() { Join(); }

void EventLoop::Start() {
  thread_ = std::thread([this] {
    current_loop = this;
    thread_id_ = std::this_thread::get_id();
#ifdef SLUICE_HAVE_JETSTREAM
    LoopRoundLeader leader(*this);
    store::GroupCommitter::SetThreadLeader(&leader);
#endif
    ScheduleSweep();
    io_.run();
#ifdef SLUICE_HAVE_JETSTREAM
    store::GroupCommitter::LeadDeferredRounds();  // none should be left; never strand one
    store::GroupCommitter::SetThreadLeader(nullptr);
#endif
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

EventLoop::StagedOutput& EventLoop::StageFor(ClientConnection& target) {
  int32_t& slot = target.stage_slot(index_);
  if (slot >= 0) return staged_[static_cast<size_t>(slot)];
  slot = static_cast<int32_t>(staged_.size());
  StagedOutput& entry = staged_.emplace_back();
  entry.target = target.shared_from_this();
  if (!spare_buffers_.empty()) {
    entry.bytes.swap(spare_buffers_.back());
    spare_buffers_.pop_back();
  }
  return entry;
}

void EventLoop::CommitEarly(StagedOutput& entry) {
  entry.target->CommitStaged(entry.bytes, entry.msgs, entry.payload_bytes);
  entry.bytes.clear();
  entry.msgs = entry.payload_bytes = 0;
}

void EventLoop::CommitAllStaged() {
  StagedOutput* reader_entry = nullptr;
  for (auto& e : staged_) {
    if (e.target.get() == reader_) {
      reader_entry = &e;
      continue;
    }
    if (!e.bytes.empty()) CommitEarly(e);
  }
  if (reader_entry != nullptr && !reader_entry->bytes.empty()) CommitEarly(*reader_entry);
}

void EventLoop::NoteDeferredRound() {
  if (rounds_deferred_) return;
  rounds_deferred_ = true;
  // Inside a read batch its FlushNoted leads the round; anywhere else, make
  // sure one runs soon (a post from the loop's own thread wakes nothing).
  if (reader_ == nullptr) boost::asio::post(io_, [this] { FlushNoted(); });
}

void EventLoop::FlushNoted() {
  CommitStagedBatch();
#ifdef SLUICE_HAVE_JETSTREAM
  // Sync rounds deferred to this loop by the batch's appends: their fsync
  // and PubAcks come after the batch's other output has left.
  while (rounds_deferred_) {
    rounds_deferred_ = false;
    store::GroupCommitter::LeadDeferredRounds();
    CommitStagedBatch();
  }
#endif
}

void EventLoop::CommitStagedBatch() {
  // Committing may close a connection, which never stages; still, loop until
  // nothing is left.
  while (!staged_.empty()) {
    std::vector<StagedOutput> batch;
    batch.swap(staged_);
    for (auto& e : batch) e.target->stage_slot(index_) = -1;
    StagedOutput* reader_entry = nullptr;
    for (auto& e : batch) {
      if (e.target.get() == reader_) {
        reader_entry = &e;
        continue;
      }
      e.target->CommitStaged(e.bytes, e.msgs, e.payload_bytes);
    }
    if (reader_entry != nullptr) {
      reader_entry->target->CommitStaged(reader_entry->bytes, reader_entry->msgs, reader_entry->payload_bytes);
    }
    for (auto& e : batch) {
      if (spare_buffers_.size() < kSpareBuffers && e.bytes.capacity() <= kSpareBufferBytes) {
        e.bytes.clear();
        spare_buffers_.push_back(std::move(e.bytes));
      }
    }
    if (staged_.empty()) {
      batch.clear();
      staged_.swap(batch);  // keep the vector's capacity
    }
  }
}

void EventLoop::ScheduleSweep() {
  auto period = std::chrono::duration_cast<std::chrono::milliseconds>(server_.settings()->write_deadline / 4);
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
