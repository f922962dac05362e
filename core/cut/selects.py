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
   (most of the usable frames flagged "crushed" / "blown out" by the analysis, which judges
   exposure against the shot's own key, :mod:`~.analysis.exposure`: a dark, low-key shot with
   detail is a look, not a fault); shorter than a useful piece. A shot failing any check is
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

:func:`~.selects_timeline.selects_cut_list` / :func:`~.selects_timeline.selects_timeline`
turn the result into a cut list with no music and the usual OTIO timeline (every exporter
reads it); each piece carries a marker at its best frame with its score and reason, each
group a section marker. :func:`~.clip_log.clip_logs` gives, per clip, every shot's status,
reasons, scores, best frame and keywords: what logging into Resolve writes. Those names are
importable from this module too.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np

from montage_ai.core import defaults
from montage_ai.core.analysis.duplicates import DUPLICATE_THRESHOLD, Duplicate, find_duplicates, shot_hashes
from montage_ai.core.analysis.footage import FootageAnalysis, Shot
from montage_ai.core.base import stages
from montage_ai.core.base.errors import MontageError
from montage_ai.core.base.types import ShotKey
from montage_ai.core.cut.select_windows import FLAGGED_MAX, best_window, clean_window, flagged_share  # noqa: F401 (re-exported)
from montage_ai.core.plan.planner import shot_id_map, story_arc
from montage_ai.core.plan.styles import load_style

log = logging.getLogger(__name__)

GROUPS = ("source", "clip", "bin", "phase")


class SelectsError(MontageError):
    """No selects can be made (no usable footage, bad options)."""


@dataclass(frozen=True)
class QualityLimits:
    """When a shot is too poor to offer.

    Measured on generated 128x72 clips (``tests/test_selects.py``): sharp test patterns
    have a sharpness of 9 600-46 000, the same blurred with a 4 px Gaussian 305; a still
    shot shakes 0.0, a steady pan 0.039, a static test chart 0.027 (phase correlation
    wobbles on periodic patterns), a frame jittered by ±3/±6/±10 px on 128 px
    0.026/0.044/0.078. Exposure has no limit here: the analysis flags frames "crushed" /
    "blown out" against the shot's own key (a dark look is no fault), and a shot most of whose
    usable frames are flagged is under- or over-exposed (``flagged_max``).
    """

    #: Blurred: sharpness under this share of the footage's median sharpness.
    blur_ratio: float = 0.05
    #: Shaky: mean shake (fraction of the width per step, high-frequency part) above this.
    shake_max: float = 0.05
    #: Shots with fewer usable seconds are too short for a piece.
    min_piece_s: float = 0.5
    #: A shot with at least this share of its usable frames flagged by the analysis (blur,
    #: corruption, test pattern...) is left out for the most common reason.
    flagged_max: float = FLAGGED_MAX


@dataclass(frozen=True)
class SelectsOptions:
    """What the editor asks for.

    ``per_clip`` best pieces per clip; ``min_score`` the lowest best-moment score (0..1) of a
    piece; ``group`` one of :data:`GROUPS`; ``piece_s`` the longest piece in seconds;
    ``seed`` breaks near-ties between windows.
    """

    per_clip: int = defaults.SELECTS_PER_CLIP
    min_score: float = defaults.SELECTS_MIN_SCORE
    group: str = "source"
    piece_s: float = defaults.SELECTS_PIECE_S
    seed: int = defaults.SEED
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
    duplicate_of: ShotKey | None = None

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
    vals = [s.sharpness for a in analyses for s in a.shots
            if not s.black and s.sharpness is not None and not flagged_share(s)]  # bars are no reference
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
    >>> [f for f, _ in quality_flags(s, Fraction(25), 10000.0)]  # dark (mean luma 0.1) is a look
    ['blur']
    >>> from montage_ai.core.analysis.quality import Flag
    >>> crushed = replace(s, sharpness=1e4, flagged=(Flag(0, 49, "crushed", "85 % of the frame at black"),))
    >>> quality_flags(crushed, Fraction(25), 10000.0)
    [('dark', 'under-exposed: crushed (85 % of the frame at black): 100 % of the usable frames flagged')]
    """
    if shot.black:
        return [("black", "black: a black, near-black or white segment (slug, leader, fade, dip)")]
    out: list[tuple[str, str]] = []
    if median_sharp and shot.sharpness is not None and shot.sharpness < limits.blur_ratio * median_sharp:
        out.append(("blur", f"blurred: sharpness {shot.sharpness:.0f} is {100 * shot.sharpness / median_sharp:.1f} % "
                            f"of the footage median {median_sharp:.0f}"))
    if shot.shake is not None and shot.shake > limits.shake_max:
        out.append(("shake", f"shaky: camera shake {shot.shake:.3f} of the width per frame (limit {limits.shake_max:g})"))
    out += [(f, _exposure_wording(f, r)) for f, r in flagged_share(shot, limits.flagged_max)]
    seen: set[str] = set()
    out = [(f, r) for f, r in out if not (f in seen or seen.add(f))]  # one entry per flag
    usable = shot.usable_end_frame - shot.usable_start_frame
    if Fraction(usable) / rate < Fraction(str(limits.min_piece_s)):
        out.append(("short", f"too short: {float(Fraction(usable) / rate):.2f} s usable "
                             f"(a piece needs {limits.min_piece_s:g} s)"))
    return out


def _exposure_wording(flag: str, reason: str) -> str:
    """The analysis' exposure reason (``"crushed (...)"``, ``"blown out (...)"``) in the
    editor's words: ``"under-exposed: crushed (...)"``."""
    word = {"dark": "under-exposed", "bright": "over-exposed"}.get(flag)
    return f"{word}: {reason}" if word else reason


