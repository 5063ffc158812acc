// Differential protocol tests: every scenario of scenarios.cc is run against
// nats-server (the reference, 2.9.10) and sluice-server; the normalised
// transcripts must be equal, and both must meet the scenario's direct
// expectations. See README.md.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "scenario.h"
#include "server_process.h"
#include "transcript.h"

namespace sluice::difftest {
namespace {

using testing::ServerKind;

bool SluiceAvailable() { return ::access(testing::ServerBinary(ServerKind::kSluice).c_str(), X_OK) == 0; }

void ExpectWants(const Scenario& sc, const RunResult& r, const char* who) {
  for (const auto& [conn, want] : sc.want) {
    auto it = r.per_conn.find(conn);
    std::string got = it == r.per_conn.end() ? "" : it->second;
    EXPECT_EQ(Escape(want), Escape(got)) << who << ": connection " << conn << " of scenario " << sc.name;
  }
}

class Differential : public ::testing::TestWithParam<Scenario> {};

TEST_P(Differential, SameTranscript) {
  const Scenario& sc = GetParam();

  // 1. The reference server: meets the direct expectations, also when split.
  RunResult ref = RunScenario(ServerKind::kNatsServer, sc, /*split=*/false, /*reference=*/true);
  ASSERT_TRUE(ref.started) << ref.error;
  SCOPED_TRACE("nats-server transcript:\n" + ref.combined);
  ExpectWants(sc, ref, "nats-server");
  if (sc.split && sc.split_reference) {
    RunResult ref_split = RunScenario(ServerKind::kNatsServer, sc, true, true);
    ASSERT_TRUE(ref_split.started) << ref_split.error;
    EXPECT_EQ(ref.combined, ref_split.combined) << "nats-server: split sends changed the transcript";
  }

  if (!SluiceAvailable()) {
    GTEST_SKIP() << "sluice-server not found at " << testing::ServerBinary(ServerKind::kSluice)
                 << " (set SLUICE_SERVER); only nats-server was checked";
  }

  // 2. Sluice: same transcript as the reference, same direct expectations.
  RunResult got = RunScenario(ServerKind::kSluice, sc, false, false);
  ASSERT_TRUE(got.started) << got.error;
  EXPECT_EQ(ref.combined, got.combined) << "sluice-server differs from nats-server (left: nats-server)";
  ExpectWants(sc, got, "sluice-server");

  // 3. INFO: nats-server's keys present with the same type and (non-volatile) value.
  ASSERT_EQ(ref.infos.size(), got.infos.size()) << "number of INFO lines";
  for (size_t i = 0; i < got.infos.size(); ++i) {
    for (const auto& problem : CompareInfo(ref.infos[i], got.infos[i])) ADD_FAILURE() << problem;
    if (got.infos[i].is_object()) {
      EXPECT_EQ(got.infos[i].value("version", ""), "2.11.0") << "advertised version";
      EXPECT_EQ(got.infos[i].value("proto", -1), 1);
      EXPECT_EQ(got.infos[i].value("headers", false), true);
    }
  }

  if (sc.split) {
    RunResult got_split = RunScenario(ServerKind::kSluice, sc, true, false);
    ASSERT_TRUE(got_split.started) << got_split.error;
    EXPECT_EQ(ref.combined, got_split.combined) << "sluice-server, sends split into single bytes";
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, Differential, ::testing::ValuesIn(AllScenarios()),
                         [](const ::testing::TestParamInfo<Scenario>& info) { return info.param.name; });

// The reference server must actually be 2.9.10 for the masks to be right.
TEST(DifferentialSetup, ReferenceIsNats2910) {
  Scenario sc;
  sc.name = "info";
  sc.steps.push_back({Step::Kind::kOpen, 0, "", 0, {}});
  RunResult ref = RunScenario(ServerKind::kNatsServer, sc, false, true);
  ASSERT_TRUE(ref.started) << ref.error;
  ASSERT_EQ(ref.infos.size(), 1u);
  EXPECT_EQ(ref.infos[0].value("version", ""), "2.9.10");
}

}  // namespace
}  // namespace sluice::difftest
