"""The rough cut, end to end: media -> analysis -> plan -> cut list -> OTIO timeline.

>>> result = make_rough_cut(["footage/"], "music/song.wav", RoughCutOptions(style="cinematic"))  # doctest: +SKIP
>>> result.cut_list.duration, len(result.cut_list.cuts)                                       # doctest: +SKIP
(1437, 31)

Progress comes through one callback, ``progress(stage, fraction)``, with the stages
``"footage"``, ``"music"``, ``"duplicates"`` (keyframe hashes), ``"plan"``, ``"assemble"``
and ``"timeline"``; ``cancel()`` is
polled throughout. A clip that cannot be analysed is skipped and listed in
``RoughCut.failures``; the cut goes on with the others.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Sequence

import opentimelineio as otio

from .assembly import assemble
from .cache import AnalysisCache
from .cutlist import CutList
from .duplicates import find_duplicates, shot_hashes
from .errors import Cancelled, MontageError
from .executor import Executor, InlineExecutor, Progress
from .fileio import collect_media
from .footage import FootageAnalysis
from .jobs import analyze_files, analyze_music_cached
from .music import MusicAnalysis
from .planner import Planner, RulesPlanner, StoryPlan, make_request
from .styles import Style, load_style
from .timeline import build_timeline

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


def make_rough_cut(media: Sequence[str], music_path: str, options: RoughCutOptions = RoughCutOptions(), *,
                   cache: AnalysisCache | None = None, executor: Executor | None = None,
                   planner: Planner | None = None, progress: StageProgress | None = None,
                   cancel: Callable[[], bool] | None = None) -> RoughCut:
    """Analyse ``media`` (files or folders) and the music, plan, assemble and build the timeline."""
    cancel = cancel or (lambda: False)
    report_stage = progress or (lambda stage, fraction: None)
    style = load_style(options.style)
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
    hashes = shot_hashes(report.analyses, progress=lambda f: report_stage("duplicates", f), cancel=cancel)
    duplicates = find_duplicates(report.analyses, hashes)
    report_stage("duplicates", 1.0)
    report_stage("plan", 0.0)
    request = make_request(report.analyses, music, style, seed=options.seed, duration_s=options.duration_s,
                           brief=options.brief)
    plan = (planner or RulesPlanner()).plan(request)
    report_stage("plan", 1.0)
    if cancel():
        raise Cancelled("cancelled by the user")
    report_stage("assemble", 0.0)
    cut_list = assemble(plan, report.analyses, music, style, rate=options.rate, duration_s=options.duration_s,
                        seed=options.seed, size=options.size, name=options.name, brief=options.brief,
                        duplicates=duplicates)
    report_stage("assemble", 1.0)
    timeline = build_timeline(cut_list, media={a.path: a.media for a in report.analyses})
    report_stage("timeline", 1.0)
    return RoughCut(cut_list, timeline, plan, style, list(report.analyses), music, list(report.failures))
