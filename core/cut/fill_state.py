"""What the fill knows while it fills slots: footage used so far, the queue of slots left,
the shots recently shown, and the small operations every fill rule is made of (try a shot
on a slot, how long a slot a set of shots can still fill, where a slot can be split).

The rules themselves (:mod:`.fill`) are small functions of a :class:`FillState` and a
:class:`Pending` slot; this module holds no policy beyond the style's own constraints.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Iterator, Mapping, Sequence

import numpy as np

from montage_ai.core.analysis.footage import FootageAnalysis, Shot
from montage_ai.core.cut.grid import Slot, _frac
from montage_ai.core.cut.shot_windows import (
    best_window,
    ends_file,
    longest_free,
    motion_samples,
    shown_frames,
    slot_frames_held,
)
from montage_ai.core.model.cutlist import Cut
from montage_ai.core.plan.planner import StoryPlan
from montage_ai.core.plan.styles import Style

__all__ = ["Pending", "Pick", "Resplit", "Hold", "FillState", "spread", "in_order_counts", "REUSE_EARLY"]

#: Styles that reuse shots: how much a window is favoured for starting early in the shot's
#: free frames (0: the best moment wherever it is; the chronological styles use 0.5). A take
#: from the middle of a long shot would leave two short pieces, and later pieces must come
#: after it (source order), so the held phases at the end found only short ones.
REUSE_EARLY = 0.05


@dataclass(frozen=True)
class Pending:
    """A slot still to fill; ``target`` is the planned shot's place in the chronological
    order (chronological styles), else None."""

    slot: Slot
    target: int | None = None


@dataclass(frozen=True)
class Pick:
    """A window of footage for a slot: shot id, analysis, shot, source rate, length in
    source frames, first source frame, best-moment score."""

    sid: str
    analysis: FootageAnalysis
    shot: Shot
    source_rate: Fraction
    length: int
    source_in: int
    score: float
    relaxation: str = ""


@dataclass(frozen=True)
class Resplit:
    """The slot becomes ``slots`` (filled again from the first); ``takes_next`` when they
    also cover the next slot in the queue; ``relaxation`` is counted in the notes."""

    slots: tuple[Pending, ...]
    takes_next: bool = False
    relaxation: str = ""


@dataclass(frozen=True)
class Hold:
    """No cut here: the shot before goes on through the slot (it would cut to itself)."""


def spread(n_slots: int, n_shots: int) -> list[int]:
    """Which of ``n_shots`` (in order) plays each of ``n_slots``: evenly spaced, in order;
    consecutive slots share a shot when there are fewer shots than slots.

    >>> spread(5, 2)
    [0, 0, 0, 1, 1]
    """
    if n_shots == 0:
        return [0] * n_slots
    return [min(n_shots - 1, (j * n_shots) // n_slots) for j in range(n_slots)]


def in_order_counts(slots: Sequence[int], shots: Sequence[int]) -> list[int]:
    """How many shots of the chronological order each phase plays, for phases of ``slots``
    slots that the plan gave ``shots`` shots.

    A phase with more slots than shots holds a shot through two slots, a take twice the
    style's: 5 shots for an intro of 6 slots is 1.2x its pace, while the build beside it may
    have a shot to spare. So the plan's counts stand only when every phase has a shot for
    each slot; else the order is re-divided (still in time order: the phases only split it),
    each phase a shot for every slot while the shots last, any shortfall (a held take) put
    where it lengthens a phase's mean take least (the phases with most slots), shots to
    spare back to the phases the plan gave them.

    >>> in_order_counts([6, 12, 4, 5], [5, 12, 4, 5])
    [6, 11, 4, 5]
    >>> in_order_counts([6, 10, 4, 5], [5, 10, 3, 5])
    [5, 9, 4, 5]
    >>> in_order_counts([3, 4], [5, 2])
    [3, 4]
    >>> in_order_counts([2, 3], [4, 6])
    [4, 6]
    """
    shots, slots = list(shots), list(slots)
    total = sum(shots)
    if all(n >= m for n, m in zip(shots, slots)):
        return shots
    counts = list(slots)
    while sum(counts) > total:  # too few shots: one less where the takes grow least
        k = min((i for i, c in enumerate(counts) if c > 1), key=lambda i: (slots[i] / (counts[i] - 1), i),
                default=None)
        if k is None:
            break
        counts[k] -= 1
    if sum(counts) > total:  # fewer shots than phases with slots: the plan's own split
        return shots
    extra = total - sum(counts)
    for _ in range(max(0, extra)):  # shots to spare: back to the phases the plan gave most beyond their slots
        k = max(range(len(counts)), key=lambda i: (shots[i] - counts[i], -i))
        counts[k] += 1
    return counts


@dataclass
class FillState:
    """Everything a fill rule reads or changes. ``window`` is how many cuts back a shot may
    not be shown again (the style's ``repeat_window``; 1: only the cut before); ``in_order``
    whether a shot used again must go on forward in its own time."""

    plan: StoryPlan
    ids: Mapping[str, tuple[FootageAnalysis, Shot]]
    style: Style
    rate: Fraction
    seed: int
    n_frames: int
    points: Sequence[int]
    beats: Sequence[int]
    keep: frozenset
    exclude: frozenset
    queue: deque = field(default_factory=deque)
    cuts: list = field(default_factory=list)
    unfilled: list = field(default_factory=list)
    relaxed: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        style, rate, ids = self.style, self.rate, self.ids
        self.rng = np.random.default_rng(self.seed + 7919)
        self.used: dict[str, np.ndarray] = {}
        for a, _ in ids.values():
            if a.path not in self.used:
                n = a.media.video.frame_count if a.media.video is not None else 0
                self.used[a.path] = np.zeros(max(a.frame_count, n, max((s.end_frame for s in a.shots), default=0)),
                                             bool)
                for fl in a.flags:  # frames the analysis flagged (blur, corrupt, test pattern...) are never used
                    self.used[a.path][max(0, fl.first):fl.last + 1] = True
        self.order = [p.name for p in self.plan.phases]
        self.home = {i: p.name for p in self.plan.phases for i in p.shot_ids}
        self.fresh = set(self.plan.shot_ids)
        self.uses: Counter[str] = Counter()
        self.last_end: dict[str, int] = {}
        self.history: list[str] = []  # shot id of every cut so far
        self.prev_path: str | None = None
        self.min_rec = max(1, math.ceil(_frac(style.min_shot_s) * rate))
        self.max_rec = max(self.min_rec, math.floor(_frac(style.max_shot_s) * rate))
        self.never = style.reuse == "never"
        self.chrono = style.chronological
        self.beats = sorted(set(self.beats) | set(self.points))
        self.planned = set(self.plan.shot_ids)
        self.unplanned = self._unplanned()
        self.dup_pool = sorted((i for i in self.exclude if i in ids and not ids[i][1].black),
                               key=lambda i: (-max(ids[i][1].scores, default=0.0), i))
        room = sum(min(self.max_rec, slot_frames_held(s.usable_end_frame - s.usable_start_frame,
                                                      Fraction(a.media.video.rate), rate, ends_file=ends_file(a, s)))
                   for a, s in (ids[i] for i in self.plan.shot_ids))
        self.tight = self.never and room < 1.25 * self.n_frames  # best fit: waste as little as possible
        self.room = room  # the planned shots' frames (each within the longest take), timeline frames
        self.went_back: set[int] = set()
        self.skipped: set[str] = set()  # chronological: shots passed over for a later one holding the take
        self.held: set[int] = set()  # record_in of cuts that went on through the next slot
        self.samples: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.all_ids = list(self.plan.shot_ids)
        self.cursor = 0
        self.window = max(1, int(getattr(style, "repeat_window", 3)))
        self.in_order = True

    def _unplanned(self) -> list[str]:
        ids = self.ids
        out = [i for i, (a, s) in ids.items()
               if i not in self.planned and i not in self.exclude and not s.black and a.media.video is not None
               and s.usable_end_frame > s.usable_start_frame]
        out.sort(key=lambda i: (ids[i][0].media.creation_time is None,
                                ids[i][0].media.creation_time.timestamp() if ids[i][0].media.creation_time else 0.0,
                                ids[i][0].path, ids[i][1].usable_start_frame))
        return out

    def load(self, slots: Sequence[Slot]) -> None:
        """Queue the slots; chronological styles spread each phase's slots over its shots."""
        targets: list[int | None] = [None] * len(slots)
        if self.chrono:
            targets, offset = [], 0
            wanted = [sum(1 for sl in slots if sl.phase == p.name) for p in self.plan.phases]
            counts = in_order_counts(wanted, [len(p.shot_ids) for p in self.plan.phases])
            for p, n_slots, n_shots in zip(self.plan.phases, wanted, counts):
                targets += [offset + k for k in spread(n_slots, n_shots)]
                offset += n_shots
            targets += [None] * (len(slots) - len(targets))
        self.queue.extend(Pending(sl, t) for sl, t in zip(slots, targets))
        # energy matching (patterns): each slot's loudness rank and each shot's intensity rank
        ranks = np.argsort(np.argsort([sl.energy for sl in slots], kind="stable"), kind="stable")
        self.slot_rank = {sl.start: float(r) / max(1, len(slots) - 1) for sl, r in zip(slots, ranks)}
        loud = [sl.start for sl in slots if sl.energy >= 1.0]
        self.slot_rank.update({f: 1.0 for f in loud})
        motion = {i: float(s.motion or 0.0) for i, (_, s) in self.ids.items()}
        order = sorted(motion, key=lambda i: (motion[i], i))
        self.intensity = {i: k / max(1, len(order) - 1) for k, i in enumerate(order)}

    def by_energy(self, tier: Sequence[str], slot: Slot) -> list[str]:
        """``tier`` with the shots whose intensity matches the slot's loudness first (styles
        or patterns with ``match_energy``; else as it is)."""
        if not self.style.match_energy:
            return list(tier)
        want = self.slot_rank.get(slot.start, 0.5)
        return sorted(tier, key=lambda i: abs(self.intensity.get(i, 0.5) - want))

    # ------------------------------------------------------------------ constraints
    def blocked(self, sid: str) -> bool:
        """The shot is one of the last ``window`` cuts (or, never reusing, was used at all)."""
        if self.never and self.uses[sid]:
            return True
        return self.window > 0 and sid in self.history[-self.window:]

    def after_for(self, sid: str, after: int | None) -> int | None:
        """The first source frame a new piece of ``sid`` may use: after its last piece when
        reuse keeps source order."""
        if self.in_order and self.uses[sid]:
            return max(after or 0, self.last_end.get(sid, 0))
        return after

    @contextmanager
    def relaxing(self, *, window: int | None = None, in_order: bool | None = None) -> Iterator[None]:
        """Temporarily a shorter repeat window and/or reuse out of source order."""
        saved = self.window, self.in_order
        self.window = saved[0] if window is None else window
        self.in_order = saved[1] if in_order is None else in_order
        try:
            yield
        finally:
            self.window, self.in_order = saved

    def longer_ahead(self, slot: Slot) -> bool:
        """Whether slots a quarter longer than ``slot`` or more are still to fill (held takes)."""
        return any(4 * q.slot.frames >= 5 * slot.frames for q in self.queue)

    # ------------------------------------------------------------------ operations
    def try_shot(self, sid: str, slot: Slot, after: int | None = None, early: float = 0.0) -> Pick | None:
        """The best unused window of ``sid`` for ``slot``, or None: the source frames the slot
        lasts (``ceil(frames * source_rate / rate)``), else, where the rates differ, the whole
        source frames it shows (:func:`~.shot_windows.shown_frames`: a piece short of the slot
        by less than one timeline frame still fills it, its last frame held to the cut)."""
        if self.blocked(sid):
            return None
        a, s = self.ids[sid]
        after = self.after_for(sid, after)
        sr = Fraction(a.media.video.rate)
        nominal = math.ceil(Fraction(slot.frames) * sr / self.rate)
        shown = shown_frames(slot.frames, sr, self.rate)
        lo = max(s.usable_start_frame, after or 0)
        used = self.used[a.path]
        if s.usable_end_frame - lo < shown or int((~used[lo:s.usable_end_frame]).sum()) < shown:
            return None  # cheap reject before scoring windows
        if a.path not in self.samples:
            self.samples[a.path] = motion_samples(a)
        min_src = math.ceil(Fraction(self.min_rec) * sr / self.rate)
        if not self.chrono and not self.never:  # pieces go forward in source order: start early in the
            early = max(early, REUSE_EARLY)       # free run, so its rest stays one piece for a later long take
        for length in dict.fromkeys((nominal, shown)):
            got = best_window(a, s, length, used, slot.phase, self.rng, min_src=min_src, after=after, early=early,
                              samples=self.samples[a.path])
            if got is not None and int(got[0]) + nominal > a.media.video.frame_count:
                got = None  # the slot's time would run past the file's last frame: an NLE sees no media there
            if got is not None:
                return Pick(sid, a, s, sr, length, int(got[0]), got[1])
        return None

    def avail(self, cands: Sequence[tuple[str, int | None]]) -> int:
        """The longest slot (timeline frames) one of ``cands`` can still fill."""
        best = 0
        for sid, after in cands:
            if self.blocked(sid):
                continue
            a, s = self.ids[sid]
            sr = Fraction(a.media.video.rate)
            after = self.after_for(sid, after)
            run = longest_free(self.used[a.path], max(s.usable_start_frame, after or 0), s.usable_end_frame)
            best = max(best, slot_frames_held(run, sr, self.rate, ends_file=ends_file(a, s)))
        return best

    def split_point(self, slot: Slot, grid: Sequence[int], fit: int, short: bool) -> int | None:
        """A cut point inside ``slot`` whose first part lasts at most ``fit`` frames; both
        parts at least the style's minimum unless ``short`` (then as few short parts as
        possible, the first part as long as possible)."""
        min_rec = self.min_rec
        gap = 1 if short else min_rec
        qs = [q for q in grid if slot.start + gap <= q <= slot.end - gap and q - slot.start <= fit]
        if not qs:
            return None
        if short:
            return min(qs, key=lambda q: ((q - slot.start < min_rec) + (slot.end - q < min_rec), -q))
        if self.chrono or self.never:  # use as much of the shot as the rest allows
            return max(qs)
        return min(qs, key=lambda q: (abs(2 * q - slot.start - slot.end), q))

    def shift_point(self, slot: Slot, fit: int) -> int | None:
        """An earlier cut for ``slot`` (at least the style's minimum, at most ``fit``) when
        the next slot is of the same phase and no fixed cut lies between."""
        if not self.queue or self.queue[0].slot.phase != slot.phase or slot.end in self.keep:
            return None
        qs = [q for q in self.points if slot.start + self.min_rec <= q <= slot.start + fit and q < slot.end]
        return max(qs) if qs else None

    def split(self, p: Pending, q: int, what: str = "split") -> Resplit:
        s = p.slot
        return Resplit((Pending(Slot(s.start, q, s.phase, s.energy), p.target),
                        Pending(Slot(q, s.end, s.phase, s.energy), p.target)), relaxation=what)

    def shift(self, p: Pending, q: int) -> Resplit:
        s, nxt = p.slot, self.queue[0]
        return Resplit((Pending(Slot(s.start, q, s.phase, s.energy), p.target),
                        Pending(Slot(q, nxt.slot.end, nxt.slot.phase, nxt.slot.energy), nxt.target)),
                       takes_next=True, relaxation="shift")

    def split_or_shift(self, p: Pending, fit: int) -> Resplit | None:
        """Split the slot on a cut point where ``fit`` frames fit, or move its end."""
        q = self.split_point(p.slot, self.points, fit, short=False)
        if q is not None:
            return self.split(p, q)
        q = self.shift_point(p.slot, fit)
        return self.shift(p, q) if q is not None else None

    def strict(self) -> list[tuple[str, int | None]]:
        """The candidates of the style's own choice: shots from the cursor on (chronological,
        each after its last piece) or every planned shot."""
        if self.chrono:
            return [(self.all_ids[k], self.last_end.get(self.all_ids[k])) for k in range(self.cursor, len(self.all_ids))]
        return [(i, None) for i in self.plan.shot_ids]

    def back(self) -> list[tuple[str, int | None]]:
        """Shots already passed in chronological order, nearest first."""
        if not self.chrono or not self.all_ids:
            return []
        return [(self.all_ids[k], None) for k in range(min(self.cursor, len(self.all_ids) - 1), -1, -1)]

    def can_hold(self, p: Pending, sid: str) -> bool:
        """The last cut shows ``sid`` and can simply go on through slot ``p`` (its next
        frames unused, the longer shot within the style's longest, and it has not gone on
        through a slot already)."""
        if not self.cuts or not self.history or self.history[-1] != sid or p.slot.start != self.cuts[-1].record_out:
            return False
        if self.cuts[-1].record_in in self.held:  # once: a cut lasts at most two slots, the pace holds
            return False
        c = self.cuts[-1]
        a, s = self.ids[sid]
        sr = Fraction(a.media.video.rate)
        if p.slot.end - c.record_in > self.max_rec:
            return False
        old_end = c.source_in + math.ceil(Fraction(c.record_frames) * sr / self.rate)
        new_end = c.source_in + math.ceil(Fraction(p.slot.end - c.record_in) * sr / self.rate)
        return new_end <= s.usable_end_frame and not self.used[a.path][old_end:new_end].any()

    def hold(self, p: Pending) -> None:
        """Let the last cut run on through slot ``p`` (see :meth:`can_hold`)."""
        c = self.cuts[-1]
        sid = self.history[-1]
        a, _ = self.ids[sid]
        sr = Fraction(a.media.video.rate)
        new_end = c.source_in + math.ceil(Fraction(p.slot.end - c.record_in) * sr / self.rate)
        self.used[a.path][c.source_in:new_end] = True
        self.last_end[sid] = max(self.last_end.get(sid, 0), new_end)
        self.cuts[-1] = replace(c, record_out=p.slot.end)
        self.held.add(c.record_in)
        self.relaxed["held"] += 1

    # ------------------------------------------------------------------ result
    def place(self, p: Pending, pick: Pick) -> None:
        """Record ``pick`` as the cut of slot ``p``."""
        slot, sid, a, s, sr = p.slot, pick.sid, pick.analysis, pick.shot, pick.source_rate
        if pick.relaxation:
            self.relaxed[pick.relaxation] += 1
        if self.uses[sid] and pick.source_in < self.last_end.get(sid, 0):
            self.relaxed["out of order"] += 1
        self.used[a.path][pick.source_in:pick.source_in + pick.length] = True
        self.last_end[sid] = max(self.last_end.get(sid, 0), pick.source_in + pick.length)
        self.fresh.discard(sid)
        reused = self.uses[sid] > 0
        self.uses[sid] += 1
        why = self.plan.reasons.get(sid, "")
        if sid in self.exclude:
            why = "near-duplicate of a better shot: the other footage ran out"
            self.relaxed["duplicate"] += 1
        elif sid not in self.planned:
            short = Fraction(s.usable_end_frame - s.usable_start_frame) / sr < _frac(self.style.min_shot_s)
            why = "not in the plan" + (" (shorter than the style's shortest shot)" if short else "")
            self.relaxed["unplanned"] += 1
        elif self.home.get(sid) != slot.phase:
            why = f"from {self.home.get(sid, 'the plan')}: {why}"
            self.relaxed["other phase"] += 1
        if reused:
            why += " (shot again, new frames)"
        if slot.start in self.went_back:
            why += " (back in time: unused earlier frames)"
        self.cuts.append(Cut(record_in=slot.start, record_out=slot.end, source_path=a.path, source_rate=sr,
                             source_in=int(pick.source_in), shot_index=s.index, score=pick.score, phase=slot.phase,
                             reason=f"{slot.phase}: {why}; best moment {pick.score:.2f}"))
        self.history.append(sid)
        self.prev_path = a.path
