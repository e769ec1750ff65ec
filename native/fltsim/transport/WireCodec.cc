#include "WireCodec.h"

#include "FrameReader.h"
#include "../engine/ObjectName.h"

namespace fltport::fltsim {
namespace {

bool SizeIs(size_t size, size_t want, const char* what, std::string* why) {
  if (size == want) return true;
  *why = std::string(what) + " body is " + std::to_string(size) + " bytes, expected " +
         std::to_string(want);
  return false;
}

bool AtLeast(size_t size, size_t want, const char* what, std::string* why) {
  if (size >= want) return true;
  *why = std::string(what) + " body is " + std::to_string(size) + " bytes, shorter than its " +
         std::to_string(want) + "-byte fixed part";
  return false;
}

}  // namespace

bool ParseHello(const uint8_t* body, size_t size, HelloRequest* out, std::string* why) {
  if (!SizeIs(size, sizeof(FLTSIM_HELLO_BODY), "HELLO", why)) return false;
  if (WireLe32(body) != FLTSIM_WIRE_MAGIC) {
    *why = "HELLO magic is not FLTSIM_WIRE_MAGIC";
    return false;
  }
  out->version = WireLe16(body + 4);
  out->kind = WireLe16(body + 6);
  out->process_id = WireLe32(body + 8);
  if (out->kind != FLTSIM_KIND_PORT && out->kind != FLTSIM_KIND_MAILSLOT &&
      out->kind != FLTSIM_KIND_CONTROL) {
    *why = "HELLO kind " + std::to_string(out->kind) + " is unknown";
    return false;
  }
  return true;
}

bool ParseConnect(const uint8_t* body, size_t size, ConnectRequest* out, std::string* why) {
  if (!AtLeast(size, sizeof(FLTSIM_CONNECT_BODY), "CONNECT", why)) return false;
  out->options = WireLe32(body);
  const size_t name_bytes = WireLe16(body + 4);
  const size_t context_bytes = WireLe16(body + 6);
  if (name_bytes % 2 != 0) {
    *why = "CONNECT NameBytes " + std::to_string(name_bytes) + " is odd";
    return false;
  }
  if (sizeof(FLTSIM_CONNECT_BODY) + name_bytes + context_bytes != size) {
    *why = "CONNECT parts (8 + " + std::to_string(name_bytes) + " + " +
           std::to_string(context_bytes) + ") do not add up to the body size " + std::to_string(size);
    return false;
  }
  const uint8_t* name = body + sizeof(FLTSIM_CONNECT_BODY);
  out->name = Utf16FromLeBytes(name, name_bytes);
  out->context.assign(name + name_bytes, name + name_bytes + context_bytes);
  return true;
}

bool ParseGet(const uint8_t* body, size_t size, uint32_t* buffer_size, std::string* why) {
  if (!SizeIs(size, sizeof(FLTSIM_GET_BODY), "GET", why)) return false;
  *buffer_size = WireLe32(body);
  return true;
}

bool ParseCancel(const uint8_t* body, size_t size, uint64_t* target_tag, std::string* why) {
  if (!SizeIs(size, sizeof(FLTSIM_CANCEL_BODY), "CANCEL", why)) return false;
  *target_tag = WireLe64(body);
  return true;
}

bool ParseSend(const uint8_t* body, size_t size, SendRequest* out, std::string* why) {
  if (!AtLeast(size, sizeof(FLTSIM_SEND_BODY), "SEND", why)) return false;
  out->output_capacity = WireLe32(body);
  const uint32_t flags = WireLe32(body + 4);
  if ((flags & ~(FLTSIM_SEND_IN_NULL | FLTSIM_SEND_OUT_NULL)) != 0) {
    *why = "SEND Flags has unknown bits";
    return false;
  }
  out->input_null = (flags & FLTSIM_SEND_IN_NULL) != 0;
  out->output_null = (flags & FLTSIM_SEND_OUT_NULL) != 0;
  out->input = body + sizeof(FLTSIM_SEND_BODY);
  out->input_size = static_cast<uint32_t>(size - sizeof(FLTSIM_SEND_BODY));
  if (out->input_null && out->input_size != 0) {
    *why = "SEND says lpInBuffer was NULL but carries input bytes";
    return false;
  }
  return true;
}

bool ParseMailslotCreate(const uint8_t* body, size_t size, MailslotCreateRequest* out,
                         std::string* why) {
  if (!AtLeast(size, sizeof(FLTSIM_MS_CREATE_BODY), "MS_CREATE", why)) return false;
  out->max_message_size = WireLe32(body);
  out->quota = WireLe32(body + 4);
  out->read_timeout = static_cast<int64_t>(WireLe64(body + 8));
  const size_t name_bytes = WireLe16(body + 16);
  if (name_bytes % 2 != 0 || sizeof(FLTSIM_MS_CREATE_BODY) + name_bytes != size) {
    *why = "MS_CREATE NameBytes " + std::to_string(name_bytes) +
           " is odd or does not match the body size " + std::to_string(size);
    return false;
  }
  out->name = Utf16FromLeBytes(body + sizeof(FLTSIM_MS_CREATE_BODY), name_bytes);
  return true;
}

bool ParseMailslotOpen(const uint8_t* body, size_t size, std::u16string* name, std::string* why) {
  if (!AtLeast(size, sizeof(FLTSIM_MS_OPEN_BODY), "MS_OPEN", why)) return false;
  const size_t name_bytes = WireLe16(body);
  if (name_bytes % 2 != 0 || sizeof(FLTSIM_MS_OPEN_BODY) + name_bytes != size) {
    *why = "MS_OPEN NameBytes " + std::to_string(name_bytes) +
           " is odd or does not match the body size " + std::to_string(size);
    return false;
  }
  *name = Utf16FromLeBytes(body + sizeof(FLTSIM_MS_OPEN_BODY), name_bytes);
  return true;
}

bool ParseMailslotSet(const uint8_t* body, size_t size, int64_t* read_timeout, std::string* why) {
  if (!SizeIs(size, sizeof(FLTSIM_MS_SET_BODY), "MS_SET", why)) return false;
  *read_timeout = static_cast<int64_t>(WireLe64(body));
  return true;
}

std::array<uint8_t, 8> EncodeStatusBody(uint32_t status) {
  std::array<uint8_t, 8> b{};
  WirePut32(b.data(), status);
  return b;
}

std::array<uint8_t, 8> EncodeCompletionBody(uint32_t status, uint32_t information) {
  std::array<uint8_t, 8> b{};
  WirePut32(b.data(), status);
  WirePut32(b.data() + 4, information);
  return b;
}

}  // namespace fltport::fltsim
