# fltport_add_native_test(<name> SOURCES <files...> [LIBS <targets...>])
#
# One executable per test area (native/test/<area>_<topic>.cc, built on native/test/TestHarness.h).
# ctest registers one test per case, named <name>.<case>: each executable is asked for its
# cases with `--list` when ctest starts (native/cmake/DiscoverCases.cmake), so adding a case
# needs no CMake edit, a crash fails only the case that crashed, and ctest's counts are cases.
#
# Sources are listed explicitly by callers (no globbing): a test that is not listed is not
# built, and test/unit/build.sources.test.ts fails when a native/test/*.cc is not listed.

set(FLTPORT_DISCOVER_CASES_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/DiscoverCases.cmake")
get_filename_component(FLTPORT_TEST_HARNESS_DIR "${CMAKE_CURRENT_LIST_DIR}/../test" ABSOLUTE)

function(fltport_add_native_test name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "SOURCES;LIBS")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "fltport_add_native_test(${name}): SOURCES is required")
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE "${FLTPORT_TEST_HARNESS_DIR}")
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  if(COMMAND fltport_target_warnings)
    fltport_target_warnings(${name})
  endif()

  set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_cases.cmake")
  file(GENERATE OUTPUT "${include_file}" CONTENT
"set(FLTPORT_TEST_EXE [==[$<TARGET_FILE:${name}>]==])
set(FLTPORT_TEST_NAME [==[${name}]==])
set(FLTPORT_TEST_WORKDIR [==[${PROJECT_SOURCE_DIR}]==])
set(FLTPORT_TEST_SANITIZE [==[${FLTPORT_SANITIZE}]==])
include([==[${FLTPORT_DISCOVER_CASES_SCRIPT}]==])
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
endfunction()

# fltport_add_fuzz_target(<name> SOURCES <files...> [LIBS <targets...>])
#
# A libFuzzer executable fuzz_<name> from test/fuzz/<name>.cc (FLTPORT_FUZZ=ON, clang), and a
# dependency of the `fltport_fuzz` target that builds them all. Seeds live in
# test/fuzz/corpus/<name>/; native/cmake/run-fuzz.sh runs each target for a bounded time.
function(fltport_add_fuzz_target name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "SOURCES;LIBS")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "fltport_add_fuzz_target(${name}): SOURCES is required")
  endif()
  add_executable(fuzz_${name} ${ARG_SOURCES})
  target_include_directories(fuzz_${name} PRIVATE "${FLTPORT_TEST_HARNESS_DIR}")
  target_link_libraries(fuzz_${name} PRIVATE ${ARG_LIBS})
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  if(COMMAND fltport_target_warnings)
    fltport_target_warnings(fuzz_${name})
  endif()
  if(NOT TARGET fltport_fuzz)
    add_custom_target(fltport_fuzz)
  endif()
  add_dependencies(fltport_fuzz fuzz_${name})
endfunction()
