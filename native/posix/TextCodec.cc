#include "TextCodec.h"

#include <cstdint>

namespace fltport::posix {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

void AppendUtf16(std::u16string* out, char32_t cp) {
  if (cp < 0x10000) {
    out->push_back(static_cast<char16_t>(cp));
  } else {
    cp -= 0x10000;
    out->push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
    out->push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
  }
}

void AppendUtf8(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

// The WHATWG Encoding Standard's UTF-8 decoder, so that a name decoded here reads the same
// as one decoded by TextDecoder in JS: each maximal subpart of an ill-formed sequence becomes
// one U+FFFD, and the byte that broke a sequence is decoded again on its own.
std::u16string TextCodec::Utf8ToUtf16(const std::string& utf8) {
  std::u16string out;
  out.reserve(utf8.size());
  const auto* s = reinterpret_cast<const uint8_t*>(utf8.data());
  const size_t n = utf8.size();
  char32_t cp = 0;
  int needed = 0, seen = 0;
  uint8_t lower = 0x80, upper = 0xBF;
  for (size_t i = 0; i < n;) {
    const uint8_t b = s[i];
    if (needed == 0) {
      ++i;
      if (b < 0x80) {
        out.push_back(b);
      } else if (b >= 0xC2 && b <= 0xDF) {
        needed = 1, cp = b & 0x1F;
      } else if (b >= 0xE0 && b <= 0xEF) {
        if (b == 0xE0) lower = 0xA0;  // no overlong 3-byte forms
        if (b == 0xED) upper = 0x9F;  // no surrogates
        needed = 2, cp = b & 0x0F;
      } else if (b >= 0xF0 && b <= 0xF4) {
        if (b == 0xF0) lower = 0x90;  // no overlong 4-byte forms
        if (b == 0xF4) upper = 0x8F;  // nothing above U+10FFFF
        needed = 3, cp = b & 0x07;
      } else {
        AppendUtf16(&out, kReplacement);  // C0, C1, F5..FF, or a stray continuation byte
      }
      continue;
    }
    if (b < lower || b > upper) {
      // The sequence so far is one replacement; `b` starts over (not consumed).
      needed = seen = 0, cp = 0, lower = 0x80, upper = 0xBF;
      AppendUtf16(&out, kReplacement);
      continue;
    }
    ++i;
    lower = 0x80, upper = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
    if (++seen == needed) {
      AppendUtf16(&out, cp);
      needed = seen = 0, cp = 0;
    }
  }
  if (needed != 0) AppendUtf16(&out, kReplacement);  // cut short by the end
  return out;
}

std::string TextCodec::Utf16ToUtf8(const std::u16string& utf16) {
  std::string out;
  out.reserve(utf16.size());
  const size_t n = utf16.size();
  for (size_t i = 0; i < n; ++i) {
    const char32_t u = utf16[i];
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < n && utf16[i + 1] >= 0xDC00 && utf16[i + 1] <= 0xDFFF) {
      AppendUtf8(&out, 0x10000 + ((u - 0xD800) << 10) + (utf16[i + 1] - 0xDC00));
      ++i;
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      AppendUtf8(&out, kReplacement);
    } else {
      AppendUtf8(&out, u);
    }
  }
  return out;
}

}  // namespace fltport::posix
