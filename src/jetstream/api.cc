// The $JS.API handlers for streams (jetstream-api.md §2, §3, §9). They run on
// the API thread, one request at a time.
#include <fmt/format.h>

#include <filesystem>

#include "core/subject.h"
#include "jetstream/consumer.h"
#include "jetstream/jetstream_impl.h"
#include "jetstream/wire.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::string_view kApiPrefix = "$JS.API.";
constexpr const char* kTypePrefix = "io.nats.jetstream.api.v1.";

std::string Type(const char* suffix) { return std::string(kTypePrefix) + suffix; }

// Parses an optional request body: empty, "null" and "{}" mean no options.
// Returns false (10025) for anything that is not a JSON object.
bool ParseBody(const std::string& payload, json& out) {
  if (payload.empty()) {
    out = json::object();
    return true;
  }
  out = json::parse(payload, nullptr, false);
  if (out.is_discarded()) return false;
  if (out.is_null()) out = json::object();
  return out.is_object();
}

bool IsEmptyBody(const std::string& payload) {
  if (payload.empty()) return true;
  json j = json::parse(payload, nullptr, false);
  return !j.is_discarded() && (j.is_null() || (j.is_object() && j.empty()));
}

// Reads an unsigned field; false when present with a wrong type.
bool GetUint(const json& j, const char* key, uint64_t& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (it->is_number_unsigned()) out = it->get<uint64_t>();
  else if (it->is_number_integer() && it->get<int64_t>() >= 0) out = static_cast<uint64_t>(it->get<int64_t>());
  else return false;
  return true;
}
bool GetString(const json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}
bool GetBool(const json& j, const char* key, bool& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_boolean()) return false;
  out = it->get<bool>();
  return true;
}

// A stream token: one non-empty token (a '.' would mean more tokens: nobody
// answers such a subject in nats-server).
bool SingleToken(std::string_view s) { return !s.empty() && s.find('.') == std::string_view::npos; }

}  // namespace

void JetStreamImpl::Reply(const std::string& reply, const ojson& body) {
  if (reply.empty()) return;
  publisher_.Publish(reply, "", "", body.dump());
}

void JetStreamImpl::ReplyError(const std::string& reply, const char* type, const ApiError& error, ojson extra) {
  ++api_errors_;
  ojson j;
  j["type"] = Type(type);
  j["error"] = ErrorJson(error);
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  Reply(reply, j);
}

void JetStreamImpl::HandleApi(const ApiRequest& r) {
  if (!std::string_view(r.subject).starts_with(kApiPrefix)) return;
  std::string_view rest = std::string_view(r.subject).substr(kApiPrefix.size());
  auto after = [&](std::string_view prefix, std::string& tail) {
    if (!rest.starts_with(prefix)) return false;
    tail = std::string(rest.substr(prefix.size()));
    return true;
  };
  std::string tail;
  if (rest == "INFO") {
    AccountInfo(r);
  } else if (rest == "STREAM.NAMES") {
    StreamNamesOrList(r, false);
  } else if (rest == "STREAM.LIST") {
    StreamNamesOrList(r, true);
  } else if (after("STREAM.CREATE.", tail)) {
    if (SingleToken(tail)) StreamCreate(r, tail);
  } else if (after("STREAM.UPDATE.", tail)) {
    if (SingleToken(tail)) StreamUpdate(r, tail);
  } else if (after("STREAM.DELETE.", tail)) {
    if (SingleToken(tail)) StreamDelete(r, tail);
  } else if (after("STREAM.INFO.", tail)) {
    if (SingleToken(tail)) StreamInfo(r, tail);
  } else if (after("STREAM.PURGE.", tail)) {
    if (SingleToken(tail)) StreamPurge(r, tail);
  } else if (after("STREAM.MSG.GET.", tail)) {
    if (SingleToken(tail)) StreamMsgGet(r, tail);
  } else if (after("STREAM.MSG.DELETE.", tail)) {
    if (SingleToken(tail)) StreamMsgDelete(r, tail);
  } else if (after("DIRECT.GET.", tail)) {
    size_t dot = tail.find('.');
    if (dot == std::string::npos) DirectGet(r, tail, "");
    else DirectGet(r, tail.substr(0, dot), tail.substr(dot + 1));
    return;  // direct gets are not counted as API calls (nats-server neither)
  } else if (after("STREAM.LEADER.STEPDOWN.", tail) || after("STREAM.PEER.REMOVE.", tail)) {
    if (SingleToken(tail)) {
      ++api_total_;
      const bool stepdown = rest.starts_with("STREAM.LEADER");
      ReplyError(r.reply, stepdown ? "stream_leader_stepdown_response" : "stream_remove_peer_response",
                 MakeError(ErrorId::kClusterRequired));
    }
    return;
  } else if (after("CONSUMER.", tail)) {
    ConsumerRequest(r, tail);
    if (tail.starts_with("MSG.NEXT.")) return;  // a pull request, not an API call
  } else {
    return;  // not an API of this version: no reply (jetstream-api.md §1)
  }
  ++api_total_;
}

