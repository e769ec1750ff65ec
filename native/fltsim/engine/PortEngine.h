// The communication-port half of the simulated Filter Manager (spec §2-§7, normative model
// §9.1-§9.2). Kernel-side calls arrive from driver threads through KernelApi.cc (the C
// functions of fltKernel.h); user-side calls arrive from the host's sessions (one per user
// handle). All state is guarded by one mutex, `mu_`, which is also the "filter-wide port lock"
// under which FltSendMessage reads and FltCloseClientPort clears the caller's PFLT_PORT
// variable. Driver callbacks are never called with `mu_` held (they call back in), and
// completions are handed to PortSinks only after `mu_` is released.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "Deadline.h"
#include "HandleTable.h"
#include "SecurityPolicy.h"
#include "SimOptions.h"

struct _FLT_PORT;

namespace fltport::fltsim {

class SimKernel;

// The exact types of fltKernel.h's callback typedefs (FLTAPI is empty on x64 and ARM64).
using ConnectNotifyFn = int32_t (*)(struct _FLT_PORT* client_port, void* server_port_cookie,
                                    void* connection_context, uint32_t size_of_context,
                                    void** connection_port_cookie);
using DisconnectNotifyFn = void (*)(void* connection_cookie);
using MessageNotifyFn = int32_t (*)(void* port_cookie, void* input, uint32_t input_length,
                                    void* output, uint32_t output_length,
                                    uint32_t* return_output_length);
using FilterUnloadFn = int32_t (*)(uint32_t flags);

// The user side of one connection: how the engine completes that handle's pending
// FilterGetMessage requests. Implemented by the host's port session (and by unit tests).
class PortSink {
 public:
  virtual ~PortSink() = default;
  // Any thread, never with an engine lock held. `bytes` is what the kernel wrote into the
  // user's buffer (FILTER_MESSAGE_HEADER + payload) on success, empty otherwise.
  virtual void OnGetComplete(uint64_t tag, uint32_t status, uint32_t information,
                             std::vector<uint8_t> bytes) = 0;
};

struct Filter : KernelObject {
  Filter() : KernelObject(ObjectType::kFilter) {}
  SimKernel* kernel = nullptr;
  std::string name;
  uintptr_t handle = 0;
  FilterUnloadFn unload_callback = nullptr;  // guarded by PortEngine::mu_
  bool unloading = false;                    // guarded by PortEngine::mu_
  bool unregistered = false;                 // guarded by PortEngine::mu_
};

struct Connection;

struct ServerPort : KernelObject {
  ServerPort() : KernelObject(ObjectType::kServerPort) {}
  uint64_t id = 0;
  std::shared_ptr<Filter> filter;
  std::u16string name;
  std::u16string key;  // FoldName(name)
  SecurityPolicy security;
  void* cookie = nullptr;
  ConnectNotifyFn on_connect = nullptr;
  DisconnectNotifyFn on_disconnect = nullptr;
  MessageNotifyFn on_message = nullptr;
  int32_t max_connections = 0;
  uintptr_t handle = 0;
  // Guarded by PortEngine::mu_:
  bool closed = false;  // FltCloseCommunicationPort: name gone, connections untouched
  std::vector<std::shared_ptr<Connection>> connections;  // those holding a connection slot
};

// One FltSendMessage call; lives on the sending driver thread's stack while registered.
struct SendOp {
  const uint8_t* message = nullptr;
  uint32_t length = 0;
  bool wants_reply = false;
  uint8_t* reply_buffer = nullptr;
  uint32_t reply_capacity = 0;
  // Guarded by PortEngine::mu_:
  bool too_small_sent = false;  // this sender already failed one small request (spec §3.4)
  bool delivered = false;
  bool replied = false;
  uint64_t message_id = 0;
  uint32_t reply_status = 0;
  uint32_t reply_copied = 0;
};

struct PendingGet {
  uint64_t tag;
  uint32_t size;
};

enum class ConnectionState : uint8_t { kConnecting, kConnected, kDisconnected };

struct Connection : KernelObject {
  Connection() : KernelObject(ObjectType::kClientPort) {}
  uint64_t id = 0;
  std::shared_ptr<ServerPort> port;
  PeerIdentity peer;
  std::vector<uint8_t> context;  // the connect context, as ConnectNotify saw it
  // Guarded by PortEngine::mu_:
  uintptr_t client_port = 0;  // the driver's PFLT_PORT; 0 once closed
  void* cookie = nullptr;     // ConnectionPortCookie from ConnectNotify
  ConnectionState state = ConnectionState::kConnecting;
  bool driver_closed = false;     // FltCloseClientPort (or FltMgr at unload) closed the port
  bool user_closed = false;       // the user's handle is gone
  bool notify_started = false;    // DisconnectNotify has been called (at most once)
  bool slot_held = true;          // counts against MaxConnections
  uint64_t next_message_id = 1;
  std::deque<PendingGet> gets;               // FIFO of pending FilterGetMessage requests
  std::unordered_set<uint64_t> get_tags;
  std::deque<SendOp*> senders;               // FltSendMessage calls waiting to deliver
  std::unordered_map<uint64_t, SendOp*> reply_waiters;
  std::shared_ptr<PortSink> sink;
  uint64_t delivered = 0;
  uint64_t replied = 0;
  std::condition_variable cv;  // wakes this connection's senders
};

// A snapshot for the control channel and tests.
struct ConnectionInfo {
  uint64_t id = 0;
  std::string port;  // UTF-8
  PeerIdentity peer;
  ConnectionState state = ConnectionState::kConnecting;
  bool driver_closed = false;
  bool user_closed = false;
  bool slot_held = false;
  size_t pending_gets = 0;
  size_t blocked_senders = 0;
  size_t reply_waiters = 0;
  uint64_t delivered = 0;
  uint64_t replied = 0;
  std::vector<uint8_t> context;
};

struct PortInfo {
  uint64_t id = 0;
  std::string name;
  std::string filter;
  int32_t max_connections = 0;
  size_t connections = 0;
  bool closed = false;
  bool has_message_notify = false;
};

// The outcome of FilterSendMessage.
struct UserSendResult {
  uint32_t status = 0;
  uint32_t returned = 0;        // *ReturnOutputBufferLength after validation
  std::vector<uint8_t> output;  // the first `returned` bytes of the output buffer
};

class PortEngine {
 public:
  explicit PortEngine(SimKernel* kernel);
  ~PortEngine();
  PortEngine(const PortEngine&) = delete;
  PortEngine& operator=(const PortEngine&) = delete;

