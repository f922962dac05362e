"""Drop-frame timecode as the camera wrote it, --drop-frame timelines, camera audio off unless
asked for (then linked), Resolve's import rules, and the export command's options."""

from __future__ import annotations

import logging
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from fractions import Fraction

import opentimelineio as otio
import pytest

from montage_ai.core.base.timebase import timecode_to_frames
from montage_ai.core.model.timeline import build_timeline, cut_list_from_timeline
from montage_ai.otio_adapters import edl, fcp7_xml, fcpxml
from montage_ai.otio_adapters.edit import InterchangeError, set_timeline_options
from montage_ai.otio_adapters.export import export_timeline, read_timeline
from montage_ai.ui.cli.main import main
from test_interchange import DTD_DIR, NTSC24, NTSC30, NTSC60, _cut_list, _mixed

ONE_HOUR_DF = timecode_to_frames("01:00:00;00", NTSC30)


def _df_camera(rate=NTSC30):
    """A 29.97 timeline whose first source is a camera file with drop-frame timecode 01:00:00;00."""
    cut_list, probes = _cut_list(rate, [("cam df.mov", NTSC30), ("b.mov", NTSC30)], [30, 20], ins=[3, 4])
    cam = cut_list.cuts[0].source_path
    probes[cam] = replace(probes[cam], start_timecode="01:00:00;00")
    return cut_list, probes


def test_drop_frame_camera_timecode_stays_drop_frame_in_every_format():
    cut_list, probes = _df_camera()
    timeline = build_timeline(cut_list, media=probes)
    xmeml = ET.fromstring(fcp7_xml.write_to_string(timeline))
    cam_file = next(f for f in xmeml.iter("file") if f.findtext("name") == "cam df.mov")
    assert cam_file.findtext("timecode/displayformat") == "DF"
    assert cam_file.findtext("timecode/string") == "01:00:00;00"
    assert int(cam_file.findtext("timecode/frame")) == ONE_HOUR_DF
    other = next(f for f in xmeml.iter("file") if f.findtext("name") == "b.mov")
    assert other.findtext("timecode/displayformat") == "NDF"
    doc = ET.fromstring(fcpxml.write_to_string(timeline))
    clips = doc.findall(".//spine/asset-clip")
    assert [c.get("tcFormat") for c in clips] == ["DF", "NDF"]
    # Frame counts are right too, and the flag comes back through our readers.
    for module in (fcp7_xml, fcpxml):
        edit = module.read_edit(module.write_to_string(timeline))
        assert edit.video[0][0].source.drop_frame and not edit.video[0][1].source.drop_frame
        assert edit.video[0][0].source_in == ONE_HOUR_DF + 3
        assert cut_list_from_timeline(module.read_from_string(module.write_to_string(timeline))).cuts == cut_list.cuts


@pytest.mark.parametrize("rate", [NTSC30, NTSC60], ids=str)
def test_drop_frame_timeline_in_every_format(rate, tmp_path):
    cut_list, probes = _cut_list(rate, [("a.mov", rate)], [40, 30])
    timeline = set_timeline_options(build_timeline(cut_list, media=probes), drop_frame=True)
    start = timecode_to_frames("01:00:00;00", rate)
    assert timeline.global_start_time.value == start  # the hour keeps its label
    seq = ET.fromstring(fcp7_xml.write_to_string(timeline)).find("sequence")
    assert (seq.findtext("timecode/string"), seq.findtext("timecode/displayformat")) == ("01:00:00;00", "DF")
    doc = ET.fromstring(fcpxml.write_to_string(timeline))
    sequence = doc.find(".//sequence")
    assert sequence.get("tcFormat") == "DF"
    assert fcpxml.parse_time(sequence.get("tcStart")) == Fraction(start) / rate
    text = edl.write_to_string(timeline)
    assert "FCM: DROP FRAME" in text and "01:00:00;00" in text
    for module in (fcp7_xml, fcpxml, edl):
        back = module.read_from_string(module.write_to_string(timeline))
        assert back.metadata["montage_ai"].get("drop_frame") is True, module.__name__
        assert back.global_start_time.value == start
    if shutil.which("xmllint"):
        path = tmp_path / "df.fcpxml"
        path.write_text(fcpxml.write_to_string(timeline), encoding="utf-8")
        subprocess.run(["xmllint", "--noout", "--dtdvalid", str(DTD_DIR / "FCPXMLv1_9.dtd"), str(path)], check=True)


