// Parsing of fltsim frame bodies (wire.h). Every function checks the body's size against the
// fixed part of its type and that the variable parts add up to exactly the body size; a
// false return (with *why) means the frame is malformed and the stream must be dropped. A
// body that is well formed but semantically wrong (a 10-byte reply, an unknown port name) is
// the engine's to answer with a status. Pure functions; any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fltsim/wire.h"

namespace fltport::fltsim {

struct HelloRequest {
  uint16_t version = 0;
  uint16_t kind = 0;
  uint32_t process_id = 0;
};
// Magic must match and Kind must be a known FLTSIM_STREAM_KIND; Version is returned for the
// caller to answer (a version mismatch is answered, not dropped).
bool ParseHello(const uint8_t* body, size_t size, HelloRequest* out, std::string* why);

struct ConnectRequest {
  uint32_t options = 0;
  std::u16string name;
  std::vector<uint8_t> context;
};
bool ParseConnect(const uint8_t* body, size_t size, ConnectRequest* out, std::string* why);

// FLTSIM_GET_BODY (GET and MS_READ).
bool ParseGet(const uint8_t* body, size_t size, uint32_t* buffer_size, std::string* why);
// FLTSIM_CANCEL_BODY.
bool ParseCancel(const uint8_t* body, size_t size, uint64_t* target_tag, std::string* why);

struct SendRequest {
  uint32_t output_capacity = 0;
  bool input_null = false;
  bool output_null = false;
  const uint8_t* input = nullptr;  // points into the body
  uint32_t input_size = 0;
};
bool ParseSend(const uint8_t* body, size_t size, SendRequest* out, std::string* why);

struct MailslotCreateRequest {
  uint32_t max_message_size = 0;
  uint32_t quota = 0;
  int64_t read_timeout = 0;
  std::u16string name;
};
bool ParseMailslotCreate(const uint8_t* body, size_t size, MailslotCreateRequest* out,
                         std::string* why);
bool ParseMailslotOpen(const uint8_t* body, size_t size, std::u16string* name, std::string* why);
bool ParseMailslotSet(const uint8_t* body, size_t size, int64_t* read_timeout, std::string* why);

// Bodies the host sends, encoded little-endian (FLTSIM_STATUS_BODY, FLTSIM_COMPLETION_BODY).
std::array<uint8_t, 8> EncodeStatusBody(uint32_t status);
std::array<uint8_t, 8> EncodeCompletionBody(uint32_t status, uint32_t information);

}  // namespace fltport::fltsim
