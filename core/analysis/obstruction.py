"""Something over the lens: a finger, a hand, a strap or a passer-by right at the camera.

What it looks like on the analysis frame: at the frame's edge, a region turns into a smooth
blur (far too close to be in focus) of a colour unlike what that part of the frame shows
around it in time, and goes again. Per frame we keep, for each cell of an 8x6 grid on the
64x36 reduction that touches the border, its mean colour and its detail (mean absolute
Laplacian); :func:`obstructed` compares every frame's border cells with their median over
the second around it.

Calibrated on the real clips of ``shared/realworld/footage`` (bench/footage_real.py): the
finger over the lens of the handheld pool clip changes a border cell by 80-128 code values
with 0.2-0.45 of its usual detail; elsewhere on the nine clips a border cell passes both
limits on 0.2 % of the good frames (a ball rushing at a hoop camera). A cell counts only when
it stays covered on two neighbouring frames: cells that flip on and off from frame to frame
(a flickering generated pattern) are picture content; the flagged range reaches EDGE_S
beyond the frames found, for the finger's partly covered coming and going.

>>> small = np.full((36, 64, 3), 120, np.uint8)
>>> border_cells(small).shape
(24, 4)
"""

from __future__ import annotations

import cv2
import numpy as np

from montage_ai.core.analysis.quality import Flag, windows_reduced
from montage_ai.core.analysis.shot_types import true_runs

#: The grid on the 64x36 reduction: rows x columns of 6x8 pixel cells.
GRID = (6, 8)
#: A cell is covered when its colour moves this far (8-bit, the largest channel) from its
#: median over REF_S seconds around...
COVER_DIFF = 60.0
#: ...while its detail falls under this share of that median's (a close, blurred object)...
COVER_DETAIL = 0.45
#: ...where the cell usually shows some detail (mean absolute Laplacian) at all.
MIN_DETAIL = 2.0
REF_S = 0.5
#: An obstruction lasts at most this long (longer, it is what the shot shows).
MAX_S = 2.0
#: Flagged this long before and after the frames found: a finger comes in and goes out
#: over a few frames that are only partly covered (below the limits above).
EDGE_S = 0.15

_BORDER = np.zeros(GRID, bool)
_BORDER[0] = _BORDER[-1] = True
_BORDER[:, 0] = _BORDER[:, -1] = True


def border_cells(small: np.ndarray) -> np.ndarray:
    """``(24, 4)`` float32: mean B, G, R and detail of each border cell of a 64x36 BGR frame."""
    rows, cols = GRID
    h, w = small.shape[:2]
    ch, cw = h // rows, w // cols
    f = small[:ch * rows, :cw * cols].astype(np.float32)
    lap = np.abs(cv2.Laplacian(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), cv2.CV_32F, ksize=3))[:ch * rows, :cw * cols]
    # Cell means by OpenCV's area reduction (whole cells: each output is its cell's mean),
    # a fifth of the cost of numpy's reshaped means.
    colour = cv2.resize(f, (cols, rows), interpolation=cv2.INTER_AREA)
    detail = cv2.resize(np.ascontiguousarray(lap), (cols, rows), interpolation=cv2.INTER_AREA)
    return np.concatenate([colour[_BORDER], detail[_BORDER][:, None]], axis=1).astype(np.float32)


def border_cells_block(smalls: np.ndarray, tinys: np.ndarray) -> np.ndarray:
    """:func:`border_cells` of ``N`` frames at once: ``(N, 24, 4)`` from their 64x36 BGR
    reductions ``(N, 36, 64, 3)`` and lumas ``(N, 36, 64)``, the same values (the cell means
    are one area reduction of the frames as one tall image, whole cells of whole frames)."""
    rows, cols = GRID
    n, h, w = smalls.shape[:3]
    ch, cw = h // rows, w // cols
    if h != ch * rows or w != cw * cols:
        return np.stack([border_cells(s) for s in smalls])
    f = smalls.astype(np.float32).reshape(n * h, w, 3)
    lap = np.concatenate([np.abs(cv2.Laplacian(t, cv2.CV_32F, ksize=3)) for t in tinys])
    colour = cv2.resize(f, (cols, rows * n), interpolation=cv2.INTER_AREA).reshape(n, rows, cols, 3)
    detail = cv2.resize(lap, (cols, rows * n), interpolation=cv2.INTER_AREA).reshape(n, rows, cols)
    return np.concatenate([colour[:, _BORDER], detail[:, _BORDER][..., None]], axis=2).astype(np.float32)


