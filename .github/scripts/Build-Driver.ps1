<#
.SYNOPSIS
    Builds the sample minifilter (samples/minifilter/fltport_sample.vcxproj) with msbuild, runs
    InfVerif on the stamped INF, and gathers the driver package for Sign-DriverPackage.ps1.

.DESCRIPTION
    The WDK comes from either
      - NuGet (CI, or any machine with Visual Studio and no WDK): this script restores
        samples/minifilter/packages.config into -PackagesDir, which
        samples/minifilter/Directory.Build.props imports; or
      - the EWDK (a VM): run X:\BuildEnv\SetupBuildEnv.cmd amd64 first, then this script with
        -NoRestore.
    msbuild stamps the INF and runs InfVerif itself; this script runs infverif.exe again, on the
    stamped INF, with -InfVerifOptions (default /w /v), so its verdict is in the log on its own.
    -CodeAnalysis adds -p:RunCodeAnalysis=true (the WDK's driver rule set).

    Output (under -OutputRoot, default build\driver\<Configuration>):
      bin\      msbuild's OutDir        obj\  IntDir (code analysis results too)
      package\  fltport_sample.sys + the stamped .inf (sign it with Sign-DriverPackage.ps1)
      symbols\  fltport_sample.pdb      logs\ msbuild.binlog, msbuild.log, infverif.log

    Written on Linux and linted there; NOT yet run on Windows.

.EXAMPLE
    .\.github\scripts\Build-Driver.ps1 -Configuration Debug -CodeAnalysis
#>
[CmdletBinding()]
param(
    # Release, or Debug (built with FPS_TEST_CONTROL: what the contract suite needs).
    [string] $Configuration = 'Debug',
    [string] $Platform = 'x64',
    [string] $OutputRoot,
    [string] $PackagesDir,
    [switch] $NoRestore,
    [switch] $CodeAnalysis,
    [string[]] $InfVerifOptions = @('/w', '/v')
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'FltportDriver.psm1') -Force

$repo = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path
$sample = Join-Path $repo 'samples\minifilter'
$project = Join-Path $sample 'fltport_sample.vcxproj'
$service = Get-FpsServiceName
if (-not $OutputRoot) { $OutputRoot = Join-Path $repo "build\driver\$Configuration" }
if (-not $PackagesDir) { $PackagesDir = Join-Path $sample 'packages' }
if (-not (Test-Path -LiteralPath $project)) {
    throw "$project does not exist: the driver project is not in this checkout"
}

$outDir = Join-Path $OutputRoot 'bin'
$intDir = Join-Path $OutputRoot 'obj'
$packageDir = Join-Path $OutputRoot 'package'
$symbolsDir = Join-Path $OutputRoot 'symbols'
$logDir = Join-Path $OutputRoot 'logs'
foreach ($dir in $outDir, $intDir, $packageDir, $symbolsDir) {
    if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force }
}
foreach ($dir in $outDir, $intDir, $packageDir, $symbolsDir, $logDir) {
    New-Item -ItemType Directory -Path $dir -Force | Out-Null
}

