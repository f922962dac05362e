"""The rough cut, end to end: media -> analysis -> plan -> cut list -> OTIO timeline.

>>> result = make_rough_cut(["footage/"], "music/song.wav", RoughCutOptions(style="cinematic"))  # doctest: +SKIP
>>> result.cut_list.duration, len(result.cut_list.cuts)                                       # doctest: +SKIP
(1437, 31)

Progress comes through one callback, ``progress(stage, fraction)``, with the stages
``"footage"``, ``"music"``, ``"duplicates"`` (keyframe hashes), ``"plan"``, ``"assemble"``
and ``"timeline"``; ``cancel()`` is polled throughout.

The planner is the one passed in, else the one :func:`choose_planner` picks from the
options: ``planner="rules"`` the deterministic planner; ``"ollama"`` the local LLM
(:class:`~montage_ai.core.plan.ollama_planner.OllamaPlanner`, which falls back to the rules with
a note); ``"auto"`` the LLM when Ollama answers and has the model, else the rules. A clip
that cannot be analysed is skipped and listed in
``RoughCut.failures``; the cut goes on with the others.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Sequence

import opentimelineio as otio

from montage_ai.core.cut.assembly import assemble
from montage_ai.core.cut.fit import DurationError, fit_duration, song_excerpt
from montage_ai.core.media.probe import probe
from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.model.cutlist import CutList
from montage_ai.core.analysis.duplicates import find_duplicates, shot_hashes
from montage_ai.core.base.errors import Cancelled, MontageError
from montage_ai.core.run.executor import Executor, InlineExecutor, Progress
from montage_ai.core.base.fileio import collect_media
from montage_ai.core.analysis.footage import FootageAnalysis
from montage_ai.core.run.jobs import analyze_files, analyze_music_cached
from montage_ai.core.analysis.music import MusicAnalysis
from montage_ai.core.plan.planner import Planner, PlanRequest, RulesPlanner, StoryPlan, make_request
from montage_ai.core.plan.patterns import apply_pattern, load_pattern
from montage_ai.core.plan.styles import Style, load_style
from montage_ai.core.model.timeline import build_timeline

log = logging.getLogger(__name__)

StageProgress = Callable[[str, float], None]


@dataclass(frozen=True)
class RoughCutOptions:
    """What the editor chose: style, length, rate, seed (re-roll), brief, analysis mode."""

    style: str = "dynamic"
    duration_s: float | None = None
    rate: Fraction | None = None
    seed: int = 0
    brief: str = ""
    mode: str = "auto"
    name: str | None = None
    size: tuple[int, int] | None = None
    planner: str = "rules"
    ollama_host: str | None = None
    model: str | None = None
    vision_model: str | None = None
    #: The part of the song: seconds (``"42.5"``, ``"1:05"``) or a section label; None: from
    #: the start / to the end (see :func:`~montage_ai.core.cut.fit.song_excerpt`).
    song_start: str | None = None
    song_end: str | None = None
    #: A cut pattern (``core/plan/patterns/*.toml``) laid over the style, or None.
    pattern: str | None = None


PLANNERS = ("auto", "ollama", "rules")


@dataclass
class RoughCut:
    cut_list: CutList
    timeline: otio.schema.Timeline
    plan: StoryPlan
    style: Style
    analyses: list[FootageAnalysis]
    music: MusicAnalysis
    failures: list[tuple[str, str]] = field(default_factory=list)


class NoUsableFootage(MontageError):
    pass


def choose_planner(options: RoughCutOptions, analyses: Sequence[FootageAnalysis], *,
                   cache: AnalysisCache | None = None, request: PlanRequest | None = None,
                   progress: Callable[[float], None] | None = None,
                   cancel: Callable[[], bool] | None = None) -> Planner:
    """The planner the options ask for; with a vision model, the shots (those of ``request``
    when given) are captioned first.

    ``"auto"`` asks Ollama (``GET /api/tags``, a few seconds at most) and uses the rules
    planner, quietly, when nothing answers; a server without the model gives the LLM planner,
    which falls back to the rules with a note that says which ``ollama pull`` fixes it.
    """
    from montage_ai.core.plan.captions import caption_shots
    from montage_ai.core.plan.ollama_config import OllamaSettings, check_ollama, pull_command
    from montage_ai.core.plan.ollama_planner import OllamaPlanner

    if options.planner not in PLANNERS:
        raise MontageError(f"unknown planner {options.planner!r} (use {', '.join(PLANNERS)})")
    if options.planner == "rules":
        return RulesPlanner()
    settings = OllamaSettings.resolve(host=options.ollama_host, model=options.model, vision_model=options.vision_model)
    status = check_ollama(settings)
    if options.planner == "auto" and not status.reachable:
        log.info("planner auto: %s; the rules planner plans", status.error)
        return RulesPlanner()
    notes: list[str] = []
    captions: dict[tuple[str, int], str] = {}
    vision = settings.vision_model
    if vision and status.reachable and status.has(settings.model):
        if not status.has(vision):
            notes.append(f"no captions: model {vision} is not in Ollama at {settings.host} ({pull_command(vision)})")
        else:
            only = {(c.path, c.shot_index) for c in request.shots} if request is not None else None
            report = caption_shots(analyses, settings, cache=cache, only=only, progress=progress, cancel=cancel)
            captions = report.captions
            if report.problem and not captions:
                notes.append(f"no captions: {report.problem}")
            elif report.failed:
                notes.append(f"{report.failed} shots without a caption: {report.problem or 'no answer'}")
    return OllamaPlanner(settings, captions=captions, notes=tuple(notes))


def check_duration(music_path: str, options: RoughCutOptions) -> None:
    """Refuse a ``duration_s`` no song can give (not positive) or longer than the file,
    before any analysis (the bar-exact range is checked once the music is analysed)."""
    d = options.duration_s
    if d is None:
        return
    if not math.isfinite(d) or d <= 0:
        raise DurationError(f"--duration {d:g}: a cut lasts a positive number of seconds, at most the song's length")
    if options.song_start is None and options.song_end is None:
        try:
            length = probe(music_path, require_video=False).duration_s
        except MontageError:
            return  # the music analysis says what is wrong with the file
        if d > length + 0.05:
            raise DurationError(f"--duration {d:g}: {music_path} lasts {length:.2f} s; ask for at most {length:.2f} s")


def fitted_music(music: MusicAnalysis, options: RoughCutOptions) -> tuple[MusicAnalysis, float | None]:
    """The part of the song the options choose and the cut's fitted duration (None: the
    whole part), which the planner and the assembly then share."""
    if options.song_start is not None or options.song_end is not None:
        music = song_excerpt(music, options.song_start, options.song_end)
    fit = fit_duration(music, options.duration_s)
    return music, (fit.duration_s if options.duration_s is not None else None)


def make_rough_cut(media: Sequence[str], music_path: str, options: RoughCutOptions = RoughCutOptions(), *,
                   cache: AnalysisCache | None = None, executor: Executor | None = None,
                   planner: Planner | None = None, progress: StageProgress | None = None,
                   cancel: Callable[[], bool] | None = None) -> RoughCut:
    """Analyse ``media`` (files or folders) and the music, plan, assemble and build the timeline."""
    cancel = cancel or (lambda: False)
    report_stage = progress or (lambda stage, fraction: None)
    style = load_style(options.style)
    if options.pattern:
        style = apply_pattern(style, load_pattern(options.pattern))
    check_duration(music_path, options)
    files = collect_media(list(media))
    if not files:
        raise NoUsableFootage("no footage found in " + ", ".join(map(str, media)))

    def footage_progress(p: Progress) -> None:
        report_stage("footage", min(1.0, (p.done + (p.fraction if p.fraction < 1.0 else 0.0)) / max(p.total, 1)))

    report = analyze_files(files, executor=executor or InlineExecutor(), mode=options.mode, cache=cache,
                           progress=footage_progress, cancel=cancel)
    report_stage("footage", 1.0)
    if not report.analyses:
        reasons = "; ".join(reason for _, reason in report.failures) or "no clip could be read"
        raise NoUsableFootage(f"none of the {len(files)} clips can be used: {reasons}")
    if cancel():
        raise Cancelled("cancelled by the user")
    music = analyze_music_cached(os.path.abspath(music_path), cache=cache,
                                 progress=lambda f: report_stage("music", f), cancel=cancel)
    music, duration_s = fitted_music(music, options)
    hashes = shot_hashes(report.analyses, progress=lambda f: report_stage("duplicates", f), cancel=cancel)
    duplicates = find_duplicates(report.analyses, hashes)
    report_stage("duplicates", 1.0)
    report_stage("plan", 0.0)
    request = make_request(report.analyses, music, style, seed=options.seed, duration_s=duration_s,
                           brief=options.brief)
    if planner is None:
        planner = choose_planner(options, report.analyses, cache=cache, request=request, cancel=cancel,
                                 progress=lambda f: report_stage("plan", 0.9 * f))
    plan = planner.plan(request)
    report_stage("plan", 1.0)
    if cancel():
        raise Cancelled("cancelled by the user")
    report_stage("assemble", 0.0)
    cut_list = assemble(plan, report.analyses, music, style, rate=options.rate, duration_s=duration_s,
                        seed=options.seed, size=options.size, name=options.name, brief=options.brief,
                        duplicates=duplicates)
    report_stage("assemble", 1.0)
    timeline = build_timeline(cut_list, media={a.path: a.media for a in report.analyses})
    report_stage("timeline", 1.0)
    return RoughCut(cut_list, timeline, plan, style, list(report.analyses), music, list(report.failures))
