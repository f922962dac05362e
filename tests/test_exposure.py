"""Exposure judged against the shot's own key: blown-out and crushed stretches are flagged and
never reach a cut or the selects; low-key and high-key looks and fades are not flagged.

Generated media: a landscape pan rendered by :mod:`montage_ai.core.samples.footage`, its
exposure then changed over time by ffmpeg's ``eq`` filter as a camera's iris or
auto-exposure would (a ramp of half a second, a hold, a ramp back). The real clips of
../shared/realworld/footage and ../shared/media are used when present and skipped otherwise.
"""

from __future__ import annotations

import math
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from montage_ai.core.analysis.exposure import BLOWN, CRUSHED, exposure_flags
from montage_ai.core.analysis.footage import Shot, analyze_footage, excluded_mask
from montage_ai.core.analysis.quality import REASONS, Flag
from montage_ai.core.analysis.shot_types import ShotSegment
from montage_ai.core.cut.assembly import assemble
from montage_ai.core.cut.select_windows import flagged_share
from montage_ai.core.cut.selects import choose_selects, shot_keywords
from montage_ai.core.plan.planner import RulesPlanner, make_request
from montage_ai.core.plan.styles import load_style
from montage_ai.core.samples.footage import Segment, render_footage
from shared_media import shared_dir
from test_planner import music

RATE = Fraction(25)
SIZE = (320, 180)
#: Exposure off from frame 25, fully off 37..63, back by frame 75 (ffmpeg expression).
RAMP = "clip((n-25)/12,0,1)*clip((75-n)/12,0,1)"
#: A lamp in the corner that stays lit whatever the exposure (so a crushed frame is not black).
LAMP = "drawbox=x=240:y=20:w=30:h=20:color=white:t=fill"


def _exposed(a, reason: str | None = None) -> set[int]:
    out: set[int] = set()
    for f in a.flags:
        if f.reason in ((reason,) if reason else (BLOWN, CRUSHED)):
            out.update(range(f.first, f.last + 1))
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("exposure") / "pan.mp4"
    render_footage(path, [Segment("pan", 100, still="scene", pan_px_per_frame=1.5, grain=2.0)], rate=RATE, size=SIZE)
    return str(path)


def _filtered(src: str, out: Path, vf: str) -> str:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", src, "-vf", vf, "-c:v", "libx264", "-preset", "veryfast",
                    "-pix_fmt", "yuv420p", str(out)], check=True)
    return str(out)


# ------------------------------------------------------------------------------ the rule itself

def _segs(n: int) -> list[ShotSegment]:
    return [ShotSegment(0, n, False, None, None)]


def _rows(lo: np.ndarray, hi: np.ndarray | None = None, step: int = 3) -> dict[int, tuple]:
    hi = np.zeros_like(lo) if hi is None else hi
    return {i: (None, None, 0.0, 0.0, float(hi[i]), float(lo[i])) for i in range(0, lo.size, step)}


def test_a_shot_whose_key_is_a_third_black_is_its_look_not_crushed():
    n = 90
    lo = np.full(n, 0.35)
    mean = np.full(n, 60.0)
    assert exposure_flags(mean, _rows(lo), _segs(n)) == []


def test_the_same_shot_sinking_to_black_with_its_highlights_is_crushed_and_its_lights_leaving_is_not():
    n = 90
    lo = np.full(n, 0.3)
    mean = np.full(n, 70.0)  # the rest of the picture: 100 over black
    lo[30:60], mean[30:60] = 0.8, 4.0  # iris shut: three quarters black, the rest 20 over black
    flags = exposure_flags(mean, _rows(lo), _segs(n))
    assert [(f.reason, f.first <= 30, f.last >= 59, f.first >= 28, f.last <= 61) for f in flags] == \
        [(CRUSHED, True, True, True, True)], flags
    lights_out = np.full(n, 70.0)
    lights_out[30:60] = 20.0  # more black, but the rest as bright as before (100 over black)
    assert exposure_flags(lights_out, _rows(lo), _segs(n)) == []


