#include "JsBatch.h"

#include <cstring>
#include <vector>

#include "Addon.h"
#include "JsErrors.h"

namespace fltport::napi {
namespace {

// The NativeBatch properties (lib/binding.ts), in definition order: every batch object gets
// the same shape.
constexpr const char* kKeys[] = {
    "buffer",      "messageCount", "ids",         "replyLengths", "offsets",
    "lengths",     "replyTokens",  "replyErrors", "readTokens",   "readErrors",
    "readOffsets", "readLengths",  "faults",
};
constexpr size_t kKeyCount = sizeof(kKeys) / sizeof(kKeys[0]);

template <typename T>
Napi::TypedArrayOf<T> View(Napi::Env env, Napi::ArrayBuffer buffer, size_t offset, size_t count,
                           napi_typedarray_type type) {
  return Napi::TypedArrayOf<T>::New(env, count, buffer, offset, type);
}

}  // namespace

// JS thread (module initialization).
Napi::Object JsBatch::NewKeys(Napi::Env env) {
  Napi::Array keys = Napi::Array::New(env, kKeyCount);
  for (size_t i = 0; i < kKeyCount; ++i) {
    keys.Set(static_cast<uint32_t>(i), Napi::String::New(env, kKeys[i]));
  }
  return keys;
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

  // Errors are rare; an all-success batch allocates only the arrays of nulls.
  Napi::Array reply_errors = Napi::Array::New(env, r);
  for (size_t i = 0; i < r; ++i) {
    reply_tokens[i] = static_cast<double>(replies[i].token);
    reply_errors.Set(static_cast<uint32_t>(i),
                     replies[i].status.ok() ? env.Null() : JsErrors::Make(env, replies[i].status));
  }
  Napi::Array read_errors = Napi::Array::New(env, k);
  for (size_t i = 0; i < k; ++i) {
    read_tokens[i] = static_cast<double>(reads[i].token);
    read_offsets[i] = reads[i].offset + shift;
    read_lengths[i] = reads[i].length;
    read_errors.Set(static_cast<uint32_t>(i),
                    reads[i].status.ok()
                        ? env.Null()
                        : JsErrors::Make(env, reads[i].status, reads[i].required_size));
  }
  Napi::Array fault_errors = Napi::Array::New(env, faults.size());
  for (size_t i = 0; i < faults.size(); ++i) {
    fault_errors.Set(static_cast<uint32_t>(i),
                     JsErrors::Make(env, faults[i].status, faults[i].required_size));
  }

  Napi::Value message_count = Napi::Number::New(env, static_cast<double>(n));
  Napi::Value id_view = View<uint64_t>(env, columns, ids_at, n, napi_biguint64_array);
  Napi::Value reply_length_view = View<uint32_t>(env, columns, reply_lengths_at, n, napi_uint32_array);
  Napi::Value offset_view = View<uint32_t>(env, columns, offsets_at, n, napi_uint32_array);
  Napi::Value length_view = View<uint32_t>(env, columns, lengths_at, n, napi_uint32_array);
  Napi::Value reply_token_view = View<double>(env, columns, reply_tokens_at, r, napi_float64_array);
  Napi::Value read_token_view = View<double>(env, columns, read_tokens_at, k, napi_float64_array);
  Napi::Value read_offset_view = View<uint32_t>(env, columns, read_offsets_at, k, napi_uint32_array);
  Napi::Value read_length_view = View<uint32_t>(env, columns, read_lengths_at, k, napi_uint32_array);
  // Last: from here a large batch belongs to its own ArrayBuffer; a copied one is freed.
  Napi::ArrayBuffer payload = copy ? columns : AdoptBytes(env, std::move(batch));

  // One napi call with plain data properties: every batch object gets the same shape. The
  // names are this environment's cached strings; UTF-8 names only if the instance data is
  // gone (environment teardown).
  constexpr auto kAttrs =
      static_cast<napi_property_attributes>(napi_writable | napi_enumerable | napi_configurable);
  const napi_value values[kKeyCount] = {
      payload,            // buffer
      message_count,      // messageCount
      id_view,            // ids
      reply_length_view,  // replyLengths
      offset_view,        // offsets
      length_view,        // lengths
      reply_token_view,   // replyTokens
      reply_errors,       // replyErrors
      read_token_view,    // readTokens
      read_errors,        // readErrors
      read_offset_view,   // readOffsets
      read_length_view,   // readLengths
      fault_errors,       // faults
  };
  Addon* addon = Addon::Get(env);
  Napi::Object keys;
  if (addon != nullptr && !addon->batch_keys().IsEmpty()) keys = addon->batch_keys().Value();
  napi_property_descriptor props[kKeyCount];
  for (size_t i = 0; i < kKeyCount; ++i) {
    props[i] = napi_property_descriptor{};
    if (keys.IsEmpty()) {
      props[i].utf8name = kKeys[i];
    } else {
      props[i].name = keys.Get(static_cast<uint32_t>(i));
    }
    props[i].value = values[i];
    props[i].attributes = kAttrs;
  }
  Napi::Object obj = Napi::Object::New(env);
  const napi_status st = napi_define_properties(env, obj, kKeyCount, props);
  NAPI_THROW_IF_FAILED(env, st, Napi::Object());
  return obj;
}

}  // namespace fltport::napi
