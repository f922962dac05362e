"""Run one job per file, many files at once, with progress and cancellation.

The contract is small so that other back ends (a Dask cluster, in another module) can
implement it: an :class:`Executor` takes a picklable job function and a list of items and
returns one :class:`JobResult` per item, in the items' order. A job function has the
signature ``fn(item, progress, cancel) -> value``: it reports its own progress as a
fraction 0..1 through ``progress`` and polls ``cancel()`` (raising
:class:`~montage_ai.core.base.errors.Cancelled` when it returns True).

A job that raises is reported with its reason and the others go on; a cancelled run
raises ``Cancelled`` after the running jobs have stopped.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import os
import queue as _queue
import signal
from dataclasses import dataclass
from typing import Any, Callable, Generic, Protocol, Sequence, TypeVar

from montage_ai.core.base.errors import Cancelled, MontageError

log = logging.getLogger(__name__)

T = TypeVar("T")
JobFn = Callable[[Any, Callable[[float], None], Callable[[], bool]], T]


@dataclass(frozen=True)
class JobResult(Generic[T]):
    """The outcome of one item: a value, or the reason it failed."""

    item: Any
    value: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Progress:
    """Where a run stands: ``fraction`` of the current item, items done of total."""

    item: Any
    fraction: float
    done: int
    total: int

    @property
    def overall(self) -> float:
        return self.done / self.total if self.total else 1.0


ProgressFn = Callable[[Progress], None]
CancelFn = Callable[[], bool]


class Executor(Protocol):
    """Runs ``fn`` over ``items``; one result per item, in order."""

    def run(self, fn: JobFn, items: Sequence[Any], *, progress: ProgressFn | None = None,
            cancel: CancelFn | None = None) -> list[JobResult]: ...


def describe_error(exc: BaseException) -> str:
    """A one-line reason: our own errors as they are, anything else with its type."""
    if isinstance(exc, MontageError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _never() -> bool:
    return False


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS
        return max(1, os.cpu_count() or 1)


class InlineExecutor:
    """Runs jobs one after another in this process (one file, tests, debugging)."""

    def run(self, fn: JobFn, items: Sequence[Any], *, progress: ProgressFn | None = None,
            cancel: CancelFn | None = None) -> list[JobResult]:
        cancel = cancel or _never
        results: list[JobResult] = []
        total = len(items)
        for done, item in enumerate(items):
            if cancel():
                raise Cancelled("cancelled by the user")

            def report(fraction: float, _item=item, _done=done) -> None:
                if progress:
                    progress(Progress(_item, fraction, _done, total))

            try:
                results.append(JobResult(item, value=fn(item, report, cancel)))
            except Cancelled:
                raise
            except Exception as exc:  # one bad file never stops the others
                log.info("%s", describe_error(exc))  # the result carries it; the caller reports it once
                results.append(JobResult(item, error=describe_error(exc)))
            if progress:
                progress(Progress(item, 1.0, done + 1, total))
        return results


# --- process pool -------------------------------------------------------------------

_worker_queue: Any = None
_worker_cancel: Any = None


def _init_worker(progress_queue: Any, cancel_event: Any) -> None:
    global _worker_queue, _worker_cancel
    _worker_queue, _worker_cancel = progress_queue, cancel_event
    # Ctrl-C is the parent's to handle: it sets the cancel event the jobs poll.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_in_worker(fn: JobFn, index: int, item: Any) -> Any:
    def report(fraction: float) -> None:
        try:
            _worker_queue.put_nowait((index, float(fraction)))
        except Exception:  # progress is best effort
            pass

    return fn(item, report, _worker_cancel.is_set)


class LocalExecutor:
    """A process pool sized to this machine's cores.

    Progress from the workers comes back through a queue; cancellation is an event the
    job functions poll. Jobs must be importable, picklable functions.
    """

    def __init__(self, max_workers: int | None = None, start_method: str = "spawn") -> None:
        self.max_workers = max_workers or default_workers()
        self.start_method = start_method

    def run(self, fn: JobFn, items: Sequence[Any], *, progress: ProgressFn | None = None,
            cancel: CancelFn | None = None) -> list[JobResult]:
        items = list(items)
        if not items:
            return []
        cancel = cancel or _never
        ctx = mp.get_context(self.start_method)
        progress_queue = ctx.Queue()
        cancel_event = ctx.Event()
        results: dict[int, JobResult] = {}
        done = 0
        total = len(items)
        workers = min(self.max_workers, total)
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                    initargs=(progress_queue, cancel_event)) as pool:
            futures = {pool.submit(_run_in_worker, fn, i, item): i for i, item in enumerate(items)}
            pending = set(futures)
            cancelled = False
            while pending:
                finished, pending = cf.wait(pending, timeout=0.1, return_when=cf.FIRST_COMPLETED)
                self._drain(progress_queue, items, results, done, total, progress)
                for fut in finished:
                    i = futures[fut]
                    try:
                        results[i] = JobResult(items[i], value=fut.result())
                    except Cancelled:
                        results[i] = JobResult(items[i], error="cancelled")
                    except cf.process.BrokenProcessPool:
                        results[i] = JobResult(items[i], error="the worker process analysing it died")
                    except Exception as exc:
                        log.info("%s", describe_error(exc))  # reported once, by the caller
                        results[i] = JobResult(items[i], error=describe_error(exc))
                    done += 1
                    if progress:
                        progress(Progress(items[i], 1.0, done, total))
                if not cancelled and cancel():
                    cancelled = True
                    cancel_event.set()
                    for fut in pending:
                        fut.cancel()
        progress_queue.close()
        if cancelled:
            raise Cancelled("cancelled by the user")
        return [results[i] for i in range(total)]

    @staticmethod
    def _drain(q: Any, items: list, finished: dict[int, JobResult], done: int, total: int,
               progress: ProgressFn | None) -> None:
        while True:
            try:
                index, fraction = q.get_nowait()
            except (_queue.Empty, OSError, ValueError):
                return
            # A report can arrive after its job's result: never move a finished item back.
            if progress and index not in finished:
                progress(Progress(items[index], fraction, done, total))


def make_executor(kind: str = "local", max_workers: int | None = None, *, scheduler: Any = None,
                  path_map: Any = None) -> Executor:
    """``local`` (process pool), ``inline`` (this process) or ``dask`` (a cluster).

    ``dask`` takes ``scheduler`` (``tcp://host:8786``; default ``$MONTAGE_AI_DASK_SCHEDULER``)
    and ``path_map`` (a :class:`~montage_ai.core.run.dask_executor.PathMap`); see
    :mod:`montage_ai.core.run.dask_executor`.
    """
    if kind == "dask":
        from montage_ai.core.run.dask_executor import DaskExecutor

        return DaskExecutor(scheduler, path_map=path_map)
    if kind == "inline" or max_workers == 1:
        return InlineExecutor()
    if kind == "local":
        return LocalExecutor(max_workers)
    raise ValueError(f"unknown executor {kind!r}; use local, inline or dask")
