"""Per-frame signatures of the shot detector (tiny normalised luma, chromaticity histogram,
brightness) and the brightness-invariant distances between them."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from montage_ai.core.analysis.shot_types import _HIST_BINS, _SIG_H, _SIG_W, FLAT_STD, STRUCTURED_STD


@dataclass
class Signatures:
    """Per-frame signatures of consecutive frames ``index[0] .. index[-1]``."""

    index: np.ndarray          # (N,) int64 frame indices
    z: np.ndarray              # (N, 576) float32 unit-norm normalised luma
    hist: np.ndarray           # (N, 36) float32 chromaticity histogram, sums to 1
    mean: np.ndarray           # (N,) mean luma, 0..255
    p99: np.ndarray            # (N,) 99th percentile of luma
    std: np.ndarray            # (N,) luma standard deviation
    thumb: np.ndarray          # (N, 18, 32, 3) float32 colour thumbnail (blend fits)
    #: What the detector derives from these signatures and reads again (see :mod:`.gradual`).
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.index.size)

    @property
    def conf(self) -> np.ndarray:
        """How much structure each frame has, 0 (flat) .. 1."""
        return structure_confidence(self.std)

    def take(self, sl: slice) -> "Signatures":
        return Signatures(*(getattr(self, f)[sl] for f in ("index", "z", "hist", "mean", "p99", "std", "thumb")))


def frame_signature(image: np.ndarray, small: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, float, float, float, np.ndarray]:
    """The signature of one BGR uint8 frame: ``(z, hist, mean, p99, std, thumb)``.

    ``small``: the frame already reduced to 64x36 (``INTER_AREA``), when the caller has it.

    >>> z, hist, mean, p99, std, thumb = frame_signature(np.zeros((144, 256, 3), np.uint8))
    >>> float(mean), bool(z.any()), round(float(hist.sum()), 3)
    (0.0, False, 1.0)
    """
    if small is None:
        small = cv2.resize(image, (64, 36), interpolation=cv2.INTER_AREA)
    z, hist, mean, p99, std, thumb = frame_signatures(small[None])
    return z[0], hist[0], float(mean[0]), float(p99[0]), float(std[0]), thumb[0]


def frame_signatures(smalls: np.ndarray) -> tuple[np.ndarray, ...]:
    """Signatures of ``N`` frames at once from their 64x36 reductions ``(N, 36, 64, 3)``
    uint8: ``(z, hist, mean, p99, std, thumb)`` stacked along the first axis, the same
    values frame by frame as one at a time (every reduction runs along each frame's own
    contiguous row, in the same order), at a fraction of the per-call cost."""
    n = smalls.shape[0]
    small = smalls.astype(np.float32)
    h, w = small.shape[1:3]
    if h % _SIG_H == 0 and w % _SIG_W == 0:
        # Whole reduction factors: the frames as one tall image, each output pixel the mean of
        # a block inside one frame (the same values as frame by frame, one call).
        thumb = cv2.resize(small.reshape(n * h, w, 3), (_SIG_W, _SIG_H * n),
                           interpolation=cv2.INTER_AREA).reshape(n, _SIG_H, _SIG_W, 3)
    else:
        thumb = np.stack([cv2.resize(f, (_SIG_W, _SIG_H), interpolation=cv2.INTER_AREA) for f in small])
    y = (thumb[..., 0] * 0.114 + thumb[..., 1] * 0.587 + thumb[..., 2] * 0.299).reshape(n, -1)
    mean = y.mean(axis=1)
    std = y.std(axis=1)
    flat = std <= 1e-3
    # float64 division, then float32 (as the scalar formula computes it).
    scale = np.where(flat, 1.0, std.astype(np.float64) * np.sqrt(y.shape[1]))
    z = (y - mean[:, None]).astype(np.float64) / scale[:, None]
    z[flat] = 0.0
    ys = (small[..., 0] * 0.114 + small[..., 1] * 0.587 + small[..., 2] * 0.299).reshape(n, -1)
    p99 = _percentiles(ys, 99.0)
    hist = chroma_histograms(small)
    return z.astype(np.float32), hist, mean, p99, std, thumb


def _percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) by partial sorting: 10x faster."""
    return float(_percentiles(values.reshape(1, -1), q)[0])


def _percentiles(values: np.ndarray, q: float) -> np.ndarray:
    """:func:`_percentile` of each row of ``values`` (N, M)."""
    m = values.shape[1]
    pos = q / 100.0 * (m - 1)
    k = int(np.floor(pos))
    if k + 1 >= m:
        return values.max(axis=1)
    part = np.partition(values, (k, k + 1), axis=1)
    return part[:, k] + (part[:, k + 1] - part[:, k]) * (pos - k)


