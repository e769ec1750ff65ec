#include "PortEngine.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "ControlText.h"
#include "CurrentProcess.h"
#include "Log.h"
#include "MailslotEngine.h"
#include "ObjectName.h"
#include "SimKernel.h"
#include "StatusTable.h"
#include "fltsim/wire.h"

namespace fltport::fltsim {
namespace {

namespace nt = core::nt;

constexpr uint32_t kMessageHeaderSize = 16;  // FILTER_MESSAGE_HEADER / FILTER_REPLY_HEADER
constexpr uint32_t kObjKernelHandle = 0x200;
constexpr uint32_t kStatusInvalidSecurityDescr = 0xC0000079;
constexpr uint32_t kStatusFltFilterNotFound = 0xC01C0013;
// The largest message a GET_COMPLETE frame can carry (frame header, completion body and
// FILTER_MESSAGE_HEADER come first). A Windows message is bounded only by the user's
// buffer; fltsim's by its frame size, so larger sends fail with STATUS_INSUFFICIENT_RESOURCES.
constexpr uint32_t kMaxMessageLength = FLTSIM_MAX_FRAME - sizeof(FLTSIM_FRAME_HEADER) -
                                       sizeof(FLTSIM_COMPLETION_BODY) - kMessageHeaderSize;
// Same bound for FilterSendMessage's output buffer (SEND_RESULT carries it back).
constexpr uint32_t kMaxSendOutput =
    FLTSIM_MAX_FRAME - sizeof(FLTSIM_FRAME_HEADER) - sizeof(FLTSIM_COMPLETION_BODY);

void PutLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutLe64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t GetLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t GetLe64(const uint8_t* p) {
  return static_cast<uint64_t>(GetLe32(p)) | (static_cast<uint64_t>(GetLe32(p + 4)) << 32);
}

bool NtSuccess(uint32_t s) { return static_cast<int32_t>(s) >= 0; }

// Waits on `cv` until notified or `deadline` passes (forever when infinite).
void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
               const Deadline& deadline) {
  if (deadline.infinite()) {
    cv.wait(lock);
  } else {
    cv.wait_until(lock, deadline.at());
  }
}

}  // namespace

PortEngine::PortEngine(SimKernel* kernel) : kernel_(kernel) {}

PortEngine::~PortEngine() = default;

// ------------------------------------------------------------------------------------------
// Filters
// ------------------------------------------------------------------------------------------

std::shared_ptr<Filter> PortEngine::CreateFilter(const std::string& name) {
  auto filter = std::make_shared<Filter>();
  filter->kernel = kernel_;
  filter->name = name;
  filter->handle = HandleTable::Global().Insert(filter);
  std::lock_guard<std::mutex> lock(mu_);
  filters_.push_back(filter);
  return filter;
}

void PortEngine::SetUnloadCallback(Filter& filter, FilterUnloadFn callback) {
  std::lock_guard<std::mutex> lock(mu_);
  filter.unload_callback = callback;
}

uint32_t PortEngine::UnloadFilter(const std::shared_ptr<Filter>& filter, uint32_t flags) {
  FilterUnloadFn callback;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (filter->unregistered) return kStatusFltFilterNotFound;
    callback = filter->unload_callback;
  }
  if (callback != nullptr) {
    uint32_t status;
    {
      CurrentProcessScope system(kSystemProcessId);
      status = static_cast<uint32_t>(callback(flags));
    }
    if (!NtSuccess(status)) {
      if ((flags & 1) == 0) {
        LogWrite(LogLevel::kInfo, "filter %s refused to unload: status 0x%08X", filter->name.c_str(),
                 status);
        return status;
      }
      // A mandatory unload cannot be refused; FltMgr tears the filter down regardless.
      LogWrite(LogLevel::kWarn, "filter %s failed a mandatory unload (0x%08X); unloading anyway",
               filter->name.c_str(), status);
    }
    bool unregistered;
    {
      std::lock_guard<std::mutex> lock(mu_);
      unregistered = filter->unregistered;
    }
    if (!unregistered) {
      LogWrite(LogLevel::kWarn,
               "filter %s: the unload callback returned without FltUnregisterFilter; fltsim "
               "unregisters it",
               filter->name.c_str());
    }
  }
  UnregisterFilter(filter);
  return nt::kSuccess;
}

