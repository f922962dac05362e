"""Frame quality flags: test patterns, flashes, blur, whips, shake, corruption; flagged frames
never reach selects or a rough cut. Generated media here; the real clips of
../shared/realworld/footage (README there) are used when present and skipped otherwise.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from montage_ai.core.analysis.footage import analyze_footage, excluded_mask
from montage_ai.core.analysis.patterns import pattern_kind
from montage_ai.core.cut.selects import choose_selects
from montage_ai.core.samples.footage import Segment, render_footage, scene_still
from shared_media import shared_dir

SIZE = (320, 180)
RATE = Fraction(25)


REAL = shared_dir("realworld/footage")


def real(name: str) -> tuple[str, dict]:
    if REAL is None:
        pytest.skip("../shared/realworld/footage is absent")
    truth = json.loads((REAL / f"{name}.json").read_text())
    return str(REAL / truth["file"]), truth


def flagged_frames(a, reason: str | None = None) -> set[int]:
    out = set()
    for f in a.flags:
        if reason is None or f.reason == reason:
            out.update(range(f.first, f.last + 1))
    return out


def render(tmp_path, name: str, segments: list[Segment]):
    path = tmp_path / name
    truth = render_footage(path, segments, rate=RATE, size=SIZE)
    return str(path), truth


@pytest.mark.parametrize("source,kind", [("smptebars", "colour bars"), ("testcard", "colour bars"),
                                         ("slate", "slate"), ("countdown", "countdown leader")])
def test_test_patterns_are_flagged_and_named(tmp_path, source, kind):
    path, _ = render(tmp_path, f"{source}.mp4", [Segment(source, 50, grain=2.0)])
    a = analyze_footage(path, mode="full")
    frames = flagged_frames(a, "test pattern")
    assert len(frames) >= 45, a.flags
    assert any(kind in f.detail for f in a.flags if f.reason == "test pattern")


def test_uniform_frame_is_a_test_pattern():
    assert pattern_kind(np.full((144, 256, 3), (200, 90, 30), np.uint8)) == "uniform frame"


def test_a_landscape_is_not_a_test_pattern(tmp_path):
    assert pattern_kind(scene_still(256, 144, seed=3)) is None
    path, _ = render(tmp_path, "scene.mp4", [Segment("pan", 60, still="scene", pan_px_per_frame=2.0),
                                             Segment("zoompan", 40, still="scene", seed=4)])
    a = analyze_footage(path, mode="full")
    assert not a.flags, a.flags
    assert a.boundaries == (60,)


def test_flash_inside_a_shot_is_flagged_not_a_boundary(tmp_path):
    path, truth = render(tmp_path, "flash.mp4", [Segment("pan", 75, still="scene", pan_px_per_frame=1.5,
                                                         flash=(36, 3), grain=2.0)])
    a = analyze_footage(path, mode="full")
    assert a.boundaries == ()
    assert {36, 37, 38} <= flagged_frames(a, "flash")
    assert excluded_mask(a)[36:39].all()
    assert not excluded_mask(a)[:30].any()


def test_whip_pan_is_motion_blur(tmp_path):
    path, _ = render(tmp_path, "whip.mp4", [Segment("pan", 75, still="scene", pan_px_per_frame=1.0,
                                                    whip=(40, 6), whip_px=24)])
    a = analyze_footage(path, mode="full")
    blur = flagged_frames(a, "motion blur")
    assert len(blur & set(range(40, 46))) >= 4, a.flags
    assert not (blur & set(range(0, 30))), a.flags


def test_defocused_shot_is_out_of_focus(tmp_path):
    path, _ = render(tmp_path, "soft.mp4", [Segment("zoompan", 50, still="scene", blur_sigma=9.0)])
    a = analyze_footage(path, mode="full")
    assert len(flagged_frames(a, "out of focus")) >= 40, a.flags


def test_handheld_shake_is_shaky(tmp_path):
    path, _ = render(tmp_path, "shake.mp4", [Segment("scene", 60, shake_px=5.0, seed=2),
                                             Segment("scene", 60, seed=5)])
    a = analyze_footage(path, mode="full")
    shaky = flagged_frames(a, "shaky")
    assert len(shaky & set(range(60))) >= 30, a.flags
    assert not (shaky & set(range(62, 120))), a.flags


def test_selects_never_use_flagged_frames(tmp_path):
    path, _ = render(tmp_path, "mix.mp4", [Segment("smptebars", 50, grain=2.0),
                                           Segment("pan", 90, still="scene", pan_px_per_frame=1.5, flash=(60, 3)),
                                           Segment("countdown", 50)])
    a = analyze_footage(path, mode="full")
    sel = choose_selects([a], hashes={})
    bad = excluded_mask(a)
    assert sel.picks
    for p in sel.picks:
        assert not bad[p.source_in:p.source_out].any(), (p, a.flags)
    flags = {f for r in sel.rejections for f in r.flags}
    assert "pattern" in flags


# ----------------------------------------------------------------------------------------- real media


def test_real_compressed_clip_is_corrupt_and_pristine_is_clean():
    path, _ = real("carphone_distorted")
    a = analyze_footage(path, mode="full")
    assert len(flagged_frames(a, "corrupt")) >= 0.9 * a.frame_count
    path, _ = real("carphone")
    assert not analyze_footage(path, mode="full").flags


def test_real_defocused_night_shot_is_out_of_focus():
    path, truth = real("bokeh_night")
    a = analyze_footage(path, mode="full")
    b0, b1, _ = truth["bad"][0]
    assert len(flagged_frames(a, "out of focus") & set(range(b0, b1 + 1))) >= 0.9 * (b1 - b0 + 1)


def test_real_tilt_is_flagged_and_handheld_pans_are_not():
    path, truth = real("plane_fade")
    a = analyze_footage(path, mode="full")
    t0, t1, _ = [b for b in truth["bad"] if b[2] == "tilt"][0]
    assert len(excluded_mask(a)[t0:t1 + 1].nonzero()[0]) >= 0.5 * (t1 - t0 + 1)
    path, _ = real("pool_handheld")
    a = analyze_footage(path, mode="full")
    assert len(flagged_frames(a)) <= 0.1 * a.frame_count, a.flags


def test_demo_project_has_no_test_patterns(tmp_path):
    from montage_ai.core.samples.demo import make_demo_media

    media = make_demo_media(tmp_path / "demo", size=(256, 144))
    for path in media.footage:
        a = analyze_footage(path, mode="full")
        assert not [f for f in a.flags if f.reason == "test pattern"], (path, a.flags)
        share = excluded_mask(a).mean()
        assert share < 0.5, (path, a.flags)


def test_auto_mode_is_full_even_for_long_files(tmp_path):
    """Fast mode is slower than full on real footage (bench/footage_real.py): auto never picks it."""
    import dataclasses

    from montage_ai.core.media.probe import probe

    path, _ = render(tmp_path, "long.mp4", [Segment("scene", 30, seed=3)])
    media = probe(path)
    long_media = dataclasses.replace(media, duration_s=600.0)
    assert analyze_footage(path, mode="auto", media=long_media).mode == "full"


def test_best_moment_stays_clear_of_usable_edges_and_prefers_a_subject():
    from montage_ai.core.analysis.moments import subject_strength, weigh

    blob = np.full((36, 64), 80, np.uint8)
    blob[12:24, 26:38] = 200
    empty = np.full((36, 64), 80, np.uint8)
    empty[:18] = 140  # a horizon: structure but no subject
    assert subject_strength(blob) > subject_strength(empty)
    middle = weigh(0.6, 50, (0, 100), 25.0, 0, None)
    assert weigh(0.6, 1, (0, 100), 25.0, 0, None) < middle
    assert weigh(0.6, 50, (0, 100), 25.0, 0, None, subject=1.0) > middle
    speed = np.zeros(100)
    speed[20:40] = 0.03  # a move, then the camera settles
    assert weigh(0.6, 50, (0, 100), 25.0, 0, speed) > middle


def test_dip_to_white_gets_fade_spans_like_black(tmp_path):
    path, truth = render(tmp_path, "dip.mp4", [
        Segment("pan", 50, still="scene", seed=3, pan_px_per_frame=1.0, fade_out=10, fade_colour="white"),
        Segment("color", 6, color="0xffffff"),
        Segment("zoompan", 50, still="scene", seed=8, fade_in=10, fade_colour="white")])
    a = analyze_footage(path, mode="full")
    spans = [s.transition_out for s in a.shots if s.transition_out] + [s.transition_in for s in a.shots if s.transition_in]
    assert any(lo <= 41 and hi >= 48 for lo, hi in spans), (a.boundaries, spans)
    assert any(lo <= 57 and hi >= 64 for lo, hi in spans), (a.boundaries, spans)
    excluded = excluded_mask(a)
    assert excluded[40:66].all()
    assert not excluded[5:35].any() and not excluded[72:100].any()
