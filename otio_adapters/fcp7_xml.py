"""OTIO adapter ``montage_fcp7_xml``: Final Cut Pro 7 XML ("xmeml" version 4) for Premiere Pro
and Resolve.

What we write:

- One ``sequence``: ``<rate><timebase>24</timebase><ntsc>TRUE</ntsc></rate>`` for 24000/1001
  (30 + ntsc for 30000/1001, 60 + ntsc for 60000/1001), the start as ``<timecode>`` (string,
  frame and ``NDF``), width and height in the video ``format``.
- Video tracks, then audio tracks (the music; a stereo file on two linked tracks, one per
  channel, as FCP7 lays it out), as ``clipitem``s, the way Premiere writes them: the
  clipitem's ``<rate>``, ``<duration>``, ``<start>/<end>`` and ``<in>/<out>`` all count in
  SEQUENCE frames (Premiere and Resolve read in/out at the sequence rate, whatever the
  file's rate); ``<in>`` is the first sequence frame that shows the cut's first source frame
  (``ceil(source_in * sequence_rate / source_rate)``, counted from the file's first frame),
  and Premiere's ``pproTicksIn/Out`` carry the exact source time. The ``<file>`` keeps its
  own rate and start timecode (``<file><timecode>``), so camera files relink where they are.
  ``for_app="resolve"`` leaves ``<file><duration>`` empty, as Resolve's importer expects.
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

import dataclasses
import logging
import math
import xml.etree.ElementTree as ET
from fractions import Fraction

import opentimelineio as otio

from montage_ai.core.base.mediaurl import fcp7_url
from montage_ai.core.base.timebase import frames_to_timecode, timecode_to_frames
from montage_ai.core.model.timeline import media_path
from montage_ai.otio_adapters.edit import (
    TAG,
    Edit,
    Event,
    InterchangeError,
    LeftOut,
    Mark,
    Source,
    describe,
    edit_from_timeline,
    frac_str,
    is_drop_frame_rate,
    json_dict,
    marker_key,
    marker_text,
    markers_metadata,
    note_left_out,
    parse_xml,
    tagged,
    timeline_from_edit,
    xml_safe_tree,
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
    return fcp7_url(path)


log = logging.getLogger(__name__)

#: Premiere's time unit: ticks per second (exact for every NTSC and integer rate).
PPRO_TICKS = 254_016_000_000


def sequence_frames(frames: int, rate: Fraction, seq_rate: Fraction) -> int:
    """A length of ``frames`` at ``rate`` in whole frames of the sequence (rounded)."""
    return int(math.floor(Fraction(frames) * seq_rate / rate + Fraction(1, 2)))


def clip_in_frames(source_in: int, rate: Fraction, seq_rate: Fraction) -> int:
    """A clipitem's ``<in>`` at the sequence rate for zero-based source frame ``source_in``: the
    first sequence frame whose time shows that source frame (``ceil``; the NLE shows the source
    frame at or before a time).

    >>> clip_in_frames(330, Fraction(60000, 1001), Fraction(24000, 1001))
    132
    """
    return int(math.ceil(Fraction(source_in) * seq_rate / rate))


def source_frames_of(clip_in: int, ticks_in: int | None, rate: Fraction, seq_rate: Fraction) -> int:
    """The zero-based source frame a Premiere-style clipitem starts on: from its ticks when it
    has them (exact), else the source frame on screen at ``<in>`` sequence frames."""
    if ticks_in is not None:
        return int(math.floor(Fraction(ticks_in) / PPRO_TICKS * rate + Fraction(1, 1000)))
    return int(math.floor(Fraction(clip_in) * rate / seq_rate + Fraction(1, 1000)))


# ---------------------------------------------------------------------------- write
#: FCP7's names for the pixel aspect ratios it knows (xmeml ``pixelaspectratio``).
_FCP7_PAR = {Fraction(10, 11): "NTSC-601", Fraction(40, 33): "NTSC-CCIR-601", Fraction(59, 54): "PAL-601",
             Fraction(118, 81): "PAL-CCIR-601", Fraction(4, 3): "HD-(1440x1080)", Fraction(3, 2): "HD-(960x720)"}


def _pixel_aspect(chars: ET.Element, par: Fraction, width: int, height: int) -> None:
    """``anamorphic`` and ``pixelaspectratio`` of a file with non-square pixels: one of FCP7's
    named ratios, or (a ratio FCP7 has no name for) ``anamorphic`` alone."""
    if par == 1:
        return  # square is the default
    wide = Fraction(width) * par / max(height, 1) >= Fraction(16, 10)
    _sub(chars, "anamorphic", "TRUE" if wide and par > 1 else "FALSE")
    if par in _FCP7_PAR:
        _sub(chars, "pixelaspectratio", _FCP7_PAR[par])


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


def _timecode(parent: ET.Element, frames: int, rate: Fraction, drop_frame: bool = False) -> None:
    element = _sub(parent, "timecode")
    _rate(element, rate)
    _sub(element, "string", frames_to_timecode(frames, rate, drop_frame=drop_frame))
    _sub(element, "frame", frames)
    _sub(element, "displayformat", "DF" if drop_frame else "NDF")


#: The applications whose FCP7 conventions we write.
APPS = ("premiere", "resolve")


def _audio_fade(item: ET.Element, out: int, fade: int) -> None:
    """An "Audio Levels" filter whose level keyframes fade the clip out over its last
    ``fade`` frames (``when`` in the clip's media frames, like ``in``/``out``; level 1 is
    0 dB, 0 is silence)."""
    effect = _sub(_sub(item, "filter"), "effect")
    _sub(effect, "name", "Audio Levels")
    _sub(effect, "effectid", "audiolevels")
    _sub(effect, "effectcategory", "audiolevels")
    _sub(effect, "effecttype", "audiolevels")
    _sub(effect, "mediatype", "audio")
    param = _sub(effect, "parameter")
    _sub(param, "parameterid", "level")
    _sub(param, "name", "Level")
    _sub(param, "valuemin", 0)
    _sub(param, "valuemax", "3.98109")
    _sub(param, "value", 1)
    for when, value in ((out - fade, 1), (out, 0)):
        key = _sub(param, "keyframe")
        _sub(key, "when", when)
        _sub(key, "value", value)


class _Writer:
    def __init__(self, edit: Edit, for_app: str = "premiere") -> None:
        if for_app not in APPS:
            raise InterchangeError(f"FCP7 XML for {for_app!r}: choose one of {', '.join(APPS)}")
        self.for_app = for_app
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
        # For Resolve: present but empty, as Resolve's importer expects it (it takes the length
        # from the media; the clipitem's <duration> carries it at the sequence rate). Premiere
        # (and OTIO's fcp_xml reader) want the file's length in its own frames.
        _sub(element, "duration", None if self.for_app == "resolve" else src.duration)
        _timecode(element, src.start, src.rate, src.drop_frame and is_drop_frame_rate(src.rate))
        media = _sub(element, "media")
        if src.has_video:
            chars = _sub(_sub(media, "video"), "samplecharacteristics")
            _rate(chars, src.rate)
            _sub(chars, "width", src.width)
            _sub(chars, "height", src.height)
            _pixel_aspect(chars, src.pixel_aspect, src.width, src.height)
        if src.has_audio:
            audio = _sub(media, "audio")
            chars = _sub(audio, "samplecharacteristics")
            _sub(chars, "depth", 16)
            _sub(chars, "samplerate", src.audio_rate)
            _sub(audio, "channelcount", src.audio_channels)

    def clipitem(self, track: ET.Element, event: Event, kind: str, *, clip_id: str | None = None,
                 channel: int = 1, links: list[tuple[str, str, int, int]] = ()) -> None:
        self.clip_count += 1
        src, rate = event.source, self.edit.rate
        item = ET.SubElement(track, "clipitem", id=clip_id or f"clipitem-{self.clip_count}")
        _sub(item, "name", event.name)
        _sub(item, "enabled", "TRUE" if event.enabled else "FALSE")
        # Premiere's layout: a clipitem counts in the SEQUENCE's rate (its <rate>, <duration>,
        # <in>/<out>), whatever the file's rate; Premiere and Resolve read in/out that way. The
        # exact source time also travels as Premiere's ticks (pproTicksIn/Out).
        _sub(item, "duration", sequence_frames(src.duration, src.rate, rate))
        _rate(item, rate)
        _sub(item, "start", event.record_in)
        _sub(item, "end", event.record_out)
        source_in = event.source_in - src.start
        clip_in = clip_in_frames(source_in, src.rate, rate)
        _sub(item, "in", clip_in)
        _sub(item, "out", clip_in + event.record_frames)
        ticks_in = Fraction(source_in) / src.rate * PPRO_TICKS
        if ticks_in.denominator == 1:
            _sub(item, "pproTicksIn", ticks_in.numerator)
            _sub(item, "pproTicksOut", ticks_in.numerator + Fraction(event.record_frames) / rate * PPRO_TICKS)
        self.file_element(item, src)
        if kind == "audio":
            sourcetrack = _sub(item, "sourcetrack")
            _sub(sourcetrack, "mediatype", "audio")
            _sub(sourcetrack, "trackindex", channel)
            fade = min(int(event.metadata.get("fade_out_frames", 0) or 0), event.record_frames)
            if fade > 0:
                _audio_fade(item, clip_in + event.record_frames, fade)
        for link_id, media_type, track_index, clip_index in links:
            link = _sub(item, "link")
            _sub(link, "linkclipref", link_id)
            _sub(link, "mediatype", media_type)
            _sub(link, "trackindex", track_index)
            _sub(link, "clipindex", clip_index)
        if event.metadata:
            info = _sub(item, "logginginfo")
            reason = event.metadata.get("reason")
            if reason:
                _sub(info, "description", describe(event.metadata.get("phase", ""), reason))
            _sub(info, "lognote", tagged(event.metadata))

    def write(self) -> str:
        edit, rate = self.edit, self.edit.rate
        root = ET.Element("xmeml", version="4")
        seq = ET.SubElement(root, "sequence", id="sequence-1")
        _sub(seq, "name", edit.name)
        _sub(seq, "duration", edit.duration)
        _rate(seq, rate)
        _timecode(seq, edit.start, rate, edit.drop_frame)
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
        # Camera audio (on request): each V1 clip's own sound on tracks after the music, one
        # clipitem per channel, linked with its video clipitem (Premiere's and Resolve's A/V link).
        v1 = edit.video[0] if edit.video else ()
        with_sound = [(j, e) for j, e in enumerate(v1, start=1) if e.source.has_audio] if edit.camera_audio else []
        music_tracks = sum(2 if any(e.source.audio_channels >= 2 for e in events) else 1 for events in edit.audio)
        cam_channels = 2 if any(e.source.audio_channels >= 2 for _, e in with_sound) else 1
        cam_links: dict[int, list[tuple[str, str, int, int]]] = {}
        for k, (j, _) in enumerate(with_sound, start=1):
            cam_links[j] = [(f"clipitem-V1-{j}", "video", 1, j)] + [
                (f"clipitem-CA-{k}-{c}", "audio", music_tracks + c, k) for c in range(1, cam_channels + 1)]
        for t, events in enumerate(edit.video or ((),), start=1):
            track = _sub(video, "track")
            for j, event in enumerate(events, start=1):
                ident = f"clipitem-V{t}-{j}"
                self.clipitem(track, event, "video", clip_id=ident, links=cam_links.get(j, []) if t == 1 else [])
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
                    links = ([(ids[c - 1], "audio", first + c - 1, j) for c in range(1, channels + 1)]
                             if channels > 1 else [])
                    self.clipitem(track, event, "audio", clip_id=ids[channel - 1], channel=channel, links=links)
                _sub(track, "outputchannelindex", channel)
        for channel in range(1, cam_channels + 1) if with_sound else ():
            track = _sub(audio, "track")
            for k, (j, event) in enumerate(with_sound, start=1):
                self.clipitem(track, event, "audio", clip_id=f"clipitem-CA-{k}-{channel}", channel=channel,
                              links=cam_links[j])
            _sub(track, "outputchannelindex", channel)
        for mark in edit.markers:
            marker = _sub(seq, "marker")
            _sub(marker, "name", mark.name)
            _sub(marker, "comment", marker_text(mark))
            _sub(marker, "in", mark.start)
            _sub(marker, "out", mark.start + mark.duration if mark.duration else -1)
        timeline_meta = dict(edit.metadata)
        if edit.markers:
            timeline_meta["markers"] = markers_metadata(edit.markers)  # plain comments; our data here
        if timeline_meta:
            _sub(_sub(seq, "logginginfo"), "lognote", tagged(timeline_meta))
        xml_safe_tree(root)
        ET.indent(root, space="  ")
        return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _expressible(edit: Edit) -> Edit:
    """``edit`` without the clips whose file rate FCP7 XML cannot state (12.5 fps, ...): each is
    left out with a warning naming it and the reason; the rest is written. (A sequence at such a
    rate is refused as a whole: nothing could be placed on it.)"""
    timebase_of(edit.rate)

    def keep(events: tuple[Event, ...]) -> tuple[Event, ...]:
        out = []
        for event in events:
            try:
                timebase_of(event.source.rate)
                out.append(event)
            except InterchangeError as exc:
                record = frames_to_timecode(edit.start + event.record_in, edit.rate, drop_frame=edit.drop_frame)
                note_left_out(LeftOut("FCP7 XML", event.source.path, record, str(exc)))
        return tuple(out)

    return dataclasses.replace(edit, video=tuple(keep(t) for t in edit.video), audio=tuple(keep(t) for t in edit.audio))


def write_to_string(input_otio: otio.schema.Timeline, for_app: str = "premiere") -> str:
    """FCP7 XML (xmeml 4) of ``input_otio`` (OTIO adapter entry point); ``for_app="resolve"``
    follows Resolve's importer (an empty ``<file><duration>``)."""
    return _Writer(_expressible(edit_from_timeline(input_otio)), for_app).write()


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


