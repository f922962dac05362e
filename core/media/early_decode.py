"""The whole-file analysis decode started while ffprobe still runs.

Every ffmpeg or ffprobe process costs its start-up (some 70 ms loading FFmpeg's shared
libraries), and the analysis decode used to wait for the probe before starting its own.
:func:`decode_while_probing` starts the decode at once with a command that needs no probe --
ffmpeg computes the analysis size from the input's ``iw``, ``ih`` and ``sar``
(:func:`analysis_scale_expressions`), the thread choice is the previous file's -- and keeps it
only when the probe's answer confirms it; otherwise the known command of
:func:`~montage_ai.core.media.decode.decode_frames` runs. The frames are the same either way.

>>> media, frames = decode_while_probing("clip.mp4", start_probe("clip.mp4", verify_tail=False))  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import logging
import os
import subprocess
from typing import Callable, Iterator

from montage_ai.core.base.errors import AnalysisError, MediaError
from montage_ai.core.media.decode import (
    ANALYSIS_WIDTH,
    ONE_FILTER_THREAD_PIXELS,
    PIX_FMTS,
    Frame,
    _ffmpeg_args,
    _run,
    _start,
    _Unsure,
    analysis_size,
    analysis_threads,
    decode_frames,
)
from montage_ai.core.media.probe import MediaInfo, PendingProbe

log = logging.getLogger(__name__)


def _half_even(x: str) -> str:
    """ffmpeg expression rounding ``x`` half to even, as Python's ``round`` does (ffmpeg's
    ``round`` rounds halves away from zero)."""
    return f"if(eq(({x})-floor({x}),0.5),2*round(({x})/2),round({x}))"


def analysis_scale_expressions(width: int = ANALYSIS_WIDTH) -> tuple[str, str]:
    """``scale`` filter expressions for the size :func:`analysis_size` gives an unrotated
    source, computed by ffmpeg from the input's own ``iw``, ``ih`` and ``sar``: the display
    shape (non-square pixels made square, even), ``width`` wide at most, even height. The same
    arithmetic in the same order as :func:`analysis_size` (doubles; halves to even).
    ffmpeg takes ``sar`` as 1 when the stream sets none, as the probe does."""
    sw = f"if(gt(sar,1),max(2,{_half_even('iw*sar/2')}*2),iw)"
    sh = f"if(lt(sar,1),max(2,{_half_even('ih/sar/2')}*2),ih)"
    w = f"if(gte({sw},2),min({int(width)},{sw}-mod({sw},2)),{int(width)})"
    h = f"max(2,{_half_even(f'({sh})*({w})/({sw})/2')}*2)"
    return w, h


class Decoding:
    """Frames of a decode that may already run (:func:`decode_while_probing`): iterate once;
    :meth:`close` stops ffmpeg also when the frames were never asked for."""

    def __init__(self, frames: Iterator[Frame], proc: subprocess.Popen | None) -> None:
        self._frames, self._proc = frames, proc
        #: The decode started before the probe answered was kept (no second start; it still gives
        #: way to the known decode should the size ffmpeg reports differ from the probe's).
        self.early = proc is not None

    def __iter__(self) -> Iterator[Frame]:
        return self._frames

    def close(self) -> None:
        untouched = inspect.getgeneratorstate(self._frames) == inspect.GEN_CREATED
        self._frames.close()  # a started decode stops its ffmpeg itself
        if untouched:
            _stop(self._proc)


def _stop(proc: subprocess.Popen | None) -> None:
    """Kill and reap a decode nobody reads (its pipes closed)."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


#: What the last analysis decode found ``(decoder threads, one filter thread, rotated)``: the
#: guess for the next file, whose probe has not answered yet when its decode starts (a camera's
#: clips come together). After a rotated source the next decode waits for its probe (a phone's
#: portrait clips would each start an ffmpeg for nothing). Only the speed depends on it.
_LAST: list[tuple[int, bool, bool]] = [(0, True, False)]


