// End-to-end tests of `sluice kv …` against sluice-server and nats-server.
// watch, history and the key listing use nats.c's ordered push consumer: on
// Sluice they are skipped while the server refuses push consumers (10012).
#include <gtest/gtest.h>

#include "js_cli_fixture.h"

namespace sluice::testing {
namespace {

using json = nlohmann::json;

class CliKvTest : public JsCliTest {};

TEST_P(CliKvTest, PutGetDelete) {
  json status = OkJson({"kv", "add", "CFG", "--history", "5", "--ttl", "1h", "--max-value-size", "1KB",
                        "--description", "settings"});
  EXPECT_EQ(status["bucket"], "CFG");
  EXPECT_EQ(status["stream"], "KV_CFG");
  EXPECT_EQ(status["history"], 5);
  EXPECT_EQ(status["ttl"], int64_t{3600} * 1000000000);
  EXPECT_EQ(status["max_value_size"], 1024);
  EXPECT_EQ(status["values"], 0);
  EXPECT_EQ(status["description"], "settings");
  json stream = OkJson({"stream", "info", "KV_CFG"});
  EXPECT_EQ(stream["config"]["subjects"], json::array({"$KV.CFG.>"}));
  EXPECT_EQ(stream["config"]["max_msgs_per_subject"], 5);
  EXPECT_EQ(stream["config"]["allow_rollup_hdrs"], true);

  EXPECT_EQ(OkJson({"kv", "put", "CFG", "db.url", "localhost"})["revision"], 1);
  CliResult put = Ok({"kv", "put", "CFG", "db.url", "otherhost"});
  EXPECT_TRUE(Contains(put.err, "Put CFG > db.url revision 2")) << Describe(put);
  // A value from stdin.
  CliResult piped = RunWithInput({"kv", "put", "CFG", "db.port", "-", "--json"}, "5432");
  ASSERT_EQ(piped.exit_code, 0) << Describe(piped);
  EXPECT_EQ(json::parse(piped.out)["revision"], 3);

  CliResult get = Ok({"kv", "get", "CFG", "db.url"});
  EXPECT_TRUE(Contains(get.out, "CFG > db.url revision: 2 created @ ")) << get.out;
  EXPECT_TRUE(Contains(get.out, "\n\notherhost\n")) << get.out;
  EXPECT_EQ(Ok({"kv", "get", "CFG", "db.port", "--raw"}).out, "5432\n");
  json entry = OkJson({"kv", "get", "CFG", "db.url", "--revision", "1"});
  EXPECT_EQ(entry["bucket"], "CFG");
  EXPECT_EQ(entry["key"], "db.url");
  EXPECT_EQ(entry["revision"], 1);
  EXPECT_EQ(entry["value"], "localhost");
  EXPECT_EQ(entry["operation"], "PUT");
  EXPECT_TRUE(entry["created"].is_string());
  Fails({"kv", "get", "CFG", "db.url", "--revision", "3"}, 1, "has no revision 3");

  json del = OkJson({"kv", "del", "CFG", "db.url"});
  EXPECT_EQ(del["operation"], "DEL");
  Fails({"kv", "get", "CFG", "db.url"}, 1, "key db.url not found in bucket CFG");
  // History is kept after a delete.
  EXPECT_EQ(OkJson({"kv", "get", "CFG", "db.url", "--revision", "2"})["value"], "otherhost");
  CliResult purged = Ok({"kv", "del", "CFG", "db.url", "--purge"});
  EXPECT_TRUE(Contains(purged.err, "Purged CFG > db.url")) << Describe(purged);
  Fails({"kv", "get", "CFG", "db.url", "--revision", "2"}, 1, "has no revision 2");

  json info = OkJson({"kv", "info", "CFG"});
  EXPECT_EQ(info["values"], 2);  // db.port and the purge marker
  CliResult human = Ok({"kv", "info", "CFG"});
  EXPECT_TRUE(Contains(human.out, "History kept: 5")) << human.out;
  EXPECT_TRUE(Contains(human.out, "TTL: 1h")) << human.out;

  OkJson({"kv", "add", "OTHER", "--storage", "memory"});
  json buckets = OkJson({"kv", "ls"});
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0]["bucket"], "CFG");
  EXPECT_EQ(buckets[1]["bucket"], "OTHER");
  EXPECT_EQ(buckets[1]["storage"], "memory");
  CliResult table = Ok({"kv", "ls"});
  EXPECT_TRUE(Contains(table.out, "CFG")) << table.out;
  EXPECT_TRUE(Contains(table.out, "OTHER")) << table.out;

  Fails({"kv", "rm", "OTHER"}, 1, "--force");
  Ok({"kv", "rm", "OTHER", "-f"});
  EXPECT_EQ(OkJson({"kv", "ls"}).size(), 1u);
}

