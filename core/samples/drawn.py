"""Drawn sources of the generated footage (numpy/OpenCV, no lavfi): a landscape that is no
test pattern (still, panned or pushed in on), a clapperboard slate and a countdown leader.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Iterator

import cv2
import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from montage_ai.core.samples.footage import Segment


def scene_still(width: int, height: int, seed: int = 1) -> np.ndarray:
    """A generated landscape (sky, hills, textured ground, a few bodies): natural-looking
    detail at every scale, no flat patches, not a test pattern. BGR uint8."""
    rng = np.random.default_rng(seed)
    noise = np.zeros((height, width), np.float32)
    for octave in range(1, 7):
        cells = (max(2, width >> (7 - octave)), max(2, height >> (7 - octave)))
        layer = cv2.resize(rng.normal(0, 1, (cells[1], cells[0])).astype(np.float32), (width, height),
                           interpolation=cv2.INTER_CUBIC)
        noise += layer / octave
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    horizon = 0.45 + 0.08 * np.sin(6.0 * x + seed) + 0.03 * noise[height // 2:height // 2 + 1, :]
    sky = y < horizon
    img = np.zeros((height, width, 3), np.float32)
    img[..., 0] = np.where(sky, 200 - 60 * y, 60 + 25 * noise)
    img[..., 1] = np.where(sky, 150 - 40 * y, 110 + 30 * noise)
    img[..., 2] = np.where(sky, 90 - 20 * y, 80 + 28 * noise)
    img[sky] += (8 * noise[sky])[:, None]
    for _ in range(int(width // 90) + 3):
        cx, cy = int(rng.uniform(0, width)), int(rng.uniform(0.5, 0.95) * height)
        r = int(rng.uniform(0.03, 0.08) * height)
        colour = tuple(float(c) for c in rng.uniform(30, 220, 3))
        cv2.ellipse(img, (cx, cy), (r, int(r * 1.8)), 0, 0, 360, colour, -1, lineType=cv2.LINE_AA)
    img += rng.normal(0, 2.0, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _slate(width: int, height: int, k: int, rate: Fraction) -> np.ndarray:
    img = np.full((height, width, 3), 20, np.uint8)
    band = height // 5
    for x in range(-height, width, max(8, width // 10)):  # the clapper's diagonal stripes
        pts = np.array([[x, 0], [x + width // 20, 0], [x + width // 20 + band, band], [x + band, band]], np.int32)
        cv2.fillPoly(img, [pts], (235, 235, 235))
    t = max(1, height // 120)
    for frac in (0.2, 0.45, 0.7):
        y = int(frac * height) + band // 2
        cv2.line(img, (width // 20, y), (width - width // 20, y), (235, 235, 235), 2 * t)
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = height / 360
    for j, text in enumerate(("SCENE 12A", "TAKE 3", f"ROLL A001  {k // int(rate) + 1:02d}")):
        cv2.putText(img, text, (width // 12, int((0.36 + 0.25 * j) * height) + band // 2), font, 1.2 * scale,
                    (235, 235, 235), max(1, int(2 * scale)), cv2.LINE_AA)
    return img


def _countdown(width: int, height: int, k: int, rate: Fraction) -> np.ndarray:
    img = np.full((height, width, 3), 128, np.uint8)
    c = (width // 2, height // 2)
    r = int(0.42 * height)
    frac = (k % int(rate)) / float(rate)
    cv2.ellipse(img, c, (int(1.6 * r), int(1.6 * r)), -90, 0, 360 * frac, (70, 70, 70), -1)
    cv2.circle(img, c, r, (240, 240, 240), max(2, height // 90))
    cv2.circle(img, c, int(0.8 * r), (240, 240, 240), max(2, height // 90))
    cv2.line(img, (0, c[1]), (width, c[1]), (20, 20, 20), max(1, height // 180))
    cv2.line(img, (c[0], 0), (c[0], height), (20, 20, 20), max(1, height // 180))
    number = str(max(2, 8 - k // int(rate)))
    scale = height / 80
    (tw, th), _ = cv2.getTextSize(number, cv2.FONT_HERSHEY_SIMPLEX, scale, max(2, height // 40))
    cv2.putText(img, number, (c[0] - tw // 2, c[1] + th // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (15, 15, 15),
                max(2, height // 40), cv2.LINE_AA)
    return img


def drawn_frames(seg: Segment, rate: Fraction, width: int, height: int) -> Iterator[np.ndarray]:
    """Sources drawn in numpy/OpenCV: a slate, a countdown leader, a landscape (still, or
    panned / pushed in on)."""
    n = seg.frames
    if seg.source == "slate":
        for k in range(n):
            yield _slate(width, height, k, rate)
        return
    if seg.source == "countdown":
        for k in range(n):
            yield _countdown(width, height, k, rate)
        return
    if seg.source == "pan":
        wide = scene_still(width + int(np.ceil(seg.pan_px_per_frame * n)) + 2, height, seg.seed)
        if seg.blur_sigma > 0:
            wide = cv2.GaussianBlur(wide, (0, 0), seg.blur_sigma)
        for k in range(n):
            x = seg.pan_px_per_frame * k
            m = np.float32([[1, 0, -x], [0, 1, 0]])
            yield cv2.warpAffine(wide, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return
    still = scene_still(width, height, seg.seed)
    if seg.blur_sigma > 0:  # out of focus: the lens blurs everything, the noise too
        still = cv2.GaussianBlur(still, (0, 0), seg.blur_sigma)
    if seg.source == "scene":
        for _ in range(n):
            yield still
        return
    for k in range(n):  # zoompan: a slow push-in on the centre
        z = 1.0 + 0.004 * k
        m = cv2.getRotationMatrix2D((width / 2, height / 2), 0.0, z)
        yield cv2.warpAffine(still, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
