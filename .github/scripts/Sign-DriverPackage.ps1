<#
.SYNOPSIS
    Test-signs a driver package folder: a self-signed code-signing certificate, signtool on the
    .sys, inf2cat for the catalog, signtool on the .cat; exports the certificate as a .cer.

.DESCRIPTION
    For test machines only: the certificate is self-signed, so the package installs only where
    test signing is on and the .cer is trusted (Install-TestDriver.ps1 does both checks and the
    trust). Reuses a valid certificate with the same subject from Cert:\CurrentUser\My, so
    signing twice on one VM does not pile up certificates.

    The .cer goes next to the package folder (not into it: inf2cat would not expect it there).
    Written on Linux and linted there; NOT yet run on Windows.

.EXAMPLE
    .\.github\scripts\Sign-DriverPackage.ps1 -PackageDir build\driver\Debug\package
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $PackageDir,
    [string] $CertificatePath,
    [string] $Subject = 'CN=fltport sample driver TEST certificate',
    [int] $ValidDays = 90,
    # inf2cat /os: list. 10_X64 covers Windows 10/11 and Server 2016+ x64 for a test signature.
    [string] $CatalogOs = '10_X64',
    [string] $PackagesDir
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'FltportDriver.psm1') -Force

$repo = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path
if (-not $PackagesDir) { $PackagesDir = Join-Path $repo 'samples\minifilter\packages' }
$package = Get-FpsDriverPackage -PackageDir $PackageDir
if (-not $CertificatePath) { $CertificatePath = Join-Path (Split-Path -Parent $package.Dir) 'fltport_sample-test.cer' }

$signtool = Find-KitTool -Name 'signtool.exe' -PackagesDir $PackagesDir
$inf2cat = Find-KitTool -Name 'inf2cat.exe' -PackagesDir $PackagesDir

# ---- The certificate ----------------------------------------------------------------------------
$cert = Get-ChildItem -Path Cert:\CurrentUser\My -CodeSigningCert |
    Where-Object { $_.Subject -eq $Subject -and $_.NotAfter -gt (Get-Date).AddDays(1) -and $_.HasPrivateKey } |
    Sort-Object -Property NotAfter -Descending |
    Select-Object -First 1
if ($cert) {
    Write-Host "reusing certificate $($cert.Thumbprint) ($Subject, valid until $($cert.NotAfter))"
} else {
    $cert = New-SelfSignedCertificate -Type CodeSigningCert -Subject $Subject `
        -CertStoreLocation Cert:\CurrentUser\My -KeyAlgorithm RSA -KeyLength 3072 `
        -HashAlgorithm SHA256 -NotAfter (Get-Date).AddDays($ValidDays)
    Write-Host "created certificate $($cert.Thumbprint) ($Subject, valid until $($cert.NotAfter))"
}
Export-Certificate -Cert $cert -FilePath $CertificatePath -Type CERT | Out-Null
Write-Host "certificate exported to $CertificatePath"

$signArgs = @('sign', '/v', '/fd', 'sha256', '/s', 'My', '/sha1', $cert.Thumbprint)

# ---- Sign the driver, then catalog the package, then sign the catalog -------------------------
Invoke-Native -FilePath $signtool -ArgumentList ($signArgs + $package.Sys)

foreach ($old in $package.Cat) { Remove-Item -LiteralPath $old -Force }
Invoke-Native -FilePath $inf2cat -ArgumentList @("/driver:$($package.Dir)", "/os:$CatalogOs", '/verbose')
$catalogs = @(Get-ChildItem -LiteralPath $package.Dir -File -Filter '*.cat')
if ($catalogs.Count -ne 1) { throw "inf2cat left $($catalogs.Count) catalogs in $($package.Dir); expected the one the INF's CatalogFile names" }
Invoke-Native -FilePath $signtool -ArgumentList ($signArgs + $catalogs[0].FullName)

Write-Host "signed package: $($package.Dir)"
Get-ChildItem -LiteralPath $package.Dir | ForEach-Object { Write-Host "  $($_.Name)  $((Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash)" }
Write-Host "certificate: $CertificatePath (thumbprint $($cert.Thumbprint))"
