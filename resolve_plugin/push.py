"""Push a rough cut into Resolve as a new timeline, then read it back and compare.

The route (see ``docs/resolve_api.md`` and ``docs/interchange.md``):

1. Every source of the cut list is found in the media pool by its file path; files not in
   the pool yet are imported (``ImportMedia``). A pool clip whose rate or length does not
   match what the cut list counted stops the push before anything is created.
2. A new timeline with a name no timeline of the project has (``"Rough cut"``, else
   ``"Rough cut 2"`` ...): an existing timeline is never reused or changed.
   ``CreateEmptyTimeline``, then custom settings for the cut's rate and resolution.
3. One ``AppendToTimeline`` clip-info dict per cut, from the media-pool items themselves
   (no relinking): video only on V1 at ``recordFrame = GetStartFrame() + record_in``,
   ``startFrame = source_in`` (frames from the clip's first frame), ``endFrame`` the last
   frame included or the first excluded, as read back from the first placed item (once
   per connection: integrators report both); the music audio-only on A1.
4. Markers (``Timeline.AddMarker``, frames from the timeline start): beats Blue,
   downbeats Red, sections Green with their length; one marker per frame (Resolve keeps
   one), the strongest kind giving its colour, every kind at that frame in ``customData``
   (JSON under ``"montage_ai"``).
5. Proxies linked where the caller names them (``LinkProxyMedia``).
6. Read-back: item count, record start, duration, source start and file of every item;
   the music; the markers. ``GetSourceStartFrame`` is reported to read one frame off and
   may count from the clip's timecode: those readings are accepted when ``GetLeftOffset``
   (or the timecode) shows the item itself is right, and said in the notes. Differences are returned in :attr:`PushReport.mismatches` and
   the timeline is left for inspection.

When an append places nothing (a locked track, an overlap) or the timeline refuses the
rate, the per-item timeline is incomplete: if the FCP7 XML fallback is available
(:mod:`.xml_fallback`) it replaces it, else it is left in the project and
:class:`~.errors.PushError` names it. Verified only against ``tests/fake_resolve.py``.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping

from montage_ai.core.base.errors import Cancelled
from montage_ai.core.base.timebase import format_rate, frames_to_timecode, timecode_to_frames
from montage_ai.core.model.cutlist import Cut, CutList

from .client import ClipInfo, MarkerData, PlacedItem, ResolveClient
from .errors import PushError
from .pool import PoolClip, PoolTree, path_key, read_pool
from .rates import format_resolve_rate, parse_resolve_rate

log = logging.getLogger(__name__)

#: Resolve marker colours per kind (the same hues as the OTIO timeline's markers).
MARKER_COLORS = {"section": "Green", "downbeat": "Red", "beat": "Blue"}
_STRENGTH = {"section": 0, "downbeat": 1, "beat": 2}


#: A marker to add has the fields of one read back: ``frame`` from the timeline start,
#: ``custom_data`` our JSON.
PlannedMarker = MarkerData


@dataclass(frozen=True)
class PushReport:
    """What a push did. ``mismatches`` lists every difference the read-back found."""

    timeline_name: str
    timeline_id: str
    route: str
    items_placed: int
    markers_added: int
    imported: tuple[str, ...]
    proxies_linked: tuple[str, ...]
    end_frame_inclusive: bool | None
    mismatches: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches


class _RouteFailed(Exception):
    def __init__(self, message: str, timeline_id: str | None) -> None:
        super().__init__(message)
        self.timeline_id = timeline_id


# ---------------------------------------------------------------------------- plan
def unique_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``"base 2"``, ``"base 3"`` ... whichever no timeline has.

    >>> unique_name("Cut", ["Cut", "Cut 2"])
    'Cut 3'
    """
    taken = set(taken)
    base = base.strip() or "Montage AI rough cut"
    if base not in taken:
        return base
    n = 2
    while f"{base} {n}" in taken:
        n += 1
    return f"{base} {n}"


def source_frames(cut: Cut, rate: Fraction) -> int:
    """Source frames to place so the item lasts ``cut.record_frames`` timeline frames
    (Resolve floors a converted duration)."""
    return math.ceil(Fraction(cut.record_frames) * cut.source_rate / rate)


def placed_frames(count: int, source_rate: Fraction, rate: Fraction) -> int:
    """Timeline frames ``count`` source frames last (floored, as Resolve places them)."""
    return math.floor(Fraction(count) * rate / source_rate)