def test_most_of_the_frame_white_with_nothing_left_is_blown_out_in_any_shot():
    n = 60
    hi, mean = np.full(n, 0.6), np.full(n, 248.0)  # a whole shot washed out
    flags = exposure_flags(mean, _rows(np.zeros(n), hi), _segs(n))
    assert [(f.first, f.last, f.reason) for f in flags] == [(0, n - 1, BLOWN)]
    assert "60 % of the frame clipped to white" == flags[0].detail
    bright = np.full(n, 200.0)  # a high-key shot with the same white areas but detail in the rest
    assert exposure_flags(bright, _rows(np.zeros(n), np.full(n, 0.3)), _segs(n)) == []


def test_transitions_black_runs_flashes_and_fade_tails_are_not_exposure_flags():
    n = 60
    lo, mean = np.zeros(n), np.full(n, 110.0)
    lo[:12], mean[:12] = 0.9, np.linspace(1.0, 12.0, 12)  # a fade from black...
    fade_in = [ShotSegment(0, n, False, (0, 11), None)]  # ...spanned as a transition
    assert exposure_flags(mean, _rows(lo), fade_in) == []
    assert exposure_flags(mean, _rows(lo), _segs(n)) == []  # not spanned: a steady ramp at the edge
    flat = mean.copy()
    flat[:12] = 3.0  # no ramp: crushed at the start of the shot
    assert [f.reason for f in exposure_flags(flat, _rows(lo), _segs(n))] == [CRUSHED]
    black = [ShotSegment(0, n, True, None, None)]
    assert exposure_flags(flat, _rows(lo), black) == []
    hi, bright = np.zeros(n), np.full(n, 110.0)
    hi[30:33], bright[30:33] = 0.9, 250.0
    assert [f.reason for f in exposure_flags(bright, _rows(np.zeros(n), hi, 1), _segs(n))] == [BLOWN]
    assert exposure_flags(bright, _rows(np.zeros(n), hi, 1), _segs(n), [Flag(29, 33, "flash")]) == []


def test_the_reasons_are_listed_and_selects_name_them_as_exposure():
    assert BLOWN in REASONS and CRUSHED in REASONS
    shot = Shot(0, 0, 50, 0.0, 2.0, None, None, False, 0, 50, 25, None, 0.01, 0.001, 100.0, 0.3, 0.0, 0.6, 20.0,
                25, (0, 25), (0.5, 0.6), flagged=(Flag(0, 49, CRUSHED, "85 % of the frame at black"),))
    assert flagged_share(shot) == [("dark", "crushed (85 % of the frame at black): 100 % of the usable frames flagged")]
    assert "Under-exposed" in shot_keywords(shot, ("dark",))


# ------------------------------------------------------------------------------ generated media

def test_low_key_and_high_key_shots_with_detail_are_not_flagged(base, tmp_path):
    low = analyze_footage(_filtered(base, tmp_path / "low.mp4", f"eq=gamma=0.45:contrast=1.2,{LAMP}"), mode="full")
    high = analyze_footage(_filtered(base, tmp_path / "high.mp4", "eq=gamma=2.2:brightness=0.05"), mode="full")
    assert max(e for e in low.exposure if e is not None) < 0.2  # it is dark...
    assert min(e for e in high.exposure if e is not None) > 0.7  # ...and this bright
    assert not _exposed(low), low.flags
    assert not _exposed(high), high.flags


def _cut_frames(analyses) -> dict[str, list[tuple[int, int]]]:
    style = load_style("dynamic")
    m = music(bpm=120.0, path="/music/exposure.wav")
    plan = RulesPlanner().plan(make_request(analyses, m, style, seed=1, duration_s=5.0))
    cl = assemble(plan, analyses, m, style, seed=1, duration_s=5.0)
    out: dict[str, list[tuple[int, int]]] = {}
    for c in cl.cuts:
        out.setdefault(c.source_path, []).append((c.source_in, math.ceil(c.source_out(cl.rate))))
    return out


