"""The cut list -> OTIO timeline: frame-exact positions, URLs, ranges, markers, round trip."""

from __future__ import annotations

import json
import os
import urllib.parse
from fractions import Fraction

import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime, TimeRange

from montage_ai.core.base.errors import MediaError
from montage_ai.core.base.fileio import OutputExistsError
from montage_ai.core.base.timebase import timecode_to_frames
from montage_ai.core.media.probe import MediaInfo, VideoStream, probe
from montage_ai.core.model.cutlist import Cut, CutList, Section
from montage_ai.core.model.timeline import (
    BEAT_COLOR,
    DOWNBEAT_COLOR,
    SECTION_COLOR,
    build_timeline,
    cut_list_from_timeline,
    media_path,
    write_otio,
)
from montage_ai.core.samples.footage import render_audio
from montage_ai.core.samples.framecode import render_framecode

NTSC24 = Fraction(24000, 1001)
NTSC30 = Fraction(30000, 1001)
NTSC60 = Fraction(60000, 1001)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("timeline media")
    paths = {
        "tc24": str(folder / "Day 1 café.mp4"),        # a space and a non-ASCII letter
        "s25": str(folder / "pal 25.mp4"),
        "s60": str(folder / "ntsc60.mp4"),
        "music": str(folder / "song ü.wav"),
    }
    render_framecode(paths["tc24"], 60, rate=NTSC24, size=(64, 36), start_timecode="01:00:00:00")
    render_framecode(paths["s25"], 60, rate=25, size=(64, 36))
    render_framecode(paths["s60"], 120, rate=NTSC60, size=(64, 36))
    render_audio(paths["music"], 4.0)
    probes = {p: probe(p, require_video=k != "music") for k, p in paths.items()}
    return paths, probes


def _mixed_cut_list(paths, **changes) -> CutList:
    """A 23.976 timeline with a 23.976 (start timecode), a 25 and a 59.94 source."""
    cuts = (
        Cut(0, 13, paths["tc24"], NTSC24, 5, 0, 0.9, "setup", "opening shot"),
        Cut(13, 30, paths["s25"], Fraction(25), 3, 1, 0.5, "build", "on the downbeat"),
        Cut(30, 47, paths["s60"], NTSC60, 7, 2, 0.25, "peak", "energy"),
        Cut(47, 60, paths["s25"], Fraction(25), 41, 3, 0.75, "peak", "chorus"),
    )
    values = dict(
        rate=NTSC24, width=64, height=36, duration=60, cuts=cuts, music_path=paths["music"], music_duration=60,
        start_frames=timecode_to_frames("01:00:00:00", NTSC24), music_fade_out=12,
        beats=(0, 12, 24, 36, 48), downbeats=(0, 48), sections=(Section(0, 30, "intro", "setup", 0.2),
                                                                Section(30, 60, "chorus", "peak", 0.9)),
        name="Rough cut ü", style="mtv", seed=7, brief="fast and bright",
    )
    values.update(changes)
    return CutList(**values)


def _fake_probe(path: str, rate: Fraction, frames: int) -> MediaInfo:
    video = VideoStream(index=0, codec="h264", profile=None, width=64, height=36, rate=rate, avg_rate=rate,
                        frame_count=frames, vfr=False, rotation=0, pix_fmt="yuv420p", bit_depth=8,
                        time_base=1 / rate, start_time_s=0.0, duration_s=float(frames / rate))
    return MediaInfo(path=path, size_bytes=1, format_name="mov,mp4", duration_s=float(frames / rate), video=video)


@pytest.mark.parametrize("rate", [Fraction(24), Fraction(25), NTSC24, NTSC30])
def test_global_start_is_one_hour_at_every_rate(rate):
    path = "/media/a.mov"
    start = timecode_to_frames("01:00:00:00", rate)
    cut_list = CutList(rate=rate, width=64, height=36, duration=10,
                       cuts=(Cut(0, 10, path, rate, 0, 0, 1.0, "setup", ""),), music_path="", music_duration=0,
                       start_frames=start)
    timeline = build_timeline(cut_list, media={path: _fake_probe(path, rate, 100)})
    assert timeline.global_start_time.value == start
    assert timeline.global_start_time.rate == float(rate)
    # OTIO's own timecode arithmetic is the judge.
    assert otio.opentime.to_timecode(timeline.global_start_time, float(rate), False) == "01:00:00:00"


