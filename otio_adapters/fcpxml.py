"""OTIO adapter ``montage_fcpxml``: Final Cut Pro XML (FCPXML 1.9, 1.10, 1.11) for Resolve and
Final Cut Pro, written with exact rational times.

What we write (single file, validated against Apple's DTD of its version, shipped in
``dtd/``):

- ``resources``: one ``format`` for the sequence and one per distinct source rate and size
  (``frameDuration="1001/24000s"``), one ``asset`` per source file with a percent-encoded
  ``media-rep src="file:///..."``, the file's own start timecode as ``start`` and its length
  as ``duration`` (so camera files with a start timecode line up), ``hasVideo``/``hasAudio``
  and the audio layout.
- ``library/event/project/sequence``: ``tcStart`` is the timeline's start (01:00:00:00 is
  ``3600s`` at 24 fps, ``18018/5s`` at 24000/1001: frames times the frame duration, as
  Final Cut counts it), ``tcFormat="NDF"``.
- ``spine``: the first video track as ``asset-clip``s (``gap``s where it is empty), each with
  ``offset`` (sequence time), ``start`` (source time on the file's own timecode grid, in the
  source's timescale) and ``duration`` (timeline timescale); a source at another rate gets
  ``conform-rate scaleEnabled="0"`` (plays at its own speed, as Final Cut writes it).
- Audio tracks (the music) and further video tracks: connected ``asset-clip``s on lanes
  ``-1, -2, …`` / ``1, 2, …`` anchored to the spine item under their first frame.
- Timeline markers: ``marker`` elements on the spine item they fall in, at the clip's local
  time; a one-frame duration for point markers. Their colour and our metadata travel in the
  ``note`` as ``montage_ai {json}`` (FCPXML markers have neither).
- Our clip and timeline metadata: ``<metadata><md key="com.montage-ai.clip" value="{json}"/>``
  (and ``com.montage-ai.timeline`` on the sequence); a clip's reason is also its ``note``.

All times are built from integer frame counts and Fractions, never floats: ``n`` frames at
``24000/1001`` is ``"{n * 1001}/24000s"``.

The reader reads what we write (and plain FCPXML of the same shape: asset-clips and gaps on
the spine, connected asset-clips, markers) back into the timeline shape of
:func:`montage_ai.core.model.timeline.build_timeline`.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import logging
import math
import xml.etree.ElementTree as ET
from fractions import Fraction

import opentimelineio as otio

from montage_ai.core.model.timeline import media_path
from montage_ai.otio_adapters.edit import (
    TAG,
    Edit,
    Event,
    InterchangeError,
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
    parse_xml,
    timeline_from_edit,
    xml_safe_tree,
)

log = logging.getLogger(__name__)
VERSIONS = ("1.9", "1.10", "1.11")
DEFAULT_VERSION = "1.9"
#: Versions some importers refuse (reported in public import logs: Resolve 18.5 refuses 1.11,
#: which Final Cut accepts; Resolve's own export offers 1.3 to 1.10), said when one is asked for.
REFUSED_BY = {"1.11": "DaVinci Resolve 18.5 (reported; Resolve's own FCPXML export stops at 1.10)"}
CLIP_MD = "com.montage-ai.clip"
TIMELINE_MD = "com.montage-ai.timeline"
#: srcFrameRate values the DTD allows on conform-rate, by exact rate.
_CONFORM_RATES = {Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
                  Fraction(60), Fraction(48000, 1001), Fraction(48), Fraction(50), Fraction(60000, 1001)}
_AUDIO_HZ = {32000: "32k", 44100: "44.1k", 48000: "48k", 88200: "88.2k", 96000: "96k", 176400: "176.4k", 192000: "192k"}


# ---------------------------------------------------------------------------- time
def fcpxml_time(frames: int | Fraction, rate: Fraction) -> str:
    """``frames`` at ``rate`` as an FCPXML time in the rate's own timescale.

    >>> fcpxml_time(1, Fraction(24000, 1001)), fcpxml_time(86400, Fraction(24)), fcpxml_time(0, Fraction(25))
    ('1001/24000s', '3600s', '0s')
    """
    value = Fraction(frames) * rate.denominator
    if value.denominator != 1:
        raise InterchangeError(f"{frames} frames at {frac_str(rate)} fps is not a whole number of timescale units")
    num = value.numerator
    if num % rate.numerator == 0:
        return f"{num // rate.numerator}s"
    return f"{num}/{rate.numerator}s"


def seconds_str(value: Fraction, *rates: Fraction) -> str:
    """Exact seconds as an FCPXML time in the timescale of ``rates`` (the least common multiple
    of their numerators: the tick every frame of each lands on), as Final Cut writes times.

    >>> seconds_str(Fraction(18018, 5), Fraction(24000, 1001)), seconds_str(Fraction(3600), Fraction(24))
    ('86486400/24000s', '3600s')
    """
    scale = math.lcm(*(r.numerator for r in rates)) if rates else value.denominator
    ticks = value * scale
    if ticks.denominator != 1:  # not on that grid: the exact reduced fraction
        scale, ticks = value.denominator, Fraction(value.numerator)
    if ticks.numerator % scale == 0:
        return f"{ticks.numerator // scale}s"
    return f"{ticks.numerator}/{scale}s"


def parse_time(text: str | None) -> Fraction:
    """An FCPXML time (``"1001/24000s"``, ``"3600s"``, ``"3603.6s"``) in seconds, exactly."""
    if not text:
        return Fraction(0)
    if not text.endswith("s"):
        raise InterchangeError(f"time {text!r} does not end in 's'")
    body = text[:-1]
    try:
        if "/" in body:
            num, den = body.split("/")
            return Fraction(int(num), int(den))
        return Fraction(body)
    except (ValueError, ZeroDivisionError):
        raise InterchangeError(f"time {text!r} is not a rational number of seconds") from None


def _frames(seconds: Fraction, rate: Fraction, what: str) -> int:
    exact = seconds * rate
    if exact.denominator != 1:
        raise InterchangeError(f"{what}: {seconds_str(seconds)} is not a whole frame at {frac_str(rate)} fps")
    return exact.numerator


def _conform_rate_name(rate: Fraction) -> str:
    return f"{float(rate):.2f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------- write
def _fade_out(event: Event, fade: int) -> ET.Element:
    """``<adjust-volume>`` keyframes that fade the clip out over its last ``fade`` frames
    (times in the clip's own time, which starts at its ``start``; audio sources count at
    the timeline rate)."""
    rate = event.source.rate
    end = event.source_in + event.record_frames
    volume = ET.Element("adjust-volume")
    param = ET.SubElement(volume, "param", name="amount")
    anim = ET.SubElement(param, "keyframeAnimation")
    ET.SubElement(anim, "keyframe", time=fcpxml_time(end - fade, rate), value="0dB")
    ET.SubElement(anim, "keyframe", time=fcpxml_time(end, rate), value="-96dB")
    return volume


class _Writer:
    def __init__(self, edit: Edit, version: str) -> None:
        self.edit = edit
        self.version = version
        self.ids = 0
        self.formats: dict[tuple[Fraction, int, int], str] = {}
        self.assets: dict[str, str] = {}
        self.resources = ET.Element("resources")

    def new_id(self) -> str:
        self.ids += 1
        return f"r{self.ids}"

    def format_id(self, rate: Fraction, width: int, height: int, pasp: Fraction = Fraction(1)) -> str:
        key = (rate, width, height, pasp)
        if key not in self.formats:
            fid = self.formats[key] = self.new_id()
            attrs = dict(id=fid, frameDuration=fcpxml_time(1, rate), width=str(width), height=str(height))
            if pasp != 1:  # non-square pixels: the DTD's pixel aspect (horizontal:vertical spacing)
                attrs.update(paspH=str(pasp.numerator), paspV=str(pasp.denominator))
            ET.SubElement(self.resources, "format", **attrs)
        return self.formats[key]

    def asset_id(self, src: Source) -> str:
        if src.path in self.assets:
            return self.assets[src.path]
        aid = self.assets[src.path] = self.new_id()
        attrs = {"id": aid, "name": src.name, "start": fcpxml_time(src.start, src.rate),
                 "duration": fcpxml_time(src.duration, src.rate)}
        if src.has_video:
            attrs.update(hasVideo="1", format=self.format_id(src.rate, src.width, src.height, src.pixel_aspect),
                         videoSources="1")
        if src.has_audio:
            attrs.update(hasAudio="1", audioSources=str(max(src.audio_streams, 1)),
                         audioChannels=str(src.audio_channels), audioRate=str(src.audio_rate))
        asset = ET.SubElement(self.resources, "asset", attrs)
        ET.SubElement(asset, "media-rep", kind="original-media", src=src.url)
        return aid

    def clip_element(self, event: Event, tag_attrs: dict[str, str]) -> ET.Element:
        src, rate = event.source, self.edit.rate
        element = ET.Element("asset-clip", {
            "ref": self.asset_id(src), **tag_attrs, "name": event.name,
            "start": fcpxml_time(event.source_in, src.rate), "duration": fcpxml_time(event.record_frames, rate),
        })
        if not event.enabled:
            element.set("enabled", "0")
        if src.has_video:
            element.set("tcFormat", "DF" if src.drop_frame and is_drop_frame_rate(src.rate) else "NDF")
            if src.has_audio and not self.edit.camera_audio:
                element.set("srcEnable", "video")  # the camera's sound stays off: the music plays
        if not src.has_video:
            element.set("audioRole", "music" if event.metadata.get("role") == "music" else "dialogue")
        reason = event.metadata.get("reason")
        if reason:
            ET.SubElement(element, "note").text = describe(event.metadata.get("phase", ""), reason)
        if src.has_video and src.rate != rate and src.rate in _CONFORM_RATES:
            ET.SubElement(element, "conform-rate", scaleEnabled="0", srcFrameRate=_conform_rate_name(src.rate))
        fade = min(int(event.metadata.get("fade_out_frames", 0) or 0), event.record_frames)
        if fade > 0 and not src.has_video:
            element.append(_fade_out(event, fade))
        return element

    def write(self) -> str:
        edit, rate = self.edit, self.edit.rate
        seq_format = self.format_id(rate, edit.width, edit.height)
        for src in edit.sources:
            self.asset_id(src)
        tc_start = Fraction(edit.start) / rate
        # The spine: V1, with gaps where it is empty.
        items: list[_SpineItem] = []
        position = 0
        for event in (edit.video[0] if edit.video else ()):
            if event.record_in > position:
                items.append(self._gap(position, event.record_in, tc_start))
            element = self.clip_element(event, {"offset": self._offset(event.record_in, tc_start)})
            items.append(_SpineItem(element, event.record_in, event.record_out,
                                    Fraction(event.source_in) / event.source.rate, event.metadata, event.source.rate))
            position = event.record_out
        if position < edit.duration or not items:
            items.append(self._gap(position, max(edit.duration, position + 1), tc_start))
        starts = [item.record_in for item in items]
        lanes = [(lane, track) for lane, track in enumerate(edit.video[1:], start=1)]
        lanes += [(-lane, track) for lane, track in enumerate(edit.audio, start=1)]
        for lane, track in lanes:
            for event in track:
                item = _covering(items, starts, event.record_in)
                offset = item.local + Fraction(event.record_in - item.record_in) / rate
                element = self.clip_element(event, {"lane": str(lane), "offset": seconds_str(offset, rate, item.rate)})
                _add_metadata(element, CLIP_MD, event.metadata)
                item.anchored.append(element)
        for mark in edit.markers:
            item = _covering(items, starts, mark.start)
            # A point marker is written one frame long (Final Cut needs a duration); that, its
            # colour and our data travel in the sequence's metadata: the note is plain text.
            item.markers.append(ET.Element("marker", {
                "start": seconds_str(item.local + Fraction(mark.start - item.record_in) / rate, rate, item.rate),
                "duration": fcpxml_time(max(mark.duration, 1), rate), "value": mark.name,
                "note": marker_text(mark),
            }))
        spine = ET.Element("spine")
        for item in items:
            # DTD order inside a clip: note, conform-rate, anchored items, markers, metadata.
            item.element.extend(item.anchored)
            item.element.extend(item.markers)
            _add_metadata(item.element, CLIP_MD, item.metadata)
            spine.append(item.element)
        root = ET.Element("fcpxml", version=self.version)
        root.append(self.resources)
        project = ET.SubElement(ET.SubElement(ET.SubElement(root, "library"), "event", name="Montage AI"),
                                "project", name=edit.name)
        audio_rates = [s.audio_rate for s in edit.sources if s.has_audio]
        sequence = ET.SubElement(project, "sequence", {
            "format": seq_format, "duration": fcpxml_time(edit.duration, rate), "tcStart": seconds_str(tc_start, rate),
            "tcFormat": "DF" if edit.drop_frame else "NDF", "audioLayout": "stereo",
            "audioRate": _AUDIO_HZ.get(max(audio_rates, default=48000), "48k")})
        sequence.append(spine)
        _add_metadata(sequence, TIMELINE_MD, {**edit.metadata, **({"markers": markers_metadata(edit.markers)}
                                                                    if edit.markers else {})})
        xml_safe_tree(root)
        ET.indent(root, space="  ")
        body = ET.tostring(root, encoding="unicode")
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n{body}\n'

    def _offset(self, record: int, tc_start: Fraction) -> str:
        return seconds_str(tc_start + Fraction(record) / self.edit.rate, self.edit.rate)

    def _gap(self, record_in: int, record_out: int, tc_start: Fraction) -> _SpineItem:
        local = tc_start + Fraction(record_in) / self.edit.rate
        element = ET.Element("gap", name="Gap", offset=seconds_str(local, self.edit.rate),
                             start=seconds_str(local, self.edit.rate),
                             duration=fcpxml_time(record_out - record_in, self.edit.rate))
        return _SpineItem(element, record_in, record_out, local, {}, self.edit.rate)


def _add_metadata(element: ET.Element, key: str, meta: dict) -> None:
    """Our data as ``<metadata><md key value="{json}"/></metadata>`` (the element's last child)."""
    if meta:
        md = ET.SubElement(ET.SubElement(element, "metadata"), "md", key=key)
        md.set("value", json.dumps(meta, ensure_ascii=False, sort_keys=True))


class _SpineItem:
    """A spine element being written: its record range, its local time at its first frame
    (``start``) and the rate of its source, and what hangs under it. (A plain class: OTIO loads this module from its
    file without registering it in ``sys.modules``, where ``@dataclass`` cannot work.)"""

    __slots__ = ("element", "record_in", "record_out", "local", "metadata", "rate", "anchored", "markers")

    def __init__(self, element: ET.Element, record_in: int, record_out: int, local: Fraction, metadata: dict,
                 rate: Fraction) -> None:
        self.element, self.record_in, self.record_out = element, record_in, record_out
        self.local, self.metadata, self.rate = local, metadata, rate
        self.anchored: list[ET.Element] = []
        self.markers: list[ET.Element] = []


def _covering(items: list[_SpineItem], starts: list[int], record: int) -> _SpineItem:
    """The spine item under timeline frame ``record`` (the last one for frames past the end);
    ``starts`` are the items' record_in, ascending (the spine has no holes: gaps fill them)."""
    return items[max(bisect.bisect_right(starts, record) - 1, 0)]


def write_to_string(input_otio: otio.schema.Timeline, version: str = DEFAULT_VERSION) -> str:
    """FCPXML of ``input_otio`` (OTIO adapter entry point). ``version``: 1.9 (default), 1.10 or 1.11."""
    version = str(version)
    if version not in VERSIONS:
        raise InterchangeError(f"FCPXML version {version} is not one we write; choose one of {', '.join(VERSIONS)}")
    if version in REFUSED_BY:
        log.warning("FCPXML %s: refused by %s; %s imports everywhere", version, REFUSED_BY[version], DEFAULT_VERSION)
    return _Writer(edit_from_timeline(input_otio), version).write()


# ---------------------------------------------------------------------------- read
def _attr(element: ET.Element, name: str) -> str:
    value = element.get(name)
    if value is None:
        raise InterchangeError(f"<{element.tag}> has no {name} attribute")
    return value


def _md(element: ET.Element, key: str) -> dict:
    md = element.find(f"./metadata/md[@key='{key}']")
    return json_dict(md.get("value")) if md is not None else {}


def read_edit(text: str) -> Edit:
    """The :class:`~.edit.Edit` of an FCPXML document (its first project's sequence)."""
    root = parse_xml(text, "fcpxml")
    formats = {f.get("id"): f for f in root.iterfind("./resources/format")}
    sequence = root.find(".//project/sequence")
    if sequence is None:
        raise InterchangeError("no project with a sequence in this FCPXML")
    project = root.find(".//project")
    seq_format = formats.get(sequence.get("format"))
    if seq_format is None or not seq_format.get("frameDuration"):
        raise InterchangeError("the sequence's format has no frameDuration")
    rate = 1 / parse_time(seq_format.get("frameDuration"))
    tc_start = parse_time(sequence.get("tcStart"))
    start = _frames(tc_start, rate, "sequence tcStart")
    sources: dict[str, Source] = {}

    def source(asset_id: str) -> Source:
        if asset_id in sources:
            return sources[asset_id]
        asset = root.find(f"./resources/asset[@id='{asset_id}']")
        if asset is None:
            raise InterchangeError(f"asset-clip refers to {asset_id!r}, which is not among the resources")
        rep = asset.find("./media-rep")
        url = rep.get("src") if rep is not None else asset.get("src")
        if not url:
            raise InterchangeError(f"asset {asset.get('name')!r} has no media-rep src")
        has_video = asset.get("hasVideo") == "1"
        fmt = formats.get(asset.get("format")) if has_video else None
        src_rate = 1 / parse_time(fmt.get("frameDuration")) if fmt is not None and fmt.get("frameDuration") else rate
        src = sources[asset_id] = Source(
            path=media_path(url), rate=src_rate,
            start=_frames(parse_time(asset.get("start")), src_rate, f"asset {asset.get('name')!r} start"),
            duration=int(parse_time(asset.get("duration")) * src_rate),
            width=int(fmt.get("width", 0)) if fmt is not None else 0,
            height=int(fmt.get("height", 0)) if fmt is not None else 0,
            has_video=has_video,
            audio_channels=int(asset.get("audioChannels", 0)) if asset.get("hasAudio") == "1" else 0,
            audio_rate=int(asset.get("audioRate", 0)) if asset.get("hasAudio") == "1" else 0,
            audio_streams=int(asset.get("audioSources", 0)) if asset.get("hasAudio") == "1" else 0,
        )
        return src

    def event(element: ET.Element, record_in: int) -> Event:
        asset_id = _attr(element, "ref")
        src = source(asset_id)
        if element.get("tcFormat") == "DF" and not src.drop_frame:
            src = sources[asset_id] = dataclasses.replace(src, drop_frame=True)
        duration = _frames(parse_time(_attr(element, "duration")), rate, f"clip {element.get('name')!r} duration")
        source_in = _frames(parse_time(element.get("start")), src.rate, f"clip {element.get('name')!r} start")
        return Event(record_in, record_in + duration, src, source_in, element.get("name", src.name),
                     _md(element, CLIP_MD), element.get("enabled", "1") != "0")

    spine = sequence.find("./spine")
    if spine is None:
        raise InterchangeError("the sequence has no spine")
    video: list[Event] = []
    lanes: dict[int, list[Event]] = {}
    markers: list[Mark] = []
    lost: list[str] = []
    timeline_meta = _md(sequence, TIMELINE_MD)
    ours = timeline_meta.pop("markers", {}) if isinstance(timeline_meta.get("markers"), dict) else {}

    def media_event(element: ET.Element, record_in: int) -> Event | None:
        """An asset-clip, or a <clip> (Final Cut's container) by the first media inside it."""
        if element.tag == "asset-clip" or (element.tag in ("video", "audio") and element.get("ref")):
            return event(element, record_in)
        inner = next((c for c in element if c.tag in ("video", "asset-clip", "audio") and c.get("ref")
                      and not c.get("lane")), None)
        if inner is None:
            lost.append(f"<clip> {element.get('name', '')!r} at frame {record_in}: no media inside (left as a gap)")
            return None
        src = event(inner, 0).source
        # The clip's local time at its first frame, in the inner item's time: its source time.
        source_s = parse_time(inner.get("start")) + parse_time(element.get("start")) - parse_time(inner.get("offset"))
        duration = _frames(parse_time(_attr(element, "duration")), rate, f"clip {element.get('name')!r} duration")
        return Event(record_in, record_in + duration, src, _frames(source_s, src.rate, f"clip {element.get('name')!r}"),
                     element.get("name", src.name), _md(element, CLIP_MD), element.get("enabled", "1") != "0")

    for element in spine:
        tag = element.tag
        if tag == "transition":
            lost.append(f"transition {element.get('name', '')!r} at {element.get('offset')}: read as a cut")
            continue
        record_in = _frames(parse_time(element.get("offset")) - tc_start, rate, f"<{tag}> offset")
        local = parse_time(element.get("start"))
        if tag in ("asset-clip", "clip", "video"):
            item = media_event(element, record_in)
            if item is not None:
                video.append(item)
        elif tag != "gap":
            lost.append(f"<{tag}> {element.get('name', '')!r} at frame {record_in} ({element.get('duration')}): "
                        "not carried (left as a gap)")
        for child in element:
            if child.tag in ("asset-clip", "clip") and child.get("lane"):
                child_in = record_in + _frames(parse_time(child.get("offset")) - local, rate, "connected clip offset")
                item = media_event(child, child_in)
                if item is not None:
                    lanes.setdefault(int(child.get("lane")), []).append(item)
            elif child.tag in ("ref-clip", "sync-clip", "mc-clip", "title", "audition") and child.get("lane"):
                lost.append(f"connected <{child.tag}> {child.get('name', '')!r}: not carried")
            elif child.tag == "transition":
                lost.append(f"transition {child.get('name', '')!r}: read as a cut")
            elif child.tag == "marker":
                mark_in = record_in + _frames(parse_time(child.get("start")) - local, rate, "marker start")
                meta = dict(ours.get(marker_key(mark_in, child.get("value", "")))
                            or json_dict(child.get("note"), TAG))  # older files: JSON in the note
                color = meta.pop("color", None)
                duration = 0 if meta.pop("point", False) else _frames(parse_time(child.get("duration")), rate,
                                                                      "marker duration")
                markers.append(Mark(mark_in, duration, child.get("value", ""),
                                    color or otio.schema.MarkerColor.RED, meta))
    if lost:
        log.warning("FCPXML read with losses: %s", "; ".join(lost))
    video_tracks = [tuple(video)] + [tuple(sorted(lanes[k], key=lambda e: e.record_in)) for k in sorted(lanes) if k > 0]
    audio_tracks = [tuple(sorted(lanes[k], key=lambda e: e.record_in)) for k in sorted(lanes, reverse=True) if k < 0]
    fmt = seq_format
    name = project.get("name") if project is not None and project.get("name") else "Timeline"
    meta = timeline_meta
    if sequence.get("tcFormat") == "DF":
        meta["drop_frame"] = True
    return Edit(name, rate, start, int(fmt.get("width", 0)), int(fmt.get("height", 0)), tuple(video_tracks),
                tuple(audio_tracks), tuple(sorted(markers, key=lambda m: m.start)), meta)


def read_from_string(input_str: str) -> otio.schema.Timeline:
    """An OTIO timeline from FCPXML text (OTIO adapter entry point)."""
    return timeline_from_edit(read_edit(input_str))
