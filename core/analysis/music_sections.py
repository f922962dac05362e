"""Beat energy and sections: how loud each beat is, and where the song's parts begin.

:func:`beat_energy` (RMS from beat to beat) and :func:`beat_low_energy` (the kick and bass band)
give one value per beat; :func:`find_sections` cuts bar-level features into sections by Ward
clustering along time, so boundaries fall on bar lines, and labels them by similarity
(:func:`section_label` spells a label index "A", "B", ... "Z", "AA").
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from montage_ai.core.analysis.music_signal import N_FFT

log = logging.getLogger(__name__)

__all__ = ["LOW_BAND_HZ", "beat_energy", "beat_low_energy", "find_sections", "section_label"]


def beat_energy(y: np.ndarray, beat_samples: np.ndarray) -> np.ndarray:
    """RMS of ``y`` from each beat to the next (the last to the end), scaled so the max is 1."""
    if len(beat_samples) == 0:
        return np.zeros(0)
    bounds = np.concatenate([np.asarray(beat_samples, dtype=int), [len(y)]])
    a, b = bounds[:-1], np.maximum(bounds[1:], bounds[:-1] + 1)
    a, b = np.clip(a, 0, len(y)), np.clip(b, 0, len(y))
    # Sums of squares over [a, b): one pass of reduceat (segments must start in order).
    sq = np.zeros(len(y) + 1)
    np.square(np.asarray(y, dtype=np.float64), out=sq[:-1])
    starts = np.minimum(a, len(y))
    sums = np.add.reduceat(sq, starts) if len(starts) else np.zeros(0)
    sums = np.where(b > a, sums, 0.0)
    rms = np.sqrt(np.maximum(sums, 0.0) / np.maximum(b - a, 1))
    top = float(np.max(rms))
    return rms / top if top > 0 else rms


#: Upper edge of the low band :func:`beat_low_energy` measures (kick drum and bass), Hz.
LOW_BAND_HZ = 150.0


def beat_low_energy(S: np.ndarray, beats: np.ndarray, sr: int) -> np.ndarray:
    """RMS of magnitude STFT ``S`` (``N_FFT`` bins) below :data:`LOW_BAND_HZ` from each beat
    frame to the next (the last to the end), scaled so the max is 1."""
    if len(beats) == 0 or S.size == 0:
        return np.zeros(0)
    n_bins = max(2, int(LOW_BAND_HZ * N_FFT / sr) + 1)
    power = np.concatenate([[0.0], np.cumsum((S[1:n_bins].astype(np.float64) ** 2).sum(axis=0))])
    a = np.clip(np.asarray(beats, dtype=int), 0, S.shape[1])
    b = np.maximum(np.concatenate([a[1:], [S.shape[1]]]), a + 1).clip(max=S.shape[1])
    rms = np.sqrt(np.maximum(power[b] - power[a], 0.0) / np.maximum(b - a, 1))
    top = float(np.max(rms))
    return rms / top if top > 0 else rms


def find_sections(bar_features: Sequence[np.ndarray], *, min_bars: int = 2,
                  merge_cost: float = 4.0, same_label: float = 0.3) -> tuple[list[int], list[int]]:
    """Section boundaries and labels from bar-level features (Ward clustering along time).

    Every bar starts as its own segment; the two neighbouring segments whose merge adds
    least within-segment variance (Ward's cost ``n_a n_b / (n_a + n_b) * |mean_a - mean_b|^2``)
    are merged until every remaining merge would cost more than ``merge_cost`` per feature
    group and every segment has ``min_bars`` bars. Boundaries therefore sit on bar lines.

    Parameters
    ----------
    bar_features : sequence of np.ndarray [shape=(d_g, n_bars)]
        Feature groups (chroma, timbre, loudness ...), one column per bar. Each row is
        standardised and each group scaled to unit total variance, so groups weigh equally.
    min_bars : int
        Shortest section.
    merge_cost : float
        Stop merging above this cost (per group).
    same_label : float
        A segment takes the label of an earlier one whose mean features are closer than
        this share of the median distance between neighbouring segments.

    Returns
    -------
    starts : list of int
        First bar of each section (0 included).
    labels : list of int
        Label index of each section (0 for "A"), numbered in order of first appearance.

    Examples
    --------
    >>> loud = np.r_[np.zeros(4), np.ones(4), np.zeros(4)][None, :]
    >>> find_sections([loud])
    ([0, 4, 8], [0, 1, 0])
    """
    groups = [np.atleast_2d(np.asarray(g, dtype=float)) for g in bar_features]
    n = min(g.shape[1] for g in groups) if groups else 0
    if n < 2 * min_bars:
        return [0], [0]
    scaled = []
    for g in groups:
        z = _noise_scaled_rows(g[:, :n])
        if np.any(z):
            scaled.append(z / np.sqrt(z.shape[0]))
    if not scaled:
        return [0], [0]
    Z = np.vstack(scaled)
    starts = _refine_boundaries(Z, _ward_merge(Z, min_bars, merge_cost * len(scaled)), min_bars)
    return starts, _labels_by_similarity(Z, starts, same_label)


def _ward_merge(Z: np.ndarray, min_bars: int, limit: float) -> list[int]:
    """First bar of each segment after merging neighbouring columns of ``Z`` (one per bar) the
    cheapest Ward merge first, until every merge costs more than ``limit`` and no segment is
    shorter than ``min_bars``."""
    n = Z.shape[1]
    starts = list(range(n))
    sums = [Z[:, i].copy() for i in range(n)]
    counts = [1] * n

    def cost(i: int) -> float:
        a, b = counts[i], counts[i + 1]
        d = sums[i] / a - sums[i + 1] / b
        return a * b / (a + b) * float(d @ d)

    while len(starts) > 1:
        costs = [cost(i) for i in range(len(starts) - 1)]
        i = int(np.argmin(costs))
        log.debug("sections: %d segments, cheapest merge %.2f at bar %d", len(starts), costs[i], starts[i + 1])
        short = [k for k, c in enumerate(counts) if c < min_bars]
        if costs[i] > limit:
            if not short:
                break
            k = short[0]  # merge a too-short segment into its more similar neighbour
            if k == 0:
                i = 0
            elif k == len(starts) - 1:
                i = k - 1
            else:
                i = k if costs[k] < costs[k - 1] else k - 1
        sums[i] = sums[i] + sums[i + 1]
        counts[i] += counts[i + 1]
        del sums[i + 1], counts[i + 1], starts[i + 1]
    return starts


def _labels_by_similarity(Z: np.ndarray, starts: list[int], same_label: float) -> list[int]:
    """Label index of each segment: that of an earlier segment whose mean features are closer
    than ``same_label`` times the median distance between neighbouring segments, else a new one."""
    bounds = starts + [Z.shape[1]]
    means = [Z[:, a:b].mean(axis=1) for a, b in zip(bounds[:-1], bounds[1:])]
    adjacent = [float((means[i] - means[i + 1]) @ (means[i] - means[i + 1])) for i in range(len(means) - 1)]
    limit_same = same_label * float(np.median(adjacent)) if adjacent else 0.0
    labels: list[int] = []
    protos: list[np.ndarray] = []
    for m in means:
        d = [float((m - p) @ (m - p)) for p in protos]
        if d and min(d) < limit_same:
            labels.append(int(np.argmin(d)))
        else:
            protos.append(m)
            labels.append(len(protos) - 1)
    return labels


def _refine_boundaries(Z: np.ndarray, starts: list[int], min_bars: int) -> list[int]:
    """Move each boundary by a bar either way where that lowers the within-segment variance."""
    n = Z.shape[1]
    starts = list(starts)

    def sse(a: int, b: int) -> float:
        seg = Z[:, a:b]
        return float(np.sum((seg - seg.mean(axis=1, keepdims=True)) ** 2)) if b > a else 0.0

    for k in range(1, len(starts)):
        lo = starts[k - 1] + min_bars
        hi = (starts[k + 1] if k + 1 < len(starts) else n) - min_bars
        best, best_cost = starts[k], None
        for c in (starts[k] - 1, starts[k], starts[k] + 1):
            if lo <= c <= hi:
                cost = sse(starts[k - 1], c) + sse(c, starts[k + 1] if k + 1 < len(starts) else n)
                if best_cost is None or cost < best_cost - 1e-9:
                    best, best_cost = c, cost
        starts[k] = best
    return starts


def _noise_scaled_rows(X: np.ndarray, cap: float = 6.0) -> np.ndarray:
    """Rows centred and scaled by their typical bar-to-bar change (robust), capped.

    A boundary is then a change that is large compared with how much the music varies
    from one bar to the next inside a section, however different an intro or a break is.
    """
    X = np.asarray(X, dtype=float)
    med = np.median(X, axis=1, keepdims=True)
    step = np.median(np.abs(np.diff(X, axis=1)), axis=1, keepdims=True) * 1.4826 / np.sqrt(2)
    sd = X.std(axis=1, keepdims=True)
    scale = np.maximum(step, 0.1 * sd)
    out = np.where(scale > 1e-9, (X - med) / np.where(scale > 1e-9, scale, 1.0), 0.0)
    return np.clip(out, -cap, cap)


def section_label(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s
