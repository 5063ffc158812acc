// The $JS.API.CONSUMER.* handlers (jetstream-api.md §4, §8). They run on the
// API thread, one request at a time; deliveries run on the Dispatcher.
#include <random>

#include "jetstream/consumer.h"
#include "jetstream/jetstream_impl.h"
#include "jetstream/wire.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

std::string Type(const char* suffix) { return std::string("io.nats.jetstream.api.v1.") + suffix; }

std::string RandomName() {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(8, ' ');
  for (auto& c : out) c = kChars[rng() % (sizeof(kChars) - 1)];
  return out;
}

bool HasPathSeparator(const std::string& s) {
  return s.find('/') != std::string::npos || s.find('\\') != std::string::npos;
}

// Splits "A.B.C" at the first dot: head "A", tail "B.C" (tail empty when none).
std::pair<std::string, std::string> SplitFirst(std::string_view s) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return {std::string(s), ""};
  return {std::string(s.substr(0, dot)), std::string(s.substr(dot + 1))};
}

}  // namespace

void JetStreamImpl::ConsumerRequest(const ApiRequest& r, const std::string& rest) {
  std::string_view t = rest;
  auto starts = [&](std::string_view p) {
    if (!t.starts_with(p)) return false;
    t.remove_prefix(p.size());
    return true;
  };
  if (starts("DURABLE.CREATE.")) {
    auto [stream, consumer] = SplitFirst(t);
    if (stream.empty() || consumer.empty() || consumer.find('.') != std::string::npos) return;
    return ConsumerCreate(r, stream, consumer, "", CreateForm::kDurable);
  }
  if (starts("CREATE.")) {
    auto [stream, tail] = SplitFirst(t);
    if (stream.empty()) return;
    if (tail.empty()) return ConsumerCreate(r, stream, "", "", CreateForm::kLegacy);
    auto [consumer, filter] = SplitFirst(tail);
    if (consumer.empty()) return;
    return ConsumerCreate(r, stream, consumer, filter, filter.empty() ? CreateForm::kNamed : CreateForm::kFiltered);
  }
  if (starts("INFO.") || starts("DELETE.")) {
    const bool info = rest.starts_with("INFO");
    const char* type = info ? "consumer_info_response" : "consumer_delete_response";
    auto [stream_name, consumer_name] = SplitFirst(t);
    if (stream_name.empty() || consumer_name.empty() || consumer_name.find('.') != std::string::npos) return;
    auto stream = FindStream(stream_name);
    if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNotFound));
    if (info) {
      auto c = stream->FindConsumer(consumer_name);
      if (!c) return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerNotFound));
      ojson j;
      j["type"] = Type(type);
      ojson infoj = c->Info();
      for (auto it = infoj.begin(); it != infoj.end(); ++it) j[it.key()] = it.value();
      return Reply(r.reply, j);
    }
    auto c = stream->RemoveConsumer(consumer_name);
    if (!c) return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerNotFound));
    c->Stop(true, true);
    stream->RecheckInterest();
    ojson j;
    j["type"] = Type(type);
    j["success"] = true;
    return Reply(r.reply, j);
  }
  if (starts("NAMES.") || starts("LIST.")) {
    const bool list = rest.starts_with("LIST");
    const char* type = list ? "consumer_list_response" : "consumer_names_response";
    const uint64_t limit = list ? 256 : 1024;
    ojson zero;
    zero["total"] = 0;
    zero["offset"] = 0;
    zero["limit"] = 0;
    zero["consumers"] = ojson::array();
    if (t.empty() || t.find('.') != std::string_view::npos) return;
    json body = json::object();
    if (!r.payload.empty()) {
      body = json::parse(r.payload, nullptr, false);
      if (body.is_discarded() || !(body.is_object() || body.is_null()))
        return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson), zero);
      if (body.is_null()) body = json::object();
    }
    uint64_t offset = 0;
    if (auto it = body.find("offset"); it != body.end() && it->is_number_unsigned()) offset = it->get<uint64_t>();
    auto stream = FindStream(std::string(t));
    if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNotFound), zero);
    auto all = stream->Consumers();
    uint64_t total = all.size();
    offset = std::min(offset, total);
    ojson consumers = ojson::array();
    for (uint64_t i = offset; i < total && i < offset + limit; ++i) {
      if (list) consumers.push_back(all[i]->Info());
      else consumers.push_back(all[i]->name());
    }
    ojson j;
    j["type"] = Type(type);
    j["total"] = total;
    j["offset"] = offset;
    j["limit"] = limit;
    j["consumers"] = consumers;
    return Reply(r.reply, j);
  }
  if (starts("MSG.NEXT.")) {
    auto [stream_name, consumer_name] = SplitFirst(t);
    auto stream = FindStream(stream_name);
    if (!stream) return;  // no reply at all (§8)
    auto c = stream->FindConsumer(consumer_name);
    if (!c) return;
    c->PullRequest(r.reply, r.payload);
    return;
  }
  if (starts("PAUSE.")) {
    auto [stream_name, consumer_name] = SplitFirst(t);
    if (stream_name.empty() || consumer_name.empty() || consumer_name.find('.') != std::string::npos) return;
    return ConsumerPause(r, stream_name, consumer_name);
  }
  if (starts("UNPIN.")) {
    auto [stream_name, consumer_name] = SplitFirst(t);
    if (stream_name.empty() || consumer_name.empty() || consumer_name.find('.') != std::string::npos) return;
    return ConsumerUnpin(r, stream_name, consumer_name);
  }
  if (starts("LEADER.STEPDOWN.")) {
    return ReplyError(r.reply, "consumer_leader_stepdown_response", MakeError(ErrorId::kClusterRequired));
  }
  // Anything else: no reply.
}

