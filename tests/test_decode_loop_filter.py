"""The analysis decode skips the deblocking (loop) filter on every frame: its command lines carry
``-skip_loop_filter all`` in full mode, on both the early (overlapped) and the probe-first path;
decoders with a loop filter (H.264, HEVC) give other pixels for it, and a decoder without one
(MPEG-4 Part 2) ignores it and decodes the same frames."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from montage_ai.core.analysis.footage import analyze_footage
from montage_ai.core.media import decode as DEC
from montage_ai.core.media import early_decode as D
from montage_ai.core.media.decode import LOOP_FILTER_SKIP, decode_frames
from montage_ai.core.media.probe import clear_probe_cache, probe


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


# A moving, detailed source coded coarsely, so the deblocking filter has edges to smooth.
SOURCE = "testsrc2=size=320x180:rate=25"
CODECS = {
    "h264.mp4": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "38"],  # ultrafast turns deblocking off
    "hevc.mp4": ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "38", "-x265-params", "log-level=error"],
    "mpeg4.avi": ["-c:v", "mpeg4", "-q:v", "12"],  # no in-loop filter: the option is ignored
}


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("loop_filter")
    out = {}
    for name, codec in CODECS.items():
        out[name] = d / name
        ffmpeg("-f", "lavfi", "-i", SOURCE, "-t", "1.2", *codec, "-pix_fmt", "yuv420p", str(out[name]))
    return out


@pytest.fixture(autouse=True)
def first_guess(monkeypatch):
    monkeypatch.setattr(D, "_LAST", [(0, True, False)])


def _decodes(monkeypatch) -> list[list[str]]:
    """The ffmpeg command lines started while the patch is on."""
    started: list[list[str]] = []
    real = DEC._start

    def start(cmd):
        started.append(list(cmd))
        return real(cmd)

    monkeypatch.setattr(DEC, "_start", start)
    monkeypatch.setattr(D, "_start", start)
    return started


def _input_option(cmd: list[str], flag: str) -> str | None:
    """The value of input option ``flag`` (before ``-i``), or ``None``."""
    before = cmd[:cmd.index("-i")]
    return before[before.index(flag) + 1] if flag in before else None


@pytest.mark.parametrize("probe_first", [False, True])
def test_full_mode_decodes_without_the_loop_filter(clips, monkeypatch, probe_first):
    path = clips["h264.mp4"]
    clear_probe_cache()
    started = _decodes(monkeypatch)
    media = probe(path, verify_tail=False) if probe_first else None
    a = analyze_footage(path, mode="full", media=media)
    assert a.frame_count == 30
    assert started, "no decode was started"
    for cmd in started:
        assert _input_option(cmd, "-skip_loop_filter") == LOOP_FILTER_SKIP == "all", cmd
        assert _input_option(cmd, "-flags2") == "fast", cmd


def _frames(path: Path, fast: bool) -> list[tuple[int, float, bytes]]:
    media = probe(path, verify_tail=False)
    return [(f.index, f.pts_s, f.image.tobytes())
            for f in decode_frames(path, media=media, fast=fast, pix_fmt="yuv420p", width=320)]


@pytest.mark.parametrize("name", ["h264.mp4", "hevc.mp4"])
def test_a_codec_with_a_loop_filter_honours_it(clips, name):
    deblocked, skipped = _frames(clips[name], fast=False), _frames(clips[name], fast=True)
    assert [f[:2] for f in skipped] == [f[:2] for f in deblocked] and len(skipped) == 30
    differ = sum(a[2] != b[2] for a, b in zip(deblocked, skipped))
    assert differ >= len(skipped) // 2, f"{differ} of {len(skipped)} frames differ: the option was not applied"


def test_a_codec_without_one_ignores_it_and_still_decodes(clips):
    path = clips["mpeg4.avi"]
    assert probe(path, verify_tail=False).video.codec == "mpeg4"
    assert _frames(path, fast=True) == _frames(path, fast=False)
    clear_probe_cache()
    a = analyze_footage(path, mode="full")
    assert a.frame_count == 30 and os.path.basename(a.path) == "mpeg4.avi"
