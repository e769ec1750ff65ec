#include "RuntimeDir.h"

#include <stdlib.h>
#include <unistd.h>

#include "fltsim/wire.h"

namespace fltport::posix {

std::string RuntimeDir::Resolve(const std::string& configured) {
  if (!configured.empty()) return configured;
  const char* env = getenv(FLTSIM_RUNTIME_DIR_ENV);
  if (env && *env) return env;
  const char* xdg = getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg) return std::string(xdg) + "/fltsim";
  return "/tmp/fltsim-" + std::to_string(static_cast<unsigned long>(getuid()));
}

std::string RuntimeDir::SocketPath(const std::string& configured) {
  std::string dir = Resolve(configured);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/" FLTSIM_SOCKET_NAME;
}

}  // namespace fltport::posix
