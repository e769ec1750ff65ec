// fltport-bench-client: the C++ ceiling for `npm run bench` (docs/benchmarks.md). It uses the
// POSIX backend (native/posix, the fltsim client API) directly, with no N-API or JS in the path,
// so the same transport and host measure what Node adds on top.
//
//   fltport-bench-client serve --port \Name [--runtime-dir D] [--concurrency N] [--reply-size B]
//     Connects, prints "ready", replies B bytes (default 8) to every message on the backend's
//     I/O thread, and on EOF of stdin prints "done messages=N cpu_us=U" and exits.
//   fltport-bench-client send --port \Name [--runtime-dir D] --callers K --count N [--size B]
//     FilterSendMessage (PortBackend::Send) from K threads, N calls in all, B-byte requests
//     with B-byte output buffers (default 64); prints
//     "done calls=N failed=F elapsed_ns=E p50_ns= p99_ns= p999_ns= cpu_us=U".
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "PortBackend.h"

namespace {

using fltport::core::MessageBatch;
using fltport::core::PortBackend;
using fltport::core::PortEvents;
using fltport::core::PortOptions;
using fltport::core::Status;
using fltport::core::StopReason;

uint64_t ProcessCpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto micros = [](const timeval& tv) { return uint64_t(tv.tv_sec) * 1000000u + uint64_t(tv.tv_usec); };
  return micros(usage.ru_utime) + micros(usage.ru_stime);
}

std::u16string Utf16(const std::string& ascii) { return std::u16string(ascii.begin(), ascii.end()); }

// OnBatch runs on the backend's I/O thread, which may deliver before Connect() has returned the
// backend to main(): such messages are kept and answered by Flush() once the pointer is set. (The
// bench only floods after "ready", so this is for correctness, not speed.)
class Replier : public PortEvents {
 public:
  explicit Replier(size_t reply_size) : reply_(reply_size, 0x5a) {}

  void Attach(PortBackend* port) {
    std::lock_guard<std::mutex> lock(mu_);
    port_.store(port, std::memory_order_release);
  }

  void OnBatch(std::unique_ptr<MessageBatch> batch) override {
    PortBackend* port = port_.load(std::memory_order_acquire);
    const auto& messages = batch->messages();
    if (port == nullptr) {
      std::lock_guard<std::mutex> lock(mu_);
      port = port_.load(std::memory_order_acquire);
      if (port == nullptr) {  // Attach() has not run: Flush() will answer these
        for (const auto& m : messages) early_.push_back(m.message_id);
        return;
      }
    }
    for (const auto& m : messages) {
      if (m.reply_length != 0) port->Reply(0, m.message_id, 0, reply_.data(), reply_.size());
    }
    if (!messages.empty()) port->Consumed(static_cast<uint32_t>(messages.size()));
    messages_.fetch_add(messages.size(), std::memory_order_relaxed);
  }

  void OnStopped(StopReason, const Status& status) override {
    if (!status.ok()) std::fprintf(stderr, "session stopped: %s\n", status.detail.c_str());
  }

  // Messages that raced Attach(): answered from the main thread.
  void Flush() {
    std::vector<uint64_t> ids;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ids.swap(early_);
    }
    PortBackend* port = port_.load(std::memory_order_acquire);
    for (uint64_t id : ids) port->Reply(0, id, 0, reply_.data(), reply_.size());
    if (!ids.empty()) port->Consumed(static_cast<uint32_t>(ids.size()));
    messages_.fetch_add(ids.size(), std::memory_order_relaxed);
  }

  uint64_t messages() const { return messages_.load(); }

 private:
  std::vector<uint8_t> reply_;
  std::atomic<PortBackend*> port_{nullptr};
  std::atomic<uint64_t> messages_{0};
  std::mutex mu_;
  std::vector<uint64_t> early_;
};

class NoEvents : public PortEvents {
 public:
  void OnBatch(std::unique_ptr<MessageBatch>) override {}
  void OnStopped(StopReason, const Status&) override {}
};

std::string Arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

int Serve(PortOptions options, size_t reply_size) {
  Replier events(reply_size);
  Status status;
  auto port = PortBackend::Connect(options, &events, &status);
  if (!port) {
    std::fprintf(stderr, "connect failed: %s (0x%08x)\n", status.detail.c_str(), status.hresult);
    return 1;
  }
  events.Attach(port.get());
  events.Flush();
  std::printf("ready\n");
  std::fflush(stdout);
  const uint64_t cpu0 = ProcessCpuMicros();
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "mark") {  // per-run counters: messages and CPU since the last mark
      std::printf("mark messages=%llu cpu_us=%llu\n", static_cast<unsigned long long>(events.messages()),
                  static_cast<unsigned long long>(ProcessCpuMicros() - cpu0));
      std::fflush(stdout);
    }
  }
  port->Close();
  std::printf("done messages=%llu cpu_us=%llu\n", static_cast<unsigned long long>(events.messages()),
              static_cast<unsigned long long>(ProcessCpuMicros() - cpu0));
  return 0;
}

int Send(PortOptions options, unsigned callers, uint64_t count, uint32_t size) {
  NoEvents events;
  options.concurrency = 1;
  Status status;
  auto port = PortBackend::Connect(options, &events, &status);
  if (!port) {
    std::fprintf(stderr, "connect failed: %s (0x%08x)\n", status.detail.c_str(), status.hresult);
    return 1;
  }
  std::vector<uint64_t> latency(count);
  std::atomic<uint64_t> failed{0};
  const uint64_t cpu0 = ProcessCpuMicros();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (unsigned k = 0; k < callers; ++k) {
    threads.emplace_back([&, k] {
      std::vector<uint8_t> in(size, 0x11), out(size);
      for (uint64_t i = k; i < count; i += callers) {
        uint32_t returned = 0;
        const auto s0 = std::chrono::steady_clock::now();
        Status s = port->Send(in.data(), size, out.data(), size, &returned);
        latency[i] = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - s0).count());
        if (!s.ok() || returned != size) failed.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  const uint64_t cpu = ProcessCpuMicros() - cpu0;
  port->Close();
  std::sort(latency.begin(), latency.end());
  auto pct = [&](double p) {
    return latency[std::min(latency.size() - 1, static_cast<size_t>(p * double(latency.size() - 1) + 0.5))];
  };
  std::printf("done calls=%llu failed=%llu elapsed_ns=%llu p50_ns=%llu p99_ns=%llu p999_ns=%llu cpu_us=%llu\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(failed.load()),
              static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()),
              static_cast<unsigned long long>(pct(0.5)), static_cast<unsigned long long>(pct(0.99)),
              static_cast<unsigned long long>(pct(0.999)), static_cast<unsigned long long>(cpu));
  return failed.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fltport-bench-client serve|send --port \\Name [options]\n");
    return 2;
  }
  const std::string mode = argv[1];
  PortOptions options;
  options.name = Utf16(Arg(argc, argv, "--port", "\\Bench"));
  options.sim_runtime_dir = Arg(argc, argv, "--runtime-dir", "");
  options.concurrency = static_cast<uint32_t>(std::stoul(Arg(argc, argv, "--concurrency", "16")));
  if (mode == "serve") return Serve(options, std::stoul(Arg(argc, argv, "--reply-size", "8")));
  if (mode == "send") {
    return Send(options, static_cast<unsigned>(std::stoul(Arg(argc, argv, "--callers", "1"))),
                std::stoull(Arg(argc, argv, "--count", "10000")),
                static_cast<uint32_t>(std::stoul(Arg(argc, argv, "--size", "64"))));
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
