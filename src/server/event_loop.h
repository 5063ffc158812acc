// EventLoop: one thread, one io_context, the connections it owns.
//
// A connection is created on, read on, written on and closed on its loop's
// thread only. Other threads reach it in two ways: Deliver() appends to its
// outbound buffer under the connection's outbound lock, and a flush request
// is posted to its loop (once per publisher read batch, not per message).
#pragma once

#include <utility>  // before Boost 1.74 asio: its awaitable.hpp needs std::exchange
#include <boost/asio.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "protocol/byte_buffer.h"
#include "router/router.h"

namespace sluice::server {

class ClientConnection;
class Server;

class EventLoop {
 public:
  EventLoop(Server& server, int index);
  ~EventLoop();

  boost::asio::io_context& io() { return io_; }
  int index() const { return index_; }
  Server& server() { return server_; }
  router::MatchCache& match_cache() { return match_cache_; }

  void Start();  // runs the thread
  void Join();
  bool InThisLoop() const { return std::this_thread::get_id() == thread_id_; }

  // Loop thread only.
  void Adopt(std::shared_ptr<ClientConnection> connection);
  void Forget(ClientConnection* connection);
  size_t connection_count() const { return connections_.size(); }
  std::vector<std::shared_ptr<ClientConnection>> SnapshotConnections() const;

  // Output staged on this loop for one target during a read batch: frames
  // are formatted here without any lock, then committed to the target once
  // (one lock, usually one send straight from this buffer).
  struct StagedOutput {
    std::shared_ptr<ClientConnection> target;
    protocol::ByteBuffer bytes;
    uint64_t msgs = 0;
    uint64_t payload_bytes = 0;
  };
  // Loop thread only: the staging entry for `target`, created on first use.
  StagedOutput& StageFor(ClientConnection& target);
  // Commits one entry now (used when it grows large mid-batch).
  void CommitEarly(StagedOutput& entry);
  // Commits every entry now, the reader's last (PubAcks sent by a sync round
  // this loop led must reach their connections before another thread may
  // send later ones).
  void CommitAllStaged();
  // A store's sync round was deferred to this loop (store/group_commit.h):
  // FlushNoted leads it after committing the batch's output.
  void NoteDeferredRound();
  // Ends a read batch: commits every staged entry, the connection being read
  // last (its replies, e.g. PONG, must not overtake what it published).
  void FlushNoted();
  void set_reader(ClientConnection* reader) { reader_ = reader; }
  // The connection whose input this loop is processing (nullptr between batches).
  ClientConnection* reader() const { return reader_; }

  // A delivery in the current read batch left its receiver far behind: the
  // connection being read should pause (see ClientConnection::StallReads).
  void NoteStall(std::weak_ptr<ClientConnection> receiver) { stall_ = std::move(receiver); }
  std::weak_ptr<ClientConnection> TakeStall() { return std::exchange(stall_, {}); }

  // The loop running on the calling thread, or nullptr.
  static EventLoop* Current();

  // Message counters of this loop (written by its thread only).
  struct Stats {
    std::atomic<uint64_t> in_msgs{0}, in_bytes{0}, out_msgs{0}, out_bytes{0};
    void CountIn(size_t bytes) {
      in_msgs.store(in_msgs.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      in_bytes.store(in_bytes.load(std::memory_order_relaxed) + bytes, std::memory_order_relaxed);
    }
    void CountOut(size_t bytes) {
      out_msgs.store(out_msgs.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      out_bytes.store(out_bytes.load(std::memory_order_relaxed) + bytes, std::memory_order_relaxed);
    }
  };
  Stats stats;

  // Read scratch shared by every connection of this loop: a connection keeps
  // bytes of its own only for an operation split across reads.
  // Allocated without being written, so pages become resident only as reads
  // reach them (idle RSS stays small).
  struct Scratch {
    std::unique_ptr<char[]> bytes;
    size_t length = 0;
    char* data() { return bytes.get(); }
    size_t size() const { return length; }
  };
  Scratch& scratch() { return scratch_; }

  // Shutdown support: stop once every connection closed or the deadline passed.
  void BeginDrain(std::chrono::steady_clock::time_point deadline);

 private:
  void CommitStagedBatch();  // FlushNoted's commit of every staged entry
  void ScheduleSweep();
  void Sweep();
  void CheckDrained();

  Server& server_;
  int index_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::thread::id thread_id_;
  router::MatchCache match_cache_;
  std::unordered_map<ClientConnection*, std::shared_ptr<ClientConnection>> connections_;
  std::vector<StagedOutput> staged_;
  std::vector<protocol::ByteBuffer> spare_buffers_;  // a small pool for staging
  ClientConnection* reader_ = nullptr;
  Scratch scratch_;
  std::weak_ptr<ClientConnection> stall_;
  boost::asio::steady_timer sweep_timer_;
  bool draining_ = false;
  bool rounds_deferred_ = false;  // sync rounds wait for this loop to lead them
  std::chrono::steady_clock::time_point drain_deadline_;
};

}  // namespace sluice::server
