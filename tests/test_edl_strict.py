"""Strict CMX 3600: every list we write is read by OTIO's official ``cmx_3600`` reader (mixed
rates, start timecode, drop frame), timecode is valid at the record rate, 12.5 fps is handled
or refused with the reason, and foreign lists are read with their losses named."""

from __future__ import annotations

import logging
from dataclasses import replace
from fractions import Fraction

import opentimelineio as otio
import pytest

from montage_ai.core.base.timebase import timecode_to_frames
from montage_ai.core.model.timeline import build_timeline, cut_list_from_timeline
from montage_ai.otio_adapters import edl
from montage_ai.otio_adapters.edit import InterchangeError
from test_interchange import NTSC24, NTSC30, NTSC60, _cut_list, _mixed, _video_only

cmx = pytest.importorskip("otio_cmx3600_adapter")


def _official(text: str, rate: Fraction) -> otio.schema.Timeline:
    return otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=float(rate))


def _events(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line[:3].isdigit()]


CASES = {
    "mixed 23.976": lambda: _mixed(NTSC24),
    "mixed 25": lambda: _mixed(Fraction(25)),
    "12.5 in 25": lambda: _cut_list(Fraction(25), [("slow 12.5.mov", Fraction(25, 2)), ("b.mov", Fraction(25))],
                                    [10, 14, 9]),
    "59.94 camera in 29.97": lambda: _cut_list(NTSC30, [("cam.mov", NTSC60), ("b.mov", NTSC30)], [31, 17, 40]),
    "24 in 60": lambda: _cut_list(Fraction(60), [("film.mov", Fraction(24)), ("b.mov", Fraction(60))], [33, 20]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_official_reader_accepts_every_list_we_write(case):
    cut_list, probes = CASES[case]()
    text = edl.write_to_string(build_timeline(cut_list, media=probes))
    timeline = _official(text, cut_list.rate)
    clips = list(timeline.video_tracks()[0].find_clips())
    assert [c.range_in_parent().duration.to_frames() for c in clips] == [c.record_frames for c in cut_list.cuts]
    fps = round(cut_list.rate)
    for event in _events(text):  # every timecode counts frames of the record rate
        assert all(int(tc.replace(";", ":").split(":")[3]) < fps for tc in event[4:8])
    # ... and our reader still brings back the exact cut list.
    assert cut_list_from_timeline(edl.read_from_string(text)) == _video_only(cut_list)


def test_source_timecode_is_stated_at_the_record_rate():
    # 25 fps camera file starting 01:00:00:00, cut at its frame 30 (1.2 s), in a 23.976 list.
    cut_list, probes = _cut_list(NTSC24, [("pal.mov", Fraction(25))], [12], ins=[30])
    probes[cut_list.cuts[0].source_path] = probes[cut_list.cuts[0].source_path].__class__(
        **{**probes[cut_list.cuts[0].source_path].__dict__, "start_timecode": "01:00:00:00"})
    event = _events(edl.write_to_string(build_timeline(cut_list, media=probes)))[0]
    # 1.2 s into the file is frame 28.77 at 23.976: the first record frame that shows it is 29.
    assert event[4:6] == ["01:00:01:05", "01:00:01:17"]


def test_a_timeline_rate_timecode_cannot_count_is_refused_with_the_reason():
    cut_list, probes = _cut_list(Fraction(25, 2), [("slow.mov", Fraction(25, 2))], [5])
    with pytest.raises(InterchangeError, match="25/2"):
        edl.write_to_string(build_timeline(cut_list, media=probes))


def test_drop_frame_lists_are_written_and_read(tmp_path):
    cut_list, probes = _cut_list(NTSC30, [("a.mov", NTSC30), ("b.mov", NTSC30)], [900, 1800, 300], ins=[0, 1, 2])
    cut_list = replace(cut_list, start_frames=timecode_to_frames("01:00:00;00", NTSC30))  # 107892
    timeline = build_timeline(cut_list, media=probes)
    text = edl.write_to_string(timeline, drop_frame=True)
    assert text.splitlines()[1] == "FCM: DROP FRAME"
    events = _events(text)
    assert all(";" in tc for e in events for tc in e[6:8])
    # 01:00:00;00 + 2700 frames = 01:01:30;02 in drop frame (frames ;00 and ;01 of minute 1 skipped).
    assert events[2][6] == "01:01:30;02"
    official = _official(text, NTSC30)
    assert [c.range_in_parent().duration.to_frames() for c in official.video_tracks()[0].find_clips()] == \
        [900, 1800, 300]
    back = edl.read_edit(text)
    assert back.metadata.get("drop_frame") is True
    assert cut_list_from_timeline(edl.read_from_string(text)) == _video_only(cut_list)
    pal, pal_probes = _cut_list(Fraction(25), [("p.mov", Fraction(25))], [5])
    with pytest.raises(InterchangeError, match="drop-frame"):
        edl.write_to_string(build_timeline(pal, media=pal_probes), drop_frame=True)


FOREIGN = """TITLE: from an Avid
FCM: DROP FRAME

001  TAPE1    V     C        01:00:10;00 01:00:12;00 01:00:00;00 01:00:02;00
002  TAPE2    AA/V  C        02:00:00;00 02:00:01;00 01:00:02;00 01:00:03;00
* FROM CLIP NAME: interview.mov
003  TAPE1    V     C        01:00:20;00 01:00:20;00 01:00:03;00 01:00:03;00
003  TAPE3    B     D    015 03:00:00;00 03:00:02;00 01:00:03;00 01:00:05;00
M2   TAPE3       059.9                03:00:00;00
004  TAPE4    A     C        04:00:00;00 04:00:01;00 01:00:05;00 01:00:06;00
AUD  3
"""


def test_foreign_lists_are_read_and_what_we_cannot_carry_is_named(caplog):
    with caplog.at_level(logging.WARNING):
        edit = edl.read_edit(FOREIGN, rate="30000/1001")
    events = edit.video[0]
    assert [e.source.path for e in events] == ["TAPE1", "interview.mov", "TAPE1", "TAPE3"]
    assert events[0].source_in == timecode_to_frames("01:00:10;00", NTSC30)
    assert edit.start == timecode_to_frames("01:00:00;00", NTSC30)
    warning = " ".join(r.getMessage() for r in caplog.records)
    for lost in ("audio event 004", "dissolve", "M2", "AUD", "no FROM FILE"):
        assert lost in warning
    # A bare reel is no path under the current directory.
    timeline = edl.read_from_string(FOREIGN, rate="30000/1001")
    assert timeline.video_tracks()[0].find_clips()[0].media_reference.target_url == "TAPE1"


def test_a_list_without_a_rate_asks_for_one():
    with pytest.raises(InterchangeError, match="--rate"):
        edl.read_edit(FOREIGN)


def test_comment_lines_stay_short():
    cut_list, probes = _mixed()
    text = edl.write_to_string(build_timeline(cut_list, media=probes))
    assert max(len(line) for line in text.splitlines()) <= 100
