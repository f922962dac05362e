"""The bridge route: :class:`BridgeClient` sends the operations to an in-app bridge.

The bridge (``bridge/montage_bridge.py`` for Resolve's Python, ``bridge/montage_bridge.lua``
for editions whose Scripts menu lists only Lua) is started by the editor from Workspace >
Scripts inside Resolve; it writes its port and a secret to the bridge file
(:func:`~.bridge.wire.default_bridge_file`). :func:`connect_bridge` reads that file, connects
to 127.0.0.1, checks the bridge's signed hello and returns a client; when it cannot,
:class:`BridgeUnavailable` says which of the field problems it is (no bridge started, a stale
file from an earlier start, the port now held by another program, no answer) and the fix.

The client implements :class:`~.client.ResolveClient` (through :class:`~.client.OpsClient`),
so :mod:`.pool` and :mod:`.push` run over it unchanged. One connection, one request at a time
(a lock serialises callers). Protocol: :mod:`.bridge.wire`.
"""

from __future__ import annotations

import logging
import os
import random
import select
import socket
import stat
import threading
import time
from dataclasses import dataclass
from typing import Any

from .bridge import wire
from .client import OpsClient
from .errors import ResolveError

log = logging.getLogger(__name__)

START_BRIDGE = ("in Resolve, open a project and choose Workspace > Scripts > Utility > Montage AI Bridge "
                "(install it with `montage-ai install-resolve`, then restart Resolve so the menu lists it)")


class BridgeUnavailable(ResolveError):
    """No usable bridge; ``cause`` is one of ``not-started``, ``unreadable``, ``stale``,
    ``port-taken``, ``no-answer``, ``protocol``, ``busy``; ``fix`` says what to do."""

    def __init__(self, cause: str, reason: str, fix: str) -> None:
        self.cause, self.reason, self.fix = cause, reason, fix
        super().__init__(f"{reason}; {fix}")

    def __reduce__(self):
        return (type(self), (self.cause, self.reason, self.fix))


@dataclass(frozen=True)
class BridgeHello:
    """What the bridge said about itself when we connected."""

    kind: str
    pid: int
    product: str
    version: str
    python: str
    executable: str


