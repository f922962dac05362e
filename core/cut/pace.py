"""The pace a style promises, and the longest takes the footage can hold at that pace.

A style's target for a story phase is the middle of its beats-per-cut range at the phase's
energy, at least a bar when it cuts only on downbeats, times the beat (or the pattern's
subdivision of it), within the style's shortest and longest shot (:func:`style_target_s`).
Where a pattern and a style conflict, what the editor asked for by name wins on pace: the
pattern's beats per cut, cut points and shortest/longest take (:func:`~.patterns.apply_pattern`);
the style keeps its order, its story phases and its reuse policy. So ``documentary+every_beat``
cuts on every beat and never shows a shot twice: it needs a shot a beat, and when the footage
has too few the cut ends earlier (noted) or, below half the length, the error says how much
footage is missing. The promised target is that of the combined style.

Footage can make that target impossible: a held phase of 6 s takes cut from 4 s shots. The
assembly then asks :func:`hold_s` for the longest take length at which the usable shots can
fill every phase (pieces of one shot when the style reuses shots, one take per shot when it
never does), caps the grid's slots at it and says so in the notes: every phase is shortened
evenly, the last (held) phase is not the one chopped because the long shots ran out first.
The promised target of a phase is ``min(style target, hold)``, the hold in whole beats (whole
bars for a style that cuts only on downbeats) counted in the phase that sets it: beats fall
between frames, so a phase of four bars may be shorter than four median bars, and its two-bar
takes are two bars, not one (the assembly's ``_on_grid_hold``).

That estimate assumes perfect packing; the fill's pieces do not pack perfectly. So after the
fill the assembly measures each phase's mean take against its target (:func:`phase_ratios`):
a phase more than :data:`PACE_TOLERANCE` short because the fill split the grid's slots makes
it try a shorter cut first (kept only when every phase keeps the style's own pace), else
lower the cap on every phase to what the fill's pieces held (bounded; noted).

>>> hold_s([4.0, 4.0, 4.0], [(12.0, 6.0)], never=False) is None  # 12 s at 6 s takes: 4 s shots cannot
False
>>> round(hold_s([4.0, 4.0, 4.0], [(12.0, 6.0)], never=False), 2)  # three takes of 4 s
4.0
>>> hold_s([4.0, 4.0, 4.0], [(8.0, 6.0)], never=False) is None  # 8 s at 6 s takes is two of 4 s: they fit
True
>>> hold_s([8.0, 8.0], [(8.0, 4.0)], never=False) is None  # the style's takes fit: no cap
True
"""

from __future__ import annotations

import bisect
import math
from fractions import Fraction
from typing import Sequence

import numpy as np

from montage_ai.core.plan.styles import Style

__all__ = ["style_target_s", "hold_s", "holds", "phase_ratios", "too_long_s", "paced_phases", "off_pace_note",
           "whole_takes", "quantised_phases", "quantised_note", "ring_out_take",
           "shortest_take_s", "below_shortest", "below_shortest_note", "longest_take_s", "above_longest",
           "above_longest_note", "too_few_beats", "too_few_beats_note", "unreachable_notes", "HOLD_STEP_S", "PACE_TOLERANCE"]

#: How far a phase's mean take may be from its target (a share) before the assembly tries
#: again (a shorter cut, else a lower cap on every phase's takes).
PACE_TOLERANCE = 0.2

#: Resolution of :func:`hold_s`'s search, seconds.
HOLD_STEP_S = 0.05


def style_target_s(style: Style, phase: str, energy: float, beat_s: float, meter: int) -> float:
    """The mean take (s) ``style`` aims at in ``phase`` at ``energy`` with beats ``beat_s`` apart.

    >>> from montage_ai.core.plan.styles import load_style
    >>> style_target_s(load_style("documentary"), "intro", 0.1, 0.5, 4)
    7.0
    >>> style_target_s(load_style("mtv"), "climax", 0.9, 0.5, 4)
    0.5
    """
    lo, hi = style.beats_for(style.energy_level(energy), phase)
    mid = (lo + hi) / 2
    if style.all_cuts_on_downbeat:  # a cut on every downbeat at most: a bar is the shortest shot promised
        mid = max(mid, max(1, meter) * max(1, style.subdivide))
    beat = beat_s / max(1, style.subdivide)
    return float(min(max(mid * beat, style.min_shot_s), style.max_shot_s))


