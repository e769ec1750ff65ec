// Threads for work that may block in driver code: ConnectNotify, MessageNotify (every
// FilterSendMessage), DisconnectNotify, control commands. Windows runs these in the calling
// user thread, so concurrent FilterSendMessage calls run concurrently and one blocked
// callback stalls nobody else; the pool reproduces that by starting a thread whenever no idle
// one is available (up to a generous cap), and idle threads retire after a while.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fltport::fltsim {

class WorkerPool {
 public:
  explicit WorkerPool(size_t max_threads = 512);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Any thread. Runs `task` on a pool thread. After Shutdown() the task runs inline.
  void Submit(std::function<void()> task);
  // Main thread: runs every queued task, then joins every thread.
  void Shutdown();

 private:
  void WorkerMain();
  // Joins threads that retired (called without mu_ held).
  void Reap(std::vector<std::thread> finished);

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable exited_cv_;
  std::deque<std::function<void()>> queue_;
  size_t threads_ = 0;  // running WorkerMain
  std::vector<std::thread> workers_;
  std::vector<std::thread::id> retired_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace fltport::fltsim
