"""Exact time: frame rates as Fractions, frames <-> seconds, SMPTE timecode.

Rates are :class:`fractions.Fraction` everywhere (``Fraction(24000, 1001)``, never 23.976).
Timeline positions are whole frames at a rate; seconds are Fractions or floats only at
the edges (audio analysis, presentation times from ffprobe).

>>> parse_rate("24000/1001")
Fraction(24000, 1001)
>>> parse_rate("23.976")
Fraction(24000, 1001)
>>> format_rate(Fraction(24000, 1001))
'24000/1001'
>>> frames_to_timecode(86400, Fraction(24))
'01:00:00:00'
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Union

RateLike = Union[Fraction, int, str, tuple]

# NTSC rates are n*1000/1001 for these integer nominal rates.
_NTSC_NOMINAL = (24, 30, 48, 60, 120, 240)


def parse_rate(value: RateLike) -> Fraction:
    """Parse a frame rate into an exact Fraction.

    Accepts a Fraction or int, a ``(num, den)`` tuple, an ffprobe string such as
    ``"30000/1001"`` or ``"25/1"``, or a decimal string as NLEs print them
    (``"23.976"``, ``"59.94"`` and the like), which maps to the NTSC rate it stands for.

    Raises ``ValueError`` for zero, negative or unparseable rates.
    """
    if isinstance(value, Fraction):
        rate = value
    elif isinstance(value, int):
        rate = Fraction(value)
    elif isinstance(value, tuple):
        rate = Fraction(int(value[0]), int(value[1])) if value[1] else Fraction(0)
    elif isinstance(value, str):
        text = value.strip()
        try:
            if "/" in text:
                num, _, den = text.partition("/")
                if int(den) == 0:
                    raise ValueError(f"frame rate {value!r} has a zero denominator")
                rate = Fraction(int(num), int(den))
            else:
                rate = _decimal_rate(text)
        except ValueError as exc:
            if "frame rate" in str(exc):
                raise
            raise ValueError(f"{value!r} is not a frame rate (write it as 24000/1001 or 25)") from None
    else:
        raise TypeError(f"cannot read a frame rate from {type(value).__name__}; use a Fraction or a string")
    if rate <= 0:
        raise ValueError(f"frame rate {value!r} is not positive")
    return rate


def format_rate(rate: Fraction | int | None, *, ratio: bool = False, unknown: str = "?") -> str:
    """A rate as text :func:`parse_rate` reads back: ``"25"``, ``"24000/1001"``; with
    ``ratio`` always ``num/den`` (``"25/1"``, as ffprobe, ffmpeg expressions and our JSON
    write it); ``unknown`` for None. The one rate-to-text function of the project.

    >>> format_rate(Fraction(24000, 1001)), format_rate(Fraction(25)), format_rate(None)
    ('24000/1001', '25', '?')
    >>> format_rate(Fraction(25), ratio=True)
    '25/1'
    >>> parse_rate(format_rate(Fraction(30000, 1001)))
    Fraction(30000, 1001)
    """
    if rate is None:
        return unknown
    rate = Fraction(rate)
    if rate.denominator == 1 and not ratio:
        return str(rate.numerator)
    return f"{rate.numerator}/{rate.denominator}"


def rate_label(rate: Fraction | int) -> str:
    """A rate as editors and NLE menus name it: three decimals, trailing zeros dropped
    (``"23.976"`` for 24000/1001, ``"59.94"`` for 60000/1001, ``"25"``). For messages and
    menus; :func:`format_rate` is the exact text.

    >>> rate_label(Fraction(24000, 1001)), rate_label(Fraction(60000, 1001)), rate_label(25)
    ('23.976', '59.94', '25')
    """
    return f"{float(Fraction(rate)):.3f}".rstrip("0").rstrip(".")


def _decimal_rate(text: str) -> Fraction:
    """A decimal string: exact if it is an integer, else the NTSC rate it rounds to."""
    exact = Fraction(text)
    if exact.denominator == 1:
        return exact
    for nominal in _NTSC_NOMINAL:
        ntsc = Fraction(nominal * 1000, 1001)
        if abs(exact - ntsc) < Fraction(1, 100):
            return ntsc
    return exact


def is_ntsc(rate: Fraction) -> bool:
    """True for n*1000/1001 rates (24000/1001, 30000/1001, 60000/1001 ...)."""
    return rate.denominator == 1001


def nominal_fps(rate: Fraction) -> int:
    """The integer frame count per timecode second (24 for 24000/1001, 30 for 30000/1001)."""
    return int(round(rate))


def frames_to_seconds(frames: int, rate: Fraction) -> Fraction:
    """Exact start time of frame ``frames`` at ``rate``."""
    return Fraction(frames) / rate


def seconds_to_frames(seconds: float | Fraction, rate: Fraction, rounding: str = "nearest") -> int:
    """The frame whose start is at, or nearest to, ``seconds``.

    ``rounding`` is ``"nearest"`` (ties up), ``"floor"`` (the frame showing at that time)
    or ``"ceil"`` (the first frame starting at or after it).
    """
    exact = Fraction(seconds) * rate
    if rounding == "floor":
        return math.floor(exact)
    if rounding == "ceil":
        return math.ceil(exact)
    if rounding == "nearest":
        return math.floor(exact + Fraction(1, 2))
    raise ValueError(f"rounding must be nearest, floor or ceil, not {rounding!r}")


def quantize_times(times_s, rate: Fraction, rounding: str = "nearest") -> list[int]:
    """Frame indices on a timeline grid for a sequence of times in seconds."""
    return [seconds_to_frames(Fraction(t).limit_denominator(10**9) if isinstance(t, float) else t, rate, rounding) for t in times_s]


def frames_to_timecode(frames: int, rate: Fraction, drop_frame: bool = False) -> str:
    """SMPTE timecode ``HH:MM:SS:FF`` (``HH:MM:SS;FF`` when drop frame) for a frame count."""
    if frames < 0:
        raise ValueError("timecode cannot be negative")
    fps = nominal_fps(rate)
    if drop_frame:
        if not (is_ntsc(rate) and fps % 30 == 0):
            raise ValueError(f"drop-frame timecode exists only for 30000/1001 and 60000/1001, not {rate}")
        drop = 2 * (fps // 30)
        per_10min = fps * 600 - drop * 9
        per_min = fps * 60 - drop
        tens, rest = divmod(frames, per_10min)
        if rest > drop:
            frames += drop * 9 * tens + drop * ((rest - drop) // per_min)
        else:
            frames += drop * 9 * tens
    ff = frames % fps
    total_s = frames // fps
    sep = ";" if drop_frame else ":"
    return f"{total_s // 3600:02d}:{(total_s // 60) % 60:02d}:{total_s % 60:02d}{sep}{ff:02d}"


def timecode_to_frames(timecode: str, rate: Fraction) -> int:
    """Frame count for a SMPTE timecode; ``;`` or ``.`` before the frames means drop frame."""
    text = timecode.strip()
    drop_frame = ";" in text or text.count(".") == 1 and text.count(":") == 2
    parts = text.replace(";", ":").replace(".", ":").split(":")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a timecode: {timecode!r}")
    hh, mm, ss, ff = (int(p) for p in parts)
    fps = nominal_fps(rate)
    if ff >= fps or mm >= 60 or ss >= 60:
        raise ValueError(f"timecode {timecode!r} is out of range at {rate} fps")
    frames = ((hh * 60 + mm) * 60 + ss) * fps + ff
    if drop_frame:
        if not (is_ntsc(rate) and fps % 30 == 0):
            raise ValueError(f"drop-frame timecode {timecode!r} at {rate} fps")
        drop = 2 * (fps // 30)
        minutes = hh * 60 + mm
        frames -= drop * (minutes - minutes // 10)
    return frames
