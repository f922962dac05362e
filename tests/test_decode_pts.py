"""The analysis decode's pts: each frame's own timestamp in the stream's timebase, read from the
``metadata`` filter's log lines, exactly the packet table's for a variable-frame-rate file, a
file whose timebase is not the frame rate's, and in the early (probe-overlapped) decode."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import numpy as np
import pytest

from montage_ai.core.media import early_decode
from montage_ai.core.media.decode import decode_frames, packet_table
from montage_ai.core.media.early_decode import decode_while_probing
from montage_ai.core.media.probe import clear_probe_cache, probe, require_tool, start_probe
from montage_ai.core.samples.footage import Segment, render_footage

SEGMENTS = [Segment("scene", 14, seed=3), Segment("pan", 14, still="scene", seed=1, pan_px_per_frame=2.0)]


@pytest.fixture(scope="module")
def vfr(tmp_path_factory):
    """24000/1001 with every third frame dropped: variable frame rate, timebase 1/24000."""
    path = tmp_path_factory.mktemp("pts") / "vfr.mp4"
    return render_footage(path, SEGMENTS, rate=Fraction(24000, 1001), size=(160, 90), drop_every=3).path


def _exact_seconds(path: str) -> list[float]:
    table = packet_table(path)
    return [table.seconds(i) for i in range(table.frame_count)]


def test_whole_file_pts_are_the_packet_tables_exactly(vfr):
    assert probe(vfr).video.vfr
    for pix_fmt in ("yuv420p", "bgr24"):
        frames = list(decode_frames(vfr, pix_fmt=pix_fmt))
        assert [f.index for f in frames] == list(range(len(frames)))
        assert [f.pts_s for f in frames] == _exact_seconds(vfr)


def test_timebase_other_than_the_rate_and_a_late_start(tmp_path):
    src = render_footage(tmp_path / "src.mp4", SEGMENTS[:1], rate=Fraction(25), size=(160, 90)).path
    out = str(tmp_path / "late.mkv")  # Matroska: timebase 1/1000; the video starts 0.5 s in
    subprocess.run([require_tool("ffmpeg"), "-nostdin", "-v", "error", "-itsoffset", "0.5", "-i", src, "-c", "copy",
                    out], check=True)
    media = probe(out)
    assert media.video.time_base == Fraction(1, 1000)
    frames = list(decode_frames(out))
    assert frames[0].pts_s == pytest.approx(0.5, abs=1e-3)
    assert [f.pts_s for f in frames] == _exact_seconds(out)


def test_early_decode_gives_the_same_pts_and_pixels(vfr, monkeypatch):
    known = list(decode_frames(vfr, media=probe(vfr), pix_fmt="yuv420p"))
    clear_probe_cache()  # the probe runs while the decode starts
    monkeypatch.setattr(early_decode, "_LAST", [(1, True, False)])  # the guess this small source keeps
    media, early = decode_while_probing(vfr, start_probe(vfr, verify_tail=False), pix_fmt="yuv420p")
    assert early.early
    try:
        got = list(early)
    finally:
        early.close()
    assert [(f.index, f.pts_s) for f in got] == [(f.index, f.pts_s) for f in known]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(got, known))
