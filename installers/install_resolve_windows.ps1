# Install Montage AI into its own virtual environment and add it to DaVinci Resolve's
# Workspace > Scripts menu (Windows).
#
#   powershell -ExecutionPolicy Bypass -File installers\install_resolve_windows.ps1
#   ... -File installers\install_resolve_windows.ps1 --all-users   (as administrator)
#   ... -File installers\install_resolve_windows.ps1 --uninstall   (the environment stays)
#
# MONTAGE_AI_VENV   where the environment goes (default %LOCALAPPDATA%\montage-ai\venv;
#                   %ProgramData%\montage-ai\venv with --all-users)
# MONTAGE_AI_SOURCE what pip installs (default: this checkout when run from one, else montage-ai)
# PYTHON            the Python 3.10+ (default: the newest 64-bit one the py launcher knows)
$ErrorActionPreference = "Stop"

$venv = if ($env:MONTAGE_AI_VENV) { $env:MONTAGE_AI_VENV }
        elseif ($args -contains "--all-users") { Join-Path $env:ProgramData "montage-ai\venv" }
        else { Join-Path $env:LOCALAPPDATA "montage-ai\venv" }
$cli = Join-Path $venv "Scripts\montage-ai.exe"

if ($args -contains "--uninstall") {
    if (Test-Path $cli) { & $cli install-resolve @args; exit $LASTEXITCODE }
    Write-Error "Montage AI is not installed in $venv (set MONTAGE_AI_VENV)."
    exit 1
}

if ($env:PYTHON) { $python = @($env:PYTHON) }
elseif (Get-Command py -ErrorAction SilentlyContinue) { $python = @("py", "-3") }
elseif (Get-Command python -ErrorAction SilentlyContinue) { $python = @("python") }
else { Write-Error "Python 3.10 or newer (64-bit) is not installed: get it from python.org"; exit 1 }

$pyExe = $python[0]
$pyArgs = @($python | Select-Object -Skip 1)
& $pyExe @pyArgs -c "import sys; sys.exit(0 if sys.version_info >= (3, 10) and sys.maxsize > 2**32 else 1)"
if ($LASTEXITCODE -ne 0) { Write-Error "Montage AI needs a 64-bit Python 3.10 or newer"; exit 1 }

$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$checkout = Join-Path $here ".."
if ($env:MONTAGE_AI_SOURCE) { $source = $env:MONTAGE_AI_SOURCE }
elseif (Test-Path (Join-Path $checkout "pyproject.toml")) { $source = (Resolve-Path $checkout).Path + "[ui]" }
else { $source = "montage-ai[ui]" }
if (-not (Get-Command ffmpeg -ErrorAction SilentlyContinue)) {
    Write-Warning "ffmpeg is not on PATH; install it (winget install Gyan.FFmpeg)"
}

Write-Host "Creating the environment in $venv"
& $pyExe @pyArgs -m venv $venv
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
$venvPython = Join-Path $venv "Scripts\python.exe"
& $venvPython -m pip install --upgrade --quiet pip
Write-Host "Installing $source"
& $venvPython -m pip install --quiet $source
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
# Resolve runs menu scripts with the highest registered Python 3; the launcher only needs its
# standard library and starts the panel from this environment.
& $cli install-resolve @args
exit $LASTEXITCODE
