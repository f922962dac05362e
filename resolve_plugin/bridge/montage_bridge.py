# montage-ai resolve bridge
"""Montage AI bridge for DaVinci Resolve: Workspace > Scripts > Utility > Montage AI Bridge.

For editions where no outside process may call ``scriptapp("Resolve")`` (the free edition):
started from Resolve's Scripts menu, this script runs inside Resolve with the ``resolve``
object Resolve gives it, and serves a fixed list of operations to Montage AI over a socket:

- it listens on 127.0.0.1 only, at a random free port, and writes port, process id and a
  random secret to the bridge file (mode 0600; ``BRIDGE_FILE``, written by the installer);
- every request is signed with HMAC-SHA256 of the secret and carries the connection's nonce
  and a sequence number: unsigned, wrongly signed and replayed requests are refused
  (protocol in ``wire.py``); messages over 16 MB are refused from their length prefix;
- only the operations of ``resolve_ops.OPERATIONS`` run, with their arguments checked (file
  paths must be absolute, without NUL bytes, and resolve through symlinks to a regular file
  with an extension of the kind the operation reads: no FIFOs, devices or /etc/passwd), and,
  opt-in, lie in the folders of ``$MONTAGE_AI_BRIDGE_FOLDERS`` or ``bridge-folders.json`` beside
  the bridge file (``resolve_ops.folder_setting``); no code is evaluated;
- it cannot be starved: a new connection has one deadline for its whole first signed request,
  at most a few connections wait to authenticate (a new one drops the oldest), and when every
  slot is taken the answer is a clear "busy, retry" (the client retries with backoff);
- every Resolve call runs on this script's own thread (the API is not thread-safe); each
  connection has a thread of its own that reads, checks and answers, so a silent or slow
  client does not hold up the others;
- it stops on a signed ``stop`` request, when Resolve stops answering (it has quit), or when
  a newer bridge has taken over the bridge file (a newer bridge also asks it to stop).

Resolve runs this file with its own Python (3.6 or newer; standard library only). The
Resolve-calling code is ``resolve_ops.py`` and the protocol ``wire.py``: the same files
Montage AI's direct route uses, installed beside our config (``SUPPORT_DIR``).

Tested with ``tests/fake_resolve.py`` behind a proxy in a subprocess; not yet run inside a
real Resolve.
"""

import importlib.util
import logging
import os
import queue
import socket
import sys
import threading
import time

SUPPORT_DIR = ""  # written by the installer
BRIDGE_FILE = ""  # written by the installer
HOST = "127.0.0.1"
KIND = "python"

log = logging.getLogger("montage_ai.resolve_bridge")


def _support(name):
    """``resolve_ops`` or ``wire``: from our package when imported from it, else from
    ``SUPPORT_DIR`` (or this file's folder) under a name no other script uses."""
    if __package__:
        return importlib.import_module("%s.%s" % (__package__, name))
    unique = "montage_ai_bridge_" + name
    if unique in sys.modules:
        return sys.modules[unique]
    folder = SUPPORT_DIR or os.path.dirname(os.path.abspath(globals().get("__file__") or "."))
    spec = importlib.util.spec_from_file_location(unique, os.path.join(folder, name + ".py"))
    if spec is None:
        raise ImportError("%s.py is not in %s: run `montage-ai install-resolve` again" % (name, folder))
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ in the installed folder: uninstall removes exactly what it wrote
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = before
    return module


resolve_ops = _support("resolve_ops")
wire = _support("wire")


def report(message):
    """A line in Resolve's Console (Workspace > Console)."""
    print("Montage AI bridge: " + message)
    sys.stdout.flush()


class _Job(object):
    def __init__(self, op, args):
        self.op = op
        self.args = args
        self.done = threading.Event()
        self.result = None
        self.error = None


