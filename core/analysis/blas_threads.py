"""Music analysis runs its matrix products on one BLAS thread.

Its products are small (a 30 s excerpt: a few 1,500-row matrices) and the product runs music
analysis beside footage analysis on every core, so a multi-threaded BLAS only synchronises
threads that compete for the same cores: measured on a loaded 2-core machine
(``bench/beats_real.py``), music analysis took 2.6x longer with OpenBLAS's default threads
than with one. :func:`one_blas_thread` limits BLAS to one thread for the duration of a
``with`` block (through threadpoolctl, already installed with librosa's scikit-learn); the
limit is process-wide while it lasts, and without threadpoolctl it does nothing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from functools import lru_cache
from typing import Any, Iterator

log = logging.getLogger(__name__)

__all__ = ["one_blas_thread"]

_LOCK = threading.Lock()
_DEPTH = 0
_ACTIVE: Any = None


@lru_cache(maxsize=1)
def _controller() -> Any:
    import numpy  # noqa: F401  - the controller sees the BLAS libraries loaded when it is made

    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread inside the block; nested and concurrent blocks share one limit,
    lifted when the last of them ends."""
    global _DEPTH, _ACTIVE
    with _LOCK:
        if _DEPTH == 0:
            ctl = _controller()
            _ACTIVE = ctl.limit(limits=1, user_api="blas") if ctl is not None else None
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0 and _ACTIVE is not None:
                _ACTIVE.restore_original_limits()
                _ACTIVE = None
