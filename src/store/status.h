// Status values for the store: every fallible operation returns a Status or
// a StatusOr<T>; nothing in store/ throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace sluice::store {

enum class StatusCode : uint8_t {
  kOk = 0,
  kNotFound,           // no such message / subject
  kCorruption,         // a record failed its CRC or framing check
  kIoError,            // a read, write or fsync failed (other than ENOSPC)
  kNoSpace,            // the disk is full (ENOSPC / EDQUOT)
  kMaxMessages,        // discard new: max_msgs reached
  kMaxBytes,           // discard new: max_bytes reached (or one message larger than max_bytes)
  kMaxPerSubject,      // discard new per subject: max_msgs_per_subject reached
  kMaxMessageSize,     // header + payload larger than max_msg_size
  kWrongLastSequence,  // an expected-last-sequence check failed
  kInvalidArgument,    // a bad subject, a bad request
  kClosed,             // the store was closed
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // One of the four discard-new refusals (kMaxMessages … kMaxMessageSize).
  bool IsLimitExceeded() const {
    return code_ == StatusCode::kMaxMessages || code_ == StatusCode::kMaxBytes ||
           code_ == StatusCode::kMaxPerSubject || code_ == StatusCode::kMaxMessageSize;
  }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status NotFound(std::string m = "not found") { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status Closed() { return {StatusCode::kClosed, "store is closed"}; }

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}                 // NOLINT: implicit on purpose
  StatusOr(Status status) : status_(std::move(status)) {}         // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace sluice::store
