// fltsim's built-in test driver: a minifilter's communication code whose behaviour the
// control channel configures, so that tests can drive every row of spec/port-semantics.md
// from the outside. It uses only the kernel API of fltKernel.h (plus <fltsim/extensions.h>),
// exactly as a real driver would; std::thread stands in for system worker threads. The
// sample minifilter replaces it in the sample host (samples/minifilter/filter/*.c linked
// instead of this file).
//
// Verbs (docs/fltsim.md has the full language):
//   port.create name=<\Name> [max=N] [notify=echo|none|status:<st>|bytes:<n>|block:<ms>]
//               [connect=accept|reject:<st>|block:<ms>] [sd=default|null|none] [uids=a,b]
//               [gids=a,b] [access=<mask>] [kernel_handle=0|1] [callbacks=both|no-connect|
//               no-disconnect] [close_on_disconnect=0|1] [cookie=<n>]
//   port.close name=<\Name>
//   send conn=<id>|newest (size=N [fill=<byte>] | hex=<bytes>) [seq=0|1] [reply=<cap>|none]
//        [timeout=forever|zero|<ms>|abs:<ms>|nt:<v>] [count=N] [concurrency=K] [via=var|null|copy]
//        [summary=0|1]
//   conn.close conn=<id>|newest
//   ms.create name=<name> [max=N] [quota=N] [timeout=forever|zero|<ms>|nt:<v>|null] [object=0|1]
//   ms.read ms=<id> size=N [via=zw|flt]      ms.query ms=<id>      ms.set ms=<id> timeout=...
//   ms.close ms=<id> [what=both|handle|object]
//   driver.config unload=accept|refuse:<st>|keep-ports
#include <fltKernel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fltsim/wire.h>

#include "../../host/ControlRegistry.h"
#include "../../engine/ControlText.h"
#include "../../engine/ObjectName.h"

