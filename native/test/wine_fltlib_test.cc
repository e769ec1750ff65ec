// The Wine lane's test fltlib.dll, at the level of the OVERLAPPED (docs/wine-lane.md): what a
// C client of real fltlib.dll sees from FilterGetMessage and friends, checked value by value
// against spec §3.3-§3.5, §4, §5 — Internal, InternalHigh, the GetQueuedCompletionStatus
// result and error, which OVERLAPPED completes, and which calls queue no packet at all. The
// addon's tests (test/wine/*.test.mjs) see the same path through the public API; this pins the
// raw values they rely on.
//
// Runs under Wine only, next to the test fltlib.dll (the loader takes the DLL from the
// program's directory), with fltsim-host.exe serving $FLTSIM_RUNTIME_DIR; built and run by
// native/cmake/run-wine-lane.sh. The simulated driver is fltsim's test driver, driven over
// the host's control pipe by the small client below.
#include <windows.h>

#include <fltuser.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

#include "TestHarness.h"
#include "WineControl.h"

namespace {

using fltport::test::Control;
using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;
using fltport::test::Field;

constexpr uint32_t kIoPending = 0x800703E5;
constexpr DWORD kNoPacketMs = 300;  // how long "no completion packet" is waited for

// ---- A connection with its own completion port -------------------------------------------

struct Receive {
  OVERLAPPED overlapped;
  alignas(8) uint8_t buffer[8192];
};

class Connection {
 public:
  // Creates a port on the test driver (port.create with `options`) and connects to it.
  explicit Connection(const std::string& options = "") {
    static int counter = 0;
    name_ = "\\WineFltlib" + std::to_string(GetCurrentProcessId()) + "x" + std::to_string(++counter);
    const std::string created = Control::Get().Call("port.create name=" + name_ + " " + options);
    ExpectEq(created.rfind("ok", 0), size_t{0}, "port.create answered ok");
    const std::wstring wide(name_.begin(), name_.end());
    const HRESULT hr = FilterConnectCommunicationPort(wide.c_str(), 0, nullptr, 0, nullptr, &port_);
    ExpectEq(static_cast<uint32_t>(hr), 0u, "FilterConnectCommunicationPort");
    conn_ = Field(Control::Get().WaitEvent("td-connect", {"port=" + name_}), "conn");
    ExpectTrue(!conn_.empty(), "the driver's ConnectNotify ran");
    iocp_ = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    ExpectTrue(CreateIoCompletionPort(port_, iocp_, kKey, 1) == iocp_, "port associated with the completion port");
  }
  ~Connection() {
    if (port_ != INVALID_HANDLE_VALUE) CloseHandle(port_);
    if (iocp_ != nullptr) CloseHandle(iocp_);
  }

  HRESULT Get(Receive& r, DWORD size) {
    std::memset(&r.overlapped, 0, sizeof r.overlapped);
    return FilterGetMessage(port_, reinterpret_cast<PFILTER_MESSAGE_HEADER>(r.buffer), size, &r.overlapped);
  }

  struct Packet {
    bool dequeued = false;  // a packet (or a failed one) was taken
    BOOL ok = FALSE;
    DWORD error = 0;
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* overlapped = nullptr;
  };
  Packet Wait(DWORD ms = 5000) {
    Packet p;
    p.ok = GetQueuedCompletionStatus(iocp_, &p.bytes, &p.key, &p.overlapped, ms);
    p.error = p.ok ? 0 : GetLastError();
    p.dequeued = p.ok || p.overlapped != nullptr;
    return p;
  }

  std::string Send(const std::string& args) {
    const std::string r = Control::Get().Call("send conn=" + conn_ + " " + args);
    ExpectEq(r.rfind("ok", 0), size_t{0}, "send answered ok");
    return Field(r, "first");
  }

  HANDLE port() const { return port_; }
  const std::string& conn() const { return conn_; }
  const std::string& name() const { return name_; }
  static constexpr ULONG_PTR kKey = 7;

