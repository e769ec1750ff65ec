// fltsim's wire handling and text helpers, without sockets: FrameReader (framing and the
// Length/Flags checks, any split of the byte stream), WireCodec (every body's size rules and
// the malformed cases that must drop a stream), the control-line syntax, object names,
// options and NT timeouts.
#include <string>
#include <vector>

#include "../fltsim/engine/ControlText.h"
#include "../fltsim/engine/Deadline.h"
#include "../fltsim/engine/ObjectName.h"
#include "../fltsim/engine/SimOptions.h"
#include "../fltsim/transport/FrameReader.h"
#include "../fltsim/transport/WireCodec.h"
#include "StatusTable.h"
#include "TestHarness.h"

namespace {

using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;
using namespace fltport::fltsim;

std::vector<uint8_t> Header(uint32_t length, uint16_t type, uint16_t flags = 0, uint64_t tag = 1) {
  std::vector<uint8_t> h(16);
  WirePut32(h.data(), length);
  WirePut16(h.data() + 4, type);
  WirePut16(h.data() + 6, flags);
  WirePut64(h.data() + 8, tag);
  return h;
}

void TestFramesSplitAnywhere() {
  std::vector<uint8_t> stream;
  for (uint64_t tag = 1; tag <= 3; ++tag) {
    std::vector<uint8_t> body(static_cast<size_t>(tag * 5), static_cast<uint8_t>(tag));
    auto f = BuildFrame(FLTSIM_REPLY, tag, body.data(), body.size());
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{16}, size_t{17}, stream.size()}) {
    FrameReader reader;
    std::vector<uint64_t> tags;
    for (size_t at = 0; at < stream.size(); at += chunk) {
      reader.Append(stream.data() + at, std::min(chunk, stream.size() - at));
      FLTSIM_FRAME_HEADER h;
      std::vector<uint8_t> body;
      std::string why;
      while (reader.Next(&h, &body, &why) == FrameReader::Result::kFrame) {
        ExpectEq(h.Type, uint16_t{FLTSIM_REPLY}, "type");
        ExpectEq(body.size(), static_cast<size_t>(h.Tag * 5), "body size");
        ExpectEq(static_cast<uint64_t>(body[0]), h.Tag, "body content");
        tags.push_back(h.Tag);
      }
    }
    ExpectTrue(tags == std::vector<uint64_t>({1, 2, 3}), "three frames with chunk " + std::to_string(chunk));
    ExpectEq(reader.buffered(), size_t{0}, "nothing left over");
  }
}

void TestMalformedHeaders() {
  struct Case {
    std::vector<uint8_t> bytes;
    const char* why;
  };
  const Case cases[] = {
      {Header(15, FLTSIM_HELLO), "frame Length 15 is smaller than the 16-byte header"},
      {Header(0, FLTSIM_HELLO), "frame Length 0 is smaller than the 16-byte header"},
      {Header(FLTSIM_MAX_FRAME + 1, FLTSIM_HELLO), "frame Length 16777217 exceeds FLTSIM_MAX_FRAME"},
      {Header(0xFFFFFFFF, FLTSIM_HELLO), "frame Length 4294967295 exceeds FLTSIM_MAX_FRAME"},
      {Header(16, FLTSIM_HELLO, 1), "frame Flags 1 is not 0"},
  };
  for (const Case& c : cases) {
    FrameReader reader;
    reader.Append(c.bytes.data(), c.bytes.size());
    FLTSIM_FRAME_HEADER h;
    std::vector<uint8_t> body;
    std::string why;
    ExpectEq(static_cast<int>(reader.Next(&h, &body, &why)), static_cast<int>(FrameReader::Result::kMalformed), c.why);
    ExpectEq(why, std::string(c.why), "reason");
  }
  // A header that promises FLTSIM_MAX_FRAME bytes is fine until they arrive: no early drop.
  FrameReader reader;
  auto h = Header(FLTSIM_MAX_FRAME, FLTSIM_REPLY);
  reader.Append(h.data(), h.size());
  FLTSIM_FRAME_HEADER out;
  std::vector<uint8_t> body;
  std::string why;
  ExpectEq(static_cast<int>(reader.Next(&out, &body, &why)), static_cast<int>(FrameReader::Result::kNeedMore), "needs more");
}

std::vector<uint8_t> HelloBody(uint32_t magic, uint16_t version, uint16_t kind) {
  std::vector<uint8_t> b(16);
  WirePut32(b.data(), magic);
  WirePut16(b.data() + 4, version);
  WirePut16(b.data() + 6, kind);
  WirePut32(b.data() + 8, 1234);
  return b;
}