def plan_markers(cut_list: CutList) -> list[PlannedMarker]:
    """One marker per frame for the beats, downbeats and sections inside the cut."""
    marks: dict[int, list[dict[str, Any]]] = {}
    for i, f in enumerate(cut_list.beats):
        marks.setdefault(f, []).append({"kind": "beat", "index": i, "name": f"beat {i + 1}"})
    for i, f in enumerate(cut_list.downbeats):
        marks.setdefault(f, []).append({"kind": "downbeat", "index": i, "name": f"downbeat {i + 1}"})
    for s in cut_list.sections:
        marks.setdefault(s.start, []).append({
            "kind": "section", "name": f"{s.label} ({s.phase})" if s.phase else s.label, "label": s.label,
            "phase": s.phase, "energy": round(float(s.energy), 4), "end": s.end})
    out = []
    for frame in sorted(marks):
        if not 0 <= frame < cut_list.duration:
            continue
        group = sorted(marks[frame], key=lambda m: _STRENGTH[m["kind"]])
        top = group[0]
        length = min(top["end"], cut_list.duration) - frame if top["kind"] == "section" else 1
        data = {"montage_ai": {"frame": frame, "style": cut_list.style, "marks": group}}
        out.append(PlannedMarker(frame, MARKER_COLORS[top["kind"]], top["name"],
                                 " · ".join(m["name"] for m in group), max(1, length),
                                 json.dumps(data, sort_keys=True, ensure_ascii=False)))
    return out


# ---------------------------------------------------------------------------- sources
def _sources(client: ResolveClient, tree: PoolTree, cut_list: CutList) -> tuple[dict[str, PoolClip], tuple[str, ...]]:
    """Pool clips by path key for every source and the music; import what is missing."""
    wanted = [c.source_path for c in cut_list.cuts] + ([cut_list.music_path] if cut_list.music_path else [])
    by_path = tree.by_path()
    found: dict[str, PoolClip] = {}
    missing: dict[str, str] = {}
    for path in wanted:
        key = path_key(path)
        if key in found or key in missing:
            continue
        if key in by_path:
            found[key] = by_path[key]
        else:
            missing[key] = os.path.abspath(path)
    imported: list[str] = []
    if missing:
        from .pool import parse_clip

        for data in client.import_media(list(missing.values())):
            clip = parse_clip(data, ("(imported)",))
            if isinstance(clip, PoolClip):
                found[path_key(clip.file_path)] = clip
                imported.append(clip.file_path)
        still = [p for k, p in missing.items() if k not in found]
        if still:
            raise PushError("Resolve did not import " + ", ".join(still) + " into the media pool (ImportMedia); "
                            "check that the files exist and that Resolve can read their format")
    return found, tuple(imported)


def _check_sources(cut_list: CutList, found: Mapping[str, PoolClip]) -> None:
    for cut in cut_list.cuts:
        clip = found[path_key(cut.source_path)]
        if clip.rate != cut.source_rate:
            seen = format_rate(clip.rate, ratio=True, unknown="no")
            raise PushError(f"{clip.file_path}: Resolve reads it at {seen} fps, the cut list counts it at "
                            f"{format_rate(cut.source_rate, ratio=True)} fps; set the clip's frame "
                            "rate in Resolve's Clip Attributes back to the file's own rate")
        need = cut.source_in + source_frames(cut, cut_list.rate)
        slack = 0 if cut.source_rate == cut_list.rate else 1  # rounding up a converted length may pass the end
        if clip.frames is not None and need > clip.frames + slack:
            raise PushError(f"{clip.file_path}: the cut at record frame {cut.record_in} needs source frames up to "
                            f"{need - 1}; Resolve's clip has {clip.frames}")


# ---------------------------------------------------------------------------- per item
def _new_timeline(client: ResolveClient, cut_list: CutList, name: str, notes: list[str]) -> str:
    rate_text = format_resolve_rate(cut_list.rate)
    timeline_id = client.create_timeline(name)
    if not timeline_id:
        raise PushError(f"Resolve did not create the timeline {name!r} (CreateEmptyTimeline returned nothing)")
    client.set_timeline_setting(timeline_id, "useCustomSettings", "1")
    client.set_timeline_setting(timeline_id, "timelineFrameRate", rate_text)
    if cut_list.width and cut_list.height:
        client.set_timeline_setting(timeline_id, "timelineResolutionWidth", str(cut_list.width))
        client.set_timeline_setting(timeline_id, "timelineResolutionHeight", str(cut_list.height))
    got = client.timeline_setting(timeline_id, "timelineFrameRate")
    try:
        got_rate = parse_resolve_rate(got)[0] if got else None
    except ValueError:
        got_rate = None
    if got_rate != cut_list.rate:
        raise _RouteFailed(f"Resolve kept timeline {name!r} at {got or 'an unknown rate'} fps instead of {rate_text}",
                           timeline_id)
    size = (client.timeline_setting(timeline_id, "timelineResolutionWidth"),
            client.timeline_setting(timeline_id, "timelineResolutionHeight"))
    if cut_list.width and size != (str(cut_list.width), str(cut_list.height)):
        notes.append(f"the timeline is {size[0]}x{size[1]}, the cut was planned at {cut_list.width}x{cut_list.height}")
    if client.timeline_start_frame(timeline_id) != cut_list.start_frames:
        client.set_timeline_start_timecode(timeline_id, frames_to_timecode(cut_list.start_frames, cut_list.rate))
        start = client.timeline_start_frame(timeline_id)
        if start != cut_list.start_frames:
            notes.append(f"the timeline starts at frame {start}, not {cut_list.start_frames}; "
                         "positions count from its start")
    return timeline_id


