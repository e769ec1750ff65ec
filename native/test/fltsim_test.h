// Fixtures for fltsim's unit tests (native/test/fltsim_*.cc), on top of TestHarness.h:
//   - Sim: a fresh SimKernel with one filter and a small driver written against fltKernel.h
//     (the same kernel API a real driver uses), whose callbacks each test configures;
//   - RecordingSink / RecordingMailslotSink: the user side, recording completions;
//   - RecordingEvents: the engine's events as lines.
// Tests call the engine directly: deterministic, no sockets, no host process.
#pragma once

#include <fltKernel.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../fltsim/engine/EventSink.h"
#include "../fltsim/engine/MailslotEngine.h"
#include "../fltsim/engine/PortEngine.h"
#include "../fltsim/engine/SimKernel.h"
#include "TestHarness.h"

namespace fltport::fltsim::testing {

using Clock = std::chrono::steady_clock;

// An NTSTATUS as the unsigned number the engine returns and the tables compare.
constexpr uint32_t S(NTSTATUS s) { return static_cast<uint32_t>(s); }

inline int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

inline std::u16string U16(const char* ascii) {
  std::u16string out;
  while (*ascii) out.push_back(static_cast<char16_t>(*ascii++));
  return out;
}

struct Completed {
  uint32_t status = 0;
  uint32_t information = 0;
  std::vector<uint8_t> bytes;
  uint32_t ReplyLength() const { return bytes.size() >= 16 ? Le32(0) : 0; }
  uint64_t MessageId() const {
    return bytes.size() >= 16 ? (static_cast<uint64_t>(Le32(8)) | (static_cast<uint64_t>(Le32(12)) << 32)) : 0;
  }
  std::vector<uint8_t> Payload() const {
    return bytes.size() >= 16 ? std::vector<uint8_t>(bytes.begin() + 16, bytes.end()) : std::vector<uint8_t>();
  }
  uint32_t Le32(size_t at) const {
    return static_cast<uint32_t>(bytes[at]) | (static_cast<uint32_t>(bytes[at + 1]) << 8) |
           (static_cast<uint32_t>(bytes[at + 2]) << 16) | (static_cast<uint32_t>(bytes[at + 3]) << 24);
  }
};

// Completions by tag, waitable. Any thread.
class Recorder {
 public:
  void Record(uint64_t tag, uint32_t status, uint32_t information, std::vector<uint8_t> bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    done_[tag].push_back(Completed{status, information, std::move(bytes)});
    cv_.notify_all();
  }
  // The completion of `tag` (waiting up to `ms`); a missing one fails the case.
  Completed Wait(uint64_t tag, int ms = 5000) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return !done_[tag].empty(); })) {
      fltport::test::ExpectTrue(false, "a completion for tag " + std::to_string(tag));
      return Completed{0xFFFFFFFF, 0, {}};
    }
    return done_[tag].front();
  }
  size_t Count(uint64_t tag) {
    std::lock_guard<std::mutex> lock(mu_);
    return done_[tag].size();
  }
  size_t Total() {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (auto& [tag, list] : done_) n += list.size();
    return n;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, std::vector<Completed>> done_;
};

class RecordingSink : public PortSink, public Recorder {
 public:
  void OnGetComplete(uint64_t tag, uint32_t status, uint32_t information,
                     std::vector<uint8_t> bytes) override {
    Record(tag, status, information, std::move(bytes));
  }
};

class RecordingMailslotSink : public MailslotSink, public Recorder {
 public:
  void OnReadComplete(uint64_t tag, uint32_t status, uint32_t information,
                      std::vector<uint8_t> bytes) override {
    Record(tag, status, information, std::move(bytes));
  }
};

