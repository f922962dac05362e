"""Resolve's frame-rate strings <-> exact Fractions.

Resolve prints rates as decimals: the project setting ``timelineFrameRate`` is one of a
fixed list (``"23.976"``, ``"29.97"``, ``"29.97 DF"`` ...), a clip's ``"FPS"`` property a
decimal such as ``"23.976"`` or ``"25.000"``. The table maps every timeline rate Resolve
offers to the exact rate it stands for; clip rates outside it go through
:func:`montage_ai.core.timebase.parse_rate` (integers exact, NTSC decimals to n*1000/1001).

>>> parse_resolve_rate("23.976")
(Fraction(24000, 1001), False)
>>> parse_resolve_rate("29.97 DF")
(Fraction(30000, 1001), True)
>>> format_resolve_rate(Fraction(60000, 1001))
'59.94'
"""

from __future__ import annotations

from fractions import Fraction

from montage_ai.core.timebase import parse_rate

#: Every timeline frame rate Resolve offers, as it writes it, and the exact rate.
RESOLVE_RATES: dict[str, Fraction] = {
    "16": Fraction(16), "18": Fraction(18),
    "23.976": Fraction(24000, 1001), "24": Fraction(24), "25": Fraction(25),
    "29.97": Fraction(30000, 1001), "30": Fraction(30),
    "47.952": Fraction(48000, 1001), "48": Fraction(48), "50": Fraction(50),
    "59.94": Fraction(60000, 1001), "60": Fraction(60), "72": Fraction(72),
    "95.904": Fraction(96000, 1001), "96": Fraction(96), "100": Fraction(100),
    "119.88": Fraction(120000, 1001), "120": Fraction(120),
}
_BY_RATE = {rate: text for text, rate in RESOLVE_RATES.items()}


def parse_resolve_rate(text: str) -> tuple[Fraction, bool]:
    """``(rate, drop_frame)`` of a rate string as Resolve writes it.

    Accepts the table's strings, a ``" DF"``/``" NDF"`` suffix, trailing zeros
    (``"25.000"``, ``"29.970"``) and other decimals a clip may carry (``"12.5"``).

    Raises
    ------
    ValueError
        Empty, not a number, zero or negative.
    """
    value = str(text).strip()
    drop = False
    upper = value.upper()
    for suffix, is_drop in ((" NDF", False), (" DF", True)):
        if upper.endswith(suffix):
            value, drop = value[: -len(suffix)].strip(), is_drop
            break
    if not value:
        raise ValueError(f"empty frame rate {text!r}")
    if value in RESOLVE_RATES:
        return RESOLVE_RATES[value], drop
    if "." in value:
        trimmed = value.rstrip("0").rstrip(".")
        if trimmed in RESOLVE_RATES:
            return RESOLVE_RATES[trimmed], drop
    try:
        return parse_rate(value), drop
    except (ValueError, ZeroDivisionError, ArithmeticError) as exc:
        raise ValueError(f"not a frame rate: {text!r} ({exc})") from None


def format_resolve_rate(rate: Fraction) -> str:
    """The string Resolve expects for ``rate`` in ``timelineFrameRate``.

    Raises ``ValueError`` for a rate Resolve does not offer for timelines (e.g. 15 or 12.5).
    """
    try:
        return _BY_RATE[Fraction(rate)]
    except KeyError:
        raise ValueError(f"Resolve has no timeline rate {rate.numerator}/{rate.denominator} fps; "
                         f"it offers {', '.join(RESOLVE_RATES)}") from None