void TestHello() {
  HelloRequest hello;
  std::string why;
  auto ok = HelloBody(FLTSIM_WIRE_MAGIC, 1, FLTSIM_KIND_MAILSLOT);
  ExpectTrue(ParseHello(ok.data(), ok.size(), &hello, &why), "valid");
  ExpectEq(hello.kind, uint16_t{FLTSIM_KIND_MAILSLOT}, "kind");
  ExpectEq(hello.process_id, 1234u, "pid");
  auto other_version = HelloBody(FLTSIM_WIRE_MAGIC, 9, FLTSIM_KIND_PORT);
  ExpectTrue(ParseHello(other_version.data(), other_version.size(), &hello, &why), "another version parses");
  ExpectEq(hello.version, uint16_t{9}, "version reported");
  auto bad_magic = HelloBody(0, 1, FLTSIM_KIND_PORT);
  ExpectTrue(!ParseHello(bad_magic.data(), bad_magic.size(), &hello, &why), "bad magic");
  ExpectEq(why, std::string("HELLO magic is not FLTSIM_WIRE_MAGIC"), "why");
  auto bad_kind = HelloBody(FLTSIM_WIRE_MAGIC, 1, 0);
  ExpectTrue(!ParseHello(bad_kind.data(), bad_kind.size(), &hello, &why), "kind 0");
  ExpectTrue(!ParseHello(ok.data(), 15, &hello, &why), "short");
  ExpectEq(why, std::string("HELLO body is 15 bytes, expected 16"), "why short");
}

void TestConnectBody() {
  std::string why;
  ConnectRequest r;
  std::vector<uint8_t> b(8 + 4 + 3);
  WirePut32(b.data(), 1);
  WirePut16(b.data() + 4, 4);
  WirePut16(b.data() + 6, 3);
  b[8] = '\\';
  b[10] = 'P';
  b[12] = 7;
  b[13] = 8;
  b[14] = 9;
  ExpectTrue(ParseConnect(b.data(), b.size(), &r, &why), "valid");
  ExpectTrue(r.name == u"\\P", "name");
  ExpectTrue(r.context == std::vector<uint8_t>({7, 8, 9}), "context");
  ExpectEq(r.options, 1u, "options");
  ExpectTrue(!ParseConnect(b.data(), b.size() - 1, &r, &why), "one byte short");
  ExpectEq(why, std::string("CONNECT parts (8 + 4 + 3) do not add up to the body size 14"), "why");
  WirePut16(b.data() + 4, 3);
  ExpectTrue(!ParseConnect(b.data(), b.size(), &r, &why), "odd name");
  ExpectTrue(!ParseConnect(b.data(), 7, &r, &why), "short fixed part");
  ExpectEq(why, std::string("CONNECT body is 7 bytes, shorter than its 8-byte fixed part"), "why short");
}

void TestFixedBodies() {
  std::string why;
  uint32_t size;
  uint64_t tag;
  int64_t timeout;
  std::vector<uint8_t> eight(8, 0);
  WirePut32(eight.data(), 4096);
  ExpectTrue(ParseGet(eight.data(), 8, &size, &why) && size == 4096, "GET");
  ExpectTrue(!ParseGet(eight.data(), 9, &size, &why), "GET 9 bytes");
  WirePut64(eight.data(), FLTSIM_CANCEL_ALL);
  ExpectTrue(ParseCancel(eight.data(), 8, &tag, &why) && tag == FLTSIM_CANCEL_ALL, "CANCEL all");
  ExpectTrue(!ParseCancel(eight.data(), 4, &tag, &why), "CANCEL short");
  WirePut64(eight.data(), static_cast<uint64_t>(int64_t{-5}));
  ExpectTrue(ParseMailslotSet(eight.data(), 8, &timeout, &why) && timeout == -5, "MS_SET signed");
  ExpectTrue(!ParseMailslotSet(eight.data(), 0, &timeout, &why), "MS_SET empty");
}

void TestSendBody() {
  std::string why;
  SendRequest r;
  std::vector<uint8_t> b(8 + 2, 0);
  WirePut32(b.data(), 64);
  ExpectTrue(ParseSend(b.data(), b.size(), &r, &why), "valid");
  ExpectEq(r.output_capacity, 64u, "capacity");
  ExpectEq(r.input_size, 2u, "input");
  WirePut32(b.data() + 4, FLTSIM_SEND_IN_NULL);
  ExpectTrue(!ParseSend(b.data(), b.size(), &r, &why), "NULL input with bytes");
  ExpectTrue(ParseSend(b.data(), 8, &r, &why) && r.input_null && r.input_size == 0, "NULL input");
  WirePut32(b.data() + 4, 4);
  ExpectTrue(!ParseSend(b.data(), 8, &r, &why), "unknown flag");
  ExpectTrue(!ParseSend(b.data(), 7, &r, &why), "short");
}

