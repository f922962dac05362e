"""A frame's exposure mark for the best-moment score, judged against its shot's own key.

A deliberately low-key shot (a dark room, a lit face) or a high-key one (bright, with detail)
is exposed as it was meant to be: judging its frames by their distance from a mid-grey mean
would rank it under any mid-grey shot in the cuts and the selects for its look alone. So a
frame is marked against the shot it belongs to (:class:`Key`, from the shot's well-exposed
samples: those no judge flagged):

* **near the key** (x 1 .. 0): a frame whose mean luma is within :data:`KEY_BAND` of the
  shot's median keeps full marks; further off, the mark falls linearly to 0 at
  :data:`KEY_BAND` + :data:`KEY_SPAN` (a frame a third of the range brighter or darker than
  its own shot is caught mid-change: an iris moving, a light switched on);
* **clipped share against the key** (x 1 .. 0): the share of the frame at the clip points
  (white or black, no detail left) *over* the share the shot's well-exposed frames have
  (:data:`KEY_CLIP_PERCENTILE` th percentile, as :mod:`.exposure` takes the key) counts
  :data:`CLIP_WEIGHT` times against it: a low-key room whose every frame is a quarter black
  loses nothing for that quarter; a frame of it that sank to half black loses three quarters;
* **absolute** (x 0): only what :mod:`.exposure` calls lost on any shot's scale
  (:func:`.exposure.detail_lost`: "blown out" or "crushed"): such a frame scores no exposure
  marks even where it was not flagged (a shot the boundary detector made of a blown stretch
  alone, whose key is blown too). Nothing else is judged absolutely: mid-grey is no target.

Before this (footage ANALYSIS_VERSION 10 and earlier) the mark was
``max(0, 1 - |mean - 0.45| / 0.45) * max(0, 1 - 3 * clipped)`` on the absolute scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from montage_ai.core.analysis.exposure import KEY_PERCENTILE, detail_lost

#: Mean luma (0..1) either side of the shot's median that keeps full marks...
KEY_BAND = 0.06
#: ...and how much further off the mark reaches 0.
KEY_SPAN = 0.3
#: The shot's clipped share: this percentile over its well-exposed samples (as .exposure
#: takes the shot's key).
KEY_CLIP_PERCENTILE = KEY_PERCENTILE
#: Each share of the frame clipped over the shot's key takes this much off (x share).
CLIP_WEIGHT = 3.0


@dataclass(frozen=True)
class Key:
    """A shot's exposure key: the median mean luma (0..1) of its well-exposed samples and the
    share of their frame at the clip points (white + black) they have anyway."""

    luma: float
    clipped: float


#: The key where a shot has no known samples: the old mid-grey target, nothing clipped.
NO_KEY = Key(0.45, 0.0)


def shot_key(rows: Sequence[tuple[float | None, float | None, float | None]]) -> Key:
    """The key from ``(mean luma, clipped high, clipped low)`` of a shot's well-exposed samples.

    >>> shot_key([(0.10, 0.0, 0.20), (0.12, 0.0, 0.30), (0.11, 0.0, 0.25), (0.13, 0.0, 0.22)])
    Key(luma=0.115, clipped=0.215)
    """
    known = [(float(m), float(h), float(lo)) for m, h, lo in rows if m is not None and h is not None and lo is not None]
    if not known:
        return NO_KEY
    arr = np.array(known)
    return Key(round(float(np.median(arr[:, 0])), 6),
               round(float(np.percentile(arr[:, 1] + arr[:, 2], KEY_CLIP_PERCENTILE)), 6))


def exposure_mark(mean: float, hi: float, lo: float, key: Key = NO_KEY, lost: bool | None = None) -> float:
    """0..1: the exposure of a frame (mean luma ``mean`` 0..1, shares ``hi`` clipped white and
    ``lo`` at black) against its shot's ``key`` (see the module's docstring).

    >>> low = Key(0.12, 0.2)
    >>> exposure_mark(0.12, 0.0, 0.22, low), exposure_mark(0.45, 0.0, 0.0, Key(0.45, 0.0))
    (0.94, 1.0)
    >>> exposure_mark(0.02, 0.0, 0.98, low)
    0.0

    ``lost``: :func:`.exposure.detail_lost` of this frame when known already (for many frames at
    once: :func:`.exposure.details_lost` of ``255 * mean``, ``hi``, ``lo``).
    """
    if lost is None:
        lost = detail_lost(255.0 * float(mean), float(hi), float(lo)) is not None
    if lost:
        return 0.0
    off = max(0.0, abs(float(mean) - key.luma) - KEY_BAND)
    near = max(0.0, 1.0 - off / KEY_SPAN)
    clip = max(0.0, 1.0 - CLIP_WEIGHT * max(0.0, float(hi) + float(lo) - key.clipped))
    return round(near * clip, 6)
