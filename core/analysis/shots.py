"""Shot boundaries: hard cuts on their exact frame, dissolves and fades with their span,
black stretches as segments of their own; flashes, strobe, brightness swells and pans are
not boundaries.

The detector is fed the frames the analysis decodes anyway (no second decode):

>>> detector = ShotDetector(rate=Fraction(25))                       # doctest: +SKIP
>>> for frame in decode_frames("clip.mp4"):                          # doctest: +SKIP
...     detector.add(frame.index, frame.image)
>>> result = detector.finish(frame_count)                            # doctest: +SKIP
>>> [(s.start_frame, s.end_frame, s.black) for s in result.segments] # doctest: +SKIP

How it decides (all on tiny per-frame *signatures*, see :func:`frame_signature`):

* Two brightness-invariant distances between frames: *structure* (1 - correlation of
  the mean/contrast-normalised 32x18 luma) and *colour* (L1 distance of chromaticity
  histograms, r/(r+g+b), g/(r+g+b), weighted by brightness). A global brightness change
  (flash, swell, exposure ramp, fade) moves neither much.
* **Hard cut at i**: frame ``i-1`` differs from each of ``i..i+P`` *and* each of
  ``i-1-P..i-1`` differs from ``i`` (the change persists on both sides: a flash or a
  strobe returns to what it was and fails), and that difference is several times the
  frame-to-frame change on either side (continuous motion, a whip pan, noise-like
  content fail). Only the true first frame passes: its neighbours have a same-shot
  partner.
* **Black**: mean luma and 99th percentile under thresholds; runs are segments.
* **Fade to/from black**: the frames before a black run (after it) whose brightness falls
  (rises) monotonically with unchanged structure.
* **Dissolve**: where frames ``K`` apart differ inside one piece, the frames in between
  must be linear blends ``(1-a)*A + a*B`` of the frames at the ends, with ``a`` rising
  monotonically; a zoom, pan or animation is not a blend and fails.
* PySceneDetect's :class:`~scenedetect.AdaptiveDetector` is fed the same frames (at half
  the analysis size). A cut it proposes is a second opinion: it is accepted when the
  persistence test above passes with thresholds scaled by :data:`CONFIRM_SCALE` (two
  detectors agreeing lower the bar; a flash or a swell still returns to what it was and
  fails). Candidates it makes that fail even that are logged.

Everything is local (a decision at frame ``i`` reads at most :data:`CONTEXT_FRAMES`-ish
frames around it), so detection over separately decoded ranges (coarse-to-fine mode) gives
the same answer as over the whole file; :func:`detect_range` reports when a range is too
short to decide and must be extended.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Sequence

import cv2
import numpy as np

log = logging.getLogger(__name__)

#: Frames on each side a hard cut must persist for.
PERSIST_FRAMES = 6
#: Signature sizes.
_SIG_W, _SIG_H = 32, 18
_HIST_BINS = 6
#: Structure counts fully from this luma standard deviation (8-bit units), not at all
#: below FLAT_STD: a flat or nearly flat frame has no structure to compare.
FLAT_STD = 1.0
STRUCTURED_STD = 5.0
#: Black: mean luma at most this, and 99th percentile at most BLACK_P99 (8-bit, full range).
BLACK_MEAN = 20.0
BLACK_P99 = 48.0
# Cut thresholds: structure distance (0..2) and colour distance (0..1).
CUT_S = 0.45
CUT_H = 0.12
# Two frames a dissolve apart must differ at least this much in colour (a slow colour drift,
# e.g. a fractal zoom, is not a dissolve; the hard-cut test has its calm ratio instead).
_BLEND_H = 0.22
_CUT_RATIO = 3.0
#: A cut this few frames after another is not a new shot.
_MIN_CUT_GAP = 2
#: Thresholds of the cut test for a cut PySceneDetect also found (a second opinion).
CONFIRM_SCALE = 0.6
# Dissolve search.
_BLEND_RESIDUAL = 0.35
_BLEND_MONOTONE = 0.85
#: A frame is part of a blend when its mix lies this far from both ends (a one-second
#: dissolve at 25 fps moves 0.038 per frame).
_BLEND_EDGE = 0.025


@dataclass(frozen=True)
class Transition:
    """A gradual transition: ``kind`` is ``"dissolve"``, ``"fade_out"`` or ``"fade_in"``;
    ``first``/``last`` its inclusive frame span."""

    kind: str
    first: int
    last: int

    @property
    def span(self) -> tuple[int, int]:
        return (self.first, self.last)


@dataclass(frozen=True)
class ShotSegment:
    """A stretch of frames between boundaries ``[start_frame, end_frame)``.

    ``usable_start_frame``/``usable_end_frame`` exclude the transitions at either end.
    """

    start_frame: int
    end_frame: int
    black: bool
    transition_in: tuple[int, int] | None
    transition_out: tuple[int, int] | None

    @property
    def usable_start_frame(self) -> int:
        if self.black:
            return self.start_frame
        return max(self.start_frame, self.transition_in[1] + 1) if self.transition_in else self.start_frame

    @property
    def usable_end_frame(self) -> int:
        if self.black:
            return self.end_frame
        return min(self.end_frame, self.transition_out[0]) if self.transition_out else self.end_frame


@dataclass(frozen=True)
class ShotResult:
    """Boundaries of one file: cut frames, transitions, black runs and the segments."""

    cuts: tuple[int, ...]
    transitions: tuple[Transition, ...]
    blacks: tuple[tuple[int, int], ...]
    segments: tuple[ShotSegment, ...]

    @property
    def boundaries(self) -> tuple[int, ...]:
        """First frame of every segment after the first."""
        return tuple(s.start_frame for s in self.segments[1:])


# ----------------------------------------------------------------------------------------
# Signatures


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
    small = small.astype(np.float32)
    thumb = cv2.resize(small, (_SIG_W, _SIG_H), interpolation=cv2.INTER_AREA)
    y = thumb[..., 0] * 0.114 + thumb[..., 1] * 0.587 + thumb[..., 2] * 0.299
    mean = float(y.mean())
    std = float(y.std())
    if std > 1e-3:
        z = ((y - mean) / (std * np.sqrt(y.size))).ravel()
    else:
        z = np.zeros(y.size, np.float32)
    ys = (small[..., 0] * 0.114 + small[..., 1] * 0.587 + small[..., 2] * 0.299).ravel()
    p99 = _percentile(ys, 99.0)
    hist = chroma_histogram(small)
    return z.astype(np.float32), hist, mean, p99, std, thumb


def _percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) by partial sorting: 10x faster."""
    pos = q / 100.0 * (values.size - 1)
    k = int(np.floor(pos))
    if k + 1 >= values.size:
        return float(np.max(values))
    part = np.partition(values, (k, k + 1))
    return float(part[k] + (part[k + 1] - part[k]) * (pos - k))