void JetStreamImpl::AccountInfo(const ApiRequest& r) {
  Stats stats = GetStats();
  ojson j;
  j["type"] = Type("account_info_response");
  j["memory"] = stats.memory;
  j["storage"] = stats.storage;
  j["reserved_memory"] = Reserved(Storage::kMemory);
  j["reserved_storage"] = Reserved(Storage::kFile);
  j["streams"] = stats.streams;
  j["consumers"] = stats.consumers;
  ojson limits;
  // The account's limits, not the server's: the one global account has
  // nats-server's dynamic limits (all unlimited) whatever max_mem / max_file
  // say; those bound the server and are enforced as 10028 / 10047 / 10023.
  limits["max_memory"] = -1;
  limits["max_storage"] = -1;
  limits["max_streams"] = -1;
  limits["max_consumers"] = -1;
  limits["max_ack_pending"] = -1;
  limits["memory_max_stream_bytes"] = -1;
  limits["storage_max_stream_bytes"] = -1;
  limits["max_bytes_required"] = false;
  j["limits"] = limits;
  if (!config_.domain.empty()) j["domain"] = config_.domain;
  ojson api;
  api["total"] = stats.api_total;
  api["errors"] = stats.api_errors;
  j["api"] = api;
  Reply(r.reply, j);
}

void JetStreamImpl::StreamCreate(const ApiRequest& r, const std::string& name) {
  const char* type = "stream_create_response";
  if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos)
    return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNameContainsPathSeparators));
  if (r.payload.empty()) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
  json body = json::parse(r.payload, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
  StreamConfig config;
  if (ApiError e = ParseStreamConfig(body, config); !e.ok()) return ReplyError(r.reply, type, e);
  if (config.name != name) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamMismatch));
  Normalize(config);
  if (ApiError e = Validate(config, true); !e.ok()) return ReplyError(r.reply, type, e);

  auto created_reply = [&](Stream& stream) {
    ojson j;
    j["type"] = Type(type);
    ojson info = stream.Info(false, "");
    for (auto it = info.begin(); it != info.end(); ++it) j[it.key()] = it.value();
    j["ts"] = FormatTime(store::SystemClock().NowNs());
    j["did_create"] = true;
    Reply(r.reply, j);
  };
  if (auto existing = FindStream(name)) {
    if (!SameConfig(existing->config(), config))
      return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNameInUse));
    return created_reply(*existing);
  }
  for (auto& other : AllStreams()) {
    for (const auto& a : other->config().subjects) {
      for (const auto& b : config.subjects) {
        if (SubjectsCollide(a, b)) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamSubjectOverlap));
      }
    }
  }
  if (ApiError e = CheckResources(config, ""); !e.ok()) return ReplyError(r.reply, type, e);
  std::string error;
  auto stream = Stream::Create(env_, config_.store_dir + "/" + name, config, error);
  if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamGeneralError, error));
  if (!stream->Subscribe()) {
    stream->Close(true);
    return ReplyError(r.reply, type, MakeError(ErrorId::kStreamInvalidConfig, "invalid subject"));
  }
  {
    std::lock_guard lock(streams_mu_);
    streams_[name] = stream;
  }
  WakeTimer();
  created_reply(*stream);
}

