// A minimal HTTP/1.1 GET for the server's monitoring port (/varz, /healthz):
// plain TCP, "Connection: close", Content-Length or chunked bodies.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace sluice::cli {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// base_url is "http://host[:port][/prefix]" (the scheme may be left out;
// the port defaults to 80). Throws CliError when the server cannot be
// reached, does not answer within `timeout`, or does not speak HTTP.
HttpResponse HttpGet(std::string_view base_url, std::string_view path, std::chrono::nanoseconds timeout);

}  // namespace sluice::cli
