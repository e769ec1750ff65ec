// fltsim's port engine, driven directly: the kernel side through fltKernel.h's C API (as a
// driver calls it), the user side through PortEngine's session calls (as the host does).
// Covers spec §9.3's vectors and the result tables of §2.3, §3.3-3.5, §4.1, §4.3, §5.2, §6.2,
// §6.4, §7.1, §7.3, plus every option that switches an UNCONFIRMED behaviour. Each status is
// checked as the NTSTATUS and as the HRESULT a Windows caller would see (core::StatusTable).
#include <chrono>
#include <atomic>
#include <thread>

#include "Status.h"
#include "StatusTable.h"
#include "fltsim_test.h"

namespace {

using fltport::core::HresultFromNtStatus;
using fltport::core::Status;
using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;
using namespace fltport::fltsim;
using namespace fltport::fltsim::testing;

// The HRESULT of an overlapped completion (GetLastError after GetQueuedCompletionStatus).
uint32_t CompletionHresult(uint32_t nt) { return Status::FromCompletion(nt, "FilterGetMessage").hresult; }

struct Connected {
  std::shared_ptr<RecordingSink> sink = std::make_shared<RecordingSink>();
  std::shared_ptr<Connection> conn;
  DriverConn* driver = nullptr;
  uint64_t id = 0;
};

Connected ConnectOk(Sim& sim, const char* name, std::vector<uint8_t> context = {},
                    PeerIdentity peer = Sim::Peer()) {
  Connected c;
  uint32_t st = sim.Connect(name, c.sink, &c.conn, std::move(context), peer);
  ExpectEq(st, 0u, std::string("connect to ") + name);
  if (c.conn) {
    c.id = c.conn->id;
    c.driver = sim.Conn(c.id);
  }
  return c;
}

DriverPort* PortOk(Sim& sim, const char* name, LONG max = 1, bool with_message = true) {
  DriverPort* port = nullptr;
  ExpectEq(S(sim.CreatePort(name, &port, max, with_message)), 0u, std::string("create ") + name);
  return port;
}

int64_t Ms(int64_t ms) { return -ms * 10000; }

// ---- §9.3 vectors --------------------------------------------------------------------------

void TestVector1And2DeliverAndReply() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  ExpectEq(sim.kernel.ports().PostGet(*c.conn, 1, 16 + 1032), 0x103u, "get pends");
  auto send = sim.Send(c.driver, std::vector<uint8_t>(1032, 0x41), 1, nullptr);
  Completed got = c.sink->Wait(1);
  ExpectEq(got.status, 0u, "#1 get status");
  ExpectEq(got.information, 1048u, "#1 bytes");
  ExpectEq(got.bytes.size(), size_t{1048}, "#1 buffer");
  ExpectEq(got.ReplyLength(), 17u, "#1 ReplyLength");
  ExpectEq(got.MessageId(), uint64_t{1}, "#1 MessageId");
  ExpectTrue(got.Payload() == std::vector<uint8_t>(1032, 0x41), "#1 payload");
  auto reply = Sim::ReplyBuffer(1, {0x01});
  uint32_t r = sim.kernel.ports().Reply(*c.conn, reply.data(), reply.size());
  ExpectEq(r, 0u, "#2 reply status");
  ExpectEq(HresultFromNtStatus(r), 0u, "#2 reply HRESULT S_OK");
  SendResult s = send.get();
  ExpectEq(S(s.status), 0u, "#2 sender STATUS_SUCCESS");
  ExpectEq(s.reply_length, 1u, "#2 *ReplyLength");
  ExpectEq(static_cast<int>(s.reply[0]), 1, "#2 reply byte");
}

void TestVector1AsWrittenIsTooSmall() {
  // get(1040) cannot hold 16 + 1032: the spec's vector #1 is 8 bytes short by its own rule.
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  sim.kernel.ports().PostGet(*c.conn, 1, 1040);
  int64_t t = Ms(200);
  auto send = sim.Send(c.driver, std::vector<uint8_t>(1032), 1, &t);
  Completed got = c.sink->Wait(1);
  ExpectEq(got.status, 0xC0000023u, "STATUS_BUFFER_TOO_SMALL");
  ExpectEq(got.information, 1048u, "required size");
  ExpectEq(CompletionHresult(got.status), 0x8007007Au, "0x8007007A");
  ExpectEq(S(send.get().status), 0x102u, "sender times out");
}

void TestVector3ReplyOverflow() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  auto send = sim.Send(c.driver, {1, 2}, 1, nullptr);
  Completed got = c.sink->Wait(1);
  auto reply = Sim::ReplyBuffer(got.MessageId(), {9, 8, 7, 6, 5, 4, 3, 2});  // 24 bytes
  uint32_t r = sim.kernel.ports().Reply(*c.conn, reply.data(), reply.size());
  ExpectEq(r, 0x80000005u, "reply STATUS_BUFFER_OVERFLOW");
  ExpectEq(HresultFromNtStatus(r), 0x800700EAu, "reply 0x800700EA");
  SendResult s = send.get();
  ExpectEq(S(s.status), 0x80000005u, "sender STATUS_BUFFER_OVERFLOW");
  ExpectEq(s.reply_length, 1u, "truncated to the capacity");
  ExpectEq(static_cast<int>(s.reply[0]), 9, "first payload byte");
}

