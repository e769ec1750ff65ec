#include "FilterFunctions.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "FilterManagement.h"
#include "JsArgs.h"
#include "PromiseWorker.h"

namespace fltport::napi {
namespace {

// JS thread.
core::ManagementContext Context(Napi::Env env, const Napi::Value& v) {
  Napi::Object o = JsArgs::Object(env, v, "ctx");
  core::ManagementContext ctx;
  ctx.sim_runtime_dir = JsArgs::String8(env, o.Get("simRuntimeDir"), "ctx.simRuntimeDir");
  return ctx;
}

Napi::String Str(Napi::Env env, const std::u16string& s) { return Napi::String::New(env, s); }

template <typename T, typename ToJs>
Napi::Array ToArray(Napi::Env env, const std::vector<T>& items, ToJs to_js) {
  Napi::Array out = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) out.Set(static_cast<uint32_t>(i), to_js(env, items[i]));
  return out;
}

}  // namespace

Napi::Value FilterFunctions::ListFilters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  core::ManagementContext ctx = Context(env, info[0]);
  auto out = std::make_shared<std::vector<core::FilterInfo>>();
  return PromiseWorker::Start(
      env, "fltport:listFilters", [ctx, out]() { return core::ListFilters(ctx, out.get()); },
      [out](Napi::Env e) -> Napi::Value {
        return ToArray(e, *out, [](Napi::Env e2, const core::FilterInfo& f) {
          Napi::Object o = Napi::Object::New(e2);
          o.Set("name", Str(e2, f.name));
          o.Set("altitude", Str(e2, f.altitude));
          o.Set("instanceCount", Napi::Number::New(e2, f.instance_count));
          o.Set("frameId", Napi::Number::New(e2, f.frame_id));
          o.Set("legacy", Napi::Boolean::New(e2, f.legacy));
          return o;
        });
      });
}

Napi::Value FilterFunctions::ListInstances(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  core::ManagementContext ctx = Context(env, info[0]);
  std::u16string filter = JsArgs::String16(env, info[1], "filter", false);
  auto out = std::make_shared<std::vector<core::InstanceInfo>>();
  return PromiseWorker::Start(
      env, "fltport:listInstances",
      [ctx, filter = std::move(filter), out]() { return core::ListInstances(ctx, filter, out.get()); },
      [out](Napi::Env e) -> Napi::Value {
        return ToArray(e, *out, [](Napi::Env e2, const core::InstanceInfo& i) {
          Napi::Object o = Napi::Object::New(e2);
          o.Set("name", Str(e2, i.name));
          o.Set("altitude", Str(e2, i.altitude));
          o.Set("volumeName", Str(e2, i.volume_name));
          o.Set("filterName", Str(e2, i.filter_name));
          o.Set("frameId", Napi::Number::New(e2, i.frame_id));
          o.Set("volumeType", Napi::Number::New(e2, i.volume_type));
          o.Set("detachAllowed", Napi::Boolean::New(e2, i.detach_allowed));
          return o;
        });
      });
}

Napi::Value FilterFunctions::ListVolumes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  core::ManagementContext ctx = Context(env, info[0]);
  auto out = std::make_shared<std::vector<core::VolumeInfo>>();
  return PromiseWorker::Start(
      env, "fltport:listVolumes", [ctx, out]() { return core::ListVolumes(ctx, out.get()); },
      [out](Napi::Env e) -> Napi::Value {
        return ToArray(e, *out, [](Napi::Env e2, const core::VolumeInfo& v) {
          Napi::Object o = Napi::Object::New(e2);
          o.Set("name", Str(e2, v.name));
          o.Set("dosName", Str(e2, v.dos_name));
          o.Set("frameId", Napi::Number::New(e2, v.frame_id));
          o.Set("filesystemType", Napi::Number::New(e2, v.filesystem_type));
          return o;
        });
      });
}

Napi::Value FilterFunctions::LoadFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  core::ManagementContext ctx = Context(env, info[0]);
  std::u16string filter = JsArgs::String16(env, info[1], "filter", false);
  return PromiseWorker::Start(env, "fltport:loadFilter",
                              [ctx, filter = std::move(filter)]() { return core::LoadFilter(ctx, filter); },
                              nullptr);
}

Napi::Value FilterFunctions::UnloadFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  core::ManagementContext ctx = Context(env, info[0]);
  std::u16string filter = JsArgs::String16(env, info[1], "filter", false);
  return PromiseWorker::Start(
      env, "fltport:unloadFilter",
      [ctx, filter = std::move(filter)]() { return core::UnloadFilter(ctx, filter); }, nullptr);
}

Napi::Value FilterFunctions::AttachFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  core::ManagementContext ctx = Context(env, info[0]);
  std::u16string filter = JsArgs::String16(env, info[1], "filter", false);
  std::u16string volume = JsArgs::String16(env, info[2], "volume", false);
  std::u16string instance = JsArgs::String16(env, info[3], "instanceName", true);
  auto created = std::make_shared<std::u16string>();
  return PromiseWorker::Start(
      env, "fltport:attachFilter",
      [ctx, filter = std::move(filter), volume = std::move(volume),
       instance = std::move(instance), created]() {
        return core::AttachFilter(ctx, filter, volume, instance, created.get());
      },
      [created](Napi::Env e) -> Napi::Value { return Str(e, *created); });
}

Napi::Value FilterFunctions::DetachFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  core::ManagementContext ctx = Context(env, info[0]);
  std::u16string filter = JsArgs::String16(env, info[1], "filter", false);
  std::u16string volume = JsArgs::String16(env, info[2], "volume", false);
  std::u16string instance = JsArgs::String16(env, info[3], "instanceName", true);
  return PromiseWorker::Start(
      env, "fltport:detachFilter",
      [ctx, filter = std::move(filter), volume = std::move(volume),
       instance = std::move(instance)]() { return core::DetachFilter(ctx, filter, volume, instance); },
      nullptr);
}

Napi::Value FilterFunctions::GetDosName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  core::ManagementContext ctx = Context(env, info[0]);
  std::u16string volume = JsArgs::String16(env, info[1], "volume", false);
  auto dos = std::make_shared<std::u16string>();
  return PromiseWorker::Start(
      env, "fltport:getDosName",
      [ctx, volume = std::move(volume), dos]() { return core::GetDosName(ctx, volume, dos.get()); },
      [dos](Napi::Env e) -> Napi::Value { return Str(e, *dos); });
}

}  // namespace fltport::napi
