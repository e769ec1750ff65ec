// fltsim-host.exe: the Windows build of the simulated Filter Manager, for the Wine lane
// (docs/wine-lane.md). Same engine, sessions and linked driver as the POSIX host (main.cc);
// two transports instead of the AF_UNIX socket:
//   - the FltMgrMsg device (native/fltsim/fltlib/FltMgrMsgDevice.cc), created in Wine's
//     kernel namespace through Wine's ntoskrnl.exe: what the test fltlib.dll opens, so that
//     Wine's own I/O manager completes, cancels and closes communication-port requests;
//   - a named pipe (PipeTransport) carrying wire.h frames, for the control channel.
// Runs only under Wine (the device needs Wine's ntoskrnl.exe), in the same prefix as the
// node.exe under test. Prints "ready <pipe> <device>" on stdout once both accept clients; logs
// to stderr; stops on Ctrl-C/close, or on the control verb `host.exit`.
//
//   fltsim-host.exe [--instance NAME] [--log-level LEVEL] [--option NAME=VALUE]...
//                   [--filter-name NAME] [--altitude ALTITUDE]
//   Environment: FLTSIM_RUNTIME_DIR (the instance name under Wine, wire.h), FLTSIM_OPTIONS,
//   FLTSIM_LOG_LEVEL.
//
// Threads: main() runs the pipe transport's I/O thread; a second thread runs the device (Wine's
// ntoskrnl main loop); driver callbacks and control verbs run on the worker pool.
#include <windows.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "ControlRegistry.h"
#include "EventHub.h"
#include "FltMgrMsg.h"
#include "FltMgrMsgDevice.h"
#include "HostArgs.h"
#include "HostVerbs.h"
#include "HostedFilter.h"
#include "Log.h"
#include "PipeTransport.h"
#include "PortEngine.h"
#include "Session.h"
#include "SimKernel.h"
#include "WorkerPool.h"

namespace {

using namespace fltport::fltsim;

// Every Windows process in a Wine prefix runs as the same user, an administrator: it stands
// for "SYSTEM and Administrators" in default security descriptors, and every peer is it.
constexpr uint32_t kWineUid = 0;
// fltKernel.h's FLTFL_FILTER_UNLOAD_MANDATORY: that header (the WDK's view) cannot share a
// translation unit with <windows.h>.
constexpr uint32_t kUnloadMandatory = 0x00000001;

Transport* g_pipe = nullptr;
Transport* g_device = nullptr;

void StopAll() {
  if (g_device != nullptr) g_device->Stop();
  if (g_pipe != nullptr) g_pipe->Stop();
}

BOOL WINAPI OnConsoleControl(DWORD) {
  StopAll();
  return TRUE;
}

void Usage(FILE* out) {
  fprintf(out,
          "usage: fltsim-host.exe [--instance NAME] [--log-level error|warn|info|debug|trace]\n"
          "                       [--option NAME=VALUE]... [--filter-name NAME] [--altitude A]\n"
          "Environment: FLTSIM_RUNTIME_DIR (instance), FLTSIM_OPTIONS (NAME=VALUE,...), FLTSIM_LOG_LEVEL.\n"
          "Options (see docs/fltsim.md):\n");
  for (const auto& info : SimOptionCatalog()) fprintf(out, "  %-44s %s\n", info.name, info.values);
}

}  // namespace

int main(int argc, char** argv) {
  HostArgs args;
  if (const char* env = getenv(FLTSIM_RUNTIME_DIR_ENV)) args.location = env;
  const int exit_code = ParseHostArgs(argc, argv, "--instance", Usage, &args);
  if (exit_code >= 0) return exit_code;
  std::string instance = args.location;
  std::string error;
  if (instance.empty()) instance = FLTSIM_DEFAULT_INSTANCE;
  if (!FltsimValidInstance(instance.c_str())) {
    fprintf(stderr, "fltsim-host: instance '%s' must be 1..64 of A-Z a-z 0-9 . _ -\n", instance.c_str());
    return 2;
  }

  SimKernel kernel(args.options, kWineUid);
  EventHub events;
  kernel.SetEventSink(&events);
  WorkerPool pool;
  HostContext context{&kernel, &pool, &events, &ControlRegistry::Global()};

  HostedFilter hosted(&kernel, args.filter_name, args.altitude);
  RegisterHostVerbs(context.registry, &kernel, &hosted);
  // Only this host has two transports and no signals to stop it: the lane's runner asks.
  context.registry->Add("host.exit", "host.exit", [](const ControlLine& command) {
    ArgsAllowed(command, {});
    // After a moment, so that this answer still goes out before the streams close.
    std::thread([] {
      Sleep(200);
      StopAll();
    }).detach();
    return ControlOk();
  });
  // The device's own bookkeeping: open handles and requests not yet completed.
  std::atomic<FltMgrMsgDevice*> device_ptr{nullptr};
  context.registry->Add("wine.device", "wine.device", [&device_ptr](const ControlLine& command) {
    ArgsAllowed(command, {});
    FltMgrMsgDevice* running = device_ptr.load();
    if (running == nullptr) throw ControlFailure{0xC0000010, "the device is not running"};
    FltMgrMsgDevice::Stats stats = running->GetStats();
    return ControlOk(LineBuilder("ok").Add("streams", static_cast<uint64_t>(stats.streams))
                         .Add("irps", static_cast<uint64_t>(stats.irps)));
  });
  if (hosted.Load() != 0) {  // FltsimDriverEntry (HostedFilter logs the failure)
    kernel.Shutdown();
    return 3;
  }

  SessionAcceptor acceptor(context);
  PipeTransport pipe(std::string(FLTSIM_PIPE_PREFIX) + instance, &acceptor, kWineUid);
  FltMgrMsgDevice device(instance, &acceptor, kWineUid);
  if (!pipe.Listen(&error) || !device.Listen(&error)) {
    LogWrite(LogLevel::kError, "%s", error.c_str());
    hosted.Unload(kUnloadMandatory);
    kernel.Shutdown();
    return 2;
  }
  g_pipe = &pipe;
  g_device = &device;
  device_ptr.store(&device);
  SetConsoleCtrlHandler(OnConsoleControl, TRUE);

  std::thread device_thread([&device] { device.Run(); });
  printf("ready %s %s\n", pipe.Address().c_str(), device.Address().c_str());
  fflush(stdout);
  LogWrite(LogLevel::kInfo, "listening on %s and %s (filter %s)", pipe.Address().c_str(),
           device.Address().c_str(), args.filter_name.c_str());

  pipe.Run();  // until host.exit or a console control event
  device.Stop();
  device_thread.join();
  device_ptr.store(nullptr);

  LogWrite(LogLevel::kInfo, "stopping");
  // A mandatory unload (the system is going away), then FltMgr's own teardown for whatever the
  // driver left (idempotent).
  hosted.Unload(kUnloadMandatory);
  pool.Shutdown();    // CloseUser / control tasks queued while the streams closed
  kernel.Shutdown();
  g_pipe = nullptr;
  g_device = nullptr;
  return 0;
}
