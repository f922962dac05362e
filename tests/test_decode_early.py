"""The analysis decode starts while ffprobe runs (their process start-ups overlap), and gives
the frames, indices, pts and errors of the decode that waits for the probe."""

from __future__ import annotations

import os
import re
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from montage_ai.core.analysis.footage import analyze_footage
from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.media import early_decode as D
from montage_ai.core.media.decode import analysis_size, analysis_threads, decode_frames
from montage_ai.core.media.early_decode import analysis_scale_expressions, decode_while_probing
from montage_ai.core.media.probe import MediaInfo, VideoStream, clear_probe_cache, probe, start_probe


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("early")
    out = {name: d / name for name in ("plain.mp4", "sar.mp4", "narrow.mkv", "rotated.mp4", "large.mp4", "audio.wav")}
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "1.2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
           str(out["plain.mp4"]))
    ffmpeg("-f", "lavfi", "-i", "mandelbrot=size=352x288:rate=30000/1001", "-t", "1", "-vf", "setsar=12/11",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out["sar.mp4"]))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=198x110:rate=24", "-t", "1", "-vf", "setsar=8/9", "-c:v", "libx264",
           "-pix_fmt", "yuv444p", str(out["narrow.mkv"]))
    ffmpeg("-i", str(out["plain.mp4"]), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(out["rotated.mp4"]))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=800x600:rate=25", "-t", "0.4", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(out["large.mp4"]))
    ffmpeg("-f", "lavfi", "-i", "sine=d=1", str(out["audio.wav"]))
    return out


@pytest.fixture(autouse=True)
def first_guess(monkeypatch):
    """Each test starts from the guess a fresh process makes (nothing analysed yet)."""
    monkeypatch.setattr(D, "_LAST", [(0, True, False)])


class Spawned:
    """Every ffmpeg/ffprobe this process starts while the patch is on, with what still ran
    when each started."""

    def __init__(self, monkeypatch) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.overlapped: list[str] = []  # ffmpeg started while an ffprobe had not been reaped
        real = subprocess.Popen.__init__
        spawned = self

        def init(proc, args, *a, **k):
            tool = os.path.basename(str(args[0])) if not isinstance(args, (str, bytes)) else ""
            if tool == "ffmpeg" and any(t == "ffprobe" and p.returncode is None for t, p in spawned.procs):
                spawned.overlapped.append(" ".join(map(str, args)))
            real(proc, args, *a, **k)
            if tool in ("ffmpeg", "ffprobe") and "-h" not in args:  # not an option check
                spawned.procs.append((tool, proc))

        monkeypatch.setattr(subprocess.Popen, "__init__", init)

    def count(self, tool: str) -> int:
        return sum(1 for t, _ in self.procs if t == tool)

    def all_reaped(self) -> bool:
        return all(p.returncode is not None for _, p in self.procs)


def _media(w: int, h: int, sar: Fraction) -> MediaInfo:
    v = VideoStream(index=0, codec="h264", profile=None, width=w, height=h, rate=Fraction(25), avg_rate=Fraction(25),
                    frame_count=1, vfr=False, rotation=0, pix_fmt="yuv420p", bit_depth=8, time_base=Fraction(1, 25),
                    start_time_s=0.0, duration_s=1.0, sar=sar)
    return MediaInfo(path="x.mp4", size_bytes=1, format_name="mov", duration_s=1.0, video=v)


# Display shapes with non-square pixels both ways, odd sizes, halves that round to even (512x286,
# 720x480 at 40:33), tiny and wide frames.
SHAPES = [(176, 144, Fraction(128, 117)), (340, 256, Fraction(1024, 765)), (640, 480, Fraction(8, 9)),
          (1920, 1080, Fraction(1)), (198, 110, Fraction(1)), (512, 286, Fraction(1)), (720, 480, Fraction(40, 33)),
          (720, 576, Fraction(16, 15)), (3, 3, Fraction(1)), (255, 99, Fraction(1)), (101, 51, Fraction(2, 3)),
          (1000, 3, Fraction(1)), (100, 100, Fraction(3, 2))]


def test_ffmpeg_computes_the_analysis_size_itself():
    ew, eh = analysis_scale_expressions()
    for w, h, sar in SHAPES:
        src = f"color=s={w}x{h}:r=1:d=1,setsar={sar.numerator}/{sar.denominator}"
        err = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-f", "lavfi", "-i", src, "-frames:v", "1",
                              "-vf", f"scale=w='{ew}':h='{eh}'", "-f", "rawvideo", "-y", os.devnull],
                             capture_output=True).stderr
        out = re.search(rb"Output #0.*?Video: [^\n]*?, (\d+)x(\d+)", err, re.S)
        assert out, err[-300:]
        assert (int(out.group(1)), int(out.group(2))) == analysis_size(_media(w, h, sar)), (w, h, sar)


def _frames(it) -> list[tuple[int, float, bytes]]:
    return [(f.index, f.pts_s, f.image.tobytes()) for f in it]


