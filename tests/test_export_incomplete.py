"""A format that cannot carry one clip (FCP7 XML and CMX timecode have no 12.5 fps count):
the file is written without that clip, the rest in place, one line says which clip, which
format and why, and the exit code (3) says a file is incomplete. Through the CLI (``export``
and ``cut``), each file read back with OTIO's official FCP7 reader."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from montage_ai.core.media.probe import probe
from montage_ai.core.model.cutlist import Cut, CutList
from montage_ai.core.model.timeline import build_timeline, media_path
from montage_ai.core.samples.footage import Segment, render_footage
from montage_ai.otio_adapters.export import export_timeline

INCOMPLETE = 3


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "montage_ai.ui.cli.main", *args], capture_output=True,
                          timeout=timeout)


def _stderr(done: subprocess.CompletedProcess) -> str:
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    return err


def _official_fcp7(path: Path) -> otio.schema.Timeline:
    pytest.importorskip("otio_fcp_adapter")
    return otio.adapters.read_from_file(str(path), adapter_name="fcp_xml")


def _video_clips(timeline: otio.schema.Timeline) -> list[tuple[str, int, int]]:
    """(file name, record in, record frames) of every clip on V1, from the reader's own ranges."""
    track = timeline.video_tracks()[0]
    out = []
    for clip in track.find_clips():
        record = clip.range_in_parent()
        url = clip.media_reference.target_url.replace("file://localhost", "file://")
        out.append((Path(media_path(url)).name, record.start_time.to_frames(), record.duration.to_frames()))
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixed rates")
    paths = {}
    for name, rate, seed in (("a.mp4", Fraction(25), 1), ("slow 12.5.mp4", Fraction(25, 2), 2), ("b.mp4", Fraction(25), 3)):
        paths[name] = folder / name
        render_footage(paths[name], [Segment("mandelbrot", 40, seed=seed)], rate=rate, size=(128, 72))
    return paths


def test_export_writes_the_xml_without_the_one_clip_says_so_and_exits_3(clips, tmp_path):
    probes = {str(p): probe(p) for p in clips.values()}
    a, slow, b = (str(clips[n]) for n in ("a.mp4", "slow 12.5.mp4", "b.mp4"))
    cuts = (Cut(0, 10, a, Fraction(25), 3, 0, 1.0, "setup", ""),
            Cut(10, 22, slow, Fraction(25, 2), 2, 1, 1.0, "build", "a 12.5 fps clip"),
            Cut(22, 37, b, Fraction(25), 5, 2, 1.0, "peak", ""))
    cut_list = CutList(rate=Fraction(25), width=128, height=72, duration=37, cuts=cuts, music_path="",
                       music_duration=0)
    source = export_timeline(build_timeline(cut_list, media=probes), tmp_path / "cut.otio", "otio")

    done = run_cli("export", str(source), "--to", "premiere", "--to", "fcpxml")
    err = _stderr(done)
    assert done.returncode == INCOMPLETE, err
    lines = [line for line in err.splitlines() if "slow 12.5.mp4" in line]
    assert len(lines) == 1, err                      # once, on one line
    assert "cut.xml" in lines[0] and "FCP7 XML" in lines[0] and "25/2" in lines[0] and "left out" in lines[0]
    assert "cut.fcpxml" not in lines[0]               # FCPXML carries 12.5 fps: that file is whole
    assert (tmp_path / "cut.fcpxml").exists()

    # The rest in place: the two other clips where they were, a gap where the slow one was.
    timeline = _official_fcp7(tmp_path / "cut.xml")
    assert _video_clips(timeline) == [("a.mp4", 0, 10), ("b.mp4", 22, 15)]
    assert timeline.video_tracks()[0].duration().to_frames() == 37


def test_export_of_a_whole_file_still_exits_0(clips, tmp_path):
    probes = {str(p): probe(p) for p in clips.values()}
    a, b = str(clips["a.mp4"]), str(clips["b.mp4"])
    cuts = (Cut(0, 10, a, Fraction(25), 3, 0, 1.0, "setup", ""), Cut(10, 25, b, Fraction(25), 5, 1, 1.0, "peak", ""))
    cut_list = CutList(rate=Fraction(25), width=128, height=72, duration=25, cuts=cuts, music_path="",
                       music_duration=0)
    source = export_timeline(build_timeline(cut_list, media=probes), tmp_path / "whole.otio", "otio")
    done = run_cli("export", str(source), "--to", "premiere")
    assert done.returncode == 0, _stderr(done)
    assert _video_clips(_official_fcp7(tmp_path / "whole.xml")) == [("a.mp4", 0, 10), ("b.mp4", 10, 15)]


def test_cut_writes_every_format_names_each_clip_left_out_and_exits_3(clips, tmp_path):
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    footage = tmp_path / "footage"
    footage.mkdir()
    for i in range(3):  # 12.5 fps camera files in a 25 fps cut: every one of them is in the cut
        render_footage(footage / f"slow{i}.mp4", [Segment("mandelbrot", 40, seed=i + 1), Segment("life", 40, seed=i + 5)],
                       rate=Fraction(25, 2), size=(128, 72))
    y, truth = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 3, 0.5),)))
    song = write_audio(tmp_path / "song.wav", y, truth.sample_rate)
    out = tmp_path / "cut.otio"
    done = run_cli("cut", "--media", str(footage), "--music", str(song), "--duration", "4", "--fps", "25",
                   "--planner", "rules", "-o", str(out), "--cache-dir", str(tmp_path / "cache"), "--workers", "1")
    err = _stderr(done)
    assert done.returncode == INCOMPLETE, err
    ours = otio.adapters.read_from_file(str(out))
    used = [c for c in ours.video_tracks()[0].find_clips()]
    assert used
    left_out = [line for line in err.splitlines() if "cut.xml" in line and "FCP7 XML" in line and "left out" in line]
    assert len(left_out) == len(used), err            # one line per clip, each naming it
    for clip, line in zip(used, left_out):
        assert Path(media_path(clip.media_reference.target_url)).name in line
    for suffix in (".fcpxml", ".xml"):
        assert out.with_suffix(suffix).exists()
    xml = _official_fcp7(out.with_suffix(".xml"))
    assert _video_clips(xml) == []                   # written, readable, without the clips it cannot carry
    assert "timeline file" in err.splitlines()[-1] and "cut.xml" in err.splitlines()[-1]


def test_selects_writes_the_xml_without_the_clips_it_cannot_carry_and_exits_3(clips, tmp_path):
    folder = tmp_path / "footage"
    folder.mkdir()
    for name, seed in (("a.mp4", 1), ("b.mp4", 3)):  # the selects timeline takes the 25 fps of most clips
        render_footage(folder / name, [Segment("mandelbrot", 50, seed=seed), Segment("life", 50, seed=seed + 4)],
                       rate=Fraction(25), size=(128, 72))
    render_footage(folder / "slow.mp4", [Segment("mandelbrot", 40, seed=2), Segment("life", 40, seed=6)],
                   rate=Fraction(25, 2), size=(128, 72))
    out = tmp_path / "selects.otio"
    done = run_cli("selects", str(folder), "-o", str(out), "--cache-dir", str(tmp_path / "cache"), "--workers", "1")
    err = _stderr(done)
    assert done.returncode == INCOMPLETE, err
    assert any("selects.xml" in line and "slow.mp4" in line and "left out" in line for line in err.splitlines()), err
    assert out.exists() and out.with_suffix(".xml").exists()
    names = {name for name, _, _ in _video_clips(_official_fcp7(out.with_suffix(".xml")))}
    assert "slow.mp4" not in names and names & {"a.mp4", "b.mp4"}
