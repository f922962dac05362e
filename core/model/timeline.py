"""Cut list -> OpenTimelineIO timeline: the one place a rough cut becomes a timeline.

Every exporter, the Resolve bridge and the preview renderer read the timeline this module
builds; :func:`cut_list_from_timeline` reads it back frame-exact.

What the timeline holds
-----------------------
- ``global_start_time``: ``RationalTime(cut_list.start_frames, rate)`` (e.g. 86400 at 24 fps
  for 01:00:00:00). Record positions inside the tracks count from 0.
- ``V1`` (video): one :class:`~opentimelineio.schema.Clip` per cut, no gaps. Its
  :class:`~opentimelineio.schema.ExternalReference` has ``target_url`` = the absolute path as
  a percent-encoded ``file://`` URL (:meth:`pathlib.Path.as_uri`: spaces -> ``%20``,
  non-ASCII letters -> their UTF-8 bytes, ``é`` -> ``%C3%A9``) and ``available_range`` =
  the whole file in the SOURCE's own rate, starting at the file's start timecode in frames
  (86400 for a 24 fps camera file at 01:00:00:00), else at 0.
- Source ranges: ``start_time`` is a whole frame in the source's own rate, on the same
  absolute (timecode) grid as ``available_range``. ``duration`` is the cut's record length
  expressed in the TIMELINE rate. For a source at the timeline rate that is simply its
  length in source frames. For a source at another rate (a 25 fps clip in a 23.976
  timeline) a duration in the source rate would often be a fractional number of frames
  (``n * 25 / 23.976``) that a double cannot hold exactly, and OTIO would add those
  inexact values up into record positions that are not whole frames. In the timeline rate
  it is an integer, OTIO's arithmetic (sums of durations, ``range_of_child_at_index``)
  keeps every record position a whole timeline frame, and the source frames covered are
  still ``duration * source_rate / rate`` (the source plays at its own speed).
- ``A1`` (audio): the music clip from 0, ``available_range`` from the probe (timeline rate,
  from 0), ``source_range`` ``[music_start, music_start + music_duration)`` (the part of the
  song the cut uses, ending with V1); the fade-out length is in the clip's metadata
  (``montage_ai.fade_out_frames``, which the preview renders as an ``afade`` and the FCPXML
  and FCP7 writers as volume keyframes).
- Markers on ``timeline.tracks`` (the stack, record frames from 0): beats
  :data:`BEAT_COLOR` (``BLUE``, zero length), downbeats :data:`DOWNBEAT_COLOR` (``RED``,
  zero length), sections :data:`SECTION_COLOR` (``GREEN``, spanning the section). Names are
  ``"beat 12"``, ``"downbeat 3"``, ``"chorus (peak)"``; metadata under ``montage_ai``.
- Metadata: every object we write keeps our data under the ``montage_ai`` key (stock OTIO
  schemas only: Resolve rejects unknown ones). Clips: ``shot``, ``score``, ``phase``,
  ``reason``, ``source_in_frames`` (zero-based file frame), ``source_rate`` (exact,
  ``"25/1"``). Timeline: ``rate`` (exact, ``"24000/1001"``), ``width``, ``height``,
  ``style``, ``seed``, ``brief``. Media references: ``rate`` (the exact rate their range
  counts in), ``width``, ``height``, ``has_video``, ``audio_channels``, ``audio_rate``,
  ``audio_streams`` (:func:`media_metadata`), which the interchange writers declare.

Rates in OTIO are doubles; this module keeps the exact Fraction in metadata and maps a
double back with :func:`rate_from_otio` (``23.976023976023978 -> 24000/1001``).

>>> timeline = build_timeline(cut_list)                             # doctest: +SKIP
>>> write_otio(timeline, "cut.otio")                                # doctest: +SKIP
>>> cut_list_from_timeline(read_otio("cut.otio")) == cut_list       # doctest: +SKIP
True
"""

from __future__ import annotations

import functools
import logging
import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from montage_ai.core.base import mediaurl
from montage_ai.core.base.errors import MediaError
from montage_ai.core.base.fileio import display_name, write_atomic
from montage_ai.core.base.timebase import format_rate, timecode_to_frames
from montage_ai.core.media.probe import MediaInfo, probe
from montage_ai.core.model.cutlist import Cut, CutList, Section

