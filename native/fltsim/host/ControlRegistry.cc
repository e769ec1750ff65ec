#include "ControlRegistry.h"

#include <cerrno>
#include <cstdlib>

#include "../engine/Deadline.h"
#include "../engine/ObjectName.h"
#include "../engine/SimOptions.h"
#include "StatusTable.h"

namespace fltport::fltsim {
namespace {

constexpr uint32_t kInvalidParameter = 0xC000000D;

[[noreturn]] void Bad(const char* key, const std::string& what) {
  throw ControlFailure{kInvalidParameter, std::string(key) + ": " + what};
}

const std::string& Required(const ControlLine& command, const char* key) {
  const std::string* v = command.Find(key);
  if (v == nullptr) Bad(key, "missing");
  return *v;
}

bool ParseU64Text(const std::string& text, uint64_t* out) {
  if (text.empty() || text[0] == '-' || text[0] == '+') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(text.c_str(), &end, 0);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

bool ParseI64Text(const std::string& text, int64_t* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = strtoll(text.c_str(), &end, 0);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

}  // namespace

ControlRegistry& ControlRegistry::Global() {
  static ControlRegistry* registry = new ControlRegistry();
  return *registry;
}

void ControlRegistry::Add(const std::string& verb, const std::string& usage, ControlVerb fn) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& entry : verbs_) {
    if (entry.first == verb) {
      entry.second = {usage, std::move(fn)};
      return;
    }
  }
  verbs_.push_back({verb, {usage, std::move(fn)}});
}

std::string ControlRegistry::Execute(const std::string& line) {
  ControlLine command;
  std::string error;
  if (!ControlLine::Parse(line, &command, &error)) return ControlError(kInvalidParameter, error);
  ControlVerb fn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& entry : verbs_) {
      if (entry.first == command.verb) fn = entry.second.second;
    }
  }
  if (!fn) return ControlError(kInvalidParameter, "unknown verb " + command.verb);
  try {
    return fn(command);
  } catch (const ControlFailure& failure) {
    return ControlError(failure.status, failure.message);
  } catch (const std::exception& e) {
    return ControlError(0xC0000001, std::string("internal error: ") + e.what());
  }
}

std::vector<std::pair<std::string, std::string>> ControlRegistry::List() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : verbs_) out.emplace_back(entry.first, entry.second.first);
  return out;
}

std::string ControlOk(const LineBuilder& fields) { return fields.str(); }

std::string ControlError(uint32_t status, const std::string& message) {
  return LineBuilder("error").AddStatus("status", status).Add("message", message).str();
}

void ArgsAllowed(const ControlLine& command, std::initializer_list<const char*> keys) {
  for (const auto& kv : command.args) {
    bool known = false;
    for (const char* k : keys) known = known || kv.first == k;
    if (!known) Bad(kv.first.c_str(), "unknown argument for " + command.verb);
  }
}

bool ArgPresent(const ControlLine& command, const char* key) { return command.Find(key) != nullptr; }

std::string ArgString(const ControlLine& command, const char* key) { return Required(command, key); }

std::string ArgString(const ControlLine& command, const char* key, const std::string& fallback) {
  const std::string* v = command.Find(key);
  return v ? *v : fallback;
}

uint64_t ArgU64(const ControlLine& command, const char* key) {
  uint64_t v;
  if (!ParseU64Text(Required(command, key), &v)) Bad(key, "not an unsigned integer");
  return v;
}

uint64_t ArgU64(const ControlLine& command, const char* key, uint64_t fallback) {
  return ArgPresent(command, key) ? ArgU64(command, key) : fallback;
}

uint32_t ArgStatus(const ControlLine& command, const char* key) {
  const std::string& text = Required(command, key);
  SimOptions scratch;
  std::string error;
  // Reuse the options parser's status syntax (hex or STATUS_* name).
  if (!SetSimOption(&scratch, "disconnect_status", text, &error)) Bad(key, "not a status");
  return scratch.disconnect_status;
}

bool ArgBool(const ControlLine& command, const char* key, bool fallback) {
  const std::string* v = command.Find(key);
  if (v == nullptr) return fallback;
  if (*v == "1" || *v == "true" || *v == "yes") return true;
  if (*v == "0" || *v == "false" || *v == "no") return false;
  Bad(key, "not a boolean");
}

std::vector<uint8_t> ArgHex(const ControlLine& command, const char* key) {
  std::vector<uint8_t> out;
  if (!ParseHexBytes(Required(command, key), &out)) Bad(key, "not an even-length hex string");
  return out;
}

std::u16string ArgName(const ControlLine& command, const char* key) {
  std::u16string out;
  if (!Utf8ToUtf16(Required(command, key), &out)) Bad(key, "not valid UTF-8");
  return out;
}

int64_t ArgNtTimeout(const ControlLine& command, const char* key, bool* is_null) {
  *is_null = false;
  const std::string& text = Required(command, key);
  if (text == "forever") {
    *is_null = true;
    return 0;
  }
  if (text == "zero") return 0;
  int64_t v;
  if (text.rfind("nt:", 0) == 0) {
    if (!ParseI64Text(text.substr(3), &v)) Bad(key, "nt: needs a signed 100 ns value");
    return v;
  }
  uint64_t ms;
  if (text.rfind("abs:", 0) == 0) {
    if (!ParseU64Text(text.substr(4), &ms) || ms > 1000000000ull) Bad(key, "abs: needs milliseconds");
    return SystemTimeNow() + static_cast<int64_t>(ms) * 10000;
  }
  if (!ParseU64Text(text, &ms) || ms == 0 || ms > 1000000000ull) {
    Bad(key, "expected forever, zero, <ms> (> 0), abs:<ms> or nt:<value>");
  }
  return -static_cast<int64_t>(ms) * 10000;
}

int64_t ArgMailslotTimeout(const ControlLine& command, const char* key, int64_t fallback) {
  const std::string* text = command.Find(key);
  if (text == nullptr) return fallback;
  if (*text == "forever") return -1;
  if (*text == "zero") return 0;
  int64_t v;
  if (text->rfind("nt:", 0) == 0) {
    if (!ParseI64Text(text->substr(3), &v)) Bad(key, "nt: needs a signed 100 ns value");
    return v;
  }
  uint64_t ms;
  if (!ParseU64Text(*text, &ms) || ms > 1000000000ull) Bad(key, "expected forever, zero, <ms> or nt:<value>");
  return ms == 0 ? 0 : -static_cast<int64_t>(ms) * 10000;
}

}  // namespace fltport::fltsim