// nats-server 2.11's $JS.API.CONSUMER.PAUSE.<stream>.<consumer> (ADR-48):
// {"pause_until":"<RFC 3339>"} pauses until then; a body that is not a JSON
// object or array (empty among them), an absent, null or zero time resumes.
// Its reply always carries paused and pause_until (Go's zero time when
// resumed), errors included; pause_remaining (ns) only while paused.
void JetStreamImpl::ConsumerPause(const ApiRequest& r, const std::string& stream_name,
                                  const std::string& consumer_name) {
  const char* type = "consumer_pause_response";
  ojson unpaused;
  unpaused["paused"] = false;
  unpaused["pause_until"] = kGoZeroTime;
  bool has = false;
  int64_t until_ns = 0;
  std::string as_sent;
  const size_t b = r.payload.find_first_not_of(" \t\r\n");
  if (b != std::string::npos && (r.payload[b] == '{' || r.payload[b] == '[')) {
    json body = json::parse(r.payload, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson), unpaused);
    if (auto it = body.find("pause_until"); it != body.end() && !it->is_null()) {
      if (!it->is_string() || !ParseTime(it->get<std::string>(), until_ns))
        return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson), unpaused);
      as_sent = it->get<std::string>();
      // Go's zero time (year 1, before Unix ns) is "no deadline": a resume.
      has = until_ns != INT64_MIN;
    }
  }
  auto stream = FindStream(stream_name);
  if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNotFound), unpaused);
  auto c = stream->FindConsumer(consumer_name);
  if (!c) return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerNotFound), unpaused);
  bool paused = false;
  int64_t remaining_ns = 0;
  if (ApiError e = c->SetPause(has, until_ns, as_sent, paused, remaining_ns); !e.ok())
    return ReplyError(r.reply, type, e, unpaused);
  ConsumerConfig written;  // the deadline as the config keeps it (UTC)
  written.SetPauseUntil(has, until_ns, as_sent);
  ojson j;
  j["type"] = Type(type);
  j["paused"] = paused;
  j["pause_until"] = has ? written.pause_until : std::string(kGoZeroTime);
  if (paused) j["pause_remaining"] = remaining_ns;
  Reply(r.reply, j);
}

// nats-server 2.11's $JS.API.CONSUMER.UNPIN.<stream>.<consumer> (ADR-42):
// {"group":"<name>"} forgets that group's pin. Its checks in order: the body
// decodes (empty does not) and names a group (else 10025), a valid group
// name (10162), the stream (10059), the consumer (10014), the consumer has
// that group (10160). The reply is only the type.
void JetStreamImpl::ConsumerUnpin(const ApiRequest& r, const std::string& stream_name,
                                  const std::string& consumer_name) {
  const char* type = "consumer_unpin_response";
  json body = json::parse(r.payload, nullptr, false);
  if (body.is_discarded() || !(body.is_object() || body.is_null()))
    return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
  std::string group;
  if (body.is_object()) {
    if (auto it = body.find("group"); it != body.end() && !it->is_null()) {
      if (!it->is_string()) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
      group = it->get<std::string>();
    }
  }
  // nats-server: "invalid JSON: consumer group not specified" (10025).
  if (group.empty()) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
  if (!ValidPriorityGroupName(group)) return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerInvalidGroupName));
  auto stream = FindStream(stream_name);
  if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNotFound));
  auto c = stream->FindConsumer(consumer_name);
  if (!c) return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerNotFound));
  if (ApiError e = c->Unpin(group); !e.ok()) return ReplyError(r.reply, type, e);
  ojson j;
  j["type"] = Type(type);
  Reply(r.reply, j);
}

