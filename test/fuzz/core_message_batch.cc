// Fuzz target: core::MessageBatch, where every receive and read completion lands (its bytes
// come from the driver or the host) before crossing to JS as one buffer and u32 offsets.
// Input: ops until the input ends.
//   0 total:u16 bytes      AppendMessage(FILTER_MESSAGE_HEADER + payload, total)
//   1 ok:u8 len:u16 bytes  AppendRead (ok bit 0: success, else a failure with no bytes)
//   2 / 3                  AppendReply / AppendFault
//   4 length:u64           Fits / FitsPayload of any length: true must mean it fits
// Checks: every record points inside bytes() at an 8-aligned offset and holds exactly the
// bytes appended; a message shorter than its header is refused; the size checks never say
// yes to something that would not fit in kMaxBytes.
#include <cstdint>
#include <cstring>
#include <vector>

#include "FuzzInput.h"
#include "MessageBatch.h"

namespace {

using fltport::core::MessageBatch;
using fltport::core::Status;
using fltport::fuzz::FuzzInput;

uint64_t Le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

bool Holds(MessageBatch& batch, uint32_t offset, uint32_t length, const uint8_t* want) {
  const std::vector<uint8_t>& bytes = batch.bytes();
  return offset % 8 == 0 && offset <= bytes.size() && length <= bytes.size() - offset &&
         (length == 0 || std::memcmp(bytes.data() + offset, want, length) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  MessageBatch batch;
  std::vector<std::vector<uint8_t>> payloads;  // what each message / read should hold
  std::vector<std::vector<uint8_t>> reads;
  uint64_t token = 0;
  while (!in.done()) {
    switch (in.U8() % 5) {
      case 0: {
        const std::vector<uint8_t> m = in.Bytes(in.U16());
        const size_t before = batch.message_count();
        const bool added = batch.AppendMessage(m.data(), m.size());
        if (added != (m.size() >= 16) || batch.message_count() != before + (added ? 1 : 0)) {
          __builtin_trap();
        }
        if (added) {
          const auto& rec = batch.messages().back();
          if (rec.reply_length != Le(m.data(), 4) || rec.message_id != Le(m.data() + 8, 8)) {
            __builtin_trap();
          }
          payloads.emplace_back(m.begin() + 16, m.end());
        }
        break;
      }
      case 1: {
        const bool ok = in.U8() & 1;
        const std::vector<uint8_t> r = in.Bytes(in.U16());
        batch.AppendRead(++token, ok ? Status::Ok() : Status::Protocol("fuzz"), r.data(), r.size(),
                         static_cast<uint32_t>(r.size()));
        reads.push_back(ok ? r : std::vector<uint8_t>());
        break;
      }
      case 2:
        batch.AppendReply(++token, Status::Ok());
        break;
      case 3:
        batch.AppendFault(in.U32(), Status::Protocol("fuzz"));
        break;
      case 4: {
        const uint64_t length = in.U64();
        const uint64_t used = batch.bytes().size();
        const uint64_t room = MessageBatch::kMaxBytes - used;
        if (batch.Fits(length) && length > room) __builtin_trap();
        if (batch.FitsPayload(length) && (length > room || ((length + 7) & ~uint64_t(7)) > room)) {
          __builtin_trap();
        }
        break;
      }
    }
  }
  if (batch.messages().size() != payloads.size() || batch.reads().size() != reads.size()) {
    __builtin_trap();
  }
  for (size_t i = 0; i < payloads.size(); ++i) {
    const auto& rec = batch.messages()[i];
    if (rec.length != payloads[i].size() || !Holds(batch, rec.offset, rec.length, payloads[i].data())) {
      __builtin_trap();
    }
  }
  for (size_t i = 0; i < reads.size(); ++i) {
    const auto& rec = batch.reads()[i];
    if (rec.length != reads[i].size() || !Holds(batch, rec.offset, rec.length, reads[i].data())) {
      __builtin_trap();
    }
  }
  if (batch.bytes().size() % 8 != 0) __builtin_trap();
  return 0;
}
