"""Run analysis and proxy jobs on a Dask cluster, for studios that outgrow one machine.

:class:`DaskExecutor` implements the :class:`~montage_ai.core.run.executor.Executor` protocol
on ``dask.distributed``: one task per item, results in the items' order, a job that fails
reported with its reason while the others go on, progress and cancellation. It needs the
``dask`` extra (``pip install 'montage-ai[dask]'``) on the editor's machine and on the
workers, and the workers must see the media, the cache and the output folders on shared
storage (NFS; see ``installers/k8s``).

Paths: the editor's machine and the workers may mount that storage under different
prefixes (``/Volumes/media`` on a Mac, ``/mnt/media`` in the workers' pods). A
:class:`PathMap` of prefix pairs rewrites every path in a job's item and in the keyword
arguments of its ``functools.partial`` on the way to the worker, and every path in the
result on the way back, so results are the same as from the local executor.

Failures: a job that raises one of our errors (a bad file) is reported, not retried; any
other exception is retried ``retries`` times (distributed's ``retries=``). When a worker
dies (killed, out of memory, its node lost) the scheduler runs its tasks again on another
worker, up to ``distributed.scheduler.allowed-failures`` times (default 3), after which the
item is reported as failed.

Progress travels as worker events (``Worker.log_event`` / ``Client.subscribe_topic``),
cancellation as a ``distributed.Event`` the jobs poll (at most every half second).

>>> ex = DaskExecutor("tcp://scheduler:8786",                       # doctest: +SKIP
...                   path_map=PathMap.parse(["/Volumes/media=/mnt/media"]))
>>> analyze_files(paths, executor=ex)                                # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import queue
import time
import uuid
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Iterable, Sequence

from montage_ai.core.base.errors import Cancelled, MontageError
from montage_ai.core.base.fileio import OutputExistsError
from montage_ai.core.run.executor import CancelFn, JobFn, JobResult, Progress, ProgressFn, describe_error

log = logging.getLogger(__name__)

#: Environment variable naming the scheduler when none is passed (``tcp://host:8786``).
SCHEDULER_ENV = "MONTAGE_AI_DASK_SCHEDULER"
#: Environment variable with path pairs ``EDITOR=WORKER`` separated by ``;``.
PATH_MAP_ENV = "MONTAGE_AI_PATH_MAP"
CANCEL_POLL_S = 0.5
PROGRESS_EVERY_S = 0.25


def _sep(prefix: str) -> str:
    return "\\" if "\\" in prefix and "/" not in prefix else "/"


def _swap(path: str, pairs: Sequence[tuple[str, str]]) -> str | None:
    """``path`` with the longest matching ``from`` prefix replaced, or None when none matches."""
    for src, dst in pairs:
        ss, ds = _sep(src), _sep(dst)
        base = src.rstrip(ss)
        if path == base or path == src:
            return dst
        if path.startswith(base + ss):
            rest = path[len(base) + 1:]
            if ss != ds:
                rest = rest.replace(ss, ds)
            return dst.rstrip(ds) + ds + rest
    return None


def _remap(value: Any, pairs: Sequence[tuple[str, str]]) -> Any:
    """``value`` with every path under a mapped prefix rewritten: strings, ``PurePath``s and
    what holds them (tuples, lists, dicts, dataclasses, ``functools.partial``)."""
    if isinstance(value, str):
        swapped = _swap(value, pairs)
        return value if swapped is None else swapped
    if isinstance(value, PurePath):
        swapped = _swap(str(value), pairs)
        return value if swapped is None else type(value)(swapped)
    if isinstance(value, functools.partial):
        args = tuple(_remap(a, pairs) for a in value.args)
        kwargs = {k: _remap(v, pairs) for k, v in value.keywords.items()}
        return functools.partial(value.func, *args, **kwargs)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_remap(v, pairs) for v in value)
    if isinstance(value, list):
        return [_remap(v, pairs) for v in value]
    if isinstance(value, dict):
        return {_remap(k, pairs): _remap(v, pairs) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changed = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new = _remap(old, pairs)
            if new is not old:
                changed[f.name] = new
        return dataclasses.replace(value, **changed) if changed else value
    return value


@dataclass(frozen=True)
class PathMap:
    """Prefix pairs ``(editor, worker)``: where the shared storage is on each side.

    >>> m = PathMap.parse(["/Volumes/media=/mnt/media", "Z:\\\\cache=/mnt/cache"])
    >>> m.to_worker("/Volumes/media/day1/A001.mov"), m.to_editor("/mnt/cache/ab/x.json")
    ('/mnt/media/day1/A001.mov', 'Z:\\\\cache\\\\ab\\\\x.json')
    """

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, specs: Iterable[str]) -> "PathMap":
        """From ``EDITOR=WORKER`` strings (CLI ``--path-map``; ``$MONTAGE_AI_PATH_MAP`` uses ``;`` between pairs)."""
        pairs = []
        for spec in specs:
            if not spec.strip():
                continue
            editor, sep, worker = spec.partition("=")
            if not sep or not editor.strip() or not worker.strip():
                raise MontageError(f"path map {spec!r}: write it as EDITOR_PREFIX=WORKER_PREFIX")
            pairs.append((editor.strip(), worker.strip()))
        return cls(tuple(pairs))

    @classmethod
    def from_env(cls) -> "PathMap":
        return cls.parse(os.environ.get(PATH_MAP_ENV, "").split(";"))

    def _ordered(self, reverse: bool) -> list[tuple[str, str]]:
        pairs = [(w, e) if reverse else (e, w) for e, w in self.pairs]
        return sorted(pairs, key=lambda p: len(p[0]), reverse=True)  # longest prefix first

    def to_worker(self, value: Any) -> Any:
        return _remap(value, self._ordered(False)) if self.pairs else value

    def to_editor(self, value: Any) -> Any:
        return _remap(value, self._ordered(True)) if self.pairs else value


def _dask_job(fn: JobFn, path_map: PathMap, topic: str, cancel_name: str, index: int, item: Any) -> tuple:
    """Runs on a worker: map paths in, run the job, map paths out.

    Returns ``("ok", value)``, ``("error", reason)`` for our own errors (a bad file is not
    retried) or ``("cancelled", None)``; anything else raises and distributed retries it.
    """
    from distributed import Event, get_worker

    worker = get_worker()
    event = Event(cancel_name)
    polled = [0.0, False]
    sent = [0.0]

    def cancel() -> bool:
        now = time.monotonic()
        if now - polled[0] >= CANCEL_POLL_S:
            polled[0], polled[1] = now, bool(event.is_set())
        return polled[1]

    def report(fraction: float) -> None:
        now = time.monotonic()
        if now - sent[0] >= PROGRESS_EVERY_S or fraction >= 1.0:
            sent[0] = now
            try:
                worker.log_event(topic, {"index": index, "fraction": float(fraction)})
            except Exception:  # progress is best effort
                pass

    try:
        value = path_map.to_worker(fn)(path_map.to_worker(item), report, cancel)
    except Cancelled:
        return ("cancelled", None)
    except (MontageError, OutputExistsError) as exc:
        return ("error", path_map.to_editor(describe_error(exc)))
    return ("ok", path_map.to_editor(value))


class DaskExecutor:
    """Jobs on a ``dask.distributed`` cluster.

    Parameters
    ----------
    scheduler:
        ``tcp://host:8786``, a ``distributed.Client`` (not closed by :meth:`close`), or None
        for ``$MONTAGE_AI_DASK_SCHEDULER``.
    path_map:
        Editor/worker path prefixes (default ``$MONTAGE_AI_PATH_MAP``).
    retries:
        Retries of a job that raised an unexpected exception.
    connect_timeout_s:
        How long to try reaching the scheduler before giving up with a clear error.

    Cancelling raises :class:`~montage_ai.core.base.errors.Cancelled` at once; jobs already
    running on workers stop at their next poll of ``cancel()`` (their temporary files are
    removed as on one machine).
    """

    def __init__(self, scheduler: Any = None, *, path_map: PathMap | None = None, retries: int = 2,
                 connect_timeout_s: float = 20.0) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise MontageError("the Dask executor needs dask.distributed: pip install 'montage-ai[dask]'") from None
        if scheduler is None:
            scheduler = os.environ.get(SCHEDULER_ENV)
            if not scheduler:
                raise MontageError(f"no Dask scheduler: pass --scheduler tcp://HOST:8786 or set {SCHEDULER_ENV}")
        self._owned = isinstance(scheduler, str)
        self.scheduler = scheduler
        self.path_map = path_map if path_map is not None else PathMap.from_env()
        self.retries = retries
        self.connect_timeout_s = connect_timeout_s
        self._client = None if self._owned else scheduler

    @property
    def client(self):
        if self._client is None:
            from distributed import Client

            try:
                self._client = Client(self.scheduler, timeout=f"{self.connect_timeout_s}s")
            except (OSError, TimeoutError) as exc:
                raise MontageError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None
        return self._client

    def close(self) -> None:
        if self._owned and self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, fn: JobFn, items: Sequence[Any], *, progress: ProgressFn | None = None,
            cancel: CancelFn | None = None) -> list[JobResult]:
        from distributed import Event
        from distributed.scheduler import KilledWorker

        items = list(items)
        if not items:
            return []
        client = self.client
        run_id = uuid.uuid4().hex[:12]
        topic, cancel_name = f"montage-ai-progress-{run_id}", f"montage-ai-cancel-{run_id}"
        reports: queue.Queue = queue.Queue()
        client.subscribe_topic(topic, lambda event: reports.put(event[1]))
        futures = [client.submit(_dask_job, fn, self.path_map, topic, cancel_name, i, item,
                                 key=f"montage-ai-{run_id}-{i}", retries=self.retries, pure=False)
                   for i, item in enumerate(items)]
        results: dict[int, JobResult] = {}
        total, done = len(items), 0
        try:
            pending = set(range(total))
            while pending:
                self._drain(reports, items, results, done, total, progress)
                for i in sorted(pending):
                    fut = futures[i]
                    if not fut.done():
                        continue
                    pending.discard(i)
                    results[i] = self._result(fut, items[i], KilledWorker)
                    done += 1
                    if progress:
                        progress(Progress(items[i], 1.0, done, total))
                if pending and cancel is not None and cancel():
                    Event(cancel_name, client=client).set()  # running jobs stop at their next poll
                    client.cancel([futures[i] for i in pending])
                    raise Cancelled("cancelled by the user")
                if pending:
                    time.sleep(0.05)
        finally:
            client.unsubscribe_topic(topic)
        return [results[i] for i in range(total)]

    @staticmethod
    def _result(fut: Any, item: Any, killed: type) -> JobResult:
        if fut.status == "cancelled":
            return JobResult(item, error="cancelled")
        if fut.status == "error":
            exc = fut.exception()
            if isinstance(exc, killed):
                reason = f"{item}: the workers running it died (last: {exc})"
            else:
                reason = describe_error(exc)
            log.info("%s", reason)  # reported once, by the caller
            return JobResult(item, error=reason)
        status, value = fut.result()
        if status == "ok":
            return JobResult(item, value=value)
        if status == "cancelled":
            return JobResult(item, error="cancelled")
        log.info("%s", value)  # reported once, by the caller
        return JobResult(item, error=value)

    @staticmethod
    def _drain(reports: queue.Queue, items: list, finished: dict, done: int, total: int,
               progress: ProgressFn | None) -> None:
        while True:
            try:
                msg = reports.get_nowait()
            except queue.Empty:
                return
            index = msg.get("index") if isinstance(msg, dict) else None
            if progress and index is not None and index not in finished:
                progress(Progress(items[index], float(msg["fraction"]), done, total))
