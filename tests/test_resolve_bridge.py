"""The in-app bridges (Python and Lua), each in a subprocess on the fake Resolve: what they
refuse, how they keep serving, where they listen, their secret file, and how they stop."""

from __future__ import annotations

import ast
import json
import os
import socket
import stat
import struct
import sys
import threading
import time
from pathlib import Path

import pytest

from bridge_harness import BRIDGE_DIR, LUAJIT, NO_LUAJIT, OLD_PYTHON, BridgeProcess
from fake_resolve import find_clip, make_resolve
from montage_ai.resolve_plugin.bridge import wire
from montage_ai.resolve_plugin.bridge.resolve_ops import OpsError, ResolveOps
from montage_ai.resolve_plugin.bridge_client import BridgeUnavailable, connect_bridge
from montage_ai.resolve_plugin.errors import ResolveError
from resolve_media import make_media

KINDS = ["python",
         pytest.param("python3.6", marks=pytest.mark.skipif(not OLD_PYTHON, reason="no Python 3.6 here (the oldest "
                                                                                  "Python Resolve documents)")),
         pytest.param("lua", marks=pytest.mark.skipif(not LUAJIT, reason=NO_LUAJIT))]


def _start(fake, kind: str, path, **options) -> BridgeProcess:
    """A bridge of ``kind``: ``python`` (this Python), ``python3.6`` or ``lua``."""
    if kind == "python3.6":
        return BridgeProcess(fake, "python", path, python=OLD_PYTHON, **options)
    return BridgeProcess(fake, kind, path, **options)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("resolve bridge"))


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


@pytest.fixture
def fake(media):
    return make_resolve({"Day 1": [media["a"], media["b"]], "Music": [media["song"]]}, rate="23.976")


@pytest.fixture
def bridge(kind, fake, tmp_path):
    process = _start(fake, kind, tmp_path / "cfg" / "resolve-bridge.json").wait_ready()
    yield process
    process.close()


class Raw:
    """A hand-driven connection: frames as the protocol says, or broken on purpose."""

    def __init__(self, bridge_file: str | os.PathLike) -> None:
        self.info = wire.read_bridge_file(str(bridge_file))
        self.secret = self.info["secret"]
        self.sock = socket.create_connection(("127.0.0.1", self.info["port"]), timeout=10)
        self.hello = wire.read_frame(self.sock, self.secret)
        self.nonce = self.hello["nonce"]

    def frame(self, op: str, args: dict | None = None, seq: int = 1, secret: str | None = None) -> bytes:
        return wire.encode(secret or self.secret, {"nonce": self.nonce, "seq": seq, "op": op, "args": args or {}})

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> dict:
        return wire.read_frame(self.sock, self.secret)

    def closed(self) -> bool:
        try:
            self.sock.settimeout(5)
            return self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self) -> None:
        self.sock.close()


def _served(bridge: BridgeProcess) -> bool:
    """A fresh client gets an answer (the bridge did not crash or block)."""
    with connect_bridge(bridge.bridge_file, timeout_s=5) as client:
        return client.product().name == "DaVinci Resolve Studio"


# ---------------------------------------------------------------------------- served
def test_the_bridge_serves_the_pool_selection_and_project(bridge, fake):
    fake.project.pool.selected = [find_clip(fake, "B002.mp4")]
    with connect_bridge(bridge.bridge_file) as client:
        pool = client.media_pool()
        assert [b.name for b in pool.bins] == ["Day 1", "Music"]
        assert [c.name for c in pool.bins[0].clips] == ["A001 café.mp4", "B002.mp4"]
        assert client.selected_clip_ids() == [pool.bins[0].clips[1].id]
        assert client.project().settings["timelineFrameRate"] == "23.976"
        assert client.route == f"bridge-{bridge.kind}" and client.hello.pid == bridge.pid


def test_clip_metadata_is_set_through_the_bridge(bridge, fake):
    with connect_bridge(bridge.bridge_file) as client:
        clip = client.media_pool().bins[0].clips[0]
        assert client.set_clip_metadata(clip.id, {"Description": "Montage AI: opening shot", "Keywords": "beat"})
    assert find_clip(fake, "A001 café.mp4").GetMetadata() == {"Description": "Montage AI: opening shot",
                                                               "Keywords": "beat"}