void TestVector4TimeoutBeforeDelivery() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  int64_t t = Ms(1000);
  SendResult s = sim.Send(c.driver, {1}, 4, &t).get();
  ExpectEq(S(s.status), 0x102u, "STATUS_TIMEOUT");
  ExpectTrue(NT_SUCCESS(s.status), "STATUS_TIMEOUT is a success code");
  ExpectTrue(s.ms >= 990 && s.ms < 3000, "about 1 s (" + std::to_string(s.ms) + " ms)");
  ExpectEq(HresultFromNtStatus(0x102), 0x80070102u, "HRESULT 0x80070102");
  ConnectionInfo info;
  sim.kernel.ports().GetConnection(c.id, &info);
  ExpectEq(info.delivered, uint64_t{0}, "not delivered");
  ExpectEq(info.blocked_senders, size_t{0}, "sender gone");
}

void TestVector4LateReply() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  int64_t t = Ms(200);
  auto send = sim.Send(c.driver, {1}, 4, &t);
  Completed got = c.sink->Wait(1);
  ExpectEq(S(send.get().status), 0x102u, "reply wait timed out");
  auto reply = Sim::ReplyBuffer(got.MessageId(), {1});
  uint32_t r = sim.kernel.ports().Reply(*c.conn, reply.data(), reply.size());
  ExpectEq(r, 0xC01C0020u, "STATUS_FLT_NO_WAITER_FOR_REPLY");
  ExpectEq(HresultFromNtStatus(r), 0x801F0020u, "0x801F0020");
}

void TestVector5TooSmallKeepsMessage() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  auto send = sim.Send(c.driver, std::vector<uint8_t>(100, 7), -1, nullptr);
  Completed small = c.sink->Wait(1);
  ExpectEq(small.status, 0xC0000023u, "STATUS_BUFFER_TOO_SMALL");
  ExpectEq(small.information, 116u, "InternalHigh = 16 + 100");
  ExpectEq(CompletionHresult(small.status), 0x8007007Au, "0x8007007A");
  ExpectTrue(sim.WaitSenders(c.id, 1), "sender keeps waiting");
  // Another small get is not failed again by the same sender: it stays pending.
  sim.kernel.ports().PostGet(*c.conn, 2, 64);
  ExpectTrue(sim.WaitGets(c.id, 1), "second small get pending");
  sim.kernel.ports().PostGet(*c.conn, 3, 200);
  Completed big = c.sink->Wait(3);
  ExpectEq(big.status, 0u, "large get delivered");
  ExpectEq(big.information, 116u, "bytes");
  ExpectTrue(big.Payload() == std::vector<uint8_t>(100, 7), "payload kept intact");
  ExpectEq(S(send.get().status), 0u, "sender STATUS_SUCCESS");
  ExpectEq(c.sink->Count(2), size_t{0}, "small get still pending");
}

void TestVector6FirstLargeEnough() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  sim.kernel.ports().PostGet(*c.conn, 2, 200);
  auto send = sim.Send(c.driver, std::vector<uint8_t>(100), -1, nullptr);
  ExpectEq(c.sink->Wait(2).status, 0u, "200-byte get receives it");
  ExpectEq(S(send.get().status), 0u, "sent");
  ExpectEq(c.sink->Count(1), size_t{0}, "64-byte get untouched");
  ExpectTrue(sim.WaitGets(c.id, 1), "64-byte get still pending");
}

void TestVector7Cancel() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  sim.kernel.ports().PostGet(*c.conn, 2, 64);
  sim.kernel.ports().Cancel(*c.conn, 1, false);
  Completed got = c.sink->Wait(1);
  ExpectEq(got.status, 0xC0000120u, "STATUS_CANCELLED");
  ExpectEq(fltport::core::Win32FromNtStatus(got.status), 995u, "ERROR_OPERATION_ABORTED");
  ExpectEq(CompletionHresult(got.status), 0x800703E3u, "0x800703E3");
  ExpectEq(c.sink->Count(2), size_t{0}, "other get untouched");
  sim.kernel.ports().Cancel(*c.conn, 0, true);
  ExpectEq(c.sink->Wait(2).status, 0xC0000120u, "cancel all");
}

void TestVector8CloseClientPortReleasesSender() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  auto send = sim.Send(c.driver, {1}, 4, nullptr);
  ExpectTrue(sim.WaitSenders(c.id, 1), "sender blocked");
  FltCloseClientPort(sim.F, &c.driver->client_port);
  ExpectTrue(c.driver->client_port == nullptr, "variable cleared");
  ExpectEq(S(send.get().status), 0xC0000037u, "STATUS_PORT_DISCONNECTED");
  uint32_t st = sim.kernel.ports().PostGet(*c.conn, 9, 64);
  ExpectEq(st, 0xC0000037u, "next get fails at once");
  ExpectEq(HresultFromNtStatus(st), 0x80070006u, "0x80070006");
}

void TestVector9ConnectionLimit() {
  Sim sim;
  DriverPort* port = PortOk(sim, "\\P", 1);
  Connected first = ConnectOk(sim, "\\P");
  std::shared_ptr<Connection> second;
  uint32_t st = sim.Connect("\\P", std::make_shared<RecordingSink>(), &second);
  ExpectEq(st, 0xC0000246u, "STATUS_CONNECTION_COUNT_LIMIT");
  ExpectEq(HresultFromNtStatus(st), 0x800704D4u, "0x800704D4");
  ExpectEq(port->connects.load(), 1, "ConnectNotify not called for the second");
}

