"""OTIO adapter ``montage_fcp7_xml``: Final Cut Pro 7 XML ("xmeml" version 4) for Premiere Pro
and Resolve.

What we write:

- One ``sequence``: ``<rate><timebase>24</timebase><ntsc>TRUE</ntsc></rate>`` for 24000/1001
  (30 + ntsc for 30000/1001, 60 + ntsc for 60000/1001), the start as ``<timecode>`` (string,
  frame and ``NDF``), width and height in the video ``format``.
- Video tracks, then audio tracks (the music; a stereo file on two linked tracks, one per
  channel, as FCP7 lays it out), as ``clipitem``s: ``<start>/<end>`` in
  sequence frames from the sequence's first frame, ``<in>/<out>`` in the clip's own rate
  (its ``<rate>`` is the source's) counted from the file's first frame; the file's own
  start timecode is in its ``<file><timecode>``, so camera files relink where they are.
- Each ``<file id>`` is defined once in full (``pathurl`` ``file://localhost/`` +
  percent-encoded absolute path, rate, duration, timecode, picture size, audio channels and
  sample rate) and referenced by id afterwards.
- Timeline markers as sequence ``<marker>``s (``<out>-1</out>`` for point markers); their
  colour and our metadata in the ``<comment>`` as ``montage_ai {json}``.
- Our clip metadata as ``<logginginfo>``: the reason the clip was chosen in
  ``<description>`` (Premiere shows it in the Description column), our data as
  ``montage_ai {json}`` in ``<lognote>``; the timeline's in the sequence's ``<logginginfo>``.

Rates FCP7 XML cannot express (anything but an integer timebase, or one times 1000/1001) are
refused with the rate named.

The reader reads what we write (and FCP7 XML of the same shape: clipitems with files on video
and audio tracks, sequence markers; no transitions) into the timeline shape of
:func:`montage_ai.core.model.timeline.build_timeline`.
"""

from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET
from fractions import Fraction

import opentimelineio as otio

from montage_ai.core.base.timebase import frames_to_timecode, timecode_to_frames
from montage_ai.core.model.timeline import media_path
from montage_ai.otio_adapters.edit import (
    TAG,
    Edit,
    Event,
    InterchangeError,
    Mark,
    Source,
    edit_from_timeline,
    frac_str,
    json_dict,
    parse_xml,
    tagged,
    timeline_from_edit,
)


# ---------------------------------------------------------------------------- rates and paths
def timebase_of(rate: Fraction) -> tuple[int, bool]:
    """``(timebase, ntsc)`` of an exact rate.

    >>> timebase_of(Fraction(24000, 1001)), timebase_of(Fraction(25))
    ((24, True), (25, False))
    """
    if rate.denominator == 1:
        return rate.numerator, False
    nominal = rate * Fraction(1001, 1000)
    if nominal.denominator == 1:
        return nominal.numerator, True
    raise InterchangeError(f"FCP7 XML cannot express {frac_str(rate)} fps (an integer timebase, or one "
                           "times 1000/1001)")


def rate_of(timebase: int, ntsc: bool) -> Fraction:
    return Fraction(timebase * 1000, 1001) if ntsc else Fraction(timebase)


def pathurl(path: str) -> str:
    """``file://localhost/`` + the percent-encoded absolute path (Premiere's and Resolve's form).

    >>> pathurl("/media/Day 1/café #2.mov")
    'file://localhost/media/Day%201/caf%C3%A9%20%232.mov'
    """
    from montage_ai.core.model.timeline import file_url

    return "file://localhost" + urllib.parse.urlsplit(file_url(path)).path


