"""Worker threads made once a process, not once a file: the per-frame work's pool
(:mod:`.frame_work`). (PySceneDetect had a thread here too; it now runs in line on the
caller's thread, which costs less CPU: see :class:`.shots.ShotDetector`.)

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
