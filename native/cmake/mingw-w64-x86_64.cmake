# Cross-compile for 64-bit Windows with Debian's mingw-w64 (package `mingw-w64`).
#
# The -posix compilers: the win32-thread-model ones have no std::mutex/std::thread, which
# napi.h and the backends need. libgcc, libstdc++ and winpthread are linked statically so the
# .node imports nothing but node.exe, FLTLIB.DLL and Windows system DLLs
# (native/cmake/check-win32-imports.sh enforces that).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

set(FLTPORT_MINGW_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${FLTPORT_MINGW_PREFIX}-gcc-posix)
set(CMAKE_CXX_COMPILER ${FLTPORT_MINGW_PREFIX}-g++-posix)
set(CMAKE_RC_COMPILER ${FLTPORT_MINGW_PREFIX}-windres)
set(CMAKE_DLLTOOL ${FLTPORT_MINGW_PREFIX}-dlltool)

set(CMAKE_FIND_ROOT_PATH /usr/${FLTPORT_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