def _feasible(lengths: Sequence[float], takes: Sequence[tuple[float, int]], never: bool) -> bool:
    """Whether shots of ``lengths`` give ``n`` takes of ``t`` s for every ``(t, n)``, longest
    takes first, each from one shot's unused part (one take per shot when ``never``)."""
    pool = sorted(lengths, reverse=True)
    for t, n in sorted(takes, reverse=True):
        rest: list[float] = []
        for ell in pool:
            if n <= 0 or ell < t - 1e-9:
                rest.append(ell)
                continue
            k = 1 if never else min(n, int(math.floor(ell / t + 1e-9)))
            n -= k
            if not never and ell - k * t > 1e-9:
                rest.append(ell - k * t)
        if n > 0:
            return False
        pool = sorted(rest, reverse=True)
    return True


def tile_count(length: float, take: float) -> int:
    """The fewest takes of at most ``take`` s that tile ``length`` s (a twentieth of a take
    over still counts as whole: beats fall between frames).

    >>> tile_count(8.0, 6.0), tile_count(6.2, 6.0), tile_count(2.0, 6.0)
    (2, 1, 1)
    """
    return max(1, math.ceil(length / take - 0.05))


def _takes(phases: Sequence[tuple[float, float]], cap: float) -> list[tuple[float, int]]:
    """Each phase as ``(take, n)``: the fewest takes of at most ``min(target, cap)`` that tile
    it, each the phase's length over their number (6 s of phase at 4 s takes: two of 3 s; the
    footage need not hold 8 s for it)."""
    out = []
    for length, target in phases:
        t = min(target, cap, length)
        if t > 0:
            n = tile_count(length, t)  # slots of at most t tile the phase
            out.append((min(t, length / n), n))
    return out


def longest_tiled_take_s(phases: Sequence[tuple[float, float]], cap: float) -> float:
    """The longest take of the phases ``(length_s, target_s)`` tiled in the fewest takes of at
    most ``min(target, cap)`` each (:func:`holds` counts the footage against these takes).

    >>> longest_tiled_take_s([(8.0, 6.0), (4.0, 6.0)], float("inf"))  # 8 s in two takes, 4 s in one
    4.0
    """
    return max((t for t, _ in _takes(phases, cap)), default=0.0)


def holds(lengths: Sequence[float], phases: Sequence[tuple[float, float]], *, never: bool, cap: float) -> bool:
    """Whether shots of usable ``lengths`` fill every phase of ``(length_s, target_s)`` with
    takes of ``min(target, cap)``."""
    return _feasible(lengths, _takes(phases, cap), never)


def hold_s(lengths: Sequence[float], phases: Sequence[tuple[float, float]], *, never: bool,
           floor_s: float = HOLD_STEP_S) -> float | None:
    """The longest take (s) at which shots of usable ``lengths`` (s) fill every phase of
    ``(length_s, style target_s)``, each phase taking ``min(target, hold)`` takes; None when
    the style's own targets fit (nothing to cap) or when no take length down to ``floor_s``
    fits (the footage is too short for the cut at any pace: the fill relaxes and says so)."""
    def takes(cap: float) -> list[tuple[float, int]]:
        return _takes(phases, cap)

    top = max((min(t, ell) for ell, t in phases), default=0.0)
    if top <= 0 or _feasible(lengths, takes(top), never):
        return None
    cap = top - HOLD_STEP_S
    while cap >= floor_s:
        got = takes(cap)
        if _feasible(lengths, got, never):  # the longest take the phases then have
            return round(max(floor_s, max(t for t, _ in got)), 3)
        cap -= HOLD_STEP_S
    return None


def _phase_targets(cuts: Sequence, sections: Sequence, style: Style, beat_s: float, meter: int, rate,
                   hold: float | None = None) -> dict[str, tuple[float, float, float]]:
    """Each story phase's ``(mean take, length, target)`` in seconds, as :func:`phase_ratios` measures them."""
    out: dict[str, tuple[float, float, float]] = {}
    for phase in ("intro", "build", "climax", "outro"):
        mine = [c for c in cuts if c.phase == phase]
        if not mine:
            continue
        energies = [float(s.energy) for s in sections if s.phase == phase]
        energy = sum(energies) / len(energies) if energies else 0.5
        target = style_target_s(style, phase, energy, beat_s, meter)
        length = float((mine[-1].record_out - mine[0].record_in) / rate)
        target = min(target, length)
        if hold:
            target = min(target, float(hold))
        if length < 2 * style.min_shot_s:
            target = length
        mean = sum(float(c.record_frames) for c in mine) / len(mine) / float(rate)
        out[phase] = (mean, length, target)
    return out


