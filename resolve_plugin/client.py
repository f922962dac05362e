"""The one interface the rest of Montage AI uses to talk to Resolve.

:class:`ResolveClient` is a small set of operations in plain data: ids (strings) instead of
Resolve objects, dicts of strings as Resolve returns them, frozen dataclasses. Every live route
into Resolve implements it through :class:`OpsClient`, which turns the plain-data answers
of the operations in :mod:`.bridge.resolve_ops` into these types:
:class:`~montage_ai.resolve_plugin.direct.DirectClient` runs them on the ``resolve`` object
of the scripting API (in Resolve's own Python, or next to it through ``DaVinciResolveScript``);
:class:`~montage_ai.resolve_plugin.bridge_client.BridgeClient` sends them to an in-app bridge
started inside Resolve (Python or Lua). :mod:`.pool` and :mod:`.push` never know which.

Conventions (from Resolve's API, see ``docs/resolve_api.md``): frames are whole
numbers; timeline positions are absolute (``GetStartFrame()`` + offset) except marker
frames, which are offsets from the timeline start; source frames count from the clip's first
frame; a failed call returns ``None``/``False``/an empty list, never raises, unless the
route itself is gone (:class:`~montage_ai.resolve_plugin.errors.ResolveError`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable


@dataclass(frozen=True)
class ProductInfo:
    """What Resolve says it is: ``("DaVinci Resolve Studio", "19.1.3.7")``."""

    name: str
    version: str


@dataclass(frozen=True)
class ClipData:
    """A media-pool item as Resolve describes it: its id, name and every clip property
    (``GetClipProperty()``), values as Resolve's strings."""

    id: str
    name: str
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BinData:
    """A media-pool folder (bin) with its clips and sub-bins, in Resolve's order."""

    id: str
    name: str
    clips: tuple[ClipData, ...] = ()
    bins: tuple["BinData", ...] = ()


@dataclass(frozen=True)
class ProjectData:
    """The current project's name and the settings we read (strings, as Resolve returns them)."""

    name: str
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClipInfo:
    """One ``AppendToTimeline`` clip-info dict.

    ``start_frame``/``end_frame`` are source frames from the clip's first frame; whether
    ``end_frame`` is included is the route's ``end_frame_inclusive``. ``record_frame`` is
    an absolute timeline frame. ``media_type`` 1 places video only, 2 audio only, 0 both.
    """

    clip_id: str
    start_frame: int
    end_frame: int
    record_frame: int
    track_index: int = 1
    media_type: int = 1


@dataclass(frozen=True)
class PlacedItem:
    """A timeline item read back: absolute start/end (end excluded), duration in timeline
    frames, source start/end frames, and the media-pool item it shows."""

    id: str
    name: str
    track_type: str
    track_index: int
    start: int
    end: int
    duration: int
    source_start: int | None
    source_end: int | None
    left_offset: int | None
    clip_id: str
    file_path: str


@dataclass(frozen=True)
class MarkerData:
    """A timeline marker: ``frame`` counts from the timeline start (0 = first frame)."""

    frame: int
    color: str
    name: str
    note: str
    duration: int
    custom_data: str


