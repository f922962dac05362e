"""The Qt panel, driven as an editor drives it: clicks on the real toolbar buttons
(``QTest.mouseClick`` on the QToolButton), key presses on the window (``QTest.keyClick``), a
drop of files, a drag of the playhead, in a real X server (Xvfb, started here) where one is
installed, else offscreen (``test_panel_runs_in_a_real_window`` is then skipped, saying so).
Screenshots of each state go to $MONTAGE_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from fractions import Fraction
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from x_server import start_xvfb  # noqa: E402 - tests/x_server.py: the X server, shared with bench/

WAIT_MS = 120_000
OFFSCREEN_REASON: list[str] = []  # why the tests run offscreen, when they do


# ---------------------------------------------------------------------------- the X server
@pytest.fixture(scope="session")
def x_display():
    """Xvfb on a free display with Qt pointed at it (:func:`x_server.start_xvfb`): the display,
    or None (offscreen, the reason in OFFSCREEN_REASON) when there is no X server to have."""
    server = start_xvfb()
    if server.display is None:
        OFFSCREEN_REASON.append(server.why)
    yield server.display
    server.stop()


@pytest.fixture(scope="session")
def qapp_args(x_display):
    """pytest-qt makes the QApplication from these, after the X server is up."""
    return ["montage-ai-panel-tests"]


from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QWheelEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu  # noqa: E402

from montage_ai.core import defaults  # noqa: E402
from montage_ai.core.model.timeline import cut_list_from_timeline  # noqa: E402
from montage_ai.core.run.executor import InlineExecutor  # noqa: E402
from montage_ai.otio_adapters.export import read_timeline  # noqa: E402
from montage_ai.ui.qt.panel import MontagePanel  # noqa: E402
from montage_ai.ui.qt.settings import PanelSettings  # noqa: E402


# ---------------------------------------------------------------------------- media and window
@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from montage_ai.core.samples.footage import Segment, render_footage
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    root = tmp_path_factory.mktemp("panel project")
    kinds = ["testsrc2", "smptebars", "mandelbrot", "gradients", "pan", "life"]
    clips = []
    for i, rate in enumerate([Fraction(25), Fraction(30000, 1001), Fraction(25)]):
        segs = [Segment(kinds[(i * 2 + k) % len(kinds)], int(rate * 2), seed=i + k + 1) for k in range(3)]
        path = root / f"clip {i}.mp4"
        render_footage(path, segs, rate=rate, size=(160, 90))
        clips.append(str(path))
    bad = root / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    y, truth = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 2, 0.5), SectionSpec("B", 2, 0.95))))
    song = write_audio(root / "song.wav", y, truth.sample_rate)
    return clips, str(bad), str(song)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One analysis cache for the module: a clip is analysed once, later tests look it up."""
    return str(tmp_path_factory.mktemp("panel cache"))


def _make_panel(qtbot, tmp_path, cache_dir, **kwargs) -> MontagePanel:
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    (tmp_path / "exports").mkdir(exist_ok=True)
    PanelSettings(cache_dir=cache_dir, export_folder=str(tmp_path / "exports")).save(store)
    window = MontagePanel(store=store, executor=InlineExecutor(), open_files=False, **kwargs)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    return window


@pytest.fixture
def panel(qtbot, tmp_path, cache_dir):
    return _make_panel(qtbot, tmp_path, cache_dir)


def _wait(qtbot, task, timeout=WAIT_MS):
    """Until the panel has shown ``task``'s outcome."""
    assert task is not None, "the action did not start"
    qtbot.waitUntil(lambda: task.isFinished() and any(
        isinstance(w, MontagePanel) and w.last_finished is task for w in QApplication.topLevelWidgets()),
        timeout=timeout)


