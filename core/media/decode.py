"""Decode footage once, small: ffmpeg scales each frame down and pipes BGR (or planar
4:2:0, ``pix_fmt="yuv420p"``: half the bytes, no RGB conversion; what the footage analysis
reads) frames to numpy.

Three ways to read a file, all yielding :class:`Frame` ``(index, pts_s, image)`` with
``index`` counted in the source's own frame grid from 0 (``-fps_mode passthrough``: no
frame is duplicated or dropped, variable-frame-rate files keep their timestamps):

* :func:`decode_frames` -- every frame;
* :func:`decode_frames` with ``keyframes_only=True`` -- keyframes only
  (``-skip_frame nokey``), each with its true index;
* :func:`decode_frames` with ``start_frame``/``end_frame`` -- exactly ``[start, end)``:
  ffmpeg seeks to the keyframe at or before ``start`` and we discard up to ``start``.

Indices of keyframes and of seeked frames come from the stream's packet table
(:func:`packet_table`, a demux without decoding): the sorted presentation timestamps of
the stream's packets, so the ``n``-th frame in presentation order is index ``n`` also for
files whose first pts is not 0 and for VFR files. ``pts_s`` is the frame's presentation
time as ffprobe reports it (``-copyts``: the container's own timeline, so a stream that
starts at 1.075 s has its first frame at 1.075).

Orientation: frames are delivered the way a player shows them. ffmpeg's own autorotation
would transpose the full-size frame; we switch it off (``-noautorotate``) and rotate the
small frame after scaling, which is the same picture for a fraction of the cost.

Hardware decoding: ``hwaccel="auto"`` passes ``-hwaccel auto``; ffmpeg falls back to
software decoding by itself when no device works. ``fast=True`` (what every analysis decode
uses) adds the decoder's cheap modes: ``-skip_loop_filter all`` (:data:`LOOP_FILTER_SKIP`: no
deblocking filter on any frame) and ``-flags2 fast``. Decoders without an in-loop deblocking
filter (MPEG-4 Part 2, MPEG-2) ignore them and give the same pixels. Skipping the filter on
reference frames lets its error drift along a GOP (0.4-1.7 levels of luma on average at analysis
size on the real clips, 3.8 on a heavily compressed 176x144 one); every accuracy figure of
``bench/footage_real.py`` holds with it, for 11 % less CPU in this ffmpeg (docs/analysis.md, "The
analysis decode").

>>> for frame in decode_frames("clip.mp4", width=256):      # doctest: +SKIP
...     frame.index, frame.pts_s, frame.image.shape
(0, 0.0, (144, 256, 3))
"""

from __future__ import annotations

import io
import logging
import math
import os
import queue
import re
import subprocess
import threading
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterable, Iterator, NamedTuple

import ffmpeg as ffmpeg_python
import numpy as np

from montage_ai.core.base.errors import AnalysisError, Cancelled, MediaError
from montage_ai.core.media.probe import MediaInfo, probe, require_tool

log = logging.getLogger(__name__)

#: Default width of analysis frames, in pixels (display orientation).
ANALYSIS_WIDTH = 256

#: Each frame's pts, in the stream's own timebase, from two ``metadata`` filters: the first
#: sets a key on every frame, the second prints it (``frame:N pts:P pts_time:T``, then the
#: key's line). Two log lines a frame where ``showinfo`` wrote some ten (its fields, colour
#: description, side data): less than half the stderr writes and lines to parse, same pts.
_PTS_KEY = "montage_ai.pts"
_PTS_LINE = re.compile(rb"\bframe:\s*(\d+)\s+pts:\s*(-?\d+)")
_PTS_FILTER = b"Parsed_metadata"


class HardwareDecodeError(AnalysisError):
    """The requested ``hwaccel`` could not be set up (no device, no driver); software
    decoding may still work."""


#: ffmpeg lines that say a hardware decoder could not be set up.
_HW_FAILURE = re.compile(rb"device creation failed|no device available|device setup failed|"
                         rb"cannot load lib|could not dynamically load|hwaccel .*(?:fail|not)|"
                         rb"failed to (?:create|initiali[sz]e) .*(?:device|hw)", re.I)
#: ffmpeg lines worth quoting when it fails.
_REASON = re.compile(rb"error|invalid|corrupt|no such|fail|cannot|could not|unable|not permitted|"
                     rb"not supported|no device|unknown|not found|denied", re.I)
