#include "js_output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <iostream>

namespace sluice::cli {

std::string Pretty(const ojson& j) { return j.dump(2, ' ', false, ojson::error_handler_t::replace); }

ojson WithoutType(ojson j) {
  j.erase("type");
  return j;
}

std::string Joined(const ojson& arr, const char* sep) {
  std::string out;
  if (!arr.is_array()) return out;
  for (const auto& s : arr) {
    if (!out.empty()) out += sep;
    out += s.is_string() ? s.get<std::string>() : s.dump();
  }
  return out;
}

std::string Str(const ojson& j, const char* key, const std::string& fallback) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}

uint64_t Num(const ojson& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return 0;
  const ojson& v = j[key];
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) return static_cast<uint64_t>(std::max<int64_t>(0, v.get<int64_t>()));
  return 0;
}

void Row(std::string& out, const std::string& label, const std::string& value) {
  out += fmt::format("{:>22}: {}\n", label, value);
}

ojson ListAll(natsConnection* nc, const std::string& api, const std::string& subject_filter, const char* field,
              std::chrono::nanoseconds timeout) {
  ojson all = ojson::array();
  while (true) {
    ojson req;
    req["offset"] = all.size();
    if (!subject_filter.empty()) req["subject"] = subject_filter;
    ojson page = JsRequest(nc, api, req, timeout);
    size_t got = 0;
    if (page.contains(field) && page[field].is_array()) {
      for (auto& item : page[field]) all.push_back(item);
      got = page[field].size();
    }
    if (got == 0 || all.size() >= Num(page, "total")) break;
  }
  return all;
}

std::string FormatRfc3339(int64_t unix_ns) {
  int64_t secs = unix_ns / 1'000'000'000, frac = unix_ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::string out = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", tm.tm_year + 1900, tm.tm_mon + 1,
                                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (frac != 0) {
    std::string f = fmt::format("{:09d}", frac);
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + "Z";
}

void Confirm(const std::string& question, const std::string& refusal) {
  if (!isatty(STDIN_FILENO)) throw CliError(refusal + " without --force (-f): stdin is not a terminal to confirm on");
  std::fprintf(stderr, "%s [y/N] ", question.c_str());
  std::fflush(stderr);
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "y" && answer != "Y" && answer != "yes" && answer != "YES" && answer != "Yes") {
    throw CliError("not confirmed: nothing was changed");
  }
}

}  // namespace sluice::cli
