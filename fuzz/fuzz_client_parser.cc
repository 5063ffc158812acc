// libFuzzer target for ClientParser.
//
// Input layout (see fuzz/README.md):
//   byte 0   flags: bits 0-1 headers (0 never, 1 always, 2 after a CONNECT with
//            "headers":true, 3 always); bit 2 set = ignore the min_bytes hint
//   byte 1   max_control_line, chosen from kControlLines
//   byte 2   max_payload, chosen from kPayloads
//   byte 3   number of split points (low 4 bits)
//   then     2 bytes per split point (little-endian offset into the stream)
//   rest     the protocol stream
// The stream is fed whole, split at the given points, and (when short) byte by
// byte. All three must give the same operations and the same error, and every
// view the parser returns must lie inside the buffer it was given (checked by
// the driver). Any difference aborts.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "../tests/unit/parser_driver.h"

namespace {

using sluice::testing::DriveResult;
using sluice::testing::DriverOptions;
using sluice::testing::HeadersMode;
using sluice::testing::ParserDriver;

constexpr size_t kControlLines[] = {1, 2, 4, 8, 16, 32, 64, 4096};
constexpr int64_t kPayloads[] = {0, 1, 5, 16, 64, 100, 1024, 1 << 20};

[[noreturn]] void Fail(const char* what, const DriveResult& a, const DriveResult& b) {
  std::string sa, sb;
  for (const auto& op : a.ops) sa += std::string(sluice::testing::OpName(op.op)) + " ";
  for (const auto& op : b.ops) sb += std::string(sluice::testing::OpName(op.op)) + " ";
  std::fprintf(stderr, "fuzz_client_parser: %s\n  first:  %zu ops [%s] error=%s errored=%d violation=%s\n"
               "  second: %zu ops [%s] error=%s errored=%d violation=%s\n",
               what, a.ops.size(), sa.c_str(), sluice::testing::ErrorName(a.error), a.errored,
               a.contract_violation.c_str(), b.ops.size(), sb.c_str(), sluice::testing::ErrorName(b.error),
               b.errored, b.contract_violation.c_str());
  std::abort();
}

void CheckOps(const DriveResult& r) {
  for (const auto& op : r.ops) {
    if (op.op == sluice::testing::ClientOp::kPub || op.op == sluice::testing::ClientOp::kHPub) {
      if (op.header.size() + op.payload.size() != op.declared_size) Fail("header + payload != declared size", r, r);
      if (op.subject.empty()) Fail("publish without subject", r, r);
    }
    if (op.op == sluice::testing::ClientOp::kSub && (op.subject.empty() || op.sid.empty()))
      Fail("SUB without subject or sid", r, r);
    if (op.op == sluice::testing::ClientOp::kUnsub && (op.sid.empty() || op.unsub_max < 0))
      Fail("bad UNSUB", r, r);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t flags = data[0];
  DriverOptions options;
  switch (flags & 3) {
    case 0: options.headers = HeadersMode::kNever; break;
    case 2: options.headers = HeadersMode::kAfterConnect; break;
    default: options.headers = HeadersMode::kAlways; break;
  }
  options.use_min_bytes_hint = (flags & 4) == 0;
  options.limits.max_control_line = kControlLines[data[1] % 8];
  options.limits.max_payload = kPayloads[data[2] % 8];
  const size_t ncuts = data[3] & 15;
  size_t pos = 4;
  std::vector<size_t> raw_cuts;
  for (size_t i = 0; i < ncuts && pos + 2 <= size; ++i, pos += 2)
    raw_cuts.push_back(static_cast<size_t>(data[pos]) | (static_cast<size_t>(data[pos + 1]) << 8));
  const std::string_view stream(reinterpret_cast<const char*>(data) + pos, size - pos);

  std::vector<size_t> cuts;
  if (stream.size() > 1)
    for (size_t c : raw_cuts) cuts.push_back(1 + c % (stream.size() - 1));
  std::sort(cuts.begin(), cuts.end());

  DriverOptions whole_options = options;
  whole_options.use_min_bytes_hint = true;
  const DriveResult whole = sluice::testing::DriveWhole(stream, whole_options);
  if (!whole.contract_violation.empty()) Fail("contract violation (whole)", whole, whole);
  CheckOps(whole);

  const DriveResult split = sluice::testing::DriveSplit(stream, cuts, options);
  if (!split.contract_violation.empty()) Fail("contract violation (split)", whole, split);
  if (!split.SameOutcome(whole)) Fail("split differs from whole", whole, split);

  if (stream.size() <= 2048) {
    ParserDriver d(options);
    for (char c : stream) d.Feed(std::string_view(&c, 1));
    if (!d.result().contract_violation.empty()) Fail("contract violation (bytes)", whole, d.result());
    if (!d.result().SameOutcome(whole)) Fail("byte by byte differs from whole", whole, d.result());
  }
  return 0;
}
