"""Hard cuts and black runs over one contiguous range of signatures; the range's fades and
dissolves come from :mod:`.gradual`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable

import numpy as np

from montage_ai.core.analysis.gradual import _dissolves, _fade_span, _label_fades
from montage_ai.core.analysis.shot_signatures import Signatures, _lag_distances
from montage_ai.core.analysis.shot_types import (
    _CUT_H,
    _CUT_RATIO,
    _CUT_S,
    _MIN_CUT_GAP,
    BLACK_MEAN,
    BLACK_P99,
    CONFIRM_SCALE,
    PERSIST_FRAMES,
    WHITE_MEAN,
    WHITE_STD,
    Transition,
    true_runs,
)

log = logging.getLogger(__name__)


@dataclass
class RangeResult:
    """Events found in one contiguous range and whether it must grow to decide."""

    cuts: list[int] = field(default_factory=list)
    blacks: list[tuple[int, int]] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    extend_before: bool = False
    extend_after: bool = False


def black_flags(sig: Signatures) -> np.ndarray:
    """True for black or near-black frames."""
    return (sig.mean <= BLACK_MEAN) & (sig.p99 <= BLACK_P99)


def white_flags(sig: Signatures) -> np.ndarray:
    """True for white or near-white uniform frames (the bottom of a dip to white): slugs
    like black, with fades into and out of them."""
    return (sig.mean >= WHITE_MEAN) & (sig.std <= WHITE_STD)


def cut_scores(sig: Signatures, persist: int = PERSIST_FRAMES,
               threshold_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per position ``p`` (a cut between ``p-1`` and ``p``): ``(passes, clipped)``.

    ``clipped`` is true where the test's window runs past the range (undecided there).
    ``threshold_scale`` scales the change thresholds (below 1: a looser test, for cuts
    another detector proposed).
    """
    n = len(sig)
    passes = np.zeros(n, bool)
    clipped = np.zeros(n, bool)
    if n < 2:
        return passes, clipped
    P = persist
    # across[p]: min over k of d(p-1, p+k) and d(p-1-k, p), k = 0..P (within range).
    inf = np.inf
    across = {c: np.full(n, inf) for c in "SH"}
    for k in range(0, P + 1):
        dS, dH = _lag_distances(sig, k + 1)
        if not dS.size:
            break
        # d(p-1, p+k): pair (j, j+k+1) with j = p-1  -> p = j + 1
        for c, d in (("S", dS), ("H", dH)):
            a = across[c]
            a[1:1 + d.size] = np.minimum(a[1:1 + d.size], d)
            # d(p-1-k, p): pair (j, j+k+1) with j = p-1-k -> p = j + k + 1
            a[k + 1:k + 1 + d.size] = np.minimum(a[k + 1:k + 1 + d.size], d)
    d1S, d1H = _lag_distances(sig, 1)  # d1[j] = d(j, j+1): the step into frame j+1
    at = np.arange(n)
    clipped[1:] = ((at - 1 - P < 0) | (at + P > n - 1))[1:]
    tests = [(c, d1, thr, np.isfinite(across[c]) & (across[c] >= thr))
             for c, d1, thr in (("S", d1S, _CUT_S * threshold_scale), ("H", d1H, _CUT_H * threshold_scale))]
    # Only positions where a distance across reaches its threshold can pass: the rest stay False.
    for p in np.flatnonzero(tests[0][3] | tests[1][3]).tolist():
        if p < 1:
            continue
        lo = max(0, p - 1 - P)
        hi = min(n - 1, p + P)
        ok = False
        for c, d1, thr, reach in tests:
            acr = across[c][p]
            if not reach[p]:
                continue
            before = d1[lo:p - 1]      # steps inside lo..p-1
            after = d1[p:hi]           # steps inside p..hi
            calm = max(float(np.median(before)) if before.size else 0.0,
                       float(np.median(after)) if after.size else 0.0)
            if acr >= _CUT_RATIO * calm + 0.5 * thr:
                ok = True
                break
        passes[p] = ok
    return passes, clipped


