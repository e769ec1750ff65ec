// Filter management (FilterFind*, FilterInstanceFind*, FilterVolumeFind*, FilterLoad/Unload,
// FilterAttach/Detach, FilterGetDosName): each call validates its arguments on the JS thread,
// runs core's function on a pool thread (they block in the Filter Manager, or in a round trip
// to fltsim-host) and resolves with plain objects (NativeFilterInfo, ...).
//
// Threads: JS thread; the work lambdas on pool threads.
#pragma once

#include <napi.h>

namespace fltport::napi {

class FilterFunctions {
 public:
  static Napi::Value ListFilters(const Napi::CallbackInfo& info);
  static Napi::Value ListInstances(const Napi::CallbackInfo& info);
  static Napi::Value ListVolumes(const Napi::CallbackInfo& info);
  static Napi::Value LoadFilter(const Napi::CallbackInfo& info);
  static Napi::Value UnloadFilter(const Napi::CallbackInfo& info);
  static Napi::Value AttachFilter(const Napi::CallbackInfo& info);
  static Napi::Value DetachFilter(const Napi::CallbackInfo& info);
  static Napi::Value GetDosName(const Napi::CallbackInfo& info);
};

}  // namespace fltport::napi
