"""A cut the footage cannot hold at the style's pace ends earlier rather than chopping the style.

:func:`shortened_if_needed` makes the cut of the length asked; when the footage cannot fill
it (or holds the style's takes only over a shorter cut) it tries shorter cuts, each ending
on a phrase or bar :func:`~.fit.fit_duration` picks, and says so in the notes. When no
shorter cut keeps the style, the cut of the length asked is made relaxed (its takes capped
alike over every phase); for the whole song (no length asked) a relaxed cut that still chops
a held phase gives way to the longest shorter one, down to half (:data:`HELD_FLOOR` when none
down to half does), that keeps every phase and its promise (:func:`_held_shorter`); where the
song's lead-in is shorter than the style's shortest shot, such a cut may start on its first
downbeat instead (a first take over the lead-in that no usable shot holds would leave the
lead-in a flash of its own). Before that, for the whole song, a cut down to half
(the first bar at or after it tried last), every phase shortened alike (:data:`KEPT`), that
holds the style's own takes is preferred to one whose takes are capped and miss them
(:func:`_kept_or_capped`); never where a phase wants takes longer than any usable shot (no
shorter cut holds those: the cap stays, and its note says so).
"""

from __future__ import annotations

import logging

from montage_ai.core.analysis.music import MusicAnalysis
from montage_ai.core.cut.fit import DurationError, duration_range, fit_duration
from montage_ai.core.cut.grid import FootageShortError
from montage_ai.core.cut.pace import PACE_TOLERANCE
from montage_ai.core.model.cutlist import CutList

log = logging.getLogger(__name__)

__all__ = ["shortened_if_needed", "TakesShort", "PaceShort", "SHORTER", "KEPT", "HELD", "SHORTEN_TRIES", "SHORTEN_FLOOR",
           "PACE_SHORTEN_FLOOR", "HELD_STEP", "HELD_FLOOR"]


#: How many times a cut the footage cannot fill is tried again shorter.
SHORTEN_TRIES = 6
#: ... but never to less than this share of the length asked (then the error says what is missing).
SHORTEN_FLOOR = 0.5
#: A cut the footage fills, but not at the style's pace, ends earlier by at most this share of
#: the length asked; beyond, its takes are capped alike over every phase instead.
PACE_SHORTEN_FLOOR = 0.75


class TakesShort(FootageShortError):
    """The footage fills the cut only with takes shorter than the style's shortest shot
    (a held phase would be chopped): shorten the cut if that keeps the style, else cut as
    before with the relaxations noted."""


#: ``strict`` for a cut tried shorter than asked: kept only when every phase keeps the style's pace.
SHORTER = "shorter"
#: ``strict`` for the whole song tried shorter than the ending a quarter earlier allows: kept
#: only when every phase, each shortened alike, keeps the style's own pace (:data:`SHORTER`)
#: with a take of its own; preferred to capping every take at what the footage holds.
KEPT = "kept"
#: ``strict`` for a cut made shorter than asked so that the footage holds its (capped) takes:
#: relaxed like ``False``, but every phase shortened alike however short the cut.
HELD = "held"


class PaceShort(TakesShort):
    """The fill came out with a phase's mean take short of the style's own target (the
    footage ran out, or its takes had to be capped): a shorter cut may keep the style."""


