"""Interchange formats: FCPXML, FCP7 XML (xmeml) and CMX 3600 EDL.

What we write is checked by readers we did not write: Apple's DTDs through xmllint, the
official OTIO adapters (``fcp_xml``, ``fcpx_xml``, ``cmx_3600``) where they work, and our own
readers for the frame-exact round trip of the whole cut list.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from montage_ai.core.base.fileio import OutputExistsError
from montage_ai.core.base.timebase import frames_to_timecode
from montage_ai.core.media.probe import AudioStream, MediaInfo, VideoStream
from montage_ai.core.model.cutlist import Cut, CutList, Section
from montage_ai.core.model.timeline import build_timeline, cut_list_from_timeline, media_path
from montage_ai.otio_adapters import edl, fcp7_xml, fcpxml
from montage_ai.otio_adapters.edit import InterchangeError
from montage_ai.otio_adapters.export import FORMATS, export_path, export_timeline, read_timeline

NTSC24, NTSC30, NTSC60 = Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)
RATES = [Fraction(24), Fraction(25), NTSC24, NTSC30, NTSC60]
DTD_DIR = Path(fcpxml.__file__).parent / "dtd"
ONE_HOUR = {r: int(3600 * (round(r) if r.denominator != 1 else r)) for r in RATES}
NASTY_NAMES = ["Day 1 café & co.mov", "take #2 100%.mp4", "\"quoted\" 'clip'.mov", "Ærø <b>ø</b>.mxf",
               "日本語 ファイル.mov", "semi;colon,comma=eq+plus.mov"]
needs_xmllint = pytest.mark.skipif(shutil.which("xmllint") is None,
                                   reason="needs xmllint (Debian: libxml2-utils; `make test` installs it)")


# ---------------------------------------------------------------------------- building cut lists
def _probe(path: str, rate: Fraction, frames: int, *, start_tc: str | None = None, audio: bool = True) -> MediaInfo:
    video = VideoStream(index=0, codec="h264", profile=None, width=1920, height=1080, rate=rate, avg_rate=rate,
                        frame_count=frames, vfr=False, rotation=0, pix_fmt="yuv420p", bit_depth=8,
                        time_base=1 / rate, start_time_s=0.0, duration_s=float(frames / rate))
    streams = (AudioStream(1, "aac", 2, 48000, "stereo", float(frames / rate)),) if audio else ()
    return MediaInfo(path=path, size_bytes=1, format_name="mov,mp4", duration_s=float(frames / rate), video=video,
                     audio=streams, start_timecode=start_tc)


def _music_probe(path: str, seconds: float) -> MediaInfo:
    return MediaInfo(path=path, size_bytes=1, format_name="wav", duration_s=seconds, video=None,
                     audio=(AudioStream(0, "pcm_s16le", 2, 48000, "stereo", seconds),))


def _cut_list(rate: Fraction, sources: list[tuple[str, Fraction]], lengths: list[int], *, ins: list[int] | None = None,
              folder: str = "/media/project") -> tuple[CutList, dict[str, MediaInfo]]:
    """Cuts of ``lengths`` record frames over ``sources`` in turn; probes for every file.
    The first source has a start timecode of 01:00:00:00 (a camera file)."""
    probes: dict[str, MediaInfo] = {}
    cuts, position = [], 0
    for i, length in enumerate(lengths):
        name, src_rate = sources[i % len(sources)]
        path = os.path.join(folder, name)
        source_in = (ins[i] if ins else 3 * i) % 500
        if path not in probes:
            tc = frames_to_timecode(ONE_HOUR.get(src_rate, 0), src_rate) if i == 0 and src_rate in ONE_HOUR else None
            probes[path] = _probe(path, src_rate, 100_000, start_tc=tc)
        cuts.append(Cut(position, position + length, path, src_rate, source_in, i, 0.5 + (i % 5) / 10,
                        ("setup", "build", "peak", "resolve")[i % 4], f"reason {i} & <why>"))
        position += length
    music = os.path.join(folder, "song ü.wav")
    probes[music] = _music_probe(music, float(position / rate) + 10)
    beats = tuple(range(0, position, 12))
    cut_list = CutList(
        rate=rate, width=1920, height=1080, duration=position, cuts=tuple(cuts), music_path=music,
        music_duration=position, start_frames=ONE_HOUR.get(rate, 0), music_fade_out=min(12, position),
        beats=beats, downbeats=beats[::4],
        sections=(Section(0, position // 2, "verse", "build", 0.4), Section(position // 2, position, "chorus", "peak", 0.9)),
        name="Rough cut ü & <co>", style="mtv", seed=7, brief='fast "bright"')
    return cut_list, probes


def _mixed(rate: Fraction = NTSC24):
    return _cut_list(rate, [("A cam 01.mov", NTSC24), ("pal 25.mp4", Fraction(25)), ("ntsc 60.mov", NTSC60),
                            ("Day 1 café & co.mov", NTSC30)], [13, 17, 17, 13, 24, 5])


def _round_trip(cut_list: CutList, probes, fmt: str, tmp_path: Path) -> tuple[CutList, Path]:
    path = export_path(tmp_path / "cut.otio", fmt)
    export_timeline(build_timeline(cut_list, media=probes), path, fmt)
    return cut_list_from_timeline(read_timeline(path)), path


def _video_only(cut_list: CutList) -> CutList:
    """What an EDL carries: V1 and the timeline's own data, no music or markers."""
    from dataclasses import replace
    return replace(cut_list, music_path="", music_duration=0, music_fade_out=0, beats=(), downbeats=(), sections=())


