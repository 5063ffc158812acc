// sluice obj add <bucket> [--ttl D] [--max-bytes SIZE] [--storage file|memory] [--replicas N] [--description T]
// sluice obj put <bucket> <file|-> [--name N] [--description T]
// sluice obj get <bucket> <name> [-O file|-] [-f]
// sluice obj ls <bucket>
// sluice obj rm <bucket> <name> [-f]
// sluice obj info <bucket> [name]
//
// The Object Store (object_store.h). put and get stream the bytes a chunk at
// a time and draw a progress bar on a terminal (not with --json); get writes
// to a temporary file next to the target and renames it only once the
// digest matched, so a failed get leaves no half-written file behind.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>

#include "bucket_options.h"
#include "commands.h"
#include "connection.h"
#include "duration.h"
#include "js_api.h"
#include "js_output.h"
#include "message_output.h"
#include "object_store.h"
#include "progress_bar.h"
#include "progress_line.h"

namespace sluice::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct ObjOptions {
  std::string bucket;
  std::string name;
  std::string file;
  // add
  BucketAddOptions limits;  // --ttl --max-bytes --storage --replicas --description
  // put
  std::string description;
  // get
  std::string output;
  bool force = false;
  bool no_progress = false;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

Connection Open(const GlobalOptions& global) { return Connection::Open(global, {.name = "sluice obj"}); }

std::string DescribeBucket(const std::string& bucket, const ojson& info) {
  const ojson cfg = info.value("config", ojson::object());
  const ojson state = info.value("state", ojson::object());
  std::string out = fmt::format("Object Store bucket {} (stream {}, created {})\n\n", bucket, Str(cfg, "name"),
                                Str(info, "created", "?"));
  if (!Str(cfg, "description").empty()) Row(out, "Description", Str(cfg, "description"));
  Row(out, "Storage", Str(cfg, "storage", "file"));
  Row(out, "Replicas", std::to_string(Num(cfg, "num_replicas")));
  int64_t ttl = cfg.value("max_age", int64_t{0});
  Row(out, "TTL", ttl > 0 ? FormatGoDuration(ttl) : "unlimited");
  int64_t max_bytes = cfg.value("max_bytes", int64_t{-1});
  Row(out, "Maximum bytes", max_bytes > 0 ? FormatBytes(static_cast<double>(max_bytes)) : "unlimited");
  Row(out, "Sealed", cfg.value("sealed", false) ? "yes" : "no");
  Row(out, "Size", FormatBytes(static_cast<double>(Num(state, "bytes"))));
  Row(out, "Messages", WithThousands(Num(state, "messages")));
  return out;
}

std::string DescribeObject(const std::string& bucket, const ObjectInfo& info) {
  std::string out = fmt::format("Object {} > {}\n\n", bucket, info.name);
  if (!Str(info.meta, "description").empty()) Row(out, "Description", Str(info.meta, "description"));
  Row(out, "Size", fmt::format("{} ({} bytes)", FormatBytes(static_cast<double>(info.size)), WithThousands(info.size)));
  Row(out, "Modified", ParseRfc3339(info.mtime) ? fmt::format("{} ({})", info.mtime, Ago(info.mtime)) : info.mtime);
  Row(out, "Chunks", WithThousands(info.chunks));
  Row(out, "Digest", info.digest);
  Row(out, "NUID", info.nuid);
  if (info.deleted) Row(out, "Deleted", "yes");
  return out;
}

void PrintObject(const GlobalOptions& global, const std::string& bucket, const ObjectInfo& info) {
  if (global.json) {
    std::printf("%s\n", Pretty(info.meta).c_str());
  } else {
    std::printf("%s", DescribeObject(bucket, info).c_str());
  }
}

int RunAdd(const GlobalOptions& global, const ObjOptions& o) {
  CheckBucketName(o.bucket);
  ObjectBucketConfig cfg;
  cfg.description = o.limits.description;
  cfg.ttl_ns = o.limits.TtlNs();
  cfg.max_bytes = o.limits.MaxBytes();
  cfg.storage = o.limits.storage;
  cfg.replicas = o.limits.replicas;
  auto conn = Open(global);
  ObjectStore store(conn, o.bucket, global.Timeout());
  ojson info = store.CreateBucket(cfg);
  if (global.json) {
    std::printf("%s\n", Pretty(info).c_str());
  } else {
    std::fprintf(stderr, "Object Store bucket %s created\n", o.bucket.c_str());
    std::printf("%s", DescribeBucket(o.bucket, info).c_str());
  }
  return 0;
}

int RunPut(const GlobalOptions& global, const ObjOptions& o) {
  CheckBucketName(o.bucket);
  const bool from_stdin = o.file == "-";
  std::string name = o.name;
  if (name.empty()) {
    if (from_stdin) throw UsageError("reading from stdin (-) needs --name");
    size_t slash = o.file.find_last_of('/');
    name = slash == std::string::npos ? o.file : o.file.substr(slash + 1);
  }
  if (name.empty()) throw UsageError("the object name is empty: give --name");
  FilePtr owned;
  std::FILE* in = stdin;
  uint64_t total = 0;
  if (!from_stdin) {
    owned.reset(std::fopen(o.file.c_str(), "rb"));
    if (!owned) throw CliError(fmt::format("cannot open {}: {}", o.file, std::strerror(errno)));
    in = owned.get();
    struct stat st {};
    if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode)) total = static_cast<uint64_t>(st.st_size);
  }
  auto conn = Open(global);
  ObjectStore store(conn, o.bucket, global.Timeout());
  ByteProgressBar bar(fmt::format("Putting {}", name), total, !global.json && !o.no_progress);
  auto t0 = Clock::now();
  ObjectInfo info = store.Put(name, in, o.description, [&bar](uint64_t n) { bar.Add(n); });
  auto elapsed = Clock::now() - t0;
  bar.Stop();
  if (global.json) {
    std::printf("%s\n", Pretty(info.meta).c_str());
  } else {
    double secs = std::max(1e-9, std::chrono::duration<double>(elapsed).count());
    std::fprintf(stderr, "Stored %s in %s (%.2f MB/s)\n", FormatBytes(static_cast<double>(info.size)).c_str(),
                 FormatDuration(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed)).c_str(),
                 static_cast<double>(info.size) / secs / 1e6);
    std::printf("%s", DescribeObject(o.bucket, info).c_str());
  }
  return 0;
}

