// MessageBatch: several messages in one buffer, 8-aligned offsets, little-endian header
// fields, the < 16 byte rule, reply/read/fault outcomes; BatchLinger: which batches wait.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "BatchLinger.h"
#include "MessageBatch.h"
#include "TestHarness.h"

using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;

using fltport::core::BatchLinger;
using fltport::core::MessageBatch;
using fltport::core::Status;

namespace {

std::vector<uint8_t> Message(uint32_t reply_length, uint64_t id, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> m(16 + payload.size());
  for (int i = 0; i < 4; ++i) m[i] = static_cast<uint8_t>(reply_length >> (8 * i));
  for (int i = 4; i < 8; ++i) m[i] = 0xEE;  // padding: must be ignored
  for (int i = 0; i < 8; ++i) m[8 + i] = static_cast<uint8_t>(id >> (8 * i));
  std::copy(payload.begin(), payload.end(), m.begin() + 16);
  return m;
}

std::vector<uint8_t> Slice(MessageBatch& b, uint32_t offset, uint32_t length) {
  return std::vector<uint8_t>(b.bytes().begin() + offset, b.bytes().begin() + offset + length);
}

}  // namespace

namespace {

void TestSeveralMessagesShareOneBuffer8Aligned() {
  MessageBatch b;
  ExpectTrue(b.empty(), "b.empty()");
  const std::vector<uint8_t> p1 = {1, 2, 3};
  const std::vector<uint8_t> p2 = {};
  const std::vector<uint8_t> p3(13, 0x5A);
  const std::vector<uint8_t> p4(8, 0x11);
  auto m1 = Message(17, 1, p1), m2 = Message(0, 0, p2), m3 = Message(1040, 0x0102030405060708ull, p3),
       m4 = Message(24, UINT64_MAX, p4);
  ExpectTrue(b.AppendMessage(m1.data(), m1.size()), "b.AppendMessage(m1.data(), m1.size())");
  ExpectTrue(b.AppendMessage(m2.data(), m2.size()), "b.AppendMessage(m2.data(), m2.size())");
  ExpectTrue(b.AppendMessage(m3.data(), m3.size()), "b.AppendMessage(m3.data(), m3.size())");
  ExpectTrue(b.AppendMessage(m4.data(), m4.size()), "b.AppendMessage(m4.data(), m4.size())");
  ExpectTrue(!b.empty(), "!b.empty()");
  ExpectEq(b.message_count(), size_t(4), "b.message_count()");
  const auto& r = b.messages();
  ExpectEq(r[0].reply_length, 17u, "r[0].reply_length");
  ExpectEq(r[0].message_id, uint64_t(1), "r[0].message_id");
  ExpectEq(r[0].offset, 0u, "r[0].offset");
  ExpectEq(r[0].length, 3u, "r[0].length");
  ExpectEq(r[1].offset, 8u, "r[1].offset");  // 3 bytes padded to 8
  ExpectEq(r[1].length, 0u, "r[1].length");
  ExpectEq(r[1].reply_length, 0u, "r[1].reply_length");
  ExpectEq(r[2].offset, 8u, "r[2].offset");  // an empty payload takes no room
  ExpectEq(r[2].reply_length, 1040u, "r[2].reply_length");
  ExpectEq(r[2].message_id, uint64_t(0x0102030405060708ull), "r[2].message_id");
  ExpectEq(r[2].length, 13u, "r[2].length");
  ExpectEq(r[3].offset, 24u, "r[3].offset");  // 8 + 13 -> 24
  ExpectEq(r[3].message_id, UINT64_MAX, "r[3].message_id");
  for (const auto& m : r) ExpectEq(m.offset % 8, 0u, "m.offset % 8");
  ExpectTrue(Slice(b, r[0].offset, r[0].length) == p1, "Slice(b, r[0].offset, r[0].length) == p1");
  ExpectTrue(Slice(b, r[2].offset, r[2].length) == p3, "Slice(b, r[2].offset, r[2].length) == p3");
  ExpectTrue(Slice(b, r[3].offset, r[3].length) == p4, "Slice(b, r[3].offset, r[3].length) == p4");
  ExpectEq(b.bytes().size(), size_t(32), "b.bytes().size()");
}

void TestHeaderIsReadLittleEndianWhateverTheHost() {
  MessageBatch b;
  const uint8_t raw[16] = {0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01};
  ExpectTrue(b.AppendMessage(raw, sizeof raw), "b.AppendMessage(raw, sizeof raw)");
  ExpectEq(b.messages()[0].reply_length, 0x12345678u, "b.messages()[0].reply_length");
  ExpectEq(b.messages()[0].message_id, uint64_t(0x0123456789ABCDEFull), "b.messages()[0].message_id");
  ExpectEq(b.messages()[0].length, 0u, "b.messages()[0].length");
}

void TestShorterThanTheHeaderIsRejected() {
  MessageBatch b;
  uint8_t raw[16] = {};
  for (size_t n = 0; n < 16; ++n) ExpectTrue(!b.AppendMessage(raw, n), "!b.AppendMessage(raw, n)");
  ExpectTrue(b.empty(), "b.empty()");
  ExpectTrue(b.bytes().empty(), "b.bytes().empty()");
  ExpectTrue(b.AppendMessage(raw, 16), "b.AppendMessage(raw, 16)");
}

void TestReplyReadAndFaultOutcomes() {
  MessageBatch b;
  b.AppendReply(7, Status::Ok());
  b.AppendReply(8, Status::FromNtStatus(0xC01C0020, "FilterReplyMessage"));
  ExpectTrue(!b.empty(), "!b.empty()");
  ExpectEq(b.message_count(), size_t(0), "b.message_count()");
  ExpectEq(b.replies().size(), size_t(2), "b.replies().size()");
  ExpectEq(b.replies()[0].token, uint64_t(7), "b.replies()[0].token");
  ExpectTrue(b.replies()[0].status.ok(), "b.replies()[0].status.ok()");
  ExpectEq(b.replies()[1].status.hresult, 0x801F0020u, "b.replies()[1].status.hresult");

  const uint8_t data[5] = {9, 8, 7, 6, 5};
  b.AppendRead(1, Status::Ok(), data, 5);
  b.AppendRead(2, Status::FromCompletion(0xC0000023, "ReadFile"), data, 5, 300);
  b.AppendRead(3, Status::Ok(), nullptr, 0);
  ExpectEq(b.reads().size(), size_t(3), "b.reads().size()");
  ExpectEq(b.reads()[0].offset, 0u, "b.reads()[0].offset");
  ExpectEq(b.reads()[0].length, 5u, "b.reads()[0].length");
  ExpectTrue(Slice(b, 0, 5) == std::vector<uint8_t>(data, data + 5), "Slice(b, 0, 5) == std::vector<uint8_t>(data, data + 5)");
  ExpectEq(b.reads()[1].length, 0u, "b.reads()[1].length");  // a failed read carries no bytes
  ExpectEq(b.reads()[1].required_size, 300u, "b.reads()[1].required_size");
  ExpectEq(b.reads()[1].status.win32, 122u, "b.reads()[1].status.win32");
  ExpectEq(b.reads()[2].offset, 8u, "b.reads()[2].offset");
  ExpectEq(b.reads()[2].length, 0u, "b.reads()[2].length");
  ExpectTrue(b.reads()[2].status.ok(), "b.reads()[2].status.ok()");

  b.AppendFault(70000, Status::FromCompletion(0xC0000023, "FilterGetMessage"));
  ExpectEq(b.faults().size(), size_t(1), "b.faults().size()");
  ExpectEq(b.faults()[0].required_size, 70000u, "b.faults()[0].required_size");
  ExpectEq(b.faults()[0].status.hresult, 0x8007007Au, "b.faults()[0].status.hresult");
}

void TestFitsBoundsOneBatch() {
  MessageBatch b;
  ExpectTrue(b.Fits(0), "b.Fits(0)");
  ExpectTrue(b.Fits(MessageBatch::kMaxBytes), "b.Fits(MessageBatch::kMaxBytes)");
  ExpectTrue(!b.Fits(MessageBatch::kMaxBytes + 1), "!b.Fits(MessageBatch::kMaxBytes + 1)");
  uint8_t raw[24] = {};
  ExpectTrue(b.AppendMessage(raw, sizeof raw), "b.AppendMessage(raw, sizeof raw)");
  ExpectTrue(!b.Fits(MessageBatch::kMaxBytes), "!b.Fits(MessageBatch::kMaxBytes)");
  ExpectTrue(b.Fits(MessageBatch::kMaxBytes - 8), "b.Fits(MessageBatch::kMaxBytes - 8)");
}

void TestOnlySuccessfulReplyOutcomesLinger() {
  using std::chrono::milliseconds;
  const auto t0 = BatchLinger::Clock::now();
  BatchLinger linger(milliseconds(3));
  MessageBatch empty;
  ExpectTrue(!linger.FlushNow(empty, t0), "an empty batch is never handed over");
  ExpectTrue(!linger.holding(), "and does not start the clock");
  ExpectEq(linger.WaitMs(-1, t0), -1, "nothing held: the wait is the caller's");
  ExpectEq(linger.WaitMs(250, t0), 250, "nothing held: the caller's bounded wait");

  MessageBatch ok;
  ok.AppendReply(1, Status::Ok());
  ok.AppendReply(2, Status::Ok());
  ExpectTrue(ok.only_successful_replies(), "only successful outcomes");
  ExpectTrue(!linger.FlushNow(ok, t0), "successful outcomes alone wait");
  ExpectTrue(linger.holding(), "held");
  ExpectEq(linger.WaitMs(-1, t0), 3, "an unbounded wait is cut to the linger");
  ExpectEq(linger.WaitMs(1, t0), 1, "a shorter wait is kept");
  ExpectEq(linger.WaitMs(-1, t0 + std::chrono::microseconds(1500)), 2, "what is left, rounded up");
  ExpectTrue(!linger.FlushNow(ok, t0 + milliseconds(2)), "still within the linger (clock from the first hold)");
  ExpectTrue(linger.FlushNow(ok, t0 + milliseconds(3)), "due");
  ExpectEq(linger.WaitMs(-1, t0 + milliseconds(9)), 0, "overdue: no wait at all");
  linger.Flushed();
  ExpectTrue(!linger.holding(), "handed over");
  ExpectEq(linger.WaitMs(-1, t0), -1, "the clock stopped");

  // Anything else in the batch goes at once.
  MessageBatch failed;
  failed.AppendReply(3, Status::Ok());
  failed.AppendReply(4, Status::FromHresult(0x801F0020u, "FilterReplyMessage"));
  ExpectTrue(!failed.only_successful_replies(), "a failed outcome is news");
  ExpectTrue(linger.FlushNow(failed, t0), "a failed outcome goes at once");
  MessageBatch with_message = ok;
  const auto m = Message(24, 7, {1, 2, 3});
  ExpectTrue(with_message.AppendMessage(m.data(), m.size()), "append");
  ExpectTrue(linger.FlushNow(with_message, t0), "outcomes ride with a message at once");
  MessageBatch with_fault;
  with_fault.AppendReply(5, Status::Ok());
  with_fault.AppendFault(0, Status::Protocol("x"));
  ExpectTrue(linger.FlushNow(with_fault, t0), "a fault goes at once");
  MessageBatch with_read;
  with_read.AppendRead(6, Status::Ok(), nullptr, 0);
  ExpectTrue(linger.FlushNow(with_read, t0), "a read goes at once");

  BatchLinger none(milliseconds(0));
  ExpectTrue(none.FlushNow(ok, t0), "linger 0: every batch at once");
  ExpectTrue(!none.holding(), "linger 0 never holds");
}

// Found by test/fuzz/core_message_batch.cc: FitsPayload(length) added the padding before
// checking, so a length near SIZE_MAX wrapped to a few bytes and "fit"; AppendRead then grew
// the buffer by the wrapped size and copied `length` bytes into it.
void TestPayloadSizeChecksDoNotWrap() {
  MessageBatch b;
  for (size_t length : {SIZE_MAX, SIZE_MAX - 6, SIZE_MAX - 7, MessageBatch::kMaxBytes + 1}) {
    ExpectTrue(!b.FitsPayload(length), "!b.FitsPayload(" + std::to_string(length) + ")");
    ExpectTrue(!b.Fits(length), "!b.Fits(" + std::to_string(length) + ")");
  }
  ExpectTrue(b.FitsPayload(MessageBatch::kMaxBytes - 7), "b.FitsPayload(kMaxBytes - 7)");
  ExpectTrue(!b.FitsPayload(MessageBatch::kMaxBytes - 6), "!b.FitsPayload(kMaxBytes - 6)");
  // The read is refused before its bytes are touched (there are none behind this pointer).
  static const uint8_t one = 0;
  b.AppendRead(7, Status::Ok(), &one, SIZE_MAX - 6);
  ExpectEq(b.reads().size(), size_t(1), "b.reads().size()");
  ExpectEq(b.reads()[0].length, 0u, "b.reads()[0].length");
  ExpectTrue(!b.reads()[0].status.ok(), "!b.reads()[0].status.ok()");
  ExpectEq(b.bytes().size(), size_t(0), "b.bytes().size()");
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(argc, argv,
                             {
                                 {"several_messages_share_one_buffer_8_aligned", &TestSeveralMessagesShareOneBuffer8Aligned},
                                 {"header_is_read_little_endian_whatever_the_host", &TestHeaderIsReadLittleEndianWhateverTheHost},
                                 {"shorter_than_the_header_is_rejected", &TestShorterThanTheHeaderIsRejected},
                                 {"reply_read_and_fault_outcomes", &TestReplyReadAndFaultOutcomes},
                                 {"fits_bounds_one_batch", &TestFitsBoundsOneBatch},
                                 {"only_successful_reply_outcomes_linger", &TestOnlySuccessfulReplyOutcomesLinger},
                                 {"payload_size_checks_do_not_wrap", &TestPayloadSizeChecksDoNotWrap},
                             });
}