def _screenshot(widget, name: str) -> None:
    folder = os.environ.get("MONTAGE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(Path(folder) / name))


def _click(qtbot, panel, key: str):
    """Click the toolbar button of ``key`` as the editor does; the task it started, if any."""
    button = panel.tool_button(key)
    assert button is not None and button.isVisible(), f"no visible button for {key}"
    assert button.isEnabled(), f"the {key} button is disabled"
    before = panel.task
    QTest.mouseClick(button, Qt.LeftButton)
    return panel.task if panel.task is not before else None


def _press(panel, key, modifiers=Qt.NoModifier):
    before = panel.task
    QTest.keyClick(panel, key, modifiers)
    return panel.task if panel.task is not before else None


def _ready(panel, project, *, bad=False):
    clips, broken, song = project
    panel.set_footage(clips + ([broken] if bad else []))
    panel.music.setText(song)


def _cut(qtbot, panel, project):
    _ready(panel, project)
    task = _press(panel, Qt.Key_R, Qt.ControlModifier)
    _wait(qtbot, task)
    assert panel.tabs["cut"].cut_list is not None, panel.banner.text.text()
    return panel.tabs["cut"].cut_list


# ---------------------------------------------------------------------------- the window itself
def test_panel_runs_in_a_real_window(panel, x_display):
    if x_display is None:
        pytest.skip(f"{OFFSCREEN_REASON[0] if OFFSCREEN_REASON else 'no X server'}: the panel tests ran offscreen")
    assert QApplication.platformName() == "xcb"
    assert panel.isActiveWindow() and panel.windowHandle().isExposed()


def test_panel_defaults_are_the_products(panel):
    assert panel.planner.currentData() == defaults.PLANNER
    assert panel.style.currentText() == defaults.STYLE
    assert panel.seed.value() == defaults.SEED


def test_panel_menus_hold_every_action(panel):
    titles = {m.title().replace("&", ""): [a.text() for a in m.actions()] for m in panel.menuBar().findChildren(QMenu)}
    everything = sum(titles.values(), [])
    for label in ("Analyse", "Rough Cut", "Selects", "Send to Resolve", "Export…", "Preview", "Shot report…",
                  "Cancel", "Settings…", "Undo", "Redo", "Exclude shot", "Lock cut", "Swap shot"):
        assert label in everything, (label, titles)
    shortcuts = {key: action.shortcut().toString() for key, action in panel.actions_.items()}
    assert shortcuts["cut"] == "Ctrl+R" and shortcuts["analyse"] == "F5" and shortcuts["cancel"] == "Esc"
    assert shortcuts["export"] == "Ctrl+E" and shortcuts["preview"] == "Ctrl+P" and shortcuts["undo"] == "Ctrl+Z"
    assert panel.minimumSizeHint().width() <= 1280 and panel.minimumSizeHint().height() <= 680


# ---------------------------------------------------------------------------- one test per action
def test_analyse_button_and_f5(panel, qtbot, project):
    _ready(panel, project, bad=True)
    _screenshot(panel, "01-ready.png")
    _wait(qtbot, _click(qtbot, panel, "analyse"))
    assert panel.bad.count() == 1 and panel.bad.item(0).text().startswith("broken.mp4: ")
    assert panel.stage_label.text() == "Analysed 3 clips; 1 cannot be used."
    assert [panel.clip_table.item(r, 1).text() for r in range(4)].count("done") == 3
    panel.bad.clear()
    _wait(qtbot, _press(panel, Qt.Key_F5))
    assert panel.stage_label.text() == "Analysed 3 clips; 1 cannot be used." and panel.bad.count() == 1
    lines = panel.log_pane.toPlainText().splitlines()
    assert lines and all(re.match(r"^\d\d:\d\d:\d\d  [A-Z][\w ]+  \S", line) for line in lines), lines[:5]
    assert "montage_ai." not in panel.log_pane.toPlainText()


def test_rough_cut_ctrl_r_shows_a_ruler_zoom_and_scroll(panel, qtbot, project):
    cl = _cut(qtbot, panel, project)
    view, editor = panel.timeline, panel.tabs["cut"].editor
    assert len(view.blocks()) == len(cl.cuts) > 3 and panel.stage_label.text().startswith("Rough cut ready")
    assert view.timecode(0) == "01:00:00:00" and editor.position.text().startswith("01:00:00:00")
    assert view.zoom_factor() == pytest.approx(1.0) and not editor.scroll.isEnabled()
    _screenshot(panel, "02-rough-cut-ruler.png")
    QTest.mouseClick(editor.zoom_in, Qt.LeftButton)
    QTest.mouseClick(editor.zoom_in, Qt.LeftButton)
    assert view.zoom_factor() == pytest.approx(2.25) and editor.scroll.isEnabled()
    width_zoomed = view.blocks()[1].rect.width()
    # Ctrl+wheel zooms closer still, the plain wheel scrolls.
    wheel = QWheelEvent(QPointF(200, 60), view.mapToGlobal(QPointF(200, 60)), QPoint(0, 0), QPoint(0, 240),
                        Qt.NoButton, Qt.ControlModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view, wheel)
    assert view.zoom_factor() > 2.25 and view.blocks()[1].rect.width() > width_zoomed
    editor.scroll.setValue(editor.scroll.maximum())
    assert view.scroll_frame() == pytest.approx(view.max_scroll(), abs=1)
    assert view.blocks()[0].rect.right() < 0  # the first cut has scrolled out to the left
    _screenshot(panel, "03-zoomed-in.png")
    QTest.keyClick(view, Qt.Key_Minus)
    assert view.zoom_factor() < 2.25 * 1.25 ** 2
    QTest.mouseClick(editor.fit_button, Qt.LeftButton)
    assert view.zoom_factor() == pytest.approx(1.0) and view.scroll_frame() == 0


def test_playhead_drags_along_the_ruler(panel, qtbot, project):
    cl = _cut(qtbot, panel, project)
    view = panel.timeline
    QTest.mousePress(view, Qt.LeftButton, Qt.NoModifier, QPoint(10, 8))
    QTest.mouseMove(view, QPoint(view.width() // 2, 8))
    QTest.mouseRelease(view, Qt.LeftButton, Qt.NoModifier, QPoint(view.width() // 2, 8))
    assert abs(view.playhead() - cl.duration // 2) <= 2
    assert panel.tabs["cut"].editor.position.text().startswith(view.timecode(view.playhead()))


def test_export_button_and_ctrl_e_write_what_is_shown(panel, qtbot, project, tmp_path, monkeypatch):
    cl = _cut(qtbot, panel, project)
    asked = []
    out = tmp_path / "exports" / "my cut.fcpxml"

    def dialog(parent, title, folder, filters):
        asked.append((parent, title, folder))
        return str(out), "FCPXML for Resolve / Final Cut (*.fcpxml)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
    _wait(qtbot, _click(qtbot, panel, "export"))
    assert asked and asked[0][0] is panel and out.exists()
    assert cut_list_from_timeline(read_timeline(out)) == cl
    assert panel.stage_label.text() == f"Exported {out}"
    out.unlink()
    _wait(qtbot, _press(panel, Qt.Key_E, Qt.ControlModifier))
    assert len(asked) == 2 and out.exists()


def test_export_of_a_clip_the_format_cannot_carry_says_so_in_the_banner(panel, qtbot, tmp_path, monkeypatch):
    """A 12.5 fps clip in a 25 fps cut: the Premiere .xml is written without it (a gap in its
    place) and the editor is told which clip is missing, not just "Exported"."""
    from montage_ai.core.samples.footage import Segment, render_footage
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    clips = []
    for i, rate in enumerate([Fraction(25), Fraction(25), Fraction(25, 2)]):
        path = tmp_path / f"cam {i}.mp4"
        kinds = (("mandelbrot", "life"), ("gradients", "pan"), ("life", "gradients"))[i]
        render_footage(path, [Segment(k, int(rate * 3), seed=i + 1) for k in kinds], rate=rate, size=(160, 90))
        clips.append(str(path))
    y, truth = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 4, 0.5), SectionSpec("B", 4, 0.9))))
    panel.set_footage(clips)
    panel.music.setText(str(write_audio(tmp_path / "song.wav", y, truth.sample_rate)))
    _wait(qtbot, _press(panel, Qt.Key_R, Qt.ControlModifier))
    cl = panel.tabs["cut"].cut_list
    assert cl is not None and cl.rate == 25, panel.banner.text.text()
    assert any(c.source_path == clips[2] for c in cl.cuts), "the 12.5 fps clip is not in this cut"
    out = tmp_path / "exports" / "for premiere.xml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a: (str(out), "Premiere / FCP7 XML (*.xml)")))
    _wait(qtbot, _click(qtbot, panel, "export"))
    assert out.exists()
    assert "without" in panel.stage_label.text() and "cannot carry" in panel.stage_label.text()
    assert panel.banner.isVisible() and "cam 2.mp4" in panel.banner.text.text()
    assert "cam 2.mp4" not in out.read_text()


def test_shot_report_button(panel, qtbot, project, tmp_path, monkeypatch):
    _ready(panel, project)
    page = tmp_path / "report.html"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(page), "")))
    _wait(qtbot, _click(qtbot, panel, "report"))
    assert page.exists() and (tmp_path / "report.csv").exists(), panel.banner.text.text()
    assert panel.stage_label.text().startswith(f"Shot report written: {page}")
    assert not panel.banner.isVisible()