log = logging.getLogger(__name__)

#: Key of our metadata on every OTIO object.
NAMESPACE = "montage_ai"
BEAT_COLOR = otio.schema.MarkerColor.BLUE
DOWNBEAT_COLOR = otio.schema.MarkerColor.RED
SECTION_COLOR = otio.schema.MarkerColor.GREEN
VIDEO_TRACK = "V1"
AUDIO_TRACK = "A1"


# ---------------------------------------------------------------------------- helpers
@functools.lru_cache(maxsize=256)
def rate_from_otio(value: float) -> Fraction:
    """The exact rate a double stands for: integer, NTSC (``n/1001``) or the nearest fraction.

    >>> rate_from_otio(24000 / 1001), rate_from_otio(25.0), rate_from_otio(23.976), rate_from_otio(12.5)
    (Fraction(24000, 1001), Fraction(25, 1), Fraction(24000, 1001), Fraction(25, 2))
    """
    for den in (1, 1001):
        candidate = Fraction(round(value * den), den)
        if candidate > 0 and float(candidate) == value:
            return candidate
    # A rounded NTSC rate as other tools write it (to three or two decimals): the exact fraction.
    for nominal in (24, 30, 48, 60, 120, 240):
        if abs(value - nominal * 1000 / 1001) < 0.01:
            return Fraction(nominal * 1000, 1001)
    for den in (2, 100):
        candidate = Fraction(round(value * den), den)
        if candidate > 0 and float(candidate) == value:
            return candidate
    return Fraction(value).limit_denominator(1_000_000)


def file_url(path: str | os.PathLike[str]) -> str:
    """Percent-encoded ``file://`` URL of an absolute path (:func:`~montage_ai.core.base.mediaurl.file_url`).

    >>> file_url("/media/Day 1/café.mov")
    'file:///media/Day%201/caf%C3%A9.mov'
    """
    return mediaurl.file_url(path)


def media_path(target_url: str, *, base: str | os.PathLike[str] | None = None) -> str:
    """The local path a ``target_url`` names, in any form a tool writes (encoded or unencoded
    ``file://`` URL, ``file://localhost/``, plain, Windows and UNC paths:
    :func:`~montage_ai.core.base.mediaurl.path_from_url`); ``base`` for relative ones.

    >>> media_path("file:///media/Day%201/caf%C3%A9.mov")
    '/media/Day 1/café.mov'
    """
    return mediaurl.path_from_url(target_url, base=base)


def frames_at(time: RationalTime, rate: Fraction, *, what: str = "time") -> int:
    """``time`` as a whole number of frames at ``rate``; ``ValueError`` if it is not whole.

    >>> frames_at(RationalTime(48, 24), Fraction(48))
    96
    """
    value = time.value
    if time.rate == float(rate) and value == int(value):  # already whole frames at this rate
        return int(value)
    exact = Fraction(value) * rate / rate_from_otio(time.rate)
    nearest = round(exact)
    if abs(exact - nearest) > Fraction(1, 10**6):
        raise ValueError(f"{what} {time.value}@{time.rate} is not a whole frame at {format_rate(rate, ratio=True)} fps")
    return int(nearest)


def source_rate_of(clip: otio.schema.Clip) -> Fraction:
    """The exact frame rate of a clip's source (our metadata, else the source range's rate)."""
    meta = clip.metadata.get(NAMESPACE) or {}
    if "source_rate" in meta:
        return Fraction(str(meta["source_rate"]))
    return rate_from_otio(clip.source_range.start_time.rate)


def source_in_frames(clip: otio.schema.Clip) -> int:
    """Zero-based frame of the clip's source where it starts (source start minus the
    file's own start timecode, i.e. ``available_range.start_time``)."""
    rate = source_rate_of(clip)
    start = frames_at(clip.source_range.start_time, rate, what=f"{clip.name}: source start")
    ref = clip.media_reference
    available = getattr(ref, "available_range", None)
    offset = frames_at(available.start_time, rate, what=f"{clip.name}: available start") if available else 0
    return start - offset


