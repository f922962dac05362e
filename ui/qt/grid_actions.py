"""The panel's beat-grid corrections and the click track that auditions them.

Each correction goes through the workflows (:func:`~montage_ai.core.workflows.keep_grid_corrections`,
:func:`~montage_ai.core.workflows.reset_grid`, :func:`~montage_ai.core.workflows.restore_grid`,
then :func:`~montage_ai.core.workflows.run_music_analysis` for the grid as kept) on a
:class:`~montage_ai.ui.qt.tasks.Task` thread, so the correction is kept with the song (by
its content) and every later cut, selects and export use it; the grid is redrawn when the
task is done. Undo puts back the grid kept before the last change.

Tap tempo: each tap (the Tap button or ``T``) is a time stamp; while the click track plays a
tap is the song time under the playhead, else the first tap counts as the first downbeat.
After :data:`TAP_PAUSE_MS` without a tap, three taps or more become the ``tap`` correction.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from shiboken6 import isValid

from montage_ai.core.analysis.beat_grid import Correction
from montage_ai.ui.qt.tasks import Task

if TYPE_CHECKING:  # pragma: no cover
    from montage_ai.ui.qt.panel import MontagePanel

log = logging.getLogger(__name__)

TAP_PAUSE_MS = 1500
MIN_TAPS = 3
#: Actions that change the grid (disabled while one runs, or with no song read).
CHANGE_ACTIONS = ("grid_half", "grid_double", "grid_two_thirds", "grid_three_halves", "grid_shift",
                  "grid_downbeat", "grid_earlier", "grid_later", "grid_tap", "grid_reset", "grid_undo")
#: The player's "frames" of the click track are milliseconds.
MS = Fraction(1000)


class GridState:
    """What the panel keeps about the song's grid: the kept grid, the undo stack, the taps,
    the grid task and the click track."""

    def __init__(self) -> None:
        self.stored: Any = None
        self.undo: list[Any] = []  # the StoredGrid (or None) before each change, newest last
        self.task: Task | None = None
        self.taps: list[float] = []
        self.taps_on_song = False
        self.clock = time.monotonic
        self.track: Any = None  # the ClickTrack loaded in the click player
        self.tracks: dict[str, Any] = {}
        self.folder: str | None = None
        self.click_task: Task | None = None
        self.started = 0  # grid tasks started
        self.changes = 0  # grid tasks whose outcome (a new grid, a refusal, cancelled) has been shown

    def busy(self) -> bool:
        """A grid task has started and its outcome is not shown yet."""
        return self.started > self.changes


def install(panel: "MontagePanel", make) -> None:
    """The beat-grid actions (``make``: the panel's QAction maker, shared by toolbar, menu
    and shortcut), the song strip's buttons and boxes, and the click player's signals."""

    def fix(*corrections):
        return lambda: correct(panel, *corrections)

    make("grid_half", "Half", fix(Correction("half")), "Half the tempo: every other beat")
    make("grid_double", "Double", fix(Correction("double")), "Double the tempo: a beat between beats")
    make("grid_two_thirds", "×2/3", fix(Correction("two_thirds")), "The tempo times 2/3")
    make("grid_three_halves", "×3/2", fix(Correction("three_halves")), "The tempo times 3/2")
    make("grid_shift", "Shift ½", fix(Correction("shift_half")), "Every beat half a beat later (onto the off-beat)")
    make("grid_downbeat", "Downbeat here", lambda: downbeat_here(panel),
         "The beat under the mouse on the waveform becomes beat 1 of its bar")
    make("grid_earlier", "◀ ms", lambda: nudge(panel, -1), "Move the whole grid earlier by the step")
    make("grid_later", "ms ▶", lambda: nudge(panel, 1), "Move the whole grid later by the step")
    make("grid_tap", "Tap", lambda: tap(panel),
         "Tap the beat (3 taps or more; the first on a downbeat); stop tapping to use it")
    make("grid_undo", "Undo grid", lambda: undo(panel), "Put back the grid before the last change")
    make("grid_reset", "Reset grid", lambda: reset(panel), "Back to the grid as tracked")
    make("grid_clicks", "▶ Clicks", lambda: audition(panel),
         "Play the song with a click on every beat (the part chosen, or the whole song); again: stop")
    make("grid_whole", "Whole song", lambda: panel.song_range.clear(), "Cut to the whole song")
    panel.grid_strip.install(panel.actions_)
    strip = panel.grid_strip
    strip.downbeat_chosen.connect(lambda n: correct(panel, Correction("downbeat", n)) if n > 1 else None)
    strip.meter_chosen.connect(lambda n: correct(panel, Correction("meter", n)))
    strip.bpm_typed.connect(lambda bpm: correct(panel, Correction("bpm", bpm)))
    panel.click_player.frame.connect(lambda ms: on_click_position(panel, ms))
    clicks = panel.actions_["grid_clicks"]
    panel.click_player.state.connect(
        lambda state: isValid(clicks) and clicks.setText("■ Stop clicks" if state == "playing" else "▶ Clicks"))
    panel.click_player.error.connect(lambda message: panel.banner.show_info(f"Click track: {message}"))


def song_path(panel: "MontagePanel") -> str | None:
    """The song whose grid is shown (None before it has been read)."""
    music = getattr(panel, "song_loaded", None)
    text = panel.music.text().strip()
    if music is None or not text or os.path.abspath(text) != os.path.abspath(music.path):
        return None
    return os.path.abspath(text)


def refresh(panel: "MontagePanel") -> None:
    """The grid's actions follow: a song read and no grid task running."""
    if not hasattr(panel, "actions_") or "grid_half" not in panel.actions_:
        return
    ready = song_path(panel) is not None and not panel.grid.busy()
    for key in CHANGE_ACTIONS:
        panel.actions_[key].setEnabled(ready)
    panel.actions_["grid_undo"].setEnabled(ready and bool(panel.grid.undo))
    panel.actions_["grid_reset"].setEnabled(ready and panel.grid.stored is not None)
    panel.actions_["grid_clicks"].setEnabled(song_path(panel) is not None)
    panel.grid_strip.set_controls_enabled(ready)


