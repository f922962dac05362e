"""Where Ollama runs and which models the LLM features use; whether it answers.

Settings come from, in order: what the caller passes (CLI options, the panel), the
environment (``OLLAMA_HOST``, as the ``ollama`` client itself reads it;
``MONTAGE_AI_OLLAMA_MODEL``, ``MONTAGE_AI_VISION_MODEL``), then the defaults
(:data:`DEFAULT_HOST`, :data:`DEFAULT_MODEL`, no vision model).

>>> settings = OllamaSettings.resolve(host=None, model=None)            # doctest: +SKIP
>>> status = check_ollama(settings)                                     # doctest: +SKIP
>>> status.problem(settings.model)                                      # doctest: +SKIP
"Ollama at http://127.0.0.1:11434 does not answer (connection refused)"

Talks to the server through the official ``ollama`` Python client (``Client.list()``,
``GET /api/tags``). Tested against the fake server in ``tests/fake_ollama.py``, which
speaks the documented HTTP API; no real model runs in CI.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger(__name__)

DEFAULT_HOST = "http://127.0.0.1:11434"
#: A small instruction model that follows JSON schemas well on a laptop CPU.
DEFAULT_MODEL = "llama3.2:3b"
#: Seconds a planning request may take (a 3B model on a CPU needs tens of seconds).
DEFAULT_TIMEOUT_S = 120.0
#: Seconds a caption request may take.
DEFAULT_CAPTION_TIMEOUT_S = 60.0
#: Seconds the reachability check waits.
CHECK_TIMEOUT_S = 3.0
#: Seconds all the Ollama requests of one cut may take together (check, captions, plan).
DEFAULT_BUDGET_S = 600.0

__all__ = ["DEFAULT_HOST", "DEFAULT_MODEL", "OllamaSettings", "OllamaStatus", "check_ollama", "make_client",
           "model_present", "pull_command", "clean_text", "describe_error", "Deadline", "RequestDeadline",
           "bounded_call"]


class RequestDeadline(TimeoutError):
    """A request to Ollama did not complete whole in time (however its bytes trickled), or
    the time budget of the cut was spent before it could start."""


class Deadline:
    """The time left of a total budget (seconds, monotonic clock), shared by every Ollama
    request of one cut: :meth:`limit` gives a request's own limit capped by what is left."""

    def __init__(self, total_s: float) -> None:
        self.total_s = float(total_s)
        self._end = time.monotonic() + self.total_s

    def left(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def limit(self, request_s: float) -> float:
        """``request_s`` or what is left of the budget, whichever is shorter;
        :class:`RequestDeadline` when nothing is left."""
        left = self.left()
        if left <= 0:
            raise RequestDeadline(f"the Ollama time budget of {self.total_s:g} s for this cut is spent")
        return min(float(request_s), left)


def bounded_call(client: Any, seconds: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with one deadline for the whole request: the client's own
    timeouts apply to each read, so a server trickling bytes could hold a request forever.
    The call runs on a helper thread; when ``seconds`` pass first, ``client`` is closed (its
    sockets close, the helper's read ends) and :class:`RequestDeadline` is raised. The wait
    is in short steps, so Ctrl-C on the calling thread stops it at once."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="ollama-request", daemon=True).start()
    end = time.monotonic() + max(0.0, seconds)
    try:
        while not done.wait(min(0.2, max(0.0, end - time.monotonic()))):
            if time.monotonic() >= end:
                raise RequestDeadline(f"no whole answer within {seconds:g} s")
    except BaseException:
        try:
            client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@dataclass(frozen=True)
class OllamaSettings:
    """Host and model names for the LLM features; ``vision_model`` None: no captions."""

    host: str = DEFAULT_HOST
    model: str = DEFAULT_MODEL
    vision_model: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    caption_timeout_s: float = DEFAULT_CAPTION_TIMEOUT_S
    #: All the requests of one cut together (see :class:`Deadline`).
    budget_s: float = DEFAULT_BUDGET_S

    @classmethod
    def resolve(cls, host: str | None = None, model: str | None = None, vision_model: str | None = None,
                timeout_s: float | None = None) -> "OllamaSettings":
        """Settings from the arguments, else the environment, else the defaults.

        Examples
        --------
        >>> OllamaSettings.resolve(host="http://10.0.0.2:11434", model="qwen2.5:7b").model
        'qwen2.5:7b'
        """
        return cls(
            host=host or os.environ.get("OLLAMA_HOST") or DEFAULT_HOST,
            model=model or os.environ.get("MONTAGE_AI_OLLAMA_MODEL") or DEFAULT_MODEL,
            vision_model=vision_model or os.environ.get("MONTAGE_AI_VISION_MODEL") or None,
            timeout_s=DEFAULT_TIMEOUT_S if timeout_s is None else float(timeout_s),
        )


def make_client(host: str, timeout_s: float) -> Any:
    """An ``ollama.Client`` for ``host`` whose requests give up after ``timeout_s``."""
    import ollama

    return ollama.Client(host=host, timeout=timeout_s)


def _base(name: str) -> tuple[str, str]:
    name = name.strip()
    stem, _, tag = name.partition(":")
    return stem, tag or "latest"


def model_present(name: str, models: tuple[str, ...] | list[str]) -> bool:
    """Whether ``name`` is among the pulled ``models``; no tag means ``:latest``.

    Examples
    --------
    >>> model_present("llava", ["llava:latest", "llama3.2:3b"])
    True
    >>> model_present("llama3.2", ["llama3.2:3b"])
    False
    """
    want = _base(name)
    return any(_base(m) == want for m in models)


def pull_command(model: str) -> str:
    """The command that fetches ``model`` into Ollama."""
    return f"ollama pull {model}"


_CONTROL = re.compile(r"\s+")


def clean_text(text: Any, max_chars: int = 160) -> str:
    """One printable line of at most ``max_chars`` characters: control and format characters
    removed, whitespace collapsed. For any text that came from a model or a server.

    Examples
    --------
    >>> clean_text("wide shot\\n\\x1b[31mof a beach\\u202e ")
    'wide shot [31mof a beach'
    """
    if not isinstance(text, str):
        text = str(text)
    kept = "".join(" " if ch in "\t\n\r\v\f" else ch for ch in text
                   if ch in "\t\n\r\v\f" or not unicodedata.category(ch).startswith("C"))
    line = _CONTROL.sub(" ", kept).strip()
    if len(line) > max_chars:
        line = line[: max_chars - 1].rstrip() + "…"
    return line


def describe_error(exc: BaseException, host: str, model: str) -> str:
    """One line for why a request to Ollama failed: timeout, refused, missing model, ..."""
    import httpx
    import ollama

    if isinstance(exc, RequestDeadline):
        return f"Ollama at {host} did not answer in time ({exc})"
    if isinstance(exc, httpx.TimeoutException):
        return f"Ollama at {host} did not answer in time ({type(exc).__name__})"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return f"Ollama at {host} closed the connection in the middle of its answer ({clean_text(exc, 80)})"
    if isinstance(exc, ConnectionError) or isinstance(exc, httpx.TransportError):
        return f"Ollama at {host} does not answer (connection refused)"
    if isinstance(exc, ollama.ResponseError):
        if exc.status_code == 404 and model:
            return f"model {model} is not in Ollama at {host} ({pull_command(model)})"
        if exc.status_code == 404:
            return (f"{host} answered HTTP 404 ({clean_text(exc.error, 60)}): it does not look like an Ollama "
                    f"server; check --ollama-host / OLLAMA_HOST")
        return f"Ollama at {host} refused the request: {clean_text(exc.error, 120)} (HTTP {exc.status_code})"
    return f"Ollama at {host} gave an unusable answer: {clean_text(exc, 120)}"


@dataclass(frozen=True)
class OllamaStatus:
    """What :func:`check_ollama` found: reachable or not, the pulled models, the error."""

    host: str
    reachable: bool
    models: tuple[str, ...] = ()
    error: str | None = None

    def has(self, model: str) -> bool:
        return self.reachable and model_present(model, self.models)

    def problem(self, model: str) -> str | None:
        """None when ``model`` can be used, else one line saying why not and what to do."""
        if not self.reachable:
            return self.error or f"Ollama at {self.host} does not answer"
        if not model_present(model, self.models):
            return f"model {model} is not in Ollama at {self.host} ({pull_command(model)})"
        return None


def check_ollama(settings: OllamaSettings | str, timeout_s: float = CHECK_TIMEOUT_S,
                 deadline: Deadline | None = None) -> OllamaStatus:
    """Ask the server which models it has (``GET /api/tags``); never raises.

    Parameters
    ----------
    settings : OllamaSettings or str
        The settings, or just the host.
    timeout_s : float
        How long to wait for the whole answer.
    deadline : Deadline, optional
        The cut's Ollama budget; the check takes no longer than what is left of it.
    """
    host = settings if isinstance(settings, str) else settings.host
    try:
        limit = deadline.limit(timeout_s) if deadline is not None else timeout_s
        with make_client(host, limit) as client:
            answer = bounded_call(client, limit, client.list)
    except Exception as exc:  # any failure means "not usable"; the reason is reported
        reason = describe_error(exc, host, "")
        log.info("ollama check: %s", reason)
        return OllamaStatus(host=host, reachable=False, error=reason)
    names = tuple(m.model for m in answer.models if m.model)
    return OllamaStatus(host=host, reachable=True, models=names)
