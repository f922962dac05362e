"""Copies of a timeline shaped for what an .otio reader keeps (the .otio and .otioz writers
in :mod:`~montage_ai.otio_adapters.export` make them; the timeline itself is never changed).

- :func:`with_camera_audio`: each V1 clip's own sound on an audio track of its own, when the
  timeline's ``camera_audio`` option is on (OTIO has no links between a clip and its sound).
- :func:`with_clip_markers`: every timeline marker also as a clip-local marker, the only
  markers Resolve's OTIO importer keeps.
"""

from __future__ import annotations

import math
from fractions import Fraction

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from montage_ai.core.model.timeline import NAMESPACE, frames_at, rate_from_otio, timeline_rate
from montage_ai.otio_adapters.edit import plain_metadata

__all__ = ["with_camera_audio", "with_clip_markers"]


def with_camera_audio(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """For an OTIO file with ``camera_audio`` on: a copy with each V1 clip's own sound on an
    audio track of its own (``Camera audio``, after the music), same media, same source and
    record ranges (OTIO has no links: an NLE pairs the two by media and time). Without the
    option the timeline itself."""
    meta = timeline.metadata.get(NAMESPACE) or {}
    video = next((t for t in timeline.tracks if isinstance(t, otio.schema.Track)
                  and t.kind == otio.schema.TrackKind.Video), None)
    if not meta.get("camera_audio") or video is None:
        return timeline
    copy = timeline.deepcopy()
    video = next(t for t in copy.tracks if isinstance(t, otio.schema.Track) and t.kind == otio.schema.TrackKind.Video)
    track = otio.schema.Track(name="Camera audio", kind=otio.schema.TrackKind.Audio)
    for item in video:
        rmeta = (getattr(getattr(item, "media_reference", None), "metadata", {}) or {}).get(NAMESPACE) or {}
        if isinstance(item, otio.schema.Clip) and int(rmeta.get("audio_channels", 0)) > 0:
            sound = item.deepcopy()
            sound.markers.clear()
            sound.metadata[NAMESPACE] = {**dict(sound.metadata.get(NAMESPACE) or {}), "role": "camera audio"}
            track.append(sound)
        else:
            track.append(otio.schema.Gap(source_range=TimeRange(RationalTime(0, item.duration().rate),
                                                                item.duration())))
    copy.tracks.append(track)
    return copy


def with_clip_markers(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """A copy where every timeline marker is also on the first video track's clip that covers
    its first frame, as a clip-local marker (in the clip's source time) clamped to that clip:
    Resolve's OTIO importer (free 21.1, reported) keeps only those and drops a marker that
    reaches past its clip. The timeline's own markers stay (other tools and our reader use
    them); the copies say ``montage_ai.copy_of`` = ``"timeline"``."""
    video = next((t for t in timeline.tracks if isinstance(t, otio.schema.Track)
                  and t.kind == otio.schema.TrackKind.Video), None)
    if video is None or not timeline.tracks.markers:
        return timeline
    rate = timeline_rate(timeline)
    copy = timeline.deepcopy()
    video = next(t for t in copy.tracks if isinstance(t, otio.schema.Track) and t.kind == otio.schema.TrackKind.Video)
    spans, position = [], 0
    for item in video:
        length = frames_at(item.duration(), rate, what=f"{item.name}: duration")
        spans.append((position, position + length, item))
        position += length
    for marker in copy.tracks.markers:
        start = frames_at(marker.marked_range.start_time, rate, what=f"marker {marker.name!r}")
        span = next(((a, b, c) for a, b, c in spans if a <= start < b and isinstance(c, otio.schema.Clip)), None)
        if span is None:
            continue  # over a gap or past the end: no clip to carry it
        record_in, record_out, clip = span
        length = min(frames_at(marker.marked_range.duration, rate, what=f"marker {marker.name!r}"),
                     record_out - start - 1)
        src_rate = rate_from_otio(clip.source_range.start_time.rate)
        local = clip.source_range.start_time.value + math.floor(Fraction(start - record_in) * src_rate / rate)
        local_marker = otio.schema.Marker(
            name=marker.name, color=marker.color,
            marked_range=TimeRange(RationalTime(local, float(src_rate)), RationalTime(max(length, 0), float(rate))))
        local_marker.metadata[NAMESPACE] = {**plain_metadata(marker.metadata.get(NAMESPACE) or {}), "copy_of": "timeline"}
        clip.markers.append(local_marker)
    return copy