TEST_P(CliKvTest, HistoryKeysAndWatch) {
  Ok({"kv", "add", "CFG", "--history", "10"});
  Ok({"kv", "put", "CFG", "a", "1"});
  Ok({"kv", "put", "CFG", "a", "2"});
  Ok({"kv", "put", "CFG", "b.c", "3"});
  Ok({"kv", "del", "CFG", "a"});

  CliResult hist = Run({"kv", "history", "CFG", "a", "--json"});
  if (IsSluice() && PushUnsupported(hist)) GTEST_SKIP() << "push consumers are not built in Sluice yet: " << hist.err;
  ASSERT_EQ(hist.exit_code, 0) << Describe(hist);
  json entries = json::parse(hist.out);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0]["value"], "1");
  EXPECT_EQ(entries[1]["value"], "2");
  EXPECT_EQ(entries[2]["operation"], "DEL");
  EXPECT_EQ(entries[2]["revision"], 4);
  CliResult table = Ok({"kv", "history", "CFG", "a"});
  EXPECT_TRUE(Contains(table.out, "DEL")) << table.out;
  Fails({"kv", "history", "CFG", "zzz"}, 1, "key zzz not found");

  EXPECT_EQ(OkJson({"kv", "ls", "CFG"}), json::array({"b.c"}));  // a is deleted
  EXPECT_EQ(Ok({"kv", "ls", "CFG"}).out, "b.c\n");

  // watch: the current values, then changes as they happen.
  auto watch = CliProcess::Start(WithServer({"kv", "watch", "CFG", "--count", "3", "--json"}));
  ASSERT_TRUE(watch);
  ASSERT_TRUE(watch->WaitForStderr("Initial values done")) << watch->err();
  ASSERT_TRUE(watch->WaitForStdoutLines(2)) << watch->out();  // b.c and the DEL of a, in stream order
  Ok({"kv", "put", "CFG", "b.c", "4"});
  CliResult w = watch->Wait();
  ASSERT_EQ(w.exit_code, 0) << Describe(w);
  std::vector<json> lines = JsonLines(w.out);
  ASSERT_EQ(lines.size(), 3u) << w.out;
  EXPECT_EQ(lines[0]["key"], "b.c");
  EXPECT_EQ(lines[0]["value"], "3");
  EXPECT_EQ(lines[1]["key"], "a");
  EXPECT_EQ(lines[1]["operation"], "DEL");
  EXPECT_EQ(lines[2]["key"], "b.c");
  EXPECT_EQ(lines[2]["value"], "4");
  EXPECT_EQ(lines[2]["revision"], 5);

  // A filter, and the human form.
  auto filtered = CliProcess::Start(WithServer({"kv", "watch", "CFG", "b.*", "--count", "1"}));
  ASSERT_TRUE(filtered);
  CliResult f = filtered->Wait();
  ASSERT_EQ(f.exit_code, 0) << Describe(f);
  EXPECT_TRUE(Contains(f.out, "PUT CFG > b.c: 4")) << f.out;
  EXPECT_TRUE(Contains(f.err, "Watching bucket CFG keys \"b.*\"")) << f.err;
}

TEST_P(CliKvTest, Errors) {
  Fails({"kv", "get", "NOPE", "k"}, 1, "KV bucket NOPE not found (10059)");
  Fails({"kv", "put", "NOPE", "k", "v"}, 1, "KV bucket NOPE not found (10059)");
  Fails({"kv", "info", "NOPE"}, 1, "KV bucket NOPE not found (10059)");
  Fails({"kv", "ls", "NOPE"}, 1, "KV bucket NOPE not found (10059)");
  CliResult none = Ok({"kv", "ls"});
  EXPECT_TRUE(Contains(none.err, "No Key-Value buckets")) << Describe(none);

  Ok({"kv", "add", "SMALL", "--max-value-size", "8"});
  Fails({"kv", "get", "SMALL", "missing"}, 1, "key missing not found in bucket SMALL");
  Fails({"kv", "put", "SMALL", "k", "a value longer than eight bytes"}, 1, "put SMALL > k");

  for (auto args : std::vector<std::vector<std::string>>{
           {"kv"},
           {"kv", "add"},
           {"kv", "get", "SMALL"},
           {"kv", "put", "SMALL", "k"},
           {"kv", "add", "bad.name"},
           {"kv", "add", "B", "--ttl", "soon"},
           {"kv", "add", "B", "--history", "100"},
           {"kv", "add", "B", "--max-bytes", "lots"},
           {"kv", "add", "B", "--storage", "tape"},
           {"kv", "get", "SMALL", "a b"},
           {"kv", "get", "SMALL", ".k"},
           {"kv", "put", "SMALL", "k*", "v"},
           {"kv", "get", "SMALL", "k", "--revision", "0"},
           {"kv", "watch", "SMALL", "a b"}}) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
  }
}

INSTANTIATE_TEST_SUITE_P(Servers, CliKvTest, ::testing::Values(ServerKind::kSluice, ServerKind::kNatsServer),
                         ServerParamName);

}  // namespace
}  // namespace sluice::testing
