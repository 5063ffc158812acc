#include "body_template.h"

#include <fmt/format.h>

#include <chrono>
#include <cctype>
#include <ctime>
#include <random>

#include "cli_common.h"

namespace sluice::cli {
namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool ParseUint(std::string_view s, uint32_t& out) {
  std::string t = Trim(s);
  if (t.empty() || t.size() > 9) return false;
  for (char c : t) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  out = static_cast<uint32_t>(std::stoul(t));
  return true;
}

// "Random(10,20)" or "Random 10 20" → min, max.
bool ParseRandomArgs(std::string_view args, uint32_t& min, uint32_t& max) {
  std::string a = Trim(args);
  std::string_view first, second;
  if (!a.empty() && a.front() == '(') {
    if (a.back() != ')') return false;
    std::string_view inner = std::string_view(a).substr(1, a.size() - 2);
    size_t comma = inner.find(',');
    if (comma == std::string_view::npos) return false;
    first = inner.substr(0, comma);
    second = inner.substr(comma + 1);
    return ParseUint(first, min) && ParseUint(second, max) && min <= max;
  }
  size_t space = a.find_first_of(" \t");
  if (space == std::string::npos) return false;
  return ParseUint(std::string_view(a).substr(0, space), min) &&
         ParseUint(std::string_view(a).substr(space + 1), max) && min <= max;
}

std::string LocalTime(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), format, &tm);
  return std::string(buf, n);
}

std::string KitchenTime() {  // Go's time.Kitchen: "3:04PM"
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  int hour = tm.tm_hour % 12;
  if (hour == 0) hour = 12;
  return fmt::format("{}:{:02}{}", hour, tm.tm_min, tm.tm_hour < 12 ? "AM" : "PM");
}

std::string Rfc3339() {
  std::string s = LocalTime("%Y-%m-%dT%H:%M:%S%z");  // ...+0200 → ...+02:00
  if (s.size() >= 5) {
    std::string zone = s.substr(s.size() - 5);
    s.resize(s.size() - 5);
    if (zone == "+0000") {
      s += "Z";
    } else {
      s += zone.substr(0, 3) + ":" + zone.substr(3);
    }
  }
  return s;
}

}  // namespace

std::string RandomAlphanumeric(size_t length) {
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  std::string out(length, '\0');
  for (auto& c : out) c = kAlphabet[pick(Rng())];
  return out;
}

BodyTemplate BodyTemplate::Parse(std::string_view text, bool allow_request) {
  BodyTemplate t;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.parts_.push_back({Kind::kText, std::string(text.substr(pos))});
      break;
    }
    if (open > pos) t.parts_.push_back({Kind::kText, std::string(text.substr(pos, open - pos))});
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      throw UsageError(fmt::format("template: \"{{{{\" at offset {} is not closed by \"}}}}\"", open));
    }
    std::string expr = Trim(text.substr(open + 2, close - open - 2));
    Part part;
    if (expr == "Count" || expr == "Cnt") {
      part.kind = Kind::kCount;
    } else if (expr == "Time") {
      part.kind = Kind::kTime;
    } else if (expr == "TimeStamp") {
      part.kind = Kind::kTimeStamp;
    } else if (expr == "Unix") {
      part.kind = Kind::kUnix;
    } else if (expr == "UnixNano") {
      part.kind = Kind::kUnixNano;
    } else if (expr == "ID") {
      part.kind = Kind::kId;
    } else if (expr == "Request" && allow_request) {
      part.kind = Kind::kRequest;
    } else if (expr.rfind("Random", 0) == 0) {
      part.kind = Kind::kRandom;
      if (!ParseRandomArgs(std::string_view(expr).substr(6), part.min, part.max)) {
        throw UsageError(fmt::format("template: \"{{{{{}}}}}\": write Random(min,max) with 0 <= min <= max", expr));
      }
    } else {
      throw UsageError(fmt::format(
          "template: unknown function \"{{{{{}}}}}\" (known: Count, Time, TimeStamp, Unix, UnixNano, ID, "
          "Random(min,max){})",
          expr, allow_request ? ", Request" : ""));
    }
    t.is_static_ = false;
    t.parts_.push_back(std::move(part));
    pos = close + 2;
  }
  return t;
}

std::string BodyTemplate::Render(const TemplateContext& context) const {
  std::string out;
  for (const auto& part : parts_) {
    switch (part.kind) {
      case Kind::kText:
        out += part.text;
        break;
      case Kind::kCount:
        out += std::to_string(context.count);
        break;
      case Kind::kTime:
        out += KitchenTime();
        break;
      case Kind::kTimeStamp:
        out += Rfc3339();
        break;
      case Kind::kUnix:
        out += std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count());
        break;
      case Kind::kUnixNano:
        out += std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
        break;
      case Kind::kId:
        out += RandomAlphanumeric(22);
        break;
      case Kind::kRandom: {
        std::uniform_int_distribution<uint32_t> len(part.min, part.max);
        out += RandomAlphanumeric(len(Rng()));
        break;
      }
      case Kind::kRequest:
        out += context.request;
        break;
    }
  }
  return out;
}

}  // namespace sluice::cli
