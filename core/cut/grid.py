"""The time grid of a rough cut: beats and downbeats as timeline frames, and the slots
between cuts (each next cut the beat nearest the style's beats per cut).

Cuts are on beat frames (record positions); sources keep their own frame grid.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np

from montage_ai.core.analysis.footage import FootageAnalysis
from montage_ai.core.analysis.music import MusicAnalysis, beat_frames
from montage_ai.core.base.errors import MontageError
from montage_ai.core.base.timebase import seconds_to_frames
from montage_ai.core.cut.fit import fit_duration
from montage_ai.core.cut.pace import style_target_s
from montage_ai.core.plan.styles import Style

log = logging.getLogger(__name__)

__all__ = ["AssemblyError", "FootageShortError", "Slot", "common_rate", "end_frame", "slot_grid", "lead_out",
           "cut_points"]

class AssemblyError(MontageError):
    """The cut cannot be assembled (no beats, no footage at a usable rate, ...)."""


class FootageShortError(AssemblyError):
    """Not enough unused footage for every slot; ``missing_s`` says how much more is needed."""

    def __init__(self, message: str, missing_s: float, unfilled: int) -> None:
        super().__init__(message)
        self.missing_s, self.unfilled = missing_s, unfilled


@dataclass(frozen=True)
class Slot:
    """One shot's place on the timeline: ``[start, end)`` frames, its phase and energy."""

    start: int
    end: int
    phase: str
    energy: float

    @property
    def frames(self) -> int:
        return self.end - self.start


# --------------------------------------------------------------------------- time grid


def _frac(x: float) -> Fraction:
    return Fraction(str(x)) if isinstance(x, float) else Fraction(x)


def common_rate(analyses: Sequence[FootageAnalysis]) -> Fraction:
    """The most common video rate of the footage (the first seen on a tie).

    Examples
    --------
    >>> common_rate([])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    AssemblyError: no footage with a video stream to take the timeline rate from
    """
    rates = Counter(Fraction(a.media.video.rate) for a in analyses if a.media.video is not None)
    if not rates:
        raise AssemblyError("no footage with a video stream to take the timeline rate from")
    return rates.most_common(1)[0][0]


def end_frame(music: MusicAnalysis, rate: Fraction, duration_s: float | None = None) -> tuple[int, bool]:
    """``(frames, fades)``: the cut's length in timeline frames and whether the music must
    fade out to end there.

    The music's length (``floor(music.duration_s * rate)``), or with ``duration_s`` the end
    :func:`~.fit.fit_duration` chooses: the song's own ending when within a bar, else a
    phrase boundary within a bar, else the nearest downbeat (then the music fades; the
    style gives the fade's length). Raises :class:`~.fit.DurationError` for a duration the
    music cannot give.

    Examples
    --------
    >>> m = MusicAnalysis("m.wav", 10.0, 22050, 120.0, 4, tuple(i / 2 for i in range(20)),
    ...                   (0.0, 2.0, 4.0, 6.0, 8.0), (1.0,) * 20, ())
    >>> end_frame(m, Fraction(25))
    (250, False)
    >>> end_frame(m, Fraction(25), 5.2)
    (150, True)
    """
    music_frames = math.floor(_frac(music.duration_s) * rate)
    fit = fit_duration(music, duration_s)
    if fit.duration_s >= float(music.duration_s) - 1e-9:
        return music_frames, fit.fades
    target = _frac(fit.duration_s) * rate
    downs = [d for d in beat_frames(music, rate, "downbeats") if 0 < d <= music_frames]
    if not downs:
        return max(1, min(music_frames, math.floor(target))), True
    return min(downs, key=lambda d: (abs(d - target), d)), fit.fades


def _nearest(x: int, grid: Sequence[int]) -> int:
    k = bisect.bisect_left(grid, x)
    near = [grid[i] for i in (k - 1, k) if 0 <= i < len(grid)]
    return min(near, key=lambda g: (abs(g - x), g)) if near else x