namespace {

using fltport::fltsim::ArgBool;
using fltport::fltsim::ArgHex;
using fltport::fltsim::ArgMailslotTimeout;
using fltport::fltsim::ArgName;
using fltport::fltsim::ArgNtTimeout;
using fltport::fltsim::ArgPresent;
using fltport::fltsim::ArgsAllowed;
using fltport::fltsim::ArgStatus;
using fltport::fltsim::ArgString;
using fltport::fltsim::ArgU64;
using fltport::fltsim::ControlFailure;
using fltport::fltsim::ControlLine;
using fltport::fltsim::ControlOk;
using fltport::fltsim::ControlRegistry;
using fltport::fltsim::LineBuilder;


enum class NotifyMode { kEcho, kStatus, kBytes, kBlock };
enum class ConnectMode { kAccept, kReject, kBlock };
enum class UnloadMode { kAccept, kRefuse, kKeepPorts };

struct TdPort {
  std::string name;
  PFLT_PORT server_port = nullptr;
  NotifyMode notify = NotifyMode::kEcho;
  uint32_t notify_status = 0;
  uint32_t notify_bytes = 0;
  uint32_t block_ms = 0;
  ConnectMode connect = ConnectMode::kAccept;
  uint32_t reject_status = 0;
  uint32_t connect_block_ms = 0;
  bool close_on_disconnect = true;
  bool open = false;
};

struct TdConnection {
  ULONG64 id = 0;
  PFLT_PORT client_port = nullptr;  // the variable FltCloseClientPort clears
  PFLT_PORT original = nullptr;     // a copy, for demonstrating stale-copy use (spec G16)
  TdPort* port = nullptr;
};

struct TdMailslot {
  uint64_t id = 0;
  std::string name;
  HANDLE handle = nullptr;
  PFILE_OBJECT file_object = nullptr;
};

struct TdDriver {
  PFLT_FILTER filter = nullptr;
  std::mutex mu;
  std::vector<std::unique_ptr<TdPort>> ports;
  std::map<ULONG64, std::unique_ptr<TdConnection>> connections;
  std::map<uint64_t, std::unique_ptr<TdMailslot>> mailslots;
  // Senders and mailslot readers ("system worker threads"); finished ones are joined the
  // next time a verb starts one, the rest at unload.
  std::vector<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> threads;
  uint64_t next_send_id = 1;
  uint64_t next_mailslot_id = 1;
  uint64_t next_read_id = 1;
  UnloadMode unload_mode = UnloadMode::kAccept;
  uint32_t refuse_status = 0;
};

TdDriver* g_driver = new TdDriver();  // lives as long as the host process

void Emit(const LineBuilder& line) { FltsimEmitEvent(line.str().c_str()); }

// Starts `body` on a driver thread. mu held. Joins threads that have finished (their join
// does not wait) so that a long-running host does not keep every exited thread around.
template <class Body>
void StartThreadLocked(Body body) {
  auto& threads = g_driver->threads;
  for (auto it = threads.begin(); it != threads.end();) {
    if (it->second->load()) {
      it->first.join();
      it = threads.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  threads.emplace_back(std::thread([body, done]() mutable {
                         body();
                         done->store(true);
                       }),
                       done);
}

uint64_t CurrentPid() { return reinterpret_cast<uintptr_t>(PsGetCurrentProcessId()); }

// ---- Callbacks (run by fltsim on its threads, "in" the process given) ------------------------

NTSTATUS FLTAPI TdConnectNotify(PFLT_PORT ClientPort, PVOID ServerPortCookie, PVOID ConnectionContext,
                                ULONG SizeOfContext, PVOID* ConnectionPortCookie) {
  auto* port = static_cast<TdPort*>(ServerPortCookie);
  // What the driver saw, from inside the callback: the caller's pid and the context copy.
  Emit(LineBuilder("td-connect")
           .Add("conn", FltsimGetConnectionId(ClientPort))
           .Add("port", port->name)
           .Add("pid", CurrentPid())
           .Add("size", static_cast<uint64_t>(SizeOfContext))
           .AddBytes("context", static_cast<const uint8_t*>(ConnectionContext), SizeOfContext));
  if (port->connect == ConnectMode::kReject) return static_cast<NTSTATUS>(port->reject_status);
  if (port->connect == ConnectMode::kBlock) {
    std::this_thread::sleep_for(std::chrono::milliseconds(port->connect_block_ms));
  }
  auto conn = std::make_unique<TdConnection>();
  conn->id = FltsimGetConnectionId(ClientPort);
  conn->client_port = ClientPort;
  conn->original = ClientPort;
  conn->port = port;
  *ConnectionPortCookie = conn.get();
  std::lock_guard<std::mutex> lock(g_driver->mu);
  g_driver->connections[conn->id] = std::move(conn);
  return STATUS_SUCCESS;
}

VOID FLTAPI TdDisconnectNotify(PVOID ConnectionCookie) {
  auto* conn = static_cast<TdConnection*>(ConnectionCookie);
  Emit(LineBuilder("td-disconnect").Add("conn", conn->id).Add("pid", CurrentPid()));
  // The samples' pattern: close our end with the shared variable (FltMgr clears it).
  if (conn->port->close_on_disconnect) FltCloseClientPort(g_driver->filter, &conn->client_port);
}

NTSTATUS FLTAPI TdMessageNotify(PVOID PortCookie, PVOID InputBuffer, ULONG InputBufferLength,
                                PVOID OutputBuffer, ULONG OutputBufferLength,
                                PULONG ReturnOutputBufferLength) {
  auto* conn = static_cast<TdConnection*>(PortCookie);
  TdPort* port = conn->port;
  *ReturnOutputBufferLength = 0;
  switch (port->notify) {
    case NotifyMode::kStatus:
      return static_cast<NTSTATUS>(port->notify_status);
    case NotifyMode::kBytes: {
      // Writes what fits but reports notify_bytes: a driver that over-reports is what the
      // host's clamp (and its log line) is for.
      ULONG n = std::min<ULONG>(port->notify_bytes, OutputBufferLength);
      for (ULONG i = 0; i < n; ++i) static_cast<UCHAR*>(OutputBuffer)[i] = static_cast<UCHAR>(i);
      *ReturnOutputBufferLength = port->notify_bytes;
      return STATUS_SUCCESS;
    }
    case NotifyMode::kBlock:
      std::this_thread::sleep_for(std::chrono::milliseconds(port->block_ms));
      [[fallthrough]];
    case NotifyMode::kEcho: {
      ULONG n = std::min(InputBufferLength, OutputBufferLength);
      if (n > 0) memcpy(OutputBuffer, InputBuffer, n);
      *ReturnOutputBufferLength = n;
      return STATUS_SUCCESS;
    }
  }
  return STATUS_SUCCESS;
}

NTSTATUS FLTAPI TdUnload(FLT_FILTER_UNLOAD_FLAGS Flags) {
  std::vector<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> threads;
  std::vector<PFLT_PORT> to_close;
  std::vector<std::unique_ptr<TdMailslot>> mailslots;
  {
    std::lock_guard<std::mutex> lock(g_driver->mu);
    if (g_driver->unload_mode == UnloadMode::kRefuse && !(Flags & FLTFL_FILTER_UNLOAD_MANDATORY)) {
      return static_cast<NTSTATUS>(g_driver->refuse_status);
    }
    if (g_driver->unload_mode != UnloadMode::kKeepPorts) {
      for (auto& port : g_driver->ports) {
        if (port->open) {
          to_close.push_back(port->server_port);
          port->open = false;
        }
      }
    }
    for (auto& [id, slot] : g_driver->mailslots) mailslots.push_back(std::move(slot));
    g_driver->mailslots.clear();
  }
  // The documented order: server ports first, then FltUnregisterFilter (which disconnects
  // every client and releases every blocked sender), then wait for our own threads.
  for (PFLT_PORT p : to_close) FltCloseCommunicationPort(p);
  for (auto& slot : mailslots) {
    if (slot->handle) ZwClose(slot->handle);
    if (slot->file_object) ObDereferenceObject(slot->file_object);
  }
  FltUnregisterFilter(g_driver->filter);
  {
    std::lock_guard<std::mutex> lock(g_driver->mu);
    threads = std::move(g_driver->threads);
    g_driver->threads.clear();
  }
  for (auto& t : threads) t.first.join();
  return STATUS_SUCCESS;
}

// ---- Verb helpers ----------------------------------------------------------------------------

std::vector<uint32_t> ParseIdList(const std::string& text, const char* key) {
  std::vector<uint32_t> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    unsigned long v = strtoul(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v > 0xFFFFFFFFul) {
      throw ControlFailure{static_cast<uint32_t>(STATUS_INVALID_PARAMETER),
                           std::string(key) + ": expected a comma-separated list of ids"};
    }
    out.push_back(static_cast<uint32_t>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// "<word>:<value>" arguments (notify=status:0xC000000D).
bool SplitMode(const std::string& text, const char* word, std::string* value) {
  std::string prefix = std::string(word) + ":";
  if (text.rfind(prefix, 0) != 0) return false;
  *value = text.substr(prefix.size());
  return true;
}

uint32_t ParseStatusText(const std::string& text, const char* key) {
  ControlLine fake;
  fake.args.emplace_back(key, text);
  return ArgStatus(fake, key);
}

uint32_t ParseU32Text(const std::string& text, const char* key) {
  ControlLine fake;
  fake.args.emplace_back(key, text);
  uint64_t v = ArgU64(fake, key);
  if (v > 0xFFFFFFFFull) throw ControlFailure{static_cast<uint32_t>(STATUS_INVALID_PARAMETER), std::string(key) + ": too large"};
  return static_cast<uint32_t>(v);
}

[[noreturn]] void Fail(NTSTATUS status, const std::string& message) {
  throw ControlFailure{static_cast<uint32_t>(status), message};
}

// The connection record named by conn=<id>|newest. mu held.
TdConnection* FindConnectionLocked(const ControlLine& command) {
  std::string which = ArgString(command, "conn");
  if (which == "newest") {
    TdConnection* newest = nullptr;
    for (auto& [id, conn] : g_driver->connections) {
      if (conn->client_port != nullptr && (!newest || id > newest->id)) newest = conn.get();
    }
    if (!newest) Fail(STATUS_PORT_DISCONNECTED, "the driver has no open client port");
    return newest;
  }
  ULONG64 id = ArgU64(command, "conn");
  auto it = g_driver->connections.find(id);
  if (it == g_driver->connections.end()) Fail(STATUS_INVALID_PARAMETER, "conn: the driver never accepted that connection");
  return it->second.get();
}

TdMailslot* FindMailslotLocked(const ControlLine& command) {
  auto it = g_driver->mailslots.find(ArgU64(command, "ms"));
  if (it == g_driver->mailslots.end()) Fail(STATUS_INVALID_HANDLE, "ms: no such driver mailslot");
  return it->second.get();
}

// ---- Verbs -----------------------------------------------------------------------------------

std::string VerbPortCreate(const ControlLine& command) {
  ArgsAllowed(command, {"name", "max", "notify", "connect", "sd", "uids", "gids", "access",
                        "kernel_handle", "callbacks", "close_on_disconnect", "cookie"});
  auto port = std::make_unique<TdPort>();
  port->name = ArgString(command, "name");
  const LONG max = static_cast<LONG>(static_cast<int64_t>(ArgU64(command, "max", 1)));
  std::string notify = ArgString(command, "notify", "echo");
  std::string value;
  bool has_notify = true;
  if (notify == "echo") {
    port->notify = NotifyMode::kEcho;
  } else if (notify == "none") {
    has_notify = false;
  } else if (SplitMode(notify, "status", &value)) {
    port->notify = NotifyMode::kStatus;
    port->notify_status = ParseStatusText(value, "notify");
  } else if (SplitMode(notify, "bytes", &value)) {
    port->notify = NotifyMode::kBytes;
    port->notify_bytes = ParseU32Text(value, "notify");
  } else if (SplitMode(notify, "block", &value)) {
    port->notify = NotifyMode::kBlock;
    port->block_ms = ParseU32Text(value, "notify");
  } else {
    Fail(STATUS_INVALID_PARAMETER, "notify: echo, none, status:<st>, bytes:<n> or block:<ms>");
  }
  std::string connect = ArgString(command, "connect", "accept");
  if (connect == "accept") {
    port->connect = ConnectMode::kAccept;
  } else if (SplitMode(connect, "reject", &value)) {
    port->connect = ConnectMode::kReject;
    port->reject_status = ParseStatusText(value, "connect");
  } else if (SplitMode(connect, "block", &value)) {
    port->connect = ConnectMode::kBlock;
    port->connect_block_ms = ParseU32Text(value, "connect");
  } else {
    Fail(STATUS_INVALID_PARAMETER, "connect: accept, reject:<st> or block:<ms>");
  }
  port->close_on_disconnect = ArgBool(command, "close_on_disconnect", true);
  std::string callbacks = ArgString(command, "callbacks", "both");
  if (callbacks != "both" && callbacks != "no-connect" && callbacks != "no-disconnect") {
    Fail(STATUS_INVALID_PARAMETER, "callbacks: both, no-connect or no-disconnect");
  }

  // The WDK pattern: default descriptor, create the port, free the descriptor.
  PSECURITY_DESCRIPTOR sd = nullptr;
  std::string sd_mode = ArgString(command, "sd", "default");
  if (sd_mode != "none") {
    ACCESS_MASK access = static_cast<ACCESS_MASK>(ArgU64(command, "access", FLT_PORT_ALL_ACCESS));
    NTSTATUS status = FltBuildDefaultSecurityDescriptor(&sd, access);
    if (!NT_SUCCESS(status)) Fail(status, "FltBuildDefaultSecurityDescriptor failed");
    if (sd_mode == "null") {
      RtlSetDaclSecurityDescriptor(sd, TRUE, nullptr, FALSE);
    } else if (sd_mode != "default") {
      FltFreeSecurityDescriptor(sd);
      Fail(STATUS_INVALID_PARAMETER, "sd: default, null or none");
    }
    if (ArgPresent(command, "uids")) {
      for (uint32_t uid : ParseIdList(ArgString(command, "uids"), "uids")) FltsimSecurityDescriptorAllowUid(sd, uid);
    }
    if (ArgPresent(command, "gids")) {
      for (uint32_t gid : ParseIdList(ArgString(command, "gids"), "gids")) FltsimSecurityDescriptorAllowGid(sd, gid);
    }
  }
  std::u16string name16 = ArgName(command, "name");
  std::u16string terminated = name16 + u'\0';
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, reinterpret_cast<PCWSTR>(terminated.c_str()));
  OBJECT_ATTRIBUTES oa;
  ULONG attributes = OBJ_CASE_INSENSITIVE | (ArgBool(command, "kernel_handle", true) ? OBJ_KERNEL_HANDLE : 0);
  InitializeObjectAttributes(&oa, &name, attributes, nullptr, sd);
  TdPort* raw = port.get();
  {
    std::lock_guard<std::mutex> lock(g_driver->mu);
    g_driver->ports.push_back(std::move(port));  // the cookie must outlive the port
  }
  NTSTATUS status = FltCreateCommunicationPort(
      g_driver->filter, &raw->server_port, &oa, raw,
      callbacks == "no-connect" ? nullptr : TdConnectNotify,
      callbacks == "no-disconnect" ? nullptr : TdDisconnectNotify,
      has_notify ? TdMessageNotify : nullptr, max);
  if (sd != nullptr) FltFreeSecurityDescriptor(sd);
  if (!NT_SUCCESS(status)) Fail(status, "FltCreateCommunicationPort failed");
  {
    std::lock_guard<std::mutex> lock(g_driver->mu);
    raw->open = true;
  }
  return ControlOk(LineBuilder("ok").Add("port", raw->name));
}

std::string VerbPortClose(const ControlLine& command) {
  ArgsAllowed(command, {"name"});
  std::string name = ArgString(command, "name");
  PFLT_PORT server = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_driver->mu);
    for (auto& port : g_driver->ports) {
      if (port->open && port->name == name) {
        server = port->server_port;
        port->open = false;
        break;
      }
    }
  }
  if (server == nullptr) Fail(STATUS_OBJECT_NAME_NOT_FOUND, "name: the driver has no open port of that name");
  FltCloseCommunicationPort(server);
  return ControlOk(LineBuilder("ok").Add("port", name));
}

std::string VerbConnClose(const ControlLine& command) {
  ArgsAllowed(command, {"conn"});
  TdConnection* conn;
  {
    std::lock_guard<std::mutex> lock(g_driver->mu);
    conn = FindConnectionLocked(command);
  }
  FltCloseClientPort(g_driver->filter, &conn->client_port);
  return ControlOk(LineBuilder("ok").Add("conn", conn->id));
}

// The outcome of a `send ... summary=1`: per-message latency (FltSendMessage call to return,
// reply wait included) in nanoseconds, percentiles computed once when the last sender ends;
// `failed` counts every status but STATUS_SUCCESS, `timeouts` the STATUS_TIMEOUTs among them.
class SendSummary {
 public:
  SendSummary(uint64_t count, uint64_t senders)
      : latency_ns_(count), senders_left_(senders), started_(std::chrono::steady_clock::now()) {}

  // Each index is written by exactly one sender thread.
  void Record(uint64_t index, NTSTATUS status, std::chrono::steady_clock::duration took) {
    latency_ns_[index] = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
    if (status != STATUS_SUCCESS) failed_.fetch_add(1, std::memory_order_relaxed);
    if (status == STATUS_TIMEOUT) timeouts_.fetch_add(1, std::memory_order_relaxed);
  }

  bool SenderDone() { return senders_left_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

  LineBuilder Event(uint64_t first, uint64_t conn) {
    const auto elapsed = std::chrono::steady_clock::now() - started_;
    std::sort(latency_ns_.begin(), latency_ns_.end());
    auto pct = [this](double p) {
      size_t at = static_cast<size_t>(p * static_cast<double>(latency_ns_.size() - 1) + 0.5);
      return latency_ns_[std::min(at, latency_ns_.size() - 1)];
    };
    uint64_t total = 0;
    for (uint64_t v : latency_ns_) total += v;
    LineBuilder event("send-summary");
    event.Add("first", first).Add("conn", conn).Add("count", static_cast<uint64_t>(latency_ns_.size()))
        .Add("failed", failed_.load())
        .Add("timeouts", timeouts_.load())
        .Add("elapsed_ns", static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()))
        .Add("mean_ns", total / latency_ns_.size()).Add("p50_ns", pct(0.50)).Add("p99_ns", pct(0.99))
        .Add("p999_ns", pct(0.999)).Add("max_ns", latency_ns_.back());
    return event;
  }

 private:
  std::vector<uint64_t> latency_ns_;
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> timeouts_{0};
  std::atomic<uint64_t> senders_left_;
  std::chrono::steady_clock::time_point started_;
};

// send: at most this many driver threads; with summary=1 at most this many messages (one
// latency slot, 8 bytes, each); reply capacities up to one frame.
constexpr uint64_t kMaxSenders = 256;
constexpr uint64_t kMaxSummaryCount = 64ull * 1024 * 1024;
constexpr ULONG kMaxReplyCapacity = FLTSIM_MAX_FRAME;

std::string VerbSend(const ControlLine& command) {
  ArgsAllowed(command, {"conn", "size", "fill", "hex", "seq", "reply", "timeout", "count",
                        "concurrency", "via", "summary"});
  std::vector<uint8_t> payload;
  if (ArgPresent(command, "hex")) {
    payload = ArgHex(command, "hex");
  } else {
    uint64_t size = ArgU64(command, "size", 0);
    if (size > 64ull * 1024 * 1024) Fail(STATUS_INVALID_PARAMETER, "size: too large");
    payload.assign(size, static_cast<uint8_t>(ArgU64(command, "fill", 0)));
  }
  const bool seq = ArgBool(command, "seq", false);
  std::string reply = ArgString(command, "reply", "none");
  const bool wants_reply = reply != "none";
  const ULONG reply_cap = wants_reply ? ParseU32Text(reply, "reply") : 0;
  // No reply larger than a frame can come back: a capacity up to 4 GiB would only be memory
  // nobody can use, allocated per send.
  if (reply_cap > kMaxReplyCapacity) {
    Fail(STATUS_INVALID_PARAMETER, "reply: at most " + std::to_string(kMaxReplyCapacity) + " bytes (fltsim's frame size)");
  }
  bool timeout_null = true;
  LARGE_INTEGER timeout;
  timeout.QuadPart = ArgPresent(command, "timeout") ? ArgNtTimeout(command, "timeout", &timeout_null) : 0;
  const uint64_t count = ArgU64(command, "count", 1);
  if (count == 0) Fail(STATUS_INVALID_PARAMETER, "count: at least 1");
  const uint64_t concurrency = ArgU64(command, "concurrency", 1);
  if (concurrency == 0 || concurrency > kMaxSenders) {
    Fail(STATUS_INVALID_PARAMETER, "concurrency: 1 to " + std::to_string(kMaxSenders) + " sender threads");
  }
  std::string via = ArgString(command, "via", "var");
  if (via != "var" && via != "null" && via != "copy") Fail(STATUS_INVALID_PARAMETER, "via: var, null or copy");

  // summary=1 (benchmarks): no event per send, one send-summary event when the last ends.
  const bool summary = ArgBool(command, "summary", false);
  if (summary && count > kMaxSummaryCount) {
    Fail(STATUS_INVALID_PARAMETER, "count: at most " + std::to_string(kMaxSummaryCount) + " with summary=1");
  }
  auto stats = summary ? std::make_shared<SendSummary>(count, std::min(count, concurrency)) : nullptr;

  std::lock_guard<std::mutex> lock(g_driver->mu);
  TdConnection* conn = FindConnectionLocked(command);
  const uint64_t first = g_driver->next_send_id;
  g_driver->next_send_id += count;
  for (uint64_t k = 0; k < std::min(count, concurrency); ++k) {
    StartThreadLocked([=]() mutable {
      PFLT_PORT null_port = nullptr;
      PFLT_PORT copy = conn->original;
      for (uint64_t i = k; i < count; i += concurrency) {
        const auto started = std::chrono::steady_clock::now();
        std::vector<uint8_t> message = payload;
        if (seq) {
          for (size_t b = 0; b < 4 && b < message.size(); ++b) message[b] = static_cast<uint8_t>(i >> (8 * b));
        }
        // Zeroed (the event reports min(*ReplyLength, cap) bytes, and *ReplyLength changes
        // only when a reply came), yet calloc'd: a large buffer is pages nobody touched
        // until a reply writes them. + 1: a buffer even for capacity 0.
        std::unique_ptr<uint8_t, decltype(&free)> reply_buffer(
            static_cast<uint8_t*>(wants_reply ? calloc(reply_cap + size_t{1}, 1) : nullptr), &free);
        ULONG reply_length = reply_cap;
        PFLT_PORT* variable = via == "var" ? &conn->client_port : via == "null" ? &null_port : &copy;
        NTSTATUS status = wants_reply && !reply_buffer
                              ? STATUS_INSUFFICIENT_RESOURCES
                              : FltSendMessage(g_driver->filter, variable, message.data(),
                                               static_cast<ULONG>(message.size()), reply_buffer.get(),
                                               wants_reply ? &reply_length : nullptr,
                                               timeout_null ? nullptr : &timeout);
        if (stats) {
          stats->Record(i, status, std::chrono::steady_clock::now() - started);
          continue;
        }
        LineBuilder event("send");
        event.Add("id", first + i).Add("conn", conn->id).AddStatus("status", static_cast<uint32_t>(status));
        if (wants_reply && reply_buffer) {
          event.Add("replied", static_cast<uint64_t>(reply_length));
          event.AddBytes("reply", reply_buffer.get(), std::min<ULONG>(reply_length, reply_cap));
        }
        Emit(event);
      }
      if (stats && stats->SenderDone()) Emit(stats->Event(first, conn->id));
    });
  }
  return ControlOk(LineBuilder("ok").Add("first", first).Add("count", count));
}

std::string VerbMailslotCreate(const ControlLine& command) {
  ArgsAllowed(command, {"name", "max", "quota", "timeout", "object"});
  std::u16string name16 = ArgName(command, "name") + u'\0';
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, reinterpret_cast<PCWSTR>(name16.c_str()));
  OBJECT_ATTRIBUTES oa;
  InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, nullptr, nullptr);
  const bool null_timeout = ArgString(command, "timeout", "") == "null";
  LARGE_INTEGER timeout;
  timeout.QuadPart = null_timeout ? 0 : ArgMailslotTimeout(command, "timeout", -1);
  auto slot = std::make_unique<TdMailslot>();
  slot->name = ArgString(command, "name");
  IO_STATUS_BLOCK iosb;
  const bool want_object = ArgBool(command, "object", true);
  NTSTATUS status = FltCreateMailslotFile(
      g_driver->filter, nullptr, &slot->handle, want_object ? &slot->file_object : nullptr,
      GENERIC_READ | SYNCHRONIZE, &oa, &iosb, FILE_SYNCHRONOUS_IO_NONALERT,
      static_cast<ULONG>(ArgU64(command, "quota", 0)), static_cast<ULONG>(ArgU64(command, "max", 0)),
      null_timeout ? nullptr : &timeout, nullptr);
  if (!NT_SUCCESS(status)) Fail(status, "FltCreateMailslotFile failed");
  std::lock_guard<std::mutex> lock(g_driver->mu);
  slot->id = g_driver->next_mailslot_id++;
  uint64_t id = slot->id;
  g_driver->mailslots[id] = std::move(slot);
  return ControlOk(LineBuilder("ok").Add("ms", id).Add("information", static_cast<uint64_t>(iosb.Information)));
}

