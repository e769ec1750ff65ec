#include "FltMgrMsgDevice.h"

#include <windows.h>

#include <cstdio>
#include <cstring>
#include <utility>

#include "FltMgrMsg.h"
#include "FltMgrMsgKernel.h"
#include "FrameReader.h"
#include "Log.h"
#include "StatusTable.h"

namespace fltport::fltsim {
namespace {

namespace nt = core::nt;

using MainLoopFn = LONG(__cdecl*)(HANDLE stop_event);

std::u16string Utf16(const std::string& ascii) { return std::u16string(ascii.begin(), ascii.end()); }

std::string Utf8(const std::u16string& ascii) {
  std::string out;
  for (char16_t c : ascii) out.push_back(c < 0x80 ? static_cast<char>(c) : '?');
  return out;
}

uint32_t Le32(const uint8_t* p) { return WireLe32(p); }

// Loaded at run time, not imported: see FltMgrMsgKernel.h. Wine's ntoskrnl.exe is a DLL like
// any other to the loader (winedevice.exe imports it); loading it sets up nothing until a
// driver object is created.
void* ResolveNtoskrnl(const char* name) {
  static HMODULE module = LoadLibraryW(L"ntoskrnl.exe");
  if (module == nullptr) return nullptr;
  return reinterpret_cast<void*>(GetProcAddress(module, name));
}

}  // namespace

// One pending or dispatching IRP.
struct FltMgrMsgDevice::Irp {
  void* irp = nullptr;
  std::shared_ptr<DeviceStream> stream;
  uint64_t tag = 0;
  uint32_t code = 0;
  bool pending = false;      // dispatch returned STATUS_PENDING
  bool cancel_seen = false;  // the cancel callback ran (the routine is gone)
  bool has_result = false;   // the answer arrived before it could be completed
  uint32_t status = 0;
  uint64_t information = 0;
  std::vector<uint8_t> data;
};

class FltMgrMsgDevice::DeviceStream : public Stream {
 public:
  DeviceStream(FltMgrMsgDevice* owner, void* file, uint64_t id, PeerIdentity peer)
      : owner_(owner), file_(file), id_(id), peer_(peer) {}

  void SendFrame(uint16_t type, uint64_t tag, const void* part1, size_t size1, const void* part2,
                 size_t size2) override {
    // Bodies arrive as (fixed part, variable part) from the sessions; accept any split.
    std::vector<uint8_t> joined;
    const uint8_t* body = static_cast<const uint8_t*>(part1);
    size_t size = size1;
    if (size2 != 0) {
      joined.reserve(size1 + size2);
      if (size1) joined.insert(joined.end(), body, body + size1);
      joined.insert(joined.end(), static_cast<const uint8_t*>(part2),
                    static_cast<const uint8_t*>(part2) + size2);
      body = joined.data();
      size = joined.size();
    }
    switch (type) {
      case FLTSIM_HELLO_RESULT:
        hello_status_ = size >= 4 ? Le32(body) : nt::kUnsuccessful;
        return;
      case FLTSIM_CONNECT_RESULT:
      case FLTSIM_REPLY_RESULT:
        if (size != sizeof(FLTSIM_STATUS_BODY)) break;
        owner_->Complete(this, tag, Le32(body), 0, nullptr, 0);
        return;
      case FLTSIM_GET_COMPLETE:
      case FLTSIM_SEND_RESULT:
        if (size < sizeof(FLTSIM_COMPLETION_BODY)) break;
        owner_->Complete(this, tag, Le32(body), Le32(body + 4), body + 8,
                         size - sizeof(FLTSIM_COMPLETION_BODY));
        return;
      default:
        break;
    }
    LogWrite(LogLevel::kError, "device stream %llu: the session sent frame type %u (%llu bytes), "
             "which no FltMgrMsg request expects",
             static_cast<unsigned long long>(id_), static_cast<unsigned>(type),
             static_cast<unsigned long long>(size));
  }

  void Drop(const std::string& reason) override {
    std::lock_guard<std::mutex> lock(flag_mu_);
    if (!drop_requested_) {
      LogWrite(LogLevel::kWarn, "device stream %llu dropped: %s",
               static_cast<unsigned long long>(id_), reason.c_str());
    }
    drop_requested_ = true;
  }

