"""The fill: every slot of the grid gets a window of footage, by an ordered list of rules.

Each rule is a small function ``rule(state, pending) -> Pick | Resplit | None``: a window of
footage for the slot, the slot cut into new ones (filled again from the first), or None when
the rule does not apply. :func:`fill` takes the slots off a queue and, for each, applies
:data:`RULES` in order until one answers; the list itself is never changed. The first rules
are the style's own choice; every later one is a relaxation of the style, used only for that
slot and counted in the cut list's notes (:func:`notes`).

Two constraints hold throughout, and are relaxed only by the rules named for them: a shot is
not shown again within the style's ``repeat_window`` cuts (no A-B-A; never the same shot on
two cuts in a row), and a shot used again goes on forward in its own time (source order).
The reuse policy (``reuse = "never"``) is never relaxed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from fractions import Fraction
from typing import Callable, Mapping, Sequence

from montage_ai.core.analysis.footage import FootageAnalysis, Shot
from montage_ai.core.cut.fill_state import FillState, Hold, Pending, Pick, Resplit
from montage_ai.core.cut.grid import FootageShortError, Slot
from montage_ai.core.model.cutlist import Cut
from montage_ai.core.plan.planner import StoryPlan
from montage_ai.core.plan.styles import Style

__all__ = ["RULES", "fill", "notes"]

Rule = Callable[[FillState, Pending], "Pick | Resplit | None"]


def _first_fit(st: FillState, tier: Sequence[str], slot: Slot) -> Pick | None:
    """The first shot of ``tier`` that fits, preferring another file than the cut before
    (tight footage, never reused: the one that wastes least)."""
    fits = []
    closest = not st.tight and not st.chrono and not st.style.match_energy and st.longer_ahead(slot)
    for sid in tier:
        got = st.try_shot(sid, slot)
        if got is not None:
            fits.append(got)
            if got.analysis.path != st.prev_path and not st.tight and not closest:
                break
    if not fits:
        return None
    if closest and len(fits) > 1:
        # longer takes still to come (a held phase): the shot whose free frames fit this slot
        # most closely, so the long runs stay for them; another file than the cut before first
        fits.sort(key=lambda f: (f.analysis.path == st.prev_path, st.avail([(f.sid, None)])))
        return fits[0]
    if st.tight:
        return min(fits, key=lambda f: (st.avail([(f.sid, None)]) - slot.frames, f.analysis.path == st.prev_path))
    return next((f for f in fits if f.analysis.path != st.prev_path), fits[0])


def planned_by_phase(st: FillState, p: Pending) -> Pick | None:
    """Story order: the phase's own fresh shots; then other phases' spare fresh shots
    (beyond their remaining slots, least typical first); then, when the style reuses shots,
    new frames of this phase's used shots, then of the others' (least used first); a style
    that never reuses borrows any fresh shot last. With ``match_energy`` each tier puts the
    shots whose intensity matches the slot's loudness first (the drop: the most intense)."""
    if st.chrono:
        return None
    slot, order, plan = p.slot, st.order, st.plan
    ph_i = order.index(slot.phase) if slot.phase in order else 0
    neighbours = sorted(order, key=lambda n: (abs(order.index(n) - ph_i), order.index(n)))
    own, others = neighbours[0], neighbours[1:]
    left = Counter(q.slot.phase for q in st.queue)
    spare: list[str] = []
    for n in others:
        queue = [i for i in plan.phase(n).shot_ids if i in st.fresh]
        extra = max(0, len(queue) - left[n])
        spare += queue[len(queue) - extra:][::-1] if extra else []
    tiers = [[i for i in plan.phase(own).shot_ids if i in st.fresh], spare]
    if st.style.drops and slot.energy >= 1.0:  # the drop: the most intense shot not shown yet, any phase's
        tiers = [sorted(st.fresh, key=lambda i: (-st.intensity.get(i, 0.0), i))] + tiers
    if not st.never:
        tiers.append(sorted((i for i in plan.phase(own).shot_ids if i not in st.fresh), key=lambda i: st.uses[i]))
        tiers.append(sorted((i for n in others for i in plan.phase(n).shot_ids if i not in st.fresh),
                            key=lambda i: st.uses[i]))
    tiers.append([i for n in others for i in plan.phase(n).shot_ids if i in st.fresh])
    for tier in tiers:
        pick = _first_fit(st, st.by_energy(tier, slot), slot)
        if pick is not None:
            return pick
    return None