std::string VerbMailslotRead(const ControlLine& command) {
  ArgsAllowed(command, {"ms", "size", "via"});
  const ULONG size = ParseU32Text(ArgString(command, "size"), "size");
  std::string via = ArgString(command, "via", "zw");
  if (via != "zw" && via != "flt") Fail(STATUS_INVALID_PARAMETER, "via: zw or flt");
  std::lock_guard<std::mutex> lock(g_driver->mu);
  TdMailslot* slot = FindMailslotLocked(command);
  const uint64_t read_id = g_driver->next_read_id++;
  const uint64_t ms_id = slot->id;
  HANDLE handle = slot->handle;
  PFILE_OBJECT file_object = slot->file_object;
  StartThreadLocked([=]() {
    std::vector<uint8_t> buffer(size + 1);
    NTSTATUS status;
    ULONG bytes = 0;
    if (via == "zw") {
      IO_STATUS_BLOCK iosb{};
      status = ZwReadFile(handle, nullptr, nullptr, nullptr, &iosb, buffer.data(), size, nullptr, nullptr);
      bytes = static_cast<ULONG>(iosb.Information);
    } else {
      status = FltReadFile(nullptr, file_object, nullptr, size, buffer.data(), 0, &bytes, nullptr, nullptr);
    }
    Emit(LineBuilder("ms.read")
             .Add("read", read_id)
             .Add("ms", ms_id)
             .AddStatus("status", static_cast<uint32_t>(status))
             .Add("bytes", static_cast<uint64_t>(bytes))
             .AddBytes("data", buffer.data(), NT_SUCCESS(status) ? std::min(bytes, size) : 0));
  });
  return ControlOk(LineBuilder("ok").Add("read", read_id));
}