class BridgeClient(OpsClient):
    """:class:`~.client.ResolveClient` over a connection to an in-app bridge."""

    def __init__(self, sock: socket.socket, secret: str, hello: dict, path: str, timeout_s: float) -> None:
        super().__init__()
        self._sock = sock
        self._secret = secret
        self._nonce = str(hello.get("nonce", ""))
        self._seq = 0
        self._lock = threading.Lock()
        self._timeout_s = timeout_s
        self.path = path
        self.hello = BridgeHello(str(hello.get("kind", "")), int(hello.get("pid") or 0), str(hello.get("product", "")),
                                 str(hello.get("version", "")), str(hello.get("python", "")),
                                 str(hello.get("executable", "")))
        self.route = f"bridge-{self.hello.kind or 'python'}"

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass

    def _closed_by_bridge(self) -> bool:
        """Whether the bridge has closed our idle connection (its idle timeout): the socket
        reads as at its end, or is closed on our side. Looked at before a request is sent, so
        no request is ever sent twice."""
        if self._sock.fileno() < 0:
            return True
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
            if not readable:
                return False
            self._sock.setblocking(False)
            try:
                return self._sock.recv(1, socket.MSG_PEEK) == b""
            finally:
                self._sock.setblocking(True)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def _reconnect(self) -> None:
        """A new connection (new hello, nonce and sequence) to the bridge of the same file."""
        fresh = connect_bridge(self.path, timeout_s=min(self._timeout_s, 10.0))
        self.close()
        self._sock, self._secret, self._nonce, self._seq = fresh._sock, fresh._secret, fresh._nonce, 0
        log.info("reconnected to the %s bridge (the bridge had closed the idle connection)", self.hello.kind)

    def __enter__(self) -> "BridgeClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, op: str, args: dict[str, Any], timeout_s: float | None = None) -> Any:
        """Send one operation and return its result; :class:`ResolveError` for a refusal.

        The first request of a connection authenticates it; a bridge that drops it unanswered
        (too many connections waiting to authenticate) never ran it, so it is sent again on a
        new connection, with growing pauses, for up to 15 s, then reported as busy."""
        give_up = time.monotonic() + 15.0
        pause = 0.1
        while True:
            try:
                return self._request_once(op, args, timeout_s)
            except _DroppedUnanswered:
                if time.monotonic() + pause > give_up:
                    raise BridgeUnavailable("busy", f"the {self.hello.kind} bridge kept closing new connections "
                                            f"before answering {op} (too many connections at once)",
                                            "try again in a moment; if it stays busy, another program keeps "
                                            "connecting to it: restart the bridge from Workspace > Scripts") from None
                time.sleep(pause * random.uniform(0.5, 1.0))
                pause = min(pause * 2, 2.0)
                with self._lock:
                    self._reconnect()

    def _request_once(self, op: str, args: dict[str, Any], timeout_s: float | None) -> Any:
        with self._lock:
            if self._closed_by_bridge():
                self._reconnect()
            self._seq += 1
            seq = self._seq
            try:
                self._sock.settimeout(timeout_s or self._timeout_s)
                self._sock.sendall(wire.encode(self._secret, {"nonce": self._nonce, "seq": seq, "op": op,
                                                              "args": args}))
                reply = wire.read_frame(self._sock, self._secret, wire.MAX_REPLY)
            except wire.WireError as exc:
                self.close()
                if seq == 1 and exc.code == "closed":
                    raise _DroppedUnanswered() from None
                raise ResolveError(f"the Montage AI bridge in Resolve did not answer {op} ({exc}); "
                                   f"is Resolve still running? {START_BRIDGE}") from None
            except OSError as exc:
                self.close()
                if seq == 1 and isinstance(exc, (BrokenPipeError, ConnectionResetError)):
                    raise _DroppedUnanswered() from None
                raise ResolveError(f"the connection to the Montage AI bridge failed during {op}: {exc}; "
                                   f"{START_BRIDGE}") from None
        if reply.get("nonce") != self._nonce or reply.get("seq") != seq:
            self.close()
            raise ResolveError(f"the bridge answered {op} out of order (nonce or sequence): connection closed")
        if not reply.get("ok"):
            raise ResolveError(f"the bridge refused {op}: {reply.get('error', '')} ({reply.get('code', '')})")
        return reply.get("result")

    def _op(self, op: str, /, **args: Any) -> Any:
        return self.request(op, args)

    def stop_bridge(self) -> None:
        """Ask the bridge to stop (it answers, then closes)."""
        self.request("stop", {})
        self.close()


def _mode_problem(path: str) -> str:
    if os.name == "nt":
        return ""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"{path} is readable by other users (mode {stat.S_IMODE(mode):o}); the bridge writes it 0600"
    return ""


def connect_bridge(path: str | None = None, *, timeout_s: float = 5.0, busy_wait_s: float = 15.0) -> BridgeClient:
    """A client for the bridge named in the bridge file at ``path`` (default:
    :func:`~.bridge.wire.default_bridge_file`). A bridge that answers "busy" is asked again
    with growing pauses (0.1 s, doubling, at most 2 s) for up to ``busy_wait_s`` seconds.

    Raises
    ------
    BridgeUnavailable
        With the cause and the fix (``busy`` when it stayed busy).
    """
    give_up = time.monotonic() + busy_wait_s
    pause = 0.1
    while True:
        try:
            return _connect_once(path, timeout_s)
        except _Busy as busy:
            left = give_up - time.monotonic()
            if busy.unavailable is not None and (left <= 0 or time.monotonic() > give_up - busy_wait_s + 3.0):
                raise busy.unavailable from None  # closed before any hello for 3 s: not a busy bridge
            if left <= 0:
                raise BridgeUnavailable("busy", f"the {busy.kind} bridge is busy: every connection stayed in use for "
                                        f"{busy_wait_s:g} s", "try again in a moment; if it stays busy, another "
                                        "program keeps connecting to it: restart the bridge from Workspace > "
                                        "Scripts") from None
            time.sleep(min(max(pause, busy.retry_after) * random.uniform(0.5, 1.0), left))  # jitter: no herd
            pause = min(pause * 2, 2.0)


