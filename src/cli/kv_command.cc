// sluice kv add <bucket> [--history N] [--ttl D] [--max-value-size SIZE] [--max-bytes SIZE]
//                        [--storage file|memory] [--replicas N] [--description T]
// sluice kv put <bucket> <key> <value|->
// sluice kv get <bucket> <key> [--revision N] [--raw]
// sluice kv del <bucket> <key> [--purge]
// sluice kv watch <bucket> [key filter] [--history] [--ignore-deletes] [--count N]
// sluice kv ls [bucket]                 buckets, or the keys of a bucket
// sluice kv history <bucket> <key>
// sluice kv info <bucket>
// sluice kv rm <bucket> [-f]
//
// Through nats.c's Key-Value API (js_CreateKeyValue, kvStore_*). The bucket
// is first looked up with a plain STREAM.INFO so that a missing bucket is
// reported as the server says it ("KV bucket B not found (10059)"). watch,
// history and the key listing use nats.c's ordered push consumer.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>

#include "commands.h"
#include "connection.h"
#include "duration.h"
#include "js_api.h"
#include "bucket_options.h"
#include "js_context.h"
#include "js_output.h"
#include "message_output.h"
#include "progress_line.h"
#include "signals.h"

namespace sluice::cli {
namespace {

struct KvOptions {
  std::string bucket;
  std::string key;
  std::string value;
  // add
  int history = 1;
  std::string max_value_size = "-1";
  BucketAddOptions limits;  // --ttl --max-bytes --storage --replicas --description
  // get
  std::optional<uint64_t> revision;
  bool raw = false;
  // del
  bool purge = false;
  // watch
  bool include_history = false;
  bool ignore_deletes = false;
  uint64_t count = 0;
  // rm
  bool force = false;
};

struct KvStoreDeleter {
  void operator()(kvStore* kv) const { kvStore_Destroy(kv); }
};
struct KvEntryDeleter {
  void operator()(kvEntry* e) const { kvEntry_Destroy(e); }
};
struct KvWatcherDeleter {
  void operator()(kvWatcher* w) const { kvWatcher_Destroy(w); }
};
using KvStorePtr = std::unique_ptr<kvStore, KvStoreDeleter>;
using KvEntryPtr = std::unique_ptr<kvEntry, KvEntryDeleter>;
using KvWatcherPtr = std::unique_ptr<kvWatcher, KvWatcherDeleter>;

// Keys: [-/_=.A-Za-z0-9]+ without a leading or trailing '.'; a filter may also use * and >.
void CheckKey(const std::string& key, bool filter) {
  bool ok = !key.empty() && key.front() != '.' && key.back() != '.' && key.find("..") == std::string::npos;
  for (char c : key) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '/' || c == '_' || c == '=' ||
                c == '.' || (filter && (c == '*' || c == '>')));
  }
  if (!ok) {
    throw UsageError(fmt::format("invalid key{} \"{}\": use letters, digits and - / _ = . (not at the ends){}",
                                 filter ? " filter" : "", key, filter ? ", and * or a final >" : ""));
  }
}

// One connection, its JetStream context and (once opened) a bucket.
struct KvSession {
  Connection conn;
  JsCtxPtr js;
  KvStorePtr kv;
  std::chrono::nanoseconds timeout;

  static KvSession Open(const GlobalOptions& global) {
    const auto timeout = global.Timeout();
    Connection conn = Connection::Open(global, {.name = "sluice kv"});
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = ToMillis(timeout);
    JsCtxPtr js = OpenJetStream(conn.get(), jo);
    return KvSession{std::move(conn), std::move(js), nullptr, timeout};
  }

  // STREAM.INFO KV_<bucket> (the server's error when missing), then nats.c's bucket handle.
  ojson Bind(const std::string& bucket) {
    ojson info;
    try {
      info = WithoutType(JsRequest(conn.get(), "STREAM.INFO.KV_" + bucket, ojson(), timeout));
    } catch (const JsApiError& e) {
      if (e.err_code() != kErrStreamNotFound) throw;
      throw JsApiError(fmt::format("KV bucket {} not found", bucket), e.err_code(), e.code());
    }
    kvStore* raw = nullptr;
    CheckNats(js_KeyValue(&raw, js.get(), bucket.c_str()), fmt::format("opening KV bucket {}", bucket));
    kv.reset(raw);
    return info;
  }
};

