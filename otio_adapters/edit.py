"""The edit every interchange writer and reader works on: whole frames, exact rates.

An OTIO timeline holds doubles (``RationalTime(1001, 23.976023976023978)``); every format we
write wants integers (FCP7 frames, EDL timecode) or exact rationals (FCPXML ``1001/24000s``).
:func:`edit_from_timeline` turns a timeline into an :class:`Edit` once, checking that every
position is a whole frame, and :func:`timeline_from_edit` builds the timeline back in the
shape :func:`montage_ai.core.model.timeline.build_timeline` makes, so a file read by our adapters
gives back the same cut list.

Positions
---------
- ``Event.record_in/record_out``: timeline frames at ``Edit.rate`` counted from the
  timeline's first frame (0 is ``Edit.start``, e.g. 86400 = 01:00:00:00 at 24 fps).
- ``Event.source_in``: a frame of the source in its own rate on its timecode grid
  (``Source.start`` + zero-based frame), as OTIO's ``source_range.start_time`` holds it.
- A source at another rate than the timeline plays at its own speed: an event of ``n``
  record frames covers ``n * source.rate / rate`` source frames (:meth:`Event.source_frames`).

Only stock OTIO objects are read: clips with external references and gaps on video and
audio tracks, markers on the stack. Anything else (transitions, nested stacks, effects) is
refused with the item and the reason, never silently dropped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterator

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from montage_ai.core.base.fileio import display_name
from montage_ai.core.base.timebase import format_rate, rate_label, timecode_to_frames
from montage_ai.core.model.timeline import (
    AUDIO_TRACK,
    NAMESPACE,
    VIDEO_TRACK,
    file_url,
    frames_at,
    grid_length,
    media_metadata,
    media_path,
    rate_from_otio,
    timeline_rate,
)


def probe_quietly(path: str, video: bool) -> Any:
    """The probe of a file a foreign timeline names, or None (absent, unreadable): what the
    timeline did not say is then left to what it did say."""
    from montage_ai.core.base.errors import MediaError
    from montage_ai.core.media.probe import probe

    try:
        return probe(path, require_video=video, verify_tail=False)
    except (MediaError, OSError, ValueError):
        return None


log = logging.getLogger(__name__)


class InterchangeError(ValueError):
    """A timeline a format cannot carry, or a file that is not what we can read."""


@dataclass(frozen=True)
class LeftOut:
    """A clip a format cannot carry, left out of the file it is written in (the rest in place:
    a gap where it was)."""

    format: str          #: the format's name, e.g. "FCP7 XML"
    path: str            #: the clip's media file
    record: str          #: where it was on the timeline (record timecode)
    reason: str

    def __str__(self) -> str:
        return (f"{self.format} cannot carry clip {display_name(os.path.basename(self.path))} at {self.record}: "
                f"{self.reason}; it is left out (a gap in its place)")


_LEFT_OUT: ContextVar[list[LeftOut] | None] = ContextVar("montage_ai_left_out", default=None)


def note_left_out(item: LeftOut) -> None:
    """A writer left ``item`` out: given to the caller collecting (:func:`collecting_left_out`),
    else logged as a warning (an OTIO tool calling the adapter has only the log)."""
    found = _LEFT_OUT.get()
    if found is None:
        log.warning("%s", item)
    else:
        log.debug("%s", item)
        found.append(item)


@contextmanager
def collecting_left_out() -> Iterator[list[LeftOut]]:
    """Within the block, every clip a writer leaves out is added to the list yielded."""
    found: list[LeftOut] = []
    token = _LEFT_OUT.set(found)
    try:
        yield found
    finally:
        _LEFT_OUT.reset(token)


@dataclass(frozen=True)
class Source:
    """One media file, as every event that uses it sees it."""

    path: str
    rate: Fraction              #: the rate its frames count in (video rate; the timeline rate for audio files)
    start: int                  #: its start timecode in frames at ``rate`` (0 when it has none)
    duration: int               #: its length in frames at ``rate``
    width: int = 0
    height: int = 0
    has_video: bool = True
    audio_channels: int = 0
    audio_rate: int = 0
    audio_streams: int = 0
    drop_frame: bool = False    #: its timecode is drop frame (30000/1001 and 60000/1001 cameras)
    pixel_aspect: Fraction = Fraction(1)  #: a pixel's width over its height (SAR)

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def url(self) -> str:
        """The percent-encoded file URL of an absolute path; a bare name (an EDL reel with no
        FROM FILE) stays as it is, never resolved against the current directory."""
        return file_url(self.path) if _is_absolute(self.path) else self.path

    @property
    def has_audio(self) -> bool:
        return self.audio_channels > 0

    def metadata(self) -> dict[str, Any]:
        return {"rate": format_rate(self.rate, ratio=True), "width": self.width, "height": self.height,
                "has_video": self.has_video, "audio_channels": self.audio_channels, "audio_rate": self.audio_rate,
                "audio_streams": self.audio_streams, **({"drop_frame": True} if self.drop_frame else {})}


@dataclass(frozen=True)
class Event:
    """One clip on a track: ``[record_in, record_out)`` shows ``source`` from ``source_in``."""

    record_in: int
    record_out: int
    source: Source
    source_in: int
    name: str
    metadata: dict = field(default_factory=dict, compare=False, hash=False)
    enabled: bool = True        #: False: the clip is on the track but switched off

    @property
    def record_frames(self) -> int:
        return self.record_out - self.record_in

    def source_frames(self, rate: Fraction) -> Fraction:
        """Source frames covered in a timeline at ``rate`` (a Fraction when the rates differ)."""
        return Fraction(self.record_frames) * self.source.rate / rate


@dataclass(frozen=True)
class Mark:
    """A timeline marker: ``[start, start + duration)`` timeline frames (0 = first frame)."""

    start: int
    duration: int
    name: str
    color: str = otio.schema.MarkerColor.RED
    metadata: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Edit:
    name: str
    rate: Fraction
    start: int                          #: the timeline's first frame as a timecode frame count
    width: int
    height: int
    video: tuple[tuple[Event, ...], ...]
    audio: tuple[tuple[Event, ...], ...] = ()
    markers: tuple[Mark, ...] = ()
    metadata: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def drop_frame(self) -> bool:
        """The timeline's timecode is drop frame (``montage_ai.drop_frame``; drop-frame rates only)."""
        return bool(self.metadata.get("drop_frame")) and is_drop_frame_rate(self.rate)

    @property
    def camera_audio(self) -> bool:
        """Carry the sources' own audio, linked to their video (``montage_ai.camera_audio``);
        off by default: the music is the sound of a rough cut."""
        return bool(self.metadata.get("camera_audio"))

    @property
    def duration(self) -> int:
        ends = [t[-1].record_out for t in self.video + self.audio if t]
        return max(ends, default=0)

    @property
    def sources(self) -> list[Source]:
        """Each file once (by path), in order of first use: video tracks first, then audio."""
        seen: dict[str, Source] = {}
        for track in self.video + self.audio:
            for event in track:
                seen.setdefault(event.source.path, event.source)
        return list(seen.values())