def planned_in_order(st: FillState, p: Pending) -> Pick | Resplit | Hold | None:
    """Chronological order: the planned shots from the slot's place in time on; the shot
    just shown goes on through the slot rather than cut to itself; when the shot in order
    is too short for the slot, a later shot in time that holds all of it while the footage
    ahead still holds the rest of the cut (:func:`_fits_ahead`: the editor picks the moments,
    the short shots skipped, said in the notes), else a shorter slot (the rest to the next)."""
    if not st.chrono:
        return None
    slot = p.slot
    first = max(p.target if p.target is not None else st.cursor, st.cursor)
    strict = [(st.all_ids[k], st.last_end.get(st.all_ids[k])) for k in range(first, len(st.all_ids))]
    here = next((c for c in strict if st.avail([c]) >= st.min_rec), None)
    for k in range(first, len(st.all_ids)):
        sid = st.all_ids[k]
        if st.can_hold(p, sid):
            if p.target is not None and (p.target < k or st.target_counts[k] <= 1) and k < len(st.all_ids) - 1:
                continue  # the cursor ran ahead of the plan (a short shot skipped): the next shot, not a held take
            return Hold()
        repeated = st.target_counts[k] > 1
        pick = st.try_shot(sid, slot, after=st.last_end.get(sid), early=0.5 if repeated else 0.0)
        if pick:
            st.cursor = k
            return pick
        if here is not None and sid == here[0]:
            ahead = _fits_ahead(st, slot, k)
            if ahead is not None:
                return ahead
            fit = st.avail([here])
            q = st.split_point(slot, st.points, fit, short=False)
            if q is not None:
                return Resplit(st.split(p, q).slots)
            q = st.shift_point(slot, fit)
            if q is not None:
                return Resplit(st.shift(p, q).slots, takes_next=True)
    return None


#: Chronological styles: a shot in order too short for its slot is skipped for a later one
#: that holds the whole slot only while the planned footage from there on in time still holds
#: this share of the rest of the cut (each shot within the style's longest take): a held take
#: is the style's pace, a shot skipped goes by in time, never back, and the order must not run
#: out before the end. However many shots that skips: a first clip of only short shots does
#: not cap every take of the cut (the demo's vlog).
CHRONO_AHEAD_SPARE = 1.2


def _fits_ahead(st: FillState, slot: Slot, k: int) -> Pick | None:
    """A shot later in time than the ``k``-th that fills all of ``slot`` (the cursor moves
    to it; the shots passed over are counted as skipped), while the footage from it on holds
    :data:`CHRONO_AHEAD_SPARE` of the rest of the cut; else None."""
    left = st.n_frames - slot.start
    for j in range(k + 1, len(st.all_ids)):
        sid = st.all_ids[j]
        if st.history and sid == st.history[-1]:
            continue
        if _ahead_frames(st, j) < CHRONO_AHEAD_SPARE * left:  # too little left in order for the rest
            return None
        pick = st.try_shot(sid, slot, after=st.last_end.get(sid), early=0.5 if st.target_counts[j] > 1 else 0.0)
        if pick:
            st.skipped.update(i for i in st.all_ids[k:j] if not st.uses[i])
            st.cursor = j
            return pick
    return None


def _ahead_frames(st: FillState, j: int) -> float:
    """Timeline frames the planned shots from the ``j``-th on in time still hold (each
    within the style's longest take)."""
    total = 0.0
    for sid in st.all_ids[j:]:
        a, s = st.ids[sid]
        sr = Fraction(a.media.video.rate)
        start = max(s.usable_start_frame, st.last_end.get(sid, s.usable_start_frame))
        total += min(st.max_rec, float(Fraction(max(0, s.usable_end_frame - start)) * st.rate / sr))
    return total


def split_for_planned(st: FillState, p: Pending) -> Resplit | None:
    """Split the slot on a cut point of the style (both parts at least its shortest shot)
    where a planned shot fits the first part, or move its cut earlier within the phase."""
    return st.split_or_shift(p, st.avail(st.strict()))


def back_in_time(st: FillState, p: Pending) -> Pick | None:
    """Chronological styles: unused frames of shots already played, nearest first."""
    for sid, _ in st.back():
        pick = st.try_shot(sid, p.slot)
        if pick:
            st.went_back.add(p.slot.start)
            return pick
    return None


def split_for_earlier(st: FillState, p: Pending) -> Resplit | None:
    """Chronological styles: split (or shift) where an earlier shot fits the first part."""
    back = st.back()
    return st.split_or_shift(p, st.avail(back)) if back else None


def off_downbeat(st: FillState, p: Pending) -> Resplit | None:
    """Styles that cut only on downbeats: split on another beat, parts still at least the
    style's shortest shot."""
    if not st.style.all_cuts_on_downbeat:
        return None
    q = st.split_point(p.slot, st.beats, st.avail(st.strict() + st.back()), short=False)
    return st.split(p, q) if q is not None else None


def unplanned_shots(st: FillState, p: Pending) -> Pick | None:
    """Usable shots the plan left out (not black), in order of time."""
    return _first_shot(st, st.unplanned, p.slot)


