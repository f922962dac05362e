"""An in-memory DaVinci Resolve for tests: the scripting API's object model, faithfully.

Follows ``docs/resolve_api.md``: the documented method names and signatures;
failures answered with ``None``/``False``/``[]``/``{}``, never raised; clip properties as
the strings Resolve returns (``"FPS": "23.976"``, ``"Frames": "240"``,
``"Resolution": "1920x1080"``, ``"Start TC"``, ``"File Path"``, ``"Type"``); ``endFrame``
of ``AppendToTimeline`` the last source frame included; timeline names unique
(``CreateEmptyTimeline``/``SetName``/``ImportTimelineFromFile`` refuse a taken name);
``CreateTimelineFromClips`` keeping one copy of a repeated item; marker frames as offsets
from the timeline start, one marker per frame.

Behaviours integrators report are switches on :class:`Behaviour`: ``endFrame`` excluded
instead of included, ``GetSourceStartFrame`` reading one frame late (the item itself is
right) or counting from the clip's start timecode, items placed one source frame late, a
locked track (appends return
``[]``), appends that fail from the n-th call on, items without a unique id, a timeline rate
that cannot be changed. Two items over the same frames: the second is silently not placed.
A clip at another rate than the timeline lasts ``floor(frames * timeline_rate / clip_rate)``
frames.

Build a project with :func:`make_resolve` from media files (probed with ffprobe), e.g.::

    resolve = make_resolve({"Day 1": [clip_a, clip_b], "Music": [song]}, rate="23.976")
    resolve.GetProjectManager().GetCurrentProject().GetMediaPool().GetRootFolder()

Later test modules (the panel, the in-app bridge) import this module; keep it free of
pytest and of Montage AI's Resolve code.
"""

from __future__ import annotations

import itertools
import math
import os
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping, Sequence

from montage_ai.core.base.timebase import frames_to_timecode, parse_rate, timecode_to_frames
from montage_ai.core.media.probe import probe

MARKER_COLORS = ("Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose", "Lavender", "Sky",
                 "Mint", "Lemon", "Sand", "Cocoa", "Cream")
#: Clip colours of the media pool (Resolve's list).
CLIP_COLORS = ("Orange", "Apricot", "Yellow", "Lime", "Olive", "Green", "Teal", "Navy", "Blue", "Purple", "Violet",
               "Pink", "Tan", "Beige", "Brown", "Chocolate")
#: Some of the metadata fields of a media-pool item (Clip Attributes > Metadata).
METADATA_FIELDS = ("Description", "Comments", "Keywords", "Shot", "Scene", "Take", "Angle", "Good Take", "People",
                   "Camera #", "Reel Number", "Roll Card #", "Shoot Day", "Location")
#: Resolve's timeline rates as it writes them.
TIMELINE_RATES = {"16": Fraction(16), "18": Fraction(18), "23.976": Fraction(24000, 1001), "24": Fraction(24),
                  "25": Fraction(25), "29.97": Fraction(30000, 1001), "30": Fraction(30),
                  "47.952": Fraction(48000, 1001), "48": Fraction(48), "50": Fraction(50),
                  "59.94": Fraction(60000, 1001), "60": Fraction(60), "72": Fraction(72),
                  "95.904": Fraction(96000, 1001), "96": Fraction(96), "100": Fraction(100),
                  "119.88": Fraction(120000, 1001), "120": Fraction(120)}
_RATE_TEXT = {v: k for k, v in TIMELINE_RATES.items()}
_ids = itertools.count(1)


def _uid(prefix: str) -> str:
    return f"{prefix}-{next(_ids):06d}"


def rate_text(rate: Fraction) -> str:
    """A rate as Resolve writes it: ``"23.976"``, ``"25"``; others with three decimals."""
    return _RATE_TEXT.get(rate) or format(float(rate), ".3f")


def _rate_of(text: str) -> Fraction:
    text = text.replace(" DF", "").replace(" NDF", "").strip()
    return TIMELINE_RATES.get(text) or parse_rate(text)


