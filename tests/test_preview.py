"""Preview render: every output frame is the source frame the timeline says; audio length,
trim and fade; cancel; no overwrite; an independent engine (melt) agrees."""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import subprocess
from fractions import Fraction

import cv2
import numpy as np
import opentimelineio as otio
import pytest

from montage_ai.core.base.errors import Cancelled
from montage_ai.core.base.fileio import OutputExistsError
from montage_ai.core.media.probe import probe
from montage_ai.core.model.cutlist import Cut, CutList
from montage_ai.core.model.timeline import build_timeline, media_path
from montage_ai.core.render.preview import render_preview
from montage_ai.core.samples.footage import render_audio
from montage_ai.core.samples.framecode import kept_indices, read_tagged_framecode, render_framecode

NTSC24 = Fraction(24000, 1001)
NTSC60 = Fraction(60000, 1001)
SIZE = (128, 72)
OUT_SIZE = (96, 54)  # the preview scales: the codes must survive it
TAGS = {"tc24": 1, "s25": 2, "s60": 3, "vfr": 4, "plain24": 5}
VFR_FRAMES, VFR_DROP = 60, 3


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("preview sources")
    p = {k: str(folder / name) for k, name in (("tc24", "camera A 01 é.mp4"), ("s25", "pal.mp4"),
                                                ("s60", "ntsc60.mp4"), ("vfr", "phone vfr.mp4"),
                                                ("plain24", "plain ü.mp4"), ("music", "music.wav"))}
    # A camera file: start timecode 01:00:00:00 and video that starts 0.5 s into the file.
    render_framecode(p["tc24"], 72, rate=NTSC24, size=SIZE, tag=TAGS["tc24"], start_timecode="01:00:00:00",
                     start_offset_s=0.5)
    render_framecode(p["s25"], 60, rate=25, size=SIZE, tag=TAGS["s25"])
    render_framecode(p["s60"], 120, rate=NTSC60, size=SIZE, tag=TAGS["s60"])
    render_framecode(p["vfr"], VFR_FRAMES, rate=25, size=SIZE, tag=TAGS["vfr"], drop_every=VFR_DROP)
    render_framecode(p["plain24"], 60, rate=NTSC24, size=SIZE, tag=TAGS["plain24"])
    render_audio(p["music"], 4.0)
    return p


@pytest.fixture(scope="module")
def probes(sources):
    return {path: probe(path, require_video=key != "music") for key, path in sources.items()}


def _cut_list(p: dict[str, str]) -> CutList:
    cuts = (
        Cut(0, 14, p["tc24"], NTSC24, 30, 0, 1.0, "setup", "seeks into a file with a start timecode"),
        Cut(14, 31, p["s25"], Fraction(25), 5, 1, 1.0, "build", "25 fps in 23.976"),
        Cut(31, 48, p["s60"], NTSC60, 9, 2, 1.0, "build", "59.94 in 23.976"),
        Cut(48, 60, p["vfr"], Fraction(25), 10, 3, 1.0, "peak", "variable frame rate"),
        Cut(60, 71, p["tc24"], NTSC24, 0, 4, 1.0, "peak", "first frame of a late-starting file"),
    )
    return CutList(rate=NTSC24, width=SIZE[0], height=SIZE[1], duration=71, cuts=cuts, music_path=p["music"],
                   music_duration=66, start_frames=86400, music_fade_out=12)


def _expected(cut_list: CutList, tag_of: dict[str, int]) -> list[tuple[int, int]]:
    """(tag, file frame index shown) for every timeline frame, from the documented mapping."""
    out = []
    # The VFR file's decoded frame i was frame kept[i] of a 25 fps grid: it is placed by time,
    # at grid frame kept[i], and a grid frame whose frame was dropped holds the one before.
    kept = kept_indices(VFR_FRAMES, VFR_DROP)
    for cut in cut_list.cuts:
        tag = tag_of[cut.source_path]
        grid_in = kept[cut.source_in] if tag == TAGS["vfr"] else cut.source_in
        for k in range(cut.record_in, cut.record_out):
            frame = grid_in + math.floor((k - cut.record_in) * cut.source_rate / cut_list.rate)
            out.append((tag, max(i for i in kept if i <= frame) if tag == TAGS["vfr"] else frame))
    return out