std::string VerbMailslotQuery(const ControlLine& command) {
  ArgsAllowed(command, {"ms"});
  HANDLE handle;
  {
    std::lock_guard<std::mutex> lock(g_driver->mu);
    handle = FindMailslotLocked(command)->handle;
  }
  FILE_MAILSLOT_QUERY_INFORMATION info;
  IO_STATUS_BLOCK iosb;
  NTSTATUS status = ZwQueryInformationFile(handle, &iosb, &info, sizeof info, FileMailslotQueryInformation);
  if (!NT_SUCCESS(status)) Fail(status, "ZwQueryInformationFile failed");
  return ControlOk(LineBuilder("ok")
                       .Add("max", static_cast<uint64_t>(info.MaximumMessageSize))
                       .Add("quota", static_cast<uint64_t>(info.MailslotQuota))
                       .Add("next", static_cast<uint64_t>(info.NextMessageSize))
                       .Add("count", static_cast<uint64_t>(info.MessagesAvailable))
                       .Add("timeout", std::to_string(info.ReadTimeout.QuadPart)));
}

std::string VerbMailslotSet(const ControlLine& command) {
  ArgsAllowed(command, {"ms", "timeout"});
  HANDLE handle;
  {
    std::lock_guard<std::mutex> lock(g_driver->mu);
    handle = FindMailslotLocked(command)->handle;
  }
  LARGE_INTEGER timeout;
  timeout.QuadPart = ArgMailslotTimeout(command, "timeout", -1);
  FILE_MAILSLOT_SET_INFORMATION set;
  set.ReadTimeout = &timeout;
  IO_STATUS_BLOCK iosb;
  NTSTATUS status = ZwSetInformationFile(handle, &iosb, &set, sizeof set, FileMailslotSetInformation);
  if (!NT_SUCCESS(status)) Fail(status, "ZwSetInformationFile failed");
  return ControlOk(LineBuilder("ok").Add("timeout", std::to_string(timeout.QuadPart)));
}

