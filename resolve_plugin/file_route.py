"""The file route: where no live route into Resolve exists, a file the editor imports.

:func:`write_file_route` writes the cut as FCP7 XML (the most dependable import into
Resolve: it relinks against clips already in the media pool and keeps source in-points
frame-exact, reported for Resolve 19) and as FCPXML 1.9 (the second choice), both through
our exporters (``montage_ai.otio_adapters.export``, imported when used). The timeline name
written inside the files is unique: not a timeline name the project is known to have, and
not the stem of a file already in the folder (Resolve refuses an import whose timeline
name is taken, and the name inside the file can win over the dialog's). Nothing existing is
ever overwritten. :func:`import_steps` says exactly what to click.

The free edition 21.1 and later has no other way in (no Python menu scripts; a Lua bridge
needs the editor to start it). Markers and proxy links travel only through the live routes:
Resolve drops timeline markers on FCP7 XML and FCPXML import (reported).
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from montage_ai.core.base.errors import MontageError
from montage_ai.core.base.fileio import OutputExistsError, display_name

from .push import unique_name


@dataclass(frozen=True)
class FootageListing:
    """The video files the file route cuts, and each file or folder passed over with its reason
    (``folders``: unreadable folders and symbolic-link loops, as ``cut`` lists them;
    ``files``: media files that cannot be read or hold no video). Files that are not media by
    their extension (notes, ``.DS_Store``, sidecars) are neither: they are not footage."""

    clips: tuple[str, ...]
    folders: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, str], ...] = ()


def footage_files(values: Iterable[str]) -> FootageListing:
    """The footage of ``--footage``: files named directly, and the media files found in
    folders and all their sub-folders (:func:`~montage_ai.core.base.fileio.collect_media`:
    by extension, hidden and ``Proxy`` folders passed over, symbolic links followed once),
    each probed for a video stream.

    Raises
    ------
    MontageError
        A value that is neither a file nor a folder.
    """
    from montage_ai.core.base.fileio import collect_media
    from montage_ai.core.media.probe import probe

    values = list(values)
    for value in values:
        if not os.path.isdir(value) and not os.path.isfile(value):
            raise MontageError(f"--footage {value}: neither a file nor a folder")
    folders: list[tuple[str, str]] = []
    clips: list[str] = []
    passed: list[tuple[str, str]] = []
    for path in collect_media(values, skipped=folders):
        try:
            if probe(path, require_video=True).video is not None:
                clips.append(os.path.abspath(path))
        except MontageError as exc:
            passed.append((path, str(exc)))
    return FootageListing(tuple(clips), tuple(folders), tuple(passed))


@dataclass(frozen=True)
class FileRouteResult:
    """The files written and the steps to import them."""

    timeline_name: str
    xml: Path
    fcpxml: Path
    steps: tuple[str, ...]
    #: One line per clip a file is without (its format cannot carry it), naming the file.
    left_out: tuple[str, ...] = ()

    def text(self) -> str:
        return "\n".join(f"{i}. {step}" for i, step in enumerate(self.steps, start=1))


def _stem(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", name).strip(" .") or "Montage AI rough cut"


def import_steps(xml: Path, fcpxml: Path, timeline_name: str) -> tuple[str, ...]:
    """What the editor does in Resolve to bring the cut in (Resolve 18 to 21)."""
    return (
        "In DaVinci Resolve, open the project and, in the Media Pool, select the bin the clips should go to.",
        f"Choose File > Import > Timeline… (Ctrl+Shift+I; Cmd+Shift+I on macOS) and pick {xml}.",
        f"In the Load XML dialog keep the timeline name {timeline_name!r} (a name already taken makes the import fail). "
        "Turn 'Automatically import source clips into media pool' on when the clips are not in the media pool yet, "
        "off when they are (Resolve then links the timeline to the clips already there). Leave 'Automatically set "
        "project settings' off in a project that already has footage (it changes the project's frame rate and "
        "size); turn it on only in a new, empty project. Click OK.",
        f"If Resolve refuses the XML, import {fcpxml} the same way (FCPXML 1.9).",
        "Markers (beats, downbeats, sections) and proxy links do not travel through these files: they are added only "
        "through a live route (Resolve Studio's external scripting, or the Montage AI Bridge started from "
        "Workspace > Scripts).",
    )


def write_file_route(timeline: Any, folder: str | os.PathLike[str], *, name: str | None = None,
                     taken_names: Iterable[str] = ()) -> FileRouteResult:
    """Write ``timeline`` (OTIO) into ``folder`` as ``<name>.xml`` and ``<name>.fcpxml``.

    ``name`` defaults to the timeline's name; a number is added while a file of that stem
    exists in ``folder`` or the name is in ``taken_names``.

    Raises
    ------
    montage_ai.core.base.errors.MontageError
        The folder cannot be written (from the exporters).
    """
    from montage_ai.otio_adapters.export import FORMATS, export_timeline

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = _stem(name or getattr(timeline, "name", "") or "Montage AI rough cut")
    taken = set(taken_names)
    for _ in range(1000):
        existing = {p.stem for p in folder.iterdir() if p.suffix.lower() in (".xml", ".fcpxml")}
        chosen = unique_name(base, taken | existing)
        named = copy.deepcopy(timeline)
        named.name = chosen
        xml = folder / (chosen + FORMATS["premiere"].suffix)
        fcpxml = folder / (chosen + FORMATS["fcpxml"].suffix)
        xml_left: list = []
        fcpxml_left: list = []
        try:
            export_timeline(named, xml, "premiere", for_app="resolve", left_out=xml_left)
        except OutputExistsError:
            taken.add(chosen)  # written by someone else in the meantime
            continue
        try:
            export_timeline(named, fcpxml, "fcpxml", left_out=fcpxml_left)
        except OutputExistsError:
            xml.unlink()  # ours, just written
            taken.add(chosen)
            continue
        left = tuple(f"{display_name(str(path))}: {item}" for path, items in ((xml, xml_left), (fcpxml, fcpxml_left))
                     for item in items)
        return FileRouteResult(chosen, xml, fcpxml, import_steps(xml, fcpxml, chosen), left)
    raise OutputExistsError(str(folder / base))
