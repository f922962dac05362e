"""The footage's hold: the longest take at which the usable shots fill every phase of a cut
at the style's pace, on the style's grid (whole beats, or bars for a style that cuts only on
downbeats), and the note that says every phase's takes are capped there
(:func:`~.pace.hold_s` is the estimate; :mod:`.assembly` caps the grid's slots at it)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np

from montage_ai.core.cut.pace import (
    PACE_TOLERANCE,
    cut_unit_beats,
    cut_unit_s,
    hold_s,
    holds,
    longest_tiled_take_s,
    style_target_s,
    tile_count,
    too_long_s,
)
from montage_ai.core.plan.styles import Style

__all__ = ["clean_runs", "usable_lengths", "longest_usable_s", "cap_note", "footage_hold", "on_grid_hold", "too_few_shots"]


def clean_runs(a, s) -> list[int]:
    """The runs (source frames) of shot ``s`` of analysis ``a`` a take can come from: its usable
    range less the frames the analysis flagged (blur, corrupt, out of focus...), which the fill
    never shows (:class:`~.fill_state.FillState`), so a take never crosses them.

    A 96-frame shot out of focus over 0-29 and 75-95 holds one run of 45 frames, not 96.

    >>> from types import SimpleNamespace as N
    >>> from montage_ai.core.analysis.quality import Flag
    >>> clean_runs(N(flags=(Flag(0, 29, "out of focus"), Flag(75, 95, "out of focus"))),
    ...            N(usable_start_frame=0, usable_end_frame=96))
    [45]
    """
    runs, start = [], s.usable_start_frame
    for fl in sorted((f for f in a.flags if f.last >= s.usable_start_frame and f.first < s.usable_end_frame),
                     key=lambda f: f.first):
        if fl.first > start:
            runs.append(fl.first - start)
        start = max(start, fl.last + 1)
    if s.usable_end_frame > start:
        runs.append(s.usable_end_frame - start)
    return runs


def usable_lengths(ids, repeats: set[str], never: bool = False) -> list[float]:
    """Usable lengths (s) a cut may take from every shot it may show (not black, not a
    near-duplicate): each run of its usable range between flagged frames (:func:`clean_runs`),
    or with ``never`` (a style that never reuses a shot: one take a shot) its longest run."""
    out = []
    for sid, (a, s) in ids.items():
        if sid in repeats or s.black or a.media.video is None:
            continue
        runs = clean_runs(a, s)
        rate = Fraction(a.media.video.rate)
        out += [float(Fraction(n) / rate) for n in ([max(runs)] if never and runs else runs)]
    return out


def longest_usable_s(ids, repeats: set[str]) -> float:
    return max(usable_lengths(ids, repeats), default=0.0)


def cap_note(style: Style, hold: float, length_s: float, wanted: float, packed: bool = False,
              longest_s: float | None = None) -> str:
    why = ("the fill's pieces of the shots left came out shorter than that estimate, so the cap is lowered "
           "to what they hold" if packed else "so no held phase is chopped where the long shots ran out")
    if longest_s is not None and longest_s < wanted - 1e-6:  # no shorter cut would hold them either
        fix = (f"; no usable shot is as long as the style's {wanted:.1f} s takes (the longest is {longest_s:.1f} s), "
               "so a shorter cut would not hold them either: add longer footage for the style's full takes")
    else:
        fix = " (add longer footage or ask for a shorter duration for the style's full takes)"
    return (f"{style.name}: the footage holds takes of at most {hold:.1f} s over this {length_s:.1f} s cut (the "
            f"style wants up to {wanted:.1f} s): every phase's takes are capped there, {why}{fix}")


def footage_hold(ids, repeats: set[str], style: Style, rate: Fraction, phases, beats: Sequence[int], meter: int,
          n_frames: int, tiled: bool = False) -> tuple[float | None, list[str], float]:
    """The longest take the footage holds over every phase at the style's pace
    (:func:`~.pace.hold_s`; None: the style's takes fit), its note, and the seconds the cut
    is too long for the footage to hold even the style's shortest takes (0: it holds them).

    ``tiled`` (a cut made relaxed or held, whose takes are capped where need be): where the
    style's takes fit only as tiled and the grid would cut a phase in one take fewer, each
    longer than any usable shot, the hold is the tiled take (see below). A strict cut is left
    uncapped there: the fill often holds such a phase anyway (the grid's count is not only the
    nearest mean), and a cap would make it fail the style's own target and end earlier."""
    if len(beats) < 2 or not phases:
        return None, [], 0.0
    beat_s = float(np.median(np.diff(beats))) / float(rate)
    targets = [(float(Fraction(b - a) / rate), style_target_s(style, name, energy, beat_s, meter))
               for name, a, b, energy in phases]
    never = style.reuse == "never"
    lengths = usable_lengths(ids, repeats, never)
    hold = hold_s(lengths, targets, never=never, floor_s=style.min_shot_s)
    if hold is None:
        missing = too_long_s(lengths, targets, never, style.min_shot_s, style.max_shot_s)
        if missing > 0 or not tiled or not _fewer_takes_too_long(targets, max(lengths, default=0.0)):
            return None, [], missing
        # the style's takes fit only as tiled (:func:`~.pace.holds`: a phase between one and two
        # takes long in two shorter ones), and uncapped the grid would cut such a phase in one
        # take fewer, longer than any usable shot, which the fill then chops (the demo's 8 s
        # wedding build: 6 s takes, shots of 4 s). Capped at the tiling's longest take, it cuts
        # the takes the footage holds.
        hold = longest_tiled_take_s(targets, float("inf"))
    # on the style's grid of cuts: whole bars when it cuts only on downbeats, else whole beats
    unit = cut_unit_s(style, beat_s, meter)
    # ... never below the style's shortest take (whole units of it, up)
    least = math.ceil(style.min_shot_s / unit - 1e-6) * unit
    per = cut_unit_beats(style, meter)  # beats a unit
    units = [sum(1 for x in beats if a <= x < b) / per for _, a, b, _ in phases]
    hold = round(max(unit, least, on_grid_hold(lengths, targets, never, hold, unit, units)), 3)
    wanted = max(t for _, t in targets)
    return hold, [cap_note(style, hold, float(n_frames / rate), wanted, longest_s=max(lengths, default=0.0))], 0.0


def _fewer_takes_too_long(targets: Sequence[tuple[float, float]], longest_s: float) -> bool:
    """Whether a phase ``(length_s, target_s)`` tiled in ``n`` takes (:func:`~.pace.holds`)
    would rather be cut in ``n - 1`` (their mean nearer its target, as the grid counts takes:
    :func:`~.grid._split_count`), each longer than ``longest_s``, the longest usable shot.

    >>> _fewer_takes_too_long([(8.0, 6.0)], 4.2)   # one 8 s take is nearer 6 s than two of 4 s
    True
    >>> _fewer_takes_too_long([(8.0, 6.0)], 8.5), _fewer_takes_too_long([(10.0, 6.0)], 4.2)
    (False, False)
    """
    for length, target in targets:
        if target <= 0 or length <= 0:
            continue
        n = tile_count(length, target)
        if n < 2:
            continue
        fewer = length / (n - 1)
        if fewer > longest_s + 1e-6 and abs(math.log(fewer / target)) <= abs(math.log(length / n / target)):
            return True
    return False


def on_grid_hold(lengths: Sequence[float], targets: Sequence[tuple[float, float]], never: bool, hold: float,
                  unit: float, units: Sequence[float]) -> float:
    """The footage's hold (:func:`~.pace.hold_s`) in whole grid units, counted in the phase's own.

    The hold is the longest take of the phase that sets it: its length over its number of
    takes. Beats fall between frames (0.667 s apart: 16 or 17 frames at 23.976), so a phase
    of four bars is 10.54 s where four median bars (``unit``: 2.67 s) are 10.68 s; the hold,
    two takes of 5.27 s, floored to whole median bars was one bar (2.67 s), every take halved
    though the footage holds the two-bar takes. So the hold is that phase's grid units
    (``units``, one per phase of ``targets``) over its takes, floored, in median units; kept
    where the footage holds takes capped there (:func:`~.pace.holds`), else floored as before."""
    down = math.floor(hold / unit + 1e-6) * unit
    best = None
    for (length, target), n_units in zip(targets, units):
        t = min(target, hold, length)
        if t <= 0:
            continue
        n = tile_count(length, t)  # the takes that tile it (:func:`~.pace.holds`)
        if abs(length / n - hold) <= 1e-3 + 1e-6:  # the phase whose takes set the hold
            whole = math.floor(n_units / n + 1e-6) * unit
            best = whole if best is None else max(best, whole)
    if best is not None and best > down + 1e-6 and holds(lengths, targets, never=never, cap=best):
        return best
    return down


def too_few_shots(own: Mapping[str, float], targets: Sequence[tuple[float, float]], style: Style,
                  n_shots: int) -> float:
    """The furthest phase's mean take over the style's own target (``own``) when it is more
    than :data:`~.pace.PACE_TOLERANCE` over because the style has too few shots for its takes:
    it never reuses a shot, or keeps the footage in order (two pieces of one shot in a row
    would cut to itself), and its ``n_shots`` planned shots are fewer than the takes its phases
    (``targets``: ``(length s, target s)``) ask, by more than the tolerance (the grid's slots
    stretched to the shots: :func:`~.plan_slots.plan_slots`); else 0.

    22 shots in order for a 30 s vlog of 1.1 s takes are 22 takes of 1.4 s: a cut a sixth
    shorter keeps the style's pace (:func:`~.shorten.shortened_if_needed`, said in the notes)."""
    if not (style.reuse == "never" or style.chronological) or not n_shots:
        return 0.0
    wanted = sum(length / t for length, t in targets if t > 0)
    over = max(own.values(), default=0.0)
    return over if over > 1 + PACE_TOLERANCE + 1e-9 and n_shots * (1 + PACE_TOLERANCE) < wanted else 0.0
