"""Footage analysis: decode, shot boundaries, features, the analyze_footage entry point.

All media is generated (core.sample_footage) with known boundaries; tests on the real
clips in ../shared/media skip when that folder is absent.
"""

from __future__ import annotations

import json
import logging
import os
from fractions import Fraction

import cv2
import numpy as np
import pytest

from montage_ai.core.analysis.footage import ANALYSIS_VERSION, FootageAnalysis, analyze_footage
from montage_ai.core.analysis.shots import ShotDetector
from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.media.decode import decode_frames, packet_table
from montage_ai.core.samples.footage import Segment, render_footage
from shared_media import shared_dir

SIZE = (256, 144)
SHARED = str(shared_dir("media") or os.path.join(os.path.dirname(__file__), "..", "..", "shared", "media"))


def shared(name: str) -> str:
    path = os.path.abspath(os.path.join(SHARED, name))
    if not os.path.exists(path):
        pytest.skip(f"{name}: ../shared/media is absent")
    return path


def overlaps(span, spans) -> bool:
    return any(span[0] <= b and a <= span[1] for a, b in spans)


def hard_cut_reel(rate: Fraction) -> list[Segment]:
    n = int(round(rate * Fraction(3, 4)))
    return [Segment("testsrc2", n), Segment("smptebars", n, grain=3.0), Segment("mandelbrot", n),
            Segment("color", n, color="0xa04020", grain=5.0), Segment("gradients", n, seed=2),
            Segment("pan", n, pan_px_per_frame=10.0)]


def event_reel() -> list[Segment]:
    return [
        Segment("testsrc2", 25),
        Segment("mandelbrot", 25, dissolve_in=8),
        Segment("gradients", 25, seed=3, fade_out=6),
        Segment("black", 8),
        Segment("pan", 40, fade_in=6, pan_px_per_frame=12.0),
        Segment("color", 25, color="0xa04020", grain=6.0, flash=(8, 2)),
        Segment("testsrc2", 50, blur_sigma=3.0, swell=(6, 25)),
        Segment("smptebars", 25),
    ]


@pytest.fixture(scope="session")
def events(tmp_path_factory):
    path = tmp_path_factory.mktemp("media") / "events.mp4"
    truth = render_footage(path, event_reel(), rate=Fraction(25), size=SIZE, gop_frames=12)
    return truth, analyze_footage(path, mode="full")


# ---------------------------------------------------------------------------------------
# Boundaries


@pytest.mark.parametrize("rate", [Fraction(24), Fraction(25), Fraction(24000, 1001),
                                  Fraction(30000, 1001), Fraction(60000, 1001)], ids=str)
def test_hard_cuts_found_on_their_exact_first_frame(tmp_path, rate):
    truth = render_footage(tmp_path / "cuts.mp4", hard_cut_reel(rate), rate=rate, size=SIZE)
    analysis = analyze_footage(truth.path, mode="full")
    assert analysis.boundaries == truth.cuts
    assert analysis.frame_count == truth.frame_count
    assert analysis.shots[-1].end_frame == truth.frame_count


def test_dissolve_and_fades_are_boundaries_with_their_span(events):
    truth, analysis = events
    spans = [s.transition_in for s in analysis.shots if s.transition_in] + \
            [s.transition_out for s in analysis.shots if s.transition_out]
    for gt in truth.transitions:
        assert overlaps(gt, spans), f"transition {gt} not marked: {spans}"
    for shot in analysis.shots:
        if shot.transition_in and not shot.black:
            assert shot.usable_start_frame > shot.transition_in[1]
        if shot.transition_out and not shot.black:
            assert shot.usable_end_frame <= shot.transition_out[0]


def test_black_stretch_is_its_own_segment_flagged_black(events):
    truth, analysis = events
    blacks = [(s.start_frame, s.end_frame - 1) for s in analysis.shots if s.black]
    assert len(blacks) == 1
    assert overlaps(truth.blacks[0], blacks)
    assert all(not s.black for s in analysis.shots if s.start_frame > truth.blacks[0][1] + 10)


def test_hard_cuts_exact_beside_transitions(events):
    truth, analysis = events
    for cut in truth.cuts:
        assert cut in analysis.boundaries


