"""Metre and bar phase: how many beats to the bar, and which beat is 1.

:func:`estimate_downbeats` chooses metre and phase from beat-synchronous features (the
signal-processing tracker's way); :func:`bar_phase` corrects the neural tracker's bar phase
where the network's downbeat output, bass onsets, chord changes and bass-note changes agree on
another; :func:`chroma_change` is the harmony feature both use.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from montage_ai.core.analysis.beat_tracker import BeatConfidence
from montage_ai.core.analysis.music_signal import beat_sync

log = logging.getLogger(__name__)

__all__ = ["chroma_change", "estimate_downbeats", "bar_phase"]


def _zscore(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    s = float(np.std(x))
    return (x - float(np.mean(x))) / s if s > 1e-9 else np.zeros_like(x)


def chroma_change(c_sync: np.ndarray, width: int = 2) -> np.ndarray:
    """Cosine distance between the mean chroma of the ``width`` beats before each beat and the
    ``width`` beats from it on: high where the chord changes, as at most bar lines."""
    n = c_sync.shape[1]
    csum = np.concatenate([np.zeros((c_sync.shape[0], 1)), np.cumsum(c_sync, axis=1)], axis=1)
    out = np.zeros(n)
    for i in range(1, n):
        a, z = max(0, i - width), min(n, i + width)
        before = (csum[:, i] - csum[:, a])
        after = (csum[:, z] - csum[:, i])
        nb, na = np.linalg.norm(before), np.linalg.norm(after)
        if nb > 1e-9 and na > 1e-9:
            out[i] = 1.0 - float(before @ after) / (nb * na)
    return out


def _lag_corr(v: np.ndarray, lag: int) -> float:
    if len(v) <= lag + 2:
        return 0.0
    a, b = v[:-lag], v[lag:]
    sa, sb = float(np.std(a)), float(np.std(b))
    if sa < 1e-9 or sb < 1e-9:
        return 0.0
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))


def estimate_downbeats(beat_features: dict[str, np.ndarray], meters: Sequence[int] = (3, 4),
                       weights: dict[str, float] | None = None, prefer: int = 4,
                       prefer_margin: float = 0.05) -> tuple[int, int, float]:
    """Metre and bar phase from beat-synchronous features.

    The metre is the bar length ``m`` at which the features repeat best (their correlation
    with themselves ``m`` and ``2m`` beats later); the phase is the one whose beats have the
    features highest compared with the other beats.

    Parameters
    ----------
    beat_features : dict of name -> np.ndarray [shape=(n_beats,)]
        One value per beat, larger where a downbeat is likelier (low-frequency onset,
        onset accent, chord change).
    meters : sequence of int
        Candidate beats per bar.
    weights : dict of name -> float, optional
        Weight of each feature (1.0 by default).
    prefer, prefer_margin : int, float
        Metre chosen when the repetition scores are within ``prefer_margin`` of each other.

    Returns
    -------
    meter, phase, score : int, int, float
        Downbeats are beats ``phase, phase + meter, ...``; ``score`` is how much more the
        features are at downbeats than elsewhere, in standard deviations.

    Examples
    --------
    >>> low = np.tile([1.0, 0.0, 0.2], 12)
    >>> estimate_downbeats({"low": low})[:2]
    (3, 0)
    """
    weights = weights or {}
    feats = {k: _zscore(v) for k, v in beat_features.items() if len(v)}
    n = min((len(v) for v in feats.values()), default=0)
    if n < 2 * max(meters) + 2:
        return (prefer if prefer in meters else max(meters)), 0, 0.0
    feats = {k: v[:n] for k, v in feats.items()}
    total_w = sum(weights.get(k, 1.0) for k in feats) or 1.0
    rep = {}
    for m in meters:
        rep[m] = sum(weights.get(k, 1.0) * 0.5 * (_lag_corr(v, m) + _lag_corr(v, 2 * m))
                     for k, v in feats.items()) / total_w
    log.debug("metre repetition: %s", {m: round(r, 3) for m, r in rep.items()})
    meter = max(meters, key=lambda m: rep[m] + (prefer_margin if m == prefer else 0.0))
    best_p, best_score = 0, -np.inf
    for p in range(meter):
        mask = (np.arange(n) % meter) == p
        score = sum(weights.get(k, 1.0) * (float(v[mask].mean()) - float(v[~mask].mean())) for k, v in feats.items())
        log.debug("downbeats: meter %d phase %d score %.3f", meter, p, score)
        if score > best_score:
            best_p, best_score = p, score
    return meter, best_p, float(best_score / total_w)


def bar_phase(tracked, numbers: np.ndarray, meter: int, chroma: np.ndarray, beats: np.ndarray,
               n_frames: int, bass_chroma: np.ndarray | None = None) -> tuple[np.ndarray, BeatConfidence]:
    """Downbeat indices: the bar phase that the network's downbeat probability, bass onsets,
    chord changes and bass-note changes agree on best (the DBN's own phase by default); the
    downbeat confidence drops when that moves the DBN's downbeats.

    The network's downbeat output and the kick tell beats 1 and 3 from 2 and 4, but often not
    1 from 3; the harmony, and the bass note above all, changes at the bar line."""
    from dataclasses import replace as _replace

    from montage_ai.core.analysis.beat_tracker import choose_bar_phase

    ones = np.flatnonzero(numbers == 1)
    dbn_phase = int(ones[0]) % meter if len(ones) else 0
    conf = tracked.confidence
    if tracked.downbeat_activation is None or len(beats) < 2 * meter:
        return ones, conf
    n = len(beats)
    feats = [tracked.downbeat_activation[:n], tracked.bass_onset[:n]]
    for c in (chroma, bass_chroma):
        if c is not None:
            c_sync = beat_sync(c, beats, n_frames)
            c_sync = c_sync / (np.linalg.norm(c_sync, axis=0, keepdims=True) + 1e-9)
            feats.append(chroma_change(c_sync, width=2))
    phase = choose_bar_phase(meter, feats, default=dbn_phase)
    if phase != dbn_phase:
        conf = _replace(conf, downbeats=round(conf.downbeats * 0.6, 3))
    return np.arange(phase, n, meter), conf
