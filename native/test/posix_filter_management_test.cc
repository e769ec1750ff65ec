// core::FilterManagement on POSIX against a scripted control peer: the command lines sent,
// the parsing of list answers, error statuses translated like fltlib, malformed answers.
#include <future>
#include <string>
#include <thread>

#include "ControlClient.h"
#include "FilterManagement.h"
#include "TestHarness.h"
#include "posix_test_peer.h"

using fltport::core::ManagementContext;
using fltport::core::Status;
using fltport::core::StatusOrigin;
using fltport::posix::Frame;
using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;
using fltport::test::TestWirePeer;

namespace {

// Runs `call` on a worker while the peer reads the one command and answers `answer`
// (CONTROL_EVENT `event` first when given). Returns the command line the client sent.
std::string Exchange(TestWirePeer& peer, const std::function<Status()>& call,
                     const std::string& answer, Status* result, const std::string& event = "") {
  std::promise<Status> done;
  std::thread worker([&] { done.set_value(call()); });
  std::string line;
  auto host = peer.AcceptHello(FLTSIM_KIND_CONTROL);
  Frame cmd;
  if (host && host->ReadType(FLTSIM_CONTROL, &cmd)) {
    line.assign(cmd.body.begin(), cmd.body.end());
    if (!event.empty()) {
      host->Send(FLTSIM_CONTROL_EVENT, 0, fltport::test::Bytes(event.begin(), event.end()));
    }
    host->Send(FLTSIM_CONTROL_RESULT, cmd.tag, fltport::test::Bytes(answer.begin(), answer.end()));
  }
  worker.join();
  *result = done.get_future().get();
  return line;
}

void TestListFiltersParsesIndexedEntries() {
  TestWirePeer peer;
  ManagementContext ctx{peer.dir()};
  std::vector<fltport::core::FilterInfo> filters;
  Status s;
  const std::string sent = Exchange(
      peer, [&] { return fltport::core::ListFilters(ctx, &filters); },
      "ok count=2 name.0=FltportSample altitude.0=370020 instances.0=1 frame.0=0 legacy.0=0 "
      "name.1=Caf%C3%A9%20Filter altitude.1=385100 instances.1=0x10 frame.1=1 legacy.1=1\n",
      &s, "filter.loaded name=x");
  ExpectEq(sent, std::string("filters.list"), "command");
  ExpectTrue(s.ok(), "ok");
  ExpectEq(filters.size(), size_t(2), "two filters");
  if (filters.size() == 2) {
    ExpectTrue(filters[0].name == u"FltportSample", "name 0");
    ExpectTrue(filters[0].altitude == u"370020", "altitude 0");
    ExpectEq(filters[0].instance_count, 1u, "instances 0");
    ExpectTrue(!filters[0].legacy, "not legacy");
    ExpectTrue(filters[1].name == u"Caf\u00e9 Filter", "percent-decoded UTF-8 name");
    ExpectEq(filters[1].instance_count, 16u, "hex number");
    ExpectEq(filters[1].frame_id, 1u, "frame");
    ExpectTrue(filters[1].legacy, "legacy");
  }
}

void TestListInstancesAndVolumes() {
  TestWirePeer peer;
  ManagementContext ctx{peer.dir()};
  std::vector<fltport::core::InstanceInfo> instances;
  Status s;
  std::string sent = Exchange(
      peer, [&] { return fltport::core::ListInstances(ctx, u"Fltport Sample", &instances); },
      "ok count=1 name.0=FltportSample%20Instance altitude.0=370020 "
      "volume.0=\\Device\\HarddiskVolume3 filter.0=FltportSample frame.0=0 fstype.0=2 detach.0=1",
      &s);
  ExpectEq(sent, std::string("filters.instances filter=Fltport%20Sample"), "encoded argument");
  ExpectTrue(s.ok(), "ok");
  ExpectTrue(instances.size() == 1 && instances[0].volume_name == u"\\Device\\HarddiskVolume3" &&
                 instances[0].name == u"FltportSample Instance" && instances[0].volume_type == 2 &&
                 instances[0].detach_allowed,
             "instance fields");

  std::vector<fltport::core::VolumeInfo> volumes;
  sent = Exchange(peer, [&] { return fltport::core::ListVolumes(ctx, &volumes); },
                  "ok count=2 name.0=\\Device\\HarddiskVolume3 dos.0=C: frame.0=0 fstype.0=2 "
                  "name.1=\\Device\\Mailslot dos.1= frame.1=0 fstype.1=0",
                  &s);
  ExpectEq(sent, std::string("volumes.list"), "command");
  ExpectTrue(s.ok(), "ok");
  ExpectTrue(volumes.size() == 2 && volumes[0].dos_name == u"C:" && volumes[1].dos_name.empty() &&
                 volumes[1].name == u"\\Device\\Mailslot",
             "volume fields");
}

void TestCommandsAndErrorsTranslateLikeFltlib() {
  TestWirePeer peer;
  ManagementContext ctx{peer.dir()};
  Status s;
  std::string sent = Exchange(peer, [&] { return fltport::core::LoadFilter(ctx, u"Nope"); },
                              "error status=0xC01C0013 message=no%20such%20filter", &s);
  ExpectEq(sent, std::string("filters.load filter=Nope"), "command");
  ExpectEq(s.origin, StatusOrigin::kNtStatus, "origin");
  ExpectEq(s.ntstatus, 0xC01C0013u, "STATUS_FLT_FILTER_NOT_FOUND");
  ExpectEq(s.hresult, 0x801F0013u, "ERROR_FLT_FILTER_NOT_FOUND");
  ExpectEq(s.syscall, std::string("FilterLoad"), "syscall");
  ExpectEq(s.detail, std::string("no such filter"), "detail");

  sent = Exchange(peer, [&] { return fltport::core::UnloadFilter(ctx, u"F"); }, "ok", &s);
  ExpectEq(sent, std::string("filters.unload filter=F"), "command");
  ExpectTrue(s.ok(), "unloaded");

  std::u16string created;
  sent = Exchange(peer, [&] { return fltport::core::AttachFilter(ctx, u"F", u"C:", u"", &created); },
                  "ok instance=F%20Instance", &s);
  ExpectEq(sent, std::string("filters.attach filter=F volume=C:"), "no instance= when empty");
  ExpectTrue(s.ok() && created == u"F Instance", "created instance");
  sent = Exchange(peer, [&] { return fltport::core::AttachFilter(ctx, u"F", u"C:", u"Mine", &created); },
                  "error status=0xC01C0012", &s);
  ExpectEq(sent, std::string("filters.attach filter=F volume=C: instance=Mine"), "named instance");
  ExpectEq(s.hresult, 0x801F0012u, "facility 0x1F");
  ExpectTrue(created.empty(), "nothing created");

  sent = Exchange(peer, [&] { return fltport::core::DetachFilter(ctx, u"F", u"C:", u"Mine"); }, "ok", &s);
  ExpectEq(sent, std::string("filters.detach filter=F volume=C: instance=Mine"), "command");
  ExpectTrue(s.ok(), "detached");

  std::u16string dos;
  sent = Exchange(peer, [&] { return fltport::core::GetDosName(ctx, u"\\Device\\HarddiskVolume3", &dos); },
                  "ok dos=C:", &s);
  ExpectEq(sent, std::string("volumes.dosname volume=\\Device\\HarddiskVolume3"), "command");
  ExpectTrue(s.ok() && dos == u"C:", "dos name");
}

void TestMalformedAnswersAreProtocolErrors() {
  TestWirePeer peer;
  ManagementContext ctx{peer.dir()};
  const char* answers[] = {
      "ok",                                   // no count
      "ok count=1",                           // entry missing
      "ok count=1 name.0=a altitude.0=1 instances.0=x frame.0=0 legacy.0=0",  // bad number
      "ok count=1 name.0=a altitude.0=1 instances.0=1 frame.0=0 legacy.0=2",  // bad flag
      "ok count=99999999",                    // absurd count
      "maybe count=0",                        // neither ok nor error
      "error",                                // error without status
      "error status=0",                       // error with success
      "ok count=0 count=0",                   // duplicate key
      "ok count=%4",                          // broken escape
      "",                                     // empty
  };
  for (const char* a : answers) {
    std::vector<fltport::core::FilterInfo> filters;
    Status s;
    Exchange(peer, [&] { return fltport::core::ListFilters(ctx, &filters); }, a, &s);
    ExpectEq(s.origin, StatusOrigin::kProtocol, std::string("answer '") + a + "'");
    ExpectTrue(filters.empty(), "no partial list");
  }
  std::vector<fltport::core::FilterInfo> filters;
  Status s;
  Exchange(peer, [&] { return fltport::core::ListFilters(ctx, &filters); }, "ok count=0", &s);
  ExpectTrue(s.ok() && filters.empty(), "an empty list is fine");
}

void TestNoHostIsEnoent() {
  TestWirePeer peer;
  ManagementContext ctx{peer.dir() + "/none"};
  std::vector<fltport::core::VolumeInfo> volumes;
  const Status s = fltport::core::ListVolumes(ctx, &volumes);
  ExpectEq(s.origin, StatusOrigin::kErrno, "origin");
  ExpectEq(s.sys_errno, ENOENT, "errno");
}

void TestEncodeDecode() {
  using fltport::posix::ControlClient;
  ExpectEq(ControlClient::Encode("a b=c%d\xC3\xA9"), std::string("a%20b%3Dc%25d%C3%A9"), "encode");
  std::string raw;
  ExpectTrue(ControlClient::Decode("a%20b%3dc%25d%C3%A9", &raw), "decode");
  ExpectEq(raw, std::string("a b=c%d\xC3\xA9"), "round trip, either hex case");
  ExpectTrue(!ControlClient::Decode("%", &raw), "lone %");
  ExpectTrue(!ControlClient::Decode("ab%4", &raw), "short escape");
  ExpectTrue(!ControlClient::Decode("%zz", &raw), "non-hex escape");
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(
      argc, argv,
      {
          {"list_filters_parses_indexed_entries", &TestListFiltersParsesIndexedEntries},
          {"list_instances_and_volumes", &TestListInstancesAndVolumes},
          {"commands_and_errors_translate_like_fltlib", &TestCommandsAndErrorsTranslateLikeFltlib},
          {"malformed_answers_are_protocol_errors", &TestMalformedAnswersAreProtocolErrors},
          {"no_host_is_enoent", &TestNoHostIsEnoent},
          {"encode_decode", &TestEncodeDecode},
      });
}
