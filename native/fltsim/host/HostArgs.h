// fltsim-host's command line, shared by the POSIX host (main.cc) and the Wine-lane host
// (main_win32.cc). They differ only in where clients find them: --runtime-dir (an AF_UNIX
// socket's directory) or --instance (the device and pipe names under Wine).
// Main thread, before anything starts.
#pragma once

#include <cstdio>
#include <string>

#include "../engine/SimOptions.h"

namespace fltport::fltsim {

struct HostArgs {
  SimOptions options;
  std::string location;  // the value of `location_flag`; callers may preset a default
  std::string filter_name = "fltsim";
  std::string altitude = "370030";  // the FSFilter Activity Monitor range, like the sample's INF
};

// Applies FLTSIM_LOG_LEVEL and FLTSIM_OPTIONS, then argv. Returns -1 when the host should
// run, otherwise the exit code (0 after --help, 2 for a bad argument, with the reason on
// stderr).
int ParseHostArgs(int argc, char** argv, const char* location_flag, void (*usage)(FILE*),
                  HostArgs* args);

}  // namespace fltport::fltsim