  // ---- Filters (host main thread, or the thread running unload) ----
  std::shared_ptr<Filter> CreateFilter(const std::string& name);
  void SetUnloadCallback(Filter& filter, FilterUnloadFn callback);
  // What the host's `unload` does: the driver's unload callback (it normally closes its
  // server ports and calls FltUnregisterFilter), then FltUnregisterFilter if it did not.
  // `flags` is FLT_FILTER_UNLOAD_FLAGS (FLTFL_FILTER_UNLOAD_MANDATORY = 1: the driver may not
  // refuse). Returns the callback's failure status (unload refused),
  // STATUS_FLT_FILTER_NOT_FOUND if already unloaded, or STATUS_SUCCESS.
  uint32_t UnloadFilter(const std::shared_ptr<Filter>& filter, uint32_t flags = 0);
  // FltUnregisterFilter: marks the filter as being deleted, calls DisconnectNotify for every
  // remaining connection of its ports and closes their client ports. Idempotent.
  void UnregisterFilter(const std::shared_ptr<Filter>& filter);
  // Host shutdown: UnregisterFilter for every filter still registered.
  void UnregisterAll();

  // ---- Kernel side (driver threads; KernelApi.cc) ----
  uint32_t CreateCommunicationPort(const std::shared_ptr<Filter>& filter,
                                   const std::u16string* name, bool has_name,
                                   uint32_t attributes, void* security_descriptor, void* cookie,
                                   ConnectNotifyFn on_connect, DisconnectNotifyFn on_disconnect,
                                   MessageNotifyFn on_message, int32_t max_connections,
                                   uintptr_t* server_port);
  void CloseCommunicationPort(uintptr_t server_port);
  void CloseClientPort(const std::shared_ptr<Filter>& filter,
                       struct _FLT_PORT** client_port_variable);
  uint32_t SendMessage(const std::shared_ptr<Filter>& filter, struct _FLT_PORT** client_port_variable,
                       const void* message, uint32_t length, void* reply_buffer,
                       uint32_t* reply_length, const int64_t* timeout);
  uint64_t ConnectionIdOf(uintptr_t client_port);

