"""Gradual transitions inside one range: fades to and from black (a gain with unchanged
structure) and dissolves (linear blends of the frames either side, not a pan or an evolving
picture)."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np

from montage_ai.core.analysis.exposure_drift import is_exposure_drift
from montage_ai.core.analysis.shot_signatures import Signatures, _lag_distances, colour_distance, structure_distance
from montage_ai.core.analysis.shot_types import (
    _BLEND_EDGE,
    _BLEND_H,
    _BLEND_MONOTONE,
    _BLEND_RESIDUAL,
    _CUT_S,
    _ONE_IMAGE_RATIO,
    _STEADY_PX,
    _STEADY_SPREAD,
    FLAT_STD,
    Transition,
    true_runs,
)


def _label_fades(transitions: list[Transition], blacks: list[tuple[int, int]]) -> list[Transition]:
    """A dissolve into (out of) a black run is a fade out (in); merge overlapping fades."""
    starts = {s for s, _ in blacks}
    ends = {e for _, e in blacks}
    out: list[Transition] = []
    fades = [t for t in transitions if t.kind != "dissolve"]
    for t in sorted(transitions, key=lambda t: t.kind == "dissolve"):
        for f in fades:  # a dissolve touching a fade is part of it
            if t.kind == "dissolve" and f.first <= t.last + 2 and t.first <= f.last + 2:
                t = Transition(f.kind, t.first, t.last)
                break
        if t.kind == "dissolve" and (t.last + 1 in starts or t.last + 2 in starts):
            t = Transition("fade_out", t.first, t.last)
        elif t.kind == "dissolve" and (t.first - 1 in ends or t.first - 2 in ends):
            t = Transition("fade_in", t.first, t.last)
        for i, u in enumerate(out):
            if u.kind == t.kind and u.first <= t.last + 1 and t.first <= u.last + 1:
                out[i] = Transition(t.kind, min(u.first, t.first), max(u.last, t.last))
                break
        else:
            out.append(t)
    return out


def _fade_span(sig: Signatures, a: int, b: int, *, backwards: bool, white: bool = False) -> tuple[int, int] | None:
    """Frames of piece ``[a, b)`` fading towards the black (``white``: white) run at its end
    (or start)."""
    mean = sig.mean
    z = sig.z
    order = range(b - 1, a, -1) if backwards else range(a, b - 1)
    first = None
    last = None
    for j in order:
        k = j - 1 if backwards else j + 1  # the neighbour farther from black
        # Distance from the colour faded to: the frame farther from the run is farther from it.
        far, near = (255.0 - mean[k], 255.0 - mean[j]) if white else (mean[k], mean[j])
        brighter = far - near > max(0.25, 0.015 * far)
        same = sig.std[j] < 3.0 * FLAT_STD or float(1.0 - z[k] @ z[j]) < 0.25
        # A fade is a gain: contrast scales with brightness (a pan that brightens does not).
        gain = far / max(float(near), 0.5)
        scaled = sig.std[j] < 4.0 or sig.std[k] >= sig.std[j] * (1.0 + 0.4 * (gain - 1.0))
        if not (brighter and same and scaled):
            break
        if backwards:
            first, last = j, (last if last is not None else j)
        else:
            first, last = (first if first is not None else j), j
    if first is None:
        return None
    span = (first, last) if backwards else (first, last)
    if span[1] - span[0] + 1 < 2:
        return None
    return span


def _dissolves(sig: Signatures, a: int, b: int, rate: Fraction, *, at_start: bool, at_end: bool):
    """Dissolves inside piece ``[a, b)``: yields ``((first, last), need_before, need_after)``."""
    K = max(3, int(round(float(rate) * 0.4)))
    if b - a < 2 * K + 1:
        return
    dS, dH = _lag_distances(sig.take(slice(a, b)), 2 * K)
    g = np.maximum(dS / _CUT_S, dH / _BLEND_H)         # g[j]: frames a+j and a+j+2K
    hot = g >= 1.0
    for s, e in true_runs(hot):
        ra, rb = a + s, a + e + 2 * K                    # reference frames (pure A, pure B)
        span = _blend_span(sig, ra, rb, a, b)
        spans = [span] if span is not None else _window_spans(sig, ra, rb, a, b, K)
        need_before = s == 0 and not at_start
        need_after = e == hot.size - 1 and not at_end
        for span in spans:
            yield span, need_before, need_after


def _window_spans(sig: Signatures, ra: int, rb: int, a: int, b: int, K: int) -> list[tuple[int, int]]:
    """Blends inside a long run of change the run's own ends cannot explain: a dissolve
    whose outgoing (or incoming) side pans keeps changing before (after) the blend, so the
    run's ends are far from it and the shots have moved on. The same test on windows of
    2K and 3K frames sliding along the run (references close to the blend, where neither
    side has moved far); overlapping finds are one span."""
    found: list[tuple[int, int]] = []
    for width in (2 * K, 3 * K):
        for j in range(ra, rb - width + 1, max(1, K // 2)):
            span = _blend_span(sig, j, j + width, a, b, settle=False)
            # Only where one side really moves like a camera move (steadily): that is what
            # hid the blend from the run's own ends; lights drifting in a defocused shot
            # or a blob crossing it do not move steadily.
            if span is not None and (_steady_move(sig, max(a, span[0] - 6), span[0] - 1) or
                                     _steady_move(sig, span[1] + 1, min(b - 1, span[1] + 6))):
                found.append(span)
    merged: list[tuple[int, int]] = []
    for f0, f1 in sorted(found):
        if merged and f0 <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], f1))
        else:
            merged.append((f0, f1))
    return [_settled_ends(sig, f0, f1, a, b) for f0, f1 in merged]


def _blend_fit(sig: Signatures, ra: int, rb: int):
    """``alpha`` and the relative residual of frames ``ra..rb`` as blends of the two (a pure
    function of the range: the windows sliding along a run of change refine to the same ends
    again and again, so each pair is fitted once a range; callers only read the arrays)."""
    key = ("blend", ra, rb)
    if key not in sig.memo:
        sig.memo[key] = _fit_blend(sig, ra, rb)
    return sig.memo[key]


def _fit_blend(sig: Signatures, ra: int, rb: int):
    A = sig.thumb[ra].ravel().astype(np.float64)
    B = sig.thumb[rb].ravel().astype(np.float64)
    dAB = B - A
    norm2 = float(dAB @ dAB)
    if norm2 < 1e-6:
        return None
    # The float32 thumbnails widened and offset in one pass (the same values as a float64 copy
    # less A), and the residual rows' norms as ``np.linalg.norm(..., axis=1)`` takes them (the
    # root of the sum of squares along each row), in place, without its temporaries.
    X = np.subtract(sig.thumb[ra:rb + 1].reshape(rb - ra + 1, -1), A)
    alpha = X @ dAB / norm2
    r = np.multiply.outer(alpha, dAB)
    np.subtract(X, r, out=r)
    np.multiply(r, r, out=r)
    resid = np.sqrt(np.add.reduce(r, axis=1)) / np.sqrt(norm2)
    return alpha, resid


#: The tail of a transition that is not a linear blend (an iris, a wipe with a dissolve: its
#: last frames are the new picture with darker edges, mix close to 1) is the frames that still
#: change, on a coarse grid (:func:`_coarse`, each cell's level less the frame's mean per
#: channel: film flicker and exposure drift are no change of the picture), by more than
#: :data:`_TAIL_RATIO` times the settled side's own drift (median steps over windows of
#: :data:`_TAIL_DRIFT_FRAMES` frames beyond) and more than :data:`_TAIL_FLOOR` levels RMS
#: (measured on tiffany_film's iris: tail frames 175-177 move 3.9-7.1 levels against a drift
#: of 1.2-1.9, the settled 178-179 0.9-1.2; the new shot's own motion from 183 on moves 1.8-2.3
#: against a drift of 0.5, so there the floor is what holds, by a thin margin).
_TAIL_RATIO = 1.5
_TAIL_DRIFT_FRAMES = 5
_TAIL_FLOOR = 2.0


def _coarse(sig: Signatures, lo: int, hi: int) -> np.ndarray:
    """Frames ``lo..hi``'s thumbnails as 8x3 cells (4x6 pixel means), less each frame's mean
    per channel, flattened and scaled so that distances are RMS levels."""
    t = sig.thumb[lo:hi + 1].astype(np.float64)
    n, h, w, ch = t.shape
    c = t[:, :h - h % 3, :w - w % 8].reshape(n, 3, h // 3, 8, w // 8, ch).mean(axis=(2, 4))
    c -= c.mean(axis=(1, 2), keepdims=True)
    return c.reshape(n, -1) / np.sqrt(c[0].size)


def _settled_ends(sig: Signatures, first: int, last: int, a: int, b: int) -> tuple[int, int]:
    """Widen span ``first..last`` of a blend over the frames beside it, inside piece
    ``[a, b)``, that still change towards the settled side (:data:`_TAIL_RATIO`).

    A frame ``f`` past ``last`` belongs to the tail when it differs from both ``f + 1`` and
    ``f + 2`` by more than the drift, and ``f - 1`` was farther from ``f + 2`` than it is (the
    picture keeps approaching the settled side: a one-frame flicker right after the span
    differs from its neighbours too, but the frame before it is as close to what follows).
    The drift is the calmer of the median steps over the next :data:`_TAIL_DRIFT_FRAMES`
    frames and the ones after them (a long tail's own steps fill the first window). The
    same backwards before ``first``. A blend between one picture at two exposures is left
    as it is (``exposure_drift.without_exposure_drift`` drops it by its ends; widened, they
    would lie inside the exposure ramp)."""
    if is_exposure_drift(sig.thumb[max(a, first - 1)], sig.thumb[min(b - 1, last + 1)]):
        return first, last  # one picture at another exposure: not a transition (.exposure_drift)
    W = _TAIL_DRIFT_FRAMES
    lo, hi = max(a, first - 2 * W - 3), min(b - 1, last + 2 * W + 3)
    c = _coarse(sig, lo, hi)

    def dist(i: int, j: int) -> float:
        return float(np.linalg.norm(c[i - lo] - c[j - lo]))

    def changing(f: int, s: int) -> bool:  # s: +1 towards the settled side after, -1 before
        end = hi if s > 0 else lo
        steps = [dist(j, j + s) for j in range(f + s, end, s)][:2 * W]
        drift = min(float(np.median(steps[k:k + W])) for k in range(0, len(steps) - W + 1, W))
        move = min(dist(f, f + s), dist(f, f + 2 * s))
        return move > max(_TAIL_FLOOR, _TAIL_RATIO * drift) and dist(f - s, f + 2 * s) > dist(f, f + 2 * s)

    while last + W + 2 <= hi and changing(last + 1, 1):
        last += 1
        if hi < b - 1 and last + 2 * W + 2 > hi:
            hi = min(b - 1, last + 2 * W + 3)
            c = _coarse(sig, lo, hi)
    while first - W - 2 >= lo and changing(first - 1, -1):
        first -= 1
        if lo > a and first - 2 * W - 2 < lo:
            lo = max(a, first - 2 * W - 3)
            c = _coarse(sig, lo, hi)
    return first, last


def _row64(sig: Signatures, i: int) -> np.ndarray:
    """Frame ``i``'s thumbnail as one float64 row."""
    return sig.thumb[i].ravel().astype(np.float64)


def _mixed(alpha: np.ndarray) -> tuple[int, int] | None:
    inside = np.flatnonzero((alpha > _BLEND_EDGE) & (alpha < 1.0 - _BLEND_EDGE))
    if inside.size < 2:
        return None
    return int(inside[0]), int(inside[-1])


def _is_pan(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``b`` is ``a`` moved: a slow pan over smooth content mimics a blend."""
    ya = a[..., 0] * 0.114 + a[..., 1] * 0.587 + a[..., 2] * 0.299
    yb = b[..., 0] * 0.114 + b[..., 1] * 0.587 + b[..., 2] * 0.299
    (dx, dy), _ = cv2.phaseCorrelate(ya.astype(np.float32), yb.astype(np.float32))
    if abs(dx) < 0.5 and abs(dy) < 0.5:
        return False
    h, w = ya.shape
    moved = cv2.warpAffine(ya.astype(np.float32), np.float32([[1, 0, dx], [0, 1, dy]]), (w, h),
                           borderMode=cv2.BORDER_REPLICATE)
    m = 1 + int(np.ceil(max(abs(dx), abs(dy))))
    if 2 * m >= min(h, w):
        return False
    pa = moved[m:h - m, m:w - m].ravel()
    pb = yb[m:h - m, m:w - m].ravel()
    if pa.std() < 1e-3 or pb.std() < 1e-3:
        return False
    return float(np.corrcoef(pa, pb)[0, 1]) > 0.9


def _steady_move(sig: Signatures, lo: int, hi: int) -> bool:
    """Do frames ``lo..hi`` move steadily (a pan or tilt): a global shift (phase correlation
    of the 32x18 thumbnails' luma) of at least :data:`_STEADY_PX` per frame, each step
    within :data:`_STEADY_SPREAD` of the mean step?"""
    if hi - lo < 3:
        return False
    weights = np.array([0.114, 0.587, 0.299], np.float32)
    y = sig.thumb[lo:hi + 1] @ weights
    window = cv2.createHanningWindow((y.shape[2], y.shape[1]), cv2.CV_32F)
    steps = np.array([cv2.phaseCorrelate(np.ascontiguousarray(y[j]), np.ascontiguousarray(y[j + 1]), window)[0]
                      for j in range(y.shape[0] - 1)])
    mean = steps.mean(axis=0)
    speed = float(np.hypot(*mean))
    spread = float(np.sqrt(np.mean(np.sum((steps - mean) ** 2, axis=1))))
    return speed >= _STEADY_PX and spread <= _STEADY_SPREAD * speed


def _one_image(a: np.ndarray, b: np.ndarray, span: np.ndarray, alpha: np.ndarray) -> bool:
    """True when the span's middle frame (mix nearest one half) is one of its ends ``a``,
    ``b`` moved and re-exposed (global shift, per-channel gain and offset) at least about
    as well as it is their blend: a camera move with an exposure drift, not a dissolve,
    in which the middle frame holds both pictures and neither alone explains it."""
    k = int(np.argmin(np.abs(alpha - 0.5)))
    mid = span[k].astype(np.float64)
    blend = (1.0 - alpha[k]) * a.astype(np.float64) + alpha[k] * b.astype(np.float64)
    blend_rms = float(np.sqrt(np.mean((mid - blend) ** 2)))
    one = min(_reexposed_rms(end.astype(np.float64), mid) for end in (a, b))
    return one < _ONE_IMAGE_RATIO * max(blend_rms, 1e-6)


def _reexposed_rms(end: np.ndarray, target: np.ndarray) -> float:
    """RMS error of ``target`` as ``end`` moved by their global shift (phase correlation)
    with a least-squares gain and offset per channel, over the part both frames see."""
    h, w = target.shape[:2]
    weights = np.array([0.114, 0.587, 0.299])
    (dx, dy), _ = cv2.phaseCorrelate((end @ weights).astype(np.float32), (target @ weights).astype(np.float32))
    moved = cv2.warpAffine(end.astype(np.float32), np.float32([[1, 0, dx], [0, 1, dy]]), (w, h),
                           borderMode=cv2.BORDER_REPLICATE).astype(np.float64)
    m = min(4, 1 + int(np.ceil(max(abs(dx), abs(dy)))))
    if 2 * m >= min(h, w):
        return float("inf")
    e = moved[m:h - m, m:w - m].reshape(-1, 3)
    t = target[m:h - m, m:w - m].reshape(-1, 3)
    err = 0.0
    for c in range(3):
        design = np.stack([e[:, c], np.ones(e.shape[0])], axis=1)
        coef, *_ = np.linalg.lstsq(design, t[:, c], rcond=None)
        err += float(np.sum((design @ coef - t[:, c]) ** 2))
    return float(np.sqrt(err / t.size))


def _blend_span(sig: Signatures, ra: int, rb: int, a: int | None = None, b: int | None = None, *,
                settle: bool = True) -> tuple[int, int] | None:
    """If frames between ``ra`` and ``rb`` hold a blend of two shots, its span.

    The span is found against references at the run's ends, then refined against the
    frames just outside it (the shots move on meanwhile); the final fit must be a
    monotone blend with small residual, between references as different as a cut, and
    concentrate the change (a zoom or an animation changes evenly and fails).
    """
    fit = _blend_fit(sig, ra, rb)
    if fit is None:
        return None
    span = _mixed(fit[0])
    if span is None:
        return None
    first, last = ra + span[0], ra + span[1]
    for _ in range(4):
        na, nb = max(first - 1, ra), min(last + 1, rb)
        fit = _blend_fit(sig, na, nb) if nb - na >= 3 else None
        span = _mixed(fit[0]) if fit is not None else None
        if span is None or (na + span[0], na + span[1]) == (first, last):
            break
        first, last = na + span[0], na + span[1]
    na, nb = max(first - 1, ra), min(last + 1, rb)
    if nb - na < 3:
        return None
    fit = _blend_fit(sig, na, nb)
    if fit is None:
        return None
    alpha, resid = fit
    inner = slice(first - na, last - na + 1)
    al = alpha[inner]
    if float(np.mean(resid[inner])) > _BLEND_RESIDUAL:
        return None
    if al.size >= 3:
        t = np.arange(al.size, dtype=np.float64)
        corr = np.corrcoef(t, al)[0, 1]
        if not np.isfinite(corr) or corr < _BLEND_MONOTONE:
            return None
    if al.size >= 2 and np.any(np.diff(al) < -0.15):
        return None
    # The two ends differ like a cut.
    c = sig.conf
    dS = structure_distance(sig.z[na], sig.z[nb], c[na], c[nb])
    dH = colour_distance(sig.hist[na], sig.hist[nb])
    if max(dS / _CUT_S, dH / _BLEND_H) < 1.0:
        return None
    if _is_pan(sig.thumb[na], sig.thumb[nb]):
        return None
    if _one_image(sig.thumb[na], sig.thumb[nb], sig.thumb[na:nb + 1], alpha):
        return None
    # The change concentrates in the span: compare with the steps just outside it.
    m = max(2, (last - first + 1) // 2)
    lo, hi = max(ra, na - m), min(rb, nb + m)
    steps = np.linalg.norm(np.diff(sig.thumb[lo:hi + 1].reshape(hi - lo + 1, -1).astype(np.float64), axis=0), axis=1)
    inside = steps[na - lo:nb - lo]
    sides = [x for x in (steps[:na - lo], steps[nb - lo:]) if x.size]
    calm = min((float(np.median(x)) for x in sides), default=0.0)
    if sides and float(inside.mean()) < 1.3 * calm:
        return None
    # The net change across the span beats the drift over as many frames on either side:
    # a shot that evolves steadily (moving gradients, under grain that hides the per-step
    # difference) mixes linearly with itself too, but drifts as fast outside the span.
    a = ra if a is None else a
    b = rb + 1 if b is None else b
    length = nb - na
    across = float(np.linalg.norm(_row64(sig, nb) - _row64(sig, na)))
    drifts = []
    for lo_, hi_ in ((max(a, na - length), na), (nb, min(b - 1, nb + length))):
        if hi_ - lo_ >= 3:
            drifts.append(float(np.linalg.norm(_row64(sig, hi_) - _row64(sig, lo_))) * length / (hi_ - lo_))
    if drifts and across < 1.5 * min(drifts):
        return None
    return _settled_ends(sig, first, last, a, b) if settle else (first, last)
