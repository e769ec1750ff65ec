#include "ControlText.h"

#include <cstdio>

namespace fltport::fltsim {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

}  // namespace

std::string PercentEncode(const std::string& raw) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size());
  for (unsigned char c : raw) {
    if (c < 0x21 || c > 0x7E || c == '%' || c == '=') {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool PercentDecode(const std::string& encoded, std::string* raw) {
  raw->clear();
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      raw->push_back(encoded[i]);
      continue;
    }
    if (i + 2 >= encoded.size()) return false;
    int hi = HexValue(encoded[i + 1]);
    int lo = HexValue(encoded[i + 2]);
    if (hi < 0 || lo < 0) return false;
    raw->push_back(static_cast<char>((hi << 4) | lo));
    i += 2;
  }
  return true;
}

std::string HexBytes(const uint8_t* data, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xF];
  }
  return out;
}

bool ParseHexBytes(const std::string& hex, std::vector<uint8_t>* out) {
  out->clear();
  if (hex.size() % 2 != 0) return false;
  out->reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]);
    int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<uint8_t>((hi << 4) | lo));
  }
  return true;
}

std::string Hex32(uint32_t value) {
  char buf[16];
  snprintf(buf, sizeof buf, "0x%08X", value);
  return buf;
}

bool ControlLine::Parse(const std::string& text, ControlLine* out, std::string* error) {
  out->verb.clear();
  out->args.clear();
  size_t end = text.size();
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r')) --end;
  size_t i = 0;
  auto skip_spaces = [&]() {
    while (i < end && text[i] == ' ') ++i;
  };
  skip_spaces();
  size_t verb_start = i;
  while (i < end && IsNameChar(text[i])) ++i;
  if (i == verb_start) {
    *error = "empty command";
    return false;
  }
  out->verb = text.substr(verb_start, i - verb_start);
  if (i < end && text[i] != ' ') {
    *error = "invalid character in verb";
    return false;
  }
  while (true) {
    skip_spaces();
    if (i >= end) break;
    size_t key_start = i;
    while (i < end && IsNameChar(text[i])) ++i;
    if (i == key_start || i >= end || text[i] != '=') {
      *error = "expected key=value at offset " + std::to_string(key_start);
      return false;
    }
    std::string key = text.substr(key_start, i - key_start);
    ++i;  // '='
    size_t value_start = i;
    while (i < end && text[i] != ' ') ++i;
    std::string value;
    if (!PercentDecode(text.substr(value_start, i - value_start), &value)) {
      *error = "bad percent-encoding in value of " + key;
      return false;
    }
    if (out->Find(key) != nullptr) {
      *error = "duplicate key " + key;
      return false;
    }
    out->args.emplace_back(std::move(key), std::move(value));
  }
  return true;
}

const std::string* ControlLine::Find(const std::string& key) const {
  for (const auto& kv : args) {
    if (kv.first == key) return &kv.second;
  }
  return nullptr;
}

LineBuilder& LineBuilder::Add(const std::string& key, const std::string& value) {
  text_.push_back(' ');
  text_ += key;
  text_.push_back('=');
  text_ += PercentEncode(value);
  return *this;
}

LineBuilder& LineBuilder::Add(const std::string& key, uint64_t value) {
  return Add(key, std::to_string(value));
}

LineBuilder& LineBuilder::AddStatus(const std::string& key, uint32_t status) {
  return Add(key, Hex32(status));
}

LineBuilder& LineBuilder::AddBytes(const std::string& key, const uint8_t* data, size_t size) {
  return Add(key, HexBytes(data, size));
}

}  // namespace fltport::fltsim