def shown(panel: "MontagePanel", music: Any, stored: Any, *, new_song: bool) -> None:
    """Draw the song's grid (as kept) and say what it is."""
    panel.song_loaded, panel.grid.stored = music, stored
    song = panel.song_range
    if new_song:
        panel.grid.undo.clear()
        stop_clicks(panel)
        song.set_song(panel.song_wave, music.duration_s, tuple(music.downbeat_times_s),
                      tuple(music.beat_times_s), tuple(music.sections))
    else:
        song.set_grid(tuple(music.beat_times_s), tuple(music.downbeat_times_s), tuple(music.sections))
        part = song.part()
        if part is not None:  # the part chosen snaps to the new bars
            song.choose(part.start_s, part.end_s)
    panel.grid_strip.show_grid(music, stored)
    refresh(panel)


def _run(panel: "MontagePanel", label: str, change) -> Task | None:
    """Run ``change(song, task)`` (it keeps or forgets a grid; returns the grid kept before)
    on a task, then show the grid as kept."""
    from montage_ai.core.workflows import MusicJob, kept_grid, run_music_analysis

    song = song_path(panel)
    if song is None or panel.grid.busy():
        return None
    job = MusicJob(work=panel.work_options())

    def work(task: Task):
        before = change(song, task)
        music = run_music_analysis(song, job, cancel=task.is_cancelled)
        return before, music, kept_grid(song)

    task = Task(work, "beat grid")
    strip = panel.grid_strip
    task.done.connect(lambda r: isValid(strip) and _changed(panel, song, label, *r))
    task.failed.connect(lambda reason: isValid(strip) and _failed(panel, reason))
    task.cancelled.connect(lambda: isValid(strip) and _cancelled(panel))
    panel.grid.task = task
    panel.grid.started += 1
    task.start()
    refresh(panel)
    panel.stage_label.setText(f"Beat grid: {label}…")
    return task


def _changed(panel: "MontagePanel", song: str, label: str, before: Any, music: Any, stored: Any) -> None:
    panel.grid.changes += 1
    if song != song_path(panel):
        refresh(panel)
        return  # another song was chosen meanwhile
    if before is _UNDONE:
        if panel.grid.undo:
            panel.grid.undo.pop()
    else:
        panel.grid.undo.append(before)
    shown(panel, music, stored, new_song=False)
    stop_clicks(panel)
    panel.stage_label.setText(f"Beat grid: {label}. Kept for this song: the next cut, selects and export use it.")
    tab = panel.tabs["cut"]
    if tab.cut_list is not None:
        tab.view.set_stale(f"the beat grid changed at {time.strftime('%H:%M:%S')}: Rough Cut (Ctrl+R) cuts to it")


