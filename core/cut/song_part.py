"""The part of the song an editor picks, snapped to bars: a start on a downbeat and an end on
a later one (or the song's end), so the cut begins and ends on the bar line."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class SongPart:
    """``[start_s, end_s)`` of the song; ``bars`` whole bars between them."""

    start_s: float
    end_s: float
    bars: int

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


def _nearest(t: float, grid: Sequence[float]) -> float:
    i = bisect.bisect_left(grid, t)
    near = [grid[j] for j in (i - 1, i) if 0 <= j < len(grid)]
    return min(near, key=lambda g: abs(g - t))


def snap_to_bars(start_s: float, end_s: float, downbeats_s: Sequence[float], duration_s: float) -> SongPart:
    """``[start_s, end_s)`` moved to the nearest downbeats (the end may also be the song's
    end), at least one bar long. Without downbeats the times are only kept inside the song."""
    start_s, end_s = sorted((max(0.0, start_s), min(end_s, duration_s)))
    grid = sorted(t for t in downbeats_s if 0.0 <= t < duration_s)
    if not grid:
        return SongPart(start_s, max(end_s, start_s), 0)
    start = _nearest(start_s, grid)
    ends = [t for t in grid if t > start] + [duration_s]
    end = _nearest(end_s, ends)
    bars = sum(1 for t in grid if start <= t < end)
    return SongPart(round(start, 3), round(end, 3), bars)