  // ---- User side (host sessions) ----
  // Worker thread (runs ConnectNotify). On success *out is the live connection.
  uint32_t Connect(const std::u16string& name, const uint8_t* context, size_t context_size,
                   const PeerIdentity& peer, std::shared_ptr<PortSink> sink,
                   std::shared_ptr<Connection>* out);
  // I/O thread. Returns STATUS_PENDING when queued; any other status means the request was
  // completed at once and nothing more will be reported for `tag`.
  uint32_t PostGet(Connection& conn, uint64_t tag, uint32_t buffer_size);
  // I/O thread. CancelIoEx for one tag, or every pending request when all_tags.
  void Cancel(Connection& conn, uint64_t tag, bool all_tags);
  // I/O thread (does not wait). `buffer` is the whole FilterReplyMessage buffer.
  uint32_t Reply(Connection& conn, const uint8_t* buffer, size_t size);
  // Worker thread (runs MessageNotify). `input` may be null iff input_size == 0.
  UserSendResult Send(Connection& conn, const uint8_t* input, uint32_t input_size,
                      bool input_null, uint32_t output_capacity, bool output_null);
  // Worker thread (runs DisconnectNotify): the user's last handle closed.
  void CloseUser(const std::shared_ptr<Connection>& conn);

  // ---- Introspection (any thread) ----
  std::vector<ConnectionInfo> ListConnections();
  bool GetConnection(uint64_t id, ConnectionInfo* info);
  std::vector<PortInfo> ListPorts();
  // Waits until `predicate` holds for connection `id` (or the deadline passes). Returns
  // whether it held. The predicate sees a fresh snapshot after every state change.
  bool WaitForConnection(uint64_t id, const std::function<bool(const ConnectionInfo&)>& predicate,
                         Deadline deadline);
  // The newest live connection (highest id), or 0.
  uint64_t NewestConnectionId();
  // How many connections the engine keeps a record of: the live ones and those that died
  // since the last connect (tests check that dead ones do not pile up).
  size_t RememberedConnections();

 private:
  struct Completion {
    std::shared_ptr<PortSink> sink;
    uint64_t tag;
    uint32_t status;
    uint32_t information;
    std::vector<uint8_t> bytes;
  };
  using Completions = std::vector<Completion>;

  // All *Locked functions: called with mu_ held.
  void PumpLocked(Connection& conn, Completions* done);
  void DisconnectLocked(Connection& conn, uint32_t get_status, Completions* done);
  void ReleaseSlotLocked(const std::shared_ptr<Connection>& conn);
  void CloseClientPortHandleLocked(Connection& conn);
  ConnectionInfo InfoLocked(const Connection& conn) const;
  // A live connection's state, or the final state of one that is gone; false for an id that
  // never existed.
  bool SnapshotLocked(uint64_t id, ConnectionInfo* info) const;
  std::shared_ptr<Connection> FindConnectionLocked(uint64_t id) const;
  void NotifyStateChangedLocked();
  // Drops the records of connections nobody holds any more (on every connect).
  void ForgetDeadConnectionsLocked();

  // Outside mu_.
  void Deliver(Completions* done);
  void CallDisconnectNotify(const std::shared_ptr<Connection>& conn, const char* reason,
                            uint32_t pid);
  void Emit(int category, const std::string& line);

  SimKernel* kernel_;
  std::mutex mu_;
  std::condition_variable state_changed_;  // for WaitForConnection
  uint64_t state_version_ = 0;
  std::unordered_map<std::u16string, std::shared_ptr<ServerPort>> namespace_;  // by key
  std::vector<std::shared_ptr<ServerPort>> ports_;  // every port not yet fully gone
  std::vector<std::shared_ptr<Filter>> filters_;
  // Every connection still referenced by someone (session, driver handle, port slot), and
  // dead ones until the next connect sweeps them: an expired weak_ptr still holds the
  // make_shared allocation.
  std::map<uint64_t, std::weak_ptr<Connection>> all_connections_;
  uint64_t next_port_id_ = 1;
  uint64_t next_connection_id_ = 1;
};

}  // namespace fltport::fltsim