std::string VerbMailslotClose(const ControlLine& command) {
  ArgsAllowed(command, {"ms", "what"});
  std::string what = ArgString(command, "what", "both");
  if (what != "both" && what != "handle" && what != "object") Fail(STATUS_INVALID_PARAMETER, "what: both, handle or object");
  HANDLE handle = nullptr;
  PFILE_OBJECT object = nullptr;
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(g_driver->mu);
    TdMailslot* slot = FindMailslotLocked(command);
    id = slot->id;
    if (what != "object") std::swap(handle, slot->handle);
    if (what != "handle") std::swap(object, slot->file_object);
    if (slot->handle == nullptr && slot->file_object == nullptr) g_driver->mailslots.erase(id);
  }
  if (handle) ZwClose(handle);
  if (object) ObDereferenceObject(object);
  return ControlOk(LineBuilder("ok").Add("ms", id));
}

std::string VerbDriverConfig(const ControlLine& command) {
  ArgsAllowed(command, {"unload"});
  std::string unload = ArgString(command, "unload");
  std::string value;
  std::lock_guard<std::mutex> lock(g_driver->mu);
  if (unload == "accept") {
    g_driver->unload_mode = UnloadMode::kAccept;
  } else if (unload == "keep-ports") {
    g_driver->unload_mode = UnloadMode::kKeepPorts;
  } else if (SplitMode(unload, "refuse", &value)) {
    g_driver->unload_mode = UnloadMode::kRefuse;
    g_driver->refuse_status = ParseStatusText(value, "unload");
  } else {
    Fail(STATUS_INVALID_PARAMETER, "unload: accept, keep-ports or refuse:<st>");
  }
  return ControlOk(LineBuilder("ok").Add("unload", unload));
}

}  // namespace

