// Internal: formatting values the way Go's fmt does, so that error texts match
// nats-server's byte for byte.
#pragma once

#include <string>
#include <string_view>

#include "config/config_file.h"

namespace sluice::auth {

// strconv.Quote / %q: "..." with \" \\ \a \b \f \n \r \t \v, other control
// bytes and invalid UTF-8 as \xNN; valid UTF-8 beyond ASCII is kept as is.
std::string GoQuote(std::string_view s);
// %T of the value nats-server's config parser produces: string, int64,
// float64, bool, time.Time, []interface {}, map[string]interface {}.
std::string GoTypeName(const config::Value& v);
// %v of that value (maps print as map[k:v ...] with sorted keys).
std::string GoValueString(const config::Value& v);

}  // namespace sluice::auth