def shortened_if_needed(make, music: MusicAnalysis, duration_s: float | None, deep: bool = False, lead_in=None):
    """``make(duration_s)``; when the footage is too short for it (or holds the style's
    takes only over a shorter cut), the cut ends earlier (on a phrase or bar
    :func:`~.fit.fit_duration` picks, shorter by what was missing) rather than chopping the
    style, with a note. Raises the last :class:`FootageShortError` when a cut of
    :data:`SHORTEN_FLOOR` of the length asked cannot be filled either; when only the takes
    were short, the cut of the length asked (else the longest the footage fills) is made
    with its takes capped alike over every phase and the style relaxed (noted); with ``deep``,
    when that relaxed cut still chops a phase, a shorter one that does not (:func:`_held_shorter`;
    ``lead_in``: ``(make, music)`` of the song from its first downbeat on, tried there too)."""
    asked = fit_duration(music, duration_s).duration_s
    want = asked
    first: FootageShortError | None = None
    fillable: float | None = None  # the longest length tried that the footage fills, at a shorter pace

    def fillable_only(err) -> bool:  # the length asked cannot be filled at all: shorten as far as need be
        return not isinstance(err, TakesShort)

    def give_up():
        if isinstance(first, TakesShort):  # no shorter cut keeps the takes: the full cut, relaxed
            try:
                full = make(duration_s, False)
            except FootageShortError:
                if fillable is None:
                    raise
            else:
                return (_held_shorter(make, music, asked, full, lead_in) if deep else None) or full
        if fillable is not None:  # the full length cannot be filled; this one can, its takes capped
            cl, notes = make(fillable, False)
            return (_held_shorter(make, music, asked, (cl, notes), lead_in) if deep else None) or \
                (cl, notes + [_shorter_note(cl, asked)])
        raise first from None

    def mode(length: float) -> str:  # the whole song shortened past a quarter for the style's pace keeps every phase
        if deep and isinstance(first, PaceShort) and length < PACE_SHORTEN_FLOOR * asked - 1e-6:
            return KEPT
        return SHORTER

    for attempt in range(SHORTEN_TRIES + 1):
        try:
            cl, notes = make(duration_s, True) if attempt == 0 else make(want, mode(want))
        except FootageShortError as exc:
            log.debug("attempt %d at %.1f s (%s): %s", attempt, want, mode(want) if attempt else "strict", exc)
            first = first or exc  # the error to report is the one for the length asked
            if isinstance(exc, PaceShort) and fillable is None and attempt:
                fillable = want
            # a length the editor asked for ends at most a quarter earlier for the style's pace; the
            # whole song (``deep``) down to half, before its takes are capped
            floor = (PACE_SHORTEN_FLOOR if isinstance(exc, PaceShort) and not fillable_only(first) and not deep
                     else SHORTEN_FLOOR) * asked
            # the first bar at or after the floor: the shortest cut allowed
            last = min((d for d in music.downbeat_times_s if floor - 1e-6 <= d < want - 1e-6), default=None)
            if attempt == SHORTEN_TRIES or last is None:
                return give_up()
            shorter = max(want - max(exc.missing_s, duration_range(music)[0]), floor, duration_range(music)[0])
            try:
                fitted = fit_duration(music, shorter).duration_s
            except DurationError:
                return give_up()
            if fitted >= want - 1e-6:  # the fit snapped back: the bar before instead
                fitted = max((d for d in music.downbeat_times_s if 0 < d < want - 1e-6), default=0.0)
            if fitted < floor - 1e-6 or fitted <= 0 or attempt == SHORTEN_TRIES - 1:
                fitted = last  # below the floor (or the last try): the shortest cut allowed
            want = fitted
            log.info("footage short by %.1f s: trying a %.1f s cut", exc.missing_s, want)
            continue
        if attempt and mode(want) == KEPT:
            return _kept_or_capped(cl, notes, give_up, asked)
        if attempt:
            notes = notes + [_shorter_note(cl, asked)]
        return cl, notes
    raise AssertionError("unreachable")