@dataclass
class Behaviour:
    """Reported behaviours of real Resolve versions, off by default."""

    end_frame_exclusive: bool = False
    source_start_off_by_one: bool = False
    source_frames_from_timecode: bool = False
    places_one_frame_late: bool = False
    locked_track: tuple[str, int] | None = None
    append_fails_from_call: int | None = None
    null_unique_ids: bool = False
    fixed_timeline_rate: bool = False
    scriptable: bool = True
    calls: list[tuple[str, tuple]] = field(default_factory=list)


class FakeMediaPoolItem:
    def __init__(self, name: str, properties: Mapping[str, str], behaviour: Behaviour) -> None:
        self._name = name
        self._props = dict(properties)
        self._props.setdefault("Clip Name", name)
        self._behaviour = behaviour
        self._uid = _uid("clip")
        self._media_id = _uid("media")
        self._markers: dict[int, dict] = {}
        self.metadata: dict[str, str] = {}
        self.proxy = ""

    # helpers for the fake itself
    @property
    def file_path(self) -> str:
        return self._props.get("File Path", "")

    @property
    def frames(self) -> int:
        text = self._props.get("Frames", "")
        return int(text) if text.isdigit() else 0

    @property
    def rate(self) -> Fraction | None:
        return _rate_of(self._props["FPS"]) if self._props.get("FPS") else None

    @property
    def kinds(self) -> tuple[str, ...]:
        kind = self._props.get("Type", "")
        return tuple(k for k, word in (("video", "Video"), ("audio", "Audio")) if word in kind)

    # the API
    def GetName(self) -> str:
        return self._name

    def GetMediaId(self) -> str:
        return self._media_id

    def GetUniqueId(self) -> str | None:
        return None if self._behaviour.null_unique_ids else self._uid

    def GetClipProperty(self, name: str | None = None):
        if name is None:
            return dict(self._props)
        return self._props.get(name, "")

    def SetClipProperty(self, name: str, value: str) -> bool:
        if name not in self._props:
            return False
        self._props[name] = str(value)
        return True

    def GetMetadata(self, name: str | None = None):
        if name is None:
            return {k: v for k, v in self.metadata.items() if v}
        return self.metadata.get(name, "")

    def SetMetadata(self, name, value=None) -> bool:
        """``SetMetadata(key, value)`` or ``SetMetadata({key: value})``; False for a key that is
        not one of Resolve's metadata fields or a value that is not a string."""
        pairs = dict(name) if isinstance(name, dict) else {name: value}
        if any(k not in METADATA_FIELDS or not isinstance(v, str) for k, v in pairs.items()):
            return False
        self.metadata.update({k: str(v) for k, v in pairs.items()})
        return True

    def GetClipColor(self) -> str:
        return self._props.get("Clip Color", "")

    def ClearClipColor(self) -> bool:
        self._props["Clip Color"] = ""
        return True

    def DeleteMarkerByCustomData(self, customData: str) -> bool:
        found = [f for f, m in self._markers.items() if m["customData"] == customData]
        for f in found:
            del self._markers[f]
        return bool(found)

    def LinkProxyMedia(self, path: str) -> bool:
        if not os.path.isabs(path) or not os.path.isfile(path) or not self.file_path:
            return False
        self.proxy = path
        self._props["Proxy Media Path"] = path
        return True

    def UnlinkProxyMedia(self) -> bool:
        if not self.proxy:
            return False
        self.proxy = ""
        self._props["Proxy Media Path"] = ""
        return True

    def SetClipColor(self, name: str) -> bool:
        if name not in CLIP_COLORS:
            return False
        self._props["Clip Color"] = name
        return True

    def AddMarker(self, frameId, color, name, note, duration, customData="") -> bool:
        if frameId in self._markers or color not in MARKER_COLORS or duration < 1:
            return False
        self._markers[int(frameId)] = {"color": color, "duration": duration, "note": note, "name": name,
                                       "customData": customData}
        return True

    def GetMarkers(self) -> dict:
        return {k: dict(v) for k, v in self._markers.items()}


