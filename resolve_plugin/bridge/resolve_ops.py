"""Every call Montage AI makes on Resolve's ``resolve`` object, answered in plain data.

This module is the one place where Resolve's Python API is called. Two routes use it:

- :class:`~montage_ai.resolve_plugin.direct.DirectClient` (our process holds the ``resolve``
  object: injected by Resolve, or from ``DaVinciResolveScript.scriptapp``);
- the in-app Python bridge ``montage_bridge.py``, which Resolve runs with *its own* Python
  (any 3.6+, standard library only) and which serves these operations to our process.

So the file is standard-library only and written in Python 3.6 syntax (no ``from __future__
import annotations``, no dataclasses, no walrus); results are JSON-ready dicts, lists,
strings and integers. Failures of the API (``None``/``False``/``[]``, or a call that
raises) are logged and answered as such; what cannot be answered at all (no project open,
an unknown id) raises :class:`OpsError`.

Verified only against the in-memory fake in ``tests/fake_resolve.py`` (directly, and
through the bridge subprocesses); nothing here has been run against a real Resolve yet.
The API is not thread-safe: one :class:`ResolveOps` is used from one thread.
"""

import json
import logging
import os
import stat

log = logging.getLogger("montage_ai.resolve_plugin.ops")

#: Project settings read by :meth:`ResolveOps.project`.
PROJECT_SETTINGS = ("timelineFrameRate", "timelineResolutionWidth", "timelineResolutionHeight",
                    "timelinePlaybackFrameRate", "timelineDropFrameTimecode")
#: Files ``ImportTimelineFromFile`` reads (documented formats).
TIMELINE_FILE_SUFFIXES = (".xml", ".fcpxml", ".otio", ".edl", ".aaf", ".drt", ".adl")
#: What ``import_media`` reads: video, audio and still files (``link_proxy``: video only).
VIDEO_FILE_SUFFIXES = tuple(".mov .mp4 .m4v .mxf .mkv .avi .mts .m2ts .ts .webm .mpg .mpeg .dv .wmv .3gp .braw "
                            ".r3d .crm .ari .cine".split())
MEDIA_FILE_SUFFIXES = VIDEO_FILE_SUFFIXES + tuple(
    ".wav .aif .aiff .mp3 .m4a .aac .flac .ogg .opus .bwf .png .jpg .jpeg .tif .tiff .exr .dpx .psd".split())
MARKER_COLORS = ("Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose", "Lavender", "Sky",
                 "Mint", "Lemon", "Sand", "Cocoa", "Cream")
TRACK_TYPES = ("video", "audio", "subtitle")


class OpsError(Exception):
    """The operation cannot be answered (no project, an unknown id, bad arguments)."""

    def __init__(self, message, code="resolve"):
        Exception.__init__(self, message)
        self.code = code


def _call(obj, method, *args):
    """``obj.method(*args)``; ``None`` when the method is missing or raises."""
    fn = getattr(obj, method, None) if obj is not None else None
    if fn is None:
        return None
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - the API's own failures must not escape as odd types
        log.warning("Resolve %s%r raised %s: %s", method, args, type(exc).__name__, exc)
        return None


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_list(value):
    if not value:
        return []
    if isinstance(value, dict):  # some versions return {1: item, 2: item}
        return [value[k] for k in sorted(value)]
    return list(value)


# ---------------------------------------------------------------------------- arguments
def _text(value, what):
    if not isinstance(value, str):
        raise OpsError("%s must be a string" % what, "bad-args")
    return value