def test_flash_and_brightness_swell_are_not_cuts(events):
    truth, analysis = events
    (f0, f1), (s0, s1) = truth.flashes[0], truth.swells[0]
    for b in analysis.boundaries:
        assert not (f0 - 2 <= b <= f1 + 3), f"false cut at {b} on the flash"
        assert not (s0 <= b <= s1), f"false cut at {b} in the swell"


def test_grainy_chaotic_texture_is_one_shot(tmp_path):
    # A cellular automaton under film grain: noise-like texture that changes every frame.
    segs = [Segment("smptebars", 20, grain=2.0), Segment("cellauto", 75, seed=4, grain=4.0),
            Segment("mandelbrot", 20)]
    truth = render_footage(tmp_path / "cellauto.mp4", segs, rate=Fraction(25), size=SIZE, gop_frames=25)
    assert analyze_footage(truth.path, mode="full").boundaries == truth.cuts


def test_swell_with_a_colour_cast_drift_in_a_blurred_shot_is_not_a_cut():
    # A blurred grey shot brightens and darkens again; the encoder's chroma drifts by one
    # code value meanwhile (grey pixels sit on a chromaticity bin edge). Not a boundary.
    rng = np.random.default_rng(7)
    base = cv2.GaussianBlur(rng.uniform(40, 200, (72, 128)).astype(np.float32), (0, 0), 4.0)
    base = (base - base.mean()) * 3.0 + 120.0
    gain = np.ones(90)
    gain[20:70] += 0.6 * np.sin(np.linspace(0.0, np.pi, 52)[1:-1])
    detector = ShotDetector(Fraction(25), use_pyscenedetect=False)
    for k in range(90):
        f = np.repeat(base[..., None], 3, axis=2) * gain[k] + rng.normal(0.0, 4.0, (72, 128, 1))
        if 20 <= k < 70:
            f[..., 2] += 1.0
        detector.add(k, np.clip(np.rint(f), 0, 255).astype(np.uint8))
    assert detector.finish(90).boundaries == ()


def test_swell_in_a_blurred_grainy_shot_is_not_a_cut(tmp_path):
    segs = [Segment("smptebars", 20), Segment("testsrc2", 90, blur_sigma=4.0, grain=4.0, swell=(20, 50))]
    truth = render_footage(tmp_path / "swell.mp4", segs, rate=Fraction(25), size=SIZE, gop_frames=250)
    assert analyze_footage(truth.path, mode="full").boundaries == truth.cuts


def test_steadily_changing_dark_gradients_are_not_a_dissolve(tmp_path):
    # Moving gradients mix linearly with themselves over a second: not a transition.
    rate = Fraction(24000, 1001)
    segs = [Segment("gradients", 96, seed=4, gain=0.6), Segment("smptebars", 24)]
    truth = render_footage(tmp_path / "gradients.mp4", segs, rate=rate, size=(640, 360), gop_frames=24)
    a = analyze_footage(truth.path, mode="full")
    assert a.boundaries == truth.cuts
    assert a.shots[0].transition_out is None


def test_fast_pan_is_not_a_cut(events):
    truth, analysis = events
    pan = next((a, b) for a, b, src in truth.segments if src == "pan")
    assert [b for b in analysis.boundaries if pan[0] + 8 < b < pan[1]] == []


@pytest.mark.parametrize("gop,scenecut", [(12, True), (250, False)], ids=["short-gop", "long-gop"])
def test_fast_mode_finds_the_same_boundaries_as_full_mode(tmp_path, gop, scenecut):
    truth = render_footage(tmp_path / "gop.mp4", event_reel(), rate=Fraction(25), size=SIZE,
                           gop_frames=gop, scenecut=scenecut)
    full = analyze_footage(truth.path, mode="full")
    fast = analyze_footage(truth.path, mode="fast")
    assert fast.mode == "fast"
    assert fast.boundaries == full.boundaries
    assert [(s.black, s.transition_in, s.transition_out) for s in fast.shots] == \
           [(s.black, s.transition_in, s.transition_out) for s in full.shots]
    if gop == 12:
        assert len(fast.sample_frames) < truth.frame_count  # not everything decoded


# ---------------------------------------------------------------------------------------
# Features


@pytest.fixture(scope="session")
def feature_reel(tmp_path_factory):
    path = tmp_path_factory.mktemp("media") / "features.mp4"
    segs = [Segment("testsrc2", 20), Segment("testsrc2", 20, blur_sigma=4.0),
            Segment("smptebars", 20), Segment("mandelbrot", 20, gain=0.25)]
    truth = render_footage(path, segs, rate=Fraction(25), size=SIZE)
    return truth, analyze_footage(path, mode="full")