@pytest.mark.parametrize("name", ["plain.mp4", "sar.mp4", "narrow.mkv", "rotated.mp4", "large.mp4"])
def test_early_decode_gives_the_frames_of_the_known_decode(clips, name, monkeypatch):
    path = clips[name]
    media = probe(path, verify_tail=False)
    small = analysis_threads(media) == 1
    want = _frames(decode_frames(path, media=media, threads=analysis_threads(media), pix_fmt="yuv420p"))
    # Guesses: ffmpeg's own threads everywhere (kept: more parallel than any source needs), one
    # decoder thread (kept for a small source only), and the right one.
    for guess in [(0, False, False), (1, True, False), (analysis_threads(media), True, False)]:
        monkeypatch.setattr(D, "_LAST", [guess])
        clear_probe_cache()
        got_media, frames = decode_while_probing(path, start_probe(path, verify_tail=False), pix_fmt="yuv420p")
        try:
            got = _frames(frames)
        finally:
            frames.close()
        assert got_media == media
        assert [g[:2] for g in got] == [x[:2] for x in want] and got == want
        assert frames.early == (media.video.rotation == 0 and (guess[0] != 1 or small)), guess


def test_an_analysed_file_costs_one_ffprobe_and_one_ffmpeg_that_overlap(clips, monkeypatch):
    path = clips["plain.mp4"]
    analyze_footage(path, mode="full")  # the thread choice of this kind of file is now known
    clear_probe_cache()
    spawned = Spawned(monkeypatch)
    a = analyze_footage(path, mode="full")
    assert a.frame_count == 30
    assert (spawned.count("ffprobe"), spawned.count("ffmpeg")) == (1, 1)
    assert len(spawned.overlapped) == 1, "the decode waited for ffprobe to finish"
    assert spawned.all_reaped()


def test_analysis_matches_the_probe_first_analysis(clips):
    for name in ("sar.mp4", "narrow.mkv", "rotated.mp4"):
        path = clips[name]
        clear_probe_cache()
        early = analyze_footage(path, mode="full")
        known = analyze_footage(path, mode="full", media=probe(path, verify_tail=False))
        assert early.to_dict() == known.to_dict(), name


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.write_bytes(b"not a video at all" * 100), "ffprobe cannot read it"),
    (lambda p: p.write_bytes(b""), "file is empty"),
    (lambda p: os.mkfifo(p), "not a regular file|FIFO|pipe"),
])
def test_bad_files_give_the_one_line_error_and_leave_no_process(tmp_path, monkeypatch, make, reason):
    path = tmp_path / "clip.mp4"
    make(path)
    spawned = Spawned(monkeypatch)
    with pytest.raises(MediaError) as exc:
        analyze_footage(path, mode="full")
    text = str(exc.value)
    assert "clip.mp4" in text and "\n" not in text and re.search(reason, text, re.I), text
    assert spawned.all_reaped() and spawned.count("ffmpeg") <= 1


def test_audio_only_file_is_refused_as_footage_and_ffmpeg_stopped(clips, monkeypatch):
    spawned = Spawned(monkeypatch)
    with pytest.raises(MediaError, match=r"audio\.wav: has no video stream"):
        analyze_footage(clips["audio.wav"], mode="full")
    assert spawned.count("ffmpeg") == 1 and spawned.all_reaped()


def test_truncated_file_is_named(tmp_path, clips):
    cut = tmp_path / "cut.mp4"
    data = clips["plain.mp4"].read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(MediaError, match=r"cut\.mp4"):
        analyze_footage(cut, mode="full")


def test_cancel_stops_the_early_decode(clips, monkeypatch):
    path = clips["plain.mp4"]
    clear_probe_cache()
    spawned = Spawned(monkeypatch)
    asked = []
    with pytest.raises(Cancelled):
        analyze_footage(path, mode="full", cancel=lambda: len(asked.append(1) or asked) > 3)
    assert spawned.count("ffprobe") == 1 and spawned.all_reaped()


def test_frames_never_read_still_stop_ffmpeg(clips, monkeypatch):
    path = clips["plain.mp4"]
    clear_probe_cache()
    spawned = Spawned(monkeypatch)
    _, frames = decode_while_probing(path, start_probe(path, verify_tail=False), pix_fmt="yuv420p")
    frames.close()
    assert (spawned.count("ffprobe"), spawned.count("ffmpeg")) == (1, 1) and spawned.all_reaped()


def test_a_remembered_probe_starts_the_known_decode_once(clips, monkeypatch):
    path = clips["rotated.mp4"]
    clear_probe_cache()
    media = probe(path, verify_tail=False)
    spawned = Spawned(monkeypatch)
    got_media, frames = decode_while_probing(path, start_probe(path, verify_tail=False), pix_fmt="yuv420p")
    try:
        n = sum(1 for _ in frames)
    finally:
        frames.close()
    assert got_media is media and n == media.video.frame_count and not frames.early
    assert (spawned.count("ffprobe"), spawned.count("ffmpeg")) == (0, 1) and spawned.all_reaped()


def test_after_a_rotated_clip_the_next_decode_waits_for_its_probe(clips, monkeypatch):
    analyze_footage(clips["rotated.mp4"], mode="full")
    clear_probe_cache()
    spawned = Spawned(monkeypatch)
    a = analyze_footage(clips["rotated.mp4"], mode="full")
    assert a.frame_count == 30 and (spawned.count("ffprobe"), spawned.count("ffmpeg")) == (1, 1)
    assert not spawned.overlapped and spawned.all_reaped()
    b = analyze_footage(clips["plain.mp4"], mode="full")  # unrotated again: probe first once more...
    c = analyze_footage(clips["sar.mp4"], mode="full")  # ...then overlapped
    assert b.frame_count == 30 and c.frame_count == 30 and len(spawned.overlapped) == 1
