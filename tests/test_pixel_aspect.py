"""Pixel aspect end to end: probe reports SAR and DAR, analysis frames have the display shape,
the preview is never squeezed, and the exports say the pixels are not square."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction

import cv2
import numpy as np
import pytest

from montage_ai.core.media.decode import analysis_size, decode_frames
from montage_ai.core.media.probe import probe
from montage_ai.core.model.cutlist import Cut, CutList
from montage_ai.core.model.timeline import build_timeline
from montage_ai.core.render.preview import render_preview
from montage_ai.otio_adapters.export import export_timeline


@pytest.fixture(scope="module")
def anamorphic(tmp_path_factory):
    """A 2:1-pixel clip: 160x180 stored, 320x180 (16:9) shown; a round disc on grey."""
    path = tmp_path_factory.mktemp("par") / "anamorphic.mp4"
    shown = np.full((180, 320, 3), 90, np.uint8)
    cv2.circle(shown, (160, 90), 60, (250, 250, 250), -1)
    stored = cv2.resize(shown, (160, 180), interpolation=cv2.INTER_AREA)
    proc = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", "160x180",
                             "-r", "25", "-i", "-", "-vf", "setsar=2/1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                             str(path)], stdin=subprocess.PIPE)
    for _ in range(25):
        proc.stdin.write(stored.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return str(path)


def disc_aspect(image: np.ndarray) -> float:
    ys, xs = np.nonzero(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) > 200)
    return (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)


def test_probe_reports_sar_and_dar(anamorphic):
    v = probe(anamorphic).video
    assert (v.width, v.height, v.sar, v.dar) == (160, 180, Fraction(2), Fraction(16, 9))
    assert (v.square_width, v.square_height) == (320, 180)
    assert probe(anamorphic).from_dict(probe(anamorphic).to_dict()).video.sar == 2


def test_analysis_frames_have_the_display_shape(anamorphic):
    media = probe(anamorphic)
    w, h = analysis_size(media)
    assert abs(w / h - 16 / 9) < 0.02
    frame = next(iter(decode_frames(anamorphic, media=media))).image
    assert abs(disc_aspect(frame) - 1.0) < 0.1


def cut_list(path: str) -> CutList:
    return CutList(rate=Fraction(25), width=320, height=180, duration=20,
                   cuts=(Cut(0, 20, path, Fraction(25), 0, 0, 1.0, "setup", "anamorphic"),),
                   music_path="", music_duration=0)


def test_preview_is_not_squeezed(anamorphic, tmp_path):
    media = {anamorphic: probe(anamorphic)}
    out = str(tmp_path / "preview.mp4")
    render_preview(build_timeline(cut_list(anamorphic), media=media), out, size=(320, 180), media=media)
    frame = next(iter(decode_frames(out))).image
    assert abs(disc_aspect(frame) - 1.0) < 0.1


def test_exports_carry_the_pixel_aspect(anamorphic, tmp_path):
    media = {anamorphic: probe(anamorphic)}
    timeline = build_timeline(cut_list(anamorphic), media=media)
    ref = timeline.video_tracks()[0][0].media_reference
    assert ref.metadata["montage_ai"]["pixel_aspect"] == "2/1"
    out = tmp_path / "cut.fcpxml"
    export_timeline(timeline, str(out), "fcpxml")
    formats = ET.parse(out).getroot().iter("format")
    assert any(f.get("paspH") == "2" and f.get("paspV") == "1" and f.get("width") == "160" for f in formats)
    out7 = tmp_path / "cut.xml"
    export_timeline(timeline, str(out7), "premiere")
    files = [f for f in ET.parse(out7).getroot().iter("file") if f.find("media") is not None]
    assert files and files[0].find("media/video/samplecharacteristics/anamorphic").text == "TRUE"
