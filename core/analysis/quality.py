"""Frame quality as the eye judges it: which frames of a shot an editor would never use.

Every decoded frame gets a few cheap measures (on the ~256 px analysis frame's luma and its
64x36 reduction, both made anyway): the luma's mean and spread, the global shift from the
previous frame (phase correlation) and the difference to it; every second frame and every
feature sample also gets the detail measures (:data:`DETAIL_FIELDS`: contrast-normalised
fine detail, directional gradient energy, block-edge energy on the coding grid, the latter
only when the analysis frame is at the source's own size: a rescaled frame has no grid
left), filled in between within the shot (:func:`fill_detail`). :func:`judge` turns them into flagged ranges, each
with its reason:

* ``"frozen"``: a run of identical frames (a hold, a stalled encoder).
* ``"flash"``: a short brightness spike that comes back (a camera flash, a strobe).
* ``"corrupt"``: a frame unlike both neighbours while they agree (a broken frame), or, on
  frames at source size, heavy blocking on the 8 px coding grid.
* ``"out of focus"``: fine detail under :data:`DEFOCUS_ABS` of the contrast on an absolute
  scale, or well under the shot's own sharp frames with the camera still.
* ``"motion blur"``: detail well under the shot's steady frames while the picture moves fast
  (a whip pan, a subject rushing at the lens).
* ``"shaky"``: the high-frequency part of the global motion over :data:`SHAKE_PX` of the
  frame width for a stretch.
* ``"test pattern"``: see :mod:`.patterns` (the detail names the kind).
* ``"obstructed"``: something over the lens at the frame's edge, see :mod:`.obstruction`.
* ``"blown out"`` / ``"crushed"``: most of the frame clipped to white / at black against the
  shot's own key, see :mod:`.exposure`.

Limits were calibrated on the real clips of ``shared/realworld/footage`` (bench/footage_real.py):
for instance the contrast-normalised detail of in-focus footage there lies between 0.004 and
0.06, a deliberately defocused night shot measures 0.0002.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from montage_ai.core.analysis import features as F
from montage_ai.core.analysis.shot_types import true_runs

#: Reasons a range can carry.
REASONS = ("frozen", "flash", "corrupt", "out of focus", "motion blur", "shaky", "test pattern", "obstructed",
           "blown out", "crushed")

#: Absolute defocus: fine detail energy / contrast^2 under this.
DEFOCUS_ABS = 0.0012
#: Relative blur: detail under this share of the local reference (the median detail of the
#: shot's frames within REF_S seconds).
BLUR_REL = 0.6
REF_S = 1.0
#: A whip: the camera moves at least FAST_SHIFT of the width per frame for WHIP_FRAMES...
WHIP_FRAMES = 3
#: ...and its fine detail falls under this share of the coarser detail's usual ratio, or its
#: gradients turn this much more one-directional than around it.
WHIP_SCALE = 0.8
WHIP_ANISO = 0.15
#: Fast motion: global shift per frame at least this share of the width, or the mean
#: absolute difference of the 64x36 frames (0..255) at least MOTION_DIFF.
FAST_SHIFT = 0.01
MOTION_DIFF = 6.0
#: Frozen: consecutive 64x36 frames differing by less than this (0..255) and than a quarter
#: of the shot's median step (a static camera on a static scene is not a freeze)...
FROZEN_DIFF = 0.05
#: ...for at least this many seconds.
FROZEN_S = 0.3
#: Flash: mean luma this much above both sides (8-bit) and this ratio, for at most FLASH_S.
FLASH_RISE = 25.0
FLASH_RATIO = 1.2
FLASH_S = 0.34
#: Corrupt frame: its difference to both neighbours this many times theirs to each other.
GLITCH_RATIO = 3.0
GLITCH_MIN = 8.0
#: Blocking: block-edge gradient over the rest, mean of both directions, at least this.
BLOCKING = 1.12
#: ...with the fine detail under this share of the medium detail (the real starved clip
#: measures 0.28-0.30, its pristine source 0.52).
SMEARED_SCALE = 0.4
#: Shake: high-frequency global motion per frame, as a share of the width, over this...
SHAKE_PX = 0.012
#: ...as a median over this many seconds.
SHAKE_S = 0.5


@dataclass(frozen=True)
class Flag:
    """Frames ``first..last`` (inclusive) an editor would not use, and why."""

    first: int
    last: int
    reason: str
    detail: str = ""

    def to_list(self) -> list:
        return [self.first, self.last, self.reason, self.detail]

    @classmethod
    def from_list(cls, v: Sequence) -> "Flag":
        return cls(int(v[0]), int(v[1]), str(v[2]), str(v[3]) if len(v) > 3 else "")


_FIELDS = ("fine", "std", "mean", "aniso", "block", "dx", "dy", "diff", "scale")


#: The measures of the picture's detail (two blurs, two gradients, the coding grid): the
#: analysis takes them on every :data:`DETAIL_STEP`-th frame (and every feature sample) and
#: fills the frames between from their neighbours in the shot (:func:`fill_detail`). A blur,
#: a defocus, a whip or blocking lasts frames, and the flags are medians over windows; the
#: single-frame tests (corrupt, flash, frozen) read the difference and the mean, measured on
#: every frame.
DETAIL_FIELDS = ("fine", "aniso", "block", "scale")
DETAIL_STEP = 2


def measure(gray: np.ndarray, tiny: np.ndarray, prev_tiny: np.ndarray | None,
            native: bool | tuple[bool, bool], detail: bool = True) -> tuple:
    """Per-frame measures of the analysis frame ``gray`` (uint8) and its 64x36 ``tiny``
    (uint8), ``prev_tiny`` the previous frame's; ``native``: ``gray`` is at source size
    (or ``(columns, rows)``: its columns / rows are the source's, so that direction of the
    coding grid survives); ``detail=False`` leaves the :data:`DETAIL_FIELDS` NaN (not
    measured on this frame).

    Returns values in the order of ``_FIELDS`` (NaN where not measurable).

    >>> g = np.full((36, 64), 100, np.uint8)
    >>> [round(float(x), 3) for x in measure(g, g, g, True)[:3]]
    [0.0, 0.0, 100.0]
    >>> [round(float(x), 3) for x in measure(g, g, g, True, detail=False)[:3]]
    [nan, 0.0, 100.0]
    """
    mu, sd = cv2.meanStdDev(gray)
    mean, std = float(mu[0, 0]), float(sd[0, 0])
    dx, dy, diff = _motion(tiny, prev_tiny)
    if not detail:
        nan = float("nan")
        return nan, std, mean, nan, nan, dx, dy, diff, nan
    g = gray.astype(np.float32)
    npx = float(g.size)
    # Reductions in OpenCV (one C pass each, double accumulators): 3x faster than numpy here.
    # Kernels cut at 3 sigma (OpenCV's default for float images is 4): 25 % fewer taps, the
    # detail energies within 0.2 % of the longer kernels'. The medium blur is OpenCV's
    # separable filter with GaussianBlur's own float kernel: the same values, 15 % faster.
    b1 = cv2.GaussianBlur(g, (7, 7), 1.0)
    fine = cv2.norm(g, b1, cv2.NORM_L2SQR) / npx
    b3 = cv2.sepFilter2D(b1, cv2.CV_32F, _GAUSS_MEDIUM, _GAUSS_MEDIUM)
    scale = fine / (cv2.norm(b1, b3, cv2.NORM_L2SQR) / npx + 1e-6)  # fine over medium detail: blur lowers it
    gx = cv2.Sobel(b1, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(b1, cv2.CV_32F, 0, 1, ksize=3)
    ex, ey = cv2.norm(gx, cv2.NORM_L2SQR) / npx, cv2.norm(gy, cv2.NORM_L2SQR) / npx
    exy = float(np.dot(gx.ravel(), gy.ravel())) / npx
    tr = ex + ey
    disc = float(np.sqrt(max(0.0, (ex - ey) ** 2 / 4 + exy * exy)))
    aniso = 2 * disc / tr if tr > 1e-6 else 0.0
    cols, rows = native if isinstance(native, tuple) else (native, native)
    block = _blocking(gray, cols, rows) if (cols or rows) else float("nan")
    return fine, std, mean, aniso, block, dx, dy, diff, scale


#: The medium blur of :func:`measure` (17 taps, sigma 2.8), as ``cv2.GaussianBlur`` makes its
#: kernel for float images.
_GAUSS_MEDIUM = cv2.getGaussianKernel(17, 2.8, ktype=cv2.CV_32F)


def _motion(tiny: np.ndarray, prev_tiny: np.ndarray | None) -> tuple[float, float, float]:
    """``(dx, dy, diff)`` from the previous 64x36 frame (NaN at a range's first frame)."""
    if prev_tiny is None:
        return float("nan"), float("nan"), float("nan")
    a = prev_tiny.astype(np.float32)
    b = tiny.astype(np.float32)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, F.hann_window(a.shape))
    # phaseCorrelate leaves ``a`` and ``b`` Hann-windowed (OpenCV writes the window into
    # its inputs): the difference is the windowed one, the centre counting most, as the
    # limits below were calibrated.
    return float(dx), float(dy), cv2.norm(a, b, cv2.NORM_L1) / float(b.size)


