"""The fake Resolve of ``fake_resolve.py``, served to a bridge running in another process.

A bridge runs inside Resolve and calls the ``resolve`` object Resolve gives it. In the tests
the bridge runs in a subprocess (Python or LuaJIT) and its ``resolve`` is a proxy: every
method call on a proxy object travels over the subprocess's stdin/stdout to
:class:`FakeHost` in the test process, which makes the call on the real fake object and
sends back the result. So the bridge calls exactly the fake the direct-route tests use, and a
test can look at the fake's state afterwards.

Channel: one JSON object per line. A call is ``{"h": handle, "m": method, "a": [args]}``
(handle 0 is the ``resolve`` object); the answer ``{"r": value}``, ``{"missing": true}`` when
the object has no such method, or ``{"x": "error"}`` when the call raised. Values: JSON
scalars; lists as ``{"L": [...]}``; dicts as ``{"D": [[key, value], ...]}`` (keys keep their
type: ``GetMarkers`` has number keys); fake objects as ``{"O": handle}``.

The proxy side is :class:`Proxy` here (standard library only, Python 3.6 syntax: the bridge
is also run under the oldest Python Resolve may use) and ``tests/lua/fake_resolve_proxy.lua``.
"""

import json
import threading


def encode(value, handle_of):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return {"L": [encode(v, handle_of) for v in value]}
    if isinstance(value, dict):
        return {"D": [[encode(k, handle_of), encode(v, handle_of)] for k, v in value.items()]}
    return {"O": handle_of(value)}


def decode(value, object_of):
    if isinstance(value, dict):
        if "L" in value:
            return [decode(v, object_of) for v in value["L"]]
        if "D" in value:
            return {decode(k, object_of): decode(v, object_of) for k, v in value["D"]}
        if "O" in value:
            return object_of(value["O"])
        raise ValueError(f"bad value {value!r}")
    return value


class FakeHost:
    """Answers a bridge subprocess's calls on ``resolve`` (a :class:`fake_resolve.FakeResolve`)."""

    def __init__(self, resolve, calls_in, answers_out):
        self._objects = {0: resolve}
        self._handles = {id(resolve): 0}
        self._in, self._out = calls_in, answers_out
        self.calls = 0
        self.thread = threading.Thread(target=self._serve, name="fake-resolve-host", daemon=True)
        self.thread.start()

    def _handle(self, obj):
        key = id(obj)
        if key not in self._handles:
            self._handles[key] = len(self._objects)
            self._objects[self._handles[key]] = obj
        return self._handles[key]

    def _serve(self):
        for line in iter(self._in.readline, b""):
            try:
                call = json.loads(line)
                obj = self._objects[call["h"]]
                fn = getattr(obj, call["m"], None)
                if fn is None or call["m"].startswith("_"):
                    answer = {"missing": True}
                else:
                    self.calls += 1
                    args = decode({"L": call["a"]} if isinstance(call["a"], list) else call["a"], self._objects.__getitem__)
                    answer = {"r": encode(fn(*args), self._handle)}
            except Exception as exc:  # noqa: BLE001 - the proxy raises it on its side
                answer = {"x": f"{type(exc).__name__}: {exc}"}
            try:
                self._out.write((json.dumps(answer, ensure_ascii=False) + "\n").encode("utf-8"))
                self._out.flush()
            except (OSError, ValueError):
                return


class _Remote:
    def __init__(self, calls_out, answers_in):
        self._out, self._in = calls_out, answers_in
        self._lock = threading.Lock()

    def call(self, handle, method, args):
        with self._lock:
            self._out.write((json.dumps({"h": handle, "m": method, "a": encode(list(args), _handle_of)["L"]})
                             + "\n").encode("utf-8"))
            self._out.flush()
            line = self._in.readline()
        if not line:
            raise ConnectionError("the fake Resolve has gone away")
        answer = json.loads(line)
        if answer.get("missing"):
            raise AttributeError(method)
        if "x" in answer:
            raise RuntimeError(answer["x"])
        return decode(answer["r"], lambda h: Proxy(self, h))


def _handle_of(obj):
    if isinstance(obj, Proxy):
        return object.__getattribute__(obj, "_handle")
    raise TypeError(f"cannot send {obj!r} to the fake Resolve")


class Proxy:
    """A fake Resolve object in the bridge's process: method calls go to :class:`FakeHost`."""

    def __init__(self, remote, handle):
        self._remote, self._handle = remote, handle

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: self._remote.call(self._handle, name, args)

    def __eq__(self, other):
        return isinstance(other, Proxy) and other._handle == self._handle

    def __hash__(self):
        return hash(self._handle)


def proxy_resolve(calls_out, answers_in):
    """The ``resolve`` object of a bridge process whose channel is ``calls_out``/``answers_in``."""
    return Proxy(_Remote(calls_out, answers_in), 0)
