"""The panel's beat grid, driven as an editor drives it (under Xvfb when installed, as in
``test_panel.py``): the grid drawn over the song with its confidence, each correction from
its real button, key or box, stored with the song and used by the next cut, Undo and Reset,
and the click track that auditions the grid (played silently: there is no audio device here).
Screenshots go to $MONTAGE_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

import test_panel as _panel_tests  # noqa: E402 - the X server, media and window of the panel tests
from montage_ai.core.workflows import MusicJob, kept_grid, run_music_analysis  # noqa: E402
from montage_ai.ui.qt import grid_actions  # noqa: E402
from montage_ai.ui.qt.beat_grid_view import DOUBT_COLOR as DOUBT  # noqa: E402

# The panel tests' fixtures, shared (one X server and QApplication for the session).
x_display, qapp_args = _panel_tests.x_display, _panel_tests.qapp_args
project, cache_dir = _panel_tests.project, _panel_tests.cache_dir
_make_panel, _press, _screenshot, _wait = (_panel_tests._make_panel, _panel_tests._press, _panel_tests._screenshot,
                                           _panel_tests._wait)


@pytest.fixture
def panel(qtbot, tmp_path, cache_dir, project):
    window = _make_panel(qtbot, tmp_path, cache_dir)
    clips, _, song = project
    window.set_footage(clips)
    window.music.setText(song)
    qtbot.waitUntil(lambda: grid_actions.song_path(window) is not None and bool(window.song_range.beats()),
                    timeout=60_000)
    return window


def _changed(qtbot, panel, do, timeout=30_000):
    """Do what the editor does, then wait until the grid shown is the one kept."""
    before = panel.grid.changes
    do()
    qtbot.waitUntil(lambda: panel.grid.changes > before, timeout=timeout)
    assert not panel.banner.isVisible() or panel.banner.kind != "error", panel.banner.text.text()
    music = panel.song_loaded
    assert panel.song_range.beats() == tuple(music.beat_times_s)  # the grid redrawn at once
    assert panel.song_range.downbeats() == tuple(music.downbeat_times_s)
    return music


def _click(panel, key):
    button = panel.grid_strip.button(panel.actions_[key])
    assert button is not None and button.isVisible() and button.isEnabled(), key
    QTest.mouseClick(button, Qt.LeftButton)


def _key(panel, key, modifiers=Qt.AltModifier):
    QTest.keyClick(panel, key, modifiers)


def _ops(song):
    stored = kept_grid(song)
    return [c.op for c in stored.corrections] if stored is not None else []


def _period(music):
    return float(np.median(np.diff(music.beat_times_s)))


def test_the_grid_is_drawn_over_the_song_with_its_confidence(panel, project):
    _, _, song = project
    music, view = panel.song_loaded, panel.song_range
    tracked = run_music_analysis(song, MusicJob(kept_grid=False))
    assert music.beat_times_s == tracked.beat_times_s and len(music.downbeat_times_s) >= 3
    text = panel.grid_strip.summary.text()
    assert f"{music.tempo_bpm:.1f} bpm" in text and "4/4" in text and "confidence" in text, text
    if music.confidence is not None:
        assert f"tempo {music.confidence.tempo:.2f}" in text
        assert all(d in text for d in music.confidence.doubts)
    image = view.grab().toImage()
    h = image.height()

    def red(x):  # the downbeat line's colour (DOWNBEAT_COLOR 230, 80, 70) in that column
        c = image.pixelColor(int(round(x)), h - 3)
        return c.red() > 150 and c.green() < 140

    down = music.downbeat_times_s[1]
    assert red(view.x_of(down)) or red(view.x_of(down) + 1), "no downbeat line where the grid has one"
    between = (music.beat_times_s[1] + music.beat_times_s[2]) / 2
    assert not red(view.x_of(between)), "a downbeat line where there is none"
    assert view.bar_number(down) == 2 and len(music.sections) >= 1
    _screenshot(panel, "beats-01-grid-on-the-song.png")
    _screenshot(panel.grid_strip, "beats-02-strip.png")


def test_the_song_zooms_and_its_right_click_menu_holds_the_corrections(panel, qtbot):
    from PySide6.QtCore import QPointF, QTimer
    from PySide6.QtGui import QContextMenuEvent, QWheelEvent
    from PySide6.QtWidgets import QApplication, QMenu

    view, music = panel.song_range, panel.song_loaded
    assert view.shown() == (0.0, music.duration_s)
    at = music.downbeat_times_s[2]
    x = view.x_of(at)
    wheel = QWheelEvent(QPointF(x, 30), view.mapToGlobal(QPointF(x, 30)), QPoint(0, 0), QPoint(0, 360),
                        Qt.NoButton, Qt.ControlModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view, wheel)  # Ctrl+wheel: closer, around the mouse
    a, b = view.shown()
    assert b - a == pytest.approx(music.duration_s / 1.25 ** 3, rel=0.01) and view.x_of(at) == pytest.approx(x, abs=1)
    QTest.mouseDClick(view, Qt.LeftButton, Qt.NoModifier, QPoint(10, 30))
    assert view.shown() == (0.0, music.duration_s)
    seen: list[list[str]] = []

    def read_menu():
        menu = QApplication.activePopupWidget()
        if isinstance(menu, QMenu):
            seen.append([a.text() for a in menu.actions()])
            menu.close()
        elif not seen:
            QTimer.singleShot(50, read_menu)

    QTimer.singleShot(50, read_menu)
    here = QPoint(int(view.x_of(at)), 30)
    QTest.mousePress(view, Qt.RightButton, Qt.NoModifier, here)
    # After a right-button press the window system sends the context-menu event (QTest does not).
    QApplication.sendEvent(view, QContextMenuEvent(QContextMenuEvent.Mouse, here, view.mapToGlobal(here)))
    QTest.mouseRelease(view, Qt.RightButton, Qt.NoModifier, here)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert {"Half", "Double", "Downbeat here", "Tap", "Reset grid", "▶ Clicks"} <= set(seen[0]), seen
    assert view.cursor_beat() == music.beat_times_s.index(at)  # the beat its Downbeat here acts on
    assert view.describe_cursor().startswith("bar 3, beat 1 (")
    view.set_cursor_beat(music.beat_times_s.index(at) + 1)
    assert view.describe_cursor().startswith("bar 3, beat 2 (")


def test_each_control_changes_the_drawn_grid_and_the_stored_correction(panel, qtbot, project):
    _, _, song = project
    tracked = panel.song_loaded
    p0, n0 = _period(tracked), len(tracked.beat_times_s)

    half = _changed(qtbot, panel, lambda: _click(panel, "grid_half"))  # the button
    assert _period(half) == pytest.approx(2 * p0, rel=0.02) and _ops(song) == ["half"]
    assert "corrected by you (1): half" in panel.grid_strip.summary.text()
    double = _changed(qtbot, panel, lambda: _key(panel, Qt.Key_D))  # Alt+D
    assert _period(double) == pytest.approx(p0, rel=0.02) and _ops(song) == ["half", "double"]
    thirds = _changed(qtbot, panel, lambda: _click(panel, "grid_two_thirds"))
    assert _period(thirds) == pytest.approx(1.5 * p0, rel=0.02)
    back = _changed(qtbot, panel, lambda: _click(panel, "grid_three_halves"))
    assert _period(back) == pytest.approx(p0, rel=0.02)

    shifted = _changed(qtbot, panel, lambda: _key(panel, Qt.Key_S))  # Alt+S: half a beat later
    near = [min(abs(np.asarray(back.beat_times_s) - t)) for t in shifted.beat_times_s[2:-2]]
    assert np.allclose(near, p0 / 2, atol=0.01) and _ops(song)[-1] == "shift_half"

    # Downbeat here: point at the second beat after a downbeat, then the button.
    beats = list(shifted.beat_times_s)
    first = beats.index(min(beats, key=lambda t: abs(t - shifted.downbeat_times_s[1])))
    target = beats[first + 2]
    QTest.mouseMove(panel.song_range, QPoint(int(round(panel.song_range.x_of(target))), 30))
    qtbot.waitUntil(lambda: panel.song_range.cursor_beat() == first + 2, timeout=2000)
    moved = _changed(qtbot, panel, lambda: _click(panel, "grid_downbeat"))
    assert min(abs(np.asarray(moved.downbeat_times_s) - target)) < 1e-6
    assert kept_grid(song).corrections[-1].value == 3  # beat 3 of the bar became beat 1

    # The spin box: type 2 and Enter.
    spin = panel.grid_strip.downbeat
    spin.setFocus()
    QTest.keyClick(spin, Qt.Key_A, Qt.ControlModifier)
    spin_done = _changed(qtbot, panel, lambda: (QTest.keyClicks(spin, "2"), QTest.keyClick(spin, Qt.Key_Return)))
    assert kept_grid(song).corrections[-1].value == 2
    assert spin_done.beat_times_s == moved.beat_times_s
    old_bars = {moved.beat_times_s.index(t) % 4 for t in moved.downbeat_times_s}
    new_bars = {spin_done.beat_times_s.index(t) % 4 for t in spin_done.downbeat_times_s}
    assert len(old_bars) == 1 and new_bars == {(old_bars.pop() + 1) % 4}  # the bar starts a beat later

    # The metre box, from the keyboard: 4/4 -> 3/4 (one up); the part chosen snaps to the new bars.
    view = panel.song_range
    x0, x1 = int(view.x_of(spin_done.downbeat_times_s[1])), int(view.x_of(spin_done.downbeat_times_s[3]))
    QTest.mousePress(view, Qt.LeftButton, Qt.NoModifier, QPoint(x0, 30))
    QTest.mouseMove(view, QPoint(x1, 30))
    QTest.mouseRelease(view, Qt.LeftButton, Qt.NoModifier, QPoint(x1, 30))
    assert view.part() is not None and view.part().bars == 2
    combo = panel.grid_strip.meter
    combo.setFocus()
    waltz = _changed(qtbot, panel, lambda: QTest.keyClick(combo, Qt.Key_Up))
    assert waltz.meter == 3 and "3/4" in panel.grid_strip.summary.text()
    part = view.part()
    assert min(abs(np.asarray(waltz.downbeat_times_s) - part.start_s)) < 1e-6
    assert min(abs(np.asarray(waltz.downbeat_times_s) - part.end_s)) < 1e-6 or part.end_s == waltz.duration_s
    view.clear()
    bars = np.diff([waltz.beat_times_s.index(t) for t in waltz.downbeat_times_s])
    assert set(bars.tolist()) == {3}

    # Nudge: a 20 ms step, Alt+Right.
    panel.grid_strip.nudge.setValue(20)
    later = _changed(qtbot, panel, lambda: _key(panel, Qt.Key_Right))
    assert np.allclose(np.asarray(later.beat_times_s[1:-1]) - np.asarray(waltz.beat_times_s[1:len(later.beat_times_s) - 1]),
                       0.020, atol=1e-6)
    assert kept_grid(song).corrections[-1].value == 20.0

    # Type a tempo and press Enter.
    bpm = panel.grid_strip.bpm
    bpm.setFocus()
    QTest.keyClick(bpm, Qt.Key_A, Qt.ControlModifier)
    typed = _changed(qtbot, panel, lambda: (QTest.keyClicks(bpm, "100"), QTest.keyClick(bpm, Qt.Key_Return)))
    assert typed.tempo_bpm == pytest.approx(100.0, abs=0.05) and _ops(song)[-1] == "bpm"

    # Undo puts back the grid before the typed tempo; Reset goes back to the tracked one.
    undone = _changed(qtbot, panel, lambda: _key(panel, Qt.Key_Z))
    assert undone.beat_times_s == later.beat_times_s and _ops(song)[-1] == "offset_ms"
    _screenshot(panel.grid_strip, "beats-03-corrected.png")
    reset = _changed(qtbot, panel, lambda: _click(panel, "grid_reset"))
    assert reset.beat_times_s == tracked.beat_times_s and kept_grid(song) is None and len(reset.beat_times_s) == n0
    assert "corrected by you" not in panel.grid_strip.summary.text()
    again = _changed(qtbot, panel, lambda: _click(panel, "grid_undo"))  # a reset is undone too
    assert again.beat_times_s == later.beat_times_s


def test_tap_tempo_from_the_key(panel, qtbot, project):
    _, _, song = project
    stamps = iter(np.arange(4) * 0.6 + 100.0)  # four taps 0.6 s apart: 100 bpm
    panel.grid.clock = lambda: float(next(stamps))
    first_down = panel.song_loaded.downbeat_times_s[0]

    def taps():
        for _ in range(4):
            QTest.keyClick(panel, Qt.Key_T)
        assert "4 taps, 100.0 bpm" in panel.stage_label.text()

    tapped = _changed(qtbot, panel, taps, timeout=10_000)  # used after the pause
    assert tapped.tempo_bpm == pytest.approx(100.0, abs=0.05) and _ops(song) == ["tap"]
    assert min(abs(np.asarray(tapped.downbeat_times_s) - first_down)) < 1e-6  # the first tap on a downbeat
    panel.grid.clock = iter([1.0, 1.5]).__next__
    QTest.keyClick(panel, Qt.Key_T)
    QTest.keyClick(panel, Qt.Key_T)
    qtbot.waitUntil(lambda: "Tap at least 3 beats" in panel.stage_label.text(), timeout=5000)
    assert _ops(song) == ["tap"]


def test_taps_while_the_click_track_plays_are_on_the_songs_time(panel, qtbot, project):
    from montage_ai.ui.qt.player import HAVE_MULTIMEDIA

    if not HAVE_MULTIMEDIA:
        pytest.skip("QtMultimedia (PySide6-Addons) is not installed: nothing plays to tap along")
    _, _, song = project
    _key(panel, Qt.Key_K)  # Alt+K: play with clicks
    qtbot.waitUntil(lambda: (panel.song_range.playhead() or 0) > 0.5, timeout=30_000)
    start = panel.grid.track.start_s
    heard: list[float] = []  # the player's position just after each tap

    def taps():
        for _ in range(4):
            QTest.keyClick(panel, Qt.Key_T)
            heard.append(start + panel.click_player.position_frame() / 1000.0)
            qtbot.wait(500)

    tapped = _changed(qtbot, panel, taps, timeout=15_000)
    stored = kept_grid(song).corrections[-1]
    assert stored.op == "tap" and panel.grid.taps_on_song and heard[-1] - heard[0] > 1.0
    assert stored.value == pytest.approx(tuple(heard), abs=0.05)  # the song's time under the playhead
    assert 80 < tapped.tempo_bpm < 150  # about 120 bpm, as tapped by a loaded CI machine


def test_a_kept_correction_changes_the_next_cut_and_reset_restores_it(panel, qtbot, project):
    _, _, song = project

    def cut():
        _wait(qtbot, _press(panel, Qt.Key_R, Qt.ControlModifier))
        cl = panel.tabs["cut"].cut_list
        assert cl is not None, panel.banner.text.text()
        return cl, [c.record_in for c in cl.cuts[1:]]

    cl0, points0 = cut()
    # Half a beat later (the tracker on the off-beat): the same footage fills the cut.
    shifted = _changed(qtbot, panel, lambda: _click(panel, "grid_shift"))
    assert "beat grid changed" in panel.timeline.stale
    cl1, points1 = cut()
    assert points1 != points0 and not panel.timeline.stale
    want = np.asarray([float(t * cl1.rate) - cl1.music_start for t in shifted.beat_times_s])
    assert all(min(abs(want - b)) <= 0.5 + 1e-9 for b in cl1.beats), "the cut's beats are not the kept grid's"
    assert not set(cl1.beats) & set(cl0.beats)
    # Every cut on the kept grid (within the one frame the cut's rounding allows: a half beat is
    # 6 frames); past its last beat (the song's ring-out), on that grid carried on at its median
    # beat (the tail's split points, grid.lead_out), never between.
    period = float(np.median(np.diff(want)))
    carried = want[-1] + period * np.arange(1, int(cl1.duration / period) + 2)
    grid = np.concatenate([want, carried])
    assert all(min(abs(grid - p)) <= 1.0 for p in points1), "a cut off the kept grid"
    assert all(min(abs(want - p)) <= 1.0 for p in points1 if p <= want[-1] + 1), "a cut between the kept beats"
    _changed(qtbot, panel, lambda: _click(panel, "grid_reset"))
    cl2, points2 = cut()
    assert points2 == points0 and cl2.beats == cl0.beats


def test_the_click_track_plays_the_song_with_clicks_on_the_grid(panel, qtbot, project):
    import soundfile as sf

    from montage_ai.ui.qt.player import HAVE_MULTIMEDIA

    half = _changed(qtbot, panel, lambda: _click(panel, "grid_half"))
    _key(panel, Qt.Key_K)  # Alt+K: play with clicks
    qtbot.waitUntil(lambda: panel.grid.track is not None, timeout=30_000)
    track = panel.grid.track
    y, rate = sf.read(track.path, dtype="float64")
    assert len(y) == pytest.approx(half.duration_s * rate, abs=2) and track.with_song
    assert list(track.click_samples) == [round(t * rate) for t in half.beat_times_s]
    downs = {round(t * rate) for t in half.downbeat_times_s}
    assert [s in downs for s in track.click_samples] == list(track.accents)
    assert all(abs(y[s]) > 0.3 for s in track.click_samples)  # each click's first, loudest sample
    if not HAVE_MULTIMEDIA:
        pytest.skip("QtMultimedia (PySide6-Addons) is not installed: the click track is written, not played")
    assert panel.click_player.path == track.path and panel.click_player.speed > 0
    qtbot.waitUntil(lambda: (panel.song_range.playhead() or 0) > 0.3, timeout=15_000)  # the playhead follows
    _screenshot(panel.grid_strip, "beats-04-clicks-playing.png")
    _click(panel, "grid_clicks")  # again: stop
    assert panel.click_player.speed == 0 and panel.song_range.playhead() is None
    folder = panel.grid.folder
    panel.close()
    assert not __import__("os").path.exists(folder), "the click tracks outlive the panel"


def test_a_correction_that_cannot_apply_says_so(qtbot, tmp_path, cache_dir):
    from montage_ai.core.samples.music import write_audio

    silence = write_audio(tmp_path / "silence.wav", np.zeros(22050 * 6, dtype=np.float32), 22050)
    window = _make_panel(qtbot, tmp_path, cache_dir)
    window.music.setText(str(silence))
    qtbot.waitUntil(lambda: grid_actions.song_path(window) is not None, timeout=60_000)
    if len(window.song_loaded.beat_times_s) >= 2:
        pytest.skip("the tracker finds beats in silence: nothing to refuse")
    text = window.grid_strip.summary.text()
    assert "no beat grid" in text
    if window.song_loaded.confidence is not None:
        assert "no clear beat" in text and DOUBT in window.grid_strip.summary.styleSheet(), text
    before = window.grid.changes
    _click(window, "grid_half")
    qtbot.waitUntil(lambda: window.grid.changes > before, timeout=30_000)
    assert window.banner.kind == "error" and "silence.wav" in window.banner.text.text()
    assert "type a tempo" in window.banner.text.text() and kept_grid(str(silence)) is None


# ---------------------------------------------------------------------------- on a real recording
SHARED = Path(os.environ.get("MONTAGE_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


def _f_measure(found, truth, window=0.07) -> float:
    """Beat F-measure: a found beat within ``window`` s of a true one (each used once)."""
    left, hits = list(truth), 0
    for t in found:
        near = [x for x in left if abs(x - t) <= window]
        if near:
            left.remove(min(near, key=lambda x: abs(x - t)))
            hits += 1
    return 2 * hits / (len(found) + len(truth)) if found or truth else 1.0


@pytest.mark.shared_media
def test_a_real_song_read_at_the_wrong_octave_is_fixed_in_one_click(qtbot, tmp_path, cache_dir):
    song = SHARED / "realworld" / "music" / "gtzan_jazz_00045.flac"
    if not song.exists():
        pytest.skip(f"no {song} (set MONTAGE_SHARED to the shared folder)")
    truth = [float(line.split()[0]) for line in song.with_suffix(".beats").read_text().split("\n") if line.strip()]
    true_bpm = 60 / float(np.median(np.diff(truth)))
    window = _make_panel(qtbot, tmp_path, cache_dir)
    window.music.setText(str(song))
    qtbot.waitUntil(lambda: grid_actions.song_path(window) is not None, timeout=120_000)
    tracked = window.song_loaded
    ratio = tracked.tempo_bpm / true_bpm
    if abs(ratio - 1) < 0.08:
        pytest.skip(f"the tracker reads it right now ({tracked.tempo_bpm:.1f} bpm, truth {true_bpm:.1f})")
    if not (abs(ratio - 2) < 0.16 or abs(ratio - 0.5) < 0.04):
        pytest.skip(f"read at {tracked.tempo_bpm:.1f} bpm (truth {true_bpm:.1f}): not an octave error")
    text = window.grid_strip.summary.text()
    assert "tempo could be" in text and DOUBT in window.grid_strip.summary.styleSheet(), text
    _screenshot(window.grid_strip, "beats-05-real-song-doubt.png")
    before = _f_measure(tracked.beat_times_s, truth)
    fixed = _changed(qtbot, window, lambda: _click(window, "grid_half" if ratio > 1 else "grid_double"))
    after = _f_measure(fixed.beat_times_s, truth)
    assert fixed.tempo_bpm == pytest.approx(true_bpm, rel=0.08) and after >= 0.8 > before, (before, after)
    _screenshot(window.grid_strip, "beats-06-real-song-fixed.png")


def test_a_generated_song_read_at_half_tempo_is_fixed_in_one_click(qtbot, tmp_path, cache_dir):
    """The same one-click fix on a song the tracker does read at the wrong octave today:
    the generated 176 bpm punk track (test_music's ``fast_176``, read at 88)."""
    from dataclasses import replace

    from montage_ai.core.samples.music import PRESETS, SectionSpec, render, write_audio

    spec = replace(PRESETS["fast_176"], sections=tuple(SectionSpec(lbl, 6, e) for lbl, e in
                                                      (("A", 0.5), ("B", 0.95), ("A", 0.5))))
    y, truth = render(spec)
    song = write_audio(tmp_path / "punk 176.wav", y, truth.sample_rate)
    window = _make_panel(qtbot, tmp_path, cache_dir)
    window.music.setText(str(song))
    qtbot.waitUntil(lambda: grid_actions.song_path(window) is not None, timeout=120_000)
    tracked = window.song_loaded
    ratio = tracked.tempo_bpm / truth.tempo_bpm
    if abs(ratio - 1) < 0.04:
        pytest.skip(f"the tracker reads it right now ({tracked.tempo_bpm:.1f} bpm): test_music's xfail passes too")
    assert abs(ratio - 0.5) < 0.04, f"read at {tracked.tempo_bpm:.1f} bpm, truth {truth.tempo_bpm}"
    before = _f_measure(tracked.beat_times_s, truth.beat_times_s)
    fixed = _changed(qtbot, window, lambda: _click(window, "grid_double"))
    after = _f_measure(fixed.beat_times_s, truth.beat_times_s)
    assert fixed.tempo_bpm == pytest.approx(truth.tempo_bpm, rel=0.04) and after >= 0.9 > before, (before, after)
    assert _ops(str(song)) == ["double"]
