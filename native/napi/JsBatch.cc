#include "JsBatch.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <vector>

#include "Addon.h"
#include "JsErrors.h"

namespace fltport::napi {
namespace {

// The NativeBatch properties (lib/binding.ts), in order: the factory's parameters.
constexpr const char* kKeys[] = {
    "buffer",      "messageCount", "ids",         "replyLengths", "offsets",
    "lengths",     "replyTokens",  "replyErrors", "readTokens",   "readErrors",
    "readOffsets", "readLengths",  "faults",
};
constexpr size_t kKeyCount = sizeof(kKeys) / sizeof(kKeys[0]);

// The batch object is made by this JS function, compiled once per environment: an object
// literal is V8's fastest way to a fixed-shape object (one map, no per-property transitions,
// no key look-ups), where defining 13 properties from C++ cost more than the rest of a
// batch. Empty columns arrive as undefined and become shared frozen empties, so a batch of
// messages does not make empty reply/read/fault columns.
constexpr const char kFactorySource[] = R"JS((() => {
  'use strict';
  const u64 = Object.freeze(new BigUint64Array(0));
  const u32 = Object.freeze(new Uint32Array(0));
  const f64 = Object.freeze(new Float64Array(0));
  const none = Object.freeze([]);
  return function fltportBatch(buffer, messageCount, ids, replyLengths, offsets, lengths,
                               replyTokens, replyErrors, readTokens, readErrors, readOffsets,
                               readLengths, faults) {
    return {
      buffer,
      messageCount,
      ids: ids ?? u64,
      replyLengths: replyLengths ?? u32,
      offsets: offsets ?? u32,
      lengths: lengths ?? u32,
      replyTokens: replyTokens ?? f64,
      replyErrors: replyErrors ?? none,
      readTokens: readTokens ?? f64,
      readErrors: readErrors ?? none,
      readOffsets: readOffsets ?? u32,
      readLengths: readLengths ?? u32,
      faults: faults ?? none,
    };
  };
})())JS";

template <typename T>
Napi::TypedArrayOf<T> View(Napi::Env env, Napi::ArrayBuffer buffer, size_t offset, size_t count,
                           napi_typedarray_type type) {
  return Napi::TypedArrayOf<T>::New(env, count, buffer, offset, type);
}

}  // namespace

// JS thread (module initialization).
Napi::Function JsBatch::NewFactory(Napi::Env env) {
  return env.RunScript(kFactorySource).As<Napi::Function>();
}

// JS thread.
Napi::ArrayBuffer JsBatch::AdoptBytes(Napi::Env env, std::unique_ptr<core::MessageBatch> batch) {
  std::vector<uint8_t>& bytes = batch->bytes();
  if (bytes.empty()) return Napi::ArrayBuffer::New(env, 0);  // `batch` is freed on return
  try {
    core::MessageBatch* owned = batch.get();
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
        env, bytes.data(), bytes.size(),
        [](Napi::Env, void*, core::MessageBatch* b) { delete b; }, owned);
    batch.release();  // the ArrayBuffer's finalizer owns it now
    return ab;
  } catch (const Napi::Error&) {
    // Runtimes with a V8 sandbox refuse external buffers (napi_no_external_buffers_allowed):
    // copy once rather than fail the delivery.
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, bytes.size());
    std::memcpy(ab.Data(), bytes.data(), bytes.size());
    return ab;
  }
}

