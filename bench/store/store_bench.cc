// store_bench: measures the log store on this machine's disk and prints a
// Markdown table.
//
//   store_bench [--dir D] [--gib G] [--quick]
//
// 1. The disk itself: sequential write bandwidth with fdatasync after every
//    1 MiB and every 8 MiB, and the fdatasync rate of 4 KiB writes (same file system, same run).
// 2. Append throughput, 128 B and 4 KiB payloads, sync "always" (group
//    commit: time until the last durable callback) and sync every 100 ms.
// 3. Load throughput: sequential by sequence, and LoadNext on a rare subject.
// 4. Recovery of a G GiB stream (default 1): after a clean stop, after
//    SIGKILL, and with every checkpoint deleted (full scan). Page cache warm.
// 5. Index bytes per message, and the memory of 10,000 empty file stores.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "store/filesystem.h"
#include "store/group_commit.h"
#include "store/store.h"

using namespace sluice::store;
namespace fs = std::filesystem;

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Row {
  std::string what, result, note;
};
std::vector<Row> rows;
void Add(std::string what, std::string result, std::string note = "") {
  std::fprintf(stderr, "  %s: %s %s\n", what.c_str(), result.c_str(), note.c_str());
  rows.push_back({std::move(what), std::move(result), std::move(note)});
}
std::string Fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

uint64_t RssBytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, rss = 0;
  f >> size >> rss;
  return rss * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// --- 1. the raw disk -------------------------------------------------------
// Appends `total` bytes to a new file in write(2)s of write_size, with an
// fdatasync after every sync_every bytes.
double RawBandwidthMBs(const std::string& dir, uint64_t total, size_t sync_every, size_t write_size) {
  std::string path = dir + "/raw.bin";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string block(write_size, 'r');
  double t0 = Now();
  uint64_t unsynced = 0;
  for (uint64_t done = 0; done < total; done += block.size()) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
    unsynced += block.size();
    if (unsynced >= sync_every) {
      ::fdatasync(fd);
      unsynced = 0;
    }
  }
  ::fdatasync(fd);
  double t = Now() - t0;
  ::close(fd);
  ::unlink(path.c_str());
  return total / t / 1e6;
}

double FsyncRate(const std::string& dir, int count) {
  std::string path = dir + "/fsync.bin";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string block(4096, 'f');
  double t0 = Now();
  for (int i = 0; i < count; ++i) {
    (void)!::write(fd, block.data(), block.size());
    ::fdatasync(fd);
  }
  double t = Now() - t0;
  ::close(fd);
  ::unlink(path.c_str());
  return count / t;
}

// --- 2. appends ---------------------------------------------------------------
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t done = 0;
  void Wait(uint64_t n) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return done >= n; });
  }
};

void AppendBench(const std::string& dir, size_t size, int64_t interval_ns, uint64_t total_bytes, double raw_mbs) {
  std::string d = dir + "/append-" + std::to_string(size) + "-" + std::to_string(interval_ns);
  fs::remove_all(d);
  GroupCommitter committer(1);
  StoreConfig c;
  c.committer = &committer;
  c.sync_interval_ns = interval_ns;
  auto s = OpenFileStore(d, c, PosixFileSystem());
  if (!s.ok()) return;
  MessageStore& store = **s;
  std::string payload(size, 'p');
  uint64_t n = total_bytes / size;
  Waiter w;
  auto cb = [&w](uint64_t, const Status&) {
    std::lock_guard<std::mutex> l(w.mu);
    if (++w.done % 1024 == 0) w.cv.notify_all();
  };
  double t0 = Now();
  for (uint64_t i = 0; i < n; ++i) {
    if (!store.Append("bench.append", "", payload, cb).ok()) break;
  }
  (void)store.Sync();
  {
    std::lock_guard<std::mutex> l(w.mu);
    w.cv.notify_all();
  }
  w.Wait(n);
  double t = Now() - t0;
  double mbs = n * static_cast<double>(size) / t / 1e6;
  std::string mode = interval_ns == 0 ? "always" : Fmt("%.0f ms", interval_ns / 1e6);
  Add("append " + std::to_string(size) + " B, sync " + mode,
      Fmt("%.0f msgs/s", n / t) + ", " + Fmt("%.1f MB/s", mbs),
      interval_ns == 0 ? Fmt("%.0f %% of raw fdatasync bandwidth", 100 * mbs / raw_mbs) : "acked before fsync");
  (void)store.Close();
  fs::remove_all(d);
}