@pytest.mark.parametrize("reason,vf", [(BLOWN, f"eq=brightness='0.75*{RAMP}':eval=frame"),
                                       (CRUSHED, f"eq=brightness='-0.6*{RAMP}':eval=frame,{LAMP}")])
def test_a_stretch_blown_out_or_crushed_mid_shot_is_flagged_and_kept_out_of_cuts_and_selects(base, tmp_path,
                                                                                              reason, vf):
    a = analyze_footage(_filtered(base, tmp_path / "hunt.mp4", vf), mode="full")
    flagged = _exposed(a, reason)
    excluded = excluded_mask(a)
    # The hold, wherever the detector split the shot: every frame of it in a shot's usable part
    # is flagged (one the detector put inside a transition span is excluded as that, below).
    usable = {i for s in a.shots for i in range(s.usable_start_frame, s.usable_end_frame)}
    hold = set(range(40, 61))
    assert hold & usable <= flagged and len(hold & flagged) >= 15, (a.flags, a.shots)
    assert excluded[37:64].all(), (a.flags, a.shots)
    assert not _exposed(a) & (set(range(0, 22)) | set(range(80, 100))), a.flags
    clean = analyze_footage(base, mode="full")
    assert not _exposed(clean)
    sel = choose_selects([a, clean], hashes={})
    assert any(p.path == a.path for p in sel.picks)  # the clean ends of the shot are still offered
    for p in sel.picks:
        if p.path == a.path:
            assert not excluded[p.source_in:p.source_out].any(), (p, a.flags)
    used = _cut_frames([a, clean])
    assert used.get(a.path), used
    for lo, hi in used[a.path]:
        assert not excluded[lo:hi].any(), (lo, hi, a.flags)


def test_fades_to_and_from_black_at_shot_edges_are_transitions_not_exposure_flags(tmp_path):
    path = tmp_path / "fades.mp4"
    render_footage(path, [Segment("pan", 50, still="scene", pan_px_per_frame=2, fade_out=12), Segment("black", 10),
                          Segment("mandelbrot", 40, fade_in=12)], rate=RATE, size=SIZE)
    a = analyze_footage(str(path), mode="full")
    assert any(s.black for s in a.shots)
    assert not _exposed(a), a.flags
    assert excluded_mask(a)[44:66].all()  # the dark end of the fade, the black, the dark start


# ------------------------------------------------------------------------------ real media

@pytest.mark.parametrize("name", ["makeup_webcam.avi", "tiffany_film.mp4", "robot_hoops.mp4"])
def test_real_low_key_and_pillarboxed_clips_are_not_flagged(name):
    root = shared_dir("realworld/footage")
    if root is None:
        pytest.skip("../shared/realworld/footage is absent")
    a = analyze_footage(str(root / name), mode="full")
    assert not _exposed(a), a.flags


def test_real_fades_to_black_are_not_exposure_flags():
    root = shared_dir("media")
    if root is None or not (root / "fades.mp4").is_file():
        pytest.skip("../shared/media/fades.mp4 is absent")
    a = analyze_footage(str(root / "fades.mp4"), mode="full")
    assert sum(s.black for s in a.shots) >= 3
    assert not _exposed(a), a.flags


def test_a_real_clip_washed_out_by_an_exposure_hunt_is_flagged(tmp_path):
    root = shared_dir("realworld/footage")
    if root is None:
        pytest.skip("../shared/realworld/footage is absent")
    src = str(root / "carphone.mp4")  # 120 frames, one take
    ramp = "clip((n-30)/10,0,1)*clip((90-n)/10,0,1)"
    a = analyze_footage(_filtered(src, tmp_path / "hunt.mp4", f"eq=brightness='0.55*{ramp}':eval=frame"), mode="full")
    assert set(range(45, 76)) <= _exposed(a, BLOWN), a.flags
    assert not _exposed(a) & set(range(0, 25)), a.flags
    assert not _exposed(analyze_footage(src, mode="full"))