# ---- WDK and SDK from NuGet ------------------------------------------------------------------
if (-not $NoRestore) {
    $config = Join-Path $sample 'packages.config'
    if (-not (Test-Path -LiteralPath $config)) { throw "$config does not exist (or pass -NoRestore inside the EWDK)" }
    Invoke-Native -FilePath 'nuget' -ArgumentList @('restore', $config, '-PackagesDirectory', $PackagesDir, '-NonInteractive')

    # Directory.Build.props imports the packages under Exists() conditions, so a version that
    # differs from packages.config would be skipped in silence and msbuild would then look for
    # an installed WDK. Every x64 or platform-neutral import must therefore exist now.
    $props = Join-Path $sample 'Directory.Build.props'
    if (-not (Test-Path -LiteralPath $props)) { throw "$props does not exist: nothing imports the NuGet WDK" }
    $imports = @(([xml](Get-Content -LiteralPath $props -Raw)).SelectNodes('//*[local-name()="Import"]') |
        ForEach-Object { $_.GetAttribute('Project') } |
        Where-Object { $_ -and $_ -notmatch '(?i)arm64' })
    if ($imports.Count -eq 0) { throw "$props imports nothing" }
    foreach ($import in $imports) {
        $path = $import -replace '(?i)\$\(MSBuildThisFileDirectory\)', ($sample + '\')
        if (-not [System.IO.Path]::IsPathRooted($path)) { $path = Join-Path $sample $path }
        if (-not (Test-Path -LiteralPath $path)) {
            throw "Directory.Build.props imports $import, which the restore did not produce: packages.config and Directory.Build.props name different versions, or -PackagesDir ($PackagesDir) is not where the props file looks"
        }
        Write-Host "import ok: $import"
    }
}

# ---- msbuild ------------------------------------------------------------------------------------
# Trailing '/' (not '\'): a backslash before the closing quote of a quoted argument would escape it.
$msbuildArgs = @(
    $project, '-nologo', '-m', '-t:Rebuild',
    "-p:Configuration=$Configuration", "-p:Platform=$Platform",
    "-p:OutDir=$outDir/", "-p:IntDir=$intDir/",
    '-warnaserror',
    "-bl:$(Join-Path $logDir 'msbuild.binlog')",
    "-flp:Verbosity=normal;LogFile=$(Join-Path $logDir 'msbuild.log')"
)
if ($CodeAnalysis) { $msbuildArgs += '-p:RunCodeAnalysis=true' }
Invoke-Native -FilePath 'msbuild' -ArgumentList $msbuildArgs
if ($CodeAnalysis) {
    # Code analysis results land in IntDir; keep them with the logs.
    Get-ChildItem -LiteralPath $intDir -Recurse -File -Include '*.sarif', '*.nativecodeanalysis.xml' |
        Copy-Item -Destination $logDir
}

# ---- The package: the .sys and the stamped INF (not the source INF) ---------------------------
$sys = Join-Path $outDir "$service.sys"
if (-not (Test-Path -LiteralPath $sys)) { throw "msbuild succeeded but produced no $sys" }
$stamped = @(Get-ChildItem -LiteralPath $outDir -Recurse -File -Filter "$service.inf" |
    Sort-Object -Property @{ Expression = { $_.FullName.Length } })
if ($stamped.Count -eq 0) {
    throw "no stamped $service.inf under $outDir: the .vcxproj needs an <Inf> item so that msbuild stamps and verifies it"
}
$inf = $stamped[0].FullName
if ((Get-Content -LiteralPath $inf -Raw) -notmatch '(?im)^\s*DriverVer\s*=\s*\d') {
    throw "$inf has no DriverVer date: it does not look stamped"
}
Copy-Item -LiteralPath $sys, $inf -Destination $packageDir
Get-ChildItem -LiteralPath $outDir -File -Filter "$service.pdb" | Copy-Item -Destination $symbolsDir

# ---- InfVerif, explicitly ------------------------------------------------------------------------
$infverif = Find-KitTool -Name 'infverif.exe' -PackagesDir $PackagesDir
$packagedInf = Join-Path $packageDir "$service.inf"
$infverifLog = Join-Path $logDir 'infverif.log'
$ErrorActionPreference = 'Continue'
& $infverif @InfVerifOptions $packagedInf 2>&1 | ForEach-Object { "$_" } | Tee-Object -FilePath $infverifLog | Out-Host
$infverifExit = $LASTEXITCODE
$ErrorActionPreference = 'Stop'
if ($infverifExit -ne 0) { throw "infverif $($InfVerifOptions -join ' ') $packagedInf failed with $infverifExit (see $infverifLog)" }

Write-Host "driver package (unsigned): $packageDir"
Get-ChildItem -LiteralPath $packageDir | ForEach-Object { Write-Host "  $($_.Name)  $((Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash)" }