def test_drop_frame_is_refused_for_rates_without_it():
    cut_list, probes = _cut_list(Fraction(25), [("a.mov", Fraction(25))], [10])
    with pytest.raises(InterchangeError, match="29.97 and 59.94"):
        set_timeline_options(build_timeline(cut_list, media=probes), drop_frame=True)


def test_camera_audio_is_off_in_every_format_by_default():
    cut_list, probes = _mixed()
    timeline = build_timeline(cut_list, media=probes)
    doc = ET.fromstring(fcpxml.write_to_string(timeline))
    assert all(c.get("srcEnable") == "video" for c in doc.findall(".//spine/asset-clip"))
    xmeml = ET.fromstring(fcp7_xml.write_to_string(timeline))
    audio_items = xmeml.findall(".//media/audio/track/clipitem")
    assert {i.findtext("file/name") or "" for i in audio_items} <= {"", "song ü.wav"}
    assert all(line.split()[2] == "V" for line in edl.write_to_string(timeline).splitlines() if line[:3].isdigit())
    assert len(timeline.audio_tracks()) == 1  # the music only


def test_camera_audio_on_request_is_carried_and_linked_in_every_format(tmp_path):
    cut_list, probes = _mixed()
    timeline = set_timeline_options(build_timeline(cut_list, media=probes), camera_audio=True)
    doc = ET.fromstring(fcpxml.write_to_string(timeline))
    assert all(c.get("srcEnable", "all") == "all" for c in doc.findall(".//spine/asset-clip"))
    root = ET.fromstring(fcp7_xml.write_to_string(timeline))
    ids = {i.get("id"): i for i in root.iter("clipitem")}
    video = root.findall(".//media/video/track")[0].findall("clipitem")
    for item in video:
        refs = [l.findtext("linkclipref") for l in item.findall("link")]
        assert refs[0] == item.get("id") and len(refs) == 3  # itself and its two channels
        for ref in refs[1:]:
            sound = ids[ref]
            assert (sound.findtext("start"), sound.findtext("end"), sound.findtext("in")) == \
                (item.findtext("start"), item.findtext("end"), item.findtext("in"))
            assert [l.findtext("linkclipref") for l in sound.findall("link")] == refs
    events = [l.split() for l in edl.write_to_string(timeline).splitlines() if l[:3].isdigit()]
    assert all(e[2] == "AA/V" for e in events)
    official = otio.adapters.read_from_string(edl.write_to_string(timeline), adapter_name="cmx_3600",
                                              rate=float(NTSC24))
    assert len(official.video_tracks()[0].find_clips()) == len(cut_list.cuts)
    out = export_timeline(timeline, tmp_path / "cut.otio", "otio")
    tracks = otio.adapters.read_from_file(str(out)).audio_tracks()
    assert [t.name for t in tracks] == ["A1", "Camera audio"]
    assert len(tracks[1].find_clips()) == len(cut_list.cuts)
    assert cut_list_from_timeline(read_timeline(out)) == cut_list


def test_fcpxml_1_11_is_offered_with_a_warning_naming_resolve(caplog, tmp_path, capsys):
    cut_list, probes = _mixed()
    timeline = build_timeline(cut_list, media=probes)
    with caplog.at_level(logging.WARNING):
        fcpxml.write_to_string(timeline, version="1.11")
    assert "Resolve 18.5" in caplog.text
    source = export_timeline(timeline, tmp_path / "cut.otio", "otio")
    assert main(["export", str(source), "--to", "fcpxml", "--fcpxml-version", "1.11"]) == 0
    out = capsys.readouterr()
    assert "FCPXML 1.11" in out.out and "FCPXML 1.9" not in out.out
    assert "Resolve 18.5" in out.err


