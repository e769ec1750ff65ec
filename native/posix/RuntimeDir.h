// Where fltsim-host listens. Both sides resolve the directory the same way, in this order:
//   1. an explicit directory (PortOptions::sim_runtime_dir, MailslotOptions::..., the
//      host's --runtime-dir),
//   2. $FLTSIM_RUNTIME_DIR (wire.h FLTSIM_RUNTIME_DIR_ENV),
//   3. $XDG_RUNTIME_DIR/fltsim,
//   4. /tmp/fltsim-<uid>,
// and the socket is FLTSIM_SOCKET_NAME inside it. Empty variables count as unset.
//
// Threads: any (reads the environment; nothing here writes it).
#pragma once

#include <string>

namespace fltport::posix {

class RuntimeDir {
 public:
  static std::string Resolve(const std::string& configured);
  static std::string SocketPath(const std::string& configured);
};

}  // namespace fltport::posix