  const PeerIdentity& peer() const override { return peer_; }
  uint64_t id() const override { return id_; }

  // Device thread. Hands one frame to the session; false when the stream is (now) gone.
  bool Deliver(uint16_t type, uint64_t tag, const uint8_t* body, size_t size) {
    std::lock_guard<std::mutex> lock(frame_mu_);
    if (closed_ || DropRequested()) {
      CloseLocked();
      return false;
    }
    FLTSIM_FRAME_HEADER header{};
    header.Length = static_cast<uint32_t>(sizeof header + size);
    header.Type = type;
    header.Flags = 0;
    header.Tag = tag;
    std::string why;
    if (!handler_->OnFrame(header, body, size, &why)) {
      LogWrite(LogLevel::kWarn, "device stream %llu dropped: %s", static_cast<unsigned long long>(id_),
               why.c_str());
      CloseLocked();
      return false;
    }
    if (DropRequested()) CloseLocked();
    return true;
  }

  // Device thread: the file object is gone (or the host stops).
  void Close() {
    std::lock_guard<std::mutex> lock(frame_mu_);
    CloseLocked();
  }

  bool closed() {
    std::lock_guard<std::mutex> lock(frame_mu_);
    return closed_;
  }

  void set_handler(std::shared_ptr<StreamHandler> handler) { handler_ = std::move(handler); }
  uint32_t hello_status() const { return hello_status_; }
  uint64_t NextTag() { return next_tag_++; }  // device thread only
  void* file() const { return file_; }

  // Guarded by the owner's mu_.
  std::map<uint64_t, void*> irps_by_tag;

 private:
  bool DropRequested() {
    std::lock_guard<std::mutex> lock(flag_mu_);
    return drop_requested_;
  }
  void CloseLocked() {
    if (closed_) return;
    closed_ = true;
    if (handler_) handler_->OnClosed();
  }

  FltMgrMsgDevice* const owner_;
  void* const file_;
  const uint64_t id_;
  const PeerIdentity peer_;
  std::shared_ptr<StreamHandler> handler_;
  std::mutex frame_mu_;  // OnFrame/OnClosed, one at a time
  bool closed_ = false;
  std::mutex flag_mu_;
  bool drop_requested_ = false;
  uint32_t hello_status_ = nt::kUnsuccessful;
  uint64_t next_tag_ = 1;
};

FltMgrMsgDevice::FltMgrMsgDevice(const std::string& instance, StreamAcceptor* acceptor,
                                 uint32_t peer_uid)
    : instance_(instance), acceptor_(acceptor), peer_uid_(peer_uid) {}

FltMgrMsgDevice::~FltMgrMsgDevice() {
  // Whatever the engine never answered (it should have: unload completes every GET) must
  // still complete, or the caller's OVERLAPPED would stay pending forever.
  CompleteLeftovers(nt::kCancelled);
  if (stop_event_ != nullptr) CloseHandle(stop_event_);
}

std::string FltMgrMsgDevice::Address() const {
  return Utf8(std::u16string(FLTSIM_MSG_DOS_PREFIX) + Utf16(instance_));
}

bool FltMgrMsgDevice::Listen(std::string* error) {
  if (!FltsimValidInstance(instance_.c_str())) {
    *error = "invalid instance name '" + instance_ + "' (1..64 of A-Z a-z 0-9 . _ -)";
    return false;
  }
  if (ResolveNtoskrnl("wine_ntoskrnl_main_loop") == nullptr) {
    *error = "cannot load Wine's ntoskrnl.exe (or it has no wine_ntoskrnl_main_loop): the FltMgrMsg "
             "device needs Wine";
    return false;
  }
  stop_event_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (stop_event_ == nullptr) {
    *error = "CreateEvent failed: " + std::to_string(GetLastError());
    return false;
  }
  const std::u16string driver = FLTSIM_MSG_DRIVER_PREFIX + Utf16(instance_);
  const std::u16string device = FLTSIM_MSG_DEVICE_PREFIX + Utf16(instance_);
  const std::u16string link = FLTSIM_MSG_DOS_PREFIX + Utf16(instance_);
  FLTSIM_KDEV_CALLBACKS callbacks{};
  callbacks.context = this;
  callbacks.create = &FltMgrMsgDevice::OnCreate;
  callbacks.close = &FltMgrMsgDevice::OnClose;
  callbacks.ioctl = &FltMgrMsgDevice::OnIoctl;
  callbacks.cancel = &FltMgrMsgDevice::OnCancel;
  const uint32_t status =
      FltsimKdevCreate(&ResolveNtoskrnl, reinterpret_cast<const uint16_t*>(driver.c_str()),
                       reinterpret_cast<const uint16_t*>(device.c_str()),
                       reinterpret_cast<const uint16_t*>(link.c_str()), &callbacks);
  if (status != nt::kSuccess) {
    char hex[16];
    snprintf(hex, sizeof hex, "0x%08X", status);
    *error = "cannot create " + Utf8(device) + ": " + hex +
             (status == nt::kObjectNameCollision ? " (another fltsim-host serves this instance)" : "");
    return false;
  }
  listening_ = true;
  return true;
}

void FltMgrMsgDevice::Run() {
  auto main_loop = reinterpret_cast<MainLoopFn>(ResolveNtoskrnl("wine_ntoskrnl_main_loop"));
  const LONG status = main_loop(stop_event_);
  if (status != 0) {
    LogWrite(LogLevel::kError, "wine_ntoskrnl_main_loop ended with 0x%08lX",
             static_cast<unsigned long>(status));
  }
  // No more opens, IRPs or cancels: close every session (each runs its CloseUser).
  FltsimKdevDelete();
  listening_ = false;
  std::map<void*, std::shared_ptr<DeviceStream>> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    streams.swap(streams_);
  }
  for (auto& [file, stream] : streams) stream->Close();
}

