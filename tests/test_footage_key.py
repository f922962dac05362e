"""Best-moment exposure judged against the shot's own key (issue 18): a low-key or high-key
shot with detail scores as well as the same shot at normal exposure; a crushed or blown frame
still scores low.

Generated media: a textured landscape pan (:mod:`montage_ai.core.samples.footage`) and the
same pan made low-key and high-key by ffmpeg's ``eq`` filter, keeping its detail (all three
through the same filter, contrast and lamp, so that only the exposure differs).
"""

from __future__ import annotations

import doctest
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from montage_ai.core.analysis import exposure as EX
from montage_ai.core.analysis import exposure_mark as XM
from montage_ai.core.analysis.footage import _score, analyze_footage
from montage_ai.core.samples.footage import Segment, render_footage

RATE = Fraction(25)
SIZE = (320, 180)
#: A lamp in the corner that stays lit (a low-key room keeps a light).
LAMP = "drawbox=x=240:y=20:w=30:h=20:color=white:t=fill"
#: Best-moment scores of the same shot at another exposure keep within this.
MARGIN = 0.05


@pytest.fixture(scope="module")
def pans(tmp_path_factory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("key")
    base = d / "pan.mp4"
    render_footage(base, [Segment("pan", 75, still="scene", pan_px_per_frame=1.5, grain=2.0)], rate=RATE, size=SIZE)
    out = {}
    # The same contrast and lamp in all three, so only the exposure differs.
    for name, vf in (("normal", f"eq=contrast=1.2,{LAMP}"), ("low", f"eq=gamma=0.45:contrast=1.2,{LAMP}"),
                     ("high", f"eq=gamma=2.2:brightness=0.05:contrast=1.2,{LAMP}")):
        path = d / f"{name}.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(base), "-vf", vf, "-c:v", "libx264", "-preset",
                        "veryfast", "-pix_fmt", "yuv420p", str(path)], check=True)
        out[name] = analyze_footage(str(path), mode="full")
    return out


def _best_and_mean(a) -> tuple[float, float]:
    scores = [v for s in a.shots if not s.black for v in s.scores]
    assert scores
    return max(scores), float(np.mean([v for v in scores if v > 0]))


def test_a_low_key_shot_with_detail_scores_as_the_normal_one(pans):
    a, normal = pans["low"], pans["normal"]
    assert max(e for e in a.exposure if e is not None) < 0.2  # the look is really dark...
    assert not [f for f in a.flags if f.reason in EX.REASONS]  # ...and has not lost its detail
    best, mean = _best_and_mean(a)
    nbest, nmean = _best_and_mean(normal)
    assert abs(best - nbest) <= MARGIN, (best, nbest)
    assert abs(mean - nmean) <= MARGIN, (mean, nmean)


def test_a_high_key_shot_keeps_its_exposure_marks(pans, monkeypatch):
    # Gamma 2.2 flattens the highlights' texture, so the high-key pan is less sharp (that part
    # of the score is the detail measure's, not exposure's); its exposure marks are full.
    a = pans["high"]
    assert min(e for e in a.exposure if e is not None) > 0.7
    assert not [f for f in a.flags if f.reason in EX.REASONS]
    marks: list[float] = []
    real = XM.exposure_mark
    monkeypatch.setattr(XM, "exposure_mark", lambda *args: marks.append(real(*args)) or marks[-1])
    analyze_footage(a.path, mode="full")
    assert marks and min(marks) >= 0.9, marks


def test_a_crushed_or_blown_frame_still_scores_low():
    low_key = XM.Key(0.12, 0.2)
    good = _score(0.8, 0.12, 0.0, 0.2, 0.0, 0.02, low_key)
    crushed = _score(0.8, 0.02, 0.0, 0.98, 0.0, 0.02, low_key)
    blown = _score(0.8, 0.97, 0.95, 0.0, 0.0, 0.02, XM.Key(0.8, 0.1))
    assert good - crushed >= 0.24 and good - blown >= 0.24  # no exposure marks (0.25 of the score)
    # A shot the detector made of a blown stretch alone: its key is blown, still no marks.
    assert XM.exposure_mark(0.99, 0.97, 0.0, XM.Key(0.99, 0.97)) == 0.0
    # A low-key frame that sank to well over its shot's black share loses most of its marks,
    # without being crushed outright; the same share in a shot whose key it is loses none.
    assert XM.exposure_mark(0.07, 0.0, 0.5, low_key) < 0.2
    assert XM.exposure_mark(0.07, 0.0, 0.5, XM.Key(0.07, 0.5)) == 1.0
    # A frame caught mid-change, far off its shot's key, loses marks too.
    assert XM.exposure_mark(0.5, 0.0, 0.0, low_key) < 0.2 < XM.exposure_mark(0.2, 0.0, 0.0, low_key)


def test_low_key_frames_no_longer_lose_to_mid_grey_for_their_look():
    # The same sharp, steady frame: in a low-key shot at its key, and mid-grey in a mid-grey shot.
    low = _score(0.8, 0.12, 0.0, 0.25, 0.001, 0.02, XM.shot_key([(0.12, 0.0, 0.25)] * 5))
    mid = _score(0.8, 0.45, 0.0, 0.0, 0.001, 0.02, XM.shot_key([(0.45, 0.0, 0.0)] * 5))
    assert abs(low - mid) < 0.01


def test_the_weighing_examples_hold():
    assert doctest.testmod(XM).failed == 0
    assert doctest.testmod(EX).failed == 0
