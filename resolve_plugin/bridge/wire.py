"""The in-app bridge's wire protocol and its bridge file (standard library, Python 3.6 syntax).

Shared by the bridge inside Resolve (``montage_bridge.py``, run by Resolve's own Python) and
our client (:mod:`montage_ai.resolve_plugin.bridge_client`); the Lua bridge
(``montage_bridge.lua``) speaks the same protocol.

**Bridge file** (:func:`write_bridge_file`): JSON with ``port``, ``pid``, ``secret`` (64 hex
digits from ``os.urandom``), ``kind`` (``"python"``/``"lua"``), ``product``,
``version``, ``python`` and ``started``; created with mode 0600 in a folder of mode 0700,
written to a temporary file and renamed, so no other user can read the secret.

**Frames**: a 4-byte big-endian length, then that many bytes: 64 hex digits of
HMAC-SHA256(secret, body) and the body, UTF-8 JSON. The length is read first and a frame
over :data:`MAX_MESSAGE` is refused before its body is read. The key of the HMAC is the
secret's text as ASCII.

**Conversation**: on connect the bridge sends a signed *hello* ``{"bridge": "montage-ai",
"protocol": 1, "kind", "nonce", "pid", "product", "version", "python"}`` with a fresh random
nonce. Each request is ``{"nonce", "seq", "op", "args"}``: the hello's nonce and ``seq``
1, 2, 3 ... on that connection, so a recorded request is refused on another connection (other
nonce) and on the same one (used seq). Each answer is signed ``{"nonce", "seq", "ok": true,
"result"}`` or ``{"nonce", "seq", "ok": false, "code", "error"}``. A request that fails its
signature, nonce or sequence, is too large or not JSON is answered with an error and the
connection is closed.

**Starvation**: a connection must send its first signed request whole within
:data:`AUTH_DEADLINE` seconds of connecting (one deadline for the whole message, not per
read); at most :data:`MAX_UNAUTHENTICATED` connections wait to authenticate, and a new one
drops the oldest of them. When all :data:`MAX_CLIENTS` slots are taken the bridge answers
``{"bridge": "montage-ai", "protocol", "ok": false, "code": "busy", "retry_after"}`` instead
of a hello and closes; the client retries with backoff and, if still refused, says the bridge
is busy. After authentication a request's body must arrive within :data:`BODY_DEADLINE` of
its length prefix; an idle client is closed after the bridge's idle timeout, and our client
reconnects when it finds its connection closed before sending.
"""

import binascii
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time

PROTOCOL = 1
#: The largest request a bridge accepts (bytes after the length prefix).
MAX_MESSAGE = 16 * 1024 * 1024
#: The largest answer a client accepts (a large project's media pool can pass 16 MB).
MAX_REPLY = 256 * 1024 * 1024
MAC_HEX = 64
#: Seconds a new connection has to deliver its first whole, signed request.
AUTH_DEADLINE = 5.0
#: Connections allowed to wait for authentication at once; a new one drops the oldest.
MAX_UNAUTHENTICATED = 8
#: Connections served at once; more are answered "busy".
MAX_CLIENTS = 32
#: Seconds for the body of a request once its length prefix has arrived.
BODY_DEADLINE = 30.0
ENV_BRIDGE_FILE = "MONTAGE_AI_RESOLVE_BRIDGE_FILE"
BRIDGE_FILE_NAME = "resolve-bridge.json"


class WireError(Exception):
    """A frame could not be read or trusted; ``code`` names why (``closed``, ``timeout``,
    ``too-large``, ``auth``, ``bad-json``, ``replay``)."""

    def __init__(self, message, code):
        Exception.__init__(self, message)
        self.code = code