def source_index(clip: otio.schema.Clip) -> int:
    """The decoded frame of the clip's source where it starts, as the cut list counts it.

    For a constant-rate file that is :func:`source_in_frames`. A variable-rate file is placed
    by time on its nominal grid: the index is our metadata when it still matches the clip's
    grid position, else the frame an NLE shows there (from the file's timestamps), else the
    grid position (the file cannot be read)."""
    grid_in = source_in_frames(clip)
    ref = clip.media_reference
    meta = clip.metadata.get(NAMESPACE) or {}
    if not ((getattr(ref, "metadata", {}).get(NAMESPACE) or {}).get("vfr") or "source_in_index" in meta):
        return grid_in
    if "source_in_index" in meta and int(meta.get("source_in_frames", -1)) == grid_in:
        return int(meta["source_in_index"])
    path = media_path(ref.target_url)
    try:
        info = probe(path)
        grid = source_grid(info)
    except (MediaError, OSError, ValueError) as exc:
        log.warning("%s: variable frame rate, cannot read its timestamps (%s); counting it at its nominal rate",
                    path, exc)
        return grid_in
    return index_at_grid(grid, grid_in) if grid is not None else grid_in


def timeline_rate(timeline: otio.schema.Timeline) -> Fraction:
    """The exact rate of a timeline: our metadata, else its global start, else its first clip."""
    meta = timeline.metadata.get(NAMESPACE) or {}
    if "rate" in meta:
        return Fraction(str(meta["rate"]))
    if timeline.global_start_time is not None:
        return rate_from_otio(timeline.global_start_time.rate)
    for clip in timeline.find_clips():
        return rate_from_otio(clip.source_range.duration.rate)
    raise ValueError(f"timeline {timeline.name!r} has no rate: no global start time and no clips")


# ---------------------------------------------------------------------------- build
def build_timeline(cut_list: CutList, *, media: Mapping[str, MediaInfo] | None = None) -> otio.schema.Timeline:
    """The OTIO timeline of a cut list (see the module docstring for its shape).

    Parameters
    ----------
    cut_list:
        The rough cut.
    media:
        Probes by path (as the cut list names the files, or absolute); files missing from
        it are probed here.

    Returns
    -------
    opentimelineio.schema.Timeline

    Raises
    ------
    MediaError
        A source cannot be probed, its rate differs from the cut list's, or a cut needs
        frames beyond its end; the music is shorter than the cut list uses.

    Examples
    --------
    >>> tl = build_timeline(cut_list)                                   # doctest: +SKIP
    >>> tl.global_start_time                                            # doctest: +SKIP
    otio.opentime.RationalTime(value=86400, rate=24)
    """
    rate = cut_list.rate
    probes: dict[str, MediaInfo] = dict(media or {})

    def info_for(path: str, require_video: bool) -> MediaInfo:
        for key in (path, os.path.abspath(path)):
            if key in probes:
                return probes[key]
        info = probe(path, require_video=require_video)
        probes[path] = info
        return info

    timeline = otio.schema.Timeline(name=display_name(cut_list.name), global_start_time=RationalTime(cut_list.start_frames, float(rate)))
    timeline.metadata[NAMESPACE] = {
        "rate": format_rate(rate, ratio=True), "width": cut_list.width, "height": cut_list.height,
        "style": cut_list.style, "seed": cut_list.seed, "brief": cut_list.brief,
    }
    video = otio.schema.Track(name=VIDEO_TRACK, kind=otio.schema.TrackKind.Video)
    for cut in cut_list.cuts:
        video.append(_cut_clip(cut, info_for(cut.source_path, True), rate))
    timeline.tracks.append(video)
    if cut_list.music_path and cut_list.music_duration > 0:
        audio = otio.schema.Track(name=AUDIO_TRACK, kind=otio.schema.TrackKind.Audio)
        audio.append(_music_clip(cut_list, info_for(cut_list.music_path, False)))
        timeline.tracks.append(audio)
    for marker in _markers(cut_list):
        timeline.tracks.markers.append(marker)
    log.debug("timeline %r: %d clips, %d markers", cut_list.name, len(cut_list.cuts), len(timeline.tracks.markers))
    return timeline


def _start_frames(info: MediaInfo, rate: Fraction) -> int:
    if not info.start_timecode:
        return 0
    try:
        return timecode_to_frames(info.start_timecode, rate)
    except ValueError as exc:
        log.warning("%s: ignoring start timecode %r (%s)", info.path, info.start_timecode, exc)
        return 0


