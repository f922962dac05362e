"""Preview render: an OTIO timeline -> an H.264/AAC MP4, frame-exact, in one ffmpeg process
(a cut of more than :data:`CHUNK_PIECES` pieces: in chunks of that many, joined without a
gap or a repeated frame, :mod:`.preview_chunks`).

The renderer reads the timeline (not the cut list): the first video track, the first audio
track and the timeline's rate (:func:`~.timeline.timeline_rate`). Output frame ``k`` of a
clip placed at record frame ``record_in`` whose source starts at file frame ``source_in``
(source start minus ``available_range`` start, i.e. zero-based in the file) shows:

- source at the timeline rate: file frame ``source_in + (k - record_in)``;
- source at another rate ``S`` in a timeline at ``R``: file frame
  ``source_in + floor((k - record_in) * S / R)`` -- the source frame on screen at that
  instant when the source plays at its own speed from its in point (a 60p source shows
  every 2nd or 3rd frame in 23.976, a 25 fps source repeats no frame and skips one now and
  then).

How ffmpeg is made to do exactly that: each clip is one input. A constant-rate source is
opened with input seeking (``-ss`` a few frames before the in point, ``-noaccurate_seek``,
timestamps kept with ``-copyts``) and its frames are picked by presentation time with a
half-frame window around the wanted frames (``trim``), so rounding in the container cannot
shift a frame. A variable-rate source is decoded from its start and picked by decoded frame
index (``trim=start_frame``), the index the analysis counted. The picked frames are then
renumbered (``setpts=N/S``), resampled to the timeline rate with ``fps=R:round=up`` (output
slot ``j`` takes the last source frame ``i`` with ``i/S <= j/R``, i.e. ``floor(j*S/R)``),
cut to the record length, scaled and letterboxed to the output size, and concatenated.
Gaps become black. Music: each audio clip trimmed to its source range, faded out by its
``montage_ai.fade_out_frames`` metadata, gaps silent, padded or cut to the timeline length.

>>> render_preview(timeline, "preview.mp4", size=(640, 360))        # doctest: +SKIP
'preview.mp4'
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import opentimelineio as otio

from montage_ai.core.base.errors import MediaError
from montage_ai.core.base.fileio import OutputExistsError, publish
from montage_ai.core.base.timebase import format_rate
from montage_ai.core.media.ffmpeg_progress import run_ffmpeg_progress
from montage_ai.core.media.probe import MediaInfo, probe, require_tool
from montage_ai.core.model.timeline import (
    NAMESPACE,
    frames_at,
    grid_length,
    media_path,
    rate_from_otio,
    source_in_frames,
    source_rate_of,
    timeline_rate,
)

log = logging.getLogger(__name__)

#: Frames to seek before a clip's in point (the window then picks frames by time).
SEEK_MARGIN_FRAMES = 4
#: With more clip inputs than this, each decoder runs single-threaded: ffmpeg opens every
#: input (and decodes its first frame) up front, and frame-threaded decoders multiply that
#: memory by the core count (200 clips: 1.2 GB -> 0.5 GB at 320x180).
MANY_INPUTS = 16
#: A video track with more pieces (clips and gaps) than this renders in chunks of this many
#: (:mod:`.preview_chunks`): memory bounded by the chunk, not by the cut's length.
CHUNK_PIECES = 16
AUDIO_RATE = 48000


@dataclass(frozen=True)
class _VideoPiece:
    record_frames: int
    path: str | None = None          # None: a gap (black)
    source_in: int = 0               # zero-based file frame
    source_rate: Fraction = Fraction(0)


@dataclass(frozen=True)
class _AudioPiece:
    frames: int
    path: str | None = None          # None: silence
    start_s: Fraction = Fraction(0)
    fade_out_frames: int = 0


def _sec(value: Fraction) -> str:
    """Seconds as a decimal with microsecond-and-better precision."""
    return f"{float(value):.9f}"


def _video_pieces(track: otio.schema.Track, rate: Fraction) -> list[_VideoPiece]:
    pieces = []
    for index, item in enumerate(track):
        if isinstance(item, otio.schema.Transition):
            raise ValueError(f"{item.name or 'transition'}: the preview renders cuts only, not transitions")
        n = frames_at(track.range_of_child_at_index(index).duration, rate, what=f"{item.name}: duration")
        if isinstance(item, otio.schema.Clip):
            ref = item.media_reference
            if not isinstance(ref, otio.schema.ExternalReference):
                raise ValueError(f"{item.name}: the clip has no external media reference")
            pieces.append(_VideoPiece(n, media_path(ref.target_url), source_in_frames(item), source_rate_of(item)))
        elif n:
            pieces.append(_VideoPiece(n))
    return pieces


def _audio_pieces(track: otio.schema.Track | None, rate: Fraction) -> list[_AudioPiece]:
    if track is None:
        return []
    pieces = []
    for index, item in enumerate(track):
        if isinstance(item, otio.schema.Transition):
            continue
        n = frames_at(track.range_of_child_at_index(index).duration, rate, what=f"{item.name}: duration")
        if isinstance(item, otio.schema.Clip) and isinstance(item.media_reference, otio.schema.ExternalReference):
            src = item.source_range.start_time
            avail = item.media_reference.available_range
            offset = Fraction(avail.start_time.value) / rate_from_otio(avail.start_time.rate) if avail else Fraction(0)
            start_s = Fraction(src.value) / rate_from_otio(src.rate) - offset
            fade = int((item.metadata.get(NAMESPACE) or {}).get("fade_out_frames", 0))
            pieces.append(_AudioPiece(n, media_path(item.media_reference.target_url), start_s, min(fade, n)))
        elif n:
            pieces.append(_AudioPiece(n))
    return pieces


def _first(timeline: otio.schema.Timeline, kind: str) -> otio.schema.Track | None:
    return next((t for t in timeline.tracks if isinstance(t, otio.schema.Track) and t.kind == kind), None)


def _output_size(timeline: otio.schema.Timeline, size: tuple[int, int] | None) -> tuple[int, int]:
    """The even ``(width, height)`` of the output (see :func:`render_preview`'s ``size``)."""
    meta = timeline.metadata.get(NAMESPACE) or {}
    own = (int(meta.get("width") or 1280), int(meta.get("height") or 720))
    if size is None:
        size = own
    elif size[0] <= 0:  # height-based: the timeline's aspect ratio
        size = (round(size[1] * own[0] / own[1]), size[1])
    return max(2, int(size[0]) // 2 * 2), max(2, int(size[1]) // 2 * 2)


def _timeline_pieces(timeline: otio.schema.Timeline) -> tuple[Fraction, list[_VideoPiece], int]:
    """The timeline's rate, its video pieces and their frame count (ValueError when empty)."""
    rate = timeline_rate(timeline)
    video = _first(timeline, otio.schema.TrackKind.Video)
    if video is None:
        raise ValueError(f"timeline {timeline.name!r} has no video track")
    pieces = _video_pieces(video, rate)
    total = sum(p.record_frames for p in pieces)
    if total <= 0:
        raise ValueError(f"timeline {timeline.name!r} is empty")
    return rate, pieces, total


def _video_graph(pieces: list[_VideoPiece], rate: Fraction, width: int, height: int,
                 probes: dict[str, MediaInfo]) -> tuple[list[str], list[str]]:
    """Input arguments and filter-graph lines that render ``pieces`` one after the other to
    ``[vout]``; inputs are numbered from 0 in the order of the arguments."""
    args: list[str] = []
    graph: list[str] = []
    labels: list[str] = []
    inputs = 0
    clip_count = sum(1 for p in pieces if p.path is not None)
    decoder = ["-threads", "1"] if clip_count > MANY_INPUTS else []
    for i, piece in enumerate(pieces):
        label = f"v{i}"
        n = piece.record_frames
        finish = (f"fps=fps={format_rate(rate, ratio=True)}:start_time=0:round=up,trim=end_frame={n},"
                  # Square the pixels first (a non-square source is never squeezed), then fit.
                  f"scale=trunc(iw*sar/2)*2:ih,setsar=1,"
                  f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
                  f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[{label}]")
        labels.append(label)
        if piece.path is None:
            graph.append(f"color=c=black:s={width}x{height}:r={format_rate(rate, ratio=True)},trim=end_frame={n},setsar=1,format=yuv420p[{label}]")
            continue
        info = probes.get(piece.path) or probe(piece.path)
        probes[piece.path] = info
        input_args, pick = _pick_frames(piece, n, rate, info)
        args += input_args[:-2] + decoder + input_args[-2:]
        # Clone the last frame once so fps always has a frame after the last slot.
        s = piece.source_rate
        graph.append(f"[{inputs}:v:0]{pick},tpad=stop_mode=clone:stop=1,"
                     f"setpts=N*{s.denominator}/{s.numerator}/TB,{finish}")
        inputs += 1
    graph.append("".join(f"[{lab}]" for lab in labels)
                 + f"concat=n={len(labels)}:v=1:a=0,setpts=N*{rate.denominator}/{rate.numerator}/TB[vout]")
    return args, graph


def _pick_frames(piece: _VideoPiece, n: int, rate: Fraction, info: MediaInfo) -> tuple[list[str], str]:
    """The input arguments (ending ``-i path``) and the filters that pick the source frames
    a piece of ``n`` record frames shows, at the source's own rate."""
    assert piece.path is not None
    vs = info.video
    s = piece.source_rate
    needed = math.floor((n - 1) * s / rate) + 1
    first, last = piece.source_in, piece.source_in + needed - 1
    length = grid_length(info)
    if first < 0 or last >= length:
        raise MediaError(piece.path, f"the timeline uses frames {first}..{last}, the file has {length}")
    if vs.rate != s:
        log.warning("%s: timeline says %s fps, the file is %s fps", piece.path, format_rate(s, ratio=True), format_rate(vs.rate, ratio=True))
    args: list[str] = []
    if vs.vfr:
        # Placed by time, as every NLE does: grid frame g shows the last decoded frame whose
        # timestamp rounds to g or earlier (fps=round=near holds it over missing frames).
        # The window opens a second early so a held frame before the in point is there.
        grid0 = Fraction(vs.start_time_s) + Fraction(first) / s
        seek = Fraction(first) / s - 2
        if seek > 0:
            args += ["-ss", _sec(seek)]
        t0 = grid0 - 1
        t1 = Fraction(vs.start_time_s) + (Fraction(last) + Fraction(1, 2)) / s
        pick = (f"trim=start={_sec(max(t0, Fraction(0)))}:end={_sec(t1)},"
                f"fps=fps={format_rate(s, ratio=True)}:start_time={_sec(grid0)}:round=near,settb={format_rate(vs.time_base, ratio=True)}")
    else:
        seek = first - SEEK_MARGIN_FRAMES
        if seek > 0:
            args += ["-noaccurate_seek", "-ss", _sec(Fraction(seek) / vs.rate)]
        t0 = Fraction(vs.start_time_s) + (Fraction(first) - Fraction(1, 2)) / vs.rate
        t1 = Fraction(vs.start_time_s) + (Fraction(last) + Fraction(1, 2)) / vs.rate
        pick = f"trim=start={_sec(t0)}:end={_sec(t1)}"
    return args + ["-i", piece.path], pick


def _audio_graph(timeline: otio.schema.Timeline, rate: Fraction, total: int,
                 first_input: int) -> tuple[list[str], list[str]]:
    """Input arguments and filter-graph lines for the first audio track to ``[aout]``, exactly
    ``total`` frames long; its inputs are numbered from ``first_input``."""
    args: list[str] = []
    graph: list[str] = []
    inputs = first_input
    total_s = Fraction(total) / rate
    alabels = []
    for i, piece in enumerate(_audio_pieces(_first(timeline, otio.schema.TrackKind.Audio), rate)):
        label = f"a{i}"
        dur = Fraction(piece.frames) / rate
        if piece.path is None:
            graph.append(f"anullsrc=r={AUDIO_RATE}:cl=stereo,atrim=duration={_sec(dur)}[{label}]")
        else:
            args += ["-i", piece.path]
            chain = (f"[{inputs}:a:0]asetpts=PTS-STARTPTS,aresample={AUDIO_RATE},"
                     f"aformat=sample_fmts=fltp:channel_layouts=stereo,"
                     f"atrim=start={_sec(piece.start_s)}:duration={_sec(dur)},asetpts=PTS-STARTPTS")
            if piece.fade_out_frames:
                fade = Fraction(piece.fade_out_frames) / rate
                chain += f",afade=t=out:st={_sec(dur - fade)}:d={_sec(fade)}"
            graph.append(chain + f"[{label}]")
            inputs += 1
        alabels.append(label)
    if alabels:
        graph.append("".join(f"[{lab}]" for lab in alabels)
                     + f"concat=n={len(alabels)}:v=0:a=1,apad,atrim=duration={_sec(total_s)}[aout]")
    else:
        graph.append(f"anullsrc=r={AUDIO_RATE}:cl=stereo,atrim=duration={_sec(total_s)}[aout]")
    return args, graph


def _ffmpeg_head() -> list[str]:
    return [require_tool("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error"]


def _video_codec(rate: Fraction) -> list[str]:
    return ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-r", format_rate(rate, ratio=True), "-fps_mode", "cfr"]


def _audio_codec_and_mp4(rate: Fraction) -> list[str]:
    return ["-c:a", "aac", "-b:a", "192k", "-ar", str(AUDIO_RATE), "-ac", "2",
            # A movie time scale that holds both the audio samples and the frames exactly
            # (the default, 1000, rounds the edit lists, hence the durations, to 1 ms).
            "-movie_timescale", str(math.lcm(AUDIO_RATE, rate.numerator)),
            "-movflags", "+faststart", "-f", "mp4"]


def _write_graph(graph: list[str], graph_path: str) -> None:
    with open(graph_path, "w", encoding="utf-8") as f:
        f.write(";\n".join(graph))


def _build_command(timeline: otio.schema.Timeline, out_path: str, *, size: tuple[int, int] | None = (1280, 720),
                  media: dict[str, MediaInfo] | None = None, graph_path: str) -> tuple[list[str], int]:
    """The one ffmpeg command that renders ``timeline`` to ``out_path`` and its frame count.

    The filter graph is written to ``graph_path`` (``-filter_complex_script``).
    """
    rate, pieces, total = _timeline_pieces(timeline)
    width, height = _output_size(timeline, size)
    probes = dict(media or {})
    vargs, vgraph = _video_graph(pieces, rate, width, height, probes)
    inputs = sum(1 for a in vargs if a == "-i")
    aargs, agraph = _audio_graph(timeline, rate, total, inputs)
    _write_graph(vgraph + agraph, graph_path)
    args = [*_ffmpeg_head(), "-copyts", *vargs, *aargs,
            "-filter_complex_script", graph_path, "-map", "[vout]", "-map", "[aout]",
            *_video_codec(rate), *_audio_codec_and_mp4(rate),
            "-progress", "pipe:1", "-nostats", "-y", out_path]
    return args, total


def render_preview(
    timeline: otio.schema.Timeline,
    out_path: str | os.PathLike[str],
    *,
    size: tuple[int, int] | None = (1280, 720),
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    overwrite: bool = False,
    media: dict[str, MediaInfo] | None = None,
    chunk: int = CHUNK_PIECES,
) -> str:
    """Render ``timeline`` to an H.264/AAC MP4 at the timeline's rate, frame-exact.

    Parameters
    ----------
    timeline:
        An OTIO timeline (as :func:`~.timeline.build_timeline` makes, or any with external
        references on its first video track).
    out_path:
        The MP4 to write; written beside under a temporary name, then renamed.
    size:
        ``(width, height)`` of the output, rounded down to even numbers (sources are
        scaled and letterboxed); ``(0, 720)``: 720 high at the timeline's aspect ratio;
        ``None``: the timeline's own size (``montage_ai.width/height`` metadata).
    progress:
        Called with the fraction done (0..1).
    cancel:
        Polled a few times a second; when it returns True ffmpeg is killed, nothing is
        left behind and :class:`~montage_ai.core.base.errors.Cancelled` is raised.
    overwrite:
        Replace ``out_path`` if it exists (else :class:`OutputExistsError`).
    media:
        Probes by path, to skip probing again.
    chunk:
        A video track of more pieces than this is rendered in chunks of this many and
        joined without a gap or a repeated frame (:mod:`.preview_chunks`), so memory does
        not grow with the cut's length.

    Returns
    -------
    str
        ``out_path``.

    Raises
    ------
    OutputExistsError, MediaError, Cancelled, ValueError

    Examples
    --------
    >>> render_preview(build_timeline(cut_list), "rough.mp4", size=(640, 360),
    ...                progress=print)                                   # doctest: +SKIP
    'rough.mp4'
    """
    out_path = os.fspath(out_path)
    if os.path.exists(out_path) and not overwrite:
        raise OutputExistsError(out_path)
    folder, base = os.path.split(os.path.abspath(out_path))
    os.makedirs(folder, exist_ok=True)
    stem, _ = os.path.splitext(base)
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=".part.mp4", dir=folder)
    os.close(fd)
    fd, graph_path = tempfile.mkstemp(prefix=f".{stem}.", suffix=".filtergraph", dir=folder)
    os.close(fd)
    try:
        from montage_ai.core.render import preview_chunks

        if preview_chunks.needs_chunks(timeline, chunk):
            preview_chunks.render_chunked(timeline, tmp, size=size, chunk=chunk, media=media, progress=progress,
                                          cancel=cancel, label=out_path)
        else:
            cmd, total = _build_command(timeline, tmp, size=size, media=media, graph_path=graph_path)
            log.debug("preview %s: %d frames, %s", out_path, total, " ".join(cmd))
            _run(cmd, total, out_path, progress, cancel)
        publish(tmp, out_path, overwrite=overwrite)
    finally:
        for p in (tmp, graph_path):
            if os.path.exists(p):
                os.unlink(p)
    if progress:
        progress(1.0)
    return out_path


def _run(cmd: list[str], total: int, out_path: str, progress: Callable[[float], None] | None,
         cancel: Callable[[], bool] | None) -> None:
    code, errors = run_ffmpeg_progress(cmd, total, progress=(lambda f: progress(f * 0.999)) if progress else None,
                                       cancel=cancel, cancelled=f"{out_path}: preview render cancelled")
    if code != 0:
        raise MediaError(out_path, f"ffmpeg could not render the preview: {errors[-1] if errors else code}")
