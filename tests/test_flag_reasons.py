"""Frames excluded for one reason do not also carry a wrong one: a fade or an exposure range is
not "obstructed", a real picture lifted towards white is not a "slate" or "countdown leader",
while real slates, leaders and obstructions keep their reason.

Generated media; the real carphone clip of ../shared/realworld/footage when present
(MONTAGE_SHARED overrides), skipped otherwise.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction

import pytest

from montage_ai.core.analysis.flag_reasons import GREY_COLOURFULNESS, reconciled
from montage_ai.core.analysis.footage import analyze_footage, excluded_mask
from montage_ai.core.analysis.quality import Flag
from montage_ai.core.analysis.shot_types import Transition
from montage_ai.core.samples.footage import Segment, render_footage
from shared_media import shared_dir

RATE = Fraction(25)
SIZE = (320, 180)


def _reasons(a) -> set[str]:
    return {f.reason for f in a.flags}


def test_obstructed_frames_inside_a_transition_or_an_exposure_range_keep_only_that_reason():
    rows = {i: (0, 0, 0, 0, 0, 0, 30.0) for i in range(0, 100, 3)}
    flags = [Flag(0, 20, "obstructed", "edge"), Flag(30, 45, "obstructed", "edge"), Flag(40, 60, "crushed", "90 %"),
             Flag(61, 64, "obstructed", "edge"), Flag(80, 90, "obstructed", "edge")]
    got = reconciled(flags, [Transition("fade_out", 10, 25)], rows, 100)
    # 61-64: a short tail just past the crushed range; 80-90 touches nothing and stays.
    assert got == (Flag(0, 9, "obstructed", "edge"), Flag(30, 39, "obstructed", "edge"),
                   Flag(40, 60, "crushed", "90 %"), Flag(80, 90, "obstructed", "edge"))


def test_a_grey_scale_pattern_on_colourful_frames_is_taken_back_and_on_grey_ones_kept():
    rows = {i: (0, 0, 0, 0, 0, 0, 2.0 if i < 30 else GREY_COLOURFULNESS + 10) for i in range(0, 60, 3)}
    flags = [Flag(0, 59, "test pattern", "slate"), Flag(0, 59, "test pattern", "colour bars")]
    got = reconciled(flags, [], rows, 60)
    assert Flag(0, 28, "test pattern", "slate") in got and Flag(0, 59, "test pattern", "colour bars") in got  # 29: nearer 30
    assert not any(f.detail == "slate" and f.last > 28 for f in got)


def test_a_fade_to_black_and_back_is_excluded_as_a_transition_not_as_obstructed(tmp_path):
    path = tmp_path / "fades.mp4"
    render_footage(path, [Segment("pan", 50, still="scene", pan_px_per_frame=2, fade_out=12), Segment("black", 10),
                          Segment("mandelbrot", 40, fade_in=12)], rate=RATE, size=SIZE)
    a = analyze_footage(str(path), mode="full")
    assert "obstructed" not in _reasons(a), a.flags
    assert excluded_mask(a)[44:66].all()  # still never cut to


def test_generated_slates_and_leaders_keep_their_reason(tmp_path):
    path = tmp_path / "patterns.mp4"
    render_footage(path, [Segment("slate", 40), Segment("pan", 40, still="scene", seed=2), Segment("countdown", 50)],
                   rate=RATE, size=SIZE)
    a = analyze_footage(str(path), mode="full")
    details = {(f.reason, f.detail) for f in a.flags}
    assert ("test pattern", "slate") in details and ("test pattern", "countdown leader") in details
    pattern = set().union(*(range(f.first, f.last + 1) for f in a.flags if f.reason == "test pattern"))
    assert set(range(5, 35)) <= pattern and set(range(85, 125)) <= pattern
    assert not pattern & set(range(42, 78))


LIFT = "clip((n-{a})/10,0,1)*clip(({b}-n)/10,0,1)"


@pytest.mark.parametrize("clip,vf", [("carphone.mp4", "eq=brightness=0.45"),
                                     ("carphone.mp4", f"eq=brightness='0.45*{LIFT.format(a=30, b=90)}':eval=frame"),
                                     ("makeup_webcam.avi", f"eq=brightness='0.55*{LIFT.format(a=40, b=130)}':eval=frame")],
                         ids=["carphone lifted", "carphone lifted for a while", "webcam washed out for a while"])
def test_a_real_picture_lifted_towards_white_is_no_slate_or_leader(tmp_path, clip, vf):
    root = shared_dir("realworld/footage")
    if root is None:
        pytest.skip("../shared/realworld/footage is absent")
    out = tmp_path / "lifted.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(root / clip), "-an", "-vf", vf,
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", str(out)], check=True)
    a = analyze_footage(str(out), mode="full")
    assert "test pattern" not in _reasons(a), a.flags
