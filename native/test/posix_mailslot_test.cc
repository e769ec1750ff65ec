// native/posix's mailslot server and writer against a scripted wire peer: the frames they
// send, the ReadFile-style status mapping, Info/SetReadTimeout conversions, close.
#include <future>
#include <string>
#include <thread>

#include "MailslotBackendPosix.h"
#include "TestHarness.h"
#include "posix_test_peer.h"

using fltport::core::MailslotInfo;
using fltport::core::MailslotOptions;
using fltport::core::MailslotServer;
using fltport::core::MessageBatch;
using fltport::core::ReadOutcome;
using fltport::core::Status;
using fltport::core::StatusOrigin;
using fltport::posix::Frame;
using fltport::posix::MailslotBackendPosix;
using fltport::test::Bytes;
using fltport::test::Cat;
using fltport::test::CompletionBody;
using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;
using fltport::test::PeerStream;
using fltport::test::StatusBody;
using fltport::test::TestWirePeer;
using fltport::test::U32Le;
using fltport::test::U64Le;

namespace {

class RecordingMailslotEvents : public fltport::core::MailslotEvents {
 public:
  void OnBatch(std::unique_ptr<MessageBatch> batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) ++violations_;
    for (const ReadOutcome& r : batch->reads()) {
      reads_.push_back({r.token, r.status, r.required_size,
                        Bytes(batch->bytes().begin() + r.offset,
                              batch->bytes().begin() + r.offset + r.length)});
    }
    cv_.notify_all();
  }
  void OnStopped(const Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++stopped_;
    status_ = status;
    cv_.notify_all();
  }
  struct Read {
    uint64_t token;
    Status status;
    uint32_t required;
    Bytes data;
  };
  bool WaitReads(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return reads_.size() >= n; });
  }
  bool WaitStopped() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return stopped_ > 0; });
  }
  std::vector<Read> reads() {
    std::lock_guard<std::mutex> lock(mu_);
    return reads_;
  }
  int stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }
  Status status() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  int violations() {
    std::lock_guard<std::mutex> lock(mu_);
    return violations_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Read> reads_;
  int stopped_ = 0;
  int violations_ = 0;
  Status status_;
};

struct Server {
  TestWirePeer peer;
  RecordingMailslotEvents events;
  std::unique_ptr<PeerStream> host;
  std::unique_ptr<MailslotServer> slot;
  Status status;
  Frame create;

  bool Open(MailslotOptions o, uint32_t create_status = 0) {
    o.sim_runtime_dir = peer.dir();
    std::thread client([&] { slot = MailslotServer::Create(o, &events, &status); });
    host = peer.AcceptHello(FLTSIM_KIND_MAILSLOT);
    const bool ok = host && host->Read(&create) && create.type == FLTSIM_MS_CREATE;
    if (ok) host->Send(FLTSIM_MS_OPEN_RESULT, create.tag, StatusBody(create_status));
    client.join();
    if (slot) dynamic_cast<MailslotBackendPosix*>(slot.get())->set_drain_timeout(std::chrono::milliseconds(300));
    return ok && slot != nullptr;
  }
};

MailslotOptions Options(uint32_t timeout_ms) {
  MailslotOptions o;
  o.name = u"\\\\.\\mailslot\\fltport\\notes";
  o.max_message_size = 424;
  o.read_timeout_ms = timeout_ms;
  return o;
}

