// A deliberately small test harness for the native unit tests (ctest runs each binary):
// TEST registers a function, CHECK/CHECK_EQ record failures with file:line and keep
// going, RunAllTests prints one line per failure and the closing "N passed, M failed".
// Header-only so every test binary is one .cc plus what it tests.
#pragma once

#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace fltport::test {

struct TestCase {
  const char* name;
  void (*fn)();
};

inline std::vector<TestCase>& Registry() {
  static std::vector<TestCase> tests;
  return tests;
}
inline int& CurrentFailures() {
  static int failures = 0;
  return failures;
}

struct Registrar {
  Registrar(const char* name, void (*fn)()) { Registry().push_back({name, fn}); }
};

inline void Fail(const char* file, int line, const std::string& what) {
  ++CurrentFailures();
  std::fprintf(stderr, "  FAILED %s:%d: %s\n", file, line, what.c_str());
}

template <typename T>
std::string Show(const T& v) {
  std::ostringstream os;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    os << +v << " (0x" << std::hex << +v << ")";
  } else if constexpr (std::is_enum_v<T>) {
    os << static_cast<long long>(v);
  } else {
    os << v;
  }
  return os.str();
}

template <typename A, typename B>
void CheckEq(const A& a, const B& b, const char* as, const char* bs, const char* file, int line) {
  if (!(a == b)) Fail(file, line, std::string(as) + " == " + bs + ": " + Show(a) + " vs " + Show(b));
}

inline int RunAllTests(const char* binary) {
  int passed = 0, failed = 0;
  for (const TestCase& t : Registry()) {
    CurrentFailures() = 0;
    try {
      t.fn();
    } catch (const std::exception& e) {
      Fail(t.name, 0, std::string("exception: ") + e.what());
    }
    if (CurrentFailures() == 0) {
      ++passed;
      std::fprintf(stderr, "ok   %s\n", t.name);
    } else {
      ++failed;
      std::fprintf(stderr, "FAIL %s\n", t.name);
    }
  }
  std::printf("%s: %d passed, %d failed\n", binary, passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace fltport::test

#define TEST(name)                                                      \
  static void name();                                                   \
  static ::fltport::test::Registrar name##_registrar(#name, &name);     \
  static void name()
#define CHECK(cond) \
  ((cond) ? (void)0 : ::fltport::test::Fail(__FILE__, __LINE__, "CHECK(" #cond ")"))
#define CHECK_EQ(a, b) ::fltport::test::CheckEq((a), (b), #a, #b, __FILE__, __LINE__)
#define TEST_MAIN(binary) \
  int main() { return ::fltport::test::RunAllTests(binary); }