def decode_while_probing(
    path: str | os.PathLike[str],
    probing: PendingProbe,
    *,
    width: int = ANALYSIS_WIDTH,
    hwaccel: str | None = "auto",
    fast: bool = True,
    cancel: Callable[[], bool] | None = None,
    pix_fmt: str = "bgr24",
) -> tuple[MediaInfo, Decoding]:
    """Start the whole-file analysis decode at once, while ``probing`` (the file's ffprobe) still
    runs, so its process start-up and the probe's overlap; then wait for the probe.

    The decode's command needs no probe: ffmpeg computes the analysis size itself
    (:func:`analysis_scale_expressions`) and the thread choice is the last file's. It is kept
    when the probe confirms it -- no rotation, threads at least as many as
    :func:`analysis_threads` and the filter threads asks for, and, before the first frame, the
    output size ffmpeg reports equal to :func:`analysis_size`; otherwise (a rotated source, a
    larger source after small ones, ffmpeg failing) the known command of
    :func:`decode_frames` runs instead, so the frames, their indices and pts, and every error
    are those of ``decode_frames(path, media=..., threads=analysis_threads(media))``.

    Raises what :meth:`PendingProbe.result` raises (ffmpeg stopped first), and
    ``MediaError`` when the file has no video stream.
    """
    path = os.fspath(path)
    if pix_fmt not in PIX_FMTS:
        raise ValueError(f"pix_fmt must be one of {PIX_FMTS}, not {pix_fmt!r}")
    options = dict(width=width, hwaccel=hwaccel, fast=fast, cancel=cancel, pix_fmt=pix_fmt)
    threads, one_filter, rotated = _LAST[0]
    if probing.from_cache or rotated:  # the answer is known already, or the last file was rotated
        media = _video_media(path, probing.result())
        _remember(media)
        return media, Decoding(decode_frames(path, media=media, threads=analysis_threads(media), **options), None)
    proc: subprocess.Popen | None = None
    try:
        cmd = _ffmpeg_args(path, analysis_scale_expressions(width), 0, one_filter, keyframes_only=False, seek_s=None,
                           frames=None, hwaccel=hwaccel, fast=fast, threads=threads, pix_fmt=pix_fmt)
        log.debug("decode, early: %s", " ".join(cmd))
        proc = _start(cmd)
        media = _video_media(path, probing.result())
    except BaseException:
        probing.close()
        _stop(proc)
        raise
    known = dict(media=media, threads=analysis_threads(media), **options)
    want_threads, want_one_filter, rotated = _remember(media)
    # A guess more parallel than wanted costs a small source 1-2 % more ffmpeg CPU (carphone:
    # 16 ms); starting again costs a process (some 75 ms). One less parallel would slow a large
    # source's decode: start again.
    if rotated or (threads == 1 and want_threads != 1) or (one_filter and not want_one_filter):
        log.debug("%s: decode started again (found %s, guessed %s)", path, _LAST[0], (threads, one_filter))
        _stop(proc)
        return media, Decoding(decode_frames(path, **known), None)
    w, h = analysis_size(media, width)
    frames = _run(cmd, path, w, h, time_base=media.video.time_base, table=None, start_frame=0, end_frame=None,
                  cancel=cancel, hwaccel=hwaccel, planar=pix_fmt == "yuv420p", proc=proc, check_size=True)
    return media, Decoding(_or_known(frames, lambda: decode_frames(path, **known), path), proc)


def _video_media(path: str, media: MediaInfo) -> MediaInfo:
    if media.video is None:
        raise MediaError(path, "has no video stream")
    return media


def _remember(media: MediaInfo) -> tuple[int, bool, bool]:
    v = media.video
    _LAST[0] = (analysis_threads(media), 0 < v.width * v.height <= ONE_FILTER_THREAD_PIXELS, v.rotation != 0)
    return _LAST[0]


def _or_known(frames: Iterator[Frame], known: Callable[[], Iterator[Frame]], path: str) -> Iterator[Frame]:
    """``frames``, or the known decode's when ``frames`` fails before its first frame."""
    try:
        first = next(frames)
    except (_Unsure, AnalysisError) as exc:
        log.debug("%s: early decode not kept (%s); decoding the known way", path, exc)
        frames.close()
        yield from known()
        return
    except StopIteration:
        return
    yield first
    yield from frames