def item_from_file(path: str, project_rate: Fraction, behaviour: Behaviour) -> FakeMediaPoolItem | None:
    """A media-pool item for a file as Resolve's import makes it; ``None`` if unreadable."""
    try:
        info = probe(path, require_video=False)
    except Exception:  # noqa: BLE001 - Resolve just does not import what it cannot read
        return None
    props = {"File Path": os.path.abspath(path), "File Name": os.path.basename(path)}
    if info.video is not None:
        rate, frames = info.video.rate, info.video.frame_count
        props.update({"Type": "Video + Audio" if info.audio else "Video", "Resolution":
                      f"{info.video.width}x{info.video.height}", "Video Codec": info.video.codec})
        tc = info.start_timecode or "00:00:00:00"
    else:
        rate = project_rate
        frames = math.floor(Fraction(info.duration_s).limit_denominator(10**6) * rate)
        props.update({"Type": "Audio", "Resolution": ""})
        tc = "00:00:00:00"
    props.update({"FPS": rate_text(rate), "Frames": str(frames), "Start TC": tc,
                  "Duration": frames_to_timecode(frames, rate),
                  "Audio Ch": str(info.audio[0].channels) if info.audio else "0"})
    return FakeMediaPoolItem(os.path.basename(path), props, behaviour)


def item_without_file(name: str, kind: str, behaviour: Behaviour) -> FakeMediaPoolItem:
    """A timeline, compound clip, generator or title in the pool: no ``File Path``."""
    return FakeMediaPoolItem(name, {"Type": kind, "File Path": "", "FPS": "24", "Frames": "48",
                                    "Resolution": "1920x1080"}, behaviour)


class FakeFolder:
    def __init__(self, name: str) -> None:
        self._name = name
        self._uid = _uid("bin")
        self.clips: list[FakeMediaPoolItem] = []
        self.folders: list[FakeFolder] = []

    def GetName(self) -> str:
        return self._name

    def GetClipList(self) -> list:
        return list(self.clips)

    def GetSubFolderList(self) -> list:
        return list(self.folders)

    def GetUniqueId(self) -> str:
        return self._uid

    def walk(self) -> Iterable["FakeFolder"]:
        yield self
        for sub in self.folders:
            yield from sub.walk()


class FakeTimelineItem:
    def __init__(self, clip: FakeMediaPoolItem | None, track: tuple[str, int], start: int, duration: int,
                 source_start: int, source_end: int, behaviour: Behaviour) -> None:
        self.clip, self.track, self.start, self.duration = clip, track, start, duration
        self.source_start, self.source_end = source_start, source_end
        self._behaviour = behaviour
        self._uid = _uid("item")

    def GetName(self) -> str:
        return self.clip.GetName() if self.clip else "Offline"

    def GetStart(self, subframe: bool = False) -> int:
        return self.start

    def GetEnd(self, subframe: bool = False) -> int:
        return self.start + self.duration

    def GetDuration(self, subframe: bool = False) -> int:
        return self.duration

    def GetSourceStartFrame(self) -> int:
        frame = self.source_start + (1 if self._behaviour.source_start_off_by_one else 0)
        if self._behaviour.source_frames_from_timecode and self.clip is not None:
            tc, rate = self.clip.GetClipProperty("Start TC"), self.clip.rate
            frame += timecode_to_frames(tc, rate) if tc and rate else 0
        return frame

    def GetSourceEndFrame(self) -> int:
        return self.source_end

    def GetLeftOffset(self, subframe: bool = False) -> int:
        return self.source_start

    def GetRightOffset(self, subframe: bool = False) -> int:
        return max(0, (self.clip.frames if self.clip else 0) - self.source_end)

    def GetMediaPoolItem(self) -> FakeMediaPoolItem | None:
        return self.clip

    def GetTrackTypeAndIndex(self) -> list:
        return [self.track[0], self.track[1]]

    def GetUniqueId(self) -> str | None:
        return None if self._behaviour.null_unique_ids else self._uid