void PortEngine::UnregisterFilter(const std::shared_ptr<Filter>& filter) {
  SimOptions opts = kernel_->options().Get();
  std::vector<std::shared_ptr<Connection>> conns;
  std::vector<std::shared_ptr<Connection>> to_notify;
  Completions done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (filter->unregistered) return;
    filter->unloading = true;
    filter->unregistered = true;
    for (const auto& port : ports_) {
      if (port->filter != filter) continue;
      for (const auto& conn : port->connections) conns.push_back(conn);
    }
    for (const auto& [id, weak] : all_connections_) {
      auto conn = weak.lock();
      if (!conn || conn->port->filter != filter || conn->client_port == 0) continue;
      if (std::find(conns.begin(), conns.end(), conn) == conns.end()) conns.push_back(conn);
    }
    for (const auto& conn : conns) {
      // A connection whose ConnectNotify is still running has no cookie yet: the driver
      // cannot be told about it; it ends up dead when ConnectNotify returns.
      bool established = conn->state == ConnectionState::kConnected;
      DisconnectLocked(*conn, opts.disconnect_status, &done);
      if (!conn->notify_started && established) {
        conn->notify_started = true;
        to_notify.push_back(conn);
      }
    }
  }
  Deliver(&done);
  // FltMgr calls DisconnectNotify for every remaining connection at unload (spec §7.3), in
  // the System process: no user thread is involved.
  for (const auto& conn : to_notify) CallDisconnectNotify(conn, "unload", kSystemProcessId);
  std::vector<std::string> leaked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& conn : conns) {
      CloseClientPortHandleLocked(*conn);
      ReleaseSlotLocked(conn);
    }
    for (const auto& port : ports_) {
      if (port->filter == filter && !port->closed) leaked.push_back(Utf16ToUtf8(port->name));
    }
    NotifyStateChangedLocked();
  }
  for (const auto& name : leaked) {
    LogWrite(LogLevel::kError,
             "filter %s unregistered with server port %s still open: on Windows the unload "
             "would hang (close server ports before FltUnregisterFilter); fltsim keeps the name "
             "and refuses connects with STATUS_FLT_DELETING_OBJECT",
             filter->name.c_str(), name.c_str());
  }
  Emit(static_cast<int>(EventCategory::kPort),
       LineBuilder("unload").Add("filter", filter->name).Add("disconnected", to_notify.size()).str());
}

void PortEngine::UnregisterAll() {
  std::vector<std::shared_ptr<Filter>> filters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    filters = filters_;
  }
  for (const auto& filter : filters) UnregisterFilter(filter);
}

// ------------------------------------------------------------------------------------------
// Kernel side
// ------------------------------------------------------------------------------------------

uint32_t PortEngine::CreateCommunicationPort(const std::shared_ptr<Filter>& filter,
                                             const std::u16string* name, bool has_name,
                                             uint32_t attributes, void* security_descriptor,
                                             void* cookie, ConnectNotifyFn on_connect,
                                             DisconnectNotifyFn on_disconnect,
                                             MessageNotifyFn on_message, int32_t max_connections,
                                             uintptr_t* server_port) {
  *server_port = 0;
  if ((attributes & kObjKernelHandle) == 0) {
    LogWrite(LogLevel::kWarn, "FltCreateCommunicationPort: OBJ_KERNEL_HANDLE missing");
    return nt::kInvalidParameter;
  }
  if (max_connections <= 0) return nt::kInvalidParameter;
  if (on_connect == nullptr || on_disconnect == nullptr) {
    // The DDI says "must not be NULL" without a status (spec §7.1): refuse rather than crash
    // later when a client connects.
    LogWrite(LogLevel::kWarn, "FltCreateCommunicationPort: ConnectNotify/DisconnectNotify is NULL");
    return nt::kInvalidParameter;
  }
  if (!has_name || name->empty()) return nt::kObjectNameInvalid;
  if ((*name)[0] != u'\\') return nt::kObjectPathSyntaxBad;
  SecurityPolicy security;
  if (security_descriptor == nullptr) {
    // No descriptor: the object gets the creator's default security, which for a driver is
    // SYSTEM/Administrators, i.e. the same as FltBuildDefaultSecurityDescriptor.
    security.granted_access = 0x001F0001;
  } else if (!ReadSecurityDescriptor(security_descriptor, &security)) {
    LogWrite(LogLevel::kWarn, "FltCreateCommunicationPort: SecurityDescriptor is not a live descriptor");
    return kStatusInvalidSecurityDescr;
  }
  auto port = std::make_shared<ServerPort>();
  port->filter = filter;
  port->name = *name;
  port->key = FoldName(*name);
  port->security = std::move(security);
  port->cookie = cookie;
  port->on_connect = on_connect;
  port->on_disconnect = on_disconnect;
  port->on_message = on_message;
  port->max_connections = max_connections;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (filter->unloading) return nt::kFltDeletingObject;
    if (namespace_.count(port->key) != 0) return nt::kObjectNameCollision;
    port->id = next_port_id_++;
    port->handle = HandleTable::Global().Insert(port);
    namespace_.emplace(port->key, port);
    ports_.push_back(port);
    *server_port = port->handle;
    NotifyStateChangedLocked();
  }
  LogWrite(LogLevel::kDebug, "server port %s created (max %d)", Utf16ToUtf8(*name).c_str(),
           max_connections);
  Emit(static_cast<int>(EventCategory::kPort), LineBuilder("port-created")
                                                   .Add("port", Utf16ToUtf8(*name))
                                                   .Add("max", static_cast<uint64_t>(max_connections))
                                                   .Add("message_notify", on_message ? 1 : 0)
                                                   .str());
  return nt::kSuccess;
}

