// Object-manager names as fltsim compares them. Windows object names are UTF-16 and the
// object manager compares them case-insensitively (RtlUpcaseUnicodeChar); fltsim upcases
// ASCII and Latin-1 (U+00E0..U+00FE except U+00F7, and U+00FF), which covers every name the
// project uses. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>

namespace fltport::fltsim {

// The key two names are compared by.
std::u16string FoldName(const std::u16string& name);

// UTF-8 <-> UTF-16 for logs and the control channel. Invalid input yields false (to UTF-16)
// or U+FFFD replacements (to UTF-8).
bool Utf8ToUtf16(const std::string& in, std::u16string* out);
std::string Utf16ToUtf8(const std::u16string& in);
// UTF-16LE bytes from the wire (even length, checked by the caller).
std::u16string Utf16FromLeBytes(const uint8_t* bytes, size_t byte_count);

// Mailslot names (spec §10.1): \\.\mailslot\x (Win32), \Device\Mailslot\x and \??\mailslot\x
// (NT) name the same object. On success *key is the folded path after the prefix (never
// empty). Otherwise returns the NTSTATUS to fail with: STATUS_OBJECT_PATH_SYNTAX_BAD for a
// name that does not start with a backslash, STATUS_OBJECT_NAME_INVALID for a local name of
// another device or an empty mailslot name, STATUS_OBJECT_NAME_NOT_FOUND for a remote form
// (\\server\mailslot\x, \\*\mailslot\x, \\domain\mailslot\x) which fltsim does not simulate.
uint32_t ParseMailslotName(const std::u16string& name, std::u16string* key);

}  // namespace fltport::fltsim
