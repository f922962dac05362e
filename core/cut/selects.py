"""Selects: the best moments of every clip, and why every other shot was left out.

>>> selects = choose_selects(analyses, SelectsOptions(per_clip=2, min_score=0.55))   # doctest: +SKIP
>>> [(os.path.basename(p.path), p.shot_index, p.score) for p in selects.picks]         # doctest: +SKIP
[('A001.mov', 0, 0.84), ('A001.mov', 2, 0.71), ('A002.mov', 1, 0.79)]
>>> selects.rejections[0].reason                                                       # doctest: +SKIP
'blurred: sharpness 305 is 1.4 % of the footage median 21 700'
>>> timeline = selects_timeline(selects, analyses, name="Day 1")                       # doctest: +SKIP

How
---
1. **Quality.** Every shot is checked with the analysis' features (:class:`QualityLimits`):
   black; blurred (sharpness, the variance of the Laplacian at the analysis width, far
   under the footage's median: the measure depends on content, so it is judged against
   the rest of the footage); shaky (high-frequency global motion); under- or over-exposed
   (mean luma, clipped pixels); shorter than a useful piece. A shot failing any check is
   a :class:`Rejection` with every reason.
2. **Near-duplicates.** Among the shots that pass, :func:`~.duplicates.find_duplicates`
   keeps the better of each pair whose keyframes hash alike; the other is rejected naming it.
3. **Windows.** Each remaining shot's piece is the window of ``piece_s`` (or the whole
   usable part when shorter) where the best-moment curve is highest and has no dips
   (frames under 60 % of the shot's best count against it). The seed only breaks near-ties
   (a jitter under 0.005), so the same seed gives the same selects.
4. **Choice.** Pieces scoring under ``min_score`` are rejected; of the rest, each clip
   keeps its ``per_clip`` best (the others rejected as extras).
5. **Order.** Source order (creation time, file, frame), or grouped: by clip, by bin (the
   clip's folder) or by story phase (the rules planner's arc: calmest quarter "intro", most
   intense quarter "climax", the rest "build").

:func:`selects_cut_list` / :func:`selects_timeline` turn the result into a cut list with
no music and the usual OTIO timeline (every exporter reads it); each piece carries a
marker at its best frame with its score and reason, each group a section marker.
:func:`clip_logs` gives, per clip, every shot's status, reasons, scores, best frame and
keywords: what logging into Resolve writes (the Resolve side is not in this module).
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np
import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from montage_ai.core.base.fileio import display_name
from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.model.cutlist import Cut, CutList, Section
from montage_ai.core.analysis.duplicates import DUPLICATE_THRESHOLD, Duplicate, ShotKey, find_duplicates, shot_hashes
from montage_ai.core.base.errors import MontageError
from montage_ai.core.run.executor import Executor
from montage_ai.core.analysis.footage import FootageAnalysis, Shot, quality_curve
from montage_ai.core.plan.planner import shot_id_map, story_arc
from montage_ai.core.plan.styles import load_style
from montage_ai.core.base.timebase import timecode_to_frames
from montage_ai.core.model.timeline import NAMESPACE, build_timeline

log = logging.getLogger(__name__)

GROUPS = ("source", "clip", "bin", "phase")
#: Colour of the marker at each piece's best frame.
SELECT_COLOR = otio.schema.MarkerColor.YELLOW
_TIMELINE_START = "01:00:00:00"


class SelectsError(MontageError):
    """No selects can be made (no usable footage, bad options)."""


@dataclass(frozen=True)
class QualityLimits:
    """When a shot is too poor to offer.

    Measured on generated 128x72 clips (``tests/test_selects.py``): sharp test patterns
    have a sharpness of 9 600-46 000, the same blurred with a 4 px Gaussian 305; a still
    shot shakes 0.0, a steady pan 0.039, a static test chart 0.027 (phase correlation
    wobbles on periodic patterns), a frame jittered by ±3/±6/±10 px on 128 px
    0.026/0.044/0.078; a quarter-gain shot has a mean luma of 0.14.
    """

    #: Blurred: sharpness under this share of the footage's median sharpness.
    blur_ratio: float = 0.05
    #: Shaky: mean shake (fraction of the width per step, high-frequency part) above this.
    shake_max: float = 0.05
    #: Under-exposed: mean luma under this, or more than ``clipped_max`` of pixels crushed.
    dark_max: float = 0.16
    #: Over-exposed: mean luma over this, or more than ``clipped_max`` of pixels blown.
    bright_min: float = 0.82
    clipped_max: float = 0.45
    #: Shots with fewer usable seconds are too short for a piece.
    min_piece_s: float = 0.5


@dataclass(frozen=True)
class SelectsOptions:
    """What the editor asks for.

    ``per_clip`` best pieces per clip; ``min_score`` the lowest best-moment score (0..1) of a
    piece; ``group`` one of :data:`GROUPS`; ``piece_s`` the longest piece in seconds;
    ``seed`` breaks near-ties between windows.
    """

    per_clip: int = 3
    min_score: float = 0.5
    group: str = "source"
    piece_s: float = 3.0
    seed: int = 0
    duplicate_threshold: int = DUPLICATE_THRESHOLD
    limits: QualityLimits = QualityLimits()

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise SelectsError(f"group must be one of {', '.join(GROUPS)}, not {self.group!r}")
        if self.per_clip < 1:
            raise SelectsError(f"per-clip must be 1 or more, not {self.per_clip}")
        if not 0.0 <= self.min_score <= 1.0:
            raise SelectsError(f"min-score must be between 0 and 1, not {self.min_score}")
        if self.piece_s <= 0:
            raise SelectsError(f"piece length must be positive, not {self.piece_s}")


@dataclass(frozen=True)
class Select:
    """One chosen piece: source frames ``[source_in, source_out)`` of shot ``shot_index``."""

    path: str
    shot_index: int
    source_in: int
    source_out: int
    source_rate: Fraction
    best_frame: int
    score: float
    reason: str
    keywords: tuple[str, ...]
    group: str = ""

    @property
    def frames(self) -> int:
        return self.source_out - self.source_in


@dataclass(frozen=True)
class Rejection:
    """A shot left out, with every reason (``flags`` are short names: ``black``, ``blur``,
    ``shake``, ``dark``, ``bright``, ``short``, ``duplicate``, ``low score``, ``extra``)."""

    path: str
    shot_index: int
    start_frame: int
    end_frame: int
    flags: tuple[str, ...]
    reasons: tuple[str, ...]
    score: float | None
    best_frame: int
    keywords: tuple[str, ...] = ()
    duplicate_of: tuple[str, int] | None = None

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True)
class Selects:
    """The chosen pieces in timeline order, the rejections in source order, and the clips
    that could not be read."""

    picks: tuple[Select, ...]
    rejections: tuple[Rejection, ...]
    options: SelectsOptions
    failures: tuple[tuple[str, str], ...] = ()
    groups: tuple[str, ...] = field(default=())

    def rejected(self, path: str, shot_index: int) -> Rejection | None:
        return next((r for r in self.rejections if r.path == path and r.shot_index == shot_index), None)

    def picked(self, path: str, shot_index: int) -> Select | None:
        return next((p for p in self.picks if p.path == path and p.shot_index == shot_index), None)


# --------------------------------------------------------------------------- quality


def median_sharpness(analyses: Sequence[FootageAnalysis]) -> float | None:
    """Median sharpness of the non-black shots (None without any)."""
    vals = [s.sharpness for a in analyses for s in a.shots if not s.black and s.sharpness is not None]
    return float(np.median(vals)) if vals else None


def quality_flags(shot: Shot, rate: Fraction, median_sharp: float | None,
                  limits: QualityLimits = QualityLimits()) -> list[tuple[str, str]]:
    """``[(flag, reason)]`` for every quality check ``shot`` fails (empty when it passes).

    Examples
    --------
    >>> s = Shot(0, 0, 50, 0.0, 2.0, None, None, False, 0, 50, 25, None, 0.01, 0.001, 100.0, 0.1,
    ...          0.0, 0.2, 20.0, 25, (0, 25), (0.5, 0.6))
    >>> quality_flags(s, Fraction(25), 10000.0)[0]
    ('blur', 'blurred: sharpness 100 is 1.0 % of the footage median 10000')
    >>> [f for f, _ in quality_flags(s, Fraction(25), 10000.0)]
    ['blur', 'dark']
    """
    if shot.black:
        return [("black", "black: a black or near-black segment (slug, leader, fade)")]
    out: list[tuple[str, str]] = []
    if median_sharp and shot.sharpness is not None and shot.sharpness < limits.blur_ratio * median_sharp:
        out.append(("blur", f"blurred: sharpness {shot.sharpness:.0f} is {100 * shot.sharpness / median_sharp:.1f} % "
                            f"of the footage median {median_sharp:.0f}"))
    if shot.shake is not None and shot.shake > limits.shake_max:
        out.append(("shake", f"shaky: camera shake {shot.shake:.3f} of the width per frame (limit {limits.shake_max:g})"))
    if shot.exposure is not None:
        if shot.exposure < limits.dark_max or (shot.clipped_low or 0.0) > limits.clipped_max:
            out.append(("dark", f"under-exposed: mean luma {shot.exposure:.2f}, "
                                f"{100 * (shot.clipped_low or 0.0):.0f} % of pixels crushed to black"))
        elif shot.exposure > limits.bright_min or (shot.clipped_high or 0.0) > limits.clipped_max:
            out.append(("bright", f"over-exposed: mean luma {shot.exposure:.2f}, "
                                  f"{100 * (shot.clipped_high or 0.0):.0f} % of pixels blown to white"))
    usable = shot.usable_end_frame - shot.usable_start_frame
    if Fraction(usable) / rate < Fraction(str(limits.min_piece_s)):
        out.append(("short", f"too short: {float(Fraction(usable) / rate):.2f} s usable "
                             f"(a piece needs {limits.min_piece_s:g} s)"))
    return out


def shot_keywords(shot: Shot, flags: Sequence[str] = ()) -> tuple[str, ...]:
    """Resolve-style keywords for a shot from its features and flags.

    >>> shot_keywords(Shot(0, 0, 50, 0.0, 2.0, None, None, False, 0, 50, 25, None, 0.05, 0.001, 1e4,
    ...                    0.45, 0.0, 0.0, 20.0, 25, (0, 25), (0.5, 0.8)), ())
    ('Moving', 'Steady')
    """
    words: list[str] = []
    names = {"black": "Black", "blur": "Blurred", "shake": "Shaky", "dark": "Under-exposed",
             "bright": "Over-exposed", "short": "Short", "duplicate": "Duplicate"}
    if shot.motion is not None and not shot.black:
        words.append("Moving" if shot.motion >= 0.02 else "Static" if shot.motion < 0.003 else "Calm")
    if shot.shake is not None and not shot.black and shot.shake < 0.01 and "shake" not in flags:
        words.append("Steady")
    words += [names[f] for f in flags if f in names]
    return tuple(dict.fromkeys(words))


# --------------------------------------------------------------------------- windows


def best_window(shot: Shot, length: int, rng: np.random.Generator | None = None) -> tuple[int, float]:
    """``(source_in, score)``: the window of ``length`` frames inside the usable part where
    the best-moment curve is highest without dips; ``score`` is the curve's mean over it.

    >>> s = Shot(0, 0, 100, 0.0, 4.0, None, None, False, 0, 100, 60, None, 0.01, 0.001, 1e4, 0.45,
    ...          0.0, 0.0, 20.0, 60, (0, 20, 40, 60, 80), (0.3, 0.4, 0.6, 0.9, 0.5))
    >>> best_window(s, 25)
    (46, 0.793)
    """
    us, ue = shot.usable_start_frame, shot.usable_end_frame
    if ue <= us:
        us, ue = shot.start_frame, shot.end_frame
    length = max(1, min(length, ue - us))
    q, bad = quality_curve(shot, us, ue)
    c_q = np.concatenate(([0.0], np.cumsum(q)))
    c_b = np.concatenate(([0.0], np.cumsum(bad)))
    mean_q = (c_q[length:] - c_q[:-length]) / length
    share_bad = (c_b[length:] - c_b[:-length]) / length
    value = mean_q - 0.5 * share_bad
    if rng is not None:
        value = value + rng.uniform(0.0, 0.005, value.size)
    i = int(np.argmax(value))
    return us + i, round(float(mean_q[i]), 4)


# --------------------------------------------------------------------------- selects


def _order_key(a: FootageAnalysis) -> tuple:
    ct = a.media.creation_time
    return (ct is None, ct.timestamp() if ct else 0.0, a.path)


def choose_selects(analyses: Sequence[FootageAnalysis], options: SelectsOptions = SelectsOptions(), *,
                   hashes: dict[ShotKey, int] | None = None, failures: Sequence[tuple[str, str]] = ()) -> Selects:
    """Choose the selects of ``analyses`` (see the module docstring for how).

    Parameters
    ----------
    analyses : sequence of FootageAnalysis
    options : SelectsOptions
    hashes : dict, optional
        :func:`~.duplicates.shot_hashes` of ``analyses`` (computed when not given; pass ``{}``
        to skip the near-duplicate check).
    failures : sequence of (path, reason)
        Clips that could not be analysed, carried into the result.

    Returns
    -------
    Selects
        Every non-black shot is either a pick or a rejection with at least one reason;
        black shots are rejections too.
    """
    opts = options
    rng = np.random.default_rng(opts.seed)
    ordered = sorted((a for a in analyses if a.media.video is not None), key=_order_key)
    median = median_sharpness(ordered)
    rejected: dict[ShotKey, Rejection] = {}
    passing: list[tuple[FootageAnalysis, Shot]] = []
    for a in ordered:
        rate = Fraction(a.media.video.rate)
        for s in a.shots:
            flags = quality_flags(s, rate, median, opts.limits)
            if flags:
                names = tuple(f for f, _ in flags)
                rejected[(a.path, s.index)] = Rejection(
                    a.path, s.index, s.start_frame, s.end_frame, names, tuple(r for _, r in flags),
                    None if s.black or not s.scores else round(max(s.scores), 4), s.best_frame,
                    shot_keywords(s, names))
            else:
                passing.append((a, s))
    if hashes is None:
        hashes = shot_hashes([a for a in ordered])
    ok_keys = {(a.path, s.index) for a, s in passing}
    dups = find_duplicates(ordered, {k: h for k, h in hashes.items() if k in ok_keys},
                           threshold=opts.duplicate_threshold)
    candidates: list[tuple[FootageAnalysis, Shot, int, int, float]] = []
    for a, s in passing:
        key = (a.path, s.index)
        if key in dups:
            d: Duplicate = dups[key]
            rejected[key] = Rejection(a.path, s.index, s.start_frame, s.end_frame, ("duplicate",), (d.reason(),),
                                      round(max(s.scores), 4) if s.scores else None, s.best_frame,
                                      shot_keywords(s, ("duplicate",)), (d.kept_path, d.kept_index))
            continue
        rate = Fraction(a.media.video.rate)
        length = max(1, math.floor(Fraction(str(opts.piece_s)) * rate))
        src_in, score = best_window(s, length, rng)
        src_out = src_in + min(length, max(1, s.usable_end_frame - s.usable_start_frame))
        if score < opts.min_score:
            rejected[key] = Rejection(a.path, s.index, s.start_frame, s.end_frame, ("low score",),
                                      (f"best-moment score {score:.2f} is under the minimum {opts.min_score:.2f}",),
                                      score, s.best_frame, shot_keywords(s))
            continue
        candidates.append((a, s, src_in, src_out, score))
    picks: list[Select] = []
    by_clip: dict[str, list] = {}
    for c in candidates:
        by_clip.setdefault(c[0].path, []).append(c)
    for path, cands in by_clip.items():
        ranked = sorted(cands, key=lambda c: (-c[4], c[1].index))
        n_usable = len(ranked)
        for rank, (a, s, src_in, src_out, score) in enumerate(ranked, 1):
            if rank > opts.per_clip:
                rejected[(a.path, s.index)] = Rejection(
                    a.path, s.index, s.start_frame, s.end_frame, ("extra",),
                    (f"not among the {opts.per_clip} best of {os.path.basename(a.path)} (ranked {rank} of "
                     f"{n_usable}, score {score:.2f})",), score, s.best_frame, shot_keywords(s))
                continue
            rate = Fraction(a.media.video.rate)
            best = s.best_frame if src_in <= s.best_frame < src_out else src_in + (src_out - src_in) // 2
            why = (f"best moment of {os.path.basename(a.path)} shot {s.index} (#{rank} of {n_usable} usable in the clip): "
                   f"score {score:.2f} over {float(Fraction(src_out - src_in) / rate):.1f} s, "
                   + _qualities(s, median))
            picks.append(Select(a.path, s.index, int(src_in), int(src_out), rate, int(best), score, why,
                                ("Select",) + shot_keywords(s)))
    picks, groups = _arrange(picks, ordered, opts.group)
    order = {a.path: k for k, a in enumerate(ordered)}
    rejections = tuple(sorted(rejected.values(), key=lambda r: (order.get(r.path, 0), r.shot_index)))
    log.info("selects: %d pieces, %d shots left out", len(picks), len(rejections))
    return Selects(tuple(picks), rejections, opts, tuple(failures), groups)


def _qualities(s: Shot, median: float | None) -> str:
    parts = []
    if median and s.sharpness is not None:
        parts.append(f"sharpness {s.sharpness / median:.1f}x the footage median")
    if s.exposure is not None:
        parts.append(f"exposure {s.exposure:.2f}")
    if s.shake is not None:
        parts.append("steady" if s.shake < 0.01 else f"shake {s.shake:.3f}")
    if s.motion is not None:
        parts.append(f"motion {s.motion:.3f}")
    return ", ".join(parts)


def _arrange(picks: list[Select], ordered: Sequence[FootageAnalysis], group: str) -> tuple[list[Select], tuple[str, ...]]:
    """Picks in source order, labelled and grouped as asked; the group labels in order."""
    order = {a.path: k for k, a in enumerate(ordered)}
    picks = sorted(picks, key=lambda p: (order[p.path], p.source_in))
    if group == "source":
        return picks, ()
    if group == "clip":
        labels = {p.path: os.path.basename(p.path) for p in picks}
        out = [_label(p, labels[p.path]) for p in picks]
    elif group == "bin":
        out = [_label(p, os.path.basename(os.path.dirname(p.path)) or "/") for p in picks]
    else:  # phase: the rules planner's arc, calmest quarter intro, most intense quarter climax
        arc_by_id = story_arc(ordered, load_style("dynamic"))
        ids = {(a.path, s.index): i for i, (a, s) in shot_id_map(ordered).items()}
        arc = {(p.path, p.shot_index): arc_by_id.get(ids[(p.path, p.shot_index)], 0.0) for p in picks}
        ranked = sorted(picks, key=lambda p: (arc[(p.path, p.shot_index)], order[p.path], p.source_in))
        n = len(ranked)
        quarter = max(1, n // 4) if n >= 3 else 0
        phase = {}
        for k, p in enumerate(ranked):
            phase[(p.path, p.shot_index)] = "intro" if k < quarter else "climax" if k >= n - quarter else "build"
        out = [_label(p, phase[(p.path, p.shot_index)]) for p in picks]
        rank = {"intro": 0, "build": 1, "climax": 2}
        out.sort(key=lambda p: rank[p.group])  # stable: source order inside a phase
        return out, tuple(g for g in ("intro", "build", "climax") if any(p.group == g for p in out))
    first: dict[str, int] = {}
    for k, p in enumerate(out):
        first.setdefault(p.group, k)
    out.sort(key=lambda p: first[p.group])
    return out, tuple(first)


def _label(p: Select, group: str) -> Select:
    return replace(p, group=group, keywords=p.keywords + ((group.capitalize(),) if group in ("intro", "build", "climax")
                                                          else ()))


# --------------------------------------------------------------------------- timeline


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


# --------------------------------------------------------------------------- logging data


@dataclass(frozen=True)
class ShotLog:
    """One shot's log entry: ``status`` is ``"select"`` or ``"reject"``; frames are the
    file's own, ``select_in``/``select_out`` the chosen piece (selects only)."""

    shot_index: int
    start_frame: int
    end_frame: int
    status: str
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    score: float | None
    best_frame: int
    keywords: tuple[str, ...]
    select_in: int | None = None
    select_out: int | None = None


