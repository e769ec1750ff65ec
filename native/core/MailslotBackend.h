// Mailslots (spec §10): declared once here, defined per OS (native/win over
// CreateMailslotW/ReadFile/WriteFile with the I/O thread's completion port; native/posix
// over fltsim-host's mailslot streams). The sample driver reads notes from a mailslot that
// user mode writes; Mailslot.create in JS makes a server end.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "MessageBatch.h"
#include "Status.h"

namespace fltport::core {

constexpr uint32_t kMailslotWaitForever = 0xFFFFFFFFu;  // MAILSLOT_WAIT_FOREVER
constexpr uint32_t kMailslotNoMessage = 0xFFFFFFFFu;    // MAILSLOT_NO_MESSAGE

struct MailslotOptions {
  std::u16string name;            // Win32 form: \\.\mailslot\[path\]name
  uint32_t max_message_size = 0;  // 0 = any size
  uint32_t read_timeout_ms = kMailslotWaitForever;  // 0 = immediate; kMailslotWaitForever = block
  std::string sim_runtime_dir;    // POSIX only
};

struct MailslotInfo {
  uint32_t max_message_size;
  uint32_t next_size;  // kMailslotNoMessage when empty
  uint32_t count;
  uint32_t read_timeout_ms;
};

class MailslotEvents {
 public:
  virtual ~MailslotEvents() = default;
  // I/O thread: completed reads (MessageBatch::reads()), one call per wake-up.
  virtual void OnBatch(std::unique_ptr<MessageBatch> batch) = 0;
  // I/O thread, exactly once, after the last OnBatch (Close() was called).
  virtual void OnStopped(const Status& status) = 0;
};

// The server (read) end. One I/O thread per server.
class MailslotServer {
 public:
  virtual ~MailslotServer() = default;
  // Any thread but an I/O thread. nullptr + *status on failure (ERROR_ALREADY_EXISTS, bad name...).
  static std::unique_ptr<MailslotServer> Create(const MailslotOptions& options,
                                                MailslotEvents* events, Status* status);
  // Any thread; never blocks. One ReadFile of up to `max_size` bytes; the outcome arrives as a
  // ReadOutcome with `token` (ERROR_SEM_TIMEOUT per the read timeout, ERROR_INSUFFICIENT_BUFFER
  // with required_size and the message kept, ERROR_OPERATION_ABORTED when cancelled by Close).
  virtual void Read(uint64_t token, uint32_t max_size) = 0;
  // Worker or JS thread (does not wait for messages): GetMailslotInfo / SetMailslotInfo.
  virtual Status Info(MailslotInfo* info) = 0;
  virtual Status SetReadTimeout(uint32_t read_timeout_ms) = 0;
  // Any thread; idempotent: cancel pending reads, drain, join, close.
  virtual void Close() = 0;
};

// Worker thread: open the client end of `name`, write one message, close.
// ERROR_FILE_NOT_FOUND when no such mailslot exists.
Status MailslotWrite(const std::u16string& name, const uint8_t* data, uint32_t length,
                     const std::string& sim_runtime_dir);

}  // namespace fltport::core
