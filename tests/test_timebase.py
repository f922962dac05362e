"""Exact time: rates as Fractions, frame quantisation, SMPTE timecode (drop frame too)."""

from fractions import Fraction

import pytest

from montage_ai.core.base.timebase import (
    frames_to_seconds,
    frames_to_timecode,
    parse_rate,
    quantize_times,
    seconds_to_frames,
    timecode_to_frames,
)

NTSC24, NTSC30, NTSC60 = Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)


@pytest.mark.parametrize("text,rate", [
    ("24000/1001", NTSC24), ("30000/1001", NTSC30), ("25/1", Fraction(25)), ("24", Fraction(24)),
    ("23.976", NTSC24), ("29.97", NTSC30), ("59.94", NTSC60), ("50", Fraction(50)), ("12.5", Fraction(25, 2)),
])
def test_parse_rate(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("bad", ["0/0", "0", "-25", "abc"])
def test_parse_rate_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        parse_rate(bad)


def test_frames_and_seconds_are_exact():
    assert frames_to_seconds(1001, NTSC24) == Fraction(1001 * 1001, 24000)
    assert seconds_to_frames(frames_to_seconds(123456, NTSC30), NTSC30) == 123456
    # Half a frame in: nearest rounds up, floor keeps the frame on screen.
    t = frames_to_seconds(10, NTSC24) + Fraction(1, 2) / NTSC24
    assert (seconds_to_frames(t, NTSC24, "floor"), seconds_to_frames(t, NTSC24), seconds_to_frames(t, NTSC24, "ceil")) == (10, 11, 11)


def test_quantize_times_gives_whole_frames_on_the_grid():
    frames = quantize_times([0.0, 0.5, 1.0, 60.06], NTSC30)
    assert frames == [0, 15, 30, 1800]
    assert all(isinstance(f, int) for f in frames)


@pytest.mark.parametrize("rate,frames,tc", [
    (Fraction(24), 86400, "01:00:00:00"), (Fraction(25), 90000, "01:00:00:00"),
    (NTSC24, 86400, "01:00:00:00"), (NTSC30, 108000, "01:00:00:00"),
])
def test_non_drop_timecode(rate, frames, tc):
    assert frames_to_timecode(frames, rate) == tc
    assert timecode_to_frames(tc, rate) == frames


@pytest.mark.parametrize("rate,frames,tc", [
    (NTSC30, 1800, "00:01:00;02"), (NTSC30, 17982, "00:10:00;00"), (NTSC30, 107892, "01:00:00;00"),
    (NTSC60, 3600, "00:01:00;04"), (NTSC60, 215784, "01:00:00;00"),
])
def test_drop_frame_timecode(rate, frames, tc):
    assert frames_to_timecode(frames, rate, drop_frame=True) == tc
    assert timecode_to_frames(tc, rate) == frames


def test_drop_frame_round_trips_every_frame_of_ten_minutes():
    for n in range(0, 17982 * 2, 7):
        assert timecode_to_frames(frames_to_timecode(n, NTSC30, True), NTSC30) == n


def test_drop_frame_only_at_ntsc_rates():
    with pytest.raises(ValueError):
        frames_to_timecode(10, Fraction(25), drop_frame=True)
    with pytest.raises(ValueError):
        timecode_to_frames("00:00:01;00", Fraction(24))