def _kept_or_capped(cl: CutList, notes: list[str], capped, asked: float) -> tuple[CutList, list[str]]:
    """``cl``, the whole song ended earlier (:data:`KEPT`: every phase at the style's own pace),
    unless ``capped()`` (the longer cut, relaxed) is not capped at all, or is but still keeps
    the style's own target within :data:`~.pace.PACE_TOLERANCE` on average over its phases:
    a shorter cut is preferred only over a cap that loses the style."""
    try:
        full = capped()
    except FootageShortError:
        full = None
    if full is not None and (not full[0].metadata.get("hold_s") or
                             full[0].metadata.get("style_off", 0.0) <= PACE_TOLERANCE):
        return full  # not capped (the fill's spread, not the footage's length), or capped and still on target
    why = ""
    if full is not None and full[0].metadata.get("hold_s"):
        why = (f", rather than capping every take at {float(full[0].metadata['hold_s']):.1f} s over "
               f"{float(full[0].duration / full[0].rate):.1f} s")
    mean = float(sum(c.record_frames for c in cl.cuts) / max(1, len(cl.cuts)) / cl.rate)
    return cl, notes + [
        f"the footage holds the style's own takes ({len(cl.cuts)} of {mean:.1f} s on average) over "
        f"{float(cl.duration / cl.rate):.1f} s, not {asked:.1f} s: the cut ends earlier, every phase shortened "
        f"alike{why} (add footage for the full length)"]


#: A cut whose takes the footage holds only capped and still chopped ends earlier in steps of
#: this share of the length asked (down to :data:`SHORTEN_FLOOR`).
HELD_STEP = 0.1


def _held_shorter(make, music: MusicAnalysis, asked: float, full: tuple[CutList, list[str]], lead_in=None):
    """``full``: the cut of the length asked (or the longest the footage fills) and its
    notes, relaxed (every phase's takes capped at what the footage holds). When a phase still misses that promise by more
    than :data:`~.pace.PACE_TOLERANCE` (the fill chopped a held phase where the long pieces
    ran out), the longest shorter cut, every phase shortened alike, in steps of
    :data:`HELD_STEP` of ``asked`` down to :data:`SHORTEN_FLOOR`, that keeps every phase and
    its promise; None when the full cut keeps it or no shorter one does.

    ``lead_in``: ``(make, music)`` of the song from its first downbeat on (a lead-in shorter
    than the style's shortest take before it). When no shorter cut from the song's start keeps
    the promise, the same lengths are tried from that downbeat before a cut kept only at the
    footage's stated limit: a first take over the lead-in and its first bars may be longer
    than any usable shot, and the lead-in then gets a shot of its own, a flash under the
    style's shortest take (the demo's 0.29 s before wedding's two-bar takes of 4 s, against
    its longest usable shot of 4.2 s)."""
    cl = full[0]
    if _kept_promise(cl):
        return None
    songs = ((make, music),) + ((lead_in,) if lead_in is not None else ())
    limited = None  # the first (longest) kept only at the footage's stated limit (:func:`_kept_promise`)
    for mk, song in songs:
        kept, at_limit = _held_lengths(mk, song, asked, cl, SHORTEN_FLOOR, 1.0)
        if kept is not None:
            return kept
        limited = limited or at_limit
    if limited is not None:  # none keeps the style's own takes too: the longest that keeps the footage's stated limit
        return limited
    # nothing down to half the song holds the style's shortest takes in every phase: shorter still
    for mk, song in songs:
        kept, at_limit = _held_lengths(mk, song, asked, cl, HELD_FLOOR, SHORTEN_FLOOR)
        if kept is not None:
            return kept
        limited = limited or at_limit
    return limited


#: Where no cut down to :data:`SHORTEN_FLOOR` of the song keeps a held phase from being chopped
#: (the footage has too few long shots for the style's shortest takes), :func:`_held_shorter`
#: goes on down to this share of it: wedding's two-bar takes of 4 s from the demo's five shots
#: of 4 s are a 20 s cut, not 41 s with half its takes cut to one 2 s bar.
HELD_FLOOR = 0.3


