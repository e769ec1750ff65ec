// Fuzz target: PortBackendPosix (native/posix) fed by a hostile fltsim-host. A test peer
// (native/test/posix_test_peer.h) plays the host on a real socket: it answers HELLO, then
// writes whatever the input says - GET_COMPLETE, REPLY_RESULT and SEND_RESULT with any sizes,
// tags and statuses, or no frame at all - while the input also drives the client's side.
//
// Input: 4 bytes of options, then ops until the input ends.
//   options  concurrency 1 + b0 % 4; initial buffer 16 + 8 * (b1 % 32);
//            max message initial + 64 * b2; high water mark 1 + b3 % 4
//   0 len:u16 bytes       the host writes these bytes (frames, or anything else)
//   1 status:u32 len:u8   the client replies (token and message id count up from 1)
//   2 in:u8 cap:u16 null:u8  FilterSendMessage on a worker thread (null bit 0: in, bit 1: out);
//                         the host waits for its SEND frame, so the tag (2<<40, 2<<40 + 1, ...)
//                         is registered before the next op
//   3 n:u8                the client consumed n messages
//   4                     Close() on a worker thread (the host may then answer CANCEL)
//   5 in:u8 cap:u16 null:u8  SendAsync from this thread (its SEND frame is written before the
//                         next op; the outcome comes in a batch, as a one-shot completion)
// Tags: GET slot i is 1 + i; replies are 1<<40 + k; sends 2<<40 + k (blocking) or the async
// range (PortBackendPosix.h).
// At the end the host closes its end; the backend must stop exactly once (OnStopped), with no
// batch after it, settle every blocking send, answer each reply and async send it took
// exactly once (and one it refused never), and never return more bytes than were asked for.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "FuzzInput.h"
#include "FuzzPeer.h"
#include "PortBackendPosix.h"

using namespace fltport;
using fuzz::FuzzInput;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  core::PortOptions options;
  options.concurrency = 1 + in.U8() % 4;
  options.initial_buffer_size = 16 + 8 * (in.U8() % 32);
  options.max_message_size = options.initial_buffer_size + 64 * in.U8();
  options.high_water_mark = 1 + in.U8() % 4;

  std::unique_ptr<test::PeerStream> host;
  auto stream = fuzz::OpenStream(FLTSIM_KIND_PORT, &host);
  test::RecordingPortEvents events;
  auto backend = std::make_unique<posix::PortBackendPosix>(options, &events, std::move(stream));
  backend->set_drain_timeout(std::chrono::milliseconds(500));
  if (!backend->Start().ok()) __builtin_trap();

  struct Send {
    std::vector<uint8_t> in, out;
    bool in_null = false, out_null = false;
    std::atomic<bool> ended{false};
    std::thread thread;
  };
  std::vector<std::unique_ptr<Send>> sends;
  std::vector<std::thread> closers;
  uint64_t next_token = 1;
  std::map<uint64_t, uint32_t> taken;  // token -> output capacity (replies: 0)
  int ops = 0;
  fuzz::HostWriter writer(host.get());
  while (!in.done() && ++ops <= 64) {
    switch (in.U8()) {
      case 0:
        writer.Write(in.Bytes(in.U16()));
        break;
      case 1: {
        const uint32_t status = in.U32();
        const std::vector<uint8_t> payload(in.U8(), 0xA5);
        const uint64_t token = next_token++;
        if (backend->Reply(token, token, static_cast<int32_t>(status), payload.data(), payload.size()).ok()) {
          taken[token] = 0;
        }
        break;
      }
      case 2: {
        auto send = std::make_unique<Send>();
        send->in.assign(in.U8(), 0x5A);
        send->out.assign(in.U16(), 0);
        const uint8_t null = in.U8();
        send->in_null = null & 1;
        send->out_null = null & 2;
        Send* s = send.get();
        posix::PortBackendPosix* b = backend.get();
        s->thread = std::thread([s, b] {
          uint32_t returned = 0;
          b->Send(s->in_null ? nullptr : s->in.data(), static_cast<uint32_t>(s->in.size()),
                  s->out_null ? nullptr : s->out.data(), static_cast<uint32_t>(s->out.size()),
                  &returned);
          if (returned > s->out.size()) __builtin_trap();
          s->ended.store(true);
        });
        fuzz::AwaitFrame(host.get(), FLTSIM_SEND, s->ended);
        sends.push_back(std::move(send));
        break;
      }
      case 3:
        backend->Consumed(in.U8());
        break;
      case 4: {
        posix::PortBackendPosix* b = backend.get();
        closers.emplace_back([b] { b->Close(); });
        break;
      }
      case 5: {
        const std::vector<uint8_t> input(in.U8(), 0x3C);
        const uint32_t cap = in.U16();
        const uint8_t null = in.U8();
        const uint64_t token = next_token++;
        const bool out_null = (null & 2) != 0;
        if (backend->SendAsync(token, (null & 1) ? nullptr : input.data(),
                               static_cast<uint32_t>(input.size()), out_null ? 0 : cap, out_null).ok()) {
          taken[token] = out_null ? 0 : cap;
        }
        break;
      }
      default:
        break;
    }
  }

  host->Close();  // end of stream: whatever is still pending settles now
  for (auto& s : sends) s->thread.join();
  for (auto& t : closers) t.join();
  backend->Close();
  if (events.stopped() != 1 || events.contract_violations() != 0) __builtin_trap();
  std::map<uint64_t, int> outcomes;
  for (const auto& r : events.Replies()) {
    if (taken.count(r.token) == 0 || ++outcomes[r.token] > 1) __builtin_trap();
  }
  for (const auto& r : events.Reads()) {
    const auto it = taken.find(r.token);
    if (it == taken.end() || ++outcomes[r.token] > 1 || r.bytes.size() > it->second) __builtin_trap();
  }
  for (const auto& [token, cap] : taken) {
    if (outcomes[token] != 1) __builtin_trap();  // everything taken is answered, once
  }
  for (uint32_t offset : events.Offsets()) {
    if (offset % 8 != 0) __builtin_trap();
  }
  return 0;
}