# ---------------------------------------------------------------------------- FCPXML
@pytest.mark.parametrize("version", fcpxml.VERSIONS)
@needs_xmllint
def test_fcpxml_validates_against_apples_dtd_of_its_version(version, tmp_path):
    cut_list, probes = _cut_list(NTSC24, [(n, r) for n, r in zip(NASTY_NAMES, [NTSC24, Fraction(25), NTSC60] * 2)],
                                 [10, 11, 12, 13, 14, 15, 16])
    path = tmp_path / "cut.fcpxml"
    export_timeline(build_timeline(cut_list, media=probes), path, "fcpxml", version=version)
    dtd = DTD_DIR / f"FCPXMLv{version.replace('.', '_')}.dtd"
    result = subprocess.run(["xmllint", "--noout", "--dtdvalid", str(dtd), str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert ET.parse(path).getroot().get("version") == version


@needs_xmllint
def test_xmllint_rejects_fcpxml_that_breaks_the_dtd(tmp_path):
    """The validation can fail: a marker before a connected clip breaks the DTD's order."""
    cut_list, probes = _mixed()
    text = fcpxml.write_to_string(build_timeline(cut_list, media=probes))
    root = ET.fromstring(text)
    clip = root.find(".//spine/asset-clip")
    marker = clip.find("marker")
    clip.remove(marker)
    clip.insert(0, marker)
    bad = tmp_path / "bad.fcpxml"
    bad.write_text(ET.tostring(root, encoding="unicode"))
    result = subprocess.run(["xmllint", "--noout", "--dtdvalid", str(DTD_DIR / "FCPXMLv1_9.dtd"), str(bad)],
                            capture_output=True, text=True)
    assert result.returncode != 0


def test_the_package_ships_the_dtds_it_writes():
    for version in fcpxml.VERSIONS:
        dtd = DTD_DIR / f"FCPXMLv{version.replace('.', '_')}.dtd"
        assert f'version CDATA #FIXED "{version}"' in dtd.read_text()


@pytest.mark.parametrize("rate", RATES, ids=str)
def test_fcpxml_times_are_exact_rationals_of_the_frame_duration(rate):
    cut_list, probes = _cut_list(rate, [("a.mov", rate)], [7, 9])
    root = ET.fromstring(fcpxml.write_to_string(build_timeline(cut_list, media=probes)))
    fmt = root.find("./resources/format")
    assert fmt.get("frameDuration") == (f"{rate.denominator}/{rate.numerator}s" if rate.denominator != 1 else f"1/{rate}s")
    seq = root.find(".//sequence")
    # 01:00:00:00 is 3600 s of frames at integer rates and 3603.6 s (86400 * 1001/24000) at NTSC.
    assert fcpxml.parse_time(seq.get("tcStart")) == Fraction(ONE_HOUR[rate]) / rate
    second = root.findall(".//spine/asset-clip")[1]
    assert fcpxml.parse_time(second.get("offset")) == Fraction(ONE_HOUR[rate] + 7) / rate
    assert fcpxml.parse_time(second.get("duration")) == Fraction(9) / rate
    assert "." not in second.get("offset")


def test_fcpxml_asset_start_is_the_files_own_timecode():
    cut_list, probes = _cut_list(NTSC24, [("camera.mov", NTSC24)], [10])
    root = ET.fromstring(fcpxml.write_to_string(build_timeline(cut_list, media=probes)))
    asset = root.find("./resources/asset[@name='camera.mov']")
    assert asset.get("start") == "86486400/24000s"          # 01:00:00:00 at 23.976
    clip = root.find(".//spine/asset-clip")
    assert fcpxml.parse_time(clip.get("start")) == Fraction(86400 + cut_list.cuts[0].source_in) / NTSC24


def test_fcpxml_has_one_asset_per_file_and_one_format_per_rate():
    cut_list, probes = _mixed()
    root = ET.fromstring(fcpxml.write_to_string(build_timeline(cut_list, media=probes)))
    assets = root.findall("./resources/asset")
    assert len(assets) == 5  # four clips and the song
    durations = {f.get("frameDuration") for f in root.findall("./resources/format")}
    assert durations == {"1001/24000s", "1/25s", "1001/60000s", "1001/30000s"}
    music = root.find(".//spine/asset-clip/asset-clip[@lane='-1']")
    assert music is not None and music.get("name") == "song ü.wav"


def test_fcpxml_media_urls_are_percent_encoded_and_decode_to_the_path():
    cut_list, probes = _cut_list(Fraction(25), [(n, Fraction(25)) for n in NASTY_NAMES], [5] * len(NASTY_NAMES))
    root = ET.fromstring(fcpxml.write_to_string(build_timeline(cut_list, media=probes)))
    srcs = [rep.get("src") for rep in root.iter("media-rep")]
    for src in srcs:
        assert src.startswith("file:///") and " " not in src and "#" not in src[8:] and "&" not in src
    assert {media_path(s) for s in srcs} == set(probes)


@pytest.mark.parametrize("rate", [Fraction(24), Fraction(25)], ids=str)
def test_official_fcpx_xml_reader_reads_our_fcpxml(rate, tmp_path):
    """The official reader (works at integer rates only) sees our clips at the same frames.
    It ignores tcStart (leading gap of one hour) and does not read 1.9 media-reps."""
    pytest.importorskip("otio_fcpx_xml_adapter")
    cut_list, probes = _cut_list(rate, [("a.mov", rate), ("b 2.mov", rate)], [11, 13, 9])
    text = fcpxml.write_to_string(build_timeline(cut_list, media=probes))
    result = otio.adapters.read_from_string(text, adapter_name="fcpx_xml")
    timeline = result[0] if not isinstance(result, otio.schema.Timeline) else result
    video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    clips = [(c, c.range_in_parent()) for c in video if isinstance(c, otio.schema.Clip)]
    assert len(clips) == len(cut_list.cuts)
    for (clip, record), cut in zip(clips, cut_list.cuts):
        assert record.start_time.to_frames() == ONE_HOUR[rate] + cut.record_in
        assert record.duration.to_frames() == cut.record_frames
        camera = cut.source_path == cut_list.cuts[0].source_path  # the file with a start timecode
        assert clip.source_range.start_time.to_frames() == cut.source_in + (ONE_HOUR[rate] if camera else 0)
    markers = [m for c, _ in clips for m in c.markers]
    assert len(markers) == len(cut_list.beats) + len(cut_list.downbeats) + len(cut_list.sections)


# ---------------------------------------------------------------------------- FCP7 XML
@pytest.mark.parametrize("rate,timebase,ntsc", [(Fraction(24), 24, False), (Fraction(25), 25, False),
                                                (NTSC24, 24, True), (NTSC30, 30, True), (NTSC60, 60, True)], ids=str)
def test_xmeml_rates_are_timebase_and_ntsc(rate, timebase, ntsc):
    cut_list, probes = _cut_list(rate, [("a.mov", rate)], [5])
    root = ET.fromstring(fcp7_xml.write_to_string(build_timeline(cut_list, media=probes)))
    seq = root.find("sequence")
    assert seq.find("rate/timebase").text == str(timebase)
    assert seq.find("rate/ntsc").text == ("TRUE" if ntsc else "FALSE")
    assert seq.find("timecode/string").text == "01:00:00:00"
    assert seq.find("timecode/frame").text == str(ONE_HOUR[rate])


def test_xmeml_defines_each_file_once_then_refers_to_it(tmp_path):
    cut_list, probes = _cut_list(NTSC24, [("a b.mov", NTSC24), ("c.mov", NTSC24)], [5, 6, 7, 8])
    root = ET.fromstring(fcp7_xml.write_to_string(build_timeline(cut_list, media=probes)))
    files = root.findall(".//clipitem/file")
    full = [f for f in files if len(f)]
    assert [f.get("id") for f in full] == ["file-1", "file-2", "file-3"]  # a b.mov, c.mov, the song
    assert [f.get("id") for f in files if not len(f)] == ["file-1", "file-2", "file-3"]  # the song's channel 2
    assert full[0].find("pathurl").text == "file://localhost/media/project/a%20b.mov"
    assert full[0].find("timecode/string").text == "01:00:00:00"  # the camera file's own start


def test_xmeml_carries_both_channels_of_a_stereo_song_on_linked_tracks():
    cut_list, probes = _cut_list(NTSC24, [("a.mov", NTSC24)], [20])
    root = ET.fromstring(fcp7_xml.write_to_string(build_timeline(cut_list, media=probes)))
    tracks = root.findall("sequence/media/audio/track")
    assert [t.find("outputchannelindex").text for t in tracks] == ["1", "2"]
    left, right = (t.find("clipitem") for t in tracks)
    assert [c.find("sourcetrack/trackindex").text for c in (left, right)] == ["1", "2"]
    for item in (left, right):
        assert [l.find("linkclipref").text for l in item.findall("link")] == [left.get("id"), right.get("id")]
    assert (left.find("start").text, left.find("end").text) == (right.find("start").text, right.find("end").text)
    # Read back, the song is one clip on A1, not two.
    assert len(cut_list_from_timeline(fcp7_xml.read_from_string(ET.tostring(root, encoding="unicode"))).cuts) == 1


def test_xmeml_refuses_rates_it_cannot_express(caplog):
    cut_list, probes = _cut_list(Fraction(25, 2), [("slow.mov", Fraction(25, 2))], [5])
    with pytest.raises(InterchangeError, match="25/2"):
        fcp7_xml.write_to_string(build_timeline(cut_list, media=probes))
    # A 12.5 fps clip in a 25 fps sequence is left out with the reason; the rest is written.
    cut_list, probes = _cut_list(Fraction(25), [("slow.mov", Fraction(25, 2)), ("b.mov", Fraction(25))], [5, 7, 9])
    with caplog.at_level("WARNING"):
        root = ET.fromstring(fcp7_xml.write_to_string(build_timeline(cut_list, media=probes)))
    names = [i.findtext("file/name") or "" for i in root.findall(".//video/track/clipitem")]
    assert len(names) == 1 and "slow.mov" in caplog.text and "25/2" in caplog.text


@pytest.mark.parametrize("rate", RATES, ids=str)
def test_official_fcp_xml_reader_reads_our_xmeml_frame_exact(rate):
    pytest.importorskip("otio_fcp_adapter")
    cut_list, probes = _cut_list(rate, [("a 1.mov", rate), ("b&c.mov", rate)], [11, 13, 9, 30])
    text = fcp7_xml.write_to_string(build_timeline(cut_list, media=probes))
    timeline = otio.adapters.read_from_string(text, adapter_name="fcp_xml")
    assert timeline.global_start_time.to_frames() == ONE_HOUR[rate]
    clips = list(timeline.video_tracks()[0].find_clips())
    assert len(clips) == len(cut_list.cuts)
    for clip, cut in zip(clips, cut_list.cuts):
        record = clip.range_in_parent()
        assert (record.start_time.to_frames(), record.duration.to_frames()) == (cut.record_in, cut.record_frames)
        start_tc = ONE_HOUR[rate] if cut.source_path.endswith("a 1.mov") else 0
        assert clip.source_range.start_time.to_frames() == start_tc + cut.source_in
        assert media_path(clip.media_reference.target_url.replace("file://localhost", "file://")) == cut.source_path
    music = list(timeline.audio_tracks()[0].find_clips())
    assert len(music) == 1 and music[0].duration().to_frames() == cut_list.music_duration
    assert len(timeline.tracks.markers) == len(cut_list.beats) + len(cut_list.downbeats) + len(cut_list.sections)


def test_official_fcp_xml_reader_reads_our_mixed_rate_xmeml():
    pytest.importorskip("otio_fcp_adapter")
    cut_list, probes = _mixed()
    timeline = otio.adapters.read_from_string(fcp7_xml.write_to_string(build_timeline(cut_list, media=probes)),
                                              adapter_name="fcp_xml")
    for clip, cut in zip(timeline.video_tracks()[0].find_clips(), cut_list.cuts):
        record = clip.range_in_parent()
        assert round(record.start_time.value * float(NTSC24) / record.start_time.rate) == cut.record_in
        # Premiere's layout: the clipitem counts at the sequence rate; its in point is the
        # first sequence frame that shows the cut's first source frame.
        assert clip.source_range.start_time.rate == pytest.approx(float(NTSC24))
        assert clip.source_range.duration.to_frames() == cut.record_frames


# Mixed-rate cases, each as Premiere writes it: (sequence rate, source rate, zero-based source in).
MIXED_CASES = [(NTSC24, Fraction(25), 5), (NTSC24, NTSC60, 330), (NTSC24, NTSC30, 7), (Fraction(25), NTSC24, 11),
               (NTSC30, NTSC24, 13), (Fraction(25), Fraction(50), 99), (NTSC60, Fraction(24), 17)]


@pytest.mark.parametrize("seq_rate,src_rate,source_in", MIXED_CASES, ids=lambda v: str(v))
def test_xmeml_clipitems_count_at_the_sequence_rate_as_premiere_writes_them(seq_rate, src_rate, source_in):
    cut_list, probes = _cut_list(seq_rate, [("other rate.mov", src_rate)], [20], ins=[source_in])
    text = fcp7_xml.write_to_string(build_timeline(cut_list, media=probes))
    item = ET.fromstring(text).find(".//video/track/clipitem")
    timebase, ntsc = fcp7_xml.timebase_of(seq_rate)
    assert (item.findtext("rate/timebase"), item.findtext("rate/ntsc")) == (str(timebase), "TRUE" if ntsc else "FALSE")
    clip_in, clip_out = int(item.findtext("in")), int(item.findtext("out"))
    # The first sequence frame that shows the cut's first source frame (or a later one, when a
    # faster source's frame falls between two sequence frames: only the ticks can say it).
    assert clip_in == math.ceil(Fraction(source_in) * seq_rate / src_rate)
    expressible = (Fraction(source_in) * seq_rate / src_rate).denominator == 1 or src_rate <= seq_rate
    if expressible:
        assert math.floor(Fraction(clip_in) * src_rate / seq_rate) == source_in
    assert clip_out - clip_in == 20
    # Premiere's ticks carry the exact source time; the file keeps its own rate and timecode.
    assert Fraction(int(item.findtext("pproTicksIn")), fcp7_xml.PPRO_TICKS) == Fraction(source_in) / src_rate
    assert item.find("file/rate/timebase").text == str(fcp7_xml.timebase_of(src_rate)[0])
    # Our reader brings back the source frame exactly (with and without the ticks).
    assert fcp7_xml.read_edit(text).video[0][0].source_in - fcp7_xml.read_edit(text).video[0][0].source.start == source_in
    no_ticks = text.replace("pproTicksIn", "ignoredTicksIn")
    assert not expressible or fcp7_xml.read_edit(no_ticks).video[0][0].source_in - fcp7_xml.read_edit(no_ticks).video[0][0].source.start \
        == source_in


def test_the_demos_5994_slow_motion_in_point_reads_inside_the_file():
    """The demo's 59.94 clip at source frame 330 (5.5 s of a 7 s file) in a 23.976 sequence: at the
    sequence rate <in> is 132 (5.5 s), not 330 (13.8 s)."""
    cut_list, probes = _cut_list(NTSC24, [("slow 60.mov", NTSC60)], [24], ins=[330])
    item = ET.fromstring(fcp7_xml.write_to_string(build_timeline(cut_list, media=probes))).find(".//clipitem")
    assert int(item.findtext("in")) == 132


def test_xmeml_for_resolve_leaves_the_file_duration_empty():
    cut_list, probes = _mixed()
    timeline = build_timeline(cut_list, media=probes)
    resolve = ET.fromstring(fcp7_xml.write_to_string(timeline, for_app="resolve"))
    files = [f for f in resolve.iter("file") if len(f)]
    assert files and all(f.find("duration") is not None and not (f.find("duration").text or "").strip()
                         for f in files)
    premiere = ET.fromstring(fcp7_xml.write_to_string(timeline))
    assert all(int(f.findtext("duration")) > 0 for f in premiere.iter("file") if len(f))
    # Our reader takes the length from the clipitem when the file's is empty.
    assert cut_list_from_timeline(fcp7_xml.read_from_string(fcp7_xml.write_to_string(timeline, for_app="resolve"))) \
        == cut_list


# ---------------------------------------------------------------------------- EDL
def test_edl_header_timecodes_reels_and_the_one_track_note():
    cut_list, probes = _cut_list(NTSC24, [("A cam 01.mov", NTSC24), ("pal 25.mp4", Fraction(25)),
                                          ("A cam 01 (2).mov", NTSC24)], [24, 25, 12])
    text = edl.write_to_string(build_timeline(cut_list, media=probes))
    lines = text.splitlines()
    assert lines[:2] == ["TITLE: Rough cut ü & <co>", "FCM: NON-DROP FRAME"]
    events = [l for l in lines if l[:3].isdigit()]
    assert events[0].split()[1:] == ["ACAM01", "V", "C", "01:00:00:00", "01:00:01:00", "01:00:00:00", "01:00:01:00"]
    # 25 fps source timecode in its own rate; record timecode continues on the timeline's grid.
    assert events[1].split()[4:] == ["00:00:00:03", "00:00:01:04", "01:00:01:00", "01:00:02:01"]
    reels = [e.split()[1] for e in events]
    assert all(len(r) <= 8 and r.isalnum() and r.isupper() for r in reels) and len(set(reels)) == 3
    assert any("carries one video track only" in l and "not A1" in l for l in lines)


def test_official_cmx_3600_reader_reads_our_single_rate_edl():
    pytest.importorskip("otio_cmx3600_adapter")
    cut_list, probes = _cut_list(Fraction(25), [("a.mov", Fraction(25)), ("b.mov", Fraction(25))], [10, 20, 30])
    text = edl.write_to_string(build_timeline(cut_list, media=probes))
    timeline = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=25)
    clips = list(timeline.video_tracks()[0].find_clips())
    assert [c.range_in_parent().duration.to_frames() for c in clips] == [10, 20, 30]
    assert [c.source_range.start_time.to_frames() for c in clips] == [
        c.source_in + (ONE_HOUR[Fraction(25)] if c.source_path.endswith("a.mov") else 0) for c in cut_list.cuts]
    assert [c.media_reference.target_url for c in clips] == [c.source_path for c in cut_list.cuts]


# ---------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt", ["fcpxml", "premiere", "otio"])
@pytest.mark.parametrize("rate", RATES, ids=str)
def test_round_trip_through_our_reader_is_frame_exact(fmt, rate, tmp_path):
    cut_list, probes = _cut_list(rate, [("a 1.mov", rate), ("b&c #2.mov", rate)], [11, 13, 9, 30])
    back, _ = _round_trip(cut_list, probes, fmt, tmp_path)
    assert back == cut_list


@pytest.mark.parametrize("fmt", ["fcpxml", "premiere", "edl"])
def test_mixed_rate_round_trip_is_frame_exact(fmt, tmp_path):
    cut_list, probes = _mixed()
    back, _ = _round_trip(cut_list, probes, fmt, tmp_path)
    assert back == (_video_only(cut_list) if fmt == "edl" else cut_list)
    assert [c.source_rate for c in back.cuts] == [c.source_rate for c in cut_list.cuts]


@pytest.mark.parametrize("rate", RATES, ids=str)
def test_edl_round_trip_keeps_the_video_track_frame_exact(rate, tmp_path):
    cut_list, probes = _cut_list(rate, [("a.mov", rate), ("b.mov", rate)], [11, 13, 9])
    back, _ = _round_trip(cut_list, probes, "edl", tmp_path)
    assert back == _video_only(cut_list)


@pytest.mark.parametrize("clips", [1, 2, 2000])
@pytest.mark.parametrize("fmt", ["fcpxml", "premiere", "edl"])
def test_one_two_and_two_thousand_clips(clips, fmt, tmp_path):
    lengths = [5 + (i * 7) % 40 for i in range(clips)]
    cut_list, probes = _cut_list(NTSC30, [("a.mov", NTSC30), ("b.mov", Fraction(25)), ("c.mov", NTSC60)], lengths)
    back, path = _round_trip(cut_list, probes, fmt, tmp_path)
    assert back == (_video_only(cut_list) if fmt == "edl" else cut_list)
    assert len(back.cuts) == clips


@pytest.mark.parametrize("fmt", ["fcpxml", "premiere"])
def test_markers_survive_with_kind_colour_and_length(fmt, tmp_path):
    cut_list, probes = _mixed()
    path = export_path(tmp_path / "cut.otio", fmt)
    export_timeline(build_timeline(cut_list, media=probes), path, fmt)
    timeline = read_timeline(path)
    markers = timeline.tracks.markers
    assert len(markers) == len(cut_list.beats) + len(cut_list.downbeats) + len(cut_list.sections)
    colours = {m.metadata["montage_ai"]["kind"]: m.color for m in markers}
    assert colours == {"beat": "BLUE", "downbeat": "RED", "section": "GREEN"}
    chorus = next(m for m in markers if m.name.startswith("chorus"))
    assert chorus.marked_range.duration.to_frames() == cut_list.sections[1].end - cut_list.sections[1].start


# ---------------------------------------------------------------------------- fuzzing
_NAME_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\\x00")


@settings(max_examples=40, deadline=None)
@given(names=st.lists(st.text(_NAME_CHARS, min_size=1, max_size=24).filter(lambda s: s.strip(" .") == s and s),
                      min_size=1, max_size=4, unique=True),
       lengths=st.lists(st.integers(1, 500), min_size=1, max_size=8),
       ins=st.lists(st.integers(0, 5000), min_size=8, max_size=8),
       rate=st.sampled_from(RATES))
def test_fuzzed_names_and_ranges_round_trip_in_every_format(names, lengths, ins, rate):
    cut_list, probes = _cut_list(rate, [(n + ".mov", rate) for n in names], lengths, ins=ins)
    timeline = build_timeline(cut_list, media=probes)
    for module, expected in ((fcpxml, cut_list), (fcp7_xml, cut_list), (edl, _video_only(cut_list))):
        text = module.write_to_string(timeline)
        if module is not edl:
            ET.fromstring(text)  # well-formed whatever the names hold
        assert cut_list_from_timeline(module.read_from_string(text)) == expected, module.__name__


# ---------------------------------------------------------------------------- files, plugins, CLI
def test_export_is_atomic_and_never_overwrites(tmp_path):
    cut_list, probes = _mixed()
    timeline = build_timeline(cut_list, media=probes)
    path = tmp_path / "cut.fcpxml"
    path.write_text("the editor's file")
    with pytest.raises(OutputExistsError):
        export_timeline(timeline, path, "fcpxml")
    assert path.read_text() == "the editor's file"
    export_timeline(timeline, path, "fcpxml", overwrite=True)
    assert path.read_text().startswith("<?xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.fcpxml"]  # no temporary file left


def test_otioz_bundles_the_timeline(tmp_path):
    from montage_ai.core.samples.framecode import render_framecode

    clip = tmp_path / "clip one.mp4"
    render_framecode(str(clip), 24, rate=Fraction(24), size=(64, 36))
    from montage_ai.core.media.probe import probe

    cut_list = CutList(rate=Fraction(24), width=64, height=36, duration=10,
                       cuts=(Cut(0, 10, str(clip), Fraction(24), 2, 0, 1.0, "setup", "only"),), music_path="",
                       music_duration=0, start_frames=86400)
    timeline = build_timeline(cut_list, media={str(clip): probe(str(clip))})
    path = export_timeline(timeline, tmp_path / "out" / "cut.otioz", "otioz")
    (tmp_path / "x").mkdir()
    back = otio.adapters.read_from_file(str(path), extract_to_directory=str(tmp_path / "x"))
    assert len(list(back.find_clips())) == 1
    bundled = list((tmp_path / "x" / "media").iterdir())
    assert [p.name for p in bundled] == ["clip one.mp4"] and bundled[0].read_bytes() == clip.read_bytes()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["cut.otioz"]


def test_adapters_are_registered_as_otio_plugins():
    manifest = otio.plugins.ActiveManifest()
    for fmt in ("fcpxml", "premiere", "edl"):
        adapter = manifest.from_name(FORMATS[fmt].adapter)
        assert FORMATS[fmt].suffix.lstrip(".") in adapter.suffixes
        assert callable(adapter.module().write_to_string) and callable(adapter.module().read_from_string)


def test_otioconvert_picks_our_adapters_by_suffix(tmp_path):
    """With only our plugin installed (the product's install: the official adapters are a dev
    extra), ``otioconvert -o cut.fcpxml`` writes our FCPXML through the entry point."""
    cut_list, probes = _mixed()
    src = tmp_path / "cut.otio"
    export_timeline(build_timeline(cut_list, media=probes), src, "otio")
    script = (
        "import sys, opentimelineio.plugins.manifest as m\n"
        "eps = m.plugin_entry_points\n"
        "m.plugin_entry_points = lambda: [e for e in eps() if e.value == 'montage_ai.otio_adapters']\n"
        "from opentimelineio.console import otioconvert\n"
        "sys.argv = ['otioconvert'] + sys.argv[1:]\n"
        "otioconvert.main()\n")
    for suffix, fmt in ((".fcpxml", "fcpxml"), (".xml", "premiere"), (".edl", "edl")):
        out = tmp_path / f"converted{suffix}"
        subprocess.run([sys.executable, "-c", script, "-i", str(src), "-o", str(out)], check=True)
        assert cut_list_from_timeline(read_timeline(out, fmt)) == (_video_only(cut_list) if fmt == "edl" else cut_list)
    assert "com.montage-ai.clip" in (tmp_path / "converted.fcpxml").read_text()


def test_cli_export_writes_each_format_and_refuses_to_overwrite(tmp_path, capsys):
    from montage_ai.ui.cli.main import main

    cut_list, probes = _mixed()
    src = tmp_path / "cut.otio"
    export_timeline(build_timeline(cut_list, media=probes), src, "otio")
    assert main(["export", str(src), "--to", "fcpxml", "--to", "premiere", "--to", "edl"]) == 0
    for suffix in (".fcpxml", ".xml", ".edl"):
        assert (tmp_path / f"cut{suffix}").exists()
    assert main(["export", str(src), "--to", "fcpxml", "-o", str(tmp_path / "v11.fcpxml"), "--fcpxml-version", "1.11"]) == 0
    assert ET.parse(tmp_path / "v11.fcpxml").getroot().get("version") == "1.11"
    capsys.readouterr()
    assert main(["export", str(src), "--to", "edl"]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["export", str(src), "--to", "edl", "--force"]) == 0
    assert main(["export", str(tmp_path / "cut.xml"), "--to", "otio", "-o", str(tmp_path / "from premiere.otio")]) == 0
    assert cut_list_from_timeline(read_timeline(tmp_path / "from premiere.otio")) == cut_list


def test_reading_a_file_that_is_not_ours_names_the_problem(tmp_path):
    bad = tmp_path / "cut.fcpxml"
    bad.write_text("<fcpxml version='1.9'><resources/></fcpxml>")
    with pytest.raises(ValueError, match=r"cut\.fcpxml.*no project"):
        read_timeline(bad)
    with pytest.raises(InterchangeError, match="not well-formed"):
        fcp7_xml.read_edit("<xmeml><sequence>")
    with pytest.raises(InterchangeError, match="FRAME RATE"):
        edl.read_edit("TITLE: x\nFCM: NON-DROP FRAME\n001  AX V C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n")
