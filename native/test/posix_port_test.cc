// native/posix's port backend against a scripted wire peer (posix_test_peer.h): framing,
// malformed frames, partial reads, EINTR, concurrent sends, close and drain, flow control,
// buffer growth, disconnect. What a real fltsim-host does is posix_fltsim_host_test.cc's.
#include <signal.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <sys/stat.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include "PortBackendPosix.h"
#include "RuntimeDir.h"
#include "TestHarness.h"
#include "posix_test_peer.h"

using fltport::core::PortBackend;
using fltport::core::PortOptions;
using fltport::core::Status;
using fltport::core::StatusOrigin;
using fltport::core::StopReason;
using fltport::posix::Frame;
using fltport::posix::PortBackendPosix;
using fltport::test::Bytes;
using fltport::test::CompletionBody;
using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;
using fltport::test::MessageBytes;
using fltport::test::PeerStream;
using fltport::test::RecordingPortEvents;
using fltport::test::StatusBody;
using fltport::test::TestWirePeer;

namespace {

constexpr uint32_t kSuccess = 0;
constexpr uint32_t kBufferTooSmall = 0xC0000023;
constexpr uint32_t kCancelled = 0xC0000120;
constexpr uint32_t kPortDisconnected = 0xC0000037;

PortOptions Options(uint32_t concurrency = 2, uint32_t initial = 4096) {
  PortOptions o;
  o.name = u"\\FltportSample";
  o.concurrency = concurrency;
  o.initial_buffer_size = initial;
  o.max_message_size = 65536;
  o.high_water_mark = 64;
  return o;
}

// A connected backend, its scripted host end and the GETs the backend armed first.
struct Session {
  TestWirePeer peer;
  RecordingPortEvents events;
  std::unique_ptr<PeerStream> host;
  std::unique_ptr<PortBackend> port;
  Status status;
  Frame connect;
  std::vector<Frame> gets;