def media_metadata(info: MediaInfo, rate: Fraction) -> dict[str, Any]:
    """What the exporters need to know of a file beyond its range: the exact rate its range
    counts in, picture size, and its audio (FCPXML assets and FCP7 ``<file>`` elements
    declare them)."""
    audio = info.audio[0] if info.audio else None
    return {
        "rate": format_rate(rate, ratio=True),
        "width": info.video.width if info.video else 0,
        "height": info.video.height if info.video else 0,
        "pixel_aspect": format_rate(info.video.sar, ratio=True) if info.video else "1/1",
        "display_aspect": format_rate(info.video.dar, ratio=True) if info.video else "0/1",
        "has_video": info.video is not None,
        "audio_channels": audio.channels if audio else 0,
        "audio_rate": audio.sample_rate if audio else 0,
        "audio_streams": len(info.audio),
        **({"vfr": True} if info.video is not None and info.video.vfr else {}),
        # Drop-frame camera timecode (";" before the frames) stays drop frame in every format.
        **({"drop_frame": True} if info.start_timecode and (";" in info.start_timecode
                                                            or info.start_timecode.count(".") == 1) else {}),
    }


def source_grid(info: MediaInfo) -> tuple[int, ...] | None:
    """For a variable-frame-rate file: each decoded frame's position on its nominal-rate grid
    (:meth:`~montage_ai.core.media.decode.PacketTable.grid_frames`), where every NLE and
    engine places it by time; ``None`` for a constant-rate file (decode index = grid frame)."""
    if info.video is None or not info.video.vfr:
        return None
    return _grid(info.path, info.video.rate, info.video.duration_s, info.video.frame_count)


@functools.lru_cache(maxsize=64)
def _grid(path: str, rate: Fraction, duration_s: float, frame_count: int) -> tuple[int, ...]:
    from montage_ai.core.media.decode import packet_table  # decoding tools: only for VFR files

    return tuple(int(g) for g in packet_table(path).grid_frames(rate))


def grid_length(info: MediaInfo) -> int:
    """The file's length in frames of its nominal rate: its frame count for a constant-rate
    file, its duration times its nominal rate for a variable-rate one (what NLEs declare)."""
    video = info.video
    if video is None:
        return 0
    if not video.vfr:
        return video.frame_count
    grid = source_grid(info) or (0,)
    by_time = math.floor(Fraction(video.duration_s).limit_denominator(10**6) * video.rate + Fraction(1, 2))
    return max(by_time, grid[-1] + 1)


def index_at_grid(grid: tuple[int, ...], frame: int) -> int:
    """The decoded frame an NLE shows at nominal grid frame ``frame``: the last one placed at
    or before it."""
    import bisect

    return max(bisect.bisect_right(grid, frame) - 1, 0)


def _cut_clip(cut: Cut, info: MediaInfo, rate: Fraction) -> otio.schema.Clip:
    src_rate = cut.source_rate
    video = info.video
    if video is None:
        raise MediaError(info.path, "has no video stream")
    if video.rate != src_rate:
        raise MediaError(info.path, f"the cut list counts it at {format_rate(src_rate, ratio=True)} fps, the file is "
                                    f"{format_rate(video.rate, ratio=True)} fps; analyse it again")
    grid = source_grid(info)
    length = grid_length(info)
    if cut.source_in < 0 or cut.source_in >= video.frame_count:
        raise MediaError(info.path, f"the cut at record frame {cut.record_in} starts at source frame "
                                    f"{cut.source_in}, the file has {video.frame_count}")
    # A VFR source is placed by time: its decoded frame ``i`` sits at grid[i] on the nominal grid.
    grid_in = grid[cut.source_in] if grid is not None else cut.source_in
    last_shown = grid_in + math.floor((cut.record_frames - 1) * src_rate / rate)
    if last_shown >= length:
        raise MediaError(info.path, f"the cut at record frame {cut.record_in} needs source frames "
                                    f"{grid_in}..{last_shown}, the file has {length}")
    tc = _start_frames(info, src_rate)
    reference = otio.schema.ExternalReference(
        target_url=file_url(info.path),
        available_range=TimeRange(RationalTime(tc, float(src_rate)), RationalTime(length, float(src_rate))),
    )
    reference.metadata[NAMESPACE] = media_metadata(info, src_rate)
    clip = otio.schema.Clip(
        name=f"{display_name(os.path.basename(info.path))} #{cut.shot_index}",
        media_reference=reference,
        source_range=TimeRange(RationalTime(tc + grid_in, float(src_rate)),
                               RationalTime(cut.record_frames, float(rate))),
    )
    clip.metadata[NAMESPACE] = {
        "shot": cut.shot_index, "score": float(cut.score), "phase": display_name(cut.phase),
        "reason": display_name(cut.reason),
        "source_in_frames": grid_in, "source_rate": format_rate(src_rate, ratio=True),
    }
    if grid is not None:
        clip.metadata[NAMESPACE]["source_in_index"] = cut.source_in  # the decoded frame the analysis chose
    return clip