@runtime_checkable
class ResolveClient(Protocol):
    """The operations Montage AI needs from Resolve (see the module docstring).

    ``end_frame_inclusive`` is decided once per connection by reading a placed item back
    (``None`` until then).
    """

    route: str
    end_frame_inclusive: bool | None

    def product(self) -> ProductInfo: ...
    def project(self) -> ProjectData: ...
    def media_pool(self) -> BinData: ...
    def current_bin_id(self) -> str: ...
    def selected_clip_ids(self) -> list[str]: ...
    def import_media(self, paths: Sequence[str]) -> list[ClipData]: ...
    def link_proxy(self, clip_id: str, proxy_path: str) -> bool: ...
    def set_clip_metadata(self, clip_id: str, metadata: Mapping[str, str]) -> bool: ...
    def clip_metadata(self, clip_id: str) -> dict[str, str]: ...
    def clip_color(self, clip_id: str) -> str: ...
    def set_clip_color(self, clip_id: str, color: str) -> bool: ...
    def clip_markers(self, clip_id: str) -> list[MarkerData]: ...
    def add_clip_marker(self, clip_id: str, frame: int, color: str, name: str, note: str, duration: int,
                        custom_data: str) -> bool: ...
    def delete_clip_marker(self, clip_id: str, custom_data: str) -> bool: ...

    def timeline_names(self) -> list[str]: ...
    def create_timeline(self, name: str) -> str | None: ...
    def set_current_timeline(self, timeline_id: str) -> bool: ...
    def delete_timeline(self, timeline_id: str) -> bool: ...
    def timeline_name(self, timeline_id: str) -> str: ...
    def timeline_setting(self, timeline_id: str, key: str) -> str: ...
    def set_timeline_setting(self, timeline_id: str, key: str, value: str) -> bool: ...
    def timeline_start_frame(self, timeline_id: str) -> int: ...
    def set_timeline_start_timecode(self, timeline_id: str, timecode: str) -> bool: ...
    def append_clips(self, timeline_id: str, infos: Sequence[ClipInfo]) -> list[PlacedItem]: ...
    def track_count(self, timeline_id: str, track_type: str) -> int: ...
    def track_items(self, timeline_id: str, track_type: str, index: int) -> list[PlacedItem]: ...
    def add_marker(self, timeline_id: str, frame: int, color: str, name: str, note: str, duration: int,
                   custom_data: str) -> bool: ...
    def markers(self, timeline_id: str) -> list[MarkerData]: ...
    def import_timeline_file(self, path: str, name: str, bin_ids: Sequence[str]) -> str | None: ...


# ---------------------------------------------------------------------------- plain data
def _clip(d: Mapping[str, Any]) -> ClipData:
    props = d.get("properties")
    return ClipData(str(d["id"]), str(d.get("name", "")),
                    {str(k): str(v) for k, v in props.items()} if isinstance(props, Mapping) else {})


def _bin(d: Mapping[str, Any]) -> BinData:
    return BinData(str(d["id"]), str(d.get("name", "")), tuple(_clip(c) for c in d.get("clips") or ()),
                   tuple(_bin(b) for b in d.get("bins") or ()))


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _placed(d: Mapping[str, Any]) -> PlacedItem:
    return PlacedItem(str(d.get("id", "")), str(d.get("name", "")), str(d["track_type"]), int(d["track_index"]),
                      int(d["start"]), int(d["end"]), int(d["duration"]), _opt_int(d.get("source_start")),
                      _opt_int(d.get("source_end")), _opt_int(d.get("left_offset")), str(d.get("clip_id", "")),
                      str(d.get("file_path", "")))


def _marker(d: Mapping[str, Any]) -> MarkerData:
    return MarkerData(int(d["frame"]), str(d.get("color", "")), str(d.get("name", "")), str(d.get("note", "")),
                      int(d.get("duration") or 1), str(d.get("custom_data", "")))


