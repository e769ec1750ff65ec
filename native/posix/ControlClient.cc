#include "ControlClient.h"

#include <cstdlib>

#include "FrameBuilder.h"
#include "fltsim/wire.h"

namespace fltport::posix {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseU32(const std::string& text, uint32_t* out) {
  if (text.empty() || text.size() > 10) return false;
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  uint64_t v = 0;
  for (size_t i = hex ? 2 : 0; i < text.size(); ++i) {
    const int d = HexDigit(text[i]);
    if (d < 0 || (!hex && d > 9)) return false;
    v = v * (hex ? 16 : 10) + uint64_t(d);
  }
  if (v > 0xFFFFFFFFull) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

const std::string* ControlReply::Find(const std::string& key) const {
  auto it = args.find(key);
  return it == args.end() ? nullptr : &it->second;
}

bool ControlReply::U32(const std::string& key, uint32_t* out) const {
  const std::string* v = Find(key);
  return v && ParseU32(*v, out);
}

std::string ControlClient::Encode(const std::string& raw) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : raw) {
    if (c < 0x21 || c > 0x7E || c == '%' || c == '=') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool ControlClient::Decode(const std::string& encoded, std::string* raw) {
  raw->clear();
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      raw->push_back(encoded[i]);
      continue;
    }
    if (i + 2 >= encoded.size()) return false;  // "%X" or "%" at the end
    const int hi = HexDigit(encoded[i + 1]), lo = HexDigit(encoded[i + 2]);
    if (hi < 0 || lo < 0) return false;
    raw->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool ControlClient::ParseReply(const std::string& line, ControlReply* reply, std::string* why) {
  *reply = ControlReply();
  std::string text = line;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  if (words.empty()) {
    *why = "empty control answer";
    return false;
  }
  for (size_t w = 1; w < words.size(); ++w) {
    const size_t eq = words[w].find('=');
    std::string value;
    if (eq == std::string::npos || eq == 0 || !Decode(words[w].substr(eq + 1), &value)) {
      *why = "malformed field '" + words[w] + "' in control answer";
      return false;
    }
    if (!reply->args.emplace(words[w].substr(0, eq), std::move(value)).second) {
      *why = "duplicate field '" + words[w].substr(0, eq) + "' in control answer";
      return false;
    }
  }
  if (words[0] == "ok") {
    reply->ok = true;
    return true;
  }
  if (words[0] == "error") {
    if (!reply->U32("status", &reply->status) || reply->status == 0) {
      *why = "control error answer without a failure status: " + text;
      return false;
    }
    return true;
  }
  *why = "control answer is neither ok nor error: " + text;
  return false;
}

std::unique_ptr<ControlClient> ControlClient::Open(const std::string& runtime_dir,
                                                   core::Status* status) {
  auto stream = FltsimStream::Open(runtime_dir, FLTSIM_KIND_CONTROL, 10000, status);
  if (!stream) return nullptr;
  return std::unique_ptr<ControlClient>(new ControlClient(std::move(stream)));
}

core::Status ControlClient::Call(const std::string& verb,
                                 const std::vector<std::pair<std::string, std::string>>& args,
                                 ControlReply* reply, int timeout_ms) {
  std::string line = verb;
  for (const auto& [key, value] : args) line += " " + key + "=" + Encode(value);
  const uint64_t tag = next_tag_++;
  auto frame = FrameBuilder(FLTSIM_CONTROL, tag)
                   .Bytes(reinterpret_cast<const uint8_t*>(line.data()), line.size())
                   .Finish();
  core::Status s = stream_->WriteAll(frame, timeout_ms);
  if (!s.ok()) return s;
  for (;;) {
    Frame answer;
    s = stream_->ReadFrame(&answer, timeout_ms);
    if (!s.ok()) return s;
    if (answer.type == FLTSIM_CONTROL_EVENT) continue;  // asynchronous news, not our answer
    if (answer.type != FLTSIM_CONTROL_RESULT || answer.tag != tag) {
      return core::Status::Protocol("expected CONTROL_RESULT tag " + std::to_string(tag) +
                                        ", got type " + std::to_string(answer.type) + " tag " +
                                        std::to_string(answer.tag),
                                    verb);
    }
    std::string why;
    if (!ParseReply(std::string(answer.body.begin(), answer.body.end()), reply, &why)) {
      return core::Status::Protocol(why, verb);
    }
    return core::Status::Ok();
  }
}

}  // namespace fltport::posix
