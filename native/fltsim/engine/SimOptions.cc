#include "SimOptions.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "StatusTable.h"

namespace fltport::fltsim {
namespace {

bool ParseStatus(const std::string& text, uint32_t* out) {
  if (text.empty()) return false;
  size_t count = 0;
  const core::NtStatusEntry* table = core::NtStatusTable(&count);
  for (size_t i = 0; i < count; ++i) {
    if (text == table[i].name) {
      *out = table[i].ntstatus;
      return true;
    }
  }
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(text.c_str(), &end, 0);
  if (errno != 0 || *end != '\0' || v > 0xFFFFFFFFull) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool ParseU64(const std::string& text, uint64_t* out) {
  if (text.empty() || text[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(text.c_str(), &end, 0);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

bool ParseBool(const std::string& text, bool* out) {
  if (text == "true" || text == "1" || text == "yes") {
    *out = true;
    return true;
  }
  if (text == "false" || text == "0" || text == "no") {
    *out = false;
    return true;
  }
  return false;
}

std::string Hex(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

}  // namespace

const std::vector<SimOptionInfo>& SimOptionCatalog() {
  static const std::vector<SimOptionInfo> kCatalog = {
      {"disconnect_status", "status",
       "pending FilterGetMessage on a dead connection completes with this; later calls fail with it"},
      {"zero_timeout", "poll|infinite", "FltSendMessage with *Timeout == 0"},
      {"relative_timeout_scope", "phase|total",
       "relative FltSendMessage timeout restarts for the reply wait (phase) or not (total)"},
      {"one_way_message_id", "zero|fresh", "MessageId of messages sent without a reply buffer"},
      {"first_message_id", "u64", "first MessageId of a connection"},
      {"no_message_notify_status", "status", "FilterSendMessage when the port has no MessageNotify"},
      {"reply_after_disconnect_status", "status", "FilterReplyMessage after disconnect"},
      {"null_client_port_status", "status", "FltSendMessage with *ClientPort == NULL"},
      {"disconnect_notify_after_close_client_port", "true|false",
       "user close after FltCloseClientPort still calls DisconnectNotify (once)"},
      {"small_get_buffer", "xp|reject", "FilterGetMessage buffer smaller than 16 bytes"},
      {"missing_backslash_status", "status", "connect to a port name without a leading backslash"},
      {"connect_access", "u32", "access mask checked against the port's descriptor at connect"},
      {"ms_oversize_write_status", "status", "mailslot write larger than MaximumMessageSize"},
      {"ms_small_read", "keep|truncate", "mailslot read into a buffer smaller than the message"},
      {"ms_write_after_close_status", "status", "mailslot write after the server closed"},
      {"max_pending_requests", "u32", "fltsim limit: pending gets/reads per handle"},
  };
  return kCatalog;
}

bool SetSimOption(SimOptions* o, const std::string& name, const std::string& value,
                  std::string* error) {
  auto bad = [&]() {
    *error = "invalid value '" + value + "' for option " + name;
    return false;
  };
  uint64_t u = 0;
  if (name == "disconnect_status") return ParseStatus(value, &o->disconnect_status) || bad();
  if (name == "no_message_notify_status")
    return ParseStatus(value, &o->no_message_notify_status) || bad();
  if (name == "reply_after_disconnect_status")
    return ParseStatus(value, &o->reply_after_disconnect_status) || bad();
  if (name == "null_client_port_status")
    return ParseStatus(value, &o->null_client_port_status) || bad();
  if (name == "missing_backslash_status")
    return ParseStatus(value, &o->missing_backslash_status) || bad();
  if (name == "ms_oversize_write_status")
    return ParseStatus(value, &o->ms_oversize_write_status) || bad();
  if (name == "ms_write_after_close_status")
    return ParseStatus(value, &o->ms_write_after_close_status) || bad();
  if (name == "connect_access") return ParseStatus(value, &o->connect_access) || bad();
  if (name == "zero_timeout") {
    if (value == "poll") o->zero_timeout = ZeroTimeout::kPoll;
    else if (value == "infinite") o->zero_timeout = ZeroTimeout::kInfinite;
    else return bad();
    return true;
  }
  if (name == "relative_timeout_scope") {
    if (value == "phase") o->relative_timeout_scope = TimeoutScope::kPhase;
    else if (value == "total") o->relative_timeout_scope = TimeoutScope::kTotal;
    else return bad();
    return true;
  }
  if (name == "one_way_message_id") {
    if (value == "zero") o->one_way_message_id = OneWayMessageId::kZero;
    else if (value == "fresh") o->one_way_message_id = OneWayMessageId::kFresh;
    else return bad();
    return true;
  }
  if (name == "small_get_buffer") {
    if (value == "xp") o->small_get_buffer = SmallGetBuffer::kXp;
    else if (value == "reject") o->small_get_buffer = SmallGetBuffer::kReject;
    else return bad();
    return true;
  }
  if (name == "ms_small_read") {
    if (value == "keep") o->ms_small_read = MailslotSmallRead::kKeep;
    else if (value == "truncate") o->ms_small_read = MailslotSmallRead::kTruncate;
    else return bad();
    return true;
  }
  if (name == "disconnect_notify_after_close_client_port") {
    return ParseBool(value, &o->disconnect_notify_after_close_client_port) || bad();
  }
  if (name == "first_message_id") {
    // 0 would collide with the id of one-way messages, which never has a waiter.
    if (!ParseU64(value, &u) || u == 0) return bad();
    o->first_message_id = u;
    return true;
  }
  if (name == "max_pending_requests") {
    if (!ParseU64(value, &u) || u == 0 || u > 0xFFFFFFFFull) return bad();
    o->max_pending_requests = static_cast<uint32_t>(u);
    return true;
  }
  *error = "unknown option " + name;
  return false;
}

bool GetSimOption(const SimOptions& o, const std::string& name, std::string* value) {
  if (name == "disconnect_status") *value = Hex(o.disconnect_status);
  else if (name == "no_message_notify_status") *value = Hex(o.no_message_notify_status);
  else if (name == "reply_after_disconnect_status") *value = Hex(o.reply_after_disconnect_status);
  else if (name == "null_client_port_status") *value = Hex(o.null_client_port_status);
  else if (name == "missing_backslash_status") *value = Hex(o.missing_backslash_status);
  else if (name == "ms_oversize_write_status") *value = Hex(o.ms_oversize_write_status);
  else if (name == "ms_write_after_close_status") *value = Hex(o.ms_write_after_close_status);
  else if (name == "connect_access") *value = Hex(o.connect_access);
  else if (name == "zero_timeout") *value = o.zero_timeout == ZeroTimeout::kPoll ? "poll" : "infinite";
  else if (name == "relative_timeout_scope")
    *value = o.relative_timeout_scope == TimeoutScope::kPhase ? "phase" : "total";
  else if (name == "one_way_message_id")
    *value = o.one_way_message_id == OneWayMessageId::kZero ? "zero" : "fresh";
  else if (name == "small_get_buffer") *value = o.small_get_buffer == SmallGetBuffer::kXp ? "xp" : "reject";
  else if (name == "ms_small_read") *value = o.ms_small_read == MailslotSmallRead::kKeep ? "keep" : "truncate";
  else if (name == "disconnect_notify_after_close_client_port")
    *value = o.disconnect_notify_after_close_client_port ? "true" : "false";
  else if (name == "first_message_id") *value = std::to_string(o.first_message_id);
  else if (name == "max_pending_requests") *value = std::to_string(o.max_pending_requests);
  else return false;
  return true;
}

bool SetSimOptionList(SimOptions* options, const std::string& list, std::string* error) {
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? list.size() : comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      *error = "option '" + item + "' has no value (expected name=value)";
      return false;
    }
    if (!SetSimOption(options, item.substr(0, eq), item.substr(eq + 1), error)) return false;
  }
  return true;
}

}  // namespace fltport::fltsim