void TestVector10ConnectNotifyRejects() {
  Sim sim;
  DriverPort* port = PortOk(sim, "\\P", 1);
  port->connect_status = STATUS_INVALID_PARAMETER_3;
  std::shared_ptr<Connection> conn;
  uint32_t st = sim.Connect("\\P", std::make_shared<RecordingSink>(), &conn);
  ExpectEq(st, 0xC00000F1u, "status propagated");
  ExpectEq(HresultFromNtStatus(st), 0x80070057u, "0x80070057");
  ExpectTrue(conn == nullptr, "no connection");
  ExpectEq(port->disconnects.load(), 0, "no DisconnectNotify");
  port->connect_status = STATUS_SUCCESS;
  ConnectOk(sim, "\\P");  // the slot was given back
}

void TestVector11ReplyTwice() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  auto send = sim.Send(c.driver, {1}, 4, nullptr);
  uint64_t id = c.sink->Wait(1).MessageId();
  auto reply = Sim::ReplyBuffer(id, {1});
  ExpectEq(sim.kernel.ports().Reply(*c.conn, reply.data(), reply.size()), 0u, "first");
  uint32_t again = sim.kernel.ports().Reply(*c.conn, reply.data(), reply.size());
  ExpectEq(again, 0xC01C0020u, "second");
  ExpectEq(HresultFromNtStatus(again), 0x801F0020u, "0x801F0020");
  send.get();
}

void TestVector12OneWay() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  SendResult s = sim.Send(c.driver, {1, 2, 3}, -1, nullptr).get();
  ExpectEq(S(s.status), 0u, "delivered");
  Completed got = c.sink->Wait(1);
  ExpectEq(got.ReplyLength(), 0u, "ReplyLength 0");
  ExpectEq(got.MessageId(), uint64_t{0}, "MessageId 0 (XP)");
  auto reply = Sim::ReplyBuffer(0, {});
  ExpectEq(sim.kernel.ports().Reply(*c.conn, reply.data(), reply.size()), 0xC01C0020u, "no waiter");
}

// ---- §2 connect ------------------------------------------------------------------------------

void TestConnectChecksInOrder() {
  Sim sim;
  DriverPort* port = PortOk(sim, "\\P", 1);
  std::shared_ptr<Connection> conn;
  auto sink = std::make_shared<RecordingSink>();
  ExpectEq(sim.Connect("\\Missing", sink, &conn), 0xC0000034u, "name first");
  ExpectEq(HresultFromNtStatus(0xC0000034), 0x80070002u, "0x80070002");
  ExpectEq(sim.Connect("P", sink, &conn), 0xC0000034u, "no backslash: not found (default)");
  ExpectEq(sim.Connect("\\p", sink, &conn), 0u, "case-insensitive");
  // Access is checked before the (now reached) connection limit.
  ExpectEq(sim.Connect("\\P", sink, &conn, {}, Sim::Peer(65534)), 0xC0000022u, "SD before limit");
  ExpectEq(HresultFromNtStatus(0xC0000022), 0x80070005u, "0x80070005");
  ExpectEq(sim.Connect("\\P", sink, &conn), 0xC0000246u, "limit");
  ExpectEq(port->connects.load(), 1, "ConnectNotify only for the accepted one");
}

void TestConnectContextCopyAndProcess() {
  Sim sim;
  DriverPort* port = PortOk(sim, "\\P", 3);
  ConnectOk(sim, "\\P", {1, 2, 3}, Sim::Peer(0, 777));
  ConnectOk(sim, "\\P", {}, Sim::Peer(0, 778));
  std::vector<uint8_t> biggest(0xFFE7, 0x5A);
  ConnectOk(sim, "\\P", biggest);
  std::lock_guard<std::mutex> lock(port->mu);
  ExpectTrue(port->contexts[0] == std::vector<uint8_t>({1, 2, 3}), "context bytes");
  ExpectEq(port->connect_pids[0], uint64_t{777}, "ConnectNotify runs in the caller's process");
  ExpectEq(port->connect_pids[1], uint64_t{778}, "second caller");
  ExpectTrue(port->context_pointer_null[1], "no context: NULL pointer");
  ExpectEq(port->contexts[2].size(), size_t{0xFFE7}, "65,511 bytes accepted");
  std::shared_ptr<Connection> conn;
  ExpectEq(sim.Connect("\\P", std::make_shared<RecordingSink>(), &conn, std::vector<uint8_t>(0xFFE8)),
           0xC0000095u, "0xFFE8 bytes: STATUS_INTEGER_OVERFLOW");
  ExpectEq(HresultFromNtStatus(0xC0000095), 0x80070216u, "0x80070216");
}

void TestConnectSecurity() {
  Sim sim(SimOptions(), 1000);
  DriverPort* port = nullptr;
  ExpectEq(S(sim.CreatePort("\\Default", &port, 8)), 0u, "default");
  ExpectEq(S(sim.CreatePort("\\Widened", &port, 8, true, OBJ_KERNEL_HANDLE, {65534})), 0u, "widened");
  ExpectEq(S(sim.CreatePort("\\Open", &port, 8, true, OBJ_KERNEL_HANDLE, {}, true)), 0u, "null dacl");
  auto sink = std::make_shared<RecordingSink>();
  std::shared_ptr<Connection> conn;
  ExpectEq(sim.Connect("\\Default", sink, &conn, {}, Sim::Peer(0)), 0u, "root");
  ExpectEq(sim.Connect("\\Default", sink, &conn, {}, Sim::Peer(1000)), 0u, "the host's uid");
  ExpectEq(sim.Connect("\\Default", sink, &conn, {}, Sim::Peer(65534)), 0xC0000022u, "other uid");
  ExpectEq(sim.Connect("\\Widened", sink, &conn, {}, Sim::Peer(65534)), 0u, "allowed uid");
  ExpectEq(sim.Connect("\\Widened", sink, &conn, {}, Sim::Peer(65533)), 0xC0000022u, "not that one");
  ExpectEq(sim.Connect("\\Open", sink, &conn, {}, Sim::Peer(65533)), 0u, "NULL DACL admits all");
  PeerIdentity unknown = Sim::Peer(0);
  unknown.has_credentials = false;
  ExpectEq(sim.Connect("\\Default", sink, &conn, {}, unknown), 0xC0000022u, "no credentials");
}

