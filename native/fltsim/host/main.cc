// fltsim-host: the simulated Filter Manager with one driver linked in (the built-in test
// driver, or the sample minifilter's communication code), serving user handles over an
// AF_UNIX socket. Prints "ready <socket path>" on stdout once it accepts connections; logs to
// stderr; exits cleanly (driver unloaded, socket removed) on SIGTERM or SIGINT.
//
//   fltsim-host [--runtime-dir DIR] [--log-level LEVEL] [--option NAME=VALUE]...
//               [--filter-name NAME] [--altitude ALTITUDE]
//   Environment: FLTSIM_RUNTIME_DIR, FLTSIM_OPTIONS (NAME=VALUE,...), FLTSIM_LOG_LEVEL.
//
// Threads: main() is the I/O thread (transport.Run()); driver callbacks and control verbs run
// on the worker pool; the test driver's senders on their own threads.
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fltKernel.h>

#include "ControlRegistry.h"
#include "EventHub.h"
#include "HostArgs.h"
#include "HostVerbs.h"
#include "HostedFilter.h"
#include "../engine/Log.h"
#include "../engine/PortEngine.h"
#include "Session.h"
#include "../engine/SimKernel.h"
#include "../transport/UnixSocketTransport.h"
#include "WorkerPool.h"

namespace {

using namespace fltport::fltsim;

Transport* g_transport = nullptr;

void OnSignal(int) {
  if (g_transport != nullptr) g_transport->Stop();
}

void Usage(FILE* out) {
  fprintf(out,
          "usage: fltsim-host [--runtime-dir DIR] [--log-level error|warn|info|debug|trace]\n"
          "                   [--option NAME=VALUE]... [--filter-name NAME] [--altitude A]\n"
          "Environment: FLTSIM_RUNTIME_DIR, FLTSIM_OPTIONS (NAME=VALUE,...), FLTSIM_LOG_LEVEL.\n"
          "Options (see docs/fltsim.md):\n");
  for (const auto& info : SimOptionCatalog()) fprintf(out, "  %-44s %s\n", info.name, info.values);
}

// Same order as native/posix/RuntimeDir and native/cmake/start-sim.mjs.
std::string DefaultRuntimeDir(bool* is_tmp_default) {
  *is_tmp_default = false;
  const char* env = getenv(FLTSIM_RUNTIME_DIR_ENV);
  if (env != nullptr && *env != '\0') return env;
  const char* xdg = getenv("XDG_RUNTIME_DIR");
  if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/fltsim";
  *is_tmp_default = true;
  return "/tmp/fltsim-" + std::to_string(geteuid());
}

bool EnsureDirectory(const std::string& dir, bool check_owner, std::string* error) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    *error = "cannot create runtime directory " + dir + ": " + strerror(errno);
    return false;
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = dir + " is not a directory";
    return false;
  }
  // In /tmp anybody could have created the directory first and would then own our socket.
  if (check_owner && st.st_uid != geteuid()) {
    *error = dir + " belongs to uid " + std::to_string(st.st_uid) + ", not to us";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  HostArgs args;
  const int exit_code = ParseHostArgs(argc, argv, "--runtime-dir", Usage, &args);
  if (exit_code >= 0) return exit_code;
  std::string runtime_dir = args.location;
  std::string error;
  bool tmp_default = false;
  if (runtime_dir.empty()) runtime_dir = DefaultRuntimeDir(&tmp_default);
  if (!EnsureDirectory(runtime_dir, tmp_default, &error)) {
    LogWrite(LogLevel::kError, "%s", error.c_str());
    return 2;
  }
  const std::string socket_path = runtime_dir + "/" + FLTSIM_SOCKET_NAME;

  signal(SIGPIPE, SIG_IGN);
  SimKernel kernel(args.options, static_cast<uint32_t>(geteuid()));
  EventHub events;
  kernel.SetEventSink(&events);
  WorkerPool pool;
  HostContext context{&kernel, &pool, &events, &ControlRegistry::Global()};

  HostedFilter hosted(&kernel, args.filter_name, args.altitude);
  RegisterHostVerbs(context.registry, &kernel, &hosted);
  uint32_t entry = hosted.Load();  // FltsimDriverEntry
  if (entry != 0) {
    kernel.Shutdown();
    return 3;
  }

  SessionAcceptor acceptor(context);
  UnixSocketTransport transport(socket_path, &acceptor);
  if (!transport.Listen(&error)) {
    LogWrite(LogLevel::kError, "%s", error.c_str());
    hosted.Unload(FLTFL_FILTER_UNLOAD_MANDATORY);
    kernel.Shutdown();
    return 2;
  }
  g_transport = &transport;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  printf("ready %s\n", socket_path.c_str());
  fflush(stdout);
  LogWrite(LogLevel::kInfo, "listening on %s (filter %s)", socket_path.c_str(), args.filter_name.c_str());

  transport.Run();  // until SIGTERM/SIGINT; closes every stream and removes the socket

  LogWrite(LogLevel::kInfo, "stopping");
  // A mandatory unload (the system is going away), then FltMgr's own teardown for whatever the
  // driver left (idempotent).
  hosted.Unload(FLTFL_FILTER_UNLOAD_MANDATORY);
  pool.Shutdown();    // CloseUser / control tasks queued while the streams closed
  kernel.Shutdown();  // FltMgr's own teardown of whatever the driver left (idempotent)
  g_transport = nullptr;
  return 0;
}
