// Which backend this build links: "win32" (native/win) or "fltsim" (native/posix). Defined
// once per platform source list (BackendNameWin.cc / BackendNamePosix.cc), so the choice is
// the build's, never an #ifdef here.
//
// Threads: any.
#pragma once

namespace fltport::napi {

const char* BackendName();

}  // namespace fltport::napi
