"""Exposure drift inside one take is neither a cut nor a dissolve.

An iris closing, auto-exposure hunting or a cloud passing changes the picture's exposure over
a few frames. Clipping at black or white makes that change non-linear, so the boundary
detector's brightness-invariant structure distance (mean/contrast-normalised luma,
:mod:`.shot_signatures`) moves, and a crush or a blow-out can read as a cut or a dissolve
(measured: real makeup_webcam with a 10-frame crush put in by ffmpeg's ``eq`` was cut into
0-46, 46-126, 126-165; the generated exposure ramps of ``tests/test_exposure.py`` split too).

:func:`without_exposure_drift` removes a boundary whose two sides are *the same picture at
another exposure*, judged on the 32x18 colour thumbnails the detector keeps of every frame
(no second decode), between the last frame before the boundary and the first after it (a
cut: the two frames either side; a dissolve: the frames either side of its span). All three
must hold:

* **the exposure moved**: the mean luma's distance from its nearer clip point (black or
  white) changed by at least :data:`EXPOSURE_RATIO` times (a crush, a blow-out);
* **same picture up to a tone curve**: one side's luma is a monotone (isotonic) function of
  the other's, explaining at least :data:`TONE_R2` of its variance (the better direction, at
  the best of the shifts up to one thumbnail pixel: the camera moves a little over a
  dissolve's span). An exposure change is a monotone tone curve with clipping; a cut to
  another picture is not (where one side is washed out, all but flat at a clip point, the
  bar is :data:`TONE_R2_WASHED`);
* **same colours**: where both sides have colour left (every channel off the clip points),
  each pixel's chroma (R-Y, B-Y) is the other side's scaled by one factor (an offset on luma
  keeps chroma, a gain scales it) to within :data:`CHROMA_RESIDUAL` of its energy. A cut
  that only changes the background colour behind the same lettering (``shared/media/
  counter.mp4``) has the same tone structure but not the same colours, and stays a cut.

Measured on the 25 boundaries the detector finds in ``shared/realworld/footage`` and
``shared/media``: real cuts and dissolves have a tone fit of at most 0.66 (robot_hoops, the
bokeh dissolve) but for counter.mp4's colour changes (0.94-0.97, chroma residual 1.0); the
boundaries put in by the exposure faults of bench/exposure_drift_real.py 0.79-1.00, with a
chroma residual of at most 0.51 where any colour is left. Every real boundary is kept
(bench/footage_real.py), and of the 10 false boundaries the faults put in, the 8 that were
cuts or dissolves are gone; the other 2 are a black run (the crushed film is near black).
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np

from montage_ai.core.analysis.shot_types import STRUCTURED_STD, ShotResult

log = logging.getLogger(__name__)

#: The mean luma's distance from its nearer clip point changes at least this many times.
EXPOSURE_RATIO = 1.25
#: Variance of one side's luma explained by a monotone tone curve of the other's...
TONE_R2 = 0.75
#: ...or this much where one side is washed out: its mean within WASHED_MEAN (8-bit) of a clip
#: point and its luma std under the detector's STRUCTURED_STD (what is left of the picture is
#: faint, and compression noise is much of its variance: measured 0.67-0.80 on the generated
#: blow-out, 0.03-0.22 for such a side against another picture).
TONE_R2_WASHED = 0.5
WASHED_MEAN = 16.0
#: Largest residual energy share of the chroma fit (where both sides have colour left).
CHROMA_RESIDUAL = 0.6
#: 8-bit levels counted as clipped (a thumbnail pixel at or beyond them has lost its colour).
CLIP_LOW, CLIP_HIGH = 12.0, 243.0
#: Fewest pixels with colour on both sides for the chroma test to count.
CHROMA_MIN_PIXELS = 10
#: Largest shift (thumbnail pixels) tried between the two sides.
MAX_SHIFT = 1

#: ``thumb(i)``: the 32x18 BGR float thumbnail of frame ``i``, or None when not decoded.
Thumbs = Callable[[int], "np.ndarray | None"]


def _luma(img: np.ndarray) -> np.ndarray:
    return img[..., 0] * 0.114 + img[..., 1] * 0.587 + img[..., 2] * 0.299


def exposure_ratio(a: np.ndarray, b: np.ndarray) -> float:
    """How many times the mean luma's distance from its nearer clip point differs between
    thumbnails ``a`` and ``b`` (1.0: the same exposure).

    >>> exposure_ratio(np.full((18, 32, 3), 80.0), np.full((18, 32, 3), 20.0))
    4.0
    """
    da, db = (max(1.0, min(m, 255.0 - m)) for m in (float(_luma(a).mean()), float(_luma(b).mean())))
    return max(da, db) / min(da, db)


def isotonic_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The least-squares non-decreasing function of ``x`` fitted to ``y`` (pool adjacent
    violators, equal ``x`` pooled first), at every point, in the input order.

    The same values as scikit-learn's ``IsotonicRegression().fit_transform`` (tested), which
    this replaces here: importing it (and scipy) costs a footage-only process 0.36-0.5 s, more
    than the analysis of a small clip; this takes about 0.3 ms for a 32x18 thumbnail.

    >>> isotonic_fit(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0, 4.0])).tolist()
    [1.0, 2.5, 2.5, 4.0]
    """
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], np.asarray(y, np.float64)[order]
    _, start, counts = np.unique(xs, return_index=True, return_counts=True)
    sums = np.add.reduceat(ys, start)
    vals: list[float] = []
    weights: list[int] = []
    for total, n in zip(sums.tolist(), counts.tolist()):
        v, w = total / n, n
        while vals and vals[-1] > v:  # pool the block before while it breaks the order
            pv, pw = vals.pop(), weights.pop()
            v, w = (pv * pw + v * w) / (pw + w), pw + w
        vals.append(v)
        weights.append(w)
    out = np.empty(ys.size)
    out[order] = np.repeat(vals, weights)
    return out


