#include "jetstream/stream_config.h"

#include <fmt/format.h>

#include <set>

#include "core/subject.h"
#include "jetstream/json_reader.h"
#include "jetstream/wire.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;


bool NameIsInvalid(const std::string& name) {
  if (name.empty()) return true;
  for (char c : name) {
    if (c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
        c == '\v')
      return true;
  }
  return false;
}

}  // namespace

const char* RetentionName(Retention r) {
  switch (r) {
    case Retention::kInterest: return "interest";
    case Retention::kWorkQueue: return "workqueue";
    default: return "limits";
  }
}
const char* StorageName(Storage s) { return s == Storage::kMemory ? "memory" : "file"; }

ApiError ParseStreamConfig(const json& body, StreamConfig& out) {
  if (!body.is_object()) return MakeError(ErrorId::kInvalidJson);
  JsonReader r{body};
  r.String("name", out.name);
  r.String("description", out.description);
  if (const json* v = r.Get("subjects")) {
    if (!v->is_array()) {
      r.bad = true;
    } else {
      for (const auto& s : *v) {
        if (!s.is_string()) r.bad = true;
        else out.subjects.push_back(s.get<std::string>());
      }
    }
  }
  r.Enum("retention", out.retention,
         {{"limits", Retention::kLimits}, {"interest", Retention::kInterest}, {"workqueue", Retention::kWorkQueue}});
  r.Int("max_consumers", out.max_consumers);
  r.Int("max_msgs", out.max_msgs);
  r.Int("max_bytes", out.max_bytes);
  r.Int("max_age", out.max_age_ns);
  r.Int("max_msgs_per_subject", out.max_msgs_per_subject);
  r.Int("max_msg_size", out.max_msg_size);
  r.Enum("discard", out.discard, {{"old", Discard::kOld}, {"new", Discard::kNew}});
  r.Enum("storage", out.storage, {{"file", Storage::kFile}, {"memory", Storage::kMemory}});
  r.Int("num_replicas", out.num_replicas);
  r.Bool("no_ack", out.no_ack);
  r.Int("duplicate_window", out.duplicate_window_ns);
  r.Bool("allow_direct", out.allow_direct);
  r.Bool("mirror_direct", out.mirror_direct);
  r.Bool("discard_new_per_subject", out.discard_new_per_subject);
  r.Bool("sealed", out.sealed);
  r.Bool("deny_delete", out.deny_delete);
  r.Bool("deny_purge", out.deny_purge);
  r.Bool("allow_rollup_hdrs", out.allow_rollup_hdrs);
  r.Bool("allow_msg_ttl", out.allow_msg_ttl);
  r.Int("subject_delete_marker_ttl", out.subject_delete_marker_ttl_ns);
  r.Uint("first_seq", out.first_seq);
  std::string compression = "none";
  r.Enum("compression", compression, {{"none", std::string("none")}, {"s2", std::string("s2")}});
  if (compression == "s2") out.unsupported.push_back("stream compression");
  if (const json* v = r.Get("metadata")) {
    if (!v->is_object()) {
      r.bad = true;
    } else {
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (!it.value().is_string()) r.bad = true;
        else out.metadata[it.key()] = it.value().get<std::string>();
      }
    }
  }
  if (const json* v = r.Get("placement")) {
    if (!v->is_object()) r.bad = true;
    else out.placement = *v;
  }
  out.consumer_limits = json::object();
  if (const json* v = r.Get("consumer_limits")) {
    if (!v->is_object()) r.bad = true;
    else out.consumer_limits = *v;
  }
  // 2.9-2.11 features that are not built yet: refused by Validate, never
  // accepted and ignored.
  if (const json* v = r.Get("mirror"); v && !(v->is_object() && v->empty())) out.unsupported.push_back("stream mirrors");
  if (const json* v = r.Get("sources"); v && !(v->is_array() && v->empty())) out.unsupported.push_back("stream sources");
  if (const json* v = r.Get("subject_transform"); v && !(v->is_object() && v->empty()))
    out.unsupported.push_back("stream subject transforms");
  if (const json* v = r.Get("republish"); v && !(v->is_object() && v->empty())) out.unsupported.push_back("republish");
  if (const json* v = r.Get("template_owner"); v && v->is_string() && !v->get<std::string>().empty())
    out.unsupported.push_back("stream templates");
  if (r.bad) return MakeError(ErrorId::kInvalidJson);
  return {};
}