int RunGet(const GlobalOptions& global, const ObjOptions& o) {
  CheckBucketName(o.bucket);
  if (o.name.empty()) throw UsageError("the object name is empty");
  std::string target = o.output;
  if (target.empty()) {
    size_t slash = o.name.find_last_of('/');
    target = slash == std::string::npos ? o.name : o.name.substr(slash + 1);
    if (target.empty() || target == "." || target == "..") throw UsageError("give the output file with -O");
  }
  const bool to_stdout = target == "-";
  if (!to_stdout && !o.force && access(target.c_str(), F_OK) == 0) {
    throw CliError(fmt::format("{} exists: use --force (-f) to overwrite it", target));
  }
  auto conn = Open(global);
  ObjectStore store(conn, o.bucket, global.Timeout());
  std::optional<ObjectInfo> info = store.Info(o.name);
  if (!info || info->deleted) throw CliError(fmt::format("object {} not found in bucket {}", o.name, o.bucket));

  // Write next to the target and rename once the digest matched.
  const std::string partial = target + ".sluice-partial";
  FilePtr owned;
  std::FILE* out = stdout;
  if (!to_stdout) {
    owned.reset(std::fopen(partial.c_str(), "wb"));
    if (!owned) throw CliError(fmt::format("cannot write {}: {}", partial, std::strerror(errno)));
    out = owned.get();
  }
  struct PartialCleanup {
    std::string path;
    bool active;
    ~PartialCleanup() {
      if (active) std::remove(path.c_str());
    }
  } cleanup{partial, !to_stdout};

  ByteProgressBar bar(fmt::format("Getting {}", o.name), info->size, !global.json && !o.no_progress);
  auto t0 = Clock::now();
  store.Get(*info, out, [&bar](uint64_t n) { bar.Add(n); });
  auto elapsed = Clock::now() - t0;
  bar.Stop();
  if (!to_stdout) {
    if (std::fclose(owned.release()) != 0) throw CliError(fmt::format("writing {}: {}", partial, std::strerror(errno)));
    if (std::rename(partial.c_str(), target.c_str()) != 0) {
      throw CliError(fmt::format("renaming {} to {}: {}", partial, target, std::strerror(errno)));
    }
    cleanup.active = false;
  }
  if (global.json && !to_stdout) {
    ojson r;
    r["bucket"] = o.bucket;
    r["name"] = info->name;
    r["file"] = target;
    r["size"] = info->size;
    r["chunks"] = info->chunks;
    r["digest"] = info->digest;
    std::printf("%s\n", JsonLine(r).c_str());
  } else if (!global.json) {
    double secs = std::max(1e-9, std::chrono::duration<double>(elapsed).count());
    std::fprintf(stderr, "Wrote %s to %s in %s (%.2f MB/s)\n", FormatBytes(static_cast<double>(info->size)).c_str(),
                 to_stdout ? "stdout" : target.c_str(),
                 FormatDuration(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed)).c_str(),
                 static_cast<double>(info->size) / secs / 1e6);
  }
  return 0;
}