def test_selects_open_in_their_own_tab(panel, qtbot, project):
    cl = _cut(qtbot, panel, project)
    _wait(qtbot, _click(qtbot, panel, "selects"))
    assert panel.cut_tabs.currentIndex() == 1 and panel.cut_tabs.tabText(1) == "Selects"
    selects = panel.tabs["selects"].cut_list
    assert selects.name == "Selects" and panel.result.cut_list is selects
    assert len(panel.tabs["selects"].view.blocks()) == len(selects.cuts) > 0
    _screenshot(panel, "04-selects-tab.png")
    panel.cut_tabs.setCurrentIndex(0)  # the rough cut is still there
    assert panel.result.cut_list is cl and panel.timeline.cut_list() is cl


def test_send_to_resolve_button_without_resolve_writes_the_import_files(panel, qtbot, project, tmp_path):
    _cut(qtbot, panel, project)
    folder = tmp_path / "for resolve"
    folder.mkdir()
    (folder / f"{panel.result.cut_list.name}.xml").write_text("the editor's file")
    panel.file_route_folder = str(folder)
    _wait(qtbot, _click(qtbot, panel, "send"))
    written = panel.last_file_route
    assert written.xml.exists() and written.fcpxml.exists()
    assert (folder / f"{panel.result.cut_list.name}.xml").read_text() == "the editor's file"
    assert cut_list_from_timeline(read_timeline(written.xml)).cuts == panel.result.cut_list.cuts
    assert "File > Import > Timeline" in panel.summary.text()


