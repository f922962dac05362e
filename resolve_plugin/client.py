"""The one interface the rest of Montage AI uses to talk to Resolve.

:class:`ResolveClient` is a small set of operations in plain data: ids (strings) instead of
Resolve objects, dicts of strings as Resolve returns them, frozen dataclasses. Every route
into Resolve implements it: :class:`~montage_ai.resolve_plugin.direct.DirectClient` wraps
the ``resolve`` object of the scripting API (in Resolve's own Python, or next to it through
``DaVinciResolveScript``); later routes (an in-app bridge over a socket, a file the editor
imports) implement the same methods, so :mod:`.pool` and :mod:`.push` never change.

Conventions (from Resolve's API, see ``shared/reference/resolve_api.md``): frames are whole
numbers; timeline positions are absolute (``GetStartFrame()`` + offset) except marker
frames, which are offsets from the timeline start; source frames count from the clip's first
frame; a failed call returns ``None``/``False``/an empty list, never raises, unless the
route itself is gone (:class:`~montage_ai.resolve_plugin.errors.ResolveError`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, Sequence, runtime_checkable


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
    def clip_metadata(self, clip_id: str) -> dict[str, str]: ...
    def set_clip_metadata(self, clip_id: str, key: str, value: str) -> bool: ...
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