def test_blurred_shot_is_less_sharp(feature_reel):
    _, a = feature_reel
    assert a.shots[1].sharpness < 0.5 * a.shots[0].sharpness


def test_static_shot_has_less_motion(feature_reel):
    _, a = feature_reel
    assert a.shots[2].motion < a.shots[0].motion


def test_dark_shot_has_low_exposure_but_is_not_black(feature_reel):
    _, a = feature_reel
    assert a.shots[3].exposure < 0.2 < a.shots[2].exposure
    assert not a.shots[3].black


def test_best_moment_curve_lies_in_the_usable_part(events):
    _, analysis = events
    for shot in analysis.shots:
        assert len(shot.score_frames) == len(shot.scores)
        if shot.scores and not shot.black:
            assert shot.usable_start_frame <= shot.best_frame < shot.usable_end_frame
            assert all(0.0 <= s <= 1.0 for s in shot.scores)


# ---------------------------------------------------------------------------------------
# Entry point behaviour


def test_thumbnails_written_one_per_shot(tmp_path, feature_reel):
    truth, _ = feature_reel
    out = tmp_path / "thumbs"
    a = analyze_footage(truth.path, mode="full", thumbnail_dir=str(out))
    assert [os.path.basename(s.thumbnail) for s in a.shots] == [f"shot_{i:04d}.jpg" for i in range(len(a.shots))]
    assert all(os.path.getsize(s.thumbnail) > 500 for s in a.shots)
    assert not [p for p in os.listdir(out) if p.startswith(".")]


def test_cancel_stops_and_raises_cancelled(feature_reel):
    truth, _ = feature_reel
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 5

    with pytest.raises(Cancelled):
        analyze_footage(truth.path, mode="full", cancel=cancel)


def test_progress_reaches_one(feature_reel):
    truth, _ = feature_reel
    seen: list[float] = []
    analyze_footage(truth.path, mode="full", progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_truncated_file_raises_an_error_naming_it(tmp_path, feature_reel):
    truth, _ = feature_reel
    data = open(truth.path, "rb").read()
    bad = tmp_path / "truncated.mp4"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError) as info:
        analyze_footage(bad, mode="full")
    assert "truncated.mp4" in str(info.value)


def test_garbage_file_raises_media_error(tmp_path):
    bad = tmp_path / "garbage.mp4"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(MediaError):
        analyze_footage(bad)


def test_unavailable_hardware_decoder_falls_back_to_software_with_a_warning(feature_reel, caplog):
    # No CUDA device on the test machine: ffmpeg cannot create one.
    truth, software = feature_reel
    with caplog.at_level(logging.WARNING, logger="montage_ai.core.analysis.footage"):
        a = analyze_footage(truth.path, mode="full", hwaccel="cuda")
    if not caplog.records:
        pytest.skip("a CUDA device is available here")
    assert a.boundaries == software.boundaries
    message = caplog.records[-1].getMessage()
    assert "cuda" in message and "software decoding" in message
    assert "No device available" in message or "Device creation failed" in message


def test_decode_error_quotes_ffmpegs_reason(feature_reel):
    truth, _ = feature_reel
    try:
        list(decode_frames(truth.path, hwaccel="cuda"))
    except MediaError as exc:
        assert "without a message" not in str(exc)
        assert "cuda" in str(exc) and truth.path in str(exc)
    else:
        pytest.skip("a CUDA device is available here")


def test_round_trip_through_json_is_exact(events):
    _, analysis = events
    back = FootageAnalysis.from_dict(json.loads(json.dumps(analysis.to_dict())))
    assert back == analysis
    assert back.analysis_version == ANALYSIS_VERSION


def test_vfr_generated_file_reports_index_and_pts(tmp_path):
    rate = Fraction(24000, 1001)
    truth = render_footage(tmp_path / "vfr.mp4", hard_cut_reel(rate)[:3], rate=rate, size=SIZE, drop_every=3)
    a = analyze_footage(truth.path, mode="full")
    assert a.media.video.vfr
    assert a.boundaries == truth.cuts
    for shot in a.shots:
        assert shot.start_s == pytest.approx(truth.pts_s[shot.start_frame], abs=1e-6)


