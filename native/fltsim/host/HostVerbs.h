// The control verbs the host itself provides, whatever driver is linked in: options, logs,
// ports and connections (list, inspect, wait for a state), unload, user-side mailslot
// writes and inspection, pool and handle counts. See docs/fltsim.md for the language.
#pragma once

#include <memory>

namespace fltport::fltsim {

class ControlRegistry;
class SimKernel;
struct Filter;

// Main thread, before the transport starts.
void RegisterHostVerbs(ControlRegistry* registry, SimKernel* kernel, std::shared_ptr<Filter> filter);

}  // namespace fltport::fltsim