void FltMgrMsgDevice::Stop() {
  if (stop_event_ != nullptr) SetEvent(stop_event_);
}

FltMgrMsgDevice::Stats FltMgrMsgDevice::GetStats() {
  std::lock_guard<std::mutex> lock(mu_);
  Stats stats;
  stats.streams = streams_.size();
  stats.irps = irps_.size();
  return stats;
}

uint32_t FltMgrMsgDevice::OnCreate(void* self, void* file, uint32_t pid) {
  auto* device = static_cast<FltMgrMsgDevice*>(self);
  PeerIdentity peer;
  peer.pid = pid;
  peer.uid = device->peer_uid_;
  peer.gid = device->peer_uid_;
  peer.has_credentials = true;
  auto stream = std::make_shared<DeviceStream>(device, file, device->next_stream_id_++, peer);
  std::shared_ptr<StreamHandler> handler = device->acceptor_->OnAccept(stream);
  if (!handler) return nt::kAccessDenied;
  stream->set_handler(handler);
  // What the POSIX client's first frame says: a port stream of process `pid`.
  uint8_t hello[sizeof(FLTSIM_HELLO_BODY)] = {};
  WirePut32(hello, FLTSIM_WIRE_MAGIC);
  WirePut16(hello + 4, FLTSIM_WIRE_VERSION);
  WirePut16(hello + 6, FLTSIM_KIND_PORT);
  WirePut32(hello + 8, pid);
  if (!stream->Deliver(FLTSIM_HELLO, 0, hello, sizeof hello) || stream->hello_status() != nt::kSuccess) {
    stream->Close();
    return nt::kUnsuccessful;
  }
  {
    std::lock_guard<std::mutex> lock(device->mu_);
    device->streams_[file] = stream;
  }
  LogWrite(LogLevel::kTrace, "device stream %llu opened by process %u",
           static_cast<unsigned long long>(stream->id()), pid);
  return nt::kSuccess;
}

void FltMgrMsgDevice::OnClose(void* self, void* file) {
  auto* device = static_cast<FltMgrMsgDevice*>(self);
  std::shared_ptr<DeviceStream> stream;
  {
    std::lock_guard<std::mutex> lock(device->mu_);
    auto it = device->streams_.find(file);
    if (it == device->streams_.end()) return;
    stream = it->second;
    device->streams_.erase(it);
  }
  LogWrite(LogLevel::kTrace, "device stream %llu closed", static_cast<unsigned long long>(stream->id()));
  stream->Close();  // the session's CloseUser: DisconnectNotify, pending GETs completed
}

uint32_t FltMgrMsgDevice::OnIoctl(void* self, void* file, void* irp, uint32_t code, const void* in,
                                  uint32_t in_size, uint32_t out_size) {
  return static_cast<FltMgrMsgDevice*>(self)->Ioctl(file, irp, code, static_cast<const uint8_t*>(in),
                                                     in_size, out_size);
}

