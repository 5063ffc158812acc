// Maps a nats-server config file onto ServerOptions.
#pragma once

#include <string>

#include "server/options.h"

namespace sluice::server {

// Reads the file and applies its keys. Returns "" or an error naming the file,
// line and column. Keys Sluice does not support yet stop start-up.
std::string ApplyConfigFile(const std::string& path, ServerOptions& options);

}  // namespace sluice::server