def default_bridge_file(env=None, system=None):
    """Where the bridge file lives when neither the installer nor ``$MONTAGE_AI_RESOLVE_BRIDGE_FILE``
    names it: our per-user config folder (the folder ``platformdirs.user_config_dir("montage-ai")``
    gives, computed here with the standard library so Resolve's Python finds the same one)."""
    env = os.environ if env is None else env
    if env.get(ENV_BRIDGE_FILE):
        return env[ENV_BRIDGE_FILE]
    system = system or sys.platform
    home = os.path.expanduser("~")
    if system.startswith("win"):
        base = env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
    elif system == "darwin":
        base = os.path.join(home, "Library", "Application Support")
    else:
        base = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return os.path.join(base, "montage-ai", BRIDGE_FILE_NAME)


def sign(secret, body):
    """HMAC-SHA256 of ``body`` (bytes) with ``secret`` (text), as 64 hex digits (bytes)."""
    return hmac.new(secret.encode("ascii"), body, hashlib.sha256).hexdigest().encode("ascii")


def encode(secret, message, limit=MAX_MESSAGE):
    """A whole frame for ``message`` (a JSON-ready dict), at most ``limit`` bytes."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    payload = sign(secret, body) + body
    if len(payload) > limit:
        raise WireError("message of %d bytes is over the limit of %d" % (len(payload), limit), "too-large")
    return struct.pack(">I", len(payload)) + payload


def recv_exact(sock, count, deadline=None):
    """``count`` bytes from ``sock``. Without ``deadline`` the socket's timeout applies to each
    read; with one (a ``time.monotonic()`` value) all ``count`` bytes must arrive by then, so a
    peer trickling one byte at a time cannot hold the reader past it."""
    chunks = []
    left = count
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WireError("the whole message did not arrive within the time limit", "timeout")
            sock.settimeout(remaining)
        try:
            chunk = sock.recv(min(left, 1 << 20))
        except socket.timeout:
            raise WireError("no data within the time limit", "timeout")
        except OSError as exc:
            raise WireError("connection failed: %s" % exc, "closed")
        if not chunk:
            raise WireError("connection closed", "closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(sock, secret, max_message=MAX_MESSAGE, deadline=None, body_timeout=None):
    """The next frame's body as a dict, its signature checked (see the module docstring).

    ``deadline`` (monotonic time) bounds the whole frame, length prefix included;
    ``body_timeout`` bounds the rest of a frame once its length prefix has arrived (the wait
    for the prefix itself keeps the socket's timeout: an idle, authenticated client)."""
    (length,) = struct.unpack(">I", recv_exact(sock, 4, deadline))
    if length > max_message:
        raise WireError("message of %d bytes is over the limit of %d" % (length, max_message), "too-large")
    if length < MAC_HEX:
        raise WireError("message of %d bytes is too short to be signed" % length, "auth")
    if body_timeout is not None:
        end = time.monotonic() + body_timeout
        deadline = end if deadline is None else min(deadline, end)
    payload = recv_exact(sock, length, deadline)
    mac, body = payload[:MAC_HEX], payload[MAC_HEX:]
    if not hmac.compare_digest(mac, sign(secret, body)):
        raise WireError("wrong or missing signature", "auth")
    try:
        message = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise WireError("not JSON: %s" % exc, "bad-json")
    if not isinstance(message, dict):
        raise WireError("not a JSON object", "bad-json")
    return message


def new_secret():
    """64 random hex digits."""
    return binascii.hexlify(os.urandom(32)).decode("ascii")


def write_bridge_file(path, info):
    """Write ``info`` to ``path`` readable by this user only (0600; folder 0700 when made)."""
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        os.makedirs(folder, 0o700)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        os.remove(tmp)  # left by a crash
    except OSError:
        pass
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # the umask cannot widen it; an old file of that name is not reused
        os.write(fd, (json.dumps(info, indent=2, sort_keys=True) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_bridge_file(path):
    """The bridge file as a dict, or ``None`` when there is none or it cannot be read."""
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove_bridge_file(path, secret):
    """Remove the bridge file if it still belongs to the bridge holding ``secret``."""
    data = read_bridge_file(path)
    if data is not None and data.get("secret") == secret:
        try:
            os.remove(path)
        except OSError:
            pass


def process_alive(pid):
    """Whether process ``pid`` exists (``None`` where it cannot be told)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    if os.name == "nt":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return None
    return True


def now_text():
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
