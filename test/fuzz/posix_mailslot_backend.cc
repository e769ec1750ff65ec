// Fuzz target: MailslotBackendPosix (native/posix), the server end of a mailslot, fed by a
// hostile fltsim-host: MS_READ_COMPLETE, MS_QUERY_RESULT and MS_SET_RESULT with any sizes,
// tags and statuses. A test peer (native/test/posix_test_peer.h) plays the host on a socket.
// Input: ops until the input ends.
//   0 len:u16 bytes   the host writes these bytes
//   1 max:u16         Read() of up to max bytes (tags count up from 1)
//   2                 Info() on a worker thread; the host waits for its MS_QUERY (tag 1<<40 + k)
//   3 ms:u32          SetReadTimeout(ms) on a worker thread; the host waits for its MS_SET
//   4                 Close() on a worker thread
// At the end the host closes its end. Checks: OnStopped exactly once with no batch after it;
// each read token settles at most once, with no more bytes than it asked for; Info() and
// SetReadTimeout() return.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "FuzzInput.h"
#include "FuzzPeer.h"
#include "MailslotBackendPosix.h"

namespace {

using namespace fltport;
using fuzz::FuzzInput;

class Events : public core::MailslotEvents {
 public:
  void Ask(uint64_t token, uint32_t max) {
    std::lock_guard<std::mutex> lock(mu_);
    asked_[token] = max;
  }
  void OnBatch(std::unique_ptr<core::MessageBatch> batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || batch->empty()) __builtin_trap();
    for (const core::ReadOutcome& r : batch->reads()) {
      auto it = asked_.find(r.token);
      if (it == asked_.end() || settled_[r.token]++ > 0) __builtin_trap();
      if (r.length > it->second || (!r.status.ok() && r.length != 0)) __builtin_trap();
      if (r.offset % 8 != 0 || r.offset + uint64_t(r.length) > batch->bytes().size()) __builtin_trap();
    }
  }
  void OnStopped(const core::Status&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++stopped_;
  }
  int stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }

 private:
  std::mutex mu_;
  std::map<uint64_t, uint32_t> asked_;
  std::map<uint64_t, int> settled_;
  int stopped_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  std::unique_ptr<test::PeerStream> host;
  auto stream = fuzz::OpenStream(FLTSIM_KIND_MAILSLOT, &host);
  Events events;
  auto server = std::make_unique<posix::MailslotBackendPosix>(&events, std::move(stream));
  server->set_drain_timeout(std::chrono::milliseconds(500));
  if (!server->Start().ok()) __builtin_trap();

  struct Request {
    std::atomic<bool> ended{false};
    std::thread thread;
  };
  std::vector<std::unique_ptr<Request>> requests;
  posix::MailslotBackendPosix* s = server.get();
  uint64_t next_token = 1;
  int ops = 0;
  fuzz::HostWriter writer(host.get());
  while (!in.done() && ++ops <= 64) {
    const uint8_t op = in.U8();
    switch (op) {
      case 0:
        writer.Write(in.Bytes(in.U16()));
        break;
      case 1: {
        const uint32_t max = in.U16();
        events.Ask(next_token, max);
        s->Read(next_token++, max);
        break;
      }
      case 2:
      case 3: {
        const bool query = op == 2;
        const uint32_t ms = query ? 0 : in.U32();
        auto r = std::make_unique<Request>();
        Request* req = r.get();
        req->thread = std::thread([s, req, query, ms] {
          core::MailslotInfo info{};
          if (query) {
            s->Info(&info);
          } else {
            s->SetReadTimeout(ms);
          }
          req->ended.store(true);
        });
        fuzz::AwaitFrame(host.get(), query ? FLTSIM_MS_QUERY : FLTSIM_MS_SET, req->ended);
        requests.push_back(std::move(r));
        break;
      }
      case 4: {
        auto r = std::make_unique<Request>();
        r->thread = std::thread([s] { s->Close(); });
        requests.push_back(std::move(r));
        break;
      }
      default:
        break;
    }
  }

  host->Close();  // end of stream: whatever is still pending settles now
  for (auto& r : requests) r->thread.join();
  server->Close();
  if (events.stopped() != 1) __builtin_trap();
  return 0;
}
