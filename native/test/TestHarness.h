// A deliberately small test harness for the native unit tests (ctest), so that building the
// tests needs nothing beyond a C++17 compiler: no framework download at configure time, no
// apt package that `npm install` would then depend on.
//
// A test executable lists its cases and hands them to Main():
//
//   int main(int argc, char** argv) {
//     return fltport::test::Main(argc, argv, {{"hresult.timeout", &TestTimeout}, ...});
//   }
//
// CMake (native/cmake/FltportTests.cmake) asks each executable for `--list` when ctest runs
// and registers one ctest test per case (`--run <name>`), so a crash in one case fails that
// case only and ctest's counts are per case. Run without arguments, an executable runs every
// case in-process and prints "N passed, N failed".
//
// Checks record a failure and let the case continue, so one run reports every wrong value.
// File and line come from __builtin_FILE/__builtin_LINE default arguments (GCC, Clang, MSVC)
// rather than from macros.
//
// Threads: the check functions may be called from any thread a case starts; failures are
// counted under a mutex and reported on the calling thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

namespace fltport::test {

struct Case {
  const char* name;
  void (*fn)();
};

namespace detail {

inline std::mutex& FailureMutex() {
  static std::mutex m;
  return m;
}

inline int& FailureCount() {
  static int count = 0;
  return count;
}

// Integers are shown in decimal and hex: NTSTATUS/HRESULT values are only recognisable in hex.
template <class T>
std::string ShowDecayed(const T& v) {
  std::ostringstream os;
  if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "true" : "false");
  } else if constexpr (std::is_enum_v<T>) {
    os << "enum(" << static_cast<long long>(static_cast<std::underlying_type_t<T>>(v)) << ")";
  } else if constexpr (std::is_integral_v<T> && sizeof(T) == 1) {
    os << static_cast<int>(v);
  } else if constexpr (std::is_integral_v<T>) {
    os << v << " (0x" << std::hex << std::uppercase
       << static_cast<unsigned long long>(static_cast<std::make_unsigned_t<T>>(v)) << ")";
  } else if constexpr (std::is_same_v<T, const char*> || std::is_same_v<T, char*>) {
    if (v == nullptr) {
      os << "nullptr";
    } else {
      os << '"' << v << '"';
    }
  } else if constexpr (std::is_same_v<T, std::nullptr_t>) {
    os << "nullptr";
  } else {
    os << v;
  }
  return os.str();
}

// String literals arrive as char arrays: decay them so they print and compare as C strings.
template <class T>
std::string Show(const T& v) {
  return ShowDecayed<std::decay_t<const T>>(v);
}

template <class T>
constexpr bool kIsCString = std::is_same_v<std::decay_t<T>, const char*> || std::is_same_v<std::decay_t<T>, char*>;

// C strings compare by content; everything else with ==.
template <class A, class B>
bool Equal(const A& a, const B& b) {
  if constexpr (kIsCString<A> && kIsCString<B>) {
    const char* pa = a;
    const char* pb = b;
    if (pa == nullptr || pb == nullptr) return pa == pb;
    return std::strcmp(pa, pb) == 0;
  } else {
    return a == b;
  }
}

}  // namespace detail

inline void Fail(std::string_view what, const std::string& why, const char* file, int line) {
  std::lock_guard<std::mutex> lock(detail::FailureMutex());
  ++detail::FailureCount();
  std::fprintf(stderr, "%s:%d: FAILED %.*s: %s\n", file, line, static_cast<int>(what.size()),
               what.data(), why.c_str());
}

template <class A, class B>
bool ExpectEq(const A& actual, const B& expected, std::string_view what,
              const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  if (detail::Equal(actual, expected)) return true;
  Fail(what, "got " + detail::Show(actual) + ", want " + detail::Show(expected), file, line);
  return false;
}

inline bool ExpectTrue(bool condition, std::string_view what, const char* file = __builtin_FILE(),
                       int line = __builtin_LINE()) {
  if (condition) return true;
  Fail(what, "condition is false", file, line);
  return false;
}

// Runs one case; returns true when it recorded no failure and threw nothing.
inline bool RunCase(const Case& c) {
  const int before = [] {
    std::lock_guard<std::mutex> lock(detail::FailureMutex());
    return detail::FailureCount();
  }();
  bool threw = false;
  try {
    c.fn();
  } catch (const std::exception& e) {
    threw = true;
    std::fprintf(stderr, "%s: threw: %s\n", c.name, e.what());
  } catch (...) {
    threw = true;
    std::fprintf(stderr, "%s: threw a non-std exception\n", c.name);
  }
  std::lock_guard<std::mutex> lock(detail::FailureMutex());
  return !threw && detail::FailureCount() == before;
}

// Entry point of a test executable: `--list` prints case names one per line, `--run NAME`
// runs one case, no argument runs all. Exit status 0 only if every case that ran passed.
inline int Main(int argc, char** argv, std::initializer_list<Case> cases) {
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
    for (const Case& c : cases) std::printf("%s\n", c.name);
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "--run") == 0) {
    for (const Case& c : cases) {
      if (std::strcmp(c.name, argv[2]) != 0) continue;
      const bool ok = RunCase(c);
      std::printf("%s: %s\n", c.name, ok ? "passed" : "FAILED");
      return ok ? 0 : 1;
    }
    std::fprintf(stderr, "no test case named '%s' (try --list)\n", argv[2]);
    return 2;
  }
  if (argc != 1) {
    std::fprintf(stderr, "usage: %s [--list | --run NAME]\n", argv[0]);
    return 2;
  }
  int passed = 0;
  int failed = 0;
  for (const Case& c : cases) {
    const bool ok = RunCase(c);
    std::printf("%s: %s\n", c.name, ok ? "passed" : "FAILED");
    (ok ? passed : failed)++;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}

}  // namespace fltport::test