class RecordingEvents : public EventSink {
 public:
  bool Wants(EventCategory) const override { return true; }
  void Emit(EventCategory, const std::string& line) override {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(line);
  }
  // Lines starting with `prefix` (e.g. "disconnect conn=3").
  size_t Count(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& l : lines_) n += l.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

struct Sim;

// What the test driver does for one server port.
struct DriverPort {
  Sim* sim = nullptr;
  PFLT_PORT server = nullptr;
  NTSTATUS connect_status = STATUS_SUCCESS;
  int connect_sleep_ms = 0;
  int disconnect_sleep_ms = 0;
  bool close_in_disconnect = true;
  NTSTATUS message_status = STATUS_SUCCESS;
  int message_sleep_ms = 0;
  ULONG message_report = 0xFFFFFFFF;  // *ReturnOutputBufferLength; 0xFFFFFFFF = bytes echoed
  std::atomic<int> connects{0};
  std::atomic<int> disconnects{0};
  std::atomic<int> messages{0};
  std::atomic<int> in_message{0};
  std::atomic<int> max_in_message{0};
  std::mutex mu;
  std::vector<std::vector<uint8_t>> contexts;  // as ConnectNotify saw them
  std::vector<uint64_t> connect_pids;           // PsGetCurrentProcessId in ConnectNotify
  std::vector<uint64_t> disconnect_pids;
  std::vector<bool> context_pointer_null;
};

struct DriverConn {
  DriverPort* port = nullptr;
  PFLT_PORT client_port = nullptr;
  PFLT_PORT copy = nullptr;
  uint64_t id = 0;
};

struct SendResult {
  NTSTATUS status = 0;
  ULONG reply_length = 0;
  std::vector<uint8_t> reply;
  int64_t ms = 0;
};

inline uint64_t CurrentPidValue() { return reinterpret_cast<uintptr_t>(PsGetCurrentProcessId()); }

NTSTATUS FLTAPI TestConnect(PFLT_PORT client_port, PVOID server_cookie, PVOID context, ULONG size, PVOID* cookie);
VOID FLTAPI TestDisconnect(PVOID cookie);
NTSTATUS FLTAPI TestMessage(PVOID cookie, PVOID in, ULONG in_len, PVOID out, ULONG out_len, PULONG returned);

struct Sim {
  explicit Sim(SimOptions options = SimOptions(), uint32_t host_uid = 1000)
      : kernel(options, host_uid) {
    kernel.SetEventSink(&events);
    filter = kernel.ports().CreateFilter("test");
    F = reinterpret_cast<PFLT_FILTER>(filter->handle);
  }
  ~Sim() {
    // What a driver's unload routine does first; a port a test left open on purpose is
    // reported by FltUnregisterFilter.
    for (auto& port : ports) ClosePort(port.get());
    kernel.Shutdown();
    for (auto& t : threads) t.join();
    kernel.SetEventSink(nullptr);  // `events` is destroyed before `kernel`
  }

  // FltCreateCommunicationPort with the default descriptor (optionally widened).
  NTSTATUS CreatePort(const char* name, DriverPort** out, LONG max = 1, bool with_message = true,
                      ULONG attributes = OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE,
                      const std::vector<ULONG>& uids = {}, bool null_dacl = false) {
    auto port = std::make_unique<DriverPort>();
    port->sim = this;
    std::u16string name16 = U16(name) + u'\0';
    UNICODE_STRING us;
    RtlInitUnicodeString(&us, reinterpret_cast<PCWSTR>(name16.c_str()));
    PSECURITY_DESCRIPTOR sd = nullptr;
    NTSTATUS st = FltBuildDefaultSecurityDescriptor(&sd, FLT_PORT_ALL_ACCESS);
    if (!NT_SUCCESS(st)) return st;
    for (ULONG uid : uids) FltsimSecurityDescriptorAllowUid(sd, uid);
    if (null_dacl) RtlSetDaclSecurityDescriptor(sd, TRUE, nullptr, FALSE);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &us, attributes, nullptr, sd);
    st = FltCreateCommunicationPort(F, &port->server, &oa, port.get(), TestConnect, TestDisconnect,
                                    with_message ? TestMessage : nullptr, max);
    FltFreeSecurityDescriptor(sd);
    *out = port.get();
    std::lock_guard<std::mutex> lock(mu);
    ports.push_back(std::move(port));
    return st;
  }

  void ClosePort(DriverPort* port) {
    if (port->server == nullptr) return;
    FltCloseCommunicationPort(port->server);
    port->server = nullptr;
  }

  static PeerIdentity Peer(uint32_t uid = 0, uint32_t pid = 4242, uint32_t gid = 0) {
    PeerIdentity p;
    p.uid = uid;
    p.gid = gid;
    p.pid = pid;
    p.has_credentials = true;
    return p;
  }

  uint32_t Connect(const char* name, std::shared_ptr<RecordingSink> sink,
                   std::shared_ptr<Connection>* out, std::vector<uint8_t> context = {},
                   PeerIdentity peer = Peer()) {
    return kernel.ports().Connect(U16(name), context.data(), context.size(), peer, std::move(sink), out);
  }