def _is_absolute(path: str) -> bool:
    import ntpath
    import posixpath

    return posixpath.isabs(path) or ntpath.isabs(path)


#: The rates drop-frame timecode counts, as editors name them, for messages.
DROP_FRAME_RATES_TEXT = " and ".join(rate_label(Fraction(n * 1000, 1001)) for n in (30, 60))


def is_drop_frame_rate(rate: Fraction) -> bool:
    """30000/1001 and 60000/1001 (and their multiples of 30000/1001): the rates drop-frame
    timecode counts."""
    return rate.denominator == 1001 and rate.numerator % 30000 == 0


def set_timeline_options(timeline: otio.schema.Timeline, *, drop_frame: bool | None = None,
                         camera_audio: bool | None = None) -> otio.schema.Timeline:
    """Set the export options every writer follows, in the timeline's ``montage_ai`` metadata
    (``None`` leaves one as it is).

    ``drop_frame``: drop-frame timecode for a 30000/1001 or 60000/1001 timeline (``InterchangeError`` for
    other rates); a start written as a whole hour keeps its label (01:00:00:00 becomes
    01:00:00;00, frame 107892 at 30000/1001). ``camera_audio``: carry the sources' own audio,
    linked to their video, in every format (off by default)."""
    meta = dict(timeline.metadata.get(NAMESPACE) or {})
    if drop_frame is not None:
        rate = timeline_rate(timeline)
        if drop_frame and not is_drop_frame_rate(rate):
            raise InterchangeError(f"drop-frame timecode exists for {DROP_FRAME_RATES_TEXT} fps, not {frac_str(rate)} "
                                   f"({float(rate):.3f})")
        start = timeline.global_start_time
        if start is not None and bool(meta.get("drop_frame")) != drop_frame:
            from montage_ai.core.base.timebase import frames_to_timecode, timecode_to_frames

            frames = frames_at(start, rate, what="global start")
            label = frames_to_timecode(frames, rate, drop_frame=not drop_frame)
            new_label = label[:8] + (";" if drop_frame else ":") + label[9:]
            timeline.global_start_time = RationalTime(timecode_to_frames(new_label, rate), float(rate))
        meta["drop_frame"] = bool(drop_frame)
    if camera_audio is not None:
        meta["camera_audio"] = bool(camera_audio)
    timeline.metadata[NAMESPACE] = meta
    return timeline


