"""A fake Ollama server for tests: the documented HTTP API, no model.

It answers the endpoints the real ``ollama`` Python client calls, with the same JSON
shapes and status codes as Ollama's server:

- ``GET /api/tags``: ``{"models": [{"name", "model", "modified_at", "size", "digest",
  "details": {...}}]}``
- ``POST /api/show`` ``{"model"}``: ``{"modelfile", "parameters", "template", "details",
  "model_info", "capabilities", "modified_at"}``, or 404 ``{"error": "model 'x' not found"}``
- ``POST /api/chat`` ``{"model", "messages", "format", "options", "stream"}``: with
  ``stream: false`` one JSON object ``{"model", "created_at", "message": {"role":
  "assistant", "content"}, "done": true, "done_reason": "stop", ...durations}``; with
  streaming, NDJSON chunks ending in ``"done": true``. An unknown model answers 404
  ``{"error": "model \\"x\\" not found, try pulling it first"}``.

What the assistant says is up to the test: ``server.reply`` is a string or a function of
the request body returning one; ``server.delay_s`` holds every chat answer back (to test
timeouts); every request body is kept in ``server.requests``. Use it as a context manager::

    with FakeOllama(models={"llama3.2:3b": ("completion",)}) as server:
        server.reply = '{"intro": [], ...}'
        client = ollama.Client(host=server.host)

:func:`closed_port_host` gives a host where nothing listens (connection refused).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

Reply = str | Callable[[dict], str]


def _base(name: str) -> tuple[str, str]:
    stem, _, tag = name.partition(":")
    return stem, tag or "latest"


class FakeOllama:
    """An Ollama-compatible HTTP server on 127.0.0.1 in a background thread."""

    def __init__(self, models: dict[str, tuple[str, ...]] | None = None, reply: Reply = "") -> None:
        #: model name -> capabilities (``"completion"``, ``"vision"``)
        self.models: dict[str, tuple[str, ...]] = dict(models if models is not None else {"llama3.2:3b": ("completion",)})
        self.reply: Reply = reply
        self.delay_s = 0.0
        #: Seconds between single bytes of every answer (headers included) to the paths in
        #: ``trickle_paths`` (all when empty): each read succeeds, the whole answer never comes.
        self.trickle_s = 0.0
        self.trickle_paths: set[str] = set()
        #: Send the headers and half the body of every answer, then close the connection.
        self.close_mid_answer = False
        #: Answer every path with an HTML 404 page (something else listens on the port).
        self.html_404 = False
        self.requests: list[tuple[str, str, Any]] = []
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ------------------------------------------------------------------ lifecycle

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeOllama":
        self._thread.start()
        return self

    def close(self) -> None:
        self._release.set()  # let held-back answers go so their threads end
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeOllama":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ helpers

    def chats(self) -> list[dict]:
        """Bodies of the ``/api/chat`` requests received, in order."""
        return [body for method, path, body in self.requests if path == "/api/chat"]

    def _find(self, name: str) -> str | None:
        want = _base(name or "")
        return next((m for m in self.models if _base(m) == want), None)

    def _tag(self, name: str) -> dict:
        digest = hashlib.sha256(name.encode()).hexdigest()
        return {"name": name, "model": name, "modified_at": "2026-01-01T00:00:00.000000+00:00", "size": 2019393189,
                "digest": digest, "details": {"parent_model": "", "format": "gguf", "family": name.split(":")[0],
                                              "families": [name.split(":")[0]], "parameter_size": "3.2B",
                                              "quantization_level": "Q4_K_M"}}

    # ------------------------------------------------------------------ HTTP

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class signature
                pass

            def _send(self, status: int, body: Any, content_type: str = "application/json; charset=utf-8") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                if fake.html_404:
                    status, content_type = 404, "text/html"
                    data = b"<html><body><h1>404 Not Found</h1></body></html>"
                if fake.trickle_s and (not fake.trickle_paths or self.path in fake.trickle_paths):
                    self._trickle(status, data, content_type)
                    return
                if fake.close_mid_answer:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def _trickle(self, status: int, data: bytes, content_type: str) -> None:
                head = (f"HTTP/1.1 {status} OK\r\nContent-Type: {content_type}\r\n"
                        f"Content-Length: {len(data)}\r\n\r\n").encode()
                self.close_connection = True
                try:
                    for i in range(len(head + data)):
                        if fake._release.wait(fake.trickle_s):
                            return
                        self.wfile.write((head + data)[i:i + 1])
                        self.wfile.flush()
                except OSError:
                    pass  # the client gave up

            def _body(self) -> Any:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    return json.loads(raw) if raw else {}
                except ValueError:
                    return None

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                fake.requests.append(("GET", self.path, None))
                if self.path == "/api/tags":
                    self._send(200, {"models": [fake._tag(m) for m in fake.models]})
                elif self.path == "/api/version":
                    self._send(200, {"version": "0.12.0"})
                elif self.path == "/":
                    self._send(200, b"Ollama is running", "text/plain; charset=utf-8")
                else:
                    self._send(404, b"404 page not found", "text/plain; charset=utf-8")

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                body = self._body()
                fake.requests.append(("POST", self.path, body))
                if body is None:
                    self._send(400, {"error": "invalid character looking for beginning of value"})
                elif self.path == "/api/show":
                    self._show(body)
                elif self.path == "/api/chat":
                    self._chat(body)
                else:
                    self._send(404, b"404 page not found", "text/plain; charset=utf-8")

            def _show(self, body: dict) -> None:
                name = body.get("model") or body.get("name") or ""
                found = fake._find(name)
                if found is None:
                    self._send(404, {"error": f"model '{name}' not found"})
                    return
                self._send(200, {"license": "", "modelfile": f"FROM {found}\n", "parameters": "stop \"<|eot_id|>\"",
                                 "template": "{{ .Prompt }}", "details": fake._tag(found)["details"],
                                 "model_info": {"general.architecture": found.split(":")[0]},
                                 "capabilities": list(fake.models[found]),
                                 "modified_at": "2026-01-01T00:00:00.000000+00:00"})

            def _chat(self, body: dict) -> None:
                name = body.get("model") or ""
                if not name:
                    self._send(400, {"error": "model is required"})
                    return
                found = fake._find(name)
                if found is None:
                    self._send(404, {"error": f"model \"{name}\" not found, try pulling it first"})
                    return
                if any(m.get("images") for m in body.get("messages", [])) and "vision" not in fake.models[found]:
                    self._send(500, {"error": "this model is missing data required for image input"})
                    return
                if fake.delay_s and fake._release.wait(fake.delay_s):
                    return  # closed while holding the answer back
                content = fake.reply(body) if callable(fake.reply) else fake.reply
                now = dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")
                stats = {"total_duration": 1_200_000_000, "load_duration": 50_000_000, "prompt_eval_count": 512,
                         "prompt_eval_duration": 400_000_000, "eval_count": 128, "eval_duration": 700_000_000}
                if body.get("stream", True):
                    lines = [{"model": name, "created_at": now, "message": {"role": "assistant", "content": content},
                              "done": False},
                             {"model": name, "created_at": now, "message": {"role": "assistant", "content": ""},
                              "done": True, "done_reason": "stop", **stats}]
                    self._send(200, b"".join(json.dumps(x).encode() + b"\n" for x in lines), "application/x-ndjson")
                else:
                    self._send(200, {"model": name, "created_at": now,
                                     "message": {"role": "assistant", "content": content},
                                     "done": True, "done_reason": "stop", **stats})

        return Handler


def closed_port_host() -> str:
    """A host URL on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
