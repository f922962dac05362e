"""The product's jobs, one function each: what the CLI, the panel and the Resolve launcher call.

=====================  ===================  =====================================================
function               options              does
=====================  ===================  =====================================================
:func:`run_analysis`   :class:`AnalysisJob` analyse footage (and a song): shots, features, beats
:func:`run_rough_cut`  :class:`RoughCutJob` analyse, plan, cut on the beat, build the timeline
:func:`run_selects`    :class:`SelectsJob`  the best piece(s) of every clip as a stringout
:func:`run_shot_report` :class:`ReportJob`  the HTML shot report (and its CSV)
:func:`run_media_log`  :class:`MediaLogJob` judge every shot for logging (Resolve writes it)
:func:`run_proxies`    :class:`ProxiesJob`  edit proxies beside the media
:func:`run_export`     :class:`ExportJob`   a timeline in every format (.otio, .fcpxml, .xml, .edl)
:func:`run_preview`    :class:`PreviewJob`  a preview MP4 of a cut with its music
:func:`run_push`       :class:`PushJob`     proxies (when asked), then the cut into Resolve
:func:`run_music_analysis` :class:`MusicJob` a song's beats, downbeats and sections, grid as kept
=====================  ===================  =====================================================

The beat grid the editor corrects: :func:`keep_grid_corrections`, :func:`kept_grid`,
:func:`reset_grid`, :func:`restore_grid` (undo), :func:`run_click_track` (a click track to
audition it), and :func:`run_grid_export` (the music alone with its markers). An
edited cut list becomes the timeline every export reads through :func:`cut_timeline`.

Every job takes its inputs, **one** options object, and the callbacks
``progress(stage, fraction)`` (stage names in :mod:`~montage_ai.core.base.stages`) and
``cancel()`` (polled; the job raises :class:`~montage_ai.core.base.errors.Cancelled`).
Jobs over many files also take ``clip_progress(Progress)`` for per-file display.

Where the work runs and what it reuses is :class:`WorkOptions` (workers, a Dask
``scheduler`` and ``path_map``, the analysis cache, in-process for Resolve's console, or an
executor the caller owns): one field, ``work``, of every job's options, so an option a front
end accepts reaches the engine the same way in every job. Defaults come from
:mod:`montage_ai.core.defaults`.

What a job could not use is in its result's ``failures``: :class:`~montage_ai.core.base.types.Failure`
(path, stage, reason), one line each with ``str()``.

This module conducts the stages and is the one place in ``core/`` that reaches the
interchange adapters (``run_export``, ``run_grid_export``) and the Resolve plugin (``run_push``); it imports them
inside those functions, so the stages below it still import no file format and no Resolve. The song's
jobs (``MusicJob`` to ``run_grid_export``) live in :mod:`~montage_ai.core.workflows_music`, the cut's
files (``ExportJob``, ``run_export``, ``read_timeline``, ``check_free``) in
:mod:`~montage_ai.core.workflows_export`; both are re-exported here: front ends import them from this
module, as every other job.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

from montage_ai.core import defaults
from montage_ai.core.base import stages
from montage_ai.core.base.callbacks import CancelFn, StageFn
from montage_ai.core.base.callbacks import check_cancelled as _check
from montage_ai.core.base.callbacks import stage_fn as _stage_fn
from montage_ai.core.base.errors import Cancelled, MontageError, NoUsableFootage
from montage_ai.core.base.fileio import OutputExistsError
from montage_ai.core.base.types import Failure, ShotKey
from montage_ai.core.cut.clip_log import ClipLog
from montage_ai.core.cut.roughcut import RoughCut, RoughCutOptions
from montage_ai.core.cut.selects import Selects, SelectsOptions
from montage_ai.core.cut.selects_timeline import SelectsResult
from montage_ai.core.run.executor import Progress, ProgressFn
from montage_ai.core.run.work import WorkOptions
from montage_ai.core.workflows_export import (  # the cut's files, written and read back, re-exported
    ExportJob,
    ExportResult,
    check_free,
    export_targets,
    read_timeline,
    run_export,
)
from montage_ai.core.workflows_music import (  # the song's analysis and its beat grid, re-exported
    MusicJob,
    keep_grid_corrections,
    kept_grid,
    reset_grid,
    restore_grid,
    run_click_track,
    run_grid_export,
    run_music_analysis,
)

log = logging.getLogger(__name__)

__all__ = [
    "AnalysisJob", "AnalysisResult", "Cancelled", "CutResult", "Failure",
    "MediaLog", "MediaLogJob", "MontageError", "NoUsableFootage", "OutputExistsError", "PreviewJob",
    "ProxiesJob", "PushJob", "ReportJob", "ReportResult", "RoughCut", "RoughCutJob", "RoughCutOptions",
    "SelectsJob", "SelectsOptions", "SelectsResult", "WorkOptions", "preview_size",
    "proxy_map", "run_analysis", "run_media_log", "run_preview", "run_proxies", "run_push",
    "run_rough_cut", "run_selects", "run_shot_report",
]

__all__ += [  # re-exported from workflows_export
    "ExportJob", "ExportResult", "check_free", "export_targets", "read_timeline", "run_export",
]

__all__ += [  # re-exported from workflows_music
    "MusicJob", "keep_grid_corrections", "kept_grid", "reset_grid", "restore_grid", "run_click_track",
    "run_grid_export", "run_music_analysis",
]


# --------------------------------------------------------------------------- results


class CutResult(Protocol):
    """What a preview, an export or a push needs of a cut: a rough cut, selects, a cut the
    editor changed. :class:`~montage_ai.core.cut.roughcut.RoughCut` and :class:`SelectsResult` are."""

    cut_list: Any
    timeline: Any
    analyses: Sequence[Any]


# --------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class AnalysisJob:
    """``montage-ai analyze``: the analysis ``mode`` and an optional song analysed too."""

    mode: str = defaults.MODE
    music: str | None = None
    work: WorkOptions = WorkOptions()


@dataclass(frozen=True)
class AnalysisResult:
    analyses: tuple[Any, ...]
    music: Any
    failures: tuple[Failure, ...]
    report: Any  # the engine's AnalysisReport (``as_json`` writes it)

    def to_json(self) -> dict[str, Any]:
        from montage_ai.core.run.jobs import as_json

        doc = as_json(self.report)
        if self.music is not None:
            doc["music"] = self.music.to_dict()
        return doc


def run_analysis(media: Sequence[str], options: AnalysisJob = AnalysisJob(), *, progress: StageFn | None = None,
                 clip_progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> AnalysisResult:
    """Analyse the footage of ``media`` (files or folders) and, when asked, the song.

    Unlike the other jobs it does not raise when no clip can be analysed: the failures are
    the answer. It raises :class:`NoUsableFootage` only when no footage is found at all.
    """
    from montage_ai.core.base.fileio import collect_media
    from montage_ai.core.run.jobs import AnalysisReport, analyze_files, analyze_music_cached

    report_stage = _stage_fn(progress)
    files = collect_media(list(media)) if media else []
    if not files and not options.music:
        raise NoUsableFootage("no footage found in " + (", ".join(map(str, media)) or "no path given"))
    cache = options.work.cache()

    def on_clip(p: Progress) -> None:
        if clip_progress is not None:
            clip_progress(p)
        report_stage(stages.FOOTAGE, min(1.0, (p.done + (p.fraction if p.fraction < 1.0 else 0.0)) / max(p.total, 1)))

    report = AnalysisReport()
    if files:  # a song may be analysed alone
        with options.work.executor_for() as executor:
            report = analyze_files(files, executor=executor, mode=options.mode, cache=cache, progress=on_clip,
                                   cancel=cancel)
    report_stage(stages.FOOTAGE, 1.0)
    _check(cancel)
    music = None
    if options.music:
        music = analyze_music_cached(options.music, cache=cache, progress=lambda f: report_stage(stages.MUSIC, f),
                                     cancel=cancel)
        from montage_ai.core.media.song import song_info

        song_info(music)  # says so when the song is truncated, as the cut does
    return AnalysisResult(tuple(report.analyses), music, Failure.of(stages.FOOTAGE, report.failures), report)


def cut_timeline(cut_list: Any, media: Mapping[str, Any] | None = None) -> Any:
    """The OTIO timeline of a cut list (an edited cut, the selects): what every export, the
    preview and the push read. ``media``: the probes of its files, by path (probed when absent)."""
    from montage_ai.core.model.timeline import build_timeline

    return build_timeline(cut_list, media=dict(media) if media is not None else None)


# --------------------------------------------------------------------------- rough cut


@dataclass(frozen=True)
class RoughCutJob:
    """A rough cut: the editor's choices (:class:`RoughCutOptions`: style, duration, rate,
    seed, brief, mode, name, planner and Ollama models, each given once) and where it runs."""

    cut: RoughCutOptions = RoughCutOptions()
    work: WorkOptions = WorkOptions()


def run_rough_cut(media: Sequence[str], music: str, options: RoughCutJob = RoughCutJob(), *,
                  progress: StageFn | None = None, clip_progress: ProgressFn | None = None,
                  cancel: CancelFn | None = None, planner: Any = None) -> RoughCut:
    """Analyse ``media`` and ``music``, plan the story, cut on the beat and build the timeline.

    ``planner`` replaces the one the options choose (tests, a planner the caller holds).
    Stages: footage, music, duplicates, plan, assemble, timeline. Raises
    :class:`NoUsableFootage` when no clip can be used; clips that cannot are in ``failures``.
    """
    from montage_ai.core.cut.roughcut import make_rough_cut

    with options.work.executor_for() as executor:
        return make_rough_cut(media, music, options.cut, cache=options.work.cache(), executor=executor,
                              planner=planner, progress=progress, clip_progress=clip_progress, cancel=cancel)


def failures_of(result: Any, stage: str = stages.FOOTAGE) -> tuple[Failure, ...]:
    """The failures of a job result (its ``(path, reason)`` pairs as :class:`Failure`)."""
    return Failure.of(stage, getattr(result, "failures", ()) or ())


# --------------------------------------------------------------------------- selects


@dataclass(frozen=True)
class SelectsJob:
    """Selects: what to choose (:class:`SelectsOptions`: per clip, lowest score, grouping,
    piece length, seed), the timeline's ``name`` and where it runs."""

    selects: SelectsOptions = SelectsOptions(group=defaults.SELECTS_GROUP)
    name: str = "Selects"
    work: WorkOptions = WorkOptions()


