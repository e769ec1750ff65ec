// The mailslot file system of the simulated kernel (spec §10): one namespace shared by Win32
// names (\\.\mailslot\x) and NT names (\Device\Mailslot\x, \??\mailslot\x), compared
// case-insensitively. A mailslot has one server (reader) and any number of writers; messages
// are whole byte strings in FIFO order; writes never block. Servers are created by the driver
// (FltCreateMailslotFile, read with ZwReadFile/FltReadFile on the driver's thread) or by a
// user client (FLTSIM_MS_CREATE, read with MS_READ frames). One mutex guards everything;
// completions are handed to sinks after it is released. A timer thread expires user reads
// whose read timeout passes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "Deadline.h"

namespace fltport::fltsim {

class SimKernel;

// How the engine completes a user's pending MS_READ requests (the host's mailslot session).
class MailslotSink {
 public:
  virtual ~MailslotSink() = default;
  // Any thread, never with the engine lock held.
  virtual void OnReadComplete(uint64_t tag, uint32_t status, uint32_t information,
                              std::vector<uint8_t> bytes) = 0;
};

struct KernelReadWait;

struct MailslotReadRequest {
  uint64_t tag = 0;
  uint32_t size = 0;
  Deadline deadline;
  std::shared_ptr<MailslotSink> sink;  // a user read
  KernelReadWait* kernel = nullptr;    // or a driver thread blocked in ZwReadFile
};

struct Mailslot {
  uint64_t id = 0;
  std::u16string name;  // as created
  std::u16string key;   // ParseMailslotName key
  bool kernel_owned = false;
  uint32_t max_message_size = 0;  // 0 = any size
  uint32_t quota = 0;             // stored and reported; not enforced (UNCONFIRMED on Windows)
  // Guarded by MailslotEngine::mu_:
  int64_t read_timeout = -1;  // NT form (spec §10.2)
  bool alive = true;
  std::deque<std::vector<uint8_t>> messages;
  uint64_t queued_bytes = 0;
  std::deque<MailslotReadRequest> reads;  // pending reads, FIFO
};

struct MailslotInfo {
  uint64_t id = 0;
  std::string name;  // UTF-8
  bool kernel_owned = false;
  bool alive = false;
  uint32_t max_message_size = 0;
  uint32_t quota = 0;
  uint32_t next_size = 0xFFFFFFFF;  // MAILSLOT_NO_MESSAGE when empty
  uint32_t count = 0;
  int64_t read_timeout = 0;
  size_t pending_reads = 0;
};

class MailslotEngine {
 public:
  explicit MailslotEngine(SimKernel* kernel);
  ~MailslotEngine();
  MailslotEngine(const MailslotEngine&) = delete;
  MailslotEngine& operator=(const MailslotEngine&) = delete;

  // Any thread. Creates the server end. STATUS_OBJECT_NAME_COLLISION if the name exists.
  uint32_t Create(const std::u16string& name, uint32_t max_message_size, uint32_t quota,
                  int64_t read_timeout, bool kernel_owned, std::shared_ptr<Mailslot>* out);
  // Any thread. Opens a client (writer) end: STATUS_OBJECT_NAME_NOT_FOUND if none exists.
  uint32_t Open(const std::u16string& name, std::shared_ptr<Mailslot>* out);
  // Any thread; never waits. Information of a successful write = size.
  uint32_t Write(Mailslot& slot, const uint8_t* data, uint32_t size);
  // I/O thread: ReadFile by a user server. Always completes through `sink`, possibly before
  // returning (message queued, timeout 0, failure).
  void PostRead(Mailslot& slot, uint64_t tag, uint32_t size, std::shared_ptr<MailslotSink> sink);
  // Driver thread: ZwReadFile/FltReadFile on a kernel server; waits per the read timeout.
  uint32_t KernelRead(Mailslot& slot, void* buffer, uint32_t size, uint32_t* information);
  // I/O thread: CancelIoEx on user reads.
  void Cancel(Mailslot& slot, uint64_t tag, bool all_tags);
  // Any thread: GetMailslotInfo / SetMailslotInfo.
  MailslotInfo Query(Mailslot& slot);
  void SetReadTimeout(Mailslot& slot, int64_t read_timeout);
  // Any thread: the last server handle closed. The queue is dropped, the name freed, pending
  // reads complete with STATUS_CANCELLED, later writes fail. Idempotent.
  void CloseServer(Mailslot& slot);

  std::vector<MailslotInfo> List();
  // Closes every server (host shutdown) and stops the timer thread.
  void Shutdown();

 private:
  struct ReadCompletion {
    std::shared_ptr<MailslotSink> sink;
    uint64_t tag;
    uint32_t status;
    uint32_t information;
    std::vector<uint8_t> bytes;
  };
  using Completions = std::vector<ReadCompletion>;

  // Serves pending reads from queued messages, in FIFO order. mu_ held.
  void ServeLocked(Mailslot& slot, Completions* done);
  // Completes `request` from the head message (success, too small, or truncated). mu_ held.
  void CompleteFromHeadLocked(Mailslot& slot, MailslotReadRequest& request, Completions* done);
  void FinishLocked(MailslotReadRequest& request, uint32_t status, uint32_t information,
                    std::vector<uint8_t> bytes, Completions* done);
  MailslotInfo InfoLocked(const Mailslot& slot) const;
  void Deliver(Completions* done);
  void TimerMain();  // timer thread

  SimKernel* kernel_;
  std::mutex mu_;
  std::condition_variable readers_cv_;  // driver threads in KernelRead
  std::condition_variable timer_cv_;
  bool stopping_ = false;
  std::map<std::u16string, std::shared_ptr<Mailslot>> namespace_;
  uint64_t next_id_ = 1;
  std::thread timer_;
};

}  // namespace fltport::fltsim