def _cancelled(panel: "MontagePanel") -> None:
    panel.grid.changes += 1
    refresh(panel)


def _failed(panel: "MontagePanel", reason: str) -> None:
    panel.grid.changes += 1
    refresh(panel)
    panel.stage_label.setText("The beat grid was not changed (see the message above).")
    panel.banner.show_error("Beat grid", "beat grid", reason)


_UNDONE = object()  # an undo: nothing to push on the undo stack


def correct(panel: "MontagePanel", *corrections: Correction) -> Task | None:
    """Apply corrections on top of the song's grid and keep the result."""
    from montage_ai.core.workflows import MusicJob, keep_grid_corrections, kept_grid

    job = MusicJob(work=panel.work_options())

    def change(song: str, task: Task):
        before = kept_grid(song)
        keep_grid_corrections(song, corrections, job, cancel=task.is_cancelled)
        return before

    return _run(panel, ", ".join(c.label() for c in corrections), change)


def reset(panel: "MontagePanel") -> Task | None:
    """Back to the tracked grid (undoable)."""
    from montage_ai.core.workflows import kept_grid, reset_grid

    def change(song: str, task: Task):
        before = kept_grid(song)
        reset_grid(song)
        return before

    return _run(panel, "reset to the tracked grid", change)


def undo(panel: "MontagePanel") -> Task | None:
    """Put back the grid kept before the last change."""
    from montage_ai.core.workflows import restore_grid

    if not panel.grid.undo or panel.grid.busy():
        return None
    previous = panel.grid.undo[-1]

    def change(song: str, task: Task):
        restore_grid(song, previous)
        return _UNDONE

    return _run(panel, "undo", change)


def downbeat_here(panel: "MontagePanel") -> Task | None:
    """The beat under the mouse on the waveform becomes beat 1 of its bar."""
    music, beat = panel.song_loaded, panel.song_range.cursor_beat()
    if music is None or beat is None:
        panel.stage_label.setText("Point at a beat on the song's waveform first, then Downbeat here.")
        return None
    return correct(panel, Correction("downbeat", number_in_bar(music, beat)))


def number_in_bar(music: Any, beat: int) -> int:
    """The number (1..metre) the grid gives beat ``beat`` in its bar."""
    import numpy as np

    beats, downs = np.asarray(music.beat_times_s), np.asarray(music.downbeat_times_s)
    if not len(downs):
        return 1
    first = int(np.argmin(np.abs(beats - downs[0])))
    return (beat - first) % int(music.meter) + 1


def nudge(panel: "MontagePanel", sign: int) -> Task | None:
    return correct(panel, Correction("offset_ms", float(sign * panel.grid_strip.nudge.value())))


# --------------------------------------------------------------------------- tap tempo
def tap(panel: "MontagePanel") -> None:
    """One tap: a time stamp (the song's time while the click track plays)."""
    grid = panel.grid
    if song_path(panel) is None:
        return
    playing = grid.track is not None and panel.click_player.speed > 0
    if not grid.taps:
        grid.taps_on_song = playing
    if grid.taps_on_song and playing:
        grid.taps.append(grid.track.start_s + panel.click_player.position_frame() / 1000.0)
    else:
        grid.taps.append(grid.clock())
    panel.tap_timer.start(TAP_PAUSE_MS)
    if len(grid.taps) >= 2:
        try:  # "tap (4 taps, 100.0 bpm)": the tempo the taps give so far
            so_far = Correction("tap", tuple(grid.taps)).label().removeprefix("tap (").rstrip(")")
        except ValueError:  # two taps at the same instant
            so_far = f"{len(grid.taps)} taps"
        panel.stage_label.setText(f"Tap: {so_far} (stop tapping to use it)")
    else:
        panel.stage_label.setText("Tap: keep tapping the beat (the first tap on a downbeat)…")