void Normalize(StreamConfig& c) {
  if (c.subjects.empty()) c.subjects.push_back(c.name);
  if (c.max_consumers == 0) c.max_consumers = -1;
  if (c.max_msgs == 0) c.max_msgs = -1;
  if (c.max_bytes == 0) c.max_bytes = -1;
  if (c.max_msgs_per_subject == 0) c.max_msgs_per_subject = -1;
  if (c.max_msg_size == 0) c.max_msg_size = -1;
  if (c.num_replicas == 0) c.num_replicas = 1;
  if (c.duplicate_window_ns == 0) {
    c.duplicate_window_ns = kDefaultDuplicateWindowNs;
    if (c.max_age_ns != 0 && c.max_age_ns < kDefaultDuplicateWindowNs) c.duplicate_window_ns = c.max_age_ns;
  }
  // nats-server 2.11 outside pedantic mode: markers need TTLs and rollups
  // (a marker rolls up its subject), so it switches them on.
  if (c.subject_delete_marker_ttl_ns >= kSecondNs) {
    c.allow_msg_ttl = true;
    if (!c.allow_rollup_hdrs) {
      c.allow_rollup_hdrs = true;
      c.deny_purge = false;
    }
  }
}

ApiError Validate(const StreamConfig& c, bool create) {
  auto invalid = [](std::string text) { return MakeError(ErrorId::kStreamInvalidConfig, text); };
  if (NameIsInvalid(c.name)) return invalid("stream name is required and can not contain '.', '*', '>'");
  if (c.name.size() > 255) return invalid("stream name is too long, maximum allowed is 255");
  if (c.description.size() > 4096) return invalid("stream description is too long, maximum allowed is 4096");
  if (!c.unsupported.empty()) return invalid(c.unsupported.front() + " are not supported by this server yet");
  if (c.num_replicas > 5) return invalid("maximum replicas is 5");
  if (c.num_replicas < 0) return invalid("replicas must be positive");
  if (create && c.num_replicas > 1) return MakeError(ErrorId::kStreamReplicasNotSupported);
  // nats-server's order; a negative max_age becomes a negative default
  // duplicate window (Normalize), refused as such.
  if (c.max_age_ns > 0 && c.max_age_ns < kMinWindowNs) return invalid("max age needs to be >= 100ms");
  if (c.duplicate_window_ns < 0) return invalid("duplicates window can not be negative");
  if (c.max_age_ns != 0 && c.duplicate_window_ns > c.max_age_ns)
    return invalid("duplicates window can not be larger then max age");
  if (c.duplicate_window_ns < kMinWindowNs) return invalid("duplicates window needs to be >= 100ms");
  if (c.discard_new_per_subject) {
    if (c.discard != Discard::kNew) return invalid("discard new per subject requires discard new policy to be set");
    if (c.max_msgs_per_subject <= 0) return invalid("discard new per subject requires max msgs per subject > 0");
  }
  if (c.subject_delete_marker_ttl_ns > 0 && c.subject_delete_marker_ttl_ns < kSecondNs)
    return invalid("subject delete marker TTL must be at least 1 second");
  if (c.subject_delete_marker_ttl_ns < 0) return invalid("subject delete marker TTL must not be negative");
  if (c.deny_purge && c.allow_rollup_hdrs) return invalid("roll-ups require the purge permission");
  if (c.mirror_direct) return invalid("stream has no mirror but does have mirror direct");
  if (create && c.sealed) return invalid("stream configuration for create can not be sealed");
  std::set<std::string> seen;
  for (const auto& s : c.subjects) {
    if (!IsValidSubject(s)) return invalid("invalid subject");
    if (!seen.insert(s).second) return invalid("duplicate subjects detected");
    if (SubjectIsSubsetOf(s, "$JS.API.>")) return invalid("subjects overlap with jetstream api");
  }
  for (size_t i = 0; i < c.subjects.size(); ++i) {
    for (size_t j = i + 1; j < c.subjects.size(); ++j) {
      if (SubjectsCollide(c.subjects[i], c.subjects[j]))
        return invalid(fmt::format("subject \"{}\" overlaps with \"{}\"", c.subjects[i], c.subjects[j]));
    }
  }
  return {};
}