class Bridge(object):
    """The bridge (see the module docstring). :meth:`start`, then :meth:`serve_forever` on
    the thread that may call Resolve."""

    def __init__(self, resolve, bridge_file, idle_timeout=15.0, call_timeout=300.0, max_clients=None,
                 max_message=None, watch_interval=0.25, resolve_check_interval=2.0, auth_deadline=None,
                 max_unauthenticated=None):
        self.resolve = resolve
        self.ops = resolve_ops.ResolveOps(resolve)
        self.bridge_file = bridge_file
        self.secret = wire.new_secret()
        self.idle_timeout = idle_timeout
        self.call_timeout = call_timeout
        self.max_message = max_message or wire.MAX_MESSAGE
        self.watch_interval = watch_interval
        self.resolve_check_interval = resolve_check_interval
        self.slots = threading.BoundedSemaphore(max_clients or wire.MAX_CLIENTS)
        self.auth_deadline = auth_deadline or wire.AUTH_DEADLINE
        self.max_unauthenticated = max_unauthenticated or wire.MAX_UNAUTHENTICATED
        self.unauthenticated = []  # connections waiting to authenticate, oldest first
        self.dropped = set()  # of those, the ones dropped for newer ones
        self.unauth_lock = threading.Lock()
        self.jobs = queue.Queue()
        self.stopping = threading.Event()
        self.stop_reason = ""
        self.listener = None
        self.port = 0
        self.product = {"name": "", "version": ""}

    # ------------------------------------------------------------------ start and stop
    def start(self):
        try:
            self.product = self.ops.product()
        except Exception as exc:  # noqa: BLE001 - reported in the hello, not fatal
            log.warning("cannot read Resolve's product name: %s", exc)
        folders = resolve_ops.restrict_to_folders(resolve_ops.folder_setting(self.bridge_file))
        if folders is not None:
            report("paths restricted to: %s" % (", ".join(folders) or "no folder (every path is refused)"))
        replaced = self._replace_earlier()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((HOST, 0))
        listener.listen(128)
        listener.settimeout(self.watch_interval)
        self.listener = listener
        self.port = listener.getsockname()[1]
        wire.write_bridge_file(self.bridge_file, {
            "port": self.port, "pid": os.getpid(), "secret": self.secret, "kind": KIND, "protocol": wire.PROTOCOL,
            "product": self.product.get("name", ""), "version": self.product.get("version", ""),
            "python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable or "",
            "started": wire.now_text()})
        threading.Thread(target=self._accept_loop, name="montage-bridge-accept", daemon=True).start()
        report("listening on %s:%d (Python %d.%d, %s %s)%s" % (
            HOST, self.port, sys.version_info[0], sys.version_info[1], self.product.get("name", ""),
            self.product.get("version", ""), "; replaced the bridge started earlier" if replaced else ""))

    def _replace_earlier(self):
        """Ask a bridge named in the bridge file to stop; True when one answered."""
        old = wire.read_bridge_file(self.bridge_file)
        if not old or not isinstance(old.get("port"), int) or not isinstance(old.get("secret"), str):
            return False
        try:
            with socket.create_connection((HOST, old["port"]), timeout=2.0) as sock:
                hello = wire.read_frame(sock, old["secret"])
                sock.sendall(wire.encode(old["secret"], {"nonce": hello.get("nonce"), "seq": 1, "op": "stop",
                                                         "args": {}}))
                wire.read_frame(sock, old["secret"])
            return True
        except (OSError, wire.WireError):
            return False  # gone already, or the port now belongs to someone else

    def stop(self, reason):
        if not self.stopping.is_set():
            self.stop_reason = reason
            self.stopping.set()

    def serve_forever(self):
        """Run Resolve calls until stopped; then close and remove our bridge file."""
        next_check = time.monotonic() + self.resolve_check_interval
        misses = 0
        try:
            while not self.stopping.is_set():
                try:
                    job = self.jobs.get(timeout=self.watch_interval)
                except queue.Empty:
                    job = None
                if job is not None:
                    self._run(job)
                current = wire.read_bridge_file(self.bridge_file)
                if current is None or current.get("secret") != self.secret:
                    self.stop("a newer bridge took over (or the bridge file was removed)")
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + self.resolve_check_interval
                    if resolve_ops._call(self.resolve, "GetProjectManager") is None:
                        misses += 1
                        if misses >= 2:
                            self.stop("Resolve does not answer any more (it has quit)")
                    else:
                        misses = 0
        except KeyboardInterrupt:
            self.stop("interrupted")
        finally:
            self._close()

    def _close(self):
        try:
            self.listener.close()
        except OSError:
            pass
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            job.error = ("stopped", "the bridge stopped: %s" % self.stop_reason)
            job.done.set()
        wire.remove_bridge_file(self.bridge_file, self.secret)
        report("stopped: %s" % self.stop_reason)

    def _run(self, job):
        try:
            job.result = getattr(self.ops, job.op)(*job.args)
        except resolve_ops.OpsError as exc:
            job.error = (exc.code, str(exc))
        except Exception as exc:  # noqa: BLE001 - one failed call must not end the bridge
            log.exception("operation %s failed", job.op)
            job.error = ("internal", "%s failed: %s: %s" % (job.op, type(exc).__name__, exc))
        job.done.set()

    # ------------------------------------------------------------------ connections
    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                if self.stopping.is_set():
                    return
                time.sleep(0.05)
                continue
            accepted = time.monotonic()
            with self.unauth_lock:
                full = len(self.unauthenticated) >= self.max_unauthenticated
            if full:
                self._drop_oldest_unauthenticated()
            if not self.slots.acquire(blocking=False):
                # Slots held by connections that never authenticated are freed first.
                if not (self._drop_oldest_unauthenticated() and self.slots.acquire(timeout=1.0)):
                    threading.Thread(target=self._refuse_busy, args=(conn,), daemon=True).start()
                    continue
            with self.unauth_lock:
                self.unauthenticated.append(conn)
            threading.Thread(target=self._serve_client, args=(conn, accepted), name="montage-bridge-client",
                             daemon=True).start()

    def _drop_oldest_unauthenticated(self):
        """Close the connection that has waited longest without authenticating; True if one was."""
        with self.unauth_lock:
            if not self.unauthenticated:
                return False
            oldest = self.unauthenticated.pop(0)
            self.dropped.add(oldest)
        try:
            oldest.shutdown(socket.SHUT_RDWR)  # its thread's read ends; the thread closes it and frees the slot
        except OSError:
            pass
        return True

    def _authenticated(self, conn):
        """Mark ``conn`` authenticated; False when it was dropped meanwhile (then its request
        is not run, so a client may safely send it again on a new connection)."""
        with self.unauth_lock:
            if conn in self.unauthenticated:
                self.unauthenticated.remove(conn)
            if conn in self.dropped:
                self.dropped.discard(conn)
                return False
            return True

    def _refuse_busy(self, conn):
        try:
            conn.settimeout(2.0)
            conn.sendall(wire.encode(self.secret, {"bridge": "montage-ai", "protocol": wire.PROTOCOL, "ok": False,
                                                   "code": "busy", "retry_after": 0.5,
                                                   "error": "busy: all connections are in use; retry"}))
        except (OSError, wire.WireError):
            pass
        finally:
            conn.close()

    def _send(self, conn, message):
        try:
            frame = wire.encode(self.secret, message, wire.MAX_REPLY)
        except wire.WireError as exc:
            frame = wire.encode(self.secret, {"nonce": message.get("nonce"), "seq": message.get("seq"), "ok": False,
                                              "code": "too-large", "error": "the answer is too large: %s" % exc})
        conn.sendall(frame)

    def _serve_client(self, conn, accepted=None):
        deadline = (accepted or time.monotonic()) + self.auth_deadline
        try:
            conn.settimeout(self.idle_timeout)
            nonce = wire.new_secret()[:32]
            self._send(conn, {"bridge": "montage-ai", "protocol": wire.PROTOCOL, "kind": KIND, "nonce": nonce,
                              "pid": os.getpid(), "product": self.product.get("name", ""),
                              "version": self.product.get("version", ""),
                              "python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable or ""})
            seq = 0
            while not self.stopping.is_set():
                try:
                    if seq == 0:  # not authenticated yet: one deadline for the whole first request
                        message = wire.read_frame(conn, self.secret, self.max_message, deadline=deadline)
                    else:
                        message = wire.read_frame(conn, self.secret, self.max_message,
                                                  body_timeout=wire.BODY_DEADLINE)
                        conn.settimeout(self.idle_timeout)
                except wire.WireError as exc:
                    if exc.code not in ("closed", "timeout"):
                        self._send(conn, {"nonce": nonce, "seq": None, "ok": False, "code": exc.code,
                                          "error": str(exc)})
                        self._drain(conn)
                    return
                if message.get("nonce") != nonce or message.get("seq") != seq + 1:
                    self._send(conn, {"nonce": nonce, "seq": message.get("seq"), "ok": False, "code": "replay",
                                      "error": "wrong nonce or sequence number: a replayed or out-of-order request"})
                    return
                seq += 1
                if seq == 1 and not self._authenticated(conn):
                    return
                conn.settimeout(self.idle_timeout)
                self._send(conn, self._answer(nonce, seq, message))
                if message.get("op") == "stop":
                    self.stop("asked to stop by a client")
                    return
        except (OSError, wire.WireError):
            return
        finally:
            self._authenticated(conn)
            with self.unauth_lock:
                self.dropped.discard(conn)
            try:
                conn.close()
            finally:
                self.slots.release()

    def _drain(self, conn):
        """After refusing a frame: stop sending, read what is in flight for a moment (so the
        client sees our answer rather than a reset), then close."""
        try:
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(0.2)
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline and conn.recv(1 << 16):
                pass
        except OSError:
            pass

    def _answer(self, nonce, seq, message):
        op = message.get("op")
        reply = {"nonce": nonce, "seq": seq}
        if op == "stop":
            reply.update(ok=True, result=True)
            return reply
        try:
            args = resolve_ops.checked_args(op, message.get("args", {}))
        except resolve_ops.OpsError as exc:
            reply.update(ok=False, code=exc.code, error=str(exc))
            return reply
        job = _Job(op, args)
        self.jobs.put(job)
        if not job.done.wait(self.call_timeout):
            reply.update(ok=False, code="timeout", error="%s did not finish within %g s" % (op, self.call_timeout))
            return reply
        if job.error:
            reply.update(ok=False, code=job.error[0], error=job.error[1])
        else:
            reply.update(ok=True, result=job.result)
        return reply


def main(resolve=None, bridge_file=None, **options):
    """Start the bridge on the ``resolve`` object and serve until it stops; the exit code."""
    if resolve is None:
        report("no resolve object: start this script from Resolve (Workspace > Scripts > Utility)")
        return 2
    path = bridge_file or BRIDGE_FILE or wire.default_bridge_file()
    bridge = Bridge(resolve, path, **options)
    try:
        bridge.start()
    except OSError as exc:
        report("cannot listen on %s or write %s: %s" % (HOST, path, exc))
        return 1
    bridge.serve_forever()
    return 0


def _injected():
    main_globals = globals()
    obj = main_globals.get("resolve")
    if obj is None and main_globals.get("app") is not None:
        try:
            obj = main_globals["app"].GetResolve()
        except Exception:  # noqa: BLE001 - an old app object
            obj = None
    return obj


if __name__ == "__main__":
    main(_injected())