def _clip_info(clip_id: str, start: int, count: int, record: int, inclusive: bool, media_type: int) -> ClipInfo:
    end = start + count - 1 if inclusive else start + count
    return ClipInfo(clip_id, start, end, record, track_index=1, media_type=media_type)


def _decide_end_convention(item: PlacedItem, count: int, source_rate: Fraction, rate: Fraction) -> bool | None:
    """Read the placed duration: ``True`` if endFrame was included, ``False`` if excluded,
    ``None`` when this item cannot tell (both readings give the same length)."""
    included = placed_frames(count, source_rate, rate)
    excluded = placed_frames(count - 1, source_rate, rate)
    if included == excluded:
        return None
    if item.duration == included:
        return True
    if item.duration == excluded:
        return False
    return None


def _place_all(client: ResolveClient, timeline_id: str, cut_list: CutList, found: Mapping[str, PoolClip],
               progress: Callable[[float], None], cancel: Callable[[], bool]) -> tuple[int, bool]:
    """Append every cut and the music; ``(placed, restart)``: restart when the first
    decisive item shows endFrame is exclusive (that item is one frame short)."""
    rate = cut_list.rate
    start = client.timeline_start_frame(timeline_id)
    total = len(cut_list.cuts) + 1
    placed = 0
    for i, cut in enumerate(cut_list.cuts):
        if cancel():
            raise Cancelled("cancelled by the user")
        clip = found[path_key(cut.source_path)]
        count = source_frames(cut, rate)
        if clip.frames is not None:
            count = min(count, clip.frames - cut.source_in)
        inclusive = client.end_frame_inclusive if client.end_frame_inclusive is not None else True
        info = _clip_info(clip.id, cut.source_in, count, start + cut.record_in, inclusive, 1)
        items = client.append_clips(timeline_id, [info])
        if not items:
            raise _RouteFailed(
                f"AppendToTimeline placed nothing for cut {i + 1} of {len(cut_list.cuts)} ({clip.file_path}, source "
                f"frames {info.start_frame}-{info.end_frame}, record frame {info.record_frame}); a locked track or an "
                "item already on those frames does this", timeline_id)
        placed += 1
        if client.end_frame_inclusive is None:
            decided = _decide_end_convention(items[0], count, cut.source_rate, rate)
            if decided is not None:
                client.end_frame_inclusive = decided
                log.info("Resolve's AppendToTimeline endFrame is %s", "included" if decided else "excluded")
                if not decided:
                    return placed, True
        progress((i + 1) / total)
    if cut_list.music_path and cut_list.music_duration > 0:
        music = found[path_key(cut_list.music_path)]
        music_rate = music.rate or rate
        first = math.floor(Fraction(cut_list.music_start) * music_rate / rate)  # the part of the song chosen
        count = math.ceil(Fraction(cut_list.music_duration) * music_rate / rate)
        if music.frames is not None:
            count = min(count, music.frames - first)
        inclusive = client.end_frame_inclusive if client.end_frame_inclusive is not None else True
        info = _clip_info(music.id, first, count, start, inclusive, 2)
        if not client.append_clips(timeline_id, [info]):
            raise _RouteFailed(f"AppendToTimeline placed nothing for the music ({music.file_path}) on audio track 1",
                               timeline_id)
        placed += 1
    progress(1.0)
    return placed, False


