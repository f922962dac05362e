"""An editor's changes to a rough cut, as pure functions over the cut list.

Each edit takes a :class:`~montage_ai.core.model.cutlist.CutList` and returns a new one (the
old one is untouched, so an undo is keeping the old value): swap a cut for the next-best shot,
exclude a shot from the project (every cut that uses it is swapped), lengthen or shorten a
cut by a beat (a roll edit: the neighbour gives or takes the frames, the cut's length stays
the music's), and put locked cuts back in place on a cut re-rolled around them.

:class:`EditHistory` is the undo/redo stack over whole cut lists, edits and re-rolls alike.

Positions stay whole frames: a change of ``k`` record frames moves a source by
``round(k * source_rate / rate)`` of its own frames.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Iterable, Mapping, Sequence

import numpy as np

from montage_ai.core.analysis.footage import FootageAnalysis, Shot, quality_curve
from montage_ai.core.base.errors import MontageError
from montage_ai.core.model.cutlist import Cut, CutList

ShotKey = tuple[str, int]


class EditError(MontageError):
    """An edit that cannot be made, with the reason in words."""


def shot_key(cut: Cut) -> ShotKey:
    return (cut.source_path, cut.shot_index)


def _source_frames(cut: Cut, record_frames: int, rate: Fraction) -> int:
    """Whole source frames that ``record_frames`` of the timeline cover in ``cut``'s source."""
    return int(round(Fraction(record_frames) * cut.source_rate / rate))


def _shots(analyses: Iterable[FootageAnalysis]) -> dict[ShotKey, tuple[FootageAnalysis, Shot]]:
    return {(a.path, s.index): (a, s) for a in analyses for s in a.shots}


@dataclass(frozen=True)
class Candidate:
    """A shot that could fill a cut: where its window starts and how good the window is."""

    path: str
    shot_index: int
    source_rate: Fraction
    source_in: int
    score: float


def _best_window(shot: Shot, length: int, busy: Sequence[tuple[int, int]] = ()) -> tuple[int, float] | None:
    """``(source_in, score)`` of the best ``length``-frame window of the shot's usable range
    that overlaps none of the ``busy`` source ranges (frames other cuts show)."""
    us, ue = shot.usable_start_frame, shot.usable_end_frame
    if length <= 0 or ue - us < length:
        return None
    q, _bad = quality_curve(shot, us, ue)
    c = np.concatenate(([0.0], np.cumsum(np.asarray(q, float))))
    means = (c[length:] - c[:-length]) / length
    starts = np.arange(us, ue - length + 1)
    for lo, hi in busy:
        means = np.where((starts < hi) & (starts + length > lo), -np.inf, means)
    i = int(np.argmax(means))
    if not np.isfinite(means[i]):
        return None
    return us + i, round(float(means[i]), 4)


def candidates(cut_list: CutList, index: int, analyses: Sequence[FootageAnalysis], *,
               excluded: Iterable[ShotKey] = ()) -> list[Candidate]:
    """Every shot that can fill cut ``index`` at its length, best first: not black, not
    excluded, long enough. Shots no other cut uses come first (the cut's own shot among
    them); then shots other cuts use, at windows that show none of their frames."""
    cut = cut_list.cuts[index]
    banned = set(excluded)
    busy: dict[ShotKey, list[tuple[int, int]]] = {}
    for i, c in enumerate(cut_list.cuts):
        if i != index:
            out = int(np.ceil(c.source_out(cut_list.rate)))
            busy.setdefault(shot_key(c), []).append((c.source_in, out))
    fresh: list[Candidate] = []
    reused: list[Candidate] = []
    for a in analyses:
        rate = a.media.video.rate if a.media.video is not None else cut.source_rate
        length = int(round(Fraction(cut.record_frames) * Fraction(rate) / cut_list.rate))
        for s in a.shots:
            key = (a.path, s.index)
            if s.black or key in banned:
                continue
            window = _best_window(s, length, busy.get(key, ()))
            if window is not None:
                (reused if key in busy else fresh).append(Candidate(a.path, s.index, Fraction(rate), *window))
    order = lambda c: (-c.score, c.path, c.shot_index)  # noqa: E731
    return sorted(fresh, key=order) + sorted(reused, key=order)