def chroma_histogram(small: np.ndarray) -> np.ndarray:
    """Soft chromaticity histogram ``(r, g) = (R, G) / (R + G + B)`` of a float BGR frame,
    ``_HIST_BINS`` x ``_HIST_BINS`` bins, weighted by brightness, summing to 1.

    Each pixel's weight is split linearly between the two nearest bin centres on each
    axis, so the histogram moves continuously with the colours: grey (1/3, 1/3), which
    sits on a bin edge of a hard histogram, no longer flips bins on a tiny chroma drift
    (grain, a brightness swell, encoder noise).
    """
    total = small.sum(axis=2) + 1e-3
    weight = (total + 24.0).ravel()  # dark pixels count, but less: their chromaticity is noise
    B = _HIST_BINS
    coords = []
    for ch in (small[..., 2], small[..., 1]):
        x = np.clip((ch / total).ravel() * B - 0.5, 0.0, B - 1.0)
        lo = np.minimum(x.astype(np.int32), B - 2)
        coords.append((lo, x - lo))
    (ri, rf), (gi, gf) = coords
    cell = ri * B + gi
    wr0, wr1 = weight * (1.0 - rf), weight * rf
    hist = np.bincount(np.concatenate([cell, cell + 1, cell + B, cell + B + 1]),
                       weights=np.concatenate([wr0 * (1.0 - gf), wr0 * gf, wr1 * (1.0 - gf), wr1 * gf]),
                       minlength=B * B).astype(np.float32)
    hist /= hist.sum()
    return hist


