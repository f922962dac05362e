"""Cached analysis jobs: the unit of work an executor runs, one file each.

``analyze_footage_cached`` and ``analyze_music_cached`` look the file up in the
:class:`~montage_ai.core.run.cache.AnalysisCache` first (no decode, no ffprobe on a hit) and
store what they compute. ``analyze_files`` runs them over many files with an executor and
splits the outcome into results and failures, so one bad clip never stops the others.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Sequence

from montage_ai.core.analysis.beat_grid import Correction
from montage_ai.core.analysis.footage import ANALYSIS_VERSION, FootageAnalysis, analyze_footage
from montage_ai.core.analysis.music import MUSIC_ANALYSIS_VERSION, MusicAnalysis
from montage_ai.core.analysis.music_stream import analyze_music_bounded
from montage_ai.core.base.errors import MediaError, NoUsableFootage
from montage_ai.core.base.fileio import collect_media, not_a_regular_file
from montage_ai.core.run.cache import AnalysisCache, FileIdentity
from montage_ai.core.run.executor import CancelFn, Executor, InlineExecutor, JobResult, Progress, ProgressFn
from montage_ai.core.run.grid_store import GridStore, corrected_analysis

log = logging.getLogger(__name__)

FOOTAGE_KIND = "footage"
MUSIC_KIND = "music"


def _identity(path: str) -> FileIdentity:
    problem = not_a_regular_file(path)
    if problem:
        raise MediaError(path, problem)
    try:
        return FileIdentity.of(path)
    except FileNotFoundError:
        raise MediaError(path, "file does not exist") from None
    except IsADirectoryError:
        raise MediaError(path, "is a folder, not a media file") from None
    except OSError as exc:
        raise MediaError(path, f"cannot be read: {exc.strerror or exc}") from None


_WARNED: set[str] = set()


def cache_unwritable(cache: AnalysisCache, exc: OSError) -> None:
    """Say once per cache folder that it cannot be written (results are kept in memory)."""
    root = str(cache.root)
    if root not in _WARNED:
        _WARNED.add(root)
        log.warning("the analysis cache %s cannot be written (%s); analysing in memory, nothing is kept for the "
                    "next run", root, exc.strerror or exc)


def _put(cache: AnalysisCache, key: str, payload: dict) -> None:
    try:
        cache.put(key, payload)
    except OSError as exc:
        cache_unwritable(cache, exc)


def _lookup(cache: AnalysisCache, kind: str, version: str, path: str, loader: Callable[[dict], Any],
            **params: Any) -> tuple[str, Any | None]:
    """The cache key of a file's analysis and the cached result, or None on a miss."""
    key = cache.key(kind, _identity(path), version, **params)
    hit = cache.get(key)
    if hit is None:
        return key, None
    try:
        return key, _rebase(loader(hit), path, str(cache.asset_dir(key)))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        log.warning("cached %s analysis of %s is unusable (%s); analysing again", kind, path, exc)
        return key, None


def _rebase(result: Any, path: str, asset_dir: str) -> Any:
    """A cached result as seen from here: the entry may have been written for a copy of
    the file elsewhere, or by a cluster worker that mounts the storage under another
    prefix (the key is the file's content, not its path). Its paths become ``path`` and
    its thumbnails those in this cache's asset folder of the entry."""
    if getattr(result, "path", path) == path:
        return result
    changes: dict[str, Any] = {"path": path}
    media = getattr(result, "media", None)
    if media is not None and hasattr(media, "path"):
        changes["media"] = dataclasses.replace(media, path=path)
    shots = getattr(result, "shots", None)
    if shots is not None:
        changes["shots"] = tuple(
            s if not getattr(s, "thumbnail", None)
            else dataclasses.replace(s, thumbnail=os.path.join(asset_dir, os.path.basename(s.thumbnail.replace("\\", "/"))))
            for s in shots)
    return dataclasses.replace(result, **changes)


def analyze_footage_cached(path: str, *, mode: str = "auto", cache: AnalysisCache | None = None,
                           progress: Callable[[float], None] | None = None,
                           cancel: Callable[[], bool] | None = None) -> FootageAnalysis:
    """Footage analysis of one file, from the cache when the file is unchanged."""
    path = os.path.abspath(path)
    if cache is None:
        return analyze_footage(path, mode=mode, progress=progress, cancel=cancel)
    key, result = _lookup(cache, FOOTAGE_KIND, ANALYSIS_VERSION, path, FootageAnalysis.from_dict, mode=mode)
    if result is None:
        thumbs = cache.asset_dir(key)
        try:
            thumbs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a full or read-only cache: analyse in memory, the cut goes on
            cache_unwritable(cache, exc)
            return analyze_footage(path, mode=mode, progress=progress, cancel=cancel)
        result = analyze_footage(path, mode=mode, thumbnail_dir=str(thumbs), progress=progress, cancel=cancel)
        _put(cache, key, result.to_dict())
    elif progress:
        progress(1.0)
    return result