def _with_cut(cut_list: CutList, index: int, cut: Cut) -> CutList:
    cuts = list(cut_list.cuts)
    cuts[index] = cut
    return replace(cut_list, cuts=tuple(cuts))


def swap(cut_list: CutList, index: int, analyses: Sequence[FootageAnalysis], *,
         excluded: Iterable[ShotKey] = (), reason: str = "swapped for the next-best shot") -> CutList:
    """Cut ``index`` filled by the next shot in :func:`candidates` order after the one it
    uses now (so swapping again steps on through the candidates)."""
    cut = cut_list.cuts[index]
    ranked = candidates(cut_list, index, analyses, excluded=excluded)
    others = [c for c in ranked if (c.path, c.shot_index) != shot_key(cut)]
    if not others:
        raise EditError(f"no other shot is long enough ({float(cut.record_frames / cut_list.rate):.2f} s) "
                        "and unused to replace this cut")
    keys = [(c.path, c.shot_index) for c in ranked]
    if shot_key(cut) in keys:
        pos = keys.index(shot_key(cut))
        after = [c for c in ranked[pos + 1:]] or others
        choice = after[0]
    else:
        choice = others[0]
    new = replace(cut, source_path=choice.path, source_rate=choice.source_rate, source_in=choice.source_in,
                  shot_index=choice.shot_index, score=choice.score, reason=reason)
    return _with_cut(cut_list, index, new)


def exclude(cut_list: CutList, key: ShotKey, analyses: Sequence[FootageAnalysis], *,
            excluded: Iterable[ShotKey] = ()) -> CutList:
    """Every cut using shot ``key`` swapped for the best shot that is neither excluded
    (``excluded`` plus ``key``) nor used elsewhere."""
    banned = set(excluded) | {key}
    out = cut_list
    for i, cut in enumerate(cut_list.cuts):
        if shot_key(cut) != key:
            continue
        ranked = candidates(out, i, analyses, excluded=banned)
        if not ranked:
            raise EditError(f"{key[0]} shot {key[1]} is the only footage long enough for the cut at "
                            f"{float(cut.record_in / cut_list.rate):.2f} s: nothing can replace it")
        c = ranked[0]
        out = _with_cut(out, i, replace(cut, source_path=c.path, source_rate=c.source_rate, source_in=c.source_in,
                                        shot_index=c.shot_index, score=c.score,
                                        reason="best shot left after an exclusion"))
    return out


def _beat_after(cut_list: CutList, frame: int) -> int | None:
    later = [b for b in cut_list.beats if b > frame]
    return min(later) if later else None


def _beat_before(cut_list: CutList, frame: int) -> int | None:
    earlier = [b for b in cut_list.beats if b < frame]
    return max(earlier) if earlier else None


def _source_room(cut: Cut, shots: Mapping[ShotKey, tuple[FootageAnalysis, Shot]]) -> tuple[int, int]:
    """``(first, end)`` source frames the cut's shot offers (its whole file when unknown)."""
    found = shots.get(shot_key(cut))
    if found is None:
        return 0, 1 << 40
    return found[1].start_frame, found[1].end_frame


def _fit_source(cut: Cut, wanted_in: int, frames: int, shots, rate: Fraction) -> int:
    """Where ``frames`` source frames of the cut's shot start: at ``wanted_in`` when the shot
    has them there, else as near as it allows (a slip inside the shot)."""
    first, end = _source_room(cut, shots)
    if frames > end - first:
        raise EditError(f"the shot of the cut at {float(cut.record_in / rate):.2f} s is too short for that "
                        f"({end - first} frames, {frames} needed)")
    return min(max(wanted_in, first), end - frames)


