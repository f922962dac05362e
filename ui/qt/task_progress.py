"""What the panel shows of the task that runs: the stage and the time left, each clip's
progress in the clip table, a failure in the banner (the cut shown marked as the previous
one), Cancelled, and the buttons once the outcome is shown. One task at a time: :attr:`busy`.
A mixin of :class:`~montage_ai.ui.qt.panel.MontagePanel`."""

from __future__ import annotations

import logging
import os
import time

from montage_ai.ui.qt.tasks import Task

log = logging.getLogger(__name__)


class TaskProgress:
    """Starts a :class:`~montage_ai.ui.qt.tasks.Task` and follows its signals (the panel's
    ``task``, ``last_finished``, ``stage_label``, ``total``, ``clip_table``, ``banner``, ``tabs``)."""

    @property
    def busy(self) -> bool:
        """A task has started and its outcome is not shown yet."""
        return self.task is not None and self.last_finished is not self.task

    def _start(self, task: Task, label: str) -> Task:
        self.task = task
        self._started = time.monotonic()
        self.stage_label.setText(label)
        self.total.setValue(0)
        task.stage.connect(self._on_stage)
        task.clip.connect(self._on_clip)
        task.failed.connect(lambda reason, t=task: self._on_failed(t, reason))
        task.cancelled.connect(self._on_cancelled)
        task.finished.connect(lambda t=task: self._on_finished(t))
        task.start()
        self._refresh_buttons()
        return task

    def _on_stage(self, stage: str, fraction: float) -> None:
        from montage_ai.core.base import stages

        if self.task is not None and self.task.is_cancelled():
            return
        self.stage_label.setText(f"{stages.label(stage)}… {self._remaining(fraction)}")
        self.total.setValue(int(round(100 * fraction)))

    def _on_clip(self, item: str, fraction: float, done: int, total: int) -> None:
        for row in range(self.clip_table.rowCount()):
            if self.clip_table.item(row, 0).text() == os.path.basename(item):
                self.clip_table.item(row, 1).setText("done" if fraction >= 1.0 else f"{int(fraction * 100)}%")
        overall = (done + (fraction if fraction < 1.0 else 0.0)) / max(total, 1)
        self.total.setValue(int(round(100 * overall)))
        if self.task is None or not self.task.is_cancelled():
            self.stage_label.setText(f"Analysing {done} of {total} clips done… {self._remaining(overall)}")

    def _remaining(self, fraction: float) -> str:
        elapsed = time.monotonic() - self._started
        if fraction <= 0.02 or elapsed < 1.0:
            return ""
        left = elapsed * (1 - fraction) / fraction
        return f"about {int(left // 60)} min {int(left % 60)} s left" if left >= 60 else f"about {int(left)} s left"

    def _on_failed(self, task: Task, reason: str) -> None:
        action = {"analyse": "Analyse", "rough cut": "Rough Cut", "selects": "Selects", "preview": "Preview",
                  "export": "Export", "report": "Shot report", "send to Resolve": "Send to Resolve",
                  "file route": "Send to Resolve"}.get(task.objectName(), task.objectName())
        self.stage_label.setText(f"{action} failed (see the message above).")
        self.banner.show_error(action, task.objectName(), reason)
        if task.objectName() in ("rough cut", "selects"):
            tab = self.tabs["cut" if task.objectName() == "rough cut" else "selects"]
            if tab.cut_list is not None:
                tab.view.set_stale(f"{action} failed at {time.strftime('%H:%M:%S')}; this is the previous cut")
        log.error("%s failed: %s", action, reason)

    def _on_cancelled(self) -> None:
        self.stage_label.setText("Cancelled.")

    def _on_finished(self, task: Task) -> None:
        """After a task's result (or failure) has been shown: the buttons follow."""
        self.last_finished = task
        self.stopped_at = time.monotonic()
        self._refresh_buttons()
