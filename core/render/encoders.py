"""Video encoders for proxies: which exist, which work here, and the ffmpeg arguments for each.

An encoder *kind* is one of :data:`ENCODER_KINDS`: ``nvenc`` (NVIDIA), ``vaapi`` (Intel and
AMD on Linux), ``qsv`` (Intel Quick Sync), ``videotoolbox`` (macOS) or ``cpu`` (libx264,
libx265, and always for ProRes and DNxHR). ``auto`` picks the first kind, in that order, that
is both listed by ``ffmpeg -encoders`` and proven by a one-second trial encode: ffmpeg builds
often list ``h264_nvenc`` or ``h264_vaapi`` on machines with no such device (Debian's does),
so a listing proves nothing. Verdicts are cached in the user cache folder (``encoders.json``)
keyed by the host, the ffmpeg binary, its version and the encoder, so the trial runs once per machine;
``refresh=True`` runs it again (a new driver, a GPU added).

The preference comes from the caller, else the environment variable ``FFMPEG_HWACCEL``
(``auto|nvenc|vaapi|qsv|videotoolbox|cpu``), else ``auto``.

Argument construction (:func:`proxy_args`) is pure: source facts and a :class:`ProxyProfile`
in, an exact ffmpeg argument list out. Hardware *decoding* goes with each kind (``-hwaccel
cuda|vaapi|videotoolbox``; ``auto`` for the CPU and QSV, which falls back to software by
itself); decoded frames come back to system memory and are scaled there, so any source codec
works with any encoder (a ProRes source decodes on the CPU and still encodes on NVENC).
Data-centre GPUs (H100, H200, A100) have no NVENC: there the trial fails and ``auto``
chooses the CPU encoder while decoding still uses the GPU.

>>> p = PROFILES["h264-half"]
>>> proxy_size(1920, 1080, p)
(960, 540)
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

from filelock import FileLock

from montage_ai.core import defaults
from montage_ai.core.base.errors import MontageError
from montage_ai.core.media.probe import require_tool
from montage_ai.core.run.cache import default_cache_dir

log = logging.getLogger(__name__)

#: Encoder kinds, in the order ``auto`` tries them.
ENCODER_KINDS: tuple[str, ...] = ("nvenc", "qsv", "vaapi", "videotoolbox", "cpu")
#: What ``FFMPEG_HWACCEL`` and ``--encoder`` accept.
PREFERENCES: tuple[str, ...] = ("auto",) + ENCODER_KINDS
ENV_VAR = "FFMPEG_HWACCEL"
#: The render node VAAPI uses unless ``MONTAGE_AI_VAAPI_DEVICE`` names another.
VAAPI_DEVICE = "/dev/dri/renderD128"
TRIAL_TIMEOUT_S = 30.0
CACHE_FORMAT = 1

#: ffmpeg encoder name per (kind, codec family).
ENCODER_NAMES: dict[tuple[str, str], str] = {
    ("cpu", "h264"): "libx264", ("cpu", "hevc"): "libx265",
    ("cpu", "prores"): "prores_ks", ("cpu", "dnxhr"): "dnxhd",
    ("nvenc", "h264"): "h264_nvenc", ("nvenc", "hevc"): "hevc_nvenc",
    ("vaapi", "h264"): "h264_vaapi", ("vaapi", "hevc"): "hevc_vaapi",
    ("qsv", "h264"): "h264_qsv", ("qsv", "hevc"): "hevc_qsv",
    ("videotoolbox", "h264"): "h264_videotoolbox", ("videotoolbox", "hevc"): "hevc_videotoolbox",
}

#: ``-hwaccel`` for decoding with each kind (frames are downloaded to system memory).
DECODE_HWACCEL: dict[str, str] = {"cpu": "auto", "nvenc": "cuda", "vaapi": "vaapi", "qsv": "auto",
                                  "videotoolbox": "videotoolbox"}


class EncoderError(MontageError):
    """No usable encoder for the request (the message says which were tried and why)."""


@dataclass(frozen=True)
class ProxyProfile:
    """A proxy format NLEs accept.

    ``codec`` is the family (``h264``, ``hevc``, ``prores``, ``dnxhr``); ``scale`` the
    fraction of the source's width and height; ``container`` the file extension; audio is
    AAC in MP4, 16-bit PCM in MOV.
    """

    name: str
    codec: str
    scale: Fraction
    container: str
    description: str
    min_size: tuple[int, int] = (2, 2)

    @property
    def hardware_capable(self) -> bool:
        """Only H.264 and HEVC have hardware encoders; ProRes and DNxHR encode on the CPU."""
        return self.codec in ("h264", "hevc")


def _profiles() -> dict[str, ProxyProfile]:
    out = {}
    for codec, container, label in (("h264", "mp4", "H.264"), ("hevc", "mp4", "HEVC"),
                                    ("prores", "mov", "ProRes 422 Proxy"), ("dnxhr", "mov", "DNxHR LB")):
        for size, scale in (("half", Fraction(1, 2)), ("quarter", Fraction(1, 4))):
            name = {"prores": "prores-proxy", "dnxhr": "dnxhr-lb"}.get(codec, codec) + f"-{size}"
            out[name] = ProxyProfile(name, codec, scale, container, f"{label} at {size} size, "
                                     + ("AAC audio, .mp4" if container == "mp4" else "PCM audio, .mov"),
                                     min_size=(256, 120) if codec == "dnxhr" else (2, 2))
    return out


PROFILES: dict[str, ProxyProfile] = _profiles()
DEFAULT_PROFILE = defaults.PROXY_PROFILE


def get_profile(name: str) -> ProxyProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise EncoderError(f"unknown proxy profile {name!r}; choose one of {', '.join(PROFILES)}") from None


def proxy_size(width: int, height: int, profile: ProxyProfile) -> tuple[int, int]:
    """The proxy's ``(width, height)``: the source's scaled by the profile, each even, at least 2."""
    def even(x: int) -> int:
        return max(2, int(round(Fraction(x) * profile.scale / 2)) * 2)
    return even(width), even(height)


def preference(value: str | None = None) -> str:
    """The encoder preference: ``value``, else ``$FFMPEG_HWACCEL``, else ``auto``."""
    chosen = (value or os.environ.get(ENV_VAR) or "auto").strip().lower()
    if chosen not in PREFERENCES:
        source = "--encoder" if value else ENV_VAR
        raise EncoderError(f"{source}={chosen!r} is not an encoder; use one of {'|'.join(PREFERENCES)}")
    return chosen


# --- argument construction -----------------------------------------------------------

def hwaccel_input_args(kind: str, *, hwdecode: bool = True) -> list[str]:
    """Input options (before ``-i``): hardware decoding and the devices the encoder needs."""
    args: list[str] = []
    if kind == "vaapi":
        args += ["-vaapi_device", os.environ.get("MONTAGE_AI_VAAPI_DEVICE", VAAPI_DEVICE)]
    elif kind == "qsv":
        args += ["-init_hw_device", "qsv=qsv", "-filter_hw_device", "qsv"]
    if hwdecode:
        args += ["-hwaccel", DECODE_HWACCEL[kind]]
    return args


def video_filter(kind: str, width: int, height: int, codec: str) -> str:
    """Scale in system memory, then hand the encoder the pixel format it takes."""
    scale = f"scale={width}:{height}:flags=bicubic"
    if kind == "vaapi":
        return f"{scale},format=nv12,hwupload"
    if kind == "qsv":
        return f"{scale},format=nv12"
    return scale


def video_codec_args(kind: str, codec: str, rate: Fraction) -> list[str]:
    """Encoder and its quality settings; H.264/HEVC get a keyframe every second for scrubbing."""
    name = ENCODER_NAMES.get((kind, codec))
    if name is None:
        raise EncoderError(f"{codec} cannot be encoded with {kind}")
    args = ["-c:v", name]
    if codec == "prores":
        return args + ["-profile:v", "0", "-vendor", "apl0", "-pix_fmt", "yuv422p10le"]
    if codec == "dnxhr":
        return args + ["-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p"]
    gop = str(max(1, int(round(rate))))
    if kind == "cpu":
        args += (["-preset", "veryfast", "-crf", "23"] if codec == "h264"
                 else ["-preset", "fast", "-crf", "26", "-x265-params", "log-level=error"])
        args += ["-pix_fmt", "yuv420p"]
    elif kind == "nvenc":
        args += ["-preset", "p4", "-rc", "vbr", "-cq", "25", "-b:v", "0", "-pix_fmt", "yuv420p"]
    elif kind == "vaapi":
        args += ["-rc_mode", "CQP", "-qp", "25"]
    elif kind == "qsv":
        args += ["-preset", "faster", "-global_quality", "25"]
    elif kind == "videotoolbox":
        args += ["-q:v", "60", "-pix_fmt", "nv12"]
    args += ["-g", gop]
    if codec == "hevc":
        args += ["-tag:v", "hvc1"]  # the tag QuickTime, Resolve and Premiere expect in MP4/MOV
    return args


def audio_args(profile: ProxyProfile) -> list[str]:
    return ["-c:a", "aac", "-b:a", "192k"] if profile.container == "mp4" else ["-c:a", "pcm_s16le"]


def proxy_args(source: str, output: str, *, width: int, height: int, rate: Fraction, has_audio: bool,
               timecode: str | None, profile: ProxyProfile, kind: str, hwdecode: bool = True,
               metadata: dict[str, str] | None = None) -> list[str]:
    """The full ffmpeg argument list (without the program) for one proxy.

    Every video frame of the source becomes one frame of the proxy (``-fps_mode
    passthrough``: nothing duplicated or dropped, timestamps kept, so the rate is the
    source's); all audio streams are kept; the start timecode is written (``-timecode``) and
    the source's metadata copied. Progress goes to stdout (``-progress pipe:1``).

    >>> proxy_args("a.mov", "p.mp4", width=1920, height=1080, rate=Fraction(25), has_audio=False,
    ...            timecode=None, profile=PROFILES["h264-half"], kind="cpu")[:6]
    ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'error', '-progress']
    """
    if kind not in ENCODER_KINDS:
        raise EncoderError(f"unknown encoder kind {kind!r}")
    pw, ph = proxy_size(width, height, profile)
    args = ["-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-progress", "pipe:1", "-y"]
    args += hwaccel_input_args(kind, hwdecode=hwdecode)
    args += ["-i", source, "-map", "0:v:0"]
    if has_audio:
        args += ["-map", "0:a"]
    args += ["-map_metadata", "0", "-map_chapters", "-1", "-vf", video_filter(kind, pw, ph, profile.codec),
             "-fps_mode", "passthrough"]
    args += video_codec_args(kind, profile.codec, rate)
    if has_audio:
        args += audio_args(profile)
    if timecode:
        args += ["-timecode", timecode]
    for key, value in (metadata or {}).items():
        args += ["-metadata", f"{key}={value}"]
    args += ["-f", "mp4" if profile.container == "mp4" else "mov", output]
    return args


# --- discovery and trial ------------------------------------------------------------

_ENCODER_LINE = re.compile(r"^\s*([VAS][A-Z.]{5})\s+(\S+)\s", re.M)


def parse_encoders(text: str) -> frozenset[str]:
    """Encoder names in the output of ``ffmpeg -encoders`` (the lines after the legend).

    >>> sorted(parse_encoders(" V....D libx264   libx264 H.264\\n A..... aac  AAC\\n"))
    ['aac', 'libx264']
    """
    body = text.split("------", 1)[-1]
    return frozenset(m.group(2) for m in _ENCODER_LINE.finditer(body) if m.group(2) != "=")


Runner = Callable[[Sequence[str], float], "subprocess.CompletedProcess[str]"]


def _run(cmd: Sequence[str], timeout: float) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)


def ffmpeg_version(ffmpeg: str, runner: Runner = _run) -> str:
    out = runner([ffmpeg, "-hide_banner", "-version"], 10.0).stdout
    return (out.splitlines() or ["unknown"])[0].strip()


def listed_encoders(ffmpeg: str, runner: Runner = _run) -> frozenset[str]:
    proc = runner([ffmpeg, "-hide_banner", "-encoders"], 10.0)
    return parse_encoders(proc.stdout)


def trial_args(kind: str, codec: str) -> list[str]:
    """One second of a test pattern through the same hardware set-up as a real proxy."""
    rate = Fraction(25)
    profile = next(p for p in PROFILES.values() if p.codec == codec)
    args = ["-nostdin", "-hide_banner", "-loglevel", "error"]
    args += hwaccel_input_args(kind, hwdecode=False)
    args += ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=1",
             "-vf", video_filter(kind, *proxy_size(640, 360, profile), codec)]
    args += video_codec_args(kind, codec, rate)
    return args + ["-f", "null", "-"]


@dataclass(frozen=True)
class Verdict:
    """What is known about one encoder on this machine."""

    kind: str
    codec: str
    encoder: str
    listed: bool
    works: bool
    reason: str = ""
    cached: bool = False


def _ffmpeg_reason(text: str) -> str:
    """ffmpeg's reason: its first error line (the cause, e.g. a library it cannot load) and its last."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    if not lines:
        return "ffmpeg failed without a message"
    return lines[-1] if len(lines) == 1 or lines[0] == lines[-1] else f"{lines[0]} ... {lines[-1]}"