void JetStreamImpl::StreamUpdate(const ApiRequest& r, const std::string& name) {
  const char* type = "stream_update_response";
  if (r.payload.empty()) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
  json body = json::parse(r.payload, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
  StreamConfig config;
  if (ApiError e = ParseStreamConfig(body, config); !e.ok()) return ReplyError(r.reply, type, e);
  if (config.name != name) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamMismatch));
  auto stream = FindStream(name);
  if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNotFound));
  Normalize(config);
  if (ApiError e = Validate(config, false); !e.ok()) return ReplyError(r.reply, type, e);
  StreamConfig old = stream->config();
  if (ApiError e = ValidateUpdate(old, config); !e.ok()) return ReplyError(r.reply, type, e);
  if (config.num_replicas > 1) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamReplicasNotSupported));
  for (auto& other : AllStreams()) {
    if (other->name() == name) continue;
    for (const auto& a : other->config().subjects) {
      for (const auto& b : config.subjects) {
        if (SubjectsCollide(a, b)) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamSubjectOverlap));
      }
    }
  }
  // Only a larger reservation is checked (nats-server checks the growth).
  if (config.max_bytes > 0 && config.max_bytes > old.max_bytes) {
    if (ApiError e = CheckResources(config, name); !e.ok()) return ReplyError(r.reply, type, e);
  }
  if (ApiError e = stream->Update(config); !e.ok()) return ReplyError(r.reply, type, e);
  WakeTimer();
  ojson j;
  j["type"] = Type(type);
  ojson info = stream->Info(false, "");
  for (auto it = info.begin(); it != info.end(); ++it) j[it.key()] = it.value();
  j["ts"] = FormatTime(store::SystemClock().NowNs());
  Reply(r.reply, j);
}

void JetStreamImpl::StreamDelete(const ApiRequest& r, const std::string& name) {
  const char* type = "stream_delete_response";
  if (!IsEmptyBody(r.payload)) return ReplyError(r.reply, type, MakeError(ErrorId::kNotEmptyRequest));
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(streams_mu_);
    auto it = streams_.find(name);
    if (it != streams_.end()) {
      stream = it->second;
      streams_.erase(it);
    }
  }
  if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNotFound));
  stream->Close(true);
  ojson j;
  j["type"] = Type(type);
  j["success"] = true;
  Reply(r.reply, j);
}

void JetStreamImpl::StreamInfo(const ApiRequest& r, const std::string& name) {
  const char* type = "stream_info_response";
  ojson zero;
  zero["total"] = 0;
  zero["offset"] = 0;
  zero["limit"] = 0;
  json body;
  if (!ParseBody(r.payload, body)) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson), zero);
  bool deleted_details = false;
  std::string filter;
  uint64_t offset = 0;
  if (!GetBool(body, "deleted_details", deleted_details) || !GetString(body, "subjects_filter", filter) ||
      !GetUint(body, "offset", offset))
    return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson), zero);
  auto stream = FindStream(name);
  if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNotFound), zero);
  ojson info = stream->Info(deleted_details, filter);
  ojson j;
  j["type"] = Type(type);
  uint64_t total = 0;
  if (!filter.empty()) {
    // Paged subjects: at most 100000 from offset.
    auto& state = info["state"];
    if (state.contains("subjects")) {
      ojson all = state["subjects"];
      total = all.size();
      ojson page = ojson::object();
      uint64_t i = 0;
      for (auto it = all.begin(); it != all.end(); ++it, ++i) {
        if (i < offset) continue;
        if (page.size() >= 100000) break;
        page[it.key()] = it.value();
      }
      state["subjects"] = page;
    }
  }
  // nats-server pages only when some subject matched: else 0, 0, 0.
  j["total"] = total;
  j["offset"] = total == 0 ? 0 : offset;
  j["limit"] = total == 0 ? 0 : 100000;
  for (auto it = info.begin(); it != info.end(); ++it) j[it.key()] = it.value();
  j["ts"] = FormatTime(store::SystemClock().NowNs());
  Reply(r.reply, j);
}