def _decode_codes(path: str) -> list:
    capture = cv2.VideoCapture(path)
    codes = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        codes.append(read_tagged_framecode(frame))
    capture.release()
    return codes


def _ffprobe(path: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", path],
                         check=True, capture_output=True).stdout
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}


@pytest.fixture(scope="module")
def rendered(sources, probes, tmp_path_factory):
    cut_list = _cut_list(sources)
    timeline = build_timeline(cut_list, media=probes)
    out = str(tmp_path_factory.mktemp("preview out") / "rough cut é.mp4")
    reports: list[float] = []
    assert render_preview(timeline, out, size=OUT_SIZE, progress=reports.append, media=probes) == out
    return cut_list, timeline, out, reports


def test_every_frame_shows_the_source_frame_the_timeline_says(sources, rendered):
    cut_list, _, out, _ = rendered
    tag_of = {sources[k]: TAGS[k] for k in TAGS}
    expected = _expected(cut_list, tag_of)
    got = _decode_codes(out)
    assert len(got) == cut_list.duration
    wrong = [(k, e, g) for k, (e, g) in enumerate(zip(expected, got)) if e != g]
    assert not wrong, f"frames that differ (frame, expected, got): {wrong[:10]}"


def test_output_is_h264_aac_at_the_timeline_rate(rendered):
    cut_list, _, out, _ = rendered
    streams = _ffprobe(out)
    video, audio = streams["video"], streams["audio"]
    assert (video["codec_name"], audio["codec_name"]) == ("h264", "aac")
    assert Fraction(video["r_frame_rate"]) == NTSC24
    assert (video["width"], video["height"]) == OUT_SIZE
    assert int(video["nb_frames"]) == cut_list.duration


def test_audio_lasts_exactly_as_long_as_the_timeline(rendered):
    cut_list, _, out, _ = rendered
    audio = _ffprobe(out)["audio"]
    seconds = Fraction(int(audio["duration_ts"])) * Fraction(audio["time_base"])
    assert seconds == Fraction(cut_list.duration) / cut_list.rate


def test_music_is_trimmed_and_faded_out(rendered):
    cut_list, _, out, _ = rendered
    pcm = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", out, "-map", "0:a", "-ac", "1", "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    y = np.frombuffer(pcm, dtype=np.float32)

    def rms(t0: float, t1: float) -> float:
        return float(np.sqrt(np.mean(y[int(t0 * 48000):int(t1 * 48000)] ** 2)))

    music_end = float(cut_list.music_duration / cut_list.rate)
    fade_start = float((cut_list.music_duration - cut_list.music_fade_out) / cut_list.rate)
    full = rms(0.2, fade_start - 0.05)
    assert full > 0.05                                                  # the music plays
    assert rms(music_end - 2 / 24, music_end - 0.005) < full * 0.25     # the end of the fade is quiet
    assert rms(fade_start + 0.01, fade_start + 0.08) > full * 0.7       # the fade starts where it says
    assert rms(music_end + 0.03, float(cut_list.duration / cut_list.rate) - 0.01) < 1e-3  # then silence


def test_progress_rises_to_one(rendered):
    reports = rendered[3]
    assert reports and reports[-1] == 1.0
    assert all(a <= b for a, b in zip(reports, reports[1:]))


