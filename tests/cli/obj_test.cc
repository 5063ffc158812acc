// End-to-end tests of `sluice obj …` against sluice-server and nats-server:
// round trips of small, empty and 50 MiB objects with the digest checked
// against sha256sum, replacement and deletion, tampering detected, the
// progress bar on a terminal only, and interoperability with nats.go's
// Object Store (tests/cli/testdata/objinterop, built with the Debian nats.go).
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "js_cli_fixture.h"

#ifndef SLUICE_SOURCE_DIR
#define SLUICE_SOURCE_DIR "."
#endif

namespace sluice::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Output of a shell command (stdout), and its exit status.
std::pair<int, std::string> Shell(const std::string& cmd) {
  std::string out;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, out};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// "SHA-256=<base64url>" of a file, from coreutils' sha256sum (not the CLI's own code).
std::string DigestOf(const std::string& path) {
  auto [code, out] = Shell("sha256sum '" + path + "'");
  EXPECT_EQ(code, 0) << out;
  std::string hex = out.substr(0, 64);
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string b64;
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s : {18, 12, 6, 0}) b64 += kAlphabet[(v >> s) & 63];
  }
  uint32_t v = byte(i) << 16 | byte(i + 1) << 8;  // 32 bytes: two left over
  b64 += kAlphabet[(v >> 18) & 63];
  b64 += kAlphabet[(v >> 12) & 63];
  b64 += kAlphabet[(v >> 6) & 63];
  b64 += '=';
  return "SHA-256=" + b64;
}

// Writes `size` pseudo-random bytes (a fixed seed) in 1 MiB pieces.
void WriteFile(const std::string& path, uint64_t size, uint64_t seed = 0x9E3779B97F4A7C15ull) {
  std::ofstream f(path, std::ios::binary);
  std::vector<char> buf(1 << 20);
  uint64_t x = seed;
  for (uint64_t left = size; left > 0;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    for (size_t i = 0; i < n; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      buf[i] = static_cast<char>(x);
    }
    f.write(buf.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
}

bool SameFiles(const std::string& a, const std::string& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return false;
  std::vector<char> ba(1 << 20), bb(1 << 20);
  while (true) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount()) return false;
    if (fa.gcount() == 0) return true;
    if (std::memcmp(ba.data(), bb.data(), static_cast<size_t>(fa.gcount())) != 0) return false;
  }
}

// Runs the CLI on a pseudo-terminal and returns everything it wrote there.
std::string RunOnTerminal(const std::vector<std::string>& args) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) return "";
  if (pid == 0) {
    std::vector<std::string> argv_s = {CliBinary()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    char buf[4096];
    ssize_t n = read(master, buf, sizeof(buf));
    if (n <= 0) break;  // EIO once the child has exited
    output.append(buf, static_cast<size_t>(n));
  }
  close(master);
  if (std::chrono::steady_clock::now() >= deadline) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return output;
}