class EncoderRegistry:
    """Finds and proves encoders; one per ffmpeg binary.

    Parameters
    ----------
    cache_path:
        The verdict file (default ``<user cache>/encoders.json``).
    runner:
        ``runner(cmd, timeout) -> CompletedProcess``; tests pass a fake.
    """

    def __init__(self, *, ffmpeg: str | None = None, cache_path: str | os.PathLike[str] | None = None,
                 runner: Runner = _run) -> None:
        self.ffmpeg = ffmpeg or require_tool("ffmpeg")
        self.cache_path = Path(cache_path) if cache_path else default_cache_dir() / "encoders.json"
        self.runner = runner
        self._listed: frozenset[str] | None = None
        self._version: str | None = None

    @property
    def listed(self) -> frozenset[str]:
        if self._listed is None:
            self._listed = listed_encoders(self.ffmpeg, self.runner)
        return self._listed

    @property
    def version(self) -> str:
        if self._version is None:
            self._version = ffmpeg_version(self.ffmpeg, self.runner)
        return self._version

    def _key(self, encoder: str) -> str:
        # The host too: cluster workers may share one cache folder but not their GPUs.
        return f"{socket.gethostname()}|{os.path.realpath(self.ffmpeg)}|{self.version}|{encoder}"

    def _load(self) -> dict:
        try:
            data = json.loads(self.cache_path.read_text())
        except (OSError, ValueError):
            return {}
        return data.get("verdicts", {}) if data.get("format") == CACHE_FORMAT else {}

    def verdict(self, kind: str, codec: str, *, refresh: bool = False) -> Verdict:
        """Whether ``kind`` can encode ``codec`` here: listed, then proven by a trial (cached)."""
        encoder = ENCODER_NAMES.get((kind, codec))
        if encoder is None:
            return Verdict(kind, codec, "", listed=False, works=False, reason=f"{kind} has no {codec} encoder")
        if encoder not in self.listed:
            return Verdict(kind, codec, encoder, listed=False, works=False,
                           reason=f"{encoder} is not in this ffmpeg build")
        key = self._key(encoder)
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        # One trial per machine even when many worker processes ask at once.
        with FileLock(str(self.cache_path) + ".lock", timeout=TRIAL_TIMEOUT_S * 4):
            known = self._load()
            if not refresh and key in known:
                v = known[key]
                return Verdict(kind, codec, encoder, listed=True, works=bool(v["works"]),
                               reason=v.get("reason", ""), cached=True)
            works, reason = self._trial(kind, codec)
            known = self._load()
            known[key] = {"works": works, "reason": reason, "checked": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            tmp = self.cache_path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"format": CACHE_FORMAT, "verdicts": known}, indent=1, sort_keys=True))
            os.replace(tmp, self.cache_path)
        log.info("trial encode with %s: %s", encoder, "works" if works else f"fails ({reason})")
        return Verdict(kind, codec, encoder, listed=True, works=works, reason=reason)

    def _trial(self, kind: str, codec: str) -> tuple[bool, str]:
        cmd = [self.ffmpeg] + trial_args(kind, codec)
        try:
            proc = self.runner(cmd, TRIAL_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return False, f"trial encode did not finish in {TRIAL_TIMEOUT_S:.0f} s"
        except OSError as exc:
            return False, f"cannot run ffmpeg: {exc}"
        if proc.returncode != 0:
            return False, _ffmpeg_reason(proc.stderr)
        return True, ""

    def select(self, codec: str, want: str | None = None, *, refresh: bool = False) -> Verdict:
        """The encoder kind to use for ``codec``.

        ``want`` is a preference (see :func:`preference`). ``auto`` returns the first kind of
        :data:`ENCODER_KINDS` that works; ProRes and DNxHR always use the CPU. A named kind
        that does not work raises :class:`EncoderError` with ffmpeg's reason.
        """
        want = preference(want)
        if codec not in ("h264", "hevc"):
            kinds: Sequence[str] = ("cpu",)
        elif want == "auto":
            kinds = ENCODER_KINDS
        else:
            kinds = (want,)
        tried = []
        for kind in kinds:
            v = self.verdict(kind, codec, refresh=refresh)
            if v.works:
                return v
            tried.append(f"{v.encoder or kind}: {v.reason}")
        raise EncoderError(f"no working {codec} encoder for --encoder {want}: " + "; ".join(tried))

    def survey(self, *, refresh: bool = False) -> list[Verdict]:
        """Every (kind, codec) pair, listed or not, with its verdict (trials as needed)."""
        return [self.verdict(kind, codec, refresh=refresh)
                for kind in ENCODER_KINDS for codec in ("h264", "hevc", "prores", "dnxhr")
                if (kind, codec) in ENCODER_NAMES]


_registries: dict[tuple[str, str], EncoderRegistry] = {}


def default_registry() -> EncoderRegistry:
    """This process's registry for the ffmpeg on PATH and the default verdict file: the
    listing and version are read once per process, not once per file."""
    ffmpeg = require_tool("ffmpeg")
    key = (ffmpeg, str(default_cache_dir()))
    if key not in _registries:
        _registries[key] = EncoderRegistry(ffmpeg=ffmpeg)
    return _registries[key]