def frac_str(rate: Fraction) -> str:
    """``num/den`` (:func:`~montage_ai.core.base.timebase.format_rate` with ``ratio``)."""
    return format_rate(rate, ratio=True)


#: Our data in a text field of a format (a marker note, a log note): ``montage_ai {json}``.
TAG = "montage_ai "


def tagged(meta: dict) -> str:
    """``meta`` as ``montage_ai {json}``: one line, exact, writable in XML 1.0 and UTF-8 (a
    name or path with control characters or non-UTF-8 bytes is escaped JSON-style)."""
    return TAG + safe_json(meta)


def safe_json(value: Any) -> str:
    """JSON of ``value`` on one line that any text format can carry and that reads back
    exactly: readable non-ASCII stays, but when a string holds something XML 1.0 or UTF-8
    cannot (a lone surrogate of a non-UTF-8 name, U+FFFE), everything is escaped."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if display_name(text) != text:
        text = json.dumps(value, ensure_ascii=True, sort_keys=True)
    return text


def xml_safe_tree(root: ET.Element) -> ET.Element:
    """Every text and attribute of ``root`` made writable in XML 1.0 (the one place the XML
    adapters make names safe): characters XML forbids, line breaks and non-UTF-8 bytes of a
    name become visible escapes (:func:`~montage_ai.core.base.fileio.display_name`). Paths
    are URLs (percent-encoded), our JSON is escaped already: both pass unchanged. Call it
    before ``ET.indent`` (whose own line breaks are layout)."""
    for element in root.iter():
        if element.text:
            element.text = display_name(element.text)
        if element.tail:
            element.tail = display_name(element.tail)
        for key, value in element.attrib.items():
            element.set(key, display_name(value))
    return root


def describe(phase: str, reason: str) -> str:
    """A clip's note as an editor reads it: ``"intro: best moment"``, never ``"intro: intro: ..."``."""
    phase, reason = str(phase or ""), str(reason or "")
    if not phase or reason.startswith(f"{phase}:"):
        return reason
    return f"{phase}: {reason}".strip(": ")


