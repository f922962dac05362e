"""Test patterns: colour bars, test cards, slates, countdown leaders, uniform frames.

A frame an editor never offers: SMPTE/EBU bars and ffmpeg-style test cards (flat patches of
several saturated hues), clapperboard slates (a grey-scale board divided by long straight
rules), countdown leaders (grey-scale rings centred in the frame) and uniform frames (one
flat colour; black frames are left to the shot detector, which makes them segments).

All tests run on the analysis frame (BGR uint8, ~256 px wide) and its 64x36 reduction, so
grain and encoder noise are averaged away first:

>>> flat = np.full((144, 256, 3), (40, 160, 90), np.uint8)
>>> pattern_kind(flat)
'uniform frame'
>>> rng = np.random.default_rng(0)
>>> natural = cv2.GaussianBlur(rng.integers(0, 255, (144, 256, 3), dtype=np.uint8), (0, 0), 3)
>>> pattern_kind(natural) is None
True
"""

from __future__ import annotations

import cv2
import numpy as np

#: Kinds :func:`pattern_kind` returns.
KINDS = ("colour bars", "slate", "countdown leader", "uniform frame")

#: A uniform frame: luma standard deviation (8-bit) under this on the 64x36 reduction...
UNIFORM_STD = 2.5
#: ...and mean luma above this (darker is black, handled as a black segment).
UNIFORM_MIN_MEAN = 24.0
#: Colour bars / test card: the dominant flat colours cover this share of the frame...
PALETTE_SHARE = 0.72
#: ...most pixels sit in flat patches...
FLAT_SHARE = 0.55
#: ...separated by hard edges (not a smooth gradient)...
STEP_SHARE = 0.03
#: ...and this many distinct saturated hues are among them.
BAR_HUES = 4
#: Grey-scale graphics (slate, leader): the few dominant grey levels cover this share.
GREY_SHARE = 0.8


def _small(image: np.ndarray) -> np.ndarray:
    if image.shape[1] == 64 and image.shape[0] == 36:
        return image
    return cv2.resize(image, (64, 36), interpolation=cv2.INTER_AREA)


def _palette(small: np.ndarray, levels: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Quantised colours of ``small`` and their pixel counts, most common first."""
    q = (small.astype(np.int32) // levels).reshape(-1, 3)
    keys = q[:, 0] * 4096 + q[:, 1] * 64 + q[:, 2]
    uniq, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
    order = np.argsort(-counts)
    means = np.zeros((uniq.size, 3))
    np.add.at(means, inv, small.reshape(-1, 3).astype(np.float64))
    means /= counts[:, None]
    return means[order], counts[order]


def _hues(colours: np.ndarray) -> int:
    """Distinct saturated hues (OpenCV hue buckets of 15 degrees) among BGR ``colours``."""
    if not len(colours):
        return 0
    hsv = cv2.cvtColor(np.clip(colours, 0, 255).astype(np.uint8).reshape(-1, 1, 3), cv2.COLOR_BGR2HSV).reshape(-1, 3)
    sat = (hsv[:, 1] >= 90) & (hsv[:, 2] >= 60)
    return int(np.unique(hsv[sat, 0] // 8).size)


def _steps(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest channel step of each pixel to its right and lower neighbour (uint8, the
    last row and column cut so both have the same shape). OpenCV's saturating absolute
    difference on the rows seen as flat runs of bytes: a fraction of numpy's int16 path."""
    h, w = small.shape[:2]
    flat = np.ascontiguousarray(small).reshape(h, w * 3)
    d = cv2.absdiff(flat[:, 3:], flat[:, :-3]).reshape(h, w - 1, 3)[:-1]
    e = cv2.absdiff(flat[1:], flat[:-1]).reshape(h - 1, w, 3)[:, :-1]
    dx = np.maximum(np.maximum(d[..., 0], d[..., 1]), d[..., 2])
    dy = np.maximum(np.maximum(e[..., 0], e[..., 1]), e[..., 2])
    return dx, dy


def _flat_and_step_shares(small: np.ndarray) -> tuple[float, float]:
    """Share of pixels whose right and lower neighbours have the same colour (+-3), and
    share with a hard step (> 40 in a channel) to the right or below: the patches' edges
    (a smooth gradient has none)."""
    dx, dy = _steps(small)
    return float(np.mean((dx <= 3) & (dy <= 3))), float(np.mean((dx > 40) | (dy > 40)))


def _is_bars(small: np.ndarray) -> bool:
    flat, step = _flat_and_step_shares(small)
    if flat < FLAT_SHARE or step < STEP_SHARE:
        return False
    colours, counts = _palette(small)
    share = np.cumsum(counts) / counts.sum()
    k = int(np.searchsorted(share, PALETTE_SHARE)) + 1
    if k > 24:
        return False
    return _hues(colours[:k]) >= BAR_HUES


def _grey_graphic(small: np.ndarray) -> bool:
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    if float(hsv[..., 1].mean()) > 40:
        return False
    y = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    counts = np.bincount((y // 32).ravel(), minlength=8)
    top = np.sort(counts)[::-1]
    return float(top[:3].sum()) / y.size >= GREY_SHARE and float(y.std()) > 20.0


def _long_rules(gray: np.ndarray) -> int:
    """Rows holding a long straight bright rule (a slate's field dividers)."""
    h, w = gray.shape
    bright = gray > 170
    rows = bright.mean(axis=1) >= 0.7
    # Count separate rules (runs of bright rows), not their thickness; the frame's own
    # top/bottom edges do not count.
    d = np.diff(np.concatenate([[0], rows[1:-1].astype(np.int8), [0]]))
    return int(np.count_nonzero(d == 1))


def _has_centred_ring(gray: np.ndarray) -> bool:
    h, w = gray.shape
    circles = cv2.HoughCircles(cv2.GaussianBlur(gray, (5, 5), 1.5), cv2.HOUGH_GRADIENT, dp=1.5,
                               minDist=h, param1=120, param2=40, minRadius=int(0.25 * h), maxRadius=int(0.6 * h))
    if circles is None:
        return False
    for x, y, r in circles[0]:
        if abs(x - w / 2) < 0.1 * w and abs(y - h / 2) < 0.12 * h:
            return True
    return False


def pattern_kind(image: np.ndarray | None, small: np.ndarray | None = None,
                 gray: np.ndarray | None = None) -> str | None:
    """The kind of test pattern ``image`` (BGR uint8) shows (one of :data:`KINDS`), or None.

    ``small``: the frame at 64x36 (``INTER_AREA``) when the caller has it; ``gray``: the
    frame's luma at full size, when the caller has it (``image`` may then be None, given
    ``small``).
    """
    small = _small(image) if small is None else small
    y = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    if float(y.std()) < UNIFORM_STD and float(y.mean()) > UNIFORM_MIN_MEAN:
        chroma = small.astype(np.float32).std(axis=(0, 1)).max()
        if chroma < 4.0:
            return "uniform frame"
    if _is_bars(small):
        return "colour bars"
    if _grey_graphic(small):
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if gray is None else gray
        if _long_rules(gray) >= 2:
            return "slate"
        if _has_centred_ring(gray):
            return "countdown leader"
    return None
