// UTF-8 <-> UTF-16 for the few places where the two meet on POSIX: object names travel as
// UTF-16LE (wire.h) while the control language and file-system paths are UTF-8.
// Invalid input never throws and never reads out of bounds: ill-formed sequences and lone
// surrogates become U+FFFD, as WHATWG TextDecoder does, so a hostile host can at worst
// produce odd names.
//
// Threads: any (pure functions).
#pragma once

#include <string>

namespace fltport::posix {

class TextCodec {
 public:
  static std::u16string Utf8ToUtf16(const std::string& utf8);
  static std::string Utf16ToUtf8(const std::u16string& utf16);
};

}  // namespace fltport::posix