def _isotonic_r2(x: np.ndarray, y: np.ndarray) -> float:
    """Share of ``y``'s variance explained by the best non-decreasing function of ``x``."""
    var = float(y.var())
    if var < 1.0:  # a flat side: nothing to explain, nothing to compare
        return float("nan")
    return 1.0 - float(((y - isotonic_fit(x, y)) ** 2).mean()) / var


def tone_fit(a: np.ndarray, b: np.ndarray, max_shift: int = MAX_SHIFT, enough: float = float("inf")) -> float:
    """How well a monotone tone curve maps one thumbnail's luma onto the other's (R², the
    better direction, best over shifts up to ``max_shift`` pixels; NaN when both are flat).

    Both directions: the side that lost its detail to clipping is a function of the other,
    but when it is nearly all clipped its variance is mostly noise, and the other direction
    (the clipped stretch one level, the rest following) is the one that fits.

    >>> rng = np.random.default_rng(0)
    >>> pic = rng.uniform(0, 255, (18, 32, 1)).repeat(3, -1)
    >>> round(tone_fit(pic, np.clip(pic - 120.0, 0, 255)), 2)  # crushed: a tone curve
    1.0
    >>> tone_fit(pic, rng.uniform(0, 255, (18, 32, 3))) < 0.2  # another picture
    True

    ``enough``: stop at the first fit that reaches it (the caller only asks whether the best
    does; the best of the rest can only be higher).
    """
    ya, yb = _luma(a), _luma(b)
    h, w = ya.shape
    best = float("nan")
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            x = ya[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)].ravel()
            y = yb[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)].ravel()
            for fit in (lambda: _isotonic_r2(x, y), lambda: _isotonic_r2(y, x)):
                r2 = fit()
                if np.isfinite(r2) and not r2 <= best:
                    best = r2
                    if best >= enough:
                        return best
    return best


