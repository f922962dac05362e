"""Bounded music analysis: long songs in chunks, cancellation within 2 s (library and Ctrl-C),
a truncated MP3 accepted the same way by `analyze --music` and `cut`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction

import mir_eval
import numpy as np
import opentimelineio as otio
import pytest

from montage_ai.core.analysis.music_stream import analyze_music_bounded
from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio
from montage_ai.ui.cli.main import main


@pytest.fixture(scope="module")
def long_song(tmp_path_factory):
    """About 75 s in sections A B C A (4/4, 120 bpm), with its truth."""
    secs = tuple(SectionSpec(l, 9, e, harmony=h) for l, e, h in (("A", 0.5, 0), ("B", 0.95, 1), ("C", 0.7, 2),
                                                               ("A", 0.5, 0)))
    y, truth = render(MusicSpec(tempo_bpm=120, sections=secs))
    return write_audio(tmp_path_factory.mktemp("long") / "long song.wav", y, truth.sample_rate), truth


def _children_of_me() -> list[str]:
    me, found = str(os.getpid()), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if ppid == me and ("music_stream" in cmd or "ffmpeg" in cmd):
            found.append(cmd)
    return found


@pytest.mark.slow
def test_chunked_analysis_matches_the_whole_song(long_song):
    path, truth = long_song
    whole = analyze_music_bounded(path)
    seen: list[float] = []
    chunked = analyze_music_bounded(path, long_song_s=10, chunk_s=20, overlap_s=6, progress=seen.append)
    assert seen and seen == sorted(seen)
    ref = mir_eval.beat.trim_beats(np.asarray(truth.beat_times_s))
    f_chunked = mir_eval.beat.f_measure(ref, mir_eval.beat.trim_beats(np.asarray(chunked.beat_times_s)))
    f_whole = mir_eval.beat.f_measure(ref, mir_eval.beat.trim_beats(np.asarray(whole.beat_times_s)))
    assert f_chunked >= min(0.95, f_whole - 0.02)
    assert chunked.meter == whole.meter == 4
    assert mir_eval.beat.f_measure(np.asarray(whole.downbeat_times_s), np.asarray(chunked.downbeat_times_s)) > 0.9
    assert set(chunked.downbeat_times_s) <= set(chunked.beat_times_s)
    assert len(chunked.beat_energy) == len(chunked.beat_times_s) and max(chunked.beat_energy) == pytest.approx(1.0)
    assert abs(chunked.duration_s - whole.duration_s) < 0.05 and abs(chunked.tempo_bpm - 120) < 1
    # Sections still cover the song and change where the music does (A B C A).
    assert chunked.sections[0].start_s == 0.0 and chunked.sections[-1].end_s == pytest.approx(chunked.duration_s)
    labels = [s.label for s in chunked.sections]
    assert len(set(labels)) >= 3 and labels[0] == labels[-1]
    assert not _children_of_me()


@pytest.mark.parametrize("long_mode", [False, True], ids=["whole", "chunked"])
def test_cancel_returns_within_two_seconds(long_song, long_mode):
    path, _ = long_song
    flag = threading.Event()
    threading.Timer(0.2, flag.set).start()  # well before even a fast analysis of the song ends
    kwargs = dict(long_song_s=10, chunk_s=20, overlap_s=6) if long_mode else {}
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        analyze_music_bounded(path, cancel=flag.is_set, **kwargs)
    assert time.monotonic() - t0 < 0.2 + 2.0
    assert not _children_of_me()  # the workers and the decoder are gone


def test_a_file_that_is_not_audio_is_one_clear_error(tmp_path):
    bad = tmp_path / "notes.mp3"
    bad.write_bytes(b"not audio at all" * 200)
    with pytest.raises(MediaError, match="notes.mp3"):
        analyze_music_bounded(bad)
    with pytest.raises(MediaError, match="notes.mp3"):
        analyze_music_bounded(bad, long_song_s=0)


def test_ctrl_c_stops_the_cli_within_two_seconds(long_song, tmp_path):
    path, _ = long_song
    env = dict(os.environ, MONTAGE_AI_CACHE=str(tmp_path / "cache"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "montage_ai.ui.cli.main", "analyze", path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    err = b""
    deadline = time.monotonic() + 120
    while b"Analysing music" not in err and time.monotonic() < deadline:  # wait until the analysis runs
        err += os.read(proc.stderr.fileno(), 4096)
    time.sleep(0.1)        # the 75 s song is analysed in about a second now: interrupt it early
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        rest = proc.communicate(timeout=10)[1]
    finally:
        proc.kill()
    stopped = time.monotonic() - t0
    assert proc.returncode == 130, (err + rest).decode(errors="replace")[-2000:]
    assert stopped < 2.0
    assert b"Traceback" not in err + rest and b"Cancelled." in rest


@pytest.fixture(scope="module")
def truncated(tmp_path_factory, long_song):
    path, _ = long_song
    root = tmp_path_factory.mktemp("trunc")
    full = root / "full.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-c:a", "libmp3lame", "-b:a", "128k", str(full)], check=True)
    cut = root / "cut short.mp3"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    return cut


def test_a_truncated_mp3_is_accepted_the_same_by_analyze_and_cut(truncated, tmp_path, caplog):
    from montage_ai.core.samples.footage import Segment, render_footage

    cache = tmp_path / "cache"
    assert main(["analyze", "--music", str(truncated), "--json", str(tmp_path / "a.json"), "--cache-dir", str(cache)]) == 0
    music = json.loads((tmp_path / "a.json").read_text())["music"]
    assert 30 < music["duration_s"] < 45 and music["beat_times_s"][-1] < music["duration_s"]
    assert "cut short.mp3: file is truncated" in caplog.text
    caplog.clear()
    (tmp_path / "footage").mkdir()
    kinds = ["testsrc2", "smptebars", "mandelbrot", "gradients"]
    for i in range(2):
        render_footage(tmp_path / "footage" / f"c{i}.mp4", [Segment(k, 50, seed=i + 1) for k in kinds],
                       rate=Fraction(25), size=(160, 90))
    out = tmp_path / "cut.otio"
    assert main(["cut", "--media", str(tmp_path / "footage"), "--music", str(truncated), "--fps", "25",
                 "--planner", "rules", "--duration", "12", "-o", str(out), "--cache-dir", str(cache)]) == 0
    assert "cut short.mp3: file is truncated" in caplog.text
    tl = otio.adapters.read_from_file(str(out))
    a1 = tl.audio_tracks()[0][0]
    assert a1.media_reference.available_range.duration.to_seconds() <= music["duration_s"] + 0.05
    # The grid export takes it the same way.
    assert main(["beats", str(truncated), "--export", str(tmp_path / "g.xml"), "--cache-dir", str(cache)]) == 0


def _children_rss_mb() -> float:
    """Resident memory of this process's music workers and decoders together."""
    me, total = str(os.getpid()), 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
            if ppid != me:
                continue
            with open(f"/proc/{pid}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError):
            continue
    return total / 1024


def test_a_long_song_streams_through_one_worker_in_bounded_memory(long_song):
    """Each worker holds its own librosa/numba/LLVM (~330 MB); the default is one, so the
    children of a streamed song (worker + decoder) stay under 500 MB (two workers: about 620 MB), and they are gone after."""
    path, _ = long_song
    peak, seen_workers, stop = [0.0], set(), threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _children_rss_mb())
            seen_workers.update(c for c in _children_of_me() if "--worker" in c)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = analyze_music_bounded(path, long_song_s=10, chunk_s=20, overlap_s=6)
    finally:
        stop.set()
        sampler.join()
    assert abs(result.tempo_bpm - 120) < 1
    assert len(seen_workers) == 1, seen_workers
    assert 0 < peak[0] < 500, f"workers and decoder peaked at {peak[0]:.0f} MB"
    assert not _children_of_me()
