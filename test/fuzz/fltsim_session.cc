// Fuzz target: what a malicious client process can send fltsim-host. Up to four streams, each
// a real host Session (native/fltsim/host: HELLO, then a port, mailslot or control session)
// over the real frame reader, wire codec, port engine and mailslot engine; only the socket is
// replaced by a stream that checks every frame the host sends back. A small driver (written
// here against fltKernel.h, like any driver) serves "\FuzzPort": echo in MessageNotify, and
// FltSendMessage when the input asks. The host's worker pool is shut down before the first
// run, so ConnectNotify, MessageNotify and DisconnectNotify run inline and a run is
// deterministic; op 4 serves the streams opened after it from a live pool instead, as
// fltsim-host does, so that a client that does not wait (GET or close while its CONNECT
// runs) meets the host's races.
// Input: ops until the input ends (op % 5).
//   0 s:u8 len:u16 bytes   stream s % 4 receives these bytes (a new stream if s was closed)
//   1 s:u8                 stream s % 4 closes (CloseHandle; DisconnectNotify)
//   2 len:u8 cap:u16       the driver sends len bytes on the newest connection, with a reply
//                          buffer of cap bytes (0xFFFF: none), on a thread; message ids count
//                          up from 1 per connection
//   3                      the driver closes the newest connection's client port
//   4                      streams opened from now on are served by a live worker pool
// Checks (sanitizers aside): every frame the host sends fits in FLTSIM_MAX_FRAME; a completion
// carries exactly Information bytes on success and none on failure, never more than the
// request's buffer; every sender returns once the streams are closed.
#include <fltKernel.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../../native/fltsim/engine/Log.h"
#include "../../native/fltsim/engine/PortEngine.h"
#include "../../native/fltsim/engine/SimKernel.h"
#include "../../native/fltsim/host/ControlRegistry.h"
#include "../../native/fltsim/host/EventHub.h"
#include "../../native/fltsim/host/Session.h"
#include "../../native/fltsim/host/WorkerPool.h"
#include "../../native/fltsim/transport/FrameReader.h"
#include "FuzzInput.h"

namespace {

using namespace fltport::fltsim;
using fltport::fuzz::FuzzInput;

// ---- The driver ---------------------------------------------------------------------------

struct DriverConn {
  PFLT_PORT client_port = nullptr;  // the variable FltCloseClientPort clears
  uint64_t id = 0;
};

struct Driver {
  PFLT_FILTER filter = nullptr;
  PFLT_PORT server = nullptr;
  std::mutex mu;
  std::vector<std::unique_ptr<DriverConn>> conns;  // this run's; freed after its senders end
};
Driver* g_driver = nullptr;

NTSTATUS FLTAPI OnConnect(PFLT_PORT client_port, PVOID, PVOID context, ULONG size, PVOID* cookie) {
  // A context starting with 0xFF is refused, so refusals are reachable too.
  if (size > 0 && static_cast<const uint8_t*>(context)[0] == 0xFF) return STATUS_ACCESS_DENIED;
  auto conn = std::make_unique<DriverConn>();
  conn->client_port = client_port;
  conn->id = FltsimGetConnectionId(client_port);
  *cookie = conn.get();
  std::lock_guard<std::mutex> lock(g_driver->mu);
  g_driver->conns.push_back(std::move(conn));
  return STATUS_SUCCESS;
}

VOID FLTAPI OnDisconnect(PVOID cookie) {
  FltCloseClientPort(g_driver->filter, &static_cast<DriverConn*>(cookie)->client_port);
}

NTSTATUS FLTAPI OnMessage(PVOID, PVOID in, ULONG in_len, PVOID out, ULONG out_len, PULONG returned) {
  const ULONG n = in_len < out_len ? in_len : out_len;
  if (n > 0) std::memcpy(out, in, n);
  *returned = n;
  return STATUS_SUCCESS;
}

// ---- The host, minus its socket -------------------------------------------------------------

struct Host {
  SimKernel kernel{SimOptions(), static_cast<uint32_t>(getuid())};
  EventHub events;
  WorkerPool pool;
  ControlRegistry registry;  // no verbs: control lines get "unknown verb" answers
  HostContext context{&kernel, &pool, &events, &registry};
};

Host& TheHost() {
  static Host* host = [] {
    // Quiet unless asked, as fltsim-host is: FLTSIM_LOG_LEVEL=debug shows what a run did.
    LogLevel level = LogLevel::kError;
    if (const char* env = getenv("FLTSIM_LOG_LEVEL")) ParseLogLevel(env, &level);
    SetLogLevel(level);
    auto* h = new Host();  // lives as long as the process, as fltsim-host's does
    h->kernel.SetEventSink(&h->events);
    h->pool.Shutdown();  // from now on Submit() runs the task inline
    g_driver = new Driver();
    g_driver->filter = reinterpret_cast<PFLT_FILTER>(h->kernel.ports().CreateFilter("fuzz")->handle);
    PSECURITY_DESCRIPTOR sd = nullptr;
    if (!NT_SUCCESS(FltBuildDefaultSecurityDescriptor(&sd, FLT_PORT_ALL_ACCESS))) __builtin_trap();
    RtlSetDaclSecurityDescriptor(sd, TRUE, nullptr, FALSE);  // anyone may connect
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, reinterpret_cast<PCWSTR>(u"\\FuzzPort"));
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, nullptr, sd);
    if (!NT_SUCCESS(FltCreateCommunicationPort(g_driver->filter, &g_driver->server, &oa, nullptr,
                                               OnConnect, OnDisconnect, OnMessage, 8))) {
      __builtin_trap();
    }
    FltFreeSecurityDescriptor(sd);
    return h;
  }();
  return *host;
}

