// The text form of fltsim's control channel (docs/fltsim.md): one UTF-8 line per command,
// result or event: "verb key=value key=value". Values are percent-encoded: every byte outside
// 0x21..0x7E, and '%' and '=', become %XX, so a value never contains a space. Byte strings
// travel as lowercase hex. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fltport::fltsim {

std::string PercentEncode(const std::string& raw);
bool PercentDecode(const std::string& encoded, std::string* raw);
std::string HexBytes(const uint8_t* data, size_t size);
bool ParseHexBytes(const std::string& hex, std::vector<uint8_t>* out);
std::string Hex32(uint32_t value);  // "0x%08X", how statuses are written

struct ControlLine {
  std::string verb;
  std::vector<std::pair<std::string, std::string>> args;  // decoded values, in order

  // "verb k=v ...": the verb and keys are [A-Za-z0-9_.:-]+, separated by single or repeated
  // spaces; a trailing '\r' or '\n' is ignored. Duplicate keys are an error.
  static bool Parse(const std::string& text, ControlLine* out, std::string* error);
  const std::string* Find(const std::string& key) const;
};

// Builds "head k=v ..." with values encoded.
class LineBuilder {
 public:
  explicit LineBuilder(std::string head) : text_(std::move(head)) {}
  LineBuilder& Add(const std::string& key, const std::string& value);
  LineBuilder& Add(const std::string& key, const char* value) { return Add(key, std::string(value)); }
  LineBuilder& Add(const std::string& key, uint64_t value);
  LineBuilder& AddStatus(const std::string& key, uint32_t status);
  LineBuilder& AddBytes(const std::string& key, const uint8_t* data, size_t size);
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

}  // namespace fltport::fltsim
