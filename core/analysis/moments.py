"""What makes a frame a *moment*, beyond being technically good: a subject, a settled camera,
distance from the usable edges.

The best-moment score of :mod:`.footage` (sharpness, exposure, steadiness, some motion) is
weighed here:

* **subject** (+:data:`FACE_BONUS`): a frontal face found by OpenCV's bundled Haar cascade
  (``haarcascade_frontalface_default.xml``) on the analysis frame, at least
  :data:`FACE_MIN_SHARE` of the frame height, where the installed OpenCV has it (OpenCV 5,
  which scenedetect pulls in here, dropped the cascades); otherwise (+ up to
  :data:`SALIENT_BONUS`) a salient subject: the spectral-residual saliency of Hou & Zhang
  (2007) on the 64x36 frame, concentrated in a compact region away from the frame's border
  (an empty sky or a mid-pan smear spreads it out);
* **settled** (+:data:`SETTLE_BONUS`): the camera is still now (global shift under a third of
  :data:`~.quality.FAST_SHIFT`) after moving within the last second: where an operator lands
  on what the move was for;
* **clear of the edges** (x 0.6 .. 1): within :data:`EDGE_S` of the first or last usable
  frame the score is lowered linearly, so a piece taken around the best frame does not start
  or end on a transition or a cut.

The result is capped at 1. The weights were set so that the technical score still dominates
(a blurred face never beats a sharp landscape: flagged frames score 0 anyway).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from montage_ai.core.analysis.quality import FAST_SHIFT

log = logging.getLogger(__name__)

FACE_BONUS = 0.12
FACE_MIN_SHARE = 0.1
SETTLE_BONUS = 0.08
EDGE_S = 0.25

_CASCADE: list = []


def _cascade():
    """OpenCV's frontal-face Haar cascade, or None where this OpenCV has none."""
    if not _CASCADE and not hasattr(cv2, "CascadeClassifier"):
        _CASCADE.append(None)
    if not _CASCADE:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        clf = cv2.CascadeClassifier(path)
        if clf.empty():
            log.warning("no face detector: %s could not be loaded", path)
            clf = None
        _CASCADE.append(clf)
    return _CASCADE[0]


def count_faces(luma: np.ndarray) -> int:
    """Frontal faces in a grey analysis frame (uint8), at least FACE_MIN_SHARE of its height.

    >>> count_faces(np.zeros((144, 256), np.uint8))
    0
    """
    clf = _cascade()
    if clf is None:
        return 0
    side = max(12, int(FACE_MIN_SHARE * luma.shape[0]))
    found = clf.detectMultiScale(luma, scaleFactor=1.15, minNeighbors=5, minSize=(side, side))
    return int(len(found))


SALIENT_BONUS = 0.1


def subject_strength(tiny: np.ndarray) -> float:
    """0..1: how much the spectral-residual saliency of a 64x36 grey frame concentrates in a
    compact region clear of the border (a subject), rather than spreading over the frame.

    >>> subject_strength(np.full((36, 64), 80, np.uint8))
    0.0
    >>> blob = np.full((36, 64), 80, np.uint8); blob[12:24, 26:38] = 200
    >>> subject_strength(blob) > 0.5
    True
    """
    g = tiny.astype(np.float32)
    if float(g.std()) < 2.0:
        return 0.0
    # Spectral residual (Hou & Zhang 2007) with OpenCV's DFT in double precision: the
    # numpy FFT's values, several times faster on a frame this small.
    f = cv2.dft(g.astype(np.float64), flags=cv2.DFT_COMPLEX_OUTPUT)
    amp = cv2.magnitude(f[..., 0], f[..., 1])
    log_amp = np.log(amp + 1e-6)
    residual = log_amp - cv2.blur(log_amp, (3, 3))
    # exp(residual + i * phase) = exp(residual) * f / |f| (phase 0 where |f| is 0)
    scale = np.exp(residual) / np.where(amp > 0, amp, 1.0)
    spec = f * scale[..., None]
    zero = amp == 0
    if zero.any():
        spec[zero, 0] = np.exp(residual[zero])
    back = cv2.idft(spec, flags=cv2.DFT_COMPLEX_OUTPUT | cv2.DFT_SCALE)
    sal = back[..., 0] ** 2 + back[..., 1] ** 2
    sal = cv2.GaussianBlur(sal.astype(np.float32), (0, 0), 2.0)
    total = float(sal.sum())
    if total <= 0:
        return 0.0
    h, w = sal.shape
    top = sal >= _percentile(sal.ravel(), 90.0)
    share = float(sal[top].sum()) / total           # ~0.1 for spread saliency, higher when focused
    ys, xs = np.nonzero(top)
    cy, cx = float(ys.mean()) / h, float(xs.mean()) / w
    inside = 1.0 if 0.15 <= cx <= 0.85 and 0.15 <= cy <= 0.85 else 0.5
    return float(np.clip((share - 0.2) / 0.35, 0.0, 1.0) * inside)


def _percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear) by partial sorting, without its overhead."""
    pos = q / 100.0 * (values.size - 1)
    k = int(pos)
    part = np.partition(values, (k, min(k + 1, values.size - 1)))
    lo, hi = float(part[k]), float(part[min(k + 1, values.size - 1)])
    return lo + (hi - lo) * (pos - k)


def weigh(score: float, frame: int, usable: tuple[int, int], rate: float, faces: int,
          speed: np.ndarray | None, subject: float = 0.0) -> float:
    """``score`` of ``frame`` weighed for a subject, a settled camera and the usable edges.

    ``speed``: the camera's global shift per frame (share of the width) of the whole file.

    >>> weigh(0.5, 50, (0, 100), 25.0, 1, None)
    0.62
    >>> weigh(0.5, 0, (0, 100), 25.0, 0, None)
    0.3
    """
    us, ue = usable
    edge = max(4, int(round(EDGE_S * rate)))
    room = min(frame - us, ue - 1 - frame)
    w = 0.6 + 0.4 * min(1.0, max(0.0, room / edge))
    bonus = FACE_BONUS if faces else SALIENT_BONUS * subject
    if speed is not None and 0 <= frame < speed.size and np.isfinite(speed[frame]):
        before = speed[max(us, frame - int(round(rate))):frame]
        if speed[frame] < FAST_SHIFT / 3 and before.size and np.nanmax(before) >= FAST_SHIFT:
            bonus += SETTLE_BONUS
    return round(min(1.0, score * w + bonus * w), 6)
