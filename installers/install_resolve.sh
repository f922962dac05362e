#!/usr/bin/env bash
# Install Montage AI into its own virtual environment and add it to DaVinci Resolve's
# Workspace > Scripts menu, on Linux and macOS (Windows: install_resolve_windows.ps1).
#
#   installers/install_resolve.sh               # for you
#   installers/install_resolve.sh --all-users   # for everyone (run with sudo)
#   installers/install_resolve.sh --uninstall   # remove the menu entry (the environment stays)
#
# MONTAGE_AI_VENV   where the environment goes (default: Linux ~/.local/share/montage-ai/venv,
#                   /opt/montage-ai/venv with --all-users; macOS ~/Library/Application
#                   Support/montage-ai/venv, /Library/Application Support/montage-ai/venv)
# MONTAGE_AI_SOURCE what pip installs (default: this checkout when run from one, else montage-ai from PyPI)
# PYTHON            the Python 3.10+ used to create the environment (default python3)
# On macOS Resolve runs menu scripts with the Python it finds (PYTHON3HOME or
# /usr/local/bin/python3); the launcher then starts the panel from the environment above, so
# that Python only needs the standard library. On Apple Silicon it must be an arm64 build.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "$(uname -s)" = "Darwin" ]; then
  mine="$HOME/Library/Application Support/montage-ai/venv"; everyone="/Library/Application Support/montage-ai/venv"
  get_python="brew install python, or python.org's installer"
else
  mine="${XDG_DATA_HOME:-$HOME/.local/share}/montage-ai/venv"; everyone=/opt/montage-ai/venv
  get_python="apt-get install python3 python3-venv"
fi
venv=${MONTAGE_AI_VENV:-$mine}
case " $* " in *" --all-users "*) venv=${MONTAGE_AI_VENV:-$everyone} ;; esac
python=${PYTHON:-python3}

for arg in "$@"; do
  if [ "$arg" = "--uninstall" ]; then
    if [ -x "$venv/bin/montage-ai" ]; then
      exec "$venv/bin/montage-ai" install-resolve "$@"
    fi
    echo "Montage AI is not installed in $venv (set MONTAGE_AI_VENV)." >&2
    exit 1
  fi
done

if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: $python not found; install Python 3.10 or newer ($get_python)" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) and sys.maxsize > 2**32 else 1)'; then
  echo "error: $("$python" -V 2>&1) is too old or 32-bit; Montage AI needs a 64-bit Python 3.10+" >&2
  exit 1
fi
if [ -n "${MONTAGE_AI_SOURCE:-}" ]; then
  source_spec=$MONTAGE_AI_SOURCE
elif [ -f "$here/../pyproject.toml" ]; then
  source_spec="$(cd "$here/.." && pwd)[ui]"
else
  source_spec="montage-ai[ui]"
fi
command -v ffmpeg >/dev/null 2>&1 || echo "note: ffmpeg is not installed; run installers/system_deps.sh" >&2

echo "Creating the environment in $venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --upgrade --quiet pip
echo "Installing $source_spec"
"$venv/bin/python" -m pip install --quiet "$source_spec"
"$venv/bin/montage-ai" install-resolve "$@"
