"""Exposure drift inside one take (an iris closing, auto-exposure hunting) is neither a cut nor
a dissolve; a real cut stays a cut, also where the brightness changes across it, or where only
the colours behind the same picture change.

Generated media (a landscape pan, its exposure changed over time by ffmpeg's ``eq`` as in
tests/test_exposure.py); real clips of ../shared/realworld/footage and ../shared/media when
present (MONTAGE_SHARED overrides), skipped otherwise.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from montage_ai.core.analysis.exposure_drift import chroma_residual, is_exposure_drift, isotonic_fit, tone_fit, washed
from montage_ai.core.analysis.footage import analyze_footage
from montage_ai.core.samples.footage import Segment, render_footage
from shared_media import shared_dir
from test_exposure import LAMP, RAMP

RATE = Fraction(25)
SIZE = (320, 180)


def _filtered(src: str, out: Path, vf: str) -> str:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, "-an", "-vf", vf, "-c:v", "libx264",
                    "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", str(out)], check=True)
    return str(out)


def _bounds(a) -> list[int]:
    return [s.start_frame for s in a.shots[1:]]


@pytest.fixture(scope="module")
def pan(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("drift") / "pan.mp4"
    render_footage(path, [Segment("pan", 100, still="scene", pan_px_per_frame=1.5, grain=2.0)], rate=RATE, size=SIZE)
    return str(path)


# ------------------------------------------------------------------------------ the rule itself

def test_a_tone_curve_with_clipping_is_drift_and_another_picture_is_not():
    rng = np.random.default_rng(3)
    pic = np.repeat(rng.uniform(0, 255, (18, 32, 1)), 3, -1) * np.array([0.8, 0.9, 1.0])
    crushed = np.clip(pic - 140.0, 0, 255)
    blown = np.clip(pic * 2.5, 0, 255)
    other = np.repeat(rng.uniform(0, 255, (18, 32, 1)), 3, -1) * 0.3
    assert is_exposure_drift(pic, crushed) and is_exposure_drift(blown, pic)
    assert tone_fit(pic, other) < 0.3 and not is_exposure_drift(pic, other)
    assert not is_exposure_drift(pic, pic * 0.95)  # the exposure did not move: no drift to explain


def test_a_cut_from_a_washed_out_frame_to_another_picture_stays_a_cut():
    rng = np.random.default_rng(5)
    pic = np.repeat(rng.uniform(0, 255, (18, 32, 1)), 3, -1)
    gone = np.clip(pic * 0.04 + 242.0 + rng.normal(0, 0.8, pic.shape), 0, 255)  # blown out, a trace left
    other = np.repeat(rng.uniform(0, 255, (18, 32, 1)), 3, -1)
    assert washed(gone) and is_exposure_drift(gone, pic)  # the same picture, washed out: one take
    assert not is_exposure_drift(gone, other)


def test_the_same_lettering_on_another_background_colour_stays_a_cut():
    """shared/media/counter.mp4's cuts: the frame number in white on grey, then on red."""
    grey = np.full((18, 32, 3), 100.0)
    grey[8:11, 4:28] = 250.0
    red = grey.copy()
    red[grey[..., 0] < 200] = (70.0, 80.0, 160.0)
    assert tone_fit(grey, red) > 0.9  # the same luma structure...
    assert chroma_residual(grey, red) > 0.9  # ...but not the same colours
    assert not is_exposure_drift(grey, red)


# ------------------------------------------------------------------------------ generated media

@pytest.mark.parametrize("vf", [f"eq=brightness='-0.6*{RAMP}':eval=frame,{LAMP}", f"eq=brightness='0.75*{RAMP}':eval=frame"],
                         ids=["crushed", "blown"])
def test_an_exposure_ramp_inside_one_take_is_one_shot(pan, tmp_path, vf):
    a = analyze_footage(_filtered(pan, tmp_path / "ramp.mp4", vf), mode="full")
    assert len(a.shots) == 1, [(s.start_frame, s.end_frame) for s in a.shots]


def test_a_real_cut_stays_a_cut_also_with_a_change_of_brightness(tmp_path):
    path = tmp_path / "cuts.mp4"
    render_footage(path, [Segment("pan", 30, still="scene", seed=1, pan_px_per_frame=1.5),
                          Segment("pan", 30, still="scene", seed=2, pan_px_per_frame=1.5),
                          Segment("zoompan", 30, still="scene", seed=3, gain=0.3),
                          Segment("pan", 30, still="scene", seed=4, pan_px_per_frame=1.5, gain=1.8)], rate=RATE, size=SIZE)
    a = analyze_footage(str(path), mode="full")
    assert _bounds(a) == [30, 60, 90]


# ------------------------------------------------------------------------------ real media

def test_a_real_webcam_take_crushed_for_a_moment_is_one_shot(tmp_path):
    root = shared_dir("realworld/footage")
    if root is None:
        pytest.skip("../shared/realworld/footage is absent")
    ramp = "clip((n-40)/10,0,1)*clip((130-n)/10,0,1)"
    a = analyze_footage(_filtered(str(root / "makeup_webcam.avi"), tmp_path / "crush.mp4",
                                  f"eq=brightness='-0.55*{ramp}':eval=frame"), mode="full")
    assert len(a.shots) == 1, [(s.start_frame, s.end_frame) for s in a.shots]


def test_real_cuts_that_only_change_the_colour_are_kept():
    root = shared_dir("media")
    if root is None or not (root / "counter.mp4").is_file():
        pytest.skip("../shared/media/counter.mp4 is absent")
    a = analyze_footage(str(root / "counter.mp4"), mode="full")
    assert _bounds(a) == [10, 20]


def test_the_tone_fit_matches_scikit_learns_isotonic_regression():
    sk = pytest.importorskip("sklearn.isotonic")
    rng = np.random.default_rng(7)
    for k in range(40):
        x = np.round(rng.uniform(0, 255, 576) / (1 + k % 4))  # ties, as clipped pixels give
        y = np.clip(0.6 * x - 50, 0, 255) + rng.normal(0, 15, x.size)
        assert np.allclose(isotonic_fit(x, y), sk.IsotonicRegression().fit_transform(x, y), atol=1e-9)
