"""Resolve's frame-rate strings <-> exact Fractions.

Resolve prints rates as decimals: the project setting ``timelineFrameRate`` is one of a
fixed list (``"23.976"``, ``"59.94"``, ``"59.94 DF"`` ...), a clip's ``"FPS"`` property a
decimal such as ``"23.976"`` or ``"25.000"``. The table maps every timeline rate Resolve
offers to the exact rate it stands for; clip rates outside it go through
:func:`montage_ai.core.base.timebase.parse_rate` (integers exact, NTSC decimals to n*1000/1001).

>>> parse_resolve_rate("23.976")
(Fraction(24000, 1001), False)
>>> parse_resolve_rate("59.94 DF")
(Fraction(60000, 1001), True)
>>> format_resolve_rate(Fraction(60000, 1001))
'59.94'
"""

from __future__ import annotations

from fractions import Fraction

from montage_ai.core.base.timebase import format_rate, parse_rate, rate_label

#: Every timeline frame rate Resolve offers, as it writes it, and the exact rate (built from
#: the exact rates, so the table cannot disagree with them).
RESOLVE_RATES: dict[str, Fraction] = {
    rate_label(rate): rate  # Resolve writes three decimals, trailing zeros dropped
    for rate in sorted([Fraction(n) for n in (16, 18, 24, 25, 30, 48, 50, 60, 72, 96, 100, 120)]
                       + [Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 96, 120)])
}
_BY_RATE = {rate: text for text, rate in RESOLVE_RATES.items()}


def parse_resolve_rate(text: str) -> tuple[Fraction, bool]:
    """``(rate, drop_frame)`` of a rate string as Resolve writes it.

    Accepts the table's strings, a ``" DF"``/``" NDF"`` suffix, trailing zeros
    (``"25.000"``, ``"59.940"``) and other decimals a clip may carry (``"12.5"``).

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
        raise ValueError(f"Resolve has no timeline rate {format_rate(rate, ratio=True)} fps; "
                         f"it offers {', '.join(RESOLVE_RATES)}") from None