void FltMgrMsgDevice::OnCancel(void* self, void* irp) { static_cast<FltMgrMsgDevice*>(self)->Cancel(irp); }

uint32_t FltMgrMsgDevice::Ioctl(void* file, void* irp, uint32_t code, const uint8_t* in,
                                uint32_t in_size, uint32_t out_size) {
  std::shared_ptr<DeviceStream> stream;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(file);
    if (it != streams_.end()) stream = it->second;
  }
  auto fail_now = [irp](uint32_t status) {
    FltsimKdevComplete(irp, status, 0, nullptr, 0);
    return status;
  };
  if (!stream || stream->closed()) return fail_now(nt::kInvalidHandle);

  // The frame the POSIX client sends for the same call (wire.h).
  uint16_t type;
  std::vector<uint8_t> body;
  switch (code) {
    case FLTSIM_FLT_CTL_GET_MESSAGE:
      type = FLTSIM_GET;
      body.resize(sizeof(FLTSIM_GET_BODY), 0);
      WirePut32(body.data(), out_size);
      break;
    case FLTSIM_FLT_CTL_REPLY_MESSAGE:
      type = FLTSIM_REPLY;
      body.assign(in, in + in_size);
      break;
    case FLTSIM_FLT_CTL_SEND_MESSAGE:
      // METHOD_NEITHER would hand the driver the caller's raw pointers; Wine hands copies, so a
      // NULL buffer can only be told from an empty one by its length (spec §5.2: NULL iff 0).
      type = FLTSIM_SEND;
      body.resize(sizeof(FLTSIM_SEND_BODY), 0);
      WirePut32(body.data(), out_size);
      WirePut32(body.data() + 4, (in_size == 0 ? FLTSIM_SEND_IN_NULL : 0u) |
                                     (out_size == 0 ? FLTSIM_SEND_OUT_NULL : 0u));
      body.insert(body.end(), in, in + in_size);
      break;
    case FLTSIM_CTL_CONNECT:
      type = FLTSIM_CONNECT;
      body.assign(in, in + in_size);
      break;
    default:
      return fail_now(nt::kInvalidDeviceRequest);
  }
  if (sizeof(FLTSIM_FRAME_HEADER) + body.size() > FLTSIM_MAX_FRAME) return fail_now(nt::kInvalidParameter);

  const uint64_t tag = stream->NextTag();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto record = std::make_unique<Irp>();
    record->irp = irp;
    record->stream = stream;
    record->tag = tag;
    record->code = code;
    irps_[irp] = std::move(record);
    stream->irps_by_tag[tag] = irp;
  }

  const bool delivered = stream->Deliver(type, tag, body.data(), body.size());

  std::unique_ptr<Irp> done;
  bool cancelled_early = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Irp& record = *irps_[irp];
    // A GET always pends (spec §3.3: "FltMgr always pends it"), also when a waiting sender
    // filled it during PostGet; only an immediate failure (disconnected, bad size) completes
    // synchronously, without a completion packet. Other requests complete synchronously
    // whenever their answer is already there.
    const bool immediate =
        !delivered ||
        (record.has_result &&
         (code != FLTSIM_FLT_CTL_GET_MESSAGE ||
          (!core::NtSuccess(record.status) && (record.status >> 30) == 3 &&
           record.status != nt::kBufferTooSmall)));
    if (immediate) {
      done = std::move(irps_[irp]);
      irps_.erase(irp);
      stream->irps_by_tag.erase(tag);
    } else if (record.has_result) {
      FltsimKdevPend(irp);  // not cancellable any more: the answer is here
      FltsimKdevDisarm(irp);
      record.pending = true;
      done = std::move(irps_[irp]);
      irps_.erase(irp);
      stream->irps_by_tag.erase(tag);
    } else {
      record.pending = true;
      cancelled_early = FltsimKdevPend(irp) != 0;
      if (cancelled_early) record.cancel_seen = true;
    }
  }
  if (done) {
    const uint32_t status = done->has_result ? done->status : nt::kInvalidParameter;
    if (!done->has_result) {
      LogWrite(LogLevel::kWarn, "device stream %llu: request 0x%08X refused (malformed)",
               static_cast<unsigned long long>(stream->id()), code);
    }
    FltsimKdevComplete(irp, status, done->information, done->data.data(),
                       static_cast<uint32_t>(done->data.size()));
    return done->pending ? static_cast<uint32_t>(nt::kPending) : status;
  }
  if (cancelled_early) CancelThroughSession(stream, tag, irp);
  return nt::kPending;
}