def phase_ratios(cuts: Sequence, sections: Sequence, style: Style, beat_s: float, meter: int, rate,
                 hold: float | None = None) -> dict[str, float]:
    """Each story phase's mean take over its target (1.0: on target), measured on the cut.

    ``cuts`` have ``phase``, ``record_in``, ``record_out`` and ``record_frames``; ``sections``
    have ``phase`` and ``energy`` (the cut list's). The target is :func:`style_target_s` at
    the phase's mean section energy, capped at ``hold`` when given and at the phase's length
    (a phase shorter than one take holds one shot); a phase too short to split into two of
    the style's shortest takes holds one whatever its length.

    >>> from types import SimpleNamespace as C
    >>> from montage_ai.core.plan.styles import load_style
    >>> cuts = [C(phase="climax", record_in=i * 12, record_out=i * 12 + 12, record_frames=12) for i in range(8)]
    >>> phase_ratios(cuts, [C(phase="climax", energy=0.9)], load_style("mtv"), 0.5, 4, 24)
    {'climax': 1.0}
    """
    return {ph: (m / t if t > 0 else 1.0)
            for ph, (m, _, t) in _phase_targets(cuts, sections, style, beat_s, meter, rate, hold).items()}


def whole_takes(length_s: float, target_s: float) -> tuple[int, float]:
    """The whole number of takes whose mean comes nearest ``target_s`` over a phase of
    ``length_s``, and that mean over the target.

    The takes of a phase tile it, so ``n`` of them average ``length / n`` whatever their
    lengths: a phase between 1.2 and 1.6 of its target take (one take over 20 % long, two
    over 20 % short) cannot be within :data:`PACE_TOLERANCE` of it with any cut. A phase no
    longer than one take holds one (on target, as :func:`phase_ratios` counts it).

    >>> whole_takes(4.0, 3.0)   # one take 33 % over, two 33 % under
    (1, 1.333)
    >>> whole_takes(10.0, 4.0)  # two of 5 s or three of 3.3 s: two are 25 % over, three 17 % under
    (3, 0.833)
    >>> whole_takes(6.0, 4.0)
    (2, 0.75)
    >>> whole_takes(2.0, 3.0)
    (1, 1.0)
    """
    if target_s <= 0 or length_s <= target_s:
        return 1, 1.0
    n0 = max(1, int(length_s / target_s))
    n = min((n0, n0 + 1), key=lambda k: (round(abs(length_s / (k * target_s) - 1), 3), k))  # a tie: fewer
    return n, round(length_s / (n * target_s), 3)


def quantised_phases(cuts: Sequence, sections: Sequence, style: Style, beat_s: float, meter: int, rate,
                     hold: float | None = None) -> dict[str, tuple[float, float, int, float]]:
    """The phases whose length holds no whole number of their target takes within
    :data:`PACE_TOLERANCE` (:func:`whole_takes`): ``{phase: (length s, target s, n, mean of n
    takes over the target)}``, ``n`` the most takes whose mean is not under the target (``n + 1``
    are the other side: ``n / (n + 1)`` of that). Which of the two a cut can take depends on its
    grid (downbeats only, the style's shortest take); either is the nearest it can come.
    Targets as :func:`phase_ratios`."""
    out = {}
    for ph, (_, length, target) in _phase_targets(cuts, sections, style, beat_s, meter, rate, hold).items():
        n, r = whole_takes(length, target)
        if abs(r - 1) > PACE_TOLERANCE + 1e-9:
            n0 = max(1, int(length / target))
            out[ph] = (length, target, n0, round(length / (n0 * target), 3))
    return out


def quantised_note(style: Style, quantised: dict[str, tuple[float, float, int, float]]) -> str | None:
    """What the notes tell the editor about :func:`quantised_phases` (None when there are none).

    >>> from montage_ai.core.plan.styles import load_style
    >>> quantised_note(load_style("cinematic"), {"outro": (4.0, 3.0, 1, 1.333)})
    'cinematic: the outro (4.0 s) holds no whole number of its 3.0 s takes within 20%: 1 take is 33% over, 2 are 33% under; no cut can keep that phase on pace at that length (whole takes tile a phase: a phase length, not a footage limit)'
    """
    if not quantised:
        return None
    parts = []
    for ph, (length, target, n, r) in quantised.items():
        under = r * n / (n + 1)
        parts.append(f"the {ph} ({length:.1f} s) holds no whole number of its {target:.1f} s takes within "
                     f"{PACE_TOLERANCE:.0%}: {n} take{' is' if n == 1 else 's are'} {r - 1:.0%} over, "
                     f"{n + 1} are {1 - under:.0%} under")
    return (f"{style.name}: " + "; ".join(parts) + f"; no cut can keep {'that phase' if len(parts) == 1 else 'them'} "
            "on pace at that length (whole takes tile a phase: a phase length, not a footage limit)")


