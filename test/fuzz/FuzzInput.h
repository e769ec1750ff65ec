// Reads a fuzz input as a little script: little-endian integers and byte runs taken from the
// front. Past the end every read yields zeros / an empty run and done() is true, so a target
// never has to check lengths itself. test/fuzz/make-corpus.mjs writes seeds in the same format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fltport::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool done() const { return at_ >= size_; }
  size_t left() const { return size_ - at_; }

  uint8_t U8() { return at_ < size_ ? data_[at_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(U8() | U8() << 8); }
  uint32_t U32() { return uint32_t(U16()) | uint32_t(U16()) << 16; }
  uint64_t U64() { return uint64_t(U32()) | uint64_t(U32()) << 32; }
  // Up to `n` bytes (fewer at the end of the input).
  std::vector<uint8_t> Bytes(size_t n) {
    if (n > left()) n = left();
    std::vector<uint8_t> out(data_ + at_, data_ + at_ + n);
    at_ += n;
    return out;
  }
  // Everything that is left.
  std::vector<uint8_t> Rest() { return Bytes(left()); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace fltport::fuzz
