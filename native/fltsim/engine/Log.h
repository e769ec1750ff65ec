// fltsim's log: leveled lines on stderr ("fltsim[pid] LEVEL message"), one write() per
// line so that lines from concurrent threads never interleave. Callable from any thread.
#pragma once

#include <cstdarg>
#include <string>

namespace fltport::fltsim {

enum class LogLevel : int { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3, kTrace = 4 };

// Any thread. Returns false for an unknown name ("error", "warn", "info", "debug", "trace").
bool ParseLogLevel(const std::string& name, LogLevel* level);
const char* LogLevelName(LogLevel level);

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
bool LogEnabled(LogLevel level);

// Any thread.
void LogWrite(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));
void LogWriteV(LogLevel level, const char* format, va_list args);

// Tests capture the log instead of printing it: every line that would be written (already
// filtered by level) goes to `hook` too. Pass nullptr to remove. Not thread-safe to change
// while other threads log.
using LogHook = void (*)(LogLevel level, const std::string& line, void* context);
void SetLogHook(LogHook hook, void* context);

}  // namespace fltport::fltsim
