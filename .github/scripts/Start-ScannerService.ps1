<#
.SYNOPSIS
    Runs the sample scanner service (samples/scanner-service) against the loaded sample driver
    for a short, bounded time.

.DESCRIPTION
    Expects samples/scanner-service/package.json with a "start" script that accepts
    --duration <seconds> and exits non-zero on any failure. The service is being written: until
    that package.json (and its start script) exists, this script SKIPS with the reason printed,
    as a warning annotation in CI and in the job summary. It never reports a skip as a pass.
    Written on Linux and linted there; NOT yet run on Windows.

.EXAMPLE
    .\.github\scripts\Start-ScannerService.ps1 -DurationSeconds 10
#>
[CmdletBinding()]
param(
    [int] $DurationSeconds = 10
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'FltportDriver.psm1') -Force

$repo = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path
$dir = Join-Path $repo 'samples\scanner-service'
$manifest = Join-Path $dir 'package.json'

function Exit-Skipped {
    param([Parameter(Mandatory)] [string] $Reason)
    $message = "SKIPPED, not passed: the scanner-service run did not happen because $Reason."
    Write-CiWarning $message 'scanner service skipped'
    if ($env:GITHUB_STEP_SUMMARY) {
        Add-Content -LiteralPath $env:GITHUB_STEP_SUMMARY -Value "### Scanner service: skipped`n`n$message`n"
    }
    exit 0
}

if (-not (Test-Path -LiteralPath $manifest)) {
    Exit-Skipped 'samples/scanner-service/package.json does not exist yet'
}
$scripts = (Get-Content -LiteralPath $manifest -Raw | ConvertFrom-Json).PSObject.Properties['scripts']
if (-not $scripts -or -not $scripts.Value.PSObject.Properties['start']) {
    Exit-Skipped 'samples/scanner-service/package.json has no "start" script yet'
}

if (Test-Path -LiteralPath (Join-Path $dir 'package-lock.json')) {
    Invoke-Native -FilePath 'npm.cmd' -ArgumentList @('ci', '--prefix', $dir, '--no-audit', '--no-fund')
}
Invoke-Native -FilePath 'npm.cmd' -ArgumentList @('start', '--prefix', $dir, '--', '--duration', "$DurationSeconds")
Write-Host "scanner service ran for $DurationSeconds s and exited 0"
