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
import logging
import os
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio

from montage_ai.core import defaults
from montage_ai.core.base import mediaurl
from montage_ai.core.base.fileio import OutputExistsError, display_name, publish, write_atomic
from montage_ai.otio_adapters.edit import LeftOut, collecting_left_out
from montage_ai.otio_adapters.fcpxml import DEFAULT_VERSION as FCPXML_DEFAULT_VERSION
from montage_ai.otio_adapters.fcpxml import VERSIONS as FCPXML_VERSIONS
from montage_ai.otio_adapters.otio_copies import with_camera_audio, with_clip_markers

__all__ = ["DEFAULT_FORMATS", "FCPXML_DEFAULT_VERSION", "FCPXML_VERSIONS", "FORMATS", "MANIFEST", "Format",
           "export_path", "export_timeline", "read_timeline"]

log = logging.getLogger(__name__)


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
                    overwrite: bool = False, left_out: list[LeftOut] | None = None, **adapter_args) -> Path:
    """Write ``timeline`` as ``fmt`` to ``path`` (temporary file + rename).

    A clip the format cannot carry (a 12.5 fps clip in FCP7 XML) is left out of the file, the
    rest in place; it is added to ``left_out`` when given, else logged as a warning.

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
            otio.adapters.write_to_file(_for_otio_bundler(with_camera_audio(timeline)), tmp, adapter_name=spec.adapter, **adapter_args)
            publish(tmp, target, overwrite=overwrite)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target
    if fmt == "otio":
        timeline = with_plain_paths(with_clip_markers(with_camera_audio(timeline)), adapter_args.pop("url_form", "plain"))
    with collecting_left_out() as dropped:
        text = otio.adapters.write_to_string(timeline, adapter_name=spec.adapter, **adapter_args)
    written = write_atomic(target, text, overwrite=overwrite)
    if left_out is None:
        for item in dropped:
            log.warning("%s: %s", display_name(os.fspath(written)), item)
    else:
        left_out.extend(dropped)
    return written


def with_plain_paths(timeline: otio.schema.Timeline, url_form: str = "plain") -> otio.schema.Timeline:
    """A copy of ``timeline`` whose media references are plain absolute paths (``url_form=
    "plain"``: what Resolve's OTIO importer relinks by, and what Resolve's own OTIO export
    writes) or percent-encoded ``file://`` URLs (``"url"``)."""
    if url_form not in ("plain", "url"):
        raise ValueError(f"url_form must be 'plain' or 'url', not {url_form!r}")

    def url(path: str) -> str:
        if url_form == "plain":
            try:
                path.encode("utf-8")
                return path
            except UnicodeEncodeError:  # a name that is not UTF-8 (Latin-1 bytes): only a URL can carry it
                log.warning("%s: the name is not UTF-8; the .otio keeps it as a percent-encoded file URL",
                            display_name(path))
        return mediaurl.file_url(path)

    return _with_media_urls(timeline, url)


def _with_media_urls(timeline: otio.schema.Timeline, url: Callable[[str], str]) -> otio.schema.Timeline:
    """A copy of ``timeline`` whose file media references point at ``url(path)``; other
    schemes (http:, s3:) are left as they are."""
    copy = timeline.deepcopy()
    for clip in copy.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
            try:
                path = mediaurl.plain_path(ref.target_url)
            except ValueError:
                continue
            ref.target_url = url(path)
    return copy


def _for_otio_bundler(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """A copy whose media URLs survive OTIO's bundler, which percent-decodes a URL twice
    (``unquote`` then ``url2pathname``): a file really named ``%20 intro.mov`` would be looked
    for as ``  intro.mov``. Each URL's path is encoded once more, so the two decodings give the
    real path back (POSIX; elsewhere the URL is left as it is)."""
    if os.name != "posix":
        return timeline
    return _with_media_urls(
        timeline, lambda path: "file://" + urllib.parse.quote(mediaurl.file_url(path)[len("file://"):], safe="/"))


def _read_bundle(path: Path, **adapter_args) -> otio.schema.Timeline:
    """An .otioz's timeline with its media resolved INSIDE the bundle: the bundle is unpacked
    once into ``<name>.media/`` beside it (made when absent, reused after), and every media
    reference becomes the absolute path of the unpacked file there."""
    folder = path.with_name(path.stem + ".media")
    content = folder / "content.otio"
    if not content.exists():
        if folder.exists() and any(folder.iterdir()):
            raise ValueError(f"{folder}: exists and is not an unpacked copy of {path.name}; move it away")
        folder.mkdir(exist_ok=True)
        otio.adapters.read_from_file(os.fspath(path), adapter_name="otioz", extract_to_directory=os.fspath(folder),
                                     **adapter_args)
        log.info("%s: media unpacked into %s", path, folder)
    timeline = otio.adapters.read_from_file(os.fspath(content), adapter_name="otio_json")
    for clip in timeline.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
            # Inside the bundle, OTIO names media relative and unencoded ("media/100%20 a.mov").
            url = ref.target_url
            local = url if "://" in url or url.startswith("file:") else os.path.join(os.fspath(folder), url)
            ref.target_url = mediaurl.file_url(mediaurl.path_from_url(local) if "://" in url else local)
    return timeline


def read_timeline(path: str | os.PathLike[str], fmt: str | None = None, **adapter_args) -> otio.schema.Timeline:
    """Read a timeline file in any of :data:`FORMATS` (by ``fmt``, else by extension)."""
    path = Path(path)
    if fmt is None:
        fmt = next((f.name for f in FORMATS.values() if f.suffix == path.suffix.lower()), None)
        if fmt is None:
            raise ValueError(f"{path}: unknown extension {path.suffix!r}; "
                             f"known: {', '.join(f.suffix for f in FORMATS.values())}")
    try:
        if fmt == "otioz":
            return _read_bundle(path, **adapter_args)
        return otio.adapters.read_from_file(os.fspath(path), adapter_name=FORMATS[fmt].adapter, **adapter_args)
    except (OSError, ValueError, otio.exceptions.OTIOError) as exc:
        raise ValueError(f"{path}: cannot read it as {FORMATS[fmt].description}: {exc}") from None