def chroma_histogram(small: np.ndarray) -> np.ndarray:
    """Soft chromaticity histogram ``(r, g) = (R, G) / (R + G + B)`` of a float BGR frame,
    ``_HIST_BINS`` x ``_HIST_BINS`` bins, weighted by brightness, summing to 1.

    Each pixel's weight is split linearly between the two nearest bin centres on each
    axis, so the histogram moves continuously with the colours: grey (1/3, 1/3), which
    sits on a bin edge of a hard histogram, no longer flips bins on a tiny chroma drift
    (grain, a brightness swell, encoder noise).
    """
    return chroma_histograms(np.asarray(small)[None])[0]


#: Frames per pass of :func:`chroma_histograms`: its float64 temporaries for 4 frames of 64x36
#: stay in the CPU's cache (measured: 3x faster a frame than a block of 16 in one pass). Each
#: frame's bins are its own, so the values do not depend on the grouping.
HIST_GROUP = 4


def chroma_histograms(smalls: np.ndarray) -> np.ndarray:
    """:func:`chroma_histogram` of ``N`` float BGR frames ``(N, H, W, 3)``: ``(N, bins^2)``."""
    n = smalls.shape[0]
    if n > HIST_GROUP:
        return np.concatenate([_chroma_histograms(smalls[k:k + HIST_GROUP]) for k in range(0, n, HIST_GROUP)])
    return _chroma_histograms(smalls)


def _chroma_histograms(smalls: np.ndarray) -> np.ndarray:
    n = smalls.shape[0]
    b, g, r = (c.reshape(n, -1) for c in cv2.split(np.ascontiguousarray(smalls).reshape(-1, smalls.shape[-2], 3)))
    # (B + G) + R, as a sum over the last axis adds them, without numpy's slow short-axis reduction.
    total = b + g
    total += r
    total += 1e-3
    weight = total + 24.0  # dark pixels count, but less: their chromaticity is noise
    B = _HIST_BINS
    coords = []
    for ch in (r, g):
        x = ch / total
        x *= B
        x -= 0.5
        np.clip(x, 0.0, B - 1.0, out=x)
        lo = x.astype(np.int32)
        np.minimum(lo, B - 2, out=lo)
        coords.append((lo, x - lo))
    (ri, rf), (gi, gf) = coords
    # Each frame's bins are offset by its own block, so one bincount per corner fills all of
    # them; the four corners' sums are added in float64 before the float32 result.
    cell = ri * B
    cell += gi
    cell += (np.arange(n, dtype=np.int32) * (B * B))[:, None]
    cell = cell.ravel()
    wr0, wr1 = weight * (1.0 - rf), weight * rf
    g0 = 1.0 - gf
    size = n * B * B + B + 2
    hist = np.bincount(cell, (wr0 * g0).ravel(), size)
    hist += np.bincount(cell + 1, (wr0 * gf).ravel(), size)
    hist += np.bincount(cell + B, (wr1 * g0).ravel(), size)
    hist += np.bincount(cell + (B + 1), (wr1 * gf).ravel(), size)
    hist = hist[:n * B * B].astype(np.float32).reshape(n, B * B)
    hist /= hist.sum(axis=1, keepdims=True)
    return hist


class SignatureBuilder:
    """Collects signatures frame by frame (consecutive indices per range).

    Frames are kept as their 64x36 reductions and turned into signatures
    :data:`BATCH` at a time (:func:`frame_signatures`); every query flushes first.
    """

    BATCH = 8  # measured: larger batches spill the cache and run slower per frame

    def __init__(self) -> None:
        self._rows: dict[int, tuple] = {}
        self._pending: dict[int, np.ndarray] = {}

    def add(self, index: int, image: np.ndarray, small: np.ndarray | None = None) -> None:
        if small is None:
            small = cv2.resize(image, (64, 36), interpolation=cv2.INTER_AREA)
        self._pending[int(index)] = small
        if len(self._pending) >= self.BATCH:
            self._flush()

    def add_signature(self, index: int, row: tuple) -> None:
        """A frame whose :func:`frame_signature` was computed elsewhere (a worker thread)."""
        self._rows[int(index)] = row

    def _flush(self) -> None:
        if not self._pending:
            return
        keys = list(self._pending)
        shapes = {self._pending[k].shape for k in keys}
        groups = [keys] if len(shapes) == 1 else [[k] for k in keys]
        for group in groups:
            cols = frame_signatures(np.stack([self._pending[k] for k in group]))
            for j, k in enumerate(group):
                self._rows[k] = (cols[0][j], cols[1][j], float(cols[2][j]), float(cols[3][j]),
                                 float(cols[4][j]), cols[5][j])
        self._pending.clear()

    def __contains__(self, index: int) -> bool:
        return index in self._rows or index in self._pending

    def __len__(self) -> int:
        return len(self._rows) + len(self._pending)

    def indices(self) -> list[int]:
        self._flush()
        return sorted(self._rows)

    def build(self, lo: int, hi: int) -> Signatures:
        """Signatures of frames ``[lo, hi)`` (all must be present)."""
        self._flush()
        rows = [self._rows[i] for i in range(lo, hi)]
        return Signatures(
            index=np.arange(lo, hi, dtype=np.int64),
            z=np.stack([r[0] for r in rows]),
            hist=np.stack([r[1] for r in rows]),
            mean=np.array([r[2] for r in rows], np.float32),
            p99=np.array([r[3] for r in rows], np.float32),
            std=np.array([r[4] for r in rows], np.float32),
            thumb=np.stack([r[5] for r in rows]),
        )

    def ranges(self) -> list[tuple[int, int]]:
        """Maximal runs of consecutive indices, as ``[lo, hi)``."""
        out: list[tuple[int, int]] = []
        for i in self.indices():
            if out and out[-1][1] == i:
                out[-1] = (out[-1][0], i + 1)
            else:
                out.append((i, i + 1))
        return out


