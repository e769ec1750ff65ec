// MessageBatch: several messages in one buffer, 8-aligned offsets, little-endian header
// fields, the < 16 byte rule, reply/read/fault outcomes.
#include <cstdint>
#include <cstring>
#include <vector>

#include "MessageBatch.h"
#include "core_test_check.h"

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

TEST(several_messages_share_one_buffer_8_aligned) {
  MessageBatch b;
  CHECK(b.empty());
  const std::vector<uint8_t> p1 = {1, 2, 3};
  const std::vector<uint8_t> p2 = {};
  const std::vector<uint8_t> p3(13, 0x5A);
  const std::vector<uint8_t> p4(8, 0x11);
  auto m1 = Message(17, 1, p1), m2 = Message(0, 0, p2), m3 = Message(1040, 0x0102030405060708ull, p3),
       m4 = Message(24, UINT64_MAX, p4);
  CHECK(b.AppendMessage(m1.data(), m1.size()));
  CHECK(b.AppendMessage(m2.data(), m2.size()));
  CHECK(b.AppendMessage(m3.data(), m3.size()));
  CHECK(b.AppendMessage(m4.data(), m4.size()));
  CHECK(!b.empty());
  CHECK_EQ(b.message_count(), size_t(4));
  const auto& r = b.messages();
  CHECK_EQ(r[0].reply_length, 17u);
  CHECK_EQ(r[0].message_id, uint64_t(1));
  CHECK_EQ(r[0].offset, 0u);
  CHECK_EQ(r[0].length, 3u);
  CHECK_EQ(r[1].offset, 8u);  // 3 bytes padded to 8
  CHECK_EQ(r[1].length, 0u);
  CHECK_EQ(r[1].reply_length, 0u);
  CHECK_EQ(r[2].offset, 8u);  // an empty payload takes no room
  CHECK_EQ(r[2].reply_length, 1040u);
  CHECK_EQ(r[2].message_id, uint64_t(0x0102030405060708ull));
  CHECK_EQ(r[2].length, 13u);
  CHECK_EQ(r[3].offset, 24u);  // 8 + 13 -> 24
  CHECK_EQ(r[3].message_id, UINT64_MAX);
  for (const auto& m : r) CHECK_EQ(m.offset % 8, 0u);
  CHECK(Slice(b, r[0].offset, r[0].length) == p1);
  CHECK(Slice(b, r[2].offset, r[2].length) == p3);
  CHECK(Slice(b, r[3].offset, r[3].length) == p4);
  CHECK_EQ(b.bytes().size(), size_t(32));
}

TEST(header_is_read_little_endian_whatever_the_host) {
  MessageBatch b;
  const uint8_t raw[16] = {0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01};
  CHECK(b.AppendMessage(raw, sizeof raw));
  CHECK_EQ(b.messages()[0].reply_length, 0x12345678u);
  CHECK_EQ(b.messages()[0].message_id, uint64_t(0x0123456789ABCDEFull));
  CHECK_EQ(b.messages()[0].length, 0u);
}

TEST(shorter_than_the_header_is_rejected) {
  MessageBatch b;
  uint8_t raw[16] = {};
  for (size_t n = 0; n < 16; ++n) CHECK(!b.AppendMessage(raw, n));
  CHECK(b.empty());
  CHECK(b.bytes().empty());
  CHECK(b.AppendMessage(raw, 16));
}

TEST(reply_read_and_fault_outcomes) {
  MessageBatch b;
  b.AppendReply(7, Status::Ok());
  b.AppendReply(8, Status::FromNtStatus(0xC01C0020, "FilterReplyMessage"));
  CHECK(!b.empty());
  CHECK_EQ(b.message_count(), size_t(0));
  CHECK_EQ(b.replies().size(), size_t(2));
  CHECK_EQ(b.replies()[0].token, uint64_t(7));
  CHECK(b.replies()[0].status.ok());
  CHECK_EQ(b.replies()[1].status.hresult, 0x801F0020u);

  const uint8_t data[5] = {9, 8, 7, 6, 5};
  b.AppendRead(1, Status::Ok(), data, 5);
  b.AppendRead(2, Status::FromCompletion(0xC0000023, "ReadFile"), data, 5, 300);
  b.AppendRead(3, Status::Ok(), nullptr, 0);
  CHECK_EQ(b.reads().size(), size_t(3));
  CHECK_EQ(b.reads()[0].offset, 0u);
  CHECK_EQ(b.reads()[0].length, 5u);
  CHECK(Slice(b, 0, 5) == std::vector<uint8_t>(data, data + 5));
  CHECK_EQ(b.reads()[1].length, 0u);  // a failed read carries no bytes
  CHECK_EQ(b.reads()[1].required_size, 300u);
  CHECK_EQ(b.reads()[1].status.win32, 122u);
  CHECK_EQ(b.reads()[2].offset, 8u);
  CHECK_EQ(b.reads()[2].length, 0u);
  CHECK(b.reads()[2].status.ok());

  b.AppendFault(70000, Status::FromCompletion(0xC0000023, "FilterGetMessage"));
  CHECK_EQ(b.faults().size(), size_t(1));
  CHECK_EQ(b.faults()[0].required_size, 70000u);
  CHECK_EQ(b.faults()[0].status.hresult, 0x8007007Au);
}

TEST(fits_bounds_one_batch) {
  MessageBatch b;
  CHECK(b.Fits(0));
  CHECK(b.Fits(MessageBatch::kMaxBytes));
  CHECK(!b.Fits(MessageBatch::kMaxBytes + 1));
  uint8_t raw[24] = {};
  CHECK(b.AppendMessage(raw, sizeof raw));
  CHECK(!b.Fits(MessageBatch::kMaxBytes));
  CHECK(b.Fits(MessageBatch::kMaxBytes - 8));
}

TEST_MAIN("core_message_batch_test")
