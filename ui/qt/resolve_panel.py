"""The panel's side of Resolve: connect, fill the bin and music pickers from the media pool,
take the selected clips, and push the cut as a new timeline (through whatever route the
``resolve_plugin`` client uses)."""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from montage_ai.resolve_plugin.pool import PoolTree, read_pool, read_selection

if TYPE_CHECKING:  # pragma: no cover
    from montage_ai.ui.qt.panel import MontagePanel

log = logging.getLogger(__name__)


def connect_for_panel(timeout_s: float = 2.0, wait_s: float = 8.0):
    """The best route into Resolve (:func:`~montage_ai.resolve_plugin.routes.select_route`):
    inside Resolve, external scripting, an in-app bridge, else the file route.

    Started by the Lua launcher, the panel runs before the Lua bridge is up: without a live
    route it tries again for ``wait_s`` seconds. The route and why each earlier one failed
    are printed (the panel shows them too)."""
    from montage_ai.resolve_plugin.routes import select_route

    deadline = time.monotonic() + wait_s
    while True:
        result = select_route(timeout_s=timeout_s)
        if result.live or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    print("\n".join(result.lines()), file=sys.stderr)
    return result


def write_file_route(panel: "MontagePanel", folder: str):
    """A :class:`~.tasks.Task` writing the cut as FCP7 XML and FCPXML for File > Import >
    Timeline (no live route into Resolve)."""
    from montage_ai.resolve_plugin.file_route import write_file_route as write
    from montage_ai.ui.qt.tasks import Task

    timeline = panel.result.timeline
    return Task(lambda task: write(timeline, folder), "file route")


class ResolveSources:
    """The media pool as the panel shows it: bins to pick, audio clips for the music."""

    def __init__(self, panel: "MontagePanel", client: Any) -> None:
        self.panel, self.client = panel, client
        self.tree: PoolTree | None = None
        self._bin_name = ""

    def refresh(self) -> None:
        """Read the pool again and fill the bin and music pickers."""
        self.tree = read_pool(self.client)
        combo = self.panel.bin_combo
        combo.clear()
        for b in self.tree.root.walk():
            videos = [c for c in b.clips if c.has_video]
            combo.addItem(f"{'/'.join(b.path) or 'Master'} ({len(videos)} clips)", b.id)
        music = self.panel.pool_music
        music.clear()
        music.addItem("Music from the media pool…", "")
        for clip in self.tree.clips():
            if clip.has_audio_only or not clip.has_video:
                music.addItem(f"{clip.name} ({'/'.join(clip.bin_path) or 'Master'})", clip.file_path)
        for skipped in self.tree.skipped:
            log.info("media pool: %s skipped: %s", skipped.name, skipped.reason)

    def bin_name(self) -> str:
        """The name of the bin the footage came from ("" when it did not come from one)."""
        return self._bin_name

    def use_bin(self, index: int) -> None:
        bin_id = self.panel.bin_combo.itemData(index)
        found = self.tree.find_bin_by_id(bin_id) if self.tree else None
        if found is not None:
            self._bin_name = found.name
            self.panel.set_footage([c.file_path for c in found.clips if c.has_video])
            self.panel.stage_label.setText(f"Footage: bin {'/'.join(found.path) or 'Master'}.")

    def use_selected(self) -> None:
        clips, where = read_selection(self.client, self.tree)
        self._bin_name = where[4:].rsplit("/", 1)[-1] if where.startswith("bin ") else ""
        videos = [c.file_path for c in clips if c.has_video]
        self.panel.set_footage(videos)
        self.panel.stage_label.setText(f"Footage: {len(videos)} clips from the {where}.")


def push(panel: "MontagePanel", client: Any):
    """A :class:`~.tasks.Task` pushing the panel's cut into Resolve as a new timeline
    (:func:`~montage_ai.core.workflows.run_push`: the missing proxies first when asked)."""
    from montage_ai.core.workflows import ProxiesJob, PushJob, run_push
    from montage_ai.ui.qt.tasks import Task

    settings = panel.settings
    job = PushJob(markers=panel.markers.isChecked(), make_proxies=panel.proxies.isChecked(),
                  proxies=ProxiesJob(profile=settings.proxy_profile, encoder=settings.encoder or None,
                                     work=panel.work_options()))
    result = panel.result

    def work(task: Task):
        return run_push(client, result, job, progress=task.report_stage, clip_progress=task.report_clip,
                        cancel=task.is_cancelled)

    return Task(work, "send to Resolve")


def describe_push(report) -> str:
    """One paragraph for the editor: the new timeline, what was verified, what differs."""
    how = " through an FCP7 XML import (clip by clip did not work)" if report.route != "append" else ""
    text = (f"Timeline “{report.timeline_name}” created in Resolve{how}: {report.items_placed} items "
            f"placed, {report.markers_added} markers")
    if report.proxies_linked:
        text += f", {len(report.proxies_linked)} proxies linked"
    if report.ok:
        text += "; read back and verified frame for frame."
    else:
        text += ". The read-back differs; the timeline is left for you to inspect:\n" + "\n".join(report.mismatches)
    return text