 private:
  std::string name_;
  std::string conn_;
  HANDLE port_ = INVALID_HANDLE_VALUE;
  HANDLE iocp_ = nullptr;
};

void ExpectNoPacket(Connection& c, const char* what) {
  Connection::Packet p = c.Wait(kNoPacketMs);
  ExpectTrue(!p.dequeued, what);
  ExpectEq(p.error, static_cast<DWORD>(WAIT_TIMEOUT), what);
}

// ---- Cases ---------------------------------------------------------------------------------

// §3.3: pending, then completed through the port; §3.4 rule 1: the first large-enough request
// takes the message; §3.2: header fields and byte count.
void TestGetCompletesThroughThePort() {
  Connection c;
  static Receive small, large;
  ExpectEq(static_cast<uint32_t>(c.Get(small, 24)), kIoPending, "small FilterGetMessage pends");
  ExpectEq(static_cast<uint32_t>(c.Get(large, sizeof large.buffer)), kIoPending, "large FilterGetMessage pends");
  c.Send("size=100 fill=7 reply=4 timeout=10000");
  Connection::Packet p = c.Wait();
  ExpectTrue(p.ok, "GQCS succeeds");
  ExpectEq(p.key, Connection::kKey, "completion key");
  ExpectTrue(p.overlapped == &large.overlapped, "the large request got the message");
  ExpectEq(p.bytes, DWORD{116}, "bytes = 16 + payload");
  ExpectEq(static_cast<uint32_t>(large.overlapped.Internal), 0u, "Internal = STATUS_SUCCESS");
  ExpectEq(static_cast<uint64_t>(large.overlapped.InternalHigh), uint64_t{116}, "InternalHigh = bytes");
  auto* header = reinterpret_cast<PFILTER_MESSAGE_HEADER>(large.buffer);
  ExpectEq(header->ReplyLength, ULONG{20}, "ReplyLength = 4 + 16");
  ExpectEq(header->MessageId, ULONGLONG{1}, "MessageId");
  ExpectEq(large.buffer[16], uint8_t{7}, "payload");
  ExpectEq(large.buffer[115], uint8_t{7}, "payload end");
  ExpectEq(static_cast<uint32_t>(small.overlapped.Internal), 0x103u, "the small request is still pending");
  CancelIoEx(c.port(), nullptr);
  p = c.Wait();
  ExpectTrue(p.overlapped == &small.overlapped, "the small request completes at cancel");
}

// §3.4: no request large enough: the first completes with STATUS_BUFFER_TOO_SMALL and the
// required size; the message waits for a larger one.
void TestTooSmallReportsTheRequiredSize() {
  Connection c;
  static Receive r;
  ExpectEq(static_cast<uint32_t>(c.Get(r, 24)), kIoPending, "FilterGetMessage pends");
  const std::string id = c.Send("size=100 reply=none timeout=10000");
  Connection::Packet p = c.Wait();
  ExpectTrue(!p.ok, "GQCS fails");
  ExpectEq(p.error, static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER), "GetLastError = 122");
  ExpectTrue(p.overlapped == &r.overlapped, "that request");
  ExpectEq(p.bytes, DWORD{116}, "bytes = the required size");
  ExpectEq(static_cast<uint32_t>(r.overlapped.Internal), 0xC0000023u, "Internal = STATUS_BUFFER_TOO_SMALL");
  ExpectEq(static_cast<uint64_t>(r.overlapped.InternalHigh), uint64_t{116}, "InternalHigh = required size");
  ExpectEq(static_cast<uint32_t>(c.Get(r, sizeof r.buffer)), kIoPending, "a larger FilterGetMessage pends");
  p = c.Wait();
  ExpectTrue(p.ok, "the kept message arrives");
  ExpectEq(p.bytes, DWORD{116}, "whole");
  ExpectTrue(!Control::Get().WaitEvent("send", {"id=" + id, "status=0x00000000"}).empty(), "sender succeeded");
}