# ----------------------------------------------------------------------------------------
# Distances


def structure_confidence(std: np.ndarray) -> np.ndarray:
    """0 for flat frames (luma std <= FLAT_STD) rising to 1 at STRUCTURED_STD."""
    return np.clip((np.asarray(std, np.float32) - FLAT_STD) / (STRUCTURED_STD - FLAT_STD), 0.0, 1.0)


def structure_distance(z_a: np.ndarray, z_b: np.ndarray, c_a: np.ndarray | float = 1.0,
                       c_b: np.ndarray | float = 1.0) -> np.ndarray:
    """1 - correlation of normalised luma (0 same, 1 unrelated), weighted by how much
    structure each frame has (``c``, :func:`structure_confidence`): flat vs flat is 0,
    flat vs structured is 1, and a fade into flatness changes it gradually."""
    dot = np.einsum("...i,...i->...", z_a, z_b)
    return c_a * c_b * np.clip(1.0 - dot, 0.0, 2.0) + np.abs(c_a - c_b)


def colour_distance(h_a: np.ndarray, h_b: np.ndarray) -> np.ndarray:
    """Half the L1 distance of chromaticity histograms (0 same, 1 disjoint)."""
    return 0.5 * np.abs(h_a - h_b).sum(axis=-1)


def _lag_distances(sig: Signatures, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Structure and colour distance between frames j and j+lag, for every j."""
    if lag >= len(sig):
        return np.zeros(0), np.zeros(0)
    c = sig.conf
    return (structure_distance(sig.z[:-lag], sig.z[lag:], c[:-lag], c[lag:]),
            colour_distance(sig.hist[:-lag], sig.hist[lag:]))


def _luma(img: np.ndarray) -> np.ndarray:
    return img[..., 0] * 0.114 + img[..., 1] * 0.587 + img[..., 2] * 0.299


def _coarse_pair(a: np.ndarray, b: np.ndarray, size: tuple[int, int]) -> tuple[float, float]:
    ya = _luma(cv2.resize(a, size, interpolation=cv2.INTER_AREA))
    yb = _luma(cv2.resize(b, size, interpolation=cv2.INTER_AREA))
    sa, sb = float(ya.std()), float(yb.std())
    ca, cb = structure_confidence(np.array([sa, sb]))
    if sa > 1e-3 and sb > 1e-3:
        corr = float(((ya - ya.mean()) * (yb - yb.mean())).mean() / (sa * sb))
    else:
        corr = 1.0 if max(sa, sb) <= 1e-3 else 0.0
    d_s = float(ca * cb * np.clip(1.0 - corr, 0.0, 2.0) + abs(ca - cb))
    d_h = float(colour_distance(chroma_histogram(a), chroma_histogram(b)))
    return d_s, d_h


def coarse_distances(a: np.ndarray, b: np.ndarray, size: tuple[int, int] = (16, 9)) -> tuple[float, float]:
    """Structure and colour distance of two frames far apart in one shot (keyframes).

    Built to stay small for what a shot does over a second or more: global brightness
    (normalised away), grain and fine texture that evolves (structure compared at
    ``size``, 16x9 by default), and camera movement (the frames are also compared on their
    overlap after the global shift found by phase correlation; the smaller distance
    counts). ``a`` and ``b`` are float32 BGR frames of one size (64x36 is plenty).
    """
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    d_s, d_h = _coarse_pair(a, b, size)
    ya, yb = _luma(a), _luma(b)
    h, w = ya.shape
    (dx, dy), _ = cv2.phaseCorrelate(ya, yb, cv2.createHanningWindow((w, h), cv2.CV_32F))
    ix, iy = int(round(dx)), int(round(dy))
    if (ix or iy) and abs(ix) < 0.6 * w and abs(iy) < 0.6 * h:
        # b[y, x] ~ a[y - iy, x - ix] on the overlap
        bx0, bx1, by0, by1 = max(0, ix), min(w, w + ix), max(0, iy), min(h, h + iy)
        ob = b[by0:by1, bx0:bx1]
        oa = a[by0 - iy:by1 - iy, bx0 - ix:bx1 - ix]
        sub = (max(2, size[0] * (bx1 - bx0) // w), max(2, size[1] * (by1 - by0) // h))
        s2, h2 = _coarse_pair(oa, ob, sub)
        d_s, d_h = min(d_s, s2), min(d_h, h2)
    return d_s, d_h
