// Move-only owners of Win32 handles (WIL's unique_handle idea, by hand: no dependencies).
// The closer is a template parameter so that each kind of handle (kernel object, filter
// search handle...) is its own type and cannot be closed with the wrong function.
#pragma once

#include "FltUserCompat.h"

namespace fltport::win {

// Kernel object handles: both NULL and INVALID_HANDLE_VALUE mean "none", because Win32
// reports failure with either depending on the function (CreateFileW / CreateMailslotW
// return INVALID_HANDLE_VALUE, CreateIoCompletionPort returns NULL).
inline void CloseKernelHandle(HANDLE h) { ::CloseHandle(h); }
inline void CloseFilterFind(HANDLE h) { ::FilterFindClose(h); }
inline void CloseFilterInstanceFind(HANDLE h) { ::FilterInstanceFindClose(h); }
inline void CloseFilterVolumeFind(HANDLE h) { ::FilterVolumeFindClose(h); }

template <void (*Close)(HANDLE)>
class UniqueHandleOf {
 public:
  UniqueHandleOf() = default;
  explicit UniqueHandleOf(HANDLE h) : h_(h) {}
  UniqueHandleOf(const UniqueHandleOf&) = delete;
  UniqueHandleOf& operator=(const UniqueHandleOf&) = delete;
  UniqueHandleOf(UniqueHandleOf&& other) noexcept : h_(other.release()) {}
  UniqueHandleOf& operator=(UniqueHandleOf&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~UniqueHandleOf() { reset(); }

  // Any thread that owns this object.
  HANDLE get() const { return h_; }
  bool valid() const { return h_ != nullptr && h_ != INVALID_HANDLE_VALUE; }
  explicit operator bool() const { return valid(); }
  HANDLE release() {
    HANDLE h = h_;
    h_ = nullptr;
    return h;
  }
  void reset(HANDLE h = nullptr) {
    if (valid()) Close(h_);
    h_ = h;
  }
  // For out-parameters: closes what is held and hands out the slot.
  HANDLE* put() {
    reset();
    return &h_;
  }

 private:
  HANDLE h_ = nullptr;
};

using UniqueHandle = UniqueHandleOf<CloseKernelHandle>;
using UniqueFilterFind = UniqueHandleOf<CloseFilterFind>;
using UniqueFilterInstanceFind = UniqueHandleOf<CloseFilterInstanceFind>;
using UniqueFilterVolumeFind = UniqueHandleOf<CloseFilterVolumeFind>;

}  // namespace fltport::win
