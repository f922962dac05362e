"""Music fitted to the picture: A1 ends with V1 in every format, with a real fade, at every
NTSC rate; the part of the song chosen; the cut's end on a phrase or bar; clear errors.

Every file is read back with the official OTIO readers (``fcp_xml``, ``fcpx_xml``,
``cmx_3600``) as well as ours.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

import opentimelineio as otio
import pytest

from montage_ai.core.analysis.music import beat_frames
from montage_ai.core.cut.assembly import assemble
from montage_ai.core.cut.fit import DurationError, SongRangeError, fit_duration, song_excerpt
from montage_ai.core.model.timeline import build_timeline, cut_list_from_timeline
from montage_ai.core.plan.planner import RulesPlanner, make_request
from montage_ai.core.plan.styles import load_style
from montage_ai.otio_adapters.export import export_timeline, read_timeline
from test_interchange import _music_probe
from test_planner import music, varied_footage

NTSC = [Fraction(24000, 1001), Fraction(30000, 1001), Fraction(48000, 1001), Fraction(60000, 1001)]
FORMATS = [("otio", ".otio"), ("fcpxml", ".fcpxml"), ("premiere", ".xml"), ("edl", ".edl")]


def _cut(rate: Fraction, *, duration_s=17.4, m=None, style="dynamic", seed=0):
    shots = varied_footage(rate=rate, files=4, frames=int(rate * 5))
    m = music() if m is None else m
    st = load_style(style)
    plan = RulesPlanner().plan(make_request(shots, m, st, seed=seed, duration_s=duration_s))
    cl = assemble(plan, shots, m, st, seed=seed, duration_s=duration_s)
    media = {a.path: a.media for a in shots}
    media[m.path] = _music_probe(m.path, float(getattr(m, "song_duration_s", 0) or m.duration_s))
    return cl, build_timeline(cl, media=media)


def _a1_v1_ends(timeline: otio.schema.Timeline) -> tuple[float, float, float]:
    """(V1 end, A1 end, one frame) in seconds, from any reader's timeline."""
    video = timeline.video_tracks()[0]
    v_clips = [c for c in video if isinstance(c, otio.schema.Clip)]
    v_end = v_clips[-1].range_in_parent().end_time_exclusive()
    audio = timeline.audio_tracks()
    a_clips = [c for t in audio for c in t if isinstance(c, otio.schema.Clip)]
    a_end = max(c.range_in_parent().end_time_exclusive().to_seconds() for c in a_clips)
    return v_end.to_seconds(), a_end, 1.0 / v_end.rate


@pytest.mark.parametrize("rate", NTSC + [Fraction(25)], ids=str)
def test_a1_ends_with_v1_in_every_format_read_by_ours_and_the_official_readers(rate, tmp_path):
    cl, timeline = _cut(rate)
    assert cl.rate == rate and cl.music_duration == cl.duration and cl.music_fade_out > 0
    for fmt, suffix in FORMATS:
        path = export_timeline(timeline, tmp_path / f"cut{suffix}", fmt)
        back = cut_list_from_timeline(read_timeline(path))
        assert back.duration == cl.duration
        if fmt == "edl":  # one video track: the EDL says so and what it leaves out of the music
            text = path.read_text()
            assert "MUSIC NOT CARRIED" in text and f"fading out over its last {cl.music_fade_out} frames" in text
            continue
        assert back.music_duration == cl.duration and back.music_fade_out == cl.music_fade_out
    text = (tmp_path / "cut.xml").read_text()
    official = otio.adapters.read_from_string(text, adapter_name="fcp_xml")
    v_end, a_end, frame = _a1_v1_ends(official)
    assert abs(a_end - v_end) <= frame + 1e-9
    fcpxml_text = (tmp_path / "cut.fcpxml").read_text()
    if rate.denominator == 1:  # the official FCPXML reader places connected clips right at integer rates only
        result = otio.adapters.read_from_string(fcpxml_text, adapter_name="fcpx_xml")
        fcpx = result if isinstance(result, otio.schema.Timeline) else result[0]
        v_end, a_end, frame = _a1_v1_ends(fcpx)
        assert abs(a_end - v_end) <= frame + 1e-9
    # The FCPXML's own rational times, read as the DTD defines them: A1 (lane -1) ends with the spine.
    root = ET.fromstring(fcpxml_text)
    t = lambda x: Fraction(x.rstrip("s"))
    spine = root.find(".//sequence/spine")
    last = list(spine)[-1]
    v_end = t(last.get("offset")) + t(last.get("duration"))
    song = next(c for c in spine.iter("asset-clip") if c.get("lane") == "-1")
    parent = next(p for p in spine if song in list(p))
    a_end = t(parent.get("offset")) + t(song.get("offset")) - t(parent.get("start", "0s")) + t(song.get("duration"))
    assert abs(a_end - v_end) <= 1 / rate
    edl = otio.adapters.read_from_string((tmp_path / "cut.edl").read_text(), adapter_name="cmx_3600",
                                         rate=float(rate))
    assert abs(edl.video_tracks()[0].duration().to_seconds() - float(cl.duration / rate)) <= float(1 / rate) + 1e-9


