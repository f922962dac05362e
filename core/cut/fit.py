"""Music fitted to the picture: which part of the song plays, and where the cut ends.

An editor never leaves the song running past the last picture frame, and never stops it in
the middle of a bar. This module decides, before the cut is assembled:

- **The part of the song** (:func:`song_excerpt`): ``--song-start`` / ``--song-end`` in
  seconds (``"42.5"``, ``"1:05"``) or a section label of the music analysis (``"B"``: the
  start, or the end, of the first section so labelled). The start snaps to the nearest
  downbeat so the cut opens on a bar. The result is a :class:`MusicExcerpt`: the same
  analysis with every time counted from the excerpt's start, plus where that start lies
  in the file (``offset_s``), which the timeline's A1 clip uses as its source in.
- **The cut's length** (:func:`fit_duration`): a ``--duration`` is checked against what the
  excerpt allows (:class:`DurationError`, one line with the range that works), then moved
  to the song's own ending when that is within a bar and 10 % of it and the excerpt runs
  to the end of the file (no fade needed), else to the nearest phrase boundary (every
  fourth bar from the first downbeat, or a section change) within a bar and 10 %, else to
  the nearest bar.

>>> m = MusicAnalysis("m.wav", 40.0, 22050, 120.0, 4, tuple(i / 2 for i in range(80)),
...                   tuple(float(2 * i) for i in range(20)), (1.0,) * 80, ())
>>> fit_duration(m, 17.4).duration_s     # phrases every 8 s: 16 s is within a bar of 17.4
16.0
>>> fit_duration(m, 39.0).fades          # within a bar (and 10 %) of the song's end: the song ends itself
False
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from typing import Sequence

from montage_ai.core.analysis.music import MusicAnalysis, Section
from montage_ai.core.base.errors import MontageError
from montage_ai.core.base.timebase import seconds_to_frames

__all__ = ["MusicExcerpt", "Fit", "DurationError", "SongRangeError", "song_excerpt", "fit_duration",
           "parse_song_point", "PHRASE_BARS", "excerpt_on_frame"]

#: Bars per phrase: the cut prefers to end where a phrase ends.
PHRASE_BARS = 4
#: A phrase boundary wins over the nearest bar when within one bar and this share of the
#: duration asked (17.4 s -> 16 s; 14 s stays 14 s rather than 16 s).
PHRASE_SLACK = 0.1
#: Durations within this of the range's ends are accepted (half a frame at 24 fps).
HALF_FRAME_S = 1 / 48


class DurationError(MontageError):
    """A ``--duration`` the song cannot give; the message has the range that works."""


class SongRangeError(MontageError):
    """``--song-start`` / ``--song-end`` name no part of the song."""


@dataclass(frozen=True)
class MusicExcerpt(MusicAnalysis):
    """A part of a song, its times counted from the part's start.

    ``offset_s`` is where the part starts in the file; ``song_duration_s`` the whole file's
    length (the part ends with the song when ``offset_s + duration_s`` reaches it).
    """

    offset_s: float = 0.0
    song_duration_s: float = 0.0

    @property
    def ends_with_song(self) -> bool:
        return self.offset_s + self.duration_s >= self.song_duration_s - 1e-6


@dataclass(frozen=True)
class Fit:
    """Where the cut ends: ``duration_s`` from the excerpt's start, whether the music fades
    out there, and the sentence that says why (for the cut list's notes)."""

    duration_s: float
    fades: bool
    note: str = ""


def _offset(music: MusicAnalysis) -> float:
    return float(getattr(music, "offset_s", 0.0))


def _ends_with_song(music: MusicAnalysis) -> bool:
    return bool(getattr(music, "ends_with_song", True))


def parse_song_point(text: str, music: MusicAnalysis, *, end: bool = False, option: str = "--song-start") -> float:
    """Seconds into the song of ``text``: seconds (``"42.5"``), ``m:ss`` (``"1:05.5"``) or a
    section label (its start, or its end when ``end``).

    >>> m = MusicAnalysis("m.wav", 30.0, 22050, 120.0, 4, (), (), (), (Section(0, 10, "A", .3), Section(10, 30, "B", .8)))
    >>> parse_song_point("B", m), parse_song_point("A", m, end=True), parse_song_point("0:12.5", m)
    (10.0, 10.0, 12.5)
    """
    value = text.strip()
    m = re.fullmatch(r"(?:(\d+):)?(\d+(?:\.\d*)?)", value)
    if m:
        return float(m.group(1) or 0) * 60 + float(m.group(2))
    section = next((s for s in music.sections if s.label.lower() == value.lower()), None)
    if section is None:
        labels = ", ".join(dict.fromkeys(s.label for s in music.sections)) or "none found"
        raise SongRangeError(f"{option} {text!r}: not seconds (42.5 or 1:05) and not a section of {music.path} "
                             f"(sections: {labels})")
    return float(section.end_s if end else section.start_s)


def _shift(times: Sequence[float], start: float, end: float) -> tuple[float, ...]:
    return tuple(round(t - start, 6) for t in times if start - 1e-6 <= t < end)


def song_excerpt(music: MusicAnalysis, start: str | float | None = None, end: str | float | None = None) -> MusicExcerpt:
    """The part of ``music`` from ``start`` to ``end`` (seconds or section labels; default the
    whole song), its start snapped to the nearest downbeat.

    Raises :class:`SongRangeError` for a start at or after the end or outside the song.
    """
    dur = float(music.duration_s)
    a = 0.0 if start is None else (float(start) if isinstance(start, (int, float))
                                   else parse_song_point(start, music, option="--song-start"))
    b = dur if end is None else (float(end) if isinstance(end, (int, float))
                                 else parse_song_point(end, music, end=True, option="--song-end"))
    if not 0 <= a < dur:
        raise SongRangeError(f"--song-start {a:g} s: {music.path} lasts {dur:.2f} s; start between 0 and {dur:.2f} s")
    if not 0 < b <= dur + 1e-6:
        raise SongRangeError(f"--song-end {b:g} s: {music.path} lasts {dur:.2f} s; end between 0 and {dur:.2f} s")
    if a > 0 and music.downbeat_times_s:
        downs = list(music.downbeat_times_s)
        k = bisect.bisect_left(downs, a)
        near = [downs[i] for i in (k - 1, k) if 0 <= i < len(downs)]
        a = min(near, key=lambda d: (abs(d - a), d))
    b = min(b, dur)
    if b <= a:
        raise SongRangeError(f"--song-start {a:.2f} s is not before --song-end {b:.2f} s in {music.path}")
    n = len(music.beat_times_s)
    keep = [i for i, t in enumerate(music.beat_times_s) if a - 1e-6 <= t < b]
    energy = tuple(music.beat_energy[i] for i in keep if i < len(music.beat_energy)) if n else ()
    sections = tuple(Section(round(max(s.start_s, a) - a, 6), round(min(s.end_s, b) - a, 6), s.label, s.energy)
                     for s in music.sections if s.end_s > a and s.start_s < b)
    base = {f.name: getattr(music, f.name) for f in fields(MusicAnalysis)}
    base.update(duration_s=round(b - a, 6), beat_times_s=_shift(music.beat_times_s, a, b),
                downbeat_times_s=_shift(music.downbeat_times_s, a, b), beat_energy=energy, sections=sections,
                beat_low=tuple(music.beat_low[i] for i in keep if i < len(music.beat_low)))
    return MusicExcerpt(**base, offset_s=_offset(music) + a,
                        song_duration_s=float(getattr(music, "song_duration_s", 0.0) or dur))


def excerpt_on_frame(music: MusicAnalysis, rate: Fraction) -> tuple[MusicAnalysis, float]:
    """``(music, shift_s)``: an excerpt whose start falls between two frames of a timeline at
    ``rate``, counted instead from the frame its start is rounded to (where A1 starts playing
    it: the cut's ``music_start``), every time moved by ``shift_s`` (under half a frame; a time
    the move puts before 0 is 0). Without it every beat is rounded to frames apart from the
    start, and a beat lands up to a frame off the song's own; the whole song (no offset) is
    returned as it is, with 0.

    >>> from montage_ai.core.analysis.music import Section
    >>> song = MusicAnalysis("s.wav", 10.0, 22050, 120.0, 4, (0.31, 0.81, 1.31), (0.31,), (1.0,) * 3,
    ...                      (Section(0.0, 10.0, "A", 0.5),))
    >>> part, shift = excerpt_on_frame(song_excerpt(song, 0.31), Fraction(24000, 1001))
    >>> round(shift, 4), round(part.offset_s * 24000 / 1001, 6), part.beat_times_s[:2]
    (0.018, 7.0, (0.018042, 0.518042))
    """
    offset = Fraction(getattr(music, "offset_s", 0.0) or 0.0).limit_denominator(10**9)
    if not offset:
        return music, 0.0
    start = Fraction(seconds_to_frames(offset, Fraction(rate))) / Fraction(rate)
    d = float(offset - start)
    if abs(d) < 1e-9:
        return music, 0.0

    def moved(times: Sequence[float]) -> tuple[float, ...]:
        return tuple(max(0.0, round(t + d, 6)) for t in times)

    sections = tuple(replace(x, start_s=max(0.0, round(x.start_s + d, 6)) if x.start_s > 0 else 0.0,
                             end_s=round(x.end_s + d, 6)) for x in music.sections)
    return replace(music, offset_s=float(start), duration_s=round(music.duration_s + d, 6),
                   beat_times_s=moved(music.beat_times_s), downbeat_times_s=moved(music.downbeat_times_s),
                   sections=sections), d


def duration_range(music: MusicAnalysis) -> tuple[float, float]:
    """``(shortest, longest)`` duration in seconds a cut to ``music`` can have: one bar, the
    whole excerpt."""
    downs = [d for d in music.downbeat_times_s if d > 0]
    bar = downs[0] if downs else (60.0 / music.tempo_bpm * max(1, music.meter) if music.tempo_bpm > 0 else 1.0)
    return min(bar, float(music.duration_s)), float(music.duration_s)


def _phrase_ends(music: MusicAnalysis) -> list[float]:
    downs = list(music.downbeat_times_s)
    out = {downs[i] for i in range(0, len(downs), PHRASE_BARS)} | {s.start_s for s in music.sections}
    return sorted(t for t in out if t > 0)


def fit_duration(music: MusicAnalysis, duration_s: float | None) -> Fit:
    """Where a cut of about ``duration_s`` seconds to ``music`` ends (see the module doc).

    ``None``: the whole excerpt (fading only when it stops before the song does).

    Raises
    ------
    DurationError
        ``duration_s`` not a positive number within :func:`duration_range`.
    """
    total = float(music.duration_s)
    if duration_s is None:
        fades = not _ends_with_song(music)
        return Fit(total, fades, "" if not fades else
                   f"the cut ends where the chosen part of the song does ({total:.2f} s), the music fading out")
    lo, hi = duration_range(music)
    where = (f"from {_offset(music):.2f} s " if _offset(music) else "")
    if not (isinstance(duration_s, (int, float)) and math.isfinite(duration_s)) or duration_s <= 0 \
            or duration_s > hi + HALF_FRAME_S:
        raise DurationError(f"--duration {duration_s:g}: the song {where}lasts {hi:.2f} s ({music.path}); "
                            f"ask for {math.ceil(lo * 100) / 100:.2f} to {hi:.2f} s")
    if duration_s < lo - HALF_FRAME_S:
        raise DurationError(f"--duration {duration_s:g}: shorter than one bar of {music.path}; "
                            f"ask for {math.ceil(lo * 100) / 100:.2f} to {hi:.2f} s")
    downs = [d for d in music.downbeat_times_s if 0 < d <= total]
    bar = lo
    if _ends_with_song(music) and total - duration_s <= min(bar, PHRASE_SLACK * duration_s) + 1e-6:
        return Fit(total, False, f"the cut ends with the song ({total:.2f} s; {duration_s:g} s asked)")
    if not downs:
        return Fit(min(duration_s, total), True, "")
    phrases = [p for p in _phrase_ends(music) if p <= total]
    near_phrase = min(phrases, key=lambda p: (abs(p - duration_s), p), default=None)
    if near_phrase is not None and abs(near_phrase - duration_s) <= min(bar, PHRASE_SLACK * duration_s) + 1e-6:
        end, what = near_phrase, "phrase"
    else:
        end, what = min(downs, key=lambda d: (abs(d - duration_s), d)), "bar"
    fades = end < total - 1e-6 or not _ends_with_song(music)
    note = f"the cut ends on a {what} boundary at {end:.2f} s ({duration_s:g} s asked)"
    return Fit(end, fades, note + (", the music fading out" if fades else ""))
