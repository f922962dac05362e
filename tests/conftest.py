"""Shared test set-up."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

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
# pytest's own faulthandler_timeout (pyproject.toml, with faulthandler_exit_on_timeout) dumps
# every thread's Python stack and ends the run when a test hangs; it runs on a C thread, so it
# works even when the hang holds the interpreter lock (a Qt call waiting on a lock while a
# QtMultimedia thread waits for the interpreter: docs/qt_playback.md). Python stacks do not
# show Qt's own threads, so a watchdog process of its own (it needs no lock of ours) prints
# every thread's C stack with gdb shortly before that.
_WATCHDOG = r"""
import os, select, shutil, subprocess, sys, time
parent, limit = int(sys.argv[1]), float(sys.argv[2])
current, since = None, 0.0
while True:
    wait = None if current is None else max(0.0, since + limit - time.monotonic())
    if select.select([sys.stdin], [], [], wait)[0]:
        line = sys.stdin.readline()
        if not line:
            break
        current, since = (line[6:].strip(), time.monotonic()) if line.startswith("start ") else (None, 0.0)
        continue
    print(f"\n==== {current} still running after {limit:.0f} s: the C stack of every thread (gdb) ====",
          file=sys.stderr, flush=True)
    gdb = shutil.which("gdb")
    if gdb is None:
        print("(gdb is not installed)", file=sys.stderr, flush=True)
    else:
        try:
            subprocess.run([gdb, "-p", str(parent), "-batch", "-nx", "-ex", "thread apply all bt 40"],
                           stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=subprocess.STDOUT, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"gdb could not read the stacks: {exc}", file=sys.stderr, flush=True)
    print("==== end of the C stacks ====", file=sys.stderr, flush=True)
    current = None
"""
_watchdog: subprocess.Popen | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _watchdog
    limit = float(config.getini("faulthandler_timeout") or 0)
    if limit <= 0 or os.environ.get("MONTAGE_TEST_NO_WATCHDOG"):
        return
    capture = config.pluginmanager.getplugin("capturemanager")
    # Started with the run's own stderr (not a test's captured one), 30 s before the dump.
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        _watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(max(1.0, limit - 30))],
                                     stdin=subprocess.PIPE, text=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _watchdog is not None:
        try:
            _watchdog.stdin.close()
            _watchdog.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            _watchdog.kill()


def _tell_watchdog(line: str) -> None:
    if _watchdog is not None:
        try:
            _watchdog.stdin.write(line + "\n")
            _watchdog.stdin.flush()
        except OSError:
            pass


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _tell_watchdog(f"start {item.nodeid}")
    try:
        return (yield)
    finally:
        _tell_watchdog("end")