#: Informational lines never quoted as a reason.
_INFO = re.compile(rb"^\s*(?:input #|output #|stream #|stream mapping|metadata:|duration:|press \[q\]|"
                   rb"[a-z_]+\s*:|side data:|encoder\s)", re.I)


class Frame(NamedTuple):
    """One decoded frame: its index in the source grid, its presentation time, the pixels."""

    index: int
    pts_s: float
    image: np.ndarray  # (height, width, 3) uint8 BGR, or (height * 3 // 2, width) uint8 I420 (``pix_fmt="yuv420p"``)


#: Pixel formats :func:`decode_frames` can deliver: packed BGR, or planar 4:2:0 Y'CbCr in limited
#: range (the Y plane, then Cb, then Cr, each plane's rows one after another: OpenCV's I420).
PIX_FMTS = ("bgr24", "yuv420p")


@dataclass(frozen=True)
class PacketTable:
    """The video stream's frames in presentation order, from its packets (no decoding).

    ``pts`` are sorted presentation timestamps in ``time_base`` units; frame ``n`` has
    ``pts[n]``. ``keyframes`` are the indices of keyframes (packets flagged ``K``).
    """

    pts: np.ndarray
    keyframes: np.ndarray
    time_base: Fraction

    @property
    def frame_count(self) -> int:
        return int(self.pts.size)

    def index_of_pts(self, pts: int) -> int:
        """Index of the frame with timestamp ``pts`` (the nearest one if none is exact)."""
        i = int(np.searchsorted(self.pts, pts))
        if i < self.pts.size and self.pts[i] == pts:
            return i
        if i == 0:
            return 0
        if i >= self.pts.size:
            return self.pts.size - 1
        return i if self.pts[i] - pts < pts - self.pts[i - 1] else i - 1

    def seconds(self, index: int) -> float:
        return float(int(self.pts[index]) * self.time_base)

    def grid_frames(self, rate: Fraction) -> np.ndarray:
        """Each decoded frame's position on the nominal ``rate`` grid that NLEs place media on:
        ``round((pts - first pts) * rate)`` (frame ``n`` of the grid is the time ``n / rate``
        after the stream's first frame). For a constant-rate file this is ``0, 1, 2, ...``;
        for a variable-rate file it skips where frames are missing."""
        rel = (self.pts - self.pts[0]).astype(object) if self.pts.size else self.pts
        scale = self.time_base * Fraction(rate)
        return np.asarray([int(math.floor(Fraction(int(p)) * scale + Fraction(1, 2))) for p in rel], dtype=np.int64)

    def keyframe_at_or_before(self, index: int) -> int:
        k = int(np.searchsorted(self.keyframes, index, side="right")) - 1
        return int(self.keyframes[max(k, 0)]) if self.keyframes.size else 0


def packet_table(path: str | os.PathLike[str], media: MediaInfo | None = None) -> PacketTable:
    """Read the video packets' timestamps and key flags (ffprobe, demux only)."""
    path = os.fspath(path)
    media = media or probe(path)
    if media.video is None:
        raise MediaError(path, "has no video stream")
    cmd = [require_tool("ffprobe"), "-v", "error", "-select_streams", str(media.video.index),
           "-show_entries", "packet=pts,dts,flags", "-of", "csv=p=0", path]
    try:
        out = subprocess.run(cmd, capture_output=True, check=True).stdout
    except subprocess.CalledProcessError as exc:
        raise AnalysisError(path, f"cannot read packets: {_tail(exc.stderr)}") from None
    pts, keys = [], []
    for line in out.splitlines():
        parts = line.split(b",")
        if len(parts) < 3:
            continue
        flags = parts[2]
        if b"D" in flags:  # discarded by the demuxer (edit list): never shown
            continue
        raw = parts[0] if parts[0] not in (b"", b"N/A") else parts[1]
        if raw in (b"", b"N/A"):
            continue
        pts.append(int(raw))
        keys.append(b"K" in flags)
    if not pts:
        raise AnalysisError(path, "video stream has no packets")
    order = np.argsort(np.asarray(pts, dtype=np.int64), kind="stable")
    pts_arr = np.asarray(pts, dtype=np.int64)[order]
    key_arr = np.flatnonzero(np.asarray(keys, dtype=bool)[order])
    return PacketTable(pts=pts_arr, keyframes=key_arr, time_base=media.video.time_base)


