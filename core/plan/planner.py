"""Story-arc planning: which shots go to the intro, the build, the climax and the outro.

A planner turns a :class:`PlanRequest` (the music's phases, the usable shots with their
features, the style, a seed and the user's brief) into a :class:`StoryPlan` (ordered shot
ids per phase, a one-line reason per shot). :class:`RulesPlanner` does it deterministically
from the shot features; an LLM planner implements the same :class:`Planner` protocol, builds
its prompt from :meth:`ShotCandidate.describe` and checks its answer with
:func:`validate_plan`.

>>> request = make_request(analyses, music, load_style("dynamic"), seed=3)   # doctest: +SKIP
>>> plan = RulesPlanner().plan(request)                                       # doctest: +SKIP
>>> [(p.name, len(p.shot_ids)) for p in plan.phases]                          # doctest: +SKIP
[('intro', 3), ('build', 6), ('climax', 9), ('outro', 2)]

Shot ids are ``"<file>#<shot index>"``: the file's base name, or its full path when two
analysed files share a base name (:func:`shot_id_map`).
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from montage_ai.core.analysis.footage import FootageAnalysis, Shot
from montage_ai.core.analysis.music import MusicAnalysis
from montage_ai.core.base.errors import MontageError
from montage_ai.core.plan.styles import PHASES, Style

log = logging.getLogger(__name__)

__all__ = ["PHASES", "Phase", "ShotCandidate", "PlanRequest", "StoryPlan", "Planner", "PlanError",
           "RulesPlanner", "music_phases", "make_request", "shot_id_map", "validate_plan", "chronological_key"]


class PlanError(MontageError):
    """A plan cannot be made, or a planner returned an invalid one."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Phase:
    """A story phase of the music, ``[start_s, end_s)``, its mean beat energy (0..1) and,
    in a plan, the shots that play in it, in order."""

    name: str
    start_s: float
    end_s: float
    energy: float
    shot_ids: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class ShotCandidate:
    """A usable shot as a planner sees it.

    ``motion`` ... ``colourfulness`` are the analysis means (``None`` when unknown);
    ``calm``, ``intensity`` and ``quality`` are 0..1 scores relative to the other
    candidates of the request (calm: little motion, shake and change; intensity: motion
    and colour; quality: the mean of the best-moment curve).
    """

    id: str
    path: str
    shot_index: int
    usable_start_frame: int
    usable_end_frame: int
    rate: Fraction
    creation_time: _dt.datetime | None
    motion: float | None
    shake: float | None
    sharpness: float | None
    exposure: float | None
    colourfulness: float | None
    calm: float
    intensity: float
    quality: float

    @property
    def duration_s(self) -> float:
        return float((self.usable_end_frame - self.usable_start_frame) / self.rate)

    def describe(self) -> str:
        """One line for a prompt or a log.

        Examples
        --------
        >>> c = ShotCandidate("a.mp4#2", "a.mp4", 2, 0, 50, Fraction(25), None, 0.04, 0.001, 120.0,
        ...                   0.5, 30.0, 0.3, 0.8, 0.7)
        >>> c.describe()
        'a.mp4#2: 2.0 s, motion 0.040, shake 0.0010, colour 30, calm 0.30, intensity 0.80, quality 0.70'
        """
        parts = [f"{self.id}: {self.duration_s:.1f} s"]
        if self.motion is not None:
            parts.append(f"motion {self.motion:.3f}")
        if self.shake is not None:
            parts.append(f"shake {self.shake:.4f}")
        if self.colourfulness is not None:
            parts.append(f"colour {self.colourfulness:.0f}")
        parts.append(f"calm {self.calm:.2f}, intensity {self.intensity:.2f}, quality {self.quality:.2f}")
        return ", ".join(parts)


@dataclass(frozen=True)
class PlanRequest:
    """Everything a planner needs; build it with :func:`make_request`.

    ``demand[phase]`` is about how many shots the style will cut in that phase.
    """

    music: MusicAnalysis
    style: Style
    phases: tuple[Phase, ...]
    shots: tuple[ShotCandidate, ...]
    demand: Mapping[str, int] = field(hash=False)
    seed: int = 0
    duration_s: float | None = None
    brief: str = ""

    def shot(self, shot_id: str) -> ShotCandidate:
        for c in self.shots:
            if c.id == shot_id:
                return c
        raise KeyError(shot_id)