def test_slower_sources_in_a_faster_timeline_repeat_frames_exactly(sources, probes, tmp_path):
    """23.976, 25 and 59.94 sources in a 29.97 timeline: the floor mapping holds both ways."""
    p, rate = sources, Fraction(30000, 1001)
    cuts = (Cut(0, 20, p["tc24"], NTSC24, 10, 0, 1.0, "setup", ""),
            Cut(20, 45, p["s25"], Fraction(25), 0, 1, 1.0, "build", ""),
            Cut(45, 60, p["s60"], NTSC60, 31, 2, 1.0, "peak", ""))
    cut_list = CutList(rate=rate, width=SIZE[0], height=SIZE[1], duration=60, cuts=cuts, music_path="",
                       music_duration=0, start_frames=108000)
    out = str(tmp_path / "2997.mp4")
    render_preview(build_timeline(cut_list, media=probes), out, size=SIZE, media=probes)
    assert Fraction(_ffprobe(out)["video"]["r_frame_rate"]) == rate
    assert _decode_codes(out) == _expected(cut_list, {sources[k]: TAGS[k] for k in TAGS})


def test_a_gap_renders_black_and_later_clips_move_with_it(sources, probes, tmp_path):
    cut_list = _cut_list(sources)
    timeline = build_timeline(cut_list, media=probes)
    timeline.tracks[0].insert(1, otio.schema.Gap(duration=otio.opentime.RationalTime(5, float(NTSC24))))
    out = str(tmp_path / "gap.mp4")
    render_preview(timeline, out, size=SIZE, media=probes)
    expected = _expected(cut_list, {sources[k]: TAGS[k] for k in TAGS})
    first = cut_list.cuts[0].record_frames
    assert _decode_codes(out) == expected[:first] + [None] * 5 + expected[first:]


def test_cancel_stops_the_render_and_leaves_nothing(sources, probes, tmp_path):
    timeline = build_timeline(_cut_list(sources), media=probes)
    polls = []

    def cancel() -> bool:  # let ffmpeg start, then cancel
        polls.append(1)
        return len(polls) > 2

    with pytest.raises(Cancelled):
        render_preview(timeline, tmp_path / "cancelled.mp4", size=SIZE, cancel=cancel, media=probes)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_never_overwritten(sources, probes, tmp_path):
    target = tmp_path / "mine.mp4"
    target.write_bytes(b"the editor's own file")
    with pytest.raises(OutputExistsError, match="mine.mp4"):
        render_preview(build_timeline(_cut_list(sources), media=probes), target, size=SIZE, media=probes)
    assert target.read_bytes() == b"the editor's own file"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.mp4"]


@pytest.mark.skipif(shutil.which("melt") is None or importlib.util.find_spec("otio_mlt_adapter") is None,
                    reason="needs Debian's melt and the otio-mlt-adapter package")
def test_melt_renders_the_same_timeline_identically(sources, tmp_path):
    """An independent engine (MLT, through OTIO's mlt_xml adapter) is the judge.

    The adapter writes source values as MLT frame numbers as they are: it knows neither
    start timecodes nor mixed rates, so this timeline uses same-rate sources from frame 0,
    and plain paths (melt does not decode percent-encoded file URLs).
    """
    p = sources
    cuts = (Cut(0, 11, p["plain24"], NTSC24, 7, 0, 1.0, "setup", ""),
            Cut(11, 25, p["plain24"], NTSC24, 40, 1, 1.0, "build", ""),
            Cut(25, 36, p["plain24"], NTSC24, 2, 2, 1.0, "peak", ""))
    cut_list = CutList(rate=NTSC24, width=SIZE[0], height=SIZE[1], duration=36, cuts=cuts, music_path="",
                       music_duration=0, start_frames=86400)
    timeline = build_timeline(cut_list)
    ours = str(tmp_path / "ours.mp4")
    render_preview(timeline, ours, size=SIZE)
    for clip in timeline.find_clips():
        clip.media_reference.target_url = media_path(clip.media_reference.target_url)
    mlt = tmp_path / "cut.mlt"
    mlt.write_text(otio.adapters.write_to_string(timeline, "mlt_xml"), encoding="utf-8")
    theirs = str(tmp_path / "melt.mp4")
    subprocess.run(["melt", "-quiet", str(mlt), "-consumer", f"avformat:{theirs}", "frame_rate_num=24000",
                    "frame_rate_den=1001", f"width={SIZE[0]}", f"height={SIZE[1]}", "progressive=1",
                    "vcodec=libx264", "an=1"], check=True, capture_output=True, timeout=60)
    expected = _expected(cut_list, {p["plain24"]: TAGS["plain24"]})
    assert _decode_codes(theirs) == expected
    assert _decode_codes(ours) == expected