void PortEngine::CloseCommunicationPort(uintptr_t server_port) {
  auto port = std::static_pointer_cast<ServerPort>(
      HandleTable::Global().Remove(server_port, ObjectType::kServerPort));
  if (!port) {
    // Windows bugchecks (INVALID_KERNEL_HANDLE) when a driver closes a handle it does not own.
    LogWrite(LogLevel::kError, "DRIVER BUG: FltCloseCommunicationPort(%#lx): not an open server port",
             static_cast<unsigned long>(server_port));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    port->closed = true;
    auto it = namespace_.find(port->key);
    if (it != namespace_.end() && it->second == port) namespace_.erase(it);
    if (port->connections.empty()) {
      ports_.erase(std::remove(ports_.begin(), ports_.end(), port), ports_.end());
    }
    NotifyStateChangedLocked();
  }
  Emit(static_cast<int>(EventCategory::kPort),
       LineBuilder("port-closed").Add("port", Utf16ToUtf8(port->name)).str());
}

void PortEngine::CloseClientPort(const std::shared_ptr<Filter>& filter,
                                 struct _FLT_PORT** client_port_variable) {
  (void)filter;
  SimOptions opts = kernel_->options().Get();
  Completions done;
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uintptr_t handle = reinterpret_cast<uintptr_t>(*client_port_variable);
    *client_port_variable = nullptr;
    if (handle == 0) return;  // tolerated: the variable was already cleared (spec §7.2)
    conn = std::static_pointer_cast<Connection>(
        HandleTable::Global().Lookup(handle, ObjectType::kClientPort));
    if (!conn) {
      LogWrite(LogLevel::kError,
               "DRIVER BUG: FltCloseClientPort(%#lx): not an open client port (a stale copy of "
               "the port variable?)",
               static_cast<unsigned long>(handle));
      return;
    }
    CloseClientPortHandleLocked(*conn);
    DisconnectLocked(*conn, opts.disconnect_status, &done);
    if (!conn->notify_started) {
      bool notify_later = opts.disconnect_notify_after_close_client_port && !conn->user_closed &&
                          conn->state != ConnectionState::kConnecting;
      // No DisconnectNotify will follow: the slot is free now. Otherwise the slot is freed
      // when that DisconnectNotify returns (spec §7.2 "slot released after it returns").
      if (!notify_later) ReleaseSlotLocked(conn);
    }
    NotifyStateChangedLocked();
  }
  Deliver(&done);
  Emit(static_cast<int>(EventCategory::kPort),
       LineBuilder("client-port-closed").Add("conn", conn->id).str());
}