def _build_by_append(client: ResolveClient, cut_list: CutList, found: Mapping[str, PoolClip], name: str,
                     notes: list[str], progress: Callable[[float], None], cancel: Callable[[], bool]) -> tuple[str, int]:
    for _attempt in range(2):
        timeline_id = _new_timeline(client, cut_list, name, notes)
        try:
            placed, restart = _place_all(client, timeline_id, cut_list, found, progress, cancel)
        except Cancelled:
            client.delete_timeline(timeline_id)  # ours, from this push, incomplete
            raise
        if not restart:
            return timeline_id, placed
        # The first item shows endFrame is excluded: it is one frame short. This timeline
        # is ours and from this push; build it again with the convention now known.
        if not client.delete_timeline(timeline_id):
            notes.append(f"Resolve did not delete the first try {name!r} (its first item is one frame short)")
            name = unique_name(name, client.timeline_names())
    raise _RouteFailed("Resolve placed the items with inconsistent lengths", None)


# ---------------------------------------------------------------------------- after placing
def add_markers(client: ResolveClient, timeline_id: str, markers: Iterable[PlannedMarker]) -> tuple[int, list[str]]:
    """Add ``markers``; ``(added, failures)``."""
    added, failures = 0, []
    for m in markers:
        if client.add_marker(timeline_id, m.frame, m.color, m.name, m.note, m.duration, m.custom_data):
            added += 1
        else:
            failures.append(f"Resolve refused the marker {m.name!r} at frame {m.frame} (AddMarker returned False)")
    return added, failures


