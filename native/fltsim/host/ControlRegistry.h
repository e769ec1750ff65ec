// The verbs of the control channel (docs/fltsim.md). The host registers its own (ports,
// connections, options, mailslots, unload); a driver linked into the host may register more
// from FltsimDriverEntry (the built-in test driver does: port.create, send, ...). A verb
// runs on a worker thread and returns its result line; it reports failure by throwing
// ControlFailure, which becomes "error status=0x... message=...".
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "../engine/ControlText.h"

namespace fltport::fltsim {

struct ControlFailure {
  uint32_t status;  // an NTSTATUS: what failed, or STATUS_INVALID_PARAMETER for bad arguments
  std::string message;
};

using ControlVerb = std::function<std::string(const ControlLine& command)>;

class ControlRegistry {
 public:
  static ControlRegistry& Global();

  // Main thread (host start, FltsimDriverEntry). A later Add of the same verb replaces it.
  void Add(const std::string& verb, const std::string& usage, ControlVerb fn);
  // Worker thread. Never throws; the result is one line without a newline.
  std::string Execute(const std::string& line);
  std::vector<std::pair<std::string, std::string>> List();

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, std::pair<std::string, ControlVerb>>> verbs_;
};

// Result lines.
std::string ControlOk(const LineBuilder& fields);
inline std::string ControlOk() { return "ok"; }
std::string ControlError(uint32_t status, const std::string& message);

// Argument access for verbs. Each throws ControlFailure{STATUS_INVALID_PARAMETER} naming the
// key when the value is missing (no fallback given) or malformed.
void ArgsAllowed(const ControlLine& command, std::initializer_list<const char*> keys);
bool ArgPresent(const ControlLine& command, const char* key);
std::string ArgString(const ControlLine& command, const char* key);
std::string ArgString(const ControlLine& command, const char* key, const std::string& fallback);
uint64_t ArgU64(const ControlLine& command, const char* key);
uint64_t ArgU64(const ControlLine& command, const char* key, uint64_t fallback);
uint32_t ArgStatus(const ControlLine& command, const char* key);  // hex or STATUS_* name
bool ArgBool(const ControlLine& command, const char* key, bool fallback);
std::vector<uint8_t> ArgHex(const ControlLine& command, const char* key);
std::u16string ArgName(const ControlLine& command, const char* key);  // UTF-8 -> UTF-16
// A timeout in the control language: "forever" (NULL), "zero" (pointer to 0), "<ms>" (relative
// -ms*10000), "abs:<ms>" (absolute system time now + ms), "nt:<int64>" (raw 100 ns value).
// *is_null is set for "forever".
int64_t ArgNtTimeout(const ControlLine& command, const char* key, bool* is_null);
// A mailslot read timeout: "forever" (-1), "zero" (0), "<ms>", "nt:<int64>".
int64_t ArgMailslotTimeout(const ControlLine& command, const char* key, int64_t fallback);

}  // namespace fltport::fltsim
