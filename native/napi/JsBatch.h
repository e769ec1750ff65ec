// A core::MessageBatch as the NativeBatch object of lib/binding.ts.
//
// Zero copy for payloads: the batch's byte vector becomes the storage of one external
// ArrayBuffer whose finalizer deletes the batch; JS takes Uint8Array views into it. The
// numeric columns (ids, lengths, offsets, tokens) share a second, small ArrayBuffer, so a
// batch costs two buffers and a handful of views whatever its message count.
//
// Threads: JS thread only.
#pragma once

#include <napi.h>

#include <memory>

#include "MessageBatch.h"

namespace fltport::napi {

class JsBatch {
 public:
  // JS thread. Takes ownership of `batch`.
  static Napi::Object New(Napi::Env env, std::unique_ptr<core::MessageBatch> batch);

  // JS thread (module initialization). The batch object's property names as one array of
  // strings, created once per environment and held by the Addon (Node-API 8 cannot reference
  // a string itself), so New() reuses them instead of looking up 13 UTF-8 names per batch.
  static Napi::Object NewKeys(Napi::Env env);

 private:
  // JS thread. The payload ArrayBuffer; owns `batch` from here on (or copies and frees it
  // where the runtime forbids external buffers).
  static Napi::ArrayBuffer AdoptBytes(Napi::Env env, std::unique_ptr<core::MessageBatch> batch);
};

}  // namespace fltport::napi