void FltMgrMsgDevice::Cancel(void* irp) {
  std::shared_ptr<DeviceStream> stream;
  uint64_t tag = 0;
  std::unique_ptr<Irp> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = irps_.find(irp);
    if (it == irps_.end()) {
      // Cannot happen: an IRP whose routine the I/O manager claimed is never completed by us
      // before this call (Complete defers to it).
      LogWrite(LogLevel::kError, "cancel routine for an IRP the device does not know");
      return;
    }
    Irp& record = *it->second;
    if (record.has_result) {
      // The answer arrived while the I/O manager was claiming the cancel routine.
      done = std::move(it->second);
      irps_.erase(it);
      done->stream->irps_by_tag.erase(done->tag);
    } else {
      record.cancel_seen = true;
      stream = record.stream;
      tag = record.tag;
    }
  }
  if (done) {
    FltsimKdevComplete(irp, done->status, done->information, done->data.data(),
                       static_cast<uint32_t>(done->data.size()));
    return;
  }
  CancelThroughSession(stream, tag, irp);
}

void FltMgrMsgDevice::CancelThroughSession(std::shared_ptr<DeviceStream> stream, uint64_t tag,
                                           void* irp) {
  uint32_t code = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = irps_.find(irp);
    if (it == irps_.end()) return;  // answered meanwhile
    code = it->second->code;
  }
  if (code != FLTSIM_FLT_CTL_GET_MESSAGE) {
    // Connect, reply and send do not wait for anything a cancel could end (on Windows they
    // run to completion in the caller's thread); their answer completes them.
    return;
  }
  uint8_t body[sizeof(FLTSIM_CANCEL_BODY)];
  WirePut64(body, tag);
  // The CANCEL frame's own tag is never answered; the GET's completion carries STATUS_CANCELLED.
  if (stream->Deliver(FLTSIM_CANCEL, 0, body, sizeof body)) return;
  // No session left to ask: complete it here, as the I/O manager would for a dead device.
  Complete(stream.get(), tag, nt::kCancelled, 0, nullptr, 0);
}

void FltMgrMsgDevice::Complete(DeviceStream* stream, uint64_t tag, uint32_t status,
                               uint64_t information, const uint8_t* data, size_t size) {
  void* irp = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto by_tag = stream->irps_by_tag.find(tag);
    if (by_tag == stream->irps_by_tag.end()) {
      LogWrite(LogLevel::kDebug, "device stream %llu: answer for tag %llu, which is not pending",
               static_cast<unsigned long long>(stream->id()), static_cast<unsigned long long>(tag));
      return;
    }
    irp = by_tag->second;
    Irp& record = *irps_[irp];
    if (!record.pending || (!record.cancel_seen && !FltsimKdevDisarm(irp))) {
      // Still in dispatch (it completes the IRP when OnFrame returns), or the I/O manager is
      // cancelling it (the cancel callback completes it): keep the answer for them.
      record.has_result = true;
      record.status = status;
      record.information = information;
      record.data.assign(data, data + size);
      return;
    }
    irps_.erase(irp);
    stream->irps_by_tag.erase(by_tag);
  }
  FltsimKdevComplete(irp, status, information, data, static_cast<uint32_t>(size));
}

void FltMgrMsgDevice::CompleteLeftovers(uint32_t status) {
  std::map<void*, std::unique_ptr<Irp>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = irps_.begin(); it != irps_.end();) {
      Irp& record = *it->second;
      if (record.pending && (record.cancel_seen || FltsimKdevDisarm(record.irp))) {
        record.stream->irps_by_tag.erase(record.tag);
        left.emplace(it->first, std::move(it->second));
        it = irps_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!left.empty()) {
    LogWrite(LogLevel::kWarn, "completing %llu request(s) nobody answered",
             static_cast<unsigned long long>(left.size()));
  }
  for (auto& [irp, record] : left) FltsimKdevComplete(irp, status, 0, nullptr, 0);
}

}  // namespace fltport::fltsim