def trim(cut_list: CutList, index: int, beats: int, analyses: Sequence[FootageAnalysis] = ()) -> CutList:
    """Move the end of cut ``index`` by ``beats`` beats (positive: longer), rolling the next
    cut's start with it; the last cut moves its start instead (a roll with the one before).
    A cut that would run past its shot's end (or start) slips inside the shot to fit."""
    if not beats or not cut_list.cuts:
        return cut_list
    shots = _shots(analyses)
    last = index == len(cut_list.cuts) - 1
    if last and len(cut_list.cuts) == 1:
        raise EditError("a cut of one clip lasts as long as the music: there is nothing to roll against")
    left, right = (index - 1, index) if last else (index, index + 1)
    a, b = cut_list.cuts[left], cut_list.cuts[right]
    edit = b.record_in
    grow_left = beats > 0 if not last else beats < 0
    for _ in range(abs(beats)):
        nxt = _beat_after(cut_list, edit) if grow_left else _beat_before(cut_list, edit)
        if nxt is None:
            raise EditError("there is no beat further that way inside the cut")
        edit = nxt
    if edit <= a.record_in or edit >= b.record_out:
        raise EditError("that would leave the neighbouring cut with no frames: choose a smaller change")
    delta = edit - b.record_in
    a_in = _fit_source(a, a.source_in, _source_frames(a, edit - a.record_in, cut_list.rate), shots, cut_list.rate)
    b_in = _fit_source(b, b.source_in + _source_frames(b, delta, cut_list.rate),
                       _source_frames(b, b.record_out - edit, cut_list.rate), shots, cut_list.rate)
    cuts = list(cut_list.cuts)
    cuts[left] = replace(a, record_out=edit, source_in=a_in)
    cuts[right] = replace(b, record_in=edit, source_in=b_in)
    return replace(cut_list, cuts=tuple(cuts))


def keep_locked(cut_list: CutList, locked: Iterable[Cut]) -> CutList:
    """``cut_list`` (a re-roll) with each ``locked`` cut back at its record position: the
    re-rolled cuts it overlaps are trimmed to the frames around it (their heads move on in
    their sources), those it covers are dropped. Locked cuts outside the cut are ignored."""
    locks = sorted((c for c in locked if c.record_out <= cut_list.duration), key=lambda c: c.record_in)
    for x, y in zip(locks, locks[1:]):
        if y.record_in < x.record_out:
            raise EditError("two locked cuts overlap")
    if not locks:
        return cut_list
    out: list[Cut] = []
    pending = list(locks)
    for cut in cut_list.cuts:
        pieces = [(cut.record_in, cut.record_out)]
        for lock in locks:
            nxt = []
            for lo, hi in pieces:
                if lock.record_out <= lo or lock.record_in >= hi:
                    nxt.append((lo, hi))
                    continue
                if lo < lock.record_in:
                    nxt.append((lo, lock.record_in))
                if lock.record_out < hi:
                    nxt.append((lock.record_out, hi))
            pieces = nxt
        for lo, hi in pieces:
            while pending and pending[0].record_in <= lo:
                out.append(pending.pop(0))
            head = _source_frames(cut, lo - cut.record_in, cut_list.rate)
            out.append(replace(cut, record_in=lo, record_out=hi, source_in=cut.source_in + head))
    out.extend(pending)
    out.sort(key=lambda c: c.record_in)
    return replace(cut_list, cuts=tuple(out))


@dataclass(frozen=True)
class Version:
    """One state of the cut in the history: the cut list and what made it."""

    cut_list: CutList
    label: str
    at: float = field(default_factory=time.time)


class EditHistory:
    """Undo/redo over whole cut lists. :meth:`push` after each edit or re-roll; a push after
    an undo drops the undone states (as every editor's undo does)."""

    def __init__(self) -> None:
        self._states: list[Version] = []
        self._pos = -1

    def push(self, cut_list: CutList, label: str) -> Version:
        del self._states[self._pos + 1:]
        version = Version(cut_list, label)
        self._states.append(version)
        self._pos = len(self._states) - 1
        return version

    @property
    def current(self) -> Version | None:
        return self._states[self._pos] if self._pos >= 0 else None

    def can_undo(self) -> bool:
        return self._pos > 0

    def can_redo(self) -> bool:
        return self._pos < len(self._states) - 1

    def undo(self) -> Version:
        if not self.can_undo():
            raise EditError("nothing to undo")
        self._pos -= 1
        return self._states[self._pos]

    def redo(self) -> Version:
        if not self.can_redo():
            raise EditError("nothing to redo")
        self._pos += 1
        return self._states[self._pos]

    def versions(self) -> list[Version]:
        return list(self._states)

    @property
    def position(self) -> int:
        return self._pos

    def go_to(self, index: int) -> Version:
        """Back (or forward) to version ``index``, as a new state just after the one shown: no
        version is dropped, and Undo returns to the one shown before."""
        chosen = self._states[index]
        version = Version(chosen.cut_list, f"back to: {chosen.label}")
        self._states.insert(self._pos + 1, version)
        self._pos += 1
        return version
