// UTF-16 strings between core's std::u16string and the W APIs. Windows' wchar_t is UTF-16,
// so no conversion is needed, only a checked reinterpretation.
#pragma once

#include <cstddef>
#include <string>

namespace fltport::win {

static_assert(sizeof(wchar_t) == sizeof(char16_t), "Windows wchar_t is UTF-16");

// Any thread. The W APIs take NUL-terminated strings: an embedded NUL would silently cut the
// name short, so callers reject such names first.
inline bool HasEmbeddedNul(const std::u16string& s) { return s.find(u'\0') != std::u16string::npos; }

inline const wchar_t* AsWide(const std::u16string& s) {
  return reinterpret_cast<const wchar_t*>(s.c_str());
}

// Any thread: at most `max_chars` characters of a buffer the OS filled, up to its first NUL
// (the OS normally terminates it; this never reads past the buffer when it did not).
inline std::u16string FromWideBuffer(const wchar_t* buffer, size_t max_chars) {
  size_t n = 0;
  while (n < max_chars && buffer[n] != L'\0') ++n;
  return std::u16string(reinterpret_cast<const char16_t*>(buffer), n);
}

}  // namespace fltport::win
