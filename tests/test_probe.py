"""Media probe: exact rates, frame counts, VFR, rotation, bit depth, timecode, clear errors."""

from __future__ import annotations

import datetime as dt
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from montage_ai.core.base.errors import MediaError
from montage_ai.core.media.probe import probe
from shared_media import shared_dir

RATES = [Fraction(24), Fraction(25), Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def clip(path: Path, rate: Fraction = Fraction(25), frames: int = 20, *extra: str, size: str = "160x90",
         codec: str = "libx264") -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate.numerator}/{rate.denominator}",
           "-frames:v", str(frames), "-c:v", codec, *extra, str(path))
    return path


@pytest.mark.parametrize("rate", RATES, ids=lambda r: f"{r.numerator}_{r.denominator}")
def test_rate_is_exact_fraction_and_frames_counted(tmp_path, rate):
    info = probe(clip(tmp_path / "c.mp4", rate, 37))
    assert info.video.rate == rate and isinstance(info.video.rate, Fraction)
    assert info.video.frame_count == 37
    assert not info.video.vfr
    assert info.duration_s == pytest.approx(float(37 / rate), abs=0.05)


def test_frame_count_without_container_index_is_counted(tmp_path):
    info = probe(clip(tmp_path / "c.mkv", Fraction(24000, 1001), 29))
    assert info.video.frame_count == 29
    assert info.video.rate == Fraction(24000, 1001)


def test_variable_frame_rate_is_detected(tmp_path):
    src = tmp_path / "vfr.mp4"
    # 30 frames in the first second, then 15 fps: nominal 30, mean 20.
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30", "-frames:v", "60",
           "-vf", "setpts='if(lt(N,30),N,30+(N-30)*2)/(30*TB)'", "-fps_mode", "passthrough",
           "-c:v", "libx264", str(src))
    v = probe(src).video
    assert v.vfr
    assert v.frame_count == 60
    assert v.avg_rate < v.rate


def _first_frame_gray(path: Path, autorotate: bool) -> np.ndarray:
    args = ["ffmpeg", "-nostdin", "-v", "error"] + ([] if autorotate else ["-noautorotate"])
    v = probe(path).video
    w, h = (v.display_width, v.display_height) if autorotate else (v.width, v.height)
    raw = subprocess.run(args + ["-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w).astype(int)


@pytest.mark.parametrize("tag", ["90", "180", "270"])
def test_rotation_matches_what_players_show(tmp_path, tag):
    plain = clip(tmp_path / "plain.mp4", size="160x90", frames=1)
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", f"rotate={tag}", str(rotated))
    v = probe(rotated).video
    assert v.rotation in (90, 180, 270)
    assert (v.width, v.height) == (160, 90)
    stored = _first_frame_gray(rotated, autorotate=False)
    shown = _first_frame_gray(rotated, autorotate=True)
    # Our clockwise rotation applied to the stored frame gives what ffmpeg displays.
    expected = np.rot90(stored, -v.rotation // 90)
    assert shown.shape == expected.shape == (v.display_height, v.display_width)
    assert np.abs(shown - expected).mean() < 4
    assert probe(plain).video.rotation == 0


def test_ten_bit_hevc(tmp_path):
    v = probe(clip(tmp_path / "hevc10.mp4", Fraction(25), 10, "-pix_fmt", "yuv420p10le", "-tag:v", "hvc1",
                   "-x265-params", "log-level=error", codec="libx265")).video
    assert v.codec == "hevc"
    assert v.bit_depth == 10
    assert v.pix_fmt.startswith("yuv420p10")


def test_start_timecode_audio_streams_and_creation_time(tmp_path):
    path = tmp_path / "tc.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30000/1001", "-f", "lavfi",
           "-i", "sine=frequency=440:sample_rate=48000", "-frames:v", "30", "-t", "1.001",
           "-ac", "2", "-c:v", "libx264", "-c:a", "pcm_s16le", "-timecode", "01:00:00;00",
           "-metadata", "creation_time=2024-05-01T10:20:30Z", str(path))
    info = probe(path)
    assert info.start_timecode == "01:00:00;00"
    assert len(info.audio) == 1
    assert (info.audio[0].channels, info.audio[0].sample_rate) == (2, 48000)
    assert info.creation_time == dt.datetime(2024, 5, 1, 10, 20, 30, tzinfo=dt.timezone.utc)


def test_name_with_spaces_and_non_ascii_letters(tmp_path):
    path = clip(tmp_path / "Café – Überblick 1.mp4", Fraction(25), 5)
    info = probe(path)
    assert info.path == str(path)
    assert info.video.frame_count == 5


def test_record_round_trips_through_dict(tmp_path):
    info = probe(clip(tmp_path / "c.mp4", Fraction(30000, 1001), 12))
    from montage_ai.core.media.probe import MediaInfo

    assert MediaInfo.from_dict(info.to_dict()) == info


# --- errors name the file and the problem ------------------------------------------------

def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.mov"
    path.write_bytes(b"")
    with pytest.raises(MediaError, match=r"empty\.mov: file is empty"):
        probe(path)


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match=r"nothere\.mp4: file does not exist"):
        probe(tmp_path / "nothere.mp4")


def test_garbage_file_is_unreadable(tmp_path):
    path = tmp_path / "garbage.mp4"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(MediaError, match=r"garbage\.mp4: ffprobe cannot read it"):
        probe(path)


def test_audio_only_file_is_not_footage(tmp_path):
    path = tmp_path / "song.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=220", "-t", "1", str(path))
    with pytest.raises(MediaError, match=r"song\.m4a: has no video stream"):
        probe(path)
    info = probe(path, require_video=False)
    assert info.video is None and info.audio[0].sample_rate > 0


@pytest.mark.parametrize("faststart", [False, True], ids=["index-at-end", "index-at-start"])
def test_truncated_file(tmp_path, faststart):
    whole = clip(tmp_path / "whole.mp4", Fraction(25), 250, *(["-movflags", "+faststart"] if faststart else []))
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match=r"cut\.mp4: .*(truncated|cannot read|damaged)"):
        probe(cut)
    assert probe(whole).video.frame_count == 250


# --- real clips (skipped where ../shared/media is absent) -------------------------------

SHARED = shared_dir("media") or Path(__file__).resolve().parents[2] / "shared" / "media"
shared_media = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/media is absent")


@shared_media
def test_real_counter_clip():
    v = probe(SHARED / "counter.mp4").video
    assert (v.rate, v.frame_count, v.vfr) == (Fraction(10), 30, False)


@shared_media
def test_real_vfr_clip():
    v = probe(SHARED / "goldeneye-vfr-drop3.mp4").video
    assert v.vfr and v.rate == Fraction(24000, 1001) and v.frame_count == 160


@shared_media
def test_real_rotated_clip():
    info = probe(SHARED / "issue-134-rotate.mp4")
    assert info.video.rotation == 90
    assert (info.video.display_width, info.video.display_height) == (544, 1280)


@shared_media
def test_real_delayed_start_clip():
    v = probe(SHARED / "delayed_start.mp4").video
    assert v.start_time_s == pytest.approx(1.075) and v.frame_count == 24
