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
  from 0), ``source_range`` ``[0, music_duration)``; the fade-out length is in the clip's
  metadata (``montage_ai.fade_out_frames``).
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
import urllib.parse
import urllib.request
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from montage_ai.core.model.cutlist import Cut, CutList, Section
from montage_ai.core.base.fileio import display_name
from montage_ai.core.base.errors import MediaError
from montage_ai.core.base.fileio import write_atomic
from montage_ai.core.media.probe import MediaInfo, probe
from montage_ai.core.base.timebase import timecode_to_frames

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

    >>> rate_from_otio(24000 / 1001), rate_from_otio(25.0)
    (Fraction(24000, 1001), Fraction(25, 1))
    """
    for den in (1, 1001, 2, 100):
        candidate = Fraction(round(value * den), den)
        if candidate > 0 and float(candidate) == value:
            return candidate
    return Fraction(value).limit_denominator(1_000_000)


def _frac_str(rate: Fraction) -> str:
    return f"{rate.numerator}/{rate.denominator}"


def file_url(path: str | os.PathLike[str]) -> str:
    """Percent-encoded ``file://`` URL of an absolute path.

    >>> file_url("/media/Day 1/café.mov")
    'file:///media/Day%201/caf%C3%A9.mov'
    """
    return Path(os.path.abspath(os.fspath(path))).as_uri()


def media_path(target_url: str) -> str:
    """The local path a ``target_url`` names: a ``file://`` URL (percent-decoded) or a path.

    >>> media_path("file:///media/Day%201/caf%C3%A9.mov")
    '/media/Day 1/café.mov'
    """
    parts = urllib.parse.urlsplit(target_url)
    if parts.scheme == "file":
        if os.name != "nt":  # the bytes of a name that is not UTF-8 come back as they were
            return urllib.parse.unquote(parts.path, errors="surrogateescape")
        return urllib.request.url2pathname(parts.path)
    if parts.scheme and len(parts.scheme) > 1:
        raise ValueError(f"{target_url}: not a local file URL")
    return target_url


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
        raise ValueError(f"{what} {time.value}@{time.rate} is not a whole frame at {_frac_str(rate)} fps")
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
        "rate": _frac_str(rate), "width": cut_list.width, "height": cut_list.height,
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
        "rate": _frac_str(rate),
        "width": info.video.width if info.video else 0,
        "height": info.video.height if info.video else 0,
        "has_video": info.video is not None,
        "audio_channels": audio.channels if audio else 0,
        "audio_rate": audio.sample_rate if audio else 0,
        "audio_streams": len(info.audio),
    }


def _cut_clip(cut: Cut, info: MediaInfo, rate: Fraction) -> otio.schema.Clip:
    src_rate = cut.source_rate
    video = info.video
    if video is None:
        raise MediaError(info.path, "has no video stream")
    if video.rate != src_rate:
        raise MediaError(info.path, f"the cut list counts it at {_frac_str(src_rate)} fps, the file is "
                                    f"{_frac_str(video.rate)} fps; analyse it again")
    last_shown = cut.source_in + math.floor((cut.record_frames - 1) * src_rate / rate)
    if cut.source_in < 0 or last_shown >= video.frame_count:
        raise MediaError(info.path, f"the cut at record frame {cut.record_in} needs source frames "
                                    f"{cut.source_in}..{last_shown}, the file has {video.frame_count}")
    tc = _start_frames(info, src_rate)
    reference = otio.schema.ExternalReference(
        target_url=file_url(info.path),
        available_range=TimeRange(RationalTime(tc, float(src_rate)), RationalTime(video.frame_count, float(src_rate))),
    )
    reference.metadata[NAMESPACE] = media_metadata(info, src_rate)
    clip = otio.schema.Clip(
        name=f"{display_name(os.path.basename(info.path))} #{cut.shot_index}",
        media_reference=reference,
        source_range=TimeRange(RationalTime(tc + cut.source_in, float(src_rate)),
                               RationalTime(cut.record_frames, float(rate))),
    )
    clip.metadata[NAMESPACE] = {
        "shot": cut.shot_index, "score": float(cut.score), "phase": display_name(cut.phase),
        "reason": display_name(cut.reason),
        "source_in_frames": cut.source_in, "source_rate": _frac_str(src_rate),
    }
    return clip


def _music_clip(cut_list: CutList, info: MediaInfo) -> otio.schema.Clip:
    rate = cut_list.rate
    exact = Fraction(info.duration_s) * rate
    available = math.floor(exact)
    if cut_list.music_duration > math.ceil(exact):
        raise MediaError(info.path, f"the music lasts {available} frames, the cut list uses {cut_list.music_duration}")
    available = max(available, cut_list.music_duration)
    reference = otio.schema.ExternalReference(
        target_url=file_url(info.path),
        available_range=TimeRange(RationalTime(0, float(rate)), RationalTime(available, float(rate))),
    )
    reference.metadata[NAMESPACE] = media_metadata(info, rate)
    clip = otio.schema.Clip(
        name=display_name(os.path.basename(info.path)), media_reference=reference,
        source_range=TimeRange(RationalTime(0, float(rate)), RationalTime(cut_list.music_duration, float(rate))),
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
            source_rate=source_rate_of(item), source_in=source_in_frames(item),
            shot_index=int(cmeta.get("shot", index)), score=float(cmeta.get("score", 0.0)),
            phase=str(cmeta.get("phase", "")), reason=str(cmeta.get("reason", "")),
        ))
    music_path, music_duration, fade = "", 0, 0
    audio = _first_track(timeline, otio.schema.TrackKind.Audio)
    music = next((c for c in audio if isinstance(c, otio.schema.Clip)), None) if audio is not None else None
    if music is not None:
        music_path = media_path(music.media_reference.target_url)
        music_duration = frames_at(music.source_range.duration, rate, what=f"{music.name}: duration")
        fade = int((music.metadata.get(NAMESPACE) or {}).get("fade_out_frames", 0))
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
