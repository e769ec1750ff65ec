// What the two halves of the Wine lane's test fltlib.dll share (fltlib.cc: communication
// ports; fltlib_management.cc: filter management). Needs <windows.h> first.
#pragma once

#include <string>

namespace fltport::fltsim::fltlib {

// Spec §1.3: the HRESULT fltlib returns for a kernel status.
HRESULT FromStatus(NTSTATUS status);

// The fltsim-host instance to talk to (FltMgrMsg.h): $FLTSIM_RUNTIME_DIR, "default" when
// unset, empty when the variable is not a valid instance name.
std::string Instance();

}  // namespace fltport::fltsim::fltlib