ApiError ValidateUpdate(const StreamConfig& o, const StreamConfig& n) {
  auto invalid = [](std::string text) { return MakeError(ErrorId::kStreamInvalidConfig, text); };
  if (o.storage != n.storage) return invalid("stream configuration update can not change storage type");
  if (o.retention != n.retention) {
    if (o.retention == Retention::kWorkQueue || n.retention == Retention::kWorkQueue)
      return invalid("stream configuration update can not change retention policy to/from workqueue");
  }
  if (o.sealed && !n.sealed) return invalid("stream configuration update can not unseal a sealed stream");
  if (o.deny_delete && !n.deny_delete) return invalid("stream configuration update can not cancel deny message deletes");
  if (o.deny_purge && !n.deny_purge) return invalid("stream configuration update can not cancel deny purge");
  if (o.allow_msg_ttl && !n.allow_msg_ttl) return invalid("message TTL status can not be disabled");
  return {};
}

nlohmann::ordered_json ToJson(const StreamConfig& c) {
  nlohmann::ordered_json j;
  j["name"] = c.name;
  if (!c.description.empty()) j["description"] = c.description;
  j["subjects"] = c.subjects;
  j["retention"] = RetentionName(c.retention);
  j["max_consumers"] = c.max_consumers;
  j["max_msgs"] = c.max_msgs;
  j["max_bytes"] = c.max_bytes;
  j["max_age"] = c.max_age_ns;
  j["max_msgs_per_subject"] = c.max_msgs_per_subject;
  j["max_msg_size"] = c.max_msg_size;
  j["discard"] = c.discard == Discard::kNew ? "new" : "old";
  j["storage"] = StorageName(c.storage);
  j["num_replicas"] = c.num_replicas;
  if (c.no_ack) j["no_ack"] = true;
  j["duplicate_window"] = c.duplicate_window_ns;
  if (!c.placement.is_null()) j["placement"] = c.placement;
  j["compression"] = "none";
  if (c.first_seq != 0) j["first_seq"] = c.first_seq;
  j["allow_direct"] = c.allow_direct;
  j["mirror_direct"] = c.mirror_direct;
  if (c.discard_new_per_subject) j["discard_new_per_subject"] = true;
  j["sealed"] = c.sealed;
  j["deny_delete"] = c.deny_delete;
  j["deny_purge"] = c.deny_purge;
  j["allow_rollup_hdrs"] = c.allow_rollup_hdrs;
  j["consumer_limits"] = c.consumer_limits.is_null() ? nlohmann::ordered_json::object()
                                                     : nlohmann::ordered_json::parse(c.consumer_limits.dump());
  j["allow_msg_ttl"] = c.allow_msg_ttl;
  if (c.subject_delete_marker_ttl_ns != 0) j["subject_delete_marker_ttl"] = c.subject_delete_marker_ttl_ns;
  if (!c.metadata.empty()) j["metadata"] = c.metadata;
  return j;
}

bool SameConfig(const StreamConfig& a, const StreamConfig& b) { return ToJson(a) == ToJson(b); }

}  // namespace sluice::jetstream