@dataclass(frozen=True)
class StoryPlan:
    """The planner's answer: the four phases with their ordered shot ids, a one-line
    reason per shot id, the planner's name and free notes."""

    phases: tuple[Phase, ...]
    reasons: Mapping[str, str] = field(hash=False)
    planner: str = ""
    notes: tuple[str, ...] = ()
    seed: int = 0
    style: str = ""

    @property
    def shot_ids(self) -> tuple[str, ...]:
        return tuple(i for p in self.phases for i in p.shot_ids)

    def phase(self, name: str) -> Phase:
        for p in self.phases:
            if p.name == name:
                return p
        raise KeyError(name)


@runtime_checkable
class Planner(Protocol):
    """What a story planner is: a name and ``plan(request) -> StoryPlan``."""

    name: str

    def plan(self, request: PlanRequest) -> StoryPlan:
        ...


# --------------------------------------------------------------------------- shots


def shot_id_map(analyses: Sequence[FootageAnalysis]) -> dict[str, tuple[FootageAnalysis, Shot]]:
    """Every shot of every analysis by its id ``"<file>#<index>"`` (base name, or the full
    path when base names collide).

    Examples
    --------
    >>> shot_id_map([])
    {}
    """
    names = [os.path.basename(a.path) for a in analyses]
    out: dict[str, tuple[FootageAnalysis, Shot]] = {}
    for a, base in zip(analyses, names):
        stem = base if names.count(base) == 1 else a.path
        for s in a.shots:
            out[f"{stem}#{s.index}"] = (a, s)
    return out


def chronological_key(c: ShotCandidate) -> tuple:
    """Sort key of chronological order: creation time (files without one last), path, frame."""
    ct = c.creation_time
    if ct is not None and ct.tzinfo is None:
        ct = ct.replace(tzinfo=_dt.timezone.utc)
    return (ct is None, ct.timestamp() if ct else 0.0, c.path, c.usable_start_frame)


