"""Variable-frame-rate sources are placed by time, as every NLE and engine places them.

A frame-numbered VFR file (every third frame of a 23.976 grid dropped, the others keeping their
timestamps) is cut, written in every format, read back with a reader we did not write where
one exists (OTIO's ``fcp_xml`` and ``cmx_3600``) and rendered with MLT's ``melt``: every output
frame must show the frame whose time is the timeline's source time (within one frame period:
melt holds or advances a frame over a missing timestamp). Decode-index placement would be
many frames off.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from montage_ai.core.media.probe import probe
from montage_ai.core.model.cutlist import Cut, CutList
from montage_ai.core.model.timeline import build_timeline, cut_list_from_timeline, media_path, source_grid
from montage_ai.core.render.preview import render_preview
from montage_ai.core.samples.framecode import kept_indices, render_framecode
from montage_ai.otio_adapters.export import export_path, export_timeline, read_timeline
from shared_media import shared_dir
from test_preview import _decode_codes

NTSC24 = Fraction(24000, 1001)
SIZE = (128, 72)
FRAMES, DROP, TAG = 120, 3, 6
KEPT = kept_indices(FRAMES, DROP)

needs_melt = pytest.mark.skipif(shutil.which("melt") is None or importlib.util.find_spec("otio_mlt_adapter") is None,
                                reason="needs Debian's melt and the otio-mlt-adapter package")


@pytest.fixture(scope="module")
def vfr(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("vfr") / "phone vfr.mp4")
    render_framecode(path, FRAMES, rate=NTSC24, size=SIZE, tag=TAG, drop_every=DROP)
    return path, probe(path)


def _cut_list(path: str) -> CutList:
    # Decoded frames 40, 60, 5: on the grid (by time) 60, 90, 7.
    cuts = (Cut(0, 12, path, NTSC24, 40, 0, 1.0, "setup", "vfr"),
            Cut(12, 24, path, NTSC24, 60, 1, 1.0, "build", "vfr"),
            Cut(24, 34, path, NTSC24, 5, 2, 1.0, "peak", "vfr"))
    return CutList(rate=NTSC24, width=SIZE[0], height=SIZE[1], duration=34, cuts=cuts, music_path="",
                   music_duration=0, start_frames=86400)


def _bench_module():
    import sys

    if "interchange_matrix" in sys.modules:
        return sys.modules["interchange_matrix"]
    spec = importlib.util.spec_from_file_location("interchange_matrix", Path(__file__).resolve().parent.parent
                                                  / "bench" / "interchange_matrix.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["interchange_matrix"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _wanted(cut_list: CutList) -> list[int]:
    """The grid frame (= frame index burnt in: the file was cut from a 23.976 grid) each output
    frame shows when the source is placed by time."""
    return [KEPT[c.source_in] + (k - c.record_in) for c in cut_list.cuts for k in range(c.record_in, c.record_out)]


def test_vfr_source_is_placed_by_time_and_lasts_its_duration(vfr):
    path, info = vfr
    timeline = build_timeline(_cut_list(path), media={path: info})
    clips = list(timeline.find_clips())
    assert [int(c.source_range.start_time.value) for c in clips] == [60, 90, 7]
    ref = clips[0].media_reference
    # The asset is the file's duration on its nominal grid, not its decoded frame count (80).
    assert int(ref.available_range.duration.value) == math.floor(info.video.duration_s * NTSC24 + Fraction(1, 2))
    assert int(ref.available_range.duration.value) == KEPT[-1] + 1  # its last frame ends the file
    assert list(source_grid(info)) == KEPT
    # The cut list comes back with the decoded frames the analysis chose.
    assert [c.source_in for c in cut_list_from_timeline(timeline).cuts] == [40, 60, 5]


def test_our_preview_agrees_with_placement_by_time(vfr, tmp_path):
    path, info = vfr
    cut_list = _cut_list(path)
    out = tmp_path / "preview.mp4"
    render_preview(build_timeline(cut_list, media={path: info}), out, size=SIZE, media={path: info})
    got = [code[1] if code else None for code in _decode_codes(str(out))]
    # Exactly the last frame at or before each grid position (a dropped one holds the one before).
    assert got == [max(i for i in KEPT if i <= g) for g in _wanted(cut_list)]


@needs_melt
@pytest.mark.parametrize("fmt,reader", [("otio", None), ("fcpxml", None), ("premiere", "fcp_xml"),
                                        ("edl", "cmx_3600")])
def test_melt_shows_the_frames_at_their_times_in_every_format(vfr, tmp_path, fmt, reader):
    path, info = vfr
    cut_list = _cut_list(path)
    target = export_path(tmp_path / "cut.otio", fmt)
    export_timeline(build_timeline(cut_list, media={path: info}), target, fmt)
    if reader is None:
        timeline = read_timeline(target)
    else:  # the official reader: not our code
        timeline = otio.adapters.read_from_file(str(target), adapter_name=reader, **(
            {"rate": float(NTSC24)} if reader == "cmx_3600" else {}))
    video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    for clip in video.find_clips():
        ref = clip.media_reference
        url = getattr(ref, "target_url", "") or ""
        # cmx_3600 names the media by the FROM FILE comment; melt wants plain paths.
        ref_path = media_path(url) if url else path
        clip.media_reference = otio.schema.ExternalReference(target_url=ref_path)
        # melt counts a producer's frames from 0: the file's own grid position.
        start = clip.source_range.start_time
        clip.source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(start.value, start.rate),
                                                    clip.source_range.duration)
    only = otio.schema.Timeline(name="vfr", global_start_time=None)
    only.tracks.append(video.deepcopy() if hasattr(video, "deepcopy") else video)
    mlt = tmp_path / "cut.mlt"
    mlt.write_text(otio.adapters.write_to_string(only, "mlt_xml"), encoding="utf-8")
    out = str(tmp_path / "melt.mp4")
    run_melt = _bench_module().run_melt  # one way to run melt: the matrix's (bounded, robust to its hang)
    run_melt(["melt", "-quiet", str(mlt), "-consumer", f"avformat:{out}", "frame_rate_num=24000",
              "frame_rate_den=1001", f"width={SIZE[0]}", f"height={SIZE[1]}", "progressive=1",
              "vcodec=libx264", "an=1", "real_time=0"], Path(out))
    got = [code[1] if code else None for code in _decode_codes(out)]
    wanted = _wanted(cut_list)
    assert len(got) == len(wanted)
    wrong = [(k, w, g) for k, (w, g) in enumerate(zip(wanted, got)) if g is None or abs(g - w) > 1]
    assert not wrong, f"{fmt}: output frames off by more than a frame period (frame, wanted, shown): {wrong[:10]}"


def _shared(name: str):
    media = shared_dir("media")
    path = (media / name) if media is not None else None
    if path is None or not path.exists():
        pytest.skip(f"shared/media/{name} is not here (shared media are for development only)")
    return str(path)


def test_real_vfr_film_clip_cut_at_decoded_frame_120_shows_7_5_seconds():
    path = _shared("goldeneye-vfr-drop3.mp4")
    info = probe(path)
    cut_list = CutList(rate=NTSC24, width=1280, height=544, duration=24, music_path="", music_duration=0,
                       cuts=(Cut(0, 24, path, NTSC24, 120, 0, 1.0, "setup", "vfr"),))
    clip = build_timeline(cut_list, media={path: info}).find_clips()[0]
    seconds = Fraction(int(clip.source_range.start_time.value)) / NTSC24
    assert abs(seconds - Fraction(15, 2)) < Fraction(1, 24)   # decoded frame 120 is presented at 7.5 s
    # 9.97 s of 23.976 fps, not the 160 decoded frames.
    assert int(clip.media_reference.available_range.duration.value) == 239