  // The driver's record of a connection, by engine id.
  DriverConn* Conn(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& c : conns) {
      if (c->id == id) return c.get();
    }
    fltport::test::ExpectTrue(false, "the driver has connection " + std::to_string(id));
    return nullptr;
  }

  // FltSendMessage on a driver thread. reply_cap < 0: no reply buffer. timeout nullptr: NULL.
  std::future<SendResult> Send(PFLT_PORT* variable, std::vector<uint8_t> message, int64_t reply_cap,
                               const int64_t* timeout) {
    auto promise = std::make_shared<std::promise<SendResult>>();
    auto future = promise->get_future();
    bool has_timeout = timeout != nullptr;
    int64_t timeout_value = has_timeout ? *timeout : 0;
    std::lock_guard<std::mutex> lock(mu);
    threads.emplace_back([=]() mutable {
      SendResult r;
      std::vector<uint8_t> reply(reply_cap > 0 ? static_cast<size_t>(reply_cap) : 1);
      ULONG length = reply_cap > 0 ? static_cast<ULONG>(reply_cap) : 0;
      LARGE_INTEGER li;
      li.QuadPart = timeout_value;
      auto start = Clock::now();
      r.status = FltSendMessage(F, variable, message.data(), static_cast<ULONG>(message.size()),
                                reply_cap >= 0 ? reply.data() : nullptr, reply_cap >= 0 ? &length : nullptr,
                                has_timeout ? &li : nullptr);
      r.ms = MsSince(start);
      r.reply_length = length;
      reply.resize(reply_cap > 0 ? std::min<size_t>(length, static_cast<size_t>(reply_cap)) : 0);
      r.reply = reply;
      promise->set_value(r);
    });
    return future;
  }

  std::future<SendResult> Send(DriverConn* conn, std::vector<uint8_t> message, int64_t reply_cap,
                               const int64_t* timeout) {
    return Send(&conn->client_port, std::move(message), reply_cap, timeout);
  }

  // Waits until `predicate` holds for connection `id` (via the engine's introspection).
  bool WaitConn(uint64_t id, const std::function<bool(const ConnectionInfo&)>& predicate, int ms = 5000) {
    return kernel.ports().WaitForConnection(id, predicate, Deadline::AfterMilliseconds(ms));
  }
  bool WaitGets(uint64_t id, size_t n) {
    return WaitConn(id, [n](const ConnectionInfo& c) { return c.pending_gets == n; });
  }
  bool WaitSenders(uint64_t id, size_t n) {
    return WaitConn(id, [n](const ConnectionInfo& c) { return c.blocked_senders == n; });
  }

  // A reply buffer: FILTER_REPLY_HEADER{status, id} + payload.
  static std::vector<uint8_t> ReplyBuffer(uint64_t id, std::vector<uint8_t> payload, uint32_t status = 0) {
    std::vector<uint8_t> b(16 + payload.size());
    for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(status >> (8 * i));
    for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(id >> (8 * i));
    if (!payload.empty()) std::memcpy(b.data() + 16, payload.data(), payload.size());
    return b;
  }

  SimKernel kernel;
  RecordingEvents events;
  std::shared_ptr<Filter> filter;
  PFLT_FILTER F = nullptr;
  std::mutex mu;
  std::vector<std::unique_ptr<DriverPort>> ports;
  std::vector<std::unique_ptr<DriverConn>> conns;
  std::vector<std::thread> threads;
};

inline NTSTATUS FLTAPI TestConnect(PFLT_PORT client_port, PVOID server_cookie, PVOID context, ULONG size,
                                   PVOID* cookie) {
  auto* port = static_cast<DriverPort*>(server_cookie);
  port->connects++;
  {
    std::lock_guard<std::mutex> lock(port->mu);
    auto* bytes = static_cast<const uint8_t*>(context);
    port->contexts.emplace_back(bytes, bytes + size);
    port->context_pointer_null.push_back(context == nullptr);
    port->connect_pids.push_back(CurrentPidValue());
  }
  if (port->connect_sleep_ms) std::this_thread::sleep_for(std::chrono::milliseconds(port->connect_sleep_ms));
  if (!NT_SUCCESS(port->connect_status)) return port->connect_status;
  auto conn = std::make_unique<DriverConn>();
  conn->port = port;
  conn->client_port = client_port;
  conn->copy = client_port;
  conn->id = FltsimGetConnectionId(client_port);
  *cookie = conn.get();
  std::lock_guard<std::mutex> lock(port->sim->mu);
  port->sim->conns.push_back(std::move(conn));
  return port->connect_status;
}

inline VOID FLTAPI TestDisconnect(PVOID cookie) {
  auto* conn = static_cast<DriverConn*>(cookie);
  DriverPort* port = conn->port;
  {
    std::lock_guard<std::mutex> lock(port->mu);
    port->disconnect_pids.push_back(CurrentPidValue());
  }
  if (port->disconnect_sleep_ms) std::this_thread::sleep_for(std::chrono::milliseconds(port->disconnect_sleep_ms));
  port->disconnects++;
  if (port->close_in_disconnect) FltCloseClientPort(port->sim->F, &conn->client_port);
}

inline NTSTATUS FLTAPI TestMessage(PVOID cookie, PVOID in, ULONG in_len, PVOID out, ULONG out_len,
                                   PULONG returned) {
  auto* conn = static_cast<DriverConn*>(cookie);
  DriverPort* port = conn->port;
  int now = ++port->in_message;
  int seen = port->max_in_message.load();
  while (now > seen && !port->max_in_message.compare_exchange_weak(seen, now)) {
  }
  port->messages++;
  if (port->message_sleep_ms) std::this_thread::sleep_for(std::chrono::milliseconds(port->message_sleep_ms));
  ULONG n = std::min(in_len, out_len);
  if (n) std::memcpy(out, in, n);
  *returned = port->message_report == 0xFFFFFFFF ? n : port->message_report;
  --port->in_message;
  return port->message_status;
}

}  // namespace fltport::fltsim::testing
