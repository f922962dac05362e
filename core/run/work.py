"""Where a job's work runs and what it may reuse: :class:`WorkOptions`, the ``work`` field of
every job's options in :mod:`montage_ai.core.workflows`.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.run.executor import Executor

#: The environment variable naming the Dask scheduler when no option does.
SCHEDULER_ENV = "MONTAGE_AI_DASK_SCHEDULER"


@dataclass(frozen=True)
class WorkOptions:
    """Where a job's work runs and what it may reuse.

    ``workers`` files at once on this machine (None: one per core; proxies:
    :data:`~montage_ai.core.defaults.PROXY_WORKERS`); ``scheduler`` a Dask scheduler
    (``tcp://host:8786``; None: ``$MONTAGE_AI_DASK_SCHEDULER``, else this machine) with
    ``path_map`` pairs ``EDITOR=WORKER`` (empty: ``$MONTAGE_AI_PATH_MAP``); ``cache_dir`` the
    analysis cache (None: the user cache folder) and ``use_cache`` False to analyse again;
    ``inline`` runs everything in this process (inside Resolve, where ``sys.executable`` is
    Resolve itself and a process pool would start it). ``executor`` is one the caller owns
    (the panel's, a test's): used as is and not closed.
    """

    workers: int | None = None
    scheduler: str | None = None
    path_map: tuple[str, ...] = ()
    cache_dir: str | None = None
    use_cache: bool = True
    inline: bool = False
    executor: Executor | None = field(default=None, compare=False)

    def cache(self) -> AnalysisCache | None:
        """The analysis cache, or None with ``use_cache`` False."""
        return AnalysisCache(self.cache_dir) if self.use_cache else None

    def scheduler_address(self) -> str | None:
        """The Dask scheduler the work goes to (the option, else the environment), or None."""
        return self.scheduler or os.environ.get(SCHEDULER_ENV) or None

    def make_executor(self, default_workers: int | None = None) -> Executor:
        """A new executor as the options say (the caller closes it); see :meth:`executor_for`."""
        from montage_ai.core.run.executor import make_executor

        scheduler = self.scheduler_address()
        if scheduler:
            from montage_ai.core.run.dask_executor import PathMap

            return make_executor("dask", scheduler=scheduler,
                                 path_map=PathMap.parse(self.path_map) if self.path_map else None)
        if self.inline:
            return make_executor("inline")
        return make_executor("local", self.workers if self.workers is not None else default_workers)

    @contextmanager
    def executor_for(self, default_workers: int | None = None) -> Iterator[Executor]:
        """The caller's executor, or a new one closed (a cluster client) when the job ends."""
        if self.executor is not None:
            yield self.executor
            return
        executor = self.make_executor(default_workers)
        try:
            yield executor
        finally:
            close = getattr(executor, "close", None)
            if close is not None:
                close()
