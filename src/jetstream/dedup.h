// DedupWindow: the Nats-Msg-Id ids a stream stored within its
// duplicate_window (jetstream-api.md §5). Not thread-safe: the stream's
// mutex guards it. Time is passed in by the caller (tests drive it).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sluice::jetstream {

class DedupWindow {
 public:
  explicit DedupWindow(int64_t window_ns = 120'000'000'000) : window_ns_(window_ns) {}

  // The sequence an id was stored with, if it was stored within the window
  // before now_ns.
  std::optional<uint64_t> Find(std::string_view id, int64_t now_ns);
  // Records an id stored at ts_ns with seq (a later record of the same id
  // replaces the earlier one).
  void Record(std::string_view id, uint64_t seq, int64_t ts_ns);
  void SetWindow(int64_t window_ns) { window_ns_ = window_ns; }
  void Clear();
  size_t size() const { return ids_.size(); }
  // Forgets ids stored at or before now_ns - window.
  void Expire(int64_t now_ns);

 private:
  struct Entry {
    uint64_t seq;
    int64_t ts_ns;
  };
  int64_t window_ns_;
  std::unordered_map<std::string, Entry> ids_;
  std::deque<std::pair<int64_t, std::string>> by_time_;  // (ts, id), oldest first
};

}  // namespace sluice::jetstream
