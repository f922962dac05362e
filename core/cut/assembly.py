"""Assembly: a story plan, the footage and the music become a beat-synced :class:`CutList`.

>>> request = make_request(analyses, music, style, seed=7)                  # doctest: +SKIP
>>> cutlist = assemble(RulesPlanner().plan(request), analyses, music, style, seed=7)  # doctest: +SKIP
>>> cutlist.cuts[1].record_in in cutlist.beats                              # doctest: +SKIP
True

How
---
1. **Grid.** Beats and downbeats become whole frames of the timeline (:func:`beat_frames`).
   The cut lasts the music (``floor(duration_s * rate)`` frames) or, with ``duration_s``,
   ends on the downbeat nearest to it, the music fading out over the style's fade.
2. **Fixed cut points.** Phase changes, and section changes when the style says so, cut on
   the downbeat nearest them. A change that would leave a shot shorter than the style's
   minimum gets no cut (it falls inside a shot).
3. **Slots.** Between fixed points, each next cut is the beat (downbeat when the style cuts
   only on downbeats) whose distance in beats is nearest the style's beats-per-cut for the
   energy there and the phase, keeping every slot within the style's shortest and longest
   shot. A slot is shorter than the minimum only when the whole cut is; it is longer than
   the maximum only when no beat falls inside the allowed range (sparse or no beats).
4. **Fill.** Each slot takes the next shot its phase planned (another file than the cut
   before when one fits), then shots other phases have to spare, then, when the style
   reuses shots, unused frames of the phase's used shots (then of any), and only then
   fresh shots another phase would have wanted. The window is exactly the slot's length in
   the source's frames (``ceil(frames * source_rate / rate)``), inside the usable range,
   on frames never used before, where the best-moment curve is high and has no dips
   (blur, shake, bad exposure), towards motion in the climax.
5. **Near-duplicates.** Shots whose keyframe hashes within
   :data:`~.duplicates.DUPLICATE_THRESHOLD` of a better shot (:func:`~.duplicates.find_duplicates`)
   are taken out of the plan, so the same moment is not shown twice; they come back only
   when nothing else fills a slot (the last relaxation), and notes count both.
6. **Relaxations.** When nothing fits a slot, the style gives way in a fixed order (split or
   move the cut, chronological go-back, off-downbeat cuts, shots the plan left out, shots
   shorter than the style's minimum; see ``_fill``); each one used is a line in
   ``CutList.metadata["notes"]``. Only footage too short for the cut raises.

Cuts are on beat frames (record positions); sources keep their own frame grid.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np

from montage_ai.core.analysis.duplicates import Duplicate, ShotKey, find_duplicates
from montage_ai.core.analysis.footage import FootageAnalysis, Shot, quality_curve
from montage_ai.core.analysis.music import MusicAnalysis, beat_frames
from montage_ai.core.base.errors import MontageError
from montage_ai.core.base.timebase import seconds_to_frames, timecode_to_frames
from montage_ai.core.model.cutlist import Cut, CutList
from montage_ai.core.model.cutlist import Section as CutSection
from montage_ai.core.plan.planner import PlanError, StoryPlan, shot_id_map
from montage_ai.core.plan.styles import Style

log = logging.getLogger(__name__)

__all__ = ["assemble", "AssemblyError", "FootageShortError", "Slot", "common_rate", "end_frame", "slot_grid"]

_TIMELINE_START = "01:00:00:00"


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

    The music's length (``floor(music.duration_s * rate)``, no fade), or with
    ``duration_s`` shorter than the music the downbeat frame nearest to it (a fade; the
    style gives its length).

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
    if duration_s is None or _frac(duration_s) * rate >= music_frames:
        return music_frames, False
    target = _frac(duration_s) * rate
    downs = [d for d in beat_frames(music, rate, "downbeats") if 0 < d <= music_frames]
    if not downs:
        raise AssemblyError(f"{music.path}: no downbeats to end a {duration_s:g} s cut on")
    return min(downs, key=lambda d: (abs(d - target), d)), True


def _nearest(x: int, grid: Sequence[int]) -> int:
    k = bisect.bisect_left(grid, x)
    near = [grid[i] for i in (k - 1, k) if 0 <= i < len(grid)]
    return min(near, key=lambda g: (abs(g - x), g)) if near else x


def slot_grid(music: MusicAnalysis, style: Style, rate: Fraction, phases: Sequence[tuple[str, int, int, float]],
              section_starts: Sequence[int], n_frames: int, *, seed: int = 0,
              longest: int | None = None, stretch: float = 1.0) -> list[Slot]:
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
    beats_e: dict[int, float] = {}
    for k, t in enumerate(music.beat_times_s):
        e = music.beat_energy[k] if k < len(music.beat_energy) else 0.5
        beats_e.setdefault(seconds_to_frames(_frac(t), rate), float(e))
    beats = sorted(f for f in beats_e if 0 <= f < n_frames)
    if not beats:
        raise AssemblyError(f"{music.path}: no beats inside the cut to place cuts on")
    energies = [beats_e[f] for f in beats]
    downs = sorted({_nearest(d, beats) for d in beat_frames(music, rate, "downbeats") if 0 <= d < n_frames})
    snap_grid = [d for d in downs if d > 0] or [f for f in beats if f > 0]
    min_f = max(1, math.ceil(_frac(style.min_shot_s) * rate))
    max_f = max(min_f, math.floor(_frac(style.max_shot_s) * rate))
    if longest is not None:
        max_f = max(min_f, min(max_f, longest))
    rng = np.random.default_rng(seed)

    def fits(p: int, points: Sequence[int]) -> bool:
        lo = max([q for q in points if q <= p], default=0)
        hi = min([q for q in points if q > p], default=n_frames)
        return p - lo >= min_f and hi - p >= min_f

    fixed: list[int] = []
    for _, a, _, _ in phases[1:]:
        p = _nearest(a, snap_grid)
        if 0 < p < n_frames and p not in fixed and fits(p, fixed):
            fixed = sorted(fixed + [p])
    if style.section_cut_on_downbeat:
        for s in section_starts:
            p = _nearest(s, snap_grid)
            if 0 < p < n_frames and p not in fixed and fits(p, fixed):
                fixed = sorted(fixed + [p])
    points = set(downs if style.all_cuts_on_downbeat else beats)
    downset = set(downs)
    meter = max(1, music.meter)
    beat_f = float(np.median(np.diff(beats))) if len(beats) > 1 else float(rate) / 2

    def phase_at(f: int) -> tuple[str, int, int, float]:
        for ph in phases:
            if ph[1] <= f < ph[2]:
                return ph
        return phases[-1] if phases else ("climax", 0, n_frames, 0.5)

    slots: list[Slot] = []
    bounds = [0] + fixed + [n_frames]
    for a, b in zip(bounds, bounds[1:]):
        cands = sorted(q for q in points if a < q < b) + [b]
        p = a
        tail = 0
        while p < b:
            name, ph_a, ph_b, _ = phase_at(p)
            i0 = bisect.bisect_left(beats, p)
            e = float(np.mean(energies[i0:i0 + meter])) if i0 < len(beats) else energies[-1]
            lo, hi = style.beats_for(style.energy_level(e), name)
            if style.accelerate_build and name == "build":
                t = (p - ph_a) / max(1, ph_b - ph_a)
            else:
                level = style.energy_level(e)
                l0, l1 = {"low": (0.0, style.energy_levels[0]), "mid": style.energy_levels,
                          "high": (style.energy_levels[1], 1.0)}[level]
                t = (e - l0) / (l1 - l0) if l1 > l0 else 0.5
            k = int(round(hi - min(max(t, 0.0), 1.0) * (hi - lo)))
            if hi > lo:
                k = min(hi, max(lo, k + int(rng.integers(-1, 2))))
            k = max(1, int(round(k * stretch)))
            ok = [q for q in cands if q > p and (q == b or b - q >= min_f)]
            good = [q for q in ok if min_f <= q - p <= max_f]
            i_b = bisect.bisect_left(beats, b)

            def miss(q: int) -> int:
                # beats away from the target; leaving fewer beats than the range allows before
                # the next fixed cut counts as two more (no stray one-beat shot at a phase end)
                rest = i_b - bisect.bisect_left(beats, q)
                return abs(bisect.bisect_left(beats, q) - i0 - k) + (2 if 0 < rest < lo else 0)

            span = b - p
            if good and (tail or span <= 3.5 * k * beat_f):
                # the last few shots before a fixed cut: split what is left evenly, in the
                # style's beat range where it can be (decided once per span)
                if not tail:
                    n_lo = max(1, math.ceil(span / max_f), math.ceil(span / (hi * beat_f + 0.5)))
                    n_hi = max(n_lo, int(span // max(1.0, lo * beat_f - 0.5)))
                    tail = min(max(int(round(span / (k * beat_f))), n_lo), n_hi)
                q = min(good, key=lambda q: (abs((q - p) - span / tail), q not in downset, q))
                tail = max(1, tail - 1)
            elif good:
                q = min(good, key=lambda q: (miss(q), q not in downset, q))
            else:
                longer = [q for q in ok if q - p >= min_f]
                q = longer[0] if longer else b
            slots.append(Slot(p, q, name, round(e, 4)))
            p = q
    return slots


# --------------------------------------------------------------------------- windows


def _motion_samples(a: FootageAnalysis) -> tuple[np.ndarray, np.ndarray]:
    """``(sample_frames, motion)`` as float arrays (NaN where unknown)."""
    sf = np.asarray(a.sample_frames, float)
    mv = np.array([np.nan if v is None else v for v in a.motion], float)
    return (sf, mv) if sf.size == mv.size else (sf, np.full(sf.size, np.nan))


def _window(a: FootageAnalysis, s: Shot, length: int, used: np.ndarray, phase: str, rng: np.random.Generator,
            *, min_src: int = 1, after: int | None = None, early: float = 0.0,
            samples: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[int, float] | None:
    """Best unused window of ``length`` source frames inside the shot's usable range:
    ``(source_in, score)`` or None when none fits.

    The score is the mean of the best-moment curve over the window, minus the share of
    frames in a dip of it (below 60 % of the shot's best: blur, shake, bad exposure), plus
    motion in the climax (minus it in calm phases). Windows that would leave a free piece
    shorter than ``min_src`` frames beside them lose, so the shot's rest stays usable;
    ``early`` favours the earliest free frames (chronological reuse); ``after`` is the
    first frame allowed; ``samples`` is :func:`_motion_samples` of ``a`` (computed when
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
    sf, mv = samples if samples is not None else _motion_samples(a)
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


# --------------------------------------------------------------------------- assembly


def _phase_frames(plan: StoryPlan, rate: Fraction, n_frames: int, grid: Sequence[int]) -> list[tuple[str, int, int, float]]:
    out = []
    starts = []
    for p in plan.phases:
        f = 0 if p.start_s <= 0 else _nearest(seconds_to_frames(_frac(p.start_s), rate), grid) if grid else \
            seconds_to_frames(_frac(p.start_s), rate)
        starts.append(min(max(f, 0), n_frames))
    for k, p in enumerate(plan.phases):
        a = starts[k]
        b = starts[k + 1] if k + 1 < len(starts) else n_frames
        if b > a:
            out.append((p.name, a, b, p.energy))
    return out


def assemble(plan: StoryPlan, analyses: Sequence[FootageAnalysis], music: MusicAnalysis, style: Style, *,
             rate: Fraction | None = None, duration_s: float | None = None, seed: int = 0,
             size: tuple[int, int] | None = None, name: str | None = None, brief: str = "",
             duplicates: Mapping[ShotKey, Duplicate] | None = None) -> CutList:
    """Build the beat-synced cut list of a story plan.

    Parameters
    ----------
    plan : StoryPlan
        Ordered shot ids per phase (:class:`~.planner.RulesPlanner` or an LLM planner).
    analyses : sequence of FootageAnalysis
        The footage the plan's ids refer to.
    music : MusicAnalysis
    style : Style
    rate : Fraction, optional
        Timeline rate; default the most common source rate.
    duration_s : float, optional
        Length wanted; the cut ends on the downbeat nearest to it with the music faded out
        over ``style.fade_out_s``. Default: the whole music. Plan with the same value
        (:func:`~.planner.make_request`) so the arc's climax falls inside the cut.
    seed : int
        Same seed, same cut; another seed varies pacing and windows.
    size : (width, height), optional
        Default: the most common picture size of the footage at the timeline rate.
    name : str, optional
        Timeline name.
    brief : str
        The user's brief, recorded in the cut list.
    duplicates : mapping, optional
        :func:`~.duplicates.find_duplicates` of ``analyses``: these shots are used only when
        nothing else fills a slot.
        Computed when not given (thumbnails, else one keyframe decode per shot).

    Returns
    -------
    CutList

    Raises
    ------
    FootageShortError
        The footage cannot fill every slot under the style's reuse policy even after every
        relaxation of the style (see ``_fill``); the message says how many seconds are missing.
    AssemblyError, PlanError
        No beats, no footage, or plan ids unknown to ``analyses``.

    Examples
    --------
    >>> cl = assemble(plan, analyses, music, load_style("mtv"), duration_s=30)   # doctest: +SKIP
    >>> cl.duration in cl.downbeats or cl.duration == cl.music_duration           # doctest: +SKIP
    True
    """
    rate = common_rate(analyses) if rate is None else rate
    if not isinstance(rate, Fraction):
        if isinstance(rate, int) and not isinstance(rate, bool):
            rate = Fraction(rate)
        else:
            raise TypeError("rate must be a Fraction such as Fraction(24000, 1001)")
    ids = shot_id_map(analyses)
    unknown = [i for i in plan.shot_ids if i not in ids]
    if unknown:
        raise PlanError(f"plan names shots not in the footage: {', '.join(unknown[:5])}")
    if duplicates is None:
        duplicates = find_duplicates(analyses)
    repeats = {i for i, (a, s) in ids.items() if (a.path, s.index) in duplicates}
    dup_notes = []
    if repeats:
        dropped = [i for i in plan.shot_ids if i in repeats]
        plan = replace(plan, phases=tuple(replace(p, shot_ids=tuple(i for i in p.shot_ids if i not in repeats))
                                          for p in plan.phases))
        dup_notes.append(f"{len(repeats)} near-duplicate shot{'s' if len(repeats) > 1 else ''} left out "
                         f"({len(dropped)} of them planned): each repeats a better shot")
        log.info("near-duplicates left out: %s", sorted(repeats))
    music_frames = math.floor(_frac(music.duration_s) * rate)
    n_frames, fades = end_frame(music, rate, duration_s)
    fade = min(n_frames, int(round(_frac(style.fade_out_s) * rate))) if fades else 0
    if n_frames <= 0:
        raise AssemblyError(f"{music.path}: the music is shorter than one frame")
    beats = [b for b in beat_frames(music, rate, "beats") if b < n_frames]
    downs = sorted({_nearest(d, beats) for d in beat_frames(music, rate, "downbeats") if d < n_frames}) if beats else []
    phases = _phase_frames(plan, rate, n_frames, [d for d in downs if d > 0] or beats)
    sec_starts = [_nearest(seconds_to_frames(_frac(s.start_s), rate), downs or beats)
                  for s in music.sections if 0 < s.start_s and seconds_to_frames(_frac(s.start_s), rate) < n_frames]
    longest = max((math.floor(Fraction(s.usable_end_frame - s.usable_start_frame) * rate / Fraction(a.media.video.rate))
                   for a, s in (ids[i] for i in plan.shot_ids)), default=None)
    slots = slot_grid(music, style, rate, phases, sec_starts, n_frames, seed=seed, longest=longest)
    grid_notes = []
    if longest is not None and len(beats) > 1:
        beat_f = float(np.median(np.diff(beats)))
        for ph_name, _, _, energy in phases:
            lo, hi = style.beats_for(style.energy_level(energy), ph_name)
            if longest < min(lo * beat_f, _frac(style.max_shot_s) * rate) - 0.5:
                grid_notes.append(f"{style.name} wants takes of {lo}-{hi} beats ({lo * beat_f / float(rate):.1f} s or "
                                  f"more) in the {ph_name}; the longest usable shot is {float(longest / rate):.1f} s, "
                                  "so takes are shorter")
                break
    n_shots = len(plan.shot_ids)
    if style.reuse == "never" and n_shots and len(slots) > n_shots:
        # too few shots for the style's pace: fewer, longer shots (the fill says if still short)
        stretched = slot_grid(music, style, rate, phases, sec_starts, n_frames, seed=seed, longest=longest,
                              stretch=len(slots) / n_shots)
        if len(stretched) < len(slots):
            log.info("%d shots for %d slots: stretched to %d slots", n_shots, len(slots), len(stretched))
            grid_notes.append(f"{style.name} never reuses a shot: {n_shots} shots for {len(slots)} slots, "
                              f"so {len(stretched)} longer ones")
            slots = stretched
    points = [d for d in downs if d > 0] if style.all_cuts_on_downbeat else [b for b in beats if b > 0]
    keep = {ph[1] for ph in phases} | (set(sec_starts) if style.section_cut_on_downbeat else set())
    cuts, notes = _fill(slots, plan, ids, style, rate, seed, n_frames, points, [b for b in beats if b > 0], keep,
                        exclude=repeats)

    sections = _sections(music, rate, n_frames, phases, downs or beats)
    if size is None:
        sizes = Counter((a.media.video.display_width, a.media.video.display_height) for a in analyses
                        if a.media.video is not None and Fraction(a.media.video.rate) == rate)
        sizes = sizes or Counter((a.media.video.display_width, a.media.video.display_height) for a in analyses
                                 if a.media.video is not None)
        size = sizes.most_common(1)[0][0]
    return CutList(
        rate=rate, width=int(size[0]), height=int(size[1]), duration=n_frames, cuts=tuple(cuts),
        music_path=music.path, music_duration=music_frames,
        start_frames=timecode_to_frames(_TIMELINE_START, rate), music_fade_out=fade,
        beats=tuple(beats), downbeats=tuple(downs), sections=tuple(sections),
        name=name or f"Montage AI {style.name} cut", style=style.name, seed=seed, brief=brief,
        metadata={"planner": plan.planner, "notes": list(plan.notes) + dup_notes + grid_notes + notes},
    )


def _sections(music: MusicAnalysis, rate: Fraction, n_frames: int, phases, grid) -> list[CutSection]:
    """Music sections on the timeline, split where the story phase changes."""
    out = []
    cuts = sorted({ph[1] for ph in phases} | {0})
    for s in music.sections:
        a = 0 if s.start_s <= 0 else _nearest(seconds_to_frames(_frac(s.start_s), rate), grid)
        b = n_frames if s.end_s >= music.duration_s else _nearest(seconds_to_frames(_frac(s.end_s), rate), grid)
        a, b = max(0, a), min(b, n_frames)
        if b <= a:
            continue
        inner = [a] + [c for c in cuts if a < c < b] + [b]
        for x, y in zip(inner, inner[1:]):
            ph = next((p for p in phases if p[1] <= x < p[2]), phases[-1] if phases else ("", 0, 0, 0))
            out.append(CutSection(x, y, s.label, ph[0], round(float(s.energy), 4)))
    if not music.sections:
        out = [CutSection(p[1], p[2], "", p[0], p[3]) for p in phases]
    return out


def _spread(n_slots: int, n_shots: int) -> list[int]:
    """Which of ``n_shots`` (in order) plays each of ``n_slots``: evenly spaced, in order;
    consecutive slots share a shot when there are fewer shots than slots."""
    if n_shots == 0:
        return [0] * n_slots
    return [min(n_shots - 1, (j * n_shots) // n_slots) for j in range(n_slots)]


def _longest_free(used: np.ndarray, lo: int, hi: int) -> int:
    """Length of the longest run of unused frames in ``used[lo:hi]``."""
    seg = used[lo:hi]
    if seg.size == 0:
        return 0
    busy = np.concatenate(([True], seg, [True]))
    edges = np.flatnonzero(busy[1:] != busy[:-1])  # alternating starts and ends of free runs
    return int((edges[1::2] - edges[::2]).max()) if edges.size else 0


def _fill(slots: list[Slot], plan: StoryPlan, ids, style: Style, rate: Fraction, seed: int, n_frames: int,
          points: Sequence[int], beats: Sequence[int] = (), keep: set[int] | frozenset = frozenset(),
          exclude: set[str] | frozenset = frozenset()) -> tuple[list[Cut], list[str]]:
    """Fill every slot with a window of footage; ``(cuts, notes)``.

    Each slot first gets what the style prefers (see the module doc); when nothing fits,
    the style's preferences give way, one at a time and in this order, only for that slot
    (shots in ``exclude``, near-duplicates of better ones, only in the last one):

    1. shots other phases have to spare, then (reuse "shots") new frames of used shots;
    2. the slot is split on a cut point of the style (a downbeat when it cuts only on
       downbeats), both parts at least the style's shortest shot, where a shot fits the
       first part (chronological styles: a shot further on in time); or its cut moves
       earlier so that the longest shot left fits it, the rest going to the next slot of
       the phase (not across a phase change or a section cut);
    3. chronological styles go back to unused frames of earlier shots (the cursor stays);
    4. styles that cut only on downbeats split on another beat (parts still within the
       style's shortest shot);
    5. usable shots the plan left out (not black; shorter than the style's shortest shot
       for the rules planner);
    6. a part shorter than the style's shortest shot, split on a beat;
    7. near-duplicates of shots already used (``exclude``), best first, as a last resort.

    The reuse policy is never relaxed. Each relaxation used is counted in a note.
    Chronological styles fit a slot to the shot they are on (a shorter slot, the rest to
    the next) before skipping ahead in time; a style that never reuses a shot, when the
    planned footage is barely enough, gives each slot the shot that wastes least.
    """
    rng = np.random.default_rng(seed + 7919)
    used: dict[str, np.ndarray] = {}
    for a, _ in ids.values():
        if a.path not in used:
            n = a.media.video.frame_count if a.media.video is not None else 0
            used[a.path] = np.zeros(max(a.frame_count, n, max((s.end_frame for s in a.shots), default=0)), bool)
            for fl in a.flags:  # frames the analysis flagged (blur, corrupt, test pattern...) are never used
                used[a.path][max(0, fl.first):fl.last + 1] = True
    order = [p.name for p in plan.phases]
    home = {i: p.name for p in plan.phases for i in p.shot_ids}
    fresh = set(plan.shot_ids)
    uses: Counter[str] = Counter()
    last_end: dict[str, int] = {}
    cuts: list[Cut] = []
    unfilled: list[Slot] = []
    prev_path: str | None = None
    min_rec = max(1, math.ceil(_frac(style.min_shot_s) * rate))
    never = style.reuse == "never"
    beats = sorted(set(beats) | set(points))
    planned = set(plan.shot_ids)
    unplanned = [i for i, (a, s) in ids.items()
                 if i not in planned and i not in exclude and not s.black and a.media.video is not None
                 and s.usable_end_frame > s.usable_start_frame]
    unplanned.sort(key=lambda i: (ids[i][0].media.creation_time is None,
                                  ids[i][0].media.creation_time.timestamp() if ids[i][0].media.creation_time else 0.0,
                                  ids[i][0].path, ids[i][1].usable_start_frame))
    dup_pool = sorted((i for i in exclude if i in ids and not ids[i][1].black),
                      key=lambda i: (-max(ids[i][1].scores, default=0.0), i))
    relaxed: Counter[str] = Counter()
    max_rec = max(min_rec, math.floor(_frac(style.max_shot_s) * rate))
    room = sum(min(max_rec, math.floor(Fraction(s.usable_end_frame - s.usable_start_frame) * rate
                                       / Fraction(a.media.video.rate)))
               for a, s in (ids[i] for i in plan.shot_ids))
    tight = never and room < 1.25 * n_frames  # best fit: waste as little of each shot as possible
    went_back: set[int] = set()  # record_in of cuts that went back in time

    samples: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def try_shot(sid: str, slot: Slot, after: int | None = None, early: float = 0.0):
        if never and uses[sid]:
            return None
        a, s = ids[sid]
        sr = Fraction(a.media.video.rate)
        length = math.ceil(Fraction(slot.frames) * sr / rate)
        lo = max(s.usable_start_frame, after or 0)
        if s.usable_end_frame - lo < length or int((~used[a.path][lo:s.usable_end_frame]).sum()) < length:
            return None  # cheap reject before scoring windows
        if a.path not in samples:
            samples[a.path] = _motion_samples(a)
        min_src = math.ceil(Fraction(min_rec) * sr / rate)
        got = _window(a, s, length, used[a.path], slot.phase, rng, min_src=min_src, after=after, early=early,
                      samples=samples[a.path])
        return None if got is None else (sid, a, s, sr, length, got)

    def avail(cands: Sequence[tuple[str, int | None]]) -> int:
        """The longest slot (timeline frames) one of ``cands`` can still fill."""
        best = 0
        for sid, after in cands:
            if never and uses[sid]:
                continue
            a, s = ids[sid]
            sr = Fraction(a.media.video.rate)
            run = _longest_free(used[a.path], max(s.usable_start_frame, after or 0), s.usable_end_frame)
            best = max(best, math.floor(Fraction(run) * rate / sr))
        return best

    def split_point(slot: Slot, grid: Sequence[int], fit: int, short: bool) -> int | None:
        """A cut point inside ``slot`` whose first part lasts at most ``fit`` frames; both
        parts at least the style's minimum unless ``short`` (then as few short parts as
        possible, the first part as long as possible)."""
        gap = 1 if short else min_rec
        qs = [q for q in grid if slot.start + gap <= q <= slot.end - gap and q - slot.start <= fit]
        if not qs:
            return None
        if short:
            return min(qs, key=lambda q: ((q - slot.start < min_rec) + (slot.end - q < min_rec), -q))
        if chrono or never:  # use as much of the shot as the rest allows
            return max(qs)
        return min(qs, key=lambda q: (abs(2 * q - slot.start - slot.end), q))

    def shift_point(j: int, slot: Slot, fit: int) -> int | None:
        """An earlier cut for ``slot`` (at least the style's minimum, at most ``fit``) when
        the next slot is of the same phase and no fixed cut lies between."""
        if j + 1 >= len(slots) or slots[j + 1].phase != slot.phase or slot.end in keep:
            return None
        qs = [q for q in points if slot.start + min_rec <= q <= slot.start + fit and q < slot.end]
        return max(qs) if qs else None

    # chronological: one forward cursor over all planned shots; each phase spreads its
    # slots evenly over its shots, a shot playing several slots forward in its own time
    chrono = style.chronological
    all_ids = list(plan.shot_ids)
    assigned: list[int] = []
    if chrono:
        offset = 0
        for p in plan.phases:
            mine = [sl for sl in slots if sl.phase == p.name]
            assigned += [offset + k for k in _spread(len(mine), len(p.shot_ids))]
            offset += len(p.shot_ids)
    cursor = 0

    slots = list(slots)
    j = -1
    while j + 1 < len(slots):
        j += 1
        slot = slots[j]
        pick = None
        if chrono:
            target = assigned[j] if j < len(assigned) else cursor
            strict = [(all_ids[k], last_end.get(all_ids[k])) for k in range(max(target, cursor), len(all_ids))]
            here = next((c for c in strict if avail([c]) >= min_rec), None)
            moved = False
            for k in range(max(target, cursor), len(all_ids)):
                sid = all_ids[k]
                repeated = assigned.count(k) > 1
                pick = try_shot(sid, slot, after=last_end.get(sid), early=0.5 if repeated else 0.0)
                if pick:
                    cursor = k
                    break
                if here is not None and sid == here[0]:
                    # the shot in order is too short for the slot: a shorter slot rather than a skip
                    fit = avail([here])
                    q = split_point(slot, points, fit, short=False)
                    q2 = None if q is not None else shift_point(j, slot, fit)
                    if q is not None or q2 is not None:
                        nxt = slots[j + 1] if q is None else None
                        if q is not None:
                            slots[j:j + 1] = [Slot(slot.start, q, slot.phase, slot.energy),
                                              Slot(q, slot.end, slot.phase, slot.energy)]
                            if j < len(assigned):
                                assigned[j:j + 1] = [assigned[j], assigned[j]]
                        else:
                            slots[j:j + 2] = [Slot(slot.start, q2, slot.phase, slot.energy),
                                              Slot(q2, nxt.end, nxt.phase, nxt.energy)]
                        j -= 1
                        moved = True
                        break
            if moved:
                continue
        else:
            ph_i = order.index(slot.phase) if slot.phase in order else 0
            neighbours = sorted(order, key=lambda n: (abs(order.index(n) - ph_i), order.index(n)))
            # own phase's fresh shots; then other phases' spare fresh shots (beyond their own
            # remaining slots, least typical first); then, when the style reuses shots, new
            # frames of this phase's shots, then of the others; a style that never reuses
            # borrows any fresh shot last
            own, others = neighbours[0], neighbours[1:]
            left = Counter(sl.phase for sl in slots[j + 1:])
            spare = []
            for n in others:
                queue = [i for i in plan.phase(n).shot_ids if i in fresh]
                extra = max(0, len(queue) - left[n])
                spare += queue[len(queue) - extra:][::-1] if extra else []
            tiers = [[i for i in plan.phase(own).shot_ids if i in fresh], spare]
            if not never:
                tiers.append([i for i in plan.phase(own).shot_ids if i not in fresh])
                tiers.append([i for n in others for i in plan.phase(n).shot_ids if i not in fresh])
            tiers.append([i for n in others for i in plan.phase(n).shot_ids if i in fresh])
            strict = [(i, None) for i in plan.shot_ids]
            for tier in tiers:
                fits = []
                for sid in tier:
                    got = try_shot(sid, slot)
                    if got is not None:
                        fits.append(got)
                        if got[1].path != prev_path and not tight:
                            break
                if fits and tight:
                    pick = min(fits, key=lambda f: (avail([(f[0], None)]) - slot.frames, f[1].path == prev_path))
                    break
                if fits:
                    pick = next((f for f in fits if f[1].path != prev_path), fits[0])
                    break

        def split(q: int, what: str) -> None:
            nonlocal j
            slots[j:j + 1] = [Slot(slot.start, q, slot.phase, slot.energy), Slot(q, slot.end, slot.phase, slot.energy)]
            if chrono and j < len(assigned):
                assigned[j:j + 1] = [assigned[j], assigned[j]]
            relaxed[what] += 1
            j -= 1

        def shift(q: int) -> None:
            nonlocal j
            nxt = slots[j + 1]
            slots[j:j + 2] = [Slot(slot.start, q, slot.phase, slot.energy), Slot(q, nxt.end, nxt.phase, nxt.energy)]
            relaxed["shift"] += 1
            j -= 1

        def split_or_shift(fit) -> bool:
            """Split the slot on a cut point where ``fit`` frames fit, or move its end."""
            q = split_point(slot, points, fit, short=False)
            if q is not None:
                split(q, "split")
                return True
            q = shift_point(j, slot, fit)
            if q is not None:
                shift(q)
                return True
            return False

        if pick is None and split_or_shift(avail(strict)):
            # (2) split on the style's own cut points, where a shot fits the first part
            continue
        back = [(all_ids[k], None) for k in range(min(cursor, len(all_ids) - 1), -1, -1)] if chrono else []
        if pick is None and chrono:
            # (3) back in time: unused frames of the shots already played, nearest first
            for sid, _ in back:
                pick = try_shot(sid, slot)
                if pick:
                    went_back.add(slot.start)
                    break
        if pick is None and chrono and split_or_shift(avail(back)):
            continue
        if pick is None and style.all_cuts_on_downbeat:
            # (4) off the downbeat, still on a beat and within the style's shortest shot
            q = split_point(slot, beats, avail(strict + back), short=False)
            if q is not None:
                split(q, "split")
                continue
        if pick is None:
            # (5) usable shots the plan left out
            for sid in unplanned:
                pick = try_shot(sid, slot)
                if pick:
                    break
        if pick is None:
            # (6) last resort: a part shorter than the style's shortest shot
            fit = avail(strict + back + [(i, None) for i in unplanned])
            q = split_point(slot, points, fit, short=True)
            q = split_point(slot, beats, fit, short=True) if q is None else q
            if q is not None:
                split(q, "split")
                continue
            # (7) nothing else is left: near-duplicates of shots used elsewhere (best first)
            for sid in dup_pool:
                pick = try_shot(sid, slot)
                if pick:
                    break
            if pick is None:
                fit = avail([(i, None) for i in dup_pool])
                q = split_point(slot, points, fit, short=True)
                q = split_point(slot, beats, fit, short=True) if q is None else q
                if q is not None:
                    split(q, "split")
                    continue
                unfilled.append(slot)
                continue
        sid, a, s, sr, length, (src_in, score) = pick
        used[a.path][src_in:src_in + length] = True
        last_end[sid] = max(last_end.get(sid, 0), src_in + length)
        fresh.discard(sid)
        reused = uses[sid] > 0
        uses[sid] += 1
        why = plan.reasons.get(sid, "")
        if sid in exclude:
            why = "near-duplicate of a better shot: the other footage ran out"
            relaxed["duplicate"] += 1
        elif sid not in planned:
            why = "not in the plan" + (" (shorter than the style's shortest shot)"
                                       if Fraction(s.usable_end_frame - s.usable_start_frame) / sr < _frac(style.min_shot_s)
                                       else "")
            relaxed["unplanned"] += 1
        elif home.get(sid) != slot.phase:
            why = f"from {home.get(sid, 'the plan')}: {why}"
            relaxed["other phase"] += 1
        if reused:
            why += " (shot again, new frames)"
        if slot.start in went_back:
            why += " (back in time: unused earlier frames)"
        cuts.append(Cut(record_in=slot.start, record_out=slot.end, source_path=a.path, source_rate=sr,
                        source_in=int(src_in), shot_index=s.index, score=score, phase=slot.phase,
                        reason=f"{slot.phase}: {why}; best moment {score:.2f}"))
        prev_path = a.path
    if unfilled:
        missing = sum(Fraction(s.frames) for s in unfilled) / rate
        shots = [s for i, (a, s) in ids.items() if not s.black and a.media.video is not None]
        total = sum((Fraction(max(0, s.usable_end_frame - s.usable_start_frame)) / Fraction(a.media.video.rate)
                     for i, (a, s) in ids.items() if not s.black and a.media.video is not None), Fraction(0))
        policy = "never reuses a shot" if never else "reuses shots but never their frames"
        raise FootageShortError(
            f"not enough footage for a {float(n_frames / rate):.1f} s cut in style '{style.name}' ({policy}): "
            f"{len(shots)} usable shots, {float(total):.1f} s in all; {len(unfilled)} of {len(slots)} shots "
            f"cannot be filled even with shorter shots, about {float(missing):.1f} s more usable "
            f"footage needed; add footage, ask for a shorter duration"
            + (" or choose a style that reuses shots" if never else ""),
            missing_s=float(missing), unfilled=len(unfilled))
    return cuts, _notes(cuts, style, rate, relaxed, len(went_back), n_frames, beats, points)


def _notes(cuts: Sequence[Cut], style: Style, rate: Fraction, relaxed: Counter, back: int, n_frames: int,
           beats: Sequence[int], points: Sequence[int]) -> list[str]:
    """One line per relaxation of the style the fill needed, in the order they apply."""
    name = style.name
    notes = []
    n = 0 if style.chronological else relaxed["other phase"]  # chronological: phases only split the order
    if n:
        notes.append(f"{n} shot{'s' if n > 1 else ''} taken from another story phase: "
                     "the phase's own shots ran out or were too short")
    n = relaxed["shift"]
    if n:
        notes.append(f"{name}: {n} cut{'s' if n > 1 else ''} moved to an earlier beat so the shot left fits, "
                     "the next shot lasting longer: no unused shot was long enough")
    n = relaxed["split"]
    if n:
        notes.append(f"{name}: {n} slot{'s were' if n > 1 else ' was'} split into shorter shots on the beat: "
                     "no unused shot was long enough")
    if back:
        notes.append(f"{name} keeps chronological order; {back} shot{'s go' if back > 1 else ' goes'} back to unused "
                     "frames of earlier shots: the footage in order ran out")
    if style.all_cuts_on_downbeat:
        downs = set(points)
        off = sum(1 for c in cuts[1:] if c.record_in not in downs)
        if off:
            notes.append(f"{name} cuts only on downbeats; {off} cut{'s fall' if off > 1 else ' falls'} on another beat: "
                         "no unused shot lasts from one downbeat to the next")
    n = relaxed["duplicate"]
    if n:
        notes.append(f"{n} shot{'s' if n > 1 else ''} repeat{'' if n > 1 else 's'} a moment already shown "
                     "(near-duplicate footage): the other footage ran out")
    n = relaxed["unplanned"]
    if n:
        notes.append(f"{n} shot{'s' if n > 1 else ''} the plan left out {'were' if n > 1 else 'was'} used: "
                     "the planned footage ran out")
    min_rec = max(1, math.ceil(_frac(style.min_shot_s) * rate))
    short = sum(1 for c in cuts if c.record_frames < min_rec) if n_frames >= min_rec else 0
    if short:
        notes.append(f"{name} wants takes of {style.min_shot_s:g} s or more; {short} shot{'s were' if short > 1 else ' was'} "
                     "shorter: the footage has few long shots")
    return notes
