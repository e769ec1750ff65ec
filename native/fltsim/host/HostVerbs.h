// The control verbs the host itself provides, whatever driver is linked in: options, logs,
// ports and connections (list, inspect, wait for a state), unload, filter management
// (filters.*, volumes.*: what native/posix's FilterManagement sends), user-side mailslot
// writes and inspection, pool and handle counts. See docs/fltsim.md for the language.
#pragma once

#include <memory>

namespace fltport::fltsim {

class ControlRegistry;
class HostedFilter;
class SimKernel;
struct Filter;

// Main thread, before the transport starts. `hosted` outlives the registry's use of it.
void RegisterHostVerbs(ControlRegistry* registry, SimKernel* kernel, HostedFilter* hosted);
// Earlier form, for hosts that create and load the filter themselves: adopts `filter`
// (altitude 370030) for the lifetime of the process.
void RegisterHostVerbs(ControlRegistry* registry, SimKernel* kernel, std::shared_ptr<Filter> filter);

}  // namespace fltport::fltsim