@dataclass(frozen=True)
class ClipLog:
    """Everything to log on one clip (a media pool item in Resolve): its shots and clip
    flags (``vfr``, ``rotated``)."""

    path: str
    flags: tuple[str, ...]
    shots: tuple[ShotLog, ...]


def clip_flags(a: FootageAnalysis) -> tuple[str, ...]:
    """Clip-level flags: ``vfr`` (variable frame rate), ``rotated`` (a display rotation)."""
    v = a.media.video
    out = []
    if v is not None and v.vfr:
        out.append("vfr")
    if v is not None and v.rotation:
        out.append("rotated")
    return tuple(out)


def clip_logs(selects: Selects, analyses: Sequence[FootageAnalysis]) -> tuple[ClipLog, ...]:
    """Per clip, every shot's status with its reasons, score, best frame and keywords: the
    data logging into Resolve writes (markers at best frames, keywords, notes)."""
    out = []
    for a in sorted(analyses, key=_order_key):
        shots = []
        for s in a.shots:
            p = selects.picked(a.path, s.index)
            if p is not None:
                shots.append(ShotLog(s.index, s.start_frame, s.end_frame, "select", (p.reason,), (), p.score,
                                     p.best_frame, p.keywords, p.source_in, p.source_out))
                continue
            r = selects.rejected(a.path, s.index)
            if r is None:  # a shot outside the selects' analyses: not judged
                continue
            shots.append(ShotLog(s.index, s.start_frame, s.end_frame, "reject", r.reasons, r.flags, r.score,
                                 r.best_frame, r.keywords))
        out.append(ClipLog(a.path, clip_flags(a), tuple(shots)))
    return tuple(out)