def test_source_ranges_are_whole_frames_in_the_source_rate(media):
    paths, probes = media
    cut_list = _mixed_cut_list(paths)
    clips = list(build_timeline(cut_list, media=probes).tracks[0])
    for cut, clip in zip(cut_list.cuts, clips):
        offset = 86400 if cut.source_path == paths["tc24"] else 0
        start = clip.source_range.start_time
        assert (start.value, start.rate) == (offset + cut.source_in, float(cut.source_rate))
        duration = clip.source_range.duration
        assert (duration.value, duration.rate) == (cut.record_frames, float(NTSC24))


def test_target_urls_are_percent_encoded_file_urls(media):
    paths, probes = media
    timeline = build_timeline(_mixed_cut_list(paths), media=probes)
    url = timeline.tracks[0][0].media_reference.target_url
    assert url.startswith("file:///") and url.endswith("/Day%201%20caf%C3%A9.mp4")
    assert " " not in url and url.isascii()
    assert urllib.parse.unquote(urllib.parse.urlsplit(url).path) == os.path.abspath(paths["tc24"])
    assert media_path(url) == os.path.abspath(paths["tc24"])
    music_url = timeline.tracks[1][0].media_reference.target_url
    assert music_url.endswith("/song%20%C3%BC.wav")


def test_available_ranges_come_from_the_probe_in_the_source_rate(media):
    paths, probes = media
    clips = list(build_timeline(_mixed_cut_list(paths), media=probes).tracks[0])
    assert clips[0].media_reference.available_range == TimeRange(RationalTime(86400, float(NTSC24)),
                                                                 RationalTime(60, float(NTSC24)))
    assert clips[1].media_reference.available_range == TimeRange(RationalTime(0, 25), RationalTime(60, 25))
    assert clips[2].media_reference.available_range == TimeRange(RationalTime(0, float(NTSC60)),
                                                                 RationalTime(120, float(NTSC60)))
    for clip in clips:  # every source range lies inside what the file holds
        assert clip.media_reference.available_range.contains(clip.source_range.start_time)


def test_mixed_rate_record_positions_are_exact_timeline_frames(media):
    paths, probes = media
    cut_list = _mixed_cut_list(paths)
    timeline = build_timeline(cut_list, media=probes)
    track = timeline.tracks[0]
    for index, cut in enumerate(cut_list.cuts):
        placed = track.range_of_child_at_index(index)
        assert placed.start_time.rate == float(NTSC24) and placed.start_time.value == cut.record_in
        assert placed.end_time_exclusive().value == cut.record_out
    assert timeline.duration() == RationalTime(60, float(NTSC24))
    # The same after a trip through otio_json.
    again = otio.adapters.read_from_string(otio.adapters.write_to_string(timeline, "otio_json"))
    assert [again.tracks[0].range_of_child_at_index(i).start_time.value for i in range(4)] == [0, 13, 30, 47]


def test_music_is_trimmed_and_its_fade_recorded(media):
    paths, probes = media
    timeline = build_timeline(_mixed_cut_list(paths, music_duration=50), media=probes)
    audio = timeline.tracks[1]
    assert audio.kind == otio.schema.TrackKind.Audio and len(audio) == 1
    music = audio[0]
    assert music.source_range == TimeRange(RationalTime(0, float(NTSC24)), RationalTime(50, float(NTSC24)))
    assert music.media_reference.available_range.duration.value == int(4 * NTSC24)  # 4 s of music
    assert music.metadata["montage_ai"]["fade_out_frames"] == 12