// A stream whose frames go nowhere, after checking them against what wire.h promises clients.
class CheckedStream : public Stream {
 public:
  explicit CheckedStream(uint64_t id) : id_(id) {
    peer_.uid = static_cast<uint32_t>(getuid());
    peer_.gid = static_cast<uint32_t>(getgid());
    peer_.has_credentials = true;
  }
  // I/O thread (the fuzzer's): what the client asked for, so completions can be held to it.
  void Requested(uint16_t type, const uint8_t* body, size_t size, uint64_t tag) {
    if ((type != FLTSIM_GET && type != FLTSIM_MS_READ) || size != sizeof(FLTSIM_GET_BODY)) return;
    std::lock_guard<std::mutex> lock(mu_);
    // A duplicate of a pending tag is refused at once, and its refusal forgets the tag: the
    // pending request's completion then goes unchecked rather than checked against a wrong size.
    buffers_.emplace(tag, WireLe32(body));
  }
  void SendFrame(uint16_t type, uint64_t tag, const void* part1, size_t size1,
                 const void* /*part2*/, size_t size2) override {
    if (sizeof(FLTSIM_FRAME_HEADER) + size1 + size2 > FLTSIM_MAX_FRAME) __builtin_trap();
    if (type != FLTSIM_GET_COMPLETE && type != FLTSIM_MS_READ_COMPLETE && type != FLTSIM_SEND_RESULT) {
      return;
    }
    if (size1 != sizeof(FLTSIM_COMPLETION_BODY)) __builtin_trap();
    const auto* c = static_cast<const uint8_t*>(part1);
    const uint32_t status = WireLe32(c);
    const uint32_t information = WireLe32(c + 4);
    if (status == 0 || type == FLTSIM_SEND_RESULT) {
      if (information != size2) __builtin_trap();
    } else if (size2 != 0) {
      __builtin_trap();
    }
    if (type == FLTSIM_SEND_RESULT) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = buffers_.find(tag);
    if (it == buffers_.end()) return;  // refused at once (e.g. before CONNECT): no buffer known
    if (status == 0 && information > it->second) __builtin_trap();
    buffers_.erase(it);  // completed, whatever the status; the tag may be used again
  }
  void Drop(const std::string&) override { dropped_ = true; }
  const PeerIdentity& peer() const override { return peer_; }
  uint64_t id() const override { return id_; }
  bool dropped() const { return dropped_; }

 private:
  const uint64_t id_;
  PeerIdentity peer_;
  std::atomic<bool> dropped_{false};
  std::mutex mu_;
  std::map<uint64_t, uint32_t> buffers_;  // pending GET / MS_READ tag -> BufferSize
};

struct Client {
  std::shared_ptr<CheckedStream> stream;
  std::shared_ptr<Session> session;
  FrameReader reader;
};