uint32_t PortEngine::SendMessage(const std::shared_ptr<Filter>& filter,
                                 struct _FLT_PORT** client_port_variable, const void* message,
                                 uint32_t length, void* reply_buffer, uint32_t* reply_length,
                                 const int64_t* timeout) {
  SimOptions opts = kernel_->options().Get();
  if (reply_buffer != nullptr && reply_length == nullptr) {
    LogWrite(LogLevel::kWarn, "FltSendMessage: ReplyBuffer without ReplyLength");
    return nt::kInvalidParameter;
  }
  if (message == nullptr && length != 0) return nt::kInvalidParameter;
  if (length > kMaxMessageLength) {
    LogWrite(LogLevel::kWarn, "FltSendMessage: %u-byte message exceeds fltsim's limit of %u bytes",
             length, kMaxMessageLength);
    return nt::kInsufficientResources;
  }
  SendOp op;
  op.message = static_cast<const uint8_t*>(message);
  op.length = length;
  op.wants_reply = reply_buffer != nullptr;
  op.reply_buffer = static_cast<uint8_t*>(reply_buffer);
  op.reply_capacity = op.wants_reply ? *reply_length : 0;
  if (op.wants_reply && op.reply_capacity > 0xFFFFFFFFu - kMessageHeaderSize) {
    // FILTER_MESSAGE_HEADER.ReplyLength (capacity + 16) would not fit in a ULONG.
    return nt::kInvalidParameter;
  }
  const bool zero_is_poll = opts.zero_timeout == ZeroTimeout::kPoll;
  const Deadline delivery_deadline = Deadline::FromNtTimeout(timeout, zero_is_poll);

  Completions done;
  std::unique_lock<std::mutex> lock(mu_);
  uintptr_t handle = reinterpret_cast<uintptr_t>(*client_port_variable);  // read under the filter-wide port lock (§6.1)
  if (handle == 0) return opts.null_client_port_status;
  auto conn = std::static_pointer_cast<Connection>(
      HandleTable::Global().Lookup(handle, ObjectType::kClientPort));
  if (!conn) {
    LogWrite(LogLevel::kWarn,
             "FltSendMessage: %#lx is not an open client port (pass the address of the variable "
             "FltCloseClientPort clears, not a copy: spec G16)",
             static_cast<unsigned long>(handle));
    return nt::kInvalidHandle;
  }
  if (conn->port->filter != filter) return nt::kInvalidParameter;
  if (conn->state == ConnectionState::kDisconnected) return nt::kPortDisconnected;

  // Delivery phase (spec §6.3): wait for a pending FilterGetMessage large enough.
  conn->senders.push_back(&op);
  PumpLocked(*conn, &done);
  NotifyStateChangedLocked();
  // Waits until `reached()`, delivering completions (unlocked) as they come; kSuccess, or
  // kPortDisconnected / kTimeout when the connection or `deadline` ends first.
  auto wait_for = [&](auto reached, const Deadline& deadline) -> uint32_t {
    while (!reached()) {
      if (!done.empty()) {
        lock.unlock();
        Deliver(&done);
        lock.lock();
        continue;
      }
      if (conn->state == ConnectionState::kDisconnected) return nt::kPortDisconnected;
      if (deadline.Expired()) return nt::kTimeout;
      WaitUntil(conn->cv, lock, deadline);
    }
    return nt::kSuccess;
  };
  // STATUS_TIMEOUT is a success code: the message was not delivered (spec §0.2).
  uint32_t result = wait_for([&] { return op.delivered; }, delivery_deadline);
  if (result != nt::kSuccess) {
    conn->senders.erase(std::remove(conn->senders.begin(), conn->senders.end(), &op),
                        conn->senders.end());
    NotifyStateChangedLocked();
    lock.unlock();
    Deliver(&done);
    return result;
  }
  if (!op.wants_reply) {
    lock.unlock();
    Deliver(&done);
    return nt::kSuccess;
  }

  // Reply phase. A relative timeout restarts here in "phase" scope (XP RE passes the same
  // relative interval to each wait); in "total" scope the delivery deadline still applies.
  Deadline reply_deadline = delivery_deadline;
  if (timeout != nullptr && *timeout < 0 &&
      opts.relative_timeout_scope == TimeoutScope::kPhase) {
    reply_deadline = Deadline::FromNtTimeout(timeout, zero_is_poll);
  }
  // On a timeout, a later reply to this id gets STATUS_FLT_NO_WAITER_FOR_REPLY.
  result = wait_for([&] { return op.replied; }, reply_deadline);
  if (op.replied) {
    *reply_length = op.reply_copied;
    result = op.reply_status;
  } else {
    auto it = conn->reply_waiters.find(op.message_id);
    if (it != conn->reply_waiters.end() && it->second == &op) conn->reply_waiters.erase(it);
    NotifyStateChangedLocked();
  }
  lock.unlock();
  Deliver(&done);
  return result;
}

uint64_t PortEngine::ConnectionIdOf(uintptr_t client_port) {
  auto conn = std::static_pointer_cast<Connection>(
      HandleTable::Global().Lookup(client_port, ObjectType::kClientPort));
  return conn ? conn->id : 0;
}

// ------------------------------------------------------------------------------------------
// User side
// ------------------------------------------------------------------------------------------

