"""Exposure judged against the shot's own key: lost detail, not a dark or a bright look.

A deliberately low-key scene (dark overall, a lit face, a few highlights) or a high-key one
(bright, with detail) is the shot's look and is never flagged. What an editor would not use
is picture that has *lost its detail* at a clip point:

* ``"blown out"``: most of the frame clipped to white (the camera pointed at the sun,
  auto-exposure hunting to white);
* ``"crushed"``: most of the frame at black with nothing in it (the iris shut, a hand or a
  cap over the lens while the camera still sees a little).

The measure of lost detail is the share of pixels at the clip points (luma at or above
:data:`~.features.CLIP_HIGH`, at or below :data:`~.features.CLIP_LOW`: flat, no texture
left), which the analysis samples about 8 times a second (:func:`.frame_work.features`).
A sample is flagged on two scales:

* absolute: the share is at least :data:`BLOWN_ABS` / :data:`CRUSHED_ABS` of the frame,
  or at least :data:`GONE_SHARE` with the rest of the picture within :data:`ROOM_ABS` of the
  clip point, or the whole frame's mean within :data:`MEAN_ABS` of it, whatever the shot
  (almost nothing is left to see; this also holds where the boundary detector made the
  blown stretch a shot of its own);
* against the shot's key: the share is at least :data:`REL_MIN` of the frame, at least
  :data:`KEY_JUMP` above the shot's key (the share its well-exposed frames have, the
  :data:`KEY_PERCENTILE` th percentile over the shot), and the rest of the picture went the
  same way (:data:`REST_SHARE`: the exposure moved, not the framing). A low-key shot whose
  every frame is a third black has a key of a third black: it is its look, not a fault; its
  lights drifting out of frame leave more black but the lights that are left still shine;
  the same shot sinking to three quarters black because the iris shut is crushed.

Between two samples, each frame follows the sample whose mean luma (measured on every frame)
it is closer to, so a flagged range starts and ends on the frames where the picture turns.
Only the usable part of each non-black shot is judged: a fade to or from black is a
transition (its frames are outside the usable range) and a black run is a segment of its
own; neither is flagged again here, and neither is a short flash (flagged ``"flash"``). A
range at the edge of the usable part whose brightness ramps steadily away from the clip
point is the tail of a fade the boundary detector did not span, and is left alone too.

Calibrated on ``shared/realworld/footage`` (bench/footage_real.py, bench/exposure_real.py):
the low-key webcam room has 19-30 % of its pixels at black, the pillarboxed sports clip 14 %,
the 1961 film at most 9 %, and no clip there more than 10 % clipped white: none is flagged.
The same clips with an exposure fault put in by ffmpeg's ``eq`` filter are flagged where
detail is lost; a lifted, milky picture that keeps its detail is not (it is no clip).
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np

from montage_ai.core.analysis.frame_work import SAMPLE_FIELDS
from montage_ai.core.analysis.quality import Flag
from montage_ai.core.analysis.shot_types import ShotSegment, true_runs

log = logging.getLogger(__name__)

BLOWN = "blown out"
CRUSHED = "crushed"
#: Reasons this module flags (also in :data:`.quality.REASONS`).
REASONS = (BLOWN, CRUSHED)

#: Absolute: this share of the frame clipped white / at black is blown / crushed in any shot.
BLOWN_ABS = 0.75
CRUSHED_ABS = 0.97
#: ...or at least this share of it, with the rest of the picture within ROOM_ABS code values
#: (8-bit) of the clip point on average: nothing left to see but a wash of white or black
#: (the low-key real clips keep the rest of theirs 34 or more above black).
GONE_SHARE = 0.5
ROOM_ABS = 24.0
#: ...or the whole frame's mean luma within MEAN_ABS of the clip point (8-bit) with at least
#: NEAR_SHARE of it there: black but for a few lights, white but for a few shadows (a crush
#: of real clips measures 5-13, with compression noise keeping much of it just above the
#: clip point; the defocused night shot's lights in the dark 19 and up).
MEAN_ABS = 16.0
NEAR_SHARE = 0.25
#: Against the key: at least this share of the frame at the clip point...
REL_MIN = 0.4
#: ...this much more of the frame than the shot's key...
KEY_JUMP = 0.3
#: ...(the key: this percentile of the share over the shot's samples)...
KEY_PERCENTILE = 25.0
#: ...while the rest of the picture went the same way: its mean distance from the clip point
#: (the mean luma of the pixels at neither clip point over black, or its distance under white)
#: at most this share of the shot's well-exposed one (its 100 - KEY_PERCENTILE th
#: percentile). The exposure moved (an iris, auto-exposure), not the framing: a low-key shot
#: panning onto its dark side keeps lit highlights in the rest.
REST_SHARE = 0.5
#: A fade (:func:`_fade`) climbs away from the clip point by at least this much mean luma
#: (8-bit) per frame on average, a quarter of it at 80 % of its steps, over at least
#: FADE_FRAMES frames.
FADE_STEP = 1.0
FADE_FRAMES = 8
#: Where a sample row of the footage analysis (:func:`.frame_work.features`) keeps the
#: shares clipped white and at black.
HIGH_COLUMN, LOW_COLUMN = SAMPLE_FIELDS.index("clipped_high"), SAMPLE_FIELDS.index("clipped_low")
MEAN_COLUMN = SAMPLE_FIELDS.index("exposure")


def exposure_flags(mean: np.ndarray, samples: Mapping[int, Sequence], segments: Sequence[ShotSegment],
                   others: Sequence[Flag] = ()) -> list[Flag]:
    """Blown-out and crushed ranges of a file.

    ``mean``: the mean luma of every frame (:meth:`.quality.Measures.arrays`' ``"mean"``,
    NaN where not decoded); ``samples``: the feature rows by frame index (shares clipped
    white and at black at :data:`HIGH_COLUMN` / :data:`LOW_COLUMN`); ``segments``: the
    file's shots and black runs; ``others``: the flags found already (a range that is a
    ``"flash"`` for the most part is left to it).

    >>> from montage_ai.core.analysis.shot_types import ShotSegment
    >>> mean = np.r_[np.full(8, 90.0), np.full(8, 250.0), np.full(8, 90.0)]
    >>> rows = {i: (0, 0, 0, 0, 0.9 if 8 <= i < 16 else 0.0, 0.0) for i in range(0, 24, 2)}
    >>> exposure_flags(mean, rows, [ShotSegment(0, 24, False, None, None)])
    [Flag(first=8, last=15, reason='blown out', detail='90 % of the frame clipped to white')]
    """
    flags: list[Flag] = []
    flash = np.zeros(mean.size, bool)
    for f in others:
        if f.reason == "flash":
            flash[max(0, f.first):f.last + 1] = True
    for seg in segments:
        if seg.black:
            continue
        us, ue = max(0, seg.usable_start_frame), min(mean.size, seg.usable_end_frame)
        idx = np.array(sorted(i for i in samples if us <= i < ue and _known(samples[i])), dtype=np.int64)
        if ue <= us or idx.size == 0:
            continue
        hi = np.array([float(samples[int(i)][HIGH_COLUMN]) for i in idx])
        lo = np.array([float(samples[int(i)][LOW_COLUMN]) for i in idx])
        smean = mean[idx]
        for reason, share, other, sign, absolute in ((BLOWN, hi, lo, 1.0, BLOWN_ABS),
                                                     (CRUSHED, lo, hi, -1.0, CRUSHED_ABS)):
            bad = _bad_samples(share, other, smean, sign, absolute)
            if bad.any():
                flags += _ranges(bad, idx, share, mean, us, ue, reason, flash)
    if flags:
        log.debug("exposure: %s", ", ".join(f"{f.first}-{f.last} {f.reason}" for f in flags))
    return flags


def _known(row: Sequence) -> bool:
    return len(row) > LOW_COLUMN and row[HIGH_COLUMN] is not None and row[LOW_COLUMN] is not None


def _bad_samples(share: np.ndarray, other: np.ndarray, smean: np.ndarray, sign: float,
                 absolute: float) -> np.ndarray:
    """Samples with lost detail at one clip point (``share`` of the frame there, ``other`` at
    the other one): over ``absolute``, or with nothing left in between, or well over the
    shot's key while the rest of the picture went the same way (``sign``: +1 towards white,
    -1 towards black)."""
    key = float(np.percentile(share, KEY_PERCENTILE))
    room = _room(share, other, smean, sign)
    known = np.isfinite(room)
    key_room = float(np.percentile(room[known], 100.0 - KEY_PERCENTILE)) if known.any() else float("nan")
    went = known & (room <= REST_SHARE * key_room) if np.isfinite(key_room) else np.zeros(share.size, bool)
    return _lost_outright(share, smean, room, sign, absolute) | ((share >= REL_MIN) & (share >= key + KEY_JUMP) & went)


def _lost_outright(share: np.ndarray, smean: np.ndarray, room: np.ndarray, sign: float,
                   absolute: float) -> np.ndarray:
    """The absolute half of :func:`_bad_samples`: lost detail whatever the shot's key."""
    near = np.isfinite(smean) & ((smean if sign < 0 else 255.0 - smean) <= MEAN_ABS) & (share >= NEAR_SHARE)
    gone = ((share >= GONE_SHARE) & np.isfinite(room) & (room <= ROOM_ABS)) | near
    return (share >= absolute) | gone