def test_a_failing_operation_gets_a_clear_error_and_the_connection_goes_on(bridge):
    with connect_bridge(bridge.bridge_file) as client:
        with pytest.raises(ResolveError, match="unknown timeline id .nope."):
            client.timeline_name("nope")
        assert client.timeline_names() == []


# ---------------------------------------------------------------------------- refused
def test_a_request_without_a_signature_is_refused(bridge):
    raw = Raw(bridge.bridge_file)
    body = json.dumps({"nonce": raw.nonce, "seq": 1, "op": "product", "args": {}}).encode()
    raw.send(struct.pack(">I", len(body)) + body)  # no MAC at all
    assert raw.reply()["code"] == "auth" and raw.closed()
    assert _served(bridge)


def test_a_request_signed_with_another_secret_is_refused(bridge):
    raw = Raw(bridge.bridge_file)
    raw.send(raw.frame("product", secret="0" * 64))
    assert raw.reply()["code"] == "auth" and raw.closed()
    assert _served(bridge)


def test_a_replayed_request_is_refused(bridge):
    first = Raw(bridge.bridge_file)
    recorded = first.frame("create_timeline", {"name": "Replayed"})
    first.send(recorded)
    assert first.reply()["ok"] is True
    first.send(recorded)  # the same bytes again on the same connection
    assert first.reply()["code"] == "replay" and first.closed()
    second = Raw(bridge.bridge_file)
    second.send(recorded)  # and on a new connection (another nonce)
    assert second.reply()["code"] == "replay" and second.closed()
    with connect_bridge(bridge.bridge_file) as client:
        assert client.timeline_names() == ["Replayed"]  # made once


def test_a_100_mb_message_is_refused_from_its_length_prefix(bridge):
    raw = Raw(bridge.bridge_file)
    raw.send(struct.pack(">I", 100 * 1024 * 1024) + b"x" * (256 * 1024))
    answer = raw.reply()
    assert answer["code"] == "too-large" and "over the limit" in answer["error"]
    assert raw.closed()
    assert _served(bridge)


def test_malformed_json_is_refused(bridge):
    raw = Raw(bridge.bridge_file)
    body = b'{"nonce": "' + raw.nonce.encode() + b'", "seq": 1, "op": '
    payload = wire.sign(raw.secret, body) + body
    raw.send(struct.pack(">I", len(payload)) + payload)
    assert raw.reply()["code"] == "bad-json" and raw.closed()
    assert _served(bridge)


@pytest.mark.parametrize("op", ["exec", "eval", "__init__", "_project", "os.system", "call"])
def test_an_unknown_operation_is_refused(bridge, op):
    raw = Raw(bridge.bridge_file)
    raw.send(raw.frame(op, {"code": "import os"}))
    answer = raw.reply()
    assert answer["ok"] is False and answer["code"] == "unknown-op"
    raw.send(raw.frame("product", seq=2))  # the connection goes on
    assert raw.reply()["result"]["name"] == "DaVinci Resolve Studio"