const char* OperationName(kvOperation op) {
  switch (op) {
    case kvOp_Put: return "PUT";
    case kvOp_Delete: return "DEL";
    case kvOp_Purge: return "PURGE";
    default: return "UNKNOWN";
  }
}

std::string ValueOf(kvEntry* e) {
  const void* v = kvEntry_Value(e);
  int len = kvEntry_ValueLen(e);
  return v == nullptr || len <= 0 ? std::string() : std::string(static_cast<const char*>(v), static_cast<size_t>(len));
}

ojson EntryJson(kvEntry* e) {
  ojson j;
  j["bucket"] = kvEntry_Bucket(e);
  j["key"] = kvEntry_Key(e);
  j["revision"] = kvEntry_Revision(e);
  j["created"] = FormatRfc3339(kvEntry_Created(e));
  j["operation"] = OperationName(kvEntry_Operation(e));
  j["value"] = ValueOf(e);
  return j;
}

// The human status of a bucket from its StreamInfo.
std::string DescribeBucket(const std::string& bucket, const ojson& info) {
  const ojson cfg = info.value("config", ojson::object());
  const ojson state = info.value("state", ojson::object());
  std::string out = fmt::format("Key-Value bucket {} (created {})\n\n", bucket, Str(info, "created", "?"));
  if (!Str(cfg, "description").empty()) Row(out, "Description", Str(cfg, "description"));
  Row(out, "History kept", std::to_string(Num(cfg, "max_msgs_per_subject")));
  int64_t ttl = cfg.value("max_age", int64_t{0});
  Row(out, "TTL", ttl > 0 ? FormatGoDuration(ttl) : "unlimited");
  Row(out, "Values stored", WithThousands(Num(state, "messages")));
  Row(out, "Bucket size", FormatBytes(static_cast<double>(Num(state, "bytes"))));
  int64_t max_bytes = cfg.value("max_bytes", int64_t{-1});
  Row(out, "Maximum bucket size", max_bytes > 0 ? FormatBytes(static_cast<double>(max_bytes)) : "unlimited");
  int64_t max_value = cfg.value("max_msg_size", int64_t{-1});
  Row(out, "Maximum value size", max_value > 0 ? FormatBytes(static_cast<double>(max_value)) : "unlimited");
  Row(out, "Storage", Str(cfg, "storage", "file"));
  Row(out, "Replicas", std::to_string(Num(cfg, "num_replicas")));
  Row(out, "JetStream stream", Str(cfg, "name"));
  return out;
}

ojson StatusJson(const std::string& bucket, const ojson& info) {
  const ojson cfg = info.value("config", ojson::object());
  const ojson state = info.value("state", ojson::object());
  ojson j;
  j["bucket"] = bucket;
  j["stream"] = Str(cfg, "name");
  if (!Str(cfg, "description").empty()) j["description"] = Str(cfg, "description");
  j["history"] = Num(cfg, "max_msgs_per_subject");
  j["ttl"] = cfg.value("max_age", int64_t{0});
  j["values"] = Num(state, "messages");
  j["bytes"] = Num(state, "bytes");
  j["max_bytes"] = cfg.value("max_bytes", int64_t{-1});
  j["max_value_size"] = cfg.value("max_msg_size", int64_t{-1});
  j["storage"] = Str(cfg, "storage", "file");
  j["replicas"] = Num(cfg, "num_replicas");
  j["created"] = Str(info, "created");
  return j;
}

void PrintStatus(const GlobalOptions& global, const std::string& bucket, const ojson& info) {
  if (global.json) {
    std::printf("%s\n", Pretty(StatusJson(bucket, info)).c_str());
  } else {
    std::printf("%s", DescribeBucket(bucket, info).c_str());
  }
}

