#include <gtest/gtest.h>

#include "jetstream/dedup.h"

namespace sluice::jetstream {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(DedupWindow, FindsIdsInsideTheWindowOnly) {
  DedupWindow w(2 * kSec);
  int64_t t0 = 1000 * kSec;
  w.Record("a", 1, t0);
  w.Record("b", 2, t0 + kSec);
  EXPECT_EQ(w.Find("a", t0 + kSec), 1u);
  EXPECT_EQ(w.Find("b", t0 + kSec), 2u);
  EXPECT_FALSE(w.Find("c", t0 + kSec).has_value());
  // a was stored exactly 2 s before: outside the window.
  EXPECT_FALSE(w.Find("a", t0 + 2 * kSec).has_value());
  EXPECT_EQ(w.Find("b", t0 + 2 * kSec), 2u);
  EXPECT_FALSE(w.Find("b", t0 + 3 * kSec).has_value());
  EXPECT_EQ(w.size(), 0u);
}

TEST(DedupWindow, ReRecordingAnIdKeepsTheNewest) {
  DedupWindow w(2 * kSec);
  int64_t t0 = 1000 * kSec;
  w.Record("a", 1, t0);
  w.Record("a", 5, t0 + kSec + kSec / 2);
  // The first record expiring must not drop the newer one.
  EXPECT_EQ(w.Find("a", t0 + 2 * kSec + 1), 5u);
}

TEST(DedupWindow, ShrinkingTheWindowTakesEffect) {
  DedupWindow w(10 * kSec);
  int64_t t0 = 1000 * kSec;
  w.Record("a", 1, t0);
  w.SetWindow(kSec);
  EXPECT_FALSE(w.Find("a", t0 + 2 * kSec).has_value());
}

}  // namespace
}  // namespace sluice::jetstream