def cut_unit_beats(style: Style, meter: int) -> float:
    """Beats in one unit of the style's grid of cuts: a bar for a style that cuts only on
    downbeats, else a beat (a pattern's subdivision of it)."""
    return float(max(1, meter)) if style.all_cuts_on_downbeat else 1 / max(1, style.subdivide)


def cut_unit_s(style: Style, beat_s: float, meter: int) -> float:
    """One unit of the style's grid of cuts (:func:`cut_unit_beats`) at beats ``beat_s`` apart."""
    return beat_s * max(1, meter) if style.all_cuts_on_downbeat else beat_s / max(1, style.subdivide)


def shortest_take_s(style: Style, beat_s: float, meter: int) -> float:
    """The shortest take the grid cuts at beats ``beat_s`` apart: whole beats (of a pattern's
    subdivision; whole bars for a style that cuts only on downbeats), no shorter than the
    style's shortest shot (the grid's own rule: a beat shorter than it is never a take).

    >>> from montage_ai.core.plan.styles import load_style
    >>> round(shortest_take_s(load_style("dynamic"), 0.347, 4), 3)  # 0.4 s shortest shot: two beats at 173 bpm
    0.694
    >>> shortest_take_s(load_style("dynamic"), 0.5, 4)
    0.5
    """
    unit = cut_unit_s(style, beat_s, meter)
    if unit <= 0:
        return float(style.min_shot_s)
    return max(1, math.ceil(style.min_shot_s / unit - 0.02)) * unit


def below_shortest(cuts: Sequence, sections: Sequence, style: Style, beat_s: float, meter: int, rate,
                   hold: float | None = None) -> dict[str, tuple[float, float]]:
    """The phases whose target take is more than :data:`PACE_TOLERANCE` shorter than the
    shortest take the grid cuts (:func:`shortest_take_s`): ``{phase: (target s, shortest s)}``.
    No cut's mean there can be within the tolerance: at 173 bpm a 1.5-beat target (0.52 s)
    with a 0.4 s shortest shot is cut in takes of two beats at least. Targets as
    :func:`phase_ratios`."""
    least = shortest_take_s(style, beat_s, meter)
    return {ph: (t, least) for ph, (_, length, t) in
            _phase_targets(cuts, sections, style, beat_s, meter, rate, hold).items()
            if t > 0 and least > t * (1 + PACE_TOLERANCE) and length >= least}


def below_shortest_note(style: Style, short: dict[str, tuple[float, float]]) -> str | None:
    """What the notes tell the editor about :func:`below_shortest` (None when there are none).

    >>> from montage_ai.core.plan.styles import load_style
    >>> below_shortest_note(load_style("dynamic"), {"climax": (0.52, 0.694)})
    "dynamic: the climax's 0.52 s takes are shorter than the shortest it cuts at this tempo (0.69 s: whole beats, none under its 0.4 s shortest shot): that phase is cut at it"
    """
    return _tempo_limit_note(style, short, shorter=True)


def _tempo_limit_note(style: Style, limits: dict[str, tuple[float, float]], *, shorter: bool) -> str | None:
    """The note for phases whose target take lies past what the grid cuts at the tempo:
    ``shorter``, under its shortest take (:func:`below_shortest`), else over its longest
    (:func:`above_longest`)."""
    if not limits:
        return None
    parts = [f"the {ph}'s {t:.2f} s takes" for ph, (t, _) in limits.items()]
    limit = (max if shorter else min)(x for _, x in limits.values())
    unit = "bars" if style.all_cuts_on_downbeat else "beats"
    side = (f"shorter than the shortest it cuts at this tempo ({limit:.2f} s: whole {unit}, none under its "
            f"{style.min_shot_s:g} s shortest shot)" if shorter else
            f"longer than the longest it cuts at this tempo ({limit:.2f} s: whole {unit}, none over its "
            f"{style.max_shot_s:g} s longest shot)")
    return (f"{style.name}: " + " and ".join(parts) + f" are {side}: "
            f"{'that phase is' if len(parts) == 1 else 'those phases are'} cut at it")