  bool Open(PortOptions o, uint32_t connect_status = kSuccess) {
    o.sim_runtime_dir = peer.dir();
    std::thread client([&] { port = PortBackend::Connect(o, &events, &status); });
    host = peer.AcceptHello(FLTSIM_KIND_PORT);
    bool ok = host && host->Read(&connect) && connect.type == FLTSIM_CONNECT;
    if (ok) host->Send(FLTSIM_CONNECT_RESULT, connect.tag, StatusBody(connect_status));
    client.join();
    if (!ok || !port) return false;
    // Tests that do not script the drain should not wait the default 5 s for it.
    posix()->set_drain_timeout(std::chrono::milliseconds(200));
    for (uint32_t i = 0; i < o.concurrency; ++i) {
      Frame g;
      if (!host->ReadType(FLTSIM_GET, &g)) return false;
      gets.push_back(g);
    }
    return true;
  }
  PortBackendPosix* posix() { return dynamic_cast<PortBackendPosix*>(port.get()); }
  void Complete(uint64_t tag, uint32_t status, uint32_t info, const Bytes& data = {}) {
    host->Send(FLTSIM_GET_COMPLETE, tag, CompletionBody(status, info, data));
  }
  // The client replies (token, message id); the host takes the REPLY and answers it.
  bool ReplyAnswered(uint64_t token, uint64_t id, uint32_t status) {
    port->Reply(token, id, 0, nullptr, 0);
    Frame r;
    if (!host->ReadType(FLTSIM_REPLY, &r)) return false;
    host->Send(FLTSIM_REPLY_RESULT, r.tag, StatusBody(status));
    return true;
  }
  void Deliver(uint64_t tag, uint64_t id, const Bytes& payload, uint32_t reply_length = 0) {
    const Bytes m = MessageBytes(reply_length, id, payload);
    Complete(tag, kSuccess, uint32_t(m.size()), m);
  }
};

// ---- connect -------------------------------------------------------------------------------

void TestConnectWithoutHostIsEnoent() {
  TestWirePeer peer;  // only for a fresh empty directory
  PortOptions o = Options();
  o.sim_runtime_dir = peer.dir() + "/nothing-here";
  RecordingPortEvents events;
  Status s;
  auto port = PortBackend::Connect(o, &events, &s);
  ExpectTrue(port == nullptr, "no backend");
  ExpectEq(s.origin, StatusOrigin::kErrno, "origin");
  ExpectEq(s.sys_errno, ENOENT, "errno");
  ExpectEq(s.syscall, std::string("connect"), "syscall");
  ExpectEq(s.detail, "no fltsim-host at " + peer.dir() + "/nothing-here/fltsim.sock", "detail");
}

void TestConnectRefusedWhenNobodyListens() {
  TestWirePeer peer;
  const std::string dir = peer.dir() + "/stale";
  mkdir(dir.c_str(), 0700);
  // A socket file left behind by a host that died: bound, never listening.
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = dir + "/fltsim.sock";
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ExpectEq(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0, "bind");
  PortOptions o = Options();
  o.sim_runtime_dir = dir;
  RecordingPortEvents events;
  Status s;
  auto port = PortBackend::Connect(o, &events, &s);
  ExpectTrue(port == nullptr, "no backend");
  ExpectEq(s.sys_errno, ECONNREFUSED, "errno");
  ExpectEq(s.detail, "no fltsim-host at " + path, "detail");
  close(fd);
  unlink(path.c_str());
  rmdir(dir.c_str());
}

void TestHelloAndConnectCarryTheArguments() {
  TestWirePeer peer;
  RecordingPortEvents events;
  PortOptions o = Options(1);
  o.sim_runtime_dir = peer.dir();
  o.name = u"\\Port\u00e9";
  o.context = {1, 2, 3, 4, 5};
  Status s;
  std::unique_ptr<PortBackend> port;
  std::thread client([&] { port = PortBackend::Connect(o, &events, &s); });
  Frame hello, connect;
  auto host = peer.AcceptHello(FLTSIM_KIND_PORT, &hello);
  ExpectTrue(host != nullptr, "HELLO of kind PORT");
  ExpectEq(hello.U32(0), uint32_t(FLTSIM_WIRE_MAGIC), "magic");
  ExpectEq(hello.U16(4), uint16_t(FLTSIM_WIRE_VERSION), "version");
  ExpectEq(hello.U32(8), uint32_t(getpid()), "pid");
  ExpectTrue(host && host->Read(&connect), "CONNECT");
  ExpectEq(connect.type, uint16_t(FLTSIM_CONNECT), "type");
  ExpectEq(connect.U32(0), 0u, "options");
  ExpectEq(connect.U16(4), uint16_t(12), "name bytes");
  ExpectEq(connect.U16(6), uint16_t(5), "context bytes");
  ExpectTrue(fltport::test::Utf16FromBody(connect, 8, 12) == o.name, "name is UTF-16LE");
  ExpectTrue(Bytes(connect.body.begin() + 20, connect.body.end()) == o.context, "context follows");
  if (host) host->Send(FLTSIM_CONNECT_RESULT, connect.tag, StatusBody(0));
  client.join();
  ExpectTrue(s.ok(), "connected");
  Frame get;
  ExpectTrue(host && host->ReadType(FLTSIM_GET, &get), "one GET armed");
  if (port) port->Close();
  ExpectEq(events.stopped(), 1, "stopped once");
}

void TestConnectFailuresTranslateLikeFltlib() {
  struct Row {
    uint32_t nt;
    uint32_t hresult;
  };
  const Row rows[] = {
      {0xC0000034, 0x80070002},  // no such port
      {0xC0000022, 0x80070005},  // security descriptor denies
      {0xC0000246, 0x800704D4},  // MaxConnections reached
      {0xC00000F1, 0x80070057},  // ConnectNotify: STATUS_INVALID_PARAMETER_3
      {0xC0000061, 0x80070522},  // ConnectNotify: privilege not held
      {0xC01C000B, 0x801F000B},  // filter being torn down
  };
  for (const Row& r : rows) {
    Session s;
    ExpectTrue(!s.Open(Options(), r.nt), "connect fails");
    ExpectTrue(s.port == nullptr, "no backend");
    ExpectEq(s.status.origin, StatusOrigin::kNtStatus, "origin");
    ExpectEq(s.status.ntstatus, r.nt, "ntstatus");
    ExpectEq(s.status.hresult, r.hresult, "hresult");
    ExpectEq(s.status.syscall, std::string("FilterConnectCommunicationPort"), "syscall");
    ExpectEq(s.events.BatchCount(), size_t(0), "no batch");
    ExpectEq(s.events.stopped(), 0, "no OnStopped for a failed connect");
    ExpectTrue(s.host->WaitEof(), "the failed stream is closed");
  }
}

void TestContextOf0xFFE8IsIntegerOverflowBeforeAnyIo() {
  TestWirePeer peer;
  RecordingPortEvents events;
  PortOptions o = Options();
  o.sim_runtime_dir = peer.dir() + "/nothing-here";  // any I/O would fail with ENOENT
  o.context.assign(0xFFE8, 0xAB);  // fltlib: SizeOfContext >= 0xFFE8 fails
  Status s;
  ExpectTrue(PortBackend::Connect(o, &events, &s) == nullptr, "refused");
  ExpectEq(s.origin, StatusOrigin::kNtStatus, "origin");
  ExpectEq(s.ntstatus, 0xC0000095u, "STATUS_INTEGER_OVERFLOW");
  ExpectEq(s.hresult, 0x80070216u, "hresult");
  o.context.assign(0xFFE7, 0xAB);  // the largest legal context gets as far as the socket
  ExpectTrue(PortBackend::Connect(o, &events, &s) == nullptr, "no host");
  ExpectEq(s.sys_errno, ENOENT, "reached connect()");
}

void TestArgumentChecks() {
  RecordingPortEvents events;
  Status s;
  PortOptions o = Options();
  o.flags = 1;  // FLT_PORT_FLAG_SYNC_HANDLE
  ExpectTrue(PortBackend::Connect(o, &events, &s) == nullptr, "sync handle refused");
  ExpectEq(s.origin, StatusOrigin::kArgument, "origin");
  ExpectEq(s.hresult, 0x80070057u, "E_INVALIDARG");
  for (uint32_t c : {0u, 1025u}) {
    o = Options(c);
    ExpectTrue(PortBackend::Connect(o, &events, &s) == nullptr, "concurrency out of range");
    ExpectEq(s.origin, StatusOrigin::kArgument, "origin");
  }
  o = Options(1, 15);
  ExpectTrue(PortBackend::Connect(o, &events, &s) == nullptr, "buffer < FILTER_MESSAGE_HEADER");
  o = Options();
  o.max_message_size = 100;  // below the initial size
  ExpectTrue(PortBackend::Connect(o, &events, &s) == nullptr, "max < initial");
  ExpectTrue(PortBackend::Connect(Options(), nullptr, &s) == nullptr, "no events");
  ExpectEq(events.stopped(), 0, "never called");
}

// ---- receive -------------------------------------------------------------------------------

void TestArmsConcurrencyGets() {
  Session s;
  ExpectTrue(s.Open(Options(3, 1024)), "open");
  ExpectEq(s.gets.size(), size_t(3), "three GETs");
  for (size_t i = 0; i < s.gets.size(); ++i) {
    ExpectEq(s.gets[i].U32(0), 1024u, "BufferSize");
    for (size_t j = 0; j < i; ++j) ExpectTrue(s.gets[i].tag != s.gets[j].tag, "distinct tags");
  }
  ExpectTrue(s.host->Silent(200), "no fourth GET");
}

void TestOneWakeupOneBatch() {
  Session s;
  ExpectTrue(s.Open(Options(3)), "open");
  const Bytes p0 = {'a', 'b', 'c'}, p1 = {}, p2(13, 0x42);
  const Bytes m0 = MessageBytes(17, 1, p0), m1 = MessageBytes(0, 0, p1),
              m2 = MessageBytes(1040, 0x0102030405060708ull, p2);
  // All three completions in one write: they are read in one wake-up.
  s.host->Write(fltport::test::Cat(
      {fltport::test::Frame(FLTSIM_GET_COMPLETE, s.gets[0].tag,
                            CompletionBody(kSuccess, uint32_t(m0.size()), m0)),
       fltport::test::Frame(FLTSIM_GET_COMPLETE, s.gets[1].tag,
                            CompletionBody(kSuccess, uint32_t(m1.size()), m1)),
       fltport::test::Frame(FLTSIM_GET_COMPLETE, s.gets[2].tag,
                            CompletionBody(kSuccess, uint32_t(m2.size()), m2))}));
  ExpectTrue(s.events.WaitMessages(3), "three messages");
  ExpectEq(s.events.BatchCount(), size_t(1), "in one batch");
  auto msgs = s.events.Messages();
  if (msgs.size() == 3) {
    ExpectEq(msgs[0].id, uint64_t(1), "id 0");
    ExpectEq(msgs[0].reply_length, 17u, "reply length 0");
    ExpectTrue(msgs[0].payload == p0, "payload 0");
    ExpectEq(msgs[1].reply_length, 0u, "one-way");
    ExpectTrue(msgs[1].payload.empty(), "empty payload");
    ExpectEq(msgs[2].id, uint64_t(0x0102030405060708ull), "u64 id little-endian");
    ExpectTrue(msgs[2].payload == p2, "payload 2");
  }
  for (uint32_t off : s.events.Offsets()) ExpectEq(off % 8, 0u, "8-aligned offset");
  Frame g;
  for (int i = 0; i < 3; ++i) ExpectTrue(s.host->ReadType(FLTSIM_GET, &g), "re-armed");
  s.port->Close();
  ExpectEq(s.events.contract_violations(), 0, "callback contract");
}

void TestFramesSplitAcrossReads() {
  Session s;
  ExpectTrue(s.Open(Options(1)), "open");
  Bytes payload(300);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = uint8_t(i * 7);
  const Bytes m = MessageBytes(24, 99, payload);
  const Bytes frame = fltport::test::Frame(FLTSIM_GET_COMPLETE, s.gets[0].tag,
                                           CompletionBody(kSuccess, uint32_t(m.size()), m));
  s.host->WriteSlowly(Bytes(frame.begin(), frame.begin() + 40), 1, 2);  // header byte by byte
  s.host->WriteSlowly(Bytes(frame.begin() + 40, frame.end()), 97, 5);
  ExpectTrue(s.events.WaitMessages(1), "delivered");
  auto msgs = s.events.Messages();
  ExpectTrue(msgs.size() == 1 && msgs[0].payload == payload && msgs[0].id == 99, "intact");
  s.port->Close();
}

// Each scripted frame breaks one rule of wire.h; the session must end with kProtocol,
// a Send waiting at that moment must fail with 0x80070006, and the stream must be dropped.
void TestMalformedFramesEndTheSessionWithProtocol() {
  struct Case {
    const char* what;
    std::function<Bytes(const Session&)> frame;
  };
  const Case cases[] = {
      {"Length above FLTSIM_MAX_FRAME",
       [](const Session& s) {
         return fltport::test::RawFrame(FLTSIM_MAX_FRAME + 1, FLTSIM_GET_COMPLETE, s.gets[0].tag, {});
       }},
      {"Length below the header",
       [](const Session&) { return fltport::test::RawFrame(15, FLTSIM_REPLY_RESULT, 1, {}); }},
      {"body shorter than the fixed part",
       [](const Session&) { return fltport::test::Frame(FLTSIM_REPLY_RESULT, 1, {0, 0, 0, 0}); }},
      {"body longer than a fixed-size type",
       [](const Session&) { return fltport::test::Frame(FLTSIM_REPLY_RESULT, 1, Bytes(12)); }},
      {"unknown type",
       [](const Session&) { return fltport::test::Frame(99, 1, Bytes(8)); }},
      {"a mailslot frame on a port stream",
       [](const Session& s) {
         return fltport::test::Frame(FLTSIM_MS_READ_COMPLETE, s.gets[0].tag, CompletionBody(0, 0));
       }},
      {"GET_COMPLETE for a tag never posted",
       [](const Session&) {
         return fltport::test::Frame(FLTSIM_GET_COMPLETE, 777, CompletionBody(kCancelled, 0));
       }},
      {"Information disagrees with the bytes carried",
       [](const Session& s) {
         return fltport::test::Frame(FLTSIM_GET_COMPLETE, s.gets[0].tag,
                                     CompletionBody(kSuccess, 40, MessageBytes(0, 1, Bytes(4))));
       }},
      {"more bytes than the receive buffer holds",
       [](const Session& s) {
         const Bytes m = MessageBytes(0, 1, Bytes(100));
         return fltport::test::Frame(FLTSIM_GET_COMPLETE, s.gets[0].tag,
                                     CompletionBody(kSuccess, uint32_t(m.size()), m));
       }},
      {"BUFFER_TOO_SMALL asking for less than the buffer",
       [](const Session& s) {
         return fltport::test::Frame(FLTSIM_GET_COMPLETE, s.gets[0].tag,
                                     CompletionBody(kBufferTooSmall, 32));
       }},
      {"REPLY_RESULT for no reply",
       [](const Session&) { return fltport::test::Frame(FLTSIM_REPLY_RESULT, 5, StatusBody(0)); }},
      {"SEND_RESULT for no send",
       [](const Session&) {
         return fltport::test::Frame(FLTSIM_SEND_RESULT, 5, CompletionBody(0, 0));
       }},
  };
  for (const Case& c : cases) {
    Session s;
    if (!ExpectTrue(s.Open(Options(1, 64)), c.what)) continue;
    std::promise<Status> sent;
    std::thread sender([&] {
      uint32_t n = 99;
      sent.set_value(s.port->Send(nullptr, 0, nullptr, 0, &n));
    });
    Frame send;
    ExpectTrue(s.host->ReadType(FLTSIM_SEND, &send), "send in flight");
    s.host->Write(c.frame(s));
    ExpectTrue(s.events.WaitStopped(), c.what);
    ExpectEq(s.events.reason(), StopReason::kFailed, c.what);
    ExpectEq(s.events.status().origin, StatusOrigin::kProtocol, c.what);
    auto f = sent.get_future();
    ExpectTrue(f.wait_for(std::chrono::seconds(5)) == std::future_status::ready, "send released");
    ExpectEq(f.get().hresult, 0x80070006u, "send fails as disconnected");
    sender.join();
    ExpectTrue(s.host->WaitEof(), "stream dropped");
    s.port->Close();
    ExpectEq(s.events.stopped(), 1, "stopped once");
  }
}

void TestHostClosingTheStreamIsEconnreset() {
  Session s;
  ExpectTrue(s.Open(Options(1)), "open");
  s.host->Write(Bytes{0x30, 0, 0});  // a partial frame, then gone
  s.host->Close();
  ExpectTrue(s.events.WaitStopped(), "stopped");
  ExpectEq(s.events.reason(), StopReason::kFailed, "failed");
  ExpectEq(s.events.status().origin, StatusOrigin::kErrno, "origin");
  ExpectEq(s.events.status().sys_errno, ECONNRESET, "errno");
  ExpectTrue(s.events.status().detail.find("in the middle of a frame (3 bytes)") != std::string::npos,
             "says a frame was cut");
  s.port->Close();
}

// ---- reply and send ------------------------------------------------------------------------

void TestReplyBuildsTheHeaderAndMapsTheResult() {
  Session s;
  ExpectTrue(s.Open(Options(1)), "open");
  const uint8_t payload[3] = {'y', 'e', 's'};
  s.port->Reply(7, 0x1122334455667788ull, 0x12345678, payload, 3);
  Frame r;
  ExpectTrue(s.host->ReadType(FLTSIM_REPLY, &r), "REPLY");
  ExpectEq(r.size(), size_t(19), "16 + payload, no padding");
  ExpectEq(r.U32(0), 0x12345678u, "Status");
  ExpectEq(r.U32(4), 0u, "padding is zero");
  ExpectEq(r.U64(8), uint64_t(0x1122334455667788ull), "MessageId");
  ExpectTrue(Bytes(r.body.begin() + 16, r.body.end()) == Bytes(payload, payload + 3), "payload");
  s.host->Send(FLTSIM_REPLY_RESULT, r.tag, StatusBody(0xC01C0020));
  s.port->Reply(8, 2, 0, nullptr, 0);
  Frame r2;
  ExpectTrue(s.host->ReadType(FLTSIM_REPLY, &r2), "second REPLY");
  ExpectEq(r2.size(), size_t(16), "header only");
  ExpectTrue(r2.tag != r.tag, "own tag");
  s.host->Send(FLTSIM_REPLY_RESULT, r2.tag, StatusBody(0));
  ExpectTrue(s.events.WaitReplies(2), "two outcomes");
  auto outs = s.events.Replies();
  if (outs.size() == 2) {
    ExpectEq(outs[0].token, uint64_t(7), "token");
    ExpectEq(outs[0].status.hresult, 0x801F0020u, "no waiter");
    ExpectEq(outs[0].status.syscall, std::string("FilterReplyMessage"), "syscall");
    ExpectEq(outs[1].token, uint64_t(8), "token");
    ExpectTrue(outs[1].status.ok(), "S_OK");
  }
  s.port->Close();
}

// A successful outcome alone waits for the next message (one batch, one JS wake-up); with
// nothing to ride with it goes out after the linger; a failed one never waits.
void TestSuccessfulReplyOutcomesRideWithTheNextBatch() {
  Session s;
  PortOptions o = Options(1);
  o.outcome_linger_ms = 200;
  ExpectTrue(s.Open(o), "open");
  ExpectTrue(s.ReplyAnswered(1, 5, kSuccess), "REPLY answered");
  ExpectTrue(!s.events.WaitReplies(1, 50), "the outcome waits");
  s.Deliver(s.gets[0].tag, 6, {1, 2});
  ExpectTrue(s.events.WaitMessages(1), "message");
  ExpectEq(s.events.BatchCount(), size_t(1), "outcome and message in one batch");
  ExpectEq(s.events.Replies().size(), size_t(1), "with the outcome");

  // Nothing follows: the outcome leaves on its own after the linger.
  const auto sent = std::chrono::steady_clock::now();
  ExpectTrue(s.ReplyAnswered(2, 6, kSuccess), "second REPLY answered");
  ExpectTrue(s.events.WaitReplies(2), "second outcome");
  const auto waited = std::chrono::steady_clock::now() - sent;
  ExpectTrue(waited >= std::chrono::milliseconds(150), "it lingered");
  ExpectEq(s.events.BatchCount(), size_t(2), "in a batch of its own");

  // A failed outcome is news: no linger.
  ExpectTrue(s.ReplyAnswered(3, 7, 0xC01C0020), "third REPLY answered");
  ExpectTrue(s.events.WaitReplies(3, 100), "a failed outcome at once");
  s.port->Close();
  ExpectEq(s.events.contract_violations(), 0, "callback contract");
}

// A send's outcome is news like a message: it never lingers, and a lingering reply outcome
// leaves with it.
void TestSendAsyncOutcomesNeverLinger() {
  Session s;
  PortOptions o = Options(1);
  o.outcome_linger_ms = 60000;
  ExpectTrue(s.Open(o), "open");
  ExpectTrue(s.port->SendAsync(1, nullptr, 0, 0, true).ok(), "first send started");
  ExpectTrue(s.port->SendAsync(2, nullptr, 0, 0, true).ok(), "second send started");
  s.port->Reply(3, 5, 0, nullptr, 0);
  Frame f[3];
  for (Frame& one : f) ExpectTrue(s.host->Read(&one), "SEND, SEND, REPLY");
  s.host->Send(FLTSIM_SEND_RESULT, f[0].tag, CompletionBody(kSuccess, 0));
  ExpectTrue(s.events.WaitReads(1, 1000), "a send's outcome alone, at once");
  s.host->Send(FLTSIM_REPLY_RESULT, f[2].tag, StatusBody(kSuccess));
  ExpectTrue(!s.events.WaitReplies(1, 50), "the reply outcome waits");
  s.host->Send(FLTSIM_SEND_RESULT, f[1].tag, CompletionBody(kSuccess, 0));
  ExpectTrue(s.events.WaitReads(2, 1000), "the next send's outcome at once");
  ExpectEq(s.events.BatchCount(), size_t(2), "two batches");
  ExpectEq(s.events.Replies().size(), size_t(1), "the reply outcome rode with the second");
  s.port->Close();  // the GET is never cancelled here: the 200 ms drain gives up on it
}

// Close hands over a lingering outcome before OnStopped.
void TestCloseFlushesALingeringOutcome() {
  Session s;
  PortOptions o = Options(1);
  o.outcome_linger_ms = 60000;
  ExpectTrue(s.Open(o), "open");
  ExpectTrue(s.ReplyAnswered(1, 5, kSuccess), "REPLY answered");
  ExpectTrue(!s.events.WaitReplies(1, 50), "the outcome waits");
  std::thread host_side([&] {
    Frame cancel;
    if (s.host->ReadType(FLTSIM_CANCEL, &cancel)) s.Complete(s.gets[0].tag, kCancelled, 0);
  });
  s.port->Close();
  host_side.join();
  ExpectEq(s.events.stopped(), 1, "stopped");
  auto outs = s.events.Replies();
  ExpectTrue(outs.size() == 1 && outs[0].token == 1 && outs[0].status.ok(), "the outcome, before the stop");
  ExpectEq(s.events.contract_violations(), 0, "callback contract");
}

void TestSendsRunConcurrentlyAndRouteByTag() {
  Session s;
  ExpectTrue(s.Open(Options(1)), "open");
  constexpr int kSenders = 4;
  std::vector<std::thread> threads;
  std::vector<Status> results(kSenders);
  std::vector<Bytes> outputs(kSenders, Bytes(16, 0xEE));
  std::vector<uint32_t> returned(kSenders, 12345);
  for (int i = 0; i < kSenders; ++i) {
    threads.emplace_back([&, i] {
      const Bytes in = {uint8_t('A' + i), uint8_t(i), 1, 2};
      results[i] = s.port->Send(in.data(), uint32_t(in.size()), outputs[i].data(), 16, &returned[i]);
    });
  }
  // All four are at the host before any is answered: none waits for another.
  std::vector<Frame> sends(kSenders);
  for (auto& f : sends) ExpectTrue(s.host->ReadType(FLTSIM_SEND, &f), "SEND");
  for (int i = kSenders - 1; i >= 0; --i) {
    const Frame& f = sends[i];
    ExpectEq(f.U32(0), 16u, "OutputCapacity");
    ExpectEq(f.U32(4), 0u, "no NULL flags");
    Bytes out(f.body.rbegin(), f.body.rbegin() + 4);  // the input reversed
    s.host->Send(FLTSIM_SEND_RESULT, f.tag, CompletionBody(0, 4, out));
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kSenders; ++i) {
    ExpectTrue(results[i].ok(), "S_OK");
    ExpectEq(returned[i], 4u, "bytes returned");
    const Bytes want = {2, 1, uint8_t(i), uint8_t('A' + i)};
    ExpectTrue(Bytes(outputs[i].begin(), outputs[i].begin() + 4) == want, "own answer");
    ExpectEq(outputs[i][4], uint8_t(0xEE), "nothing written past bytes returned");
  }

  // NULL buffers, a warning status (count written) and an error status (count 0).
  uint32_t n = 77;
  std::promise<Status> warn;
  std::thread t1([&] { warn.set_value(s.port->Send(nullptr, 0, outputs[0].data(), 2, &n)); });
  Frame f;
  ExpectTrue(s.host->ReadType(FLTSIM_SEND, &f), "SEND");
  ExpectEq(f.U32(4), uint32_t(FLTSIM_SEND_IN_NULL), "lpInBuffer NULL");
  ExpectEq(f.size(), size_t(8), "no input bytes");
  s.host->Send(FLTSIM_SEND_RESULT, f.tag, CompletionBody(0x80000005, 2, {9, 9}));
  t1.join();
  Status w = warn.get_future().get();
  ExpectEq(w.hresult, 0x800700EAu, "STATUS_BUFFER_OVERFLOW -> ERROR_MORE_DATA");
  ExpectEq(n, 2u, "a warning still reports the count");
  std::promise<Status> err;
  std::thread t2([&] { err.set_value(s.port->Send(outputs[1].data(), 1, nullptr, 0, &n)); });
  ExpectTrue(s.host->ReadType(FLTSIM_SEND, &f), "SEND");
  ExpectEq(f.U32(4), uint32_t(FLTSIM_SEND_OUT_NULL), "lpOutBuffer NULL");
  s.host->Send(FLTSIM_SEND_RESULT, f.tag, CompletionBody(0xC000000D, 0));
  t2.join();
  ExpectEq(err.get_future().get().hresult, 0x80070057u, "E_INVALIDARG");
  ExpectEq(n, 0u, "an error reports no count");
  s.port->Close();
}

// SendAsync: the SEND leaves from the calling thread, which never waits; each SEND_RESULT
// becomes a ReadOutcome under its token, validated like Send()'s.
void TestSendAsyncWritesAtOnceAndAnswersInABatch() {
  Session s;
  ExpectTrue(s.Open(Options(1)), "open");
  Bytes in = {'A', 'B', 'C', 'D'};
  ExpectTrue(s.port->SendAsync(11, in.data(), 4, 16, false).ok(), "started");
  in.assign(4, 0);  // copied before SendAsync returned
  ExpectTrue(s.port->SendAsync(12, nullptr, 0, 0, true).ok(), "NULL buffers started");
  ExpectTrue(s.port->SendAsync(13, in.data(), 1, 8, false).ok(), "third started");
  ExpectTrue(s.port->SendAsync(14, in.data(), 2, 8, false).ok(), "fourth started");
  Frame f[4];
  for (Frame& one : f) ExpectTrue(s.host->ReadType(FLTSIM_SEND, &one), "SEND at the host");
  ExpectTrue(f[0].tag >= PortBackendPosix::kAsyncSendTagBase, "tag from SendAsync's space");
  ExpectEq(f[0].U32(0), 16u, "OutputCapacity");
  ExpectEq(f[0].U32(4), 0u, "no NULL flags");
  ExpectTrue(Bytes(f[0].body.begin() + 8, f[0].body.end()) == Bytes({'A', 'B', 'C', 'D'}), "input");
  ExpectEq(f[1].U32(4), uint32_t(FLTSIM_SEND_IN_NULL | FLTSIM_SEND_OUT_NULL), "both NULL");
  ExpectEq(f[1].size(), size_t(8), "no input bytes");
  // Answered out of order: a warning, an error, an empty success, then the echo.
  s.host->Send(FLTSIM_SEND_RESULT, f[2].tag, CompletionBody(0x80000005, 2, {9, 9}));
  s.host->Send(FLTSIM_SEND_RESULT, f[3].tag, CompletionBody(0xC000000D, 0));
  s.host->Send(FLTSIM_SEND_RESULT, f[1].tag, CompletionBody(0, 0));
  s.host->Send(FLTSIM_SEND_RESULT, f[0].tag, CompletionBody(0, 4, {'d', 'c', 'b', 'a'}));
  ExpectTrue(s.events.WaitReads(4), "four outcomes");
  auto reads = s.events.Reads();
  if (ExpectEq(reads.size(), size_t(4), "one outcome each")) {
    ExpectEq(reads[0].token, uint64_t(13), "in answer order");
    ExpectEq(reads[0].status.hresult, 0x800700EAu, "STATUS_BUFFER_OVERFLOW -> ERROR_MORE_DATA");
    ExpectEq(reads[0].status.ntstatus, 0x80000005u, "the NTSTATUS kept");
    ExpectEq(reads[0].status.syscall, std::string("FilterSendMessage"), "syscall");
    ExpectTrue(reads[0].bytes.empty(), "a failure carries no bytes, a warning included");
    ExpectEq(reads[1].token, uint64_t(14), "token");
    ExpectEq(reads[1].status.hresult, 0x80070057u, "E_INVALIDARG");
    ExpectEq(reads[2].token, uint64_t(12), "token");
    ExpectTrue(reads[2].status.ok() && reads[2].bytes.empty(), "S_OK, nothing returned");
    ExpectEq(reads[3].token, uint64_t(11), "token");
    ExpectTrue(reads[3].status.ok(), "S_OK");
    ExpectTrue(reads[3].bytes == Bytes({'d', 'c', 'b', 'a'}), "the bytes returned");
  }
  // Arguments no SEND can carry are refused at once; nothing reaches the host.
  ExpectEq(s.port->SendAsync(20, nullptr, 5, 0, true).origin, StatusOrigin::kArgument, "NULL input with a length");
  ExpectEq(s.port->SendAsync(21, nullptr, 0, 4, true).origin, StatusOrigin::kArgument, "NULL output with a capacity");
  ExpectEq(s.port->SendAsync(22, nullptr, 0, FLTSIM_MAX_FRAME, false).origin, StatusOrigin::kArgument,
           "output larger than a frame");
  ExpectTrue(s.host->Silent(100), "nothing sent");
  s.port->Close();
  ExpectEq(s.events.Reads().size(), size_t(4), "no outcome for a refused send");
  ExpectEq(s.events.contract_violations(), 0, "callback contract");
}

// A blocking Send() and SendAsync() at once: each SEND_RESULT goes to its own kind of caller.
void TestSendAndSendAsyncRouteByTag() {
  Session s;
  ExpectTrue(s.Open(Options(1)), "open");
  std::promise<Status> blocking;
  uint8_t out[4] = {};
  uint32_t n = 0;
  std::thread sender([&] { blocking.set_value(s.port->Send(nullptr, 0, out, 4, &n)); });
  Frame first;
  ExpectTrue(s.host->ReadType(FLTSIM_SEND, &first), "blocking SEND");
  ExpectTrue(s.port->SendAsync(5, nullptr, 0, 4, false).ok(), "started");
  Frame second;
  ExpectTrue(s.host->ReadType(FLTSIM_SEND, &second), "async SEND");
  s.host->Send(FLTSIM_SEND_RESULT, second.tag, CompletionBody(0, 2, {7, 7}));
  s.host->Send(FLTSIM_SEND_RESULT, first.tag, CompletionBody(0, 3, {1, 2, 3}));
  sender.join();
  ExpectTrue(blocking.get_future().get().ok(), "blocking S_OK");
  ExpectEq(n, 3u, "its own count");
  ExpectTrue(s.events.WaitReads(1), "async outcome");
  auto reads = s.events.Reads();
  ExpectTrue(reads.size() == 1 && reads[0].token == 5 && reads[0].bytes == Bytes({7, 7}),
             "its own bytes");
  s.port->Close();
}

// The host breaks the protocol on an asynchronous send (more bytes than its output buffer, a
// tag nobody issued): the session fails, and every send still owed is answered 0x80070006
// before OnStopped.
void TestSendAsyncProtocolErrorsFailTheSessionAndSettleEverySend() {
  for (const bool unknown_tag : {false, true}) {
    const char* what = unknown_tag ? "SEND_RESULT for an unknown tag" : "SEND_RESULT over capacity";
    Session s;
    if (!ExpectTrue(s.Open(Options(1)), what)) continue;
    ExpectTrue(s.port->SendAsync(1, nullptr, 0, 2, false).ok(), "first started");
    ExpectTrue(s.port->SendAsync(2, nullptr, 0, 2, false).ok(), "second started");
    Frame f;
    ExpectTrue(s.host->ReadType(FLTSIM_SEND, &f), "SEND");
    const uint64_t tag = unknown_tag ? f.tag + 1000 : f.tag;
    s.host->Send(FLTSIM_SEND_RESULT, tag, CompletionBody(0, 3, {1, 2, 3}));
    ExpectTrue(s.events.WaitStopped(), what);
    ExpectEq(s.events.reason(), StopReason::kFailed, what);
    ExpectEq(s.events.status().origin, StatusOrigin::kProtocol, what);
    auto reads = s.events.Reads();
    ExpectEq(reads.size(), size_t(2), "both answered");
    for (const auto& r : reads) {
      ExpectEq(r.status.hresult, 0x80070006u, "0x80070006");
      ExpectEq(r.status.ntstatus, kPortDisconnected, "STATUS_PORT_DISCONNECTED");
      ExpectTrue(r.bytes.empty(), "no bytes");
    }
    ExpectEq(s.port->SendAsync(3, nullptr, 0, 0, true).hresult, 0x80070006u, "refused after the stop");
    s.port->Close();
    ExpectEq(s.events.Reads().size(), size_t(2), "nothing for the refused one");
    ExpectEq(s.events.contract_violations(), 0, "callback contract");
  }
}

// ---- close ---------------------------------------------------------------------------------

void TestCloseCancelsDrainsAndFailsPendingSends() {
  Session s;
  ExpectTrue(s.Open(Options(2)), "open");
  std::promise<Status> sent;
  std::thread sender([&] {
    uint32_t n = 0;
    sent.set_value(s.port->Send(nullptr, 0, nullptr, 0, &n));
  });
  Frame send;
  ExpectTrue(s.host->ReadType(FLTSIM_SEND, &send), "send in flight");
  std::thread closer([&] { s.port->Close(); });
  Frame cancel;
  ExpectTrue(s.host->ReadType(FLTSIM_CANCEL, &cancel), "CANCEL");
  ExpectEq(cancel.U64(0), uint64_t(FLTSIM_CANCEL_ALL), "cancel all");
  ExpectEq(s.events.stopped(), 0, "not stopped while a GET is pending");
  s.Complete(s.gets[0].tag, kCancelled, 0);
  // A message that raced the cancel is still delivered, before OnStopped.
  s.Deliver(s.gets[1].tag, 41, {1});
  closer.join();
  ExpectEq(s.events.stopped(), 1, "stopped once");
  ExpectEq(s.events.reason(), StopReason::kClosed, "closed");
  ExpectTrue(s.events.status().ok(), "no error");
  ExpectEq(s.events.Messages().size(), size_t(1), "raced message delivered");
  auto f = sent.get_future();
  ExpectTrue(f.wait_for(std::chrono::seconds(2)) == std::future_status::ready, "send released");
  ExpectEq(f.get().hresult, 0x80070006u, "0x80070006");
  sender.join();
  ExpectTrue(s.host->WaitEof(), "host sees the handle close");
  ExpectEq(s.posix()->phase(), fltport::core::SessionPhase::kClosed, "closed phase");
  uint32_t n = 0;
  ExpectEq(s.port->Send(nullptr, 0, nullptr, 0, &n).hresult, 0x80070006u, "send after close");
  ExpectEq(s.events.contract_violations(), 0, "callback contract");
}

// SENDs are not drained: Close() waits for the receives only, and the asynchronous send the
// driver never answered gets 0x80070006 in the final batch.
void TestCloseAnswersPendingAsyncSendsBeforeOnStopped() {
  Session s;
  ExpectTrue(s.Open(Options(1)), "open");
  ExpectTrue(s.port->SendAsync(9, nullptr, 0, 8, false).ok(), "started");
  Frame send;
  ExpectTrue(s.host->ReadType(FLTSIM_SEND, &send), "send in flight");
  std::thread closer([&] { s.port->Close(); });
  Frame cancel;
  ExpectTrue(s.host->ReadType(FLTSIM_CANCEL, &cancel), "CANCEL");
  s.Complete(s.gets[0].tag, kCancelled, 0);
  closer.join();
  ExpectEq(s.events.stopped(), 1, "stopped");
  auto reads = s.events.Reads();
  ExpectTrue(reads.size() == 1 && reads[0].token == 9, "the send was answered");
  if (!reads.empty()) {
    ExpectEq(reads[0].status.hresult, 0x80070006u, "0x80070006");
    ExpectEq(reads[0].status.syscall, std::string("FilterSendMessage"), "syscall");
  }
  ExpectEq(s.events.contract_violations(), 0, "answered before OnStopped");
  ExpectEq(s.port->SendAsync(10, nullptr, 0, 0, true).hresult, 0x80070006u, "refused after close");
  ExpectEq(s.events.Reads().size(), size_t(1), "and no outcome for it");
}

void TestCloseIsIdempotentAndConcurrent() {
  Session s;
  ExpectTrue(s.Open(Options(1)), "open");
  std::thread a([&] { s.port->Close(); });
  std::thread b([&] { s.port->Close(); });
  Frame cancel;
  ExpectTrue(s.host->ReadType(FLTSIM_CANCEL, &cancel), "one CANCEL");
  s.Complete(s.gets[0].tag, kCancelled, 0);
  a.join();
  b.join();
  s.port->Close();
  ExpectEq(s.events.stopped(), 1, "OnStopped exactly once");
  ExpectEq(s.events.reason(), StopReason::kClosed, "closed");
  ExpectTrue(s.host->WaitEof(), "closed stream");
}

void TestCloseGivesUpAfterTheDrainTimeout() {
  Session s;
  ExpectTrue(s.Open(Options(2)), "open");
  s.posix()->set_drain_timeout(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  s.port->Close();  // the host never completes the cancelled GETs
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  ExpectTrue(ms >= 290 && ms < 3000, "bounded wait: " + std::to_string(ms) + " ms");
  ExpectEq(s.events.stopped(), 1, "stopped");
  ExpectEq(s.events.reason(), StopReason::kClosed, "closed");
  ExpectTrue(s.host->WaitEof(), "closed stream");
}

// ---- flow control and buffer growth ---------------------------------------------------------

void TestFlowControlStopsAtHighWaterAndConsumedReopens() {
  Session s;
  PortOptions o = Options(2);
  o.high_water_mark = 3;
  ExpectTrue(s.Open(o), "open");
  std::vector<Frame> pending = s.gets;
  uint64_t id = 1;
  int armed_total = 2;
  // Complete whatever is pending, one at a time, collecting re-arms, until the backend
  // stops re-arming: it must stop with 3 unconsumed (no re-arm at the mark) after 4
  // deliveries (the 2 in flight when the mark was reached also land).
  while (!pending.empty()) {
    Frame g = pending.front();
    pending.erase(pending.begin());
    s.Deliver(g.tag, id++, {uint8_t(id)});
    ExpectTrue(s.events.WaitMessages(size_t(id - 1)), "delivered");
    Frame again;
    if (s.host->Read(&again, 300)) {
      ExpectEq(again.type, uint16_t(FLTSIM_GET), "a re-arm");
      pending.push_back(again);
      ++armed_total;
    }
    ExpectTrue(pending.size() <= 2, "never more than concurrency pending");
  }
  ExpectEq(id - 1, uint64_t(4), "four delivered");
  ExpectEq(armed_total, 4, "re-armed only below the mark");
  ExpectTrue(s.host->Silent(300), "window closed: no GET");
  s.port->Consumed(1);  // 4 -> 3: still at the mark
  ExpectTrue(s.host->Silent(300), "still closed at the mark");
  s.port->Consumed(1);  // 3 -> 2: reopens, and both slots may be armed
  Frame g1, g2;
  ExpectTrue(s.host->ReadType(FLTSIM_GET, &g1, 2000), "re-armed after Consumed");
  ExpectTrue(s.host->ReadType(FLTSIM_GET, &g2, 2000), "second slot re-armed");
  ExpectTrue(s.host->Silent(200), "no more than concurrency");
  s.Complete(g1.tag, kCancelled, 0);
  s.Complete(g2.tag, kCancelled, 0);
  s.port->Close();
}

void TestBufferTooSmallGrowsTheSlotAndBeyondMaxIsAFault() {
  Session s;
  PortOptions o = Options(1, 64);
  o.max_message_size = 4096;
  ExpectTrue(s.Open(o), "open");
  s.Complete(s.gets[0].tag, kBufferTooSmall, 100);
  Frame g;
  ExpectTrue(s.host->ReadType(FLTSIM_GET, &g), "re-posted");
  ExpectEq(g.tag, s.gets[0].tag, "same slot");
  ExpectEq(g.U32(0), 104u, "grown to the required size, 8-aligned");
  const Bytes big = MessageBytes(0, 5, Bytes(88));  // 104 bytes now fit
  s.Complete(g.tag, kSuccess, uint32_t(big.size()), big);
  ExpectTrue(s.events.WaitMessages(1), "delivered after growth");
  ExpectTrue(s.host->ReadType(FLTSIM_GET, &g), "re-armed");
  ExpectEq(g.U32(0), 104u, "keeps its grown size");
  s.Complete(g.tag, kBufferTooSmall, 5000);  // more than max_message_size
  ExpectTrue(s.events.WaitFaults(1), "a fault");
  auto faults = s.events.Faults();
  if (faults.size() == 1) {
    ExpectEq(faults[0].required_size, 5000u, "required size reported");
    ExpectEq(faults[0].status.hresult, 0x8007007Au, "ERROR_INSUFFICIENT_BUFFER");
    ExpectEq(faults[0].status.origin, StatusOrigin::kWin32, "a completion status");
  }
  ExpectTrue(s.host->ReadType(FLTSIM_GET, &g), "re-posted");
  ExpectEq(g.U32(0), 104u, "at the old size");
  s.Complete(g.tag, kCancelled, 0);
  s.port->Close();
}

// ---- disconnect ----------------------------------------------------------------------------

void TestDisconnectStopsRearmingAndReportsAfterEverythingCompleted() {
  Session s;
  ExpectTrue(s.Open(Options(2)), "open");
  s.posix()->set_drain_timeout(std::chrono::seconds(10));  // the host answers; never give up
  s.port->Reply(1, 9, 0, nullptr, 0);
  Frame reply;
  ExpectTrue(s.host->ReadType(FLTSIM_REPLY, &reply), "reply in flight");
  s.Complete(s.gets[0].tag, kPortDisconnected, 0);
  ExpectTrue(s.host->Silent(300), "no re-arm after a disconnect");
  ExpectEq(s.events.stopped(), 0, "a GET is still pending");
  s.Complete(s.gets[1].tag, kPortDisconnected, 0);
  ExpectTrue(!s.events.WaitStopped(300), "a reply is still pending");
  s.host->Send(FLTSIM_REPLY_RESULT, reply.tag, StatusBody(kPortDisconnected));
  ExpectTrue(s.events.WaitStopped(), "stopped");
  ExpectEq(s.events.reason(), StopReason::kDisconnected, "disconnected");
  ExpectEq(s.events.status().hresult, 0x80070006u, "ERROR_INVALID_HANDLE");
  ExpectEq(s.events.status().ntstatus, kPortDisconnected, "ntstatus kept");
  auto outs = s.events.Replies();
  ExpectTrue(outs.size() == 1 && outs[0].token == 1 && outs[0].status.hresult == 0x80070006u,
             "the reply's outcome came before OnStopped");
  const Status refused = s.port->Reply(2, 10, 0, nullptr, 0);
  ExpectEq(refused.hresult, 0x80070006u, "a reply after the stop is refused: the caller settles it");
  ExpectEq(refused.ntstatus, kPortDisconnected, "with STATUS_PORT_DISCONNECTED");
  ExpectEq(refused.syscall, std::string("FilterReplyMessage"), "syscall");
  ExpectTrue(s.host->Silent(200), "nothing sent after the stop");
  uint32_t n = 0;
  ExpectEq(s.port->Send(nullptr, 0, nullptr, 0, &n).hresult, 0x80070006u, "send after stop");
  ExpectEq(s.posix()->phase(), fltport::core::SessionPhase::kDisconnected, "phase");
  s.port->Close();
  ExpectEq(s.events.stopped(), 1, "Close adds no second OnStopped");
  ExpectEq(s.events.Replies().size(), size_t(1), "no outcome after OnStopped");
  ExpectTrue(s.host->WaitEof(), "the handle is closed by Close");
  ExpectEq(s.events.contract_violations(), 0, "callback contract");
}

// A disconnect answers the asynchronous sends still at the driver (0x80070006) in the final
// batch, before OnStopped; later ones are refused at once.
void TestDisconnectAnswersPendingAsyncSends() {
  Session s;
  ExpectTrue(s.Open(Options(1)), "open");
  ExpectTrue(s.port->SendAsync(1, nullptr, 0, 4, false).ok(), "started");
  Frame send;
  ExpectTrue(s.host->ReadType(FLTSIM_SEND, &send), "send in flight");
  s.Complete(s.gets[0].tag, kPortDisconnected, 0);
  ExpectTrue(s.events.WaitStopped(), "stopped");
  ExpectEq(s.events.reason(), StopReason::kDisconnected, "disconnected");
  auto reads = s.events.Reads();
  ExpectTrue(reads.size() == 1 && reads[0].token == 1 && reads[0].status.hresult == 0x80070006u,
             "answered 0x80070006");
  ExpectEq(s.events.contract_violations(), 0, "before OnStopped");
  Status late = s.port->SendAsync(2, nullptr, 0, 4, false);
  ExpectEq(late.hresult, 0x80070006u, "refused after the disconnect");
  ExpectEq(late.syscall, std::string("FilterSendMessage"), "as FilterSendMessage");
  // The host's late answer to the first one is not read any more: the I/O thread has ended.
  s.host->Send(FLTSIM_SEND_RESULT, send.tag, CompletionBody(0, 0));
  s.port->Close();
  ExpectEq(s.events.Reads().size(), size_t(1), "exactly one outcome");
}

// ---- EINTR ---------------------------------------------------------------------------------

std::atomic<int> g_signals{0};
void CountSignal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

// SIGUSR1 without SA_RESTART at every thread of the process, thousands of times, while
// messages, replies and sends flow: poll/recv/send see EINTR and nothing is lost.
void TestSignalsInterruptingEveryThreadLoseNothing() {
  struct sigaction sa{};
  sa.sa_handler = CountSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  struct sigaction old{};
  sigaction(SIGUSR1, &sa, &old);
  Session s;
  ExpectTrue(s.Open(Options(1)), "open");
  std::atomic<bool> stop{false};
  std::thread storm([&] {
    const pid_t pid = getpid();
    while (!stop.load()) {
      DIR* d = opendir("/proc/self/task");
      if (!d) break;
      while (dirent* e = readdir(d)) {
        const int tid = atoi(e->d_name);
        if (tid > 0 && tid != static_cast<int>(syscall(SYS_gettid))) {
          syscall(SYS_tgkill, pid, tid, SIGUSR1);
        }
      }
      closedir(d);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  constexpr int kMessages = 300;
  uint64_t tag = s.gets[0].tag;
  for (int i = 0; i < kMessages; ++i) {
    s.Deliver(tag, uint64_t(i + 1), Bytes(100, uint8_t(i)), 17);
    s.port->Consumed(1);
    Frame g;
    if (!ExpectTrue(s.host->ReadType(FLTSIM_GET, &g), "re-armed")) break;
    tag = g.tag;
  }
  ExpectTrue(s.events.WaitMessages(kMessages, 10000), "every message");
  std::promise<Status> sent;
  std::thread sender([&] {
    uint32_t n = 0;
    uint8_t out[4];
    sent.set_value(s.port->Send(nullptr, 0, out, 4, &n));
  });
  Frame f;
  ExpectTrue(s.host->ReadType(FLTSIM_SEND, &f), "send");
  // The sender waits, signalled, until the storm has delivered enough signals (how many the
  // message loop above saw depends on how fast this machine ran it).
  const auto storm_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (g_signals.load() <= 100 && std::chrono::steady_clock::now() < storm_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  s.host->Send(FLTSIM_SEND_RESULT, f.tag, CompletionBody(0, 4, {1, 2, 3, 4}));
  sender.join();
  ExpectTrue(sent.get_future().get().ok(), "send survived the storm");
  stop = true;
  storm.join();
  auto msgs = s.events.Messages();
  bool in_order = msgs.size() == size_t(kMessages);
  for (size_t i = 0; in_order && i < msgs.size(); ++i) {
    in_order = msgs[i].id == i + 1 && msgs[i].payload == Bytes(100, uint8_t(i));
  }
  ExpectTrue(in_order, "all intact, in order");
  ExpectTrue(g_signals.load() > 100, "signals were delivered: " + std::to_string(g_signals.load()));
  ExpectEq(s.events.stopped(), 0, "no spurious stop");
  std::thread closer([&] { s.port->Close(); });
  Frame cancel;
  ExpectTrue(s.host->ReadType(FLTSIM_CANCEL, &cancel), "CANCEL");
  s.Complete(tag, kCancelled, 0);
  closer.join();
  sigaction(SIGUSR1, &old, nullptr);
}

// ---- runtime directory ---------------------------------------------------------------------

void TestRuntimeDirResolution() {
  using fltport::posix::RuntimeDir;
  const char* saved_env = getenv("FLTSIM_RUNTIME_DIR");
  const char* saved_xdg = getenv("XDG_RUNTIME_DIR");
  const std::string env_copy = saved_env ? saved_env : "", xdg_copy = saved_xdg ? saved_xdg : "";
  setenv("FLTSIM_RUNTIME_DIR", "/env/dir", 1);
  setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
  ExpectEq(RuntimeDir::SocketPath("/explicit/"), std::string("/explicit/fltsim.sock"), "explicit first");
  ExpectEq(RuntimeDir::SocketPath(""), std::string("/env/dir/fltsim.sock"), "then the env variable");
  setenv("FLTSIM_RUNTIME_DIR", "", 1);
  ExpectEq(RuntimeDir::SocketPath(""), std::string("/run/user/7/fltsim/fltsim.sock"), "then XDG");
  unsetenv("FLTSIM_RUNTIME_DIR");
  unsetenv("XDG_RUNTIME_DIR");
  ExpectEq(RuntimeDir::Resolve(""), "/tmp/fltsim-" + std::to_string(getuid()), "then /tmp/fltsim-<uid>");
  if (saved_env) setenv("FLTSIM_RUNTIME_DIR", env_copy.c_str(), 1);
  if (saved_xdg) setenv("XDG_RUNTIME_DIR", xdg_copy.c_str(), 1);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_DFL);  // the backend must never raise it: let it kill us if it does
  return fltport::test::Main(
      argc, argv,
      {
          {"connect_without_host_is_enoent", &TestConnectWithoutHostIsEnoent},
          {"connect_refused_when_nobody_listens", &TestConnectRefusedWhenNobodyListens},
          {"hello_and_connect_carry_the_arguments", &TestHelloAndConnectCarryTheArguments},
          {"connect_failures_translate_like_fltlib", &TestConnectFailuresTranslateLikeFltlib},
          {"context_of_0xffe8_is_integer_overflow", &TestContextOf0xFFE8IsIntegerOverflowBeforeAnyIo},
          {"argument_checks", &TestArgumentChecks},
          {"arms_concurrency_gets", &TestArmsConcurrencyGets},
          {"one_wakeup_one_batch", &TestOneWakeupOneBatch},
          {"frames_split_across_reads", &TestFramesSplitAcrossReads},
          {"malformed_frames_end_the_session_with_protocol", &TestMalformedFramesEndTheSessionWithProtocol},
          {"host_closing_the_stream_is_econnreset", &TestHostClosingTheStreamIsEconnreset},
          {"reply_builds_the_header_and_maps_the_result", &TestReplyBuildsTheHeaderAndMapsTheResult},
          {"successful_reply_outcomes_ride_with_the_next_batch", &TestSuccessfulReplyOutcomesRideWithTheNextBatch},
          {"close_flushes_a_lingering_outcome", &TestCloseFlushesALingeringOutcome},
          {"send_async_outcomes_never_linger", &TestSendAsyncOutcomesNeverLinger},
          {"sends_run_concurrently_and_route_by_tag", &TestSendsRunConcurrentlyAndRouteByTag},
          {"send_async_writes_at_once_and_answers_in_a_batch", &TestSendAsyncWritesAtOnceAndAnswersInABatch},
          {"send_and_send_async_route_by_tag", &TestSendAndSendAsyncRouteByTag},
          {"send_async_protocol_errors_settle_every_send", &TestSendAsyncProtocolErrorsFailTheSessionAndSettleEverySend},
          {"close_cancels_drains_and_fails_pending_sends", &TestCloseCancelsDrainsAndFailsPendingSends},
          {"close_answers_pending_async_sends_before_on_stopped", &TestCloseAnswersPendingAsyncSendsBeforeOnStopped},
          {"close_is_idempotent_and_concurrent", &TestCloseIsIdempotentAndConcurrent},
          {"close_gives_up_after_the_drain_timeout", &TestCloseGivesUpAfterTheDrainTimeout},
          {"flow_control_stops_at_high_water_and_consumed_reopens", &TestFlowControlStopsAtHighWaterAndConsumedReopens},
          {"buffer_too_small_grows_the_slot", &TestBufferTooSmallGrowsTheSlotAndBeyondMaxIsAFault},
          {"disconnect_stops_rearming_and_reports_last", &TestDisconnectStopsRearmingAndReportsAfterEverythingCompleted},
          {"disconnect_answers_pending_async_sends", &TestDisconnectAnswersPendingAsyncSends},
          {"signals_interrupting_every_thread_lose_nothing", &TestSignalsInterruptingEveryThreadLoseNothing},
          {"runtime_dir_resolution", &TestRuntimeDirResolution},
      });
}