void TestSecurityDescriptorApi() {
  PSECURITY_DESCRIPTOR sd = nullptr;
  ExpectEq(S(FltBuildDefaultSecurityDescriptor(&sd, FLT_PORT_ALL_ACCESS)), 0u, "build");
  ExpectTrue(sd != nullptr, "allocated");
  ExpectEq(S(FltsimSecurityDescriptorAllowGid(sd, 65534)), 0u, "allow gid");
  ExpectEq(S(RtlSetDaclSecurityDescriptor(sd, TRUE, reinterpret_cast<PACL>(sd), FALSE)), 0xC0000002u,
           "non-NULL DACL not implemented");
  FltFreeSecurityDescriptor(sd);
  ExpectEq(S(FltsimSecurityDescriptorAllowUid(sd, 1)), 0xC000000Du, "a freed descriptor is refused");
}

// ---- §7.1 port creation ------------------------------------------------------------------------

void TestCreatePortChecks() {
  Sim sim;
  DriverPort* port = nullptr;
  ExpectEq(S(sim.CreatePort("\\A", &port, 1, true, OBJ_CASE_INSENSITIVE)), 0xC000000Du, "OBJ_KERNEL_HANDLE required");
  ExpectEq(S(sim.CreatePort("\\A", &port, 0)), 0xC000000Du, "MaxConnections 0");
  ExpectEq(S(sim.CreatePort("\\A", &port, -1)), 0xC000000Du, "MaxConnections < 0");
  ExpectEq(S(sim.CreatePort("\\A", &port, 1)), 0u, "success");
  ExpectEq(S(sim.CreatePort("\\a", &port, 1)), 0xC0000035u, "case-insensitive collision");
  ExpectEq(S(sim.CreatePort("relative", &port, 1)), 0xC000003Bu, "relative name");
  // NULL ConnectNotify/DisconnectNotify.
  PFLT_PORT server = nullptr;
  std::u16string name = U16("\\B") + u'\0';
  UNICODE_STRING us;
  RtlInitUnicodeString(&us, reinterpret_cast<PCWSTR>(name.c_str()));
  OBJECT_ATTRIBUTES oa;
  InitializeObjectAttributes(&oa, &us, OBJ_KERNEL_HANDLE, nullptr, nullptr);
  ExpectEq(S(FltCreateCommunicationPort(sim.F, &server, &oa, nullptr, nullptr, TestDisconnect, nullptr, 1)),
           0xC000000Du, "no ConnectNotify");
  ExpectEq(S(FltCreateCommunicationPort(sim.F, &server, &oa, nullptr, TestConnect, nullptr, nullptr, 1)),
           0xC000000Du, "no DisconnectNotify");
  ExpectEq(S(FltCreateCommunicationPort(sim.F, &server, &oa, nullptr, TestConnect, TestDisconnect, nullptr, 1)),
           0u, "MessageNotify is optional");
}

// ---- §7.3 closing ------------------------------------------------------------------------------

void TestCloseCommunicationPortKeepsConnections() {
  Sim sim;
  DriverPort* port = PortOk(sim, "\\P", 2);
  Connected c = ConnectOk(sim, "\\P");
  sim.ClosePort(port);
  std::shared_ptr<Connection> late;
  ExpectEq(sim.Connect("\\P", std::make_shared<RecordingSink>(), &late), 0xC0000034u, "name gone");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  ExpectEq(S(sim.Send(c.driver, {1}, -1, nullptr).get().status), 0u, "existing connection works");
  DriverPort* again = nullptr;
  ExpectEq(S(sim.CreatePort("\\P", &again, 1)), 0u, "name reusable");
}

void TestUserCloseCallsDisconnectNotifyOnceThenFreesSlot() {
  Sim sim;
  DriverPort* port = PortOk(sim, "\\P", 1);
  port->disconnect_sleep_ms = 300;
  Connected c = ConnectOk(sim, "\\P", {}, Sim::Peer(0, 31337));
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  auto waiting = sim.Send(c.driver, {1}, 4, nullptr);  // delivered to get 1, waits for a reply
  c.sink->Wait(1);
  std::thread closer([&] { sim.kernel.ports().CloseUser(c.conn); });
  // While DisconnectNotify runs, the slot is still taken: a reconnect cannot race the teardown.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::shared_ptr<Connection> racing;
  ExpectEq(sim.Connect("\\P", std::make_shared<RecordingSink>(), &racing), 0xC0000246u, "slot held");
  closer.join();
  ExpectEq(S(waiting.get().status), 0xC0000037u, "reply waiter released");
  ExpectEq(port->disconnects.load(), 1, "DisconnectNotify once");
  {
    std::lock_guard<std::mutex> lock(port->mu);
    ExpectEq(port->disconnect_pids[0], uint64_t{31337}, "in the closing process");
  }
  ExpectTrue(c.driver->client_port == nullptr, "driver closed its port");
  sim.kernel.ports().CloseUser(c.conn);
  ExpectEq(port->disconnects.load(), 1, "still once");
  ConnectOk(sim, "\\P");
}