class FakeTimeline:
    def __init__(self, project: "FakeProject", name: str) -> None:
        self._project = project
        self._name = name
        self._uid = _uid("timeline")
        self._settings = {k: v for k, v in project.settings.items()}
        self._settings["useCustomSettings"] = "0"
        self._start_tc = "01:00:00:00"
        self.tracks: dict[str, list[list[FakeTimelineItem]]] = {"video": [[]], "audio": [[]], "subtitle": []}
        self.markers: dict[int, dict] = {}
        self.locked: set[tuple[str, int]] = set()

    @property
    def rate(self) -> Fraction:
        return _rate_of(self._settings["timelineFrameRate"])

    def items(self) -> list[FakeTimelineItem]:
        return [it for tracks in self.tracks.values() for track in tracks for it in track]

    def track_end(self, kind: str, index: int) -> int:
        track = self.tracks[kind][index - 1]
        return max((it.start + it.duration for it in track), default=self.GetStartFrame())

    def GetName(self) -> str:
        return self._name

    def SetName(self, name: str) -> bool:
        if not name or any(t is not self and t.GetName() == name for t in self._project.timelines):
            return False
        self._name = name
        return True

    def GetUniqueId(self) -> str:
        return self._uid

    def GetStartFrame(self) -> int:
        return timecode_to_frames(self._start_tc, self.rate)

    def GetEndFrame(self) -> int:
        return max((it.start + it.duration for it in self.items()), default=self.GetStartFrame())

    def GetStartTimecode(self) -> str:
        return self._start_tc

    def SetStartTimecode(self, timecode: str) -> bool:
        try:
            timecode_to_frames(timecode, self.rate)
        except ValueError:
            return False
        if self.items():
            return False
        self._start_tc = timecode
        return True

    def GetSetting(self, name: str | None = None):
        if name is None:
            return dict(self._settings)
        return self._settings.get(name, "")

    def SetSetting(self, name: str, value: str) -> bool:
        value = str(value)
        if name == "useCustomSettings":
            if value not in ("0", "1"):
                return False
            self._settings[name] = value
            return True
        if name not in self._settings or self._settings.get("useCustomSettings") != "1":
            return False
        if name == "timelineFrameRate":
            if self._project.behaviour.fixed_timeline_rate or self.items():
                return False
            if value.replace(" DF", "") not in TIMELINE_RATES:
                return False
        if name in ("timelineResolutionWidth", "timelineResolutionHeight") and not value.isdigit():
            return False
        self._settings[name] = value
        return True

    def GetTrackCount(self, track_type: str) -> int:
        return len(self.tracks.get(track_type, []))

    def AddTrack(self, track_type: str, sub_type: Any = None) -> bool:
        if track_type not in self.tracks:
            return False
        self.tracks[track_type].append([])
        return True

    def GetItemListInTrack(self, track_type: str, index: int):
        tracks = self.tracks.get(track_type)
        if not tracks or not 1 <= index <= len(tracks):
            return None
        return sorted(tracks[index - 1], key=lambda it: it.start)

    def AddMarker(self, frameId, color, name, note, duration, customData="") -> bool:
        frame = int(frameId)
        length = self.GetEndFrame() - self.GetStartFrame()
        if frame in self.markers or color not in MARKER_COLORS or int(duration) < 1 or frame < 0:
            return False
        if length and frame >= length:
            return False
        self.markers[frame] = {"color": color, "duration": int(duration), "note": note, "name": name,
                               "customData": customData}
        return True

    def GetMarkers(self) -> dict:
        return {k: dict(v) for k, v in sorted(self.markers.items())}

    def DeleteMarkerByCustomData(self, customData: str) -> bool:
        hits = [k for k, v in self.markers.items() if v["customData"] == customData]
        for k in hits:
            del self.markers[k]
        return bool(hits)

    # placing (used by MediaPool)
    def place(self, clip: FakeMediaPoolItem | None, kind: str, index: int, record: int, duration: int,
              source_start: int, source_end: int) -> FakeTimelineItem | None:
        tracks = self.tracks[kind]
        if not 1 <= index <= len(tracks) or record < self.GetStartFrame() or duration <= 0:
            return None
        track = tracks[index - 1]
        if any(record < it.start + it.duration and it.start < record + duration for it in track):
            return None  # two items over the same frames: only the first lands (reported)
        item = FakeTimelineItem(clip, (kind, index), record, duration, source_start, source_end,
                                self._project.behaviour)
        track.append(item)
        return item