def fill_detail(m: dict[str, np.ndarray], starts: Sequence[int]) -> dict[str, np.ndarray]:
    """The :data:`DETAIL_FIELDS` of decoded frames (finite ``mean``) that were not measured,
    filled in place by linear interpolation between the measured frames of the same piece
    (pieces begin at ``starts`` and at every undecoded frame: nothing is carried across a
    boundary or a gap; a piece's ends take its nearest measured value). Returns ``m``.

    >>> m = {f: np.array([1.0, np.nan, 3.0, np.nan, 10.0, np.nan]) for f in DETAIL_FIELDS}
    >>> m["mean"] = np.zeros(6)
    >>> fill_detail(m, [4])["fine"].tolist()
    [1.0, 2.0, 3.0, 3.0, 10.0, 10.0]
    """
    decoded = np.isfinite(m["mean"])
    n = decoded.size
    cut = np.zeros(n + 1, bool)
    cut[[s for s in starts if 0 < s < n]] = True
    cut[0] = cut[n] = True
    cut[:n] |= ~decoded
    cut[1:n] |= ~decoded[:-1]
    edges = np.flatnonzero(cut).tolist()
    for f in DETAIL_FIELDS:
        x = m[f]
        missing = decoded & ~np.isfinite(x)
        if not missing.any() or not np.isfinite(x).any():
            continue
        for a, b in zip(edges[:-1], edges[1:]):
            seg = x[a:b]
            gaps = missing[a:b]
            if not gaps.any():
                continue
            known = np.flatnonzero(np.isfinite(seg))
            if known.size:
                seg[gaps] = np.interp(np.flatnonzero(gaps), known, seg[known])
    return m