def _first_shot(st: FillState, sids: Sequence[str], slot: Slot) -> Pick | None:
    """The first of ``sids`` whose free frames fill ``slot``."""
    return next((pick for pick in (st.try_shot(sid, slot) for sid in sids) if pick), None)


def _any_shot(st: FillState, p: Pending, *, duplicates: bool = False) -> Pick | Resplit | None:
    for rule in (planned_in_order, planned_by_phase, back_in_time, unplanned_shots):
        got = rule(st, p)
        if got is not None:
            return got
    return near_duplicates(st, p) if duplicates else None


def out_of_order(st: FillState, p: Pending) -> Pick | Resplit | None:
    """An earlier piece of a shot used again (out of its own time), still outside the
    repeat window: its later frames are used up."""
    with st.relaxing(in_order=False):
        return _any_shot(st, p)


def repeat_sooner(st: FillState, p: Pending) -> Pick | Resplit | None:
    """A shot shown within the repeat window (never the cut before), or an earlier piece of
    a shot used again: the footage left gives nothing else."""
    window = st.window
    with st.relaxing(window=1, in_order=False):
        got = _any_shot(st, p)
    if isinstance(got, Pick) and got.sid in st.history[-window:]:
        return replace(got, relaxation="repeat")
    return got


def shorter_than_style(st: FillState, p: Pending) -> Resplit | None:
    """A part shorter than the style's shortest shot, split on a cut point (else a beat)."""
    fit = st.avail(st.strict() + st.back() + [(i, None) for i in st.unplanned])
    q = st.split_point(p.slot, st.points, fit, short=True)
    q = st.split_point(p.slot, st.beats, fit, short=True) if q is None else q
    return st.split(p, q) if q is not None else None


def near_duplicates(st: FillState, p: Pending) -> Pick | None:
    """Near-duplicates of shots used elsewhere, best first: nothing else is left."""
    return _first_shot(st, st.dup_pool, p.slot)


def shorter_for_duplicates(st: FillState, p: Pending) -> Resplit | None:
    """A short part that a near-duplicate fills."""
    fit = st.avail([(i, None) for i in st.dup_pool])
    q = st.split_point(p.slot, st.points, fit, short=True)
    q = st.split_point(p.slot, st.beats, fit, short=True) if q is None else q
    return st.split(p, q) if q is not None else None


def split_to_repeat(st: FillState, p: Pending) -> Resplit | None:
    """A shorter part that a shot shown within the repeat window, or an earlier piece of a
    shot used again, fills (parts shorter than the style's minimum if need be)."""
    with st.relaxing(window=1, in_order=False):
        return shorter_than_style(st, p) or shorter_for_duplicates(st, p)


def same_shot_again(st: FillState, p: Pending) -> Pick | Resplit | None:
    """Last resort: the shot of the cut before goes on (a jump cut within one shot), the
    slot split where that is what fits."""
    with st.relaxing(window=0, in_order=False):
        got = _any_shot(st, p, duplicates=True) or shorter_than_style(st, p) or shorter_for_duplicates(st, p)
    if isinstance(got, Pick) and st.history and got.sid == st.history[-1]:
        return replace(got, relaxation="adjacent")
    return got


#: The fill's rules, in the order they are tried for each slot.
RULES: tuple[Rule, ...] = (
    planned_in_order, planned_by_phase, split_for_planned, back_in_time, split_for_earlier, off_downbeat,
    unplanned_shots, out_of_order, shorter_than_style, repeat_sooner, near_duplicates, shorter_for_duplicates,
    split_to_repeat, same_shot_again,
)


def fill(slots: Sequence[Slot], plan: StoryPlan, ids: Mapping[str, tuple[FootageAnalysis, Shot]], style: Style,
         rate: Fraction, seed: int, n_frames: int, points: Sequence[int], beats: Sequence[int] = (),
         keep: set[int] | frozenset = frozenset(), exclude: set[str] | frozenset = frozenset(),
         rules: Sequence[Rule] = RULES) -> tuple[list[Cut], list[str]]:
    """Fill every slot with a window of footage; ``(cuts, notes)``.

    Raises :class:`~.grid.FootageShortError` when some slot stays empty after every rule.
    """
    st = FillState(plan, ids, style, rate, seed, n_frames, points, beats, frozenset(keep), frozenset(exclude))
    st.load(slots)
    st.target_counts = Counter(q.target for q in st.queue)
    n_slots = len(st.queue)
    while st.queue:
        p = st.queue.popleft()
        for rule in rules:
            got = rule(st, p)
            if isinstance(got, Pick):
                st.place(p, got)
                break
            if isinstance(got, Hold):
                st.hold(p)
                break
            if isinstance(got, Resplit):
                if got.takes_next:
                    st.queue.popleft()
                else:
                    st.target_counts[p.target] += len(got.slots) - 1
                if got.relaxation:
                    st.relaxed[got.relaxation] += 1
                st.queue.extendleft(reversed(got.slots))
                n_slots += len(got.slots) - 1 - got.takes_next
                break
        else:
            st.unfilled.append(p.slot)
    if st.unfilled:
        raise _short_error(st, n_slots)
    return st.cuts, notes(st)


