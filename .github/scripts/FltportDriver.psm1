# Helpers for the sample-minifilter scripts beside this file (CI on hosted Windows runners, or by
# hand on a test VM, elevated). PowerShell 7 or Windows PowerShell 5.1.
# Written and linted on Linux; NOT yet run on Windows.
Set-StrictMode -Version 3.0

# The service (and filter) name the sample's INF installs; fltmc takes it, verifier takes the .sys.
$script:FpsService = 'fltport_sample'

function Get-FpsServiceName {
    return $script:FpsService
}

function Write-CiWarning {
    # A warning in the console, and an annotation on the run when inside GitHub Actions.
    param([Parameter(Mandatory)] [string] $Message, [string] $Title = 'fltport')
    Write-Warning $Message
    if ($env:GITHUB_ACTIONS -eq 'true') {
        Write-Host "::warning title=$Title::$($Message -replace "`r?`n", '%0A')"
    }
}

function Invoke-Native {
    # Runs a program, echoing its command line and output; throws when the exit code is not
    # one of AllowedExitCodes. $LASTEXITCODE keeps the code for the caller.
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @(),
        [int[]] $AllowedExitCodes = @(0)
    )
    # Windows PowerShell 5.1 turns redirected stderr into errors that 'Stop' would throw on.
    $ErrorActionPreference = 'Continue'
    Write-Host "> $FilePath $($ArgumentList -join ' ')"
    & $FilePath @ArgumentList 2>&1 | ForEach-Object { "$_" } | Out-Host
    if ($AllowedExitCodes -notcontains $LASTEXITCODE) {
        throw "$FilePath $($ArgumentList -join ' ') exited with $LASTEXITCODE"
    }
}

function Get-NativeOutput {
    # Runs a program and returns its output (stdout and stderr) as one string; throws on a
    # non-zero exit unless -AllowFailure.
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @(),
        [switch] $AllowFailure
    )
    $ErrorActionPreference = 'Continue'
    $text = (& $FilePath @ArgumentList 2>&1 | ForEach-Object { "$_" }) -join [Environment]::NewLine
    if (-not $AllowFailure -and $LASTEXITCODE -ne 0) {
        throw "$FilePath $($ArgumentList -join ' ') exited with ${LASTEXITCODE}:`n$text"
    }
    return $text
}

function Find-KitTool {
    # The newest copy of a WDK/SDK tool (infverif.exe, inf2cat.exe, signtool.exe): first under
    # the restored NuGet packages, then the EWDK's or an installed kit, then PATH. Prefers the
    # x64 build; Inf2Cat ships as x86 only.
    param(
        [Parameter(Mandatory)] [string] $Name,
        [string] $PackagesDir
    )
    $roots = @()
    if ($PackagesDir -and (Test-Path -LiteralPath $PackagesDir)) { $roots += $PackagesDir }
    foreach ($variable in 'WDKContentRoot', 'WindowsSdkDir') {
        $dir = [Environment]::GetEnvironmentVariable($variable)
        if ($dir -and (Test-Path -LiteralPath $dir)) { $roots += $dir }
    }
    $installed = Join-Path ${env:ProgramFiles(x86)} 'Windows Kits\10'
    if (Test-Path -LiteralPath $installed) { $roots += $installed }

    foreach ($root in $roots) {
        $hits = @(Get-ChildItem -LiteralPath $root -Recurse -Depth 7 -File -Filter $Name -ErrorAction SilentlyContinue |
            Where-Object { $_.Directory.Name -in @('x64', 'x86') } |
            Sort-Object -Property @{ Expression = { $_.Directory.Name -eq 'x64' }; Descending = $true },
                                  @{ Expression = { $_.FullName }; Descending = $true })
        if ($hits.Count -gt 0) {
            return $hits[0].FullName
        }
    }
    $command = Get-Command $Name -ErrorAction SilentlyContinue
    if ($command) {
        return $command.Source
    }
    throw "$Name not found under $($roots -join '; ') nor on PATH (restore the WDK NuGet packages, or run the EWDK's SetupBuildEnv.cmd first)"
}

function Assert-TestSigning {
    # A test-signed driver loads only with test signing on. Hosted runners are built with it on;
    # a VM needs `bcdedit /set testsigning on` and a reboot. Throws, loudly, when it is off.
    $text = Get-NativeOutput -FilePath 'bcdedit.exe' -ArgumentList @('/enum', '{current}') -AllowFailure
    if ($LASTEXITCODE -ne 0) {
        throw "bcdedit /enum {current} failed with $LASTEXITCODE (it needs an elevated shell):`n$text"
    }
    Write-Host $text
    if ($text -notmatch '(?im)^\s*testsigning\s+Yes\s*$') {
        throw "Test signing is OFF on this machine (bcdedit /enum {current} shows no 'testsigning Yes'). A test-signed driver cannot load: on a VM run 'bcdedit /set testsigning on' and reboot; on a hosted runner the image has changed."
    }
    Write-Host 'test signing: on'
}

function Get-FpsDriverPackage {
    # The INF, SYS and CAT of a package folder. Throws unless exactly one INF and one SYS exist.
    param([Parameter(Mandatory)] [string] $PackageDir)
    if (-not (Test-Path -LiteralPath $PackageDir -PathType Container)) {
        throw "driver package folder $PackageDir does not exist"
    }
    $infs = @(Get-ChildItem -LiteralPath $PackageDir -File -Filter '*.inf')
    $syss = @(Get-ChildItem -LiteralPath $PackageDir -File -Filter '*.sys')
    if ($infs.Count -ne 1 -or $syss.Count -ne 1) {
        throw "expected one .inf and one .sys in $PackageDir, found $($infs.Count) and $($syss.Count)"
    }
    return [pscustomobject]@{
        Dir = (Resolve-Path -LiteralPath $PackageDir).Path
        Inf = $infs[0].FullName
        Sys = $syss[0].FullName
        Cat = @(Get-ChildItem -LiteralPath $PackageDir -File -Filter '*.cat' | ForEach-Object { $_.FullName })
    }
}

function Test-FpsFilterLoaded {
    # True when `fltmc filters` lists the sample.
    $text = Get-NativeOutput -FilePath 'fltmc.exe' -ArgumentList @('filters') -AllowFailure
    return ($text -match "(?im)^\s*$([regex]::Escape($script:FpsService))\s")
}

Export-ModuleMember -Function @(
    'Get-FpsServiceName', 'Write-CiWarning', 'Invoke-Native', 'Get-NativeOutput',
    'Find-KitTool', 'Assert-TestSigning', 'Get-FpsDriverPackage', 'Test-FpsFilterLoaded'
)
