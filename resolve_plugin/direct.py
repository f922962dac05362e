"""The direct route: :class:`DirectClient` calls Resolve's scripting API on a ``resolve`` object.

The object comes from Resolve itself (a script started from Workspace > Scripts, or the
Console) or from ``DaVinciResolveScript.scriptapp("Resolve")`` in our own process (see
:mod:`.connect`). Every call is wrapped: Resolve answers failures with ``None``/``False``/
``[]`` rather than exceptions, and a call that raises (the connection went away, an older
version without the method) is logged and treated as a failure.

Verified only against the in-memory fake in ``tests/fake_resolve.py``, which follows
Resolve's documented API and the behaviours integrators report; nothing here has been run
against a real Resolve yet. The API is not thread-safe: use one client from one thread.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

from .client import BinData, ClipData, ClipInfo, MarkerData, PlacedItem, ProductInfo, ProjectData
from .errors import ResolveError

log = logging.getLogger(__name__)

#: Project settings read by :meth:`DirectClient.project`.
PROJECT_SETTINGS = ("timelineFrameRate", "timelineResolutionWidth", "timelineResolutionHeight",
                    "timelinePlaybackFrameRate", "timelineDropFrameTimecode")


def _call(obj: Any, method: str, *args: Any) -> Any:
    """``obj.method(*args)``; ``None`` when the method is missing or raises."""
    fn: Callable[..., Any] | None = getattr(obj, method, None) if obj is not None else None
    if fn is None:
        return None
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - the API's own failures must not escape as odd types
        log.warning("Resolve %s%r raised %s: %s", method, args, type(exc).__name__, exc)
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_list(value: Any) -> list:
    if not value:
        return []
    if isinstance(value, dict):  # some versions return {1: item, 2: item}
        return [value[k] for k in sorted(value)]
    return list(value)


def _markers(raw: Any) -> list[MarkerData]:
    """``GetMarkers()`` of a timeline or clip (``{frame: {color, duration, note, name, customData}}``)."""
    out = []
    for frame, m in sorted((raw or {}).items(), key=lambda kv: float(kv[0])):
        out.append(MarkerData(int(float(frame)), str(m.get("color", "")), str(m.get("name", "")),
                              str(m.get("note", "")), _int(m.get("duration")) or 1, str(m.get("customData", ""))))
    return out


class DirectClient:
    """:class:`~montage_ai.resolve_plugin.client.ResolveClient` over the ``resolve`` object."""

    route = "direct"

    def __init__(self, resolve: Any) -> None:
        self._resolve = resolve
        self._clips: dict[str, Any] = {}
        self._bins: dict[str, Any] = {}
        self._timelines: dict[str, Any] = {}
        self.end_frame_inclusive: bool | None = None

    # ------------------------------------------------------------------ objects
    def _project(self) -> Any:
        manager = _call(self._resolve, "GetProjectManager")
        if not manager:
            raise ResolveError("Resolve did not return its project manager (GetProjectManager); is it still running?")
        project = _call(manager, "GetCurrentProject")
        if not project:
            raise ResolveError("no project is open in Resolve: open one (the Project Manager has no Scripts menu)")
        return project

    def _pool(self) -> Any:
        pool = _call(self._project(), "GetMediaPool")
        if not pool:
            raise ResolveError("Resolve did not return the media pool (Project.GetMediaPool)")
        return pool

    @staticmethod
    def _clip_key(item: Any) -> str:
        uid = _call(item, "GetUniqueId")
        if uid:
            return str(uid)
        # Reported: some items come back without a unique id. Name and file identify them.
        return f"anon:{_call(item, 'GetName') or ''}|{_call(item, 'GetClipProperty', 'File Path') or ''}"

    def _remember_clip(self, item: Any) -> ClipData:
        key = self._clip_key(item)
        self._clips[key] = item
        props = _call(item, "GetClipProperty")
        props = {str(k): "" if v is None else str(v) for k, v in props.items()} if isinstance(props, dict) else {}
        return ClipData(key, str(_call(item, "GetName") or props.get("Clip Name", "")), props)

    def _remember_bin(self, folder: Any) -> str:
        # Folder.GetUniqueId is missing before Resolve 18: the name stands in (same-named bins collide).
        key = str(_call(folder, "GetUniqueId") or f"anon-bin:{_call(folder, 'GetName')}")
        self._bins[key] = folder
        return key

    def _timeline(self, timeline_id: str) -> Any:
        try:
            return self._timelines[timeline_id]
        except KeyError:
            raise ResolveError(f"unknown timeline id {timeline_id!r} (not created or found in this session)") from None

    def _clip(self, clip_id: str) -> Any:
        if clip_id not in self._clips:
            self.media_pool()
        try:
            return self._clips[clip_id]
        except KeyError:
            raise ResolveError(f"no media-pool item with id {clip_id!r}") from None

    def _timeline_key(self, timeline: Any) -> str:
        key = str(_call(timeline, "GetUniqueId") or f"anon-timeline:{_call(timeline, 'GetName')}")
        self._timelines[key] = timeline
        return key

    # ------------------------------------------------------------------ reading
    def product(self) -> ProductInfo:
        name = _call(self._resolve, "GetProductName") or "DaVinci Resolve"
        version = _call(self._resolve, "GetVersionString")
        if not version:
            parts = _as_list(_call(self._resolve, "GetVersion"))
            version = ".".join(str(p) for p in parts if str(p) != "") if parts else "unknown"
        return ProductInfo(str(name), str(version))

    def project(self) -> ProjectData:
        project = self._project()
        settings = {}
        for key in PROJECT_SETTINGS:
            value = _call(project, "GetSetting", key)
            if value not in (None, ""):
                settings[key] = str(value)
        return ProjectData(str(_call(project, "GetName") or ""), settings)

    def media_pool(self) -> BinData:
        root = _call(self._pool(), "GetRootFolder")
        if not root:
            raise ResolveError("Resolve did not return the media pool's root folder (MediaPool.GetRootFolder)")
        return self._read_bin(root)

    def _read_bin(self, folder: Any) -> BinData:
        key = self._remember_bin(folder)
        clips = tuple(self._remember_clip(item) for item in _as_list(_call(folder, "GetClipList")))
        bins = tuple(self._read_bin(sub) for sub in _as_list(_call(folder, "GetSubFolderList")))
        return BinData(key, str(_call(folder, "GetName") or ""), clips, bins)

    def current_bin_id(self) -> str:
        folder = _call(self._pool(), "GetCurrentFolder")
        return self._remember_bin(folder) if folder else ""

    def selected_clip_ids(self) -> list[str]:
        items = _as_list(_call(self._pool(), "GetSelectedClips"))
        return [self._remember_clip(item).id for item in items]

    def import_media(self, paths: Sequence[str]) -> list[ClipData]:
        items = _as_list(_call(self._pool(), "ImportMedia", list(paths)))
        return [self._remember_clip(item) for item in items]

    def link_proxy(self, clip_id: str, proxy_path: str) -> bool:
        return bool(_call(self._clip(clip_id), "LinkProxyMedia", proxy_path))

    # ------------------------------------------------------------------ clip logging
    def clip_metadata(self, clip_id: str) -> dict[str, str]:
        meta = _call(self._clip(clip_id), "GetMetadata")
        return {str(k): "" if v is None else str(v) for k, v in meta.items()} if isinstance(meta, dict) else {}

    def set_clip_metadata(self, clip_id: str, key: str, value: str) -> bool:
        return bool(_call(self._clip(clip_id), "SetMetadata", key, value))

    def clip_color(self, clip_id: str) -> str:
        return str(_call(self._clip(clip_id), "GetClipColor") or "")

    def set_clip_color(self, clip_id: str, color: str) -> bool:
        """Set the clip colour; ``""`` clears it (``ClearClipColor``)."""
        if not color:
            return bool(_call(self._clip(clip_id), "ClearClipColor"))
        return bool(_call(self._clip(clip_id), "SetClipColor", color))

    def clip_markers(self, clip_id: str) -> list[MarkerData]:
        return _markers(_call(self._clip(clip_id), "GetMarkers"))

    def add_clip_marker(self, clip_id: str, frame: int, color: str, name: str, note: str, duration: int,
                        custom_data: str) -> bool:
        return bool(_call(self._clip(clip_id), "AddMarker", frame, color, name, note, duration, custom_data))

    def delete_clip_marker(self, clip_id: str, custom_data: str) -> bool:
        return bool(_call(self._clip(clip_id), "DeleteMarkerByCustomData", custom_data))

    # ------------------------------------------------------------------ timelines
    def timeline_names(self) -> list[str]:
        project = self._project()
        count = _int(_call(project, "GetTimelineCount")) or 0
        names = []
        for index in range(1, count + 1):
            timeline = _call(project, "GetTimelineByIndex", index)
            if timeline:
                names.append(str(_call(timeline, "GetName") or ""))
        return names

    def create_timeline(self, name: str) -> str | None:
        timeline = _call(self._pool(), "CreateEmptyTimeline", name)
        return self._timeline_key(timeline) if timeline else None

    def set_current_timeline(self, timeline_id: str) -> bool:
        return bool(_call(self._project(), "SetCurrentTimeline", self._timeline(timeline_id)))

    def delete_timeline(self, timeline_id: str) -> bool:
        done = bool(_call(self._pool(), "DeleteTimelines", [self._timeline(timeline_id)]))
        if done:
            self._timelines.pop(timeline_id, None)
        return done

    def timeline_name(self, timeline_id: str) -> str:
        return str(_call(self._timeline(timeline_id), "GetName") or "")

    def timeline_setting(self, timeline_id: str, key: str) -> str:
        value = _call(self._timeline(timeline_id), "GetSetting", key)
        return "" if value is None else str(value)

    def set_timeline_setting(self, timeline_id: str, key: str, value: str) -> bool:
        return bool(_call(self._timeline(timeline_id), "SetSetting", key, value))

    def timeline_start_frame(self, timeline_id: str) -> int:
        start = _int(_call(self._timeline(timeline_id), "GetStartFrame"))
        if start is None:
            raise ResolveError(f"Resolve did not return the start frame of timeline {self.timeline_name(timeline_id)!r}")
        return start

    def set_timeline_start_timecode(self, timeline_id: str, timecode: str) -> bool:
        return bool(_call(self._timeline(timeline_id), "SetStartTimecode", timecode))

    def append_clips(self, timeline_id: str, infos: Sequence[ClipInfo]) -> list[PlacedItem]:
        timeline = self._timeline(timeline_id)
        project = self._project()
        current = _call(project, "GetCurrentTimeline")
        if not current or _call(current, "GetUniqueId") != _call(timeline, "GetUniqueId"):
            if not _call(project, "SetCurrentTimeline", timeline):
                raise ResolveError(f"Resolve refused to make {self.timeline_name(timeline_id)!r} the current timeline")
        dicts = []
        for info in infos:
            clip_info = {"mediaPoolItem": self._clip(info.clip_id), "startFrame": info.start_frame,
                         "endFrame": info.end_frame, "recordFrame": info.record_frame,
                         "trackIndex": info.track_index}
            if info.media_type:
                clip_info["mediaType"] = info.media_type
            dicts.append(clip_info)
        placed = _as_list(_call(self._pool(), "AppendToTimeline", dicts))
        return [self._placed(item) for item in placed if item]

    def _placed(self, item: Any) -> PlacedItem:
        kind, index = "video", 1
        where = _as_list(_call(item, "GetTrackTypeAndIndex"))
        if len(where) == 2:
            kind, index = str(where[0]), int(where[1])
        clip = _call(item, "GetMediaPoolItem")
        start = _int(_call(item, "GetStart")) or 0
        end = _int(_call(item, "GetEnd")) or 0
        duration = _int(_call(item, "GetDuration"))
        return PlacedItem(
            id=str(_call(item, "GetUniqueId") or ""), name=str(_call(item, "GetName") or ""),
            track_type=kind, track_index=index, start=start, end=end,
            duration=duration if duration is not None else end - start,
            source_start=_int(_call(item, "GetSourceStartFrame")), source_end=_int(_call(item, "GetSourceEndFrame")),
            left_offset=_int(_call(item, "GetLeftOffset")),
            clip_id=self._clip_key(clip) if clip else "",
            file_path=str(_call(clip, "GetClipProperty", "File Path") or "") if clip else "",
        )

    def track_count(self, timeline_id: str, track_type: str) -> int:
        return _int(_call(self._timeline(timeline_id), "GetTrackCount", track_type)) or 0

    def track_items(self, timeline_id: str, track_type: str, index: int) -> list[PlacedItem]:
        items = _as_list(_call(self._timeline(timeline_id), "GetItemListInTrack", track_type, index))
        return [self._placed(item) for item in items if item]

    def add_marker(self, timeline_id: str, frame: int, color: str, name: str, note: str, duration: int,
                   custom_data: str) -> bool:
        return bool(_call(self._timeline(timeline_id), "AddMarker", frame, color, name, note, duration, custom_data))

    def markers(self, timeline_id: str) -> list[MarkerData]:
        return _markers(_call(self._timeline(timeline_id), "GetMarkers"))

    def import_timeline_file(self, path: str, name: str, bin_ids: Sequence[str]) -> str | None:
        folders = [self._bins[b] for b in bin_ids if b in self._bins]
        options = {"timelineName": name, "importSourceClips": False, "sourceClipsFolders": folders}
        timeline = _call(self._pool(), "ImportTimelineFromFile", path, options)
        return self._timeline_key(timeline) if timeline else None
