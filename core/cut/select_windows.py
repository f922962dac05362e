"""Where in a shot a piece of the selects goes: the best window of the best-moment curve,
never over a flagged frame; and the shot-level verdict when most of a shot is flagged."""

from __future__ import annotations

from collections import Counter

import numpy as np

from montage_ai.core.analysis.footage import Shot, flagged_mask, quality_curve

#: Share of a shot's usable frames flagged from which the whole shot is left out.
FLAGGED_MAX = 0.5


def best_window(shot: Shot, length: int, rng: np.random.Generator | None = None) -> tuple[int, float]:
    """``(source_in, score)``: the window of ``length`` frames inside the usable part where
    the best-moment curve is highest without dips; ``score`` is the curve's mean over it.

    >>> s = Shot(0, 0, 100, 0.0, 4.0, None, None, False, 0, 100, 60, None, 0.01, 0.001, 1e4, 0.45,
    ...          0.0, 0.0, 20.0, 60, (0, 20, 40, 60, 80), (0.3, 0.4, 0.6, 0.9, 0.5))
    >>> best_window(s, 25)
    (46, 0.793)
    """
    us, ue = shot.usable_start_frame, shot.usable_end_frame
    if ue <= us:
        us, ue = shot.start_frame, shot.end_frame
    length = max(1, min(length, ue - us))
    q, bad = quality_curve(shot, us, ue)
    c_q = np.concatenate(([0.0], np.cumsum(q)))
    c_b = np.concatenate(([0.0], np.cumsum(bad)))
    mean_q = (c_q[length:] - c_q[:-length]) / length
    share_bad = (c_b[length:] - c_b[:-length]) / length
    value = mean_q - 0.5 * share_bad
    if rng is not None:
        value = value + rng.uniform(0.0, 0.005, value.size)
    i = int(np.argmax(value))
    return us + i, round(float(mean_q[i]), 4)


#: Short flag names of the analysis' reasons.
_FLAG_NAMES = {"test pattern": "pattern", "out of focus": "blur", "motion blur": "blur", "corrupt": "corrupt",
               "shaky": "shake", "frozen": "frozen", "flash": "flash", "blown out": "bright", "crushed": "dark"}


def flagged_share(shot: Shot, limit: float = FLAGGED_MAX) -> list[tuple[str, str]]:
    """The shot-level flag when most of the usable part is flagged frame by frame."""
    us, ue = shot.usable_start_frame, shot.usable_end_frame
    if ue <= us or not shot.flagged:
        return []
    mask = flagged_mask(shot, us, ue)
    share = float(mask.mean())
    if share < limit:
        return []
    counts: Counter[str] = Counter()
    details: dict[str, str] = {}
    for fl in shot.flagged:
        counts[fl.reason] += max(0, min(ue, fl.last + 1) - max(us, fl.first))
        details.setdefault(fl.reason, fl.detail)
    reason = counts.most_common(1)[0][0]
    extra = f" ({details[reason]})" if details.get(reason) else ""
    return [(_FLAG_NAMES.get(reason, reason), f"{reason}{extra}: {100 * share:.0f} % of the usable frames flagged")]


def clean_window(shot: Shot, length: int, rng: np.random.Generator | None = None) -> tuple[int, int, float] | None:
    """``(source_in, source_out, score)``: :func:`best_window` among windows with no flagged
    frame; shorter than ``length`` when no clean run is that long; None when every usable
    frame is flagged."""
    us, ue = shot.usable_start_frame, shot.usable_end_frame
    if ue <= us:
        us, ue = shot.start_frame, shot.end_frame
    bad = flagged_mask(shot, us, ue)
    if not bad.any():
        src_in, score = best_window(shot, length, rng)
        return src_in, src_in + min(length, max(1, ue - us)), score
    runs, start = [], None
    for k, b in enumerate(np.append(bad, True)):
        if not b and start is None:
            start = k
        elif b and start is not None:
            runs.append((us + start, us + k))
            start = None
    if not runs:
        return None
    length = max(1, min(length, max(b - a for a, b in runs)))
    q, dips = quality_curve(shot, us, ue)
    best: tuple[float, int] | None = None
    for a, b in runs:
        for i in range(a, b - length + 1):
            v = float(q[i - us:i - us + length].mean()) - 0.5 * float(dips[i - us:i - us + length].mean())
            if rng is not None:
                v += float(rng.uniform(0.0, 0.005))
            if best is None or v > best[0]:
                best = (v, i)
    if best is None:
        return None
    i = best[1]
    return i, i + length, round(float(q[i - us:i - us + length].mean()), 4)