def test_settings_button_opens_the_dialog(panel, qtbot):
    seen = []

    def answer():
        dialog = QApplication.activeModalWidget()
        seen.append(dialog)
        dialog.host.setText("http://studio:11434")
        dialog.accept()

    QTimer.singleShot(300, answer)
    QTest.mouseClick(panel.tool_button("settings"), Qt.LeftButton)
    assert seen and seen[0].windowTitle() == "Montage AI settings"
    assert panel.settings.ollama_host == "http://studio:11434"


def test_cancel_button_and_esc_stop_the_task_within_2_s(panel, qtbot, tmp_path):
    from montage_ai.core.samples.footage import Segment, render_footage

    long_clip = tmp_path / "long.mp4"
    render_footage(long_clip, [Segment("testsrc2", 25 * 40, seed=1)], rate=Fraction(25), size=(320, 180))
    panel.set_footage([str(long_clip)])
    for how in ("button", "esc"):
        task = _click(qtbot, panel, "analyse")
        qtbot.waitUntil(lambda: "%" in (panel.clip_table.item(0, 1).text()), timeout=60_000)
        # While it runs: Cancel is on, everything that would start another task is off.
        assert panel.actions_["cancel"].isEnabled() and panel.tool_button("cancel").isEnabled()
        assert not any(panel.actions_[k].isEnabled() for k in ("analyse", "cut", "selects", "report"))
        assert _press(panel, Qt.Key_F5) is None  # F5 while busy starts nothing
        _screenshot(panel, f"05-running-{how}.png")
        pressed = time.monotonic()
        if how == "button":
            QTest.mouseClick(panel.tool_button("cancel"), Qt.LeftButton)
        else:
            QTest.keyClick(panel, Qt.Key_Escape)
        _wait(qtbot, task, timeout=10_000)
        assert panel.stopped_at - pressed < 2.0, f"stopped {panel.stopped_at - pressed:.2f} s after {how}"
        assert panel.stage_label.text() == "Cancelled." and panel.actions_["analyse"].isEnabled()
        assert not panel.actions_["cancel"].isEnabled()


def test_preview_ctrl_p_plays_in_the_panel_with_jkl_and_space(panel, qtbot, project):
    from montage_ai.ui.qt.player import HAVE_MULTIMEDIA

    cl = _cut(qtbot, panel, project)
    ticks: list[float] = []
    _wait(qtbot, _press(panel, Qt.Key_P, Qt.ControlModifier))
    path = Path(panel.last_preview)
    assert path.parent == Path(panel.settings.export_folder) and path.stat().st_size > 0
    assert str(path) in panel.stage_label.text() and str(path) in panel.banner.text.text()
    if not HAVE_MULTIMEDIA:
        pytest.skip("QtMultimedia (PySide6-Addons) is not installed: the preview is written, not played")
    qtbot.waitUntil(lambda: panel.timeline.playhead() > 0, timeout=15_000)
    timer = QTimer()  # from the first frame shown on: the event loop's pulse while playing
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    qtbot.waitUntil(lambda: panel.timeline.playhead() > int(cl.rate), timeout=15_000)  # it plays, the head follows
    qtbot.waitUntil(lambda: panel.viewer.image() is not None, timeout=5000)  # and the viewer shows it
    _screenshot(panel, "06-playing.png")
    QTest.keyClick(panel, Qt.Key_K)
    stopped = panel.timeline.playhead()
    qtbot.wait(300)
    assert panel.player.speed == 0 and abs(panel.timeline.playhead() - stopped) <= 2
    QTest.keyClick(panel, Qt.Key_L)
    QTest.keyClick(panel, Qt.Key_L)
    assert panel.player.speed == 2.0
    QTest.keyClick(panel, Qt.Key_Space)
    assert panel.player.speed == 0
    here = panel.player.position_frame()
    QTest.keyClick(panel, Qt.Key_J)
    qtbot.waitUntil(lambda: panel.player.position_frame() < here - 3, timeout=5000)
    QTest.keyClick(panel, Qt.Key_Space)
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    # bench/panel_latency.py measures the 100 ms goal on a quiet machine; here, on a CI box
    # shared with other work, a stall of a quarter second is a regression.
    assert gaps and max(gaps) < 0.25, f"the event loop stalled {max(gaps) * 1000:.0f} ms while playing"