class FakeMediaPool:
    def __init__(self, project: "FakeProject") -> None:
        self._project = project
        self._uid = _uid("pool")
        self.root = FakeFolder("Master")
        self.current = self.root
        self.selected: list[FakeMediaPoolItem] = []
        self.append_calls = 0

    @property
    def behaviour(self) -> Behaviour:
        return self._project.behaviour

    def all_clips(self, folders: Iterable[FakeFolder] | None = None) -> list[FakeMediaPoolItem]:
        roots = list(folders) if folders else [self.root]
        return [c for root in roots for f in root.walk() for c in f.clips]

    def GetUniqueId(self) -> str:
        return self._uid

    def GetRootFolder(self) -> FakeFolder:
        return self.root

    def GetCurrentFolder(self) -> FakeFolder:
        return self.current

    def SetCurrentFolder(self, folder: FakeFolder) -> bool:
        if not isinstance(folder, FakeFolder) or folder not in list(self.root.walk()):
            return False
        self.current = folder
        return True

    def AddSubFolder(self, parent: FakeFolder, name: str) -> FakeFolder | None:
        if not isinstance(parent, FakeFolder) or not name:
            return None
        folder = FakeFolder(name)
        parent.folders.append(folder)
        return folder

    def GetSelectedClips(self) -> list:
        return list(self.selected)

    def ImportMedia(self, paths: Sequence[str]) -> list:
        self.behaviour.calls.append(("ImportMedia", (tuple(paths),)))
        made = []
        for path in paths:
            item = item_from_file(path, self._project.rate, self.behaviour) if os.path.isfile(path) else None
            if item is not None:
                self.current.clips.append(item)
                made.append(item)
        return made

    def CreateEmptyTimeline(self, name: str) -> FakeTimeline | None:
        if not name or any(t.GetName() == name for t in self._project.timelines):
            return None
        timeline = FakeTimeline(self._project, name)
        self._project.timelines.append(timeline)
        self._project.current_timeline = timeline
        return timeline

    def DeleteTimelines(self, timelines: Sequence[FakeTimeline]) -> bool:
        if not timelines or any(t not in self._project.timelines for t in timelines):
            return False
        for t in timelines:
            self._project.timelines.remove(t)
            if self._project.current_timeline is t:
                self._project.current_timeline = self._project.timelines[-1] if self._project.timelines else None
        self._project.deleted.extend(t.GetName() for t in timelines)
        return True

    def AppendToTimeline(self, clips: Sequence[Any]) -> list:
        timeline = self._project.current_timeline
        self.append_calls += 1
        self.behaviour.calls.append(("AppendToTimeline", (len(clips or ()),)))
        if timeline is None or not clips:
            return []
        limit = self.behaviour.append_fails_from_call
        if limit is not None and self.append_calls >= limit:
            return []
        made = []
        for entry in clips:
            info = {"mediaPoolItem": entry} if isinstance(entry, FakeMediaPoolItem) else entry
            if not isinstance(info, dict) or not isinstance(info.get("mediaPoolItem"), FakeMediaPoolItem):
                continue
            clip = info["mediaPoolItem"]
            kinds = clip.kinds
            media_type = int(info.get("mediaType", 0) or 0)
            if media_type == 1:
                kinds = tuple(k for k in kinds if k == "video")
            elif media_type == 2:
                kinds = tuple(k for k in kinds if k == "audio")
            if not clip.file_path or not kinds or clip.rate is None:
                continue
            exclusive = self.behaviour.end_frame_exclusive
            start = int(info.get("startFrame", 0))
            end = int(info.get("endFrame", clip.frames if exclusive else clip.frames - 1))
            count = end - start if exclusive else end - start + 1
            if self.behaviour.places_one_frame_late:
                start += 1
            if start < 0 or count <= 0 or start + count > clip.frames:
                continue
            duration = math.floor(Fraction(count) * timeline.rate / clip.rate)
            index = int(info.get("trackIndex", 1))
            for kind in kinds:
                if self.behaviour.locked_track == (kind, index) or (kind, index) in timeline.locked:
                    return []  # a locked track: nothing placed (reported)
            record = int(info["recordFrame"]) if "recordFrame" in info else timeline.track_end(kinds[0], index)
            for kind in kinds:
                item = timeline.place(clip, kind, index, record, duration, start, start + count)
                if item is not None:
                    made.append(item)
        return made

    def CreateTimelineFromClips(self, name: str, clips: Sequence[Any]) -> FakeTimeline | None:
        timeline = self.CreateEmptyTimeline(name)
        if timeline is None:
            return None
        seen: list[FakeMediaPoolItem] = []
        unique = []
        for entry in clips or ():
            clip = entry.get("mediaPoolItem") if isinstance(entry, dict) else entry
            if clip in seen:
                continue  # the same item repeated: one copy kept (reported)
            seen.append(clip)
            unique.append(entry)
        self.AppendToTimeline(unique)
        return timeline

    def ImportTimelineFromFile(self, path: str, options: Mapping[str, Any] | None = None) -> FakeTimeline | None:
        """FCP7 XML (xmeml) only; other formats return None here."""
        options = dict(options or {})
        self.behaviour.calls.append(("ImportTimelineFromFile", (path, tuple(sorted(options)))))
        if not os.path.isfile(path) or not path.lower().endswith(".xml"):
            return None
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            return None
        sequence = root if root.tag == "sequence" else root.find(".//sequence")
        if root.tag != "xmeml" or sequence is None:
            return None
        name = sequence.findtext("name") or options.get("timelineName") or os.path.splitext(os.path.basename(path))[0]
        if any(t.GetName() == name for t in self._project.timelines):
            return None
        timebase = int(sequence.findtext("rate/timebase") or 0)
        if not timebase:
            return None
        ntsc = (sequence.findtext("rate/ntsc") or "").upper() == "TRUE"
        rate = Fraction(timebase * 1000, 1001) if ntsc else Fraction(timebase)
        if rate not in _RATE_TEXT:
            return None
        files: dict[str, str] = {}
        for f in root.iter("file"):
            url = f.findtext("pathurl")
            if f.get("id") and url:
                parts = urllib.parse.urlsplit(url)
                files[f.get("id")] = urllib.request.url2pathname(parts.path) if parts.scheme == "file" else url
        folders = options.get("sourceClipsFolders") or [self.root]
        if options.get("importSourceClips", True):
            known = {c.file_path for c in self.all_clips()}
            self.ImportMedia([p for p in dict.fromkeys(files.values()) if p not in known])
            folders = [self.root]
        pool = {c.file_path: c for c in self.all_clips(folders)}
        timeline = FakeTimeline(self._project, name)
        timeline._settings.update({"useCustomSettings": "1", "timelineFrameRate": _RATE_TEXT[rate]})
        for kind in ("video", "audio"):
            for index, track in enumerate(sequence.findall(f"media/{kind}/track"), start=1):
                while len(timeline.tracks[kind]) < index:
                    timeline.tracks[kind].append([])
                for item in track.findall("clipitem"):
                    start, end = int(item.findtext("start", "-1")), int(item.findtext("end", "-1"))
                    src_in, src_out = int(item.findtext("in", "0")), int(item.findtext("out", "0"))
                    if start < 0 or end <= start:
                        continue
                    file_el = item.find("file")
                    clip = pool.get(files.get(file_el.get("id"), "")) if file_el is not None else None
                    timeline.place(clip, kind, index, timeline.GetStartFrame() + start, end - start, src_in, src_out)
        self._project.timelines.append(timeline)
        self._project.current_timeline = timeline
        return timeline