// §2.4, §4, §5: FilterReplyMessage and FilterSendMessage are synchronous: no packet.
void TestReplyAndSendQueueNoPacket() {
  Connection c;
  static Receive r;
  ExpectEq(static_cast<uint32_t>(c.Get(r, sizeof r.buffer)), kIoPending, "FilterGetMessage pends");
  const std::string id = c.Send("hex=0102 reply=8 timeout=10000");
  Connection::Packet p = c.Wait();
  ExpectTrue(p.ok, "message");
  auto* header = reinterpret_cast<PFILTER_MESSAGE_HEADER>(r.buffer);
  alignas(8) uint8_t reply[16 + 3] = {};
  reinterpret_cast<PFILTER_REPLY_HEADER>(reply)->MessageId = header->MessageId;
  reply[16] = 0xAB;
  ExpectEq(static_cast<uint32_t>(FilterReplyMessage(c.port(), reinterpret_cast<PFILTER_REPLY_HEADER>(reply), sizeof reply)),
           0u, "FilterReplyMessage S_OK");
  const std::string done = Control::Get().WaitEvent("send", {"id=" + id});
  ExpectEq(Field(done, "status"), std::string("0x00000000"), "sender status");
  ExpectEq(Field(done, "replied"), std::string("3"), "sender got 3 bytes");
  ExpectEq(static_cast<uint32_t>(FilterReplyMessage(c.port(), reinterpret_cast<PFILTER_REPLY_HEADER>(reply), sizeof reply)),
           0x801F0020u, "a second reply: ERROR_FLT_NO_WAITER_FOR_REPLY");
  uint8_t in[5] = {1, 2, 3, 4, 5}, out[16] = {};
  DWORD returned = 0;
  ExpectEq(static_cast<uint32_t>(FilterSendMessage(c.port(), in, sizeof in, out, sizeof out, &returned)), 0u,
           "FilterSendMessage S_OK");
  ExpectEq(returned, DWORD{5}, "bytes returned (echo)");
  ExpectEq(out[4], uint8_t{5}, "output bytes");
  ExpectNoPacket(c, "no packet for FilterReplyMessage or FilterSendMessage");
}

// kernel32's convention, which fltlib keeps (§1.2): hEvent with the low bit set: the event is
// signalled, no packet is queued.
void TestEventLowBitSuppressesThePacket() {
  Connection c;
  static Receive r;
  HANDLE event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  std::memset(&r.overlapped, 0, sizeof r.overlapped);
  r.overlapped.hEvent = reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(event) | 1);
  ExpectEq(static_cast<uint32_t>(FilterGetMessage(c.port(), reinterpret_cast<PFILTER_MESSAGE_HEADER>(r.buffer),
                                                  sizeof r.buffer, &r.overlapped)),
           kIoPending, "FilterGetMessage pends");
  c.Send("size=10 reply=none timeout=10000");
  ExpectEq(WaitForSingleObject(event, 5000), static_cast<DWORD>(WAIT_OBJECT_0), "event signalled");
  ExpectEq(static_cast<uint32_t>(r.overlapped.Internal), 0u, "Internal");
  ExpectEq(static_cast<uint64_t>(r.overlapped.InternalHigh), uint64_t{26}, "InternalHigh");
  DWORD bytes = 0;
  ExpectTrue(GetOverlappedResult(c.port(), &r.overlapped, &bytes, FALSE) != FALSE, "GetOverlappedResult");
  ExpectEq(bytes, DWORD{26}, "GetOverlappedResult bytes");
  ExpectNoPacket(c, "no packet when hEvent's low bit is set");
  CloseHandle(event);
}

// §3.5: CancelIoEx(h, NULL) completes every pending request with STATUS_CANCELLED.
void TestCancelIoExCancelsEveryRequest() {
  Connection c;
  static Receive r[3];
  for (auto& one : r) ExpectEq(static_cast<uint32_t>(c.Get(one, sizeof one.buffer)), kIoPending, "pends");
  const std::string pending = Control::Get().Call("conn.wait id=" + c.conn() + " gets=3 timeout=5000");
  ExpectEq(Field(pending, "gets"), std::string("3"), "the host holds 3 requests");
  ExpectTrue(CancelIoEx(c.port(), nullptr) != FALSE, "CancelIoEx");
  int cancelled = 0;
  for (int i = 0; i < 3; ++i) {
    Connection::Packet p = c.Wait();
    ExpectTrue(!p.ok, "GQCS fails");
    ExpectEq(p.error, static_cast<DWORD>(ERROR_OPERATION_ABORTED), "GetLastError = 995");
    ExpectEq(p.key, Connection::kKey, "key");
    if (p.overlapped != nullptr) {
      ExpectEq(static_cast<uint32_t>(p.overlapped->Internal), 0xC0000120u, "Internal = STATUS_CANCELLED");
      ++cancelled;
    }
  }
  ExpectEq(cancelled, 3, "three cancelled requests");
  ExpectNoPacket(c, "nothing more");
  const std::string after = Control::Get().Call("conn.wait id=" + c.conn() + " gets=0 timeout=5000");
  ExpectEq(Field(after, "gets"), std::string("0"), "the host holds none");
}