def test_keyframe_and_interval_decoding_give_true_indices(tmp_path):
    truth = render_footage(tmp_path / "k.mp4", hard_cut_reel(Fraction(25))[:3], rate=Fraction(25), size=SIZE,
                           gop_frames=10)
    full = {f.index: f for f in decode_frames(truth.path)}
    keys = [f.index for f in decode_frames(truth.path, keyframes_only=True)]
    assert keys == [int(k) for k in packet_table(truth.path).keyframes]
    part = list(decode_frames(truth.path, start_frame=13, end_frame=27))
    assert [f.index for f in part] == list(range(13, 27))
    for f in part:
        assert np.array_equal(f.image, full[f.index].image)
        assert f.pts_s == full[f.index].pts_s


# ---------------------------------------------------------------------------------------
# Real clips (../shared/media)


@pytest.mark.shared_media
def test_counter_clip_frame_indices_are_exact():
    path = shared("counter.mp4")
    frames = list(decode_frames(path))
    assert [f.index for f in frames] == list(range(30))
    assert [round(f.pts_s, 6) for f in frames] == [round(i / 10, 6) for i in range(30)]
    a = analyze_footage(path, mode="full")
    assert a.frame_count == 30 and a.shots[-1].end_frame == 30
    assert a.shots[-1].end_s == pytest.approx(3.0)
    part = list(decode_frames(path, start_frame=17, end_frame=20))
    assert [f.index for f in part] == [17, 18, 19]
    assert [f.pts_s for f in part] == pytest.approx([1.7, 1.8, 1.9])


@pytest.mark.shared_media
def test_goldeneye_vfr_boundaries_as_index_and_pts():
    path = shared("goldeneye-vfr-drop3.mp4")
    full = analyze_footage(path, mode="full")
    fast = analyze_footage(path, mode="fast")
    assert full.media.video.vfr
    assert full.boundaries == fast.boundaries == (60, 140)
    table = packet_table(path)
    for shot in full.shots:
        assert shot.start_s == pytest.approx(table.seconds(shot.start_frame), abs=1e-9)
    assert full.shots[1].start_s == pytest.approx(3.75375)  # not 60 / (24000/1001)


@pytest.mark.shared_media
def test_fades_clip_marks_fades_and_black():
    a = analyze_footage(shared("fades.mp4"), mode="full")
    assert any(s.black for s in a.shots)
    assert all(s.transition_in or s.transition_out for s in a.shots if not s.black)


@pytest.mark.shared_media
def test_delayed_start_counts_from_zero_with_container_times():
    frames = list(decode_frames(shared("delayed_start.mp4")))
    assert frames[0].index == 0 and frames[0].pts_s == pytest.approx(1.075)
    assert len(frames) == 24


@pytest.mark.shared_media
def test_rotated_clip_is_decoded_upright():
    path = shared("issue-134-rotate.mp4")
    frame = next(iter(decode_frames(path)))
    assert frame.image.shape[0] > frame.image.shape[1]  # portrait after the display rotation


def _signatures(path):
    from montage_ai.core.analysis import shots

    sb = shots.SignatureBuilder()
    for f in decode_frames(path):
        sb.add(f.index, f.image)
    return sb.build(0, len(sb))


def test_pyscenedetect_second_opinion_confirms_a_subtle_cut_and_not_a_flash(tmp_path):
    """A cut too subtle for our test alone is kept when PySceneDetect proposes it and the
    looser test agrees; a proposed cut at a flash still fails (the picture comes back)."""
    from montage_ai.core.analysis import shots

    subtle = tmp_path / "subtle.mp4"
    render_footage(subtle, [Segment("color", 40, color="0x3060a0", grain=3.0),
                            Segment("color", 40, color="0x33639d", grain=3.0)], rate=25, size=(320, 180))
    sig = _signatures(subtle)
    assert shots.detect_range(sig, Fraction(25), at_start=True, at_end=True).cuts == []
    assert shots.detect_range(sig, Fraction(25), at_start=True, at_end=True, candidates=[40]).cuts == [40]

    flash = tmp_path / "flash.mp4"
    render_footage(flash, [Segment("testsrc2", 60, flash=(30, 2))], rate=25, size=(320, 180))
    sig = _signatures(flash)
    assert shots.detect_range(sig, Fraction(25), at_start=True, at_end=True, candidates=[30, 32]).cuts == []
