"""What the media pool holds, in our terms: bins of clips with exact rates and frame counts.

:func:`read_pool` turns the client's :class:`~.client.BinData` tree (Resolve's strings) into
:class:`PoolBin`/:class:`PoolClip` (``rate`` a Fraction, ``frames`` an int, ``width`` and
``height`` from ``"1920x1080"``). Items without a file (timelines, compound clips,
generators, titles) and clips whose properties cannot be read are listed in
:attr:`PoolTree.skipped` with the reason; they never stop the rest.

>>> tree = read_pool(client)                                  # doctest: +SKIP
>>> [c.name for c in tree.find_bin("Day 1").clips]            # doctest: +SKIP
['A001_C001.mov', 'A001_C002.mov']
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

from .client import BinData, ClipData, ResolveClient
from .errors import ResolveError
from .rates import parse_resolve_rate


@dataclass(frozen=True)
class PoolClip:
    """A media-pool clip with a file: ``rate`` exact (``None`` for audio without one)."""

    id: str
    name: str
    bin_path: tuple[str, ...]
    file_path: str
    type: str
    rate: Fraction | None
    frames: int | None
    width: int | None
    height: int | None
    start_tc: str

    @property
    def has_video(self) -> bool:
        return "video" in self.type.lower() or (self.width is not None and "audio" not in self.type.lower())

    @property
    def has_audio_only(self) -> bool:
        return self.type.strip().lower() == "audio"


@dataclass(frozen=True)
class SkippedClip:
    """A media-pool item we cannot cut with, and why."""

    id: str
    name: str
    bin_path: tuple[str, ...]
    type: str
    reason: str


@dataclass(frozen=True)
class PoolBin:
    """A bin: its path from the root (``("Master", "Day 1")``), clips, sub-bins."""

    id: str
    name: str
    path: tuple[str, ...]
    clips: tuple[PoolClip, ...]
    bins: tuple["PoolBin", ...]

    def walk(self) -> Iterator["PoolBin"]:
        """This bin and every bin under it, depth first."""
        yield self
        for sub in self.bins:
            yield from sub.walk()


@dataclass(frozen=True)
class ProjectSettings:
    """The project's timeline format."""

    name: str
    rate: Fraction | None
    drop_frame: bool
    width: int | None
    height: int | None


@dataclass(frozen=True)
class PoolTree:
    """The whole media pool."""

    root: PoolBin
    skipped: tuple[SkippedClip, ...]

    def clips(self) -> Iterator[PoolClip]:
        for b in self.root.walk():
            yield from b.clips

    def find_bin(self, name: str) -> PoolBin:
        """The bin called ``name``, or at the path ``"Master/Day 1"`` / ``"Day 1/Cam A"``.

        Raises :class:`ResolveError` naming the bins there are when none or several match.
        """
        wanted = tuple(p for p in name.replace("\\", "/").split("/") if p)
        matches = [b for b in self.root.walk() if b.path[-len(wanted):] == wanted] if wanted else []
        if len(matches) == 1:
            return matches[0]
        known = ", ".join("/".join(b.path) for b in self.root.walk())
        if not matches:
            raise ResolveError(f"no bin {name!r} in the media pool; bins: {known}")
        raise ResolveError(f"{len(matches)} bins are called {name!r}: "
                           + ", ".join("/".join(b.path) for b in matches) + "; give the path")

    def find_bin_by_id(self, bin_id: str) -> PoolBin | None:
        return next((b for b in self.root.walk() if b.id == bin_id), None)

    def clips_named(self, name: str) -> list[PoolClip]:
        return [c for c in self.clips() if c.name == name or os.path.basename(c.file_path) == name]

    def by_path(self) -> dict[str, PoolClip]:
        """Clips by normalised file path (the first one when a file is in the pool twice)."""
        out: dict[str, PoolClip] = {}
        for clip in self.clips():
            out.setdefault(path_key(clip.file_path), clip)
        return out


def path_key(path: str) -> str:
    """A file path normalised for comparison (case-folded where the OS ignores case)."""
    return os.path.normcase(os.path.normpath(os.path.abspath(path)))