def analyze_music_cached(path: str, *, cache: AnalysisCache | None = None,
                         progress: Callable[[float], None] | None = None,
                         cancel: Callable[[], bool] | None = None, kept_grid: bool = True,
                         grid_store: GridStore | None = None,
                         corrections: Sequence[Correction] = ()) -> MusicAnalysis:
    """Music analysis of one file, from the cache when the file is unchanged.

    The analysis runs in worker processes (:func:`~montage_ai.core.analysis.music_stream.analyze_music_bounded`):
    ``cancel()`` stops it within a tenth of a second, and a long song is streamed in chunks.

    The beat grid the editor kept for the song (:mod:`~montage_ai.core.run.grid_store`,
    ``grid_store`` or the default one; ``kept_grid=False`` for the tracked grid) and then
    ``corrections`` (this call only) are applied to the result; the cache holds the tracked
    analysis.
    """
    path = os.path.abspath(path)
    problem = not_a_regular_file(path)  # a FIFO named like a song would block the decoder
    if problem:
        raise MediaError(path, problem)
    if cache is None:
        result = analyze_music_bounded(path, progress=progress, cancel=cancel)
    else:
        key, result = _lookup(cache, MUSIC_KIND, MUSIC_ANALYSIS_VERSION, path, MusicAnalysis.from_dict)
        if result is None:
            result = analyze_music_bounded(path, progress=progress, cancel=cancel)
            _put(cache, key, result.to_dict())
        elif progress:
            progress(1.0)
    store = (grid_store or GridStore()) if kept_grid else None
    try:
        return corrected_analysis(path, result, store, corrections)
    except ValueError as exc:
        raise MediaError(path, f"beat-grid correction: {exc}") from None


def footage_job(path: str, progress: Callable[[float], None], cancel: Callable[[], bool], *,
                mode: str = "auto", cache_root: str | None = None) -> FootageAnalysis:
    """Executor job: picklable, takes the cache as a folder path."""
    cache = AnalysisCache(cache_root) if cache_root is not None else None
    return analyze_footage_cached(path, mode=mode, cache=cache, progress=progress, cancel=cancel)


@dataclass
class AnalysisReport:
    """Analyses of the files that worked, and the reason for each that did not."""

    analyses: list[FootageAnalysis] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def analyze_files(paths: Sequence[str], *, executor: Executor | None = None, mode: str = "auto",
                  cache: AnalysisCache | None = None, progress: ProgressFn | None = None,
                  cancel: CancelFn | None = None) -> AnalysisReport:
    """Analyse many footage files; cache hits are served here without dispatching a job."""
    report = AnalysisReport()
    todo: list[str] = []
    found: dict[str, FootageAnalysis] = {}
    for p in (os.path.abspath(p) for p in paths):
        problem = not_a_regular_file(p)  # a FIFO or device is named, never opened
        if problem:
            report.failures.append((p, str(MediaError(p, problem))))
            continue
        if cache is not None:
            try:
                _, hit = _lookup(cache, FOOTAGE_KIND, ANALYSIS_VERSION, p, FootageAnalysis.from_dict, mode=mode)
            except MediaError as exc:
                report.failures.append((p, str(exc)))
                continue
            if hit is not None:
                found[p] = hit
                continue
        todo.append(p)
    job = partial(footage_job, mode=mode, cache_root=str(cache.root) if cache is not None else None)
    results: list[JobResult] = (executor or InlineExecutor()).run(job, todo, progress=progress, cancel=cancel)
    by_path = {r.item: r for r in results}
    for p in (os.path.abspath(p) for p in paths):
        if p in found:
            report.analyses.append(found[p])
        elif p in by_path:
            r = by_path[p]
            if r.ok:
                report.analyses.append(r.value)
            else:
                report.failures.append((p, r.error or "failed"))
    return report


def as_json(report: AnalysisReport) -> dict[str, Any]:
    return {
        "footage": [a.to_dict() for a in report.analyses],
        "failures": [{"path": p, "reason": reason} for p, reason in report.failures],
    }


def analyze_media(media: Sequence[str], *, executor: Executor | None = None, mode: str = "auto",
                  cache: AnalysisCache | None = None, progress: Callable[[str, float], None] | None = None,
                  clip_progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> AnalysisReport:
    """The footage of ``media`` (files, and the media files in folders), analysed: what every
    job that starts from footage does first.

    Reports the ``"footage"`` stage through ``progress(stage, fraction)`` and each file
    through ``clip_progress``. A file that cannot be analysed is in ``failures``; the others go on.

    Raises
    ------
    NoUsableFootage
        No footage was found, or none of it could be analysed (every reason named).
    """
    files = collect_media(list(media))
    if not files:
        raise NoUsableFootage("no footage found in " + ", ".join(map(str, media)))
    report_stage = progress or (lambda stage, fraction: None)

    def footage_progress(p: Progress) -> None:
        if clip_progress is not None:
            clip_progress(p)
        report_stage(FOOTAGE_KIND, min(1.0, (p.done + (p.fraction if p.fraction < 1.0 else 0.0)) / max(p.total, 1)))

    report = analyze_files(files, executor=executor, mode=mode, cache=cache, progress=footage_progress, cancel=cancel)
    report_stage(FOOTAGE_KIND, 1.0)
    if not report.analyses:
        reasons = "; ".join(reason for _, reason in report.failures) or "no clip could be read"
        raise NoUsableFootage(f"none of the {len(files)} clips can be used: {reasons}")
    return report
