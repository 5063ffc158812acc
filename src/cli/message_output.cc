#include "message_output.h"

#include <fmt/format.h>

#include "cli_common.h"
#include "connection.h"

namespace sluice::cli {
namespace {

// Header keys in the order nats.c returns them, each with its values.
std::vector<std::pair<std::string, std::vector<std::string>>> Headers(natsMsg* msg) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) != NATS_OK || keys == nullptr) return out;
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> values;
    const char** vals = nullptr;
    int nvals = 0;
    if (natsMsgHeader_Values(msg, keys[i], &vals, &nvals) == NATS_OK && vals != nullptr) {
      for (int v = 0; v < nvals; ++v) values.emplace_back(vals[v]);
      std::free(static_cast<void*>(vals));
    }
    out.emplace_back(keys[i], std::move(values));
  }
  std::free(static_cast<void*>(keys));
  return out;
}

std::string_view Data(natsMsg* msg) {
  const char* data = natsMsg_GetData(msg);
  int len = natsMsg_GetDataLength(msg);
  return data == nullptr ? std::string_view() : std::string_view(data, static_cast<size_t>(len));
}

}  // namespace

std::string JsonLine(const nlohmann::ordered_json& j) { return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace); }

nlohmann::ordered_json MessageToJson(natsMsg* msg, uint64_t seq, bool include_data) {
  nlohmann::ordered_json j;
  j["seq"] = seq;
  j["subject"] = natsMsg_GetSubject(msg);
  const char* reply = natsMsg_GetReply(msg);
  if (reply != nullptr && *reply != '\0') j["reply"] = reply;
  auto headers = Headers(msg);
  if (!headers.empty()) {
    nlohmann::ordered_json h = nlohmann::ordered_json::object();
    for (auto& [key, values] : headers) h[key] = values;
    j["headers"] = std::move(h);
  }
  std::string_view data = Data(msg);
  if (include_data) j["data"] = std::string(data);
  j["size"] = data.size();
  return j;
}

void PrintMessage(std::FILE* out, natsMsg* msg, uint64_t seq, const MessageFormat& format, const std::string& note,
                  const nlohmann::ordered_json& extra) {
  std::string text;
  switch (format.mode) {
    case OutputMode::kJson: {
      nlohmann::ordered_json j = MessageToJson(msg, seq, !format.headers_only);
      if (extra.is_object()) {
        for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
      }
      text = JsonLine(j) + "\n";
      break;
    }
    case OutputMode::kRaw:
      if (format.headers_only) {
        for (auto& [key, values] : Headers(msg)) {
          for (auto& v : values) text += fmt::format("{}: {}\n", key, v);
        }
      } else {
        text = std::string(Data(msg)) + "\n";
      }
      break;
    case OutputMode::kHuman: {
      const char* reply = natsMsg_GetReply(msg);
      text = fmt::format("[#{}] Received on \"{}\"", seq, natsMsg_GetSubject(msg));
      if (reply != nullptr && *reply != '\0') text += fmt::format(" with reply \"{}\"", reply);
      if (!note.empty()) text += fmt::format(" ({})", note);
      text += "\n";
      for (auto& [key, values] : Headers(msg)) {
        for (auto& v : values) text += fmt::format("{}: {}\n", key, v);
      }
      if (!format.headers_only) {
        text += "\n";
        text += Data(msg);
        text += "\n";
      }
      text += "\n";
      break;
    }
  }
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

std::vector<HeaderTemplate> ParseHeaderFlags(const std::vector<std::string>& flags) {
  std::vector<HeaderTemplate> out;
  for (const auto& flag : flags) {
    size_t colon = flag.find(':');
    if (colon == std::string::npos || colon == 0) {
      throw UsageError(fmt::format("--header \"{}\": write it as Key:Value", flag));
    }
    std::string value = flag.substr(colon + 1);
    size_t b = value.find_first_not_of(' ');
    value = b == std::string::npos ? std::string() : value.substr(b);
    out.push_back({flag.substr(0, colon), BodyTemplate::Parse(value)});
  }
  return out;
}

void CheckSubject(const std::string& subject) {
  bool bad = subject.empty() || subject.front() == '.' || subject.back() == '.' ||
             subject.find("..") != std::string::npos;
  for (char c : subject) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') bad = true;
  }
  if (bad) throw UsageError(fmt::format("invalid subject \"{}\"", subject));
}

void ApplyHeaders(natsMsg* msg, const std::vector<HeaderTemplate>& headers, const TemplateContext& context) {
  for (const auto& h : headers) {
    std::string value = h.value.Render(context);
    CheckNats(natsMsgHeader_Add(msg, h.key.c_str(), value.c_str()), fmt::format("header \"{}\"", h.key));
  }
}

}  // namespace sluice::cli