class FakeProject:
    def __init__(self, name: str, rate: str, width: int, height: int, behaviour: Behaviour) -> None:
        self._name = name
        self._uid = _uid("project")
        self.behaviour = behaviour
        self.settings = {"timelineFrameRate": rate, "timelineResolutionWidth": str(width),
                         "timelineResolutionHeight": str(height), "timelinePlaybackFrameRate": rate,
                         "timelineDropFrameTimecode": "1" if rate.endswith(" DF") else "0"}
        self.timelines: list[FakeTimeline] = []
        self.current_timeline: FakeTimeline | None = None
        self.deleted: list[str] = []
        self.pool = FakeMediaPool(self)

    @property
    def rate(self) -> Fraction:
        return _rate_of(self.settings["timelineFrameRate"])

    def GetName(self) -> str:
        return self._name

    def GetUniqueId(self) -> str:
        return self._uid

    def GetMediaPool(self) -> FakeMediaPool:
        return self.pool

    def GetCurrentTimeline(self) -> FakeTimeline | None:
        return self.current_timeline

    def SetCurrentTimeline(self, timeline: FakeTimeline) -> bool:
        if timeline not in self.timelines:
            return False
        self.current_timeline = timeline
        return True

    def GetTimelineCount(self) -> int:
        return len(self.timelines)

    def GetTimelineByIndex(self, index: int) -> FakeTimeline | None:
        return self.timelines[index - 1] if 1 <= index <= len(self.timelines) else None

    def GetSetting(self, name: str | None = None):
        return dict(self.settings) if name is None else self.settings.get(name, "")

    def SetSetting(self, name: str, value: str) -> bool:
        if name not in self.settings:
            return False
        self.settings[name] = str(value)
        return True

    def timeline(self, name: str) -> FakeTimeline | None:
        return next((t for t in self.timelines if t.GetName() == name), None)


