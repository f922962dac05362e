"""Near-duplicate shots: a perceptual (DCT) hash of each shot's keyframe and a threshold.

Two shots are near-duplicates when the Hamming distance between the hashes of their
keyframes (the analysis' best frame) is at most :data:`DUPLICATE_THRESHOLD` bits of 64.
The selects stringout and the rough cut keep the better shot of each such pair (higher
best-moment score) so the same moment is never shown twice.

>>> rng = np.random.default_rng(0)
>>> a = cv2.resize(rng.integers(0, 256, (9, 16), dtype=np.uint8), (128, 72))
>>> brighter = np.clip(a.astype(int) + 12, 0, 255).astype(np.uint8)
>>> hamming(dct_hash(a), dct_hash(brighter)) <= DUPLICATE_THRESHOLD
True
>>> other = cv2.resize(rng.integers(0, 256, (9, 16), dtype=np.uint8), (128, 72))
>>> hamming(dct_hash(a), dct_hash(other)) > DUPLICATE_THRESHOLD
True

The hash
--------
The classic pHash (Zauner 2010; the ``phash`` of the ``imagehash`` library): the frame's
luma is resized to 32x32 (area averaging), transformed with a 2-D DCT (OpenCV), and the
8x8 lowest frequencies are compared with their median: one bit each, 64 bits. It ignores
brightness offsets, grain, compression and small shifts, and changes with the picture's
coarse structure. OpenCV already decodes and resizes our frames, so the hash costs one
``cv2.dct`` and adds no dependency (``imagehash`` would bring Pillow and PyWavelets for
the same 20 lines).

The threshold
-------------
Measured on generated 128x72 clips (``tests/selects_media.py`` makes them; run
``tests/test_duplicates.py``): the same three shots (testsrc2, mandelbrot, smptebars)
re-encoded with film grain (sigma 3 code values) and 15 % more light lie 0, 4 and 6 bits
from the originals; the same framing at a quarter of the light, or with the highlights
clipped, 2-4 bits; every pair of different sources (testsrc2, mandelbrot, smptebars,
gradients, life, cellauto, a pan, a zoom, a blurred testsrc2 whose best frame falls
elsewhere in its animation) 24-40 bits. :data:`DUPLICATE_THRESHOLD` = 10 sits between
the two groups with room on both sides: a retake of the same framing is a duplicate,
another framing or subject is not.

Limit: one frame stands for the shot. Two copies of a shot whose content moves, whose best
frames fall at different moments, can hash apart: at 720p, testsrc2's animation with best
frames 42 and 3 measured 28 bits (not found), ``life`` with best frames 165 and 168 10 bits
(found, just). Locked-off retakes and static framings, the usual duplicates, hash close.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import cv2
import numpy as np

from montage_ai.core.analysis.footage import FootageAnalysis, Shot
from montage_ai.core.base.errors import Cancelled, MontageError
from montage_ai.core.base.types import ShotKey
from montage_ai.core.media.decode import PacketTable, decode_frames, packet_table

log = logging.getLogger(__name__)

#: Hamming distance (bits of 64) at or below which two keyframes are near-duplicates.
DUPLICATE_THRESHOLD = 10
#: Side of the square the luma is resized to before the DCT.
_DCT_SIZE = 32
#: Side of the block of lowest frequencies that makes the hash (8x8 = 64 bits).
_HASH_SIDE = 8


def dct_hash(image: np.ndarray) -> int:
    """64-bit perceptual hash of a picture (BGR or grey uint8 array).

    Examples
    --------
    >>> h = dct_hash(np.random.default_rng(1).integers(0, 256, (72, 128, 3), dtype=np.uint8))
    >>> 0 <= h < 2 ** 64
    True
    """
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(image, (_DCT_SIZE, _DCT_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:_HASH_SIDE, :_HASH_SIDE]
    bits = (low > np.median(low)).ravel()
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def hamming(a: int, b: int) -> int:
    """Number of bits in which two hashes differ.

    >>> hamming(0b1011, 0b0001)
    2
    """
    return (a ^ b).bit_count()


def keyframe_image(analysis: FootageAnalysis, shot: Shot, table: "PacketTable | None" = None) -> np.ndarray | None:
    """The shot's keyframe: its thumbnail when the analysis wrote one, else decoded from the
    file (one short seek; ``table`` is the file's packet table when already read); None
    when neither can be read (logged)."""
    if shot.thumbnail and os.path.exists(shot.thumbnail):
        image = cv2.imread(shot.thumbnail, cv2.IMREAD_COLOR)
        if image is not None:
            return image
    if not os.path.exists(analysis.path):
        log.debug("%s: not found; no keyframe for shot %d", analysis.path, shot.index)
        return None
    try:
        for frame in decode_frames(analysis.path, media=analysis.media, start_frame=shot.keyframe_frame,
                                   end_frame=shot.keyframe_frame + 1, table=table, hwaccel=None):
            if frame.index == shot.keyframe_frame:
                return frame.image
    except MontageError as exc:
        log.warning("%s: keyframe of shot %d cannot be decoded (%s)", analysis.path, shot.index, exc)
    return None


def keyframe_images(shots: Sequence[tuple[FootageAnalysis, Shot]], *,
                    progress: Callable[[float], None] | None = None,
                    cancel: Callable[[], bool] | None = None) -> Iterator[tuple[ShotKey, np.ndarray]]:
    """``((path, shot index), keyframe)`` for each of ``shots`` whose keyframe can be read
    (:func:`keyframe_image`), reading a file's packet table once however many of its shots
    need a decode."""
    tables: dict[str, PacketTable | None] = {}
    for k, (a, s) in enumerate(shots):
        if cancel is not None and cancel():
            raise Cancelled("cancelled by the user")
        needs_decode = not (s.thumbnail and os.path.exists(s.thumbnail)) and os.path.exists(a.path)
        if needs_decode and a.path not in tables:
            try:  # read once per file, not once per seek
                tables[a.path] = packet_table(a.path, a.media)
            except MontageError as exc:
                log.warning("%s: cannot index packets (%s)", a.path, exc)
                tables[a.path] = None
        image = keyframe_image(a, s, tables.get(a.path))
        if image is not None:
            yield (a.path, s.index), image
        if progress is not None:
            progress((k + 1) / len(shots))


def shot_hashes(analyses: Sequence[FootageAnalysis], *, progress: Callable[[float], None] | None = None,
                cancel: Callable[[], bool] | None = None) -> dict[ShotKey, int]:
    """The keyframe hash of every non-black shot whose keyframe can be read.

    Black shots are left out (every black frame hashes alike; they are never used).
    """
    todo = [(a, s) for a in analyses for s in a.shots if not s.black]
    return {key: dct_hash(image) for key, image in keyframe_images(todo, progress=progress, cancel=cancel)}


def shot_quality(shot: Shot) -> float:
    """How good a shot is when choosing between near-duplicates: its best-moment score
    (the maximum of the curve), then its mean."""
    return max(shot.scores) if shot.scores else 0.0


@dataclass(frozen=True)
class Duplicate:
    """Shot ``(path, shot_index)`` repeats the better shot ``(kept_path, kept_index)``."""

    path: str
    shot_index: int
    kept_path: str
    kept_index: int
    distance: int

    def reason(self) -> str:
        name = os.path.basename(self.kept_path)
        where = f"shot {self.kept_index}" if self.kept_path == self.path else f"{name} shot {self.kept_index}"
        return f"near-duplicate of {where} (hash distance {self.distance} of 64 bits), which scores higher"


def find_duplicates(analyses: Sequence[FootageAnalysis], hashes: Mapping[ShotKey, int] | None = None, *,
                    threshold: int = DUPLICATE_THRESHOLD) -> dict[ShotKey, Duplicate]:
    """The shots to leave out because a better one shows the same moment.

    Shots are taken best first (:func:`shot_quality`, then path and index); each is kept
    unless its hash lies within ``threshold`` bits of a shot kept before, in which case it
    is a :class:`Duplicate` of the nearest such shot. Shots without a hash are never
    duplicates.

    Parameters
    ----------
    analyses : sequence of FootageAnalysis
    hashes : mapping, optional
        :func:`shot_hashes` of ``analyses`` (computed when not given).
    threshold : int
        Largest Hamming distance (bits of 64) that counts as a near-duplicate.

    Returns
    -------
    dict
        ``{(path, shot_index): Duplicate}`` for every shot left out.
    """
    if hashes is None:
        hashes = shot_hashes(analyses)
    shots = [(a.path, s) for a in analyses for s in a.shots if (a.path, s.index) in hashes]
    shots.sort(key=lambda ps: (-shot_quality(ps[1]), ps[0], ps[1].index))
    kept: list[tuple[str, int, int]] = []
    out: dict[ShotKey, Duplicate] = {}
    for path, s in shots:
        h = hashes[(path, s.index)]
        near = [(hamming(h, kh), kp, ki) for kp, ki, kh in kept]
        near = [n for n in near if n[0] <= threshold]
        if near:
            d, kp, ki = min(near)
            out[(path, s.index)] = Duplicate(path, s.index, kp, ki, d)
        else:
            kept.append((path, s.index, h))
    return out
