"""Worker threads made once a process, not once a file: the per-frame work's pool
(:mod:`.frame_work`, not used on two cores or fewer: :func:`in_line`) and PySceneDetect's
thread (:class:`.shots.ShotDetector`; on two cores it costs the same on its thread as in line,
measured on the nine real clips).

A pool made per file started its threads again for every file, and the caller waited for
each to be scheduled (measured on the real clips, a loaded 2-core machine: ~2.6 ms of wall
time a thread, five threads a file). The pools here are made on first use and kept; a
forked child (whose copy of a pool has no live threads) makes its own.

Callers keep to their own futures: they wait for the jobs they submitted (and cancel those
not started when they give up), never shut a shared pool down.

>>> shared_pool("doc", 2) is shared_pool("doc", 2)
True
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Iterable

_LOCK = threading.Lock()
_POOLS: dict[tuple[str, int], tuple[int, ThreadPoolExecutor]] = {}


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)


def in_line() -> bool:
    """Whether the per-frame work runs on the caller's thread, not on a pool: on two cores or
    fewer, where ffmpeg's decode takes most of one and a hand-over costs more than it gives
    (:func:`.frame_work.default_workers`)."""
    return cores() <= 2


def done(result) -> Future:
    """A future that holds ``result`` already (work done in line)."""
    f: Future = Future()
    f.set_result(result)
    return f


def shared_pool(name: str, workers: int) -> ThreadPoolExecutor:
    """This process's pool ``name`` of ``workers`` threads (made on first use)."""
    key = (name, int(workers))
    with _LOCK:
        hit = _POOLS.get(key)
        if hit is None or hit[0] != os.getpid():
            hit = (os.getpid(), ThreadPoolExecutor(max_workers=int(workers), thread_name_prefix=name))
            _POOLS[key] = hit
        return hit[1]


def settle(jobs: Iterable[Future]) -> None:
    """Cancel the jobs not started yet and wait for the running ones to end (a caller giving
    up, or done: nothing it submitted runs after this returns)."""
    jobs = list(jobs)
    for job in jobs:
        job.cancel()
    wait(jobs)