def longest_take_s(style: Style, beat_s: float, meter: int) -> float:
    """The longest take the grid cuts at beats ``beat_s`` apart: the most whole beats (of a
    pattern's subdivision; whole bars for a style that cuts only on downbeats) no longer than
    the style's longest shot (the grid's own rule: no slot over it), at least one.

    >>> from montage_ai.core.plan.styles import load_style
    >>> from montage_ai.core.plan.patterns import apply_pattern, load_pattern
    >>> style = apply_pattern(load_style("dynamic"), load_pattern("downbeats_only"))
    >>> round(longest_take_s(style, 0.88, 4), 2)  # 68 bpm: two bars are 7.0 s, over its 6 s longest shot
    3.52
    >>> longest_take_s(load_style("dynamic"), 0.5, 4)
    6.0
    """
    unit = cut_unit_s(style, beat_s, meter)
    if unit <= 0:
        return float(style.max_shot_s)
    return max(1, math.floor(style.max_shot_s / unit + 0.02)) * unit


def above_longest(cuts: Sequence, sections: Sequence, style: Style, beat_s: float, meter: int, rate,
                  hold: float | None = None) -> dict[str, tuple[float, float]]:
    """The phases whose target take is more than :data:`PACE_TOLERANCE` longer than the
    longest take the grid cuts (:func:`longest_take_s`): ``{phase: (target s, longest s)}``.
    No cut's mean there can be within the tolerance: at 68 bpm cutting only on downbeats, a
    1.5-bar target (5.3 s) with a 6 s longest shot is cut in takes of one bar (two bars are
    7 s). Targets as :func:`phase_ratios` (a phase no longer than that take holds one)."""
    most = longest_take_s(style, beat_s, meter)
    return {ph: (t, most) for ph, (_, length, t) in
            _phase_targets(cuts, sections, style, beat_s, meter, rate, hold).items()
            if most > 0 and t > most * (1 + PACE_TOLERANCE)}


def above_longest_note(style: Style, long: dict[str, tuple[float, float]]) -> str | None:
    """What the notes tell the editor about :func:`above_longest` (None when there are none).

    >>> from montage_ai.core.plan.styles import load_style
    >>> above_longest_note(load_style("cinematic"), {"build": (5.28, 3.52)})
    "cinematic: the build's 5.28 s takes are longer than the longest it cuts at this tempo (3.52 s: whole bars, none over its 8 s longest shot): that phase is cut at it"
    """
    return _tempo_limit_note(style, long, shorter=False)


def too_few_beats(cuts: Sequence, sections: Sequence, style: Style, beat_s: float, meter: int, rate,
                  points: Sequence[int], hold: float | None = None) -> dict[str, tuple[float, float, int]]:
    """The phases whose target take is more than :data:`PACE_TOLERANCE` shorter than their
    length over the most takes the grid's cut ``points`` inside them allow (a cut on every
    one): ``{phase: (target s, that mean s, takes)}``. Cuts are on beats: a phase whose
    beats are slower than the song's median (the target's), or that opens on a lead-in
    before the first tracked beat, holds fewer beats than its length at the median tempo,
    and no cut on them keeps the target: country's intro, 3.3 s with 3 beats to cut on
    (a 1.3 s lead-in, then beats 0.98 s apart), is 1.09 s a take at the most cuts against
    the song's 0.88 s beat. Targets as :func:`phase_ratios`.

    >>> from types import SimpleNamespace as C
    >>> from montage_ai.core.plan.patterns import apply_pattern, load_pattern
    >>> from montage_ai.core.plan.styles import load_style
    >>> style = apply_pattern(load_style("dynamic"), load_pattern("every_beat"))
    >>> cuts = [C(phase="intro", record_in=a, record_out=b, record_frames=b - a) for a, b in ((0, 39), (39, 69), (69, 98))]
    >>> too_few_beats(cuts, [C(phase="intro", energy=0.2)], style, 0.88, 4, 30, [0, 39, 69, 98])
    {'intro': (0.88, 1.089, 3)}
    """
    out = {}
    for ph, (_, length, t) in _phase_targets(cuts, sections, style, beat_s, meter, rate, hold).items():
        mine = [c for c in cuts if c.phase == ph]
        a, b = mine[0].record_in, mine[-1].record_out
        n = 1 + sum(1 for p in points if a < p < b)
        least = length / n
        if t > 0 and least > t * (1 + PACE_TOLERANCE):
            out[ph] = (round(t, 3), round(least, 3), n)
    return out


