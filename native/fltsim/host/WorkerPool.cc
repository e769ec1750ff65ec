#include "WorkerPool.h"

#include <chrono>

#include "../engine/Log.h"

namespace fltport::fltsim {
namespace {
constexpr auto kIdleRetire = std::chrono::seconds(10);
}  // namespace

WorkerPool::WorkerPool(size_t max_threads) : max_threads_(max_threads) {}

WorkerPool::~WorkerPool() { Shutdown(); }

namespace {
std::vector<std::thread> TakeRetired(std::vector<std::thread>* workers,
                                     std::vector<std::thread::id>* retired) {
  std::vector<std::thread> out;
  for (const auto& id : *retired) {
    for (auto it = workers->begin(); it != workers->end(); ++it) {
      if (it->get_id() == id) {
        out.push_back(std::move(*it));
        workers->erase(it);
        break;
      }
    }
  }
  retired->clear();
  return out;
}
}  // namespace

void WorkerPool::Reap(std::vector<std::thread> finished) {
  for (auto& t : finished) t.join();  // they have left WorkerMain: this does not wait long
}

void WorkerPool::Submit(std::function<void()> task) {
  std::vector<std::thread> finished;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!stopping_) {
      finished = TakeRetired(&workers_, &retired_);
      queue_.push_back(std::move(task));
      if (idle_ >= queue_.size()) {
        cv_.notify_one();
      } else if (threads_ < max_threads_) {
        ++threads_;
        workers_.emplace_back([this] { WorkerMain(); });
      } else {
        LogWrite(LogLevel::kWarn, "worker pool at its limit of %zu threads; task queued", max_threads_);
      }
      task = nullptr;
    }
  }
  Reap(std::move(finished));
  if (task) task();
}

void WorkerPool::WorkerMain() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (!queue_.empty()) {
      std::function<void()> task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      continue;
    }
    if (stopping_) break;
    ++idle_;
    bool woke = cv_.wait_for(lock, kIdleRetire, [this] { return !queue_.empty() || stopping_; });
    --idle_;
    if (!woke) break;  // idle too long
  }
  --threads_;
  retired_.push_back(std::this_thread::get_id());
  exited_cv_.notify_all();
}

void WorkerPool::Shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  cv_.notify_all();
  exited_cv_.wait(lock, [this] { return threads_ == 0; });
  std::vector<std::thread> finished = std::move(workers_);
  workers_.clear();
  retired_.clear();
  lock.unlock();
  Reap(std::move(finished));
  lock.lock();
  // Tasks that no thread picked up (pool at its cap) run here.
  while (!queue_.empty()) {
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace fltport::fltsim