class OpsClient:
    """:class:`ResolveClient` over a plain-data operation call.

    A route implements :meth:`_op` (``op`` from :data:`.bridge.resolve_ops.OPERATIONS`,
    keyword arguments of JSON types; the answer as JSON types, or
    :class:`~.errors.ResolveError`); this class turns answers into the dataclasses above.
    """

    route = "ops"

    def __init__(self) -> None:
        self.end_frame_inclusive: bool | None = None

    def _op(self, op: str, /, **args: Any) -> Any:
        raise NotImplementedError

    def product(self) -> ProductInfo:
        d = self._op("product")
        return ProductInfo(str(d["name"]), str(d["version"]))

    def project(self) -> ProjectData:
        d = self._op("project")
        settings = d.get("settings")
        return ProjectData(str(d.get("name", "")),
                           {str(k): str(v) for k, v in settings.items()} if isinstance(settings, Mapping) else {})

    def media_pool(self) -> BinData:
        return _bin(self._op("media_pool"))

    def current_bin_id(self) -> str:
        return str(self._op("current_bin_id") or "")

    def selected_clip_ids(self) -> list[str]:
        return [str(c) for c in self._op("selected_clip_ids") or ()]

    def import_media(self, paths: Sequence[str]) -> list[ClipData]:
        return [_clip(c) for c in self._op("import_media", paths=list(paths)) or ()]

    def link_proxy(self, clip_id: str, proxy_path: str) -> bool:
        return bool(self._op("link_proxy", clip_id=clip_id, proxy_path=proxy_path))

    def set_clip_metadata(self, clip_id: str, metadata: Mapping[str, str]) -> bool:
        return bool(self._op("set_clip_metadata", clip_id=clip_id, metadata=dict(metadata)))

    def clip_metadata(self, clip_id: str) -> dict[str, str]:
        got = self._op("clip_metadata", clip_id=clip_id)
        return {str(k): str(v) for k, v in got.items()} if isinstance(got, Mapping) else {}

    def clip_color(self, clip_id: str) -> str:
        return str(self._op("clip_color", clip_id=clip_id) or "")

    def set_clip_color(self, clip_id: str, color: str) -> bool:
        """Set the clip colour; ``""`` clears it."""
        return bool(self._op("set_clip_color", clip_id=clip_id, color=color))

    def clip_markers(self, clip_id: str) -> list[MarkerData]:
        return [_marker(m) for m in self._op("clip_markers", clip_id=clip_id) or ()]

    def add_clip_marker(self, clip_id: str, frame: int, color: str, name: str, note: str, duration: int,
                        custom_data: str) -> bool:
        return bool(self._op("add_clip_marker", clip_id=clip_id, frame=frame, color=color, name=name, note=note,
                             duration=duration, custom_data=custom_data))

    def delete_clip_marker(self, clip_id: str, custom_data: str) -> bool:
        return bool(self._op("delete_clip_marker", clip_id=clip_id, custom_data=custom_data))

    def timeline_names(self) -> list[str]:
        return [str(n) for n in self._op("timeline_names") or ()]

    def create_timeline(self, name: str) -> str | None:
        got = self._op("create_timeline", name=name)
        return str(got) if got else None

    def set_current_timeline(self, timeline_id: str) -> bool:
        return bool(self._op("set_current_timeline", timeline_id=timeline_id))

    def delete_timeline(self, timeline_id: str) -> bool:
        return bool(self._op("delete_timeline", timeline_id=timeline_id))

    def timeline_name(self, timeline_id: str) -> str:
        return str(self._op("timeline_name", timeline_id=timeline_id) or "")

    def timeline_setting(self, timeline_id: str, key: str) -> str:
        return str(self._op("timeline_setting", timeline_id=timeline_id, key=key) or "")

    def set_timeline_setting(self, timeline_id: str, key: str, value: str) -> bool:
        return bool(self._op("set_timeline_setting", timeline_id=timeline_id, key=key, value=value))

    def timeline_start_frame(self, timeline_id: str) -> int:
        return int(self._op("timeline_start_frame", timeline_id=timeline_id))

    def set_timeline_start_timecode(self, timeline_id: str, timecode: str) -> bool:
        return bool(self._op("set_timeline_start_timecode", timeline_id=timeline_id, timecode=timecode))

    def append_clips(self, timeline_id: str, infos: Sequence[ClipInfo]) -> list[PlacedItem]:
        placed = self._op("append_clips", timeline_id=timeline_id, infos=[asdict(i) for i in infos])
        return [_placed(p) for p in placed or ()]

    def track_count(self, timeline_id: str, track_type: str) -> int:
        return int(self._op("track_count", timeline_id=timeline_id, track_type=track_type) or 0)

    def track_items(self, timeline_id: str, track_type: str, index: int) -> list[PlacedItem]:
        return [_placed(p) for p in self._op("track_items", timeline_id=timeline_id, track_type=track_type,
                                             index=index) or ()]

    def add_marker(self, timeline_id: str, frame: int, color: str, name: str, note: str, duration: int,
                   custom_data: str) -> bool:
        return bool(self._op("add_marker", timeline_id=timeline_id, frame=frame, color=color, name=name, note=note,
                             duration=duration, custom_data=custom_data))

    def markers(self, timeline_id: str) -> list[MarkerData]:
        return [_marker(m) for m in self._op("markers", timeline_id=timeline_id) or ()]

    def import_timeline_file(self, path: str, name: str, bin_ids: Sequence[str]) -> str | None:
        got = self._op("import_timeline_file", path=path, name=name, bin_ids=list(bin_ids))
        return str(got) if got else None