def shot_keywords(shot: Shot, flags: Sequence[str] = ()) -> tuple[str, ...]:
    """Resolve-style keywords for a shot from its features and flags.

    >>> shot_keywords(Shot(0, 0, 50, 0.0, 2.0, None, None, False, 0, 50, 25, None, 0.05, 0.001, 1e4,
    ...                    0.45, 0.0, 0.0, 20.0, 25, (0, 25), (0.5, 0.8)), ())
    ('Moving', 'Steady')
    """
    words: list[str] = []
    names = {"black": "Black", "blur": "Blurred", "shake": "Shaky", "dark": "Under-exposed",
             "pattern": "Test pattern", "corrupt": "Corrupt", "frozen": "Frozen", "flash": "Flash",
             "bright": "Over-exposed", "short": "Short", "duplicate": "Duplicate"}
    if shot.motion is not None and not shot.black:
        words.append("Moving" if shot.motion >= 0.02 else "Static" if shot.motion < 0.003 else "Calm")
    if shot.shake is not None and not shot.black and shot.shake < 0.01 and "shake" not in flags:
        words.append("Steady")
    words += [names[f] for f in flags if f in names]
    return tuple(dict.fromkeys(words))


# --------------------------------------------------------------------------- windows


# --------------------------------------------------------------------------- selects


def order_key(a: FootageAnalysis) -> tuple:
    """Source order of a clip: creation time (clips without one last), then path."""
    ct = a.media.creation_time
    return (ct is None, ct.timestamp() if ct else 0.0, a.path)


def _piece(a: FootageAnalysis, s: Shot, opts: SelectsOptions, rng: np.random.Generator
           ) -> tuple[int, int, float] | Rejection:
    """The shot's piece ``(source_in, source_out, score)``: its best window with no flagged
    frame, or the rejection saying why it has none good enough."""
    rate = Fraction(a.media.video.rate)
    length = max(1, math.floor(Fraction(str(opts.piece_s)) * rate))
    window = clean_window(s, length, rng)
    reasons = ", ".join(sorted({f.reason for f in s.flagged}))
    if window is None:
        return Rejection(a.path, s.index, s.start_frame, s.end_frame, ("flagged",),
                         ("every usable frame is flagged: " + reasons,), None, s.best_frame, shot_keywords(s))
    src_in, src_out, score = window
    if Fraction(src_out - src_in) / rate < Fraction(str(opts.limits.min_piece_s)):
        return Rejection(a.path, s.index, s.start_frame, s.end_frame, ("flagged",),
                         (f"no unflagged stretch of {opts.limits.min_piece_s:g} s: {reasons}",),
                         score, s.best_frame, shot_keywords(s))
    if score < opts.min_score:
        return Rejection(a.path, s.index, s.start_frame, s.end_frame, ("low score",),
                         (f"best-moment score {score:.2f} is under the minimum {opts.min_score:.2f}",),
                         score, s.best_frame, shot_keywords(s))
    return src_in, src_out, score


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
    ordered = sorted((a for a in analyses if a.media.video is not None), key=order_key)
    median = median_sharpness(ordered)
    rejected: dict[ShotKey, Rejection] = {}
    passing = _quality_pass(ordered, median, opts.limits, rejected)
    if hashes is None:
        hashes = shot_hashes([a for a in ordered])
    ok_keys = {(a.path, s.index) for a, s in passing}
    dups = find_duplicates(ordered, {k: h for k, h in hashes.items() if k in ok_keys},
                           threshold=opts.duplicate_threshold)
    candidates = _windows(passing, dups, opts, rng, rejected)
    picks = _best_per_clip(candidates, opts, median, rejected)
    picks, groups = _arrange(picks, ordered, opts.group)
    order = {a.path: k for k, a in enumerate(ordered)}
    rejections = tuple(sorted(rejected.values(), key=lambda r: (order.get(r.path, 0), r.shot_index)))
    log.info("selects: %d pieces, %d shots left out", len(picks), len(rejections))
    return Selects(tuple(picks), rejections, opts, tuple(failures), groups)