def test_click_a_block_shows_the_whole_frame_with_name_timecode_and_score(panel, qtbot, project, tmp_path):
    from montage_ai.core.samples.footage import Segment, render_footage

    clips, _, song = project
    # Anamorphic: 80x90 pixels twice as wide as tall (SAR 2:1) show at 160x90 (16:9).
    squeezed = tmp_path / "anamorphic.mp4"
    render_footage(tmp_path / "square.mp4", [Segment(kind, 100, seed=3) for kind in ("testsrc2", "mandelbrot", "life")],
                   rate=Fraction(25), size=(80, 90))
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(tmp_path / "square.mp4"), "-c:v", "libx264", "-vf", "setsar=2/1",
                    str(squeezed)], check=True)
    panel.set_footage([str(squeezed)])
    panel.music.setText(song)
    panel.duration.setValue(4.0)
    _wait(qtbot, _press(panel, Qt.Key_R, Qt.ControlModifier))
    block = panel.timeline.blocks()[0]
    assert os.path.basename(block.cut.source_path) in panel.timeline.describe(block)
    with qtbot.waitSignal(panel.timeline.cut_clicked, timeout=5000) as clicked:
        QTest.mouseClick(panel.timeline, Qt.LeftButton, Qt.NoModifier, block.rect.center().toPoint())
    assert clicked.args == [0]
    qtbot.waitUntil(lambda: panel.viewer.image() is not None, timeout=30_000)
    image = panel.viewer.image()
    assert image.width() / image.height() == pytest.approx(16 / 9, abs=0.03)
    rect = panel.viewer.picture_rect()
    assert rect.width() / rect.height() == pytest.approx(16 / 9, abs=0.03)
    assert rect.height() <= panel.viewer.height() and rect.width() <= panel.viewer.width()
    caption = panel.viewer.caption()
    assert "anamorphic.mp4" in caption and re.search(r"source \d\d:\d\d:\d\d:\d\d", caption)
    assert f"score {block.cut.score:.2f}" in caption
    _screenshot(panel, "07-viewer.png")


def _select(qtbot, panel, index: int) -> None:
    block = panel.timeline.blocks()[index]
    QTest.mouseClick(panel.timeline, Qt.LeftButton, Qt.NoModifier, block.rect.center().toPoint())
    assert panel.timeline.selected() == index


