"""The grid's slots for a plan's cut (:func:`~.grid.slot_grid`), with what the grid tells
the notes: takes shorter than the style wants when no usable shot is long enough, and fewer,
longer slots for a style that never reuses a shot or keeps the footage in order when it has
fewer shots than slots; and each story phase's energy as its pace is promised and measured."""

from __future__ import annotations

import logging
from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np

from montage_ai.core.analysis.music import MusicAnalysis
from montage_ai.core.cut.fill_state import in_order_counts
from montage_ai.core.cut.grid import Slot, _frac, slot_grid
from montage_ai.core.model.cutlist import Section as CutSection
from montage_ai.core.plan.planner import StoryPlan
from montage_ai.core.plan.styles import Style

log = logging.getLogger(__name__)

__all__ = ["phase_energy", "plan_slots", "in_order_worst"]


def phase_energy(sections: Sequence[CutSection]) -> dict[str, float]:
    """Each story phase's energy as its pace is promised and measured
    (:func:`~.pace.phase_ratios`): the mean energy of the song's sections it falls in."""
    by: dict[str, list[float]] = {}
    for s in sections:
        by.setdefault(s.phase, []).append(float(s.energy))
    return {ph: sum(v) / len(v) for ph, v in by.items() if v}


def plan_slots(plan: StoryPlan, music: MusicAnalysis, style: Style, rate: Fraction, phases, sec_starts, n_frames: int,
           seed: int, longest: int | None, beats: Sequence[int],
           drops: Sequence[tuple[int, int]] = (),
           phase_energy: Mapping[str, float] | None = None,
           shot_max: int | None = None) -> tuple[list[Slot], list[str]]:
    """The grid's slots and its notes (takes shorter than the style wants; a style that
    never reuses a shot with too few shots: fewer, longer slots). ``longest``: the longest
    slot (the takes' cap, where the footage holds no longer ones); ``shot_max``: the longest
    usable shot, which the note quotes (default ``longest``)."""
    shot_max = longest if shot_max is None else shot_max
    slots = slot_grid(music, style, rate, phases, sec_starts, n_frames, seed=seed, longest=longest, drops=drops,
                      phase_energy=phase_energy)
    notes = []
    if shot_max is not None and len(beats) > 1:
        beat_f = float(np.median(np.diff(beats)))
        for ph_name, _, _, energy in phases:
            lo, hi = style.beats_for(style.energy_level(energy), ph_name)
            if shot_max < min(lo * beat_f, _frac(style.max_shot_s) * rate) - 0.5:
                notes.append(f"{style.name} wants takes of {lo}-{hi} beats ({lo * beat_f / float(rate):.1f} s or "
                             f"more) in the {ph_name}; the longest usable shot is {float(shot_max / rate):.1f} s, "
                             "so takes are shorter")
                break
    n_shots = len(plan.shot_ids)
    # a style that never reuses a shot, or keeps the footage in order (a shot in two slots in
    # a row would cut to itself or go back in time), with fewer shots than slots: fewer, longer ones
    if (style.reuse == "never" or style.chronological) and n_shots and len(slots) > n_shots:
        # the stretch whose slots come nearest the shots (fewer on a tie): whole beats make the
        # count jump (27 slots for 23 shots: 25 at a tenth longer, 20 at the full ratio, every
        # take a third longer than the style's)
        full = len(slots) / n_shots
        tries = [slot_grid(music, style, rate, phases, sec_starts, n_frames, seed=seed, longest=longest,
                           stretch=1 + (full - 1) * k / 4, drops=drops, phase_energy=phase_energy) for k in range(1, 5)]
        stretched = min(tries, key=lambda t: (abs(len(t) - n_shots), len(t) > n_shots))
        if style.reuse != "never":  # in order, reusing: the grid whose worst phase the shots keep nearest its pace
            stretched = min([slots] + tries, key=lambda t: (in_order_worst(plan, slots, t), len(t)))
        if len(stretched) < len(slots):
            log.info("%d shots for %d slots: stretched to %d slots", n_shots, len(slots), len(stretched))
            why = "never reuses a shot" if style.reuse == "never" else "keeps the footage in order"
            notes.append(f"{style.name} {why}: {n_shots} shots for {len(slots)} slots, "
                         f"so {len(stretched)} longer ones")
            slots = stretched
    return slots, notes


def in_order_worst(plan: StoryPlan, base: Sequence[Slot], slots: Sequence[Slot]) -> float:
    """How far the worst phase's mean take would be from the ``base`` grid's (on the style's
    pace) when a chronological fill plays ``slots``: a phase's takes grow as its slots are
    fewer than the base's (stretched), and again where it has more slots than the shots in
    order give it (:func:`~.fill_state.in_order_counts`: a shot held through two slots).
    This weighs every take of the cut stretched against a few held in its longest phases."""
    names = [p.name for p in plan.phases]
    n_base = [sum(1 for sl in base if sl.phase == n) for n in names]
    n_slots = [sum(1 for sl in slots if sl.phase == n) for n in names]
    counts = in_order_counts(n_slots, [len(p.shot_ids) for p in plan.phases])
    worst = 0.0
    for b, s, c in zip(n_base, n_slots, counts):
        if b and s:
            worst = max(worst, abs(b / s * max(1.0, s / max(1, c)) - 1))
    return worst