def chroma_residual(a: np.ndarray, b: np.ndarray) -> float:
    """Residual energy share when each side's chroma (R-Y, B-Y) is fitted as the other's
    times one factor, over pixels with colour on both sides (every channel off the clip
    points): the worse direction, 0 for the same colours at another exposure, about 1 for
    other colours; 0 when both are grey, NaN when too few pixels have colour on both sides.

    >>> grey = np.full((18, 32, 3), 100.0)
    >>> red = grey + np.array([-20.0, -20.0, 60.0])
    >>> chroma_residual(red, red * 0.5 + 10), round(chroma_residual(grey, red), 2)
    (0.0, 1.0)
    """
    ok = ((a.min(-1) > CLIP_LOW) & (a.max(-1) < CLIP_HIGH) & (b.min(-1) > CLIP_LOW) & (b.max(-1) < CLIP_HIGH))
    if int(ok.sum()) < CHROMA_MIN_PIXELS:
        return float("nan")
    ya, yb = _luma(a), _luma(b)
    ca = np.stack([a[..., 2] - ya, a[..., 0] - ya], -1)[ok]
    cb = np.stack([b[..., 2] - yb, b[..., 0] - yb], -1)[ok]
    na, nb = float((ca * ca).sum()), float((cb * cb).sum())
    if max(na, nb) / int(ok.sum()) < 4.0:  # both grey (under 2 levels of chroma a pixel)
        return 0.0
    dot = float((ca * cb).sum())
    res_b = float(((cb - max(0.0, dot / max(na, 1e-9)) * ca) ** 2).sum()) / max(nb, 1e-9)
    res_a = float(((ca - max(0.0, dot / max(nb, 1e-9)) * cb) ** 2).sum()) / max(na, 1e-9)
    return round(min(1.5, max(res_a, res_b)), 6)


def washed(img: np.ndarray) -> bool:
    """The thumbnail is all but gone at a clip point (see :data:`TONE_R2_WASHED`)."""
    y = _luma(img)
    m = float(y.mean())
    return min(m, 255.0 - m) <= WASHED_MEAN and float(y.std()) < STRUCTURED_STD


def is_exposure_drift(a: np.ndarray, b: np.ndarray) -> bool:
    """Thumbnails ``a`` (before a boundary) and ``b`` (after it) show the same picture at
    another exposure (see the module docstring)."""
    if exposure_ratio(a, b) < EXPOSURE_RATIO:
        return False
    need = TONE_R2_WASHED if washed(a) or washed(b) else TONE_R2
    if not tone_fit(a, b, enough=need) >= need:
        return False
    chroma = chroma_residual(a, b)
    return not chroma > CHROMA_RESIDUAL  # NaN: no colour left to tell (crushed or blown out)


def without_exposure_drift(result: ShotResult, thumb: Thumbs) -> ShotResult:
    """``result`` without the cuts and dissolves across which the picture is the same at
    another exposure (:func:`is_exposure_drift` of the frame before and the frame after).
    ``thumb(i)`` gives frame ``i``'s thumbnail (None where not decoded: the boundary stays).

    >>> from montage_ai.core.analysis.shot_types import ShotSegment
    >>> rng = np.random.default_rng(1)
    >>> pic = rng.uniform(0, 255, (18, 32, 1)).repeat(3, -1)
    >>> frames = [pic] * 5 + [np.clip(pic - 150.0, 0, 255)] * 5
    >>> r = ShotResult((5,), (), (), (ShotSegment(0, 5, False, None, None), ShotSegment(5, 10, False, None, None)))
    >>> without_exposure_drift(r, lambda i: frames[i] if 0 <= i < 10 else None).boundaries
    ()
    """

    def drift(before: int, after: int, what: str) -> bool:
        a, b = thumb(before), thumb(after)
        if a is None or b is None or not is_exposure_drift(a, b):
            return False
        log.info("%s dropped: frames %d and %d are one picture at another exposure", what, before, after)
        return True

    cuts = tuple(c for c in result.cuts if not drift(c - 1, c, f"cut at {c}"))
    transitions = tuple(t for t in result.transitions
                        if t.kind != "dissolve" or not drift(t.first - 1, t.last + 1, f"dissolve {t.first}-{t.last}"))
    if cuts == tuple(result.cuts) and transitions == tuple(result.transitions):
        return result
    from montage_ai.core.analysis.shots import segments_from_events  # shots hooks this module in

    frame_count = result.segments[-1].end_frame if result.segments else 0
    return ShotResult(cuts=cuts, transitions=transitions, blacks=result.blacks,
                      segments=segments_from_events(frame_count, cuts, result.blacks, transitions))