// Found by test/fuzz/fltsim_session: the engine kept a weak_ptr to every connection ever
// made (only a connection listing swept them), and an expired weak_ptr still holds the
// make_shared allocation, so a client that connects and closes in a loop grew the host
// without bound.
void TestClosedConnectionsAreForgotten() {
  Sim sim;
  PortOk(sim, "\\P", 1);
  PortEngine& ports = sim.kernel.ports();
  uint64_t first = 0;
  for (int i = 0; i < 1000; ++i) {
    Connected c = ConnectOk(sim, "\\P");
    if (i == 0) first = c.id;
    ports.CloseUser(c.conn);
  }
  ExpectTrue(ports.RememberedConnections() <= 1, "records of dead connections are swept, got " +
                                                     std::to_string(ports.RememberedConnections()));
  // A forgotten connection still reports its final state.
  ConnectionInfo info;
  ExpectTrue(ports.GetConnection(first, &info), "GetConnection(first)");
  ExpectTrue(info.state == ConnectionState::kDisconnected && info.user_closed && info.driver_closed,
             "the first connection is closed on both sides");
  Connected live = ConnectOk(sim, "\\P");
  ExpectEq(ports.NewestConnectionId(), live.id, "the live connection is still known");
}

void TestCloseClientPortToleratesNullAndStaleCopies() {
  Sim sim;
  DriverPort* port = PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  FltCloseClientPort(sim.F, &c.driver->client_port);
  FltCloseClientPort(sim.F, &c.driver->client_port);  // NULL variable: tolerated
  int64_t zero = 0;
  ExpectEq(S(sim.Send(&c.driver->copy, {1}, -1, &zero).get().status), 0xC0000008u, "stale copy");
  ExpectEq(S(sim.Send(&c.driver->client_port, {1}, -1, &zero).get().status), 0xC0000037u, "NULL variable");
  sim.kernel.ports().CloseUser(c.conn);
  ExpectEq(port->disconnects.load(), 0, "no DisconnectNotify after FltCloseClientPort (default)");
}

void TestUnloadDisconnectsEverything() {
  Sim sim;
  DriverPort* a = PortOk(sim, "\\A", 2);
  DriverPort* b = PortOk(sim, "\\B", 1);
  Connected a1 = ConnectOk(sim, "\\A");
  Connected a2 = ConnectOk(sim, "\\A");
  Connected b1 = ConnectOk(sim, "\\B");
  sim.kernel.ports().PostGet(*a1.conn, 1, 64);
  auto blocked = sim.Send(b1.driver, {1}, 4, nullptr);
  ExpectTrue(sim.WaitSenders(b1.id, 1), "sender blocked");
  sim.ClosePort(a);
  sim.ClosePort(b);
  FltUnregisterFilter(sim.F);
  ExpectEq(a->disconnects.load(), 2, "DisconnectNotify for each connection of A");
  ExpectEq(b->disconnects.load(), 1, "and of B");
  {
    std::lock_guard<std::mutex> lock(a->mu);
    ExpectEq(a->disconnect_pids[0], uint64_t{4}, "in the System process");
  }
  ExpectEq(a1.sink->Wait(1).status, 0xC0000037u, "pending get completed");
  ExpectEq(S(blocked.get().status), 0xC0000037u, "blocked sender released");
  ExpectEq(sim.kernel.ports().PostGet(*a2.conn, 2, 64), 0xC0000037u, "later calls fail");
  DriverPort* late = nullptr;
  ExpectEq(S(sim.CreatePort("\\C", &late, 1)), 0xC01C000Bu, "filter being deleted");
  sim.kernel.ports().CloseUser(a1.conn);
  ExpectEq(a->disconnects.load(), 2, "no second DisconnectNotify");
}

void TestConnectWhileFilterTornDown() {
  Sim sim;
  DriverPort* kept = PortOk(sim, "\\Kept");
  FltUnregisterFilter(sim.F);  // the driver forgot FltCloseCommunicationPort
  kept->server = nullptr;      // (and the fixture must not close it either)
  std::shared_ptr<Connection> conn;
  uint32_t st = sim.Connect("\\Kept", std::make_shared<RecordingSink>(), &conn);
  ExpectEq(st, 0xC01C000Bu, "STATUS_FLT_DELETING_OBJECT");
  ExpectEq(HresultFromNtStatus(st), 0x801F000Bu, "0x801F000B");
}

// ---- §4 replies ------------------------------------------------------------------------------

void TestReplyRules() {
  Sim sim;
  PortOk(sim, "\\P", 2);
  Connected c = ConnectOk(sim, "\\P");
  Connected other = ConnectOk(sim, "\\P");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  auto send = sim.Send(c.driver, {1}, 4, nullptr);
  uint64_t id = c.sink->Wait(1).MessageId();
  std::vector<uint8_t> short_buffer(15);
  uint32_t st = sim.kernel.ports().Reply(*c.conn, short_buffer.data(), short_buffer.size());
  ExpectEq(st, 0xC000000Du, "< 16 bytes");
  ExpectEq(HresultFromNtStatus(st), 0x80070057u, "E_INVALIDARG");
  auto reply = Sim::ReplyBuffer(id, {1, 2, 3, 4}, 0xC0000022);
  ExpectEq(sim.kernel.ports().Reply(*other.conn, reply.data(), reply.size()), 0xC01C0020u, "other connection");
  auto unknown = Sim::ReplyBuffer(id + 7, {});
  ExpectEq(sim.kernel.ports().Reply(*c.conn, unknown.data(), unknown.size()), 0xC01C0020u, "unknown id");
  ExpectEq(sim.kernel.ports().Reply(*c.conn, reply.data(), reply.size()), 0u, "exact fit");
  SendResult s = send.get();
  ExpectEq(S(s.status), 0xC0000022u, "reply Status passed through");
  ExpectEq(s.reply_length, 4u, "4 bytes");
}