def _short_error(st: FillState, n_slots: int) -> FootageShortError:
    style, rate = st.style, st.rate
    missing = sum(Fraction(s.frames) for s in st.unfilled) / rate
    usable = [(a, s) for a, s in st.ids.values() if not s.black and a.media.video is not None]
    total = sum((Fraction(max(0, s.usable_end_frame - s.usable_start_frame)) / Fraction(a.media.video.rate)
                 for a, s in usable), Fraction(0))
    policy = "never reuses a shot" if st.never else "reuses shots but never their frames"
    return FootageShortError(
        f"not enough footage for a {float(st.n_frames / rate):.1f} s cut in style '{style.name}' ({policy}): "
        f"{len(usable)} usable shots, {float(total):.1f} s in all; {len(st.unfilled)} of {n_slots} shots "
        f"cannot be filled even with shorter shots, about {float(missing):.1f} s more usable "
        f"footage needed; add footage, ask for a shorter duration"
        + (" or choose a style that reuses shots" if st.never else ""),
        missing_s=float(missing), unfilled=len(st.unfilled))


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def notes(st: FillState) -> list[str]:
    """One line per relaxation of the style the fill needed, in the order they apply."""
    style, relaxed, cuts = st.style, st.relaxed, st.cuts
    name = style.name
    out = []
    n = 0 if style.chronological else relaxed["other phase"]  # chronological: phases only split the order
    if n:
        out.append(f"{n} shot{_plural(n, '', 's')} taken from another story phase: "
                   "the phase's own shots ran out or were too short")
    n = relaxed["shift"]
    if n:
        out.append(f"{name}: {n} cut{_plural(n, '', 's')} moved to an earlier beat so the shot left fits, "
                   "the next shot lasting longer: no unused shot was long enough")
    n = relaxed["split"]
    if n:
        out.append(f"{name}: {n} slot{_plural(n, ' was', 's were')} split into shorter shots on the beat: "
                   "no unused shot was long enough")
    skipped = len(st.skipped - set(st.history))
    if skipped:
        out.append(f"{name} keeps chronological order but picks the moments: {skipped} shot"
                   f"{_plural(skipped, ' too short for its take was', 's too short for their takes were')} skipped "
                   "for a later one that holds the take")
    back = len(st.went_back)
    if back:
        out.append(f"{name} keeps chronological order; {back} shot{_plural(back, ' goes', 's go')} back to unused "
                   "frames of earlier shots: the footage in order ran out")
    if style.all_cuts_on_downbeat:
        downs = set(st.points)
        off = sum(1 for c in cuts[1:] if c.record_in not in downs)
        if off:
            out.append(f"{name} cuts only on downbeats; {off} cut{_plural(off, ' falls', 's fall')} on another "
                       "beat: no unused shot lasts from one downbeat to the next")
    n = relaxed["repeat"]
    if n:
        out.append(f"{n} shot{_plural(n, '', 's')} shown again within {st.window} cuts of "
                   f"{_plural(n, 'its', 'their')} last showing: the footage left offered nothing else")
    n = relaxed["out of order"]
    if n:
        out.append(f"{n} shot{_plural(n, '', 's')} used again from earlier in {_plural(n, 'its', 'their')} own "
                   "time (out of source order): its later frames were used up")
    n = relaxed["adjacent"]
    if n:
        out.append(f"{n} cut{_plural(n, '', 's')} from a shot to itself (a jump cut): nothing else fits there")
    n = relaxed["held"]
    if n:
        out.append(f"{name}: {n} cut{_plural(n, '', 's')} left out so a shot goes on instead of cutting to "
                   "itself (longer takes than the beat grid asked)")
    n = relaxed["duplicate"]
    if n:
        out.append(f"{n} shot{_plural(n, '', 's')} repeat{_plural(n, 's', '')} a moment already shown "
                   "(near-duplicate footage): the other footage ran out")
    n = relaxed["unplanned"]
    if n:
        out.append(f"{n} shot{_plural(n, '', 's')} the plan left out {_plural(n, 'was', 'were')} used: "
                   "the planned footage ran out")
    short = sum(1 for c in cuts if c.record_frames < st.min_rec) if st.n_frames >= st.min_rec else 0
    if short:
        out.append(f"{name} wants takes of {style.min_shot_s:g} s or more; {short} shot"
                   f"{_plural(short, ' was', 's were')} shorter: the footage has few long shots")
    return out