void JetStreamImpl::StreamNamesOrList(const ApiRequest& r, bool list) {
  const char* type = list ? "stream_list_response" : "stream_names_response";
  const uint64_t limit = list ? 256 : 1024;
  ojson zero;
  zero["total"] = 0;
  zero["offset"] = 0;
  zero["limit"] = 0;
  zero["streams"] = list ? ojson::array() : ojson(nullptr);
  json body;
  uint64_t offset = 0;
  std::string subject;
  if (!ParseBody(r.payload, body) || !GetUint(body, "offset", offset) || !GetString(body, "subject", subject))
    return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson), zero);
  std::vector<std::shared_ptr<Stream>> matched;
  for (auto& s : AllStreams()) {  // sorted by name (std::map)
    if (!subject.empty()) {
      bool hit = false;
      for (const auto& subj : s->config().subjects) hit = hit || SubjectsCollide(subj, subject);
      if (!hit) continue;
    }
    matched.push_back(s);
  }
  uint64_t total = matched.size();
  offset = std::min(offset, total);
  ojson streams = list ? ojson::array() : ojson(nullptr);
  for (uint64_t i = offset; i < total && i < offset + limit; ++i) {
    if (list) {
      streams.push_back(matched[i]->Info(false, ""));
    } else {
      if (streams.is_null()) streams = ojson::array();
      streams.push_back(matched[i]->name());
    }
  }
  ojson j;
  j["type"] = Type(type);
  j["total"] = total;
  j["offset"] = offset;
  j["limit"] = limit;
  j["streams"] = streams;
  Reply(r.reply, j);
}

void JetStreamImpl::StreamPurge(const ApiRequest& r, const std::string& name) {
  const char* type = "stream_purge_response";
  ojson zero;
  zero["purged"] = 0;
  json body;
  if (!ParseBody(r.payload, body)) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson), zero);
  store::PurgeRequest req;
  uint64_t keep = 0;
  if (!GetString(body, "filter", req.filter) || !GetUint(body, "seq", req.up_to_seq) || !GetUint(body, "keep", keep))
    return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson), zero);
  const bool has_keep = body.contains("keep") && !body["keep"].is_null();
  if (req.up_to_seq > 0 && has_keep) return ReplyError(r.reply, type, MakeError(ErrorId::kBadRequest), zero);
  if (has_keep && keep > 0) req.keep = keep;
  auto stream = FindStream(name);
  if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNotFound), zero);
  uint64_t purged = 0;
  if (ApiError e = stream->Purge(req, purged); !e.ok()) return ReplyError(r.reply, type, e, zero);
  for (auto& c : stream->Consumers()) c->Purged();
  ojson j;
  j["type"] = Type(type);
  j["success"] = true;
  j["purged"] = purged;
  Reply(r.reply, j);
}

