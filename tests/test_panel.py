"""The Qt panel, driven as an editor would, offscreen (QT_QPA_PLATFORM=offscreen): add clips
and music, analyse (a bad clip is listed with its reason), cut (the preview shows one block per
cut), export, render a preview, cancel mid-analysis, and the window keeps turning while the
work runs. Screenshots go to $MONTAGE_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
import time
from fractions import Fraction
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402

from montage_ai.core.model.timeline import cut_list_from_timeline  # noqa: E402
from montage_ai.core.run.executor import InlineExecutor  # noqa: E402
from montage_ai.otio_adapters.export import read_timeline  # noqa: E402
from montage_ai.ui.qt.panel import MontagePanel  # noqa: E402
from montage_ai.ui.qt.settings import PanelSettings  # noqa: E402

WAIT_MS = 180_000


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
    return clips, str(bad), song


@pytest.fixture
def panel(qtbot, tmp_path):
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    PanelSettings(cache_dir=str(tmp_path / "cache")).save(store)
    window = MontagePanel(store=store, executor=InlineExecutor(), open_files=False)
    qtbot.addWidget(window)
    window.show()
    return window


def _wait(qtbot, task):
    """Until the panel has shown ``task``'s outcome. (Polled: a signal the task emitted before
    a waitSignal connected would be missed.)"""
    from PySide6.QtWidgets import QApplication

    assert task is not None, "the action did not start"
    qtbot.waitUntil(lambda: task.isFinished() and any(
        isinstance(w, MontagePanel) and w.last_finished is task for w in QApplication.topLevelWidgets()),
        timeout=WAIT_MS)


def _screenshot(widget, name: str) -> None:
    folder = os.environ.get("MONTAGE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(Path(folder) / name))


def test_panel_whole_flow_analyse_cut_export_preview(panel, qtbot, project, tmp_path):
    clips, bad, song = project
    panel.set_footage(clips + [bad])
    panel.music.setText(song)
    panel.style.setCurrentText("mtv")
    assert panel.actions_["cut"].isEnabled() and not panel.actions_["export"].isEnabled()
    _screenshot(panel, "panel-before.png")

    _wait(qtbot, panel.analyse())
    assert panel.bad.count() == 1 and panel.bad.item(0).text().startswith("broken.mp4: ")
    assert len(panel.analysed) == 3

    _wait(qtbot, panel.rough_cut())
    cut_list = panel.result.cut_list
    blocks = panel.timeline.blocks()
    assert len(blocks) == len(cut_list.cuts) > 3
    assert all(b.rect.width() > 0 for b in blocks)
    assert blocks[0].rect.left() < blocks[-1].rect.left()
    assert "cuts" in panel.summary.text()
    _screenshot(panel, "panel-after.png")

    out = tmp_path / "exported.fcpxml"
    _wait(qtbot, panel.export(str(out), "fcpxml"))
    assert cut_list_from_timeline(read_timeline(out)) == cut_list

    _wait(qtbot, panel.preview())
    assert os.path.getsize(panel.last_preview) > 0


def test_panel_hover_and_click_show_the_moment(panel, qtbot, project):
    clips, _, song = project
    panel.set_footage(clips)
    panel.music.setText(song)
    _wait(qtbot, panel.rough_cut())
    block = panel.timeline.blocks()[1]
    text = panel.timeline.describe(block)
    assert os.path.basename(block.cut.source_path) in text and f"{block.cut.score:.2f}" in text
    assert block.cut.reason.split()[0] in text
    with qtbot.waitSignal(panel.timeline.cut_clicked, timeout=5000) as clicked:
        qtbot.mouseClick(panel.timeline, __import__("PySide6.QtCore").QtCore.Qt.LeftButton,
                         pos=block.rect.center().toPoint())
    assert clicked.args == [1]
    qtbot.waitUntil(lambda: panel.viewer.pixmap() is not None and not panel.viewer.pixmap().isNull(), timeout=30_000)
    assert panel.viewer.pixmap().height() == 240


def test_panel_cancel_mid_analysis(panel, qtbot, project, tmp_path):
    from montage_ai.core.samples.footage import Segment, render_footage

    long_clip = tmp_path / "long.mp4"
    render_footage(long_clip, [Segment("testsrc2", 25 * 40, seed=1)], rate=Fraction(25), size=(320, 180))
    panel.set_footage([str(long_clip)])
    task = panel.analyse()
    qtbot.waitUntil(lambda: panel.total.value() > 0 or "%" in (panel.clip_table.item(0, 1).text()), timeout=60_000)
    cancelled = []
    task.cancelled.connect(lambda: cancelled.append(True))  # before cancel(): nothing can be missed
    panel.cancel()
    _wait(qtbot, task)
    assert cancelled and panel.stage_label.text() == "Cancelled."
    assert panel.actions_["analyse"].isEnabled()


def test_panel_stays_responsive_during_analysis(panel, qtbot, project):
    clips, _, _ = project
    panel.set_footage(clips)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    start = time.monotonic()
    _wait(qtbot, panel.analyse())
    timer.stop()
    elapsed = time.monotonic() - start
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert elapsed > 0.5, "analysis too quick to tell"
    assert len(ticks) >= elapsed / 0.02 * 0.3
    assert max(gaps) < 0.5, f"the event loop stalled for {max(gaps):.2f} s"


def test_panel_settings_persist(qtbot, tmp_path):
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


def test_panel_fits_1280_by_720_and_has_shortcuts(panel):
    # Room for the title bar and a taskbar on a 1280x720 screen.
    assert panel.minimumSizeHint().width() <= 1280 and panel.minimumSizeHint().height() <= 660
    shortcuts = {key: action.shortcut().toString() for key, action in panel.actions_.items()}
    assert shortcuts["cut"] == "Ctrl+R" and shortcuts["analyse"] == "F5" and shortcuts["cancel"] == "Esc"


def test_panel_without_resolve_writes_files_and_the_import_steps(panel, qtbot, project, tmp_path):
    from montage_ai.otio_adapters.export import read_timeline

    clips, _, song = project
    assert "Not connected to Resolve" in panel.resolve_status.text()
    panel.set_footage(clips)
    panel.music.setText(song)
    _wait(qtbot, panel.rough_cut())
    panel.file_route_folder = str(tmp_path / "for resolve")
    (tmp_path / "for resolve").mkdir()
    (tmp_path / "for resolve" / f"{panel.result.cut_list.name}.xml").write_text("the editor's file")
    _wait(qtbot, panel.send_to_resolve())
    written = panel.last_file_route
    assert written.xml.exists() and written.fcpxml.exists()
    assert (tmp_path / "for resolve" / f"{panel.result.cut_list.name}.xml").read_text() == "the editor's file"
    assert cut_list_from_timeline(read_timeline(written.xml)).cuts == panel.result.cut_list.cuts
    assert "File > Import > Timeline" in panel.summary.text() and "Markers" in panel.summary.text()


# ---------------------------------------------------------------------------- with (the fake) Resolve
@pytest.fixture
def resolve_panel(qtbot, tmp_path, project):
    from fake_resolve import make_resolve
    from montage_ai.resolve_plugin.direct import DirectClient

    clips, bad, song = project
    fake = make_resolve({"Day 1": clips, "Day 1/B cam": clips[2:], "Music": [song],
                         "": [("Old timeline", "Timeline")]}, rate="25")
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    PanelSettings(cache_dir=str(tmp_path / "cache")).save(store)
    window = MontagePanel(resolve=DirectClient(fake), store=store, executor=InlineExecutor(), open_files=False)
    qtbot.addWidget(window)
    window.show()
    return window, fake


def test_panel_with_resolve_choose_bin_cut_and_send(resolve_panel, qtbot, project):
    panel, fake = resolve_panel
    clips, _, song = project
    assert panel.resolve_status.text().startswith("Connected to DaVinci Resolve Studio")
    labels = [panel.bin_combo.itemText(i) for i in range(panel.bin_combo.count())]
    assert "Master/Day 1 (3 clips)" in labels and "Master/Day 1/B cam (1 clips)" in labels, labels
    day1 = labels.index("Master/Day 1 (3 clips)")
    panel.bin_combo.setCurrentIndex(day1)
    panel._use_bin(day1)
    assert sorted(panel.footage()) == sorted(clips)
    music_index = next(i for i in range(panel.pool_music.count()) if panel.pool_music.itemData(i) == song)
    panel._use_pool_music(music_index)
    assert panel.music.text() == song
    _wait(qtbot, panel.analyse())
    _wait(qtbot, panel.rough_cut())
    assert panel.actions_["send"].isEnabled()
    _wait(qtbot, panel.send_to_resolve())
    report = panel.last_push
    assert report.ok, report.mismatches
    timeline = fake.project.timeline(report.timeline_name)
    assert len(timeline.GetItemListInTrack("video", 1)) == len(panel.result.cut_list.cuts) == report.items_placed - 1
    assert len(timeline.GetItemListInTrack("audio", 1)) == 1  # the music
    assert report.markers_added > 0 and len(timeline.GetMarkers()) == report.markers_added
    assert report.timeline_name in panel.stage_label.text() and "verified" in panel.summary.text()
    _screenshot(panel, "panel-resolve-sent.png")
    # Again: a new timeline with a new name; the first one is untouched.
    _wait(qtbot, panel.send_to_resolve())
    assert panel.last_push.timeline_name != report.timeline_name
    assert len(fake.project.timeline(report.timeline_name).GetItemListInTrack("video", 1)) == report.items_placed - 1


def test_panel_with_resolve_uses_the_selected_clips(resolve_panel, project):
    from fake_resolve import find_clip

    panel, fake = resolve_panel
    clips, _, _ = project
    chosen = find_clip(fake, os.path.basename(clips[2]))
    fake.project.pool.selected = [chosen]
    panel._use_selected()
    assert panel.footage() == [clips[2]]
    assert "selection" in panel.stage_label.text()


def test_panel_send_without_markers_adds_none(resolve_panel, qtbot, project):
    panel, fake = resolve_panel
    clips, _, song = project
    panel.set_footage(clips)
    panel.music.setText(song)
    panel.markers.setChecked(False)
    _wait(qtbot, panel.rough_cut())
    _wait(qtbot, panel.send_to_resolve())
    assert panel.last_push.ok and panel.last_push.markers_added == 0
    assert fake.project.timeline(panel.last_push.timeline_name).GetMarkers() == {}


def test_panel_makes_and_links_proxies_when_asked(resolve_panel, qtbot, project):
    from fake_resolve import find_clip
    from montage_ai.core.media.probe import probe

    panel, fake = resolve_panel
    clips, _, song = project
    panel.settings.encoder, panel.settings.proxy_profile = "cpu", "h264-quarter"
    panel.set_footage(clips)
    panel.music.setText(song)
    panel.proxies.setChecked(True)
    _wait(qtbot, panel.rough_cut())
    _wait(qtbot, panel.send_to_resolve())
    report = panel.last_push
    used = sorted({c.source_path for c in panel.result.cut_list.cuts})
    assert report.ok and len(report.proxies_linked) == len(used)
    for source in used:
        proxy = find_clip(fake, os.path.basename(source)).GetClipProperty("Proxy Media Path")
        assert proxy and Path(proxy).parent.name == "Proxy"
        assert probe(proxy).video.frame_count == probe(source).video.frame_count


def test_panel_selects_and_shot_report(panel, qtbot, project, tmp_path):
    from html.parser import HTMLParser

    clips, bad, song = project
    panel.set_footage(clips + [bad])
    _wait(qtbot, panel.selects())
    assert panel.result.cut_list.name == "Selects"
    assert len(panel.timeline.blocks()) == len(panel.result.cut_list.cuts) > 0
    assert panel.bad.count() == 1
    out = tmp_path / "pieces.edl"
    _wait(qtbot, panel.export(str(out), "edl"))
    assert out.read_text().count("* FROM CLIP NAME:") == len(panel.result.cut_list.cuts)

    page = tmp_path / "report.html"
    panel.music.setText(song)
    _wait(qtbot, panel.report(str(page)))
    assert panel.last_report == str(page)
    HTMLParser().feed(page.read_text())
    rows = (tmp_path / "report.csv").read_text().strip().splitlines()
    assert len(rows) - 1 == sum(len(a.shots) for a in panel.result.analyses) + 1  # + the unreadable clip


def test_panel_selects_in_resolve_are_named_after_the_bin(resolve_panel, qtbot, project):
    panel, fake = resolve_panel
    labels = [panel.bin_combo.itemText(i) for i in range(panel.bin_combo.count())]
    index = labels.index("Master/Day 1 (3 clips)")
    panel._use_bin(index)
    _wait(qtbot, panel.selects())
    _wait(qtbot, panel.send_to_resolve())
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