def too_few_beats_note(style: Style, few: dict[str, tuple[float, float, int]]) -> str | None:
    """What the notes tell the editor about :func:`too_few_beats` (None when there are none).

    >>> from montage_ai.core.plan.styles import load_style
    >>> too_few_beats_note(load_style("mtv"), {"intro": (0.88, 1.089, 3)})
    "mtv: the intro holds at most 3 takes on its beats, fewer than its length at the song's median beat asks: a cut on every beat is 1.09 s a take against its 0.88 s (its beats are slower, or it opens before the first tracked beat): that phase is cut on every beat it has"
    """
    if not few:
        return None
    parts = [f"the {ph} holds at most {n} takes on its beats, fewer than its length at the song's median beat "
             f"asks: a cut on every beat is {least:.2f} s a take against its {t:.2f} s" for ph, (t, least, n) in few.items()]
    return (f"{style.name}: " + "; ".join(parts) + " (its beats are slower, or it opens before the first tracked "
            f"beat): {'that phase is' if len(parts) == 1 else 'those phases are'} cut on every beat it has")


def ring_out_take(cuts: Sequence, beats: Sequence[int], n_frames: int) -> int | None:
    """The index of the cut's last take when it holds over the song's ring-out (more than two
    beats past its last tracked beat, from a start on or before it), else None.

    The style's pace is a number of beats a take; past the last beat there are none, so that
    take is the cut's end hold, not a take of its phase's pace (cut at a carried tempo, every
    cut there would be off the song's beats).

    >>> from types import SimpleNamespace as C
    >>> cuts = [C(record_in=0, record_out=12), C(record_in=12, record_out=60)]
    >>> ring_out_take(cuts, [0, 6, 12], 60), ring_out_take(cuts, [0, 6, 12, 48, 54], 60)
    (1, None)
    """
    if len(beats) < 2 or not cuts:
        return None
    period = float(np.median(np.diff(beats)))
    last = max(beats)
    return len(cuts) - 1 if n_frames - last > 2 * period and cuts[-1].record_in <= last else None


def unreachable_notes(style: Style, cuts: Sequence, sections: Sequence, beats: Sequence[int], n_frames: int,
                      meter: int, rate, hold: float | None = None, points: Sequence[int] | None = None) -> list[str]:
    """The cut's notes on what no cut could keep on the style's pace: a phase no whole number
    of takes keeps within :data:`PACE_TOLERANCE` (:func:`quantised_note`), a target shorter
    than the shortest take at the song's tempo (:func:`below_shortest_note`) or longer than
    the longest (:func:`above_longest_note`), a phase with fewer of the grid's ``points`` to cut
    on than its target asks (:func:`too_few_beats_note`), the last take
    held over the song's ring-out (:func:`ring_out_take`)."""
    if len(beats) < 2 or not cuts:
        return []
    beat_s = float(np.median(np.diff(beats))) / float(rate)
    out = [quantised_note(style, quantised_phases(cuts, sections, style, beat_s, meter, rate, hold)),
           below_shortest_note(style, below_shortest(cuts, sections, style, beat_s, meter, rate, hold)),
           above_longest_note(style, above_longest(cuts, sections, style, beat_s, meter, rate, hold))]
    if points is not None:  # the grid's cut points (:func:`~.grid.cut_points`): fewer than the phase's length asks
        out.append(too_few_beats_note(style, too_few_beats(cuts, sections, style, beat_s, meter, rate, points, hold)))
    end = ring_out_take(cuts, beats, n_frames)
    if end is not None:
        c = cuts[end]
        out.append(f"{style.name}: the last take ({float(c.record_frames / rate):.1f} s) holds over the song's "
                   f"{float((n_frames - max(beats)) / rate):.1f} s ring-out past its last beat: the end hold, "
                   "not a take of its phase's pace (no beats there to cut on)")
    return [n for n in out if n]


def _stretch_holds(lengths: Sequence[float], phases: Sequence[float], shortest: float, longest: float) -> bool:
    """Whether shots used once each, each take as long as the shot and the style allow (at
    least its shortest), cover every phase of ``phases`` s (longest shots to longest phases)."""
    pool = sorted((min(ell, longest) for ell in lengths if ell >= shortest), reverse=True)
    merged: list[float] = []
    for p in phases:  # a phase shorter than the shortest take gets no cut of its own (the grid's rule)
        if merged and p < shortest:
            merged[-1] += p
        else:
            merged.append(p)
    for need in sorted(merged, reverse=True):
        while need > shortest / 2:
            if not pool:
                return False
            need -= pool.pop(0)
    return True


