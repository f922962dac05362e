"""Start an in-app bridge (Python or Lua) in a subprocess on a fake Resolve, for tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fake_resolve_remote import FakeHost

HERE = Path(__file__).resolve().parent
BRIDGE_DIR = HERE.parent / "resolve_plugin" / "bridge"
PYTHON_BRIDGE = BRIDGE_DIR / "montage_bridge.py"
LUA_BRIDGE = BRIDGE_DIR / "montage_bridge.lua"
LUAJIT = shutil.which("luajit")
#: An old Python to run the Python bridge with, as Resolve may (3.6 is the oldest it documents).
OLD_PYTHON = next((p for p in (shutil.which("python3.6"), *sorted(Path.home().glob(".pyenv/versions/3.6*/bin/python3.6")))
                   if p and subprocess.run([str(p), "-c", "pass"], capture_output=True).returncode == 0), None)
NO_LUAJIT = ("luajit is not installed (Debian/Ubuntu: apt-get install luajit; `make test` installs it through "
             "installers/system_deps.sh where it can)")


class BridgeProcess:
    """A bridge subprocess whose ``resolve`` is ``resolve`` (a fake in this process)."""

    def __init__(self, resolve: Any, kind: str, bridge_file: str | os.PathLike, script: str | os.PathLike | None = None,
                 env: dict[str, str] | None = None, codec_script: str | os.PathLike | None = None,
                 python: str | os.PathLike | None = None) -> None:
        self.kind = kind
        self.bridge_file = str(bridge_file)
        script = str(script or (PYTHON_BRIDGE if kind == "python" else LUA_BRIDGE))
        if kind == "python":
            command = [str(python or sys.executable), str(HERE / "run_python_bridge.py"), script]
        else:
            command = [LUAJIT or "luajit", str(HERE / "lua" / "run_bridge.lua"), script, str(codec_script or script)]
        self.log = tempfile.TemporaryFile()
        full_env = dict(os.environ, MONTAGE_AI_RESOLVE_BRIDGE_FILE=self.bridge_file, **(env or {}))
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                        env=full_env, cwd=str(HERE))
        self.host = FakeHost(resolve, self.process.stdout, self.process.stdin)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout_s: float = 20.0) -> "BridgeProcess":
        """Wait until the bridge file names this process."""
        from montage_ai.resolve_plugin.bridge import wire

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            info = wire.read_bridge_file(self.bridge_file)
            if info and info.get("pid") == self.process.pid:
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"the {self.kind} bridge did not start:\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def wait_exit(self, timeout_s: float = 10.0) -> int | None:
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.log.close()


class RouteClients:
    """Clients of one route for fake Resolves: ``"direct"``, ``"bridge-python"``,
    ``"bridge-python3.6"`` (the Python bridge run by Python 3.6, the oldest Resolve documents)
    or ``"bridge-lua"`` (a bridge subprocess per fake). :meth:`close` stops them all."""

    def __init__(self, route: str, folder: Path) -> None:
        self.route, self.folder = route, Path(folder)
        self.started: list[tuple[BridgeProcess, Any]] = []

    def __call__(self, resolve: Any):
        from montage_ai.resolve_plugin.bridge_client import connect_bridge
        from montage_ai.resolve_plugin.direct import DirectClient

        if self.route == "direct":
            return DirectClient(resolve)
        kind = self.route.split("-", 1)[1]
        python = OLD_PYTHON if kind == "python3.6" else None
        kind = "python" if kind.startswith("python") else kind
        bridge_file = self.folder / f"bridge-{len(self.started)}" / "resolve-bridge.json"
        process = BridgeProcess(resolve, kind, bridge_file, python=python)
        try:
            process.wait_ready()
            client = connect_bridge(str(bridge_file))
        except BaseException:
            process.close()
            raise
        self.started.append((process, client))
        return client

    def close(self) -> None:
        for process, client in self.started:
            client.close()
            process.close()