namespace {
// The MSG.GET / DIRECT.GET request: exactly one selector. Returns false for
// conflicting or missing selectors (10003 / 408 Bad Request).
enum class GetParse { kOk, kBadJson, kEmpty, kBad };
GetParse ParseGet(const std::string& payload, MessageQuery& q) {
  if (payload.empty()) return GetParse::kEmpty;
  json body = json::parse(payload, nullptr, false);
  if (body.is_discarded() || !(body.is_object() || body.is_null())) return GetParse::kBadJson;
  if (body.is_null() || body.empty()) return GetParse::kEmpty;
  if (!GetUint(body, "seq", q.seq) || !GetString(body, "last_by_subj", q.last_by_subject) ||
      !GetString(body, "next_by_subj", q.next_by_subject))
    return GetParse::kBadJson;
  const bool last = !q.last_by_subject.empty(), next = !q.next_by_subject.empty();
  if (last && (next || q.seq > 0)) return GetParse::kBad;
  if (!last && !next && q.seq == 0) return GetParse::kEmpty;
  return GetParse::kOk;
}
}  // namespace

void JetStreamImpl::StreamMsgGet(const ApiRequest& r, const std::string& name) {
  const char* type = "stream_msg_get_response";
  MessageQuery q;
  GetParse p = ParseGet(r.payload, q);
  if (p == GetParse::kBadJson) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
  if (p != GetParse::kOk) return ReplyError(r.reply, type, MakeError(ErrorId::kBadRequest));
  auto stream = FindStream(name);
  if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNotFound));
  store::StoredMessage m;
  if (ApiError e = stream->GetMessage(q, m); !e.ok()) return ReplyError(r.reply, type, e);
  ojson msg;
  msg["subject"] = m.subject;
  msg["seq"] = m.seq;
  if (!m.headers.empty()) msg["hdrs"] = Base64Encode(m.headers);
  if (!m.payload.empty()) msg["data"] = Base64Encode(m.payload);
  msg["time"] = FormatTime(m.timestamp_ns);
  ojson j;
  j["type"] = Type(type);
  j["message"] = msg;
  Reply(r.reply, j);
}

void JetStreamImpl::StreamMsgDelete(const ApiRequest& r, const std::string& name) {
  const char* type = "stream_msg_delete_response";
  json body;
  if (!ParseBody(r.payload, body)) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
  if (body.empty()) return ReplyError(r.reply, type, MakeError(ErrorId::kBadRequest));
  uint64_t seq = 0;
  bool no_erase = false;
  if (!GetUint(body, "seq", seq) || !GetBool(body, "no_erase", no_erase))
    return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
  auto stream = FindStream(name);
  if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNotFound));
  if (ApiError e = stream->DeleteMessage(seq, no_erase); !e.ok()) return ReplyError(r.reply, type, e);
  for (auto& c : stream->Consumers()) c->Purged();
  ojson j;
  j["type"] = Type(type);
  j["success"] = true;
  Reply(r.reply, j);
}

void JetStreamImpl::DirectGet(const ApiRequest& r, const std::string& name, const std::string& subject) {
  auto stream = FindStream(name);
  if (!stream || !stream->config().allow_direct || r.reply.empty()) return;  // nobody answers
  auto status = [&](const char* line) { publisher_.Publish(r.reply, "", std::string("NATS/1.0 ") + line + "\r\n\r\n", ""); };
  MessageQuery q;
  if (!subject.empty()) {
    if (!r.payload.empty()) return status("408 Bad Request");
    q.last_by_subject = subject;
  } else {
    switch (ParseGet(r.payload, q)) {
      case GetParse::kOk: break;
      case GetParse::kEmpty: return status("408 Empty Request");
      case GetParse::kBadJson: return status("408 Malformed Request");
      case GetParse::kBad: return status("408 Bad Request");
    }
  }
  store::StoredMessage m;
  if (!stream->GetMessage(q, m).ok()) return status("404 Message Not Found");
  std::string header = m.headers.empty() ? std::string("NATS/1.0\r\n") : m.headers.substr(0, m.headers.size() - 2);
  header += fmt::format("Nats-Stream: {}\r\nNats-Subject: {}\r\nNats-Sequence: {}\r\nNats-Time-Stamp: {}\r\n\r\n",
                        name, m.subject, m.seq, FormatTime(m.timestamp_ns));
  publisher_.Publish(r.reply, "", header, m.payload);
}

}  // namespace sluice::jetstream