void TestReplyAfterDisconnect() {
  for (uint32_t option : {0xC0000037u, 0xC01C0020u}) {
    SimOptions o;
    o.reply_after_disconnect_status = option;
    Sim sim(o);
    PortOk(sim, "\\P");
    Connected c = ConnectOk(sim, "\\P");
    sim.kernel.ports().PostGet(*c.conn, 1, 64);
    auto send = sim.Send(c.driver, {1}, 4, nullptr);
    uint64_t id = c.sink->Wait(1).MessageId();
    FltCloseClientPort(sim.F, &c.driver->client_port);
    ExpectEq(S(send.get().status), 0xC0000037u, "waiter released");
    auto reply = Sim::ReplyBuffer(id, {});
    ExpectEq(sim.kernel.ports().Reply(*c.conn, reply.data(), reply.size()), option, "option's status");
  }
}

// ---- §5 FilterSendMessage --------------------------------------------------------------------

void TestUserSend() {
  Sim sim;
  DriverPort* port = PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  std::vector<uint8_t> in = {1, 2, 3};
  UserSendResult r = sim.kernel.ports().Send(*c.conn, in.data(), 3, false, 8, false);
  ExpectEq(r.status, 0u, "echo");
  ExpectEq(r.returned, 3u, "bytes returned");
  ExpectTrue(r.output == in, "output");
  r = sim.kernel.ports().Send(*c.conn, nullptr, 0, true, 0, true);
  ExpectEq(r.status, 0u, "NULL buffers");
  ExpectEq(r.returned, 0u, "nothing returned");
  r = sim.kernel.ports().Send(*c.conn, nullptr, 0, true, 8, true);
  ExpectEq(r.status, 0xC0000005u, "NULL output with a size: access violation");
  port->message_report = 64;
  r = sim.kernel.ports().Send(*c.conn, in.data(), 3, false, 8, false);
  ExpectEq(r.returned, 8u, "over-reported length clamped");
  port->message_report = 0xFFFFFFFF;
  for (NTSTATUS s : {STATUS_NO_MORE_ENTRIES, STATUS_INVALID_PARAMETER, STATUS_TIMEOUT, STATUS_BUFFER_OVERFLOW}) {
    port->message_status = s;
    r = sim.kernel.ports().Send(*c.conn, in.data(), 3, false, 2, false);
    ExpectEq(r.status, S(s), "MessageNotify's status");
  }
  ExpectEq(HresultFromNtStatus(S(STATUS_NO_MORE_ENTRIES)), 0x80070103u, "0x80070103");
  ExpectEq(HresultFromNtStatus(S(STATUS_TIMEOUT)), 0x80070102u, "0x80070102");
  FltCloseClientPort(sim.F, &c.driver->client_port);
  r = sim.kernel.ports().Send(*c.conn, in.data(), 3, false, 8, false);
  ExpectEq(r.status, 0xC0000037u, "connection gone");
  ExpectEq(HresultFromNtStatus(r.status), 0x80070006u, "0x80070006");
}

void TestUserSendWithoutMessageNotify() {
  for (uint32_t option : {0xC00000BBu, 0xC0000010u}) {
    SimOptions o;
    o.no_message_notify_status = option;
    Sim sim(o);
    PortOk(sim, "\\P", 1, false);
    Connected c = ConnectOk(sim, "\\P");
    uint8_t b = 1;
    UserSendResult r = sim.kernel.ports().Send(*c.conn, &b, 1, false, 4, false);
    ExpectEq(r.status, option, "no MessageNotify");
  }
  ExpectEq(HresultFromNtStatus(0xC00000BB), 0x80070032u, "STATUS_NOT_SUPPORTED -> 0x80070032");
  ExpectEq(HresultFromNtStatus(0xC0000010), 0x80070001u, "STATUS_INVALID_DEVICE_REQUEST -> 0x80070001");
}

void TestUserSendsRunConcurrently() {
  Sim sim;
  DriverPort* port = PortOk(sim, "\\P");
  port->message_sleep_ms = 200;
  Connected c = ConnectOk(sim, "\\P");
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      uint8_t b = 1;
      sim.kernel.ports().Send(*c.conn, &b, 1, false, 1, false);
    });
  }
  for (auto& t : threads) t.join();
  ExpectEq(port->max_in_message.load(), 4, "four MessageNotify calls at once");
  ExpectTrue(MsSince(start) < 700, "not serialized");
}

// ---- §6 FltSendMessage -----------------------------------------------------------------------

