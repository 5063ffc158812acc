// ByteBuffer: a growable byte buffer for outbound frames.
//
// Unlike std::string it never zero-fills what it is about to overwrite, and
// it drops written bytes from the front without moving the rest (a head
// offset), which is what a socket writer needs after a partial send.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace sluice::protocol {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(ByteBuffer&&) noexcept = default;
  ByteBuffer& operator=(ByteBuffer&&) noexcept = default;

  const char* data() const { return data_.get() + head_; }
  size_t size() const { return size_ - head_; }
  bool empty() const { return size_ == head_; }
  size_t capacity() const { return capacity_; }

  // Returns room for n more bytes at the end; the caller must fill all n.
  char* Extend(size_t n) {
    if (size_ + n > capacity_) Grow(n);
    char* p = data_.get() + size_;
    size_ += n;
    return p;
  }
  void append(const char* p, size_t n) { std::memcpy(Extend(n), p, n); }
  void append(std::string_view s) { append(s.data(), s.size()); }

  // Drops n bytes from the front.
  void Consume(size_t n) {
    head_ += n;
    if (head_ >= size_) head_ = size_ = 0;
  }
  void clear() { head_ = size_ = 0; }
  // Keeps the first n bytes (n <= size()).
  void Truncate(size_t n) {
    size_ = head_ + n;
    if (size_ == head_) head_ = size_ = 0;
  }
  void Release() {
    data_.reset();
    head_ = size_ = capacity_ = 0;
  }
  void swap(ByteBuffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(head_, other.head_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }
  std::string_view view() const { return {data(), size()}; }

 private:
  void Grow(size_t n) {
    size_t live = size_ - head_;
    size_t want = live + n;
    if (head_ > 0 && want <= capacity_) {  // room at the front: compact
      std::memmove(data_.get(), data_.get() + head_, live);
    } else {
      size_t cap = capacity_ < 1024 ? 1024 : capacity_;
      while (cap < want) cap *= 2;
      std::unique_ptr<char[]> bigger(new char[cap]);
      if (live > 0) std::memcpy(bigger.get(), data_.get() + head_, live);
      data_ = std::move(bigger);
      capacity_ = cap;
    }
    head_ = 0;
    size_ = live;
  }

  std::unique_ptr<char[]> data_;
  size_t head_ = 0;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace sluice::protocol
