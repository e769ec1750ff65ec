// Linked with win_sources / FLTPORT_WIN_SOURCES: the fltlib.dll backend.
#include "BackendName.h"

namespace fltport::napi {

namespace {
constexpr const char kName[] = "win32";
}

const char* BackendName() { return kName; }

}  // namespace fltport::napi