void TestSendTimeouts() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  int64_t zero = 0;
  SendResult poll = sim.Send(c.driver, {1}, -1, &zero).get();
  ExpectEq(S(poll.status), 0x102u, "zero = poll: no get -> STATUS_TIMEOUT");
  ExpectTrue(poll.ms < 100, "at once");
  int64_t absolute = 0;
  LARGE_INTEGER now;
  // The deadline is absolute: measure from when it was computed, not from when Send began
  // (under load Send can start late, and then rightly waits less than 300 ms itself).
  const auto computed = std::chrono::steady_clock::now();
  KeQuerySystemTime(&now);
  absolute = now.QuadPart + 300 * 10000;
  SendResult abs = sim.Send(c.driver, {1}, -1, &absolute).get();
  const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - computed)
                         .count();
  ExpectEq(S(abs.status), 0x102u, "absolute");
  ExpectTrue(since >= 295 && abs.ms < 2000,
             "about 300 ms after the deadline was computed (" + std::to_string(since) + ")");
  int64_t past = now.QuadPart - 1;
  ExpectEq(S(sim.Send(c.driver, {1}, -1, &past).get().status), 0x102u, "absolute time in the past");
  auto forever = sim.Send(c.driver, {1}, -1, nullptr);
  ExpectTrue(forever.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout, "NULL waits");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  ExpectEq(S(forever.get().status), 0u, "delivered when a get comes");
  sim.kernel.ports().PostGet(*c.conn, 2, 64);
  ExpectEq(S(sim.Send(c.driver, {1}, -1, &zero).get().status), 0u, "zero with a get: delivered");
}

void TestZeroTimeoutInfiniteOption() {
  SimOptions o;
  o.zero_timeout = ZeroTimeout::kInfinite;
  Sim sim(o);
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  int64_t zero = 0;
  auto send = sim.Send(c.driver, {1}, -1, &zero);
  ExpectTrue(send.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout, "waits");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  ExpectEq(S(send.get().status), 0u, "delivered");
}

void TestRelativeTimeoutScope() {
  for (TimeoutScope scope : {TimeoutScope::kPhase, TimeoutScope::kTotal}) {
    SimOptions o;
    o.relative_timeout_scope = scope;
    Sim sim(o);
    PortOk(sim, "\\P");
    Connected c = ConnectOk(sim, "\\P");
    int64_t t = Ms(300);
    auto send = sim.Send(c.driver, {1}, 4, &t);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    sim.kernel.ports().PostGet(*c.conn, 1, 64);
    c.sink->Wait(1);
    SendResult r = send.get();
    ExpectEq(S(r.status), 0x102u, "times out waiting for the reply");
    if (scope == TimeoutScope::kPhase) {
      ExpectTrue(r.ms >= 480, "phase: the reply wait restarts (" + std::to_string(r.ms) + " ms)");
    } else {
      ExpectTrue(r.ms >= 290 && r.ms < 450, "total: one deadline (" + std::to_string(r.ms) + " ms)");
    }
  }
}

void TestSendArgumentChecks() {
  SimOptions o;
  o.null_client_port_status = 0xC0000008;
  Sim sim(o);
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  PFLT_PORT null_port = nullptr;
  int64_t zero = 0;
  ExpectEq(S(sim.Send(&null_port, {1}, -1, &zero).get().status), 0xC0000008u, "null_client_port_status option");
  ULONG length = 4;
  uint8_t buf[4];
  ExpectEq(S(FltSendMessage(sim.F, &c.driver->client_port, buf, 1, buf, nullptr, nullptr)), 0xC000000Du,
           "ReplyBuffer without ReplyLength");
  ExpectEq(S(FltSendMessage(sim.F, nullptr, buf, 1, buf, &length, nullptr)), 0xC000000Du, "NULL ClientPort");
}

void TestMessageIdsAndOneWayOption() {
  SimOptions o;
  o.one_way_message_id = OneWayMessageId::kFresh;
  o.first_message_id = 100;
  Sim sim(o);
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  sim.kernel.ports().PostGet(*c.conn, 2, 64);
  sim.Send(c.driver, {1}, -1, nullptr).get();
  auto with_reply = sim.Send(c.driver, {2}, 4, nullptr);
  ExpectEq(c.sink->Wait(1).MessageId(), uint64_t{100}, "one-way takes a fresh id");
  Completed second = c.sink->Wait(2);
  ExpectEq(second.MessageId(), uint64_t{101}, "next id");
  ExpectEq(second.ReplyLength(), 20u, "ReplyLength = 4 + 16");
  auto reply = Sim::ReplyBuffer(101, {});
  sim.kernel.ports().Reply(*c.conn, reply.data(), reply.size());
  ExpectEq(with_reply.get().reply_length, 0u, "header-only reply");
}

void TestDisconnectStatusOption() {
  SimOptions o;
  o.disconnect_status = 0xC0000120;
  Sim sim(o);
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  sim.kernel.ports().PostGet(*c.conn, 1, 64);
  auto blocked = sim.Send(c.driver, std::vector<uint8_t>(100), -1, nullptr);  // fails get 1 (too small)
  ExpectEq(c.sink->Wait(1).status, 0xC0000023u, "too small first");
  sim.kernel.ports().PostGet(*c.conn, 2, 64);
  ExpectTrue(sim.WaitGets(c.id, 1), "second small get pending");
  FltCloseClientPort(sim.F, &c.driver->client_port);
  ExpectEq(c.sink->Wait(2).status, 0xC0000120u, "pending get: option's status");
  ExpectEq(S(blocked.get().status), 0xC0000037u, "senders always get STATUS_PORT_DISCONNECTED");
  ExpectEq(sim.kernel.ports().PostGet(*c.conn, 3, 64), 0xC0000120u, "later gets too");
}