// §3.5, G5: the driver closes the client port: pending requests end with
// STATUS_PORT_DISCONNECTED (error 6); a new one fails at once with 0x80070006, no packet.
void TestDisconnectFailsPendingAndNewRequests() {
  Connection c;
  static Receive r;
  ExpectEq(static_cast<uint32_t>(c.Get(r, sizeof r.buffer)), kIoPending, "pends");
  Control::Get().Call("conn.wait id=" + c.conn() + " gets=1 timeout=5000");
  ExpectEq(Control::Get().Call("conn.close conn=" + c.conn()).rfind("ok", 0), size_t{0}, "conn.close");
  Connection::Packet p = c.Wait();
  ExpectTrue(!p.ok, "GQCS fails");
  ExpectEq(p.error, static_cast<DWORD>(ERROR_INVALID_HANDLE), "GetLastError = 6");
  ExpectEq(static_cast<uint32_t>(r.overlapped.Internal), 0xC0000037u, "Internal = STATUS_PORT_DISCONNECTED");
  ExpectEq(static_cast<uint32_t>(c.Get(r, sizeof r.buffer)), 0x80070006u, "a new FilterGetMessage fails at once");
  ExpectNoPacket(c, "no packet for the immediate failure");
  uint8_t in[1] = {0}, out[4];
  DWORD returned = 0;
  ExpectEq(static_cast<uint32_t>(FilterSendMessage(c.port(), in, 1, out, 4, &returned)), 0x80070006u,
           "FilterSendMessage after the disconnect");
}

// §3.3: without an OVERLAPPED the call blocks until a message arrives.
void TestSynchronousGet() {
  Connection c;
  static Receive r;
  HRESULT hr = E_FAIL;
  std::thread getter([&] {
    hr = FilterGetMessage(c.port(), reinterpret_cast<PFILTER_MESSAGE_HEADER>(r.buffer), sizeof r.buffer, nullptr);
  });
  Control::Get().Call("conn.wait id=" + c.conn() + " gets=1 timeout=5000");
  c.Send("hex=cafe reply=none timeout=10000");
  getter.join();
  ExpectEq(static_cast<uint32_t>(hr), 0u, "S_OK");
  ExpectEq(r.buffer[16], uint8_t{0xCA}, "payload");
  ExpectNoPacket(c, "no packet for a synchronous FilterGetMessage");
}

// §2.3 and the context limit of §2.1.
void TestConnectResults() {
  Connection c("max=1");
  const std::wstring wide(c.name().begin(), c.name().end());
  HANDLE h = nullptr;
  ExpectEq(static_cast<uint32_t>(FilterConnectCommunicationPort(wide.c_str(), 0, nullptr, 0, nullptr, &h)),
           0x800704D4u, "MaxConnections reached");
  ExpectTrue(h == INVALID_HANDLE_VALUE, "*hPort = INVALID_HANDLE_VALUE on failure");
  ExpectEq(static_cast<uint32_t>(FilterConnectCommunicationPort(L"\\WineFltlibNoSuchPort", 0, nullptr, 0, nullptr, &h)),
           0x80070002u, "no such port");
  static uint8_t context[0xFFE8];
  ExpectEq(static_cast<uint32_t>(FilterConnectCommunicationPort(wide.c_str(), 0, context, 0xFFE8, nullptr, &h)),
           0x80070216u, "context of 0xFFE8 bytes: STATUS_INTEGER_OVERFLOW");
}

// §7.3: closing the last handle runs DisconnectNotify and frees the slot.
void TestCloseRunsDisconnectNotify() {
  std::string name, conn;
  {
    Connection c("max=1");
    name = c.name();
    conn = c.conn();
  }
  ExpectTrue(!Control::Get().WaitEvent("td-disconnect", {"conn=" + conn}).empty(), "DisconnectNotify ran");
  const std::wstring wide(name.begin(), name.end());
  HANDLE h = nullptr;
  ExpectEq(static_cast<uint32_t>(FilterConnectCommunicationPort(wide.c_str(), 0, nullptr, 0, nullptr, &h)), 0u,
           "the slot is free again");
  if (h != INVALID_HANDLE_VALUE) CloseHandle(h);
  const std::string device = Control::Get().Call("wine.device");
  ExpectEq(Field(device, "irps"), std::string("0"), "the device holds no request");
}