def test_fades_are_keyframes_in_fcpxml_and_fcp7(tmp_path):
    rate = Fraction(24000, 1001)
    cl, timeline = _cut(rate)
    fade, end = cl.music_fade_out, cl.duration
    root = ET.fromstring(export_timeline(timeline, tmp_path / "c.fcpxml", "fcpxml").read_text())
    music_clip = next(c for c in root.iter("asset-clip") if c.get("audioRole") == "music")
    keys = music_clip.findall("./adjust-volume/param[@name='amount']/keyframeAnimation/keyframe")
    assert [k.get("value") for k in keys] == ["0dB", "-96dB"]
    tick = lambda t: Fraction(t.rstrip("s")) * rate  # frames of the clip's own time, which starts at 0
    assert [tick(k.get("time")) for k in keys] == [end - fade, end]
    root = ET.fromstring(export_timeline(timeline, tmp_path / "c.xml", "premiere").read_text())
    for item in root.findall("sequence/media/audio/track/clipitem"):
        param = item.find("filter/effect[effectid='audiolevels']/parameter")
        whens = [int(k.find("when").text) for k in param.findall("keyframe")]
        values = [float(k.find("value").text) for k in param.findall("keyframe")]
        out = int(item.find("out").text)
        assert whens == [out - fade, out] and values == [1.0, 0.0]
    # The preview renders the OTIO clip's fade (montage_ai.fade_out_frames) as an afade.
    a1 = timeline.audio_tracks()[0][0]
    assert a1.metadata["montage_ai"]["fade_out_frames"] == fade


@pytest.mark.parametrize("xmllint_version", ["1.9", "1.11"])
def test_fcpxml_with_a_fade_is_valid_against_apples_dtd(xmllint_version, tmp_path):
    import shutil
    import subprocess

    if shutil.which("xmllint") is None:
        pytest.skip("needs xmllint")
    from montage_ai.otio_adapters import fcpxml

    _, timeline = _cut(Fraction(24000, 1001))
    path = export_timeline(timeline, tmp_path / "c.fcpxml", "fcpxml", version=xmllint_version)
    dtd = (fcpxml.DTD_DIR if hasattr(fcpxml, "DTD_DIR") else
           __import__("pathlib").Path(fcpxml.__file__).parent / "dtd") / f"FCPXMLv{xmllint_version.replace('.', '_')}.dtd"
    done = subprocess.run(["xmllint", "--noout", "--dtdvalid", str(dtd), str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_song_plays_from_the_part_chosen_and_ends_with_the_picture(tmp_path):
    m = music()  # sections A (0-16 s), B (16-32 s), C (32-48 s), A (48-60.25 s)
    part = song_excerpt(m, "B", "C")
    assert (part.offset_s, part.duration_s) == (16.0, 32.0) and part.beat_times_s[0] == 0.0
    assert [s.label for s in part.sections] == ["B", "C"]
    cl, timeline = _cut(Fraction(25), duration_s=None, m=part)
    assert cl.music_start == 400 and cl.music_duration == cl.duration == 800
    assert cl.music_fade_out > 0  # the song goes on after C: it fades
    for fmt, suffix in FORMATS[:3]:
        back = cut_list_from_timeline(read_timeline(export_timeline(timeline, tmp_path / f"p{suffix}", fmt)))
        assert (back.music_start, back.music_duration) == (400, 800)
    official = otio.adapters.read_from_string((tmp_path / "p.xml").read_text(), adapter_name="fcp_xml")
    song = next(c for t in official.audio_tracks() for c in t if isinstance(c, otio.schema.Clip))
    assert song.source_range.start_time.to_frames() == 400


def test_song_points_in_seconds_snap_to_a_bar_and_bad_ones_are_named():
    m = music()
    assert song_excerpt(m, "9.1").offset_s == 10.0  # bars every 2 s
    assert song_excerpt(m, "0:30.2").offset_s == 30.0
    with pytest.raises(SongRangeError, match="not a section.*sections: A, B, C"):
        song_excerpt(m, "chorus")
    with pytest.raises(SongRangeError, match="lasts 60.25 s"):
        song_excerpt(m, "75")
    with pytest.raises(SongRangeError, match="not before"):
        song_excerpt(m, "C", "B")


def test_the_end_is_a_phrase_then_a_bar_and_the_songs_own_ending_when_near():
    m = music()  # bars every 2 s, phrases (4 bars) every 8 s, the song ends at 60.25 s
    assert (fit_duration(m, 17.4).duration_s, fit_duration(m, 17.4).fades) == (16.0, True)  # a phrase
    assert fit_duration(m, 14.0).duration_s == 14.0  # 16 is 14 % away: the bar
    assert fit_duration(m, 13.2).duration_s == 14.0
    end = fit_duration(m, 59.0)
    assert (end.duration_s, end.fades) == (60.25, False) and "ends with the song" in end.note


@pytest.mark.parametrize("bad", [-5.0, 0.0, 100.0, 0.5, float("nan")], ids=str)
def test_bad_durations_say_the_range_that_works(bad):
    with pytest.raises(DurationError) as info:
        fit_duration(music(), bad)
    text = str(info.value)
    assert "\n" not in text and "ask for 2.00 to 60.25 s" in text


@pytest.mark.parametrize("rate", NTSC, ids=str)
def test_trimmed_song_lands_on_whole_frames_at_every_ntsc_rate(rate):
    cl, _ = _cut(rate, duration_s=23.0)
    assert cl.music_duration == cl.duration == cl.cuts[-1].record_out
    assert cl.duration in beat_frames(music(), rate, "downbeats")  # 24 s: a phrase, on a whole frame