def link_proxies(client: ResolveClient, found: Mapping[str, PoolClip], proxies: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Link each source's proxy file; ``(linked source paths, failures)``."""
    linked, failures = [], []
    for source, proxy in proxies.items():
        clip = found.get(path_key(source))
        if clip is None:
            continue
        if not os.path.isfile(proxy):
            failures.append(f"{proxy}: the proxy for {clip.file_path} does not exist")
        elif client.link_proxy(clip.id, os.path.abspath(proxy)):
            linked.append(clip.file_path)
        else:
            failures.append(f"{clip.file_path}: Resolve did not link the proxy {proxy} (LinkProxyMedia returned False)")
    return linked, failures


def _source_start_ok(item: PlacedItem, cut: Cut, clip: PoolClip, rate: Fraction, notes: set[str]) -> bool:
    """Whether the item shows the cut's first source frame. ``GetSourceStartFrame`` is
    reported to read one frame off and may count from the clip's start timecode; for a clip
    at the timeline rate ``GetLeftOffset`` (frames trimmed from the clip's head) settles it."""
    if item.source_start is None or item.source_start == cut.source_in:
        return True
    tc = 0
    if clip.start_tc and clip.rate:
        try:
            tc = timecode_to_frames(clip.start_tc, clip.rate)
        except ValueError:
            tc = 0
    if tc and item.source_start == cut.source_in + tc:
        notes.add("Resolve reads source frames from the clips' start timecode (GetSourceStartFrame)")
        return True
    if cut.source_rate == rate and item.left_offset == cut.source_in:
        notes.add("GetSourceStartFrame and GetLeftOffset disagree; the items start where GetLeftOffset says, "
                  "as planned")
        return True
    return False


def verify_timeline(client: ResolveClient, timeline_id: str, cut_list: CutList, found: Mapping[str, PoolClip],
                    markers: Iterable[PlannedMarker]) -> tuple[list[str], list[str]]:
    """Read the timeline back: ``(differences from the cut list, notes)``."""
    out: list[str] = []
    notes: set[str] = set()
    start = client.timeline_start_frame(timeline_id)
    items = sorted(client.track_items(timeline_id, "video", 1), key=lambda it: it.start)
    if len(items) != len(cut_list.cuts):
        out.append(f"video track 1 holds {len(items)} items, the cut list has {len(cut_list.cuts)} cuts")
    for i, (cut, item) in enumerate(zip(cut_list.cuts, items)):
        clip = found[path_key(cut.source_path)]
        where = f"cut {i + 1} ({os.path.basename(clip.file_path)})"
        if item.start != start + cut.record_in:
            out.append(f"{where}: starts at timeline frame {item.start - start}, expected {cut.record_in}")
        if item.duration != cut.record_frames:
            out.append(f"{where}: lasts {item.duration} frames, expected {cut.record_frames}")
        if not _source_start_ok(item, cut, clip, cut_list.rate, notes):
            shown = item.left_offset if cut.source_rate == cut_list.rate and item.left_offset is not None \
                else item.source_start
            out.append(f"{where}: shows source frame {shown} first, expected {cut.source_in}")
        if path_key(item.file_path or "?") != path_key(clip.file_path):
            out.append(f"{where}: shows {item.file_path or 'no media'}, expected {clip.file_path}")
    if cut_list.music_path and cut_list.music_duration > 0:
        music = found[path_key(cut_list.music_path)]
        audio = client.track_items(timeline_id, "audio", 1)
        if len(audio) != 1:
            out.append(f"audio track 1 holds {len(audio)} items, expected the music alone")
        elif path_key(audio[0].file_path or "?") != path_key(music.file_path):
            out.append(f"audio track 1 holds {audio[0].file_path or 'no media'}, expected {music.file_path}")
        elif audio[0].start != start or audio[0].duration != cut_list.music_duration:
            out.append(f"the music sits at frames {audio[0].start - start}+{audio[0].duration}, "
                       f"expected 0+{cut_list.music_duration}")
    got = {m.frame: m for m in client.markers(timeline_id)}
    for m in markers:
        seen = got.get(m.frame)
        if seen is None:
            out.append(f"marker {m.name!r} missing at frame {m.frame}")
        elif seen.color != m.color or seen.custom_data != m.custom_data:
            out.append(f"marker at frame {m.frame} is {seen.color} {seen.name!r}, expected {m.color} {m.name!r}")
    return out, sorted(notes)


# ---------------------------------------------------------------------------- the push
def push_cut_list(client: ResolveClient, cut_list: CutList, *, timeline: Any = None, name: str | None = None,
                  proxies: Mapping[str, str] | None = None, progress: Callable[[float], None] | None = None,
                  cancel: Callable[[], bool] | None = None) -> PushReport:
    """Push ``cut_list`` into the current project as a new timeline (see the module docstring).

    Parameters
    ----------
    client:
        The route into Resolve.
    cut_list:
        The rough cut.
    timeline:
        Its OTIO timeline (for the FCP7 XML fallback; built from ``cut_list`` when needed).
    name:
        Timeline name; default the cut list's. A number is added when it is taken.
    proxies:
        Source file -> proxy file, linked with ``LinkProxyMedia``.
    progress, cancel:
        ``progress(fraction)``; ``cancel()`` returning True stops the push
        (:class:`~montage_ai.core.base.errors.Cancelled`, the incomplete timeline removed).

    Returns
    -------
    PushReport
        With ``mismatches`` from the read-back (the timeline is left as it is).

    Raises
    ------
    PushError
        A source is missing or differs, the timeline cannot be made, or items could not be
        placed and the fallback was not available or failed.
    """
    progress = progress or (lambda f: None)
    cancel = cancel or (lambda: False)
    try:
        format_resolve_rate(cut_list.rate)
    except ValueError as exc:
        raise PushError(str(exc)) from None
    tree = read_pool(client)
    found, imported = _sources(client, tree, cut_list)
    _check_sources(cut_list, found)
    name = unique_name(name or cut_list.name, client.timeline_names())
    notes: list[str] = [f"imported {len(imported)} files into the current bin"] if imported else []
    route = "append"
    try:
        timeline_id, placed = _build_by_append(client, cut_list, found, name, notes, progress, cancel)
    except _RouteFailed as failure:
        from . import xml_fallback

        problem = xml_fallback.unavailable_reason()
        partial = client.timeline_name(failure.timeline_id) if failure.timeline_id else ""
        if problem:
            raise PushError(f"{failure}; the FCP7 XML fallback is not available ({problem})", partial) from None
        if failure.timeline_id:
            client.delete_timeline(failure.timeline_id)  # ours, from this push, incomplete
        notes.append(f"per-item placement failed ({failure}); imported the cut as FCP7 XML instead")
        bins = sorted({_bin_id(tree, clip) or client.current_bin_id() for clip in found.values()} - {""})
        timeline_id = xml_fallback.import_fcp7_xml(client, cut_list, timeline, name, bins)
        placed = len(client.track_items(timeline_id, "video", 1)) + len(client.track_items(timeline_id, "audio", 1))
        route = "fcp7-xml"
    planned = plan_markers(cut_list)
    added, failures = add_markers(client, timeline_id, planned)
    notes += failures
    linked, proxy_failures = link_proxies(client, found, proxies or {})
    notes += proxy_failures
    if cut_list.music_fade_out:
        notes.append(f"the music's {cut_list.music_fade_out}-frame fade-out is not set through the API: "
                     "drag the fade handle on audio track 1")
    mismatches, read_notes = verify_timeline(client, timeline_id, cut_list, found, planned)
    notes += read_notes
    for line in mismatches:
        log.warning("read-back of %r: %s", name, line)
    return PushReport(client.timeline_name(timeline_id), timeline_id, route, placed, added, imported, tuple(linked),
                      client.end_frame_inclusive, tuple(mismatches), tuple(notes))


def _bin_id(tree: PoolTree, clip: PoolClip) -> str:
    for b in tree.root.walk():
        if any(c.id == clip.id for c in b.clips):
            return b.id
    return ""
