"""Windows: which frames of a shot fill a slot (best moment, no dips, motion by phase)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from montage_ai.core.analysis.footage import FootageAnalysis, Shot, quality_curve

__all__ = ["motion_samples", "best_window", "longest_free", "shown_frames", "slot_frames_held", "ends_file"]


def shown_frames(record_frames: int, source_rate: Fraction, rate: Fraction) -> int:
    """Source frames ``record_frames`` timeline frames at ``rate`` show of a source at
    ``source_rate``, played at its own speed from its in point: timeline frame ``k`` shows
    source frame ``floor(k * source_rate / rate)``, so ``floor((n - 1) * S / R) + 1`` of them
    (what the timeline and the preview read, :mod:`~montage_ai.core.render.preview`). A piece
    is counted in whole source frames against whole timeline frames, never in seconds: 100
    frames at 25 fps (4.000 s) hold a 96-frame slot at 23.976 (4.004 s), its last frame
    showing source frame 99.

    >>> shown_frames(96, Fraction(25), Fraction(24000, 1001)), shown_frames(96, Fraction(24), Fraction(24))
    (100, 96)
    >>> shown_frames(10, Fraction(50), Fraction(25)), shown_frames(0, Fraction(25), Fraction(25))
    (19, 0)
    """
    if record_frames <= 0:
        return 0
    return math.floor(Fraction(record_frames - 1) * Fraction(source_rate) / Fraction(rate)) + 1


def ends_file(analysis: FootageAnalysis, shot: Shot) -> bool:
    """Whether ``shot``'s usable frames run to the last frame of its file."""
    video = analysis.media.video
    return video is not None and shot.usable_end_frame >= video.frame_count


def slot_frames_held(source_frames: int, source_rate: Fraction, rate: Fraction, *, ends_file: bool = False) -> int:
    """The longest slot (timeline frames at ``rate``) that ``source_frames`` frames of a
    source at ``source_rate`` fill: the largest ``n`` with :func:`shown_frames` ``<= source_frames``.
    When the frames end the file (``ends_file``), the slot's time must also stay inside the
    media (an NLE finds nothing past its end): the largest ``n`` with ``n / rate <=
    source_frames / source_rate``.

    >>> slot_frames_held(100, Fraction(25), Fraction(24000, 1001)), slot_frames_held(96, Fraction(24), Fraction(24))
    (96, 96)
    >>> all(shown_frames(slot_frames_held(m, Fraction(25), Fraction(24000, 1001)), Fraction(25),
    ...                  Fraction(24000, 1001)) <= m < shown_frames(slot_frames_held(m, Fraction(25),
    ...                  Fraction(24000, 1001)) + 1, Fraction(25), Fraction(24000, 1001)) for m in range(1, 300))
    True
    >>> slot_frames_held(100, Fraction(25), Fraction(24000, 1001), ends_file=True)
    95
    """
    if source_frames <= 0:
        return 0
    if ends_file:
        return math.floor(Fraction(source_frames) * Fraction(rate) / Fraction(source_rate))
    return math.ceil(Fraction(source_frames) * Fraction(rate) / Fraction(source_rate))

def motion_samples(a: FootageAnalysis) -> tuple[np.ndarray, np.ndarray]:
    """``(sample_frames, motion)`` as float arrays (NaN where unknown)."""
    sf = np.asarray(a.sample_frames, float)
    mv = np.array([np.nan if v is None else v for v in a.motion], float)
    return (sf, mv) if sf.size == mv.size else (sf, np.full(sf.size, np.nan))


def best_window(a: FootageAnalysis, s: Shot, length: int, used: np.ndarray, phase: str, rng: np.random.Generator,
            *, min_src: int = 1, after: int | None = None, early: float = 0.0,
            samples: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[int, float] | None:
    """Best unused window of ``length`` source frames inside the shot's usable range:
    ``(source_in, score)`` or None when none fits.

    The score is the mean of the best-moment curve over the window, minus the share of
    frames in a dip of it (below 60 % of the shot's best: blur, shake, bad exposure), plus
    motion in the climax (minus it in calm phases). Windows that would leave a free piece
    shorter than ``min_src`` frames beside them lose, so the shot's rest stays usable;
    ``early`` favours the earliest free frames (chronological reuse); ``after`` is the
    first frame allowed; ``samples`` is :func:`motion_samples` of ``a`` (computed when
    not given).
    """
    us, ue = s.usable_start_frame, min(s.usable_end_frame, len(used))
    if after is not None:
        us = max(us, after)
    n = ue - us
    if length <= 0 or n < length:
        return None
    frames = np.arange(us, ue)
    q, bad = quality_curve(s, us, ue)
    sf, mv = samples if samples is not None else motion_samples(a)
    known = (sf >= s.start_frame) & (sf < s.end_frame) & ~np.isnan(mv)
    if known.sum() >= 2:
        m = np.interp(frames, sf[known], mv[known])
        m = m / (float(m.max()) + 1e-9)
    else:
        m = np.zeros(n)
    w_motion = {"climax": 0.3, "build": 0.1}.get(phase, -0.1)

    def wsum(x: np.ndarray) -> np.ndarray:
        c = np.concatenate(([0.0], np.cumsum(x)))
        return c[length:] - c[:-length]

    busy = used[us:ue]
    idx = np.arange(n)
    run_lo = np.maximum.accumulate(np.where(busy, idx + 1, 0))          # first free frame of the run
    run_hi = np.minimum.accumulate(np.where(busy, idx, n)[::-1])[::-1]  # end of the run (exclusive)
    starts = np.arange(n - length + 1)
    left = starts - run_lo[starts]
    right = run_hi[starts + length - 1] - (starts + length)
    waste = np.where((left > 0) & (left < min_src), left, 0) + np.where((right > 0) & (right < min_src), right, 0)
    score = (wsum(q) - 0.5 * wsum(bad) + w_motion * wsum(m) - 0.5 * waste) / length
    score = score + 0.02 * ((left == 0) | (right == 0)) - early * starts / max(1, n)
    score = np.where(wsum(busy.astype(float)) > 0, -np.inf, score + rng.uniform(0, 0.01, score.size))
    i = int(np.argmax(score))
    if not np.isfinite(score[i]):
        return None
    return us + i, round(float(q[i:i + length].mean()), 4)


def longest_free(used: np.ndarray, lo: int, hi: int) -> int:
    """Length of the longest run of unused frames in ``used[lo:hi]``."""
    seg = used[lo:hi]
    if seg.size == 0:
        return 0
    busy = np.concatenate(([True], seg, [True]))
    edges = np.flatnonzero(busy[1:] != busy[:-1])  # alternating starts and ends of free runs
    return int((edges[1::2] - edges[::2]).max()) if edges.size else 0

