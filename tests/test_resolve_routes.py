"""Route selection, with each route made to fail in turn: inside Resolve, external scripting,
an in-app bridge, the file route; the causes told apart and the fix for each; which Python
Resolve uses for menu scripts."""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
import threading
import types

import pytest

import __main__
from bridge_harness import LUAJIT, NO_LUAJIT, BridgeProcess
from fake_resolve import make_resolve, scriptapp_for
from montage_ai.resolve_plugin import connect as connect_module
from montage_ai.resolve_plugin.bridge import wire
from montage_ai.resolve_plugin.bridge_client import BridgeClient
from montage_ai.resolve_plugin.connect import MODULE
from montage_ai.resolve_plugin.direct import DirectClient
from montage_ai.resolve_plugin.routes import menu_python, select_route


@pytest.fixture(autouse=True)
def no_module(monkeypatch, tmp_path):
    """No DaVinciResolveScript unless a test puts a stand-in in place; nothing injected."""
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    monkeypatch.setattr(__main__, "resolve", None, raising=False)
    monkeypatch.delattr(__main__, "resolve")
    monkeypatch.setenv("RESOLVE_SCRIPT_API", str(tmp_path / "no-resolve-here"))
    monkeypatch.setenv("RESOLVE_SCRIPT_LIB", "")
    monkeypatch.delenv("RESOLVE_SCRIPT_LIB")
    yield
    sys.modules.pop(MODULE, None)


def _scriptapp(monkeypatch, scriptapp):
    monkeypatch.setitem(sys.modules, MODULE, types.SimpleNamespace(scriptapp=scriptapp))


def _by_route(result):
    return {a.route: a for a in result.attempts}


@pytest.fixture
def bridge_file(tmp_path):
    return str(tmp_path / "cfg" / "resolve-bridge.json")


def test_inside_resolve_the_injected_object_is_used(bridge_file):
    fake = make_resolve({})
    result = select_route(injected=lambda: fake, bridge_file=bridge_file, system="Linux")
    assert result.route == "injected" and isinstance(result.client, DirectClient) and result.live
    assert result.product.name == "DaVinci Resolve Studio" and [a.route for a in result.attempts] == ["injected"]


def test_outside_resolve_external_scripting_is_used_when_it_answers(monkeypatch, bridge_file):
    _scriptapp(monkeypatch, scriptapp_for(make_resolve({}, project="Studio project")))
    result = select_route(bridge_file=bridge_file, system="Linux")
    assert result.route == "external" and result.client.project().name == "Studio project"
    attempts = _by_route(result)
    assert attempts["injected"].cause == "not-inside" and attempts["external"].ok and "bridge" not in attempts


def test_the_free_edition_reaches_resolve_through_a_running_python_bridge(monkeypatch, bridge_file):
    fake = make_resolve({}, product="DaVinci Resolve")
    fake._version = [21, 0, 2, 0, ""]
    _scriptapp(monkeypatch, scriptapp_for(None))  # the free edition: scriptapp answers None
    process = BridgeProcess(fake, "python", bridge_file).wait_ready()
    try:
        result = select_route(bridge_file=bridge_file, system="Linux", running=lambda: True)
        assert result.route == "bridge-python" and isinstance(result.client, BridgeClient)
        assert (result.product.name, result.product.version) == ("DaVinci Resolve", "21.0.2.0")
        external = _by_route(result)["external"]
        assert external.cause == "free-edition" and "DaVinci Resolve 21.0.2.0 is the free edition" in external.reason
        assert "Montage AI Bridge" in external.fix
        assert result.menu_python.source == "reported by the running Python bridge"
        assert result.menu_python.path == sys.executable
        result.client.close()
    finally:
        process.close()


@pytest.mark.skipif(not LUAJIT, reason=NO_LUAJIT)
def test_free_21_1_reaches_resolve_through_the_lua_bridge_and_says_python_scripts_are_gone(monkeypatch, bridge_file):
    fake = make_resolve({}, product="DaVinci Resolve")
    fake._version = [21, 1, 0, 5, ""]
    process = BridgeProcess(fake, "lua", bridge_file).wait_ready()
    try:
        result = select_route(bridge_file=bridge_file, system="Linux", running=lambda: True)
        assert result.route == "bridge-lua" and result.product.version == "21.1.0.5"
        assert any("lists only Lua scripts" in n for n in result.notes)
        assert any("does not decode H.264/H.265" in n for n in result.notes)
        result.client.close()
    finally:
        process.close()


def test_with_resolve_not_running_and_no_bridge_the_file_route_names_each_cause(bridge_file):
    result = select_route(bridge_file=bridge_file, system="Linux", running=lambda: False)
    assert result.route == "file" and result.client is None and not result.live and result.product is None
    causes = [(a.route, a.ok, a.cause) for a in result.attempts]
    assert causes == [("injected", False, "not-inside"), ("external", False, "module-missing"),
                      ("bridge", False, "not-started"), ("file", True, "")]
    lines = "\n".join(result.lines())
    assert "route in use: file (Resolve not reached)" in lines
    assert "markers and proxy links travel only through a live route" in lines


def test_resolve_not_running_is_told_apart_from_scripting_set_to_none(monkeypatch, bridge_file):
    _scriptapp(monkeypatch, scriptapp_for(None))
    stopped = _by_route(select_route(bridge_file=bridge_file, system="Linux", running=lambda: False))["external"]
    assert stopped.cause == "not-running" and "start DaVinci Resolve" in stopped.fix
    refused = _by_route(select_route(bridge_file=bridge_file, system="Linux", running=lambda: True))["external"]
    assert refused.cause == "refused" and "External scripting using: Local" in refused.fix
    assert "free edition" in refused.fix  # without a bridge the edition is not known: both are said