class SignatureBuilder:
    """Collects signatures frame by frame (consecutive indices per range)."""

    def __init__(self) -> None:
        self._rows: dict[int, tuple] = {}

    def add(self, index: int, image: np.ndarray, small: np.ndarray | None = None) -> None:
        self._rows[int(index)] = frame_signature(image, small)

    def __contains__(self, index: int) -> bool:
        return index in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def indices(self) -> list[int]:
        return sorted(self._rows)

    def build(self, lo: int, hi: int) -> Signatures:
        """Signatures of frames ``[lo, hi)`` (all must be present)."""
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


# ----------------------------------------------------------------------------------------
# Detection over one contiguous range


@dataclass
class RangeResult:
    """Events found in one contiguous range and whether it must grow to decide."""

    cuts: list[int] = field(default_factory=list)
    blacks: list[tuple[int, int]] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    extend_before: bool = False
    extend_after: bool = False


def black_flags(sig: Signatures) -> np.ndarray:
    """True for black or near-black frames."""
    return (sig.mean <= BLACK_MEAN) & (sig.p99 <= BLACK_P99)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (first, last) positions of runs of True."""
    if not flags.size:
        return []
    d = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist()))


def cut_scores(sig: Signatures, persist: int = PERSIST_FRAMES,
               threshold_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per position ``p`` (a cut between ``p-1`` and ``p``): ``(passes, clipped)``.

    ``clipped`` is true where the test's window runs past the range (undecided there).
    ``threshold_scale`` scales the change thresholds (below 1: a looser test, for cuts
    another detector proposed).
    """
    n = len(sig)
    passes = np.zeros(n, bool)
    clipped = np.zeros(n, bool)
    if n < 2:
        return passes, clipped
    P = persist
    # across[p]: min over k of d(p-1, p+k) and d(p-1-k, p), k = 0..P (within range).
    inf = np.inf
    across = {c: np.full(n, inf) for c in "SH"}
    for k in range(0, P + 1):
        dS, dH = _lag_distances(sig, k + 1)
        if not dS.size:
            break
        # d(p-1, p+k): pair (j, j+k+1) with j = p-1  -> p = j + 1
        for c, d in (("S", dS), ("H", dH)):
            a = across[c]
            a[1:1 + d.size] = np.minimum(a[1:1 + d.size], d)
            # d(p-1-k, p): pair (j, j+k+1) with j = p-1-k -> p = j + k + 1
            a[k + 1:k + 1 + d.size] = np.minimum(a[k + 1:k + 1 + d.size], d)
    d1S, d1H = _lag_distances(sig, 1)  # d1[j] = d(j, j+1): the step into frame j+1
    for p in range(1, n):
        lo = max(0, p - 1 - P)
        hi = min(n - 1, p + P)
        clipped[p] = (p - 1 - P < 0) or (p + P > n - 1)
        ok = False
        for c, d1, thr in (("S", d1S, CUT_S * threshold_scale), ("H", d1H, CUT_H * threshold_scale)):
            acr = across[c][p]
            if not np.isfinite(acr) or acr < thr:
                continue
            before = d1[lo:p - 1]      # steps inside lo..p-1
            after = d1[p:hi]           # steps inside p..hi
            calm = max(float(np.median(before)) if before.size else 0.0,
                       float(np.median(after)) if after.size else 0.0)
            if acr >= _CUT_RATIO * calm + 0.5 * thr:
                ok = True
                break
        passes[p] = ok
    return passes, clipped


