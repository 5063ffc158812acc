#include "object_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "bucket_options.h"
#include "duration.h"
#include "js_context.h"
#include "js_output.h"
#include "js_pull.h"
#include "sha256.h"

namespace sluice::cli {
namespace {

std::string NewNuid() {
  // nats.c's inboxes are "_INBOX." followed by a fresh 22-character NUID.
  natsInbox* inbox = nullptr;
  CheckNats(natsInbox_Create(&inbox), "nuid");
  std::string s = inbox;
  natsInbox_Destroy(inbox);
  size_t dot = s.rfind('.');
  return dot == std::string::npos ? s : s.substr(dot + 1);
}

std::string DigestOf(Sha256& sha) {
  auto sum = sha.Finish();
  return "SHA-256=" + Base64UrlEncode(sum.data(), sum.size());
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string ObjectStore::MetaSubject(const std::string& bucket, const std::string& name) {
  return fmt::format("$O.{}.M.{}", bucket, Base64UrlEncode(name.data(), name.size()));
}

ObjectStore::ObjectStore(const Connection& conn, std::string bucket, std::chrono::nanoseconds timeout)
    : conn_(conn), bucket_(std::move(bucket)), timeout_(timeout) {
  CheckBucketName(bucket_);
}

ojson ObjectStore::CreateBucket(const ObjectBucketConfig& c) {
  // The config nats.go sends (kv-and-object-store.md §2.1).
  ojson cfg;
  cfg["name"] = stream();
  if (!c.description.empty()) cfg["description"] = c.description;
  cfg["subjects"] = ojson::array({fmt::format("$O.{}.C.>", bucket_), fmt::format("$O.{}.M.>", bucket_)});
  cfg["retention"] = "limits";
  cfg["max_consumers"] = -1;
  cfg["max_msgs"] = -1;
  cfg["max_bytes"] = c.max_bytes;
  cfg["discard"] = "new";
  cfg["max_age"] = c.ttl_ns;
  cfg["max_msgs_per_subject"] = -1;
  cfg["max_msg_size"] = -1;
  cfg["storage"] = c.storage;
  cfg["num_replicas"] = c.replicas;
  cfg["allow_rollup_hdrs"] = true;
  cfg["allow_direct"] = true;
  return WithoutType(JsRequest(conn_.get(), "STREAM.CREATE." + stream(), cfg, timeout_));
}

ojson ObjectStore::BucketInfo() {
  try {
    return WithoutType(JsRequest(conn_.get(), "STREAM.INFO." + stream(), ojson(), timeout_));
  } catch (const JsApiError& e) {
    if (e.err_code() != kErrStreamNotFound) throw;
    throw JsApiError(fmt::format("object store bucket {} not found", bucket_), e.err_code(), e.code());
  }
}

ObjectInfo ObjectStore::ParseInfo(const std::string& data, const std::string& stored_time) const {
  ojson meta = ojson::parse(data, nullptr, false);
  if (meta.is_discarded() || !meta.is_object()) {
    throw CliError(fmt::format("bucket {} holds meta data that is not an ObjectInfo: {}", bucket_, data.substr(0, 200)));
  }
  if (!stored_time.empty()) meta["mtime"] = stored_time;  // the stored time is authoritative, not the writer's
  ObjectInfo info;
  info.name = Str(meta, "name");
  info.nuid = Str(meta, "nuid");
  info.digest = Str(meta, "digest");
  info.size = Num(meta, "size");
  info.chunks = Num(meta, "chunks");
  info.deleted = meta.value("deleted", false);
  info.mtime = Str(meta, "mtime");
  info.meta = std::move(meta);
  return info;
}

std::optional<ObjectInfo> ObjectStore::Info(const std::string& name) {
  ojson req;
  req["last_by_subj"] = MetaSubject(bucket_, name);
  ojson r;
  try {
    r = JsRequest(conn_.get(), "STREAM.MSG.GET." + stream(), req, timeout_);
  } catch (const JsApiError& e) {
    if (e.err_code() == 10037) return std::nullopt;  // no message found: no such object
    if (e.err_code() == kErrStreamNotFound) BucketInfo();  // throws the bucket's own error
    throw;
  }
  const ojson m = r.value("message", ojson::object());
  return ParseInfo(Base64Decode(Str(m, "data")), Str(m, "time"));
}

void ObjectStore::Purge(const std::string& subject) {
  ojson req;
  req["filter"] = subject;
  JsRequest(conn_.get(), "STREAM.PURGE." + stream(), req, timeout_);
}

ObjectInfo ObjectStore::Put(const std::string& name, std::FILE* in, const std::string& description,
                            const TransferProgress& progress) {
  if (name.empty()) throw UsageError("the object name is empty");
  std::optional<ObjectInfo> old = Info(name);  // also fails clearly on a missing bucket
  const std::string nuid = NewNuid();
  const std::string chunk_subject = fmt::format("$O.{}.C.{}", bucket_, nuid);

  AsyncAckCollector acks;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = ToMillis(timeout_);
  acks.Attach(jo, 32, timeout_);  // at most 4 MiB of chunks unacknowledged
  JsCtxPtr js = OpenJetStream(conn_.get(), jo);

  // On any failure, remove the chunks stored so far (the meta was not written).
  struct ChunkCleanup {
    ObjectStore* store;
    std::string subject;
    bool active = true;
    ~ChunkCleanup() {
      if (!active) return;
      try {
        store->Purge(subject);
      } catch (...) {
      }
    }
  } cleanup{this, chunk_subject};

  Sha256 sha;
  uint64_t size = 0, chunks = 0;
  std::vector<char> buf(kObjectChunkSize);
  while (true) {
    size_t n = std::fread(buf.data(), 1, buf.size(), in);
    if (n == 0) {
      if (std::ferror(in)) throw CliError(fmt::format("reading the input: {}", std::strerror(errno)));
      break;
    }
    sha.Update(buf.data(), n);
    natsStatus s = js_PublishAsync(js.get(), chunk_subject.c_str(), buf.data(), static_cast<int>(n), nullptr);
    if (s == NATS_TIMEOUT) throw CliError("no acknowledgement for the chunks within " + FormatDuration(timeout_));
    if (s == NATS_NO_RESPONDERS) throw CliError(fmt::format("no stream stores \"{}\" (no responders)", chunk_subject));
    CheckNats(s, "publishing a chunk");
    size += n;
    ++chunks;
    if (progress) progress(n);
    if (acks.failed() > 0) break;
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = std::max<int64_t>(ToMillis(timeout_), 30000);
  natsStatus s = js_PublishAsyncComplete(js.get(), &po);
  if (s == NATS_TIMEOUT) throw CliError("timed out waiting for the last chunk acknowledgements");
  CheckNats(s, "waiting for the chunk acknowledgements");
  if (acks.failed() > 0) {
    throw CliError(fmt::format("storing a chunk failed: {}", acks.first_error()));
  }

  ojson meta;
  meta["name"] = name;
  if (!description.empty()) meta["description"] = description;
  meta["options"] = {{"max_chunk_size", kObjectChunkSize}};
  meta["bucket"] = bucket_;
  meta["nuid"] = nuid;
  meta["size"] = size;
  meta["mtime"] = FormatRfc3339(NowNs());
  meta["chunks"] = chunks;
  meta["digest"] = DigestOf(sha);
  const std::string body = meta.dump();
  natsMsg* raw_msg = nullptr;
  const std::string meta_subject = MetaSubject(bucket_, name);
  CheckNats(natsMsg_Create(&raw_msg, meta_subject.c_str(), nullptr, body.data(), static_cast<int>(body.size())),
            "meta message");
  MsgPtr msg(raw_msg);
  CheckNats(natsMsgHeader_Set(raw_msg, "Nats-Rollup", "sub"), "meta header");
  jsPubAck* pa = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  s = js_PublishMsg(&pa, js.get(), raw_msg, &po, &code);
  if (s != NATS_OK) {
    throw CliError(code ? fmt::format("storing the object's meta data: {} ({})", NatsErrorText(s), static_cast<int>(code))
                        : fmt::format("storing the object's meta data: {}", NatsErrorText(s)));
  }
  jsPubAck_Destroy(pa);
  cleanup.active = false;

  if (old && !old->deleted && !old->nuid.empty() && old->nuid != nuid) {
    Purge(fmt::format("$O.{}.C.{}", bucket_, old->nuid));  // the replaced object's chunks
  }
  ObjectInfo info = ParseInfo(body, "");
  return info;
}

uint64_t ObjectStore::ReadAll(const std::string& filter, const std::string& deliver_policy,
                              const std::function<void(natsMsg*)>& on_message) {
  // An ephemeral pull consumer acknowledged per batch (ack all): ack-less pull
  // consumers are refused by nats-server before 2.10.
  constexpr int kBatch = 64;
  ojson cfg;
  cfg["deliver_policy"] = deliver_policy;
  cfg["ack_policy"] = "all";
  cfg["ack_wait"] = std::max<int64_t>(timeout_.count() * 2, int64_t{30} * 1'000'000'000);
  cfg["max_deliver"] = -1;
  cfg["filter_subject"] = filter;
  cfg["replay_policy"] = "instant";
  cfg["max_ack_pending"] = kBatch * 4;
  cfg["inactive_threshold"] = std::max<int64_t>(timeout_.count() * 2, int64_t{30} * 1'000'000'000);
  cfg["mem_storage"] = true;
  ojson req;
  req["stream_name"] = stream();
  req["config"] = cfg;
  ojson created = JsRequest(conn_.get(), "CONSUMER.CREATE." + stream(), req, timeout_);
  const std::string consumer = Str(created, "name");
  struct ConsumerCleanup {
    natsConnection* nc;
    std::string api;
    std::chrono::nanoseconds timeout;
    ~ConsumerCleanup() {
      try {
        JsRequest(nc, api, ojson(), timeout);
      } catch (...) {
      }
    }
  } cleanup{conn_.get(), fmt::format("CONSUMER.DELETE.{}.{}", stream(), consumer), timeout_};

  const uint64_t expected = Num(created, "num_pending");
  uint64_t got = 0, last_seq = 0;
  PullReader reader(conn_, stream(), consumer);
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(timeout_) + std::chrono::seconds(2);
  while (got < expected) {
    reader.Request(kBatch, timeout_);
    int in_batch = 0;
    MsgPtr last;
    while (in_batch < kBatch && got < expected) {
      auto d = reader.Next(wait);
      if (!d) break;
      if (d->status != 0) break;  // 408: the request expired
      ++in_batch;
      auto md = ParseAckSubject(natsMsg_GetReply(d->msg.get()) ? natsMsg_GetReply(d->msg.get()) : "");
      if (md && md->stream_seq <= last_seq) continue;  // a redelivery of one we have
      if (md) last_seq = md->stream_seq;
      on_message(d->msg.get());
      ++got;
      last = std::move(d->msg);
    }
    if (last) Ack(conn_.get(), last.get());  // ack all: everything up to it
    if (in_batch == 0) {
      throw CliError(fmt::format("stream {} sent {} of {} messages on \"{}\" and then nothing for {}", stream(), got,
                                 expected, filter, FormatDuration(timeout_)));
    }
  }
  return got;
}

void ObjectStore::Get(const ObjectInfo& info, std::FILE* out, const TransferProgress& progress) {
  if (info.deleted) throw CliError(fmt::format("object {} was deleted", info.name));
  if (info.meta.contains("options") && info.meta["options"].is_object() && info.meta["options"].contains("link")) {
    throw CliError(fmt::format("object {} is a link; links are not supported by sluice obj", info.name));
  }
  Sha256 sha;
  uint64_t size = 0, chunks = 0;
  if (info.size > 0) {
    ReadAll(fmt::format("$O.{}.C.{}", bucket_, info.nuid), "all", [&](natsMsg* m) {
      const char* data = natsMsg_GetData(m);
      size_t n = static_cast<size_t>(natsMsg_GetDataLength(m));
      if (n > 0 && std::fwrite(data, 1, n, out) != n) {
        throw CliError(fmt::format("writing the output: {}", std::strerror(errno)));
      }
      sha.Update(data, n);
      size += n;
      ++chunks;
      if (progress) progress(n);
    });
  }
  if (std::fflush(out) != 0) throw CliError(fmt::format("writing the output: {}", std::strerror(errno)));
  if (size != info.size || chunks != info.chunks) {
    throw CliError(fmt::format("object {} is incomplete: read {} bytes in {} chunks, its info says {} in {}", info.name,
                               size, chunks, info.size, info.chunks));
  }
  std::string digest = DigestOf(sha);
  if (!info.digest.empty() && digest != info.digest) {
    throw CliError(fmt::format("object {}: digest mismatch: the bytes read hash to {}, its info says {}", info.name,
                               digest, info.digest));
  }
}

std::vector<ObjectInfo> ObjectStore::List() {
  BucketInfo();
  std::map<std::string, ObjectInfo> by_name;
  ReadAll(fmt::format("$O.{}.M.>", bucket_), "last_per_subject", [&](natsMsg* m) {
    std::string data(natsMsg_GetData(m) ? natsMsg_GetData(m) : "", static_cast<size_t>(natsMsg_GetDataLength(m)));
    std::string time;
    if (auto md = ParseAckSubject(natsMsg_GetReply(m) ? natsMsg_GetReply(m) : "")) {
      time = FormatRfc3339(md->timestamp_ns);
    }
    ObjectInfo info = ParseInfo(data, time);
    if (!info.deleted) by_name[info.name] = std::move(info);
  });
  std::vector<ObjectInfo> out;
  for (auto& [name, info] : by_name) out.push_back(std::move(info));
  return out;
}

void ObjectStore::Delete(const std::string& name) {
  std::optional<ObjectInfo> info = Info(name);
  if (!info || info->deleted) throw CliError(fmt::format("object {} not found in bucket {}", name, bucket_));
  ojson meta = info->meta;
  meta["deleted"] = true;
  meta["size"] = 0;
  meta["chunks"] = 0;
  meta.erase("digest");
  meta["mtime"] = FormatRfc3339(NowNs());
  const std::string body = meta.dump();
  const std::string subject = MetaSubject(bucket_, name);
  natsMsg* raw_msg = nullptr;
  CheckNats(natsMsg_Create(&raw_msg, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size())),
            "meta message");
  MsgPtr msg(raw_msg);
  CheckNats(natsMsgHeader_Set(raw_msg, "Nats-Rollup", "sub"), "meta header");
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_RequestMsg(&reply, conn_.get(), raw_msg, ToMillis(timeout_));
  if (s == NATS_NO_RESPONDERS) throw CliError(fmt::format("no stream stores \"{}\" (no responders)", subject));
  CheckNats(s, "storing the delete marker");
  MsgPtr reply_msg(reply);
  std::string ack(natsMsg_GetData(reply) ? natsMsg_GetData(reply) : "", static_cast<size_t>(natsMsg_GetDataLength(reply)));
  ojson pa = ojson::parse(ack, nullptr, false);
  if (pa.is_object() && pa.contains("error") && pa["error"].is_object()) {
    throw JsApiError(pa["error"].value("description", std::string("unknown error")), pa["error"].value("err_code", 0),
                     pa["error"].value("code", 0));
  }
  if (!info->nuid.empty()) Purge(fmt::format("$O.{}.C.{}", bucket_, info->nuid));
}

}  // namespace sluice::cli