# --------------------------------------------------------------------------- chunked render


def _pcm(path: str) -> np.ndarray:
    pcm = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a", "-ac", "1", "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(pcm, dtype=np.float32)


@pytest.fixture(scope="module")
def chunked(sources, probes, rendered, tmp_path_factory):
    """The same timeline in chunks of 2 pieces (3 chunks, joins between every kind of source),
    into a folder whose name holds a quote and a line break (the concat list must not care)."""
    cut_list, timeline, _, _ = rendered
    folder = tmp_path_factory.mktemp("chunked out") / "editor's\nday 1"
    folder.mkdir()
    out = str(folder / "long cut.mp4")
    reports: list[float] = []
    render_preview(timeline, out, size=OUT_SIZE, progress=reports.append, media=probes, chunk=2)
    return cut_list, out, reports


def test_a_chunked_render_shows_every_frame_once_across_the_joins(sources, chunked):
    cut_list, out, _ = chunked
    got = _decode_codes(out)
    expected = _expected(cut_list, {sources[k]: TAGS[k] for k in TAGS})
    assert len(got) == cut_list.duration
    joins = [cut_list.cuts[2].record_in, cut_list.cuts[4].record_in]
    around = [(k, expected[k], got[k]) for j in joins for k in (j - 1, j)]
    assert all(e == g for _, e, g in around), f"frames at the joins (frame, expected, got): {around}"
    wrong = [(k, e, g) for k, (e, g) in enumerate(zip(expected, got)) if e != g]
    assert not wrong, f"frames that differ (frame, expected, got): {wrong[:10]}"


def test_a_chunked_render_is_one_h264_aac_file_with_the_audio_of_the_one_pass_render(rendered, chunked):
    cut_list, out, reports = chunked
    streams = _ffprobe(out)
    video, audio = streams["video"], streams["audio"]
    assert (video["codec_name"], audio["codec_name"]) == ("h264", "aac")
    assert Fraction(video["r_frame_rate"]) == NTSC24
    assert int(video["nb_frames"]) == cut_list.duration
    assert Fraction(int(audio["duration_ts"])) * Fraction(audio["time_base"]) == Fraction(cut_list.duration) / cut_list.rate
    ours, one_pass = _pcm(out), _pcm(rendered[2])
    assert abs(len(ours) - len(one_pass)) <= 1024                       # one AAC frame at most
    n = min(len(ours), len(one_pass))
    assert float(np.max(np.abs(ours[:n] - one_pass[:n]))) < 0.02        # the same music, trimmed and faded alike
    assert reports and reports[-1] == 1.0 and all(a <= b for a, b in zip(reports, reports[1:]))


def test_a_gap_in_its_own_chunk_renders_black_for_exactly_its_length(sources, probes, tmp_path):
    cut_list = _cut_list(sources)
    timeline = build_timeline(cut_list, media=probes)
    timeline.tracks[0].insert(1, otio.schema.Gap(duration=otio.opentime.RationalTime(5, float(NTSC24))))
    out = str(tmp_path / "gap chunks.mp4")
    render_preview(timeline, out, size=SIZE, media=probes, chunk=1)
    expected = _expected(cut_list, {sources[k]: TAGS[k] for k in TAGS})
    first = cut_list.cuts[0].record_frames
    assert _decode_codes(out) == expected[:first] + [None] * 5 + expected[first:]


def test_cancel_between_chunks_stops_and_leaves_nothing(sources, probes, tmp_path):
    timeline = build_timeline(_cut_list(sources), media=probes)
    reports: list[float] = []

    def cancel() -> bool:  # once the first chunk is done
        return bool(reports) and reports[-1] > 0.2

    with pytest.raises(Cancelled):
        render_preview(timeline, tmp_path / "cancelled.mp4", size=SIZE, cancel=cancel, media=probes, chunk=1,
                       progress=reports.append)
    assert list(tmp_path.iterdir()) == []
