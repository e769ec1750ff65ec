// A client of fltsim-host's control stream (FLTSIM_KIND_CONTROL, docs/fltsim.md): one UTF-8
// line per command, "verb key=value ...", answered by one CONTROL_RESULT line with the same
// tag; CONTROL_EVENT lines in between are not answers and are skipped. Values are
// percent-encoded (every byte outside 0x21..0x7E, and '%' and '=', as %XX), so a line
// splits on spaces. An answer is "ok key=value ..." or "error status=0xC0000034 message=...".
//
// Threads: one client is used by one thread at a time (a worker running a filter
// management call); it blocks on the stream with a deadline.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "FltsimStream.h"
#include "Status.h"

namespace fltport::posix {

struct ControlReply {
  bool ok = false;
  uint32_t status = 0;  // the NTSTATUS of an "error" answer
  std::map<std::string, std::string> args;  // decoded values

  // The value of `key`, or nullptr.
  const std::string* Find(const std::string& key) const;
  // `key` as an unsigned number (decimal, or 0x hex); false when missing or malformed.
  bool U32(const std::string& key, uint32_t* out) const;
};

class ControlClient {
 public:
  // Caller's thread: HELLO(CONTROL). nullptr + *status when no host answers.
  static std::unique_ptr<ControlClient> Open(const std::string& runtime_dir, core::Status* status);

  // Caller's thread. Sends `verb` with `args` (encoded here) and waits for the answer.
  // A transport failure or an answer that is not a control line is the returned Status;
  // "ok"/"error" answers are both Ok here and described by *reply.
  core::Status Call(const std::string& verb,
                    const std::vector<std::pair<std::string, std::string>>& args,
                    ControlReply* reply, int timeout_ms = 10000);

  // Any thread (pure).
  static std::string Encode(const std::string& raw);
  static bool Decode(const std::string& encoded, std::string* raw);
  // Parses "ok k=v ..." / "error status=0x... ...". False (and *why) when it is neither.
  static bool ParseReply(const std::string& line, ControlReply* reply, std::string* why);

 private:
  explicit ControlClient(std::unique_ptr<FltsimStream> stream) : stream_(std::move(stream)) {}

  std::unique_ptr<FltsimStream> stream_;
  uint64_t next_tag_ = 1;
};

}  // namespace fltport::posix