// JS thread.
Napi::Object JsBatch::New(Napi::Env env, std::unique_ptr<core::MessageBatch> batch) {
  const auto& messages = batch->messages();
  const auto& replies = batch->replies();
  const auto& reads = batch->reads();
  const auto& faults = batch->faults();
  const size_t n = messages.size(), r = replies.size(), k = reads.size();

  // Column layout: 8-byte columns first so that every view stays aligned.
  const size_t ids_at = 0;
  const size_t reply_tokens_at = ids_at + 8 * n;
  const size_t read_tokens_at = reply_tokens_at + 8 * r;
  const size_t reply_lengths_at = read_tokens_at + 8 * k;
  const size_t offsets_at = reply_lengths_at + 4 * n;
  const size_t lengths_at = offsets_at + 4 * n;
  const size_t read_offsets_at = lengths_at + 4 * n;
  const size_t read_lengths_at = read_offsets_at + 4 * k;
  const size_t columns_end = read_lengths_at + 4 * k;

  // Small payloads travel in the columns' buffer, 8-aligned after them (payload offsets are
  // 8-aligned within the batch, so they stay so); large ones keep their own buffer.
  const size_t payload_bytes = batch->bytes().size();
  const bool copy = payload_bytes <= kAdoptAbove;
  const size_t payload_at = copy ? (columns_end + 7) & ~size_t(7) : 0;
  const size_t total = copy ? payload_at + payload_bytes : columns_end;

  Napi::ArrayBuffer columns = Napi::ArrayBuffer::New(env, total);
  uint8_t* base = static_cast<uint8_t*>(columns.Data());
  if (copy && payload_bytes != 0) std::memcpy(base + payload_at, batch->bytes().data(), payload_bytes);
  // The columns of one wake-up's batch are a few MB at most: offset + shift stays a u32.
  const auto shift = static_cast<uint32_t>(payload_at);
  auto* ids = reinterpret_cast<uint64_t*>(base + ids_at);
  auto* reply_tokens = reinterpret_cast<double*>(base + reply_tokens_at);
  auto* read_tokens = reinterpret_cast<double*>(base + read_tokens_at);
  auto* reply_lengths = reinterpret_cast<uint32_t*>(base + reply_lengths_at);
  auto* offsets = reinterpret_cast<uint32_t*>(base + offsets_at);
  auto* lengths = reinterpret_cast<uint32_t*>(base + lengths_at);
  auto* read_offsets = reinterpret_cast<uint32_t*>(base + read_offsets_at);
  auto* read_lengths = reinterpret_cast<uint32_t*>(base + read_lengths_at);

  for (size_t i = 0; i < n; ++i) {
    ids[i] = messages[i].message_id;
    reply_lengths[i] = messages[i].reply_length;
    offsets[i] = messages[i].offset + shift;
    lengths[i] = messages[i].length;
  }

  // Errors are rare; an all-success batch allocates only the arrays of nulls. Empty columns
  // stay undefined (the factory substitutes shared empties).
  Napi::Value undefined = env.Undefined();
  Napi::Value reply_errors = undefined;
  if (r != 0) {
    Napi::Array errors = Napi::Array::New(env, r);
    for (size_t i = 0; i < r; ++i) {
      reply_tokens[i] = static_cast<double>(replies[i].token);
      errors.Set(static_cast<uint32_t>(i),
                 replies[i].status.ok() ? env.Null() : JsErrors::Make(env, replies[i].status));
    }
    reply_errors = errors;
  }
  Napi::Value read_errors = undefined;
  if (k != 0) {
    Napi::Array errors = Napi::Array::New(env, k);
    for (size_t i = 0; i < k; ++i) {
      read_tokens[i] = static_cast<double>(reads[i].token);
      read_offsets[i] = reads[i].offset + shift;
      read_lengths[i] = reads[i].length;
      errors.Set(static_cast<uint32_t>(i),
                 reads[i].status.ok() ? env.Null()
                                      : JsErrors::Make(env, reads[i].status, reads[i].required_size));
    }
    read_errors = errors;
  }
  Napi::Value fault_errors = undefined;
  if (!faults.empty()) {
    Napi::Array errors = Napi::Array::New(env, faults.size());
    for (size_t i = 0; i < faults.size(); ++i) {
      errors.Set(static_cast<uint32_t>(i),
                 JsErrors::Make(env, faults[i].status, faults[i].required_size));
    }
    fault_errors = errors;
  }

  auto view = [&](size_t at, size_t count, napi_typedarray_type type) -> Napi::Value {
    if (count == 0) return undefined;
    switch (type) {
      case napi_biguint64_array:
        return View<uint64_t>(env, columns, at, count, type);
      case napi_float64_array:
        return View<double>(env, columns, at, count, type);
      default:
        return View<uint32_t>(env, columns, at, count, type);
    }
  };
  const napi_value values[kKeyCount] = {
      undefined,  // buffer: below, once the columns are made
      Napi::Number::New(env, static_cast<double>(n)),
      view(ids_at, n, napi_biguint64_array),
      view(reply_lengths_at, n, napi_uint32_array),
      view(offsets_at, n, napi_uint32_array),
      view(lengths_at, n, napi_uint32_array),
      view(reply_tokens_at, r, napi_float64_array),
      reply_errors,
      view(read_tokens_at, k, napi_float64_array),
      read_errors,
      view(read_offsets_at, k, napi_uint32_array),
      view(read_lengths_at, k, napi_uint32_array),
      fault_errors,
  };
  napi_value args[kKeyCount];
  std::copy(std::begin(values), std::end(values), std::begin(args));
  // Last: from here a large batch belongs to its own ArrayBuffer; a copied one is freed.
  args[0] = copy ? columns : AdoptBytes(env, std::move(batch));

  Addon* addon = Addon::Get(env);
  if (addon != nullptr && !addon->batch_factory().IsEmpty()) {
    return addon->batch_factory().Call(env.Undefined(), kKeyCount, args).As<Napi::Object>();
  }
  // Environment teardown (the instance data is gone): compile the factory for this one call.
  return NewFactory(env).Call(env.Undefined(), kKeyCount, args).As<Napi::Object>();
}

}  // namespace fltport::napi
