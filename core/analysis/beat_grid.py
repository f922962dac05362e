"""One-click beat-grid corrections: pure functions from a grid to a grid.

The tracker's grid is sometimes wrong in ways an editor sees at once: the tempo doubled
(a country song read at 166 bpm instead of 84), the beats on the off-beat, the bar line one
beat early, 4/4 where the song is in 3. Each :class:`Correction` fixes one of these on the
grid itself (:func:`apply_correction`), and :func:`apply_grid` puts a corrected grid back
into a :class:`~montage_ai.core.analysis.music.MusicAnalysis` so every later stage (cut,
selects, grid export) uses it. Storing corrections is :mod:`montage_ai.core.run.grid_store`'s
job; nothing here reads or writes files.

>>> g = BeatGrid((0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5), (0.0, 2.0), 4, 4.0)
>>> h = apply_correction(g, Correction("half"))
>>> h.beat_times_s, h.downbeat_times_s, round(h.tempo_bpm)
((0.0, 1.0, 2.0, 3.0), (0.0,), 60)

What each correction does
-------------------------
- ``half`` / ``double`` / ``two_thirds`` / ``three_halves``: the tempo times 1/2, 2, 2/3 or
  3/2. The new beats are placed along the tracked beats (interpolated between them), so they
  keep the song's own timing, drift included; the first downbeat stays where it was and the
  bar keeps its number of beats.
- ``shift_half``: every beat (and downbeat) moves half a beat later (onto the off-beat).
- ``downbeat N``: the beat now counted N of the bar becomes beat 1 (N in 1..metre).
- ``meter N``: N beats to the bar, counted from the first downbeat.
- ``offset_ms X``: the whole grid X milliseconds later (negative: earlier).
- ``bpm B``: a constant grid at B bpm (a click track) from the first downbeat, over the
  whole song. Use ``half``/``double`` to keep the tracked timing instead.
- ``tap T1,T2,...``: times (song seconds) at which the editor tapped the beat, the first tap
  on a downbeat: a constant grid through the taps (least squares; a missed tap is allowed).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

__all__ = ["OPS", "Correction", "BeatGrid", "apply_correction", "apply_corrections", "apply_grid", "tap_tempo"]

#: Correction names, as stored and as the CLI spells them (with ``-`` for ``_``).
OPS = ("half", "double", "two_thirds", "three_halves", "shift_half", "downbeat", "meter", "offset_ms", "bpm", "tap")
_SCALE = {"half": 0.5, "double": 2.0, "two_thirds": 2.0 / 3.0, "three_halves": 1.5}
_NEEDS_VALUE = ("downbeat", "meter", "offset_ms", "bpm", "tap")
MIN_BPM, MAX_BPM = 20.0, 400.0
MAX_METER = 16


@dataclass(frozen=True)
class Correction:
    """One correction: ``op`` (one of :data:`OPS`) and its value (``downbeat``/``meter``: an
    int; ``offset_ms``/``bpm``: a number; ``tap``: the tap times in seconds)."""

    op: str
    value: float | tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown beat-grid correction {self.op!r} (known: {', '.join(OPS)})")
        if self.op in _NEEDS_VALUE and self.value is None:
            raise ValueError(f"the {self.op} correction needs a value")
        if self.op in ("downbeat", "meter"):
            v = self.value
            if isinstance(v, tuple) or v != int(v):
                raise ValueError(f"{self.op} takes a whole number, not {v!r}")
            object.__setattr__(self, "value", int(v))
            if self.op == "meter" and not 2 <= int(v) <= MAX_METER:
                raise ValueError(f"meter {v}: a bar has 2 to {MAX_METER} beats")
            if self.op == "downbeat" and int(v) < 1:
                raise ValueError(f"downbeat {v}: beats of the bar count from 1")
        elif self.op in ("offset_ms", "bpm"):
            v = float(self.value)  # type: ignore[arg-type]
            if not math.isfinite(v):
                raise ValueError(f"{self.op} must be a finite number, not {self.value!r}")
            if self.op == "bpm" and not MIN_BPM <= v <= MAX_BPM:
                raise ValueError(f"bpm {v:g}: give a tempo between {MIN_BPM:g} and {MAX_BPM:g}")
            object.__setattr__(self, "value", v)
        elif self.op == "tap":
            taps = tuple(sorted(float(t) for t in self.value))  # type: ignore[union-attr]
            if len(taps) < 2 or not all(math.isfinite(t) and t >= 0 for t in taps):
                raise ValueError("tap needs at least two tap times in seconds (0 or later)")
            object.__setattr__(self, "value", taps)
        elif self.value is not None:
            raise ValueError(f"the {self.op} correction takes no value")

    def label(self) -> str:
        """How the editor reads it: ``half``, ``downbeat 2``, ``offset +20 ms``, ``bpm 84``."""
        if self.op == "offset_ms":
            return f"offset {self.value:+g} ms"
        if self.op == "tap":
            return f"tap ({len(self.value)} taps, {tap_tempo(self.value)[0]:.1f} bpm)"  # type: ignore[arg-type]
        if self.value is None:
            return self.op.replace("_", " ")
        return f"{self.op} {self.value:g}"

    def to_dict(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"op": self.op, "value": value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Correction":
        value = d.get("value")
        return cls(str(d["op"]), tuple(value) if isinstance(value, list) else value)


@dataclass(frozen=True)
class BeatGrid:
    """Beats, downbeats (a subset of the beats), beats per bar, and the song's length."""

    beat_times_s: tuple[float, ...]
    downbeat_times_s: tuple[float, ...]
    meter: int
    duration_s: float

    @classmethod
    def of(cls, analysis: Any) -> "BeatGrid":
        """The grid of a :class:`~montage_ai.core.analysis.music.MusicAnalysis`."""
        return cls(tuple(analysis.beat_times_s), tuple(analysis.downbeat_times_s), int(analysis.meter),
                   float(analysis.duration_s))

    @property
    def tempo_bpm(self) -> float:
        """60 / the median beat period (0 without two beats)."""
        if len(self.beat_times_s) < 2:
            return 0.0
        return float(60.0 / np.median(np.diff(self.beat_times_s)))

    @property
    def phase(self) -> int:
        """Index of the first downbeat among the beats (0 when there is none)."""
        if not self.downbeat_times_s or not self.beat_times_s:
            return 0
        return int(np.argmin(np.abs(np.asarray(self.beat_times_s) - self.downbeat_times_s[0])))

    def to_dict(self) -> dict[str, Any]:
        return {"beat_times_s": list(self.beat_times_s), "downbeat_times_s": list(self.downbeat_times_s),
                "meter": self.meter, "duration_s": self.duration_s}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "BeatGrid":
        beats = tuple(float(t) for t in d["beat_times_s"])
        downs = tuple(float(t) for t in d["downbeat_times_s"])
        if any(b <= a for a, b in zip(beats, beats[1:])):
            raise ValueError("beat times are not increasing")
        return cls(beats, downs, int(d["meter"]), float(d["duration_s"]))


