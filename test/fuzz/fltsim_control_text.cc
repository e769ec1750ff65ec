// Fuzz target: fltsim-host's control language, which any local process can send on a control
// stream (the socket is 0777): ControlLine::Parse and percent-decoding, then every argument
// parser a verb uses (ArgU64, ArgStatus, ArgBool, ArgHex, ArgName, ArgNtTimeout,
// ArgMailslotTimeout) on every value, through ControlRegistry::Execute as a verb runs;
// also the object-name helpers a name argument reaches (Utf8ToUtf16, ParseMailslotName).
// Input: one control line.
// Checks: a verb's failure is an "error status=..." answer, never an escaping exception;
// percent and hex encodings round-trip; a parsed line re-encoded parses to the same line.
#include <cstdint>
#include <string>
#include <vector>

#include "../../native/fltsim/engine/ControlText.h"
#include "../../native/fltsim/engine/ObjectName.h"
#include "../../native/fltsim/host/ControlRegistry.h"

namespace {

using namespace fltport::fltsim;

std::string RunArgParsers(const ControlLine& command) {
  LineBuilder out("ok");
  for (const auto& kv : command.args) {
    const std::string& key = kv.first;
    const std::string& value = kv.second;
    const char* k = key.c_str();
    auto attempt = [&](const char* what, auto parse) {
      try {
        parse();
        out.Add(key, what);
      } catch (const ControlFailure& failure) {
        if (failure.status == 0) __builtin_trap();
      }
    };
    attempt("u64", [&] { ArgU64(command, k); });
    attempt("status", [&] { ArgStatus(command, k); });
    attempt("bool", [&] { ArgBool(command, k, false); });
    attempt("hex", [&] { ArgHex(command, k); });
    attempt("name", [&] {
      std::u16string name = ArgName(command, k);
      std::u16string slot;
      ParseMailslotName(name, &slot);
      FoldName(name);
      if (Utf16ToUtf8(name) != value) __builtin_trap();  // valid UTF-8 round-trips
    });
    attempt("timeout", [&] {
      bool is_null = false;
      ArgNtTimeout(command, k, &is_null);
    });
    attempt("ms-timeout", [&] { ArgMailslotTimeout(command, k, -1); });
  }
  return ControlOk(out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);

  std::string decoded;
  if (!PercentDecode(PercentEncode(line), &decoded) || decoded != line) __builtin_trap();
  std::vector<uint8_t> bytes;
  if (!ParseHexBytes(HexBytes(data, size), &bytes) || bytes != std::vector<uint8_t>(data, data + size)) {
    __builtin_trap();
  }

  ControlLine command;
  std::string error;
  if (ControlLine::Parse(line, &command, &error)) {
    LineBuilder again(command.verb);
    for (const auto& [key, value] : command.args) again.Add(key, value);
    ControlLine reparsed;
    if (!ControlLine::Parse(again.str(), &reparsed, &error) || reparsed.verb != command.verb ||
        reparsed.args != command.args) {
      __builtin_trap();
    }
  }

  static ControlRegistry* registry = [] {
    auto* r = new ControlRegistry();
    r->Add("fuzz", "fuzz key=value...", RunArgParsers);
    return r;
  }();
  const std::string answer = registry->Execute("fuzz " + line);
  if (answer.rfind("ok", 0) != 0 && answer.rfind("error status=0x", 0) != 0) __builtin_trap();
  registry->Execute(line);
  return 0;
}
