// The simulator's behaviour switches: every point where spec/port-semantics.md says
// UNCONFIRMED has a named option here, defaulting to the spec's recommendation (docs/fltsim.md
// lists them with their sources). Set from the command line (--option name=value), the
// FLTSIM_OPTIONS environment variable, or the control verb `option`.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace fltport::fltsim {

enum class ZeroTimeout : uint8_t { kPoll, kInfinite };
enum class TimeoutScope : uint8_t { kPhase, kTotal };
enum class OneWayMessageId : uint8_t { kZero, kFresh };
enum class SmallGetBuffer : uint8_t { kXp, kReject };
enum class MailslotSmallRead : uint8_t { kKeep, kTruncate };

struct SimOptions {
  // §3.5, §14.2: status that pending FilterGetMessage requests complete with when their
  // connection dies, and that later user calls on the dead connection fail with.
  uint32_t disconnect_status = 0xC0000037;  // STATUS_PORT_DISCONNECTED
  // §6.2, §14.4: FltSendMessage with *Timeout == 0: kernel-wait semantics ("poll") or the DDI
  // text ("infinite").
  ZeroTimeout zero_timeout = ZeroTimeout::kPoll;
  // §6.2: a relative timeout restarts for the reply wait (XP RE, "phase") or bounds delivery
  // and reply together (DDI text, "total"). In both, buffer-too-small retries stay inside the
  // delivery deadline.
  TimeoutScope relative_timeout_scope = TimeoutScope::kPhase;
  // §3.2, §14.3: one-way messages carry MessageId 0 (XP RE) or take a fresh id.
  OneWayMessageId one_way_message_id = OneWayMessageId::kZero;
  // §14.3: the first MessageId a connection hands out.
  uint64_t first_message_id = 1;
  // §5.2, §14.1: FilterSendMessage on a port created without MessageNotify.
  uint32_t no_message_notify_status = 0xC00000BB;  // STATUS_NOT_SUPPORTED
  // §4.3, §14.9: FilterReplyMessage on a disconnected connection.
  uint32_t reply_after_disconnect_status = 0xC0000037;  // STATUS_PORT_DISCONNECTED
  // §6.4, §14.5: FltSendMessage with *ClientPort == NULL.
  uint32_t null_client_port_status = 0xC0000037;  // STATUS_PORT_DISCONNECTED
  // §7.2, §14.8: after the driver's FltCloseClientPort, does the user's later close still call
  // DisconnectNotify? (Never more than once per connection.)
  bool disconnect_notify_after_close_client_port = false;
  // §3.4: a FilterGetMessage buffer smaller than FILTER_MESSAGE_HEADER: treated like any
  // too-small buffer (XP RE) or rejected at once with STATUS_INVALID_PARAMETER.
  SmallGetBuffer small_get_buffer = SmallGetBuffer::kXp;
  // §2.3: connect to a name without the leading backslash.
  uint32_t missing_backslash_status = 0xC0000034;  // STATUS_OBJECT_NAME_NOT_FOUND
  // §2.2, §14.6: access requested from the port's security descriptor at connect.
  uint32_t connect_access = 0x001F0001;  // FLT_PORT_ALL_ACCESS (XP RE)
  // §10.2, §14.10: a mailslot write larger than MaximumMessageSize.
  uint32_t ms_oversize_write_status = 0xC000000D;  // STATUS_INVALID_PARAMETER
  // §10.3: a mailslot read with a buffer smaller than the next message: fail with
  // STATUS_BUFFER_TOO_SMALL and keep it (Wine) or truncate and drop it (ReactOS msfs).
  MailslotSmallRead ms_small_read = MailslotSmallRead::kKeep;
  // §10.3, §14.10: a write through a client handle whose server has closed.
  uint32_t ms_write_after_close_status = 0xC0000008;  // STATUS_INVALID_HANDLE
  // fltsim safety limit (not a Windows behaviour): pending FilterGetMessage/ReadFile requests
  // per handle; more fail with STATUS_INSUFFICIENT_RESOURCES so a runaway client cannot
  // exhaust the host.
  uint32_t max_pending_requests = 65536;
};

// Name-based access for the command line and the control channel.
struct SimOptionInfo {
  const char* name;
  const char* values;  // "status", "poll|infinite", ...
  const char* help;
};
const std::vector<SimOptionInfo>& SimOptionCatalog();

// Parses "value" for option `name` into *options. Statuses accept hex (0xC0000037) or a
// symbolic name from core::NtStatusTable (STATUS_PORT_DISCONNECTED). Returns false with *error.
bool SetSimOption(SimOptions* options, const std::string& name, const std::string& value,
                  std::string* error);
// Canonical text of the current value (statuses as 0x%08X); false for an unknown name.
bool GetSimOption(const SimOptions& options, const std::string& name, std::string* value);
// "name=value,name=value" (FLTSIM_OPTIONS and repeated --option).
bool SetSimOptionList(SimOptions* options, const std::string& list, std::string* error);

// Thread-safe holder: the engine takes a snapshot at the start of each operation, the control
// channel changes it between operations.
class SharedSimOptions {
 public:
  explicit SharedSimOptions(const SimOptions& initial) : options_(initial) {}
  SimOptions Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return options_;
  }
  void Set(const SimOptions& options) {
    std::lock_guard<std::mutex> lock(mu_);
    options_ = options;
  }
  bool SetByName(const std::string& name, const std::string& value, std::string* error) {
    std::lock_guard<std::mutex> lock(mu_);
    return SetSimOption(&options_, name, value, error);
  }

 private:
  mutable std::mutex mu_;
  SimOptions options_;
};

}  // namespace fltport::fltsim