def test_exclude_then_undo_and_redo(panel, qtbot, project):
    cl = _cut(qtbot, panel, project)
    _select(qtbot, panel, 1)
    key = (cl.cuts[1].source_path, cl.cuts[1].shot_index)
    QTest.mouseClick(panel.tool_button("exclude"), Qt.LeftButton)
    excluded = panel.tabs["cut"].cut_list
    assert key not in {(c.source_path, c.shot_index) for c in excluded.cuts}
    assert key in panel.excluded and panel.history_list.count() == 2
    assert panel.result.cut_list is excluded  # what is exported is what is shown
    _screenshot(panel, "08-excluded.png")
    QTest.keyClick(panel, Qt.Key_Z, Qt.ControlModifier)
    assert panel.tabs["cut"].cut_list == cl and panel.stage_label.text().startswith("Undid: Excluded")
    _screenshot(panel, "09-undo-after-exclude.png")
    QTest.keyClick(panel, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert panel.tabs["cut"].cut_list is excluded
    # The exclusion holds for the project: a new panel on the same settings keeps it.
    again = MontagePanel(store=panel.store, executor=InlineExecutor(), open_files=False)
    qtbot.addWidget(again)
    assert key in again.excluded


def test_lock_keeps_a_cut_on_reroll_and_undo_covers_the_reroll(panel, qtbot, project):
    cl = _cut(qtbot, panel, project)
    _select(qtbot, panel, 2)
    locked = cl.cuts[2]
    QTest.mouseClick(panel.tool_button("lock"), Qt.LeftButton)
    assert locked in panel.tabs["cut"].locked
    _wait(qtbot, _press(panel, Qt.Key_N, Qt.ControlModifier | Qt.ShiftModifier))
    rerolled = panel.tabs["cut"].cut_list
    assert rerolled.seed == cl.seed + 1 and rerolled != cl
    assert locked in rerolled.cuts
    assert panel.history_list.count() == 2 and "Re-roll" in panel.history_list.item(1).text()
    QTest.keyClick(panel, Qt.Key_Z, Qt.ControlModifier)
    assert panel.tabs["cut"].cut_list == cl
    # The history list goes back to any version.
    panel.history_list.itemActivated.emit(panel.history_list.item(1))
    assert panel.tabs["cut"].cut_list == rerolled and panel.history_list.count() == 3


def test_swap_and_trim_by_a_beat(panel, qtbot, project):
    cl = _cut(qtbot, panel, project)
    _select(qtbot, panel, 1)
    QTest.mouseClick(panel.tool_button("swap"), Qt.LeftButton)
    swapped = panel.tabs["cut"].cut_list
    assert (swapped.cuts[1].source_path, swapped.cuts[1].shot_index) != (cl.cuts[1].source_path, cl.cuts[1].shot_index)
    assert swapped.cuts[1].record_frames == cl.cuts[1].record_frames
    QTest.keyClick(panel, Qt.Key_BracketRight)
    longer = panel.tabs["cut"].cut_list
    next_beat = min(b for b in cl.beats if b > cl.cuts[1].record_out)
    assert longer.cuts[1].record_out == next_beat == longer.cuts[2].record_in
    assert longer.duration == cl.duration
    QTest.mouseClick(panel.tool_button("shorter"), Qt.LeftButton)
    assert panel.tabs["cut"].cut_list.cuts[1].record_out == cl.cuts[1].record_out
    assert panel.history_list.count() == 4


def test_a_failure_shows_a_banner_and_marks_the_old_cut_stale(panel, qtbot, project, tmp_path):
    _cut(qtbot, panel, project)
    song = tmp_path / "not a song.wav"
    song.write_bytes(b"RIFF nonsense")
    panel.music.setText(str(song))
    _wait(qtbot, _click(qtbot, panel, "cut"))
    assert panel.banner.isVisible() and panel.banner.kind == "error"
    text = panel.banner.text.text()
    assert "Rough Cut failed." in text and "not a song.wav" in text and "What to do:" in text
    assert panel.timeline.stale and "previous cut" in panel.timeline.stale
    _screenshot(panel, "10-error-banner.png")
    QTest.mouseClick(panel.banner.dismiss, Qt.LeftButton)
    assert not panel.banner.isVisible()


def test_drop_a_folder_a_clip_and_a_song(panel, project, tmp_path):
    clips, _, song = project
    folder = tmp_path / "card"
    folder.mkdir()
    shutil.copy(clips[0], folder / "a.mp4")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(folder)), QUrl.fromLocalFile(clips[1]), QUrl.fromLocalFile(song)])
    # As a drag from a file manager arrives: enter (the panel accepts), then the drop.
    enter = QDragEnterEvent(QPoint(100, 100), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(panel, QDropEvent(QPointF(100, 100), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier))
    assert sorted(os.path.basename(p) for p in panel.footage()) == ["a.mp4", os.path.basename(clips[1])]
    assert panel.music.text() == song and panel.actions_["cut"].isEnabled()


def test_log_can_be_copied_and_saved(panel, qtbot, project, tmp_path, monkeypatch):
    _ready(panel, project)
    _wait(qtbot, _press(panel, Qt.Key_F5))
    panel.side_tabs.setCurrentIndex(1)
    QTest.mouseClick(panel.copy_log, Qt.LeftButton)
    assert QApplication.clipboard().text() == panel.log_pane.toPlainText()
    target = tmp_path / "log.txt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(target), "")))
    QTest.mouseClick(panel.save_log, Qt.LeftButton)
    assert target.read_text().strip() == panel.log_pane.toPlainText().strip()


# ---------------------------------------------------------------------------- with (the fake) Resolve
@pytest.fixture
def resolve_panel(qtbot, tmp_path, project, cache_dir):
    from fake_resolve import make_resolve
    from montage_ai.resolve_plugin.direct import DirectClient

    clips, bad, song = project
    fake = make_resolve({"Day 1": clips, "Day 1/B cam": clips[2:], "Music": [song],
                         "": [("Old timeline", "Timeline")]}, rate="25")
    return _make_panel(qtbot, tmp_path, cache_dir, resolve=DirectClient(fake)), fake


def _choose(combo, index: int) -> None:
    """Choose item ``index`` of a combo box the way an editor does from the keyboard: Home,
    then Down until it is current (each key press is the user's choice: ``activated``)."""
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key_Home)
    for _ in range(index):
        QTest.keyClick(combo, Qt.Key_Down)
    assert combo.currentIndex() == index