uint32_t PortEngine::Connect(const std::u16string& name, const uint8_t* context,
                             size_t context_size, const PeerIdentity& peer,
                             std::shared_ptr<PortSink> sink, std::shared_ptr<Connection>* out) {
  out->reset();
  SimOptions opts = kernel_->options().Get();
  const std::string name8 = Utf16ToUtf8(name);
  auto refuse = [&](uint32_t status) {
    LogWrite(LogLevel::kDebug, "connect to %s by pid %u uid %u refused: 0x%08X", name8.c_str(),
             peer.pid, peer.uid, status);
    Emit(static_cast<int>(EventCategory::kPort), LineBuilder("connect-refused")
                                                     .Add("port", name8)
                                                     .Add("pid", peer.pid)
                                                     .Add("uid", peer.uid)
                                                     .AddStatus("status", status)
                                                     .str());
    return status;
  };
  // fltlib's own limit (spec §2.1): the context rides in an EA with a USHORT value length.
  if (context_size > FLTSIM_MAX_CONTEXT) return refuse(nt::kIntegerOverflow);

  std::shared_ptr<ServerPort> port;
  auto conn = std::make_shared<Connection>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Order of checks: spec §2.2 (name, security descriptor, filter alive, connection limit).
    auto it = namespace_.find(FoldName(name));
    if (it == namespace_.end()) {
      bool relative = name.empty() || name[0] != u'\\';
      return refuse(relative ? opts.missing_backslash_status : nt::kObjectNameNotFound);
    }
    port = it->second;
    if (!port->security.Admits(peer, opts.connect_access, kernel_->host_uid())) {
      return refuse(nt::kAccessDenied);
    }
    if (port->filter->unloading) return refuse(nt::kFltDeletingObject);
    if (port->connections.size() >= static_cast<size_t>(port->max_connections)) {
      return refuse(nt::kConnectionCountLimit);  // ConnectNotify is not called
    }
    conn->id = next_connection_id_++;
    conn->port = port;
    conn->peer = peer;
    conn->context.assign(context, context + context_size);
    conn->next_message_id = opts.first_message_id;
    conn->client_port = HandleTable::Global().Insert(conn);
    port->connections.push_back(conn);
    ForgetDeadConnectionsLocked();
    all_connections_.emplace(conn->id, conn);
    NotifyStateChangedLocked();
  }

  // ConnectNotify gets a kernel copy of the context, valid for the call only (spec §2.2.6),
  // in the connecting process's context.
  std::vector<uint8_t> context_copy(conn->context);
  void* connection_cookie = nullptr;
  uint32_t status;
  {
    CurrentProcessScope caller(peer.pid);
    status = static_cast<uint32_t>(port->on_connect(
        reinterpret_cast<struct _FLT_PORT*>(conn->client_port), port->cookie,
        context_copy.empty() ? nullptr : context_copy.data(),
        static_cast<uint32_t>(context_copy.size()), &connection_cookie));
  }
  if (kernel_->EventWanted(EventCategory::kPort)) {
    Emit(static_cast<int>(EventCategory::kPort), LineBuilder("connect")
                                                     .Add("conn", conn->id)
                                                     .Add("port", Utf16ToUtf8(port->name))
                                                     .Add("pid", peer.pid)
                                                     .Add("uid", peer.uid)
                                                     .Add("gid", peer.gid)
                                                     .Add("size", conn->context.size())
                                                     .AddBytes("context", conn->context.data(),
                                                               conn->context.size())
                                                     .AddStatus("status", status)
                                                     .str());
  }

  Completions done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!NtSuccess(status)) {
      // Rejected: the client port is destroyed, the slot restored, and DisconnectNotify is
      // not called (spec §2.2.7). A sender the driver started meanwhile is released.
      CloseClientPortHandleLocked(*conn);
      DisconnectLocked(*conn, opts.disconnect_status, &done);
      conn->notify_started = true;
      ReleaseSlotLocked(conn);
      NotifyStateChangedLocked();
    } else {
      conn->cookie = connection_cookie;
      // The driver may have closed the client port inside ConnectNotify: the handle is then
      // valid but dead, as on Windows.
      if (conn->state == ConnectionState::kConnecting) conn->state = ConnectionState::kConnected;
      conn->sink = std::move(sink);
      NotifyStateChangedLocked();
    }
  }
  Deliver(&done);
  if (!NtSuccess(status)) return status;
  LogWrite(LogLevel::kDebug, "connection %llu to %s from pid %u uid %u",
           static_cast<unsigned long long>(conn->id), name8.c_str(), peer.pid, peer.uid);
  *out = std::move(conn);
  // An informational status from ConnectNotify still opens the handle; the caller sees
  // success (fltsim choice: the create succeeded).
  return nt::kSuccess;
}

uint32_t PortEngine::PostGet(Connection& conn, uint64_t tag, uint32_t buffer_size) {
  SimOptions opts = kernel_->options().Get();
  Completions done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn.user_closed || conn.state == ConnectionState::kConnecting) return nt::kInvalidHandle;
    if (conn.state == ConnectionState::kDisconnected) return opts.disconnect_status;
    if (buffer_size < kMessageHeaderSize && opts.small_get_buffer == SmallGetBuffer::kReject) {
      return nt::kInvalidParameter;
    }
    if (conn.get_tags.count(tag) != 0) {
      LogWrite(LogLevel::kWarn, "connection %llu: GET tag %llu is already pending",
               static_cast<unsigned long long>(conn.id), static_cast<unsigned long long>(tag));
      return nt::kInvalidParameter;
    }
    if (conn.gets.size() >= opts.max_pending_requests) return nt::kInsufficientResources;
    conn.gets.push_back(PendingGet{tag, buffer_size});
    conn.get_tags.insert(tag);
    PumpLocked(conn, &done);
    NotifyStateChangedLocked();
  }
  Deliver(&done);
  return nt::kPending;
}

void PortEngine::Cancel(Connection& conn, uint64_t tag, bool all_tags) {
  Completions done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = conn.gets.begin(); it != conn.gets.end();) {
      if (all_tags || it->tag == tag) {
        done.push_back(Completion{conn.sink, it->tag, nt::kCancelled, 0, {}});
        conn.get_tags.erase(it->tag);
        it = conn.gets.erase(it);
      } else {
        ++it;
      }
    }
    if (!done.empty()) NotifyStateChangedLocked();
  }
  Deliver(&done);
}

