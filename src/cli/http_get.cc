#include "http_get.h"

#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "cli_common.h"

namespace sluice::cli {
namespace {

struct Url {
  std::string host;
  std::string port = "80";
  std::string prefix;  // path prefix without the trailing '/'
};

Url ParseUrl(std::string_view text) {
  Url url;
  std::string_view rest = text;
  if (size_t scheme = rest.find("://"); scheme != std::string_view::npos) {
    std::string_view name = rest.substr(0, scheme);
    if (name == "https") throw UsageError(fmt::format("{}: https is not supported; use http://", text));
    if (name != "http") throw UsageError(fmt::format("{}: not an http:// URL", text));
    rest = rest.substr(scheme + 3);
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) url.prefix = std::string(rest.substr(slash));
  while (!url.prefix.empty() && url.prefix.back() == '/') url.prefix.pop_back();
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8222
    size_t close = authority.find(']');
    if (close == std::string_view::npos) throw UsageError(fmt::format("{}: bad IPv6 address", text));
    url.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') url.port = std::string(authority.substr(close + 2));
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    url.host = std::string(authority.substr(0, colon));
    url.port = std::string(authority.substr(colon + 1));
  } else {
    url.host = std::string(authority);
  }
  if (url.host.empty() || url.port.empty()) throw UsageError(fmt::format("{}: no host or port", text));
  return url;
}

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

int ConnectTo(const Url& url, Clock::time_point deadline, const std::string& shown) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found);
  if (rc != 0) throw CliError(fmt::format("cannot resolve {}: {}", shown, ::gai_strerror(rc)));
  std::string last_error = "no address";
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    int s = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0) continue;
    if (::connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
      fd = s;
      break;
    }
    if (errno == EINPROGRESS) {
      pollfd p{s, POLLOUT, 0};
      if (::poll(&p, 1, RemainingMs(deadline)) == 1) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) {
          fd = s;
          break;
        }
        last_error = std::strerror(err);
      } else {
        last_error = "timed out";
      }
    } else {
      last_error = std::strerror(errno);
    }
    ::close(s);
  }
  ::freeaddrinfo(found);
  if (fd < 0) throw CliError(fmt::format("cannot connect to {}: {}", shown, last_error));
  return fd;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Decodes a chunked body; false when it is malformed or incomplete.
bool Unchunk(std::string_view in, std::string& out) {
  size_t pos = 0;
  while (true) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) return false;
    std::string size_text(in.substr(pos, eol - pos));
    if (size_t semi = size_text.find(';'); semi != std::string::npos) size_text.resize(semi);
    size_t size;
    try {
      size = std::stoul(size_text, nullptr, 16);
    } catch (...) {
      return false;
    }
    pos = eol + 2;
    if (size == 0) return true;
    if (pos + size + 2 > in.size()) return false;
    out.append(in.substr(pos, size));
    pos += size + 2;
  }
}

}  // namespace

HttpResponse HttpGet(std::string_view base_url, std::string_view path, std::chrono::nanoseconds timeout) {
  const Url url = ParseUrl(base_url);
  const std::string target = url.prefix + std::string(path);
  const std::string shown = fmt::format("http://{}:{}{}", url.host, url.port, target);
  const auto deadline = Clock::now() + timeout;

  int fd = ConnectTo(url, deadline, shown);
  std::string host_header = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  std::string request = fmt::format(
      "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: sluice-cli\r\nAccept: application/json\r\n"
      "Connection: close\r\n\r\n",
      target, host_header, url.port);
  size_t sent = 0;
  std::string raw;
  std::string error;
  while (sent < request.size() && error.empty()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, RemainingMs(deadline)) != 1) error = "timed out sending the request";
    } else {
      error = std::strerror(errno);
    }
  }
  // Read to the end of the connection (we asked for Connection: close).
  char buf[16384];
  while (error.empty()) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      raw.append(buf, static_cast<size_t>(n));
      if (raw.size() > (64u << 20)) error = "response larger than 64 MiB";
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, RemainingMs(deadline)) != 1) error = "timed out waiting for the response";
    } else {
      error = std::strerror(errno);
    }
  }
  ::close(fd);
  if (!error.empty()) throw CliError(fmt::format("GET {}: {}", shown, error));

  size_t header_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || header_end == std::string::npos) {
    throw CliError(fmt::format("GET {}: not an HTTP response", shown));
  }
  HttpResponse response;
  size_t space = raw.find(' ');
  try {
    response.status = std::stoi(raw.substr(space + 1, 3));
  } catch (...) {
    throw CliError(fmt::format("GET {}: bad HTTP status line", shown));
  }
  std::string_view headers(raw.data(), header_end);
  std::string_view body(raw.data() + header_end + 4, raw.size() - header_end - 4);
  bool chunked = false;
  size_t pos = headers.find("\r\n");
  while (pos != std::string_view::npos && pos < headers.size()) {
    size_t next = headers.find("\r\n", pos + 2);
    std::string_view line = headers.substr(pos + 2, (next == std::string_view::npos ? headers.size() : next) - pos - 2);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name = Lower(line.substr(0, colon));
      std::string value = Lower(line.substr(colon + 1));
      if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) chunked = true;
      if (name == "content-length") {
        size_t len = std::strtoul(value.c_str(), nullptr, 10);
        if (len < body.size()) body = body.substr(0, len);
      }
    }
    pos = next;
  }
  if (chunked) {
    if (!Unchunk(body, response.body)) throw CliError(fmt::format("GET {}: malformed chunked body", shown));
  } else {
    response.body = std::string(body);
  }
  return response;
}

}  // namespace sluice::cli