def detect_range(sig: Signatures, rate: Fraction, *, at_start: bool, at_end: bool,
                 candidates: Iterable[int] = ()) -> RangeResult:
    """Find cuts, black runs and gradual transitions in consecutive frames ``sig``.

    ``at_start``/``at_end``: the range begins at the file's first frame / ends at its
    last; otherwise an event too close to that edge sets ``extend_before``/``after``.
    ``candidates``: cut frames proposed by another detector (PySceneDetect); each is
    accepted if the cut test passes at :data:`CONFIRM_SCALE` of its thresholds, else logged.
    """
    res = RangeResult()
    n = len(sig)
    if n == 0:
        return res
    base = int(sig.index[0])
    margin = PERSIST_FRAMES + 1

    # Black runs.
    black = black_flags(sig)
    for s, e in _runs(black):
        if s == 0 and not at_start:
            res.extend_before = True
        if e == n - 1 and not at_end:
            res.extend_after = True
        res.blacks.append((base + s, base + e))

    # Hard cuts (not inside black runs: a run's edges are boundaries already).
    passes, clipped = cut_scores(sig)
    proposed = [c - base for c in candidates if 0 < c - base < n]
    if proposed:
        confirmed, _ = cut_scores(sig, threshold_scale=CONFIRM_SCALE)
        for p in proposed:
            if confirmed[p] and not passes[p]:
                log.debug("PySceneDetect cut at frame %d confirmed by the looser test", base + p)
                passes[p] = True
            elif not confirmed[p] and not (black[p] or black[p - 1]):
                log.debug("PySceneDetect cut at frame %d rejected (no persistent change)", base + p)
    for p in np.flatnonzero(passes).tolist():
        if black[p] and black[p - 1]:
            continue
        if black[p] != black[p - 1]:
            continue  # the edge of a black run
        if clipped[p]:
            if p - 1 - PERSIST_FRAMES < 0 and not at_start:
                res.extend_before = True
            if p + PERSIST_FRAMES > n - 1 and not at_end:
                res.extend_after = True
        if res.cuts and base + p - res.cuts[-1] <= _MIN_CUT_GAP:
            continue  # a one- or two-frame glitch after a cut belongs to the new shot
        res.cuts.append(base + p)

    # Pieces between cuts and black runs: fades next to black, dissolves inside.
    edges = sorted({0, n} | {c - base for c in res.cuts}
                   | {s - base for s, _ in res.blacks} | {e - base + 1 for _, e in res.blacks})
    pieces = [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a and not black[a]]
    for a, b in pieces:
        # Fade out into a black run that follows the piece.
        if b < n and black[b]:
            f = _fade_span(sig, a, b, backwards=True)
            if f is not None:
                if f[0] == 0 and not at_start:
                    res.extend_before = True
                res.transitions.append(Transition("fade_out", base + f[0], base + f[1]))
        if a > 0 and black[a - 1]:
            f = _fade_span(sig, a, b, backwards=False)
            if f is not None:
                if f[1] == n - 1 and not at_end:
                    res.extend_after = True
                res.transitions.append(Transition("fade_in", base + f[0], base + f[1]))
        for t, need_before, need_after in _dissolves(sig, a, b, rate, at_start=at_start or a > 0,
                                                     at_end=at_end or b < n):
            res.transitions.append(Transition("dissolve", base + t[0], base + t[1]))
            res.extend_before |= need_before
            res.extend_after |= need_after
    res.transitions = _label_fades(res.transitions, res.blacks)
    # A cut inside a fade or at its dark end is the fade's own step.
    res.cuts = [c for c in res.cuts
                if not any(t.kind != "dissolve" and t.first <= c <= t.last + 1 for t in res.transitions)]
    if not at_start and any(c - base <= margin for c in res.cuts):
        res.extend_before = True
    return res


def _label_fades(transitions: list[Transition], blacks: list[tuple[int, int]]) -> list[Transition]:
    """A dissolve into (out of) a black run is a fade out (in); merge overlapping fades."""
    starts = {s for s, _ in blacks}
    ends = {e for _, e in blacks}
    out: list[Transition] = []
    fades = [t for t in transitions if t.kind != "dissolve"]
    for t in sorted(transitions, key=lambda t: t.kind == "dissolve"):
        for f in fades:  # a dissolve touching a fade is part of it
            if t.kind == "dissolve" and f.first <= t.last + 2 and t.first <= f.last + 2:
                t = Transition(f.kind, t.first, t.last)
                break
        if t.kind == "dissolve" and (t.last + 1 in starts or t.last + 2 in starts):
            t = Transition("fade_out", t.first, t.last)
        elif t.kind == "dissolve" and (t.first - 1 in ends or t.first - 2 in ends):
            t = Transition("fade_in", t.first, t.last)
        for i, u in enumerate(out):
            if u.kind == t.kind and u.first <= t.last + 1 and t.first <= u.last + 1:
                out[i] = Transition(t.kind, min(u.first, t.first), max(u.last, t.last))
                break
        else:
            out.append(t)
    return out


