"""A file probed once in a process is not probed again while it is unchanged: what each
ffprobe/ffmpeg process a workflow starts costs, counted."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from montage_ai.core import workflows
from montage_ai.core.base.errors import MediaError
from montage_ai.core.cut.roughcut import RoughCutOptions
from montage_ai.core.media.probe import clear_probe_cache, probe, start_probe
from montage_ai.core.run.executor import InlineExecutor
from montage_ai.core.workflows import RoughCutJob, WorkOptions


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def clip(path: Path, frames: int = 50, size: str = "160x90", *extra: str) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25", "-frames:v", str(frames), "-c:v", "libx264",
           "-pix_fmt", "yuv420p", *extra, str(path))
    return path


@pytest.fixture
def runs(monkeypatch):
    """``(tool, kind, file)`` of every ffprobe/ffmpeg started while the test runs (not the
    ffmpeg runs making its media)."""
    seen: list[tuple[str, str, str]] = []
    real = subprocess.Popen.__init__

    def init(proc, args, *a, **k):
        argv = [os.fsdecode(x) if isinstance(x, bytes) else str(x) for x in args] if isinstance(args, list) else []
        tool = os.path.basename(argv[0]) if argv else ""
        if tool in ("ffprobe", "ffmpeg") and "-h" not in argv and "lavfi" not in argv and "-y" not in argv:
            line = " ".join(argv)
            kind = "tail" if "read_intervals" in line else ("probe" if tool == "ffprobe" else "decode")
            seen.append((tool, kind, os.path.basename(argv[-1] if tool == "ffprobe" else
                                                       argv[argv.index("-i") + 1] if "-i" in argv else "")))
        real(proc, args, *a, **k)

    monkeypatch.setattr(subprocess.Popen, "__init__", init)
    clear_probe_cache()
    return seen


def test_an_unchanged_file_is_probed_once(tmp_path, runs):
    path = clip(tmp_path / "a.mp4")
    first = probe(path)
    assert probe(path) is first and probe(str(path.resolve()), verify_tail=False) is first
    assert [r[:2] for r in runs] == [("ffprobe", "probe"), ("ffprobe", "tail")]
    assert start_probe(path).from_cache


def test_a_changed_file_is_probed_again(tmp_path, runs):
    path = clip(tmp_path / "a.mp4", frames=20)
    assert probe(path).video.frame_count == 20
    other = clip(tmp_path / "b.mp4", frames=30)
    os.replace(other, path)  # an editor's tool writing a new take under the old name
    assert probe(path).video.frame_count == 30
    assert Counter(r[1] for r in runs)["probe"] == 2


def test_the_tail_check_runs_when_first_asked_for(tmp_path, runs):
    whole = clip(tmp_path / "whole.mp4", 250, "160x90", "-movflags", "+faststart")  # the index first
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    try:
        quick = probe(cut, verify_tail=False)  # the index survived: it probes as if whole
    except MediaError:
        pytest.skip("this ffmpeg refuses the half file outright")
    assert quick.video.frame_count == 250
    with pytest.raises(MediaError, match=r"cut\.mp4: .*(truncated|damaged)"):
        probe(cut)
    with pytest.raises(MediaError, match=r"cut\.mp4: .*(truncated|damaged)"):
        probe(cut)  # never remembered as whole
    assert [r[1] for r in runs] == ["probe", "tail", "tail"]


def test_errors_are_not_remembered_and_audio_stays_no_footage(tmp_path, runs):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 50)
    for _ in range(2):
        with pytest.raises(MediaError, match=r"bad\.mp4: ffprobe cannot read it"):
            probe(bad)
    song = tmp_path / "song.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=220", "-t", "1", str(song))
    assert probe(song, require_video=False).video is None
    with pytest.raises(MediaError, match=r"song\.m4a: has no video stream"):
        probe(song)
    assert Counter(r[2] for r in runs if r[1] == "probe") == {"bad.mp4": 2, "song.m4a": 1}


def test_a_rough_cut_probes_each_file_once(tmp_path, runs):
    from montage_ai.core.samples.footage import Segment, render_footage
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    (tmp_path / "footage").mkdir()
    kinds = ["testsrc2", "mandelbrot", "gradients", "pan", "life"]
    for i in range(2):
        segs = [Segment(kinds[(i * 3 + k) % len(kinds)], 50, seed=i + k + 1) for k in range(3)]
        render_footage(tmp_path / "footage" / f"clip{i}.mp4", segs, rate=Fraction(25), size=(128, 72))
    y, truth = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 2, 0.5), SectionSpec("B", 2, 0.95))))
    song = write_audio(tmp_path / "song.wav", y, truth.sample_rate)
    runs.clear()
    job = RoughCutJob(RoughCutOptions(style="mtv", duration_s=4.0, seed=2, planner="rules"),
                      WorkOptions(cache_dir=str(tmp_path / "cache"), executor=InlineExecutor()))
    cut = workflows.run_rough_cut([str(tmp_path / "footage")], str(song), job)
    assert cut.cut_list.cuts
    per_file = Counter((r[2], r[1]) for r in runs if r[0] == "ffprobe")
    # Before: the song was probed four times (its length, its analysis twice, its report).
    assert per_file == {("song.wav", "probe"): 1, ("song.wav", "tail"): 1,
                        ("clip0.mp4", "probe"): 1, ("clip1.mp4", "probe"): 1}, per_file
    workflows.cut_timeline(cut.cut_list)  # the timeline reads the same files: only their tail checks remain
    assert Counter(r[1] for r in runs if r[0] == "ffprobe")["probe"] == 3
