// The host's transport, kept behind these interfaces so that the engine and the sessions
// never know whether frames travel over an AF_UNIX socket (UnixSocketTransport) or, for the
// Wine lane, a Win32 named pipe. One Stream = one user handle (a port connection, a mailslot
// handle or a control session). Frames are already length-checked when they reach a
// StreamHandler (FrameReader); what their bodies mean is the handler's business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "../engine/SecurityPolicy.h"
#include "fltsim/wire.h"

namespace fltport::fltsim {

class Stream {
 public:
  virtual ~Stream() = default;
  // Any thread. Queues one frame: the header (Length, Type, Tag) is built here from the parts.
  // Frames from one thread go out in call order. A frame for a closed stream is discarded.
  virtual void SendFrame(uint16_t type, uint64_t tag, const void* part1, size_t size1,
                         const void* part2 = nullptr, size_t size2 = 0) = 0;
  // Any thread: drop the stream; `reason` is logged.
  virtual void Drop(const std::string& reason) = 0;
  // Credentials the transport vouches for (uid/gid); pid is left 0 (HELLO supplies it).
  virtual const PeerIdentity& peer() const = 0;
  virtual uint64_t id() const = 0;
};

class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // I/O thread. One complete frame whose Length was valid. Return false with *why to drop
  // the stream (a malformed body, a frame the stream's state does not allow).
  virtual bool OnFrame(const FLTSIM_FRAME_HEADER& header, const uint8_t* body, size_t size,
                       std::string* why) = 0;
  // I/O thread, exactly once, after the last OnFrame: the stream is gone.
  virtual void OnClosed() = 0;
};

class StreamAcceptor {
 public:
  virtual ~StreamAcceptor() = default;
  // I/O thread. nullptr refuses the stream.
  virtual std::shared_ptr<StreamHandler> OnAccept(std::shared_ptr<Stream> stream) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Main thread, before Run(): bind and listen. false with *error if it cannot (including
  // "another live host owns the address").
  virtual bool Listen(std::string* error) = 0;
  // What "ready <address>" prints: the socket path or the pipe name.
  virtual std::string Address() const = 0;
  // The I/O thread's body: accepts streams and reads frames until Stop(); then closes every
  // stream (OnClosed for each) and releases the address (removes the socket file).
  virtual void Run() = 0;
  // Any thread, and async-signal-safe: makes Run() return.
  virtual void Stop() = 0;
};

}  // namespace fltport::fltsim