#: Sources of at most this many pixels a frame are decoded on one thread when analysed:
#: ffmpeg decodes such a frame (up to 640x480) in 0.3-0.5 ms on one core, less than the
#: analysis works on it, so frame threading only adds its hand-over (measured 5-15 % more
#: ffmpeg CPU for the same frames, bench/footage_real.py's small real clips).
SINGLE_THREAD_PIXELS = 640 * 480


#: Sources of at most this many pixels a frame run the filter graph (one area scale to the
#: analysis size, the pixel format, the pts filters) on one thread: the same bytes for 3-6 % less
#: ffmpeg CPU than its default of a thread per core (bench/footage_real.py's real clips, 176x144
#: to 1920x1080, on 2 cores); larger sources keep ffmpeg's default.
ONE_FILTER_THREAD_PIXELS = 1920 * 1080


#: ``-skip_loop_filter`` of a decode in the cheap mode (``fast=True``, what every analysis decode
#: uses): ``all`` frames, the cheapest level. Deblocking is 15-17 % of this ffmpeg's CPU on the
#: 720p and 1080p real clips; the analysis averages each frame down (area) to ~1/4 or less, where
#: the block edges of large sources are sub-pixel. ``noref`` (up to ANALYSIS_VERSION 11) and
#: ``bidir`` saved 1-3 %, ``nointra``/``nokey`` as much as ``all`` (bench/footage_ffmpeg_options.py).
LOOP_FILTER_SKIP = "all"


def analysis_threads(media: MediaInfo) -> int:
    """Decoder threads for an analysis decode of ``media``: 1 for small sources (see
    :data:`SINGLE_THREAD_PIXELS`), else 0 (ffmpeg's own choice). The frames are the same."""
    v = media.video
    return 1 if v is not None and 0 < v.width * v.height <= SINGLE_THREAD_PIXELS else 0


def analysis_size(media: MediaInfo, width: int = ANALYSIS_WIDTH) -> tuple[int, int]:
    """``(width, height)`` of analysis frames: ``width`` wide in display orientation, even."""
    v = media.video
    if v is None:
        raise MediaError(media.path, "has no video stream")
    dw, dh = v.square_width, v.square_height  # the display shape: non-square pixels made square
    width = min(width, dw - dw % 2) if dw >= 2 else width
    height = max(2, int(round(dh * width / dw / 2)) * 2)
    return width, height


def decode_frames(
    path: str | os.PathLike[str],
    *,
    media: MediaInfo | None = None,
    width: int = ANALYSIS_WIDTH,
    keyframes_only: bool = False,
    start_frame: int | None = None,
    end_frame: int | None = None,
    table: PacketTable | None = None,
    hwaccel: str | None = "auto",
    fast: bool = True,
    threads: int = 0,
    cancel: Callable[[], bool] | None = None,
    pix_fmt: str = "bgr24",
) -> Iterator[Frame]:
    """Decode ``path`` to small BGR (or I420) frames.

    Parameters
    ----------
    width:
        Width of the frames in pixels, display orientation (height keeps the aspect).
    keyframes_only:
        Decode keyframes only; indices come from the packet table.
    start_frame, end_frame:
        Decode exactly ``[start_frame, end_frame)`` (either may be ``None``).
    table:
        The packet table, when the caller has read it already.
    hwaccel:
        ``"auto"`` (default), a method name (``"cuda"``, ``"videotoolbox"``...) or ``None``.
    fast:
        Cheap decoding modes (``-skip_loop_filter`` :data:`LOOP_FILTER_SKIP`, ``-flags2 fast``).
    cancel:
        Called between frames; when it returns true ffmpeg is killed and
        :class:`~montage_ai.core.base.errors.Cancelled` raised.
    pix_fmt:
        ``"bgr24"`` (default) or ``"yuv420p"``: the scaled frame as planar 4:2:0 in limited
        range (``scale``'s ``out_range=tv``, also from full-range sources), half the bytes and
        no RGB conversion in ffmpeg; the Y plane is the frame's luma.

    Raises
    ------
    AnalysisError
        ffmpeg fails (the message names the file and quotes ffmpeg's reason).
    Cancelled
        ``cancel()`` returned true.
    """
    path = os.fspath(path)
    if pix_fmt not in PIX_FMTS:
        raise ValueError(f"pix_fmt must be one of {PIX_FMTS}, not {pix_fmt!r}")
    media = media or probe(path)
    if media.video is None:
        raise MediaError(path, "has no video stream")
    w, h = analysis_size(media, width)
    seeking = start_frame is not None and start_frame > 0
    if (keyframes_only or seeking) and table is None:
        table = packet_table(path, media)
    seek_s = None
    first_index = 0
    if seeking:
        key = table.keyframe_at_or_before(start_frame)
        first_index = key
        if key > 0:
            # Half a frame past the keyframe: ffmpeg seeks to the keyframe at or before it.
            nxt = table.seconds(key + 1) if key + 1 < table.frame_count else table.seconds(key) + 1.0
            seek_s = (table.seconds(key) + nxt) / 2.0
    cmd = _command(path, media, w, h, keyframes_only=keyframes_only, seek_s=seek_s,
                   frames=(end_frame - first_index) if (end_frame is not None and not keyframes_only) else None,
                   hwaccel=hwaccel, fast=fast, threads=threads, pix_fmt=pix_fmt)
    log.debug("decode: %s", " ".join(cmd))
    yield from _run(cmd, path, w, h, time_base=media.video.time_base,
                    table=table if (keyframes_only or seeking) else None, start_frame=start_frame or 0,
                    end_frame=end_frame, cancel=cancel, hwaccel=hwaccel, planar=pix_fmt == "yuv420p")