// --- 3/4/5. a big stream -------------------------------------------------------
constexpr size_t kBigPayload = 1024;

std::string SubjectFor(uint64_t i) { return i % 1000 == 0 ? "big.rare" : "big.s" + std::to_string(i % 64); }

void FillBig(const std::string& d, uint64_t total_bytes) {
  StoreConfig c;
  c.sync_interval_ns = 1'000'000'000;
  auto s = OpenFileStore(d, c, PosixFileSystem());
  if (!s.ok()) return;
  std::string payload(kBigPayload, 'b');
  uint64_t n = total_bytes / (kBigPayload + 40);
  for (uint64_t i = 1; i <= n; ++i) (void)(*s)->Append(SubjectFor(i), "", payload);
  (void)(*s)->Close();
}

double TimeOpen(const std::string& d, uint64_t* msgs, uint64_t* index_bytes) {
  StoreConfig c;
  double t0 = Now();
  auto s = OpenFileStore(d, c, PosixFileSystem());
  double t = Now() - t0;
  if (!s.ok()) return -1;
  StoreState st = (*s)->State();
  *msgs = st.msgs;
  *index_bytes = (*s)->IndexMemoryBytes();
  (void)(*s)->Close();
  return t;
}

void BigStreamBench(const std::string& dir, double gib) {
  std::string d = dir + "/big";
  fs::remove_all(d);
  uint64_t total = static_cast<uint64_t>(gib * (1ull << 30));
  double t0 = Now();
  FillBig(d, total);
  std::fprintf(stderr, "  filled %.2f GiB in %.1f s\n", gib, Now() - t0);

  uint64_t msgs = 0, index_bytes = 0;
  double clean = TimeOpen(d, &msgs, &index_bytes);
  std::string size = Fmt("%.2f GiB", gib) + ", " + std::to_string(msgs) + " msgs";
  Add("recovery after clean stop (" + size + ")", Fmt("%.3f s", clean), "checkpoints valid");
  Add("index memory per message", Fmt("%.1f bytes", double(index_bytes) / msgs),
      "slots 16 B + segment summaries + subject table (65 subjects)");

  // Loads.
  {
    StoreConfig c;
    auto s = OpenFileStore(d, c, PosixFileSystem());
    MessageStore& store = **s;
    uint64_t n = std::min<uint64_t>(msgs, 500'000);
    double t1 = Now();
    uint64_t bytes = 0;
    for (uint64_t q = 1; q <= n; ++q) bytes += store.Load(q)->payload.size();
    double t = Now() - t1;
    Add("load by sequence, sequential", Fmt("%.0f msgs/s", n / t) + ", " + Fmt("%.0f MB/s", bytes / t / 1e6));
    t1 = Now();
    uint64_t found = 0;
    for (uint64_t q = 1;;) {
      StatusOr<StoredMessage> m = store.LoadNext("big.rare", q);
      if (!m.ok()) break;
      found++;
      q = m->seq + 1;
    }
    t = Now() - t1;
    Add("LoadNext on a subject in 1 of 1000 msgs", Fmt("%.0f matches/s", found / t),
        Fmt("whole stream walked in %.3f s", t));
    t1 = Now();
    found = 0;
    for (uint64_t q = 1; found < 200'000;) {
      StatusOr<StoredMessage> m = store.LoadNext("big.*", q);
      if (!m.ok()) break;
      found++;
      q = m->seq + 1;
    }
    t = Now() - t1;
    Add("LoadNext with wildcard filter big.*", Fmt("%.0f msgs/s", found / t));
    (void)store.Close();
  }

  // SIGKILL: a child appends (periodic checkpoints only) and is killed.
  {
    pid_t pid = fork();
    if (pid == 0) {
      StoreConfig c;
      auto s = OpenFileStore(d, c, PosixFileSystem());
      std::string payload(kBigPayload, 'k');
      for (uint64_t i = 0;; ++i) (void)(*s)->Append(SubjectFor(i), "", payload);
    }
    usleep(1'500'000);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    double killed = TimeOpen(d, &msgs, &index_bytes);
    Add("recovery after SIGKILL (" + std::to_string(msgs) + " msgs)", Fmt("%.3f s", killed),
        "last checkpoint + scan of the tail after it");
  }
  // No checkpoints at all: every record is read and checked.
  for (const auto& e : fs::directory_iterator(d)) {
    if (e.path().extension() == ".idx") fs::remove(e.path());
  }
  double scan = TimeOpen(d, &msgs, &index_bytes);
  Add("recovery without checkpoints (full scan)", Fmt("%.3f s", scan), "page cache warm");
  fs::remove_all(d);
}

void EmptyStores(const std::string& dir, int count) {
  std::string d = dir + "/empty";
  fs::remove_all(d);
  uint64_t rss0 = RssBytes();
  std::vector<std::unique_ptr<MessageStore>> stores;
  GroupCommitter committer(1);
  StoreConfig c;
  c.committer = &committer;
  for (int i = 0; i < count; ++i) {
    auto s = OpenFileStore(d + "/" + std::to_string(i), c, PosixFileSystem());
    if (s.ok()) stores.push_back(std::move(*s));
  }
  uint64_t rss1 = RssBytes();
  uint64_t index = 0;
  for (auto& s : stores) index += s->IndexMemoryBytes();
  Add(std::to_string(count) + " empty file stores", Fmt("%.1f KiB RSS each", (rss1 - rss0) / 1024.0 / count),
      Fmt("index %.1f KiB each", index / 1024.0 / count));
  stores.clear();
  fs::remove_all(d);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = (fs::temp_directory_path() / "sluice-store-bench").string();
  double gib = 1.0;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--gib" && i + 1 < argc) gib = std::atof(argv[++i]);
    else if (a == "--quick") quick = true;
  }
  if (quick) gib = std::min(gib, 0.125);
  fs::create_directories(dir);
  std::fprintf(stderr, "store_bench in %s\n", dir.c_str());
  uint64_t append_bytes = quick ? (32ull << 20) : (256ull << 20);

  EmptyStores(dir, quick ? 1000 : 10000);  // first, while the heap is small
  uint64_t raw_total = quick ? (64ull << 20) : (512ull << 20);
  double raw1 = RawBandwidthMBs(dir, raw_total, 1 << 20, 1 << 20);
  Add("raw sequential write, fdatasync every 1 MiB", Fmt("%.1f MB/s", raw1), "same disk, same run");
  double raw8 = RawBandwidthMBs(dir, raw_total, 8 << 20, 1 << 20);
  Add("raw sequential write, fdatasync every 8 MiB (1 MiB writes)", Fmt("%.1f MB/s", raw8),
      "the bandwidth the % below compare with");
  // Why the store never writes more than 1 MiB per write(2) (WriteAll): the
  // same bytes in 8 MiB writes.
  double raw8big = RawBandwidthMBs(dir, raw_total, 8 << 20, 8 << 20);
  Add("raw sequential write, fdatasync every 8 MiB (8 MiB writes)", Fmt("%.1f MB/s", raw8big),
      "write(2)s over 1 MiB are slow here: the store splits them");
  double raw = std::max(raw1, raw8);
  double rate = FsyncRate(dir, quick ? 200 : 1000);
  Add("raw fdatasync rate (4 KiB writes)", Fmt("%.0f fsyncs/s", rate));

  AppendBench(dir, 4096, 0, append_bytes, raw);
  AppendBench(dir, 128, 0, append_bytes / 8, raw);
  AppendBench(dir, 4096, 100'000'000, append_bytes, raw);
  AppendBench(dir, 128, 100'000'000, append_bytes / 8, raw);
  BigStreamBench(dir, gib);

  std::printf("| measurement | result | note |\n|---|---|---|\n");
  for (const Row& r : rows) std::printf("| %s | %s | %s |\n", r.what.c_str(), r.result.c_str(), r.note.c_str());
  fs::remove_all(dir);
  return 0;
}