class FakeProjectManager:
    def __init__(self, project: FakeProject | None) -> None:
        self.project = project

    def GetCurrentProject(self) -> FakeProject | None:
        return self.project


class FakeResolve:
    """The ``resolve`` object: Studio 19.1 unless told otherwise."""

    EXPORT_AAF, EXPORT_DRT, EXPORT_EDL, EXPORT_FCP_7_XML = "AAF", "DRT", "EDL", "FCP_7_XML"
    EXPORT_FCPXML_1_8, EXPORT_FCPXML_1_9, EXPORT_FCPXML_1_10, EXPORT_OTIO = "FCPXML_1_8", "FCPXML_1_9", "FCPXML_1_10", "OTIO"

    def __init__(self, project: FakeProject | None, *, product: str = "DaVinci Resolve Studio",
                 version: tuple = (19, 1, 3, 7, "")) -> None:
        self.project = project
        self.behaviour = project.behaviour if project else Behaviour()
        self._manager = FakeProjectManager(project)
        self._product = product
        self._version = list(version)

    def GetProjectManager(self) -> FakeProjectManager:
        return self._manager

    def GetProductName(self) -> str:
        return self._product

    def GetVersion(self) -> list:
        return list(self._version)

    def GetVersionString(self) -> str:
        return ".".join(str(v) for v in self._version if v != "")


def make_resolve(bins: Mapping[str, Sequence[Any]] | None = None, *, rate: str = "24", width: int = 1920,
                 height: int = 1080, project: str = "Fake project", behaviour: Behaviour | None = None,
                 product: str = "DaVinci Resolve Studio") -> FakeResolve:
    """A Resolve with one open project whose media pool holds ``bins``.

    ``bins`` maps a bin path under Master (``"Day 1"``, ``"Day 1/Cam A"``, ``""`` for Master
    itself) to its clips: file paths (probed like an import) or ``(name, type)`` pairs for
    items without a file (``("Timeline 1", "Timeline")``, ``("Comp", "Compound")``).
    """
    behaviour = behaviour or Behaviour()
    proj = FakeProject(project, rate, width, height, behaviour)
    pool = proj.pool
    for path, clips in (bins or {}).items():
        folder = pool.root
        for part in [p for p in path.split("/") if p]:
            found = next((f for f in folder.folders if f.GetName() == part), None)
            folder = found or pool.AddSubFolder(folder, part)
        for clip in clips:
            if isinstance(clip, tuple):
                folder.clips.append(item_without_file(clip[0], clip[1], behaviour))
            else:
                item = item_from_file(os.fspath(clip), proj.rate, behaviour)
                if item is None:
                    raise ValueError(f"{clip}: not a media file")
                folder.clips.append(item)
    return FakeResolve(proj, product=product)


def find_clip(resolve: FakeResolve, file_name: str) -> FakeMediaPoolItem:
    """The pool item of a file name (tests)."""
    for clip in resolve.project.pool.all_clips():
        if os.path.basename(clip.file_path) == file_name or clip.GetName() == file_name:
            return clip
    raise KeyError(file_name)


def scriptapp_for(resolve: FakeResolve | None) -> Callable[..., FakeResolve | None]:
    """A ``scriptapp`` as ``DaVinciResolveScript`` has: ``None`` when not scriptable."""
    def scriptapp(app: str, *host: str):
        if app != "Resolve" or resolve is None or not resolve.behaviour.scriptable:
            return None
        return resolve
    return scriptapp