def _held_lengths(make, music: MusicAnalysis, asked: float, cl: CutList, low: float, high: float):
    """``(kept, limited)`` of :func:`_held_shorter` for the cuts ``make`` makes to ``music``,
    from under ``high`` down to ``low`` of ``asked`` in steps of :data:`HELD_STEP`: the longest
    shorter than ``cl`` that keeps every phase and its promise, and the longest kept only at the
    footage's stated limit (each with its notes, or None). ``high`` itself is tried too (a length
    there that fits under ``low`` of a pass before)."""
    lo = low * asked
    seen: set[float] = set()
    limited = None
    for k in range(int(round((1 - high) / HELD_STEP)), int(round((1 - low) / HELD_STEP)) + 1):
        try:
            length = fit_duration(music, max(asked * (1 - HELD_STEP * k), lo)).duration_s
        except DurationError:
            break
        if length < lo - 1e-6 or length >= min(float(cl.duration / cl.rate), high * asked + 1e-6) - 1e-6 \
                or round(length, 3) in seen:
            continue
        seen.add(round(length, 3))
        try:
            short, short_notes = make(length, HELD)
        except FootageShortError as exc:
            log.debug("held shorter at %.1f s: %s", length, exc)
            continue
        log.debug("held shorter at %.1f s: cap %s, pace off %.2f, chopped %.2f, mean off %.2f, style off %.2f",
                  length, short.metadata.get("hold_s"), short.metadata.get("pace_off", 0.0),
                  short.metadata.get("pace_chopped", 0.0), short.metadata.get("pace_mean_off", 0.0),
                  short.metadata.get("style_off", 0.0))
        # no phase chopped short of its promise, the phases on it on average (a phase of one
        # take a bar longer than its target is not a chopped one), and every story phase of the
        # full cut still there (none too short to hold a take)
        if {c.phase for c in short.cuts} >= {c.phase for c in cl.cuts}:
            if _kept_promise(short):
                return (short, short_notes + [_held_note(short, asked)]), limited
            if limited is None and _kept_promise(short, at_limit=True):
                limited = short, short_notes + [_held_note(short, asked)]
    return None, limited


def _kept_promise(cl: CutList, at_limit: bool = False) -> bool:
    """Every phase of ``cl`` within :data:`~.pace.PACE_TOLERANCE` of its promised take
    (``pace_off``); or none more than that short of it (none chopped: a phase of one take a
    bar longer than its target is not), the phases within it on average, and on the style's
    own target on average (``style_off``: a cap does not stand in for the style).

    ``at_limit``: where no usable shot is as long as the style's takes (``hold_limit``) and the
    takes are capped, the cap is the footage's stated limit and no cut keeps the style's own
    (the demo's 4.2 s shots for documentary's 7 s): then no phase chopped short of the cap nor
    the phases off it on average, a phase that holds no whole number of the capped takes
    measured at the whole takes nearest (``pace_chopped_whole``, ``pace_mean_off_whole``),
    whatever the style's own target. :func:`_held_shorter` takes such a cut only when no
    shorter one keeps the promise without it."""
    md = cl.metadata
    if md.get("pace_off", 0.0) <= PACE_TOLERANCE:
        return True
    if at_limit:
        return bool(md.get("hold_limit")) and bool(md.get("hold_s")) and \
            md.get("pace_chopped_whole", 1.0) <= PACE_TOLERANCE and md.get("pace_mean_off_whole", 1.0) <= PACE_TOLERANCE
    return "pace_chopped" in md and md["pace_chopped"] <= PACE_TOLERANCE and \
        md.get("pace_mean_off", 1.0) <= PACE_TOLERANCE and md.get("style_off", 1.0) <= PACE_TOLERANCE


def _held_note(cl: CutList, asked: float) -> str:
    mean = float(sum(c.record_frames for c in cl.cuts) / max(1, len(cl.cuts)) / cl.rate)
    takes = f"{len(cl.cuts)} takes of {mean:.1f} s on average at the pace it promises"
    return (f"the footage holds {takes}: the cut ends earlier, {float(cl.duration / cl.rate):.1f} s instead of {asked:.1f} s, "
            "every phase shortened alike, so no "
            "held phase is chopped where the long shots ran out (add footage for the full length)")


def _shorter_note(cl: CutList, asked: float) -> str:
    return (f"the footage fills {float(cl.duration / cl.rate):.1f} s of this style, not {asked:.1f} s: the cut ends "
            "earlier, on a bar, instead of chopping (or stretching) the style's shots (add footage for the full length)")
