"""The timeline's format (rate and frame size) from the footage the cut uses.

Most screen time wins, ties go to the higher resolution: a cut that is mostly 1920x1080 at
23.976 gets a 1920x1080 23.976 timeline even when the folder also holds SD clips at 25 fps
that the cut never shows. ``--fps`` / ``--size`` override it.

Rates an NLE offers for a timeline (:data:`STANDARD_RATES`: 24000/1001, 24, 25, 30000/1001,
30, 48000/1001, 48, 50, 60000/1001, 60; drop-frame timecode is a way of counting 30000/1001
and 60000/1001, not another rate) are used as they are. Footage at another rate (a 13 fps screen capture)
gives the nearest standard rate and a note; ``--fps 13`` forces it, with a warning.

>>> is_standard_rate(Fraction(24000, 1001)), is_standard_rate(Fraction(13))
(True, False)
>>> nearest_standard_rate(Fraction(13)), nearest_standard_rate(Fraction(2997, 100))
(Fraction(24000, 1001), Fraction(30000, 1001))
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from fractions import Fraction
from typing import Iterable, Mapping, Sequence

from montage_ai.core.analysis.footage import FootageAnalysis, Shot
from montage_ai.core.base.timebase import rate_label
from montage_ai.core.model.cutlist import Cut

log = logging.getLogger(__name__)

__all__ = ["STANDARD_RATES", "is_standard_rate", "nearest_standard_rate", "planned_format", "used_format",
           "checked_rate"]

#: Timeline rates every NLE offers.
STANDARD_RATES = (Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
                  Fraction(48000, 1001), Fraction(48), Fraction(50), Fraction(60000, 1001), Fraction(60))


def is_standard_rate(rate: Fraction) -> bool:
    return Fraction(rate) in STANDARD_RATES


def nearest_standard_rate(rate: Fraction) -> Fraction:
    """The standard rate nearest ``rate`` by ratio (an almost-NTSC 2997/100 is 30000/1001)."""
    return min(STANDARD_RATES, key=lambda r: (abs(math.log(float(r) / float(rate))), r))


def _winner(time: Mapping[tuple[Fraction, int, int], Fraction]) -> tuple[Fraction, tuple[int, int]]:
    """Rate and size with most screen time; ties (within a frame's worth) to the larger
    picture, then the higher rate. The size is the one with most time at any rate."""
    by_rate: Counter = Counter()
    by_size: Counter = Counter()
    for (rate, w, h), t in time.items():
        by_rate[rate] += t
        by_size[(w, h)] += t
    area_of_rate = {r: max(w * h for (rr, w, h) in time if rr == r) for r in by_rate}
    rate = max(by_rate, key=lambda r: (by_rate[r], area_of_rate[r], r))
    size = max(by_size, key=lambda s: (by_size[s], s[0] * s[1]))
    return rate, size


def _key(a: FootageAnalysis) -> tuple[Fraction, int, int]:
    v = a.media.video
    return Fraction(v.rate), int(v.display_width), int(v.display_height)


def planned_format(shots: Iterable[tuple[FootageAnalysis, Shot]]) -> tuple[Fraction, tuple[int, int]]:
    """Before the cut exists: the format of the planned shots, by their usable seconds."""
    time: Counter = Counter()
    for a, s in shots:
        if a.media.video is None or s.black:
            continue
        rate = Fraction(a.media.video.rate)
        time[_key(a)] += Fraction(max(0, s.usable_end_frame - s.usable_start_frame)) / rate
    if not time:
        raise ValueError("no footage with a video stream to take the timeline format from")
    return _winner(time)


def used_format(cuts: Sequence[Cut], media: Mapping[str, FootageAnalysis]) -> tuple[Fraction, tuple[int, int]]:
    """The format of the clips the cut shows, by screen time (record frames)."""
    time: Counter = Counter()
    for c in cuts:
        a = media.get(c.source_path)
        if a is not None and a.media.video is not None:
            time[_key(a)] += c.record_frames
    if not time:
        raise ValueError("the cut shows no footage with a video stream")
    return _winner(time)


def checked_rate(rate: Fraction, *, given: bool) -> tuple[Fraction, list[str]]:
    """``(rate, notes)``: a rate the editor gave is kept (a warning when unusual); an unusual
    rate from the footage becomes the nearest standard one, with a note."""
    if is_standard_rate(rate):
        return rate, []
    text = rate_label(rate)
    if given:
        log.warning("timeline rate %s fps is not a standard rate; NLEs may refuse or conform it", text)
        return rate, [f"the timeline rate {text} fps is not a standard rate "
                      f"({', '.join(rate_label(r) for r in STANDARD_RATES)}): some NLEs refuse it or conform it"]
    near = nearest_standard_rate(rate)
    return near, [f"the footage the cut uses runs at {text} fps, not a standard timeline rate: the timeline is "
                  f"{float(near):.3f} fps (pass --fps {rate.numerator}"
                  f"{'/' + str(rate.denominator) if rate.denominator != 1 else ''} to keep {text})"]