def marker_text(mark: "Mark") -> str:
    """A marker's comment as an editor reads it (our data travels elsewhere, not as JSON here)."""
    kind = mark.metadata.get("kind")
    if kind == "section":
        parts = [str(mark.metadata.get("label") or mark.name), str(mark.metadata.get("phase") or "")]
        energy = mark.metadata.get("energy")
        parts.append(f"energy {float(energy):.2f}" if energy is not None else "")
        return " · ".join(p for p in parts if p)
    return {"beat": "beat", "downbeat": "downbeat (bar start)"}.get(kind, mark.name)


def marker_key(start: int, name: str) -> str:
    return f"{start}|{name}"


def markers_metadata(markers: tuple["Mark", ...]) -> dict[str, dict]:
    """Our data of every marker (colour, kind, ...) keyed by :func:`marker_key`, for the
    timeline's own metadata field, so marker comments stay plain text."""
    return {marker_key(m.start, m.name): {"color": m.color, **m.metadata, **({"point": True} if not m.duration else {})}
            for m in markers}


def json_dict(text: str | None, prefix: str = "") -> dict:
    """The JSON object in ``text`` after ``prefix`` (``{}`` for anything else: text that is
    not ours stays the editor's)."""
    if not text or not text.startswith(prefix):
        return {}
    try:
        data = json.loads(text[len(prefix):])
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_xml(text: str, root_tag: str) -> ET.Element:
    """The root element of an XML document, which must be ``<root_tag>``."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InterchangeError(f"not well-formed XML: {exc}") from None
    if root.tag != root_tag:
        raise InterchangeError(f"the root element is <{root.tag}>, not <{root_tag}>")
    return root


# ---------------------------------------------------------------------------- timeline -> edit
def plain_metadata(value: Any) -> Any:
    """OTIO metadata (``AnyDictionary``/``AnyVector``, nested) as plain dicts and lists,
    which the writers can serialise as JSON."""
    if isinstance(value, (str, bytes)):
        return value
    if hasattr(value, "items"):
        return {str(k): plain_metadata(v) for k, v in value.items()}
    if hasattr(value, "__iter__"):
        return [plain_metadata(v) for v in value]
    return value


def _source_of(clip: otio.schema.Clip, rate: Fraction, width: int, height: int, audio: bool) -> Source:
    ref = clip.media_reference
    if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url:
        raise InterchangeError(f"clip {clip.name!r}: its media is {type(ref).__name__}, not a file; "
                               "only clips of media files can be exported")
    meta = dict(ref.metadata.get(NAMESPACE) or {})
    cmeta = clip.metadata.get(NAMESPACE) or {}
    if "rate" in meta:
        src_rate = Fraction(str(meta["rate"]))
    elif "source_rate" in cmeta:
        src_rate = Fraction(str(cmeta["source_rate"]))
    else:
        src_rate = rate_from_otio(clip.source_range.start_time.rate)
    available = ref.available_range
    path = media_path(ref.target_url)
    if available is not None:
        start = frames_at(available.start_time, src_rate, what=f"{clip.name}: media start")
        duration = math.floor(Fraction(available.duration.value) * src_rate / rate_from_otio(available.duration.rate))
    else:
        # A foreign timeline without the media's range (otio-kit writes none): the file's own,
        # probed, else at least as far as the clip reaches (never a zero-length asset).
        info = probe_quietly(path, not audio)
        start = 0
        if info is not None and not meta:
            meta = media_metadata(info, src_rate)
        if info is not None and info.start_timecode and not audio:
            try:
                start = timecode_to_frames(info.start_timecode, src_rate)
            except ValueError:
                start = 0
        reach = frames_at(clip.source_range.start_time, src_rate, what=f"{clip.name}: source in") - start + math.ceil(
            Fraction(clip.source_range.duration.value) * src_rate / rate_from_otio(clip.source_range.duration.rate))
        probed = (grid_length(info) if info.video is not None else math.floor(Fraction(info.duration_s) * src_rate)) \
            if info is not None else 0
        duration = max(probed, reach)
    return Source(
        path=path, rate=src_rate, start=start, duration=duration,
        width=int(meta.get("width", 0 if audio else width)), height=int(meta.get("height", 0 if audio else height)),
        has_video=bool(meta.get("has_video", not audio)),
        audio_channels=int(meta.get("audio_channels", 2 if audio else 0)),
        audio_rate=int(meta.get("audio_rate", 48000 if audio else 0)),
        audio_streams=int(meta.get("audio_streams", 1 if audio else 0)),
        drop_frame=bool(meta.get("drop_frame", False)),
        pixel_aspect=Fraction(str(meta.get("pixel_aspect", "1/1"))),
    )


def _events(track: otio.schema.Track, rate: Fraction, width: int, height: int, lost: list[str]) -> tuple[Event, ...]:
    audio = track.kind == otio.schema.TrackKind.Audio
    events = []
    sources: dict[object, Source] = {}
    position = 0  # record frames so far (summed here: range_of_child_at_index is linear per call)
    for item in track:
        where = f"track {track.name!r}, {type(item).__name__} {item.name!r}"
        if not isinstance(item, (otio.schema.Clip, otio.schema.Gap)):
            raise InterchangeError(f"{where} at record frame {position}: only clips and gaps can be exported")
        record_in = position
        record_out = position = record_in + frames_at(item.duration(), rate, what=f"{where}: duration")
        if isinstance(item, otio.schema.Gap):
            continue
        ref = item.media_reference
        key = getattr(ref, "target_url", None) or id(ref)
        if key not in sources:  # each file once: its metadata is slow to convert
            sources[key] = _source_of(item, rate, width, height, audio)
        source = sources[key]
        source_in = frames_at(item.source_range.start_time, source.rate, what=f"{where}: source in")
        meta = plain_metadata(item.metadata.get(NAMESPACE) or {})
        events.append(Event(record_in, record_out, source, source_in, item.name, meta, bool(item.enabled)))
        if item.effects:
            lost.append(f"{where}: effects {', '.join(e.effect_name or e.name or type(e).__name__ for e in item.effects)}")
        own = [m for m in item.markers if (m.metadata.get(NAMESPACE) or {}).get("copy_of") != "timeline"]
        if own:
            lost.append(f"{where}: {len(own)} clip marker(s) ({', '.join(m.name for m in own[:3])})")
    return tuple(events)


def edit_from_timeline(timeline: otio.schema.Timeline) -> Edit:
    """The :class:`Edit` of a timeline; :class:`InterchangeError` names what cannot be carried."""
    if not isinstance(timeline, otio.schema.Timeline):
        raise InterchangeError(f"expected a Timeline, got {type(timeline).__name__}")
    rate = timeline_rate(timeline)
    meta = plain_metadata(timeline.metadata.get(NAMESPACE) or {})
    width, height = int(meta.get("width") or 0), int(meta.get("height") or 0)
    if not (width and height):
        for clip in timeline.find_clips():
            rmeta = getattr(clip.media_reference, "metadata", {}).get(NAMESPACE) or {}
            if rmeta.get("width"):
                width, height = int(rmeta["width"]), int(rmeta["height"])
                break
        else:
            first = next((c for c in timeline.find_clips() if isinstance(c.media_reference, otio.schema.ExternalReference)
                          and c.media_reference.target_url), None)
            info = probe_quietly(media_path(first.media_reference.target_url), True) if first is not None else None
            if info is not None and info.video is not None:
                width, height = info.video.display_width, info.video.display_height
            else:
                width, height = 1920, 1080
                log.warning("timeline %r: no picture size in it and no media to probe: 1920x1080", timeline.name)
    video: list[tuple[Event, ...]] = []
    audio: list[tuple[Event, ...]] = []
    lost: list[str] = []
    for track in timeline.tracks:
        if not isinstance(track, otio.schema.Track):
            raise InterchangeError(f"{type(track).__name__} {track.name!r} in the timeline's stack: only tracks can be exported")
        target = audio if track.kind == otio.schema.TrackKind.Audio else video
        target.append(_events(track, rate, width, height, lost))
    markers = []
    for marker in timeline.tracks.markers:
        what = f"marker {marker.name!r}"
        markers.append(Mark(frames_at(marker.marked_range.start_time, rate, what=what),
                            frames_at(marker.marked_range.duration, rate, what=what),
                            marker.name, marker.color, plain_metadata(marker.metadata.get(NAMESPACE) or {})))
    start = frames_at(timeline.global_start_time, rate, what="global start") if timeline.global_start_time else 0
    if lost:
        log.warning("timeline %r: not carried by the interchange formats: %s", timeline.name, "; ".join(lost))
    return Edit(timeline.name, rate, start, width, height, tuple(video), tuple(audio), tuple(markers), meta)


# ---------------------------------------------------------------------------- edit -> timeline
def _clip(event: Event, rate: Fraction) -> otio.schema.Clip:
    src = event.source
    reference = otio.schema.ExternalReference(
        target_url=src.url,
        available_range=TimeRange(RationalTime(src.start, float(src.rate)), RationalTime(src.duration, float(src.rate))),
    )
    reference.metadata[NAMESPACE] = src.metadata()
    clip = otio.schema.Clip(
        name=event.name, media_reference=reference,
        source_range=TimeRange(RationalTime(event.source_in, float(src.rate)),
                               RationalTime(event.record_frames, float(rate))),
    )
    meta = dict(event.metadata)
    if src.has_video:
        meta.setdefault("source_in_frames", event.source_in - src.start)
        meta.setdefault("source_rate", frac_str(src.rate))
    clip.metadata[NAMESPACE] = meta
    clip.enabled = event.enabled
    return clip


def _track(name: str, kind: str, events: tuple[Event, ...], rate: Fraction) -> otio.schema.Track:
    track = otio.schema.Track(name=name, kind=kind)
    position = 0
    for event in events:
        if event.record_in < position:
            raise InterchangeError(f"track {name}: {event.name!r} at frame {event.record_in} overlaps the clip before it")
        if event.record_in > position:
            track.append(otio.schema.Gap(source_range=TimeRange(RationalTime(0, float(rate)),
                                                                RationalTime(event.record_in - position, float(rate)))))
        track.append(_clip(event, rate))
        position = event.record_out
    return track


def timeline_from_edit(edit: Edit) -> otio.schema.Timeline:
    """An OTIO timeline of ``edit`` in the shape :func:`~montage_ai.core.model.timeline.build_timeline` makes."""
    rate = edit.rate
    timeline = otio.schema.Timeline(name=edit.name, global_start_time=RationalTime(edit.start, float(rate)))
    meta = dict(edit.metadata)
    meta.update(rate=frac_str(rate), width=edit.width, height=edit.height)
    timeline.metadata[NAMESPACE] = meta
    for i, events in enumerate(edit.video):
        timeline.tracks.append(_track(VIDEO_TRACK if i == 0 else f"V{i + 1}", otio.schema.TrackKind.Video, events, rate))
    for i, events in enumerate(edit.audio):
        timeline.tracks.append(_track(AUDIO_TRACK if i == 0 else f"A{i + 1}", otio.schema.TrackKind.Audio, events, rate))
    for mark in edit.markers:
        marker = otio.schema.Marker(name=mark.name, color=mark.color, marked_range=TimeRange(
            RationalTime(mark.start, float(rate)), RationalTime(mark.duration, float(rate))))
        if mark.metadata:
            marker.metadata[NAMESPACE] = dict(mark.metadata)
        timeline.tracks.markers.append(marker)
    return timeline