def slot_grid(music: MusicAnalysis, style: Style, rate: Fraction, phases: Sequence[tuple[str, int, int, float]],
              section_starts: Sequence[int], n_frames: int, *, seed: int = 0,
              longest: int | None = None, stretch: float = 1.0,
              drops: Sequence[tuple[int, int]] = (),
              phase_energy: Mapping[str, float] | None = None) -> list[Slot]:
    """Cut the timeline ``[0, n_frames)`` into slots whose every cut is a beat frame.

    Parameters
    ----------
    music : MusicAnalysis
    style : Style
    rate : Fraction
        Timeline rate.
    phases : sequence of (name, start, end, energy)
        Story phases in timeline frames; their boundaries are cut points.
    section_starts : sequence of int
        Section changes (downbeat frames); cut points when the style asks for it.
    n_frames : int
        Timeline length.
    seed : int
        Varies beats-per-cut within the style's range.
    longest : int, optional
        The longest shot available, in timeline frames: slots stay within it when the
        style's minimum allows.
    stretch : float
        Multiplies the beats per cut, beyond the style's range but within its longest shot
        (fewer, longer shots when a style that never reuses a shot has too few).
    drops : sequence of (build start, drop) frames
        Cuts tighten steadily from the build's start to the drop (a cut point); the slot
        at the drop has energy 1.0 so the fill gives it the most intense shot.
    phase_energy : mapping of phase name to energy, optional
        The energy each phase's mean take is paced at (the style's target there): the mean
        energy of the song's sections it falls in, as the cut's pace is measured
        (:func:`~.pace.phase_ratios`); default the phases' own. Each bar's energy then sets
        the pace relative to the others (:func:`_phase_pace`).

    Returns
    -------
    list of Slot
        Contiguous, from 0 to ``n_frames``.

    Examples
    --------
    >>> from montage_ai.core.plan.styles import load_style
    >>> b = tuple(i / 2 for i in range(40))
    >>> m = MusicAnalysis("m.wav", 20.0, 22050, 120.0, 4, b, b[::4], (1.0,) * 40, ())
    >>> [s.frames for s in slot_grid(m, load_style("mtv"), Fraction(24), [("climax", 0, 96, 1.0)], [], 96)]
    [12, 12, 12, 12, 12, 12, 12, 12]
    """
    g = _Grid.of(music, style, rate, phases, n_frames, seed, longest, phase_energy)
    g.drops = list(drops)
    fixed = _fixed_points(g, phases, list(section_starts) + [d for _, d in drops])
    slots: list[Slot] = []
    bounds = g.bounds = [0] + fixed + [n_frames]
    for a, b in zip(bounds, bounds[1:]):
        slots += _span_slots(g, a, b, stretch)
    return slots


@dataclass
class _Grid:
    """The beat grid of one cut, as :func:`slot_grid` reads it."""

    style: Style
    phases: Sequence[tuple[str, int, int, float]]
    n_frames: int
    beats: list[int]
    energies: list[float]
    downs: list[int]
    points: set[int]
    min_f: int
    max_f: int
    meter: int
    beat_f: float
    rng: np.random.Generator
    drops: list = field(default_factory=list)
    carry: float = 0.0  # beats the phase's cuts so far fell short of the target (or over: < 0)
    carry_phase: str = ""
    want: float = 0.0
    first_real: int = 0  # index of the first tracked beat (those before: the lead-in carried back)
    #: per phase start: (scale of the beats per cut, the phase's own beat range); see :func:`_phase_pace`
    pace: dict = field(default_factory=dict)
    #: per phase start: the style's target take there in grid beats (at the phase's energy)
    target: dict = field(default_factory=dict)
    #: per phase start: ``[takes the phase's slots so far are worth at the pace they aimed at,
    #: slots]``: the even split before a fixed cut counts the phase's earlier spans (:func:`_split_count`)
    tally: dict = field(default_factory=dict)
    bounds: list = field(default_factory=list)  # the fixed cuts, 0 and the end included

    @classmethod
    def of(cls, music: MusicAnalysis, style: Style, rate: Fraction, phases, n_frames: int, seed: int,
           longest: int | None, phase_energy: Mapping[str, float] | None = None) -> "_Grid":
        beats_e = beat_energies(music, rate, style.subdivide)
        beats = sorted(f for f in beats_e if 0 <= f < n_frames)
        if not beats:
            raise AssemblyError(f"{music.path}: no beats inside the cut to place cuts on")
        first = beats[0]
        beats_e, beats = _lead_in(beats_e, beats)
        downs = sorted({_nearest(d, beats) for d in beat_frames(music, rate, "downbeats") if 0 <= d < n_frames})
        min_f = max(1, math.ceil(_frac(style.min_shot_s) * rate))
        max_f = max(min_f, math.floor(_frac(style.max_shot_s) * rate))
        if longest is not None:
            max_f = max(min_f, min(max_f, longest))
        g = cls(style, phases, n_frames, beats, [beats_e[f] for f in beats], downs,
                set(downs if style.all_cuts_on_downbeat else beats), min_f, max_f, max(1, music.meter),
                float(np.median(np.diff(beats))) if len(beats) > 1 else float(rate) / 2,
                np.random.default_rng(seed), first_real=beats.index(first))
        energy = phase_energy or {}
        g.pace = {ph[1]: _phase_pace(g, (*ph[:3], energy.get(ph[0], ph[3])), rate) for ph in phases}
        beat_s = g.beat_f * max(1, style.subdivide) / float(rate)
        g.target = {ph[1]: style_target_s(style, ph[0], energy.get(ph[0], ph[3]), beat_s, g.meter) * float(rate)
                    / g.beat_f for ph in phases}
        return g

    def phase_at(self, f: int) -> tuple[str, int, int, float]:
        for ph in self.phases:
            if ph[1] <= f < ph[2]:
                return ph
        return self.phases[-1] if self.phases else ("climax", 0, self.n_frames, 0.5)