def _transition_cut(items: list[ET.Element], index: int, what: str) -> int:
    """The record frame where a transition next to a clipitem (whose start or end is -1)
    cuts: the middle of the transition."""
    if 0 <= index < len(items) and items[index].tag == "transitionitem":
        start, end = _int(items[index], "./start", what), _int(items[index], "./end", what)
        return (start + end) // 2
    raise InterchangeError(f"{what}: start or end is -1 with no transition beside it")


def _file_duration(file_element: ET.Element, item: ET.Element, src_rate: Fraction, seq_rate: Fraction) -> int:
    """A file's length in its own frames: its ``<duration>``, else (empty, as Resolve writes
    it) the clipitem's, which counts in the clipitem's rate."""
    text = _text(file_element, "./duration")
    if text and text.isdigit():
        return int(text)
    clip_text = _text(item, "./duration")
    if not (clip_text and clip_text.isdigit()):
        return 0
    clip_rate = _rate_in(item) or seq_rate
    return int(math.floor(Fraction(int(clip_text)) * src_rate / clip_rate + Fraction(1, 2)))


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

    def source(file_ref: ET.Element, kind: str, item: ET.Element) -> Source:
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
            duration=_file_duration(element, item, src_rate, rate),
            width=int(_text(video, "./samplecharacteristics/width", "0")) if video is not None else 0,
            height=int(_text(video, "./samplecharacteristics/height", "0")) if video is not None else 0,
            has_video=video is not None if element.find("./media") is not None else kind == "video",
            audio_channels=int(_text(audio, "./channelcount", "2")) if has_audio else 0,
            audio_rate=int(_text(audio, "./samplecharacteristics/samplerate", "48000")) if has_audio else 0,
            audio_streams=1 if has_audio else 0,
            drop_frame=(_text(element, "./timecode/displayformat", "NDF") or "").upper() == "DF",
        )
        sources[fid] = src
        return src

    def tracks(kind: str) -> tuple[tuple[Event, ...], ...]:
        out = []
        for track in seq.iterfind(f"./media/{kind}/track"):
            events = []
            items = list(track)
            for position, item in enumerate(items):
                if item.tag not in ("clipitem", "generatoritem", "transitionitem"):
                    continue  # the track's own settings: name, enabled, locked, outputchannelindex ...
                if kind == "audio" and int(_text(item, "./sourcetrack/trackindex", "1") or 1) > 1:
                    continue  # a further channel of a clip already read from its first channel
                what = f"{item.tag} {_text(item, './name', item.get('id'))!r}"
                if item.tag == "transitionitem":
                    lost.append(f"{what} on a {kind} track at {_text(item, './start')}: read as a cut")
                    continue
                file_ref = item.find("./file")
                if item.tag == "generatoritem" or file_ref is None:
                    lost.append(f"{what} on a {kind} track ({_text(item, './start')}-{_text(item, './end')}): "
                                "no media file, not carried (left as a gap)")
                    continue
                src = source(file_ref, kind, item)
                record_in, record_out = _int(item, "./start", what), _int(item, "./end", what)
                # Beside a transition Premiere writes -1: the cut is at the transition's centre.
                if record_in < 0:
                    record_in = _transition_cut(items, position - 1, what)
                if record_out < 0:
                    record_out = _transition_cut(items, position + 1, what)
                if record_out <= record_in:
                    raise InterchangeError(f"{what}: start {record_in}, end {record_out}")
                clip_rate = _rate_in(item) or src.rate
                clip_in = _int(item, "./in", what)
                ticks = _text(item, "./pproTicksIn")
                if clip_rate == src.rate:  # in/out in the file's own frames (FCP7, our older files)
                    source_in = clip_in
                elif clip_rate == rate:    # Premiere's layout: in/out at the sequence rate
                    source_in = source_frames_of(clip_in, int(ticks) if ticks and ticks.lstrip("-").isdigit()
                                                 else None, src.rate, rate)
                else:
                    raise InterchangeError(f"{what}: its rate {frac_str(clip_rate)} fps is neither its file's "
                                           f"({frac_str(src.rate)}) nor the sequence's ({frac_str(rate)})")
                name = _text(item, "./name", src.name) or src.name
                meta = json_dict(_text(item, "./logginginfo/lognote"), TAG)
                enabled = (_text(item, "./enabled", "TRUE") or "TRUE").upper() != "FALSE"
                events.append(Event(record_in, record_out, src, src.start + source_in, name, meta, enabled))
            out.append(tuple(sorted(events, key=lambda e: e.record_in)))
        return tuple(out)

    lost: list[str] = []
    video = tuple(t for t in tracks("video"))
    audio_tracks = tuple(t for t in tracks("audio") if t)
    if lost:
        log.warning("FCP7 XML read with losses: %s", "; ".join(lost))
    meta = json_dict(_text(seq, "./logginginfo/lognote"), TAG)
    ours = meta.pop("markers", {}) if isinstance(meta.get("markers"), dict) else {}
    markers = []
    for marker in seq.iterfind("./marker"):
        mark_in = _int(marker, "./in", "marker")
        name = _text(marker, "./name", "") or ""
        # Our data: in the sequence's log note (older files: JSON in the comment).
        mmeta = dict(ours.get(marker_key(mark_in, name)) or json_dict(_text(marker, "./comment"), TAG))
        mmeta.pop("point", None)
        color = mmeta.pop("color", otio.schema.MarkerColor.RED)
        mark_out = int(_text(marker, "./out", "-1") or -1)
        markers.append(Mark(mark_in, max(mark_out - mark_in, 0) if mark_out >= 0 else 0, name, color, mmeta))
    width = int(_text(seq, "./media/video/format/samplecharacteristics/width", "0") or 0)
    height = int(_text(seq, "./media/video/format/samplecharacteristics/height", "0") or 0)
    if (_text(seq, "./timecode/displayformat", "NDF") or "").upper() == "DF":
        meta["drop_frame"] = True
    return Edit(_text(seq, "./name", "Timeline") or "Timeline", rate, start, width, height, video,
                audio_tracks, tuple(markers), meta)


def read_from_string(input_str: str) -> otio.schema.Timeline:
    """An OTIO timeline from FCP7 XML text (OTIO adapter entry point)."""
    return timeline_from_edit(read_edit(input_str))