def test_panel_with_resolve_choose_bin_cut_and_send(resolve_panel, qtbot, project):
    panel, fake = resolve_panel
    clips, _, song = project
    assert panel.resolve_status.text().startswith("Connected to DaVinci Resolve Studio")
    labels = [panel.bin_combo.itemText(i) for i in range(panel.bin_combo.count())]
    assert "Master/Day 1 (3 clips)" in labels and "Master/Day 1/B cam (1 clips)" in labels, labels
    day1 = labels.index("Master/Day 1 (3 clips)")
    _choose(panel.bin_combo, day1)
    assert sorted(panel.footage()) == sorted(clips)
    music_index = next(i for i in range(panel.pool_music.count()) if panel.pool_music.itemData(i) == song)
    _choose(panel.pool_music, music_index)
    assert panel.music.text() == song
    _wait(qtbot, _press(panel, Qt.Key_R, Qt.ControlModifier))
    _select(qtbot, panel, 0)
    QTest.mouseClick(panel.tool_button("swap"), Qt.LeftButton)  # what is sent is what is shown
    _wait(qtbot, _click(qtbot, panel, "send"))
    report = panel.last_push
    assert report.ok, report.mismatches
    timeline = fake.project.timeline(report.timeline_name)
    assert len(timeline.GetItemListInTrack("video", 1)) == len(panel.result.cut_list.cuts) == report.items_placed - 1
    first = timeline.GetItemListInTrack("video", 1)[0]
    assert first.GetMediaPoolItem().GetClipProperty("File Path") == panel.result.cut_list.cuts[0].source_path
    assert report.markers_added > 0 and len(timeline.GetMarkers()) == report.markers_added
    assert report.timeline_name in panel.stage_label.text() and "verified" in panel.summary.text()
    _screenshot(panel, "11-resolve-sent.png")
    _wait(qtbot, _press(panel, Qt.Key_R, Qt.ControlModifier | Qt.ShiftModifier))
    assert panel.last_push.timeline_name != report.timeline_name


def test_panel_with_resolve_uses_the_selected_clips(resolve_panel, project):
    from fake_resolve import find_clip

    panel, fake = resolve_panel
    clips, _, _ = project
    chosen = find_clip(fake, os.path.basename(clips[2]))
    fake.project.pool.selected = [chosen]
    from PySide6.QtWidgets import QPushButton

    QTest.mouseClick(panel.findChild(QPushButton, "use-selected"), Qt.LeftButton)
    assert panel.footage() == [clips[2]]
    assert "selection" in panel.stage_label.text()


def test_panel_makes_and_links_proxies_when_asked(resolve_panel, qtbot, project):
    from fake_resolve import find_clip
    from montage_ai.core.media.probe import probe

    panel, fake = resolve_panel
    _ready(panel, project)
    panel.settings.encoder, panel.settings.proxy_profile = "cpu", "h264-quarter"
    panel.proxies.setChecked(True)
    panel.markers.setChecked(False)
    _wait(qtbot, _press(panel, Qt.Key_R, Qt.ControlModifier))
    _wait(qtbot, _click(qtbot, panel, "send"))
    report = panel.last_push
    used = sorted({c.source_path for c in panel.result.cut_list.cuts})
    assert report.ok and len(report.proxies_linked) == len(used) and report.markers_added == 0
    for source in used:
        proxy = find_clip(fake, os.path.basename(source)).GetClipProperty("Proxy Media Path")
        assert proxy and Path(proxy).parent.name == "Proxy"
        assert probe(proxy).video.frame_count == probe(source).video.frame_count


