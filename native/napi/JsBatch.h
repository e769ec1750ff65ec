// A core::MessageBatch as the NativeBatch object of lib/binding.ts.
//
// One ArrayBuffer per batch, whatever its message count: the numeric columns (ids, lengths,
// offsets, tokens) first, then the payloads, copied once; JS takes views into it. A batch
// whose payloads exceed kAdoptAbove bytes is not copied: its byte vector becomes the storage
// of a second, external ArrayBuffer whose finalizer deletes the batch. Below that the copy is
// cheaper than an external buffer (a global handle, a weak callback, a finalizer run later
// and a sweep per batch: measured in docs/benchmarks.md).
//
// Threads: JS thread only.
#pragma once

#include <napi.h>

#include <memory>

#include "MessageBatch.h"

namespace fltport::napi {

class JsBatch {
 public:
  // Payload bytes above which a batch's buffer is adopted rather than copied.
  static constexpr size_t kAdoptAbove = 64 * 1024;

  // JS thread. Takes ownership of `batch`.
  static Napi::Object New(Napi::Env env, std::unique_ptr<core::MessageBatch> batch);

  // JS thread (module initialization). The JS function that makes the batch object (an
  // object literal: one map, no per-property work from C++), compiled once per environment
  // and held by the Addon.
  static Napi::Function NewFactory(Napi::Env env);

 private:
  // JS thread. The payload ArrayBuffer; owns `batch` from here on (or copies and frees it
  // where the runtime forbids external buffers).
  static Napi::ArrayBuffer AdoptBytes(Napi::Env env, std::unique_ptr<core::MessageBatch> batch);
};

}  // namespace fltport::napi
