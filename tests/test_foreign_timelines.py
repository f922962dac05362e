"""Timelines other tools wrote are read faithfully, or what we cannot carry is named in a
warning (never dropped silently): Premiere-shaped FCP7 XML, Final Cut-shaped FCPXML, a foreign
.otio without media ranges and with a float rate."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from fractions import Fraction

import opentimelineio as otio

from montage_ai.otio_adapters import fcp7_xml, fcpxml
from montage_ai.otio_adapters.export import export_timeline, read_timeline

PREMIERE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE xmeml>
<xmeml version="4">
  <sequence id="sequence-1" TL.SQAudioVisibleBase="0" explodedTracks="true">
    <duration>150</duration>
    <rate><timebase>30</timebase><ntsc>FALSE</ntsc></rate>
    <name>from premiere</name>
    <timecode><rate><timebase>30</timebase><ntsc>FALSE</ntsc></rate><string>00:00:00:00</string>
      <frame>0</frame><displayformat>NDF</displayformat></timecode>
    <media><video>
      <format><samplecharacteristics><width>1280</width><height>720</height></samplecharacteristics></format>
      <track TL.SQTrackShy="0" MZ.TrackName="base">
        <name>base</name>
        <clipitem id="clipitem-1">
          <name>first.mov</name><enabled>TRUE</enabled><duration>100</duration>
          <rate><timebase>30</timebase><ntsc>FALSE</ntsc></rate>
          <start>0</start><end>-1</end><in>10</in><out>60</out>
          <file id="file-1"><name>first.mov</name>
            <pathurl>
                file://localhost/D%3a/media/take%20%231.mov
            </pathurl>
            <rate><timebase>30</timebase><ntsc>FALSE</ntsc></rate><duration>100</duration>
            <media><video><samplecharacteristics><width>1280</width><height>720</height></samplecharacteristics></video></media>
          </file>
        </clipitem>
        <transitionitem><start>40</start><end>60</end><alignment>center</alignment>
          <effect><name>Cross Dissolve</name></effect></transitionitem>
        <clipitem id="clipitem-2">
          <name>pal.mov</name><enabled>FALSE</enabled><duration>150</duration>
          <rate><timebase>30</timebase><ntsc>FALSE</ntsc></rate>
          <start>-1</start><end>100</end><in>30</in><out>80</out>
          <pproTicksIn>254016000000</pproTicksIn>
          <file id="file-2"><name>pal.mov</name><pathurl>file://localhost/media/what%3F.mov</pathurl>
            <rate><timebase>25</timebase><ntsc>FALSE</ntsc></rate><duration>125</duration>
            <media><video><samplecharacteristics><width>1280</width><height>720</height></samplecharacteristics></video></media>
          </file>
        </clipitem>
        <generatoritem id="gen-1"><name>Bars and Tone</name><start>100</start><end>150</end></generatoritem>
        <enabled>TRUE</enabled><locked>FALSE</locked>
      </track>
    </video><audio/></media>
  </sequence>
</xmeml>
"""


def test_premiere_shaped_xml_is_read_with_its_losses_named(caplog):
    with caplog.at_level(logging.WARNING):
        edit = fcp7_xml.read_edit(PREMIERE)
    first, second = edit.video[0]
    assert first.source.path == "D:/media/take #1.mov"          # Premiere's drive form, wrapped
    assert second.source.path == "/media/what?.mov"
    # Beside the transition the cut sits at its centre (frame 50).
    assert (first.record_in, first.record_out, second.record_in, second.record_out) == (0, 50, 50, 100)
    # Premiere's mixed-rate layout: a 25 fps file in a 30 fps sequence, in/out at 30, ticks exact (1 s).
    assert second.source.rate == 25 and second.source_in == 25
    assert first.source_in == 10 and not second.enabled and first.enabled
    warning = caplog.text
    assert "transitionitem" in warning and "Bars and Tone" in warning