// Filter management, the enumeration contract the addon's Enumerate relies on: a buffer too
// small fails with ERROR_INSUFFICIENT_BUFFER and the size needed (no handle is opened), one
// entry per call, ERROR_NO_MORE_ITEMS at the end, a closed handle is refused.
void TestVolumeEnumeration() {
  alignas(8) uint8_t buffer[512];
  DWORD returned = 0;
  HANDLE find = nullptr;
  ExpectEq(static_cast<uint32_t>(FilterVolumeFindFirst(FilterVolumeStandardInformation, buffer, 8, &returned, &find)),
           0x8007007Au, "a too-small buffer");
  const DWORD needed = 18 + 2 * 23;  // FilterVolumeName of \Device\HarddiskVolume1
  ExpectEq(returned, needed, "bytes needed");
  ExpectTrue(find == INVALID_HANDLE_VALUE, "no find handle after a failed FindFirst");
  ExpectEq(static_cast<uint32_t>(FilterVolumeFindFirst(FilterVolumeStandardInformation, buffer, needed, &returned, &find)),
           0u, "FindFirst");
  auto* info = reinterpret_cast<PFILTER_VOLUME_STANDARD_INFORMATION>(buffer);
  ExpectEq(returned, needed, "bytes returned");
  ExpectEq(info->NextEntryOffset, ULONG{0}, "one entry per call");
  ExpectEq(info->FileSystemType, static_cast<FLT_FILESYSTEM_TYPE>(2), "NTFS");
  ExpectEq(info->FilterVolumeNameLength, USHORT{46}, "name length");
  int count = 1;
  HRESULT hr;
  while ((hr = FilterVolumeFindNext(find, FilterVolumeStandardInformation, buffer, sizeof buffer, &returned)) == S_OK) ++count;
  ExpectEq(static_cast<uint32_t>(hr), 0x80070103u, "ERROR_NO_MORE_ITEMS at the end");
  ExpectEq(count, 5, "five simulated volumes");
  ExpectEq(static_cast<uint32_t>(FilterVolumeFindClose(find)), 0u, "FindClose");
  ExpectEq(static_cast<uint32_t>(FilterVolumeFindClose(find)), 0x80070006u, "a closed find handle");
  wchar_t dos[3];
  ExpectEq(static_cast<uint32_t>(FilterGetDosName(L"\\Device\\HarddiskVolume1", dos, 2)), 0x8007007Au,
           "FilterGetDosName into 2 WCHARs");
  ExpectEq(static_cast<uint32_t>(FilterGetDosName(L"\\Device\\HarddiskVolume1", dos, 3)), 0u, "FilterGetDosName");
  ExpectTrue(dos[0] == L'C' && dos[1] == L':' && dos[2] == 0, "C:");
}

}  // namespace

int main(int argc, char** argv) {
  if (!Control::Get().ok()) return 1;
  return fltport::test::Main(argc, argv,
                             {
                                 {"fltlib.get_completes_through_the_port", &TestGetCompletesThroughThePort},
                                 {"fltlib.too_small_reports_the_required_size", &TestTooSmallReportsTheRequiredSize},
                                 {"fltlib.reply_and_send_queue_no_packet", &TestReplyAndSendQueueNoPacket},
                                 {"fltlib.event_low_bit_suppresses_the_packet", &TestEventLowBitSuppressesThePacket},
                                 {"fltlib.cancelioex_cancels_every_request", &TestCancelIoExCancelsEveryRequest},
                                 {"fltlib.disconnect_fails_pending_and_new_requests", &TestDisconnectFailsPendingAndNewRequests},
                                 {"fltlib.synchronous_get", &TestSynchronousGet},
                                 {"fltlib.connect_results", &TestConnectResults},
                                 {"fltlib.close_runs_disconnect_notify", &TestCloseRunsDisconnectNotify},
                                 {"fltlib.volume_enumeration", &TestVolumeEnumeration},
                             });
}
