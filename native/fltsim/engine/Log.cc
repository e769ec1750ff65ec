#include "Log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>

namespace fltport::fltsim {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
LogHook g_hook = nullptr;
void* g_hook_context = nullptr;

constexpr const char* kNames[] = {"error", "warn", "info", "debug", "trace"};

}  // namespace

bool ParseLogLevel(const std::string& name, LogLevel* level) {
  for (int i = 0; i < 5; ++i) {
    if (name == kNames[i]) {
      *level = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

const char* LogLevelName(LogLevel level) {
  int i = static_cast<int>(level);
  return (i >= 0 && i < 5) ? kNames[i] : "?";
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }
bool LogEnabled(LogLevel level) { return static_cast<int>(level) <= g_level.load(); }

void LogWriteV(LogLevel level, const char* format, va_list args) {
  if (!LogEnabled(level)) return;
  char body[2048];
  vsnprintf(body, sizeof body, format, args);
  char line[2200];
  int n = snprintf(line, sizeof line, "fltsim[%d] %-5s %s\n", static_cast<int>(getpid()),
                   LogLevelName(level), body);
  if (n < 0) return;
  size_t len = static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1;
  // One write() per line: POSIX keeps writes to a pipe atomic up to PIPE_BUF, and stderr is
  // unbuffered, so concurrent threads never interleave inside a line.
  ssize_t ignored = write(STDERR_FILENO, line, len);
  (void)ignored;
  if (g_hook) g_hook(level, std::string(body), g_hook_context);
}

void LogWrite(LogLevel level, const char* format, ...) {
  va_list args;
  va_start(args, format);
  LogWriteV(level, format, args);
  va_end(args);
}

void SetLogHook(LogHook hook, void* context) {
  g_hook = hook;
  g_hook_context = context;
}

}  // namespace fltport::fltsim
