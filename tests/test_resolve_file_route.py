"""The file route: FCP7 XML and FCPXML with names unique in the file and the folder, never
overwriting, and the exact steps to import them; and ``resolve cut`` using it."""

from __future__ import annotations

import sys
from fractions import Fraction

import pytest

import __main__
from fake_resolve import make_resolve
from montage_ai.core.model.timeline import build_timeline
from montage_ai.resolve_plugin.connect import MODULE
from montage_ai.resolve_plugin.file_route import write_file_route
from resolve_media import make_cut_list, make_media


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("resolve file route"))


@pytest.fixture(scope="module")
def camera(tmp_path_factory):
    """Clips a rough cut can use whole (the frame-coded clips of ``media`` are barcodes whose
    flickering blocks the footage judgement rightly refuses as picture): A at 23.976 with a
    start timecode's rate, B at 23.976, C at 25."""
    from montage_ai.core.samples.footage import Segment, render_footage
    from resolve_media import NTSC24

    folder = tmp_path_factory.mktemp("camera")
    out = {}
    for key, name, rate, kinds in (("a", "A001 café.mp4", NTSC24, ("mandelbrot", "pan")),
                                   ("b", "B002.mp4", NTSC24, ("gradients", "mandelbrot")),
                                   ("c", "C003 pal.mp4", Fraction(25), ("pan", "gradients"))):
        out[key] = str(folder / name)
        render_footage(out[key], [Segment(k, int(rate * 2), seed=i + 3) for i, k in enumerate(kinds)], rate=rate,
                       size=(128, 72))
    return out


@pytest.fixture
def timeline(media):
    return build_timeline(make_cut_list(media))


def test_both_files_are_written_with_the_timeline_name_inside(timeline, tmp_path):
    result = write_file_route(timeline, tmp_path)
    assert (result.xml.name, result.fcpxml.name, result.timeline_name) == ("Rough cut.xml", "Rough cut.fcpxml",
                                                                           "Rough cut")
    assert "<name>Rough cut</name>" in result.xml.read_text() and 'name="Rough cut"' in result.fcpxml.read_text()


def test_an_existing_file_is_never_overwritten_and_the_name_moves_on(timeline, tmp_path):
    first = write_file_route(timeline, tmp_path)
    before = first.xml.read_bytes()
    (tmp_path / "Rough cut 2.fcpxml").write_text("the editor's")
    second = write_file_route(timeline, tmp_path)
    assert second.timeline_name == "Rough cut 3" and second.xml.name == "Rough cut 3.xml"
    assert first.xml.read_bytes() == before and (tmp_path / "Rough cut 2.fcpxml").read_text() == "the editor's"
    assert not (tmp_path / "Rough cut 2.xml").exists()


def test_names_the_project_already_has_are_not_used(timeline, tmp_path):
    assert write_file_route(timeline, tmp_path, taken_names=["Rough cut", "Rough cut 2"]).timeline_name == "Rough cut 3"


def test_the_written_xml_imports_into_resolve_under_its_unique_name(timeline, tmp_path, media):
    resolve = make_resolve({"Day 1": [media["a"], media["b"], media["c"]], "Music": [media["song"]]}, rate="23.976")
    resolve.project.GetMediaPool().CreateEmptyTimeline("Rough cut")  # the editor's
    result = write_file_route(timeline, tmp_path, taken_names=["Rough cut"])
    imported = resolve.project.GetMediaPool().ImportTimelineFromFile(str(result.xml), {"importSourceClips": False})
    assert imported is not None and imported.GetName() == "Rough cut 2"
    assert len(imported.GetItemListInTrack("video", 1)) == 4


def test_the_steps_name_the_menu_the_file_the_options_and_what_does_not_travel(timeline, tmp_path):
    result = write_file_route(timeline, tmp_path)
    text = result.text()
    assert text.startswith("1. In DaVinci Resolve, open the project")
    assert f"File > Import > Timeline… (Ctrl+Shift+I; Cmd+Shift+I on macOS) and pick {result.xml}" in text
    assert "'Automatically import source clips into media pool'" in text
    assert "'Automatically set project settings'" in text and "'Rough cut'" in text
    assert str(result.fcpxml) in text
    assert "Markers (beats, downbeats, sections) and proxy links do not travel through these files" in text