def _dimensions(text: str) -> tuple[int | None, int | None]:
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return None, None


def parse_clip(data: ClipData, bin_path: tuple[str, ...]) -> PoolClip | SkippedClip:
    """A :class:`PoolClip` from Resolve's properties, or why it is skipped."""
    props = data.properties
    kind = props.get("Type", "")
    path = props.get("File Path", "")
    name = data.name or props.get("Clip Name", "") or os.path.basename(path)
    if not path:
        return SkippedClip(data.id, name, bin_path, kind,
                           f"{kind or 'item'} without a media file (timelines, compound clips, generators and "
                           "titles cannot be cut)")
    rate = None
    if props.get("FPS"):
        try:
            rate, _ = parse_resolve_rate(props["FPS"])
        except ValueError as exc:
            return SkippedClip(data.id, name, bin_path, kind, f"{path}: unreadable frame rate ({exc})")
    frames_text = props.get("Frames", "").strip()
    frames = int(frames_text) if frames_text.isdigit() else None
    width, height = _dimensions(props.get("Resolution", ""))
    clip = PoolClip(data.id, name, bin_path, path, kind, rate, frames, width, height, props.get("Start TC", ""))
    if clip.has_video and (rate is None or frames is None):
        return SkippedClip(data.id, name, bin_path, kind, f"{path}: Resolve gives no frame rate or frame count")
    return clip


def _convert(data: BinData, parent: tuple[str, ...], skipped: list[SkippedClip]) -> PoolBin:
    path = parent + (data.name,)
    clips = []
    for clip_data in data.clips:
        parsed = parse_clip(clip_data, path)
        if isinstance(parsed, SkippedClip):
            skipped.append(parsed)
        else:
            clips.append(parsed)
    bins = tuple(_convert(sub, path, skipped) for sub in data.bins)
    return PoolBin(data.id, data.name, path, tuple(clips), bins)


def read_pool(client: ResolveClient) -> PoolTree:
    """The media pool as a tree of bins; items without a file are listed as skipped."""
    skipped: list[SkippedClip] = []
    root = _convert(client.media_pool(), (), skipped)
    return PoolTree(root, tuple(skipped))


def read_selection(client: ResolveClient, tree: PoolTree | None = None) -> tuple[list[PoolClip], str]:
    """The clips the editor selected, else the current bin's clips; and which it was
    (``"selection"`` or ``"bin Master/Day 1"``)."""
    tree = tree or read_pool(client)
    by_id = {c.id: c for c in tree.clips()}
    selected = [by_id[i] for i in client.selected_clip_ids() if i in by_id]
    if selected:
        return selected, "selection"
    current = tree.find_bin_by_id(client.current_bin_id())
    if current is None:
        return [], "nothing selected and no current bin"
    return list(current.clips), "bin " + "/".join(current.path)


def read_clips(client: ResolveClient, tree: PoolTree, bin_name: str | None = None) -> tuple[list[PoolClip], str]:
    """The clips of the bin ``bin_name`` (a name or a path), else :func:`read_selection`'s;
    and where they came from (``"bin Master/Day 1"``, ``"selection"``)."""
    if bin_name:
        chosen = tree.find_bin(bin_name)
        return list(chosen.clips), "bin " + "/".join(chosen.path)
    return read_selection(client, tree)


def read_project(client: ResolveClient) -> ProjectSettings:
    """The project's timeline rate and resolution (``None`` where Resolve gives none)."""
    data = client.project()
    rate, drop = None, False
    if data.settings.get("timelineFrameRate"):
        rate, drop = parse_resolve_rate(data.settings["timelineFrameRate"])
    if data.settings.get("timelineDropFrameTimecode") in ("1", "True", "true"):
        drop = True

    def number(key: str) -> int | None:
        text = data.settings.get(key, "").strip()
        return int(text) if text.isdigit() else None

    return ProjectSettings(data.name, rate, drop, number("timelineResolutionWidth"), number("timelineResolutionHeight"))
