"""The two callbacks every job of :mod:`montage_ai.core.workflows` takes: ``progress(stage,
fraction)`` (stage names in :mod:`~montage_ai.core.base.stages`) and ``cancel()`` (polled; the
job raises :class:`~montage_ai.core.base.errors.Cancelled` when it returns True)."""

from __future__ import annotations

from typing import Callable

from montage_ai.core.base.errors import Cancelled

__all__ = ["StageFn", "CancelFn", "stage_fn", "check_cancelled"]

StageFn = Callable[[str, float], None]
CancelFn = Callable[[], bool]


def stage_fn(progress: StageFn | None) -> StageFn:
    """``progress``, or a callback that does nothing."""
    return progress or (lambda stage, fraction: None)


def check_cancelled(cancel: CancelFn | None) -> None:
    """Raise :class:`Cancelled` when ``cancel()`` says so."""
    if cancel is not None and cancel():
        raise Cancelled("cancelled by the user")