def test_paths_outside_what_an_operation_needs_are_refused(bridge, fake, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("x")
    raw = Raw(bridge.bridge_file)
    cases = [("import_media", {"paths": ["relative/clip.mov"]}), ("import_media", {"paths": [str(tmp_path)]}),
             ("import_media", {"paths": [str(tmp_path / "missing.mov")]}),
             ("import_timeline_file", {"path": str(text), "name": "x", "bin_ids": []}),
             ("link_proxy", {"clip_id": "x", "proxy_path": "/etc/../" + "nonexistent"}),
             ("import_media", {"paths": "/etc/passwd"}), ("create_timeline", {"name": "x", "extra": 1})]
    for seq, (op, args) in enumerate(cases, start=1):
        raw.send(raw.frame(op, args, seq=seq))
        answer = raw.reply()
        assert (answer["ok"], answer["code"]) == (False, "bad-args"), (op, args, answer)
    assert not [c for c in fake.behaviour.calls if c[0] in ("ImportMedia", "ImportTimelineFromFile")]


# ---------------------------------------------------------------------------- many clients
def test_a_client_that_sends_nothing_does_not_block_the_others(bridge):
    silent = socket.create_connection(("127.0.0.1", wire.read_bridge_file(bridge.bridge_file)["port"]), timeout=10)
    try:
        started = time.monotonic()
        assert _served(bridge) and _served(bridge)
        assert time.monotonic() - started < 3.0
    finally:
        silent.close()


def test_ten_clients_at_once_are_all_served(bridge, fake):
    results, errors = {}, []
    gate = threading.Barrier(10)

    def one(i: int) -> None:
        try:
            with connect_bridge(bridge.bridge_file, timeout_s=20) as client:
                gate.wait(10)
                pool = client.media_pool()
                timeline = client.create_timeline(f"Client {i}")
                results[i] = (len(pool.bins), client.timeline_name(timeline))
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(f"{i}: {exc}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert results == {i: (2, f"Client {i}") for i in range(10)}
    assert sorted(t.GetName() for t in fake.project.timelines) == sorted(f"Client {i}" for i in range(10))


# ---------------------------------------------------------------------------- where and who
def _listening_addresses(pid: int) -> list[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[3] == "0A" and parts[9] in inodes:  # LISTEN
                    found.append(parts[1])
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads listening sockets from Linux's /proc")
def test_nothing_listens_on_any_address_but_loopback(bridge):
    port = wire.read_bridge_file(bridge.bridge_file)["port"]
    assert _listening_addresses(bridge.pid) == [f"0100007F:{port:04X}"]  # 127.0.0.1, little-endian hex


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_the_secret_file_is_readable_by_its_user_only(bridge):
    path = Path(bridge.bridge_file)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # the folder the bridge made
    info = json.loads(path.read_text())
    assert len(info["secret"]) == 64 and int(info["secret"], 16) and info["pid"] == bridge.pid


def test_a_client_refuses_a_bridge_file_others_can_read(bridge):
    os.chmod(bridge.bridge_file, 0o644)
    with pytest.raises(BridgeUnavailable) as info:
        connect_bridge(bridge.bridge_file)
    assert info.value.cause == "unreadable" and "readable by other users" in info.value.reason


# ---------------------------------------------------------------------------- stopping
def test_a_second_bridge_start_replaces_the_first_cleanly(kind, fake, tmp_path):
    path = tmp_path / "cfg" / "resolve-bridge.json"
    first = _start(fake, kind, path).wait_ready()
    old = wire.read_bridge_file(str(path))
    second = _start(fake, kind, path)
    try:
        second.wait_ready()
        assert first.wait_exit(10) == 0, first.output()
        assert "replaced the bridge started earlier" in second.output()
        assert wire.read_bridge_file(str(path))["pid"] == second.pid
        assert _served(second)
        with pytest.raises(OSError):  # the first one's port is closed
            socket.create_connection(("127.0.0.1", old["port"]), timeout=2).close()
    finally:
        first.close()
        second.close()


@pytest.mark.skipif(not LUAJIT, reason=NO_LUAJIT)
def test_the_python_bridge_is_preferred_over_the_lua_bridge(fake, tmp_path):
    path = tmp_path / "cfg" / "resolve-bridge.json"
    python = BridgeProcess(fake, "python", path).wait_ready()
    lua = BridgeProcess(fake, "lua", path)
    try:
        assert lua.wait_exit(10) == 0 and "the Python bridge" in lua.output()
        assert wire.read_bridge_file(str(path))["pid"] == python.pid and _served(python)
    finally:
        lua.close()
    lua = BridgeProcess(fake, "lua", tmp_path / "other" / "resolve-bridge.json").wait_ready()
    again = BridgeProcess(fake, "python", lua.bridge_file)
    try:
        again.wait_ready()  # a Python bridge replaces a Lua one
        assert lua.wait_exit(10) == 0
    finally:
        python.close()
        lua.close()
        again.close()


def test_a_stop_request_stops_the_bridge_and_removes_its_file(bridge):
    client = connect_bridge(bridge.bridge_file)
    client.stop_bridge()
    assert bridge.wait_exit(10) == 0
    assert not os.path.exists(bridge.bridge_file)
    with pytest.raises(BridgeUnavailable) as info:
        connect_bridge(bridge.bridge_file)
    assert info.value.cause == "not-started"


def test_the_bridge_stops_when_resolve_quits(bridge):
    bridge.process.stdin.close()  # the fake Resolve goes away: every call fails from now on
    assert bridge.wait_exit(15) == 0, bridge.output()
    assert "Resolve does not answer any more" in bridge.output()
    assert not os.path.exists(bridge.bridge_file)


def test_a_bridge_killed_without_cleanup_leaves_a_stale_file_the_client_names(bridge):
    bridge.process.kill()
    bridge.wait_exit(10)
    with pytest.raises(BridgeUnavailable) as info:
        connect_bridge(bridge.bridge_file, timeout_s=2)
    assert info.value.cause == "stale" and f"process {bridge.pid} no longer runs" in info.value.reason
    assert "start it again" in info.value.fix


# ---------------------------------------------------------------------------- shared code
def test_only_timelines_created_in_the_session_can_be_deleted(fake):
    editors = fake.project.pool.CreateEmptyTimeline("Editor's cut")
    ops = ResolveOps(fake)
    key = ops._timeline_key(editors)
    with pytest.raises(OpsError, match="not created by Montage AI"):
        ops.delete_timeline(key)
    assert fake.project.timelines == [editors]
    mine = ops.create_timeline("Mine")
    assert ops.delete_timeline(mine) and fake.project.timelines == [editors]


@pytest.mark.parametrize("name", ["resolve_ops.py", "wire.py", "montage_bridge.py"])
def test_the_bridge_files_parse_as_python_3_6(name):
    source = (BRIDGE_DIR / name).read_text(encoding="utf-8")
    ast.parse(source, filename=name, feature_version=(3, 6))
    imported = {n.names[0].name.split(".")[0] for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import)}
    imported |= {n.module.split(".")[0] for n in ast.walk(ast.parse(source))
                 if isinstance(n, ast.ImportFrom) and n.module and n.level == 0}
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)
    assert not imported & {"__future__", "dataclasses", "secrets", "typing"}  # not all of them are in 3.6, or need 3.7


def test_an_answer_over_the_request_limit_still_reaches_the_client(bridge, fake):
    """Requests are limited to 16 MB; a large project's media pool may answer more."""
    clip = find_clip(fake, "B002.mp4")
    clip._props["Comments"] = "é" * (9 * 1024 * 1024)  # 18 MB of UTF-8
    with connect_bridge(bridge.bridge_file) as client:
        pool = client.media_pool()
    assert len(pool.bins[0].clips[1].properties["Comments"]) == 9 * 1024 * 1024


# ---------------------------------------------------------------------------- cannot be starved
def _good_path_cases(media, tmp_path):
    fifo = tmp_path / "take 1.mp4"
    os.mkfifo(fifo)
    (tmp_path / "passwd.xml").symlink_to("/etc/passwd")
    (tmp_path / "zero.mp4").symlink_to("/dev/zero")
    cases = [("import_media", {"paths": ["/etc/passwd"]}), ("import_media", {"paths": ["/etc/shadow"]}),
             ("import_media", {"paths": ["/proc/self/environ"]}),
             ("import_media", {"paths": [str(tmp_path) + "/../../etc/passwd"]}),
             ("import_media", {"paths": ["/dev/zero"]}), ("import_media", {"paths": [str(tmp_path / "zero.mp4")]}),
             ("import_media", {"paths": [media["a"] + "\0.txt"]}), ("import_media", {"paths": [str(fifo)]}),
             ("link_proxy", {"clip_id": "x", "proxy_path": str(fifo)}),
             ("link_proxy", {"clip_id": "x", "proxy_path": media["song"]}),  # a proxy is video
             ("import_timeline_file", {"path": str(tmp_path / "passwd.xml"), "name": "x", "bin_ids": []}),
             ("import_timeline_file", {"path": str(fifo), "name": "x", "bin_ids": []})]
    return cases


def test_paths_must_be_regular_files_of_the_operations_kind(bridge, fake, media, tmp_path):
    """The same rules on both bridges: no system files, devices, FIFOs, NUL bytes, and a
    symlink is judged by the file it names; a FIFO never blocks the bridge."""
    raw = Raw(bridge.bridge_file)
    raw.sock.settimeout(5)
    seq = 0
    for op, args in _good_path_cases(media, tmp_path):
        seq += 1
        raw.send(raw.frame(op, args, seq=seq))
        answer = raw.reply()
        assert (answer["ok"], answer["code"]) == (False, "bad-args"), (op, args, answer)
    assert not [c for c in fake.behaviour.calls if c[0] in ("ImportMedia", "ImportTimelineFromFile", "LinkProxyMedia")]
    raw.send(raw.frame("import_media", {"paths": [media["a"], media["song"]]}, seq=seq + 1))
    assert raw.reply()["ok"] is True  # real media still imports
    assert _served(bridge)


def test_trickling_connections_cannot_lock_a_good_client_out(bridge):
    """40 connections that send a length prefix and then a byte now and then: a good client is
    served every time, quickly (one deadline per first message, the oldest waiting dropped)."""
    port = wire.read_bridge_file(bridge.bridge_file)["port"]
    stop = threading.Event()
    socks = []
    for _ in range(40):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(struct.pack(">I", 200))
        socks.append(s)

    def trickle() -> None:
        while not stop.wait(0.5):
            for s in socks:
                try:
                    s.send(b"x")
                except OSError:
                    pass

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        served = 0
        for _ in range(5):
            started = time.monotonic()
            try:
                served += _served(bridge) and time.monotonic() - started < 5.0
            except ResolveError:
                pass
            time.sleep(0.5)
        assert served == 5
    finally:
        stop.set()
        thread.join(5)
        for s in socks:
            s.close()


def test_a_busy_bridge_says_busy_and_the_client_retries(bridge):
    held = []
    for seq in range(wire.MAX_CLIENTS):
        raw = Raw(bridge.bridge_file)
        raw.send(raw.frame("product"))
        assert raw.reply()["ok"] is True  # authenticated, holding a slot
        held.append(raw)
    try:
        with pytest.raises(BridgeUnavailable) as info:
            connect_bridge(bridge.bridge_file, timeout_s=5, busy_wait_s=0.5)
        assert info.value.cause == "busy" and "busy" in info.value.reason
        assert "protocol" not in str(info.value)
        threading.Timer(1.0, lambda: [r.close() for r in held[:4]]).start()
        with connect_bridge(bridge.bridge_file, timeout_s=5, busy_wait_s=15) as client:  # retried with backoff
            assert client.product().name == "DaVinci Resolve Studio"
    finally:
        for raw in held:
            raw.close()


def test_fifty_honest_clients_at_once_are_all_served(bridge):
    errors = []

    def one() -> None:
        try:
            with connect_bridge(bridge.bridge_file, timeout_s=20) as client:
                for _ in range(3):
                    client.timeline_names()
        except Exception as exc:  # noqa: BLE001 - collected below
            errors.append(str(exc))

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []


def test_a_client_whose_idle_connection_the_bridge_closed_reconnects(fake, tmp_path):
    """A long analysis between two requests (resolve cut / resolve log): the bridge closes the
    idle connection; the next request opens a new one instead of failing."""
    from montage_ai.resolve_plugin.bridge.montage_bridge import Bridge

    server = Bridge(fake, str(tmp_path / "cfg" / "resolve-bridge.json"), idle_timeout=0.5, resolve_check_interval=60)
    server.start()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with connect_bridge(server.bridge_file) as client:
            assert client.timeline_names() == []
            time.sleep(1.5)  # longer than the bridge's idle timeout
            assert client.product().name == "DaVinci Resolve Studio"
            assert client.timeline_names() == []
    finally:
        server.stop("test over")
        thread.join(5)


# ---------------------------------------------------------------------------- restricted to the project's folders
@pytest.fixture
def project_folders(media, tmp_path):
    """A project folder with a clip, a song and a timeline file; a folder outside it with a
    clip; links each way; a sibling folder whose name starts like the project's."""
    import shutil

    project, outside, sibling = tmp_path / "Job 42", tmp_path / "elsewhere", tmp_path / "Job 42 old"
    for folder in (project, outside, sibling):
        folder.mkdir()
    shutil.copy(media["a"], project / "A001.mp4")
    shutil.copy(media["song"], project / "song.wav")
    (project / "cut.xml").write_text("<xmeml version='4'/>", encoding="utf-8")
    shutil.copy(media["b"], outside / "B002.mp4")
    shutil.copy(media["b"], sibling / "B002.mp4")
    (outside / "cut.xml").write_text("<xmeml version='4'/>", encoding="utf-8")
    (project / "leak.mp4").symlink_to(outside / "B002.mp4")          # inside by name, outside in fact
    (outside / "shortcut.mp4").symlink_to(project / "A001.mp4")      # outside by name, inside in fact
    return project, outside, sibling


@pytest.mark.parametrize("setting", ["env", "file"])
def test_paths_can_be_restricted_to_the_projects_folders(kind, fake, project_folders, tmp_path, setting):
    """Opt-in, the same on both bridges: with the project's folder set, a path is taken only
    when the file it resolves to (through every symlink and "..") lies in that folder."""
    project, outside, sibling = project_folders
    bridge_file = tmp_path / "cfg" / "resolve-bridge.json"
    env = {}
    if setting == "env":
        env["MONTAGE_AI_BRIDGE_FOLDERS"] = os.pathsep.join([str(project), str(tmp_path / "no such folder")])
    else:
        bridge_file.parent.mkdir(parents=True)
        (bridge_file.parent / "bridge-folders.json").write_text(json.dumps({"folders": [str(project)]}), encoding="utf-8")
    process = _start(fake, kind, bridge_file, env=env).wait_ready()
    try:
        raw = Raw(bridge_file)
        refused = [("import_media", {"paths": [str(outside / "B002.mp4")]}),
                   ("import_media", {"paths": [str(project / "leak.mp4")]}),
                   ("import_media", {"paths": [str(project) + "/../elsewhere/B002.mp4"]}),
                   ("import_media", {"paths": [str(sibling / "B002.mp4")]}),
                   ("import_media", {"paths": [str(project / "A001.mp4"), str(outside / "B002.mp4")]}),
                   ("link_proxy", {"clip_id": "x", "proxy_path": str(outside / "B002.mp4")}),
                   ("import_timeline_file", {"path": str(outside / "cut.xml"), "name": "x", "bin_ids": []})]
        seq = 0
        for op, args in refused:
            seq += 1
            raw.send(raw.frame(op, args, seq=seq))
            answer = raw.reply()
            assert (answer["ok"], answer["code"]) == (False, "bad-args"), (op, args, answer)
            assert "outside the folders this bridge may read" in answer["error"], answer
        assert not [c for c in fake.behaviour.calls if c[0] in ("ImportMedia", "ImportTimelineFromFile", "LinkProxyMedia")]
        for paths in ([str(project / "A001.mp4"), str(project / "song.wav")], [str(outside / "shortcut.mp4")]):
            seq += 1
            raw.send(raw.frame("import_media", {"paths": paths}, seq=seq))
            answer = raw.reply()
            assert answer["ok"] is True, answer
        assert "paths restricted to" in process.output()
        assert _served(process)
    finally:
        process.close()


def test_an_unreadable_folder_setting_refuses_every_path(kind, fake, media, tmp_path):
    bridge_file = tmp_path / "cfg" / "resolve-bridge.json"
    bridge_file.parent.mkdir(parents=True)
    (bridge_file.parent / "bridge-folders.json").write_text("{not json", encoding="utf-8")
    process = _start(fake, kind, bridge_file).wait_ready()
    try:
        raw = Raw(bridge_file)
        raw.send(raw.frame("import_media", {"paths": [media["a"]]}))
        answer = raw.reply()
        assert (answer["ok"], answer["code"]) == (False, "bad-args"), answer
        assert "outside the folders" in answer["error"]
    finally:
        process.close()


def test_the_install_option_restricts_both_bridges_and_uninstall_removes_it(kind, fake, project_folders, tmp_path,
                                                                            monkeypatch):
    from montage_ai.resolve_plugin.install import install, uninstall
    from montage_ai.ui.cli.main import main

    project, outside, _ = project_folders
    bridge_file = tmp_path / "user cfg" / "resolve-bridge.json"
    monkeypatch.setenv("MONTAGE_AI_RESOLVE_BRIDGE_FILE", str(bridge_file))
    monkeypatch.delenv("MONTAGE_AI_BRIDGE_FOLDERS", raising=False)
    home, config = tmp_path / "home", tmp_path / "home" / ".config" / "montage-ai"
    home.mkdir()
    install(sys.executable, system="Linux", home=home, config_dir=config, bridge_folders=[str(project)])
    setting = bridge_file.parent / "bridge-folders.json"
    assert json.loads(setting.read_text(encoding="utf-8")) == {"folders": [os.path.realpath(project)]}
    process = _start(fake, kind, bridge_file).wait_ready()
    try:
        raw = Raw(bridge_file)
        raw.send(raw.frame("import_media", {"paths": [str(outside / "B002.mp4")]}))
        assert raw.reply()["code"] == "bad-args"
        raw.send(raw.frame("import_media", {"paths": [str(project / "A001.mp4")]}, seq=2))
        assert raw.reply()["ok"] is True
    finally:
        process.close()
    uninstall(system="Linux", home=home, config_dir=config)
    assert not setting.exists()
    # Through the CLI: a folder that does not exist is refused in one line.
    assert main(["install-resolve", "--bridge-folder", str(tmp_path / "nowhere")]) == 1
