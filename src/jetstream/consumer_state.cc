// The consumer state journal (consumer_state.h); layout byte by byte in
// docs/storage-format.md, "Consumer state".
#include "jetstream/consumer_state.h"

#include <atomic>
#include <cstring>
#include <filesystem>

#include "store/crc32c.h"

namespace sluice::jetstream {
namespace {

std::atomic<uint64_t> g_compact_floor{ConsumerJournal::kDefaultCompactFloorBytes};

}  // namespace

JournalContents ReadJournal(store::FileSystem& fs, const std::string& path, uint64_t generation) {
  JournalContents out;
  if (!fs.Exists(path)) return out;
  auto file = fs.Open(path, store::OpenMode::kRead);
  if (!file.ok()) {
    out.problem = "cannot open: " + file.status().ToString();
    return out;
  }
  auto size = (*file)->Size();
  if (!size.ok()) {
    out.problem = "cannot read its size: " + size.status().ToString();
    return out;
  }
  std::string text(*size, '\0');
  if (!store::ReadExact(**file, 0, text.size(), text.data()).ok()) {
    out.problem = "cannot read it";
    return out;
  }
  return ParseJournal(text, generation);
}

ConsumerJournal::ConsumerJournal(store::FileSystem& fs, std::string path, bool sync)
    : fs_(fs), path_(std::move(path)), sync_(sync) {}

store::Status ConsumerJournal::Reset(uint64_t generation) {
  file_.reset();
  bytes_ = 0;
  auto file = fs_.Open(path_, store::OpenMode::kCreateTruncate);
  if (!file.ok()) return file.status();
  std::string header = EncodeJournalHeader(generation);
  auto st = store::WriteAll(**file, header);
  if (st.ok() && sync_) st = (*file)->Sync();
  if (st.ok() && sync_) st = fs_.SyncDir(std::filesystem::path(path_).parent_path().string());
  if (!st.ok()) return st;
  file_ = std::move(*file);
  bytes_ = header.size();
  return st;
}

store::Status ConsumerJournal::Append(const StateDelta& delta) {
  if (!file_) return store::IoError("consumer journal is not open");
  std::string record = EncodeRecord(delta);
  auto st = store::WriteAll(*file_, record);
  if (st.ok() && sync_) st = file_->Sync();
  if (!st.ok()) {
    // A partly written record is a torn tail: nothing may follow it.
    file_.reset();
    return st;
  }
  bytes_ += record.size();
  return st;
}

bool ConsumerJournal::ShouldCompact(uint64_t snapshot_bytes) const {
  return bytes_ > std::max<uint64_t>(snapshot_bytes, g_compact_floor.load(std::memory_order_relaxed));
}

void ConsumerJournal::SetCompactFloorForTesting(uint64_t bytes) { g_compact_floor.store(bytes); }

}  // namespace sluice::jetstream
