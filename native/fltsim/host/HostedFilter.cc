#include "HostedFilter.h"

#include <fltKernel.h>

#include <algorithm>

#include "../engine/Log.h"
#include "../engine/ObjectName.h"
#include "../engine/PortEngine.h"
#include "../engine/SimKernel.h"

namespace fltport::fltsim {
namespace {

constexpr uint32_t kStatusImageAlreadyLoaded = 0xC000010E;  // -> ERROR_SERVICE_ALREADY_RUNNING
constexpr uint32_t kStatusFltInstanceAltitudeCollision = 0xC01C0011;
constexpr uint32_t kStatusFltInstanceNameCollision = 0xC01C0012;
constexpr uint32_t kStatusFltFilterNotFound = 0xC01C0013;
constexpr uint32_t kStatusFltVolumeNotFound = 0xC01C0014;
constexpr uint32_t kStatusFltInstanceNotFound = 0xC01C0015;

// FLT_FILESYSTEM_TYPE values (fltUserStructures.h).
constexpr uint32_t kFsNtfs = 2;
constexpr uint32_t kFsMup = 13;
constexpr uint32_t kFsNpfs = 25;
constexpr uint32_t kFsMsfs = 26;

std::vector<SimVolume> MakeVolumes() {
  return {
      {u"\\Device\\HarddiskVolume1", u"C:", kFsNtfs},
      {u"\\Device\\HarddiskVolume2", u"D:", kFsNtfs},
      {u"\\Device\\Mup", u"", kFsMup},
      {u"\\Device\\NamedPipe", u"", kFsNpfs},
      {u"\\Device\\Mailslot", u"", kFsMsfs},
  };
}

std::u16string U16(const std::string& s) {
  std::u16string out;
  Utf8ToUtf16(s, &out);
  return out;
}

}  // namespace

HostedFilter::HostedFilter(SimKernel* kernel, std::string name, std::string altitude)
    : kernel_(kernel), name_(std::move(name)), altitude_(std::move(altitude)), volumes_(MakeVolumes()) {}

std::shared_ptr<Filter> HostedFilter::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  return filter_;
}

bool HostedFilter::Matches(const std::u16string& name) const { return FoldName(name) == FoldName(U16(name_)); }

void HostedFilter::Adopt(std::shared_ptr<Filter> filter) {
  std::lock_guard<std::mutex> lock(mu_);
  filter_ = std::move(filter);
}

uint32_t HostedFilter::Load() {
  std::lock_guard<std::mutex> serial(load_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (filter_) return kStatusImageAlreadyLoaded;
  }
  auto filter = kernel_->ports().CreateFilter(name_);
  NTSTATUS status = FltsimDriverEntry(reinterpret_cast<PFLT_FILTER>(filter->handle));
  if (!NT_SUCCESS(status)) {
    LogWrite(LogLevel::kError, "FltsimDriverEntry failed: 0x%08X", static_cast<unsigned>(status));
    kernel_->ports().UnregisterFilter(filter);
    return static_cast<uint32_t>(status);
  }
  std::lock_guard<std::mutex> lock(mu_);
  filter_ = filter;
  return 0;
}

uint32_t HostedFilter::Unload(uint32_t flags) {
  std::lock_guard<std::mutex> serial(load_mu_);
  std::shared_ptr<Filter> filter = Current();
  if (!filter) return kStatusFltFilterNotFound;
  uint32_t status = kernel_->ports().UnloadFilter(filter, flags);
  if (status != 0) return status;
  std::lock_guard<std::mutex> lock(mu_);
  filter_.reset();
  instances_.clear();  // FltMgr detaches every instance before the filter goes
  return 0;
}

std::vector<SimVolume> HostedFilter::Volumes() const { return volumes_; }

bool HostedFilter::FindVolume(const std::u16string& name, SimVolume* out) const {
  std::u16string key = FoldName(name);
  if (key.size() == 3 && key[1] == u':' && key[2] == u'\\') key.pop_back();  // "C:\" -> "C:"
  for (const SimVolume& v : volumes_) {
    if (key == FoldName(v.name) || (!v.dos_name.empty() && key == FoldName(v.dos_name))) {
      *out = v;
      return true;
    }
  }
  return false;
}

std::vector<SimInstance> HostedFilter::Instances() {
  std::lock_guard<std::mutex> lock(mu_);
  return instances_;
}

uint32_t HostedFilter::Attach(const std::u16string& volume, const std::u16string& instance,
                              std::u16string* created) {
  SimVolume v;
  if (!FindVolume(volume, &v)) return kStatusFltVolumeNotFound;
  std::u16string name = instance.empty() ? U16(name_ + " Instance") : instance;
  std::lock_guard<std::mutex> lock(mu_);
  if (!filter_) return kStatusFltFilterNotFound;
  for (const SimInstance& i : instances_) {
    if (i.volume != v.name) continue;
    if (FoldName(i.name) == FoldName(name)) return kStatusFltInstanceNameCollision;
    // Without an explicit altitude every instance of a filter takes the same one, and two
    // instances of one filter may not share an altitude on a volume.
    return kStatusFltInstanceAltitudeCollision;
  }
  instances_.push_back(SimInstance{name, U16(altitude_), v.name, v.filesystem_type});
  *created = name;
  return 0;
}

uint32_t HostedFilter::Detach(const std::u16string& volume, const std::u16string& instance) {
  SimVolume v;
  if (!FindVolume(volume, &v)) return kStatusFltVolumeNotFound;
  std::u16string name = instance.empty() ? U16(name_ + " Instance") : instance;
  std::lock_guard<std::mutex> lock(mu_);
  if (!filter_) return kStatusFltFilterNotFound;
  auto it = std::find_if(instances_.begin(), instances_.end(), [&](const SimInstance& i) {
    return i.volume == v.name && FoldName(i.name) == FoldName(name);
  });
  if (it == instances_.end()) return kStatusFltInstanceNotFound;
  instances_.erase(it);
  return 0;
}

}  // namespace fltport::fltsim
