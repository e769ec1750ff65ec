// Filter management (FilterLoad/Unload, FilterFind*, FilterInstanceFind*, FilterVolumeFind*,
// FilterAttach/Detach, FilterGetDosName): declared once here, defined per OS. On Windows it
// calls fltlib.dll and decodes each information class into these plain structs; on POSIX
// fltsim-host answers for the filters it hosts. Every function runs on a worker thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "Status.h"

namespace fltport::core {

struct FilterInfo {
  std::u16string name;
  std::u16string altitude;
  uint32_t instance_count = 0;
  uint32_t frame_id = 0;
  bool legacy = false;  // a legacy (non-minifilter) file-system filter
};

struct InstanceInfo {
  std::u16string name;
  std::u16string altitude;
  std::u16string volume_name;
  std::u16string filter_name;
  uint32_t frame_id = 0;
  uint32_t volume_type = 0;  // FLT_FILESYSTEM_TYPE
  bool detach_allowed = false;
};

struct VolumeInfo {
  std::u16string name;        // \Device\HarddiskVolume3
  std::u16string dos_name;    // C: (empty when it has none)
  uint32_t frame_id = 0;
  uint32_t filesystem_type = 0;  // FLT_FILESYSTEM_TYPE
};

struct ManagementContext {
  std::string sim_runtime_dir;  // POSIX only
};

Status ListFilters(const ManagementContext& ctx, std::vector<FilterInfo>* out);
Status ListInstances(const ManagementContext& ctx, const std::u16string& filter,
                     std::vector<InstanceInfo>* out);
Status ListVolumes(const ManagementContext& ctx, std::vector<VolumeInfo>* out);
// Enables SeLoadDriverPrivilege first on Windows.
Status LoadFilter(const ManagementContext& ctx, const std::u16string& filter);
Status UnloadFilter(const ManagementContext& ctx, const std::u16string& filter);
// `instance_name` may be empty (the filter's default instance); the created name is returned.
Status AttachFilter(const ManagementContext& ctx, const std::u16string& filter,
                    const std::u16string& volume, const std::u16string& instance_name,
                    std::u16string* created_instance);
Status DetachFilter(const ManagementContext& ctx, const std::u16string& filter,
                    const std::u16string& volume, const std::u16string& instance_name);
Status GetDosName(const ManagementContext& ctx, const std::u16string& volume, std::u16string* dos);

}  // namespace fltport::core
