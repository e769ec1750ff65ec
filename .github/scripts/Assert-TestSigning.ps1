<#
.SYNOPSIS
    Fails, loudly, unless `bcdedit /enum {current}` shows "testsigning Yes".

.DESCRIPTION
    The first step of any job that loads the test-signed sample driver: hosted Windows runners
    are built with test signing on, and this proves it on the machine at hand rather than
    trusting that. On a VM: bcdedit /set testsigning on, then reboot. Needs an elevated shell.
    Written on Linux and linted there; NOT yet run on Windows.

.EXAMPLE
    .\.github\scripts\Assert-TestSigning.ps1
#>
[CmdletBinding()]
param()
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'FltportDriver.psm1') -Force

Assert-TestSigning