def obstructed(cells: np.ndarray, shots: list[tuple[int, int]], rate: float, chunk: int = 2048) -> list[Flag]:
    """Flagged ranges (reason ``"obstructed"``) from per-frame :func:`border_cells`
    ``(N, 24, 4)`` (NaN rows for frames not measured); ``shots``: ``(first, end)`` of
    every non-black shot (the reference never crosses a boundary)."""
    half = max(2, int(round(REF_S * rate)))
    longest = max(1, int(round(MAX_S * rate)))
    pad = max(1, int(round(EDGE_S * rate)))
    out: list[Flag] = []
    for s0, s1 in shots:
        s1 = min(s1, cells.shape[0])
        if s1 - s0 < 2 * half:
            continue
        covered_all = np.zeros((s1 - s0, cells.shape[1]), bool)
        for c0 in range(s0, s1, chunk):
            c1 = min(s1, c0 + chunk)
            lo, hi = max(s0, c0 - half), min(s1, c1 + half)
            ref = _sliding_median(cells[lo:hi], half, REF_EVERY)[c0 - lo:c1 - lo]
            cur = cells[c0:c1]
            diff = np.abs(cur[..., :3] - ref[..., :3]).max(axis=-1)
            with np.errstate(invalid="ignore"):
                covered = (diff > COVER_DIFF) & (cur[..., 3] < COVER_DETAIL * ref[..., 3]) & (ref[..., 3] > MIN_DETAIL)
            covered_all[c0 - s0:c1 - s0] = covered
        hot = _persistent(covered_all).any(axis=1)
        for a, b in true_runs(hot):
            if b - a + 1 <= longest:
                first, last = max(s0, s0 + a - pad), min(s1 - 1, s0 + b + pad)  # onset and release
                out.append(Flag(first, last, "obstructed", "something over the lens at the frame's edge"))
    return out


def _persistent(covered: np.ndarray) -> np.ndarray:
    """``covered`` (frames x cells) where the same cell is covered on a neighbouring frame too.

    Something over the lens stays for more than one frame (it moves slowly next to a frame's
    duration); a cell that flips on and off from frame to frame is picture content (a
    flickering graphic, a frame-coded test clip), not an obstruction."""
    before = np.zeros_like(covered)
    before[1:] = covered[:-1]
    after = np.zeros_like(covered)
    after[:-1] = covered[1:]
    return covered & (before | after)


#: The reference (a median over two seconds) is taken every this many frames and held for
#: the frames around it: it moves slowly, and an obstruction is compared with it cell by cell.
REF_EVERY = 4


def _sliding_median(x: np.ndarray, half: int, every: int = 1) -> np.ndarray:
    """Median over ``[t - half, t + half]`` (cut at the ends, NaN-aware) along axis 0;
    ``every > 1``: taken at the middle frame of each run of ``every`` frames and held over
    the run (a window at most ``every // 2`` frames off)."""
    n = x.shape[0]
    pad = np.concatenate([np.full((half,) + x.shape[1:], np.nan, x.dtype), x,
                          np.full((half,) + x.shape[1:], np.nan, x.dtype)])
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * half + 1, axis=0)[:n]
    # Windows without a NaN: all but the ends, in full mode.
    whole = np.lib.stride_tricks.sliding_window_view(np.isfinite(pad).all(axis=tuple(range(1, pad.ndim))),
                                                     2 * half + 1)[:n].all(axis=1)
    if every > 1 and n > every:
        centres = np.minimum(np.arange(0, n, every) + every // 2, n - 1)
        held = windows_reduced(win[centres], whole[centres], np.nanmedian, x.dtype)
        return np.repeat(held, every, axis=0)[:n]
    return windows_reduced(win, whole, np.nanmedian, x.dtype)