def test_markers_for_beats_downbeats_and_sections(media):
    paths, probes = media
    markers = list(build_timeline(_mixed_cut_list(paths), media=probes).tracks.markers)
    by_kind: dict[str, list] = {}
    for m in markers:
        by_kind.setdefault(m.metadata["montage_ai"]["kind"], []).append(m)
    assert [m.marked_range.start_time.value for m in by_kind["beat"]] == [0, 12, 24, 36, 48]
    assert [m.marked_range.start_time.value for m in by_kind["downbeat"]] == [0, 48]
    assert {m.color for m in by_kind["beat"]} == {BEAT_COLOR}
    assert {m.color for m in by_kind["downbeat"]} == {DOWNBEAT_COLOR}
    assert {m.color for m in by_kind["section"]} == {SECTION_COLOR}
    assert len({BEAT_COLOR, DOWNBEAT_COLOR, SECTION_COLOR}) == 3
    chorus = by_kind["section"][1]
    assert chorus.name == "chorus (peak)"
    assert chorus.marked_range == TimeRange(RationalTime(30, float(NTSC24)), RationalTime(30, float(NTSC24)))
    assert chorus.metadata["montage_ai"] == {"kind": "section", "label": "chorus", "phase": "peak", "energy": 0.9}
    assert by_kind["beat"][1].name == "beat 2"


def test_clip_and_timeline_metadata(media):
    paths, probes = media
    timeline = build_timeline(_mixed_cut_list(paths), media=probes)
    assert timeline.tracks[0][1].metadata["montage_ai"] == {
        "shot": 1, "score": 0.5, "phase": "build", "reason": "on the downbeat", "source_in_frames": 3,
        "source_rate": "25/1"}
    meta = timeline.metadata["montage_ai"]
    assert meta["rate"] == "24000/1001" and (meta["width"], meta["height"]) == (64, 36)
    assert (meta["style"], meta["seed"], meta["brief"]) == ("mtv", 7, "fast and bright")


def test_round_trip_through_otio_json_is_frame_exact(media, tmp_path):
    paths, probes = media
    cut_list = _mixed_cut_list(paths, cuts=tuple(
        Cut(c.record_in, c.record_out, os.path.abspath(c.source_path), c.source_rate, c.source_in, c.shot_index,
            c.score, c.phase, c.reason) for c in _mixed_cut_list(paths).cuts), music_path=os.path.abspath(paths["music"]))
    target = tmp_path / "cut ü.otio"
    write_otio(build_timeline(cut_list, media=probes), target)
    json.loads(target.read_text(encoding="utf-8"))  # plain otio_json
    again = otio.adapters.read_from_file(str(target))
    assert cut_list_from_timeline(again) == cut_list


def test_write_otio_never_overwrites(media, tmp_path):
    paths, probes = media
    target = tmp_path / "cut.otio"
    target.write_text("the editor's file")
    with pytest.raises(OutputExistsError, match="cut.otio"):
        write_otio(build_timeline(_mixed_cut_list(paths), media=probes), target)
    assert target.read_text() == "the editor's file"
    assert [p.name for p in tmp_path.iterdir()] == ["cut.otio"]


def test_a_cut_past_the_end_of_its_source_names_the_file(media):
    paths, probes = media
    cut_list = _mixed_cut_list(paths)
    late = cut_list.cuts[0].__class__(0, 13, paths["tc24"], NTSC24, 50, 0, 1.0, "setup", "")
    with pytest.raises(MediaError, match="café"):
        build_timeline(_mixed_cut_list(paths, cuts=(late, *cut_list.cuts[1:])), media=probes)


def test_a_source_rate_that_disagrees_with_the_file_is_refused(media):
    paths, probes = media
    cut_list = _mixed_cut_list(paths)
    wrong = Cut(13, 30, paths["s25"], Fraction(24), 3, 1, 0.5, "build", "")
    with pytest.raises(MediaError, match="pal 25"):
        build_timeline(_mixed_cut_list(paths, cuts=(cut_list.cuts[0], wrong, *cut_list.cuts[2:])), media=probes)