int RunLs(const GlobalOptions& global, const ObjOptions& o) {
  CheckBucketName(o.bucket);
  auto conn = Open(global);
  ObjectStore store(conn, o.bucket, global.Timeout());
  std::vector<ObjectInfo> objects = store.List();
  if (global.json) {
    ojson arr = ojson::array();
    for (auto& i : objects) arr.push_back(i.meta);
    std::printf("%s\n", Pretty(arr).c_str());
    return 0;
  }
  if (objects.empty()) {
    std::fprintf(stderr, "No objects in bucket %s\n", o.bucket.c_str());
    return 0;
  }
  std::vector<std::array<std::string, 4>> rows = {{"Name", "Size", "Modified", "Digest"}};
  for (auto& i : objects) {
    rows.push_back({i.name, FormatBytes(static_cast<double>(i.size)), Ago(i.mtime), i.digest});
  }
  std::array<size_t, 4> width{};
  for (auto& r : rows) {
    for (size_t k = 0; k < 4; ++k) width[k] = std::max(width[k], r[k].size());
  }
  for (auto& r : rows) {
    std::printf("%-*s  %*s  %-*s  %s\n", static_cast<int>(width[0]), r[0].c_str(), static_cast<int>(width[1]),
                r[1].c_str(), static_cast<int>(width[2]), r[2].c_str(), r[3].c_str());
  }
  return 0;
}

int RunRm(const GlobalOptions& global, const ObjOptions& o) {
  CheckBucketName(o.bucket);
  auto conn = Open(global);
  ObjectStore store(conn, o.bucket, global.Timeout());
  if (!o.force) {
    std::optional<ObjectInfo> info = store.Info(o.name);
    if (!info || info->deleted) throw CliError(fmt::format("object {} not found in bucket {}", o.name, o.bucket));
    Confirm(fmt::format("Really delete object {} from bucket {}?", o.name, o.bucket),
            fmt::format("refusing to delete object {}", o.name));
  }
  store.Delete(o.name);
  if (global.json) {
    ojson r;
    r["bucket"] = o.bucket;
    r["name"] = o.name;
    r["deleted"] = true;
    std::printf("%s\n", JsonLine(r).c_str());
  } else {
    std::fprintf(stderr, "Deleted object %s from bucket %s\n", o.name.c_str(), o.bucket.c_str());
  }
  return 0;
}

int RunInfo(const GlobalOptions& global, const ObjOptions& o) {
  CheckBucketName(o.bucket);
  auto conn = Open(global);
  ObjectStore store(conn, o.bucket, global.Timeout());
  if (o.name.empty()) {
    ojson info = store.BucketInfo();
    if (global.json) {
      std::printf("%s\n", Pretty(info).c_str());
    } else {
      std::printf("%s", DescribeBucket(o.bucket, info).c_str());
    }
    return 0;
  }
  std::optional<ObjectInfo> info = store.Info(o.name);
  if (!info || info->deleted) throw CliError(fmt::format("object {} not found in bucket {}", o.name, o.bucket));
  PrintObject(global, o.bucket, *info);
  return 0;
}

}  // namespace

void AddObjCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  CLI::App* obj = app.add_subcommand("obj", "JetStream Object Store: buckets of files of any size");
  obj->alias("object");
  RequireOneOf(*obj, "add, put, get, ls, rm, info");
  auto o = std::make_shared<ObjOptions>();
  auto bind = [&global, &action, o](CLI::App* cmd, int (*run)(const GlobalOptions&, const ObjOptions&)) {
    RunOnSelect(cmd, global, action, o, run);
  };

  CLI::App* add = obj->add_subcommand("add", "create an Object Store bucket");
  add->add_option("bucket", o->bucket, "bucket name")->required();
  AddBucketAddOptions(add, o->limits, "objects");
  bind(add, RunAdd);

  CLI::App* put = obj->add_subcommand("put", "store a file (- for stdin)");
  put->add_option("bucket", o->bucket, "bucket name")->required();
  put->add_option("file", o->file, "file to store, - for stdin")->required();
  put->add_option("--name", o->name, "object name (default: the file's name)");
  put->add_option("--description", o->description, "a description");
  put->add_flag("--no-progress", o->no_progress, "no progress bar");
  bind(put, RunPut);

  CLI::App* get = obj->add_subcommand("get", "retrieve an object into a file, checking its digest");
  get->add_option("bucket", o->bucket, "bucket name")->required();
  get->add_option("name", o->name, "object name")->required();
  get->add_option("-O,--output", o->output, "file to write (default: the object's name; - for stdout)");
  get->add_flag("-f,--force", o->force, "overwrite an existing file");
  get->add_flag("--no-progress", o->no_progress, "no progress bar");
  bind(get, RunGet);

  CLI::App* ls = obj->add_subcommand("ls", "list the objects of a bucket");
  ls->alias("list");
  ls->add_option("bucket", o->bucket, "bucket name")->required();
  bind(ls, RunLs);

  CLI::App* rm = obj->add_subcommand("rm", "delete an object");
  rm->alias("del");
  rm->add_option("bucket", o->bucket, "bucket name")->required();
  rm->add_option("name", o->name, "object name")->required();
  rm->add_flag("-f,--force", o->force, "do not ask (required when stdin is not a terminal)");
  bind(rm, RunRm);

  CLI::App* info = obj->add_subcommand("info", "a bucket's status, or an object's info");
  info->add_option("bucket", o->bucket, "bucket name")->required();
  info->add_option("name", o->name, "object name");
  bind(info, RunInfo);
}

}  // namespace sluice::cli
