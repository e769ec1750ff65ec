// Filter-management verbs of the control channel: the host side of native/posix's
// core::FilterManagement (docs/fltsim.md, "Filter management"). Answers use the "key.I"
// list form; failures are the NTSTATUS fltlib's function would have got.
#include <fltKernel.h>

#include "../engine/ControlText.h"
#include "../engine/ObjectName.h"
#include "ControlRegistry.h"
#include "HostedFilter.h"

namespace fltport::fltsim {
namespace {

constexpr uint32_t kStatusFltFilterNotFound = 0xC01C0013;
constexpr uint32_t kStatusFltVolumeNotFound = 0xC01C0014;
constexpr uint32_t kStatusObjectNameNotFound = 0xC0000034;

// FilterLoad/FilterUnload of a filter fltsim does not host: the service does not exist
// (NtLoadDriver) / the filter is not loaded (FltUnloadFilter).
void RequireHosted(const HostedFilter& hosted, const std::u16string& filter, uint32_t status) {
  if (!hosted.Matches(filter)) throw ControlFailure{status, "fltsim hosts only the filter " + hosted.name()};
}

}  // namespace

void RegisterFilterVerbs(ControlRegistry* registry, HostedFilter* hosted) {
  registry->Add("filters.list", "filters.list", [hosted](const ControlLine& command) {
    ArgsAllowed(command, {});
    LineBuilder b("ok");
    if (!hosted->Current()) return ControlOk(b.Add("count", uint64_t{0}));
    b.Add("count", uint64_t{1})
        .Add("name.0", hosted->name())
        .Add("altitude.0", hosted->altitude())
        .Add("instances.0", hosted->Instances().size())
        .Add("frame.0", uint64_t{0})
        .Add("legacy.0", uint64_t{0});
    return ControlOk(b);
  });

  registry->Add("filters.instances", "filters.instances filter=F", [hosted](const ControlLine& command) {
    ArgsAllowed(command, {"filter"});
    std::u16string filter = ArgName(command, "filter");
    if (!hosted->Matches(filter) || !hosted->Current()) {
      throw ControlFailure{kStatusFltFilterNotFound, "no such filter"};
    }
    auto instances = hosted->Instances();
    LineBuilder b("ok");
    b.Add("count", instances.size());
    for (size_t i = 0; i < instances.size(); ++i) {
      const std::string s = "." + std::to_string(i);
      b.Add("name" + s, Utf16ToUtf8(instances[i].name))
          .Add("altitude" + s, Utf16ToUtf8(instances[i].altitude))
          .Add("volume" + s, Utf16ToUtf8(instances[i].volume))
          .Add("filter" + s, hosted->name())
          .Add("frame" + s, uint64_t{0})
          .Add("fstype" + s, instances[i].filesystem_type)
          .Add("detach" + s, uint64_t{1});
    }
    return ControlOk(b);
  });

  registry->Add("volumes.list", "volumes.list", [hosted](const ControlLine& command) {
    ArgsAllowed(command, {});
    auto volumes = hosted->Volumes();
    LineBuilder b("ok");
    b.Add("count", volumes.size());
    for (size_t i = 0; i < volumes.size(); ++i) {
      const std::string s = "." + std::to_string(i);
      b.Add("name" + s, Utf16ToUtf8(volumes[i].name))
          .Add("dos" + s, Utf16ToUtf8(volumes[i].dos_name))
          .Add("frame" + s, uint64_t{0})
          .Add("fstype" + s, volumes[i].filesystem_type);
    }
    return ControlOk(b);
  });

  registry->Add("volumes.dosname", "volumes.dosname volume=V", [hosted](const ControlLine& command) {
    ArgsAllowed(command, {"volume"});
    SimVolume v;
    if (!hosted->FindVolume(ArgName(command, "volume"), &v)) {
      throw ControlFailure{kStatusFltVolumeNotFound, "no such volume"};
    }
    if (v.dos_name.empty()) throw ControlFailure{kStatusObjectNameNotFound, "the volume has no DOS name"};
    return ControlOk(LineBuilder("ok").Add("dos", Utf16ToUtf8(v.dos_name)));
  });

  registry->Add("filters.load", "filters.load filter=F", [hosted](const ControlLine& command) {
    ArgsAllowed(command, {"filter"});
    RequireHosted(*hosted, ArgName(command, "filter"), kStatusObjectNameNotFound);
    uint32_t status = hosted->Load();
    if (status != 0) throw ControlFailure{status, "FilterLoad failed"};
    return ControlOk();
  });

  registry->Add("filters.unload", "filters.unload filter=F", [hosted](const ControlLine& command) {
    ArgsAllowed(command, {"filter"});
    RequireHosted(*hosted, ArgName(command, "filter"), kStatusFltFilterNotFound);
    uint32_t status = hosted->Unload(0);
    if (status != 0) throw ControlFailure{status, "FilterUnload failed"};
    return ControlOk();
  });

  registry->Add("filters.attach", "filters.attach filter=F volume=V [instance=I]", [hosted](const ControlLine& command) {
    ArgsAllowed(command, {"filter", "volume", "instance"});
    RequireHosted(*hosted, ArgName(command, "filter"), kStatusFltFilterNotFound);
    std::u16string instance = ArgPresent(command, "instance") ? ArgName(command, "instance") : std::u16string();
    std::u16string created;
    uint32_t status = hosted->Attach(ArgName(command, "volume"), instance, &created);
    if (status != 0) throw ControlFailure{status, "FilterAttach failed"};
    return ControlOk(LineBuilder("ok").Add("instance", Utf16ToUtf8(created)));
  });

  registry->Add("filters.detach", "filters.detach filter=F volume=V [instance=I]", [hosted](const ControlLine& command) {
    ArgsAllowed(command, {"filter", "volume", "instance"});
    RequireHosted(*hosted, ArgName(command, "filter"), kStatusFltFilterNotFound);
    std::u16string instance = ArgPresent(command, "instance") ? ArgName(command, "instance") : std::u16string();
    uint32_t status = hosted->Detach(ArgName(command, "volume"), instance);
    if (status != 0) throw ControlFailure{status, "FilterDetach failed"};
    return ControlOk();
  });
}

}  // namespace fltport::fltsim
