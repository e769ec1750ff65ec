// The filter fltsim-host runs, seen from filter management (FilterLoad/Unload, FilterFind*,
// FilterInstanceFind*, FilterVolumeFind*, FilterAttach/Detach, FilterGetDosName): its name and
// altitude, whether it is loaded (FilterLoad calls FltsimDriverEntry on a fresh filter object,
// FilterUnload calls the driver's unload routine), its instances, and the fixed set of
// simulated volumes they can attach to. Instances are bookkeeping only: fltsim has no file
// system I/O to filter. Thread-safe; Load/Unload run driver code and must not be called on
// the I/O thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace fltport::fltsim {

class SimKernel;
struct Filter;

struct SimVolume {
  std::u16string name;      // \Device\HarddiskVolume1
  std::u16string dos_name;  // C:, or empty
  uint32_t filesystem_type = 0;  // FLT_FILESYSTEM_TYPE
};

struct SimInstance {
  std::u16string name;
  std::u16string altitude;
  std::u16string volume;  // device name
  uint32_t filesystem_type = 0;
};

class HostedFilter {
 public:
  // Nothing is loaded until Load().
  HostedFilter(SimKernel* kernel, std::string name, std::string altitude);

  const std::string& name() const { return name_; }
  const std::string& altitude() const { return altitude_; }
  // The filter object now (nullptr when unloaded).
  std::shared_ptr<Filter> Current();
  bool Matches(const std::u16string& name) const;  // case-insensitive

  // Takes a filter the caller already created and ran FltsimDriverEntry for.
  void Adopt(std::shared_ptr<Filter> filter);
  // FilterLoad: a new filter object and FltsimDriverEntry. STATUS_IMAGE_ALREADY_LOADED if
  // loaded; the DriverEntry's failure status otherwise (the filter stays unloaded).
  uint32_t Load();
  // FilterUnload / `unload`: the driver's unload routine then FltUnregisterFilter's work.
  // STATUS_FLT_FILTER_NOT_FOUND if not loaded; the routine's status when it refuses.
  uint32_t Unload(uint32_t flags);

  std::vector<SimVolume> Volumes() const;
  // Resolves "C:", "C:\" or a device name (case-insensitive).
  bool FindVolume(const std::u16string& name, SimVolume* out) const;
  std::vector<SimInstance> Instances();
  // FilterAttach: `instance` empty = the default instance ("<name> Instance").
  uint32_t Attach(const std::u16string& volume, const std::u16string& instance, std::u16string* created);
  uint32_t Detach(const std::u16string& volume, const std::u16string& instance);

 private:
  SimKernel* kernel_;
  const std::string name_;
  const std::string altitude_;
  const std::vector<SimVolume> volumes_;
  std::mutex load_mu_;  // serializes Load/Unload (they run driver code)
  std::mutex mu_;       // guards filter_ and instances_
  std::shared_ptr<Filter> filter_;
  std::vector<SimInstance> instances_;
};

}  // namespace fltport::fltsim