# ---------------------------------------------------------------------------- write
def _sub(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def _rate(parent: ET.Element, rate: Fraction) -> None:
    timebase, ntsc = timebase_of(rate)
    element = _sub(parent, "rate")
    _sub(element, "timebase", timebase)
    _sub(element, "ntsc", "TRUE" if ntsc else "FALSE")


def _timecode(parent: ET.Element, frames: int, rate: Fraction) -> None:
    element = _sub(parent, "timecode")
    _rate(element, rate)
    _sub(element, "string", frames_to_timecode(frames, rate))
    _sub(element, "frame", frames)
    _sub(element, "displayformat", "NDF")


class _Writer:
    def __init__(self, edit: Edit) -> None:
        self.edit = edit
        self.file_ids: dict[str, str] = {}
        self.clip_count = 0

    def file_element(self, parent: ET.Element, src: Source) -> None:
        if src.path in self.file_ids:
            ET.SubElement(parent, "file", id=self.file_ids[src.path])
            return
        fid = self.file_ids[src.path] = f"file-{len(self.file_ids) + 1}"
        element = ET.SubElement(parent, "file", id=fid)
        _sub(element, "name", src.name)
        _sub(element, "pathurl", pathurl(src.path))
        _rate(element, src.rate)
        _sub(element, "duration", src.duration)
        _timecode(element, src.start, src.rate)
        media = _sub(element, "media")
        if src.has_video:
            chars = _sub(_sub(media, "video"), "samplecharacteristics")
            _rate(chars, src.rate)
            _sub(chars, "width", src.width)
            _sub(chars, "height", src.height)
        if src.has_audio:
            audio = _sub(media, "audio")
            chars = _sub(audio, "samplecharacteristics")
            _sub(chars, "depth", 16)
            _sub(chars, "samplerate", src.audio_rate)
            _sub(audio, "channelcount", src.audio_channels)

    def clipitem(self, track: ET.Element, event: Event, kind: str, *, clip_id: str | None = None,
                 channel: int = 1, links: list[tuple[str, int, int]] = ()) -> None:
        self.clip_count += 1
        src, rate = event.source, self.edit.rate
        item = ET.SubElement(track, "clipitem", id=clip_id or f"clipitem-{self.clip_count}")
        _sub(item, "name", event.name)
        _sub(item, "enabled", "TRUE")
        _sub(item, "duration", src.duration)
        _rate(item, src.rate)
        _sub(item, "start", event.record_in)
        _sub(item, "end", event.record_out)
        source_in = event.source_in - src.start
        _sub(item, "in", source_in)
        _sub(item, "out", source_in + round(event.source_frames(rate)))
        self.file_element(item, src)
        if kind == "audio":
            sourcetrack = _sub(item, "sourcetrack")
            _sub(sourcetrack, "mediatype", "audio")
            _sub(sourcetrack, "trackindex", channel)
        for link_id, track_index, clip_index in links:
            link = _sub(item, "link")
            _sub(link, "linkclipref", link_id)
            _sub(link, "mediatype", kind)
            _sub(link, "trackindex", track_index)
            _sub(link, "clipindex", clip_index)
        if event.metadata:
            info = _sub(item, "logginginfo")
            reason = event.metadata.get("reason")
            if reason:
                _sub(info, "description", f"{event.metadata.get('phase', '')}: {reason}".lstrip(": "))
            _sub(info, "lognote", tagged(event.metadata))

    def write(self) -> str:
        edit, rate = self.edit, self.edit.rate
        root = ET.Element("xmeml", version="4")
        seq = ET.SubElement(root, "sequence", id="sequence-1")
        _sub(seq, "name", edit.name)
        _sub(seq, "duration", edit.duration)
        _rate(seq, rate)
        _timecode(seq, edit.start, rate)
        _sub(seq, "in", -1)
        _sub(seq, "out", -1)
        media = _sub(seq, "media")
        video = _sub(media, "video")
        chars = _sub(_sub(video, "format"), "samplecharacteristics")
        _rate(chars, rate)
        _sub(chars, "width", edit.width)
        _sub(chars, "height", edit.height)
        _sub(chars, "anamorphic", "FALSE")
        _sub(chars, "pixelaspectratio", "square")
        _sub(chars, "fielddominance", "none")
        for events in edit.video or ((),):
            track = _sub(video, "track")
            for event in events:
                self.clipitem(track, event, "video")
        audio = _sub(media, "audio")
        _sub(audio, "numOutputChannels", 2)
        audio_chars = _sub(_sub(audio, "format"), "samplecharacteristics")
        _sub(audio_chars, "depth", 16)
        _sub(audio_chars, "samplerate", max((s.audio_rate for s in edit.sources if s.has_audio), default=48000))
        # A stereo file is one clipitem per channel on tracks of their own (channel 1 left on
        # the first, channel 2 right on the next), linked: FCP7's layout, which Premiere and
        # Resolve import with both channels (one clipitem of a stereo file plays its first
        # channel only in Premiere).
        track_index = 0
        for t, events in enumerate(edit.audio, start=1):
            channels = 2 if any(e.source.audio_channels >= 2 for e in events) else 1
            first = track_index + 1
            for channel in range(1, channels + 1):
                track_index += 1
                track = _sub(audio, "track")
                for j, event in enumerate(events, start=1):
                    ids = [f"clipitem-A{t}-{j}-{c}" for c in range(1, channels + 1)]
                    links = [(ids[c - 1], first + c - 1, j) for c in range(1, channels + 1)] if channels > 1 else []
                    self.clipitem(track, event, "audio", clip_id=ids[channel - 1], channel=channel, links=links)
                _sub(track, "outputchannelindex", channel)
        for mark in edit.markers:
            marker = _sub(seq, "marker")
            _sub(marker, "name", mark.name)
            _sub(marker, "comment", tagged({"color": mark.color, **mark.metadata}))
            _sub(marker, "in", mark.start)
            _sub(marker, "out", mark.start + mark.duration if mark.duration else -1)
        if edit.metadata:
            _sub(_sub(seq, "logginginfo"), "lognote", tagged(edit.metadata))
        ET.indent(root, space="  ")
        return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_to_string(input_otio: otio.schema.Timeline) -> str:
    """FCP7 XML (xmeml 4) of ``input_otio`` (OTIO adapter entry point)."""
    return _Writer(edit_from_timeline(input_otio)).write()


# ---------------------------------------------------------------------------- read
def _text(element: ET.Element | None, path: str, default: str | None = None) -> str | None:
    found = element.find(path) if element is not None else None
    return found.text.strip() if found is not None and found.text is not None else default


def _int(element: ET.Element, path: str, what: str) -> int:
    text = _text(element, path)
    if text is None:
        raise InterchangeError(f"{what} has no <{path.lstrip('./')}>")
    try:
        return int(text)
    except ValueError:
        raise InterchangeError(f"{what}: <{path.lstrip('./')}> is {text!r}, not a whole number of frames") from None


def _rate_in(element: ET.Element | None) -> Fraction | None:
    rate = element.find("./rate") if element is not None else None
    if rate is None or _text(rate, "./timebase") is None:
        return None
    return rate_of(int(float(_text(rate, "./timebase"))), (_text(rate, "./ntsc", "FALSE") or "").upper() == "TRUE")


def _timecode_frames(element: ET.Element | None, rate: Fraction) -> int:
    if element is None:
        return 0
    frame = _text(element, "./frame")
    if frame is not None:
        return int(frame)
    string = _text(element, "./string")
    return timecode_to_frames(string, _rate_in(element) or rate) if string else 0


def read_edit(text: str) -> Edit:
    """The :class:`~.edit.Edit` of an FCP7 XML document (its first sequence)."""
    root = parse_xml(text, "xmeml")
    seq = root.find(".//sequence")
    if seq is None:
        raise InterchangeError("no <sequence> in this FCP7 XML")
    rate = _rate_in(seq)
    if rate is None:
        raise InterchangeError("the sequence has no <rate>")
    start = _timecode_frames(seq.find("./timecode"), rate)
    definitions = {f.get("id"): f for f in root.iter("file") if len(f)}
    sources: dict[str, Source] = {}

    def source(file_ref: ET.Element, kind: str) -> Source:
        fid = file_ref.get("id")
        element = definitions.get(fid, file_ref)
        if fid in sources:
            return sources[fid]
        url = _text(element, "./pathurl")
        if not url:
            raise InterchangeError(f"<file id={fid!r}> has no <pathurl> (defined once in full, then by id)")
        src_rate = _rate_in(element) or rate
        video = element.find("./media/video")
        audio = element.find("./media/audio")
        has_audio = audio is not None
        src = Source(
            path=media_path(url), rate=src_rate, start=_timecode_frames(element.find("./timecode"), src_rate),
            duration=int(_text(element, "./duration", "0") or 0),
            width=int(_text(video, "./samplecharacteristics/width", "0")) if video is not None else 0,
            height=int(_text(video, "./samplecharacteristics/height", "0")) if video is not None else 0,
            has_video=video is not None if element.find("./media") is not None else kind == "video",
            audio_channels=int(_text(audio, "./channelcount", "2")) if has_audio else 0,
            audio_rate=int(_text(audio, "./samplecharacteristics/samplerate", "48000")) if has_audio else 0,
            audio_streams=1 if has_audio else 0,
        )
        sources[fid] = src
        return src

    def tracks(kind: str) -> tuple[tuple[Event, ...], ...]:
        out = []
        for track in seq.iterfind(f"./media/{kind}/track"):
            events = []
            for item in track:
                if item.tag in ("enabled", "locked", "outputchannelindex"):
                    continue
                if kind == "audio" and int(_text(item, "./sourcetrack/trackindex", "1") or 1) > 1:
                    continue  # a further channel of a clip already read from its first channel
                if item.tag != "clipitem":
                    raise InterchangeError(f"<{item.tag}> on a {kind} track: only clipitems are read")
                what = f"clipitem {_text(item, './name', item.get('id'))!r}"
                file_ref = item.find("./file")
                if file_ref is None:
                    raise InterchangeError(f"{what} has no <file>")
                src = source(file_ref, kind)
                record_in, record_out = _int(item, "./start", what), _int(item, "./end", what)
                if record_in < 0 or record_out <= record_in:
                    raise InterchangeError(f"{what}: start {record_in}, end {record_out} (transitions are not read)")
                clip_rate = _rate_in(item) or src.rate
                source_in = _int(item, "./in", what)
                if clip_rate != src.rate:
                    exact = Fraction(source_in) * src.rate / clip_rate
                    if exact.denominator != 1:
                        raise InterchangeError(f"{what}: in point {source_in} at {frac_str(clip_rate)} fps is not "
                                               f"a whole frame of its {frac_str(src.rate)} fps file")
                    source_in = exact.numerator
                name = _text(item, "./name", src.name) or src.name
                meta = json_dict(_text(item, "./logginginfo/lognote"), TAG)
                events.append(Event(record_in, record_out, src, src.start + source_in, name, meta))
            out.append(tuple(sorted(events, key=lambda e: e.record_in)))
        return tuple(out)

    markers = []
    for marker in seq.iterfind("./marker"):
        meta = json_dict(_text(marker, "./comment"), TAG)
        color = meta.pop("color", otio.schema.MarkerColor.RED)
        mark_in = _int(marker, "./in", "marker")
        mark_out = int(_text(marker, "./out", "-1") or -1)
        markers.append(Mark(mark_in, max(mark_out - mark_in, 0) if mark_out >= 0 else 0,
                            _text(marker, "./name", "") or "", color, meta))
    width = int(_text(seq, "./media/video/format/samplecharacteristics/width", "0") or 0)
    height = int(_text(seq, "./media/video/format/samplecharacteristics/height", "0") or 0)
    video = tuple(t for t in tracks("video"))
    return Edit(_text(seq, "./name", "Timeline") or "Timeline", rate, start, width, height, video,
                tuple(t for t in tracks("audio") if t), tuple(markers),
                json_dict(_text(seq, "./logginginfo/lognote"), TAG))


def read_from_string(input_str: str) -> otio.schema.Timeline:
    """An OTIO timeline from FCP7 XML text (OTIO adapter entry point)."""
    return timeline_from_edit(read_edit(input_str))