def _quality_pass(ordered: Sequence[FootageAnalysis], median: float | None, limits: QualityLimits,
                  rejected: dict[ShotKey, Rejection]) -> list[tuple[FootageAnalysis, Shot]]:
    """Step 1: the shots that pass every quality check; the others go into ``rejected``."""
    passing: list[tuple[FootageAnalysis, Shot]] = []
    for a in ordered:
        rate = Fraction(a.media.video.rate)
        for s in a.shots:
            flags = quality_flags(s, rate, median, limits)
            if flags:
                names = tuple(f for f, _ in flags)
                rejected[(a.path, s.index)] = Rejection(
                    a.path, s.index, s.start_frame, s.end_frame, names, tuple(r for _, r in flags),
                    None if s.black or not s.scores else round(max(s.scores), 4), s.best_frame,
                    shot_keywords(s, names))
            else:
                passing.append((a, s))
    return passing


def _windows(passing: Sequence[tuple[FootageAnalysis, Shot]], dups: dict[ShotKey, Duplicate], opts: SelectsOptions,
             rng: np.random.Generator, rejected: dict[ShotKey, Rejection]) -> list[tuple]:
    """Steps 2-3: near-duplicates rejected, then each shot's best window; those under the
    lowest score rejected. The rest as ``(analysis, shot, source_in, source_out, score)``."""
    candidates: list[tuple[FootageAnalysis, Shot, int, int, float]] = []
    for a, s in passing:
        key = (a.path, s.index)
        if key in dups:
            d: Duplicate = dups[key]
            rejected[key] = Rejection(a.path, s.index, s.start_frame, s.end_frame, ("duplicate",), (d.reason(),),
                                      round(max(s.scores), 4) if s.scores else None, s.best_frame,
                                      shot_keywords(s, ("duplicate",)), (d.kept_path, d.kept_index))
            continue
        got = _piece(a, s, opts, rng)
        if isinstance(got, Rejection):
            rejected[key] = got
            continue
        src_in, src_out, score = got
        candidates.append((a, s, src_in, src_out, score))
    return candidates


def _best_per_clip(candidates: Sequence[tuple], opts: SelectsOptions, median: float | None,
                   rejected: dict[ShotKey, Rejection]) -> list[Select]:
    """Step 4: each clip's ``per_clip`` best pieces; the others rejected as extras."""
    picks: list[Select] = []
    by_clip: dict[str, list] = {}
    for c in candidates:
        by_clip.setdefault(c[0].path, []).append(c)
    for cands in by_clip.values():
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
    return picks


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


# --------------------------------------------------------------------------- judging


def judge_shots(analyses: Sequence[FootageAnalysis], options: SelectsOptions = SelectsOptions(), *,
                failures: Sequence[tuple[str, str]] = (), progress: Callable[[str, float], None] | None = None,
                cancel: Callable[[], bool] | None = None) -> Selects:
    """Every shot of ``analyses`` judged: keyframes hashed for near-duplicates (the
    ``"duplicates"`` stage), then :func:`choose_selects`. What selects, the shot report and
    logging into Resolve share."""
    report_stage = progress or (lambda stage, fraction: None)
    hashes = shot_hashes(analyses, progress=lambda f: report_stage(stages.DUPLICATES, f), cancel=cancel)
    report_stage(stages.DUPLICATES, 1.0)
    return choose_selects(analyses, options, hashes=hashes, failures=failures)


# The timeline, the end-to-end job and the logging data live in their own modules; their
# names stay importable from here (looked up on first use: those modules import this one).
_MOVED = {"ClipLog": "clip_log", "ShotLog": "clip_log", "clip_flags": "clip_log", "clip_logs": "clip_log",
          "SELECT_COLOR": "selects_timeline", "SelectsResult": "selects_timeline", "make_selects": "selects_timeline",
          "selects_cut_list": "selects_timeline", "selects_name": "selects_timeline",
          "selects_timeline": "selects_timeline"}


def __getattr__(name: str):
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f"montage_ai.core.cut.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