void Close(std::unique_ptr<Client>& client) {
  if (!client) return;
  client->session->OnClosed();
  client.reset();
}

// What the transport does with bytes from a client: frames to the session until one is refused.
void Feed(std::unique_ptr<Client>& client, const std::vector<uint8_t>& bytes) {
  client->reader.Append(bytes.data(), bytes.size());
  for (;;) {
    FLTSIM_FRAME_HEADER header;
    std::vector<uint8_t> body;
    std::string why;
    const FrameReader::Result r = client->reader.Next(&header, &body, &why);
    if (r == FrameReader::Result::kNeedMore) break;
    bool keep = r == FrameReader::Result::kFrame;
    if (keep) {
      client->stream->Requested(header.Type, body.data(), body.size(), header.Tag);
      keep = client->session->OnFrame(header, body.data(), body.size(), &why);
    }
    if (!keep) {
      LogWrite(LogLevel::kWarn, "stream %llu dropped: malformed frame: %s",
               static_cast<unsigned long long>(client->stream->id()), why.c_str());
    }
    if (!keep || client->stream->dropped()) return Close(client);
  }
}

DriverConn* Newest() {
  std::lock_guard<std::mutex> lock(g_driver->mu);
  return g_driver->conns.empty() ? nullptr : g_driver->conns.back().get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Host& host = TheHost();
  static uint64_t next_stream_id = 1;
  FuzzInput in(data, size);
  std::unique_ptr<Client> clients[4];
  std::vector<std::thread> senders;
  std::unique_ptr<WorkerPool> live_pool;  // this run's, once op 4 asks for it
  HostContext context = host.context;
  int ops = 0;
  while (!in.done() && ++ops <= 64) {
    switch (in.U8() % 5) {
      case 0: {
        std::unique_ptr<Client>& c = clients[in.U8() % 4];
        const std::vector<uint8_t> bytes = in.Bytes(in.U16());
        if (!c) {
          c = std::make_unique<Client>();
          c->stream = std::make_shared<CheckedStream>(next_stream_id++);
          c->session = std::make_shared<Session>(context, c->stream);
        }
        Feed(c, bytes);
        break;
      }
      case 1:
        Close(clients[in.U8() % 4]);
        break;
      case 2: {
        const std::vector<uint8_t> message(in.U8(), 0x6D);
        const uint16_t cap = in.U16();
        DriverConn* conn = Newest();
        if (!conn) break;
        PortEngine& ports = host.kernel.ports();
        ConnectionInfo before;
        if (!ports.GetConnection(conn->id, &before)) break;
        auto done = std::make_shared<std::atomic<bool>>(false);
        senders.emplace_back([conn, message, cap, done] {
          std::vector<uint8_t> reply(cap == 0xFFFF ? 1 : cap + 1);
          ULONG length = cap;
          FltSendMessage(g_driver->filter, &conn->client_port, const_cast<uint8_t*>(message.data()),
                         static_cast<ULONG>(message.size()), cap == 0xFFFF ? nullptr : reply.data(),
                         cap == 0xFFFF ? nullptr : &length, nullptr);
          done->store(true);
        });
        // Until the message is queued or delivered (or the send ended), so that what the input
        // does next - a GET, a REPLY with its id - meets it.
        const auto changed = [&before](const ConnectionInfo& now) {
          return now.blocked_senders != before.blocked_senders ||
                 now.reply_waiters != before.reply_waiters || now.delivered != before.delivered ||
                 now.state != before.state;
        };
        for (int i = 0; i < 200 && !done->load(); ++i) {
          if (ports.WaitForConnection(conn->id, changed, Deadline::AfterMilliseconds(10))) break;
        }
        break;
      }
      case 3:
        if (DriverConn* conn = Newest()) FltCloseClientPort(g_driver->filter, &conn->client_port);
        break;
      case 4:
        if (!live_pool) live_pool = std::make_unique<WorkerPool>();
        context.pool = live_pool.get();
        break;
    }
  }
  for (auto& c : clients) Close(c);  // every handle closes: every sender is released
  if (live_pool) live_pool->Shutdown();  // its DisconnectNotify calls have all returned
  for (auto& t : senders) t.join();
  std::lock_guard<std::mutex> lock(g_driver->mu);
  g_driver->conns.clear();
  return 0;
}
