"""Media probe: ffprobe (through ffmpeg-python) -> one immutable record per file.

>>> info = probe("clip.mov")                     # doctest: +SKIP
>>> info.video.rate, info.video.frame_count       # doctest: +SKIP
(Fraction(24000, 1001), 2400)

Every failure raises :class:`~montage_ai.core.base.errors.MediaError` naming the file:
missing, zero-byte, unreadable, truncated, or (for footage) without a video stream.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import re
import shutil
import subprocess
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import ffmpeg

from montage_ai.core.base.errors import MediaError, ToolMissingError
from montage_ai.core.base.fileio import not_a_regular_file
from montage_ai.core.base.timebase import format_rate, parse_rate

# A file whose mean rate differs from its nominal rate by more than this is variable-rate.
VFR_TOLERANCE = Fraction(1, 500)
# How much of the tail we read to prove a file is not truncated.
_TAIL_CHECK_S = 2.0
#: The longest wait for ffprobe's answer about one file (a network share that stopped answering).
PROBE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class VideoStream:
    """The first video stream of a file, in the source's own frame grid.

    ``rate`` is the nominal frame rate (ffprobe's ``r_frame_rate``), ``avg_rate`` the mean
    rate over the stream; they differ for variable-frame-rate files (``vfr``).
    ``rotation`` is the clockwise rotation, in degrees (0, 90, 180, 270), a player applies
    for display; ``display_width``/``display_height`` are the size after it.
    """

    index: int
    codec: str
    profile: str | None
    width: int
    height: int
    rate: Fraction
    avg_rate: Fraction
    frame_count: int
    vfr: bool
    rotation: int
    pix_fmt: str
    bit_depth: int
    time_base: Fraction
    start_time_s: float
    duration_s: float
    field_order: str | None = None
    #: Sample (pixel) aspect ratio: a pixel's width over its height (1 for square pixels).
    sar: Fraction = Fraction(1)

    @property
    def dar(self) -> Fraction:
        """Display aspect ratio of the coded picture: ``width * sar / height``."""
        return Fraction(self.width) * self.sar / self.height if self.height else Fraction(0)

    @property
    def square_width(self) -> int:
        """Width the picture is shown at with square pixels (even; display orientation)."""
        w, h = self._square()
        return h if self.rotation in (90, 270) else w

    @property
    def square_height(self) -> int:
        w, h = self._square()
        return w if self.rotation in (90, 270) else h

    def _square(self) -> tuple[int, int]:
        if self.sar == 1 or self.sar <= 0:
            return self.width, self.height
        if self.sar > 1:  # wide pixels: stretch the width
            return max(2, int(round(self.width * self.sar / 2)) * 2), self.height
        return self.width, max(2, int(round(self.height / self.sar / 2)) * 2)

    @property
    def display_width(self) -> int:
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation in (90, 270) else self.height


@dataclass(frozen=True)
class AudioStream:
    index: int
    codec: str
    channels: int
    sample_rate: int
    channel_layout: str | None
    duration_s: float | None


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe tells about one file. Immutable; safe to cache and to pickle."""

    path: str
    size_bytes: int
    format_name: str
    duration_s: float
    video: VideoStream | None
    audio: tuple[AudioStream, ...] = field(default_factory=tuple)
    start_timecode: str | None = None
    creation_time: _dt.datetime | None = None

    @property
    def has_video(self) -> bool:
        return self.video is not None

    @property
    def has_audio(self) -> bool:
        return bool(self.audio)

    def to_dict(self) -> dict[str, Any]:
        v = self.video
        return {
            "path": self.path,
            "size_bytes": self.size_bytes,
            "format_name": self.format_name,
            "duration_s": self.duration_s,
            "start_timecode": self.start_timecode,
            "creation_time": self.creation_time.isoformat() if self.creation_time else None,
            "video": None if v is None else {
                **{k: getattr(v, k) for k in (
                    "index", "codec", "profile", "width", "height", "frame_count", "vfr",
                    "rotation", "pix_fmt", "bit_depth", "start_time_s", "duration_s", "field_order")},
                "sar": format_rate(v.sar, ratio=True),
                "rate": format_rate(v.rate, ratio=True),
                "avg_rate": format_rate(v.avg_rate, ratio=True),
                "time_base": format_rate(v.time_base, ratio=True),
            },
            "audio": [a.__dict__.copy() for a in self.audio],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MediaInfo":
        v = d.get("video")
        video = None
        if v is not None:
            video = VideoStream(**{**v, "rate": Fraction(v["rate"]), "avg_rate": Fraction(v["avg_rate"]),
                                   "time_base": Fraction(v["time_base"]), "sar": Fraction(v.get("sar", "1/1"))})
        ct = d.get("creation_time")
        return cls(
            path=d["path"], size_bytes=d["size_bytes"], format_name=d["format_name"],
            duration_s=d["duration_s"], video=video,
            audio=tuple(AudioStream(**a) for a in d.get("audio", [])),
            start_timecode=d.get("start_timecode"),
            creation_time=_dt.datetime.fromisoformat(ct) if ct else None,
        )


def require_tool(name: str) -> str:
    """Path of ``ffmpeg``/``ffprobe`` or a clear error saying how to install it."""
    found = shutil.which(name)
    if not found:
        raise ToolMissingError(
            f"{name} was not found on PATH. Install FFmpeg (Debian/Ubuntu: sudo apt-get install ffmpeg; "
            f"macOS: brew install ffmpeg) or run `make demo`, which installs it."
        )
    return found


def probe(path: str | os.PathLike[str], require_video: bool = True, verify_tail: bool = True) -> MediaInfo:
    """Probe one file.

    Parameters
    ----------
    path:
        The media file.
    require_video:
        Footage must have a video stream; music may not (``False``).
    verify_tail:
        Read the packets of the last seconds to prove the file is complete (a truncated
        file whose index survived otherwise probes as if whole).

    A file probed before in this process, unchanged since (same path, size, modification
    time and inode), is answered from memory without running ffprobe again (the tail check
    runs once, when first asked for).

    Raises
    ------
    MediaError
        Missing, empty, unreadable, truncated, or no video when one is required.
    """
    return start_probe(path, require_video=require_video, verify_tail=verify_tail).result()


class PendingProbe:
    """A probe under way: ffprobe runs while the caller starts other work (the decode's own
    ffmpeg); :meth:`result` waits for it. Made by :func:`start_probe`."""

    def __init__(self, path: str, key: tuple, require_video: bool, verify_tail: bool,
                 cached: "_Probed | None") -> None:
        self.path, self._key = path, key
        self._require_video, self._verify_tail = require_video, verify_tail
        self._cached = cached
        self._ffprobe = require_tool("ffprobe")
        self._proc: subprocess.Popen | None = None
        self._info: MediaInfo | None = None
        if cached is None:
            self._proc = subprocess.Popen(
                [self._ffprobe, "-show_format", "-show_streams", "-of", "json", "-v", "error", path],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    @property
    def from_cache(self) -> bool:
        """The answer comes from an earlier probe of the unchanged file (no ffprobe ran)."""
        return self._cached is not None

    def result(self) -> MediaInfo:
        """The file's :class:`MediaInfo` (raises :class:`MediaError` as :func:`probe` does)."""
        if self._info is not None:
            return self._info
        probed = self._cached
        if probed is None:
            assert self._proc is not None
            try:
                out, err = self._proc.communicate(timeout=PROBE_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise MediaError(self.path, f"ffprobe gave no answer in {PROBE_TIMEOUT_S:.0f} s") from None
            finally:
                self.close()
            if self._proc.returncode != 0:
                raise MediaError(self.path, f"ffprobe cannot read it: {_stderr_reason(err)}")
            probed = _parse(self.path, self._key[1], json.loads(out.decode("utf-8")), self._ffprobe)
        if self._require_video and probed.info.video is None:
            raise MediaError(self.path, "has no video stream (audio only); use it as music, not footage")
        if self._verify_tail and not probed.tail_verified:
            _verify_tail(self.path, self._ffprobe, *probed.tail)
            probed = dataclasses.replace(probed, tail_verified=True)
        _remember(self._key, probed)
        self._info = probed.info
        return probed.info

    def close(self) -> None:
        """Stop ffprobe if it still runs (the caller gave up on the answer)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.communicate()


def start_probe(path: str | os.PathLike[str], require_video: bool = True, verify_tail: bool = True) -> PendingProbe:
    """Start probing ``path`` (:func:`probe`'s checks run at once: a missing, empty or special
    file raises here, before any process starts); :meth:`PendingProbe.result` gives the answer."""
    path = os.fspath(path)
    problem = not_a_regular_file(path)  # before anything opens it: a FIFO would block
    if problem:
        raise MediaError(path, problem)
    st = os.stat(path)
    if st.st_size == 0:
        raise MediaError(path, "file is empty (0 bytes)")
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
    return PendingProbe(path, key, require_video, verify_tail, cached)


def clear_probe_cache() -> None:
    """Forget every probe answered so far in this process."""
    with _CACHE_LOCK:
        _CACHE.clear()


@dataclass(frozen=True)
class _Probed:
    """One file's probe as remembered: the record and what its tail check reads."""

    info: MediaInfo
    tail: tuple  # (stream dict, video stream, duration): the arguments of _verify_tail
    tail_verified: bool = False


#: Probes remembered in this process, newest last (a workflow that probes a file again --
#: the song for its length, its analysis and its report; the clips for the timeline --
#: no longer starts ffprobe each time).
_CACHE: "OrderedDict[tuple, _Probed]" = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4096


def _remember(key: tuple, probed: _Probed) -> None:
    with _CACHE_LOCK:
        _CACHE[key] = probed
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def _parse(path: str, size: int, data: dict, ffprobe: str) -> _Probed:
    """ffprobe's JSON -> the record (the frame count may need one more ffprobe: no index)."""
    fmt = data.get("format", {})
    streams = data.get("streams", [])
    vstreams = [s for s in streams if s.get("codec_type") == "video"
                and not s.get("disposition", {}).get("attached_pic")]
    astreams = [s for s in streams if s.get("codec_type") == "audio"]
    if not vstreams and not astreams:
        raise MediaError(path, "contains no audio or video stream")
    duration = _float(fmt.get("duration"))
    video = _video_stream(path, ffprobe, vstreams[0], duration) if vstreams else None
    if duration is None:
        duration = video.duration_s if video else max((a.duration_s or 0.0) for a in audio_list(astreams))
    info = MediaInfo(
        path=os.path.abspath(path),
        size_bytes=size,
        format_name=fmt.get("format_name", ""),
        duration_s=float(duration or 0.0),
        video=video,
        audio=tuple(audio_list(astreams)),
        start_timecode=_timecode(data),
        creation_time=_creation_time(fmt, streams),
    )
    return _Probed(info, (vstreams[0] if vstreams else astreams[0], video, duration))


def audio_list(astreams: list[dict]) -> list[AudioStream]:
    return [
        AudioStream(
            index=int(s["index"]),
            codec=s.get("codec_name", "unknown"),
            channels=int(s.get("channels") or 0),
            sample_rate=int(s.get("sample_rate") or 0),
            channel_layout=s.get("channel_layout"),
            duration_s=_float(s.get("duration")),
        )
        for s in astreams
    ]


def _video_stream(path: str, ffprobe: str, s: dict, fmt_duration: float | None) -> VideoStream:
    try:
        rate = parse_rate(s.get("r_frame_rate", "0/0"))
    except (ValueError, ZeroDivisionError):
        raise MediaError(path, "video stream has no frame rate") from None
    try:
        avg = parse_rate(s.get("avg_frame_rate", "0/0"))
    except (ValueError, ZeroDivisionError):
        avg = rate
    duration = _float(s.get("duration")) or fmt_duration or 0.0
    nb = s.get("nb_frames")
    frame_count = int(nb) if nb and str(nb).isdigit() and int(nb) > 0 else _count_packets(path, ffprobe, int(s["index"]))
    if frame_count <= 0:
        raise MediaError(path, "video stream holds no frames")
    vfr = abs(avg - rate) > rate * VFR_TOLERANCE
    tb = s.get("time_base", "1/1")
    return VideoStream(
        index=int(s["index"]),
        codec=s.get("codec_name", "unknown"),
        profile=s.get("profile"),
        width=int(s.get("width") or 0),
        height=int(s.get("height") or 0),
        rate=rate,
        avg_rate=avg,
        frame_count=frame_count,
        vfr=vfr,
        rotation=_rotation(s),
        pix_fmt=s.get("pix_fmt", "unknown"),
        bit_depth=_bit_depth(s),
        time_base=Fraction(tb) if "/" in tb else Fraction(1),
        start_time_s=_float(s.get("start_time")) or 0.0,
        duration_s=float(duration),
        field_order=s.get("field_order"),
        sar=_sar(s),
    )


def _sar(s: dict) -> Fraction:
    """ffprobe's ``sample_aspect_ratio`` ("1024:765"); 1 when unset ("0:1", "N/A")."""
    raw = str(s.get("sample_aspect_ratio") or "")
    try:
        num, den = (int(x) for x in raw.split(":"))
    except ValueError:
        return Fraction(1)
    return Fraction(num, den) if num > 0 and den > 0 else Fraction(1)


def _count_packets(path: str, ffprobe: str, index: int) -> int:
    try:
        data = ffmpeg.probe(path, cmd=ffprobe, v="error", count_packets=None, select_streams=str(index),
                            show_entries="stream=nb_read_packets")
    except ffmpeg.Error as exc:
        raise MediaError(path, f"cannot count frames: {_stderr_reason(exc)}") from None
    streams = data.get("streams") or [{}]
    return int(streams[0].get("nb_read_packets") or 0)


def _verify_tail(path: str, ffprobe: str, stream: dict, video: VideoStream | None, duration: float | None) -> None:
    """Raise if the last seconds of the stream cannot be read (a truncated file)."""
    if not duration:
        return
    start = float(stream.get("start_time") or 0.0)
    end = start + float(duration if video is None else video.duration_s or duration)
    seek = max(start, end - _TAIL_CHECK_S)
    try:
        data = ffmpeg.probe(
            path, cmd=ffprobe, v="error", select_streams=str(stream["index"]),
            read_intervals=f"{seek:.3f}%", show_entries="packet=pts_time,duration_time",
        )
    except ffmpeg.Error as exc:
        raise MediaError(path, f"file is damaged near its end: {_stderr_reason(exc)}") from None
    packets = data.get("packets") or []
    times = [float(p["pts_time"]) + float(p.get("duration_time") or 0.0)
             for p in packets if p.get("pts_time") not in (None, "N/A")]
    last = max(times) if times else None
    # Allow one GOP of reordering slack plus a frame: a whole file reaches its stated end.
    slack = 0.5
    if last is None or last < end - slack:
        reached = "no packets" if last is None else f"data stops at {last:.2f} s"
        raise MediaError(path, f"file is truncated: it claims {end - start:.2f} s but {reached}")


def _rotation(s: dict) -> int:
    for sd in s.get("side_data_list", []) or []:
        if "rotation" in sd:
            # ffprobe reports the display matrix angle counter-clockwise; players rotate clockwise.
            return int(round(-float(sd["rotation"]))) % 360
    tag = (s.get("tags") or {}).get("rotate")
    if tag is not None:
        try:
            return int(tag) % 360
        except ValueError:
            return 0
    return 0


_DEPTH = re.compile(r"(?:p|gray|rgb|bgr|gbrp|yuva?\d*p)(\d{1,2})(?:le|be)")


def _bit_depth(s: dict) -> int:
    raw = s.get("bits_per_raw_sample")
    if raw and str(raw).isdigit() and int(raw) > 0:
        return int(raw)
    m = _DEPTH.search(s.get("pix_fmt", ""))
    return int(m.group(1)) if m else 8


def _timecode(data: dict) -> str | None:
    """The file's start timecode: the container's, else a video stream's, else a QuickTime
    timecode track's (``tmcd``). Other data streams (Sony's ``rtmd`` real-time metadata)
    carry timecode-looking tags that are not the picture's start: never read."""
    tags = (data.get("format") or {}).get("tags") or {}
    if tags.get("timecode"):
        return tags["timecode"]
    streams = data.get("streams", [])
    for wanted in ("video", "tmcd"):
        for s in streams:
            kind = s.get("codec_type") if wanted == "video" else s.get("codec_tag_string")
            tc = (s.get("tags") or {}).get("timecode")
            if tc and kind == wanted and (wanted == "video" or s.get("codec_type") == "data"):
                return tc
    return None


def _creation_time(fmt: dict, streams: list[dict]) -> _dt.datetime | None:
    candidates = [(fmt.get("tags") or {}).get("creation_time")]
    candidates += [(s.get("tags") or {}).get("creation_time") for s in streams]
    for text in candidates:
        if not text:
            continue
        try:
            value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            continue
        return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
    return None


def _float(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if f == f else None


def _stderr_reason(exc: ffmpeg.Error | bytes | None) -> str:
    """ffprobe's reasons in one line: the demuxer's own words first (``moov atom not found``),
    then the summary (``Invalid data found when processing input``), without the
    ``[mov,mp4 @ 0x..]`` and file-name prefixes, each once."""
    raw = exc.stderr if isinstance(exc, ffmpeg.Error) else exc
    text = (raw or b"").decode("utf-8", "replace").strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "ffprobe failed without a message"
    reasons: list[str] = []
    for line in lines[-6:]:
        line = re.sub(r"^\[[^\]]*@ *0x[0-9a-f]+\] *", "", line)
        if line.startswith(("/", ".")) or re.match(r"^[A-Za-z]:\\", line):
            line = line.rsplit(": ", 1)[-1]  # ffprobe prefixes its summary with the file name
        if line and line not in reasons:
            reasons.append(line)
    return "; ".join(reasons[-3:])