int RunAdd(const GlobalOptions& global, const KvOptions& o) {
  CheckBucketName(o.bucket);
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = o.bucket.c_str();
  if (!o.limits.description.empty()) cfg.Description = o.limits.description.c_str();
  cfg.History = static_cast<uint8_t>(o.history);
  cfg.TTL = o.limits.TtlNs();
  int64_t max_value = RequireSize(o.max_value_size, "--max-value-size");
  if (max_value > INT32_MAX) throw UsageError("--max-value-size: at most 2GiB-1");
  cfg.MaxValueSize = static_cast<int32_t>(max_value);
  cfg.MaxBytes = o.limits.MaxBytes();
  cfg.StorageType = o.limits.storage == "memory" ? js_MemoryStorage : js_FileStorage;
  cfg.Replicas = o.limits.replicas;
  KvSession s = KvSession::Open(global);
  kvStore* raw = nullptr;
  natsStatus st = js_CreateKeyValue(&raw, s.js.get(), &cfg);
  if (st != NATS_OK) throw CliError(fmt::format("creating KV bucket {}: {}", o.bucket, NatsErrorText(st)));
  kvStore_Destroy(raw);
  ojson info = WithoutType(JsRequest(s.conn.get(), "STREAM.INFO.KV_" + o.bucket, ojson(), s.timeout));
  if (!global.json) std::fprintf(stderr, "KV bucket %s created\n", o.bucket.c_str());
  PrintStatus(global, o.bucket, info);
  return 0;
}

int RunInfo(const GlobalOptions& global, const KvOptions& o) {
  CheckBucketName(o.bucket);
  KvSession s = KvSession::Open(global);
  PrintStatus(global, o.bucket, s.Bind(o.bucket));
  return 0;
}

int RunPut(const GlobalOptions& global, const KvOptions& o) {
  CheckBucketName(o.bucket);
  CheckKey(o.key, false);
  std::string value = o.value;
  if (value == "-") value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  KvSession s = KvSession::Open(global);
  s.Bind(o.bucket);
  uint64_t rev = 0;
  natsStatus st = kvStore_Put(&rev, s.kv.get(), o.key.c_str(), value.data(), static_cast<int>(value.size()));
  if (st != NATS_OK) throw CliError(fmt::format("put {} > {}: {}", o.bucket, o.key, NatsErrorText(st)));
  if (global.json) {
    ojson r;
    r["bucket"] = o.bucket;
    r["key"] = o.key;
    r["revision"] = rev;
    std::printf("%s\n", JsonLine(r).c_str());
  } else {
    std::fprintf(stderr, "Put %s > %s revision %llu\n", o.bucket.c_str(), o.key.c_str(),
                 static_cast<unsigned long long>(rev));
  }
  return 0;
}

int RunGet(const GlobalOptions& global, const KvOptions& o) {
  CheckBucketName(o.bucket);
  CheckKey(o.key, false);
  if (o.revision && *o.revision == 0) throw UsageError("--revision: revisions start at 1");
  KvSession s = KvSession::Open(global);
  s.Bind(o.bucket);
  kvEntry* raw = nullptr;
  natsStatus st = o.revision ? kvStore_GetRevision(&raw, s.kv.get(), o.key.c_str(), *o.revision)
                             : kvStore_Get(&raw, s.kv.get(), o.key.c_str());
  if (st == NATS_NOT_FOUND) {
    throw CliError(o.revision ? fmt::format("key {} has no revision {} in bucket {}", o.key, *o.revision, o.bucket)
                              : fmt::format("key {} not found in bucket {}", o.key, o.bucket));
  }
  if (st != NATS_OK) throw CliError(fmt::format("get {} > {}: {}", o.bucket, o.key, NatsErrorText(st)));
  KvEntryPtr e(raw);
  std::string value = ValueOf(raw);
  if (global.json) {
    std::printf("%s\n", JsonLine(EntryJson(raw)).c_str());
  } else if (o.raw) {
    std::fwrite(value.data(), 1, value.size(), stdout);
    std::fputs("\n", stdout);
  } else {
    std::string created = FormatRfc3339(kvEntry_Created(raw));
    std::string head = fmt::format("{} > {} revision: {} created @ {} ({})\n\n", o.bucket, o.key,
                                   kvEntry_Revision(raw), created, Ago(created));
    std::fputs(head.c_str(), stdout);
    std::fwrite(value.data(), 1, value.size(), stdout);
    std::fputs("\n", stdout);
  }
  return 0;
}

