"""Long work off the GUI thread: a :class:`Task` runs a library call on a :class:`QThread` and
reports back through Qt signals (queued onto the GUI thread), so the window never freezes.

The library's callbacks map onto the signals: ``progress(stage, fraction)`` ->
:attr:`Task.stage`, an executor's :class:`~montage_ai.core.run.executor.Progress` ->
:attr:`Task.clip`, and ``cancel()`` is :meth:`Task.is_cancelled` (set by :meth:`Task.cancel`).
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QThread, Signal

from montage_ai.core.base.errors import Cancelled
from montage_ai.core.run.executor import Progress

log = logging.getLogger(__name__)


class Task(QThread):
    """``Task(fn)``: runs ``fn(task)`` on its own thread; ``fn`` reports through the task.

    Signals: ``stage(str, float)``, ``clip(str, float, int, int)`` (item, its fraction, items
    done, items total), ``done(object)`` with ``fn``'s result, ``failed(str)`` with the reason,
    ``cancelled()``. Exactly one of the last three is emitted.
    """

    stage = Signal(str, float)
    clip = Signal(str, float, int, int)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    #: Tasks whose thread runs: kept alive here, so a QThread is never destroyed while it runs
    #: (Qt aborts the process when that happens), whoever dropped their reference.
    _running: set["Task"] = set()

    def __init__(self, fn: Callable[["Task"], Any], name: str = "task") -> None:
        super().__init__()
        self._fn = fn
        self._cancel = threading.Event()
        self.setObjectName(name)
        self.finished.connect(lambda: Task._running.discard(self))

    def start(self, *args) -> None:  # noqa: D401 - QThread API, extended
        Task._running.add(self)
        super().start(*args)

    # What the library calls, from this task's thread.
    def report_stage(self, stage: str, fraction: float) -> None:
        self.stage.emit(stage, float(fraction))

    def report_clip(self, p: Progress) -> None:
        self.clip.emit(str(p.item), float(p.fraction), int(p.done), int(p.total))

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the work to stop; it does at its next ``cancel()`` poll (a running ffmpeg is killed)."""
        self._cancel.set()

    def run(self) -> None:  # noqa: D401 - QThread API
        try:
            result = self._fn(self)
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - every failure reaches the editor as a message
            log.debug("%s failed:\n%s", self.objectName(), traceback.format_exc())
            self.failed.emit(str(exc) or type(exc).__name__)
        else:
            if self._cancel.is_set():
                self.cancelled.emit()
            else:
                self.done.emit(result)