def test_panel_selects_in_resolve_are_named_after_the_bin(resolve_panel, qtbot):
    panel, fake = resolve_panel
    labels = [panel.bin_combo.itemText(i) for i in range(panel.bin_combo.count())]
    _choose(panel.bin_combo, labels.index("Master/Day 1 (3 clips)"))
    _wait(qtbot, _click(qtbot, panel, "selects"))
    _wait(qtbot, _click(qtbot, panel, "send"))
    assert panel.last_push.ok and panel.last_push.timeline_name == "Day 1 Selects"


def test_panel_shows_the_route_into_resolve(qtbot, tmp_path, project):
    from fake_resolve import make_resolve
    from montage_ai.resolve_plugin.routes import select_route

    clips, _, _ = project
    fake = make_resolve({"Day 1": clips}, rate="25")
    route = select_route(injected=lambda: fake, timeout_s=0.5)
    assert route.live and route.route == "injected"
    window = MontagePanel(resolve=route.client, route=route, store=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat),
                          open_files=False)
    qtbot.addWidget(window)
    assert window.resolve_status.text().startswith("Connected to DaVinci Resolve Studio")
    assert window.resolve_status.text().endswith("(injected route).")
    assert "route in use: injected" in window.resolve_status.toolTip()
    assert "Resolve route in use: injected" in window.log_pane.toPlainText()


def test_settings_persist(qtbot, tmp_path):
    store = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    first = MontagePanel(store=store, executor=InlineExecutor(), open_files=False)
    qtbot.addWidget(first)
    first.settings.ollama_host = "http://studio:11434"
    first.settings.encoder = "vaapi"
    first.style.setCurrentText("cinematic")
    first.close()
    again = MontagePanel(store=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), open_files=False)
    qtbot.addWidget(again)
    assert again.settings.ollama_host == "http://studio:11434" and again.settings.encoder == "vaapi"
    assert again.style.currentText() == "cinematic"


def test_the_event_loop_keeps_turning_during_analysis(panel, qtbot, project, tmp_path):
    from montage_ai.core.samples.footage import Segment, render_footage

    fresh = tmp_path / "fresh.mp4"  # 20 s: long enough that analysis takes clearly over 0.3 s (it got faster)
    render_footage(fresh, [Segment("mandelbrot", 500, seed=4)], rate=Fraction(25), size=(320, 180))
    panel.set_footage([str(fresh)])
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    start = time.monotonic()
    _wait(qtbot, _click(qtbot, panel, "analyse"))
    timer.stop()
    elapsed = time.monotonic() - start
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert elapsed > 0.3, "analysis too quick to tell"
    assert max(gaps) < 0.5, f"the event loop stalled for {max(gaps):.2f} s"


def test_choose_the_part_of_the_song_on_its_waveform(panel, qtbot, project):
    from dataclasses import fields

    from montage_ai.core.cut.roughcut import RoughCutOptions

    clips, _, song = project
    panel.set_footage(clips)
    panel.music.setText(song)
    qtbot.waitUntil(lambda: panel.song_range._duration > 0, timeout=60_000)
    downbeats = panel.song_loaded.downbeat_times_s
    assert len(downbeats) >= 3
    widget = panel.song_range
    x0, x1 = int(widget.x_of(downbeats[1] + 0.1)), int(widget.x_of(downbeats[3] - 0.1))
    QTest.mousePress(widget, Qt.LeftButton, Qt.NoModifier, QPoint(x0, 10))
    QTest.mouseMove(widget, QPoint(x1, 10))
    QTest.mouseRelease(widget, Qt.LeftButton, Qt.NoModifier, QPoint(x1, 10))
    part = widget.part()
    assert part.start_s == pytest.approx(downbeats[1], abs=0.002) and part.end_s == pytest.approx(downbeats[3], abs=0.002)
    assert part.bars == 2 and "2 bars" in panel.stage_label.text()
    options = panel.options()
    if "song_start" in {f.name for f in fields(RoughCutOptions)}:
        assert float(options.song_start) == pytest.approx(part.start_s, abs=0.001)
        _wait(qtbot, _press(panel, Qt.Key_R, Qt.ControlModifier))
        cl = panel.tabs["cut"].cut_list
        assert cl is not None, panel.banner.text.text()
        assert float(cl.duration / cl.rate) == pytest.approx(part.length_s, abs=0.25)
    else:  # this engine cuts from the song's start: the part's end is the length
        assert options.duration_s == pytest.approx(part.end_s)
    _screenshot(panel, "12-song-part.png")
    QTest.mouseClick(widget, Qt.LeftButton, Qt.NoModifier, QPoint(x0, 10))  # a click: the whole song again
    assert widget.part() is None
