"""Per-frame picture features: pure functions over BGR uint8 frames (numpy / OpenCV).

Units are in the names: ``*_frac`` are fractions 0..1, ``*_px`` pixels of the frame given,
``luma`` is 0..255. Every function takes one frame (or a pair) and returns plain floats,
so they are testable without files:

>>> frame = np.full((72, 128, 3), 128, np.uint8)
>>> round(mean_luma_frac(frame), 3), clipped_fracs(frame)
(0.502, (0.0, 0.0))
>>> sharpness_laplacian_var(frame), motion_energy_frac(frame, frame)
(0.0, 0.0)
"""

from __future__ import annotations

import cv2
import numpy as np

#: Luma at or below / at or above these code values counts as clipped.
CLIP_LOW = 4
CLIP_HIGH = 251


def to_luma(frame: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of a BGR uint8 frame, uint8 (a 2-D frame is returned as is)."""
    if frame.ndim == 2:
        return frame
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def mean_luma_frac(frame: np.ndarray) -> float:
    """Mean luma as a fraction of full scale (exposure: 0 black, 1 white)."""
    return float(to_luma(frame).mean()) / 255.0


def clipped_fracs(frame: np.ndarray, low: int = CLIP_LOW, high: int = CLIP_HIGH) -> tuple[float, float]:
    """``(high, low)``: fractions of pixels with luma >= ``high`` / <= ``low``."""
    y = to_luma(frame)
    n = float(y.size)
    return float(np.count_nonzero(y >= high)) / n, float(np.count_nonzero(y <= low)) / n


def sharpness_laplacian_var(frame: np.ndarray) -> float:
    """Variance of the Laplacian of luma (higher is sharper; depends on frame size)."""
    lap = cv2.Laplacian(to_luma(frame), cv2.CV_32F, ksize=3)
    n = float(lap.size)
    # E[x^2] - E[x]^2 in double (two OpenCV passes): several times faster than numpy's var.
    return max(0.0, cv2.norm(lap, cv2.NORM_L2SQR) / n - (cv2.sumElems(lap)[0] / n) ** 2)


def colourfulness(frame: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness M = sigma_rgyb + 0.3 * mu_rgyb (0 grey,
    ~100+ very colourful), on 8-bit values."""
    f = frame.astype(np.float32)
    b, g, r = f[..., 0], f[..., 1], f[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    sigma = np.sqrt(rg.var() + yb.var())
    mu = np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    return float(sigma + 0.3 * mu)


def motion_energy_frac(prev: np.ndarray, frame: np.ndarray) -> float:
    """Mean absolute luma difference between two frames, as a fraction of full scale,
    after removing the global brightness change (a flash or fade is not motion)."""
    a = to_luma(prev).astype(np.float32)
    b = to_luma(frame).astype(np.float32)
    return float(np.abs((b - b.mean()) - (a - a.mean())).mean()) / 255.0


def global_shift_px(prev: np.ndarray, frame: np.ndarray) -> tuple[float, float]:
    """Global translation ``(dx, dy)`` from ``prev`` to ``frame`` in pixels (phase
    correlation with a Hann window): the camera's movement between the two frames."""
    a = to_luma(prev).astype(np.float32)
    b = to_luma(frame).astype(np.float32)
    window = hann_window(a.shape)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, window)
    return float(dx), float(dy)


_HANN: dict = {}


def hann_window(shape: tuple[int, ...]) -> np.ndarray:
    key = tuple(shape[:2])
    if key not in _HANN:
        _HANN[key] = cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)
    return _HANN[key]


def shake_frac(shifts_px: np.ndarray, width_px: int, smooth: int = 5) -> np.ndarray:
    """Camera shake per sample: the high-frequency part of the global motion.

    ``shifts_px`` is an ``(N, 2)`` array of per-step ``(dx, dy)``; a steady pan is smooth
    and scores ~0, handheld jitter scores high. Returned as a fraction of the width.

    >>> float(shake_frac(np.tile([[3.0, 0.0]], (10, 1)), 100).max()) < 1e-12
    True
    """
    s = np.asarray(shifts_px, np.float64).reshape(-1, 2)
    if s.shape[0] == 0:
        return np.zeros(0)
    k = max(1, smooth)
    pad = np.pad(s, ((k // 2, k - 1 - k // 2), (0, 0)), mode="edge")
    kernel = np.ones(k) / k
    trend = np.stack([np.convolve(pad[:, i], kernel, mode="valid") for i in range(2)], axis=1)
    return np.hypot(*(s - trend).T) / float(width_px)


def is_black(frame: np.ndarray, mean_max: float = 20.0, p99_max: float = 48.0) -> bool:
    """True for a black or near-black frame (mean luma and 99th percentile low)."""
    y = to_luma(frame)
    return bool(y.mean() <= mean_max and np.percentile(y, 99) <= p99_max)