def _music_clip(cut_list: CutList, info: MediaInfo) -> otio.schema.Clip:
    rate = cut_list.rate
    exact = Fraction(info.duration_s) * rate
    available = math.floor(exact)
    used = cut_list.music_start + cut_list.music_duration
    if cut_list.music_start < 0 or used > math.ceil(exact):
        raise MediaError(info.path, f"the music lasts {available} frames, the cut list uses frames "
                                    f"{cut_list.music_start}..{used}")
    available = max(available, used)
    reference = otio.schema.ExternalReference(
        target_url=file_url(info.path),
        available_range=TimeRange(RationalTime(0, float(rate)), RationalTime(available, float(rate))),
    )
    reference.metadata[NAMESPACE] = media_metadata(info, rate)
    clip = otio.schema.Clip(
        name=display_name(os.path.basename(info.path)), media_reference=reference,
        source_range=TimeRange(RationalTime(cut_list.music_start, float(rate)),
                               RationalTime(cut_list.music_duration, float(rate))),
    )
    clip.metadata[NAMESPACE] = {"role": "music", "fade_out_frames": cut_list.music_fade_out}
    return clip


def _marker(name: str, start: int, length: int, rate: Fraction, color: str, meta: dict[str, Any]) -> otio.schema.Marker:
    marker = otio.schema.Marker(
        name=display_name(name), color=color,
        marked_range=TimeRange(RationalTime(start, float(rate)), RationalTime(length, float(rate))),
    )
    marker.metadata[NAMESPACE] = {k: display_name(v) if isinstance(v, str) else v for k, v in meta.items()}
    return marker


def _markers(cut_list: CutList) -> list[otio.schema.Marker]:
    rate = cut_list.rate
    out = [_marker(f"beat {i + 1}", f, 0, rate, BEAT_COLOR, {"kind": "beat", "index": i})
           for i, f in enumerate(cut_list.beats)]
    out += [_marker(f"downbeat {i + 1}", f, 0, rate, DOWNBEAT_COLOR, {"kind": "downbeat", "index": i})
            for i, f in enumerate(cut_list.downbeats)]
    out += [_marker(f"{s.label} ({s.phase})" if s.phase else s.label, s.start, s.end - s.start, rate, SECTION_COLOR,
                    {"kind": "section", "label": s.label, "phase": s.phase, "energy": float(s.energy)})
            for s in cut_list.sections]
    return out


# ---------------------------------------------------------------------------- read back
def _first_track(timeline: otio.schema.Timeline, kind: str) -> otio.schema.Track | None:
    for track in timeline.tracks:
        if isinstance(track, otio.schema.Track) and track.kind == kind:
            return track
    return None