def _command(path: str, media: MediaInfo, w: int, h: int, *, keyframes_only: bool, seek_s: float | None,
             frames: int | None, hwaccel: str | None, fast: bool, threads: int,
             pix_fmt: str = "bgr24") -> list[str]:
    v = media.video
    # Scale first (cheap 'area' averaging of the full frame), then rotate the small frame.
    sw, sh = (h, w) if v.rotation in (90, 270) else (w, h)
    return _ffmpeg_args(path, (sw, sh), v.rotation, 0 < v.width * v.height <= ONE_FILTER_THREAD_PIXELS,
                        keyframes_only=keyframes_only, seek_s=seek_s, frames=frames, hwaccel=hwaccel, fast=fast,
                        threads=threads, pix_fmt=pix_fmt)


def _ffmpeg_args(path: str, scale: tuple[int | str, int | str], rotation: int, one_filter_thread: bool, *,
                 keyframes_only: bool, seek_s: float | None, frames: int | None, hwaccel: str | None, fast: bool,
                 threads: int, pix_fmt: str) -> list[str]:
    """The decode's command line: ``scale`` is the size in the coded orientation (numbers, or
    expressions ffmpeg evaluates on the input: ``early_decode.analysis_scale_expressions``)."""
    input_kwargs: dict = {"copyts": None, "noautorotate": None}
    if hwaccel:
        input_kwargs["hwaccel"] = hwaccel
    if keyframes_only:
        input_kwargs["skip_frame"] = "nokey"
    if fast:
        input_kwargs["skip_loop_filter"] = "all" if keyframes_only else LOOP_FILTER_SKIP
        input_kwargs["flags2"] = "fast"
    if threads:
        input_kwargs["threads"] = str(threads)
    if seek_s is not None:
        input_kwargs["seek_timestamp"] = "1"  # -ss is a timestamp, not an offset from the start
        input_kwargs["ss"] = f"{seek_s:.6f}"
        input_kwargs["noaccurate_seek"] = None
    # ffmpeg-python hashes its graph as UTF-8: a name that is not UTF-8 (surrogateescape)
    # goes through it as a placeholder and into the command line as it is.
    token = "montage-ai-input.mp4"
    stream = ffmpeg_python.input(token, **input_kwargs)["v:0"]
    sw, sh = scale
    if pix_fmt == "yuv420p":  # limited range whatever the source's, as the RGB conversion assumes
        stream = stream.filter("scale", sw, sh, flags="area", out_range="tv")
    else:
        stream = stream.filter("scale", sw, sh, flags="area")
    if rotation == 90:
        stream = stream.filter("transpose", "clock")
    elif rotation == 270:
        stream = stream.filter("transpose", "cclock")
    elif rotation == 180:
        stream = stream.filter("hflip").filter("vflip")
    stream = stream.filter("format", pix_fmt)
    # Each frame's pts into the log (see _PTS_LINE): the frame's own timestamp, in the stream's
    # timebase (no filter here changes either).
    stream = stream.filter("metadata", mode="add", key=_PTS_KEY, value="1").filter("metadata", mode="print",
                                                                                     key=_PTS_KEY)
    out_kwargs: dict = {"format": "rawvideo", "pix_fmt": pix_fmt, "fps_mode": "passthrough", "an": None, "sn": None}
    if frames is not None:
        out_kwargs["frames:v"] = str(max(frames, 0))
    args = [path if a == token else a for a in ffmpeg_python.output(stream, "pipe:1", **out_kwargs).get_args()]
    if one_filter_thread:
        args = ["-filter_complex_threads", "1"] + args
    return [require_tool("ffmpeg"), "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info"] + args