void TestTimeoutConversions() {
  ExpectEq(MailslotBackendPosix::NtTimeoutFromMs(0), int64_t(0), "0 = immediate");
  ExpectEq(MailslotBackendPosix::NtTimeoutFromMs(250), int64_t(-2500000), "250 ms relative");
  ExpectEq(MailslotBackendPosix::NtTimeoutFromMs(0xFFFFFFFF), int64_t(-1), "forever = -1");
  ExpectEq(MailslotBackendPosix::NtTimeoutFromMs(0xFFFFFFFE), int64_t(-0xFFFFFFFEll * 10000),
           "largest finite wait");
  uint32_t ms = 1;
  ExpectTrue(MailslotBackendPosix::MsFromNtTimeout(-1, &ms), "-1");
  ExpectEq(ms, 0xFFFFFFFFu, "-1 is forever");
  ExpectTrue(MailslotBackendPosix::MsFromNtTimeout(INT64_MAX, &ms), "INT64_MAX");
  ExpectEq(ms, 0xFFFFFFFFu, "Wine's forever");
  ExpectTrue(MailslotBackendPosix::MsFromNtTimeout(0, &ms), "0");
  ExpectEq(ms, 0u, "immediate");
  ExpectTrue(MailslotBackendPosix::MsFromNtTimeout(-2500000, &ms), "relative");
  ExpectEq(ms, 250u, "250 ms");
  ExpectTrue(MailslotBackendPosix::MsFromNtTimeout(-2500001, &ms), "truncates like kernel32");
  ExpectEq(ms, 250u, "250 ms");
  ExpectTrue(MailslotBackendPosix::MsFromNtTimeout(INT64_MIN + 1, &ms), "huge");
  ExpectEq(ms, 0xFFFFFFFEu, "a huge finite wait does not become forever");
  ExpectTrue(!MailslotBackendPosix::MsFromNtTimeout(132000000000000000ll, &ms), "absolute refused");
}

void TestCreateSendsTheParameters() {
  Server s;
  ExpectTrue(s.Open(Options(250)), "created");
  ExpectEq(s.create.U32(0), 424u, "MaximumMessageSize");
  ExpectEq(s.create.U32(4), 0u, "MailslotQuota automatic");
  ExpectEq(s.create.I64(8), int64_t(-2500000), "ReadTimeout NT form");
  ExpectEq(s.create.U16(16), uint16_t(2 * 26), "NameBytes");
  ExpectTrue(fltport::test::Utf16FromBody(s.create, 24, 52) == Options(0).name, "UTF-16LE name");
  s.slot->Close();
  ExpectEq(s.events.stopped(), 1, "stopped once");
  ExpectTrue(s.events.status().ok(), "closed without error");
}

void TestCreateCollisionIsErrorAlreadyExists() {
  Server s;
  ExpectTrue(!s.Open(Options(0), 0xC0000035), "refused");
  ExpectEq(s.status.origin, StatusOrigin::kWin32, "a Win32 API's error");
  ExpectEq(s.status.win32, 183u, "ERROR_ALREADY_EXISTS");
  ExpectEq(s.status.hresult, 0x800700B7u, "hresult");
  ExpectEq(s.status.syscall, std::string("CreateMailslotW"), "syscall");
  ExpectEq(s.events.stopped(), 0, "never started");
}

void TestReadOutcomesMapLikeReadFile() {
  Server s;
  ExpectTrue(s.Open(Options(0)), "created");
  s.slot->Read(1, 100);
  s.slot->Read(2, 100);
  s.slot->Read(3, 8);
  Frame r1, r2, r3;
  ExpectTrue(s.host->ReadType(FLTSIM_MS_READ, &r1), "read 1");
  ExpectTrue(s.host->ReadType(FLTSIM_MS_READ, &r2), "read 2");
  ExpectTrue(s.host->ReadType(FLTSIM_MS_READ, &r3), "read 3");
  ExpectEq(r1.U32(0), 100u, "BufferSize");
  ExpectEq(r3.U32(0), 8u, "BufferSize");
  // Answered out of order, in one write.
  s.host->Write(Cat({fltport::test::Frame(FLTSIM_MS_READ_COMPLETE, r3.tag, CompletionBody(0xC0000023, 42)),
                     fltport::test::Frame(FLTSIM_MS_READ_COMPLETE, r1.tag, CompletionBody(0, 5, {'h', 'e', 'l', 'l', 'o'})),
                     fltport::test::Frame(FLTSIM_MS_READ_COMPLETE, r2.tag, CompletionBody(0xC00000B5, 0))}));
  ExpectTrue(s.events.WaitReads(3), "three outcomes");
  auto reads = s.events.reads();
  if (reads.size() == 3) {
    ExpectEq(reads[0].token, uint64_t(3), "token 3 first");
    ExpectEq(reads[0].status.win32, 122u, "ERROR_INSUFFICIENT_BUFFER");
    ExpectEq(reads[0].required, 42u, "size of the waiting message");
    ExpectEq(reads[1].token, uint64_t(1), "token 1");
    ExpectTrue(reads[1].status.ok(), "read ok");
    ExpectTrue(reads[1].data == Bytes({'h', 'e', 'l', 'l', 'o'}), "bytes");
    ExpectEq(reads[2].token, uint64_t(2), "token 2");
    ExpectEq(reads[2].status.win32, 121u, "ERROR_SEM_TIMEOUT");
    ExpectEq(reads[2].status.hresult, 0x80070079u, "hresult");
    ExpectEq(reads[2].status.syscall, std::string("ReadFile"), "syscall");
  }
  s.slot->Close();
}