void TestMailslotBodies() {
  std::string why;
  MailslotCreateRequest c;
  std::vector<uint8_t> b(24 + 4, 0);
  WirePut32(b.data(), 100);
  WirePut32(b.data() + 4, 7);
  WirePut64(b.data() + 8, static_cast<uint64_t>(int64_t{-1}));
  WirePut16(b.data() + 16, 4);
  b[24] = 'a';
  b[26] = 'b';
  ExpectTrue(ParseMailslotCreate(b.data(), b.size(), &c, &why), "valid");
  ExpectTrue(c.name == u"ab" && c.max_message_size == 100 && c.quota == 7 && c.read_timeout == -1, "fields");
  ExpectTrue(!ParseMailslotCreate(b.data(), b.size() - 2, &c, &why), "name past the body");
  ExpectTrue(!ParseMailslotCreate(b.data(), 23, &c, &why), "short");
  std::u16string name;
  std::vector<uint8_t> o(8 + 2, 0);
  WirePut16(o.data(), 2);
  o[8] = 'x';
  ExpectTrue(ParseMailslotOpen(o.data(), o.size(), &name, &why) && name == u"x", "open");
  WirePut16(o.data(), 1);
  ExpectTrue(!ParseMailslotOpen(o.data(), o.size(), &name, &why), "odd name");
}

void TestEncodedBodies() {
  auto s = EncodeStatusBody(0xC0000037);
  ExpectTrue(s == std::array<uint8_t, 8>({0x37, 0, 0, 0xC0, 0, 0, 0, 0}), "status body little-endian");
  auto c = EncodeCompletionBody(0xC0000023, 116);
  ExpectTrue(c == std::array<uint8_t, 8>({0x23, 0, 0, 0xC0, 116, 0, 0, 0}), "completion body");
}

void TestControlLines() {
  ControlLine line;
  std::string error;
  ExpectTrue(ControlLine::Parse("send conn=3  size=10 name=%5CP%20x\r\n", &line, &error), "parses");
  ExpectEq(line.verb, std::string("send"), "verb");
  ExpectEq(*line.Find("name"), std::string("\\P x"), "decoded");
  ExpectEq(line.args.size(), size_t{3}, "three args");
  ExpectTrue(!ControlLine::Parse("", &line, &error), "empty");
  ExpectTrue(!ControlLine::Parse("send conn", &line, &error), "no value");
  ExpectTrue(!ControlLine::Parse("send a=1 a=2", &line, &error), "duplicate");
  ExpectTrue(!ControlLine::Parse("send a=%4", &line, &error), "truncated escape");
  ExpectTrue(!ControlLine::Parse("send a=%G0", &line, &error), "bad escape");
  ExpectTrue(!ControlLine::Parse("se!nd", &line, &error), "bad verb");
  ExpectEq(PercentEncode("a b=c%\xff"), std::string("a%20b%3Dc%25%FF"), "encode");
  std::string raw;
  ExpectTrue(PercentDecode("a%20b%3Dc%25%FF", &raw) && raw == "a b=c%\xff", "decode");
  ExpectEq(LineBuilder("ok").Add("n", uint64_t{5}).AddStatus("s", 0x102).AddBytes("b", reinterpret_cast<const uint8_t*>("\x01\xab"), 2).str(),
           std::string("ok n=5 s=0x00000102 b=01ab"), "builder");
  std::vector<uint8_t> bytes;
  ExpectTrue(ParseHexBytes("00fFa0", &bytes) && bytes == std::vector<uint8_t>({0, 0xFF, 0xA0}), "hex");
  ExpectTrue(!ParseHexBytes("abc", &bytes), "odd hex");
}

