"""Fast (coarse-to-fine) mode of the footage analysis: keyframes first, full decoding only
of the keyframe intervals where the picture may have changed (see :mod:`.footage`).

Measured slower than full mode on the real clips of bench/footage_real.py, so ``auto``
never picks it; kept for a first look at long static takes with short GOPs.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

from montage_ai.core.analysis.frame_work import reduce_frame
from montage_ai.core.analysis.shots import _CUT_H, _CUT_S, PERSIST_FRAMES, ShotResult, coarse_distances
from montage_ai.core.media.decode import Frame, PacketTable, decode_frames
from montage_ai.core.media.probe import MediaInfo

log = logging.getLogger(__name__)

def coarse_to_fine(path: str, media: MediaInfo, table: PacketTable, collector: Any,
                    hwaccel: str | None, cancel: Callable[[], bool] | None) -> ShotResult:
    """Keyframes first; full decoding only where consecutive keyframes differ.

    Keyframes are decoded in one pass (no loop filter: they are intra-coded) and compared
    with :func:`~.shots.coarse_distances`, which ignores brightness, grain, evolving texture
    and camera movement. Each run of differing keyframe pairs becomes one interval, decoded
    exactly (single-threaded ffmpeg, two at a time, starting while the keyframe pass is
    still running). The shot detector then runs per decoded range and asks for more
    frames where an event touches a range's edge; those are decoded in one batch per round.
    """
    n = table.frame_count
    keys = sorted({0} | {int(k) for k in table.keyframes})
    margin = PERSIST_FRAMES + 2
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="decode")
    jobs: list[Future] = []

    # Intervals decode in software: each is its own short ffmpeg process, and opening a
    # hardware decoder costs more than decoding a few GOPs (measured on an H200 with NVDEC:
    # a 30 s 1080p clip took 2.05 s with -hwaccel cuda against 0.86 s on 16 CPU cores, and
    # fast mode 5.86 s against 3.24 s). The keyframe pass, one long process, keeps hwaccel.
    interval_hwaccel = None

    def submit(lo: int, hi: int) -> None:
        # Long intervals are split at keyframes (each piece decodes on its own) so that
        # both workers share them.
        lo, hi = max(0, lo), min(n, hi)
        start = lo
        for k in keys[bisect_right(keys, lo):bisect_left(keys, hi)]:
            if k - start >= _PIECE_FRAMES and hi - k >= _PIECE_FRAMES:
                jobs.append(pool.submit(_decode_list, path, media, table, start, k, interval_hwaccel, cancel))
                start = k
        if hi > start:
            jobs.append(pool.submit(_decode_list, path, media, table, start, hi, interval_hwaccel, cancel))

    def after(k: int) -> int:
        """The frame ``margin`` past the keyframe following ``k`` (or the end)."""
        j = bisect_right(keys, k)
        return min(n, keys[j] + margin) if j < len(keys) else n

    try:
        # 1. Keyframes, compared as they arrive; each run of differing pairs is submitted.
        prev: tuple[int, np.ndarray] | None = None
        run_lo: int | None = None
        for frame in decode_frames(path, media=media, keyframes_only=True, table=table, hwaccel=hwaccel,
                                   cancel=cancel, pix_fmt="yuv420p"):
            collector.add(frame, force_sample=True, detect=False)
            small = reduce_frame(frame.image)[0].astype(np.float32)
            if prev is not None:
                if _keyframes_differ(prev[1], small):
                    run_lo = prev[0] if run_lo is None else run_lo
                elif run_lo is not None:
                    submit(run_lo, prev[0] + margin)
                    run_lo = None
            prev = (frame.index, small)
            _drain(jobs, collector, wait=False)  # decoded frames do not pile up in memory
        # The last GOP is always decoded (its end cannot be seen from a keyframe).
        submit(prev[0] if run_lo is None else run_lo, n)
        _drain(jobs, collector)
        # 2. Detect per decoded range; grow the ranges the detector cannot decide yet.
        cache: dict[tuple[int, int], Any] = {}
        for _ in range(64):
            for lo, hi in collector.detector.signatures.ranges():
                if (lo, hi) in cache or hi - lo < 2:
                    continue
                res = cache[(lo, hi)] = collector.detector.detect(lo, hi, n)
                if res.extend_before and lo > 0:
                    submit(table.keyframe_at_or_before(lo - 1), lo)
                if res.extend_after and hi < n:
                    submit(hi, after(hi))
            if not jobs:
                break
            _drain(jobs, collector)
    finally:
        for job in jobs:
            job.cancel()
        pool.shutdown(wait=True)
    log.info("%s: fast mode decoded %d of %d frames fully, %d keyframes", path,
             len(collector.detector.signatures), n, len(keys))
    return collector.detector.finish(n)


def _decode_list(path: str, media: MediaInfo, table: PacketTable, lo: int, hi: int, hwaccel: str | None,
                 cancel: Callable[[], bool] | None) -> list[Frame]:
    """Frames ``[lo, hi)`` (run on a worker thread; one ffmpeg thread, two workers)."""
    return list(decode_frames(path, media=media, start_frame=lo, end_frame=hi, table=table,
                              hwaccel=hwaccel, threads=1, cancel=cancel, pix_fmt="yuv420p"))


def _drain(jobs: list[Future], collector: Any, wait: bool = True) -> None:
    """Feed the frames of submitted jobs to the collector, in submission order: all of
    them, or (``wait=False``) those at the head of the queue that are done already."""
    while jobs and (wait or jobs[0].done()):
        for frame in jobs.pop(0).result():
            collector.add(frame)


#: Decoded intervals longer than this are split at keyframes between the two workers.
_PIECE_FRAMES = 48
#: Keyframe pairs closer than these (coarse structure, colour) hide no boundary.
_KEY_S = 0.5 * _CUT_S
_KEY_H = _CUT_H
#: Mean luma under which a keyframe may be part of a fade or black run.
_KEY_DARK = 40.0


def _keyframes_differ(a: np.ndarray, b: np.ndarray) -> bool:
    """Might a boundary lie between keyframes ``a`` and ``b`` (64x36 float32 BGR)?

    Yes when their coarse structure or colour differ (thresholds well under a cut's: a
    cut's two sides differ by at least ``_CUT_S`` / ``_CUT_H`` frame to frame) or either
    is dark (a fade or black run may start or end between them). A brightness change
    alone is never a boundary, so it is not a reason to look.
    """
    if min(float(a.mean()), float(b.mean())) < _KEY_DARK:
        return True
    d_s, d_h = coarse_distances(a, b)
    return d_s >= _KEY_S or d_h >= _KEY_H
