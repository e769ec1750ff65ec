// Linked with posix_sources / FLTPORT_POSIX_SOURCES: the fltsim client backend.
#include "BackendName.h"

namespace fltport::napi {

namespace {
constexpr const char kName[] = "fltsim";
}

const char* BackendName() { return kName; }

}  // namespace fltport::napi