def too_long_s(lengths: Sequence[float], targets: Sequence[tuple[float, float]], never: bool,
                shortest: float, longest: float) -> float:
    """0 when the footage holds the style's takes (at least its shortest) over every phase,
    else the seconds to take off the cut (every phase shortened alike, down to half) so it does.
    A style that never reuses a shot may hold fewer, longer takes (up to its longest)."""
    def ok(phases: Sequence[float]) -> bool:
        if never:
            return _stretch_holds(lengths, phases, shortest, longest)
        # pieces of one shot, each at least the shortest take: any shot that long covers itself
        return sum(ell for ell in lengths if ell >= shortest) >= sum(phases) - 1e-6

    top = max((t for _, t in targets), default=shortest)
    phases = [ell for ell, _ in targets]
    if holds(lengths, targets, never=never, cap=top) or ok(phases):
        return 0.0
    total = sum(phases)
    for k in range(1, 11):
        f = 1 - 0.05 * k
        if ok([ell * f for ell in phases]):
            return total * (1 - f)
    return total * 0.5


def _misfit(length_s: float, target_s: float, shortest: float, unit: float = 0.0) -> float:
    """How far the nearest whole number of takes of ``target_s`` is from filling
    ``length_s`` (0: on target; a phase shorter than one take holds one, on target); no take
    shorter than ``shortest`` nor than ``unit`` (a bar, for a style that cuts only on downbeats)."""
    if target_s <= 0 or length_s <= target_s or length_s < 2 * shortest:
        return 0.0
    n_max = max(1, int(length_s / max(shortest, unit, 1e-6) + 1e-6))
    return min(abs(length_s / (n * target_s) - 1) for n in range(1, min(n_max, int(length_s / target_s) + 2) + 1))


def paced_phases(phases, grid: Sequence[int], style: Style, rate: Fraction, beats: Sequence[int],
                  meter: int, cap: float | None = None, longest_s: float | None = None) -> list[tuple[str, int, int, float]]:
    """Phase changes moved by one grid point (a bar) where that lets both phases next to it
    hold a whole number of the style's takes within :data:`PACE_TOLERANCE` and the
    nearest point does not (a 5.6 s held outro of 4.3 s takes: one take 30 % over or two
    35 % under; a bar earlier it holds one, on target). ``cap``: the takes the footage holds
    (:func:`hold_s`), the most any phase's take is promised. ``longest_s``: the longest usable
    shot; a phase too short for two of the shortest takes the grid cuts (:func:`shortest_take_s`)
    holds one take, and one longer than every shot cannot be filled whole (the demo's 4.3 s
    documentary intro from shots of 4.2 s at most was a 3.8 s take and a 0.5 s one): its change
    moves a bar where both phases then can (a style that never reuses a shot included, whose
    phases are otherwise set by its shots), neither left shorter than that shortest take."""
    if len(phases) < 2 or len(beats) < 2 or not grid:
        return list(phases)
    never = style.reuse == "never"
    if never and longest_s is None:  # never: the shots set the slots
        return list(phases)
    beat_s = float(np.median(np.diff(beats))) / float(rate)
    # with the takes capped (the footage's few long shots), whole bars for a style that cuts
    # only on downbeats, and neither phase left too short for a take of its own
    unit = beat_s * max(1, meter) if style.all_cuts_on_downbeat and cap else 0.0
    least = max(style.min_shot_s, unit) * float(rate) if cap else 1
    # the beat's mean, not its median in whole frames (0.5 s beats at 25 fps are 12 or 13 frames)
    shortest = shortest_take_s(style, float(Fraction(beats[-1] - beats[0], len(beats) - 1) / rate), meter)
    one_take = 2 * shortest
    # a move for a phase no shot fills: neither phase left shorter than that shortest take
    stuck_least = max(least, shortest * float(rate))
    out = [list(p) for p in phases]

    def unfilled(a: int, b: int) -> float:  # one take, longer than every usable shot: 1
        if longest_s is None:
            return 0.0
        length, slack = float(Fraction(b - a) / rate), 1.5 / float(rate)  # beats fall between frames
        if length < shortest - slack:  # no take of its own: the grid merges it into the next one's
            return 1.0 if length + shortest > longest_s + slack else 0.0
        return 1.0 if length < one_take - slack and length > longest_s + slack else 0.0

    def cost(k: int, a: int, b: int) -> float:
        name, _, _, energy = out[k]
        target = style_target_s(style, name, energy, beat_s, meter)
        pace = 0.0 if never else _misfit(float(Fraction(b - a) / rate), min(target, cap) if cap else target,
                                         style.min_shot_s, unit)
        return pace + unfilled(a, b)

    for k in range(1, len(out)):
        at = out[k][1]
        i = bisect.bisect_left(grid, at)
        here = cost(k - 1, out[k - 1][1], at) + cost(k, at, out[k][2])
        if here <= PACE_TOLERANCE:
            continue
        stuck = unfilled(out[k - 1][1], at) + unfilled(at, out[k][2]) > 0
        best, best_cost = at, here
        for j in (i - 1, i + 1) + ((i - 2, i + 2) if stuck else ()):  # stuck: up to two bars
            lo = stuck_least if stuck else least
            if 0 <= j < len(grid) and out[k - 1][1] + lo <= grid[j] <= out[k][2] - lo:
                q = grid[j]
                c0, c1 = cost(k - 1, out[k - 1][1], q), cost(k, q, out[k][2])
                if max(c0, c1) <= PACE_TOLERANCE and c0 + c1 < best_cost:
                    best, best_cost = q, c0 + c1
        out[k - 1][2], out[k][1] = best, best
    return [tuple(p) for p in out if p[2] > p[1]]


