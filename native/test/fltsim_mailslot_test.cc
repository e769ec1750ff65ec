// fltsim's mailslot engine (spec §10): user servers through MailslotEngine (what the host's
// mailslot sessions call), kernel servers through fltKernel.h (FltCreateMailslotFile,
// ZwReadFile, FltReadFile, ZwQueryInformationFile, ZwSetInformationFile, ZwClose,
// ObDereferenceObject). Statuses are checked with their Win32 errors (core::StatusTable).
#include <thread>

#include "StatusTable.h"
#include "fltsim_test.h"

namespace {

using fltport::core::HresultFromNtStatus;
using fltport::core::Win32FromNtStatus;
using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;
using namespace fltport::fltsim;
using namespace fltport::fltsim::testing;

constexpr int64_t kForever = -1;

std::shared_ptr<Mailslot> Create(Sim& sim, const char* name, uint32_t max = 0, int64_t timeout = kForever) {
  std::shared_ptr<Mailslot> slot;
  ExpectEq(sim.kernel.mailslots().Create(U16(name), max, 0, timeout, false, &slot), 0u, std::string("create ") + name);
  return slot;
}

std::shared_ptr<Mailslot> Open(Sim& sim, const char* name) {
  std::shared_ptr<Mailslot> slot;
  ExpectEq(sim.kernel.mailslots().Open(U16(name), &slot), 0u, std::string("open ") + name);
  return slot;
}

uint32_t Write(Sim& sim, Mailslot& w, const std::string& text) {
  return sim.kernel.mailslots().Write(w, reinterpret_cast<const uint8_t*>(text.data()),
                                      static_cast<uint32_t>(text.size()));
}

void TestFifoWholeMessages() {
  Sim sim;
  auto server = Create(sim, "\\\\.\\mailslot\\a");
  auto writer = Open(sim, "\\\\.\\mailslot\\a");
  for (const char* m : {"one", "", "three!"}) ExpectEq(Write(sim, *writer, m), 0u, "write");
  MailslotInfo info = sim.kernel.mailslots().Query(*server);
  ExpectEq(info.count, 3u, "MessagesAvailable");
  ExpectEq(info.next_size, 3u, "NextMessageSize");
  auto sink = std::make_shared<RecordingMailslotSink>();
  for (uint64_t t = 1; t <= 3; ++t) sim.kernel.mailslots().PostRead(*server, t, 64, sink);
  Completed first = sink->Wait(1);
  ExpectEq(std::string(first.bytes.begin(), first.bytes.end()), std::string("one"), "first");
  Completed empty = sink->Wait(2);
  ExpectEq(empty.status, 0u, "zero-length message reads as success");
  ExpectEq(empty.information, 0u, "0 bytes");
  ExpectEq(sink->Wait(3).information, 6u, "third");
  ExpectEq(sim.kernel.mailslots().Query(*server).next_size, 0xFFFFFFFFu, "MAILSLOT_NO_MESSAGE");
}

void TestReadTimeouts() {
  Sim sim;
  auto immediate = Create(sim, "\\\\.\\mailslot\\zero", 0, 0);
  auto sink = std::make_shared<RecordingMailslotSink>();
  sim.kernel.mailslots().PostRead(*immediate, 1, 8, sink);
  Completed r = sink->Wait(1, 100);
  ExpectEq(r.status, 0xC00000B5u, "timeout 0: STATUS_IO_TIMEOUT at once");
  ExpectEq(Win32FromNtStatus(r.status), 121u, "ERROR_SEM_TIMEOUT");
  ExpectEq(HresultFromNtStatus(r.status), 0x80070079u, "0x80070079");

  auto relative = Create(sim, "\\\\.\\mailslot\\rel", 0, -250 * 10000);
  auto start = Clock::now();
  sim.kernel.mailslots().PostRead(*relative, 2, 8, sink);
  ExpectEq(sink->Wait(2, 3000).status, 0xC00000B5u, "relative timeout");
  ExpectTrue(MsSince(start) >= 240, "waited about 250 ms");

  uint64_t tag = 10;
  for (int64_t forever : {int64_t{-1}, INT64_MAX}) {
    ++tag;
    std::shared_ptr<Mailslot> slot;
    sim.kernel.mailslots().Create(U16(forever == -1 ? "\\\\.\\mailslot\\f1" : "\\\\.\\mailslot\\f2"), 0, 0, forever, false, &slot);
    sim.kernel.mailslots().PostRead(*slot, tag, 8, sink);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    ExpectEq(sink->Count(tag), size_t{0}, "still waiting");
    Write(sim, *slot, "hi");
    ExpectEq(sink->Wait(tag).status, 0u, "completed by the write");
    sim.kernel.mailslots().CloseServer(*slot);
  }
}

void TestTooSmallReadKeepsOrTruncates() {
  Sim sim;
  auto server = Create(sim, "\\\\.\\mailslot\\small");
  Write(sim, *server, "0123456789");  // any Mailslot reference can write in the engine
  auto sink = std::make_shared<RecordingMailslotSink>();
  sim.kernel.mailslots().PostRead(*server, 1, 4, sink);
  Completed r = sink->Wait(1);
  ExpectEq(r.status, 0xC0000023u, "STATUS_BUFFER_TOO_SMALL");
  ExpectEq(Win32FromNtStatus(r.status), 122u, "ERROR_INSUFFICIENT_BUFFER");
  ExpectEq(r.information, 10u, "size needed (fltsim convenience)");
  ExpectEq(sim.kernel.mailslots().Query(*server).count, 1u, "message kept");

  SimOptions o;
  o.ms_small_read = MailslotSmallRead::kTruncate;
  sim.kernel.options().Set(o);
  sim.kernel.mailslots().PostRead(*server, 2, 4, sink);
  Completed t = sink->Wait(2);
  ExpectEq(t.status, 0u, "truncate: success");
  ExpectEq(std::string(t.bytes.begin(), t.bytes.end()), std::string("0123"), "first bytes");
  ExpectEq(sim.kernel.mailslots().Query(*server).count, 0u, "rest dropped");
}

void TestNamesAndCollisions() {
  Sim sim;
  auto server = Create(sim, "\\Device\\Mailslot\\Dir\\Name");
  std::shared_ptr<Mailslot> other;
  for (const char* same : {"\\\\.\\mailslot\\dir\\name", "\\??\\MAILSLOT\\DIR\\NAME", "\\Device\\Mailslot\\dir\\NAME"}) {
    uint32_t st = sim.kernel.mailslots().Create(U16(same), 0, 0, kForever, false, &other);
    ExpectEq(st, 0xC0000035u, std::string("collision: ") + same);
    ExpectEq(Win32FromNtStatus(st), 183u, "ERROR_ALREADY_EXISTS");
    ExpectEq(sim.kernel.mailslots().Open(U16(same), &other), 0u, std::string("open: ") + same);
  }
  ExpectEq(sim.kernel.mailslots().Open(U16("\\\\.\\mailslot\\nope"), &other), 0xC0000034u, "not found");
  ExpectEq(Win32FromNtStatus(0xC0000034), 2u, "ERROR_FILE_NOT_FOUND");
  ExpectEq(sim.kernel.mailslots().Open(U16("\\\\server\\mailslot\\x"), &other), 0xC0000034u, "remote: not simulated");
  ExpectEq(sim.kernel.mailslots().Create(U16("noprefix"), 0, 0, kForever, false, &other), 0xC0000033u,
           "Win32 create: ERROR_INVALID_NAME");
  ExpectEq(sim.kernel.mailslots().Create(U16("noprefix"), 0, 0, kForever, true, &other), 0xC000003Bu,
           "NT create: STATUS_OBJECT_PATH_SYNTAX_BAD");
  ExpectEq(sim.kernel.mailslots().Create(U16("\\\\.\\mailslot\\"), 0, 0, kForever, false, &other), 0xC0000033u,
           "empty name");
  ExpectEq(sim.kernel.mailslots().Create(U16("\\\\*\\mailslot\\x"), 0, 0, kForever, false, &other), 0xC0000033u,
           "cannot create a remote mailslot");
}

void TestMaximumMessageSize() {
  Sim sim;
  auto server = Create(sim, "\\\\.\\mailslot\\max", 4);
  ExpectEq(Write(sim, *server, "1234"), 0u, "at the limit");
  ExpectEq(Write(sim, *server, "12345"), 0xC000000Du, "over: STATUS_INVALID_PARAMETER (default)");
  SimOptions o;
  o.ms_oversize_write_status = 0xC0000023;
  sim.kernel.options().Set(o);
  ExpectEq(Write(sim, *server, "12345"), 0xC0000023u, "option");
  auto any = Create(sim, "\\\\.\\mailslot\\any", 0);
  ExpectEq(Write(sim, *any, std::string(100000, 'x')), 0u, "0 = any size");
}

void TestServerCloseDropsQueue() {
  Sim sim;
  auto server = Create(sim, "\\\\.\\mailslot\\gone");
  auto writer = Open(sim, "\\\\.\\mailslot\\gone");
  Write(sim, *writer, "unread");
  auto sink = std::make_shared<RecordingMailslotSink>();
  auto other = Create(sim, "\\\\.\\mailslot\\pending");
  sim.kernel.mailslots().PostRead(*other, 1, 8, sink);
  sim.kernel.mailslots().CloseServer(*other);
  ExpectEq(sink->Wait(1).status, 0xC0000120u, "pending read cancelled");
  sim.kernel.mailslots().CloseServer(*server);
  ExpectEq(Write(sim, *writer, "late"), 0xC0000008u, "write after close (default)");
  std::shared_ptr<Mailslot> reopened;
  ExpectEq(sim.kernel.mailslots().Open(U16("\\\\.\\mailslot\\gone"), &reopened), 0xC0000034u, "name freed");
  auto fresh = Create(sim, "\\\\.\\mailslot\\gone");
  ExpectEq(sim.kernel.mailslots().Query(*fresh).count, 0u, "the old queue is gone");
}

void TestCancelAndSetTimeout() {
  Sim sim;
  auto server = Create(sim, "\\\\.\\mailslot\\c");
  auto sink = std::make_shared<RecordingMailslotSink>();
  sim.kernel.mailslots().PostRead(*server, 1, 8, sink);
  sim.kernel.mailslots().PostRead(*server, 2, 8, sink);
  sim.kernel.mailslots().Cancel(*server, 1, false);
  ExpectEq(sink->Wait(1).status, 0xC0000120u, "cancelled");
  ExpectEq(Win32FromNtStatus(0xC0000120), 995u, "ERROR_OPERATION_ABORTED");
  Write(sim, *server, "x");
  ExpectEq(sink->Wait(2).status, 0u, "the other read got the message");
  sim.kernel.mailslots().SetReadTimeout(*server, 0);
  ExpectEq(sim.kernel.mailslots().Query(*server).read_timeout, int64_t{0}, "stored");
  sim.kernel.mailslots().PostRead(*server, 3, 8, sink);
  ExpectEq(sink->Wait(3).status, 0xC00000B5u, "new timeout applies");
}

// ---- Kernel API ------------------------------------------------------------------------------

struct KernelSlot {
  HANDLE handle = nullptr;
  PFILE_OBJECT object = nullptr;
  NTSTATUS status = 0;
  IO_STATUS_BLOCK iosb{};
};

KernelSlot KernelCreate(Sim& sim, const char* name, ULONG max, LARGE_INTEGER* timeout, bool with_object = true) {
  KernelSlot k;
  std::u16string n = U16(name) + u'\0';
  UNICODE_STRING us;
  RtlInitUnicodeString(&us, reinterpret_cast<PCWSTR>(n.c_str()));
  OBJECT_ATTRIBUTES oa;
  InitializeObjectAttributes(&oa, &us, OBJ_KERNEL_HANDLE, nullptr, nullptr);
  k.status = FltCreateMailslotFile(sim.F, nullptr, &k.handle, with_object ? &k.object : nullptr,
                                   GENERIC_READ, &oa, &k.iosb, FILE_SYNCHRONOUS_IO_NONALERT, 0, max,
                                   timeout, nullptr);
  return k;
}

void TestKernelCreateAndRead() {
  Sim sim;
  LARGE_INTEGER forever;
  forever.QuadPart = -1;
  KernelSlot k = KernelCreate(sim, "\\Device\\Mailslot\\drv", 0, &forever);
  ExpectEq(S(k.status), 0u, "FltCreateMailslotFile");
  ExpectEq(k.iosb.Information, ULONG_PTR{FILE_CREATED}, "FILE_CREATED");
  auto writer = Open(sim, "\\\\.\\mailslot\\drv");
  Write(sim, *writer, "abc");
  Write(sim, *writer, "defgh");
  FILE_MAILSLOT_QUERY_INFORMATION info{};
  IO_STATUS_BLOCK iosb{};
  ExpectEq(S(ZwQueryInformationFile(k.handle, &iosb, &info, sizeof info, FileMailslotQueryInformation)), 0u, "query");
  ExpectEq(info.MessagesAvailable, 2u, "two messages");
  ExpectEq(info.NextMessageSize, 3u, "next 3");
  ExpectEq(info.ReadTimeout.QuadPart, int64_t{-1}, "timeout as stored");
  char buf[16] = {};
  ExpectEq(S(ZwReadFile(k.handle, nullptr, nullptr, nullptr, &iosb, buf, sizeof buf, nullptr, nullptr)), 0u, "ZwReadFile");
  ExpectEq(iosb.Information, ULONG_PTR{3}, "3 bytes");
  ExpectEq(std::string(buf, 3), std::string("abc"), "data");
  ULONG read = 0;
  ExpectEq(S(FltReadFile(nullptr, k.object, nullptr, 2, buf, 0, &read, nullptr, nullptr)), 0xC0000023u, "too small");
  ExpectEq(read, 0u, "no bytes on failure");
  ExpectEq(S(FltReadFile(nullptr, k.object, nullptr, sizeof buf, buf, 0, &read, nullptr, nullptr)), 0u, "FltReadFile");
  ExpectEq(std::string(buf, read), std::string("defgh"), "second message");
  // A blocked read completes when a message arrives.
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Write(sim, *writer, "z");
  });
  ExpectEq(S(ZwReadFile(k.handle, nullptr, nullptr, nullptr, &iosb, buf, sizeof buf, nullptr, nullptr)), 0u, "blocking read");
  later.join();
  ExpectEq(iosb.Information, ULONG_PTR{1}, "1 byte");
  ExpectEq(S(ZwReadFile(k.handle, reinterpret_cast<HANDLE>(1), nullptr, nullptr, &iosb, buf, 1, nullptr, nullptr)),
           0xC00000BBu, "asynchronous reads are not simulated");
  LARGE_INTEGER zero;
  zero.QuadPart = 0;
  FILE_MAILSLOT_SET_INFORMATION set{&zero};
  ExpectEq(S(ZwSetInformationFile(k.handle, &iosb, &set, sizeof set, FileMailslotSetInformation)), 0u, "set timeout");
  ExpectEq(S(ZwReadFile(k.handle, nullptr, nullptr, nullptr, &iosb, buf, sizeof buf, nullptr, nullptr)), 0xC00000B5u,
           "timeout 0 on empty");
  ExpectEq(S(ZwClose(k.handle)), 0u, "ZwClose");
  ExpectEq(Write(sim, *writer, "still alive"), 0u, "the file object keeps the server");
  ObDereferenceObject(k.object);
  ExpectEq(Write(sim, *writer, "gone"), 0xC0000008u, "both released: server closed");
  ExpectEq(S(ZwClose(k.handle)), 0xC0000008u, "closed handle");
}

