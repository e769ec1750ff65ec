<#
.SYNOPSIS
    Unloads the sample minifilter (fltmc unload) and removes its package from the driver store.

.DESCRIPTION
    Safe to run whatever state the machine is in (CI runs it in an always() step): a filter
    that is not loaded is reported, not an error. A filter that IS loaded and does not unload
    is an error: unload runs the driver's FilterUnload, closes its ports and waits for its
    references, and a failure there is a driver bug.
    -RemoveCertificate also removes the test certificate (by subject) from LocalMachine\Root and
    LocalMachine\TrustedPublisher: worth doing on a VM, pointless on a throw-away runner.
    Volatile Driver Verifier settings need no removal: they end with the next boot.

    Written on Linux and linted there; NOT yet run on Windows.

.EXAMPLE
    .\.github\scripts\Remove-TestDriver.ps1 -RemoveCertificate
#>
[CmdletBinding()]
param(
    [switch] $KeepPackage,
    [switch] $RemoveCertificate,
    [string] $Subject = 'CN=fltport sample driver TEST certificate'
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'FltportDriver.psm1') -Force

$service = Get-FpsServiceName

# ---- Unload ------------------------------------------------------------------------------------
if (Test-FpsFilterLoaded) {
    Invoke-Native -FilePath 'fltmc.exe' -ArgumentList @('unload', $service)
    if (Test-FpsFilterLoaded) { throw "fltmc unload $service returned success but fltmc filters still lists it" }
    Write-Host "$service unloaded"
} else {
    Write-Host "$service is not loaded: nothing to unload"
}

# ---- Driver store --------------------------------------------------------------------------------
if (-not $KeepPackage) {
    # pnputil /enum-drivers prints blocks of "Name: value" lines; find the published oemNN.inf
    # whose original name is the sample's INF.
    $listing = Get-NativeOutput -FilePath 'pnputil.exe' -ArgumentList @('/enum-drivers')
    $published = @()
    $current = $null
    foreach ($line in ($listing -split "`r?`n")) {
        if ($line -match '^\s*Published Name\s*:\s*(\S+)') { $current = $Matches[1] }
        elseif ($line -match "^\s*Original Name\s*:\s*$([regex]::Escape($service)).inf\s*$" -and $current) { $published += $current }
    }
    if ($published.Count -eq 0) {
        Write-Host "no $service.inf in the driver store"
    }
    foreach ($oem in $published) {
        Invoke-Native -FilePath 'pnputil.exe' -ArgumentList @('/delete-driver', $oem, '/uninstall', '/force')
    }
}

# ---- Certificates ---------------------------------------------------------------------------------
if ($RemoveCertificate) {
    foreach ($store in 'Root', 'TrustedPublisher') {
        Get-ChildItem -Path "Cert:\LocalMachine\$store" |
            Where-Object { $_.Subject -eq $Subject } |
            ForEach-Object {
                Write-Host "removing $($_.Thumbprint) from LocalMachine\$store"
                Remove-Item -LiteralPath $_.PSPath
            }
    }
}