void JetStreamImpl::ConsumerCreate(const ApiRequest& r, const std::string& stream_name, const std::string& subject_name,
                                   const std::string& subject_filter, CreateForm form) {
  const char* type = "consumer_create_response";
  if (HasPathSeparator(stream_name)) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNameContainsPathSeparators));
  if (HasPathSeparator(subject_name))
    return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerNameContainsPathSeparators));
  if (r.payload.empty()) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
  json body = json::parse(r.payload, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return ReplyError(r.reply, type, MakeError(ErrorId::kInvalidJson));
  std::string body_stream;
  if (auto it = body.find("stream_name"); it != body.end() && it->is_string()) body_stream = it->get<std::string>();
  if (body_stream != stream_name) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamMismatch));
  auto stream = FindStream(stream_name);
  if (!stream) return ReplyError(r.reply, type, MakeError(ErrorId::kStreamNotFound));
  ConsumerConfig config;
  if (auto it = body.find("config"); it != body.end() && !it->is_null()) {
    if (ApiError e = ParseConsumerConfig(*it, config); !e.ok()) return ReplyError(r.reply, type, e);
  }
  std::string action;
  if (auto it = body.find("action"); it != body.end() && it->is_string()) action = it->get<std::string>();
  switch (form) {
    case CreateForm::kLegacy:
      if (!config.durable_name.empty())
        return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerEphemeralWithDurableName));
      break;
    case CreateForm::kDurable:
      if (config.durable_name.empty()) return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerDurableNameNotSet));
      if (config.durable_name != subject_name)
        return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerDurableNameNotMatchSubject));
      if (!config.name.empty() && config.name != subject_name)
        return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerCreateDurableAndNameMismatch));
      break;
    case CreateForm::kNamed:
    case CreateForm::kFiltered:
      if (!config.durable_name.empty() && config.durable_name != subject_name)
        return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerDurableNameNotMatchSubject));
      config.name = subject_name;
      if (form == CreateForm::kFiltered) {
        if (!config.filter_subjects.empty())
          return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerMultipleFiltersNotAllowed));
        if (config.filter_subject != subject_filter)
          return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerCreateFilterSubjectMismatch));
      }
      break;
  }
  StreamConfig sconfig = stream->config();
  NormalizeConsumer(config);
  if (ApiError e = ValidateConsumer(config, sconfig); !e.ok()) return ReplyError(r.reply, type, e);
  std::string name = !config.durable_name.empty() ? config.durable_name : config.name;
  auto reply_info = [&](Consumer& c) {
    ojson j;
    j["type"] = Type(type);
    ojson info = c.Info();
    for (auto it = info.begin(); it != info.end(); ++it) j[it.key()] = it.value();
    Reply(r.reply, j);
  };
  if (!name.empty()) {
    if (auto existing = stream->FindConsumer(name)) {
      ConsumerConfig old = existing->config();
      // nats-server 2.11: create and update never change pause_until (only
      // CONSUMER.PAUSE does): the current deadline replaces the request's.
      config.SetPauseUntil(old.has_pause_until, old.pause_until_ns);
      config.pause_until = old.pause_until;
      if (SameConfig(old, config)) {
        reply_info(*existing);
        return existing->AnnouncePauseIfPaused();
      }
      if (action == "create") return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerAlreadyExists));
      if (ApiError e = ValidateConsumerUpdate(old, config); !e.ok()) return ReplyError(r.reply, type, e);
      // A push consumer moves to another deliver subject only while nobody listens on the old one.
      if (!old.pull() && old.deliver_subject != config.deliver_subject && existing->DeliverSubjectHasInterest())
        return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerNameInUse));
      if (sconfig.retention == Retention::kWorkQueue && old.Filters() != config.Filters())
        return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerCreate, "filter subjects can not be updated on a workqueue stream"));
      if (ApiError e = existing->Update(config); !e.ok()) return ReplyError(r.reply, type, e);
      stream->SetConsumerFilters(name, config.Filters());
      existing->Kick();
      reply_info(*existing);
      return existing->AnnouncePauseIfPaused();
    }
  }
  if (action == "update") return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerDoesNotExist));
  if (name.empty()) {
    do {
      name = RandomName();
    } while (stream->FindConsumer(name));
    config.name = name;
  }
  if (sconfig.retention == Retention::kWorkQueue) {
    auto mine = config.Filters();
    for (const auto& theirs : stream->ConsumerFilters()) {
      if (mine.empty()) return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerWQMultipleUnfiltered));
      if (theirs.empty()) return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerWQConsumerNotUnique));
      for (const auto& a : mine) {
        for (const auto& b : theirs) {
          if (SubjectsCollide(a, b)) return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerWQConsumerNotUnique));
        }
      }
    }
  }
  if (sconfig.max_consumers > 0 && static_cast<int64_t>(stream->Consumers().size()) >= sconfig.max_consumers)
    return ReplyError(r.reply, type, MakeError(ErrorId::kMaximumConsumersLimit));
  std::string error;
  auto c = Consumer::Create(env_, stream, config, error);
  if (!c) return ReplyError(r.reply, type, MakeError(ErrorId::kConsumerCreate, "error creating store for consumer: " + error));
  stream->AddConsumer(c, config.Filters());
  c->Start();
  c->AnnounceCreated();
  reply_info(*c);
  c->AnnouncePauseIfPaused();  // created paused: after the reply, as nats-server
}

}  // namespace sluice::jetstream