def _blocking(gray: np.ndarray, cols: bool = True, rows: bool = True) -> float:
    """Gradient across the 8 px coding grid over the gradient elsewhere (1.0: no blocking),
    over the directions whose grid is intact (``cols``: vertical block edges), of the uint8
    frame ``gray``.

    The mean absolute step per column (row) is a sum of whole code values, so it is summed
    exactly in integers (OpenCV, on the uint8 frame) and divided once: the values of the
    float mean of the float frame's steps, without making those.

    >>> g = np.tile(np.repeat(np.arange(4, dtype=np.uint8) * 40, 8), (24, 1))   # 8 px steps
    >>> round(_blocking(g, True, False), 1) > 1000
    True
    """
    out = []
    h, w = gray.shape
    dirs = ([_mean_steps(gray[:, 1:], gray[:, :-1], 0, h)] if cols else []) + \
           ([_mean_steps(gray[1:], gray[:-1], 1, w)] if rows else [])
    for d in dirs:
        if d.size < 16:
            return float("nan")
        on = d[7::8]
        off = np.delete(d, np.arange(7, d.size, 8))
        out.append(float(on.mean()) / (float(off.mean()) + 1e-6))
    return float(np.mean(out))


def _mean_steps(a: np.ndarray, b: np.ndarray, axis: int, count: int) -> np.ndarray:
    """``|a - b|`` of two uint8 views, averaged along ``axis`` (``count`` values), float32 as
    ``np.abs(np.diff(float32 frame)).mean(axis)`` gives it (integer sums are exact in float32
    below 2**24; the mean divides in float64 and rounds to float32)."""
    sums = cv2.reduce(cv2.absdiff(a, b), axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    return (sums / count).astype(np.float32)


class Measures:
    """Per-frame measures of one file, by frame index."""

    def __init__(self) -> None:
        self._rows: dict[int, tuple] = {}
        self.patterns: dict[int, str | None] = {}

    def add(self, index: int, row: tuple) -> None:
        self._rows[int(index)] = row

    def __contains__(self, index: int) -> bool:
        return index in self._rows

    def arrays(self, n: int) -> dict[str, np.ndarray]:
        """Every measure as an array of ``n`` frames (NaN where a frame was not decoded)."""
        out = {f: np.full(n, np.nan) for f in _FIELDS}
        for i, row in self._rows.items():
            if 0 <= i < n:
                for f, v in zip(_FIELDS, row):
                    out[f][i] = v
        return out


def detail(m: dict[str, np.ndarray]) -> np.ndarray:
    """Contrast-normalised fine detail per frame (fine detail energy / luma variance)."""
    return m["fine"] / np.maximum(m["std"], 6.0) ** 2


def judge(m: dict[str, np.ndarray], shots: Sequence[tuple[int, int]], rate: float, width: int,
          patterns: dict[int, str | None] | None = None, step: int = 1) -> list[Flag]:
    """Flagged ranges of a file from its per-frame measures :meth:`Measures.arrays`.

    ``shots``: ``(first, end_exclusive)`` of every non-black shot (references such as "the
    shot's sharp frames" are per shot; nothing crosses a boundary); ``width``: the width of
    the 64x36 reduction the shifts were measured on (64); ``patterns``: the test-pattern
    kind of the frames checked (every ``step``-th).
    """
    flags: list[Flag] = []
    n = m["fine"].size
    det = detail(m)
    speed = np.hypot(m["dx"], m["dy"]) / float(width)
    for s0, s1 in shots:
        s1 = min(s1, n)
        if s1 - s0 < 1:
            continue
        sl = slice(s0, s1)
        frozen = _frozen(m["diff"][sl], s0, rate)
        flags += frozen
        flags += _flashes(m["mean"][sl], s0, rate)
        flags += _glitches(m["diff"][sl], m, s0, s1)
        held = np.zeros(s1 - s0, bool)
        for f in frozen:
            held[f.first - s0:f.last - s0 + 1] = True
        flags += _blur(np.where(held, np.nan, det[sl]), speed[sl], m["diff"][sl], m["std"][sl], s0, rate)
        flags += _whips(speed[sl], m["scale"][sl], m["aniso"][sl], s0, rate)
        flags += _blocky(m["block"][sl], m["scale"][sl], s0)
        flags += _shake(m["dx"][sl], m["dy"][sl], s0, rate, width)
        if patterns:
            flags += _patterns(patterns, s0, s1, step)
    # The frames either side of a smear or a spike are part of it (onset, decay).
    flags = [Flag(max(_shot_of(f, shots)[0], f.first - 1), min(_shot_of(f, shots)[1] - 1, f.last + 1), f.reason, f.detail)
             if f.reason in ("motion blur", "flash", "corrupt") else f for f in flags]
    return merge(flags)


def _shot_of(f: Flag, shots: Sequence[tuple[int, int]]) -> tuple[int, int]:
    for s0, s1 in shots:
        if s0 <= f.first < s1:
            return s0, s1
    return f.first, f.last + 1


def merge(flags: Sequence[Flag]) -> list[Flag]:
    """Overlapping or touching flags of the same reason joined; sorted by first frame."""
    out: list[Flag] = []
    for f in sorted(flags, key=lambda f: (f.reason, f.first)):
        if out and out[-1].reason == f.reason and f.first <= out[-1].last + 1:
            last = out[-1]
            out[-1] = Flag(last.first, max(last.last, f.last), last.reason, last.detail or f.detail)
        else:
            out.append(f)
    return sorted(out, key=lambda f: (f.first, f.reason))


def _frozen(diff: np.ndarray, base: int, rate: float) -> list[Flag]:
    need = max(4, int(round(FROZEN_S * rate)))
    known = diff[np.isfinite(diff)]
    if not known.size:
        return []
    limit = min(FROZEN_DIFF, 0.25 * float(np.median(known)))
    still = diff < limit  # diff[j]: frame j against j-1
    out = []
    for a, b in true_runs(still):
        first = max(0, a - 1)  # the frame the run repeats is held too
        if b - first + 1 >= need:
            out.append(Flag(base + first, base + b, "frozen", f"{b - first + 1} identical frames"))
    return out


def _flashes(mean: np.ndarray, base: int, rate: float) -> list[Flag]:
    n = mean.size
    longest = max(1, int(round(FLASH_S * rate)))
    hot = np.zeros(n, bool)
    if n >= 3:
        # A flash rises over what comes before *and* after it (the darker side of each):
        # the lowest of the ``longest`` frames before j and of those after it.
        lo_b = _window_reduce(mean, longest, 0, np.nanmin)[:n]      # frames j-longest .. j-1
        lo_a = _window_reduce(mean, 0, longest, np.nanmin)[1:n + 1]  # frames j+1 .. j+longest
        ok = np.isfinite(mean) & np.isfinite(lo_b) & np.isfinite(lo_a)
        ok[0] = ok[-1] = False
        ref = np.maximum(lo_b, lo_a)
        with np.errstate(invalid="ignore"):
            hot = ok & (mean - ref >= FLASH_RISE) & (mean >= FLASH_RATIO * ref)
    out = []
    for a, b in true_runs(hot):
        if b - a + 1 <= longest:
            out.append(Flag(base + a, base + b, "flash", f"brightness spike of {b - a + 1} frames"))
    return out


def _window_reduce(x: np.ndarray, before: int, after: int, fn) -> np.ndarray:
    """``fn`` (NaN-aware) over ``x[j - before : j + after]`` for ``j = 0 .. n`` (windows cut
    at the ends; NaN where a window holds no finite value). ``n + 1`` values."""
    n = x.size
    pad = np.concatenate([np.full(before, np.nan), np.asarray(x, np.float64), np.full(after + 1, np.nan)])
    win = np.lib.stride_tricks.sliding_window_view(pad, before + after)[:n + 1] if before + after else None
    if fn in _PLAIN and win is not None:
        whole = np.lib.stride_tricks.sliding_window_view(np.isfinite(pad), before + after)[:n + 1].all(axis=1)
        return windows_reduced(win, whole, fn, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        return fn(win, axis=1)


_PLAIN = {np.nanmedian: np.median, np.nanmin: np.min, np.nanmax: np.max}


def windows_reduced(win: np.ndarray, whole: np.ndarray, fn, dtype) -> np.ndarray:
    """``fn`` (``np.nanmedian``, ``np.nanmin`` or ``np.nanmax``) over the last axis of the
    windows ``win``: those without a NaN (``whole``, over the first axis) take the plain
    reduction, the same values at a fraction of the NaN-aware path's time; only the others
    go through ``fn`` (all-NaN windows give NaN)."""
    out = np.empty(win.shape[:-1], dtype)
    if whole.any():
        out[whole] = _PLAIN[fn](win[whole], axis=-1)
    if not whole.all():
        if fn is np.nanmedian and win.ndim >= 2 and win.shape[-1] < NAN_MEDIAN_ROWS:
            out[~whole] = nan_median_last(win[~whole])
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out[~whole] = fn(win[~whole], axis=-1)
    return out


#: Rows shorter than this take :func:`nan_median_last`: numpy's NaN-aware median goes through a
#: masked array below 600 values a row (the path it copies), and another way above.
NAN_MEDIAN_ROWS = 600


def nan_median_last(win: np.ndarray) -> np.ndarray:
    """``np.nanmedian(win, axis=-1)`` (NaN where a row holds no number), to the last bit, by
    the same steps numpy takes for short rows without its masked array's overhead (several
    times slower): each row ordered by ``argsort`` with NaN read as +inf (so a row's ``k``
    numbers come first, equal values such as -0.0 and 0.0 in numpy's own order), and its median
    the sum of the middle two halved, in the input's float type (for an odd ``k`` both are the
    middle one).

    >>> nan_median_last(np.array([[3.0, np.nan, 1.0, 2.0], [np.nan, 4.0, 1.0, np.nan], [np.nan] * 4]))
    array([2. , 2.5, nan])
    """
    missing = np.isnan(win)
    filled = np.where(missing, np.inf, win)
    order = np.argsort(filled, axis=-1)
    count = (win.shape[-1] - np.count_nonzero(missing, axis=-1))[..., None]
    high = count // 2
    low = np.where(count % 2 == 1, high, high - 1)
    pick = np.take_along_axis(order, np.concatenate([np.maximum(low, 0), high], axis=-1), axis=-1)
    middle = np.take_along_axis(filled, pick, axis=-1)
    total = middle.sum(axis=-1)  # as numpy sums them (a -0.0 pair gives 0.0)
    return np.where(count[..., 0] == 0, np.nan, total / 2).astype(win.dtype, copy=False)


def _nanmin(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.min()) if x.size else float("nan")


def _glitches(diff: np.ndarray, m: dict[str, np.ndarray], s0: int, s1: int) -> list[Flag]:
    """Single frames unlike both neighbours (which agree with each other)."""
    out = []
    mean = m["mean"]
    for j in range(1, diff.size - 1):
        into, outof = diff[j], diff[j + 1]
        if not (np.isfinite(into) and np.isfinite(outof)) or min(into, outof) < GLITCH_MIN:
            continue
        i = s0 + j
        # The neighbours' own difference, estimated from luma means and the calmer steps.
        around = [x for x in (diff[j - 1], diff[j + 2] if j + 2 < diff.size else np.nan) if np.isfinite(x)]
        calm = float(np.median(around)) if around else 0.0
        if min(into, outof) >= GLITCH_RATIO * max(calm, 1.0) and abs(mean[i - 1] - mean[i + 1]) < 0.3 * min(into, outof) * 4:
            if mean[i] - max(mean[i - 1], mean[i + 1]) < FLASH_RISE:  # a flash is reported as such
                out.append(Flag(i, i, "corrupt", "frame unlike both neighbours"))
    return out


def _blur(det: np.ndarray, speed: np.ndarray, diff: np.ndarray, std: np.ndarray, base: int,
          rate: float) -> list[Flag]:
    out = []
    valid = np.isfinite(det) & (std >= 6.0)
    if not valid.any():
        return out
    absolute = valid & (det < DEFOCUS_ABS)
    if absolute.sum() >= 0.6 * valid.sum():  # the whole shot is soft: it is the shot
        return [Flag(base + int(np.flatnonzero(valid)[0]), base + int(np.flatnonzero(valid)[-1]),
                     "out of focus", f"detail {float(np.nanmedian(det[valid])):.4f} (in focus: > {DEFOCUS_ABS})")]
    for a, b in true_runs(absolute):
        if b - a >= 2:
            out.append(Flag(base + a, base + b, "out of focus", "detail under the absolute limit"))
    moving = (speed >= FAST_SHIFT) | (diff >= MOTION_DIFF)
    ref = _local_median(np.where(valid, det, np.nan), max(3, int(round(REF_S * rate))))
    soft = valid & (det < BLUR_REL * ref)
    for a, b in true_runs(soft & moving):
        share = float(np.nanmean(det[a:b + 1] / ref[a:b + 1]))
        out.append(Flag(base + a, base + b, "motion blur", f"detail {share:.2f}x the shot's frames around it"))
    for a, b in true_runs(soft & ~moving & (det < 0.4 * ref)):
        if b - a >= 2:
            out.append(Flag(base + a, base + b, "out of focus", "detail far under the shot's frames around it"))
    return out


def _local_median(x: np.ndarray, half: int) -> np.ndarray:
    """Median of the finite values of ``x`` within ``half`` frames of each (NaN-aware)."""
    if not x.size:
        return np.full(0, np.nan)
    return _window_reduce(x, half, half + 1, np.nanmedian)[:x.size]


def _whips(speed: np.ndarray, scale: np.ndarray, aniso: np.ndarray, base: int, rate: float) -> list[Flag]:
    """Fast camera moves that smear the picture (a whip pan, a rushed tilt): the finest detail
    drops against the coarser (``scale``) or the gradients turn one way (``aniso``) while the
    camera moves; a fast pan that stays crisp is left alone."""
    half = max(3, int(round(REF_S * rate)))
    ref_scale = _local_median(scale, half)
    ref_aniso = _local_median(aniso, half)
    smeared = (scale < WHIP_SCALE * ref_scale) | (aniso > ref_aniso + WHIP_ANISO)
    fast = np.isfinite(speed) & (speed >= FAST_SHIFT) & smeared
    out = []
    for a, b in true_runs(fast):
        if b - a + 1 >= WHIP_FRAMES:
            out.append(Flag(base + a, base + b, "motion blur",
                            f"fast camera move, {float(np.nanmean(speed[a:b + 1])) * 100:.1f} % of the width per frame"))
    return out


def _blocky(block: np.ndarray, scale: np.ndarray, base: int) -> list[Flag]:
    """Blocking on the coding grid where the fine detail is smeared away too (a crisp
    synthetic picture can line up with the grid; a starved encoder also loses the detail)."""
    hot = np.isfinite(block) & (block >= BLOCKING) & (scale < SMEARED_SCALE)
    out = []
    for a, b in true_runs(hot):
        if b - a >= 1:
            out.append(Flag(base + a, base + b, "corrupt", "blocking on the coding grid"))
    return out


def _shake(dx: np.ndarray, dy: np.ndarray, base: int, rate: float, width: int) -> list[Flag]:
    n = dx.size
    k = 5
    if n < 2 * k:
        return []
    s = np.stack([np.nan_to_num(dx), np.nan_to_num(dy)], axis=1)
    pad = np.pad(s, ((k // 2, k - 1 - k // 2), (0, 0)), mode="edge")
    kernel = np.ones(k) / k
    trend = np.stack([np.convolve(pad[:, i], kernel, mode="valid") for i in range(2)], axis=1)
    jitter = np.hypot(*(s - trend).T) / float(width)
    w = max(3, int(round(SHAKE_S * rate)))
    med = _window_reduce(jitter, w // 2, w // 2 + 1, np.nanmedian)[:n]
    out = []
    for a, b in true_runs(med > SHAKE_PX):
        if b - a + 1 >= w:
            out.append(Flag(base + a, base + b, "shaky", f"jitter {float(med[a:b + 1].mean()) * 100:.1f} % of the width per frame"))
    return out


def _patterns(patterns: dict[int, str | None], s0: int, s1: int, step: int) -> list[Flag]:
    checked = sorted(i for i in patterns if s0 <= i < s1)
    out = []
    half = max(1, step)
    for i in checked:
        kind = patterns[i]
        if kind:
            out.append(Flag(max(s0, i - half), min(s1 - 1, i + half), "test pattern", kind))
    hits = [i for i in checked if patterns[i]]
    if checked and len(hits) >= 0.5 * len(checked):
        kinds = sorted({patterns[i] for i in hits})
        out.append(Flag(s0, s1 - 1, "test pattern", ", ".join(kinds)))
    return out
