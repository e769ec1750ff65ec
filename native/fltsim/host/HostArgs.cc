#include "HostArgs.h"

#include <cstdlib>

#include "../engine/Log.h"

namespace fltport::fltsim {

int ParseHostArgs(int argc, char** argv, const char* location_flag, void (*usage)(FILE*),
                  HostArgs* args) {
  std::string error;
  if (const char* level = getenv("FLTSIM_LOG_LEVEL")) {
    LogLevel l;
    if (ParseLogLevel(level, &l)) SetLogLevel(l);
  }
  if (const char* list = getenv("FLTSIM_OPTIONS")) {
    if (!SetSimOptionList(&args->options, list, &error)) {
      fprintf(stderr, "fltsim-host: FLTSIM_OPTIONS: %s\n", error.c_str());
      return 2;
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    }
    if (arg != location_flag && arg != "--log-level" && arg != "--option" &&
        arg != "--filter-name" && arg != "--altitude") {
      fprintf(stderr, "fltsim-host: unknown argument %s\n", arg.c_str());
      usage(stderr);
      return 2;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "fltsim-host: %s needs a value\n", arg.c_str());
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == location_flag) {
      args->location = value;
    } else if (arg == "--log-level") {
      LogLevel l;
      if (!ParseLogLevel(value, &l)) {
        fprintf(stderr, "fltsim-host: unknown log level\n");
        return 2;
      }
      SetLogLevel(l);
    } else if (arg == "--option") {
      if (!SetSimOptionList(&args->options, value, &error)) {
        fprintf(stderr, "fltsim-host: --option: %s\n", error.c_str());
        return 2;
      }
    } else if (arg == "--filter-name") {
      args->filter_name = value;
    } else {
      args->altitude = value;
    }
  }
  return -1;
}

}  // namespace fltport::fltsim