def test_an_architecture_mismatch_is_named_with_the_library(tmp_path, monkeypatch, bridge_file):
    api = tmp_path / "Scripting"
    (api / "Modules").mkdir(parents=True)
    (api / "Modules" / f"{MODULE}.py").write_text("def scriptapp(app, *host):\n    return None\n")
    lib = tmp_path / "fusionscript.so"
    lib.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HH", 3, 0xB7) + b"\0" * 64)  # arm64
    monkeypatch.setattr(connect_module, "python_architecture", lambda: "x86_64")
    env = {"RESOLVE_SCRIPT_API": str(api), "RESOLVE_SCRIPT_LIB": str(lib)}
    external = _by_route(select_route(bridge_file=bridge_file, system="Linux", env=env))["external"]
    assert external.cause == "arch-mismatch" and "built for arm64" in external.reason
    assert "Rosetta" in external.fix


def test_a_scriptapp_that_hangs_is_bounded_and_named(monkeypatch, bridge_file):
    release = threading.Event()
    _scriptapp(monkeypatch, lambda *a: release.wait(5))
    try:
        external = _by_route(select_route(bridge_file=bridge_file, timeout_s=0.3, system="Linux",
                                          running=lambda: True))["external"]
    finally:
        release.set()
    assert external.cause == "timeout" and "did not answer in time" in external.fix


def test_a_network_host_skips_the_local_routes(monkeypatch, bridge_file):
    _scriptapp(monkeypatch, scriptapp_for(None))
    result = select_route(host="studio-mac.local", bridge_file=bridge_file, system="Linux")
    attempts = _by_route(result)
    assert attempts["injected"].cause == "not-inside" and attempts["bridge"].cause == "remote"
    assert result.route == "file"


def test_a_stale_bridge_file_from_an_earlier_start_is_named(bridge_file):
    with socket.socket() as s:  # a port nobody listens on any more
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = 2 ** 22 + 12345
    wire.write_bridge_file(bridge_file, {"port": port, "pid": dead, "secret": wire.new_secret(), "kind": "python",
                                         "started": "2026-11-20T09:00:00+0000"})
    bridge = _by_route(select_route(bridge_file=bridge_file, system="Linux", running=lambda: False))["bridge"]
    assert bridge.cause == "stale" and "2026-11-20T09:00:00+0000" in bridge.reason and f"process {dead}" in bridge.reason
    assert "start it again" in bridge.fix


def _squatter(reply: bytes | None):
    """A program of someone else's holding a port: answers ``reply`` (or nothing)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)

    def serve():
        try:
            while True:
                conn, _ = server.accept()
                if reply:
                    conn.sendall(reply)
                threading.Timer(3, conn.close).start()
        except OSError:
            return

    threading.Thread(target=serve, daemon=True).start()
    return server


@pytest.mark.parametrize("reply, cause", [(b"HTTP/1.1 400 Bad Request\r\n\r\n", "port-taken"), (None, "no-answer")])
def test_a_port_taken_by_another_program_is_named(bridge_file, reply, cause):
    server = _squatter(reply)
    port = server.getsockname()[1]
    try:
        wire.write_bridge_file(bridge_file, {"port": port, "pid": os.getpid(),
                                             "secret": wire.new_secret(), "kind": "python"})
        bridge = _by_route(select_route(bridge_file=bridge_file, timeout_s=0.5, system="Linux",
                                        running=lambda: False))["bridge"]
    finally:
        server.close()
    assert bridge.cause == cause and f"port {port}" in bridge.reason


def test_a_bridge_file_that_cannot_be_read_is_named(bridge_file):
    os.makedirs(os.path.dirname(bridge_file))
    with open(bridge_file, "w") as f:
        f.write("{half a file")
    os.chmod(bridge_file, 0o600)
    bridge = _by_route(select_route(bridge_file=bridge_file, system="Linux", running=lambda: False))["bridge"]
    assert bridge.cause == "unreadable" and "writes a new file" in bridge.fix


# ---------------------------------------------------------------------------- menu Python
def test_menu_python_on_windows_is_the_highest_registered_python_3():
    found = menu_python("Windows", {}, windows_pythons=lambda: [((3, 9), r"C:\Py39\python.exe"),
                                                                ((3, 12), r"C:\Py312\python.exe")],
                        probe=lambda p: "3.12.4 AMD64")
    assert (found.path, found.version) == (r"C:\Py312\python.exe", "3.12.4 AMD64")
    assert "highest registered Python 3" in found.source
    assert "no Python 3 is registered" in menu_python("Windows", {}, windows_pythons=lambda: []).source


def test_menu_python_on_macos_follows_python3home(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3").write_text("")
    found = menu_python("Darwin", {"PYTHON3HOME": str(tmp_path)}, probe=lambda p: "3.11.9 arm64")
    assert found.path == str(tmp_path / "bin" / "python3") and found.source == "macOS: $PYTHON3HOME"
    missing = menu_python("Darwin", {"PYTHON3HOME": str(tmp_path / "nowhere")})
    assert "Python menu scripts will not run" in missing.note


def test_result_lines_show_route_product_menu_python_and_every_failure_with_its_fix(monkeypatch, bridge_file):
    _scriptapp(monkeypatch, scriptapp_for(None))
    lines = select_route(bridge_file=bridge_file, system="Linux", running=lambda: True).lines()
    assert lines[0] == "route in use: file (Resolve not reached)"
    assert lines[1].startswith("Python for Resolve's menu scripts: ")
    assert any(line.startswith("external: no (refused): ") and "fix: in Resolve: Preferences" in line for line in lines)
    assert any(line.startswith("bridge: no (not-started): ") and "fix: in Resolve" in line for line in lines)
    json.dumps(lines)  # plain text the panel can show