uint32_t PortEngine::Reply(Connection& conn, const uint8_t* buffer, size_t size) {
  if (size < kMessageHeaderSize) return nt::kInvalidParameter;
  SimOptions opts = kernel_->options().Get();
  std::lock_guard<std::mutex> lock(mu_);
  if (conn.user_closed || conn.state == ConnectionState::kConnecting) return nt::kInvalidHandle;
  if (conn.state == ConnectionState::kDisconnected) return opts.reply_after_disconnect_status;
  const uint32_t reply_status = GetLe32(buffer);
  const uint64_t message_id = GetLe64(buffer + 8);
  // Waiters are per connection: an id from another connection is unknown here (spec §4.3).
  auto it = conn.reply_waiters.find(message_id);
  if (it == conn.reply_waiters.end()) return nt::kFltNoWaiterForReply;
  SendOp* op = it->second;
  conn.reply_waiters.erase(it);
  const size_t payload = size - kMessageHeaderSize;
  uint32_t result;
  if (payload > op->reply_capacity) {
    // Truncated copy; both sides see STATUS_BUFFER_OVERFLOW (spec §4.1).
    if (op->reply_capacity > 0) {
      std::memcpy(op->reply_buffer, buffer + kMessageHeaderSize, op->reply_capacity);
    }
    op->reply_copied = op->reply_capacity;
    op->reply_status = nt::kBufferOverflow;
    result = nt::kBufferOverflow;
  } else {
    if (payload > 0) std::memcpy(op->reply_buffer, buffer + kMessageHeaderSize, payload);
    op->reply_copied = static_cast<uint32_t>(payload);
    op->reply_status = reply_status;  // passed through as FltSendMessage's return value
    result = nt::kSuccess;
  }
  op->replied = true;
  ++conn.replied;
  conn.cv.notify_all();
  NotifyStateChangedLocked();
  return result;
}

UserSendResult PortEngine::Send(Connection& conn, const uint8_t* input, uint32_t input_size,
                                bool input_null, uint32_t output_capacity, bool output_null) {
  (void)input_null;  // NULL with size 0 and a zero-size buffer are the same to the driver
  SimOptions opts = kernel_->options().Get();
  UserSendResult result;
  std::shared_ptr<ServerPort> port;
  void* cookie;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn.user_closed || conn.state == ConnectionState::kConnecting) {
      result.status = nt::kInvalidHandle;
      return result;
    }
    if (conn.state == ConnectionState::kDisconnected) {
      result.status = opts.disconnect_status;
      return result;
    }
    port = conn.port;
    cookie = conn.cookie;
  }
  if (port->on_message == nullptr) {
    result.status = opts.no_message_notify_status;
    return result;
  }
  if (output_null && output_capacity > 0) {
    // FltMgr probes the output buffer for write; probing NULL raises an access violation
    // that it returns as the status (INFER; see docs/fltsim.md).
    result.status = nt::kAccessViolation;
    return result;
  }
  if (output_capacity > kMaxSendOutput) {
    LogWrite(LogLevel::kWarn, "FilterSendMessage: %u-byte output buffer exceeds fltsim's limit of %u",
             output_capacity, kMaxSendOutput);
    result.status = nt::kInsufficientResources;
    return result;
  }
  // The driver works on host-owned copies sized exactly as the caller said: its bounds
  // checks are what keeps it inside them, as on Windows. The output starts zeroed (the
  // caller's previous contents do not travel over the wire).
  std::vector<uint8_t> in(input, input + input_size);
  std::vector<uint8_t> out(output_capacity, 0);
  uint32_t returned = 0;
  uint32_t status;
  {
    CurrentProcessScope caller(conn.peer.pid);
    status = static_cast<uint32_t>(port->on_message(cookie, input_size ? in.data() : nullptr,
                                                    input_size,
                                                    output_capacity ? out.data() : nullptr,
                                                    output_capacity, &returned));
  }
  if (returned > output_capacity) {
    LogWrite(LogLevel::kError,
             "DRIVER BUG: MessageNotify of port %s set *ReturnOutputBufferLength = %u but "
             "OutputBufferLength is %u; clamped to %u",
             Utf16ToUtf8(port->name).c_str(), returned, output_capacity, output_capacity);
    returned = output_capacity;
  }
  result.status = status;
  result.returned = returned;
  result.output.assign(out.begin(), out.begin() + returned);
  if (kernel_->EventWanted(EventCategory::kMessage)) {
    Emit(static_cast<int>(EventCategory::kMessage), LineBuilder("message")
                                                        .Add("conn", conn.id)
                                                        .Add("size", input_size)
                                                        .AddBytes("in", in.data(), in.size())
                                                        .Add("cap", output_capacity)
                                                        .AddStatus("status", status)
                                                        .Add("returned", returned)
                                                        .str());
  }
  return result;
}