class _DroppedUnanswered(Exception):
    """The bridge closed a connection before answering its first (authenticating) request."""


class _Busy(Exception):
    """A "busy" answer, or (``unavailable`` set) a connection closed before its hello, which a
    bridge dropping the oldest of many new connections does too."""

    def __init__(self, kind: str, retry_after: float, unavailable: BridgeUnavailable | None = None) -> None:
        super().__init__(kind)
        self.kind, self.retry_after, self.unavailable = kind, retry_after, unavailable


def _connect_once(path: str | None, timeout_s: float) -> BridgeClient:
    path = path or wire.default_bridge_file()
    if not os.path.exists(path):
        raise BridgeUnavailable("not-started", f"no in-app bridge is running (no bridge file at {path})", START_BRIDGE)
    info = wire.read_bridge_file(path)
    if info is None or not isinstance(info.get("port"), int) or not isinstance(info.get("secret"), str):
        raise BridgeUnavailable("unreadable", f"the bridge file {path} cannot be read",
                                "start the bridge again from Workspace > Scripts > Utility > Montage AI Bridge; "
                                "it writes a new file")
    problem = _mode_problem(path)
    if problem:
        raise BridgeUnavailable("unreadable", problem, f"remove {path} and start the bridge again")
    pid, port, kind = info.get("pid"), info["port"], info.get("kind", "python")
    started = info.get("started", "an earlier start")
    alive = wire.process_alive(pid) if isinstance(pid, int) else False
    stale_fix = ("the bridge of that start is gone (Resolve quit or the script stopped): "
                 "start it again from Workspace > Scripts > Utility > Montage AI Bridge; it replaces the file")
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    except socket.timeout:
        raise BridgeUnavailable("no-answer", f"the {kind} bridge on port {port} does not accept connections within "
                                f"{timeout_s:g} s", "Resolve may be busy (a modal dialog?); try again, or restart "
                                "the bridge from Workspace > Scripts") from None
    except OSError as exc:
        if alive is False:
            raise BridgeUnavailable("stale", f"stale bridge file from {started}: process {pid} no longer runs and "
                                    f"nothing listens on port {port}", stale_fix) from None
        raise BridgeUnavailable("stale", f"the bridge of {started} (process {pid}) does not listen on port {port} "
                                f"any more ({exc})", stale_fix) from None
    sock.settimeout(timeout_s)
    try:
        hello = wire.read_frame(sock, info["secret"])
    except wire.WireError as exc:
        sock.close()
        if exc.code == "timeout":
            raise BridgeUnavailable("no-answer", f"something on port {port} accepted the connection but said nothing "
                                    f"within {timeout_s:g} s", "if it is not our bridge: " + stale_fix) from None
        taken = BridgeUnavailable("port-taken", f"port {port} from the bridge file ({started}) is held by another "
                                  f"program, not our bridge ({exc})", stale_fix)
        if exc.code == "closed" and alive is not False:
            raise _Busy(str(kind), 0.0, taken) from None
        raise taken from None
    if hello.get("code") == "busy" and hello.get("ok") is False:
        sock.close()
        retry = hello.get("retry_after")
        raise _Busy(str(kind), float(retry) if isinstance(retry, (int, float)) else 0.0)
    if hello.get("bridge") != "montage-ai" or hello.get("protocol") != wire.PROTOCOL or not hello.get("nonce"):
        sock.close()
        raise BridgeUnavailable("protocol", f"the bridge on port {port} speaks protocol {hello.get('protocol')!r}, "
                                f"this Montage AI speaks {wire.PROTOCOL}",
                                "run `montage-ai install-resolve` again so the bridge matches, then restart it")
    return BridgeClient(sock, info["secret"], hello, path, timeout_s=max(timeout_s, 60.0))