class CliObjTest : public JsCliTest {
 protected:
  void SetUp() override {
    JsCliTest::SetUp();
    if (HasFatalFailure()) return;
    char tmpl[] = "/tmp/sluice-obj-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

TEST_P(CliObjTest, PutGetInfoLsRm) {
  json bucket = OkJson({"obj", "add", "FILES", "--description", "test files", "--max-bytes", "100MB"});
  EXPECT_EQ(bucket["config"]["name"], "OBJ_FILES");
  EXPECT_EQ(bucket["config"]["subjects"], json::array({"$O.FILES.C.>", "$O.FILES.M.>"}));
  EXPECT_EQ(bucket["config"]["allow_rollup_hdrs"], true);
  EXPECT_EQ(bucket["config"]["discard"], "new");
  EXPECT_EQ(bucket["config"]["max_bytes"], int64_t{100} << 20);

  WriteFile(Path("report.bin"), 300000);  // three chunks: 128 KiB, 128 KiB, the rest
  json put = OkJson({"obj", "put", "FILES", Path("report.bin")});
  EXPECT_EQ(put["name"], "report.bin");
  EXPECT_EQ(put["bucket"], "FILES");
  EXPECT_EQ(put["size"], 300000);
  EXPECT_EQ(put["chunks"], 3);
  EXPECT_EQ(put["digest"], DigestOf(Path("report.bin")));
  EXPECT_EQ(put["options"]["max_chunk_size"], 131072);
  EXPECT_EQ(put["nuid"].get<std::string>().size(), 22u);

  json info = OkJson({"obj", "info", "FILES", "report.bin"});
  EXPECT_EQ(info["digest"], DigestOf(Path("report.bin")));
  EXPECT_EQ(info["size"], 300000);
  EXPECT_TRUE(info["mtime"].is_string());
  CliResult human = Ok({"obj", "info", "FILES", "report.bin"});
  EXPECT_TRUE(Contains(human.out, "Object FILES > report.bin")) << human.out;
  EXPECT_TRUE(Contains(human.out, "300,000 bytes")) << human.out;
  json status = OkJson({"obj", "info", "FILES"});
  EXPECT_EQ(status["state"]["messages"], 4);  // three chunks and the meta message
  EXPECT_TRUE(Contains(Ok({"obj", "info", "FILES"}).out, "Description: test files"));

  CliResult get = Ok({"obj", "get", "FILES", "report.bin", "-O", Path("out.bin")});
  EXPECT_TRUE(SameFiles(Path("report.bin"), Path("out.bin")));
  EXPECT_FALSE(fs::exists(Path("out.bin.sluice-partial")));
  Fails({"obj", "get", "FILES", "report.bin", "-O", Path("out.bin")}, 1, "--force");
  json got = OkJson({"obj", "get", "FILES", "report.bin", "-O", Path("out.bin"), "-f"});
  EXPECT_EQ(got["digest"], DigestOf(Path("report.bin")));
  EXPECT_EQ(got["file"], Path("out.bin"));
  CliResult to_stdout = Ok({"obj", "get", "FILES", "report.bin", "-O", "-"});
  std::ifstream original(Path("report.bin"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(original)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(to_stdout.out == bytes);

  // From stdin, with a name; an empty object.
  CliResult piped = RunWithInput({"obj", "put", "FILES", "-", "--name", "notes/today.txt", "--json"}, "hello");
  ASSERT_EQ(piped.exit_code, 0) << Describe(piped);
  EXPECT_EQ(json::parse(piped.out)["digest"], "SHA-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
  EXPECT_EQ(Ok({"obj", "get", "FILES", "notes/today.txt", "-O", "-"}).out, "hello");
  std::ofstream(Path("empty")).close();
  json empty = OkJson({"obj", "put", "FILES", Path("empty")});
  EXPECT_EQ(empty["size"], 0);
  EXPECT_EQ(empty["chunks"], 0);
  EXPECT_EQ(empty["digest"], DigestOf(Path("empty")));
  Ok({"obj", "get", "FILES", "empty", "-O", Path("empty.out")});
  EXPECT_EQ(fs::file_size(Path("empty.out")), 0u);

  json ls = OkJson({"obj", "ls", "FILES"});
  ASSERT_EQ(ls.size(), 3u);
  EXPECT_EQ(ls[0]["name"], "empty");
  EXPECT_EQ(ls[1]["name"], "notes/today.txt");
  EXPECT_EQ(ls[2]["name"], "report.bin");
  CliResult table = Ok({"obj", "ls", "FILES"});
  EXPECT_TRUE(Contains(table.out, "report.bin")) << table.out;

  // Replacing an object purges the old chunks.
  WriteFile(Path("report.bin"), 1000, 42);
  json replaced = OkJson({"obj", "put", "FILES", Path("report.bin")});
  EXPECT_EQ(replaced["chunks"], 1);
  Ok({"obj", "get", "FILES", "report.bin", "-O", Path("out.bin"), "-f"});
  EXPECT_TRUE(SameFiles(Path("report.bin"), Path("out.bin")));
  // report.bin (1 chunk + meta), today (1 + meta), empty (meta).
  EXPECT_EQ(OkJson({"obj", "info", "FILES"})["state"]["messages"], 5);

  Fails({"obj", "rm", "FILES", "report.bin"}, 1, "--force");
  CliResult rm = Ok({"obj", "rm", "FILES", "report.bin", "-f"});
  EXPECT_TRUE(Contains(rm.err, "Deleted object report.bin from bucket FILES")) << Describe(rm);
  Fails({"obj", "info", "FILES", "report.bin"}, 1, "object report.bin not found in bucket FILES");
  Fails({"obj", "get", "FILES", "report.bin", "-O", Path("gone")}, 1, "not found");
  Fails({"obj", "rm", "FILES", "report.bin", "-f"}, 1, "not found");
  EXPECT_EQ(OkJson({"obj", "ls", "FILES"}).size(), 2u);
  EXPECT_EQ(OkJson({"obj", "info", "FILES"})["state"]["messages"], 4);  // the delete marker stays
}

TEST_P(CliObjTest, FiftyMiBRoundTrip) {
  Ok({"obj", "add", "BIG"});
  const uint64_t size = uint64_t{50} << 20;
  WriteFile(Path("big.bin"), size);
  json put = OkJson({"obj", "put", "BIG", Path("big.bin"), "--name", "big"});
  EXPECT_EQ(put["size"], size);
  EXPECT_EQ(put["chunks"], 400);
  EXPECT_EQ(put["digest"], DigestOf(Path("big.bin")));
  EXPECT_EQ(OkJson({"obj", "info", "BIG", "big"})["digest"], DigestOf(Path("big.bin")));
  CliResult get = Ok({"obj", "get", "BIG", "big", "-O", Path("big.out"), "--no-progress"});
  EXPECT_TRUE(Contains(get.err, "Wrote 50.0 MiB")) << Describe(get);
  EXPECT_EQ(fs::file_size(Path("big.out")), size);
  EXPECT_TRUE(SameFiles(Path("big.bin"), Path("big.out")));
  EXPECT_EQ(DigestOf(Path("big.out")), put["digest"]);
}

TEST_P(CliObjTest, TamperedObjectIsRefused) {
  Ok({"obj", "add", "T"});
  WriteFile(Path("f"), 200000);
  json put = OkJson({"obj", "put", "T", Path("f")});
  // One more chunk on the object's chunk subject: the bytes no longer match the info.
  Ok({"pub", "$O.T.C." + put["nuid"].get<std::string>(), "extra"});
  CliResult r = Fails({"obj", "get", "T", "f", "-O", Path("f.out")}, 1, "object f is incomplete");
  EXPECT_FALSE(fs::exists(Path("f.out")));
  EXPECT_FALSE(fs::exists(Path("f.out.sluice-partial")));
}

TEST_P(CliObjTest, ProgressBarOnlyOnATerminal) {
  Ok({"obj", "add", "P"});
  WriteFile(Path("p.bin"), uint64_t{8} << 20);
  std::string tty = RunOnTerminal(WithServer({"obj", "put", "P", Path("p.bin"), "--name", "p"}));
  EXPECT_TRUE(Contains(tty, "Putting p [")) << tty;
  EXPECT_TRUE(Contains(tty, "/8.0 MiB")) << tty;
  EXPECT_TRUE(Contains(tty, "MB/s")) << tty;
  tty = RunOnTerminal(WithServer({"obj", "get", "P", "p", "-O", Path("p.out")}));
  EXPECT_TRUE(Contains(tty, "Getting p [")) << tty;
  EXPECT_TRUE(SameFiles(Path("p.bin"), Path("p.out")));
  // --json on a terminal: no bar.
  tty = RunOnTerminal(WithServer({"obj", "get", "P", "p", "-O", Path("p.out"), "-f", "--json"}));
  EXPECT_FALSE(Contains(tty, "Getting p [")) << tty;
  // Not a terminal: no bar, no carriage returns.
  CliResult piped = Ok({"obj", "get", "P", "p", "-O", Path("p.out"), "-f"});
  EXPECT_FALSE(Contains(piped.err, "\r")) << Describe(piped);
  EXPECT_FALSE(Contains(piped.err, "[")) << Describe(piped);
}

TEST_P(CliObjTest, Errors) {
  Fails({"obj", "info", "NOPE"}, 1, "object store bucket NOPE not found (10059)");
  Fails({"obj", "ls", "NOPE"}, 1, "object store bucket NOPE not found (10059)");
  Fails({"obj", "get", "NOPE", "x", "-O", Path("x")}, 1, "object store bucket NOPE not found (10059)");
  WriteFile(Path("f"), 10);
  Fails({"obj", "put", "NOPE", Path("f")}, 1, "object store bucket NOPE not found (10059)");
  Ok({"obj", "add", "B"});
  Fails({"obj", "put", "B", Path("missing")}, 1, "cannot open");
  Fails({"obj", "get", "B", "missing", "-O", Path("m")}, 1, "object missing not found in bucket B");
  // A bucket too small for the object: the server's error, and no chunks left behind.
  Ok({"obj", "add", "TINY", "--max-bytes", "64KB"});
  WriteFile(Path("big"), 300000);
  CliResult r = Fails({"obj", "put", "TINY", Path("big")}, 1);
  EXPECT_TRUE(Contains(r.err, "(10")) << Describe(r);
  EXPECT_EQ(OkJson({"obj", "ls", "TINY"}), json::array());
  EXPECT_EQ(OkJson({"obj", "info", "TINY"})["state"]["messages"], 0);

  for (auto args : std::vector<std::vector<std::string>>{{"obj"},
                                                         {"obj", "add"},
                                                         {"obj", "put", "B"},
                                                         {"obj", "get", "B"},
                                                         {"obj", "rm", "B"},
                                                         {"obj", "add", "bad.name"},
                                                         {"obj", "add", "X", "--ttl", "soon"},
                                                         {"obj", "add", "X", "--max-bytes", "lots"},
                                                         {"obj", "put", "B", "-"},
                                                         {"obj", "info", "a b"}}) {
    CliResult u = Run(args);
    EXPECT_EQ(u.exit_code, 2) << Describe(u);
  }
}

// Builds tests/cli/testdata/objinterop with the Debian nats.go (GOPATH mode)
// into `dir`; "" when go or nats.go is missing or the build fails.
std::string BuildInteropBinary(const std::string& dir) {
  if (Shell("command -v go").first != 0 || !fs::exists("/usr/share/gocode/src/github.com/nats-io/nats.go")) {
    return "";
  }
  std::string bin = dir + "/objinterop";
  // go needs a build cache: its default lives under $HOME.
  std::string cache = std::getenv("GOCACHE") == nullptr && std::getenv("HOME") == nullptr
                          ? "GOCACHE='" + dir + "/gocache' "
                          : "";
  std::string cmd = "cd '" SLUICE_SOURCE_DIR "/tests/cli/testdata/objinterop' && " + cache +
                    "GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= go build -o '" + bin + "' main.go 2>&1";
  auto [code, out] = Shell(cmd);
  if (code != 0) {
    ADD_FAILURE() << "building objinterop failed: " << out;
    return "";
  }
  return bin;
}

TEST_P(CliObjTest, InteropWithNatsGo) {
  std::string go = BuildInteropBinary(dir_);
  if (HasFailure()) return;
  if (go.empty()) GTEST_SKIP() << "go or Debian's nats.go is not installed";
  Ok({"obj", "add", "SHARED"});
  WriteFile(Path("from-go"), 700000, 7);
  // nats.go puts, sluice gets.
  auto [code, digest] = Shell(go + " " + server_->url() + " put SHARED from-go '" + Path("from-go") + "' 2>&1");
  ASSERT_EQ(code, 0) << digest;
  EXPECT_EQ(digest, DigestOf(Path("from-go")) + "\n");
  Ok({"obj", "get", "SHARED", "from-go", "-O", Path("from-go.out")});
  EXPECT_TRUE(SameFiles(Path("from-go"), Path("from-go.out")));
  EXPECT_EQ(OkJson({"obj", "info", "SHARED", "from-go"})["digest"], DigestOf(Path("from-go")));

  // sluice puts, nats.go gets (its reader is an ordered push consumer).
  WriteFile(Path("from-sluice"), 300000, 9);
  Ok({"obj", "put", "SHARED", Path("from-sluice")});
  auto [code2, out2] = Shell(go + " " + server_->url() + " get SHARED from-sluice '" + Path("from-sluice.out") + "' 2>&1");
  if (IsSluice() && Contains(out2, "push consumers are not supported")) {
    GTEST_SKIP() << "nats.go's object reader needs push consumers, not built in Sluice yet";
  }
  ASSERT_EQ(code2, 0) << out2;
  EXPECT_EQ(out2, DigestOf(Path("from-sluice")) + "\n");
  EXPECT_TRUE(SameFiles(Path("from-sluice"), Path("from-sluice.out")));
}

INSTANTIATE_TEST_SUITE_P(Servers, CliObjTest, ::testing::Values(ServerKind::kSluice, ServerKind::kNatsServer),
                         ServerParamName);

}  // namespace
}  // namespace sluice::testing