def test_export_command_drop_frame_camera_audio_and_edl_rate(tmp_path, capsys):
    cut_list, probes = _cut_list(NTSC30, [("a.mov", NTSC30)], [40, 30])
    source = export_timeline(build_timeline(cut_list, media=probes), tmp_path / "cut.otio", "otio")
    assert main(["export", str(source), "--to", "edl", "--to", "premiere", "--drop-frame", "--camera-audio"]) == 0
    text = (tmp_path / "cut.edl").read_text()
    assert "FCM: DROP FRAME" in text and " AA/V " in text
    assert main(["export", str(source), "--to", "edl", "--drop-frame", "-o", str(tmp_path / "x.edl")]) == 0
    plain = "\n".join(l for l in (tmp_path / "x.edl").read_text().splitlines() if not l.startswith("*"))
    (tmp_path / "plain.edl").write_text(plain)
    assert main(["export", str(tmp_path / "plain.edl"), "--to", "otio", "-o", str(tmp_path / "p.otio")]) == 1
    assert "--rate" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "plain.edl"), "--rate", "29.97", "--to", "otio",
                 "-o", str(tmp_path / "p.otio")]) == 0
    cut = otio.adapters.read_from_file(str(tmp_path / "p.otio"))
    assert [c.duration().to_frames() for c in cut.find_clips()] == [40, 30]
    pal = export_timeline(build_timeline(*_cut_list(Fraction(25), [("p.mov", Fraction(25))], [5])[:1],
                                         media=_cut_list(Fraction(25), [("p.mov", Fraction(25))], [5])[1]),
                          tmp_path / "pal.otio", "otio")
    assert main(["export", str(pal), "--to", "edl", "--drop-frame"]) == 1
    assert "29.97 and 59.94" in capsys.readouterr().err


def test_probe_takes_timecode_from_the_video_or_tmcd_stream_only():
    from montage_ai.core.media.probe import _timecode

    rtmd = {"codec_type": "data", "codec_tag_string": "rtmd", "tags": {"timecode": "13:37:00:00"}}
    video = {"codec_type": "video", "codec_tag_string": "avc1", "tags": {}}
    tmcd = {"codec_type": "data", "codec_tag_string": "tmcd", "tags": {"timecode": "01:00:00;00"}}
    assert _timecode({"format": {}, "streams": [video, rtmd]}) is None
    assert _timecode({"format": {}, "streams": [video, rtmd, tmcd]}) == "01:00:00;00"
    tagged_video = {**video, "tags": {"timecode": "02:00:00:00"}}
    assert _timecode({"format": {}, "streams": [rtmd, tagged_video, tmcd]}) == "02:00:00:00"
    assert _timecode({"format": {"tags": {"timecode": "03:00:00:00"}}, "streams": [rtmd]}) == "03:00:00:00"


def test_otio_for_resolve_has_clip_local_markers_on_the_covering_v1_clip(tmp_path):
    cut_list, probes = _mixed()
    out = export_timeline(build_timeline(cut_list, media=probes), tmp_path / "cut.otio", "otio")
    timeline = otio.adapters.read_from_file(str(out))
    v1 = timeline.video_tracks()[0]
    copies = 0
    for index, clip in enumerate(v1):
        record = v1.range_of_child_at_index(index)
        for marker in clip.markers:
            copies += 1
            assert marker.metadata["montage_ai"]["copy_of"] == "timeline"
            # inside the clip: it starts in the clip's source range and ends before the clip does
            start = marker.marked_range.start_time
            assert clip.source_range.start_time.value <= start.value
            offset = (start.value - clip.source_range.start_time.value) / start.rate
            assert offset + marker.marked_range.duration.value / marker.marked_range.duration.rate \
                < record.duration.value / record.duration.rate
    assert copies == len(timeline.tracks.markers) > 0
    # Our reader still reads the timeline's markers, once.
    back = cut_list_from_timeline(read_timeline(out))
    assert (back.beats, back.downbeats, back.sections) == (cut_list.beats, cut_list.downbeats, cut_list.sections)


def test_notes_and_marker_comments_read_as_text_in_the_nle():
    cut_list, probes = _mixed()
    cuts = tuple(replace(c, reason=f"{c.phase}: chosen for its motion") for c in cut_list.cuts)
    cut_list = replace(cut_list, cuts=cuts)
    timeline = build_timeline(cut_list, media=probes)
    xmeml = ET.fromstring(fcp7_xml.write_to_string(timeline))
    notes = [d.text for d in xmeml.iter("description")]
    assert notes and all(n.count(":") == 1 for n in notes)  # "setup: chosen ...", not "setup: setup: ..."
    comments = [m.findtext("comment") for m in xmeml.iter("marker")]
    assert comments and not any("{" in c for c in comments)
    doc = ET.fromstring(fcpxml.write_to_string(timeline))
    assert all(n.text.count(":") == 1 for n in doc.iter("note"))
    assert not any("{" in m.get("note") for m in doc.iter("marker"))
    # ... and our readers still bring every marker back with its data.
    for module in (fcp7_xml, fcpxml):
        back = cut_list_from_timeline(module.read_from_string(module.write_to_string(timeline)))
        assert (back.beats, back.downbeats, back.sections) == (cut_list.beats, cut_list.downbeats, cut_list.sections)
