<#
.SYNOPSIS
    Installs, loads and attaches the test-signed sample minifilter: checks test signing, trusts
    the test certificate, pnputil /add-driver /install, fltmc load, fltmc attach.

.DESCRIPTION
    Run elevated, on a hosted runner or a test VM with test signing on (bcdedit /set testsigning
    on, then a reboot). Fails loudly at the first step that does not do what it should.
    - The certificate goes into LocalMachine\Root and LocalMachine\TrustedPublisher: Root makes
      the signature chain, TrustedPublisher lets pnputil install without a prompt.
    - The INF may attach instances itself (Flags 0x0) or not (Flags 0x1); either way every volume
      in -Volume ends with an instance: the script attaches where fltmc shows none.
    - -Verifier turns Driver Verifier on for fltport_sample.sys WITHOUT a reboot (volatile
      settings: /dif ... /now on Windows 11 / Server 2025 kernels, else /volatile /adddriver), before
      the load. Best effort: when verifier refuses, the script says so and goes on unverified.
      A bugcheck under Verifier ends the machine (on a hosted runner: the job, with no dump).

    Written on Linux and linted there; NOT yet run on Windows.

.EXAMPLE
    .\.github\scripts\Install-TestDriver.ps1 -PackageDir build\driver\Debug\package -Volume C: -Verifier
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $PackageDir,
    [string] $CertificatePath,
    [string[]] $Volume = @($env:SystemDrive),
    [switch] $Verifier,
    [int[]] $VerifierRuleClasses = @(1, 2, 4, 5, 9, 12, 18)
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'FltportDriver.psm1') -Force

$service = Get-FpsServiceName
$package = Get-FpsDriverPackage -PackageDir $PackageDir
if ($package.Cat.Count -ne 1) { throw "$($package.Dir) has no signed catalog: run Sign-DriverPackage.ps1 first" }
if (-not $CertificatePath) {
    $cers = @(Get-ChildItem -LiteralPath (Split-Path -Parent $package.Dir) -File -Filter '*.cer')
    if ($cers.Count -ne 1) { throw "pass -CertificatePath: found $($cers.Count) .cer files next to $($package.Dir)" }
    $CertificatePath = $cers[0].FullName
}

# ---- 1. Test signing must be on -----------------------------------------------------------------
Assert-TestSigning

# ---- 2. Trust the test certificate --------------------------------------------------------------
foreach ($store in 'Root', 'TrustedPublisher') {
    $imported = Import-Certificate -FilePath $CertificatePath -CertStoreLocation "Cert:\LocalMachine\$store"
    Write-Host "trusted in LocalMachine\${store}: $($imported.Subject) $($imported.Thumbprint)"
}

# ---- 3. Install the package -------------------------------------------------------------------------
# 3010: installed, a reboot is wanted (not expected for a primitive filter INF);
# 259: the same package is already in the driver store.
Invoke-Native -FilePath 'pnputil.exe' -ArgumentList @('/add-driver', $package.Inf, '/install') -AllowedExitCodes @(0, 259, 3010)
if ($LASTEXITCODE -eq 3010) { Write-CiWarning "pnputil asks for a reboot after installing $($package.Inf); continuing without one" }
$serviceKey = "HKLM:\SYSTEM\CurrentControlSet\Services\$service"
if (-not (Test-Path -LiteralPath $serviceKey)) {
    throw "pnputil returned success but $serviceKey does not exist: the INF's DefaultInstall section did not run (see $env:windir\INF\setupapi.dev.log)"
}
Get-ItemProperty -LiteralPath $serviceKey | Format-List -Property 'ImagePath', 'Start', 'Type', 'Group', 'DependOnService' | Out-Host

# ---- 4. Driver Verifier (volatile: no reboot) ---------------------------------------------------------
if ($Verifier) {
    $build = [Environment]::OSVersion.Version.Build
    $attempts = @()
    if ($build -ge 22000) {
        $attempts += , (@('/dif') + ($VerifierRuleClasses | ForEach-Object { "$_" }) + @('/now', '/driver', "$service.sys"))
    }
    $attempts += , @('/volatile', '/adddriver', "$service.sys")
    $enabled = $false
    foreach ($attempt in $attempts) {
        $text = Get-NativeOutput -FilePath 'verifier.exe' -ArgumentList $attempt -AllowFailure
        Write-Host "> verifier $($attempt -join ' ') -> exit $LASTEXITCODE`n$text"
        if ($LASTEXITCODE -eq 0) { $enabled = $true; break }
    }
    if (-not $enabled) {
        Write-CiWarning "Driver Verifier refused every volatile setting tried for $service.sys: the driver runs UNVERIFIED" 'Driver Verifier'
    }
}

# ---- 5. Load --------------------------------------------------------------------------------------------
$text = Get-NativeOutput -FilePath 'fltmc.exe' -ArgumentList @('load', $service) -AllowFailure
Write-Host "> fltmc load $service -> exit $LASTEXITCODE`n$text"
if ($LASTEXITCODE -ne 0) {
    $hints = @{
        '0x80070241' = 'Windows cannot verify the signature: test signing off, the .sys unsigned, or the certificate not trusted'
        '0x80070002' = 'the service or its image file does not exist: did the INF install?'
        '0x80070005' = 'access denied: run elevated'
    }
    $hint = ($hints.Keys | Where-Object { $text -match $_ } | ForEach-Object { $hints[$_] }) -join '; '
    throw "fltmc load $service failed with $LASTEXITCODE. $hint`n(the Microsoft-Windows-CodeIntegrity/Operational log says why a signature was refused)"
}
if (-not (Test-FpsFilterLoaded)) { throw "fltmc load reported success but fltmc filters does not list $service" }

# ---- 6. Attach --------------------------------------------------------------------------------------------
foreach ($v in $Volume) {
    $letter = $v.TrimEnd('\')
    $instances = Get-NativeOutput -FilePath 'fltmc.exe' -ArgumentList @('instances', '-f', $service) -AllowFailure
    if ($instances -match "(?im)^\s*$([regex]::Escape($letter))\s") {
        Write-Host "$service already has an instance on $letter"
        continue
    }
    Invoke-Native -FilePath 'fltmc.exe' -ArgumentList @('attach', $service, $letter)
}
$instances = Get-NativeOutput -FilePath 'fltmc.exe' -ArgumentList @('instances', '-f', $service)
Write-Host $instances
foreach ($v in $Volume) {
    $letter = $v.TrimEnd('\')
    if ($instances -notmatch "(?im)^\s*$([regex]::Escape($letter))\s") { throw "$service has no instance on $letter after fltmc attach" }
}
Write-Host (Get-NativeOutput -FilePath 'fltmc.exe' -ArgumentList @('filters'))

if ($Verifier) {
    $query = Get-NativeOutput -FilePath 'verifier.exe' -ArgumentList @('/query') -AllowFailure
    Write-Host "> verifier /query`n$query"
    if ($query -notmatch [regex]::Escape("$service.sys")) {
        Write-CiWarning "verifier /query does not list $service.sys: it is loaded but not verified" 'Driver Verifier'
    }
}
Write-Host "$service is installed, loaded and attached to $($Volume -join ', ')"