# --------------------------------------------------------------------------- helpers


def _time_at(beats: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Time at fractional beat indices: interpolated between beats, extrapolated past the
    ends at the period of the first (last) two beats."""
    n = len(beats)
    inside = np.interp(idx, np.arange(n), beats)
    first_p, last_p = beats[1] - beats[0], beats[-1] - beats[-2]
    return np.where(idx < 0, beats[0] + idx * first_p,
                    np.where(idx > n - 1, beats[-1] + (idx - (n - 1)) * last_p, inside))


def _on_bars(beats: np.ndarray, first_down: int, meter: int, duration_s: float) -> BeatGrid:
    """A grid whose downbeats are every ``meter``-th beat through beat ``first_down``."""
    keep = (beats >= 0.0) & (beats < duration_s) if duration_s > 0 else beats >= 0.0
    idx = np.flatnonzero(keep)
    beats = beats[keep]
    downs = beats[((idx - first_down) % meter) == 0] if len(beats) else beats
    return BeatGrid(tuple(float(t) for t in beats), tuple(float(t) for t in downs), int(meter), float(duration_s))


def _need_beats(grid: BeatGrid, op: str, n: int = 2) -> np.ndarray:
    if len(grid.beat_times_s) < n:
        raise ValueError(f"{op}: the grid has {len(grid.beat_times_s)} beats; type a tempo (bpm) or tap it instead")
    return np.asarray(grid.beat_times_s, dtype=float)


def _scale(grid: BeatGrid, op: str, factor: float) -> BeatGrid:
    beats = _need_beats(grid, op)
    n, p, step = len(beats), grid.phase, 1.0 / factor
    k = np.arange(math.floor(-p / step - 1e-9), math.floor((n - 1 - p) / step + 1e-9) + 1)
    idx = p + k * step
    idx = idx[(idx >= -1e-9) & (idx <= n - 1 + 1e-9)]
    first = int(np.argmin(np.abs(idx - p)))
    return _on_bars(_time_at(beats, idx), first, grid.meter, grid.duration_s)


def _click(duration_s: float, anchor_s: float, period_s: float, meter: int) -> BeatGrid:
    """A constant grid at ``period_s`` through ``anchor_s`` (a downbeat), over the song."""
    end = duration_s if duration_s > 0 else anchor_s + period_s
    if anchor_s >= end:
        raise ValueError(f"the grid would start at {anchor_s:.2f} s, after the song's end ({end:.2f} s)")
    k = np.arange(math.ceil(-anchor_s / period_s - 1e-9), math.floor((end - anchor_s) / period_s - 1e-9) + 1)
    beats = anchor_s + k * period_s
    return _on_bars(beats, int(np.argmin(np.abs(k))), meter, duration_s)


def tap_tempo(taps: Sequence[float]) -> tuple[float, float]:
    """Tempo (bpm) and the fitted time of the first tap from tap times in seconds.

    Each tap is numbered by how many typical intervals it comes after the first (a missed
    tap skips a number), then ``time = first + number * period`` is fitted by least squares.

    >>> bpm, first = tap_tempo([1.0, 1.5, 2.02, 2.49, 3.5])
    >>> round(bpm), round(first, 2)
    (120, 1.0)
    """
    t = np.asarray(sorted(float(x) for x in taps), dtype=float)
    if len(t) < 2:
        raise ValueError("tap needs at least two taps")
    gaps = np.diff(t)
    typical = float(np.median(gaps))
    if typical <= 0:
        raise ValueError("taps must be at different times")
    steps = np.maximum(1, np.round(gaps / typical))
    number = np.concatenate([[0.0], np.cumsum(steps)])
    period, first = np.polyfit(number, t, 1)
    if period <= 0:
        raise ValueError("taps must be at different times")
    return float(60.0 / period), float(first)


# --------------------------------------------------------------------------- corrections


def apply_correction(grid: BeatGrid, correction: Correction) -> BeatGrid:
    """The grid after one correction (see the module docstring). Raises ValueError with a
    message for the editor when the correction cannot apply (too few beats, beat 5 of a 4/4 bar)."""
    op, v = correction.op, correction.value
    if op in _SCALE:
        return _scale(grid, op, _SCALE[op])
    if op == "shift_half":
        beats = _need_beats(grid, op)
        idx = np.arange(-1, len(beats)) + 0.5
        return _on_bars(_time_at(beats, idx), grid.phase + 1, grid.meter, grid.duration_s)
    if op == "downbeat":
        if v > grid.meter:  # type: ignore[operator]
            raise ValueError(f"downbeat {v}: a bar of this grid has {grid.meter} beats (1..{grid.meter})")
        beats = _need_beats(grid, op, 1)
        return _on_bars(beats, grid.phase + int(v) - 1, grid.meter, grid.duration_s)  # type: ignore[arg-type]
    if op == "meter":
        beats = np.asarray(grid.beat_times_s, dtype=float)
        return _on_bars(beats, grid.phase, int(v), grid.duration_s)  # type: ignore[arg-type]
    if op == "offset_ms":
        beats = np.asarray(grid.beat_times_s, dtype=float) + float(v) / 1000.0  # type: ignore[arg-type]
        return _on_bars(beats, grid.phase, grid.meter, grid.duration_s)
    if op == "bpm":
        anchor = grid.downbeat_times_s[0] if grid.downbeat_times_s else (grid.beat_times_s[0] if grid.beat_times_s else 0.0)
        return _click(grid.duration_s, anchor, 60.0 / float(v), grid.meter)  # type: ignore[arg-type]
    if op == "tap":
        bpm, first = tap_tempo(v)  # type: ignore[arg-type]
        if not MIN_BPM <= bpm <= MAX_BPM:
            raise ValueError(f"the taps give {bpm:.1f} bpm; tap between {MIN_BPM:g} and {MAX_BPM:g} bpm")
        return _click(grid.duration_s, max(0.0, first), 60.0 / bpm, grid.meter)
    raise ValueError(f"unknown correction {op!r}")  # pragma: no cover - Correction checks it


def apply_corrections(grid: BeatGrid, corrections: Sequence[Correction]) -> BeatGrid:
    """The corrections in order, each on the result of the one before."""
    for c in corrections:
        grid = apply_correction(grid, c)
    return grid


def _energy_for(old_beats: Sequence[float], old_energy: Sequence[float], new_beats: Sequence[float]) -> tuple[float, ...]:
    """Beat energy of the new beats: that of the old beat span each one falls in, rescaled to max 1."""
    if not len(new_beats):
        return ()
    if not len(old_energy) or len(old_energy) != len(old_beats):
        return tuple(0.0 for _ in new_beats)
    span = np.clip(np.searchsorted(np.asarray(old_beats), np.asarray(new_beats), side="right") - 1, 0,
                   len(old_energy) - 1)
    e = np.asarray(old_energy, dtype=float)[span]
    top = float(e.max())
    return tuple(float(x) for x in (e / top if top > 0 else e))


def _snap_sections(sections: Sequence[Any], downbeats: Sequence[float], duration_s: float) -> tuple[Any, ...]:
    """Interior section boundaries moved to the nearest downbeat; sections that vanish merge."""
    if len(sections) < 2 or not len(downbeats):
        return tuple(sections)
    db = np.asarray(downbeats, dtype=float)
    bounds = [float(sections[0].start_s)]
    keep = [sections[0]]
    for s in sections[1:]:
        t = float(db[int(np.argmin(np.abs(db - s.start_s)))])
        if t <= bounds[-1] + 1e-6 or t >= duration_s - 1e-6:
            continue
        bounds.append(t)
        keep.append(s)
    bounds.append(float(sections[-1].end_s))
    return tuple(dataclasses.replace(s, start_s=a, end_s=b) for s, a, b in zip(keep, bounds[:-1], bounds[1:]))


def apply_grid(analysis: Any, grid: BeatGrid) -> Any:
    """``analysis`` (a MusicAnalysis) with the beats, downbeats, metre and tempo of ``grid``;
    beat energy follows the new beats and section boundaries move onto its downbeats. Every
    other field (confidence and whatever the tracker adds) is kept as it is. The low end per
    beat (``beat_low``, which the drop detector reads) follows the new beats like the energy."""
    energy = _energy_for(analysis.beat_times_s, analysis.beat_energy, grid.beat_times_s)
    old_low = tuple(getattr(analysis, "beat_low", ()))
    low = _energy_for(analysis.beat_times_s, old_low, grid.beat_times_s) if old_low else ()
    return dataclasses.replace(
        analysis, beat_times_s=tuple(grid.beat_times_s), downbeat_times_s=tuple(grid.downbeat_times_s),
        meter=int(grid.meter), tempo_bpm=grid.tempo_bpm, beat_energy=energy, beat_low=low,
        sections=_snap_sections(analysis.sections, grid.downbeat_times_s, float(analysis.duration_s)))
