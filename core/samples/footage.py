"""Generated footage with known shot boundaries, for tests, benchmarks and the demo.

Each :class:`Segment` is rendered from an ffmpeg lavfi source (``testsrc2``, ``smptebars``,
``mandelbrot``, ``cellauto``, ``life``, ``gradients``, ``color``, a moving ``pan`` over a wide
still, a ``zoompan`` push-in, or ``black``) to raw frames; segments are joined in numpy
(hard cuts, dissolves, fades, a flash or a brightness swell inside a shot are exact
arithmetic on frames) and piped to one encoder. The ground truth therefore holds to the
frame, whatever the rate.

>>> truth = render_footage("clip.mp4", [Segment("testsrc2", 30),
...                                     Segment("smptebars", 20, dissolve_in=8),
...                                     Segment("black", 10),
...                                     Segment("mandelbrot", 30, fade_in=6)],
...                        rate=Fraction(24000, 1001))          # doctest: +SKIP
>>> truth.cuts, truth.transitions, truth.blacks                    # doctest: +SKIP
((50,), ((30, 37), (60, 65)), ((50, 59),))

Output is deterministic (fixed seeds, no wall-clock input) and written atomically (a
temporary name, then :func:`os.replace`).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterator, Sequence

import numpy as np

from montage_ai.core.base.errors import MediaError
from montage_ai.core.base.timebase import format_rate
from montage_ai.core.media.probe import require_tool
from montage_ai.core.samples.drawn import drawn_frames, scene_still  # noqa: F401 (scene_still re-exported)

#: Sources :class:`Segment` understands.
SOURCES = ("testsrc2", "smptebars", "mandelbrot", "cellauto", "life", "gradients", "color",
           "pan", "zoompan", "black", "scene", "testcard", "slate", "countdown")
#: Sources that are test patterns (never offered in a cut); ``pan``/``zoompan`` over them too.
TEST_PATTERNS = ("testsrc2", "smptebars", "color", "testcard", "slate", "countdown")

_PALETTE = ("0xd04040", "0x40a0d0", "0xe0c040", "0x50b050", "0x8050c0", "0xe08030", "0x30c0b0", "0xc0c0c0")

# Lavfi sources are rendered at most this wide, then scaled: mandelbrot at 1080p is slow.
_MAX_SOURCE_WIDTH = 640


@dataclass(frozen=True)
class Segment:
    """One shot of generated footage.

    Parameters
    ----------
    source:
        One of :data:`SOURCES`. ``color`` is a flat colour (``color``) with film grain;
        ``pan`` moves the frame across a wide still (``pan_px_per_frame``); ``zoompan``
        pushes in on a still; ``black`` is a black slug.
    frames:
        Length in frames (including any dissolve overlap with the previous segment).
    color:
        The colour of ``color`` segments (ffmpeg colour name or ``0xRRGGBB``).
    seed:
        Seed of the sources that take one (life, cellauto, gradients) and of the grain.
    gain:
        Constant brightness factor (0.3 gives a dark, under-exposed shot).
    blur_sigma:
        Gaussian blur in pixels of the source size (an out-of-focus shot).
    grain:
        Standard deviation of added grain, in 8-bit code values.
    dissolve_in:
        Frames of a cross-dissolve from the previous segment (the overlap).
    iris:
        Make the ``dissolve_in`` overlap an iris instead (:func:`_iris_mix`): the picture opens
        in a soft-edged circle from the centre while the previous one darkens around it, and a
        dark vignette at the edges clears last (a circular wipe with a dissolve, as in film).
    fade_in, fade_out:
        Frames of a fade from / to black at the start / end of this segment.
    fade_colour:
        Fade from / to this colour instead of black (``0xRRGGBB`` or ``white``: a dip to white
        is a ``fade_out`` to white, a white ``color`` segment, and a ``fade_in`` from white).
    flash:
        ``(offset, frames)``: a camera flash (frames pushed towards white) inside the shot.
    swell:
        ``(offset, frames)``: a brightness swell (up to ``swell_gain`` and back) inside it.
    pan_px_per_frame:
        Speed of ``pan`` segments in output pixels per frame.
    still:
        What ``pan`` and ``zoompan`` move over: ``"testsrc2"`` / ``"smptehdbars"`` (test
        patterns, the defaults) or ``"scene"`` (a generated landscape, not a test pattern).
    shake_px:
        Handheld shake: a random jitter of the picture, standard deviation in output pixels.
    whip:
        ``(offset, frames)``: a whip pan inside the shot (the picture rushes sideways,
        smeared by a horizontal motion blur of ``whip_px`` pixels).
    """

    source: str
    frames: int
    color: str = "0x3060a0"
    seed: int = 1
    gain: float = 1.0
    blur_sigma: float = 0.0
    grain: float = 0.0
    dissolve_in: int = 0
    iris: bool = False
    fade_in: int = 0
    fade_out: int = 0
    flash: tuple[int, int] | None = None
    swell: tuple[int, int] | None = None
    swell_gain: float = 1.6
    pan_px_per_frame: float = 8.0
    still: str = ""
    fade_colour: str = ""
    shake_px: float = 0.0
    whip: tuple[int, int] | None = None
    whip_px: int = 40

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"unknown source {self.source!r}; use one of {', '.join(SOURCES)}")
        if self.frames <= 0:
            raise ValueError("a segment needs at least one frame")
        if self.dissolve_in and (self.fade_in or self.dissolve_in >= self.frames):
            raise ValueError("a dissolve must be shorter than the segment and excludes fade_in")


@dataclass(frozen=True)
class GroundTruth:
    """What the rendered file contains, in its own frame grid (indices from 0).

    ``cuts``: first frames of shots that start with a hard cut (not the first shot, not
    cuts into or out of a fade, which are part of the transition).
    ``transitions``: ``(first, last)`` frames of every dissolve and fade (inclusive).
    ``blacks``: ``(first, last)`` frames of black slugs.
    ``flashes`` / ``swells``: ``(first, last)`` frames of events that are *not* boundaries.
    ``segments``: ``(start, end_exclusive, source)`` per segment, the dissolve overlap
    counted in the later segment.
    ``pts_s``: the presentation time of each frame (differs from ``index / rate`` only for
    files rendered with ``drop_every``, which are variable-frame-rate).
    """

    path: str
    rate: Fraction
    width: int
    height: int
    frame_count: int
    cuts: tuple[int, ...]
    transitions: tuple[tuple[int, int], ...]
    blacks: tuple[tuple[int, int], ...]
    flashes: tuple[tuple[int, int], ...]
    swells: tuple[tuple[int, int], ...]
    segments: tuple[tuple[int, int, str], ...]
    pts_s: tuple[float, ...] = field(repr=False, default=())

    @property
    def boundaries(self) -> tuple[int, ...]:
        """Every segment start after the first (hard cuts, transition and black starts)."""
        return tuple(s for s, _, _ in self.segments[1:])


def render_footage(
    path: str | os.PathLike[str],
    segments: Sequence[Segment],
    *,
    rate: Fraction | int = Fraction(25),
    size: tuple[int, int] = (320, 180),
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop_frames: int | None = None,
    scenecut: bool = True,
    crf: int = 23,
    preset: str = "veryfast",
    audio: bool = False,
    rotation: int | None = None,
    drop_every: int | None = None,
) -> GroundTruth:
    """Render ``segments`` to ``path`` and return the ground truth.

    Parameters
    ----------
    rate:
        Exact frame rate (``Fraction(24000, 1001)``, 25, ...).
    size:
        ``(width, height)``; both even.
    codec, pix_fmt:
        ``libx264`` or ``libx265``; ``yuv420p``, ``yuv420p10le``, ...
    gop_frames:
        Maximum keyframe interval (``None``: the encoder's default, 250).
    scenecut:
        Let the encoder insert keyframes at scene changes (x264/x265 ``scenecut``).
    audio:
        Add a stereo 440 Hz sine track of the same length (AAC).
    rotation:
        Write a ``rotate`` display tag (degrees) into the container.
    drop_every:
        Drop every ``drop_every``-th frame while keeping the other frames' timestamps:
        a variable-frame-rate file (ground truth re-indexed to the kept frames).
    """
    path = os.fspath(path)
    rate = Fraction(rate)
    width, height = size
    if width % 2 or height % 2:
        raise ValueError("width and height must be even")
    ffmpeg = require_tool("ffmpeg")

    layout = _layout(segments)
    total = layout["total"]
    directory = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1] or ".mp4"
    fd, tmp = tempfile.mkstemp(prefix=".render-", suffix=suffix, dir=directory)
    os.close(fd)
    try:
        cmd = [ffmpeg, "-nostdin", "-v", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}",
               "-r", format_rate(rate, ratio=True), "-i", "pipe:0"]
        if audio:
            seconds = float(total / rate)
            cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds:.6f}",
                    "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-ac", "2"]
        if drop_every:
            cmd += ["-vf", f"select='not(eq(mod(n\\,{drop_every})\\,{drop_every - 1}))'",
                    "-fps_mode", "passthrough"]
        cmd += _video_codec_args(codec, pix_fmt, gop_frames, scenecut, crf, preset)
        if rotation is None:
            cmd += [tmp]
            _encode(cmd, _compose(segments, layout, rate, width, height), path)
        else:
            fd2, mid = tempfile.mkstemp(prefix=".render-", suffix=suffix, dir=directory)
            os.close(fd2)
            try:
                _encode(cmd + [mid], _compose(segments, layout, rate, width, height), path)
                subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-y", "-i", mid, "-map", "0", "-c", "copy",
                                "-metadata:s:v:0", f"rotate={int(rotation)}", tmp], check=True)
            finally:
                if os.path.exists(mid):
                    os.unlink(mid)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return _truth(os.path.abspath(path), segments, layout, rate, width, height, drop_every)


def render_audio(path: str | os.PathLike[str], seconds: float, *, frequency: float = 440.0,
                 sample_rate: int = 48000, codec: str | None = None) -> str:
    """An audio-only file (sine tone), e.g. to prove footage probing rejects it."""
    path = os.fspath(path)
    ffmpeg = require_tool("ffmpeg")
    suffix = os.path.splitext(path)[1] or ".m4a"
    fd, tmp = tempfile.mkstemp(prefix=".render-", suffix=suffix, dir=os.path.dirname(os.path.abspath(path)))
    os.close(fd)
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "lavfi",
           "-i", f"sine=frequency={frequency}:sample_rate={sample_rate}:duration={seconds}"]
    if codec:
        cmd += ["-c:a", codec]
    try:
        subprocess.run(cmd + [tmp], check=True, capture_output=True)
        os.replace(tmp, path)
    except subprocess.CalledProcessError as exc:
        os.unlink(tmp)
        raise MediaError(path, f"cannot render audio: {exc.stderr.decode(errors='replace').strip()}") from None
    return path


def demo_segments(seconds_per_shot: float = 2.0, rate: Fraction | int = 25) -> list[Segment]:
    """A varied reel without test patterns: cuts, a dissolve, a fade through black, a flash,
    a swell, pans and a push-in over generated landscapes, fractals and automata."""
    n = max(8, int(round(seconds_per_shot * Fraction(rate))))
    return [
        Segment("pan", n, still="scene", seed=1, pan_px_per_frame=2.0),
        Segment("zoompan", n, still="scene", seed=2, grain=3.0),
        Segment("mandelbrot", n, dissolve_in=max(4, n // 4)),
        Segment("gradients", n, seed=3, fade_out=max(4, n // 5)),
        Segment("black", max(4, n // 3)),
        Segment("pan", n, still="scene", seed=5, fade_in=max(4, n // 5), pan_px_per_frame=6.0),
        Segment("scene", n, seed=6, grain=6.0, flash=(n // 3, 2)),
        Segment("zoompan", n, still="scene", seed=7, blur_sigma=3.0, swell=(n // 4, n // 2)),
        Segment("life", n, seed=2),
    ]


# ----------------------------------------------------------------------------------------
# Layout and ground truth


def _layout(segments: Sequence[Segment]) -> dict:
    if not segments:
        raise ValueError("no segments")
    starts = []
    pos = 0
    for i, seg in enumerate(segments):
        if i == 0 and seg.dissolve_in:
            raise ValueError("the first segment cannot dissolve in")
        pos -= seg.dissolve_in
        starts.append(pos)
        pos += seg.frames
    return {"starts": starts, "total": pos}


def _truth(path: str, segments: Sequence[Segment], layout: dict, rate: Fraction, width: int, height: int,
           drop_every: int | None) -> GroundTruth:
    starts = layout["starts"]
    total = layout["total"]
    cuts, transitions, blacks, flashes, swells, segs = [], [], [], [], [], []
    for i, (seg, start) in enumerate(zip(segments, starts)):
        end = start + seg.frames
        segs.append((start, end, seg.source))
        if seg.source == "black":
            blacks.append((start, end - 1))
        if seg.dissolve_in:
            transitions.append((start, start + seg.dissolve_in - 1))
        if seg.fade_in:
            transitions.append((start, start + seg.fade_in - 1))
        if seg.fade_out:
            transitions.append((end - seg.fade_out, end - 1))
        if seg.flash:
            flashes.append((start + seg.flash[0], start + seg.flash[0] + seg.flash[1] - 1))
        if seg.swell:
            swells.append((start + seg.swell[0], start + seg.swell[0] + seg.swell[1] - 1))
        if i > 0 and not seg.dissolve_in and not seg.fade_in and not segments[i - 1].fade_out:
            cuts.append(start)
    pts = [float(Fraction(n) / rate) for n in range(total)]
    if drop_every:
        kept = [n for n in range(total) if n % drop_every != drop_every - 1]
        new_index = {}
        for j, n in enumerate(kept):
            new_index[n] = j

        def remap(n: int, forward: bool = True) -> int:
            # A dropped frame maps to the next kept one (first) or the previous one (last).
            while n not in new_index:
                n += 1 if forward else -1
            return new_index[n]

        cuts = [remap(c) for c in cuts]
        transitions = [(remap(a), remap(b, False)) for a, b in transitions]
        blacks = [(remap(a), remap(b, False)) for a, b in blacks]
        flashes = [(remap(a), remap(b, False)) for a, b in flashes]
        swells = [(remap(a), remap(b, False)) for a, b in swells]
        segs = [(remap(a), remap(b) if b < total else len(kept), s) for a, b, s in segs]
        pts = [pts[n] for n in kept]
        total = len(kept)
    return GroundTruth(path=path, rate=rate, width=width, height=height, frame_count=total,
                       cuts=tuple(cuts), transitions=tuple(transitions), blacks=tuple(blacks),
                       flashes=tuple(flashes), swells=tuple(swells), segments=tuple(segs),
                       pts_s=tuple(pts))


# ----------------------------------------------------------------------------------------
# Rendering


def _video_codec_args(codec: str, pix_fmt: str, gop: int | None, scenecut: bool, crf: int, preset: str) -> list[str]:
    args = ["-c:v", codec, "-preset", preset, "-crf", str(crf), "-pix_fmt", pix_fmt]
    if codec == "libx264":
        params = [] if scenecut else ["scenecut=0"]
        if gop:
            args += ["-g", str(gop), "-keyint_min", str(min(gop, 25))]
        if params:
            args += ["-x264-params", ":".join(params)]
    elif codec == "libx265":
        params = ["log-level=error"]
        if gop:
            params += [f"keyint={gop}", f"min-keyint={min(gop, 25)}"]
        if not scenecut:
            params.append("scenecut=0")
        args += ["-x265-params", ":".join(params), "-tag:v", "hvc1"]
    elif gop:
        args += ["-g", str(gop)]
    return args


def _encode(cmd: list[str], frames: Iterator[np.ndarray], path: str) -> None:
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for frame in frames:
            proc.stdin.write(frame.tobytes())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    finally:
        err = proc.stderr.read()
        proc.wait()
    if proc.returncode != 0:
        raise MediaError(path, f"encoder failed: {err.decode(errors='replace').strip()[-500:]}")


def _compose(segments: Sequence[Segment], layout: dict, rate: Fraction, width: int, height: int) -> Iterator[np.ndarray]:
    held: deque[np.ndarray] = deque()
    for i, seg in enumerate(segments):
        nxt = segments[i + 1] if i + 1 < len(segments) else None
        hold = nxt.dissolve_in if nxt else 0
        for k, frame in enumerate(_segment_frames(seg, rate, width, height)):
            if seg.dissolve_in and k < seg.dissolve_in:
                a = held.popleft().astype(np.float32)
                alpha = (k + 1) / (seg.dissolve_in + 1)
                if seg.iris:
                    frame = _u8(_iris_mix(a, frame.astype(np.float32), alpha))
                else:
                    frame = _u8(a * (1.0 - alpha) + frame.astype(np.float32) * alpha)
            if k >= seg.frames - hold:
                held.append(frame)
            else:
                yield frame


def _iris_mix(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Frame ``t`` (0..1) of an iris from ``a`` to ``b`` (float32 BGR): ``b`` shows through a
    circle growing from the centre with a soft edge that reaches the corners at ``t`` = 1;
    outside it ``a`` dissolves to black, and ``b`` carries a dark vignette (``1 - t`` deep
    at the corners), so the last frames are the new picture with dark edges clearing."""
    h, w = a.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.hypot((x - (w - 1) / 2) / (w / 2), (y - (h - 1) / 2) / (h / 2)) / np.sqrt(2.0)  # 1 at a corner
    edge = 1.0  # a pixel turns from ``a`` to ``b`` over half the iris
    radius = (1.0 + edge) * t
    inside = np.clip((radius - d) / edge, 0.0, 1.0)[..., None]
    vignette = 1.0 - (1.0 - t) * np.clip(d, 0.0, 1.0)[..., None] ** 2
    return inside * b * vignette + (1.0 - inside) * a * (1.0 - t)


def _u8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def _segment_frames(seg: Segment, rate: Fraction, width: int, height: int) -> Iterator[np.ndarray]:
    n = seg.frames
    gains = np.full(n, float(seg.gain), dtype=np.float64)
    fade = np.ones(n)
    for k in range(seg.fade_in):
        fade[k] *= (k + 1) / (seg.fade_in + 1)
    for k in range(seg.fade_out):
        fade[n - seg.fade_out + k] *= 1.0 - (k + 1) / (seg.fade_out + 1)
    towards = _bgr(seg.fade_colour) if seg.fade_colour else None
    if towards is None:
        gains *= fade
    if seg.swell:
        off, length = seg.swell
        ramp = np.sin(np.linspace(0.0, np.pi, length + 2)[1:-1])
        gains[off:off + length] *= 1.0 + (seg.swell_gain - 1.0) * ramp
    flash = set(range(seg.flash[0], seg.flash[0] + seg.flash[1])) if seg.flash else set()
    whip = set(range(seg.whip[0], seg.whip[0] + seg.whip[1])) if seg.whip else set()
    jitter = np.random.default_rng(seg.seed + 99).normal(0.0, seg.shake_px, (n, 2)) if seg.shake_px > 0 else None
    grain = None
    if seg.grain > 0:
        rng = np.random.default_rng(seg.seed)
        grain = [rng.normal(0.0, seg.grain, (height, width, 1)).astype(np.float32) for _ in range(4)]
    for k, frame in enumerate(_source_frames(seg, rate, width, height)):
        g = gains[k]
        dip = towards is not None and fade[k] != 1.0
        if g != 1.0 or grain is not None or k in flash or dip:
            f = frame.astype(np.float32)
            if grain is not None:
                f += grain[k % len(grain)]
            if g != 1.0:
                f *= g
            if dip:
                f = f * fade[k] + towards * (1.0 - fade[k])
            if k in flash:
                f = f * 0.35 + 255.0 * 0.65
            frame = _u8(f)
        if jitter is not None or k in whip:
            frame = _move(frame, jitter[k] if jitter is not None else (0.0, 0.0),
                          seg.whip_px * (k - seg.whip[0] + 1) if k in whip else 0, seg.whip_px if k in whip else 0)
        yield frame


def _bgr(colour: str) -> np.ndarray:
    """``0xRRGGBB`` (or ``white``) as a float32 BGR triple."""
    v = 0xFFFFFF if colour == "white" else int(colour, 16)
    return np.array([v & 255, (v >> 8) & 255, (v >> 16) & 255], np.float32)


def _move(frame: np.ndarray, shift: Sequence[float], offset: float, smear: int) -> np.ndarray:
    """``frame`` moved by ``shift`` (+ ``offset`` px sideways), smeared by a ``smear`` px
    horizontal box blur (motion blur); edges reflect."""
    import cv2

    h, w = frame.shape[:2]
    m = np.float32([[1, 0, shift[0] + offset], [0, 1, shift[1]]])
    out = cv2.warpAffine(frame, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if smear > 1:
        out = cv2.blur(out, (int(smear), 1))
    return out


def _source_frames(seg: Segment, rate: Fraction, width: int, height: int) -> Iterator[np.ndarray]:
    n = seg.frames
    if seg.source == "black":
        black = np.zeros((height, width, 3), np.uint8)
        for _ in range(n):
            yield black
        return
    sw = min(width, _MAX_SOURCE_WIDTH)
    sh = max(2, int(round(height * sw / width / 2)) * 2)
    r = format_rate(rate, ratio=True)
    src = seg.source
    if src in ("slate", "countdown") or (src in ("scene", "pan", "zoompan") and (src == "scene" or seg.still == "scene")):
        yield from drawn_frames(seg, rate, width, height)
        return
    if src == "testsrc2":
        graph = f"testsrc2=size={sw}x{sh}:rate={r}"
    elif src == "smptebars":
        graph = f"smptebars=size={sw}x{sh}:rate={r}"
    elif src == "mandelbrot":
        graph = f"mandelbrot=size={sw}x{sh}:rate={r}"
    elif src == "cellauto":
        graph = f"cellauto=size={sw}x{sh}:rate={r}:rule=110:random_fill_ratio=0.5:random_seed={seg.seed}:scroll=1"
    elif src == "life":
        graph = f"life=size={sw}x{sh}:rate={r}:seed={seg.seed}:mold=10:ratio=0.2:life_color=0xffe080:death_color=0x102040:mold_color=0x306020"
    elif src == "gradients":
        # ffmpeg 5.1 draws the gradient colours at random whatever the seed: set them.
        c0, c1, c2 = (_PALETTE[(seg.seed + k) % len(_PALETTE)] for k in (0, 3, 5))
        graph = (f"gradients=size={sw}x{sh}:rate={r}:seed={seg.seed}:speed=0.02:n=3:c0={c0}:c1={c1}:c2={c2}"
                 f":x0=0:y0=0:x1={sw - 1}:y1={sh - 1}")
    elif src == "testcard":
        graph = f"colorchart=rate={r},scale={sw}:{sh}"
    elif src == "color":
        graph = f"color=c={seg.color}:size={sw}x{sh}:rate={r}"
    elif src == "pan":
        # A wide still (a test pattern four frames wide) the frame moves across.
        speed = seg.pan_px_per_frame * sw / width
        wide = 4 * sw
        graph = (f"testsrc2=size={wide}x{sh}:rate={r},trim=end_frame=1,"
                 f"loop=loop={n}:size=1,setpts=N/({r})/TB,"
                 f"crop=w={sw}:h={sh}:x='min({speed:.4f}*n\\,{wide - sw})':y=0")
    elif src == "zoompan":
        graph = (f"smptehdbars=size={sw}x{sh}:rate={r},trim=end_frame=1,"
                 f"zoompan=z='1+0.004*on':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={n}:s={sw}x{sh}:fps={r}")
    else:  # pragma: no cover - guarded by Segment
        raise ValueError(src)
    post = []
    if seg.blur_sigma > 0:
        post.append(f"gblur=sigma={seg.blur_sigma * sw / width:.3f}")
    if (sw, sh) != (width, height):
        post.append(f"scale={width}:{height}:flags=bicubic")
    if post:
        graph += "," + ",".join(post)
    cmd = [require_tool("ffmpeg"), "-nostdin", "-v", "error", "-f", "lavfi", "-i", graph,
           "-frames:v", str(n), "-pix_fmt", "bgr24", "-f", "rawvideo", "pipe:1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    size = width * height * 3
    got = 0
    last = None
    try:
        while got < n:
            buf = proc.stdout.read(size)
            if len(buf) < size:
                break
            last = np.frombuffer(buf, np.uint8).reshape(height, width, 3)
            got += 1
            yield last
    finally:
        proc.stdout.close()
        proc.kill()
        err = proc.stderr.read()
        proc.wait()
    if got == 0:
        raise MediaError(graph, f"lavfi source failed: {err.decode(errors='replace').strip()[-300:]}")
    while got < n:  # sources that end early (a one-frame still) hold their last frame
        got += 1
        yield last

