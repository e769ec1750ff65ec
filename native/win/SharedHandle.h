// A kernel handle that threads other than the I/O thread borrow for one call
// (FilterSendMessage, GetMailslotInfo...) while Close() may run on yet another thread.
// Close() drops the backend's reference; the handle is closed then, or when the last
// borrower returns. A borrower therefore never passes a closed (or recycled) handle value to
// the OS, and Close() never waits for a driver's MessageNotify callback to return.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

#include "UniqueHandle.h"

namespace fltport::win {

class SharedHandle {
 public:
  using Lease = std::shared_ptr<const UniqueHandle>;

  // Opening thread, before any borrower exists.
  void Adopt(UniqueHandle handle) {
    auto owned = std::make_shared<const UniqueHandle>(std::move(handle));
    std::lock_guard<std::mutex> lock(mu_);
    handle_ = std::move(owned);
  }
  // Any thread: the handle for the duration of one call, or null once Reset() ran.
  Lease Borrow() const {
    std::lock_guard<std::mutex> lock(mu_);
    return handle_;
  }
  // Any thread: drop the owner's reference (CloseHandle now, or after the last borrower).
  void Reset() {
    Lease last;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last = std::move(handle_);
    }
    // `last` goes out of scope outside the lock: CloseHandle never runs under mu_.
  }

 private:
  mutable std::mutex mu_;
  Lease handle_;
};

}  // namespace fltport::win
