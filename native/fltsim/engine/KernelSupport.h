// What the host and tests can ask about the kernel-support functions of fltKernel.h (pool,
// synchronization, time, DbgPrint), implemented in KernelSupport.cc.
#pragma once

#include <cstdint>

namespace fltport::fltsim {

struct PoolStats {
  uint64_t outstanding_allocations = 0;  // allocated and not yet freed
  uint64_t outstanding_bytes = 0;
  uint64_t tag_mismatches = 0;  // ExFreePoolWithTag with another tag (BAD_POOL_CALLER on Windows)
  uint64_t bad_frees = 0;       // frees of pointers the pool never gave out (or freed twice)
};

// Any thread.
PoolStats GetPoolStats();

// ZwClose of a PsCreateSystemThread handle: true if `handle` was one (now closed).
bool CloseThreadHandle(uintptr_t handle);

}  // namespace fltport::fltsim