def _whole(value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise OpsError("%s must be a whole number" % what, "bad-args")
    return value


#: The environment variable that restricts bridge paths to folders (``os.pathsep`` between them).
FOLDERS_ENV = "MONTAGE_AI_BRIDGE_FOLDERS"
#: The file beside the bridge file that does the same: ``{"folders": ["/Volumes/Job 42", ...]}``.
FOLDERS_FILE = "bridge-folders.json"
#: None: any folder; else the real paths of the folders path arguments must lie in.
_allowed_folders = None


def folder_setting(bridge_file):
    """The folders a bridge may read files in (opt-in): ``$MONTAGE_AI_BRIDGE_FOLDERS`` when
    set, else the ``folders`` of :data:`FOLDERS_FILE` beside ``bridge_file`` (written by
    ``montage-ai install-resolve --bridge-folder``); None when neither says (any folder)."""
    env = os.environ.get(FOLDERS_ENV, "")
    if env.strip():
        return [f for f in env.split(os.pathsep) if f.strip()]
    path = os.path.join(os.path.dirname(os.path.abspath(bridge_file)), FOLDERS_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("%s cannot be read (%s): the bridge reads no file at all", path, exc)
        return []
    folders = data.get("folders") if isinstance(data, dict) else None
    if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
        log.warning("%s has no list of folders: the bridge reads no file at all", path)
        return []
    return folders


def restrict_to_folders(folders):
    """Path arguments must lie in ``folders`` (their real paths, through every symlink) from
    now on; ``None`` lifts the restriction. A folder that does not exist is left out (logged);
    an empty list refuses every path. The real folders are returned."""
    global _allowed_folders
    if folders is None:
        _allowed_folders = None
        return None
    real = []
    for folder in folders:
        if not os.path.isabs(folder) or not os.path.isdir(folder):
            log.warning("bridge folder %r is not an existing absolute folder: left out", folder)
            continue
        real.append(os.path.realpath(folder))
    _allowed_folders = real
    return list(real)


def _inside(real, folders):
    for folder in folders:
        if real == folder or real.startswith(folder.rstrip(os.sep) + os.sep):
            return True
    return False


def _file(value, what, suffixes):
    """An absolute path to a regular file the operation reads: no NUL byte; resolved through
    symlinks and ``..``, the file it names is a regular file (not a FIFO, device, socket or
    folder; checked with ``stat``, never opened), both the name given and the file it
    resolves to end in one of ``suffixes``, and, when the bridge is restricted to folders
    (:func:`restrict_to_folders`), the file it resolves to lies in one of them. The same
    rules as ``a_file`` in the Lua bridge."""
    path = _text(value, what)
    if "\0" in path:
        raise OpsError("%s %r holds a NUL byte" % (what, path), "bad-args")
    if not os.path.isabs(path):
        raise OpsError("%s %r is not an absolute path" % (what, path), "bad-args")
    real = os.path.realpath(path)
    try:
        mode = os.stat(real).st_mode
    except (OSError, ValueError):
        raise OpsError("%s %r is not an existing file" % (what, path), "bad-args")
    if not stat.S_ISREG(mode):
        raise OpsError("%s %r is not a regular file" % (what, path), "bad-args")
    for name in (path, real):
        if not name.lower().endswith(suffixes):
            raise OpsError("%s %r is not a %s (%s)" % (what, name, what, " ".join(suffixes)), "bad-args")
    if _allowed_folders is not None and not _inside(real, _allowed_folders):
        raise OpsError("%s %r is outside the folders this bridge may read (%s)"
                       % (what, path, os.pathsep.join(_allowed_folders) or "none"), "bad-args")
    return path


def _texts(value, what):
    if not isinstance(value, list):
        raise OpsError("%s must be a list" % what, "bad-args")
    return [_text(v, what) for v in value]


def _track_type(value):
    if value not in TRACK_TYPES:
        raise OpsError("track type must be one of %s" % ", ".join(TRACK_TYPES), "bad-args")
    return value


def _clip_infos(value):
    if not isinstance(value, list) or not value:
        raise OpsError("infos must be a non-empty list", "bad-args")
    out = []
    for info in value:
        if not isinstance(info, dict):
            raise OpsError("each clip info must be an object", "bad-args")
        out.append({"clip_id": _text(info.get("clip_id"), "clip_id"),
                    "start_frame": _whole(info.get("start_frame"), "start_frame"),
                    "end_frame": _whole(info.get("end_frame"), "end_frame"),
                    "record_frame": _whole(info.get("record_frame"), "record_frame"),
                    "track_index": _whole(info.get("track_index", 1), "track_index"),
                    "media_type": _whole(info.get("media_type", 1), "media_type")})
    return out


def _metadata(value):
    if not isinstance(value, dict) or not value:
        raise OpsError("metadata must be a non-empty object of strings", "bad-args")
    return dict((_text(k, "metadata key"), _text(v, "metadata value")) for k, v in value.items())


#: The operations the bridge serves (and nothing else): name -> argument checks, in order.
OPERATIONS = {
    "product": (),
    "project": (),
    "media_pool": (),
    "current_bin_id": (),
    "selected_clip_ids": (),
    "import_media": (("paths", lambda v: [_file(p, "media file", MEDIA_FILE_SUFFIXES) for p in _texts(v, "paths")]),),
    "link_proxy": (("clip_id", lambda v: _text(v, "clip_id")),
                   ("proxy_path", lambda v: _file(v, "proxy", VIDEO_FILE_SUFFIXES))),
    "set_clip_metadata": (("clip_id", lambda v: _text(v, "clip_id")), ("metadata", _metadata)),
    "clip_metadata": (("clip_id", lambda v: _text(v, "clip_id")),),
    "clip_color": (("clip_id", lambda v: _text(v, "clip_id")),),
    "set_clip_color": (("clip_id", lambda v: _text(v, "clip_id")), ("color", lambda v: _text(v, "color"))),
    "clip_markers": (("clip_id", lambda v: _text(v, "clip_id")),),
    "add_clip_marker": (("clip_id", lambda v: _text(v, "clip_id")), ("frame", lambda v: _whole(v, "frame")),
                        ("color", lambda v: _text(v, "color")), ("name", lambda v: _text(v, "name")),
                        ("note", lambda v: _text(v, "note")), ("duration", lambda v: _whole(v, "duration")),
                        ("custom_data", lambda v: _text(v, "custom_data"))),
    "delete_clip_marker": (("clip_id", lambda v: _text(v, "clip_id")), ("custom_data", lambda v: _text(v, "custom_data"))),
    "timeline_names": (),
    "create_timeline": (("name", lambda v: _text(v, "name")),),
    "set_current_timeline": (("timeline_id", lambda v: _text(v, "timeline_id")),),
    "delete_timeline": (("timeline_id", lambda v: _text(v, "timeline_id")),),
    "timeline_name": (("timeline_id", lambda v: _text(v, "timeline_id")),),
    "timeline_setting": (("timeline_id", lambda v: _text(v, "timeline_id")), ("key", lambda v: _text(v, "key"))),
    "set_timeline_setting": (("timeline_id", lambda v: _text(v, "timeline_id")), ("key", lambda v: _text(v, "key")),
                             ("value", lambda v: _text(v, "value"))),
    "timeline_start_frame": (("timeline_id", lambda v: _text(v, "timeline_id")),),
    "set_timeline_start_timecode": (("timeline_id", lambda v: _text(v, "timeline_id")),
                                    ("timecode", lambda v: _text(v, "timecode"))),
    "append_clips": (("timeline_id", lambda v: _text(v, "timeline_id")), ("infos", _clip_infos)),
    "track_count": (("timeline_id", lambda v: _text(v, "timeline_id")), ("track_type", _track_type)),
    "track_items": (("timeline_id", lambda v: _text(v, "timeline_id")), ("track_type", _track_type),
                    ("index", lambda v: _whole(v, "index"))),
    "add_marker": (("timeline_id", lambda v: _text(v, "timeline_id")), ("frame", lambda v: _whole(v, "frame")),
                   ("color", lambda v: _text(v, "color")), ("name", lambda v: _text(v, "name")),
                   ("note", lambda v: _text(v, "note")), ("duration", lambda v: _whole(v, "duration")),
                   ("custom_data", lambda v: _text(v, "custom_data"))),
    "markers": (("timeline_id", lambda v: _text(v, "timeline_id")),),
    "import_timeline_file": (("path", lambda v: _file(v, "timeline file", TIMELINE_FILE_SUFFIXES)),
                             ("name", lambda v: _text(v, "name")), ("bin_ids", lambda v: _texts(v, "bin_ids"))),
}


def _markers(raw):
    """``GetMarkers()`` of a timeline or clip (``{frame: {color, duration, note, name, customData}}``)."""
    out = []
    for frame, m in sorted((raw or {}).items(), key=lambda kv: float(kv[0])):
        out.append({"frame": int(float(frame)), "color": str(m.get("color", "")), "name": str(m.get("name", "")),
                    "note": str(m.get("note", "")), "duration": _int(m.get("duration")) or 1,
                    "custom_data": str(m.get("customData", ""))})
    return out


def checked_args(op, args):
    """The positional arguments of ``op`` from the request's ``args`` object, checked.

    Raises :class:`OpsError` (code ``"unknown-op"`` or ``"bad-args"``) for an operation not
    in :data:`OPERATIONS`, a missing, extra or ill-typed argument, or a path that is not an
    existing absolute file of the kind the operation reads.
    """
    if not isinstance(op, str) or op not in OPERATIONS:
        raise OpsError("unknown operation %r" % (op,), "unknown-op")
    if not isinstance(args, dict):
        raise OpsError("args must be an object", "bad-args")
    spec = OPERATIONS[op]
    extra = sorted(set(args) - set(name for name, _ in spec))
    if extra:
        raise OpsError("%s takes no argument %s" % (op, ", ".join(extra)), "bad-args")
    out = []
    for name, check in spec:
        if name not in args:
            raise OpsError("%s needs the argument %s" % (op, name), "bad-args")
        out.append(check(args[name]))
    return out


class ResolveOps(object):
    """The operations of :data:`OPERATIONS` on a ``resolve`` object (see the module docstring).

    Ids are strings: Resolve's unique ids, or a stand-in built from the name (and file) where
    Resolve returns none. Timelines can be deleted only when this object created them.
    """

    def __init__(self, resolve):
        self._resolve = resolve
        self._clips = {}
        self._bins = {}
        self._timelines = {}
        self._created = set()

    def call(self, op, args):
        """Run ``op`` with the request's ``args`` (checked by :func:`checked_args`)."""
        return getattr(self, op)(*checked_args(op, args))

    # ------------------------------------------------------------------ objects
    def _project(self):
        manager = _call(self._resolve, "GetProjectManager")
        if not manager:
            raise OpsError("Resolve did not return its project manager (GetProjectManager); is it still running?")
        project = _call(manager, "GetCurrentProject")
        if not project:
            raise OpsError("no project is open in Resolve: open one (the Project Manager has no Scripts menu)")
        return project

    def _pool(self):
        pool = _call(self._project(), "GetMediaPool")
        if not pool:
            raise OpsError("Resolve did not return the media pool (Project.GetMediaPool)")
        return pool

    @staticmethod
    def _clip_key(item):
        uid = _call(item, "GetUniqueId")
        if uid:
            return str(uid)
        # Reported: some items come back without a unique id. Name and file identify them.
        return "anon:%s|%s" % (_call(item, "GetName") or "", _call(item, "GetClipProperty", "File Path") or "")

    def _remember_clip(self, item):
        key = self._clip_key(item)
        self._clips[key] = item
        props = _call(item, "GetClipProperty")
        props = dict((str(k), "" if v is None else str(v)) for k, v in props.items()) if isinstance(props, dict) else {}
        return {"id": key, "name": str(_call(item, "GetName") or props.get("Clip Name", "")), "properties": props}

    def _remember_bin(self, folder):
        # Folder.GetUniqueId is missing before Resolve 18: the name stands in (same-named bins collide).
        key = str(_call(folder, "GetUniqueId") or "anon-bin:%s" % _call(folder, "GetName"))
        self._bins[key] = folder
        return key

    def _timeline(self, timeline_id):
        try:
            return self._timelines[timeline_id]
        except KeyError:
            raise OpsError("unknown timeline id %r (not created or found in this session)" % (timeline_id,))

    def _clip(self, clip_id):
        if clip_id not in self._clips:
            self.media_pool()
        try:
            return self._clips[clip_id]
        except KeyError:
            raise OpsError("no media-pool item with id %r" % (clip_id,))

    def _timeline_key(self, timeline):
        key = str(_call(timeline, "GetUniqueId") or "anon-timeline:%s" % _call(timeline, "GetName"))
        self._timelines[key] = timeline
        return key

    # ------------------------------------------------------------------ reading
    def product(self):
        name = _call(self._resolve, "GetProductName") or "DaVinci Resolve"
        version = _call(self._resolve, "GetVersionString")
        if not version:
            parts = _as_list(_call(self._resolve, "GetVersion"))
            version = ".".join(str(p) for p in parts if str(p) != "") if parts else "unknown"
        return {"name": str(name), "version": str(version)}

    def project(self):
        project = self._project()
        settings = {}
        for key in PROJECT_SETTINGS:
            value = _call(project, "GetSetting", key)
            if value not in (None, ""):
                settings[key] = str(value)
        return {"name": str(_call(project, "GetName") or ""), "settings": settings}

    def media_pool(self):
        root = _call(self._pool(), "GetRootFolder")
        if not root:
            raise OpsError("Resolve did not return the media pool's root folder (MediaPool.GetRootFolder)")
        return self._read_bin(root)

    def _read_bin(self, folder):
        key = self._remember_bin(folder)
        clips = [self._remember_clip(item) for item in _as_list(_call(folder, "GetClipList"))]
        bins = [self._read_bin(sub) for sub in _as_list(_call(folder, "GetSubFolderList"))]
        return {"id": key, "name": str(_call(folder, "GetName") or ""), "clips": clips, "bins": bins}

    def current_bin_id(self):
        folder = _call(self._pool(), "GetCurrentFolder")
        return self._remember_bin(folder) if folder else ""

    def selected_clip_ids(self):
        items = _as_list(_call(self._pool(), "GetSelectedClips"))
        return [self._remember_clip(item)["id"] for item in items]

    def import_media(self, paths):
        items = _as_list(_call(self._pool(), "ImportMedia", list(paths)))
        return [self._remember_clip(item) for item in items]

    def link_proxy(self, clip_id, proxy_path):
        return bool(_call(self._clip(clip_id), "LinkProxyMedia", proxy_path))

    def set_clip_metadata(self, clip_id, metadata):
        clip = self._clip(clip_id)
        return all(bool(_call(clip, "SetMetadata", key, value)) for key, value in sorted(metadata.items()))

    def clip_metadata(self, clip_id):
        meta = _call(self._clip(clip_id), "GetMetadata")
        return dict((str(k), "" if v is None else str(v)) for k, v in meta.items()) if isinstance(meta, dict) else {}

    def clip_color(self, clip_id):
        return str(_call(self._clip(clip_id), "GetClipColor") or "")

    def set_clip_color(self, clip_id, color):
        """Set the clip colour; ``""`` clears it (``ClearClipColor``)."""
        if not color:
            return bool(_call(self._clip(clip_id), "ClearClipColor"))
        return bool(_call(self._clip(clip_id), "SetClipColor", color))

    def clip_markers(self, clip_id):
        return _markers(_call(self._clip(clip_id), "GetMarkers"))

    def add_clip_marker(self, clip_id, frame, color, name, note, duration, custom_data):
        return bool(_call(self._clip(clip_id), "AddMarker", frame, color, name, note, duration, custom_data))

    def delete_clip_marker(self, clip_id, custom_data):
        return bool(_call(self._clip(clip_id), "DeleteMarkerByCustomData", custom_data))

    # ------------------------------------------------------------------ timelines
    def timeline_names(self):
        project = self._project()
        count = _int(_call(project, "GetTimelineCount")) or 0
        names = []
        for index in range(1, count + 1):
            timeline = _call(project, "GetTimelineByIndex", index)
            if timeline:
                names.append(str(_call(timeline, "GetName") or ""))
        return names

    def create_timeline(self, name):
        timeline = _call(self._pool(), "CreateEmptyTimeline", name)
        if not timeline:
            return None
        key = self._timeline_key(timeline)
        self._created.add(key)
        return key

    def set_current_timeline(self, timeline_id):
        return bool(_call(self._project(), "SetCurrentTimeline", self._timeline(timeline_id)))

    def delete_timeline(self, timeline_id):
        """Delete a timeline this object created; any other is refused (the editor's work)."""
        timeline = self._timeline(timeline_id)
        if timeline_id not in self._created:
            raise OpsError("timeline %r was not created by Montage AI in this session: not deleted"
                           % (_call(timeline, "GetName") or timeline_id,), "refused")
        done = bool(_call(self._pool(), "DeleteTimelines", [timeline]))
        if done:
            self._timelines.pop(timeline_id, None)
            self._created.discard(timeline_id)
        return done

    def timeline_name(self, timeline_id):
        return str(_call(self._timeline(timeline_id), "GetName") or "")

    def timeline_setting(self, timeline_id, key):
        value = _call(self._timeline(timeline_id), "GetSetting", key)
        return "" if value is None else str(value)

    def set_timeline_setting(self, timeline_id, key, value):
        return bool(_call(self._timeline(timeline_id), "SetSetting", key, value))

    def timeline_start_frame(self, timeline_id):
        start = _int(_call(self._timeline(timeline_id), "GetStartFrame"))
        if start is None:
            raise OpsError("Resolve did not return the start frame of timeline %r" % self.timeline_name(timeline_id))
        return start

    def set_timeline_start_timecode(self, timeline_id, timecode):
        return bool(_call(self._timeline(timeline_id), "SetStartTimecode", timecode))

    def append_clips(self, timeline_id, infos):
        timeline = self._timeline(timeline_id)
        project = self._project()
        current = _call(project, "GetCurrentTimeline")
        if not current or _call(current, "GetUniqueId") != _call(timeline, "GetUniqueId"):
            if not _call(project, "SetCurrentTimeline", timeline):
                raise OpsError("Resolve refused to make %r the current timeline" % self.timeline_name(timeline_id))
        dicts = []
        for info in infos:
            clip_info = {"mediaPoolItem": self._clip(info["clip_id"]), "startFrame": info["start_frame"],
                         "endFrame": info["end_frame"], "recordFrame": info["record_frame"],
                         "trackIndex": info.get("track_index", 1)}
            if info.get("media_type"):
                clip_info["mediaType"] = info["media_type"]
            dicts.append(clip_info)
        placed = _as_list(_call(self._pool(), "AppendToTimeline", dicts))
        return [self._placed(item) for item in placed if item]

    def _placed(self, item):
        kind, index = "video", 1
        where = _as_list(_call(item, "GetTrackTypeAndIndex"))
        if len(where) == 2:
            kind, index = str(where[0]), int(where[1])
        clip = _call(item, "GetMediaPoolItem")
        start = _int(_call(item, "GetStart")) or 0
        end = _int(_call(item, "GetEnd")) or 0
        duration = _int(_call(item, "GetDuration"))
        return {
            "id": str(_call(item, "GetUniqueId") or ""), "name": str(_call(item, "GetName") or ""),
            "track_type": kind, "track_index": index, "start": start, "end": end,
            "duration": duration if duration is not None else end - start,
            "source_start": _int(_call(item, "GetSourceStartFrame")),
            "source_end": _int(_call(item, "GetSourceEndFrame")),
            "left_offset": _int(_call(item, "GetLeftOffset")),
            "clip_id": self._clip_key(clip) if clip else "",
            "file_path": str(_call(clip, "GetClipProperty", "File Path") or "") if clip else "",
        }

    def track_count(self, timeline_id, track_type):
        return _int(_call(self._timeline(timeline_id), "GetTrackCount", track_type)) or 0

    def track_items(self, timeline_id, track_type, index):
        items = _as_list(_call(self._timeline(timeline_id), "GetItemListInTrack", track_type, index))
        return [self._placed(item) for item in items if item]

    def add_marker(self, timeline_id, frame, color, name, note, duration, custom_data):
        return bool(_call(self._timeline(timeline_id), "AddMarker", frame, color, name, note, duration, custom_data))

    def markers(self, timeline_id):
        return _markers(_call(self._timeline(timeline_id), "GetMarkers"))

    def import_timeline_file(self, path, name, bin_ids):
        folders = [self._bins[b] for b in bin_ids if b in self._bins]
        options = {"timelineName": name, "importSourceClips": False, "sourceClipsFolders": folders}
        timeline = _call(self._pool(), "ImportTimelineFromFile", path, options)
        if not timeline:
            return None
        key = self._timeline_key(timeline)
        self._created.add(key)
        return key