def run_selects(media: Sequence[str], options: SelectsJob = SelectsJob(), *, progress: StageFn | None = None,
                clip_progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> SelectsResult:
    """Analyse ``media``, judge every shot and lay the best pieces out as a timeline.

    Stages: footage, duplicates, timeline. Raises :class:`NoUsableFootage`, or
    :class:`~montage_ai.core.cut.selects.SelectsError` when every shot was left out.
    """
    from montage_ai.core.cut.selects_timeline import make_selects

    with options.work.executor_for() as executor:
        return make_selects(media, options.selects, name=options.name, cache=options.work.cache(),
                            executor=executor, progress=progress, clip_progress=clip_progress, cancel=cancel)


# --------------------------------------------------------------------------- shot report


@dataclass(frozen=True)
class ReportJob:
    """The shot report: how shots are judged (``selects``), an optional ``music`` to chart,
    the CSV's path (None: beside the page), ``overwrite`` an existing page, where it runs."""

    selects: SelectsOptions = SelectsOptions()
    music: str | None = None
    csv_path: str | None = None
    overwrite: bool = False
    work: WorkOptions = WorkOptions()


@dataclass(frozen=True)
class ReportResult:
    html: Path
    csv: Path
    selects: Selects
    analyses: tuple[Any, ...]
    failures: tuple[Failure, ...]


def run_shot_report(media: Sequence[str], out: str | os.PathLike[str], options: ReportJob = ReportJob(), *,
                    progress: StageFn | None = None, clip_progress: ProgressFn | None = None,
                    cancel: CancelFn | None = None) -> ReportResult:
    """Analyse ``media`` (and the song), judge every shot and write the report to ``out``.

    Both files are checked before any work: an existing one without ``overwrite`` raises
    :class:`OutputExistsError`. Stages: footage, music, duplicates, report.
    """
    from montage_ai.core.cut.selects import judge_shots
    from montage_ai.core.render.report import write_report
    from montage_ai.core.run.jobs import analyze_media, analyze_music_cached

    out = Path(out)
    csv_path = Path(options.csv_path) if options.csv_path else out.with_suffix(".csv")
    if not options.overwrite:
        for target in (out, csv_path):
            if target.exists():
                raise OutputExistsError(target)
    report_stage = _stage_fn(progress)
    cache = options.work.cache()
    with options.work.executor_for() as executor:
        found = analyze_media(media, executor=executor, cache=cache, progress=report_stage,
                              clip_progress=clip_progress, cancel=cancel)
    _check(cancel)
    song = None
    if options.music:
        song = analyze_music_cached(options.music, cache=cache, progress=lambda f: report_stage(stages.MUSIC, f),
                                    cancel=cancel)
    chosen = judge_shots(found.analyses, options.selects, failures=found.failures, progress=report_stage,
                         cancel=cancel)
    html, csv = write_report(out, found.analyses, chosen, music=song, csv_path=csv_path,
                             overwrite=options.overwrite, progress=lambda f: report_stage(stages.REPORT, f),
                             cancel=cancel)
    return ReportResult(html, csv, chosen, tuple(found.analyses), Failure.of(stages.FOOTAGE, found.failures))


# --------------------------------------------------------------------------- media log judgement


@dataclass(frozen=True)
class MediaLogJob:
    """Judging clips for their log: how shots are judged (``selects``: best moments marked
    per clip, lowest score), an Ollama ``vision_model`` for captions (None: none) at
    ``ollama_host``, and where it runs."""

    selects: SelectsOptions = SelectsOptions()
    vision_model: str | None = None
    ollama_host: str | None = None
    work: WorkOptions = WorkOptions()


@dataclass(frozen=True)
class MediaLog:
    """Per clip, every shot's status, reasons, score, best frame and keywords, plus captions
    by shot: what the Resolve side (``resolve_plugin.media_log.plan_log``) writes."""

    clips: tuple[ClipLog, ...]
    captions: Mapping[ShotKey, str]
    selects: Selects
    analyses: tuple[Any, ...]
    failures: tuple[Failure, ...]


def run_media_log(files: Sequence[str], options: MediaLogJob = MediaLogJob(), *, progress: StageFn | None = None,
                  clip_progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> MediaLog:
    """Analyse ``files``, judge every shot and, with a vision model, caption them.

    Stages: footage, duplicates, plan (captions). Raises :class:`NoUsableFootage`.
    """
    from montage_ai.core.cut.clip_log import clip_logs
    from montage_ai.core.cut.selects import judge_shots
    from montage_ai.core.run.jobs import analyze_media

    report_stage = _stage_fn(progress)
    cache = options.work.cache()
    with options.work.executor_for() as executor:
        found = analyze_media(files, executor=executor, cache=cache, progress=report_stage,
                              clip_progress=clip_progress, cancel=cancel)
    chosen = judge_shots(found.analyses, options.selects, failures=found.failures, progress=report_stage,
                         cancel=cancel)
    captions: dict[ShotKey, str] = {}
    if options.vision_model:
        from montage_ai.core.plan.captions import caption_shots
        from montage_ai.core.plan.ollama_config import OllamaSettings

        settings = OllamaSettings.resolve(host=options.ollama_host, vision_model=options.vision_model)
        captions = dict(caption_shots(found.analyses, settings, cache=cache, cancel=cancel,
                                      progress=lambda f: report_stage(stages.PLAN, f)).captions)
    return MediaLog(clip_logs(chosen, found.analyses), captions, chosen, tuple(found.analyses),
                    Failure.of(stages.FOOTAGE, found.failures))


# --------------------------------------------------------------------------- proxies


@dataclass(frozen=True)
class ProxiesJob:
    """Proxies: the ``profile``, the ``encoder`` (None: ``$FFMPEG_HWACCEL``, else auto), an
    ``out_dir`` (None: a Proxy folder beside each file), ``force`` to replace files at the
    proxies' names that Montage AI did not write, and where it runs."""

    profile: str = defaults.PROXY_PROFILE
    encoder: str | None = None
    out_dir: str | None = None
    force: bool = False
    work: WorkOptions = WorkOptions()


def run_proxies(media: Sequence[str], options: ProxiesJob = ProxiesJob(), *, progress: StageFn | None = None,
                clip_progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Any:
    """Make the missing proxies of ``media`` (files or folders; up-to-date ones are skipped).

    Returns the engine's :class:`~montage_ai.core.render.proxies.ProxyReport` (``results``;
    ``failures`` as ``(path, reason)``, :func:`failures_of` gives them as :class:`Failure`).
    A bad ``encoder`` (or ``$FFMPEG_HWACCEL``) is refused before any work.
    """
    from montage_ai.core.base.fileio import collect_media
    from montage_ai.core.render.encoders import preference
    from montage_ai.core.render.proxies import make_proxies

    files = collect_media(list(media))
    if not files:
        raise NoUsableFootage("no footage found in " + ", ".join(map(str, media)))
    preference(options.encoder)
    report_stage = _stage_fn(progress)

    def on_clip(p: Progress) -> None:
        if clip_progress is not None:
            clip_progress(p)
        report_stage(stages.PROXIES, min(1.0, (p.done + (p.fraction if p.fraction < 1.0 else 0.0)) / max(p.total, 1)))

    with options.work.executor_for(defaults.PROXY_WORKERS) as executor:
        # Without an encoder each machine that runs a job follows its own $FFMPEG_HWACCEL.
        report = make_proxies(files, profile=options.profile, encoder=options.encoder, out_dir=options.out_dir,
                              force=options.force, executor=executor, progress=on_clip, cancel=cancel)
    report_stage(stages.PROXIES, 1.0)
    return report


def proxy_map(sources: Sequence[str], proxy_dir: str | None = None) -> dict[str, str]:
    """Source -> proxy to link: our up-to-date proxies (the Proxy folder beside the media),
    and with ``proxy_dir`` any file there named like a source (``A001.mov`` -> ``A001.*``,
    proxies made by other tools).

    Raises
    ------
    MontageError
        ``proxy_dir`` is not a folder.
    """
    from montage_ai.core.render.proxies import proxy_links

    links = proxy_links(sources)
    if not proxy_dir:
        return links
    if not os.path.isdir(proxy_dir):
        raise MontageError(f"{proxy_dir}: the proxy folder is not a folder")
    links.update({s: p for s, p in proxy_links(sources, out_dir=proxy_dir).items() if s not in links})
    by_stem: dict[str, str] = {}
    for name in sorted(os.listdir(proxy_dir)):
        by_stem.setdefault(os.path.splitext(name)[0], os.path.join(proxy_dir, name))
    for s in sources:
        if os.path.abspath(s) not in links and Path(s).stem in by_stem:
            links[os.path.abspath(s)] = by_stem[Path(s).stem]
    return links


# --------------------------------------------------------------------------- preview


@dataclass(frozen=True)
class PreviewJob:
    """The preview's ``height`` in pixels (the width follows the cut's aspect) and whether
    it may ``overwrite`` a file."""

    height: int = defaults.PREVIEW_HEIGHT
    overwrite: bool = False


def preview_size(cut_list: Any, height: int) -> tuple[int, int]:
    """An even width for ``height`` at the cut's aspect (16:9 when the cut has no size).

    >>> from types import SimpleNamespace
    >>> preview_size(SimpleNamespace(width=1920, height=1080), 720), preview_size(SimpleNamespace(width=0, height=0), 360)
    ((1280, 720), (640, 360))
    """
    if cut_list.height:
        return (int(round(cut_list.width * height / cut_list.height / 2)) * 2, height)
    return (int(height * 16 / 9), height)


def run_preview(cut: CutResult, out: str | os.PathLike[str], options: PreviewJob = PreviewJob(), *,
                progress: StageFn | None = None, cancel: CancelFn | None = None) -> Path:
    """Render ``cut`` (its timeline, with the music) to an MP4 at ``out``. Stage: preview."""
    from montage_ai.core.render.preview import render_preview

    report_stage = _stage_fn(progress)
    check_free([out], options.overwrite)
    written = render_preview(cut.timeline, out, size=preview_size(cut.cut_list, options.height),
                             progress=lambda f: report_stage(stages.PREVIEW, f), cancel=cancel,
                             overwrite=options.overwrite, media={a.path: a.media for a in cut.analyses})
    return Path(written)


# --------------------------------------------------------------------------- push into Resolve


@dataclass(frozen=True)
class PushJob:
    """A push into Resolve: the timeline ``name`` (None: the cut's; a number is added when it
    is taken), ``markers`` (beats, downbeats, sections), ``make_proxies`` first with
    ``proxies`` (the profile and encoder), ``proxy_dir`` of other tools' proxies to link too,
    and where the proxies are encoded (``proxies.work``)."""

    name: str | None = None
    markers: bool = True
    make_proxies: bool = False
    proxies: ProxiesJob = ProxiesJob()
    proxy_dir: str | None = None


def run_push(client: Any, cut: CutResult, options: PushJob = PushJob(), *, progress: StageFn | None = None,
             clip_progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Any:
    """Make the missing proxies (when asked), push ``cut`` into Resolve as a new timeline
    through ``client`` (a ``resolve_plugin`` client) linking every proxy found, read it back.

    Returns the :class:`~montage_ai.resolve_plugin.push.PushReport`; proxies that could not
    be made are logged and the push goes on. Stages: proxies, resolve.
    """
    from montage_ai.resolve_plugin.push import push_cut_list

    report_stage = _stage_fn(progress)
    cut_list = cut.cut_list
    if not options.markers:
        cut_list = replace(cut_list, beats=(), downbeats=(), sections=())
    sources = sorted({c.source_path for c in cut_list.cuts})
    if options.make_proxies:
        report_stage(stages.PROXIES, 0.0)
        made = run_proxies(sources, options.proxies, progress=progress, clip_progress=clip_progress, cancel=cancel)
        for failure in failures_of(made, stages.PROXIES):
            log.warning("no proxy: %s", failure)
        for result in made.results:
            if result.note:
                log.info("%s", result.note)
    _check(cancel)
    links = proxy_map(sources, options.proxy_dir)
    return push_cut_list(client, cut_list, timeline=cut.timeline, name=options.name, proxies=links,
                         progress=lambda f: report_stage(stages.RESOLVE, f), cancel=cancel)
