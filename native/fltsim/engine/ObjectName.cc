#include "ObjectName.h"

#include "StatusTable.h"

namespace fltport::fltsim {
namespace {

char16_t Upcase(char16_t c) {
  if (c >= u'a' && c <= u'z') return static_cast<char16_t>(c - 32);
  if (c >= 0x00E0 && c <= 0x00FE && c != 0x00F7) return static_cast<char16_t>(c - 32);
  if (c == 0x00FF) return 0x0178;
  return c;
}

bool StartsWithFolded(const std::u16string& folded, const char16_t* prefix, size_t* len) {
  size_t n = std::char_traits<char16_t>::length(prefix);
  if (folded.size() < n || folded.compare(0, n, prefix) != 0) return false;
  *len = n;
  return true;
}

}  // namespace

std::u16string FoldName(const std::u16string& name) {
  std::u16string out(name);
  for (char16_t& c : out) c = Upcase(c);
  return out;
}

bool Utf8ToUtf16(const std::string& in, std::u16string* out) {
  out->clear();
  size_t i = 0;
  while (i < in.size()) {
    uint8_t b = static_cast<uint8_t>(in[i]);
    uint32_t cp;
    size_t extra;
    if (b < 0x80) {
      cp = b;
      extra = 0;
    } else if ((b & 0xE0) == 0xC0) {
      cp = b & 0x1F;
      extra = 1;
    } else if ((b & 0xF0) == 0xE0) {
      cp = b & 0x0F;
      extra = 2;
    } else if ((b & 0xF8) == 0xF0) {
      cp = b & 0x07;
      extra = 3;
    } else {
      return false;
    }
    if (extra > 0 && i + extra >= in.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      uint8_t c = static_cast<uint8_t>(in[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    // Reject overlong forms and surrogate code points: they are not valid UTF-8.
    static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out->push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out->push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out->push_back(static_cast<char16_t>(cp));
    }
    i += extra + 1;
  }
  return true;
}

std::string Utf16ToUtf8(const std::u16string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    uint32_t cp = in[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < in.size() && in[i + 1] >= 0xDC00 &&
        in[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (in[i + 1] - 0xDC00);
      ++i;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;  // a lone surrogate: Windows allows it in names, UTF-8 cannot carry it
    }
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

std::u16string Utf16FromLeBytes(const uint8_t* bytes, size_t byte_count) {
  std::u16string out;
  out.reserve(byte_count / 2);
  for (size_t i = 0; i + 1 < byte_count; i += 2) {
    out.push_back(static_cast<char16_t>(bytes[i] | (bytes[i + 1] << 8)));
  }
  return out;
}

uint32_t ParseMailslotName(const std::u16string& name, std::u16string* key) {
  namespace nt = core::nt;
  if (name.empty() || name[0] != u'\\') return nt::kObjectPathSyntaxBad;
  std::u16string folded = FoldName(name);
  size_t prefix = 0;
  if (StartsWithFolded(folded, u"\\\\.\\MAILSLOT\\", &prefix) ||
      StartsWithFolded(folded, u"\\DEVICE\\MAILSLOT\\", &prefix) ||
      StartsWithFolded(folded, u"\\??\\MAILSLOT\\", &prefix) ||
      StartsWithFolded(folded, u"\\GLOBAL??\\MAILSLOT\\", &prefix)) {
    if (folded.size() == prefix) return nt::kObjectNameInvalid;
    *key = folded.substr(prefix);
    return nt::kSuccess;
  }
  // \\server\mailslot\x, \\*\mailslot\x, \\domain\mailslot\x: a remote or broadcast target.
  if (folded.size() > 2 && folded[1] == u'\\') {
    size_t sep = folded.find(u'\\', 2);
    if (sep != std::u16string::npos && folded.compare(sep, 10, u"\\MAILSLOT\\") == 0) {
      return nt::kObjectNameNotFound;
    }
  }
  return nt::kObjectNameInvalid;
}

}  // namespace fltport::fltsim
