#include "jetstream/consumer_config.h"

#include <cstdint>
#include <ctime>

#include "core/subject.h"
#include "jetstream/json_reader.h"
#include "jetstream/wire.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;


bool HasBadChars(const std::string& name) {
  for (char c : name) {
    if (c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n') return true;
  }
  return false;
}

const char* DeliverName(DeliverPolicy p) {
  switch (p) {
    case DeliverPolicy::kAll: return "all";
    case DeliverPolicy::kLast: return "last";
    case DeliverPolicy::kNew: return "new";
    case DeliverPolicy::kByStartSequence: return "by_start_sequence";
    case DeliverPolicy::kByStartTime: return "by_start_time";
    case DeliverPolicy::kLastPerSubject: return "last_per_subject";
  }
  return "all";
}

const char* AckName(AckPolicy p) {
  switch (p) {
    case AckPolicy::kNone: return "none";
    case AckPolicy::kAll: return "all";
    case AckPolicy::kExplicit: return "explicit";
  }
  return "none";
}

// Go's strconv.Atoi: an optional sign and decimal digits that fit an int64.
// On failure `error` is Go's message.
bool GoAtoi(const std::string& s, int64_t& out, std::string& error) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i == s.size()) {
    error = "strconv.Atoi: parsing " + nlohmann::json(s).dump() + ": invalid syntax";
    return false;
  }
  uint64_t v = 0;
  bool overflow = false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') {
      error = "strconv.Atoi: parsing " + nlohmann::json(s).dump() + ": invalid syntax";
      return false;
    }
    if (v > (UINT64_MAX - 9) / 10) overflow = true;
    else v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  const uint64_t limit = neg ? static_cast<uint64_t>(INT64_MAX) + 1 : static_cast<uint64_t>(INT64_MAX);
  if (overflow || v > limit) {
    error = "strconv.Atoi: parsing " + nlohmann::json(s).dump() + ": value out of range";
    return false;
  }
  out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

std::string TrimPercent(const std::string& s) { return s.ends_with('%') ? s.substr(0, s.size() - 1) : s; }

}  // namespace