def _fade_span(sig: Signatures, a: int, b: int, *, backwards: bool) -> tuple[int, int] | None:
    """Frames of piece ``[a, b)`` fading towards the black run at its end (or start)."""
    mean = sig.mean
    z = sig.z
    order = range(b - 1, a, -1) if backwards else range(a, b - 1)
    first = None
    last = None
    for j in order:
        k = j - 1 if backwards else j + 1  # the neighbour farther from black
        brighter = mean[k] - mean[j] > max(0.25, 0.015 * mean[k])
        same = sig.std[j] < 3.0 * FLAT_STD or float(1.0 - z[k] @ z[j]) < 0.25
        # A fade is a gain: contrast scales with brightness (a pan that brightens does not).
        gain = mean[k] / max(float(mean[j]), 0.5)
        scaled = sig.std[j] < 4.0 or sig.std[k] >= sig.std[j] * (1.0 + 0.4 * (gain - 1.0))
        if not (brighter and same and scaled):
            break
        if backwards:
            first, last = j, (last if last is not None else j)
        else:
            first, last = (first if first is not None else j), j
    if first is None:
        return None
    span = (first, last) if backwards else (first, last)
    if span[1] - span[0] + 1 < 2:
        return None
    return span


def _dissolves(sig: Signatures, a: int, b: int, rate: Fraction, *, at_start: bool, at_end: bool):
    """Dissolves inside piece ``[a, b)``: yields ``((first, last), need_before, need_after)``."""
    K = max(3, int(round(float(rate) * 0.4)))
    if b - a < 2 * K + 1:
        return
    dS, dH = _lag_distances(sig.take(slice(a, b)), 2 * K)
    g = np.maximum(dS / CUT_S, dH / _BLEND_H)         # g[j]: frames a+j and a+j+2K
    hot = g >= 1.0
    for s, e in _runs(hot):
        ra, rb = a + s, a + e + 2 * K                    # reference frames (pure A, pure B)
        span = _blend_span(sig, ra, rb, a, b)
        if span is None:
            continue
        need_before = s == 0 and not at_start
        need_after = e == hot.size - 1 and not at_end
        yield span, need_before, need_after


def _blend_fit(sig: Signatures, ra: int, rb: int):
    """``alpha``, relative residual and offsets ``X`` of frames ``ra..rb`` as blends of the two."""
    A = sig.thumb[ra].ravel().astype(np.float64)
    B = sig.thumb[rb].ravel().astype(np.float64)
    dAB = B - A
    norm2 = float(dAB @ dAB)
    if norm2 < 1e-6:
        return None
    X = sig.thumb[ra:rb + 1].reshape(rb - ra + 1, -1).astype(np.float64) - A
    alpha = X @ dAB / norm2
    resid = np.linalg.norm(X - alpha[:, None] * dAB[None, :], axis=1) / np.sqrt(norm2)
    return alpha, resid, X


def _mixed(alpha: np.ndarray) -> tuple[int, int] | None:
    inside = np.flatnonzero((alpha > _BLEND_EDGE) & (alpha < 1.0 - _BLEND_EDGE))
    if inside.size < 2:
        return None
    return int(inside[0]), int(inside[-1])


