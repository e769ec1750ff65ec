// The posix client's wire plumbing on its own: FrameBuilder's bytes, FrameReader's rules
// from wire.h (lengths, types, fixed parts, declared counts, split input), TextCodec.
#include <cstdint>
#include <string>
#include <vector>

#include "FrameBuilder.h"
#include "FrameReader.h"
#include "TestHarness.h"
#include "TextCodec.h"
#include "fltsim/wire.h"
#include "posix_test_peer.h"

using fltport::core::StatusOrigin;
using fltport::posix::Frame;
using fltport::posix::FrameBuilder;
using fltport::posix::FrameReader;
using fltport::posix::TextCodec;
using fltport::test::Bytes;
using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;

namespace {

void TestBuilderWritesLittleEndian() {
  const Bytes f = FrameBuilder(FLTSIM_GET, 0x0102030405060708ull).U32(0xAABBCCDD).U32(0).Finish();
  const Bytes want = {24, 0, 0, 0, 12, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1,
                      0xDD, 0xCC, 0xBB, 0xAA, 0, 0, 0, 0};
  ExpectTrue(f == want, "GET frame bytes");
  const Bytes n = FrameBuilder(FLTSIM_MS_OPEN, 1).Utf16(u"A\u00e9").I64(-2).Finish();
  ExpectEq(n.size(), size_t(16 + 4 + 8), "size");
  ExpectTrue(Bytes(n.begin() + 16, n.begin() + 20) == Bytes({'A', 0, 0xE9, 0}), "UTF-16LE");
  ExpectTrue(Bytes(n.begin() + 20, n.end()) == Bytes({0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}),
             "i64 -2, two's complement little-endian");
}

void TestReaderAssemblesSplitAndBatchedFrames() {
  const Bytes a = fltport::test::Frame(FLTSIM_REPLY_RESULT, 7, fltport::test::StatusBody(0xC01C0020));
  const Bytes b = fltport::test::Frame(FLTSIM_GET_COMPLETE, 9, fltport::test::CompletionBody(0, 3, {1, 2, 3}));
  const Bytes both = fltport::test::Cat({a, b});
  // Every split point, byte by byte and in two halves.
  for (size_t cut = 0; cut <= both.size(); ++cut) {
    FrameReader r;
    std::vector<Frame> got;
    auto drain = [&] {
      Frame f;
      bool have = true;
      while (have) {
        ExpectTrue(r.Next(&f, &have).ok(), "valid");
        if (have) got.push_back(f);
      }
    };
    r.Feed(both.data(), cut);
    drain();
    r.Feed(both.data() + cut, both.size() - cut);
    drain();
    ExpectEq(got.size(), size_t(2), "two frames at cut " + std::to_string(cut));
    if (got.size() == 2) {
      ExpectEq(got[0].tag, uint64_t(7), "tag");
      ExpectEq(got[0].U32(0), 0xC01C0020u, "status");
      ExpectEq(got[1].type, uint16_t(FLTSIM_GET_COMPLETE), "type");
      ExpectTrue(Bytes(got[1].body.begin() + 8, got[1].body.end()) == Bytes({1, 2, 3}), "bytes");
    }
    ExpectEq(r.buffered(), size_t(0), "nothing left");
  }
}

void TestReaderRejectsWhatWireHForbids() {
  struct Case {
    const char* what;
    Bytes bytes;
  };
  const Case cases[] = {
      {"Length 0", fltport::test::RawFrame(0, FLTSIM_HELLO_RESULT, 0, {})},
      {"Length 15", fltport::test::RawFrame(15, FLTSIM_HELLO_RESULT, 0, {})},
      {"Length above the maximum", fltport::test::RawFrame(FLTSIM_MAX_FRAME + 1, FLTSIM_GET_COMPLETE, 0, {})},
      {"unknown type 0", fltport::test::Frame(0, 0, {})},
      {"unknown type 41", fltport::test::Frame(41, 0, {})},
      {"short fixed part", fltport::test::Frame(FLTSIM_GET_COMPLETE, 0, Bytes(7))},
      {"fixed type too long", fltport::test::Frame(FLTSIM_HELLO_RESULT, 0, Bytes(9))},
      {"query with a body", fltport::test::Frame(FLTSIM_MS_QUERY, 0, Bytes(1))},
      {"CONNECT counts too large",
       fltport::test::Frame(FLTSIM_CONNECT, 0, fltport::test::Cat({fltport::test::U32Le(0), {4, 0, 1, 0}, Bytes(4)}))},
      {"CONNECT odd name bytes",
       fltport::test::Frame(FLTSIM_CONNECT, 0, fltport::test::Cat({fltport::test::U32Le(0), {3, 0, 0, 0}, Bytes(3)}))},
      {"MS_OPEN counts too small",
       fltport::test::Frame(FLTSIM_MS_OPEN, 0, fltport::test::Cat({{2, 0, 0, 0, 0, 0, 0, 0}, Bytes(4)}))},
  };
  for (const Case& c : cases) {
    FrameReader r;
    r.Feed(c.bytes.data(), c.bytes.size());
    Frame f;
    bool have = true;
    auto s = r.Next(&f, &have);
    ExpectEq(s.origin, StatusOrigin::kProtocol, c.what);
    ExpectTrue(!have, "no frame");
    ExpectTrue(r.failed(), "stays failed");
    // More good bytes do not revive a broken stream.
    const Bytes good = fltport::test::Frame(FLTSIM_HELLO_RESULT, 0, Bytes(8));
    r.Feed(good.data(), good.size());
    ExpectEq(r.Next(&f, &have).origin, StatusOrigin::kProtocol, "still failed");
  }
  // A header with an absurd Length is judged before its body could ever arrive.
  FrameReader r;
  const Bytes header = fltport::test::RawFrame(0xFFFFFFFF, FLTSIM_GET_COMPLETE, 0, {});
  r.Feed(header.data(), 16);
  Frame f;
  bool have = false;
  ExpectEq(r.Next(&f, &have).origin, StatusOrigin::kProtocol, "judged on the header alone");
  // A lower per-stream limit applies.
  FrameReader small(64);
  const Bytes big = fltport::test::Frame(FLTSIM_CONTROL_RESULT, 0, Bytes(49));
  small.Feed(big.data(), big.size());
  ExpectEq(small.Next(&f, &have).origin, StatusOrigin::kProtocol, "above the stream's limit");
}

void TestReaderAcceptsEveryValidShape() {
  const Bytes frames[] = {
      fltport::test::Frame(FLTSIM_CONNECT, 1,
                           fltport::test::Cat({fltport::test::U32Le(0), {2, 0, 3, 0}, {'A', 0}, {1, 2, 3}})),
      fltport::test::Frame(FLTSIM_MS_CREATE, 1, fltport::test::Cat({Bytes(16), {2, 0}, Bytes(6), {'A', 0}})),
      fltport::test::Frame(FLTSIM_MS_QUERY, 1, {}),
      fltport::test::Frame(FLTSIM_REPLY, 1, {}),
      fltport::test::Frame(FLTSIM_MS_QUERY_RESULT, 1, Bytes(32)),
      fltport::test::Frame(FLTSIM_CONTROL_EVENT, 0, {'h', 'i'}),
  };
  for (const Bytes& b : frames) {
    FrameReader r;
    r.Feed(b.data(), b.size());
    Frame f;
    bool have = false;
    ExpectTrue(r.Next(&f, &have).ok() && have, "valid frame type " + std::to_string(b[4]));
  }
}

void TestTextCodec() {
  ExpectTrue(TextCodec::Utf8ToUtf16("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80") == u"a\u00e9\u20ac\U0001F600",
             "1-4 byte sequences");
  ExpectEq(TextCodec::Utf16ToUtf8(u"a\u00e9\u20ac\U0001F600"), std::string("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"),
           "back");
  // Ill-formed input decodes as Node's TextDecoder decodes it (WHATWG: one U+FFFD per maximal
  // subpart); each expected string was printed by `new TextDecoder().decode(bytes)`.
  struct Case {
    const char* bytes;
    std::u16string decoded;
    const char* what;
  };
  const Case cases[] = {
      {"\xFF" "a", u"\uFFFDa", "invalid lead byte"},
      {"\xC3", u"\uFFFD", "truncated at the end"},
      {"\xC0\xAF", u"\uFFFD\uFFFD", "overlong: C0 is never a lead byte"},
      {"\xED\xA0\x80", u"\uFFFD\uFFFD\uFFFD", "encoded surrogate"},
      {"\xE0\x80\x80", u"\uFFFD\uFFFD\uFFFD", "overlong 3-byte form"},
      {"\xF4\x90\x80\x80", u"\uFFFD\uFFFD\uFFFD\uFFFD", "above U+10FFFF"},
      {"\xE2\x82", u"\uFFFD", "one subpart cut short"},
      {"\xE2\x82" "A", u"\uFFFDA", "the byte that broke it is decoded again"},
      {"\xF0\x9F\x98", u"\uFFFD", "4-byte form cut short"},
      {"\x80\x80", u"\uFFFD\uFFFD", "stray continuation bytes"},
      {"\xF8\x88\x80\x80\x80", u"\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD", "5-byte form"},
      {"a\xE2(\xA1", u"a\uFFFD(\uFFFD", "mixed"},
  };
  for (const Case& c : cases) {
    ExpectTrue(TextCodec::Utf8ToUtf16(c.bytes) == c.decoded, c.what);
  }
  ExpectEq(TextCodec::Utf16ToUtf8(std::u16string(1, char16_t(0xD800))), std::string("\xEF\xBF\xBD"),
           "lone surrogate");
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(argc, argv,
                             {
                                 {"builder_writes_little_endian", &TestBuilderWritesLittleEndian},
                                 {"reader_assembles_split_and_batched_frames", &TestReaderAssemblesSplitAndBatchedFrames},
                                 {"reader_rejects_what_wire_h_forbids", &TestReaderRejectsWhatWireHForbids},
                                 {"reader_accepts_every_valid_shape", &TestReaderAcceptsEveryValidShape},
                                 {"text_codec", &TestTextCodec},
                             });
}
