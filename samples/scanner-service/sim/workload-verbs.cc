// workload-verbs.cc - wires workload.c into fltsim-host-sample (the sample driver under fltsim).
//
// Linked with -Wl,--wrap=FltsimDriverEntry,--wrap=FltsimSetFilterUnloadCallback so that the
// sample's own sources stay untouched:
//  - after the sample's FltsimDriverEntry succeeded, the control verbs below are registered
//    (main thread, as ControlRegistry requires) and, when FLTSIM_SAMPLE_WORKLOAD is set
//    ("count=0,rate=200,seed=1,concurrency=4"), a run starts at once (`npm start`);
//  - the driver's unload callback is wrapped so that the generator's threads are joined before
//    the driver tears down what FpsSendScanRequest uses.
//
// Verbs (docs/contract.md):
//   workload.start [count=N] [seed=S] [rate=R] [concurrency=C]   → ok
//   workload.stop                                                → ok (joins the senders)
//   workload.status [wait=ms]                                    → ok state=running|done sent=…
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ControlRegistry.h"
#include "workload.h"

using fltport::fltsim::ArgsAllowed;
using fltport::fltsim::ArgU64;
using fltport::fltsim::ControlFailure;
using fltport::fltsim::ControlLine;
using fltport::fltsim::ControlOk;
using fltport::fltsim::ControlRegistry;
using fltport::fltsim::LineBuilder;

namespace {

using UnloadCallback = int32_t (*)(uint32_t flags);
UnloadCallback g_driver_unload = nullptr;

const char* const kKindNames[FpsxKindCount] = {"clean_text", "clean_binary", "eicar", "powershell", "access_key", "double_ext"};

void Start(const FPSX_WORKLOAD_PARAMS& params) {
  const int status = FpsxWorkloadStart(&params);
  if (status != 0) throw ControlFailure{static_cast<uint32_t>(status), "the workload could not start (one run at a time; concurrency 1-16)"};
}

std::string Status(const ControlLine& command) {
  ArgsAllowed(command, {"wait"});
  FPSX_WORKLOAD_COUNTS c;
  double seconds = 0;
  const int running = FpsxWorkloadStatus(static_cast<unsigned>(ArgU64(command, "wait", 0)), &c, &seconds);
  LineBuilder b("ok");
  b.Add("state", running ? "running" : "done")
      .Add("sent", c.Sent)
      .Add("allow", c.Allow)
      .Add("block", c.Block)
      .Add("no_scanner", c.NoScanner)
      .Add("timeout", c.Timeout)
      .Add("disconnected", c.Disconnected)
      .Add("bad_reply", c.BadReply)
      .Add("error", c.Error)
      .Add("ms", static_cast<uint64_t>(seconds * 1000));
  for (int k = 0; k < FpsxKindCount; ++k) {
    b.Add(std::string("kind.") + kKindNames[k], c.Kinds[k]);
    b.Add(std::string("blocked.") + kKindNames[k], c.BlockedKinds[k]);
  }
  return ControlOk(b);
}

// "count=0,rate=200,seed=1,concurrency=4"
FPSX_WORKLOAD_PARAMS ParseEnv(const char* text) {
  FPSX_WORKLOAD_PARAMS p{0, 1, 100, 4};
  std::string s(text);
  size_t at = 0;
  while (at < s.size()) {
    size_t end = s.find(',', at);
    if (end == std::string::npos) end = s.size();
    const std::string item = s.substr(at, end - at);
    const size_t eq = item.find('=');
    if (eq != std::string::npos) {
      const std::string key = item.substr(0, eq);
      const unsigned long long v = std::strtoull(item.c_str() + eq + 1, nullptr, 10);
      if (key == "count") p.Count = v;
      else if (key == "seed") p.Seed = v;
      else if (key == "rate") p.Rate = static_cast<unsigned>(v);
      else if (key == "concurrency") p.Concurrency = static_cast<unsigned>(v);
    }
    at = end + 1;
  }
  return p;
}

int32_t UnloadWrapper(uint32_t flags) {
  FpsxWorkloadStop();
  return g_driver_unload ? g_driver_unload(flags) : 0;
}

}  // namespace

extern "C" int32_t __real_FltsimDriverEntry(void* filter);
extern "C" void __real_FltsimSetFilterUnloadCallback(void* filter, UnloadCallback callback);

extern "C" void __wrap_FltsimSetFilterUnloadCallback(void* filter, UnloadCallback callback) {
  g_driver_unload = callback;
  __real_FltsimSetFilterUnloadCallback(filter, callback ? UnloadWrapper : nullptr);
}

extern "C" int32_t __wrap_FltsimDriverEntry(void* filter) {
  const int32_t status = __real_FltsimDriverEntry(filter);
  if (status < 0) return status;
  ControlRegistry& r = ControlRegistry::Global();
  r.Add("workload.start", "workload.start [count=N] [seed=S] [rate=R] [concurrency=C]", [](const ControlLine& command) {
    ArgsAllowed(command, {"count", "seed", "rate", "concurrency"});
    FPSX_WORKLOAD_PARAMS p{ArgU64(command, "count", 0), ArgU64(command, "seed", 1),
                           static_cast<unsigned>(ArgU64(command, "rate", 0)),
                           static_cast<unsigned>(ArgU64(command, "concurrency", 4))};
    Start(p);
    return ControlOk();
  });
  r.Add("workload.stop", "workload.stop", [](const ControlLine& command) {
    ArgsAllowed(command, {});
    FpsxWorkloadStop();
    return ControlOk();
  });
  r.Add("workload.status", "workload.status [wait=ms]", Status);
  if (const char* env = std::getenv("FLTSIM_SAMPLE_WORKLOAD"); env != nullptr && *env != '\0') Start(ParseEnv(env));
  return status;
}