# --------------------------------------------------------------------------- end to end


@dataclass
class SelectsResult:
    selects: Selects
    timeline: otio.schema.Timeline
    analyses: list[FootageAnalysis]
    failures: list[tuple[str, str]]


def make_selects(media: Sequence[str], options: SelectsOptions = SelectsOptions(), *, name: str = "Selects",
                 cache: AnalysisCache | None = None, executor: Executor | None = None, progress: Callable[[str, float], None] | None = None,
                 cancel: Callable[[], bool] | None = None) -> SelectsResult:
    """Analyse ``media`` (files or folders; cached), choose the selects and build the timeline.

    Progress stages: ``"footage"``, ``"duplicates"``, ``"timeline"``. A clip that cannot be
    analysed is listed in ``failures`` (and in ``Selects.failures``); the others go on.
    """
    from montage_ai.core.run.executor import InlineExecutor, Progress
    from montage_ai.core.base.fileio import collect_media
    from montage_ai.core.run.jobs import analyze_files

    report_stage = progress or (lambda stage, fraction: None)
    files = collect_media(list(media))
    if not files:
        raise SelectsError("no footage found in " + ", ".join(map(str, media)))

    def footage_progress(p: Progress) -> None:
        report_stage("footage", min(1.0, (p.done + (p.fraction if p.fraction < 1.0 else 0.0)) / max(p.total, 1)))

    report = analyze_files(files, executor=executor or InlineExecutor(), cache=cache, progress=footage_progress,
                           cancel=cancel)
    report_stage("footage", 1.0)
    if not report.analyses:
        reasons = "; ".join(reason for _, reason in report.failures) or "no clip could be read"
        raise SelectsError(f"none of the {len(files)} clips can be used: {reasons}")
    hashes = shot_hashes(report.analyses, progress=lambda f: report_stage("duplicates", f), cancel=cancel)
    report_stage("duplicates", 1.0)
    selects = choose_selects(report.analyses, options, hashes=hashes, failures=report.failures)
    timeline = selects_timeline(selects, report.analyses, name=name)
    report_stage("timeline", 1.0)
    return SelectsResult(selects, timeline, list(report.analyses), list(report.failures))