bool ValidPriorityGroupName(const std::string& group) {
  if (group.empty() || group.size() > 16) return false;
  for (char ch : group) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '/' ||
                    ch == '_' || ch == '=' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

std::string FormatPauseTime(int64_t unix_ns) { return unix_ns == 0 ? "1970-01-01T00:00:00Z" : FormatTime(unix_ns); }

void ConsumerConfig::SetPauseUntil(bool has, int64_t unix_ns, const std::string& as_sent) {
  has_pause_until = has;
  pause_until_ns = has ? unix_ns : 0;
  if (!has) {
    pause_until.clear();
  } else if ((unix_ns == INT64_MIN || unix_ns == INT64_MAX) && !as_sent.empty()) {
    pause_until = as_sent;  // outside what Unix ns hold (Go's zero time among them): as sent
  } else {
    pause_until = FormatPauseTime(unix_ns);
  }
}

int32_t ConsumerConfig::SamplePercent() const {
  if (sample_freq.empty()) return 0;
  int64_t v = 0;
  std::string error;
  if (!GoAtoi(TrimPercent(sample_freq), v, error)) return 0;
  return static_cast<int32_t>(v);  // nats-server keeps it as an int32 (wrapping)
}

std::vector<std::string> ConsumerConfig::Filters() const {
  if (!filter_subjects.empty()) return filter_subjects;
  if (!filter_subject.empty() && filter_subject != ">") return {filter_subject};
  return {};
}

bool ParseTime(const std::string& text, int64_t& out_ns) {
  int y, mo, d, h, mi, s;
  int n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19)
    return false;
  size_t i = 19;
  int64_t frac = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (digits < 9) frac = frac * 10 + (text[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return false;
    for (; digits < 9; ++digits) frac *= 10;
  }
  int64_t offset = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh, om;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return false;
    offset = (oh * 3600 + om * 60) * (text[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return false;
  }
  if (i != text.size()) return false;
  // Go's RFC 3339 parser refuses fields out of range (a bad JSON time).
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset;
  // Nanoseconds since the epoch fit years 1678-2262 only; beyond, saturate
  // (a start time before every message or after every message).
  constexpr int64_t kMaxSecs = INT64_MAX / 1'000'000'000 - 1;
  if (secs > kMaxSecs) {
    out_ns = INT64_MAX;
  } else if (secs < -kMaxSecs) {
    out_ns = INT64_MIN;
  } else {
    out_ns = secs * 1'000'000'000 + frac;
  }
  return true;
}

ApiError ParseConsumerConfig(const json& body, ConsumerConfig& c) {
  if (!body.is_object()) return MakeError(ErrorId::kInvalidJson);
  JsonReader r{body};
  r.String("durable_name", c.durable_name);
  r.String("name", c.name);
  r.String("description", c.description);
  if (const json* v = r.Get("deliver_policy")) {
    static const std::pair<const char*, DeliverPolicy> names[] = {
        {"all", DeliverPolicy::kAll},  {"undefined", DeliverPolicy::kAll},
        {"last", DeliverPolicy::kLast}, {"new", DeliverPolicy::kNew},
        {"by_start_sequence", DeliverPolicy::kByStartSequence}, {"by_start_time", DeliverPolicy::kByStartTime},
        {"last_per_subject", DeliverPolicy::kLastPerSubject}};
    bool found = false;
    if (v->is_string()) {
      for (const auto& [n, p] : names) {
        if (v->get<std::string>() == n) {
          c.deliver_policy = p;
          found = true;
        }
      }
    }
    if (!found) r.bad = true;
  }
  r.Uint("opt_start_seq", c.opt_start_seq);
  r.String("opt_start_time", c.opt_start_time);
  if (!c.opt_start_time.empty() && !ParseTime(c.opt_start_time, c.opt_start_time_ns)) r.bad = true;
  if (const json* v = r.Get("ack_policy")) {
    static const std::pair<const char*, AckPolicy> names[] = {
        {"none", AckPolicy::kNone}, {"all", AckPolicy::kAll}, {"explicit", AckPolicy::kExplicit}};
    bool found = false;
    if (v->is_string()) {
      for (const auto& [n, p] : names) {
        if (v->get<std::string>() == n) {
          c.ack_policy = p;
          found = true;
        }
      }
    }
    if (!found) r.bad = true;
  }
  r.Int("ack_wait", c.ack_wait_ns);
  r.Int("max_deliver", c.max_deliver);
  if (const json* v = r.Get("backoff")) {
    if (!v->is_array()) r.bad = true;
    else
      for (const auto& e : *v) {
        if (e.is_number_integer()) c.backoff_ns.push_back(e.get<int64_t>());
        else r.bad = true;
      }
  }
  r.String("filter_subject", c.filter_subject);
  if (const json* v = r.Get("filter_subjects")) {
    if (!v->is_array()) r.bad = true;
    else
      for (const auto& e : *v) {
        if (e.is_string()) c.filter_subjects.push_back(e.get<std::string>());
        else r.bad = true;
      }
  }
  r.String("replay_policy", c.replay_policy);
  if (c.replay_policy != "instant" && c.replay_policy != "original") r.bad = true;
  r.Uint("rate_limit_bps", c.rate_limit_bps);
  r.String("sample_freq", c.sample_freq);
  r.Int("max_waiting", c.max_waiting);
  r.Int("max_ack_pending", c.max_ack_pending);
  r.Bool("flow_control", c.flow_control);
  r.Int("idle_heartbeat", c.idle_heartbeat_ns);
  r.Bool("headers_only", c.headers_only);
  r.Int("max_batch", c.max_batch);
  r.Int("max_expires", c.max_expires_ns);
  r.Int("max_bytes", c.max_bytes);
  r.String("deliver_subject", c.deliver_subject);
  r.String("deliver_group", c.deliver_group);
  r.Int("inactive_threshold", c.inactive_threshold_ns);
  r.Int("num_replicas", c.num_replicas);
  r.Bool("mem_storage", c.mem_storage);
  if (const json* v = r.Get("metadata")) {
    if (!v->is_object()) r.bad = true;
    else
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (it.value().is_string()) c.metadata[it.key()] = it.value().get<std::string>();
        else r.bad = true;
      }
  }
  std::string pause_text;
  r.String("pause_until", pause_text);
  if (r.Get("pause_until")) {
    int64_t ns = 0;
    if (!ParseTime(pause_text, ns)) r.bad = true;
    else c.SetPauseUntil(true, ns, pause_text);
  }
  if (const json* v = r.Get("priority_groups")) {
    if (!v->is_array()) r.bad = true;
    else
      for (const auto& e : *v) {
        if (e.is_string()) c.priority_groups.push_back(e.get<std::string>());
        else r.bad = true;
      }
  }
  // nats-server 2.11 knows these three; anything else ("prioritized" of
  // later servers among them) fails to decode: invalid JSON.
  r.Enum("priority_policy", c.priority_policy,
         {{"none", PriorityPolicy::kNone}, {"overflow", PriorityPolicy::kOverflow},
          {"pinned_client", PriorityPolicy::kPinnedClient}});
  r.Int("priority_timeout", c.priority_timeout_ns);
  if (r.bad) return MakeError(ErrorId::kInvalidJson);
  return {};
}

void NormalizeConsumer(ConsumerConfig& c) {
  if (c.ack_policy != AckPolicy::kNone) {
    if (!c.backoff_ns.empty()) c.ack_wait_ns = c.backoff_ns.front();
    if (c.ack_wait_ns == 0) c.ack_wait_ns = kDefaultAckWaitNs;
    if (c.max_ack_pending == 0) c.max_ack_pending = 1000;
  }
  if (c.max_deliver == 0) c.max_deliver = -1;
  if (c.pull() && c.max_waiting == 0) c.max_waiting = 512;
  if (!c.durable() && c.inactive_threshold_ns == 0) c.inactive_threshold_ns = kDefaultInactiveThresholdNs;
  if (c.priority_policy == PriorityPolicy::kPinnedClient && c.priority_timeout_ns == 0)
    c.priority_timeout_ns = kDefaultPinnedTtlNs;
  if (c.filter_subjects.size() == 1 && c.filter_subject.empty()) {
    c.filter_subject = c.filter_subjects.front();
    c.filter_subjects.clear();
  }
}

ApiError ValidateConsumer(const ConsumerConfig& c, const StreamConfig& s) {
  if (!c.unsupported.empty()) {
    std::string what = c.unsupported.front();
    what.append(" is not supported by this server yet");
    return MakeError(ErrorId::kConsumerCreate, what);
  }
  if (c.durable_name.size() > 255 || c.name.size() > 255) return MakeError(ErrorId::kConsumerNameTooLong);
  if (HasBadChars(c.durable_name) || HasBadChars(c.name)) return MakeError(ErrorId::kConsumerBadDurableName);
  if (c.description.size() > 4096) return MakeError(ErrorId::kConsumerDescriptionTooLong);
  if (c.num_replicas > 1) return MakeError(ErrorId::kStreamReplicasNotSupported);
  if (!c.pull()) {
    // nats-server's checkConsumerCfg, push branch, in its order.
    if (SubjectHasWildcard(c.deliver_subject)) return MakeError(ErrorId::kConsumerDeliverToWildcards);
    if (!IsValidSubject(c.deliver_subject)) return MakeError(ErrorId::kConsumerInvalidDeliverSubject);
    for (const auto& subj : s.subjects) {
      if (SubjectIsSubsetOf(c.deliver_subject, subj)) return MakeError(ErrorId::kConsumerDeliverCycle);
    }
    if (c.max_waiting != 0) return MakeError(ErrorId::kConsumerPushMaxWaiting);
    if (c.max_ack_pending > 0 && c.ack_policy == AckPolicy::kNone)
      return MakeError(ErrorId::kConsumerMaxPendingAckPolicyRequired);
    if (c.idle_heartbeat_ns > 0 && c.idle_heartbeat_ns < 100'000'000) return MakeError(ErrorId::kConsumerSmallHeartbeat);
  } else {
    if (c.rate_limit_bps > 0) return MakeError(ErrorId::kConsumerPullWithRateLimit);
    if (c.max_waiting < 0) return MakeError(ErrorId::kConsumerMaxWaitingNegative);
    if (c.idle_heartbeat_ns > 0) return MakeError(ErrorId::kConsumerHeartbeatRequiresPush);
    if (c.flow_control) return MakeError(ErrorId::kConsumerFlowControlRequiresPush);
    if (c.max_expires_ns != 0 && c.max_expires_ns < 1'000'000)
      return MakeError(ErrorId::kConsumerMaxRequestExpiresTooSmall);
  }
  // nats-server 2.11: more backoff values than deliveries (max_deliver -1: any number).
  if (!c.backoff_ns.empty() && c.max_deliver != -1 && static_cast<int64_t>(c.backoff_ns.size()) > c.max_deliver)
    return MakeError(ErrorId::kConsumerMaxDeliverBackoff);
  // Deliver policy and its options.
  switch (c.deliver_policy) {
    case DeliverPolicy::kAll:
    case DeliverPolicy::kLast:
    case DeliverPolicy::kNew:
    case DeliverPolicy::kLastPerSubject: {
      const char* n = c.deliver_policy == DeliverPolicy::kAll    ? "deliver all"
                      : c.deliver_policy == DeliverPolicy::kLast ? "deliver last"
                      : c.deliver_policy == DeliverPolicy::kNew  ? "deliver new"
                                                                 : "deliver last per subject";
      if (c.opt_start_seq > 0)
        return MakeError(ErrorId::kConsumerInvalidPolicy,
                         std::string("consumer delivery policy is ") + n + ", but optional start sequence is also set");
      if (!c.opt_start_time.empty())
        return MakeError(ErrorId::kConsumerInvalidPolicy,
                         std::string("consumer delivery policy is ") + n + ", but optional start time is also set");
      if (c.deliver_policy == DeliverPolicy::kLastPerSubject && c.Filters().empty() && false)
        return MakeError(ErrorId::kConsumerInvalidPolicy,
                         "consumer delivery policy is deliver last per subject, but optional filter subject is not set");
      break;
    }
    case DeliverPolicy::kByStartSequence:
      if (c.opt_start_seq == 0)
        return MakeError(ErrorId::kConsumerInvalidPolicy,
                         "consumer delivery policy is deliver by start sequence, but optional start sequence is not set");
      if (!c.opt_start_time.empty())
        return MakeError(ErrorId::kConsumerInvalidPolicy,
                         "consumer delivery policy is deliver by start sequence, but optional start time is also set");
      break;
    case DeliverPolicy::kByStartTime:
      if (c.opt_start_time.empty())
        return MakeError(ErrorId::kConsumerInvalidPolicy,
                         "consumer delivery policy is deliver by start time, but optional start time is not set");
      if (c.opt_start_seq > 0)
        return MakeError(ErrorId::kConsumerInvalidPolicy,
                         "consumer delivery policy is deliver by start time, but optional start sequence is also set");
      break;
  }
  // nats-server: sample_freq is Go's Atoi of the text without one trailing
  // '%', refused when negative (then its error detail is Go's "<nil>").
  if (!c.sample_freq.empty()) {
    int64_t v = 0;
    std::string error;
    if (!GoAtoi(TrimPercent(c.sample_freq), v, error)) return MakeError(ErrorId::kConsumerInvalidSampling, error);
    if (v < 0) return MakeError(ErrorId::kConsumerInvalidSampling, "<nil>");
  }
  // Filters.
  if (!c.filter_subject.empty() && !c.filter_subjects.empty())
    return MakeError(ErrorId::kConsumerDuplicateFilterSubjects);
  auto filters = c.Filters();
  for (size_t i = 0; i < filters.size(); ++i) {
    if (filters[i].empty()) return MakeError(ErrorId::kConsumerEmptyFilter);
    if (!IsValidSubject(filters[i])) return MakeError(ErrorId::kConsumerFilterNotSubset);
    bool subset = s.subjects.empty();
    for (const auto& subj : s.subjects) subset = subset || SubjectsCollide(filters[i], subj);
    if (!subset) return MakeError(ErrorId::kConsumerFilterNotSubset);
    for (size_t j = 0; j < i; ++j) {
      if (SubjectsCollide(filters[i], filters[j])) return MakeError(ErrorId::kConsumerOverlappingSubjectFilters);
    }
  }
  if (c.flow_control && c.idle_heartbeat_ns == 0) return MakeError(ErrorId::kConsumerFlowControlNeedsHeartbeats);
  // Priority groups, as nats-server 2.11's checkConsumerCfg: only checked
  // with a policy (groups without one are kept and ignored); any number of
  // groups passes (2.11 serves the first).
  if (c.priority_policy != PriorityPolicy::kNone) {
    if (!c.pull()) return MakeError(ErrorId::kConsumerPushWithPriorityGroup);
    if (c.priority_groups.empty()) return MakeError(ErrorId::kConsumerPriorityPolicyWithoutGroup);
    for (const auto& group : c.priority_groups) {
      if (group.empty()) return MakeError(ErrorId::kConsumerEmptyGroupName);
      if (!ValidPriorityGroupName(group)) return MakeError(ErrorId::kConsumerInvalidGroupName);
    }
  }
  if (s.retention == Retention::kWorkQueue) {
    if (c.pull() && c.ack_policy == AckPolicy::kNone) return MakeError(ErrorId::kConsumerPullRequiresAck);
    if (c.ack_policy != AckPolicy::kExplicit) return MakeError(ErrorId::kConsumerWQRequiresExplicitAck);
    if (c.deliver_policy != DeliverPolicy::kAll) return MakeError(ErrorId::kConsumerWQConsumerNotDeliverAll);
  }
  return {};
}

ApiError ValidateConsumerUpdate(const ConsumerConfig& o, const ConsumerConfig& n) {
  auto fail = [](const char* why) { return MakeError(ErrorId::kConsumerCreate, why); };
  if (o.deliver_policy != n.deliver_policy) return fail("deliver policy can not be updated");
  if (o.opt_start_seq != n.opt_start_seq) return fail("start sequence can not be updated");
  if (o.opt_start_time_ns != n.opt_start_time_ns) return fail("start time can not be updated");
  if (o.ack_policy != n.ack_policy) return fail("ack policy can not be updated");
  if (o.replay_policy != n.replay_policy) return fail("replay policy can not be updated");
  if (o.idle_heartbeat_ns != n.idle_heartbeat_ns) return fail("heart beats can not be updated");
  if (o.flow_control != n.flow_control) return fail("flow control can not be updated");
  if (o.pull() && !n.pull()) return fail("can not update pull consumer to push based");
  if (!o.pull() && n.pull()) return fail("can not update push consumer to pull based");
  if (o.max_waiting != n.max_waiting) return fail("max waiting can not be updated");
  return {};
}

ojson ToJson(const ConsumerConfig& c) {
  ojson j;
  if (!c.durable_name.empty()) j["durable_name"] = c.durable_name;
  if (!c.name.empty()) j["name"] = c.name;
  if (!c.description.empty()) j["description"] = c.description;
  j["deliver_policy"] = DeliverName(c.deliver_policy);
  if (c.opt_start_seq) j["opt_start_seq"] = c.opt_start_seq;
  if (!c.opt_start_time.empty()) j["opt_start_time"] = c.opt_start_time;
  j["ack_policy"] = AckName(c.ack_policy);
  if (c.ack_wait_ns) j["ack_wait"] = c.ack_wait_ns;
  j["max_deliver"] = c.max_deliver;
  if (!c.backoff_ns.empty()) j["backoff"] = c.backoff_ns;
  if (!c.filter_subject.empty()) j["filter_subject"] = c.filter_subject;
  if (!c.filter_subjects.empty()) j["filter_subjects"] = c.filter_subjects;
  j["replay_policy"] = c.replay_policy;
  if (c.rate_limit_bps) j["rate_limit_bps"] = c.rate_limit_bps;
  if (!c.sample_freq.empty()) j["sample_freq"] = c.sample_freq;
  if (c.max_waiting) j["max_waiting"] = c.max_waiting;
  if (c.max_ack_pending) j["max_ack_pending"] = c.max_ack_pending;
  if (c.flow_control) j["flow_control"] = true;
  if (c.idle_heartbeat_ns) j["idle_heartbeat"] = c.idle_heartbeat_ns;
  if (c.headers_only) j["headers_only"] = true;
  if (c.max_batch) j["max_batch"] = c.max_batch;
  if (c.max_expires_ns) j["max_expires"] = c.max_expires_ns;
  if (c.max_bytes) j["max_bytes"] = c.max_bytes;
  if (!c.deliver_subject.empty()) j["deliver_subject"] = c.deliver_subject;
  if (!c.deliver_group.empty()) j["deliver_group"] = c.deliver_group;
  if (c.inactive_threshold_ns) j["inactive_threshold"] = c.inactive_threshold_ns;
  j["num_replicas"] = c.num_replicas;
  if (c.mem_storage) j["mem_storage"] = true;
  if (!c.metadata.empty()) j["metadata"] = c.metadata;
  if (c.has_pause_until) j["pause_until"] = c.pause_until;
  if (!c.priority_groups.empty()) j["priority_groups"] = c.priority_groups;
  if (c.priority_policy == PriorityPolicy::kOverflow) j["priority_policy"] = "overflow";
  if (c.priority_policy == PriorityPolicy::kPinnedClient) j["priority_policy"] = "pinned_client";
  if (c.priority_timeout_ns) j["priority_timeout"] = c.priority_timeout_ns;
  return j;
}

bool SameConfig(const ConsumerConfig& a, const ConsumerConfig& b) { return ToJson(a) == ToJson(b); }

}  // namespace sluice::jetstream