def off_pace_note(style: Style, ratios: dict[str, float], targets: dict[str, float], lengths: Sequence[float],
                  phase_s: dict[str, float]) -> str | None:
    """The footage's evidence, for the editor, when the cut's phases miss the style's own
    target by more than :data:`PACE_TOLERANCE` on average (None when they do not): the phase
    furthest off, its target take against the longest usable shot (a target longer than every
    shot is a footage limit), else, for a style that never reuses a shot, how many usable
    shots are as long as its shortest take for its phases, else whether even half the cut at
    the style's takes is more than the usable shots hold (``phase_s``: each phase's length).

    >>> from montage_ai.core.plan.styles import load_style
    >>> off_pace_note(load_style("documentary"), {"intro": 1.0, "outro": 0.3}, {"intro": 7.0, "outro": 7.0},
    ...               [10.0, 2.0], {"intro": 8.0, "outro": 8.0}).split(": ", 1)[1][:118]
    "off its own pace (the outro's takes 30% of its 7.0 s target): it never reuses a shot and only 1 usable shot is as long"
    >>> off_pace_note(load_style("documentary"), {"intro": 1.1}, {"intro": 7.0}, [10.0], {"intro": 8.0}) is None
    True
    """
    if not ratios or sum(abs(v - 1) for v in ratios.values()) / len(ratios) <= PACE_TOLERANCE:
        return None
    worst = max(ratios, key=lambda ph: abs(ratios[ph] - 1))
    t = targets.get(worst, 0.0)
    head = f"{style.name}: off its own pace (the {worst}'s takes {ratios[worst]:.0%} of its {t:.1f} s target): "
    longest = max(lengths, default=0.0)
    top = max(targets.values(), default=0.0)
    never = style.reuse == "never"
    fit = [ell for ell in lengths if ell >= style.min_shot_s - 1e-6]  # shots the style may show at all
    long_enough = len(fit)
    half = holds(fit, [(phase_s.get(ph, 0.0) / 2, targets[ph]) for ph in targets], never=never, cap=float("inf"))
    if longest < top - 1e-6:
        why = (f"no usable shot is as long as its {top:.1f} s takes (the longest is {longest:.1f} s): "
               "a footage limit, add longer footage")
    elif never and long_enough < len(phase_s):
        why = (f"it never reuses a shot and only {long_enough} usable shot{'s are' if long_enough != 1 else ' is'} as "
               f"long as its shortest take ({style.min_shot_s:g} s), for {len(phase_s)} story phases: a footage limit, "
               "even half the song cannot hold them; add longer footage")
    elif not half:
        why = "even half the cut at its takes is more than the usable shots hold: a footage limit, add longer footage"
    else:
        why = ("the usable shots could hold its takes over half the cut: not a footage limit but how this cut "
               "fell on the beats and was filled" + (", in time order" if style.chronological else ""))
    return head + why