void TestKernelCreateErrors() {
  Sim sim;
  KernelSlot relative = KernelCreate(sim, "relative", 0, nullptr);
  ExpectEq(S(relative.status), 0xC000003Bu, "relative name");
  ExpectEq(S(relative.iosb.u.Status), 0xC000003Bu, "in the IO_STATUS_BLOCK too");
  Create(sim, "\\\\.\\mailslot\\taken");
  ExpectEq(S(KernelCreate(sim, "\\??\\mailslot\\TAKEN", 0, nullptr).status), 0xC0000035u, "collision");
  KernelSlot k = KernelCreate(sim, "\\Device\\Mailslot\\t", 0, nullptr, false);
  ExpectEq(S(k.status), 0u, "without a file object");
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ZwClose(k.handle);
  });
  char b[4];
  IO_STATUS_BLOCK iosb{};
  ExpectEq(S(ZwReadFile(k.handle, nullptr, nullptr, nullptr, &iosb, b, 4, nullptr, nullptr)), 0xC0000120u,
           "NULL ReadTimeout waits forever; closing cancels it");
  closer.join();
  FltUnregisterFilter(sim.F);
  ExpectEq(S(KernelCreate(sim, "\\Device\\Mailslot\\late", 0, nullptr).status), 0xC01C000Bu, "filter deleting");
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(argc, argv,
                             {
                                 {"user.fifo_whole_messages", &TestFifoWholeMessages},
                                 {"user.read_timeouts", &TestReadTimeouts},
                                 {"user.too_small_read", &TestTooSmallReadKeepsOrTruncates},
                                 {"user.names_and_collisions", &TestNamesAndCollisions},
                                 {"user.maximum_message_size", &TestMaximumMessageSize},
                                 {"user.server_close", &TestServerCloseDropsQueue},
                                 {"user.cancel_and_set_timeout", &TestCancelAndSetTimeout},
                                 {"kernel.create_and_read", &TestKernelCreateAndRead},
                                 {"kernel.create_errors", &TestKernelCreateErrors},
                             });
}
