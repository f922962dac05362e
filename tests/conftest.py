"""Shared test set-up."""

from __future__ import annotations

import faulthandler
import os
import shutil
import subprocess
import sys
import threading

import pytest

# Qt widgets render offscreen: CI has no display, and no window pops up on a developer's.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _no_real_ollama(monkeypatch):
    """Tests never reach an Ollama the developer happens to run: the default host is a closed
    port (connections refused at once). Tests of the Ollama planner start their own fake
    server and name it (or set OLLAMA_HOST themselves)."""
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")


@pytest.fixture(autouse=True)
def _no_real_resolve_bridge(monkeypatch, tmp_path_factory):
    """Tests never find (or write) a bridge file of a Resolve the developer happens to run:
    the bridge file lives in a fresh temporary folder."""
    folder = tmp_path_factory.mktemp("bridge-file")
    monkeypatch.setenv("MONTAGE_AI_RESOLVE_BRIDGE_FILE", str(folder / "resolve-bridge.json"))


@pytest.fixture(autouse=True)
def _no_real_user_data(monkeypatch, tmp_path_factory):
    """Tests never read or write the developer's kept beat grids (user data folder)."""
    monkeypatch.setenv("MONTAGE_AI_DATA", str(tmp_path_factory.mktemp("user-data")))
    # platformdirs reads XDG_DATA_HOME on Linux: the Resolve log journal and the like go to a
    # fresh folder too.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("user-data")))


# ---------------------------------------------------------------------------- a test that hangs
#: A test still running after this many seconds gets every thread's stack printed, Python's
#: (faulthandler) and the C one (gdb, where installed), so a deadlock in CI says where it is.
#: pytest-timeout (``timeout`` in pyproject.toml) then ends the run.
HANG_REPORT_S = float(os.environ.get("MONTAGE_TEST_HANG_REPORT_S", "300"))


def _report_hang(item: pytest.Item) -> None:
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    out = sys.__stderr__
    print(f"\n==== {item.nodeid} still running after {HANG_REPORT_S:.0f} s: the stack of every thread ====",
          file=out, flush=True)
    faulthandler.dump_traceback(file=out, all_threads=True)
    gdb = shutil.which("gdb")
    if gdb:
        try:
            subprocess.run([gdb, "-p", str(os.getpid()), "-batch", "-nx", "-ex", "thread apply all bt 40"],
                           stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"gdb could not read the C stacks: {exc}", file=out, flush=True)
    print("==== end of the stacks ====", file=out, flush=True)
    if capture is not None:
        capture.resume_global_capture()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    timer = threading.Timer(HANG_REPORT_S, _report_hang, args=(item,))
    timer.daemon = True
    timer.start()
    try:
        return (yield)
    finally:
        timer.cancel()
