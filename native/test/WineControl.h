// TEST-ONLY, Windows (under Wine, in the Wine lane): a client of fltsim-host.exe's control
// pipe (wire.h CONTROL frames, docs/fltsim.md "Control channel"), for the native test programs
// that drive fltsim's test driver: wine_fltlib_test.cc (the test fltlib.dll at the level of
// the OVERLAPPED) and wine_port_backend_test.cc (the Windows port backend over that DLL).
// One connection per process, to the pipe of $FLTSIM_RUNTIME_DIR's instance; a reader
// thread files results by tag and keeps events until a test takes them.
#pragma once

#include <windows.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fltport::test {

class Control {
 public:
  static Control& Get() {
    static Control control;
    return control;
  }

  // "verb k=v ..." -> the result line; values must not need percent-encoding here.
  std::string Call(const std::string& line) {
    const uint64_t tag = next_tag_++;
    Write(60, tag, line);
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(15), [&] { return results_.count(tag) != 0 || dead_; })) {
      return "error timeout";
    }
    if (dead_ && results_.count(tag) == 0) return "error dead";
    std::string r = results_[tag];
    results_.erase(tag);
    return r;
  }

  // Waits for (and takes) the first event line starting with `prefix` and containing every
  // " key=value" in `fields`.
  std::string WaitEvent(const std::string& prefix, const std::vector<std::string>& fields, int timeout_ms = 10000) {
    std::unique_lock<std::mutex> lock(mu_);
    std::string found;
    auto match = [&] {
      for (auto it = events_.begin(); it != events_.end(); ++it) {
        if (it->rfind(prefix, 0) != 0) continue;
        bool all = true;
        for (const auto& f : fields) all = all && ((*it + " ").find(" " + f + " ") != std::string::npos);
        if (!all) continue;
        found = *it;
        events_.erase(it);
        return true;
      }
      return dead_;
    };
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), match);
    return found;
  }

  bool ok() const { return pipe_ != INVALID_HANDLE_VALUE; }

 private:
  Control() {
    char instance[80] = "default";
    GetEnvironmentVariableA("FLTSIM_RUNTIME_DIR", instance, sizeof instance);
    const std::string name = std::string("\\\\.\\pipe\\fltsim-") + instance;
    pipe_ = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
    if (pipe_ == INVALID_HANDLE_VALUE) {
      std::fprintf(stderr, "cannot open %s: %lu\n", name.c_str(), GetLastError());
      return;
    }
    uint8_t hello[16] = {};
    const uint32_t magic = 0x4D495346, pid = GetCurrentProcessId();
    const uint16_t version = 1, kind = 3;
    std::memcpy(hello, &magic, 4);
    std::memcpy(hello + 4, &version, 2);
    std::memcpy(hello + 6, &kind, 2);
    std::memcpy(hello + 8, &pid, 4);
    Write(1, 0, std::string(reinterpret_cast<char*>(hello), sizeof hello));
    reader_ = std::thread([this] { Read(); });
    reader_.detach();  // lives as long as the process
  }

  void Write(uint16_t type, uint64_t tag, const std::string& body) {
    std::vector<uint8_t> frame(16 + body.size());
    const uint32_t length = static_cast<uint32_t>(frame.size());
    std::memcpy(frame.data(), &length, 4);
    std::memcpy(frame.data() + 4, &type, 2);
    std::memcpy(frame.data() + 8, &tag, 8);
    std::memcpy(frame.data() + 16, body.data(), body.size());
    std::lock_guard<std::mutex> lock(write_mu_);
    DWORD written = 0;
    WriteFile(pipe_, frame.data(), length, &written, nullptr);
  }

  bool ReadAll(void* data, DWORD size) {
    DWORD got = 0;
    while (got < size) {
      DWORD n = 0;
      if (!ReadFile(pipe_, static_cast<char*>(data) + got, size - got, &n, nullptr) || n == 0) return false;
      got += n;
    }
    return true;
  }

  void Read() {
    for (;;) {
      uint8_t header[16];
      uint32_t length = 0;
      uint16_t type = 0;
      uint64_t tag = 0;
      if (!ReadAll(header, 16)) break;
      std::memcpy(&length, header, 4);
      std::memcpy(&type, header + 4, 2);
      std::memcpy(&tag, header + 8, 8);
      if (length < 16 || length > (16u << 20)) break;
      std::string body(length - 16, '\0');
      if (!body.empty() && !ReadAll(&body[0], length - 16)) break;
      std::lock_guard<std::mutex> lock(mu_);
      if (type == 61) results_[tag] = body;
      if (type == 62) events_.push_back(body.rfind("event ", 0) == 0 ? body.substr(6) : body);
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu_);
    dead_ = true;
    cv_.notify_all();
  }

  HANDLE pipe_ = INVALID_HANDLE_VALUE;
  std::thread reader_;
  std::mutex write_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, std::string> results_;
  std::deque<std::string> events_;
  bool dead_ = false;
  uint64_t next_tag_ = 1;
};

// The value of " key=" in a result or event line ("" when absent).
inline std::string Field(const std::string& line, const std::string& key) {
  const std::string padded = " " + line;
  const size_t at = padded.find(" " + key + "=");
  if (at == std::string::npos) return "";
  const size_t start = at + key.size() + 2;
  return padded.substr(start, padded.find(' ', start) - start);
}

}  // namespace fltport::test