@pytest.fixture
def outside_resolve(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    monkeypatch.setattr(__main__, "resolve", None, raising=False)
    monkeypatch.delattr(__main__, "resolve")
    monkeypatch.setenv("RESOLVE_SCRIPT_API", str(tmp_path / "no-resolve"))


def test_resolve_cut_without_a_live_route_writes_the_files_and_prints_the_steps(outside_resolve, media, camera,
                                                                              tmp_path, capsys):
    from montage_ai.ui.cli.main import main

    out_dir = tmp_path / "for resolve"
    code = main(["resolve", "cut", "--footage", camera["a"], camera["b"], "--music", media["song"], "--duration", "3",
                 "--name", "Friday cut", "--out-dir", str(out_dir), "--cache-dir", str(tmp_path / "cache"),
                 "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (out_dir / "Friday cut.xml").is_file() and (out_dir / "Friday cut.fcpxml").is_file()
    assert "no live route into DaVinci Resolve" in captured.err and "bridge: no (not-started)" in captured.err
    assert "File > Import > Timeline" in captured.out and "Markers (beats" in captured.out


def test_resolve_cut_file_route_needs_the_footage(outside_resolve, media, capsys):
    from montage_ai.ui.cli.main import main

    assert main(["resolve", "cut", "--file-route", "--music", media["song"]]) == 1
    assert "the file route needs the clips: give --footage" in capsys.readouterr().err


# --------------------------------------------------------------------------- which files the route cuts


@pytest.fixture
def footage_folder(camera, tmp_path):
    """A card: clips in sub-folders, notes and sidecars beside them, a broken clip, a symlink
    loop and an unreadable folder."""
    import os
    import shutil

    root = tmp_path / "card"
    (root / "DCIM" / "day 1").mkdir(parents=True)
    (root / "DCIM" / "day 2").mkdir()
    shutil.copy(camera["a"], root / "A001.mp4")
    shutil.copy(camera["b"], root / "DCIM" / "day 1" / "B002.mp4")
    shutil.copy(camera["c"], root / "DCIM" / "day 2" / "C003.mp4")
    for junk in ("notes.txt", ".DS_Store", "A001.XML", "A001.THM", "DCIM/day 1/B002.srt", "DCIM/day 1/._B002.mp4"):
        (root / junk).write_bytes(b"not footage")
    (root / "DCIM" / "broken.mov").write_bytes(b"\x00" * 500)
    os.symlink(root / "DCIM", root / "DCIM" / "day 2" / "loop")
    locked = root / "locked"
    locked.mkdir()
    (locked / "D004.mp4").write_bytes(b"")
    locked.chmod(0)
    yield root
    locked.chmod(0o755)


def test_the_route_walks_sub_folders_and_takes_only_media(footage_folder):
    import os

    from montage_ai.resolve_plugin.file_route import footage_files

    listing = footage_files([str(footage_folder)])
    assert sorted(os.path.basename(p) for p in listing.clips) == ["A001.mp4", "B002.mp4", "C003.mp4"]
    # Only media files are passed over with a reason: never the notes, sidecars or .DS_Store.
    # (root reads the locked folder too, and finds its empty clip.)
    empty_locked = ["D004.mp4"] if os.geteuid() == 0 else []
    assert sorted(os.path.basename(p) for p, _ in listing.files) == sorted(["broken.mov"] + empty_locked)
    reasons = dict(listing.folders)
    assert any("loop" in r for r in reasons.values()), reasons
    if os.geteuid() != 0:  # root reads any folder
        assert any(p.endswith("locked") and "cannot be read" in r for p, r in reasons.items()), reasons


def test_resolve_cut_file_route_cuts_the_clips_of_sub_folders_and_says_nothing_of_other_files(
        outside_resolve, footage_folder, media, tmp_path, capsys):
    from montage_ai.ui.cli.main import main

    out_dir = tmp_path / "for resolve"
    code = main(["resolve", "cut", "--file-route", "--footage", str(footage_folder), "--music", media["song"],
                 "--duration", "3", "--name", "Card cut", "--out-dir", str(out_dir),
                 "--cache-dir", str(tmp_path / "cache"), "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (out_dir / "Card cut.xml").is_file()
    for name in ("notes.txt", ".DS_Store", "A001.XML", "A001.THM", "B002.srt", "._B002.mp4"):
        assert name not in captured.err
    skipped = [line for line in captured.err.splitlines() if "broken.mov" in line]
    assert len(skipped) == 1 and skipped[0].startswith("skipped: "), captured.err
    # The cut used clips from the sub-folders.
    xml = (out_dir / "Card cut.xml").read_text(encoding="utf-8")
    assert "B002.mp4" in xml or "C003.mp4" in xml


def test_a_clip_the_xml_cannot_carry_is_named_and_the_rest_written(media, tmp_path):
    from fractions import Fraction

    from montage_ai.core.media.probe import probe
    from montage_ai.core.model.cutlist import Cut, CutList
    from montage_ai.core.samples.framecode import render_framecode

    slow = str(tmp_path / "slow 12.5.mp4")
    render_framecode(slow, 30, rate=Fraction(25, 2), size=(64, 36))
    cuts = (Cut(0, 10, media["c"], Fraction(25), 2, 0, 0.5, "intro", ""),
            Cut(10, 20, slow, Fraction(25, 2), 3, 1, 0.5, "build", ""))
    cut_list = CutList(rate=Fraction(25), width=64, height=36, duration=20, cuts=cuts, music_path="",
                       music_duration=0, name="Slow cut")
    probes = {p: probe(p) for p in (media["c"], slow)}
    result = write_file_route(build_timeline(cut_list, media=probes), tmp_path / "out")
    assert result.xml.is_file() and result.fcpxml.is_file()
    assert len(result.left_out) == 1 and "Slow cut.xml" in result.left_out[0] and "slow 12.5.mp4" in result.left_out[0]
    assert "FCP7 XML" in result.left_out[0]
