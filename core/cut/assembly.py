"""Assembly: a story plan, the footage and the music become a beat-synced :class:`CutList`.

>>> request = make_request(analyses, music, style, seed=7)                  # doctest: +SKIP
>>> cutlist = assemble(RulesPlanner().plan(request), analyses, music, style, seed=7)  # doctest: +SKIP
>>> cutlist.cuts[1].record_in in cutlist.beats                              # doctest: +SKIP
True

How
---
0. **Format.** Rate and frame size are those of the footage with most screen time in the
   cut (:mod:`.format`; ties to the higher resolution), unless given: the cut is assembled
   at the planned shots' rate and, when the shots it ends up using run at another, again
   at theirs.
1. **Grid.** Beats and downbeats become whole frames of the timeline (:func:`beat_frames`).
   The cut lasts the music (``floor(duration_s * rate)`` frames) or, with ``duration_s``,
   ends where :func:`~.fit.fit_duration` says (the song's ending, a phrase, a bar), the
   music fading out over the style's fade. A1 holds the song from the excerpt's start
   (:class:`~.fit.MusicExcerpt`) to the cut's end: it ends with V1.
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
   the source's frames (``ceil(frames * source_rate / rate)``), or at another rate at least
   the frames the slot shows (:func:`~.shot_windows.shown_frames`: whole frames, never a
   tolerance in seconds), inside the usable range, on frames never used before, where the
   best-moment curve is high and has no dips (blur, shake, bad exposure), towards motion in
   the climax.
5. **Near-duplicates.** Shots whose keyframe hashes within
   :data:`~.duplicates.DUPLICATE_THRESHOLD` of a better shot (:func:`~.duplicates.find_duplicates`)
   are taken out of the plan, so the same moment is not shown twice; they come back only
   when nothing else fills a slot (the last relaxation), and notes count both.
6. **Relaxations.** When nothing fits a slot, the style gives way in a fixed order (split or
   move the cut, chronological go-back, off-downbeat cuts, shots the plan left out, a shot
   again within the repeat window, shots shorter than the style's minimum; the ordered
   rules of :mod:`.fill`); each one used is a line in ``CutList.metadata["notes"]``. Only
   footage too short for the cut raises.

The parts live in :mod:`.grid` (slots), :mod:`.plan_slots` (the grid for a plan, with its
notes), :mod:`.footage_hold` (the cap on every phase's takes the footage holds),
:mod:`.shot_windows` (frames of a shot), :mod:`.fill` (rules) and :mod:`.format`; this module
puts them together.

Cuts are on beat frames (record positions); sources keep their own frame grid.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np

from montage_ai.core.analysis.duplicates import Duplicate, ShotKey, find_duplicates
from montage_ai.core.analysis.footage import FootageAnalysis
from montage_ai.core.analysis.music import MusicAnalysis, beat_frames
from montage_ai.core.base.timebase import seconds_to_frames, timecode_to_frames
from montage_ai.core.cut.fill import fill
from montage_ai.core.cut.fit import excerpt_on_frame, fit_duration, song_excerpt
from montage_ai.core.cut.footage_hold import cap_note as _cap_note
from montage_ai.core.cut.footage_hold import footage_hold as _hold
from montage_ai.core.cut.footage_hold import longest_usable_s as _longest_usable_s
from montage_ai.core.cut.footage_hold import too_few_shots
from montage_ai.core.cut.footage_hold import usable_lengths as _usable_lengths
from montage_ai.core.cut.format import checked_rate, planned_format, used_format
from montage_ai.core.cut.grid import (
    AssemblyError,
    FootageShortError,
    Slot,
    _frac,
    _nearest,
    beat_energies,
    common_rate,
    cut_points,
    end_frame,
    lead_out,
    slot_grid,
)
from montage_ai.core.cut.pace import (
    PACE_TOLERANCE,
    cut_unit_s,
    off_pace_note,
    paced_phases,
    phase_ratios,
    quantised_phases,
    ring_out_take,
    style_target_s,
    unreachable_notes,
)
from montage_ai.core.cut.plan_slots import phase_energy as _phase_energy
from montage_ai.core.cut.plan_slots import plan_slots as _slots
from montage_ai.core.cut.shorten import (
    HELD,
    KEPT,
    PACE_SHORTEN_FLOOR,
    SHORTER,
    PaceShort,
    TakesShort,
    shortened_if_needed,
)
from montage_ai.core.cut.shot_windows import ends_file, slot_frames_held
from montage_ai.core.model.cutlist import CutList
from montage_ai.core.model.cutlist import Section as CutSection
from montage_ai.core.plan.patterns import bar_low_end, drop_frames
from montage_ai.core.plan.planner import PlanError, StoryPlan, shot_id_map
from montage_ai.core.plan.styles import Style

log = logging.getLogger(__name__)

__all__ = ["assemble", "AssemblyError", "FootageShortError", "Slot", "common_rate", "end_frame", "slot_grid"]

_TIMELINE_START = "01:00:00:00"


def _phase_frames(plan: StoryPlan, rate: Fraction, n_frames: int, grid: Sequence[int],
                 scale_all: bool = False, least: int = 0) -> list[tuple[str, int, int, float]]:
    """The plan's phases in timeline frames, on the grid. A cut that ends earlier than the
    plan by at most a quarter (:data:`PACE_SHORTEN_FLOOR`: the footage holds the style's
    takes only over a shorter cut) keeps every phase, each shortened alike, so the held
    outro is not the part left out; a much shorter cut (the footage cannot fill the length)
    ends the story where the footage runs out, unless ``scale_all`` (a cut shortened so the
    footage holds the style's takes: every phase shortened alike, however much); then each
    phase keeps at least ``least`` frames (the style's shortest take) where the cut is long
    enough for that, its start moved to an earlier grid point (:func:`_each_holds_a_take`): a
    held outro shortened below one take would vanish into the climax."""
    out = []
    starts = []
    plan_end = max((p.end_s for p in plan.phases), default=0.0)
    scale = min(Fraction(1), Fraction(n_frames) / rate / _frac(plan_end)) if plan_end > 0 else Fraction(1)
    if scale < Fraction(PACE_SHORTEN_FLOOR) - Fraction(1, 100) and not scale_all:
        scale = Fraction(1)
    for p in plan.phases:
        at = _frac(p.start_s) * scale
        f = 0 if p.start_s <= 0 else _nearest(seconds_to_frames(at, rate), grid) if grid else \
            seconds_to_frames(at, rate)
        starts.append(min(max(f, 0), n_frames))
    if scale_all and least > 0:
        starts = _each_holds_a_take(starts, n_frames, grid, least)
    for k, p in enumerate(plan.phases):
        a = starts[k]
        b = starts[k + 1] if k + 1 < len(starts) else n_frames
        if b > a:
            out.append((p.name, a, b, p.energy))
    return out


def _each_holds_a_take(starts: list[int], n_frames: int, grid: Sequence[int], least: int) -> list[int]:
    """Phase starts (the first 0) moved to earlier points of ``grid`` where a phase would be
    shorter than ``least`` frames, the last phase first (the phases before give it the
    frames); as they were when the cut cannot give every phase after the first that much
    (the first, which a lead-in may make short, keeps its own length or one take).

    >>> _each_holds_a_take([0, 96, 480, 528], 576, list(range(48, 576, 48)), 96)
    [0, 96, 384, 480]
    """
    if len(starts) < 2 or least * len(starts) > n_frames:
        return starts
    out = list(starts)
    end = n_frames
    for k in range(len(out) - 1, 0, -1):
        if end - out[k] < least:
            fit = [g for g in grid if 0 < g <= end - least]
            if not fit:
                return starts
            out[k] = max(fit)
        end = out[k]
    # every phase after the first holds a take; the first keeps what it had, up to one take
    ok = all(b - a >= least for a, b in zip(out[1:], out[2:] + [n_frames])) and out[1] >= min(starts[1], least)
    return out if ok else starts


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
        Timeline rate; default the rate of the footage with most screen time in the cut
        (an unusual one becomes the nearest standard rate, with a note).
    duration_s : float, optional
        Length wanted; the cut ends where :func:`~.fit.fit_duration` says (the song's end,
        a phrase or a bar near it), the music faded out over ``style.fade_out_s`` unless
        the song ends there. Default: the whole music (a :class:`~.fit.MusicExcerpt`: the
        part chosen). Plan with the same value
        (:func:`~.planner.make_request`) so the arc's climax falls inside the cut.
    seed : int
        Same seed, same cut; another seed varies pacing and windows.
    size : (width, height), optional
        Default: the picture size with most screen time in the cut (ties: the larger).
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
    DurationError
        ``duration_s`` outside what the music gives (the message has the range).

    Examples
    --------
    >>> cl = assemble(plan, analyses, music, load_style("mtv"), duration_s=30)   # doctest: +SKIP
    >>> cl.duration in cl.downbeats or cl.duration == cl.music_duration           # doctest: +SKIP
    True
    """
    given = rate is not None
    rate = _exact_rate(rate) if given else None
    ids = shot_id_map(analyses)
    unknown = [i for i in plan.shot_ids if i not in ids]
    if unknown:
        raise PlanError(f"plan names shots not in the footage: {', '.join(unknown[:5])}")
    if duplicates is None:
        duplicates = find_duplicates(analyses)
    plan, repeats, dup_notes = _drop_duplicates(plan, ids, duplicates)
    by_path = {a.path: a for a in analyses}

    def make_on(plan: StoryPlan, music: MusicAnalysis, d: float | None,
                strict: bool | str = True) -> tuple[CutList, list[str]]:
        if not given:
            return _at_used_rate(plan, ids, by_path, music, style, d, seed, repeats, strict)
        r, r_notes = checked_rate(rate, given=True)
        return _assemble_at(plan, ids, music, style, r, d, seed, repeats, strict), r_notes

    def make(d: float | None, strict: bool | str = True) -> tuple[CutList, list[str]]:
        return make_on(plan, music, d, strict)

    # the whole song held shorter may start on its first downbeat (:func:`_from_first_downbeat`)
    lead_in = _from_first_downbeat(plan, music, style) if duration_s is None else None

    def make_from_downbeat(d: float | None, strict: bool | str = True) -> tuple[CutList, list[str]]:
        late_plan, late_music, note = lead_in
        cl, notes = make_on(late_plan, late_music, d, strict)
        return replace(cl, metadata={**cl.metadata, "from_downbeat": True}), notes + [note]

    # a length the editor asked for ends at most a quarter earlier for the style's pace; the
    # whole song (no length asked) as far as the footage needs, down to half
    cl, rate_notes = shortened_if_needed(make, music, duration_s, deep=duration_s is None,
                                         lead_in=(make_from_downbeat, lead_in[1]) if lead_in else None)
    if cl.metadata.get("from_downbeat"):
        plan = lead_in[0]
    # the part of the song A1 plays, counted as the cut's frames are (from the first downbeat,
    # an excerpt on its first frame): the notes below measure the cut against its own beats
    music = played_music(cl, music)
    off = _off_pace(cl, ids, repeats, style, music)
    if off:
        rate_notes = rate_notes + [off]
    # what no cut could keep on pace (a phase length, the tempo, the ring-out): said, not hidden
    rate_notes = rate_notes + unreachable_notes(style, cl.cuts, cl.sections, cl.beats, cl.duration, music.meter,
                                                cl.rate, cl.metadata.get("hold_s"),
                                                points=cut_points(music, style, cl.rate, cl.duration))
    if size is None:
        size = used_format(cl.cuts, by_path)[1]
    return replace(cl, width=int(size[0]), height=int(size[1]),
                   name=name or f"Montage AI {style.name} cut", style=style.name, seed=seed, brief=brief,
                   metadata={"planner": plan.planner, "hold_s": cl.metadata.get("hold_s"),
                             "notes": list(plan.notes) + dup_notes + rate_notes + cl.metadata["notes"]})


def _from_first_downbeat(plan: StoryPlan, music: MusicAnalysis, style: Style):
    """``(plan, music, note)`` for the song from its first downbeat on, when the lead-in before
    it is shorter than the style's shortest shot (a shot over it alone would be a flash): the
    plan's phases moved with it. :func:`~.shorten.shortened_if_needed` tries it for a cut held
    shorter than the whole song, where no usable shot holds the lead-in and the first take
    together; the music then starts on the bar line with the picture. None otherwise."""
    first = music.downbeat_times_s[0] if music.downbeat_times_s else None
    if first is None or first <= 0.01 or first >= style.min_shot_s or first >= music.duration_s:
        return None  # no lead-in (the song starts on a downbeat), or one a take of its own holds
    late = song_excerpt(music, first)
    shift = float(late.offset_s) - float(getattr(music, "offset_s", 0.0))
    if shift <= 0:
        return None
    phases = tuple(replace(p, start_s=round(max(0.0, p.start_s - shift), 6), end_s=round(max(0.0, p.end_s - shift), 6))
                   for p in plan.phases)
    note = (f"the music starts on its first downbeat, {shift:.2f} s in: no usable shot holds the {shift:.2f} s "
            f"before it and the first take together, and a shot of its own there would flash by, shorter than "
            f"{style.name}'s {style.min_shot_s:g} s shortest shot")
    return replace(plan, phases=tuple(p for p in phases if p.end_s > p.start_s)), late, note


def played_music(cl: CutList, music: MusicAnalysis) -> MusicAnalysis:
    """The part of ``music`` (what :func:`assemble` was given) the cut plays on A1, its times
    the cut's own: ``music`` itself, or, for a cut that starts on the song's first downbeat
    (:func:`_from_first_downbeat`), the song from there on; an excerpt counted from the frame
    A1 starts it on (:func:`~.fit.excerpt_on_frame`), as the cut's frames are."""
    given = seconds_to_frames(_frac(getattr(music, "offset_s", 0.0)), cl.rate)
    if cl.music_start > given:
        music = song_excerpt(music, float(Fraction(cl.music_start) / cl.rate) - float(getattr(music, "offset_s", 0.0)))
    return excerpt_on_frame(music, cl.rate)[0]


def _off_pace(cl: CutList, ids, repeats: set[str], style: Style, music: MusicAnalysis) -> str | None:
    """The footage's evidence when the cut's phases miss the style's own target
    (:func:`~.pace.off_pace_note`): the same figures the benchmark prints, for the editor."""
    if len(cl.beats) < 2 or not cl.cuts:
        return None
    beat_s = float(np.median(np.diff(cl.beats))) / float(cl.rate)
    ratios = phase_ratios(cl.cuts, cl.sections, style, beat_s, music.meter, cl.rate)
    energy = _phase_energy(cl.sections)
    targets = {ph: style_target_s(style, ph, energy.get(ph, 0.5), beat_s, music.meter) for ph in ratios}
    phase_s = {ph: float(sum(c.record_frames for c in cl.cuts if c.phase == ph) / cl.rate) for ph in ratios}
    return off_pace_note(style, ratios, targets, _usable_lengths(ids, repeats, style.reuse == "never"), phase_s)


def _at_used_rate(plan: StoryPlan, ids, by_path, music: MusicAnalysis, style: Style, duration_s: float | None,
                  seed: int, repeats: set[str], strict: bool | str = True) -> tuple[CutList, list[str]]:
    """The cut at the rate of the footage it shows most: assembled at the planned shots'
    rate, and again at the used footage's when that differs."""
    try:
        rate = planned_format([ids[i] for i in plan.shot_ids] or list(ids.values()))[0]
    except ValueError:
        rate = common_rate(list(by_path.values()))
    rate, notes = checked_rate(rate, given=False)
    cl = _assemble_at(plan, ids, music, style, rate, duration_s, seed, repeats, strict)
    used_rate, used_notes = checked_rate(used_format(cl.cuts, by_path)[0], given=False)
    if used_rate != rate:
        log.info("the cut shows mostly %s fps footage: assembled again at that rate", used_rate)
        return _assemble_at(plan, ids, music, style, used_rate, duration_s, seed, repeats, strict), used_notes
    return cl, notes


def _exact_rate(rate) -> Fraction:
    if isinstance(rate, Fraction):
        return rate
    if isinstance(rate, int) and not isinstance(rate, bool):
        return Fraction(rate)
    raise TypeError("rate must be a Fraction such as Fraction(24000, 1001)")


def _drop_duplicates(plan: StoryPlan, ids, duplicates) -> tuple[StoryPlan, set[str], list[str]]:
    """The plan without near-duplicates of better shots, their ids and the note."""
    repeats = {i for i, (a, s) in ids.items() if (a.path, s.index) in duplicates}
    if not repeats:
        return plan, repeats, []
    dropped = [i for i in plan.shot_ids if i in repeats]
    plan = replace(plan, phases=tuple(replace(p, shot_ids=tuple(i for i in p.shot_ids if i not in repeats))
                                      for p in plan.phases))
    log.info("near-duplicates left out: %s", sorted(repeats))
    return plan, repeats, [f"{len(repeats)} near-duplicate shot{'s' if len(repeats) > 1 else ''} left out "
                           f"({len(dropped)} of them planned): each repeats a better shot"]


def _longest_shot(plan: StoryPlan, ids, rate: Fraction) -> int | None:
    return max((slot_frames_held(s.usable_end_frame - s.usable_start_frame, Fraction(a.media.video.rate), rate,
                                 ends_file=ends_file(a, s)) for a, s in (ids[i] for i in plan.shot_ids)), default=None)


def _assemble_at(plan: StoryPlan, ids, music: MusicAnalysis, style: Style, rate: Fraction,
                 duration_s: float | None, seed: int, repeats: set[str], strict: bool | str = True) -> CutList:
    """The cut list at ``rate`` (size, name and plan notes filled in by :func:`assemble`).

    ``strict``: raise :class:`TakesShort` when the footage cannot hold the style's shortest
    takes over the whole cut, and :class:`PaceShort` when, after the fill, a phase's mean
    take misses the style's own target by more than :data:`~.pace.PACE_TOLERANCE` because
    the footage ran out (or the footage cap applied): the caller tries a shorter cut first;
    :data:`SHORTER` (a cut already shorter than asked): also when any phase misses the
    style's target by more than the tolerance, whatever the cause; :data:`KEPT`: the same,
    with every phase shortened alike however short the cut, and when a phase has no take of its own.
    Not strict: the cut at this length, its takes capped alike over every phase where the
    footage cannot hold the style's, the cap lowered (at most :data:`PACK_TRIES` times) while
    a phase still misses the capped target: the cap estimate assumes perfect packing, the
    fill's pieces do not pack perfectly."""
    relaxed = strict is False or strict == HELD
    shorter = strict in (SHORTER, KEPT)
    # an excerpt counted from the frame A1 starts playing it on (its end the same time in the
    # song); the notes keep the excerpt's own times
    fit_note = fit_duration(music, duration_s).note
    music, shift = excerpt_on_frame(music, rate)
    duration_s = None if duration_s is None else duration_s + shift
    n_frames, fades = end_frame(music, rate, duration_s)
    if n_frames <= 0:
        raise AssemblyError(f"{music.path}: the music is shorter than one frame")
    beats = [b for b in beat_frames(music, rate, "beats") if b < n_frames]
    downs = sorted({_nearest(d, beats) for d in beat_frames(music, rate, "downbeats") if d < n_frames}) if beats else []
    phases = _phase_frames(plan, rate, n_frames, [d for d in downs if d > 0] or beats, scale_all=strict in (HELD, KEPT),
                           least=max(1, math.ceil(_frac(style.min_shot_s) * rate)))
    longest_s = _longest_usable_s(ids, repeats) or None
    phases = paced_phases(phases, [d for d in downs if d > 0] or beats, style, rate, beats, music.meter,
                          longest_s=longest_s)
    hold, hold_note, missing = _hold(ids, repeats, style, rate, phases, beats, music.meter, n_frames, tiled=relaxed)
    if hold is not None:  # the takes capped: a phase change a bar over may let a held phase hold whole ones
        moved = paced_phases(phases, [d for d in downs if d > 0] or beats, style, rate, beats, music.meter, cap=hold,
                             longest_s=longest_s)
        if moved != phases:
            phases = moved
            hold, hold_note, missing = _hold(ids, repeats, style, rate, phases, beats, music.meter, n_frames, tiled=relaxed)
    if not relaxed and missing:
        raise TakesShort(f"the footage holds {style.name}'s takes of {style.min_shot_s:g} s or more over "
                          f"{float(n_frames / rate) - missing:.1f} s, not {float(n_frames / rate):.1f} s",
                          missing_s=missing, unfilled=0)
    once = _Once(plan, ids, music, style, rate, duration_s, seed, repeats, n_frames, fades, beats, downs, phases,
                 fit_note)
    cl = once.cut(hold, hold_note)
    if len(beats) < 2:
        return cl
    if not relaxed:
        own = once.ratios(cl, None)
        short = once.footage_short(cl, own)
        low = min((own[ph] for ph in short), default=min(own.values(), default=1.0))
        # a cut already shortened is kept only when every phase then keeps the style's pace
        off = strict == SHORTER and max((abs(v - 1) for v in own.values()), default=0.0) > PACE_TOLERANCE
        if strict == KEPT:  # instead of capping: no phase split short for want of footage, each with a
            # take of its own, the phases' mean take on the style's target on average (the grid's own
            # spread, a section change inside a take, is no footage shortfall)
            # nor when a phase wants takes longer than any usable shot: no shorter cut gives those
            off = bool(short) or {c.phase for c in cl.cuts} < {p[0] for p in phases} or \
                float(np.mean([abs(v - 1) for v in own.values()] or [0.0])) > PACE_TOLERANCE or \
                max(t for _, t in once.targets) > _longest_usable_s(ids, repeats) + 1e-6
            short = []
        if short or off or hold is not None and low < 1 - PACE_TOLERANCE / 2:
            length = float(n_frames / rate)
            raise PaceShort(f"the footage fills {style.name}'s takes over less than {length:.1f} s",
                             missing_s=length * min(0.25, max(0.05, (1 - low) / 2)), unfilled=0)
        high = too_few_shots(own, once.targets, style, len(plan.shot_ids))
        if high:  # one take a shot, too few shots: a shorter cut holds the style's pace
            length = float(n_frames / rate)
            raise PaceShort(f"{style.name} shows each of its {len(plan.shot_ids)} shots once in a row: its takes "
                            f"hold its pace over less than {length:.1f} s",
                            missing_s=length * min(0.25, max(0.05, 1 - (1 + PACE_TOLERANCE / 2) / high)), unfilled=0)
        return cl
    return _packed(once, cl, hold)


#: How many times the cap on every phase's takes is lowered when the fill still comes out short.
PACK_TRIES = 4


def _packed(once: "_Once", cl: CutList, hold: float | None) -> CutList:
    """``cl``, or a cut with every phase's takes capped lower when a phase's mean take is
    more than :data:`~.pace.PACE_TOLERANCE` short of its (capped) target: the cap becomes
    that phase's achieved mean take (in whole beats, or bars), and the closest cut is kept."""
    def score(r: Mapping[str, float]) -> float:
        return max((abs(v - 1) for v in r.values()), default=0.0)

    ratios = once.ratios(cl, hold)
    best, best_score = cl, score(ratios)
    cap = hold if hold is not None else max(t for _, t in once.targets)
    floor = max(once.style.min_shot_s, once.on_unit(cap / 2))
    for _ in range(PACK_TRIES):
        short = once.footage_short(cl, ratios)
        if not short:
            break
        achieved = min(once.mean_take(cl, ph) for ph in short)
        # never below the style's shortest take, nor below half the cap the footage estimate
        # gave: past that, every phase would be chopped to hold one phase's pace
        lower = max(once.on_unit(min(cap * 0.9, achieved * 1.05)), floor)
        if lower >= cap - 1e-6:
            break
        cap = lower
        try:
            cl = once.cut(cap, once.cap_note(cap, packed=True))
        except FootageShortError:  # more, shorter takes than the footage has shots for (never reused)
            break
        ratios = once.ratios(cl, cap)
        if score(ratios) < best_score - 1e-9:
            best, best_score = cl, score(ratios)
    # how far the furthest phase is from its (capped) target: the caller may try a shorter cut;
    # and the phases' mean distance from the style's own target (uncapped)
    own = once.ratios(best, None)
    style_off = float(np.mean([abs(v - 1) for v in own.values()])) if own else 0.0
    # how far the most chopped phase is short of its (capped) target, and the phases' mean distance
    # no usable shot as long as the style's takes: the cap is the footage's stated limit, no cut keeps the style's own
    limit = max(t for _, t in once.targets) > _longest_usable_s(once.ids, once.repeats) + 1e-6
    capped = once.ratios(best, best.metadata.get("hold_s"))
    chopped = max((1 - v for v in capped.values()), default=0.0)
    mean_off = float(np.mean([abs(v - 1) for v in capped.values()])) if capped else 0.0
    # at the footage's stated limit: a phase that holds no whole number of the capped takes is not a chopped one
    whole = _at_whole_takes(once, best, capped) if limit and best.metadata.get("hold_s") else capped
    return replace(best, metadata={**best.metadata, "pace_off": best_score, "style_off": style_off,
                                   "pace_chopped": chopped, "pace_mean_off": mean_off, "hold_limit": limit,
                                   "pace_chopped_whole": max((1 - v for v in whole.values()), default=0.0),
                                   "pace_mean_off_whole": float(np.mean([abs(v - 1) for v in whole.values()]))
                                   if whole else 0.0})


def _at_whole_takes(once: "_Once", cl: CutList, ratios: dict[str, float]) -> dict[str, float]:
    """``ratios`` with each phase no whole number of its (capped) takes keeps within
    :data:`~.pace.PACE_TOLERANCE` (:func:`~.pace.quantised_phases`: between 1.2 and 1.6 takes
    long) measured against the whole takes either side of its target nearer the cut's: no cut
    does better there, so such a phase is not one the fill chopped (the demo's 6.3 s
    documentary intro in two takes of 3.15 s against the footage's 4 s cap)."""
    hold = cl.metadata.get("hold_s")
    out = dict(ratios)
    for ph, (length, target, n, _) in quantised_phases(_paced(cl), cl.sections, once.style, once.beat_s,
                                                        once.music.meter, cl.rate, hold).items():
        if ph in out and target > 0:
            mean = out[ph] * target
            out[ph] = min((mean / (length / n), mean / (length / (n + 1))), key=lambda r: abs(math.log(max(r, 1e-9))))
    return out


class _Once:
    """One assembly at a given length and rate, the cap on every phase's takes varying."""

    def __init__(self, plan, ids, music, style, rate, duration_s, seed, repeats, n_frames, fades, beats, downs,
                 phases, fit_note: str = "") -> None:
        self.fit_note = fit_note  # where the cut ends, in the excerpt's own times (:func:`~.fit.fit_duration`)
        self.plan, self.ids, self.music, self.style, self.rate = plan, ids, music, style, rate
        self.duration_s, self.seed, self.repeats, self.n_frames = duration_s, seed, repeats, n_frames
        self.fades, self.beats, self.downs, self.phases = fades, beats, downs, phases
        self.beat_s = float(np.median(np.diff(beats))) / float(rate) if len(beats) > 1 else 0.5
        self.targets = [(float(Fraction(b - a) / rate), style_target_s(style, name, energy, self.beat_s, music.meter))
                        for name, a, b, energy in phases] or [(0.0, style.min_shot_s)]

    def on_unit(self, s: float) -> float:
        """``s`` down to whole bars (a style that cuts only on downbeats) or beats."""
        unit = cut_unit_s(self.style, self.beat_s, self.music.meter)
        return round(max(unit, math.floor(s / unit + 1e-6) * unit), 3)

    def cap_note(self, hold: float, packed: bool = False) -> list[str]:
        return [_cap_note(self.style, hold, float(self.n_frames / self.rate), max(t for _, t in self.targets),
                          packed, longest_s=_longest_usable_s(self.ids, self.repeats))]

    def ratios(self, cl: CutList, hold: float | None) -> dict[str, float]:
        return phase_ratios(_paced(cl), cl.sections, self.style, self.beat_s, self.music.meter, cl.rate, hold)

    def footage_short(self, cl: CutList, ratios: Mapping[str, float]) -> list[str]:
        """The phases whose mean take is more than the tolerance short of its target because
        the fill had to split the grid's slots (the footage ran out), not because of the grid."""
        slots = self.last_slots
        out = []
        for ph, v in ratios.items():
            planned = [s.frames for s in slots if s.phase == ph]
            if v < 1 - PACE_TOLERANCE and planned and \
                    self.mean_take(cl, ph) * float(cl.rate) < 0.9 * float(np.mean(planned)):
                out.append(ph)
        return out

    @staticmethod
    def mean_take(cl: CutList, phase: str) -> float:
        takes = [c.record_frames for c in _paced(cl) if c.phase == phase]
        return float(np.mean(takes)) / float(cl.rate) if takes else 0.0

    def cut(self, hold: float | None, hold_note: list[str]) -> CutList:
        return _assemble_once(self, hold, hold_note)

    last_slots: Sequence[Slot] = ()


def _paced(cl: CutList) -> tuple:
    """The cuts of ``cl`` that keep its phases' pace: the end hold over the song's ring-out
    (:func:`~.pace.ring_out_take`, said in the notes) left out when its phase has others."""
    end = ring_out_take(cl.cuts, cl.beats, cl.duration)
    if end is None or sum(c.phase == cl.cuts[end].phase for c in cl.cuts) < 2:
        return cl.cuts
    return cl.cuts[:end] + cl.cuts[end + 1:]


def _assemble_once(o: _Once, hold: float | None, hold_note: list[str]) -> CutList:
    """The cut list of ``o`` with every phase's takes capped at ``hold`` (None: no cap)."""
    plan, ids, music, style, rate, n_frames = o.plan, o.ids, o.music, o.style, o.rate, o.n_frames
    beats, downs, phases, duration_s = o.beats, o.downs, o.phases, o.duration_s
    fit_note = o.fit_note
    fade = min(n_frames, int(round(_frac(style.fade_out_s) * rate))) if o.fades else 0
    grid = [b for b in beat_energies(music, rate, style.subdivide) if b < n_frames]  # cut points: beats (+ between)
    sec_starts = [_nearest(seconds_to_frames(_frac(s.start_s), rate), downs or beats)
                  for s in music.sections if 0 < s.start_s and seconds_to_frames(_frac(s.start_s), rate) < n_frames]
    longest = shot_max = _longest_shot(plan, ids, rate)
    if hold is not None:
        # the cap is the footage's typical take, not a hard limit: a slot a tenth over it still fits
        longest = max(1, min(longest if longest is not None else n_frames, math.floor(_frac(hold) * rate * 11 / 10)))
    drops = drop_frames(music, style, rate, n_frames)
    sections = _sections(music, rate, n_frames, phases, downs or beats)
    slots, grid_notes = _slots(plan, music, style, rate, phases, sec_starts, n_frames, o.seed, longest, beats, drops,
                               _phase_energy(sections), shot_max=shot_max)
    o.last_slots = slots
    grid_notes = hold_note + grid_notes
    if style.drops:
        how = "energy and low end" if bar_low_end(music) is not None else \
            "loudness alone: this music analysis has no low end, analyse the song again"
        grid_notes.append(f"{style.name}: {len(drops)} drop{'s' if len(drops) != 1 else ''} found ({how})"
                          + (" at " + ", ".join(f"{float(d / rate):.1f} s" for _, d in drops) if drops else
                             ": the cut is paced by energy alone"))
    points = [d for d in downs if d > 0] if style.all_cuts_on_downbeat else [b for b in grid if b > 0]
    # the beats the fill may split on carried past the last tracked beat (a ring-out): a tail
    # slot nothing fills whole, not even an earlier piece of a shot, is split at the song's
    # tempo rather than filled with a shot shown two cuts before (the cut points stay the tracked ones)
    beats_at = [b for b in grid if b > 0]
    beats_at = beats_at + lead_out(beats_at, n_frames)
    keep = {ph[1] for ph in phases} | (set(sec_starts) if style.section_cut_on_downbeat else set())
    cuts, notes = fill(slots, plan, ids, style, rate, o.seed, n_frames, points, beats_at, keep,
                       exclude=o.repeats)
    music_start = seconds_to_frames(_frac(getattr(music, "offset_s", 0.0)), rate)
    return CutList(
        rate=rate, width=0, height=0, duration=n_frames, cuts=tuple(cuts),
        music_path=music.path, music_duration=n_frames, music_start=music_start,
        start_frames=timecode_to_frames(_TIMELINE_START, rate), music_fade_out=fade,
        beats=tuple(beats), downbeats=tuple(downs), sections=tuple(sections),
        metadata={"notes": ([fit_note] if fit_note and duration_s is not None or getattr(music, "offset_s", 0)
                            else []) + grid_notes + notes, "hold_s": hold},
    )


def _sections(music: MusicAnalysis, rate: Fraction, n_frames: int, phases, grid) -> list[CutSection]:
    """Music sections on the timeline, split where the story phase changes."""
    out = []
    cuts = sorted({ph[1] for ph in phases} | {0})
    # the cut's end is a boundary too: a section change at or past the end of a cut that ends
    # earlier than the song stays there, not on the last downbeat inside (which would give the
    # loud end of a chorus the quiet section after it)
    grid = sorted(set(grid) | {n_frames})
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