void TestCloseCancelsPendingReads() {
  Server s;
  ExpectTrue(s.Open(Options(0xFFFFFFFF)), "created");
  s.slot->Read(9, 64);
  Frame r;
  ExpectTrue(s.host->ReadType(FLTSIM_MS_READ, &r), "read");
  std::thread closer([&] { s.slot->Close(); });
  Frame cancel;
  ExpectTrue(s.host->ReadType(FLTSIM_CANCEL, &cancel), "CANCEL");
  ExpectEq(cancel.U64(0), uint64_t(FLTSIM_CANCEL_ALL), "all");
  s.host->Send(FLTSIM_MS_READ_COMPLETE, r.tag, CompletionBody(0xC0000120, 0));
  closer.join();
  auto reads = s.events.reads();
  ExpectTrue(reads.size() == 1 && reads[0].token == 9 && reads[0].status.win32 == 995,
             "ERROR_OPERATION_ABORTED");
  ExpectEq(s.events.stopped(), 1, "stopped once");
  ExpectTrue(s.host->WaitEof(), "handle closed");
  s.slot->Close();
  ExpectEq(s.events.stopped(), 1, "idempotent");
  ExpectEq(s.events.violations(), 0, "no batch after OnStopped");
}

void TestCloseWithAnUnansweredReadStillSettlesIt() {
  Server s;
  ExpectTrue(s.Open(Options(0xFFFFFFFF)), "created");
  s.slot->Read(4, 64);
  Frame r;
  ExpectTrue(s.host->ReadType(FLTSIM_MS_READ, &r), "read");
  s.slot->Close();  // the host ignores the CANCEL: the 300 ms drain bound ends it
  auto reads = s.events.reads();
  ExpectTrue(reads.size() == 1 && reads[0].token == 4 && reads[0].status.win32 == 995,
             "settled as cancelled");
}

void TestInfoAndSetReadTimeout() {
  Server s;
  ExpectTrue(s.Open(Options(0)), "created");
  std::promise<Status> info_done;
  MailslotInfo info{};
  std::thread asker([&] { info_done.set_value(s.slot->Info(&info)); });
  Frame q;
  ExpectTrue(s.host->ReadType(FLTSIM_MS_QUERY, &q), "MS_QUERY");
  ExpectEq(q.size(), size_t(0), "empty body");
  s.host->Send(FLTSIM_MS_QUERY_RESULT, q.tag,
               Cat({U32Le(0), U32Le(424), U32Le(0), U32Le(17), U32Le(3), U32Le(0), U64Le(uint64_t(-2500000))}));
  asker.join();
  ExpectTrue(info_done.get_future().get().ok(), "ok");
  ExpectEq(info.max_message_size, 424u, "max");
  ExpectEq(info.next_size, 17u, "next");
  ExpectEq(info.count, 3u, "count");
  ExpectEq(info.read_timeout_ms, 250u, "timeout back in ms");

  std::promise<Status> set_done;
  std::thread setter([&] { set_done.set_value(s.slot->SetReadTimeout(0xFFFFFFFF)); });
  Frame set;
  ExpectTrue(s.host->ReadType(FLTSIM_MS_SET, &set), "MS_SET");
  ExpectEq(set.I64(0), int64_t(-1), "forever on the wire");
  s.host->Send(FLTSIM_MS_SET_RESULT, set.tag, StatusBody(0xC000000D));
  setter.join();
  const Status st = set_done.get_future().get();
  ExpectEq(st.win32, 87u, "a failed set reports its error");
  ExpectEq(st.syscall, std::string("SetMailslotInfo"), "syscall");
  s.slot->Close();
  MailslotInfo after{};
  ExpectEq(s.slot->Info(&after).win32, 6u, "after close: ERROR_INVALID_HANDLE");
}