def test_a_disabled_clip_stays_disabled_through_every_format(tmp_path):
    timeline = fcp7_xml.read_from_string(PREMIERE)
    assert [c.enabled for c in timeline.video_tracks()[0].find_clips()] == [True, False]
    doc = ET.fromstring(fcpxml.write_to_string(timeline))
    assert [c.get("enabled", "1") for c in doc.findall(".//spine/asset-clip")] == ["1", "0"]
    back = ET.fromstring(fcp7_xml.write_to_string(timeline))
    assert [i.findtext("enabled") for i in back.findall(".//video/track/clipitem")] == ["TRUE", "FALSE"]
    out = export_timeline(timeline, tmp_path / "cut.otio", "otio")
    assert [c.enabled for c in read_timeline(out).video_tracks()[0].find_clips()] == [True, False]


FINAL_CUT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="1001/24000s" width="1920" height="1080"/>
    <asset id="r2" name="A" start="0s" duration="240240/24000s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="file:///Volumes/Media/take #2 100%.mov"/>
    </asset>
    <asset id="r3" name="B" start="86486400/24000s" duration="240240/24000s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="file:///Volumes/Media/B%20roll.mov"/>
    </asset>
    <media id="r4" name="Compound"><sequence format="r1" duration="48048/24000s"><spine/></sequence></media>
  </resources>
  <library><event name="E"><project name="from final cut">
    <sequence format="r1" duration="168168/24000s" tcStart="0s" tcFormat="NDF">
      <spine>
        <clip name="A clip" offset="0s" start="24024/24000s" duration="48048/24000s" tcFormat="NDF">
          <video ref="r2" offset="24024/24000s" start="48048/24000s" duration="96096/24000s"/>
          <marker start="36036/24000s" duration="1001/24000s" value="look"/>
        </clip>
        <transition name="Cross Dissolve" offset="36036/24000s" duration="24024/24000s"/>
        <asset-clip name="B" ref="r3" offset="48048/24000s" start="86488402/24000s" duration="48048/24000s"/>
        <ref-clip name="Compound" ref="r4" offset="96096/24000s" duration="48048/24000s"/>
        <gap name="Gap" offset="144144/24000s" duration="24024/24000s"/>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_final_cut_shaped_fcpxml_is_read_with_its_losses_named(caplog):
    with caplog.at_level(logging.WARNING):
        edit = fcpxml.read_edit(FINAL_CUT)
    a, b = edit.video[0]
    assert a.source.path == "/Volumes/Media/take #2 100%.mov"  # raw '#' and '%': part of the name
    assert b.source.path == "/Volumes/Media/B roll.mov"
    # <clip>: its local start 1 s maps to the inner video's start 2 s + (1 s - its offset 1 s) = 2 s.
    assert (a.record_in, a.record_out, a.source_in) == (0, 48, 48)
    assert (b.record_in, b.record_out, b.source_in - b.source.start) == (48, 96, 2)
    assert [m.start for m in edit.markers] == [12]
    assert "transition" in caplog.text and "ref-clip" in caplog.text and "Compound" in caplog.text


def test_foreign_otio_without_ranges_and_with_a_float_rate_is_probed_and_snapped(tmp_path, caplog):
    from montage_ai.core.samples.framecode import render_framecode

    clip_path = tmp_path / "kit clip.mp4"
    render_framecode(str(clip_path), 48, rate=Fraction(24000, 1001), size=(64, 36))
    timeline = otio.schema.Timeline(name="otio-kit", global_start_time=otio.opentime.RationalTime(0, 23.976))
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    clip = otio.schema.Clip(name="c", media_reference=otio.schema.ExternalReference(target_url=str(clip_path)),
                            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(5, 23.976),
                                                                 otio.opentime.RationalTime(20, 23.976)))
    clip.markers.append(otio.schema.Marker(name="note on clip"))
    clip.effects.append(otio.schema.Effect(name="blur", effect_name="Blur"))
    track.append(clip)
    timeline.tracks.append(track)
    with caplog.at_level(logging.WARNING):
        doc = ET.fromstring(fcpxml.write_to_string(timeline))
    formats = {f.get("id"): f for f in doc.iter("format")}
    assert {f.get("frameDuration") for f in formats.values()} == {"1001/24000s"}   # not 125/2997s
    asset = doc.find(".//asset")
    assert fcpxml.parse_time(asset.get("duration")) == Fraction(48 * 1001, 24000)  # probed, not 0s
    assert formats[asset.get("format")].get("width") == "64"                        # probed, not 1920
    assert "note on clip" in caplog.text and "Blur" in caplog.text
