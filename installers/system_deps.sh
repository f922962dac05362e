#!/usr/bin/env bash
# Install the system programs Montage AI needs: ffmpeg/ffprobe, Python's venv module, the
# shared libraries OpenCV and Qt load (and Xvfb for the panel tests), and for the format tests xmllint and MLT's melt. Debian/Ubuntu (apt-get) and macOS (Homebrew).
# Does nothing for what is already there; says plainly what to do when it cannot install.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v xmllint >/dev/null 2>&1 || need+=(xmllint)
# MLT's melt renders our timelines independently of our own renderer (tests check against it).
command -v melt >/dev/null 2>&1 || need+=(melt)
# LuaJIT runs the Lua in-app bridge for Resolve in the tests (Resolve itself ships its own);
# optional: without it those tests are skipped with the reason.
command -v luajit >/dev/null 2>&1 || need+=(luajit)

os=$(uname -s)
if [ "$os" = "Linux" ] && command -v apt-get >/dev/null 2>&1; then
  pkgs=()
  for n in "${need[@]:-}"; do
    case "$n" in
      ffmpeg) pkgs+=(ffmpeg) ;;
      xmllint) pkgs+=(libxml2-utils) ;;
      melt) pkgs+=(melt) ;;
      luajit) pkgs+=(luajit) ;;
    esac
  done
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || pkgs+=(python3-venv)
  # OpenCV (used by PySceneDetect) loads libGL and GLib even without a display.
  ldconfig -p 2>/dev/null | grep -q 'libGL.so.1' || pkgs+=(libgl1)
  ldconfig -p 2>/dev/null | grep -q 'libglib-2.0.so.0' || pkgs+=(libglib2.0-0)
  ldconfig -p 2>/dev/null | grep -q 'libsndfile.so.1' || pkgs+=(libsndfile1)
  # The Qt panel (PySide6), also offscreen in the tests: EGL, xkbcommon, fontconfig, D-Bus, X11
  # client libraries and one font so text renders.
  ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1' || pkgs+=(libegl1)
  ldconfig -p 2>/dev/null | grep -q 'libxkbcommon.so.0' || pkgs+=(libxkbcommon0)
  ldconfig -p 2>/dev/null | grep -q 'libfontconfig.so.1' || pkgs+=(libfontconfig1)
  ldconfig -p 2>/dev/null | grep -q 'libdbus-1.so.3' || pkgs+=(libdbus-1-3)
  ldconfig -p 2>/dev/null | grep -q 'libX11.so.6' || pkgs+=(libx11-6)
  ldconfig -p 2>/dev/null | grep -q 'libxcb.so.1' || pkgs+=(libxcb1)
  # A real window in the tests: Xvfb (the panel tests start it themselves) and the libraries
  # Qt's xcb platform plugin loads (libxcb-cursor0 since Qt 6.5).
  command -v Xvfb >/dev/null 2>&1 || pkgs+=(xvfb)
  for lib in xcb-cursor:libxcb-cursor0 xcb-icccm:libxcb-icccm4 xcb-image:libxcb-image0 xcb-keysyms:libxcb-keysyms1 \
             xcb-randr:libxcb-randr0 xcb-render-util:libxcb-render-util0 xcb-shape:libxcb-shape0 \
             xcb-xinerama:libxcb-xinerama0 xcb-xkb:libxcb-xkb1 xkbcommon-x11:libxkbcommon-x11-0; do
    ldconfig -p 2>/dev/null | grep -q "lib${lib%%:*}.so" || pkgs+=("${lib##*:}")
  done
  [ -n "$(fc-list 2>/dev/null | head -n 1)" ] || pkgs+=(fonts-dejavu-core)
  [ ${#pkgs[@]} -eq 0 ] && exit 0
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "Montage AI needs these packages: ${pkgs[*]}" >&2
      echo "You are not root and sudo is missing. As root run: apt-get install -y ${pkgs[*]}" >&2
      exit 1
    fi
  fi
  echo "Installing system packages: ${pkgs[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
elif [ "$os" = "Darwin" ]; then
  has_py=no
  for p in python3.13 python3.12 python3.11 python3.10 python3; do
    command -v $p >/dev/null 2>&1 && $p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null && { has_py=yes; break; }
  done
  [ "$has_py" = yes ] || need+=(python)
  [ ${#need[@]} -eq 0 ] && exit 0
  if ! command -v brew >/dev/null 2>&1; then
    echo "Montage AI needs ffmpeg (and xmllint for format checks). Install Homebrew from https://brew.sh," >&2
    echo "then run: brew install ffmpeg libxml2   (or install ffmpeg yourself and put it on PATH)" >&2
    exit 1
  fi
  pkgs=()
  for n in "${need[@]}"; do
    case "$n" in ffmpeg) pkgs+=(ffmpeg) ;; xmllint) pkgs+=(libxml2) ;; melt) pkgs+=(mlt) ;; luajit) pkgs+=(luajit) ;; python) pkgs+=(python@3.12) ;; esac
  done
  echo "Installing with Homebrew: ${pkgs[*]}"
  brew install "${pkgs[@]}"
else
  required=()
  for n in "${need[@]:-}"; do
    case "$n" in luajit) echo "luajit not found: the Lua bridge tests will be skipped" >&2 ;; "") ;; *) required+=("$n") ;; esac
  done
  need=("${required[@]:-}")
  if [ -n "${need[*]:-}" ]; then
    echo "Montage AI needs: ${need[*]} (ffmpeg and ffprobe on PATH; xmllint from libxml2)." >&2
    echo "This system has neither apt-get nor Homebrew: install them with your package manager." >&2
    exit 1
  fi
fi
