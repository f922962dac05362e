"""The cut's files: a timeline written in every interchange format (:func:`run_export`, each
file atomic, every target checked first), a timeline file read back (:func:`read_timeline`),
and :func:`check_free`, the check every job makes of its outputs before any work.

Part of :mod:`montage_ai.core.workflows`, which re-exports every name here: front ends call
``montage_ai.core.workflows`` only. The same conventions: one options object
(:class:`ExportJob`), ``progress(stage, fraction)`` and ``cancel()``. The interchange
adapters are imported inside the functions, so importing this module reaches no file format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from montage_ai.core import defaults
from montage_ai.core.base import stages
from montage_ai.core.base.callbacks import CancelFn, StageFn
from montage_ai.core.base.callbacks import check_cancelled as _check
from montage_ai.core.base.callbacks import stage_fn as _stage_fn
from montage_ai.core.base.errors import MontageError
from montage_ai.core.base.fileio import OutputExistsError
from montage_ai.core.base.types import Failure

__all__ = ["ExportJob", "ExportResult", "check_free", "export_targets", "read_timeline", "run_export"]


@dataclass(frozen=True)
class ExportJob:
    """Which ``formats`` to write (names of ``otio_adapters.export.FORMATS``; default
    :data:`~montage_ai.core.defaults.EXPORT_FORMATS`), ``bundle`` adds the .otioz with the
    media, ``overwrite`` replaces files that exist, ``fcpxml_version`` (None: the default)."""

    formats: tuple[str, ...] = defaults.EXPORT_FORMATS
    bundle: bool = False
    overwrite: bool = False
    fcpxml_version: str | None = None
    #: Drop-frame timecode (30000/1001 and 60000/1001 timelines) and the clips' own sound: None leaves the
    #: timeline's own choice (off unless it says so).
    drop_frame: bool | None = None
    camera_audio: bool | None = None

    def all_formats(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.formats + (("otioz",) if self.bundle else ())))


@dataclass(frozen=True)
class ExportResult:
    """The files written, by format, each format that could not carry the cut, and each
    clip a written file is without (``incomplete``: one per clip, naming the file, the
    format and why)."""

    written: Mapping[str, Path]
    failures: tuple[Failure, ...]
    incomplete: tuple[Failure, ...] = ()


def export_targets(base: str | os.PathLike[str], options: ExportJob = ExportJob()) -> dict[str, Path]:
    """The file of each format: ``base`` with the format's suffix (``cut.otio`` -> ``cut.fcpxml``)."""
    from montage_ai.otio_adapters.export import export_path

    return {fmt: export_path(base, fmt) for fmt in options.all_formats()}


def check_free(paths: Sequence[str | os.PathLike[str] | None], overwrite: bool = False) -> None:
    """Raise :class:`OutputExistsError` for the first path that exists (unless ``overwrite``):
    a job checks every output before any work."""
    if overwrite:
        return
    for path in paths:
        if path is not None and Path(path).exists():
            raise OutputExistsError(Path(path))


def run_export(timeline: Any, base: str | os.PathLike[str], options: ExportJob = ExportJob(), *,
               paths: Mapping[str, str | os.PathLike[str]] | None = None, progress: StageFn | None = None,
               cancel: CancelFn | None = None) -> ExportResult:
    """Write ``timeline`` in every format of ``options``, each atomically, at
    :func:`export_targets` of ``base`` (or ``paths[format]``).

    Every target is checked first (:class:`OutputExistsError` before anything is written). A
    format that cannot carry this cut is a failure (stage ``export``); the others are written.
    """
    from montage_ai.otio_adapters.edit import InterchangeError, set_timeline_options
    from montage_ai.otio_adapters.export import export_timeline

    targets = export_targets(base, options)
    targets.update({fmt: Path(p) for fmt, p in (paths or {}).items()})
    check_free(list(targets.values()), options.overwrite)
    if options.drop_frame is not None or options.camera_audio is not None:
        try:
            set_timeline_options(timeline, drop_frame=options.drop_frame, camera_audio=options.camera_audio)
        except (InterchangeError, ValueError) as exc:
            raise MontageError(str(exc)) from None
    report_stage = _stage_fn(progress)
    written: dict[str, Path] = {}
    failures: list[Failure] = []
    incomplete: list[Failure] = []
    for k, (fmt, path) in enumerate(targets.items()):
        _check(cancel)
        extra = {"version": options.fcpxml_version} if fmt == "fcpxml" and options.fcpxml_version else {}
        left_out: list = []
        try:
            written[fmt] = export_timeline(timeline, path, fmt, overwrite=options.overwrite, left_out=left_out, **extra)
        except (InterchangeError, ValueError) as exc:  # a format that cannot carry this cut: the others still do
            failures.append(Failure(str(path), stages.EXPORT, f"not written: {exc}"))
        else:
            incomplete += [Failure(str(path), stages.EXPORT, f"written without a clip: {item}") for item in left_out]
        report_stage(stages.EXPORT, (k + 1) / len(targets))
    return ExportResult(written, tuple(failures), tuple(incomplete))


def read_timeline(path: str | os.PathLike[str], *, rate: Any = None) -> Any:
    """A timeline file (.otio, .otioz, .fcpxml, .xml, .edl), read back; ``rate`` is the frame
    rate of an EDL that does not say it.

    Raises
    ------
    MontageError
        The file cannot be read as its format (the message names it and why).
    """
    from montage_ai.otio_adapters.export import read_timeline as read

    extra = {"rate": rate} if rate and str(path).lower().endswith(".edl") else {}
    try:
        return read(path, **extra)
    except ValueError as exc:
        raise MontageError(str(exc)) from None
