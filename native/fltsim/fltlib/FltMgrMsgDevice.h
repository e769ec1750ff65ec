// The Wine lane's FltMgrMsg device as a fltsim Transport: each file object opened on the
// device (one FilterConnectCommunicationPort of the test fltlib.dll) is one Stream of kind
// PORT, and each IRP is turned into the wire.h frame the POSIX client would have sent for the
// same call (FltMgrMsg.h maps the control codes), with a fresh tag. The session's answers
// come back through Stream::SendFrame and complete the IRP with that tag: status,
// information and output bytes exactly as the engine produced them. CancelIoEx on a pending
// FilterGetMessage reaches the IRP's cancel routine and becomes a CANCEL frame, so the engine
// completes it with STATUS_CANCELLED as it does on POSIX.
//
// Threads: Run() is the device thread (Wine's ntoskrnl main loop): IRP dispatch, cancel
// routines and every StreamHandler call happen there, serialized per stream. SendFrame and
// therefore IRP completion happen on any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "Transport.h"

namespace fltport::fltsim {

class FltMgrMsgDevice : public Transport {
 public:
  // `instance`: a valid instance name (FltMgrMsg.h). `peer_uid` is the uid every user process
  // is reported with (under Wine all of them run as the one Windows administrator).
  FltMgrMsgDevice(const std::string& instance, StreamAcceptor* acceptor, uint32_t peer_uid);
  ~FltMgrMsgDevice() override;

  // Main thread: creates the driver object, the device and its DOS name. Fails when another
  // fltsim-host of the same instance owns them, or when ntoskrnl.exe is not Wine's.
  bool Listen(std::string* error) override;
  std::string Address() const override;  // the NT name the DLL opens (\??\FltMgrMsg-fltsim-X)
  void Run() override;
  void Stop() override;

  // Any thread: open file objects and IRPs not yet completed (the lane checks that a closed
  // port leaves neither behind).
  struct Stats {
    size_t streams = 0;
    size_t irps = 0;
  };
  Stats GetStats();

  class DeviceStream;  // one file object

 private:
  struct Irp;
  friend class DeviceStream;

  // Callbacks from FltMgrMsgKernel.c (device thread).
  static uint32_t OnCreate(void* self, void* file, uint32_t pid);
  static void OnClose(void* self, void* file);
  static uint32_t OnIoctl(void* self, void* file, void* irp, uint32_t code, const void* in,
                          uint32_t in_size, uint32_t out_size);
  static void OnCancel(void* self, void* irp);

  uint32_t Ioctl(void* file, void* irp, uint32_t code, const uint8_t* in, uint32_t in_size,
                 uint32_t out_size);
  void Cancel(void* irp);
  // Any thread: the session answered frame `tag` of `stream`.
  void Complete(DeviceStream* stream, uint64_t tag, uint32_t status, uint64_t information,
                const uint8_t* data, size_t size);
  // Device thread: hands `irp` (already cancelled) to its session as a CANCEL frame, or
  // completes it when there is nothing to cancel through.
  void CancelThroughSession(std::shared_ptr<DeviceStream> stream, uint64_t tag, void* irp);
  void CompleteLeftovers(uint32_t status);

  const std::string instance_;
  StreamAcceptor* const acceptor_;
  const uint32_t peer_uid_;
  void* stop_event_ = nullptr;
  bool listening_ = false;
  uint64_t next_stream_id_ = 1;

  std::mutex mu_;  // streams_, irps_
  std::map<void*, std::shared_ptr<DeviceStream>> streams_;  // by file object
  std::map<void*, std::unique_ptr<Irp>> irps_;              // by IRP, until completed
};

}  // namespace fltport::fltsim
