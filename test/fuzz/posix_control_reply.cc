// Fuzz target: the answers a hostile fltsim-host gives to filter management on POSIX
// (native/posix/FilterManagementPosix.cc over ControlClient): the text of a CONTROL_RESULT,
// parsed by ControlClient::ParseReply and read entry by entry ("count=N name.0=..."). A test
// peer (native/test/posix_test_peer.h) answers one filter-management call with the input.
// Input: one byte choosing the call (0 ListFilters, 1 ListInstances, 2 ListVolumes,
// 3 AttachFilter, 4 GetDosName, 5 LoadFilter), then the answer's text.
// Checks: a failed listing returns nothing; a successful one returns exactly `count` entries;
// ParseReply agrees with the call on what is an answer; Decode(Encode(x)) == x.
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ControlClient.h"
#include "FilterManagement.h"
#include "FuzzPeer.h"

namespace {

using namespace fltport;

// The host: answers the next control call with `answer`, then closes the stream.
void Answer(const std::string& answer) {
  auto host = fuzz::Peer().AcceptHello(FLTSIM_KIND_CONTROL);
  if (!host) __builtin_trap();
  posix::Frame call;
  if (!host->ReadType(FLTSIM_CONTROL, &call)) __builtin_trap();
  host->Send(FLTSIM_CONTROL_RESULT, call.tag, test::Bytes(answer.begin(), answer.end()));
}

uint32_t Count(const posix::ControlReply& reply) {
  uint32_t n = 0;
  return reply.U32("count", &n) ? n : 0;
}

// A listing call into a list that already holds one entry; how many it holds afterwards.
template <typename Info, typename Call>
size_t List(core::Status* s, Call call) {
  std::vector<Info> out(1);
  *s = call(&out);
  return out.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t which = data[0] % 6;
  const std::string answer(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string raw;
  if (!posix::ControlClient::Decode(posix::ControlClient::Encode(answer), &raw) || raw != answer) {
    __builtin_trap();
  }
  posix::ControlReply parsed;
  std::string why;
  const bool answered = posix::ControlClient::ParseReply(answer, &parsed, &why);
  if (answered && !parsed.ok && parsed.status == 0) __builtin_trap();

  std::thread host([&] { Answer(answer); });
  core::ManagementContext ctx{fuzz::Peer().dir()};
  core::Status s;
  size_t got = 0;
  switch (which) {
    case 0:
      got = List<core::FilterInfo>(&s, [&](auto* out) { return core::ListFilters(ctx, out); });
      break;
    case 1:
      got = List<core::InstanceInfo>(&s, [&](auto* out) { return core::ListInstances(ctx, u"fltport", out); });
      break;
    case 2:
      got = List<core::VolumeInfo>(&s, [&](auto* out) { return core::ListVolumes(ctx, out); });
      break;
    case 3: {
      std::u16string created = u"stale";
      s = core::AttachFilter(ctx, u"fltport", u"C:", u"", &created);
      if (s.ok() == created.empty()) __builtin_trap();
      break;
    }
    case 4: {
      std::u16string dos = u"stale";
      s = core::GetDosName(ctx, u"\\Device\\HarddiskVolume1", &dos);
      if (!s.ok() && !dos.empty()) __builtin_trap();
      break;
    }
    default:
      s = core::LoadFilter(ctx, u"fltport");
      break;
  }
  host.join();
  // Whatever the host said, the call ends with a status; a listing is all or nothing.
  if (!answered && s.ok()) __builtin_trap();
  if (which <= 2 && (s.ok() ? got != Count(parsed) : got != 0)) __builtin_trap();
  return 0;
}