def detail_lost(mean: float, hi: float, lo: float) -> str | None:
    """:data:`BLOWN` or :data:`CRUSHED` where one sample (mean luma ``mean``, 8-bit; shares
    ``hi`` clipped white and ``lo`` at black) has lost its detail on the absolute scale, the
    one that holds in any shot whatever its key; otherwise None.

    >>> detail_lost(40.0, 0.0, 0.3), detail_lost(6.0, 0.0, 0.9), detail_lost(250.0, 0.95, 0.0)
    (None, 'crushed', 'blown out')
    """
    m, h, low = np.array([float(mean)]), np.array([float(hi)]), np.array([float(lo)])
    for reason, share, other, sign, absolute in ((BLOWN, h, low, 1.0, BLOWN_ABS), (CRUSHED, low, h, -1.0, CRUSHED_ABS)):
        if _lost_outright(share, m, _room(share, other, m, sign), sign, absolute)[0]:
            return reason
    return None


def details_lost(mean: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """:func:`detail_lost` of many samples at once (arrays of mean luma, 8-bit, and the shares
    clipped white and at black): True where it names a reason. The same arithmetic element by
    element, so the same answers.

    >>> details_lost(np.array([40.0, 6.0, 250.0]), np.array([0.0, 0.0, 0.95]), np.array([0.3, 0.9, 0.0])).tolist()
    [False, True, True]
    """
    m, h, low = (np.asarray(v, np.float64) for v in (mean, hi, lo))
    lost = np.zeros(m.shape, bool)
    for share, other, sign, absolute in ((h, low, 1.0, BLOWN_ABS), (low, h, -1.0, CRUSHED_ABS)):
        lost |= _lost_outright(share, m, _room(share, other, m, sign), sign, absolute)
    return lost


def samples_lost(samples: Mapping[int, tuple], frames: Sequence[int]) -> dict[int, bool]:
    """:func:`detail_lost` of the feature samples ``samples[i]`` (rows of :data:`SAMPLE_FIELDS`) of
    ``frames``, worked out for all at once (:func:`details_lost`): True where detail is lost."""
    rows = [samples[i] for i in frames]
    if not rows:
        return {}
    lost = details_lost(np.array([255.0 * float(r[MEAN_COLUMN]) for r in rows]),
                        np.array([float(r[HIGH_COLUMN]) for r in rows]), np.array([float(r[LOW_COLUMN]) for r in rows]))
    return dict(zip(frames, lost.tolist()))


def _room(share: np.ndarray, other: np.ndarray, smean: np.ndarray, sign: float) -> np.ndarray:
    """How far the rest of the picture (the pixels at neither clip point) lies from the clip
    point, on average (8-bit): the mean luma of the rest over black (``sign`` -1), or its
    distance under white (+1). A lamp clipped white in a crushed frame is not its rest."""
    white = share if sign > 0 else other
    rest = np.maximum(1.0 - share - other, 0.01)
    mid = np.clip((smean - 255.0 * white) / rest, 0.0, 255.0)
    return mid if sign < 0 else 255.0 - mid


def _ranges(bad: np.ndarray, idx: np.ndarray, share: np.ndarray, mean: np.ndarray, us: int, ue: int,
            reason: str, flash: np.ndarray) -> list[Flag]:
    """Frame ranges from flagged samples: runs of flagged samples, widened to the frames
    before the neighbouring good samples whose mean luma is closer to the flagged side."""
    frames = np.zeros(ue - us, bool)
    for k in np.flatnonzero(bad):
        frames[idx[k] - us] = True
    for k in range(idx.size):
        lo_f = int(idx[k - 1]) + 1 if k > 0 else us
        hi_f = int(idx[k + 1]) if k + 1 < idx.size else ue
        if not bad[k]:
            continue
        for nb, span in ((k - 1, range(int(idx[k]) - 1, lo_f - 1, -1)), (k + 1, range(int(idx[k]) + 1, hi_f))):
            if 0 <= nb < idx.size and bad[nb]:
                frames[[j - us for j in span]] = True  # between two flagged samples
                continue
            _widen(frames, span, mean, float(mean[idx[k]]),
                   float(mean[idx[nb]]) if 0 <= nb < idx.size else float("nan"), us)
    out = []
    for a, b in true_runs(frames):
        first, last = us + a, us + b
        if flash[first:last + 1].mean() >= 0.5 or _fade(mean, first, last, us, ue, reason):
            continue
        inside = (idx >= first) & (idx <= last)
        worst = float(share[inside].max()) if inside.any() else float(share.max())
        where = "clipped to white" if reason == BLOWN else "at black"
        out.append(Flag(first, last, reason, f"{round(100 * worst)} % of the frame {where}"))
    return out


def _fade(mean: np.ndarray, first: int, last: int, us: int, ue: int, reason: str) -> bool:
    """A range at the edge of the shot's usable part whose mean luma ramps steadily away from
    the clip point, inwards, over it and two frames on (at least :data:`FADE_FRAMES`): the
    tail of a fade (or of a dip to white) the boundary detector did not span; it is a
    transition, not an exposure fault. A plateau of white or black is no ramp."""
    reach = max(FADE_FRAMES, last - first + 3)
    sign = 1.0 if reason == CRUSHED else -1.0  # inwards, away from the clip point
    for at_edge, m in ((first == us, mean[us:min(ue, us + reach)]),
                       (last == ue - 1, mean[max(us, ue - reach):ue][::-1])):
        steps = np.diff(m) * sign
        if at_edge and steps.size and np.isfinite(m).all() and np.mean(steps > FADE_STEP / 4) >= 0.8 \
                and steps.sum() >= FADE_STEP * steps.size:
            return True
    return False


def _widen(frames: np.ndarray, span: range, mean: np.ndarray, bad_mean: float, good_mean: float,
           base: int) -> None:
    """Frames of ``span`` (walking away from a flagged sample) flagged while their mean luma is
    closer to the flagged sample's than to the good neighbour's (all of them when the
    neighbour is the shot's edge)."""
    for j in span:
        v = float(mean[j])
        if np.isfinite(good_mean) and (not np.isfinite(v) or abs(v - bad_mean) > abs(v - good_mean)):
            return
        frames[j - base] = True