def taps_done(panel: "MontagePanel") -> Task | None:
    """After the pause: the taps become the grid (three or more)."""
    grid = panel.grid
    taps, grid.taps = list(grid.taps), []
    if len(taps) < MIN_TAPS:
        panel.stage_label.setText(f"Tap at least {MIN_TAPS} beats to set the tempo.")
        return None
    if not grid.taps_on_song:  # time stamps: the first tap is the first downbeat
        music = panel.song_loaded
        anchor = music.downbeat_times_s[0] if music.downbeat_times_s else 0.0
        taps = [anchor + t - taps[0] for t in taps]
    return correct(panel, Correction("tap", tuple(taps)))


# --------------------------------------------------------------------------- the click track
def audition(panel: "MontagePanel") -> Task | None:
    """Play the song with a click on every beat (the part chosen, or the whole song); again:
    stop (or stop making it)."""
    from montage_ai.core.workflows import run_click_track

    grid, music = panel.grid, panel.song_loaded
    if panel.click_player.speed > 0:
        panel.click_player.pause()
        panel.song_range.set_playhead(None)
        return None
    if grid.click_task is not None and grid.click_task.isRunning():
        grid.click_task.cancel()  # pressed again while it is being made: stop making it
        panel.stage_label.setText("Click track cancelled.")
        return None
    if song_path(panel) is None:
        return None
    part = panel.song_range.part()
    start, end = (part.start_s, part.end_s) if part is not None else (0.0, music.duration_s)
    key = _track_key(music, start, end)
    if key in grid.tracks and os.path.exists(grid.tracks[key].path):
        _play(panel, grid.tracks[key])
        return None
    if grid.folder is None:
        grid.folder = tempfile.mkdtemp(prefix="montage-ai-clicks-")
    path = os.path.join(grid.folder, f"{key}.wav")
    panel.player.pause()

    def work(task: Task):
        return run_click_track(music, path, start_s=start, end_s=end, progress=task.report_stage,
                               cancel=task.is_cancelled)

    task = Task(work, "click track")
    strip = panel.grid_strip
    task.done.connect(lambda track: isValid(strip) and _track_ready(panel, key, track))
    task.failed.connect(lambda reason: isValid(strip) and panel.banner.show_error("Click track", "click track", reason))
    task.cancelled.connect(lambda: isValid(strip) and panel.stage_label.setText("Click track cancelled."))
    grid.click_task = task
    panel.stage_label.setText("Making the click track…")
    task.start()
    return task


def _track_key(music: Any, start: float, end: float) -> str:
    material = repr((music.path, tuple(round(t, 5) for t in music.beat_times_s),
                     tuple(round(t, 5) for t in music.downbeat_times_s), round(start, 3), round(end, 3)))
    return hashlib.blake2b(material.encode(), digest_size=10).hexdigest()


def _track_ready(panel: "MontagePanel", key: str, track: Any) -> None:
    panel.grid.tracks[key] = track
    _play(panel, track)


def _play(panel: "MontagePanel", track: Any) -> None:
    panel.player.pause()
    panel.grid.track = track
    panel.click_player.load(track.path, MS)
    panel.click_player.seek(0)
    panel.click_player.forward()
    panel.song_range.set_playhead(track.start_s)
    heard = "" if panel.click_player.has_audio_device else " (no audio output device found: it is not heard)"
    panel.stage_label.setText(f"Playing the song with {len(track.click_samples)} clicks on the beats{heard}; "
                              "press Play with clicks again to stop.")


def on_click_position(panel: "MontagePanel", ms: int) -> None:
    track = panel.grid.track
    if track is not None and panel.click_player.speed > 0:
        panel.song_range.set_playhead(track.start_s + ms / 1000.0)


def stop_clicks(panel: "MontagePanel") -> None:
    if panel.click_player.speed:
        panel.click_player.stop()
    panel.song_range.set_playhead(None)


def close(panel: "MontagePanel") -> None:
    """The window closes: stop the tasks and remove the click tracks."""
    grid = panel.grid
    panel.tap_timer.stop()
    for task in (grid.task, grid.click_task):
        if task is not None and task.isRunning():
            task.cancel()
            task.wait(10_000)
    panel.click_player.close()
    if grid.folder is not None:
        shutil.rmtree(grid.folder, ignore_errors=True)
        grid.folder = None
