"""One reason per frame that is right: flags another finding explains better are taken back.

The frame judges (:mod:`.quality`, :mod:`.obstruction`, :mod:`.patterns`, :mod:`.exposure`)
each look at a frame on their own, so a frame excluded for a good reason can also carry a
wrong one, which the clip log, the selects' rejections and the shot report then show the
editor. :func:`reconciled` runs where the analysis merges its flags and removes:

* **"obstructed" inside a transition or an exposure range.** A fade darkens the frame from
  its edges in (most of the picture at black, the border cells first), and a crush or a
  blow-out darkens or washes every cell: the border-cell test reads both as something over
  the lens. A frame inside a fade's or a dissolve's span (outside the usable part of its shot
  anyway) or inside a "blown out" / "crushed" range keeps only that reason, and so does a
  short tail of the run just past it (:data:`TAIL_FRAMES`).
* **A grey-scale "test pattern" on a colourful frame.** A slate and a countdown leader are
  grey-scale graphics (:data:`.patterns.GREY_SHARE` of the frame in a few grey levels), and
  a real picture lifted towards white (the carphone clip at +0.45 brightness) passes that
  test. The analysis measures every sample's colourfulness (Hasler & Suesstrunk, the
  ``colourfulness`` column): the generated slate and leader measure 1.1-1.9, the lifted real
  clips 20-24 (carphone) and 9.1-10.6 (makeup_webcam, whose lifted frames are half clipped
  white); frames whose nearest sample is over :data:`GREY_COLOURFULNESS` are no slate or
  leader, nor are frames inside a "blown out" / "crushed" range (a washed-out picture is
  grey-scale for the most part: the exposure is the reason).
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np

from montage_ai.core.analysis.frame_work import SAMPLE_FIELDS
from montage_ai.core.analysis.quality import Flag
from montage_ai.core.analysis.shot_types import Transition, true_runs

log = logging.getLogger(__name__)

#: Grey-scale graphics measure under this colourfulness (8-bit Hasler & Suesstrunk M).
GREY_COLOURFULNESS = 5.0
#: The pattern kinds that are grey-scale graphics (the ``detail`` of a "test pattern" flag).
GREY_KINDS = ("slate", "countdown leader")
#: Where a sample row of the footage analysis keeps its colourfulness.
COLOURFULNESS_COLUMN = SAMPLE_FIELDS.index("colourfulness")
#: A piece of an "obstructed" run left touching a transition or an exposure range, at most
#: this long, is its tail (the detector's span or the exposure range ends a little early:
#: measured 2 and 5 frames on the real film faded by a crush and at the end of its iris).
TAIL_FRAMES = 6
#: Reasons an "obstructed" frame gives way to.
EXPOSURE_REASONS = ("blown out", "crushed")


def reconciled(flags: Sequence[Flag], transitions: Sequence[Transition], samples: Mapping[int, Sequence],
               frame_count: int) -> tuple[Flag, ...]:
    """``flags`` without the reasons another finding explains (see the module docstring).

    >>> fade = Transition("fade_out", 40, 49)
    >>> flags = [Flag(30, 49, "obstructed", "edge"), Flag(60, 70, "crushed", "90 %"), Flag(71, 73, "obstructed", "")]
    >>> reconciled(flags, [fade], {}, 100)
    (Flag(first=30, last=39, reason='obstructed', detail='edge'), Flag(first=60, last=70, reason='crushed', detail='90 %'))
    >>> rows = {i: (0, 0, 0, 0, 0, 0, 22.0) for i in range(0, 30, 3)}
    >>> reconciled([Flag(0, 29, "test pattern", "slate")], [], rows, 30)
    ()
    """
    n = max([frame_count] + [f.last + 1 for f in flags])
    explained = np.zeros(n, bool)
    for t in transitions:
        explained[max(0, t.first):t.last + 1] = True
    exposed = np.zeros(n, bool)
    for f in flags:
        if f.reason in EXPOSURE_REASONS:
            exposed[max(0, f.first):f.last + 1] = True
    explained |= exposed
    colourful = _colourful(samples, n)
    out: list[Flag] = []
    for f in flags:
        if f.reason == "obstructed":
            drop = explained
        elif f.reason == "test pattern" and f.detail in GREY_KINDS:
            drop = colourful | exposed
        else:
            out.append(f)
            continue
        kept = _without(f, drop)
        if f.reason == "obstructed":
            kept = [k for k in kept if not (k.last - k.first + 1 <= TAIL_FRAMES and _touches(k, drop))]
        if kept != [f]:
            log.debug("%s %d-%d: %s", f.reason, f.first, f.last,
                      "kept " + ", ".join(f"{k.first}-{k.last}" for k in kept) if kept else "dropped")
        out += kept
    return tuple(sorted(out, key=lambda f: (f.first, f.reason)))


def _colourful(samples: Mapping[int, Sequence], n: int) -> np.ndarray:
    """Frames whose nearest sample measures a colourfulness over :data:`GREY_COLOURFULNESS`."""
    idx = np.array(sorted(i for i, r in samples.items() if len(r) > COLOURFULNESS_COLUMN
                          and r[COLOURFULNESS_COLUMN] is not None and np.isfinite(r[COLOURFULNESS_COLUMN])), np.int64)
    if idx.size == 0:
        return np.zeros(n, bool)
    values = np.array([float(samples[int(i)][COLOURFULNESS_COLUMN]) for i in idx])
    frames = np.arange(n)
    after = np.searchsorted(idx, frames)  # the first sample at or after each frame
    lo, hi = np.clip(after - 1, 0, idx.size - 1), np.clip(after, 0, idx.size - 1)
    k = np.where(np.abs(frames - idx[lo]) <= np.abs(idx[hi] - frames), lo, hi)
    return values[k] > GREY_COLOURFULNESS


def _touches(f: Flag, mask: np.ndarray) -> bool:
    """A frame next to ``f`` (before or after it) is in ``mask``."""
    return bool((f.first > 0 and mask[f.first - 1]) or (f.last + 1 < mask.size and mask[f.last + 1]))


def _without(f: Flag, drop: np.ndarray) -> list[Flag]:
    """``f`` split into its runs of frames not in ``drop``."""
    first, last = max(0, f.first), min(drop.size - 1, f.last)
    if last < first:
        return [f]
    keep = ~drop[first:last + 1]
    if keep.all():
        return [f]
    return [Flag(first + a, first + b, f.reason, f.detail) for a, b in true_runs(keep)]
