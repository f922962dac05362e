"""Selects as a timeline: the chosen pieces back to back, no music, a marker at each best
frame (:func:`selects_cut_list`, :func:`selects_timeline`, :func:`selects_name`), and the
end-to-end job :func:`make_selects` (analyse, judge, lay out).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from montage_ai.core.analysis.footage import FootageAnalysis
from montage_ai.core.base import stages
from montage_ai.core.base.fileio import display_name
from montage_ai.core.base.timebase import timecode_to_frames
from montage_ai.core.cut.selects import Selects, SelectsError, SelectsOptions, judge_shots
from montage_ai.core.model.cutlist import Cut, CutList, Section
from montage_ai.core.model.timeline import NAMESPACE, build_timeline
from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.run.executor import Executor, InlineExecutor, ProgressFn
from montage_ai.core.run.jobs import analyze_media

#: Colour of the marker at each piece's best frame.
SELECT_COLOR = otio.schema.MarkerColor.YELLOW
_TIMELINE_START = "01:00:00:00"


def selects_cut_list(selects: Selects, analyses: Sequence[FootageAnalysis], *, name: str = "Selects",
                     rate: Fraction | None = None) -> CutList:
    """The selects as a cut list: the pieces back to back, no music, one section per group.

    Each piece lasts its source frames at the timeline rate (the most common rate of the
    clips the pieces come from unless ``rate`` is given); a source at another rate plays
    at its own speed, so its piece lasts ``floor(frames * rate / source_rate)`` frames.

    Raises
    ------
    SelectsError
        No pieces were chosen.
    """
    if not selects.picks:
        raise SelectsError("no selects: every shot was left out (see the rejections for why)")
    by_path = {a.path: a for a in analyses}
    if rate is None:
        rate = Counter(p.source_rate for p in selects.picks).most_common(1)[0][0]
    sizes = Counter((by_path[p.path].media.video.display_width, by_path[p.path].media.video.display_height)
                    for p in selects.picks if p.path in by_path and p.source_rate == rate)
    size = sizes.most_common(1)[0][0] if sizes else (1920, 1080)
    cuts, sections = [], []
    pos = 0
    for p in selects.picks:
        n = max(1, math.floor(Fraction(p.frames) * rate / p.source_rate))
        cuts.append(Cut(record_in=pos, record_out=pos + n, source_path=p.path, source_rate=p.source_rate,
                        source_in=p.source_in, shot_index=p.shot_index, score=p.score, phase=p.group,
                        reason=p.reason))
        if p.group and sections and sections[-1][0] == p.group:
            sections[-1][2] = pos + n
        elif p.group:
            sections.append([p.group, pos, pos + n])
        pos += n
    return CutList(
        rate=rate, width=int(size[0]), height=int(size[1]), duration=pos, cuts=tuple(cuts), music_path="",
        music_duration=0, start_frames=timecode_to_frames(_TIMELINE_START, rate),
        sections=tuple(Section(a, b, label, "", 0.0) for label, a, b in sections), name=name,
        style="selects", seed=selects.options.seed,
        metadata={"notes": [f"{len(selects.rejections)} shots left out"]},
    )


def selects_timeline(selects: Selects, analyses: Sequence[FootageAnalysis], *, name: str = "Selects",
                     rate: Fraction | None = None) -> otio.schema.Timeline:
    """The OTIO timeline of the selects (:func:`~.timeline.build_timeline` of
    :func:`selects_cut_list`), plus a :data:`SELECT_COLOR` marker at each piece's best frame
    named with its score, the reason in its metadata (``montage_ai.kind == "select"``)."""
    cl = selects_cut_list(selects, analyses, name=name, rate=rate)
    timeline = build_timeline(cl, media={a.path: a.media for a in analyses})
    for cut, p in zip(cl.cuts, selects.picks):
        at = cut.record_in + min(cut.record_frames - 1,
                                 math.floor(Fraction(p.best_frame - p.source_in) * cl.rate / p.source_rate))
        marker = otio.schema.Marker(
            name=display_name(f"select {p.score:.2f}: {os.path.basename(p.path)} #{p.shot_index}"), color=SELECT_COLOR,
            marked_range=TimeRange(RationalTime(at, float(cl.rate)), RationalTime(0, float(cl.rate))))
        marker.metadata[NAMESPACE] = {"kind": "select", "score": p.score, "reason": display_name(p.reason),
                                      "best_frame": p.best_frame, "keywords": [display_name(k) for k in p.keywords],
                                      "group": display_name(p.group) if isinstance(p.group, str) else p.group}
        timeline.tracks.markers.append(marker)
    return timeline


def selects_name(bin_name: str, taken: Sequence[str] = ()) -> str:
    """The name of a bin's selects timeline: ``"<bin> Selects"``, numbered when a timeline of
    that name exists already (the editor's timelines are never replaced).

    >>> selects_name("Day 1"), selects_name("Day 1", ["Day 1 Selects", "Day 1 Selects 2"])
    ('Day 1 Selects', 'Day 1 Selects 3')
    """
    base = f"{bin_name.strip() or 'Footage'} Selects"
    names = set(taken)
    if base not in names:
        return base
    n = 2
    while f"{base} {n}" in names:
        n += 1
    return f"{base} {n}"


@dataclass
class SelectsResult:
    """The selects, their timeline and cut list (what a preview, an export or a push takes)."""

    selects: Selects
    timeline: otio.schema.Timeline
    analyses: list[FootageAnalysis]
    failures: list[tuple[str, str]]
    cut_list: CutList | None = None


def make_selects(media: Sequence[str], options: SelectsOptions = SelectsOptions(), *, name: str = "Selects",
                 cache: AnalysisCache | None = None, executor: Executor | None = None,
                 progress: Callable[[str, float], None] | None = None, cancel: Callable[[], bool] | None = None,
                 clip_progress: ProgressFn | None = None) -> SelectsResult:
    """Analyse ``media`` (files or folders; cached), choose the selects and build the timeline.

    Progress stages: ``"footage"``, ``"duplicates"``, ``"timeline"``. A clip that cannot be
    analysed is listed in ``failures`` (and in ``Selects.failures``); the others go on.

    Raises
    ------
    NoUsableFootage
        No footage found, or none of it can be analysed.
    """
    report_stage = progress or (lambda stage, fraction: None)
    report = analyze_media(media, executor=executor or InlineExecutor(), cache=cache, progress=report_stage,
                           clip_progress=clip_progress, cancel=cancel)
    selects = judge_shots(report.analyses, options, failures=report.failures, progress=report_stage, cancel=cancel)
    timeline = selects_timeline(selects, report.analyses, name=name)
    report_stage(stages.TIMELINE, 1.0)
    return SelectsResult(selects, timeline, list(report.analyses), list(report.failures),
                         selects_cut_list(selects, report.analyses, name=name))
