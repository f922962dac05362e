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

from montage_ai.core import defaults
from montage_ai.core.analysis.beat_grid import Correction
from montage_ai.core.analysis.duplicates import find_duplicates, shot_hashes
from montage_ai.core.analysis.footage import FootageAnalysis
from montage_ai.core.analysis.music import MusicAnalysis
from montage_ai.core.base import stages
from montage_ai.core.base.errors import Cancelled, MontageError
from montage_ai.core.base.errors import NoUsableFootage as NoUsableFootage  # raised here, named here too
from montage_ai.core.base.types import ShotKey
from montage_ai.core.cut.assembly import assemble, played_music
from montage_ai.core.cut.fit import DurationError, fit_duration, song_excerpt
from montage_ai.core.media.probe import probe
from montage_ai.core.media.song import song_info
from montage_ai.core.model.cutlist import CutList
from montage_ai.core.model.timeline import build_timeline
from montage_ai.core.plan.patterns import apply_pattern, load_pattern
from montage_ai.core.plan.planner import Planner, PlanRequest, RulesPlanner, StoryPlan, make_request
from montage_ai.core.plan.styles import Style, load_style
from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.run.executor import Executor, InlineExecutor, ProgressFn
from montage_ai.core.run.jobs import analyze_media, analyze_music_cached

log = logging.getLogger(__name__)

StageProgress = Callable[[str, float], None]


@dataclass(frozen=True)
class RoughCutOptions:
    """What the editor chose: style, length, rate, seed (re-roll), brief, analysis mode."""

    style: str = defaults.STYLE
    duration_s: float | None = None
    rate: Fraction | None = defaults.RATE
    seed: int = defaults.SEED
    brief: str = ""
    mode: str = defaults.MODE
    name: str | None = None
    #: Frame size (width, height); None: the size of the footage the cut uses most.
    size: tuple[int, int] | None = None
    planner: str = defaults.PLANNER
    ollama_host: str | None = None
    model: str | None = None
    vision_model: str | None = None
    #: Beat-grid corrections for this cut only, on top of the grid kept for the song.
    grid_corrections: tuple[Correction, ...] = ()
    #: The part of the song: seconds (``"42.5"``, ``"1:05"``) or a section label; None: from
    #: the start / to the end (see :func:`~montage_ai.core.cut.fit.song_excerpt`).
    song_start: str | None = None
    song_end: str | None = None
    #: A cut pattern (``core/plan/patterns/*.toml``) laid over the style, or None.
    pattern: str | None = None


PLANNERS = defaults.PLANNERS


@dataclass
class RoughCut:
    cut_list: CutList
    timeline: otio.schema.Timeline
    plan: StoryPlan
    style: Style
    analyses: list[FootageAnalysis]
    music: MusicAnalysis
    failures: list[tuple[str, str]] = field(default_factory=list)


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
    from montage_ai.core.plan.ollama_config import Deadline, OllamaSettings, check_ollama, pull_command
    from montage_ai.core.plan.ollama_planner import OllamaPlanner

    if options.planner not in PLANNERS:
        raise MontageError(f"unknown planner {options.planner!r} (use {', '.join(PLANNERS)})")
    if options.planner == "rules":
        return RulesPlanner()
    settings = OllamaSettings.resolve(host=options.ollama_host, model=options.model, vision_model=options.vision_model)
    deadline = Deadline(settings.budget_s)  # every Ollama request of this cut together
    status = check_ollama(settings, deadline=deadline)
    if options.planner == "auto" and not status.reachable:
        log.info("planner auto: %s; the rules planner plans", status.error)
        return RulesPlanner()
    notes: list[str] = []
    captions: dict[ShotKey, str] = {}
    vision = settings.vision_model
    if vision and status.reachable and status.has(settings.model):
        if not status.has(vision):
            notes.append(f"no captions: model {vision} is not in Ollama at {settings.host} ({pull_command(vision)})")
        else:
            only = {(c.path, c.shot_index) for c in request.shots} if request is not None else None
            report = caption_shots(analyses, settings, cache=cache, only=only, progress=progress, cancel=cancel,
                                   deadline=deadline)
            captions = report.captions
            if report.problem and not captions:
                notes.append(f"no captions: {report.problem}")
            elif report.failed:
                notes.append(f"{report.failed} shots without a caption: {report.problem or 'no answer'}")
    return OllamaPlanner(settings, captions=captions, notes=tuple(notes), deadline=deadline)


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
                   cancel: Callable[[], bool] | None = None,
                   clip_progress: ProgressFn | None = None) -> RoughCut:
    """Analyse ``media`` (files or folders) and the music, plan, assemble and build the timeline.

    The seed, the duration and the brief are given once, in ``options``: the planner gets
    them in its request and the assembly takes them from that request.
    """
    cancel = cancel or (lambda: False)
    report_stage = progress or (lambda stage, fraction: None)
    style = load_style(options.style)
    if options.pattern:
        style = apply_pattern(style, load_pattern(options.pattern))
    check_duration(music_path, options)
    report = analyze_media(media, executor=executor or InlineExecutor(), mode=options.mode, cache=cache,
                           progress=report_stage, clip_progress=clip_progress, cancel=cancel)
    if cancel():
        raise Cancelled("cancelled by the user")
    music = analyze_music_cached(os.path.abspath(music_path), cache=cache, corrections=options.grid_corrections,
                                 progress=lambda f: report_stage(stages.MUSIC, f), cancel=cancel)
    tracked = music  # the whole song as decoded (the fitted one may be an excerpt of it)
    music, duration_s = fitted_music(music, options)
    hashes = shot_hashes(report.analyses, progress=lambda f: report_stage(stages.DUPLICATES, f), cancel=cancel)
    duplicates = find_duplicates(report.analyses, hashes)
    report_stage(stages.DUPLICATES, 1.0)
    report_stage(stages.PLAN, 0.0)
    request = make_request(report.analyses, music, style, seed=options.seed, duration_s=duration_s,
                           brief=options.brief)
    if planner is None:
        planner = choose_planner(options, report.analyses, cache=cache, request=request, cancel=cancel,
                                 progress=lambda f: report_stage(stages.PLAN, 0.9 * f))
    plan = planner.plan(request)
    report_stage(stages.PLAN, 1.0)
    if cancel():
        raise Cancelled("cancelled by the user")
    report_stage(stages.ASSEMBLE, 0.0)
    cut_list = assemble(plan, report.analyses, music, style, rate=options.rate, duration_s=request.duration_s,
                        seed=request.seed, size=options.size, name=options.name, brief=request.brief,
                        duplicates=duplicates)
    report_stage(stages.ASSEMBLE, 1.0)
    media = {a.path: a.media for a in report.analyses}
    media[music.path] = song_info(tracked)  # a truncated song is used as far as it decodes
    timeline = build_timeline(cut_list, media=media)
    report_stage(stages.TIMELINE, 1.0)
    # the part of the song A1 plays (a cut held shorter may start on the first downbeat)
    return RoughCut(cut_list, timeline, plan, style, list(report.analyses), played_music(cut_list, music),
                    list(report.failures))
