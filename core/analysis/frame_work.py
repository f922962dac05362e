"""The per-frame work of the footage analysis that depends on nothing but the frame (and
the one before it), run on worker threads while the caller keeps the ordered, stateful part
(shot detector, per-file tables); on two cores or fewer, in line on the caller's thread
(:func:`default_workers`).

OpenCV and numpy release the GIL inside their loops, so the reductions, blurs, phase
correlations and saliency of several frames run at the same time as the decode and as
the caller's own work. Results come back in frame order and are the same values the
serial path computes (:func:`work_on`, one function for both).

Frames come from the decoder as planar 4:2:0 (I420, ``decode_frames(pix_fmt="yuv420p")``):
the Y plane is the luma the measures need (expanded from limited to full range by a table,
:data:`Y_FULL`), so the full-size frame is never converted to colour; only its 64x36
reduction is (:func:`reduce_block_i420`). Packed BGR frames (tests, other callers) take the
same path through :func:`reduce_block`.

>>> frames = [Frame(i, i / 25, np.full((36, 64, 3), 10 * i, np.uint8)) for i in range(3)]
>>> [(f.index, w.tiny.shape) for f, w in worked_frames(iter(frames), step=2, native=False)]
[(0, (36, 64)), (1, (36, 64)), (2, (36, 64))]
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np

from montage_ai.core.analysis import features as F
from montage_ai.core.analysis import moments as M
from montage_ai.core.analysis import obstruction as OB
from montage_ai.core.analysis import patterns as P
from montage_ai.core.analysis import quality as Q
from montage_ai.core.analysis.pools import cores, done, in_line, settle, shared_pool
from montage_ai.core.analysis.shot_signatures import frame_signatures
from montage_ai.core.media.decode import Frame

#: Frames per job handed to a worker, worked on as one block (amortises the hand-over and
#: the per-call cost of the block-wise reductions; small enough to keep all workers busy on
#: short clips).
BATCH = 16


@dataclass(frozen=True)
class FrameResult:
    """What one frame gives the analysis (``sample`` and after: sampled frames only)."""

    small: np.ndarray           # 64x36 BGR (INTER_AREA), shared by detector and features
    tiny: np.ndarray            # its luma
    measure: tuple              # :func:`.quality.measure`
    sample: tuple | None = None  # the feature sample (see ``_Collector._features``)
    pattern: str | None = None
    faces: int = 0
    subject: float = 0.0
    jpeg: bytes | None = None
    signature: tuple | None = None  # the shot detector's :func:`.shot_signatures.frame_signature`
    cells: np.ndarray | None = None   # :func:`.obstruction.border_cells`


#: The fields of a feature sample (:func:`features`), in order: the judges that read a
#: sample row (:mod:`.exposure`, :mod:`.flag_reasons`, the shot scores) index it by these.
SAMPLE_FIELDS = ("motion", "shift", "sharpness", "exposure", "clipped_high", "clipped_low", "colourfulness")


def features(luma: np.ndarray, small: np.ndarray, tiny: np.ndarray, prev: np.ndarray | None,
             shift: tuple[float, float] | None = None) -> tuple:
    """The :data:`SAMPLE_FIELDS` of a sampled frame;
    ``shift``: the global shift from ``prev``, when measured already (the same phase
    correlation as :func:`.features.global_shift_px`)."""
    hi, lo = F.clipped_fracs(luma)
    if prev is not None:
        motion = F.motion_energy_frac(prev, tiny)
        shift = F.global_shift_px(prev, tiny) if shift is None else shift
    else:
        motion, shift = None, None
    return (motion, shift, F.sharpness_laplacian_var(luma), float(luma.mean()) / 255.0, hi, lo,
            F.colourfulness(small))


def work_on(image: np.ndarray, prev_tiny: np.ndarray | None, sample: bool, native: bool | tuple[bool, bool],
            jpeg: bool = False, detail: bool = True) -> FrameResult:
    """Everything the analysis computes from one frame ``image`` (BGR uint8 at analysis
    size, or I420: see :func:`is_i420`) and the previous frame's ``tiny`` (None at a file's
    or a range's first frame); ``detail``: measure the picture's detail too (always on a
    sample; see :data:`.quality.DETAIL_STEP`)."""
    small, tiny, luma = reduce_frame(image)
    return _work_reduced(image, small, tiny, luma, prev_tiny, sample, native, jpeg, OB.border_cells(small),
                         detail=detail)


def measures_detail(index: int, sample: bool) -> bool:
    """Does frame ``index`` of a full decode get the detail measures (see :data:`.quality.DETAIL_STEP`)?"""
    return sample or index % Q.DETAIL_STEP == 0


def is_i420(image: np.ndarray) -> bool:
    """Is ``image`` an I420 frame ``(h * 3 // 2, w)`` (2-D) rather than packed BGR ``(h, w, 3)``?"""
    return image.ndim == 2


def reduce_frame(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(small, tiny, luma)`` of one frame (BGR or I420), as :func:`reduce_block` /
    :func:`reduce_block_i420` make them for a block."""
    smalls, tinys, lumas = reduce_block_i420(image[None]) if is_i420(image) else reduce_block(image[None])
    return smalls[0], tinys[0], lumas[0]


def tiny_of(image: np.ndarray) -> np.ndarray:
    """The ``tiny`` of :func:`reduce_frame` alone (the previous frame's, which a block of frames
    needs for its first frame's motion): for I420 the luma's reduction only, the same steps as
    :func:`reduce_block_i420` takes for it, without the chroma and the colour conversion."""
    if not is_i420(image):
        return reduce_frame(image)[1]
    h = image.shape[0] * 2 // 3
    luma = cv2.LUT(image.reshape(1, -1)[:, :h * image.shape[1]], Y_FULL).reshape(1, h, image.shape[1])
    return _reduce_tall(luma, 64, 36)[0]


def to_bgr(image: np.ndarray) -> np.ndarray:
    """The frame as packed BGR (an I420 frame converted, BT.601 limited range)."""
    return cv2.cvtColor(image, cv2.COLOR_YUV2BGR_I420) if is_i420(image) else image


#: Limited-range luma code values (16..235) to full range (0..255), BT.601: the luma of the
#: BGR frame a player shows (what ``cvtColor(BGR2GRAY)`` of ffmpeg's RGB conversion gave,
#: within a code value or two), so every absolute limit keeps its meaning.
Y_FULL = np.clip(np.round((np.arange(256) - 16) * (255.0 / 219.0)), 0, 255).astype(np.uint8)


def _yuv_to_bgr_matrix() -> np.ndarray:
    """3x4 affine map from (full-range luma, Cb, Cr) to (B, G, R), BT.601 limited-range chroma."""
    k = 255.0 / 224.0
    rows = [(1.0, 1.772 * k, 0.0), (1.0, -0.344136 * k, -0.714136 * k), (1.0, 0.0, 1.402 * k)]
    m = np.zeros((3, 4), np.float32)
    for r, (a, b, c) in enumerate(rows):
        m[r, :3] = (a, b, c)
        m[r, 3] = -128.0 * (b + c)
    return m


_YCC_TO_BGR = _yuv_to_bgr_matrix()


def reduce_block_i420(planes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(smalls, tinys, lumas)`` of a block of I420 frames ``(N, h * 3 // 2, w)`` uint8:
    ``lumas`` the full-size luma (the Y plane through :data:`Y_FULL`), ``tinys`` its 64x36
    ``INTER_AREA`` reduction, ``smalls`` the 64x36 BGR frame made from ``tinys`` and the
    chroma planes reduced to 64x36 the same way (BT.601). Only 64x36 pixels a frame are
    converted to colour; the reductions run over the block as one tall image where the
    factors are whole (as :func:`reduce_block`)."""
    n, rows, w = planes.shape
    h = rows * 2 // 3
    flat = planes.reshape(n, -1)
    # The table reads the Y planes in place (one 2-D view, a frame a row) and writes them
    # out contiguous: one pass, no copy first.
    lumas = cv2.LUT(flat[:, :h * w], Y_FULL).reshape(n, h, w)
    tinys = _reduce_tall(lumas, 64, 36)
    q = (h // 2) * (w // 2)
    # Both chroma planes of every frame in one copy, all U planes then all V planes, and
    # reduced as one block of 2N small frames (each its own: the same values as plane by plane).
    uv = np.ascontiguousarray(flat[:, h * w:].reshape(n, 2, q).transpose(1, 0, 2)).reshape(2 * n, h // 2, w // 2)
    chroma = _reduce_tall(uv, 64, 36)
    ycc = np.stack([tinys, chroma[:n], chroma[n:]], axis=-1).reshape(n * 36, 64, 3)
    smalls = cv2.transform(ycc, _YCC_TO_BGR).reshape(n, 36, 64, 3)
    return smalls, tinys, lumas


def _reduce_tall(frames: np.ndarray, w: int, h: int) -> np.ndarray:
    """Each of ``frames`` ``(N, fh, fw[, channels])`` (C-contiguous) reduced to ``(h, w)`` by
    ``INTER_AREA``: one call over the frames as one tall image when the factors are whole (an
    area reduction by whole factors averages whole blocks, none across two frames), else frame
    by frame (a fractional reduction's weights are laid out per frame)."""
    n, fh, fw = frames.shape[:3]
    rest = frames.shape[3:]
    if fh % h == 0 and fw % w == 0:
        tall = frames.reshape((n * fh, fw) + rest)
        return cv2.resize(tall, (w, h * n), interpolation=cv2.INTER_AREA).reshape((n, h, w) + rest)
    return np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in frames])


def _work_reduced(image: np.ndarray, small: np.ndarray, tiny: np.ndarray, luma: np.ndarray,
                  prev_tiny: np.ndarray | None, sample: bool, native: bool | tuple[bool, bool], jpeg: bool,
                  cells: np.ndarray, signature: tuple | None = None, detail: bool = True) -> FrameResult:
    """:func:`work_on` from the frame's reductions, made already (one frame or a block)."""
    row = Q.measure(luma, tiny, prev_tiny, native, detail or sample)
    if not sample:
        return FrameResult(small, tiny, row, signature=signature, cells=cells)
    buf = jpeg_of(image) if jpeg else None
    shift = (float(row[5]), float(row[6])) if prev_tiny is not None else None  # measure's dx, dy
    return FrameResult(small, tiny, row, features(luma, small, tiny, prev_tiny, shift),
                       P.pattern_kind(None, small, gray=luma), M.count_faces(luma), M.subject_strength(tiny), buf,
                       signature, cells)


def jpeg_of(image: np.ndarray) -> bytes | None:
    """The frame (BGR or I420) as a JPEG thumbnail (quality 85), or None if it cannot be encoded."""
    ok, enc = cv2.imencode(".jpg", to_bgr(image), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return enc.tobytes() if ok else None


def reduce_block(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(smalls, tinys, lumas)`` of a block of frames ``(N, h, w, 3)`` BGR uint8 (C-contiguous):
    each frame's 64x36 ``INTER_AREA`` reduction, its luma, and the full frame's luma: the
    same values as frame by frame (:func:`work_on`), one OpenCV call each where the frames
    can be one tall image (a colour conversion works pixel by pixel; an area reduction by
    whole factors averages whole blocks, none across two frames)."""
    n, h, w = images.shape[:3]
    tall = images.reshape(n * h, w, 3)
    lumas = cv2.cvtColor(tall, cv2.COLOR_BGR2GRAY).reshape(n, h, w)
    smalls = _reduce_tall(images, 64, 36)
    tinys = cv2.cvtColor(smalls.reshape(n * 36, 64, 3), cv2.COLOR_BGR2GRAY).reshape(n, 36, 64)
    return smalls, tinys, lumas


def default_workers() -> int:
    """Worker threads: none on a machine of two cores or fewer (the work runs in line on the
    caller's thread), else one per core beyond the caller's, two to four.

    On two cores ffmpeg's decode takes about 1.4 of them, so worker threads only share the
    rest, and handing frames to them costs CPU: ``bench/footage_threads.py --repeat 5`` on the
    nine real clips, two idle cores, gave this process 2.46-2.61 s of CPU in line against
    2.91-3.29 s with two workers (medians), the wall time the same or less (1.53-1.58x the
    plain decode against 1.60-1.69x). More cores were not lent to measure; there the workers
    run beside the decode."""
    return 0 if in_line() else max(2, min(4, cores() - 1))


def worked_frames(frames: Iterator[Frame], *, step: int, native: bool | tuple[bool, bool], jpeg: bool = False,
                  workers: int | None = None) -> Iterator[tuple[Frame, FrameResult]]:
    """``(frame, result)`` for every frame of ``frames`` (consecutive indices), in order;
    frame ``i`` is a sample when ``i % step == 0``. At most ``4 * workers`` jobs are in
    flight, so decoded frames never pile up; ``workers`` 0 (the default on two cores, see
    :func:`default_workers`): each block worked on in line, on the caller's thread."""
    workers = default_workers() if workers is None else workers
    pool = shared_pool("frame-work", workers) if workers > 0 else None  # made once a process (see .pools)
    jobs: deque[tuple[list[Frame], Future]] = deque()
    last: Frame | None = None

    def submit(batch: list[Frame], before: Frame | None) -> None:
        if pool is None:
            jobs.append((batch, done(_work_batch(batch, before, step, native, jpeg))))
        else:
            jobs.append((batch, pool.submit(_work_batch, batch, before, step, native, jpeg)))

    try:
        batch: list[Frame] = []
        before: Frame | None = None
        for frame in frames:
            if batch and frame.index != batch[-1].index + 1:
                submit(batch, before)
                before, batch = None, []
            elif not batch:
                before = last if last is not None and last.index == frame.index - 1 else None
            batch.append(frame)
            last = frame
            if len(batch) >= BATCH:
                submit(batch, before)
                batch = []
                while len(jobs) > 4 * workers or (jobs and jobs[0][1].done()):
                    yield from _results(jobs.popleft())
        if batch:
            submit(batch, before)
        while jobs:
            yield from _results(jobs.popleft())
    finally:
        settle(job for _, job in jobs)


def _results(job: tuple[list[Frame], Future]) -> Iterator[tuple[Frame, FrameResult]]:
    batch, future = job
    yield from zip(batch, future.result())


def _work_batch(batch: list[Frame], before: Frame | None, step: int, native, jpeg: bool) -> list[FrameResult]:
    """The per-frame work of consecutive frames, block-wise: the reductions, the border cells
    and the shot detector's signatures over the whole block, the rest frame by frame."""
    images = _as_block([f.image for f in batch])
    smalls, tinys, lumas = reduce_block_i420(images) if is_i420(images[0]) else reduce_block(images)
    cells = OB.border_cells_block(smalls, tinys)
    sig = frame_signatures(smalls)
    prev = None
    if before is not None:
        prev = tiny_of(before.image)
    out = []
    for j, frame in enumerate(batch):
        signature = (sig[0][j], sig[1][j], float(sig[2][j]), float(sig[3][j]), float(sig[4][j]), sig[5][j])
        sample = frame.index % step == 0
        out.append(_work_reduced(frame.image, smalls[j], tinys[j], lumas[j], prev, sample,
                                 native, jpeg, cells[j], signature, measures_detail(frame.index, sample)))
        prev = tinys[j]
    return out


def _as_block(images: list[np.ndarray]) -> np.ndarray:
    """The frames as one ``(N, h, w, 3)`` (or ``(N, rows, w)``) array: a view when they lie one after the other in
    one buffer (the decoder reads them in blocks), else a copy."""
    first = images[0]
    base = first.base
    n, size = len(images), first.nbytes
    if base is not None and all(im.base is base and im.flags.c_contiguous for im in images):
        start = first.__array_interface__["data"][0]
        if all(im.__array_interface__["data"][0] == start + k * size for k, im in enumerate(images)):
            offset = start - base.__array_interface__["data"][0]
            if isinstance(base, np.ndarray) and base.flags.c_contiguous and 0 <= offset <= base.nbytes - n * size:
                return np.ndarray((n,) + first.shape, first.dtype, buffer=base, offset=offset)
    return np.stack(images)