def cut_list_from_timeline(timeline: otio.schema.Timeline) -> CutList:
    """Read back a timeline made by :func:`build_timeline` (after any OTIO round trip).

    Raises ``ValueError`` for a timeline that is not one cut list: no video track, a gap or
    a transition on V1, positions that are not whole frames.

    Examples
    --------
    >>> cut_list_from_timeline(build_timeline(cut_list)) == cut_list   # doctest: +SKIP
    True
    """
    rate = timeline_rate(timeline)
    meta = dict(timeline.metadata.get(NAMESPACE) or {})
    video = _first_track(timeline, otio.schema.TrackKind.Video)
    if video is None:
        raise ValueError(f"timeline {timeline.name!r} has no video track")
    cuts = []
    for index, item in enumerate(video):
        if not isinstance(item, otio.schema.Clip):
            where = frames_at(video.range_of_child_at_index(index).start_time, rate)
            raise ValueError(f"timeline {timeline.name!r}: {type(item).__name__} at record frame {where}; "
                             "a cut list has only clips on V1")
        record = video.range_of_child_at_index(index)
        record_in = frames_at(record.start_time, rate, what=f"{item.name}: record in")
        record_out = record_in + frames_at(record.duration, rate, what=f"{item.name}: duration")
        cmeta = item.metadata.get(NAMESPACE) or {}
        cuts.append(Cut(
            record_in=record_in, record_out=record_out,
            source_path=media_path(item.media_reference.target_url),
            source_rate=source_rate_of(item), source_in=source_index(item),
            shot_index=int(cmeta.get("shot", index)), score=float(cmeta.get("score", 0.0)),
            phase=str(cmeta.get("phase", "")), reason=str(cmeta.get("reason", "")),
        ))
    music_path, music_duration, fade, music_start = "", 0, 0, 0
    audio = _first_track(timeline, otio.schema.TrackKind.Audio)
    music = next((c for c in audio if isinstance(c, otio.schema.Clip)), None) if audio is not None else None
    if music is not None:
        music_path = media_path(music.media_reference.target_url)
        music_duration = frames_at(music.source_range.duration, rate, what=f"{music.name}: duration")
        fade = int((music.metadata.get(NAMESPACE) or {}).get("fade_out_frames", 0))
        avail = getattr(music.media_reference, "available_range", None)
        music_start = frames_at(music.source_range.start_time, rate, what=f"{music.name}: start") - (
            frames_at(avail.start_time, rate, what=f"{music.name}: available start") if avail else 0)
    beats, downbeats, sections = [], [], []
    for marker in timeline.tracks.markers:
        mmeta = marker.metadata.get(NAMESPACE) or {}
        start = frames_at(marker.marked_range.start_time, rate, what=f"marker {marker.name!r}")
        kind = mmeta.get("kind")
        if kind == "beat":
            beats.append(start)
        elif kind == "downbeat":
            downbeats.append(start)
        elif kind == "section":
            end = start + frames_at(marker.marked_range.duration, rate, what=f"marker {marker.name!r}")
            sections.append(Section(start, end, str(mmeta.get("label", marker.name)), str(mmeta.get("phase", "")),
                                    float(mmeta.get("energy", 0.0))))
    start_frames = frames_at(timeline.global_start_time, rate, what="global start") if timeline.global_start_time else 0
    return CutList(
        rate=rate, width=int(meta.get("width", 0)), height=int(meta.get("height", 0)),
        duration=frames_at(video.duration(), rate, what="V1 duration"), cuts=tuple(cuts),
        music_path=music_path, music_duration=music_duration, start_frames=start_frames, music_fade_out=fade,
        music_start=music_start,
        beats=tuple(sorted(beats)), downbeats=tuple(sorted(downbeats)),
        sections=tuple(sorted(sections, key=lambda s: s.start)),
        name=timeline.name, style=str(meta.get("style", "")), seed=int(meta.get("seed", 0)),
        brief=str(meta.get("brief", "")),
    )


# ---------------------------------------------------------------------------- files
def write_otio(timeline: otio.schema.Timeline, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``timeline`` as ``otio_json`` atomically; never replace a file unless ``overwrite``.

    Raises :class:`~montage_ai.core.base.fileio.OutputExistsError` (naming the file) when it
    exists, ``ValueError`` for another extension than ``.otio``.

    >>> write_otio(build_timeline(cut_list), "cut.otio")               # doctest: +SKIP
    PosixPath('cut.otio')
    """
    suffix = Path(path).suffix.lower()
    if suffix != ".otio":
        raise ValueError(f"{os.fspath(path)}: write_otio writes .otio (otio_json) files, not {suffix or 'no extension'}")
    data = otio.adapters.write_to_string(timeline, "otio_json")
    return write_atomic(path, data, overwrite=overwrite)


def read_otio(path: str | os.PathLike[str]) -> otio.schema.Timeline:
    """Read an ``.otio`` file; errors name the file."""
    try:
        return otio.adapters.read_from_file(os.fspath(path), adapter_name="otio_json")
    except (OSError, ValueError, otio.exceptions.OTIOError) as exc:
        raise ValueError(f"{os.fspath(path)}: cannot read the timeline: {exc}") from None
