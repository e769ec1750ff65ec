<#
.SYNOPSIS
    Collects what explains a driver install, load or test run into one folder: fltmc state,
    Driver Verifier state, the System event log and the CodeIntegrity log around the sample,
    setupapi.dev.log, the driver store entry and the service's registry key.

.DESCRIPTION
    Never fails on a missing source (each item is collected on its own, and a failure to collect
    is written into the folder instead), so it can run in an always() step after anything.
    Written on Linux and linted there; NOT yet run on Windows.

.EXAMPLE
    .\.github\scripts\Save-DriverLogs.ps1 -OutDir build\driver-logs
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $OutDir,
    # How far back to read the event logs.
    [int] $Hours = 3
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'FltportDriver.psm1') -Force

$service = Get-FpsServiceName
New-Item -ItemType Directory -Path $OutDir -Force | Out-Null
$since = (Get-Date).AddHours(-$Hours)

function Save-Item {
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [scriptblock] $Collect)
    $path = Join-Path $OutDir $Name
    try {
        $text = (& $Collect | Out-String -Width 300)
        Set-Content -LiteralPath $path -Value $text -Encoding utf8
        Write-Host "saved $Name"
    } catch {
        Set-Content -LiteralPath $path -Value "could not collect ${Name}: $_" -Encoding utf8
        Write-Warning "could not collect ${Name}: $_"
    }
}

Save-Item 'fltmc.txt' {
    foreach ($command in 'filters', 'instances', 'volumes') {
        "> fltmc $command"
        Get-NativeOutput -FilePath 'fltmc.exe' -ArgumentList @($command) -AllowFailure
        ''
    }
}
Save-Item 'verifier.txt' {
    foreach ($option in '/query', '/querysettings') {
        "> verifier $option"
        Get-NativeOutput -FilePath 'verifier.exe' -ArgumentList @($option) -AllowFailure
        ''
    }
}
Save-Item 'bcdedit.txt' { Get-NativeOutput -FilePath 'bcdedit.exe' -ArgumentList @('/enum', '{current}') -AllowFailure }
Save-Item 'service.txt' {
    Get-NativeOutput -FilePath 'sc.exe' -ArgumentList @('query', $service) -AllowFailure
    Get-NativeOutput -FilePath 'reg.exe' -ArgumentList @('query', "HKLM\SYSTEM\CurrentControlSet\Services\$service", '/s') -AllowFailure
}
Save-Item 'driver-store.txt' { Get-NativeOutput -FilePath 'pnputil.exe' -ArgumentList @('/enum-drivers') -AllowFailure }

# The System log: what the Filter Manager, the Service Control Manager and PnP said about the
# sample (event 6 of FilterManager is "filter loaded and registered"), and everything else in the
# window as .evtx for a closer look.
Save-Item 'system-events.txt' {
    Get-WinEvent -FilterHashtable @{ LogName = 'System'; StartTime = $since } -ErrorAction SilentlyContinue |
        Where-Object { $_.ProviderName -match 'FilterManager' -or $_.Message -match $service } |
        Sort-Object -Property TimeCreated |
        Format-List -Property 'TimeCreated', 'ProviderName', 'Id', 'LevelDisplayName', 'Message'
}
Save-Item 'codeintegrity-events.txt' {
    # Why a signature was refused, when it was.
    Get-WinEvent -FilterHashtable @{ LogName = 'Microsoft-Windows-CodeIntegrity/Operational'; StartTime = $since } -ErrorAction SilentlyContinue |
        Sort-Object -Property TimeCreated |
        Format-List -Property 'TimeCreated', 'Id', 'LevelDisplayName', 'Message'
}
Save-Item 'system-evtx.txt' {
    $evtx = Join-Path $OutDir 'System.evtx'
    $ms = [int64]$Hours * 3600 * 1000
    Get-NativeOutput -FilePath 'wevtutil.exe' -ArgumentList @('epl', 'System', $evtx, "/q:*[System[TimeCreated[timediff(@SystemTime) <= $ms]]]", '/ow:true') -AllowFailure
    "exported to $evtx"
}
Save-Item 'setupapi.txt' {
    $log = Join-Path $env:windir 'INF\setupapi.dev.log'
    Copy-Item -LiteralPath $log -Destination (Join-Path $OutDir 'setupapi.dev.log')
    "copied $log"
}
Write-Host "logs in $OutDir"
