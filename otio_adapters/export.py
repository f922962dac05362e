"""Write a timeline in every format an editor asks for, atomically, never replacing a file
unless told to.

=========  ==========  ==============================  =========================================
format     extension   adapter                         for
=========  ==========  ==============================  =========================================
otio       .otio       otio_json (OTIO built-in)       any OTIO tool, Resolve 18.5+
otioz      .otioz      otioz (OTIO built-in)           the timeline with its media in one zip
fcpxml     .fcpxml     montage_fcpxml (ours)           Resolve, Final Cut Pro (FCPXML 1.9-1.11)
premiere   .xml        montage_fcp7_xml (ours)         Premiere Pro, Resolve (FCP7 XML)
edl        .edl        montage_edl (ours)              anything (CMX 3600, V1 only)
=========  ==========  ==============================  =========================================

Our adapters are also OTIO plugins: ``otioconvert -i cut.otio -o cut.fcpxml`` uses them
(with the official adapters installed too, which one owns a suffix depends on the plugin
load order: name ours with ``-O montage_fcpxml``).

The suffixes come from ``plugin_manifest.json`` (the one list OTIO reads too) and the FCPXML
versions from :data:`montage_ai.otio_adapters.fcpxml.VERSIONS`; this module adds only each
format's name and description.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio

from montage_ai.core import defaults
from montage_ai.core.base.fileio import OutputExistsError, publish, write_atomic
from montage_ai.otio_adapters.fcpxml import DEFAULT_VERSION as FCPXML_DEFAULT_VERSION
from montage_ai.otio_adapters.fcpxml import VERSIONS as FCPXML_VERSIONS

__all__ = ["DEFAULT_FORMATS", "FCPXML_DEFAULT_VERSION", "FCPXML_VERSIONS", "FORMATS", "MANIFEST", "Format",
           "export_path", "export_timeline", "read_timeline"]


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    adapter: str
    description: str


MANIFEST = Path(__file__).with_name("plugin_manifest.json")

#: The editor's name and description of each adapter; the adapter's suffix is the plugin
#: manifest's (ours) or OTIO's (built-in), so a suffix is written in one place only.
_ADAPTERS: tuple[tuple[str, str, str], ...] = (
    ("otio", "otio_json", "OpenTimelineIO"),
    ("otioz", "otioz", "OpenTimelineIO with its media, zipped"),
    ("fcpxml", "montage_fcpxml", f"FCPXML {FCPXML_DEFAULT_VERSION} for Resolve and Final Cut Pro"),
    ("premiere", "montage_fcp7_xml", "FCP7 XML for Premiere Pro and Resolve"),
    ("edl", "montage_edl", "CMX 3600 EDL (video track 1 only)"),
)


def _suffixes() -> dict[str, str]:
    """Adapter name -> its first suffix: ours from :data:`MANIFEST`, OTIO's built-ins from OTIO."""
    with open(MANIFEST, encoding="utf-8") as fh:
        manifest = json.load(fh)
    found = {a["name"]: a["suffixes"][0] for a in manifest.get("adapters", ()) if a.get("suffixes")}
    for _, adapter, _ in _ADAPTERS:
        if adapter not in found:
            found[adapter] = otio.adapters.from_name(adapter).suffixes[0]
    return found


def _formats() -> dict[str, Format]:
    suffixes = _suffixes()
    return {name: Format(name, "." + suffixes[adapter].lstrip("."), adapter, text) for name, adapter, text in _ADAPTERS}


FORMATS: dict[str, Format] = _formats()
#: What ``cut`` and ``demo`` write beside the .otio (the .otioz copies media: on request only).
DEFAULT_FORMATS = defaults.EXPORT_FORMATS


def export_path(base: str | os.PathLike[str], fmt: str) -> Path:
    """``base`` with the extension of ``fmt`` (``cut.otio`` -> ``cut.fcpxml``)."""
    return Path(base).with_suffix(FORMATS[fmt].suffix)


def export_timeline(timeline: otio.schema.Timeline, path: str | os.PathLike[str], fmt: str, *,
                    overwrite: bool = False, **adapter_args) -> Path:
    """Write ``timeline`` as ``fmt`` to ``path`` (temporary file + rename).

    Raises
    ------
    ValueError
        An unknown format, or a timeline the format cannot carry (the message says why).
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    spec = FORMATS[fmt]
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputExistsError(target)
    if fmt == "otioz":
        # The otioz adapter writes (and zips media into) a file itself: give it a temporary one.
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".otioz", dir=target.parent)
        os.close(fd)
        os.unlink(tmp)
        try:
            otio.adapters.write_to_file(timeline, tmp, adapter_name=spec.adapter, **adapter_args)
            publish(tmp, target, overwrite=overwrite)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target
    text = otio.adapters.write_to_string(timeline, adapter_name=spec.adapter, **adapter_args)
    return write_atomic(target, text, overwrite=overwrite)


def read_timeline(path: str | os.PathLike[str], fmt: str | None = None, **adapter_args) -> otio.schema.Timeline:
    """Read a timeline file in any of :data:`FORMATS` (by ``fmt``, else by extension)."""
    path = Path(path)
    if fmt is None:
        fmt = next((f.name for f in FORMATS.values() if f.suffix == path.suffix.lower()), None)
        if fmt is None:
            raise ValueError(f"{path}: unknown extension {path.suffix!r}; "
                             f"known: {', '.join(f.suffix for f in FORMATS.values())}")
    try:
        return otio.adapters.read_from_file(os.fspath(path), adapter_name=FORMATS[fmt].adapter, **adapter_args)
    except (OSError, ValueError, otio.exceptions.OTIOError) as exc:
        raise ValueError(f"{path}: cannot read it as {FORMATS[fmt].description}: {exc}") from None