void PortEngine::CloseUser(const std::shared_ptr<Connection>& conn) {
  SimOptions opts = kernel_->options().Get();
  Completions done;
  const char* reason = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn->user_closed) return;
    conn->user_closed = true;
    conn->sink.reset();  // nobody is left to complete pending requests to
    DisconnectLocked(*conn, opts.disconnect_status, &done);
    if (!conn->notify_started) {
      if (!conn->driver_closed) {
        reason = "user";
      } else if (opts.disconnect_notify_after_close_client_port) {
        reason = "user-after-close-client-port";
      }
      if (reason != nullptr) conn->notify_started = true;
    }
    NotifyStateChangedLocked();
  }
  Deliver(&done);
  if (reason == nullptr) return;
  // DisconnectNotify runs in the closing process (IRP_MJ_CLEANUP, spec §7.2); the slot is
  // released only after it returns.
  CallDisconnectNotify(conn, reason, conn->peer.pid);
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseSlotLocked(conn);
  NotifyStateChangedLocked();
}

// ------------------------------------------------------------------------------------------
// Introspection
// ------------------------------------------------------------------------------------------

std::vector<ConnectionInfo> PortEngine::ListConnections() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ConnectionInfo> out;
  for (auto it = all_connections_.begin(); it != all_connections_.end();) {
    auto conn = it->second.lock();
    if (!conn) {
      it = all_connections_.erase(it);
      continue;
    }
    out.push_back(InfoLocked(*conn));
    ++it;
  }
  return out;
}

bool PortEngine::GetConnection(uint64_t id, ConnectionInfo* info) {
  std::lock_guard<std::mutex> lock(mu_);
  return SnapshotLocked(id, info);
}

bool PortEngine::SnapshotLocked(uint64_t id, ConnectionInfo* info) const {
  if (auto conn = FindConnectionLocked(id)) {
    *info = InfoLocked(*conn);
    return true;
  }
  if (id == 0 || id >= next_connection_id_) return false;
  // Nobody holds it any more: it reached its final state (closed on both sides, slot free).
  *info = ConnectionInfo();
  info->id = id;
  info->state = ConnectionState::kDisconnected;
  info->driver_closed = true;
  info->user_closed = true;
  info->slot_held = false;
  return true;
}

std::vector<PortInfo> PortEngine::ListPorts() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PortInfo> out;
  for (const auto& port : ports_) {
    PortInfo info;
    info.id = port->id;
    info.name = Utf16ToUtf8(port->name);
    info.filter = port->filter->name;
    info.max_connections = port->max_connections;
    info.connections = port->connections.size();
    info.closed = port->closed;
    info.has_message_notify = port->on_message != nullptr;
    out.push_back(std::move(info));
  }
  return out;
}

bool PortEngine::WaitForConnection(uint64_t id,
                                   const std::function<bool(const ConnectionInfo&)>& predicate,
                                   Deadline deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  ConnectionInfo info;
  while (true) {
    if (SnapshotLocked(id, &info) && predicate(info)) return true;
    if (deadline.Expired()) return false;
    WaitUntil(state_changed_, lock, deadline);
  }
}

uint64_t PortEngine::NewestConnectionId() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t newest = 0;
  for (const auto& [id, weak] : all_connections_) {
    auto conn = weak.lock();
    if (conn && conn->state == ConnectionState::kConnected && id > newest) newest = id;
  }
  return newest;
}

size_t PortEngine::RememberedConnections() {
  std::lock_guard<std::mutex> lock(mu_);
  return all_connections_.size();
}

// ------------------------------------------------------------------------------------------
// Internals
// ------------------------------------------------------------------------------------------

void PortEngine::ForgetDeadConnectionsLocked() {
  // A connection nobody holds has reached its final state, which SnapshotLocked reports
  // without a record. Connects are rare next to messages: a sweep each time keeps the map
  // at the live connections plus those that died since the last connect.
  for (auto it = all_connections_.begin(); it != all_connections_.end();) {
    it = it->second.expired() ? all_connections_.erase(it) : std::next(it);
  }
}