void TestMalformedAnswerEndsTheStream() {
  Server s;
  ExpectTrue(s.Open(Options(0)), "created");
  s.slot->Read(1, 4);
  Frame r;
  ExpectTrue(s.host->ReadType(FLTSIM_MS_READ, &r), "read");
  // Five bytes into a four-byte buffer: no correct host does that.
  s.host->Send(FLTSIM_MS_READ_COMPLETE, r.tag, CompletionBody(0, 5, {1, 2, 3, 4, 5}));
  ExpectTrue(s.events.WaitStopped(), "stopped");
  ExpectEq(s.events.status().origin, StatusOrigin::kProtocol, "protocol");
  auto reads = s.events.reads();
  ExpectTrue(reads.size() == 1 && reads[0].status.origin == StatusOrigin::kProtocol,
             "the read is settled with the failure");
  ExpectTrue(s.host->WaitEof(), "stream dropped");
  s.slot->Close();
  ExpectEq(s.events.stopped(), 1, "once");
}

void TestWriteOpensWritesAndCloses() {
  TestWirePeer peer;
  const Bytes msg = {'n', 'o', 't', 'e'};
  std::promise<Status> done;
  std::thread writer([&] {
    done.set_value(fltport::core::MailslotWrite(u"\\\\.\\mailslot\\x", msg.data(), 4, peer.dir()));
  });
  auto host = peer.AcceptHello(FLTSIM_KIND_MAILSLOT);
  Frame open, write;
  ExpectTrue(host && host->ReadType(FLTSIM_MS_OPEN, &open), "MS_OPEN");
  ExpectEq(open.U16(0), uint16_t(28), "NameBytes");
  ExpectTrue(fltport::test::Utf16FromBody(open, 8, 28) == u"\\\\.\\mailslot\\x", "name");
  if (host) host->Send(FLTSIM_MS_OPEN_RESULT, open.tag, StatusBody(0));
  ExpectTrue(host && host->ReadType(FLTSIM_MS_WRITE, &write), "MS_WRITE");
  ExpectTrue(write.body == msg, "message bytes");
  if (host) host->Send(FLTSIM_MS_WRITE_RESULT, write.tag, CompletionBody(0, 4));
  writer.join();
  ExpectTrue(done.get_future().get().ok(), "written");
  ExpectTrue(host && host->WaitEof(), "client handle closed");

  std::promise<Status> missing;
  std::thread w2([&] {
    missing.set_value(fltport::core::MailslotWrite(u"\\\\.\\mailslot\\none", msg.data(), 4, peer.dir()));
  });
  auto h2 = peer.AcceptHello(FLTSIM_KIND_MAILSLOT);
  ExpectTrue(h2 && h2->ReadType(FLTSIM_MS_OPEN, &open), "MS_OPEN");
  if (h2) h2->Send(FLTSIM_MS_OPEN_RESULT, open.tag, StatusBody(0xC0000034));
  w2.join();
  const Status st = missing.get_future().get();
  ExpectEq(st.win32, 2u, "ERROR_FILE_NOT_FOUND");
  ExpectEq(st.syscall, std::string("CreateFileW"), "syscall");
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(
      argc, argv,
      {
          {"timeout_conversions", &TestTimeoutConversions},
          {"create_sends_the_parameters", &TestCreateSendsTheParameters},
          {"create_collision_is_error_already_exists", &TestCreateCollisionIsErrorAlreadyExists},
          {"read_outcomes_map_like_readfile", &TestReadOutcomesMapLikeReadFile},
          {"close_cancels_pending_reads", &TestCloseCancelsPendingReads},
          {"close_with_an_unanswered_read_still_settles_it", &TestCloseWithAnUnansweredReadStillSettlesIt},
          {"info_and_set_read_timeout", &TestInfoAndSetReadTimeout},
          {"malformed_answer_ends_the_stream", &TestMalformedAnswerEndsTheStream},
          {"write_opens_writes_and_closes", &TestWriteOpensWritesAndCloses},
      });
}