extern "C" NTSTATUS FltsimDriverEntry(PFLT_FILTER Filter) {
  g_driver->filter = Filter;
  FltsimSetFilterUnloadCallback(Filter, TdUnload);
  ControlRegistry& r = ControlRegistry::Global();
  r.Add("port.create", "port.create name=<\\Name> [max=N] [notify=...] [connect=...] [sd=...]", VerbPortCreate);
  r.Add("port.close", "port.close name=<\\Name>", VerbPortClose);
  r.Add("send", "send conn=<id>|newest (size=N [fill=B] | hex=H) [reply=<cap>|none] [timeout=...]", VerbSend);
  r.Add("conn.close", "conn.close conn=<id>|newest", VerbConnClose);
  r.Add("ms.create", "ms.create name=<name> [max=N] [quota=N] [timeout=...]", VerbMailslotCreate);
  r.Add("ms.read", "ms.read ms=<id> size=N [via=zw|flt]", VerbMailslotRead);
  r.Add("ms.query", "ms.query ms=<id>", VerbMailslotQuery);
  r.Add("ms.set", "ms.set ms=<id> timeout=...", VerbMailslotSet);
  r.Add("ms.close", "ms.close ms=<id> [what=both|handle|object]", VerbMailslotClose);
  r.Add("driver.config", "driver.config unload=accept|refuse:<st>|keep-ports", VerbDriverConfig);
  return STATUS_SUCCESS;
}