int RunDel(const GlobalOptions& global, const KvOptions& o) {
  CheckBucketName(o.bucket);
  CheckKey(o.key, false);
  KvSession s = KvSession::Open(global);
  s.Bind(o.bucket);
  natsStatus st = o.purge ? kvStore_Purge(s.kv.get(), o.key.c_str(), nullptr) : kvStore_Delete(s.kv.get(), o.key.c_str());
  if (st != NATS_OK) {
    throw CliError(fmt::format("{} {} > {}: {}", o.purge ? "purge" : "delete", o.bucket, o.key, NatsErrorText(st)));
  }
  if (global.json) {
    ojson r;
    r["bucket"] = o.bucket;
    r["key"] = o.key;
    r["operation"] = o.purge ? "PURGE" : "DEL";
    std::printf("%s\n", JsonLine(r).c_str());
  } else {
    std::fprintf(stderr, "%s %s > %s\n", o.purge ? "Purged" : "Deleted", o.bucket.c_str(), o.key.c_str());
  }
  return 0;
}

void PrintEntry(const GlobalOptions& global, kvEntry* e) {
  std::string line;
  if (global.json) {
    line = JsonLine(EntryJson(e)) + "\n";
  } else {
    line = fmt::format("[{}] {} {} > {}", FormatRfc3339(kvEntry_Created(e)), OperationName(kvEntry_Operation(e)),
                       kvEntry_Bucket(e), kvEntry_Key(e));
    if (kvEntry_Operation(e) == kvOp_Put) line += ": " + ValueOf(e);
    line += "\n";
  }
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

int RunWatch(const GlobalOptions& global, const KvOptions& o) {
  CheckBucketName(o.bucket);
  const std::string filter = o.key.empty() ? ">" : o.key;
  CheckKey(filter, true);
  InstallStopSignals();
  KvSession s = KvSession::Open(global);
  s.Bind(o.bucket);
  kvWatchOptions wo;
  kvWatchOptions_Init(&wo);
  wo.IncludeHistory = o.include_history;
  wo.IgnoreDeletes = o.ignore_deletes;
  wo.Timeout = ToMillis(s.timeout);
  kvWatcher* raw = nullptr;
  natsStatus st = kvStore_Watch(&raw, s.kv.get(), filter.c_str(), &wo);
  if (st != NATS_OK) throw CliError(fmt::format("watching {} > {}: {}", o.bucket, filter, NatsErrorText(st)));
  KvWatcherPtr w(raw);
  std::fprintf(stderr, "Watching bucket %s%s\n", o.bucket.c_str(),
               filter == ">" ? "" : fmt::format(" keys \"{}\"", filter).c_str());
  uint64_t printed = 0;
  while (!StopRequested() && (o.count == 0 || printed < o.count)) {
    kvEntry* e = nullptr;
    st = kvWatcher_Next(&e, w.get(), 200);
    if (st == NATS_TIMEOUT) continue;
    if (st != NATS_OK) throw CliError(fmt::format("watching {} > {}: {}", o.bucket, filter, NatsErrorText(st)));
    if (e == nullptr) {
      std::fprintf(stderr, "Initial values done\n");  // nats.c marks the end of what was stored
      continue;
    }
    KvEntryPtr entry(e);
    PrintEntry(global, e);
    ++printed;
  }
  kvWatcher_Stop(w.get());
  return 0;
}

int RunLsBuckets(const GlobalOptions& global) {
  Connection conn = Connection::Open(global, {.name = "sluice kv"});
  ojson streams = ListAll(conn.get(), "STREAM.LIST", "", "streams", global.Timeout());
  std::vector<std::pair<std::string, ojson>> buckets;
  for (auto& st : streams) {
    std::string name = Str(st.value("config", ojson::object()), "name");
    if (name.rfind("KV_", 0) == 0) buckets.emplace_back(name.substr(3), st);
  }
  std::sort(buckets.begin(), buckets.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (global.json) {
    ojson arr = ojson::array();
    for (auto& [b, info] : buckets) arr.push_back(StatusJson(b, info));
    std::printf("%s\n", Pretty(arr).c_str());
    return 0;
  }
  if (buckets.empty()) {
    std::fprintf(stderr, "No Key-Value buckets defined\n");
    return 0;
  }
  std::vector<std::array<std::string, 5>> rows = {{"Bucket", "Values", "Size", "History", "TTL"}};
  for (auto& [b, info] : buckets) {
    ojson j = StatusJson(b, info);
    int64_t ttl = j["ttl"].get<int64_t>();
    rows.push_back({b, WithThousands(j["values"].get<uint64_t>()), FormatBytes(static_cast<double>(j["bytes"].get<uint64_t>())),
                    std::to_string(j["history"].get<uint64_t>()), ttl > 0 ? FormatGoDuration(ttl) : "unlimited"});
  }
  std::array<size_t, 5> width{};
  for (auto& r : rows) {
    for (size_t i = 0; i < 5; ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (auto& r : rows) {
    std::printf("%-*s  %*s  %*s  %*s  %s\n", static_cast<int>(width[0]), r[0].c_str(), static_cast<int>(width[1]),
                r[1].c_str(), static_cast<int>(width[2]), r[2].c_str(), static_cast<int>(width[3]), r[3].c_str(),
                r[4].c_str());
  }
  return 0;
}

int RunLs(const GlobalOptions& global, const KvOptions& o) {
  if (o.bucket.empty()) return RunLsBuckets(global);
  CheckBucketName(o.bucket);
  KvSession s = KvSession::Open(global);
  s.Bind(o.bucket);
  kvWatchOptions wo;
  kvWatchOptions_Init(&wo);
  wo.Timeout = ToMillis(s.timeout);
  kvKeysList list{};
  natsStatus st = kvStore_Keys(&list, s.kv.get(), &wo);
  std::vector<std::string> keys;
  if (st == NATS_OK) {
    for (int i = 0; i < list.Count; ++i) keys.emplace_back(list.Keys[i]);
    kvKeysList_Destroy(&list);
  } else if (st != NATS_NOT_FOUND) {  // nats.c: "no keys found"
    throw CliError(fmt::format("listing the keys of {}: {}", o.bucket, NatsErrorText(st)));
  }
  std::sort(keys.begin(), keys.end());
  if (global.json) {
    std::printf("%s\n", Pretty(ojson(keys)).c_str());
  } else if (keys.empty()) {
    std::fprintf(stderr, "No keys in bucket %s\n", o.bucket.c_str());
  } else {
    for (auto& k : keys) std::printf("%s\n", k.c_str());
  }
  return 0;
}

int RunHistory(const GlobalOptions& global, const KvOptions& o) {
  CheckBucketName(o.bucket);
  CheckKey(o.key, false);
  KvSession s = KvSession::Open(global);
  s.Bind(o.bucket);
  kvWatchOptions wo;
  kvWatchOptions_Init(&wo);
  wo.Timeout = ToMillis(s.timeout);
  kvEntryList list{};
  natsStatus st = kvStore_History(&list, s.kv.get(), o.key.c_str(), &wo);
  if (st == NATS_NOT_FOUND) throw CliError(fmt::format("key {} not found in bucket {}", o.key, o.bucket));
  if (st != NATS_OK) throw CliError(fmt::format("history of {} > {}: {}", o.bucket, o.key, NatsErrorText(st)));
  struct ListCleanup {
    kvEntryList* l;
    ~ListCleanup() { kvEntryList_Destroy(l); }
  } cleanup{&list};
  if (global.json) {
    ojson arr = ojson::array();
    for (int i = 0; i < list.Count; ++i) arr.push_back(EntryJson(list.Entries[i]));
    std::printf("%s\n", Pretty(arr).c_str());
    return 0;
  }
  std::vector<std::array<std::string, 5>> rows = {{"Key", "Revision", "Op", "Created", "Value"}};
  for (int i = 0; i < list.Count; ++i) {
    kvEntry* e = list.Entries[i];
    std::string value = ValueOf(e);
    if (value.size() > 60) value = value.substr(0, 57) + "...";
    rows.push_back({kvEntry_Key(e), std::to_string(kvEntry_Revision(e)), OperationName(kvEntry_Operation(e)),
                    FormatRfc3339(kvEntry_Created(e)), value});
  }
  std::array<size_t, 5> width{};
  for (auto& r : rows) {
    for (size_t i = 0; i < 5; ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (auto& r : rows) {
    std::printf("%-*s  %*s  %-*s  %-*s  %s\n", static_cast<int>(width[0]), r[0].c_str(), static_cast<int>(width[1]),
                r[1].c_str(), static_cast<int>(width[2]), r[2].c_str(), static_cast<int>(width[3]), r[3].c_str(),
                r[4].c_str());
  }
  return 0;
}

int RunRm(const GlobalOptions& global, const KvOptions& o) {
  CheckBucketName(o.bucket);
  KvSession s = KvSession::Open(global);
  s.Bind(o.bucket);
  if (!o.force) {
    Confirm(fmt::format("Really delete KV bucket {} and all its values?", o.bucket),
            fmt::format("refusing to delete KV bucket {}", o.bucket));
  }
  s.kv.reset();
  natsStatus st = js_DeleteKeyValue(s.js.get(), o.bucket.c_str());
  if (st != NATS_OK) throw CliError(fmt::format("deleting KV bucket {}: {}", o.bucket, NatsErrorText(st)));
  if (global.json) {
    ojson r;
    r["bucket"] = o.bucket;
    r["deleted"] = true;
    std::printf("%s\n", JsonLine(r).c_str());
  } else {
    std::fprintf(stderr, "Deleted KV bucket %s\n", o.bucket.c_str());
  }
  return 0;
}

}  // namespace

void AddKvCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  CLI::App* kv = app.add_subcommand("kv", "JetStream Key-Value buckets");
  RequireOneOf(*kv, "add, put, get, del, watch, ls, history, info, rm");
  auto o = std::make_shared<KvOptions>();
  auto bind = [&global, &action, o](CLI::App* cmd, int (*run)(const GlobalOptions&, const KvOptions&)) {
    RunOnSelect(cmd, global, action, o, run);
  };

  CLI::App* add = kv->add_subcommand("add", "create a Key-Value bucket");
  add->alias("create");
  add->add_option("bucket", o->bucket, "bucket name")->required();
  add->add_option("--history", o->history, "values kept per key (1-64)")->check(CLI::Range(1, 64))
      ->capture_default_str();
  add->add_option("--max-value-size", o->max_value_size, "largest value (-1: unlimited)")->capture_default_str();
  AddBucketAddOptions(add, o->limits, "values");
  bind(add, RunAdd);

  CLI::App* put = kv->add_subcommand("put", "store a value (- reads it from stdin)");
  put->add_option("bucket", o->bucket, "bucket name")->required();
  put->add_option("key", o->key, "key")->required();
  put->add_option("value", o->value, "value, or - for stdin")->required();
  bind(put, RunPut);

  CLI::App* get = kv->add_subcommand("get", "print a value");
  get->add_option("bucket", o->bucket, "bucket name")->required();
  get->add_option("key", o->key, "key")->required();
  get->add_option("--revision", o->revision, "this revision instead of the newest");
  get->add_flag("--raw", o->raw, "print only the value");
  bind(get, RunGet);

  CLI::App* del = kv->add_subcommand("del", "delete a key (its history is kept unless --purge)");
  del->alias("delete");
  del->add_option("bucket", o->bucket, "bucket name")->required();
  del->add_option("key", o->key, "key")->required();
  del->add_flag("--purge", o->purge, "also remove the key's history");
  bind(del, RunDel);

  CLI::App* watch = kv->add_subcommand("watch", "print the values, then every change, until interrupted");
  watch->add_option("bucket", o->bucket, "bucket name")->required();
  watch->add_option("filter", o->key, "keys to watch (* and a final > allowed; default all)");
  watch->add_flag("--history", o->include_history, "start with every stored revision, not only the newest");
  watch->add_flag("--ignore-deletes", o->ignore_deletes, "leave out deletes and purges");
  watch->add_option("--count", o->count, "exit after this many entries")
      ->check(CLI::Range(uint64_t{1}, uint64_t{INT32_MAX}));
  bind(watch, RunWatch);

  CLI::App* ls = kv->add_subcommand("ls", "list the buckets, or the keys of a bucket");
  ls->alias("list");
  ls->add_option("bucket", o->bucket, "bucket whose keys to list");
  bind(ls, RunLs);

  CLI::App* history = kv->add_subcommand("history", "every stored revision of a key");
  history->add_option("bucket", o->bucket, "bucket name")->required();
  history->add_option("key", o->key, "key")->required();
  bind(history, RunHistory);

  CLI::App* info = kv->add_subcommand("info", "a bucket's configuration and state");
  info->alias("status");
  info->add_option("bucket", o->bucket, "bucket name")->required();
  bind(info, RunInfo);

  CLI::App* rm = kv->add_subcommand("rm", "delete a bucket and its values");
  rm->add_option("bucket", o->bucket, "bucket name")->required();
  rm->add_flag("-f,--force", o->force, "do not ask (required when stdin is not a terminal)");
  bind(rm, RunRm);
}

}  // namespace sluice::cli
