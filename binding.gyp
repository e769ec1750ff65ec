# fltport — what `npm install` builds (node-gyp, through node-gyp-build when no prebuild fits).
# CMakeLists.txt lists the same sources in lists of the same names (core_sources <->
# FLTPORT_CORE_SOURCES, ...); test/unit/build.sources.test.ts fails when they disagree or a
# listed file is missing. No globbing: add a file to the right list here AND in CMakeLists.txt.
# The platform is chosen here, by source list, not by #ifdef in the code.
{
  'variables': {
    # Platform-neutral C++ (no <napi.h>, no <windows.h>).
    'core_sources': [
      'native/core/MessageBatch.cc',
      'native/core/SessionState.cc',
      'native/core/StatusTable.cc',
    ],
    # The only code that includes <napi.h>.
    'napi_sources': [
      'native/napi/Addon.cc',
      'native/napi/EventPump.cc',
      'native/napi/FilterFunctions.cc',
      'native/napi/JsArgs.cc',
      'native/napi/JsBatch.cc',
      'native/napi/JsErrors.cc',
      'native/napi/MailslotWrap.cc',
      'native/napi/PortWrap.cc',
      'native/napi/PromiseWorker.cc',
      'native/napi/SessionControl.cc',
    ],
    # Linux/macOS backend: fltsim client.
    'posix_sources': [
      'native/napi/BackendNamePosix.cc',
      'native/posix/ControlClient.cc',
      'native/posix/FilterManagementPosix.cc',
      'native/posix/FltsimStream.cc',
      'native/posix/FrameBuilder.cc',
      'native/posix/FrameChannel.cc',
      'native/posix/FrameReader.cc',
      'native/posix/MailslotBackendPosix.cc',
      'native/posix/PortBackendPosix.cc',
      'native/posix/RuntimeDir.cc',
      'native/posix/TextCodec.cc',
      'native/posix/WaiterTable.cc',
      'native/posix/WakePipe.cc',
    ],
    # Windows backend: fltlib.dll + I/O completion port.
    'win_sources': [
      'native/napi/BackendNameWin.cc',
      'native/win/CompletionLoop.cc',
      'native/win/FilterInfoDecoder.cc',
      'native/win/FilterManagementWin.cc',
      'native/win/MailslotBackendWin.cc',
      'native/win/NtApi.cc',
      'native/win/PortBackendWin.cc',
    ],
    # fltsim-host, the simulated Filter Manager (non-Windows only).
    'fltsim_sources': [
      'native/core/StatusTable.cc',
      'native/fltsim/drivers/testdriver/TestDriver.cc',
      'native/fltsim/engine/ControlText.cc',
      'native/fltsim/engine/CurrentProcess.cc',
      'native/fltsim/engine/Deadline.cc',
      'native/fltsim/engine/HandleTable.cc',
      'native/fltsim/engine/KernelApi.cc',
      'native/fltsim/engine/KernelSupport.cc',
      'native/fltsim/engine/Log.cc',
      'native/fltsim/engine/MailslotEngine.cc',
      'native/fltsim/engine/ObjectName.cc',
      'native/fltsim/engine/PortEngine.cc',
      'native/fltsim/engine/SecurityPolicy.cc',
      'native/fltsim/engine/SimKernel.cc',
      'native/fltsim/engine/SimOptions.cc',
      'native/fltsim/host/ControlRegistry.cc',
      'native/fltsim/host/ControlSession.cc',
      'native/fltsim/host/EventHub.cc',
      'native/fltsim/host/FilterVerbs.cc',
      'native/fltsim/host/HostArgs.cc',
      'native/fltsim/host/HostVerbs.cc',
      'native/fltsim/host/HostedFilter.cc',
      'native/fltsim/host/MailslotSession.cc',
      'native/fltsim/host/PortSession.cc',
      'native/fltsim/host/Session.cc',
      'native/fltsim/host/WorkerPool.cc',
      'native/fltsim/host/main.cc',
      'native/fltsim/transport/FrameReader.cc',
      'native/fltsim/transport/UnixSocketTransport.cc',
      'native/fltsim/transport/WireCodec.cc',
    ],
  },
  'targets': [
    {
      'target_name': 'fltport',
      # node-addon-api's "except" flavour: NAPI_CPP_EXCEPTIONS, and it removes node's
      # -fno-exceptions (MSVC: /EHsc, Xcode: GCC_ENABLE_CPP_EXCEPTIONS).
      'dependencies': [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except",
      ],
      'sources': [
        '<@(core_sources)',
        '<@(napi_sources)',
      ],
      'include_dirs': [
        'native/core',
        'native/fltsim/include',
      ],
      'defines': [
        'NAPI_VERSION=8',
        'FLTPORT_VERSION="<!(node -p \"require(\'./package.json\').version\")"',
      ],
      'cflags': ['-fvisibility=hidden'],
      'cflags_cc': ['-fvisibility=hidden', '-fvisibility-inlines-hidden'],
      'conditions': [
        ['OS=="win"', {
          'sources': ['<@(win_sources)'],
          'defines': ['WIN32_LEAN_AND_MEAN', 'NOMINMAX', 'UNICODE', '_UNICODE'],
          'libraries': ['FltLib.lib'],
          'msvs_settings': {
            'VCCLCompilerTool': {'AdditionalOptions': ['/std:c++17', '/utf-8']},
          },
        }],
        ['OS!="win"', {
          'sources': ['<@(posix_sources)'],
          'libraries': ['-pthread'],
        }],
        ['OS=="mac"', {
          'xcode_settings': {
            'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
            'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
            'MACOSX_DEPLOYMENT_TARGET': '11.0',
          },
        }],
      ],
    },
  ],
  'conditions': [
    # The simulated Filter Manager's host program. Generated only once fltsim_sources lists
    # something (an executable with no sources cannot link), so listing the simulator's files
    # is all it takes to have `npm install` build it. Not on Windows: there the real Filter
    # Manager is used, and the Wine lane's Windows build of fltsim comes from CMake.
    ['OS!="win" and fltsim_sources!=[]', {
      'targets': [
        {
          'target_name': 'fltsim-host',
          'type': 'executable',
          'sources': ['<@(fltsim_sources)'],
          'include_dirs': [
            'native/core',
            'native/fltsim/include',
          ],
          # Same as the CMake build of the host: C++ exceptions and RTTI on (node's
          # common.gypi turns both off for addons).
          'cflags_cc!': ['-fno-exceptions', '-fno-rtti'],
          'cflags_cc': ['-std=gnu++17'],
          'ldflags': ['-pthread'],
          'libraries': ['-pthread'],
          'xcode_settings': {
            'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
            'GCC_ENABLE_CPP_RTTI': 'YES',
            'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
          },
        },
      ],
    }],
  ],
}