void PortEngine::PumpLocked(Connection& conn, Completions* done) {
  if (conn.state != ConnectionState::kConnected) return;
  const bool fresh_one_way_ids =
      kernel_->options().Get().one_way_message_id == OneWayMessageId::kFresh;
  auto it = conn.senders.begin();
  while (it != conn.senders.end() && !conn.gets.empty()) {
    SendOp* op = *it;
    const uint32_t needed = kMessageHeaderSize + op->length;
    // The first pending request that is large enough, in queue order (spec §3.4.1).
    auto get = std::find_if(conn.gets.begin(), conn.gets.end(),
                            [needed](const PendingGet& g) { return g.size >= needed; });
    if (get != conn.gets.end()) {
      std::vector<uint8_t> bytes(needed);
      PutLe32(bytes.data(), op->wants_reply ? op->reply_capacity + kMessageHeaderSize : 0);
      PutLe32(bytes.data() + 4, 0);
      uint64_t id = 0;
      if (op->wants_reply || fresh_one_way_ids) id = conn.next_message_id++;
      PutLe64(bytes.data() + 8, id);
      if (op->length > 0) std::memcpy(bytes.data() + kMessageHeaderSize, op->message, op->length);
      op->message_id = id;
      // The waiter exists before the user can see the message, so an instant reply finds it.
      if (op->wants_reply) conn.reply_waiters[id] = op;
      op->delivered = true;
      ++conn.delivered;
      done->push_back(Completion{conn.sink, get->tag, nt::kSuccess, needed, std::move(bytes)});
      conn.get_tags.erase(get->tag);
      conn.gets.erase(get);
      it = conn.senders.erase(it);
      conn.cv.notify_all();
      continue;
    }
    // None is large enough: fail the first one with the size needed, once per sender; the
    // sender keeps waiting for a larger request and the message is kept (spec §3.4.2-3).
    if (!op->too_small_sent) {
      PendingGet first = conn.gets.front();
      conn.gets.pop_front();
      conn.get_tags.erase(first.tag);
      done->push_back(Completion{conn.sink, first.tag, nt::kBufferTooSmall, needed, {}});
      op->too_small_sent = true;
    }
    ++it;
  }
}

void PortEngine::DisconnectLocked(Connection& conn, uint32_t get_status, Completions* done) {
  if (conn.state == ConnectionState::kDisconnected) return;
  conn.state = ConnectionState::kDisconnected;
  for (const PendingGet& get : conn.gets) {
    done->push_back(Completion{conn.sink, get.tag, get_status, 0, {}});
  }
  conn.gets.clear();
  conn.get_tags.clear();
  conn.cv.notify_all();  // blocked senders and reply waiters return STATUS_PORT_DISCONNECTED
}

void PortEngine::ReleaseSlotLocked(const std::shared_ptr<Connection>& conn) {
  if (!conn->slot_held) return;
  conn->slot_held = false;
  auto& list = conn->port->connections;
  list.erase(std::remove(list.begin(), list.end(), conn), list.end());
  if (conn->port->closed && list.empty()) {
    ports_.erase(std::remove(ports_.begin(), ports_.end(), conn->port), ports_.end());
  }
}

void PortEngine::CloseClientPortHandleLocked(Connection& conn) {
  conn.driver_closed = true;
  if (conn.client_port == 0) return;
  HandleTable::Global().Remove(conn.client_port, ObjectType::kClientPort);
  conn.client_port = 0;
}

ConnectionInfo PortEngine::InfoLocked(const Connection& conn) const {
  ConnectionInfo info;
  info.id = conn.id;
  info.port = Utf16ToUtf8(conn.port->name);
  info.peer = conn.peer;
  info.state = conn.state;
  info.driver_closed = conn.driver_closed;
  info.user_closed = conn.user_closed;
  info.slot_held = conn.slot_held;
  info.pending_gets = conn.gets.size();
  info.blocked_senders = conn.senders.size();
  info.reply_waiters = conn.reply_waiters.size();
  info.delivered = conn.delivered;
  info.replied = conn.replied;
  info.context = conn.context;
  return info;
}

std::shared_ptr<Connection> PortEngine::FindConnectionLocked(uint64_t id) const {
  auto it = all_connections_.find(id);
  return it == all_connections_.end() ? nullptr : it->second.lock();
}

void PortEngine::NotifyStateChangedLocked() {
  ++state_version_;
  state_changed_.notify_all();
}

void PortEngine::Deliver(Completions* done) {
  for (Completion& c : *done) {
    if (c.sink) c.sink->OnGetComplete(c.tag, c.status, c.information, std::move(c.bytes));
  }
  done->clear();
}

void PortEngine::CallDisconnectNotify(const std::shared_ptr<Connection>& conn, const char* reason,
                                      uint32_t pid) {
  Emit(static_cast<int>(EventCategory::kPort), LineBuilder("disconnect")
                                                   .Add("conn", conn->id)
                                                   .Add("port", Utf16ToUtf8(conn->port->name))
                                                   .Add("reason", reason)
                                                   .str());
  CurrentProcessScope process(pid);
  conn->port->on_disconnect(conn->cookie);
}

void PortEngine::Emit(int category, const std::string& line) {
  kernel_->EmitEvent(static_cast<EventCategory>(category), line);
}

}  // namespace fltport::fltsim