def _start(cmd: list[str]) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    _widen_pipe(proc.stdout)
    return proc


def _run(cmd: list[str], path: str, w: int, h: int, *, time_base: Fraction, table: PacketTable | None,
         start_frame: int, end_frame: int | None, cancel: Callable[[], bool] | None, hwaccel: str | None = None,
         planar: bool = False, proc: subprocess.Popen | None = None, check_size: bool = False) -> Iterator[Frame]:
    """Frames of ffmpeg ``cmd`` (or of ``proc``, already started from it); ``time_base`` is the
    video stream's (the pts ffmpeg prints are in it). ``check_size``: the command's size was
    left to ffmpeg; :class:`_Unsure` is raised before any frame unless the output stream ffmpeg
    reports is ``w`` x ``h``."""
    proc = proc or _start(cmd)
    pts_q: queue.Queue = queue.Queue()
    errors: deque[bytes] = deque(maxlen=40)  # ffmpeg's last lines besides the pts lines
    out = _OutputSize()
    # stderr is a raw pipe (bufsize=0): buffer it, or every line is read a byte at a time.
    reader = threading.Thread(target=_read_stderr, args=(io.BufferedReader(proc.stderr, 1 << 16), pts_q, errors, out),
                              daemon=True)
    reader.start()
    size = w * h * 3 // 2 if planar else w * h * 3
    shape = (h * 3 // 2, w) if planar else (h, w, 3)
    # Frames are read ahead on a thread, a block of frames per read (the read releases the
    # GIL), so ffmpeg keeps decoding while the caller works on the previous frames instead of
    # stalling on a full pipe, and the hand-over costs one queue item per block.
    frames_q: queue.Queue = queue.Queue(maxsize=max(2, _READ_AHEAD // _BLOCK_FRAMES))
    stop = threading.Event()
    pump = threading.Thread(target=_read_frames, args=(proc.stdout, size, frames_q, stop), daemon=True)
    pump.start()
    count = 0
    finished = False
    try:
        if check_size:
            _check_output_size(out, (w, h), path, cancel)
        done = False
        while not done:
            if cancel is not None and cancel():
                raise Cancelled(f"analysis of {path} was cancelled")
            block = frames_q.get(timeout=_FRAME_TIMEOUT_S)
            if block is None:
                break
            for image in block.reshape((-1,) + shape):
                if cancel is not None and cancel():
                    raise Cancelled(f"analysis of {path} was cancelled")
                pts = pts_q.get(timeout=60)
                if pts is None:  # stderr closed before a frame's info: should not happen
                    raise AnalysisError(path, "ffmpeg gave a frame without a timestamp")
                index = count if table is None else table.index_of_pts(pts)
                count += 1
                if index < start_frame:
                    continue
                if end_frame is not None and index >= end_frame:
                    done = True
                    break
                yield Frame(index, float(pts * time_base), image)
        finished = True
    except queue.Empty:
        raise AnalysisError(path, f"ffmpeg gave no frame for {_FRAME_TIMEOUT_S:.0f} s") from None
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
        pump.join(timeout=5)
        proc.stdout.close()
        proc.wait()
        reader.join(timeout=5)
    if finished and count == 0 and hwaccel and any(_HW_FAILURE.search(ln) for ln in errors):
        raise HardwareDecodeError(path, f"hardware decoding ({hwaccel}) is not available: {_reason(errors)}")
    if finished and proc.returncode not in (0, -9) and (end_frame is None or count == 0):
        raise AnalysisError(path, f"ffmpeg could not decode it: {_reason(errors)}")
    if finished and count == 0:
        raise AnalysisError(path, f"no frame could be decoded: {_reason(errors)}")


#: Decoded frames read ahead of the caller (at 256x144 BGR, 110 kB each)...
_READ_AHEAD = 32
#: ...in blocks of this many frames (one pipe read and one queue item each; ffmpeg writes a
#: block's frames as fast as it decodes them, the caller gets them at once).
_BLOCK_FRAMES = 16
#: The longest wait for ffmpeg's next frame.
_FRAME_TIMEOUT_S = 120.0
#: Pipe capacity asked for (Linux ``F_SETPIPE_SZ``; the default 64 kB holds less than a frame).
_PIPE_BYTES = 1 << 20


def _widen_pipe(pipe) -> None:
    """Ask for a larger pipe buffer where the platform allows it (no error otherwise)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
    except (ImportError, OSError, ValueError):
        pass


def _read_frames(pipe, size: int, out: queue.Queue, stop: threading.Event) -> None:
    """Thread: read blocks of whole frames from ``pipe`` into ``out`` (each a ``(k, size)``
    uint8 array, ``k <= _BLOCK_FRAMES``; ``None`` at the end)."""
    try:
        while not stop.is_set():
            buf = np.empty((_BLOCK_FRAMES, size), np.uint8)
            view = memoryview(buf.reshape(-1))
            got = 0
            while got < buf.size:
                k = pipe.readinto(view[got:])
                if not k:
                    break
                got += k
            whole = got // size
            if whole:
                _put(out, buf[:whole], stop)
            if got < buf.size:
                return
    except (OSError, ValueError):  # the pipe was closed under us (cancelled, killed)
        return
    finally:
        # The end marker waits for room like a block; once the caller has stopped reading
        # (``stop``) nobody needs it.
        _put(out, None, stop)


def _put(out: queue.Queue, item, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            out.put(item, timeout=0.2)
            return
        except queue.Full:
            continue


class _Unsure(AnalysisError):
    """A decode whose command was chosen before the probe answered does not deliver what the
    probe asks for (another size; ffmpeg failed): the caller decodes again the known way."""


class _OutputSize:
    """The size of ffmpeg's output stream, from the ``Output #0`` lines it prints before it
    writes the first frame (``set`` once known, or once stderr ends without it)."""

    def __init__(self) -> None:
        self.size: tuple[int, int] | None = None
        self.known = threading.Event()
        self._in_output = False

    def line(self, line: bytes) -> None:
        if self.known.is_set():
            return
        if line.startswith(b"Output #"):
            self._in_output = True
        elif self._in_output and b"Stream #" in line and b"Video:" in line:
            m = _OUT_SIZE.search(line)
            if m:
                self.size = (int(m.group(1)), int(m.group(2)))
            self.known.set()


_OUT_SIZE = re.compile(rb", (\d+)x(\d+)(?=[ ,]|$)")


def _check_output_size(out: _OutputSize, want: tuple[int, int], path: str, cancel: Callable[[], bool] | None) -> None:
    waited = 0.0
    while not out.known.wait(0.05):
        waited += 0.05
        if cancel is not None and cancel():
            raise Cancelled(f"analysis of {path} was cancelled")
        if waited > _FRAME_TIMEOUT_S:
            raise _Unsure(path, f"ffmpeg named no output stream in {_FRAME_TIMEOUT_S:.0f} s")
    if out.size != want:
        raise _Unsure(path, f"ffmpeg's output is {out.size}, the probe asks for {want}")


def _read_stderr(pipe, pts_q: queue.Queue, errors: deque, out: _OutputSize | None = None) -> None:
    try:
        for line in pipe:
            if out is not None and not out.known.is_set():
                out.line(line)
            if _PTS_FILTER in line:  # a frame's pts line, or the key line after it
                m = _PTS_LINE.search(line)
                if m:
                    pts_q.put(int(m.group(2)))
                continue
            line = line.strip()
            if line:
                errors.append(line)
    finally:
        pts_q.put(None)
        if out is not None:
            out.known.set()


def _reason(lines: Iterable[bytes]) -> str:
    """ffmpeg's own reason for failing, from its last stderr lines: the lines that say
    what went wrong (up to three, in order), else the last line."""
    lines = [ln for ln in lines if ln.strip()]
    bad = [ln for ln in lines if _REASON.search(ln) and not _INFO.match(ln)]
    picked = bad[-3:] if bad else lines[-1:]
    text = "; ".join(ln.decode("utf-8", "replace").strip() for ln in picked)
    return text or "ffmpeg failed without a message"


def _tail(text: bytes | None) -> str:
    lines = [ln.strip() for ln in (text or b"").decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "ffmpeg failed without a message"