void TestNamesAndText() {
  ExpectTrue(FoldName(u"\\Port\u00e9x") == u"\\PORT\u00c9X", "ASCII and Latin-1 upcase");
  std::u16string u16;
  ExpectTrue(Utf8ToUtf16("\\P\xc3\xa9\xf0\x9f\x98\x80", &u16), "valid UTF-8");
  ExpectEq(u16.size(), size_t{5}, "surrogate pair");
  ExpectEq(Utf16ToUtf8(u16), std::string("\\P\xc3\xa9\xf0\x9f\x98\x80"), "round trip");
  ExpectTrue(!Utf8ToUtf16("\xc0\xaf", &u16), "overlong");
  ExpectTrue(!Utf8ToUtf16("\xed\xa0\x80", &u16), "encoded surrogate");
  ExpectTrue(!Utf8ToUtf16("\xe2\x82", &u16), "truncated");
  ExpectEq(Utf16ToUtf8(std::u16string(1, char16_t{0xD800})), std::string("\xef\xbf\xbd"), "lone surrogate");
  std::u16string key;
  ExpectEq(ParseMailslotName(u"\\\\.\\mailslot\\A\\b", &key), 0u, "Win32 name");
  ExpectTrue(key == u"A\\B", "key");
  ExpectEq(ParseMailslotName(u"\\Device\\Mailslot\\a\\B", &key), 0u, "NT name");
  ExpectTrue(key == u"A\\B", "same key");
  ExpectEq(ParseMailslotName(u"x", &key), 0xC000003Bu, "relative");
  ExpectEq(ParseMailslotName(u"\\\\.\\pipe\\x", &key), 0xC0000033u, "another device");
  ExpectEq(ParseMailslotName(u"\\\\*\\mailslot\\x", &key), 0xC0000034u, "broadcast");
}

void TestOptions() {
  SimOptions o;
  std::string error, value;
  ExpectTrue(SetSimOption(&o, "disconnect_status", "STATUS_CANCELLED", &error), "by name");
  ExpectEq(o.disconnect_status, 0xC0000120u, "value");
  ExpectTrue(SetSimOption(&o, "disconnect_status", "0xC0000008", &error), "by hex");
  ExpectTrue(!SetSimOption(&o, "disconnect_status", "0x1FFFFFFFF", &error), "too large");
  ExpectTrue(!SetSimOption(&o, "zero_timeout", "sometimes", &error), "bad enum");
  ExpectEq(error, std::string("invalid value 'sometimes' for option zero_timeout"), "message");
  ExpectTrue(!SetSimOption(&o, "nope", "1", &error), "unknown");
  ExpectTrue(SetSimOptionList(&o, "zero_timeout=infinite,,one_way_message_id=fresh", &error), "list");
  ExpectTrue(GetSimOption(o, "zero_timeout", &value) && value == "infinite", "get enum");
  ExpectTrue(!SetSimOptionList(&o, "zero_timeout", &error), "item without value");
  for (const auto& info : SimOptionCatalog()) {
    ExpectTrue(GetSimOption(SimOptions(), info.name, &value), std::string("catalogued option readable: ") + info.name);
    SimOptions copy;
    ExpectTrue(SetSimOption(&copy, info.name, value, &error), std::string("its default parses: ") + info.name);
  }
}

void TestDeadlines() {
  ExpectTrue(Deadline::FromNtTimeout(nullptr, true).infinite(), "NULL: forever");
  int64_t zero = 0;
  ExpectTrue(Deadline::FromNtTimeout(&zero, true).Expired(), "0 poll: expired");
  ExpectTrue(Deadline::FromNtTimeout(&zero, false).infinite(), "0 infinite");
  int64_t rel = -10000000;
  Deadline d = Deadline::FromNtTimeout(&rel, true);
  ExpectTrue(!d.Expired() && d.RemainingMillisecondsForPoll() > 900, "1 s relative");
  int64_t abs = SystemTimeNow() + 10000000;
  ExpectTrue(!Deadline::FromNtTimeout(&abs, true).Expired(), "absolute in the future");
  int64_t past = SystemTimeNow() - 1;
  ExpectTrue(Deadline::FromNtTimeout(&past, true).Expired(), "absolute in the past");
  int64_t huge = INT64_MIN;
  ExpectTrue(Deadline::FromNtTimeout(&huge, true).infinite(), "INT64_MIN: forever, no overflow");
  // 1601-01-01 + 2020 years is well past the Unix epoch in 100 ns units.
  ExpectTrue(SystemTimeNow() > 132000000000000000LL, "system time is in NT form");
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(argc, argv,
                             {
                                 {"frames.split_anywhere", &TestFramesSplitAnywhere},
                                 {"frames.malformed_headers", &TestMalformedHeaders},
                                 {"bodies.hello", &TestHello},
                                 {"bodies.connect", &TestConnectBody},
                                 {"bodies.fixed", &TestFixedBodies},
                                 {"bodies.send", &TestSendBody},
                                 {"bodies.mailslot", &TestMailslotBodies},
                                 {"bodies.encoded", &TestEncodedBodies},
                                 {"control.lines", &TestControlLines},
                                 {"text.names", &TestNamesAndText},
                                 {"options.parse", &TestOptions},
                                 {"time.deadlines", &TestDeadlines},
                             });
}