def _is_pan(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``b`` is ``a`` moved: a slow pan over smooth content mimics a blend."""
    ya = a[..., 0] * 0.114 + a[..., 1] * 0.587 + a[..., 2] * 0.299
    yb = b[..., 0] * 0.114 + b[..., 1] * 0.587 + b[..., 2] * 0.299
    (dx, dy), _ = cv2.phaseCorrelate(ya.astype(np.float32), yb.astype(np.float32))
    if abs(dx) < 0.5 and abs(dy) < 0.5:
        return False
    h, w = ya.shape
    moved = cv2.warpAffine(ya.astype(np.float32), np.float32([[1, 0, dx], [0, 1, dy]]), (w, h),
                           borderMode=cv2.BORDER_REPLICATE)
    m = 1 + int(np.ceil(max(abs(dx), abs(dy))))
    if 2 * m >= min(h, w):
        return False
    pa = moved[m:h - m, m:w - m].ravel()
    pb = yb[m:h - m, m:w - m].ravel()
    if pa.std() < 1e-3 or pb.std() < 1e-3:
        return False
    return float(np.corrcoef(pa, pb)[0, 1]) > 0.9


def _blend_span(sig: Signatures, ra: int, rb: int, a: int | None = None, b: int | None = None) -> tuple[int, int] | None:
    """If frames between ``ra`` and ``rb`` hold a blend of two shots, its span.

    The span is found against references at the run's ends, then refined against the
    frames just outside it (the shots move on meanwhile); the final fit must be a
    monotone blend with small residual, between references as different as a cut, and
    concentrate the change (a zoom or an animation changes evenly and fails).
    """
    fit = _blend_fit(sig, ra, rb)
    if fit is None:
        return None
    span = _mixed(fit[0])
    if span is None:
        return None
    first, last = ra + span[0], ra + span[1]
    for _ in range(4):
        na, nb = max(first - 1, ra), min(last + 1, rb)
        fit = _blend_fit(sig, na, nb) if nb - na >= 3 else None
        span = _mixed(fit[0]) if fit is not None else None
        if span is None or (na + span[0], na + span[1]) == (first, last):
            break
        first, last = na + span[0], na + span[1]
    na, nb = max(first - 1, ra), min(last + 1, rb)
    if nb - na < 3:
        return None
    fit = _blend_fit(sig, na, nb)
    if fit is None:
        return None
    alpha, resid, X = fit
    inner = slice(first - na, last - na + 1)
    al = alpha[inner]
    if float(np.mean(resid[inner])) > _BLEND_RESIDUAL:
        return None
    if al.size >= 3:
        t = np.arange(al.size, dtype=np.float64)
        corr = np.corrcoef(t, al)[0, 1]
        if not np.isfinite(corr) or corr < _BLEND_MONOTONE:
            return None
    if al.size >= 2 and np.any(np.diff(al) < -0.15):
        return None
    # The two ends differ like a cut.
    c = sig.conf
    dS = structure_distance(sig.z[na], sig.z[nb], c[na], c[nb])
    dH = colour_distance(sig.hist[na], sig.hist[nb])
    if max(dS / CUT_S, dH / _BLEND_H) < 1.0:
        return None
    if _is_pan(sig.thumb[na], sig.thumb[nb]):
        return None
    # The change concentrates in the span: compare with the steps just outside it.
    m = max(2, (last - first + 1) // 2)
    lo, hi = max(ra, na - m), min(rb, nb + m)
    steps = np.linalg.norm(np.diff(sig.thumb[lo:hi + 1].reshape(hi - lo + 1, -1).astype(np.float64), axis=0), axis=1)
    inside = steps[na - lo:nb - lo]
    sides = [x for x in (steps[:na - lo], steps[nb - lo:]) if x.size]
    calm = min((float(np.median(x)) for x in sides), default=0.0)
    if sides and float(inside.mean()) < 1.3 * calm:
        return None
    # The net change across the span beats the drift over as many frames on either side:
    # a shot that evolves steadily (moving gradients, under grain that hides the per-step
    # difference) mixes linearly with itself too, but drifts as fast outside the span.
    a = ra if a is None else a
    b = rb + 1 if b is None else b
    length = nb - na
    thumbs = sig.thumb.reshape(len(sig), -1).astype(np.float64)
    across = float(np.linalg.norm(thumbs[nb] - thumbs[na]))
    drifts = []
    for lo_, hi_ in ((max(a, na - length), na), (nb, min(b - 1, nb + length))):
        if hi_ - lo_ >= 3:
            drifts.append(float(np.linalg.norm(thumbs[hi_] - thumbs[lo_])) * length / (hi_ - lo_))
    if drifts and across < 1.5 * min(drifts):
        return None
    return first, last


# ----------------------------------------------------------------------------------------
# Assembling segments


def segments_from_events(frame_count: int, cuts: Sequence[int], blacks: Sequence[tuple[int, int]],
                         transitions: Sequence[Transition]) -> tuple[ShotSegment, ...]:
    """Segments ``[start, end)`` from cut frames, black runs and transitions.

    A dissolve's boundary is the middle of its span; fades belong to the shot they fade.
    """
    starts = {0}
    starts.update(c for c in cuts if 0 < c < frame_count)
    for s, e in blacks:
        if 0 < s < frame_count:
            starts.add(s)
        if 0 < e + 1 < frame_count:
            starts.add(e + 1)
    dissolves = [t for t in transitions if t.kind == "dissolve"]
    for t in dissolves:
        starts.add((t.first + t.last + 1) // 2)
    bounds = sorted(starts) + [frame_count]
    black_set = [(s, e) for s, e in blacks]
    segs = []
    for s, e in zip(bounds[:-1], bounds[1:]):
        is_black = any(bs <= s and e - 1 <= be for bs, be in black_set)
        t_in = t_out = None
        for t in transitions:
            if t.kind == "dissolve":
                mid = (t.first + t.last + 1) // 2
                if mid == s:
                    t_in = t.span
                if mid == e:
                    t_out = t.span
            elif t.kind == "fade_out" and s <= t.first < e and not is_black:
                t_out = t.span
            elif t.kind == "fade_in" and s <= t.last < e and not is_black:
                t_in = t.span
        segs.append(ShotSegment(s, e, is_black, t_in, t_out))
    return tuple(segs)


# ----------------------------------------------------------------------------------------
# The streaming detector


class ShotDetector:
    """Feed decoded frames (any order of consecutive ranges); ask for the boundaries.

    Runs PySceneDetect's AdaptiveDetector on the same frames (half size) for a second
    opinion on cuts (see :func:`detect_range`).
    """

    def __init__(self, rate: Fraction, *, use_pyscenedetect: bool = True) -> None:
        self.rate = Fraction(rate)
        self.signatures = SignatureBuilder()
        self._psd = None
        self._psd_cuts: list[int] = []
        self._psd_last = -2
        if use_pyscenedetect:
            from scenedetect import AdaptiveDetector

            self._psd_factory = AdaptiveDetector
        else:
            self._psd_factory = None

    def add(self, index: int, image: np.ndarray, small: np.ndarray | None = None) -> None:
        """One decoded frame (BGR uint8, any small size); ``small``: it at 64x36, if known."""
        self.signatures.add(index, image, small)
        if self._psd_factory is not None:
            from scenedetect import FrameTimecode

            if index != self._psd_last + 1 or self._psd is None:
                self._flush_psd()
                self._psd = self._psd_factory(min_scene_len=1)
            rate = self.rate if self.rate.denominator != 1 else float(self.rate)
            small = cv2.resize(image, (max(1, image.shape[1] // 2), max(1, image.shape[0] // 2)),
                               interpolation=cv2.INTER_AREA)
            self._psd_cuts += [tc.frame_num for tc in self._psd.process_frame(FrameTimecode(index, rate), small)]
            self._psd_last = index

    def _flush_psd(self) -> None:
        if self._psd is not None:
            from scenedetect import FrameTimecode

            rate = self.rate if self.rate.denominator != 1 else float(self.rate)
            self._psd_cuts += [tc.frame_num for tc in
                               self._psd.post_process(FrameTimecode(self._psd_last + 1, rate))]
            self._psd = None

    def detect(self, lo: int, hi: int, frame_count: int) -> RangeResult:
        """Detect within decoded frames ``[lo, hi)``."""
        sig = self.signatures.build(lo, hi)
        return detect_range(sig, self.rate, at_start=lo == 0, at_end=hi >= frame_count,
                            candidates=[c for c in self._psd_cuts if lo < c < hi])

    def finish(self, frame_count: int) -> ShotResult:
        """Boundaries over every decoded range (the whole file in full mode)."""
        self._flush_psd()
        results = [self.detect(lo, hi, frame_count) for lo, hi in self.signatures.ranges()]
        return combine(results, frame_count)


def combine(results: Sequence[RangeResult], frame_count: int) -> ShotResult:
    """One :class:`ShotResult` from per-range results."""
    cuts = sorted({c for r in results for c in r.cuts})
    blacks = sorted({b for r in results for b in r.blacks})
    transitions = sorted({t for r in results for t in r.transitions}, key=lambda t: (t.first, t.kind))
    segments = segments_from_events(frame_count, cuts, blacks, transitions)
    return ShotResult(cuts=tuple(cuts), transitions=tuple(transitions), blacks=tuple(blacks),
                      segments=segments)
