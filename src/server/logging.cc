#include "server/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

namespace sluice::server {
namespace {

// [INF], [DBG], [TRC], [WRN], [ERR], [FTL] as nats-server writes them.
class LevelTagFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view tag;
    switch (msg.level) {
      case spdlog::level::trace: tag = "[TRC]"; break;
      case spdlog::level::debug: tag = "[DBG]"; break;
      case spdlog::level::info: tag = "[INF]"; break;
      case spdlog::level::warn: tag = "[WRN]"; break;
      case spdlog::level::err: tag = "[ERR]"; break;
      case spdlog::level::critical: tag = "[FTL]"; break;
      default: tag = "[INF]"; break;
    }
    dest.append(tag.data(), tag.data() + tag.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<LevelTagFlag>(); }
};

}  // namespace

std::string InitLogging(bool debug, bool trace, bool logtime, const std::string& log_file) {
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (log_file.empty()) {
      logger = std::make_shared<spdlog::logger>("sluice", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    } else {
      logger = std::make_shared<spdlog::logger>("sluice",
                                                std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file));
    }
  } catch (const spdlog::spdlog_ex& e) {
    return std::string("cannot open log file: ") + e.what();
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<LevelTagFlag>('*');
  formatter->set_pattern(logtime ? "[%P] %Y/%m/%d %H:%M:%S.%f %* %v" : "[%P] %* %v");
  logger->set_formatter(std::move(formatter));
  logger->set_level(trace ? spdlog::level::trace : debug ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return "";
}

}  // namespace sluice::server