void TestNotifyAfterCloseClientPortOption() {
  SimOptions o;
  o.disconnect_notify_after_close_client_port = true;
  Sim sim(o);
  DriverPort* port = PortOk(sim, "\\P", 1);
  Connected c = ConnectOk(sim, "\\P");
  FltCloseClientPort(sim.F, &c.driver->client_port);
  std::shared_ptr<Connection> blocked;
  ExpectEq(sim.Connect("\\P", std::make_shared<RecordingSink>(), &blocked), 0xC0000246u, "slot kept");
  sim.kernel.ports().CloseUser(c.conn);
  ExpectEq(port->disconnects.load(), 1, "DisconnectNotify at the user close");
  sim.kernel.ports().CloseUser(c.conn);
  ExpectEq(port->disconnects.load(), 1, "once");
  ConnectOk(sim, "\\P");
}

void TestSmallGetBufferOption() {
  SimOptions o;
  o.small_get_buffer = SmallGetBuffer::kReject;
  o.max_pending_requests = 2;
  Sim sim(o);
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  ExpectEq(sim.kernel.ports().PostGet(*c.conn, 1, 15), 0xC000000Du, "rejected");
  ExpectEq(sim.kernel.ports().PostGet(*c.conn, 2, 16), 0x103u, "16 is fine");
  ExpectEq(sim.kernel.ports().PostGet(*c.conn, 2, 16), 0xC000000Du, "duplicate tag");
  ExpectEq(sim.kernel.ports().PostGet(*c.conn, 3, 16), 0x103u, "second");
  ExpectEq(sim.kernel.ports().PostGet(*c.conn, 4, 16), 0xC000009Au, "max_pending_requests");
}

void TestOneSenderPerGetFifo() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P");
  for (uint64_t t = 1; t <= 3; ++t) sim.kernel.ports().PostGet(*c.conn, t, 64);
  for (uint8_t i = 0; i < 3; ++i) sim.Send(c.driver, {i}, -1, nullptr).get();
  for (uint64_t t = 1; t <= 3; ++t) {
    ExpectEq(static_cast<int>(c.sink->Wait(t).Payload()[0]), static_cast<int>(t - 1), "FIFO");
  }
}

void TestEventsDescribeCallbacks() {
  Sim sim;
  PortOk(sim, "\\P");
  Connected c = ConnectOk(sim, "\\P", {0xAB});
  sim.kernel.ports().CloseUser(c.conn);
  ExpectEq(sim.events.Count("connect conn=" + std::to_string(c.id) + " port=\\P pid=4242 uid=0 gid=0 size=1 context=ab status=0x00000000"),
           size_t{1}, "connect event");
  ExpectEq(sim.events.Count("disconnect conn=" + std::to_string(c.id) + " port=\\P reason=user"), size_t{1},
           "disconnect event");
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(
      argc, argv,
      {
          {"vector1_2.deliver_and_reply", &TestVector1And2DeliverAndReply},
          {"vector1.as_written_too_small", &TestVector1AsWrittenIsTooSmall},
          {"vector3.reply_overflow", &TestVector3ReplyOverflow},
          {"vector4.timeout_before_delivery", &TestVector4TimeoutBeforeDelivery},
          {"vector4.late_reply", &TestVector4LateReply},
          {"vector5.too_small_keeps_message", &TestVector5TooSmallKeepsMessage},
          {"vector6.first_large_enough", &TestVector6FirstLargeEnough},
          {"vector7.cancel", &TestVector7Cancel},
          {"vector8.close_client_port", &TestVector8CloseClientPortReleasesSender},
          {"vector9.connection_limit", &TestVector9ConnectionLimit},
          {"vector10.connect_notify_rejects", &TestVector10ConnectNotifyRejects},
          {"vector11.reply_twice", &TestVector11ReplyTwice},
          {"vector12.one_way", &TestVector12OneWay},
          {"connect.check_order", &TestConnectChecksInOrder},
          {"connect.context_and_process", &TestConnectContextCopyAndProcess},
          {"connect.security", &TestConnectSecurity},
          {"connect.security_descriptor_api", &TestSecurityDescriptorApi},
          {"create.checks", &TestCreatePortChecks},
          {"close.communication_port", &TestCloseCommunicationPortKeepsConnections},
          {"close.user_close_notify_once", &TestUserCloseCallsDisconnectNotifyOnceThenFreesSlot},
          {"close.client_port_null_and_stale", &TestCloseClientPortToleratesNullAndStaleCopies},
          {"close.dead_connections_forgotten", &TestClosedConnectionsAreForgotten},
          {"close.unload", &TestUnloadDisconnectsEverything},
          {"close.deleting_object", &TestConnectWhileFilterTornDown},
          {"reply.rules", &TestReplyRules},
          {"reply.after_disconnect", &TestReplyAfterDisconnect},
          {"user_send.basics", &TestUserSend},
          {"user_send.no_message_notify", &TestUserSendWithoutMessageNotify},
          {"user_send.concurrent", &TestUserSendsRunConcurrently},
          {"send.timeouts", &TestSendTimeouts},
          {"send.zero_timeout_infinite", &TestZeroTimeoutInfiniteOption},
          {"send.relative_timeout_scope", &TestRelativeTimeoutScope},
          {"send.argument_checks", &TestSendArgumentChecks},
          {"send.message_ids", &TestMessageIdsAndOneWayOption},
          {"send.fifo", &TestOneSenderPerGetFifo},
          {"option.disconnect_status", &TestDisconnectStatusOption},
          {"option.notify_after_close_client_port", &TestNotifyAfterCloseClientPortOption},
          {"option.small_get_buffer", &TestSmallGetBufferOption},
          {"events.callbacks", &TestEventsDescribeCallbacks},
      });
}