def _ranks(values: list[float | None]) -> np.ndarray:
    """Percentile rank 0..1 of each value among the known ones (ties averaged; None -> 0.5)."""
    out = np.full(len(values), 0.5)
    known = [(v, i) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if len(known) < 2:
        return out
    vals = np.array([v for v, _ in known])
    order = np.argsort(vals, kind="stable")
    r = np.empty(len(vals))
    r[order] = np.arange(len(vals))
    for v in np.unique(vals):  # average ties
        m = vals == v
        r[m] = r[m].mean()
    r /= len(vals) - 1
    for (v, i), x in zip(known, r):
        out[i] = x
    return out


def _motion_change(a: FootageAnalysis, s: Shot) -> float | None:
    """Spread of the per-sample motion inside the usable part (how much the picture changes)."""
    frames = np.asarray(a.sample_frames)
    if frames.size == 0:
        return None
    lo, hi = np.searchsorted(frames, [s.usable_start_frame, s.usable_end_frame])
    vals = [v for v in a.motion[lo:hi] if v is not None]
    return float(np.std(vals)) if len(vals) >= 2 else None


def _candidates(analyses: Sequence[FootageAnalysis], style: Style) -> tuple[ShotCandidate, ...]:
    raw, short = [], []
    for sid, (a, s) in shot_id_map(analyses).items():
        if s.black or a.media.video is None:
            continue
        rate = Fraction(a.media.video.rate)
        us, ue = s.usable_start_frame, s.usable_end_frame
        if ue <= us:
            continue
        if Fraction(ue - us) / rate < Fraction(style.min_shot_s).limit_denominator(1000):
            short.append((sid, a, s, rate))
            continue
        raw.append((sid, a, s, rate))
    if not raw:  # every shot is shorter than the style wants: plan them anyway, the assembly notes it
        raw = short
    motion = _ranks([s.motion for _, _, s, _ in raw])
    shake = _ranks([s.shake for _, _, s, _ in raw])
    colour = _ranks([s.colourfulness for _, _, s, _ in raw])
    change = _ranks([_motion_change(a, s) for _, a, s, _ in raw])
    out = []
    for k, (sid, a, s, rate) in enumerate(raw):
        calm = 0.5 * (1 - motion[k]) + 0.25 * (1 - shake[k]) + 0.25 * (1 - change[k])
        intensity = 0.65 * motion[k] + 0.35 * colour[k]
        quality = float(np.mean(s.scores)) if s.scores else 0.5
        out.append(ShotCandidate(
            id=sid, path=a.path, shot_index=s.index, usable_start_frame=s.usable_start_frame,
            usable_end_frame=s.usable_end_frame, rate=rate, creation_time=a.media.creation_time,
            motion=s.motion, shake=s.shake, sharpness=s.sharpness, exposure=s.exposure,
            colourfulness=s.colourfulness, calm=round(float(calm), 4), intensity=round(float(intensity), 4),
            quality=round(quality, 4)))
    return tuple(out)


def story_arc(analyses: Sequence[FootageAnalysis], style: Style) -> dict[str, float]:
    """Where each usable shot sits on the rules planner's story arc, without noise:
    ``intensity - calm`` (-1 calmest .. 1 most intense), by shot id (:func:`shot_id_map`).
    Shots the planner would not offer (black, no usable frames) are absent.

    Examples
    --------
    >>> from montage_ai.core.plan.styles import load_style
    >>> story_arc([], load_style("dynamic"))
    {}
    """
    return {c.id: round(c.intensity - c.calm, 4) for c in _candidates(analyses, style)}


# --------------------------------------------------------------------------- music phases


def _snap(t: float, grid: Sequence[float], end: float) -> float:
    inside = [g for g in grid if 0.0 < g < end]
    return min(inside, key=lambda g: abs(g - t)) if inside else t


def _mean_energy(music: MusicAnalysis, a: float, b: float, fallback: float) -> float:
    e = [en for t, en in zip(music.beat_times_s, music.beat_energy) if a <= t < b]
    return round(float(np.mean(e)), 4) if e else round(float(fallback), 4)


def music_phases(music: MusicAnalysis, style: Style, duration_s: float | None = None) -> tuple[Phase, ...]:
    """Split the music (its first ``duration_s`` seconds) into intro, build, climax, outro.

    The climax is the most energetic section, biased towards the end of the song (a loud
    first chorus loses to a louder or equal last one), extended over the sections right
    after it that are nearly as loud. The intro is the first section, the build runs up to
    the climax, the outro is what follows it (when the climax runs to the end, its last
    bars). Boundaries fall on downbeats; every phase lasts at least a bar and the style's
    shortest shot, else the song is split 15/30/40/15 %.

    Parameters
    ----------
    music : MusicAnalysis
    style : Style
    duration_s : float, optional
        Plan only this much of the music (a cut shorter than the song).

    Returns
    -------
    tuple of Phase
        Four phases covering ``[0, duration)``, without shots.

    Examples
    --------
    >>> from montage_ai.core.analysis.music import Section
    >>> from montage_ai.core.plan.styles import load_style
    >>> beats = tuple(i * 0.5 for i in range(128))
    >>> m = MusicAnalysis("song.wav", 64.0, 22050, 120.0, 4, beats, beats[::4], (0.5,) * 128,
    ...     (Section(0, 16, "A", 0.3), Section(16, 32, "B", 0.6), Section(32, 48, "C", 0.9),
    ...      Section(48, 64, "A", 0.3)))
    >>> [(p.name, p.start_s, p.end_s) for p in music_phases(m, load_style("dynamic"))]
    [('intro', 0.0, 16.0), ('build', 16.0, 32.0), ('climax', 32.0, 48.0), ('outro', 48.0, 64.0)]
    """
    end = float(music.duration_s if duration_s is None else min(duration_s, music.duration_s))
    if end <= 0:
        raise PlanError(f"{music.path}: the music has no duration to plan")
    bar_s = music.meter * 60.0 / music.tempo_bpm if music.tempo_bpm > 0 else 2.0
    min_len = max(bar_s, style.min_shot_s)
    grid = list(music.downbeat_times_s) or list(music.beat_times_s)
    secs = [(max(0.0, s.start_s), min(end, s.end_s), s.energy) for s in music.sections
            if s.start_s < end and s.end_s > 0 and min(end, s.end_s) - max(0.0, s.start_s) > 1e-6]
    if len(secs) < 2:  # no structure: chunks of 8 bars with their beat energy
        step = 8 * bar_s
        cuts = [0.0] + [_snap(k * step, grid, end) for k in range(1, int(end // step) + 1)] + [end]
        cuts = sorted(set(c for c in cuts if 0.0 <= c <= end))
        secs = [(a, b, _mean_energy(music, a, b, 0.5)) for a, b in zip(cuts, cuts[1:]) if b - a > 1e-6]
    secs[0] = (0.0, secs[0][1], secs[0][2])
    secs[-1] = (secs[-1][0], end, secs[-1][2])

    late = [k for k, s in enumerate(secs) if s[0] >= 0.25 * end] or list(range(len(secs)))
    c = max(late, key=lambda k: (secs[k][2] + 0.15 * (secs[k][0] + secs[k][1]) / (2 * end), k))
    j = c
    while j + 2 < len(secs) and secs[j + 1][2] >= secs[c][2] - 0.08:
        j += 1
    t1, t2, t3 = secs[0][1], secs[c][0], secs[j][1]
    if end - t3 < min_len:  # the climax runs to the end: its last bars resolve
        t3 = _snap(end - max(min_len, min(0.15 * end, 0.3 * (t3 - t2))), grid, end)
    if t2 < 2 * min_len:  # the climax starts the song: build up to a third of it
        t2 = _snap(max(2 * min_len, t3 / 3), grid, end)
    if not (min_len <= t1 <= t2 - min_len):
        t1 = _snap(t2 / 2, grid, end)
    bounds = [0.0, t1, t2, t3, end]
    if any(b - a < min_len - 1e-6 for a, b in zip(bounds, bounds[1:])):
        snapped = [0.0] + [_snap(f * end, grid, end) for f in (0.15, 0.45, 0.85)] + [end]
        bounds = snapped if all(b > a for a, b in zip(snapped, snapped[1:])) else [0.0, 0.15 * end, 0.45 * end,
                                                                                    0.85 * end, end]
    phases = []
    for name, a, b in zip(PHASES, bounds, bounds[1:]):
        overl = [(min(b, s1) - max(a, s0), e) for s0, s1, e in secs if min(b, s1) > max(a, s0)]
        fallback = sum(w * e for w, e in overl) / max(sum(w for w, _ in overl), 1e-9) if overl else 0.5
        phases.append(Phase(name, round(float(a), 6), round(float(b), 6), _mean_energy(music, a, b, fallback)))
    return tuple(phases)


def _demand(phases: Sequence[Phase], music: MusicAnalysis, style: Style) -> dict[str, int]:
    beat_s = 60.0 / music.tempo_bpm if music.tempo_bpm > 0 else 0.5
    out = {}
    for p in phases:
        lo, hi = style.beats_for(style.energy_level(p.energy), p.name)
        slot = min(max((lo + hi) / 2 * beat_s, style.min_shot_s), style.max_shot_s)
        out[p.name] = max(1, math.ceil(p.duration_s / slot)) if p.duration_s > 0 else 0
    return out


def make_request(analyses: Sequence[FootageAnalysis], music: MusicAnalysis, style: Style, *, seed: int = 0,
                 duration_s: float | None = None, brief: str = "") -> PlanRequest:
    """Gather what a planner needs: the music phases, the usable shots (not black, at least
    the style's shortest shot long; all non-black shots when none is that long) with
    relative features, and the expected shot count per phase.

    Examples
    --------
    >>> request = make_request(analyses, music, load_style("mtv"), seed=1)   # doctest: +SKIP
    >>> request.shots[0].describe()                                          # doctest: +SKIP
    'A001.mp4#0: 2.0 s, motion 0.012, shake 0.0004, colour 21, calm 0.81, ...'
    """
    phases = music_phases(music, style, duration_s)
    return PlanRequest(music=music, style=style, phases=phases, shots=_candidates(analyses, style),
                       demand=MappingProxyType(_demand(phases, music, style)), seed=int(seed),
                       duration_s=duration_s, brief=brief)


# --------------------------------------------------------------------------- validation


def validate_plan(plan: StoryPlan, request: PlanRequest) -> StoryPlan:
    """Check a plan against its request; return it unchanged or raise :class:`PlanError`
    listing every problem (for an LLM planner to send back to the model).

    Checks: the four phases present once each, in order, contiguous over the music; every
    shot id known to the request; no id twice; at least one shot in all.

    Examples
    --------
    >>> validate_plan(StoryPlan((), {}, "x"), request)                      # doctest: +SKIP
    Traceback (most recent call last):
    PlanError: plan from x is invalid: missing phases intro, build, climax, outro; ...
    """
    problems: list[str] = []
    names = [p.name for p in plan.phases]
    missing = [n for n in PHASES if n not in names]
    if missing:
        problems.append(f"missing phases {', '.join(missing)}")
    extra = [n for n in names if n not in PHASES]
    if extra:
        problems.append(f"unknown phases {', '.join(extra)} (use {', '.join(PHASES)})")
    if not missing and not extra and names != list(PHASES):
        problems.append(f"phases out of order or repeated: {', '.join(names)}")
    for a, b in zip(plan.phases, plan.phases[1:]):
        if abs(a.end_s - b.start_s) > 1e-6:
            problems.append(f"phase {a.name} ends at {a.end_s:.3f} s but {b.name} starts at {b.start_s:.3f} s")
    for p in plan.phases:
        if p.end_s < p.start_s:
            problems.append(f"phase {p.name} ends before it starts")
    known = {c.id for c in request.shots}
    seen: set[str] = set()
    unknown, dupes = [], []
    for i in plan.shot_ids:
        if i not in known:
            unknown.append(i)
        elif i in seen:
            dupes.append(i)
        seen.add(i)
    if unknown:
        problems.append(f"unknown shot ids {', '.join(unknown)}")
    if dupes:
        problems.append(f"shot ids used twice {', '.join(dupes)}")
    if not plan.shot_ids:
        problems.append("no shots planned")
    if problems:
        raise PlanError(f"plan from {plan.planner or 'a planner'} is invalid: " + "; ".join(problems))
    return plan


# --------------------------------------------------------------------------- rules planner


def _allocate(n: int, demand: Sequence[int]) -> list[int]:
    """Split ``n`` shots over phases in proportion to their demand (largest remainder), at
    least one each for phases that want some when there are enough shots."""
    total = sum(demand)
    if total == 0 or n == 0:
        return [0] * len(demand)
    exact = [n * d / total for d in demand]
    counts = [int(x) for x in exact]
    for k in sorted(range(len(demand)), key=lambda k: exact[k] - counts[k], reverse=True)[: n - sum(counts)]:
        counts[k] += 1
    wanting = [k for k, d in enumerate(demand) if d > 0]
    if n >= len(wanting):
        for k in wanting:
            if counts[k] == 0:
                donor = max(range(len(counts)), key=lambda i: counts[i])
                counts[donor] -= 1
                counts[k] += 1
    return counts


def _spread_files(ids: list[str], path_of: Mapping[str, str]) -> list[str]:
    """Keep the order but avoid two shots of one file in a row where another can go."""
    rest, out = list(ids), []
    while rest:
        k = next((i for i, x in enumerate(rest) if not out or path_of[x] != path_of[out[-1]]), 0)
        out.append(rest.pop(k))
    return out


def _why(c: ShotCandidate, phase: str, final: bool = False) -> str:
    """One line on why a shot plays in a phase, from its features."""
    m = f"motion {c.motion:.3f}" if c.motion is not None else f"intensity {c.intensity:.2f}"
    steady = "steady" if c.calm >= 0.5 else (f"shake {c.shake:.4f}" if c.shake is not None else "moving")
    if final:
        return f"resolving: calmest ending shot, {m}, {steady}"
    if phase == "intro":
        return f"establishing: calm {c.calm:.2f}, {m}, {steady}"
    if phase == "build":
        return f"rising: intensity {c.intensity:.2f}, {m}"
    if phase == "climax":
        colour = ", colourful" if c.intensity >= 0.6 and c.colourfulness is not None else ""
        return f"{'highest' if c.intensity >= 0.8 else 'high'} {m}{colour}"
    return f"winding down: calm {c.calm:.2f}, {m}"


@dataclass
class RulesPlanner:
    """The deterministic planner: calm, steady shots open; intensity rises through the
    build; the most intense shots make the climax; a calm shot resolves the outro.
    Chronological styles keep creation-time order and only split it over the phases.

    The seed adds noise to the arc ranking, so another seed re-rolls which shots go where
    while keeping the shape.

    Examples
    --------
    >>> plan = RulesPlanner().plan(make_request(analyses, music, style, seed=2))   # doctest: +SKIP
    """

    name: str = "rules"
    noise: float = 0.12

    def plan(self, request: PlanRequest) -> StoryPlan:
        shots = list(request.shots)
        if not shots:
            raise PlanError("no usable shots: every shot is black or has no usable frames")
        rng = np.random.default_rng(request.seed)
        demand = [request.demand.get(p.name, 0) for p in request.phases]
        counts = _allocate(len(shots), demand)
        by_id = {c.id: c for c in shots}
        path_of = {c.id: c.path for c in shots}
        reasons: dict[str, str] = {}
        groups: dict[str, list[str]] = {}
        if request.style.chronological:
            ordered = sorted(shots, key=chronological_key)
            k = 0
            for p, n in zip(request.phases, counts):
                groups[p.name] = [c.id for c in ordered[k:k + n]]
                k += n
            for p in request.phases:
                for i in groups[p.name]:
                    c = by_id[i]
                    when = c.creation_time.isoformat(timespec="seconds") if c.creation_time else os.path.basename(c.path)
                    reasons[i] = f"in order ({when}, frame {c.usable_start_frame})"
            notes = ("chronological: creation time, then file, then frame",)
        else:
            noise = rng.normal(0.0, self.noise, len(shots))
            arc = {c.id: c.intensity - c.calm + z for c, z in zip(shots, noise)}
            asc = sorted(arc, key=lambda i: (arc[i], i))
            n_intro, n_build, n_climax, n_outro = counts
            climax = asc[len(asc) - n_climax:] if n_climax else []
            pool = asc[: len(asc) - n_climax]
            final: list[str] = []
            if n_outro and pool:
                head = pool[: min(3, len(pool))]  # the calmest few: the best-looking resolves
                final = [max(head, key=lambda i: (by_id[i].quality + 0.3 * by_id[i].calm, i))]
                pool.remove(final[0])
            intro, pool = pool[:n_intro], pool[n_intro:]
            outro_rest, build = pool[: max(0, n_outro - 1)], pool[max(0, n_outro - 1):]
            groups["intro"] = _spread_files(sorted(intro, key=lambda i: arc[i]), path_of)
            groups["build"] = _spread_files(sorted(build, key=lambda i: arc[i]), path_of)
            groups["climax"] = _spread_files(sorted(climax, key=lambda i: -(0.6 * arc[i] + 0.4 * by_id[i].quality)), path_of)
            groups["outro"] = sorted(outro_rest, key=lambda i: -arc[i]) + final
            for name, ids in groups.items():
                for i in ids:
                    reasons[i] = _why(by_id[i], name, final=i in final)
            notes = (f"arc noise {self.noise} with seed {request.seed}",)
        phases = tuple(Phase(p.name, p.start_s, p.end_s, p.energy, tuple(groups.get(p.name, ())))
                       for p in request.phases)
        plan = StoryPlan(phases=phases, reasons=MappingProxyType(reasons), planner=self.name, notes=notes,
                         seed=request.seed, style=request.style.name)
        log.debug("rules plan: %s", [(p.name, len(p.shot_ids)) for p in phases])
        return validate_plan(plan, request)
