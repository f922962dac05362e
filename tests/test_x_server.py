"""tests/x_server.py, the X server start-up of the panel tests and benchmarks: a real Xvfb comes
up on a free display with Qt pointed at it, and stop() ends it and puts the environment back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from x_server import start_xvfb

_CHILD = r"""
import json, os, shutil, subprocess, sys
sys.path.insert(0, sys.argv[1])
from x_server import start_xvfb
os.environ["DISPLAY"], os.environ["QT_QPA_PLATFORM"] = ":4242", "offscreen"
server = start_xvfb(raster_only=False)
seen = {"display": server.display, "why": server.why, "env": [os.environ.get("DISPLAY"), os.environ.get("QT_QPA_PLATFORM")],
        "describe": server.describe(), "running": server.proc is not None and server.proc.poll() is None}
if server.display and shutil.which("xdpyinfo"):  # a client can talk to it
    out = subprocess.run(["xdpyinfo", "-display", server.display], capture_output=True, text=True, timeout=10)
    seen["xdpyinfo"] = out.returncode == 0 and "1600x1000" in out.stdout
proc = server.proc
server.stop()
seen["ended"] = proc is not None and proc.poll() is not None
seen["env_after"] = [os.environ.get("DISPLAY"), os.environ.get("QT_QPA_PLATFORM")]
print(json.dumps(seen))
"""


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed (installers/system_deps.sh)")
def test_xvfb_comes_up_and_goes():
    # In a child process: this session may already hold a QApplication (the panel tests), and
    # then the helper rightly declines to start a server.
    env = {k: v for k, v in os.environ.items() if k != "MONTAGE_QT_PLATFORM"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(Path(__file__).parent)], capture_output=True, text=True,
                         timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["display"] and seen["display"].startswith(":"), seen["why"]
    assert seen["env"] == [seen["display"], "xcb"] and seen["running"]
    assert seen["describe"].startswith(f"Xvfb {seen['display']} (xcb")
    assert seen.get("xdpyinfo", True)
    assert seen["ended"] and seen["env_after"] == [":4242", "offscreen"]


def test_offscreen_when_asked(monkeypatch):
    monkeypatch.setenv("MONTAGE_QT_PLATFORM", "offscreen")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    server = start_xvfb()
    assert server.display is None and server.proc is None
    assert "MONTAGE_QT_PLATFORM=offscreen" in server.why and server.describe().startswith("offscreen (")
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"
    server.stop()  # nothing to end; harmless
