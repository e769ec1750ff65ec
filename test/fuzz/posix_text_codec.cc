// Fuzz target: native/posix/TextCodec, which turns the host's UTF-8 (control answers: filter,
// instance and volume names) into the UTF-16 names JS receives, and names into UTF-8.
// Input: bytes, read both as UTF-8 and as UTF-16 code units (little-endian pairs).
// Checks: UTF-8 -> UTF-16 always yields well-formed UTF-16 (no lone surrogate) and gives back
// the same bytes when re-encoded if the input was valid; UTF-16 -> UTF-8 -> UTF-16 is the
// identity except that each lone surrogate becomes U+FFFD.
#include <cstdint>
#include <string>

#include "TextCodec.h"

namespace {

using fltport::posix::TextCodec;

bool IsHigh(char16_t c) { return c >= 0xD800 && c <= 0xDBFF; }
bool IsLow(char16_t c) { return c >= 0xDC00 && c <= 0xDFFF; }

bool WellFormed(const std::u16string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsHigh(s[i]) && i + 1 < s.size() && IsLow(s[i + 1])) {
      ++i;
    } else if (IsHigh(s[i]) || IsLow(s[i])) {
      return false;
    }
  }
  return true;
}

std::u16string LoneSurrogatesReplaced(const std::u16string& s) {
  std::u16string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsHigh(s[i]) && i + 1 < s.size() && IsLow(s[i + 1])) {
      out.push_back(s[i]);
      out.push_back(s[++i]);
    } else {
      out.push_back(IsHigh(s[i]) || IsLow(s[i]) ? char16_t(0xFFFD) : s[i]);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string utf8(reinterpret_cast<const char*>(data), size);
  const std::u16string decoded = TextCodec::Utf8ToUtf16(utf8);
  if (!WellFormed(decoded)) __builtin_trap();
  // Without a replacement the input was valid UTF-8 and must round-trip byte for byte.
  if (decoded.find(char16_t(0xFFFD)) == std::u16string::npos &&
      TextCodec::Utf16ToUtf8(decoded) != utf8) {
    __builtin_trap();
  }

  std::u16string utf16;
  for (size_t i = 0; i + 1 < size; i += 2) utf16.push_back(char16_t(data[i] | data[i + 1] << 8));
  const std::string encoded = TextCodec::Utf16ToUtf8(utf16);
  if (TextCodec::Utf8ToUtf16(encoded) != LoneSurrogatesReplaced(utf16)) __builtin_trap();
  return 0;
}
