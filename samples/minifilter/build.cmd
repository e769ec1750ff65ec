@echo off
rem ---------------------------------------------------------------------------------------
rem  build.cmd - builds the fltport sample minifilter with the Enterprise WDK (EWDK).
rem
rem    build.cmd [Debug^|Release] [x64^|ARM64]
rem
rem  Mount the EWDK ISO first and point EWDK_ROOT at it (default: the drive letter E:).
rem  Debug defines FPS_TEST_CONTROL (the test-control commands); Release does not.
rem  Output goes under build\<platform>\<configuration>\: the .sys, and the driver package
rem  (stamped .inf, test-signed .sys and .cat) with the test certificate (.cer) msbuild made.
rem
rem  The same project builds with the NuGet WDK instead: restore packages.config into
rem  .\packages and run msbuild from a Visual Studio developer prompt (see README.md).
rem ---------------------------------------------------------------------------------------
setlocal

set CONFIGURATION=%~1
if "%CONFIGURATION%"=="" set CONFIGURATION=Debug
set PLATFORM=%~2
if "%PLATFORM%"=="" set PLATFORM=x64
if "%EWDK_ROOT%"=="" set EWDK_ROOT=E:

if /i not "%CONFIGURATION%"=="Debug" if /i not "%CONFIGURATION%"=="Release" (
    echo build.cmd: configuration must be Debug or Release, not "%CONFIGURATION%"
    exit /b 2
)
if /i not "%PLATFORM%"=="x64" if /i not "%PLATFORM%"=="ARM64" (
    echo build.cmd: platform must be x64 or ARM64, not "%PLATFORM%"
    exit /b 2
)

if not exist "%EWDK_ROOT%\BuildEnv\SetupBuildEnv.cmd" (
    echo build.cmd: no EWDK at "%EWDK_ROOT%" - mount the EWDK ISO and set EWDK_ROOT to its drive
    exit /b 1
)

rem SetupBuildEnv.cmd takes the HOST architecture; the target is msbuild's Platform.
call "%EWDK_ROOT%\BuildEnv\SetupBuildEnv.cmd" amd64
if errorlevel 1 (
    echo build.cmd: SetupBuildEnv.cmd failed
    exit /b 1
)

msbuild "%~dp0fltport_sample.vcxproj" /nologo /m /v:minimal ^
    /p:Configuration=%CONFIGURATION% /p:Platform=%PLATFORM%
if errorlevel 1 (
    echo build.cmd: build failed
    exit /b 1
)

echo build.cmd: built %CONFIGURATION%^|%PLATFORM% in "%~dp0build\%PLATFORM%\%CONFIGURATION%"
endlocal