def detect_range(sig: Signatures, rate: Fraction, *, at_start: bool, at_end: bool,
                 candidates: Iterable[int] = ()) -> RangeResult:
    """Find cuts, black runs and gradual transitions in consecutive frames ``sig``.

    ``at_start``/``at_end``: the range begins at the file's first frame / ends at its
    last; otherwise an event too close to that edge sets ``extend_before``/``after``.
    ``candidates``: cut frames proposed by another detector (PySceneDetect); each is
    accepted if the cut test passes at :data:`CONFIRM_SCALE` of its thresholds, else logged.
    """
    res = RangeResult()
    n = len(sig)
    if n == 0:
        return res
    base = int(sig.index[0])
    margin = PERSIST_FRAMES + 1

    # Black runs.
    white = white_flags(sig)
    black = black_flags(sig) | white
    for s, e in true_runs(black):
        if s == 0 and not at_start:
            res.extend_before = True
        if e == n - 1 and not at_end:
            res.extend_after = True
        res.blacks.append((base + s, base + e))

    # Hard cuts (not inside black runs: a run's edges are boundaries already).
    passes, clipped = cut_scores(sig)
    proposed = [c - base for c in candidates if 0 < c - base < n]
    if proposed:
        confirmed, _ = cut_scores(sig, threshold_scale=CONFIRM_SCALE)
        for p in proposed:
            if confirmed[p] and not passes[p]:
                log.debug("PySceneDetect cut at frame %d confirmed by the looser test", base + p)
                passes[p] = True
            elif not confirmed[p] and not (black[p] or black[p - 1]):
                log.debug("PySceneDetect cut at frame %d rejected (no persistent change)", base + p)
    for p in np.flatnonzero(passes).tolist():
        if black[p] and black[p - 1]:
            continue
        if black[p] != black[p - 1]:
            continue  # the edge of a black run
        if any(0 <= q < n and white[q] for q in (p - 2, p + 1)):
            continue  # the first step of a fade out of (into) white: part of the fade
        if clipped[p]:
            if p - 1 - PERSIST_FRAMES < 0 and not at_start:
                res.extend_before = True
            if p + PERSIST_FRAMES > n - 1 and not at_end:
                res.extend_after = True
        if res.cuts and base + p - res.cuts[-1] <= _MIN_CUT_GAP:
            continue  # a one- or two-frame glitch after a cut belongs to the new shot
        res.cuts.append(base + p)

    # Pieces between cuts and black runs: fades next to black, dissolves inside.
    edges = sorted({0, n} | {c - base for c in res.cuts}
                   | {s - base for s, _ in res.blacks} | {e - base + 1 for _, e in res.blacks})
    pieces = [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a and not black[a]]
    for a, b in pieces:
        # Fade out into a black run that follows the piece.
        if b < n and black[b]:
            f = _fade_span(sig, a, b, backwards=True, white=bool(white[b]))
            if f is not None:
                if f[0] == 0 and not at_start:
                    res.extend_before = True
                res.transitions.append(Transition("fade_out", base + f[0], base + f[1]))
        if a > 0 and black[a - 1]:
            f = _fade_span(sig, a, b, backwards=False, white=bool(white[a - 1]))
            if f is not None:
                if f[1] == n - 1 and not at_end:
                    res.extend_after = True
                res.transitions.append(Transition("fade_in", base + f[0], base + f[1]))
        for t, need_before, need_after in _dissolves(sig, a, b, rate, at_start=at_start or a > 0,
                                                     at_end=at_end or b < n):
            res.transitions.append(Transition("dissolve", base + t[0], base + t[1]))
            res.extend_before |= need_before
            res.extend_after |= need_after
    res.transitions = _label_fades(res.transitions, res.blacks)
    # A cut inside a fade or at its dark end is the fade's own step.
    res.cuts = [c for c in res.cuts
                if not any(t.kind != "dissolve" and t.first <= c <= t.last + 1 for t in res.transitions)]
    if not at_start and any(c - base <= margin for c in res.cuts):
        res.extend_before = True
    return res
