# Runs inside ctest (included from a generated <name>_cases.cmake, see FltportTests.cmake):
# asks one test executable for its cases and registers each as a ctest test.
#
# Failures to discover are themselves registered as failing tests, so that a test executable
# that was not built, or that crashes while listing, can never make a run look green.
#
# Inputs: FLTPORT_TEST_EXE, FLTPORT_TEST_NAME, FLTPORT_TEST_WORKDIR, FLTPORT_TEST_SANITIZE.

set(_fltport_env "")
if(FLTPORT_TEST_SANITIZE STREQUAL "address")
  # detect_leaks stays on: LeakSanitizer is part of the point of an ASan run.
  set(_fltport_env "ASAN_OPTIONS=abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1")
elseif(FLTPORT_TEST_SANITIZE STREQUAL "undefined")
  set(_fltport_env "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
endif()

if(NOT EXISTS "${FLTPORT_TEST_EXE}")
  # ctest reports a missing executable as "Not Run", which it counts as a failure.
  add_test("${FLTPORT_TEST_NAME}.NOT_BUILT" "${FLTPORT_TEST_EXE}" --list)
else()
  execute_process(
    COMMAND "${FLTPORT_TEST_EXE}" --list
    WORKING_DIRECTORY "${FLTPORT_TEST_WORKDIR}"
    OUTPUT_VARIABLE _fltport_cases
    ERROR_VARIABLE _fltport_err
    RESULT_VARIABLE _fltport_rc
    TIMEOUT 60)
  if(NOT _fltport_rc EQUAL 0)
    message(WARNING "${FLTPORT_TEST_EXE} --list failed (${_fltport_rc}): ${_fltport_err}")
    add_test("${FLTPORT_TEST_NAME}.LIST_FAILED" "${CMAKE_COMMAND}" -E false)
  else()
    string(REPLACE "\r" "" _fltport_cases "${_fltport_cases}")
    string(REPLACE "\n" ";" _fltport_cases "${_fltport_cases}")
    set(_fltport_count 0)
    foreach(_fltport_case IN LISTS _fltport_cases)
      if(_fltport_case STREQUAL "")
        continue()
      endif()
      if(NOT _fltport_case MATCHES "^[A-Za-z0-9_.:-]+$")
        # Names end up in ctest -R regexes and file names: keep them plain.
        add_test("${FLTPORT_TEST_NAME}.BAD_CASE_NAME" "${CMAKE_COMMAND}" -E echo "bad case name: ${_fltport_case}")
        set_tests_properties("${FLTPORT_TEST_NAME}.BAD_CASE_NAME" PROPERTIES WILL_FAIL TRUE)
        continue()
      endif()
      set(_fltport_test "${FLTPORT_TEST_NAME}.${_fltport_case}")
      add_test("${_fltport_test}" "${FLTPORT_TEST_EXE}" --run "${_fltport_case}")
      set_tests_properties("${_fltport_test}" PROPERTIES
        WORKING_DIRECTORY "${FLTPORT_TEST_WORKDIR}"
        TIMEOUT 120
        LABELS "${FLTPORT_TEST_NAME}")
      if(_fltport_env)
        set_tests_properties("${_fltport_test}" PROPERTIES ENVIRONMENT "${_fltport_env}")
      endif()
      math(EXPR _fltport_count "${_fltport_count} + 1")
    endforeach()
    if(_fltport_count EQUAL 0)
      # An executable with no cases is a test that asserts nothing.
      add_test("${FLTPORT_TEST_NAME}.NO_CASES" "${CMAKE_COMMAND}" -E false)
    endif()
  endif()
endif()