def _lead_in(beats_e: dict[int, float], beats: list[int]) -> tuple[dict[int, float], list[int]]:
    """The beat grid carried back before the first tracked beat at the median beat period
    (a song whose tracked beats start late: its lead-in is cut at the song's tempo, not held
    as one long first shot); these beats take the first beat's energy.

    >>> _lead_in({30: 0.5, 40: 0.5, 50: 0.5}, [30, 40, 50])[1]
    [0, 10, 20, 30, 40, 50]
    """
    if len(beats) < 2:
        return beats_e, beats
    period = int(round(float(np.median(np.diff(beats)))))
    if period <= 0:
        return beats_e, beats
    early = list(range(beats[0] - period, period // 2, -period))[::-1]
    if beats[0] >= period // 2:  # a lead-in of half a beat or more counts as a beat: a first shot of k beats ends on the k-th
        early = [0] + early
    if not early:
        return beats_e, beats
    e0 = beats_e[beats[0]]
    return {**{f: e0 for f in early}, **beats_e}, early + beats


def cut_points(music: MusicAnalysis, style: Style, rate: Fraction, n_frames: int) -> list[int]:
    """The frames inside ``[0, n_frames)`` the grid may cut on, as :class:`_Grid` takes them:
    the beats (and a pattern's subdivisions), carried back over a lead-in before the first
    tracked beat (:func:`_lead_in`); the downbeats among them for a style that cuts only on
    downbeats. A phase can hold no more takes than the points inside it, plus one.

    >>> m = MusicAnalysis("m.wav", 4.0, 22050, 120.0, 4, (1.0, 1.5, 2.0, 2.5, 3.0), (1.0, 3.0), (1.0,) * 5, ())
    >>> from montage_ai.core.plan.styles import load_style
    >>> cut_points(m, load_style("mtv"), Fraction(24), 96)  # a beat carried back to 12, half a second in
    [0, 12, 24, 36, 48, 60, 72]
    """
    beats_e = beat_energies(music, rate, style.subdivide)
    beats = sorted(f for f in beats_e if 0 <= f < n_frames)
    if not beats:
        return []
    beats = _lead_in(beats_e, beats)[1]
    if style.all_cuts_on_downbeat:
        return sorted({_nearest(d, beats) for d in beat_frames(music, rate, "downbeats") if 0 <= d < n_frames})
    return beats


def lead_out(points: Sequence[int], n_frames: int) -> list[int]:
    """The grid of ``points`` (beat or downbeat frames) carried on past the last one at their
    median period, up to the cut's end (exclusive): the split points of a tail after the last
    tracked beat (a song's ring-out), as :func:`_lead_in` carries the beats back before the
    first. Without them the tail slot had no point to split on, and the fill's only way to
    fill it was a shot shown two cuts before (an A-B-A).

    >>> lead_out([900, 912, 924, 936, 954], 990)
    [966, 978]
    >>> lead_out([0, 12, 24], 30), lead_out([5], 100)
    ([], [])
    """
    pts = sorted(points)
    if len(pts) < 2:
        return []
    period = int(round(float(np.median(np.diff(pts)))))
    if period <= 0:
        return []
    return list(range(pts[-1] + period, n_frames, period))


def beat_energies(music: MusicAnalysis, rate: Fraction, subdivide: int = 1) -> dict[int, float]:
    """Beat frames (with ``subdivide`` > 1, also the frames evenly between beats) and the
    energy of the beat each belongs to."""
    out: dict[int, float] = {}
    times = list(music.beat_times_s)
    for k, t in enumerate(times):
        e = float(music.beat_energy[k]) if k < len(music.beat_energy) else 0.5
        out.setdefault(seconds_to_frames(_frac(t), rate), e)
        if subdivide > 1 and k + 1 < len(times):
            for j in range(1, subdivide):
                out.setdefault(seconds_to_frames(_frac(t) + (_frac(times[k + 1]) - _frac(t)) * j / subdivide, rate), e)
    return dict(sorted(out.items()))


def _fixed_points(g: _Grid, phases, section_starts: Sequence[int]) -> list[int]:
    """Phase changes (and section changes when the style says so) on the nearest downbeat,
    each leaving at least the style's shortest shot on both sides."""
    snap_grid = [d for d in g.downs if d > 0] or [f for f in g.beats if f > 0]

    def fits(p: int, points: Sequence[int]) -> bool:
        lo = max([q for q in points if q <= p], default=0)
        hi = min([q for q in points if q > p], default=g.n_frames)
        return p - lo >= g.min_f and hi - p >= g.min_f

    def holds(p: int, points: Sequence[int]) -> bool:
        # a section change inside a phase leaves no piece shorter than the phase's shortest
        # take there (hitchcock's held outro is not split by the song's last section)
        lo = max([q for q in points if q <= p], default=0)
        hi = min([q for q in points if q > p], default=g.n_frames)
        need = min(_want(g, lo, raw=True)[2], _want(g, p, raw=True)[2]) * g.beat_f - 0.5
        return p - lo >= need and hi - p >= need

    n_phase = len(phases) - 1
    wanted = [a for _, a, _, _ in phases[1:]] + (list(section_starts) if g.style.section_cut_on_downbeat else [])
    fixed: list[int] = []
    for i, a in enumerate(wanted):
        p = _nearest(a, snap_grid)
        if 0 < p < g.n_frames and p not in fixed and fits(p, fixed) and (i < n_phase or holds(p, fixed)):
            fixed = sorted(fixed + [p])
    return fixed


def _want(g: _Grid, p: int, raw: bool = False) -> tuple[str, float, int, int, float, int]:
    """``(phase, energy, lo, hi, want, i0)`` at frame ``p``: the style's beat range there,
    the beats per cut it aims at (energy or the build's progress; not varied) and the index
    of the first beat at or after ``p``.

    Unless ``raw``, ``want`` is scaled so the phase's mean take is the style's target at the
    phase's energy (:func:`_phase_pace`: louder bars still cut faster than quieter ones) and
    the range is that of the bar and the phase together."""
    name, e, lo, hi, want, i0 = _bar_want(g, p)
    if raw:
        return name, e, lo, hi, want, i0
    ph = g.phase_at(p)
    scale, (p_lo, p_hi) = g.pace.get(ph[1], (1.0, (lo, hi)))
    return name, e, min(lo, p_lo), max(hi, p_hi), want * scale, i0


#: How far (a share) a phase's mean take, walked at its bars' own pace, may be from the
#: style's target before :func:`_phase_pace` scales the pace (half the pace tolerance: the
#: fill's pieces and whole beats take some of the rest).
PHASE_SLACK = 0.1


def _phase_pace(g: _Grid, phase: tuple[str, int, int, float], rate: Fraction) -> tuple[float, tuple[int, int]]:
    """How much the bar-by-bar beats per cut of ``phase`` are scaled so its mean take is
    the style's target at the phase's energy, and the phase's own beat range.

    The grid follows each bar's energy; the style promises each phase's mean take at the
    phase's energy. A step in the style's ranges between the two (a loud climax whose
    quieter bars fall a level lower: two beats a cut where the phase promises one) left the
    phase's mean 30-60 % over its target. The scale keeps the bars' relative pace (louder:
    faster) and puts the phase's mean on the target: a walk over the phase, each take as
    many beats as the bar where it starts asks (scaled, within the style's shortest and
    longest shot), gives the mean take. Within :data:`PHASE_SLACK` of the target the bars'
    own pace is kept (scale 1); beyond, the scale brings the mean to within half of it (aimed
    at the edge, whole beats and the seed's carry left hiphop's one-beat build 20 % long)."""
    name, a, b, energy = phase
    style = g.style
    p_range = style.beats_for(style.energy_level(energy), name)
    if b - a < 2 * g.beat_f or g.beat_f <= 0 or len(g.beats) < 2 or style.chronological:
        # chronological: the slots keep their spread over the shots in order (as the carry
        # does, :func:`_beats_per_cut`); longer takes there run the order out and go back in time
        return 1.0, p_range
    beat_s = g.beat_f * max(1, style.subdivide) / float(rate)
    target = style_target_s(style, name, energy, beat_s, g.meter) * float(rate) / g.beat_f  # in grid beats
    lo_b, hi_b = max(1.0, g.min_f / g.beat_f), max(1.0, g.min_f / g.beat_f, g.max_f / g.beat_f)

    def walk(scale: float) -> float:  # the mean take (grid beats) of a walk at the bars' pace, scaled
        n, x = 0.0, float(a)
        while x < b - 0.5 * g.beat_f:
            step = min(max(_bar_want(g, int(x))[4] * scale, lo_b), hi_b) * g.beat_f
            n += min(1.0, (b - x) / step)
            x += step
        return (b - a) / g.beat_f / max(n, 1e-9)

    mean = walk(1.0)
    if target <= 0 or abs(mean / target - 1) <= PHASE_SLACK:  # the bars' own pace keeps the phase near its target
        return 1.0, p_range
    aim = target * (1 + PHASE_SLACK / 2 if mean > target else 1 - PHASE_SLACK / 2)
    # the walk jumps with the scale (its steps land on other bars): the scale, of a few
    # dozen from a third to three times, whose walk comes nearest the aim (nearest 1 on a tie)
    scales = [float(x) for x in np.geomspace(1 / 3, 3.0, 45)]
    scale = min(scales, key=lambda sc: (round(abs(walk(sc) / aim - 1), 3), abs(math.log(sc))))
    return float(scale), p_range


def _bar_want(g: _Grid, p: int) -> tuple[str, float, int, int, float, int]:
    """:func:`_want` at the bar's own energy, unscaled."""
    style = g.style
    name, ph_a, ph_b, _ = g.phase_at(p)
    i0 = bisect.bisect_left(g.beats, p)
    j = max(i0, g.first_real)  # the energy of the tracked beats, not of the lead-in's
    e = float(np.mean(g.energies[j:j + g.meter])) if j < len(g.beats) else g.energies[-1]
    lo, hi = style.beats_for(style.energy_level(e), name)
    if style.accelerate_build and name == "build":
        t = (p - ph_a) / max(1, ph_b - ph_a)
    else:
        level = style.energy_level(e)
        l0, l1 = {"low": (0.0, style.energy_levels[0]), "mid": style.energy_levels,
                  "high": (style.energy_levels[1], 1.0)}[level]
        t = (e - l0) / (l1 - l0) if l1 > l0 else 0.5
    t = min(max(t, 0.0), 1.0)
    if style.accelerate_build and name == "build":  # the build's trend matters, not its mean
        want = hi - t * (hi - lo)
    else:  # the middle of the range (the style's target), a quarter of it faster when louder
        want = (lo + hi) / 2 + (0.5 - t) * (hi - lo) / 2
    return name, e, lo, hi, want, i0


def _shots_at_pace(g: _Grid, p: int, b: int, least: float = 1.0) -> float:
    """How many shots (a fraction for the last) fill ``[p, b)`` at the style's pace where
    each starts (its energy), at least ``least``."""
    n, x = 0.0, float(p)
    while x < b - 0.5 * g.beat_f:
        step = max(1.0, _want(g, int(x))[4]) * g.beat_f
        n += min(1.0, (b - x) / step)
        x += step
    return max(least, n)


def _beats_per_cut(g: _Grid, p: int, stretch: float) -> tuple[str, float, int, int, int, int]:
    """``(phase, energy, lo, hi, k, i0)`` at frame ``p``: the style's beat range there, the
    target ``k`` beats per cut (energy or the build's progress, varied by the seed) and the
    index of the first beat at or after ``p``."""
    style = g.style
    name, e, lo, hi, want, i0 = _want(g, p)
    if style.accelerate_build and name == "build" or style.chronological:
        # the build's trend matters, not its mean; chronological styles keep the spread of
        # their slots over the shots in order (a carried beat sends one back in time: a plan
        # not in time order, tests/test_ollama_planner.py)
        g.carry = 0.0
    if g.carry_phase != name:
        g.carry, g.carry_phase = 0.0, name
    # the seed varies each cut by a beat; what it (and whole beats) took from the target is
    # given back on the next cuts, so the phase's mean stays on the style's target
    k = int(round(want + g.carry))
    # the takes the shortest and longest shot allow, in beats: the seed's beat either way only
    # where both ways are allowed (a beat longer where a beat shorter cannot be taken would
    # put the phase's mean over its target)
    lo_f = max(lo, math.ceil((g.min_f - 0.5) / g.beat_f))
    hi_f = max(lo_f, min(hi, math.floor((g.max_f + 0.5) / g.beat_f)))
    b_lo, b_hi = _bar_want(g, p)[2:4]
    if b_hi > b_lo or hi > lo:
        k = min(hi_f, max(lo_f, k))
    if b_hi > b_lo:  # the bar's own range varies (the seed's draw as before)
        j = int(g.rng.integers(-1, 2))
        if lo_f <= k - 1 and k + 1 <= hi_f:
            k += j
    g.want = want
    for a, d in g.drops:  # the build before a drop: cuts tighten steadily into it (no seed jitter: the trend matters)
        if a <= p < d:
            k, lo = max(1, int(round(want * (1 - 0.75 * (p - a) / max(1, d - a))))), 1
            g.want = float(k)
    return name, e, lo, hi, max(1, int(round(k * stretch))), i0


def _split_count(g: _Grid, p: int, span: int, aim: float, n_lo: int, n_hi: int, stretch: float = 1.0) -> int:
    """How many takes split the ``span`` frames from ``p`` to the next fixed cut evenly, of
    ``n_lo`` to ``n_hi``, aiming at takes of ``aim`` grid beats.

    The phase's mean take is what the style promises, and a phase's section changes cut it
    into several spans: each span rounding its own count alone (a bar of 1.5-bar takes is
    one take, four bars are three) put every rounding the same way, and a ten-bar build came
    out in eight takes for a target of 6.7 (0.83 of its pace). So the count brings the whole
    phase's mean take nearest the style's target there (``g.target``): its slots so far
    (``g.tally``), this span's ``n`` and the spans after it to the phase's end, each at its
    own pace (louder: faster; scaled so the phase's takes sum to its target) and at least one
    take (a bar worth half a take still holds one). Of the counts that keep the phase's mean
    that near its target, or within half of :data:`PHASE_SLACK`, the one nearest the span's
    own pace (a loud section inside a quiet phase still cuts faster), then fewer takes. A chronological style keeps its own count per span (its slots follow the
    shots in order, :func:`_beats_per_cut`).

    >>> from types import SimpleNamespace as G
    >>> g = G(tally={0: [0.5, 1]}, beat_f=12.0, style=G(chronological=False), bounds=[0, 48, 240],
    ...       phase_at=lambda p: ("build", 0, 240, .5), target={0: 8.0}, max_f=999)
    >>> _split_count(g, 48, 192, 6.6, 2, 4)  # a one-bar take before: 2 takes of 2 bars (mean 6.7 beats), not 3
    2
    >>> _split_count(G(**{**vars(g), "tally": {}, "bounds": [0, 240]}), 0, 240, 6.0, 2, 4)  # 20 beats of 8: 2 or 3
    3
    """
    own = span / (aim * g.beat_f)  # the takes the span is worth at its pace
    ph = g.phase_at(p)
    target_f = min(g.target.get(ph[1], 0.0) * stretch * g.beat_f, float(g.max_f))
    if g.style.chronological or target_f <= 0:
        return min(range(n_lo, n_hi + 1), key=lambda n: (abs(own / n - 1), n))
    worth, done = g.tally.get(ph[1], (0.0, 0))
    later = [_shots_at_pace(g, c, d, least=0.0) / stretch for c, d in zip(g.bounds, g.bounds[1:])
             if c >= p + span and d <= ph[2] and d > c]
    ideal = (ph[2] - ph[1]) / target_f  # the takes the phase holds at its target
    scale = ideal / max(1e-9, worth + own + sum(later))
    rest = done + sum(max(1.0, x * scale) for x in later)
    off = {n: abs(ideal / (rest + n) - 1) for n in range(n_lo, n_hi + 1)}
    near = min(off.values()) + 1e-6
    # of the counts that keep the phase that near (or within half the slack), the span's own pace
    return min((n for n in off if off[n] <= max(near, PHASE_SLACK / 2)), key=lambda n: (abs(own / n - 1), off[n], n))


def _span_slots(g: _Grid, a: int, b: int, stretch: float) -> list[Slot]:
    """The slots between two fixed cuts ``a`` and ``b``."""
    cands = sorted(q for q in g.points if a < q < b) + [b]
    downset = set(g.downs)
    i_b = bisect.bisect_left(g.beats, b)
    slots: list[Slot] = []
    p, tail, span_aim = a, 0, 1.0
    while p < b:
        name, e, lo, hi, k, i0 = _beats_per_cut(g, p, stretch)
        ok = [q for q in cands if q > p and (q == b or b - q >= g.min_f)]
        good = [q for q in ok if g.min_f <= q - p <= g.max_f]

        def miss(q: int) -> int:
            # beats away from the target; leaving fewer beats than the range allows before
            # the next fixed cut counts as two more (no stray one-beat shot at a phase end)
            rest = i_b - bisect.bisect_left(g.beats, q)
            return abs(bisect.bisect_left(g.beats, q) - i0 - k) + (2 if 0 < rest < lo else 0)

        span = b - p
        into_drop = any(x <= p < d for x, d in g.drops)  # tightening into a drop: no even split
        if good and not into_drop and (tail or span <= 3.5 * k * g.beat_f):
            # the last few shots before a fixed cut: split what is left evenly, in the
            # style's beat range where it can be (decided once per span)
            if not tail:
                # as many shots as bring the mean take nearest the target, within the style's
                # range; a long range (4 beats or more) may run a beat over it (one 4.3 s take
                # for a 4 s target after a lead-in, not two of 2.15 s)
                over = hi + (1 if hi >= 4 else 0)
                # ... or a tenth over it (:data:`PHASE_SLACK`): 2.24 s of outro at one-second
                # takes is two of 1.0 and 1.24 s, not three of 0.75 s
                n_lo = max(1, math.ceil(span / g.max_f), math.ceil(span / (over * g.beat_f * (1 + PHASE_SLACK) + 0.5)))
                n_hi = max(n_lo, int(span // max(1.0, lo * g.beat_f - 0.5)), round(span / max(1.0, lo * g.beat_f)))
                # the style's target there (not the seed's varied one: its error would stay
                # for the whole span)
                if into_drop:
                    aim = float(k)
                elif g.style.chronological:
                    # the style's target take in the phase (not the seed's draw, nor the bar's
                    # energy: a 3-beat intro drawn as 4 was two 4-beat takes, 1.32x its pace)
                    aim = max(1.0, g.target.get(g.phase_at(p)[1], float(k))) * stretch
                else:  # at the pace where each shot starts (a quiet bar, then a loud one)
                    aim = max(1.0, span / g.beat_f / _shots_at_pace(g, p, b)) * stretch
                tail = _split_count(g, p, span, aim, n_lo, n_hi, stretch)
                span_aim = aim
            q = min(good, key=lambda q: (abs((q - p) - span / tail), q not in downset, q))
            tail = max(1, tail - 1)
            worth = (q - p) / (span_aim * g.beat_f)
        elif good:
            q = min(good, key=lambda q: (miss(q), q not in downset, q))
            worth = (q - p) / (max(1.0, g.want * stretch) * g.beat_f)
        else:
            longer = [q for q in ok if q - p >= g.min_f]
            q = longer[0] if longer else b
            worth = (q - p) / (max(1.0, g.want * stretch) * g.beat_f)
        if not into_drop:
            t = g.tally.setdefault(g.phase_at(p)[1], [0.0, 0])
            t[0], t[1] = t[0] + worth, t[1] + 1
        slots.append(Slot(p, q, name, 1.0 if any(p == d for _, d in g.drops) else round(e, 4)))
        got = bisect.bisect_left(g.beats, q) - i0 if q < b or b < g.n_frames else (q - p) / g.beat_f
        g.carry = min(2.0, max(-2.0, g.carry + g.want * stretch - got))
        p = q
    return slots
