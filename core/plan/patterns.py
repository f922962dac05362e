"""Cut patterns as data: one TOML file per pattern, combinable with any style.

A style says how a cut is paced and ordered over the story; a pattern is a named rule of
where cuts fall that an editor asks for by name ("every bar", "build-up and drop"). A
pattern overrides only what it names and keeps the rest of the style (order, reuse, story
phases): ``apply_pattern(load_style("cinematic"), load_pattern("every_bar"))``.

Unlike a grid that only counts beats, patterns look at the footage: with ``match_energy``
the fill gives loud bars (a chorus, a drop) the most intense shots and quiet bars the
calmest; with ``drops`` the music's drops are found (:func:`detect_drops`: energy and low
end jump after a build), cuts tighten
through the ``build_bars`` before each, and the drop itself is a cut that the most
intense shot fills.

Built-in patterns ship in ``core/plan/patterns/*.toml``; a user adds one as ``<name>.toml``
in ``platformdirs.user_config_dir("montage-ai")/patterns`` or a folder named by
``$MONTAGE_AI_PATTERNS``. File format (every key but ``description`` optional)::

    description = "A cut on every bar line"
    beats_per_cut = [4, 4]        # [min, max] beats per cut everywhere (replaces the style's)
    downbeats_only = true         # every cut on a downbeat
    subdivide = 2                 # cut points between beats too (2: half beats)
    match_energy = true           # intense shots on loud bars, calm ones on quiet bars
    drops = true                  # find drops; tighten the build; hit the drop
    build_bars = 4                # bars of build before a drop
    min_shot_s = 0.2              # overrides of the style's shortest/longest shot, fade
    max_shot_s = 20.0
    fade_out_s = 4.0

    [beats_per_cut.energy]        # or by energy level (replaces the style's ranges)
    low = [4, 8]
    mid = [2, 2]
    high = [1, 1]

>>> sorted(p.name for p in available_patterns())[:3]
['build_drop', 'double_time', 'downbeats_only']
>>> s = apply_pattern(load_style("cinematic"), load_pattern("every_beat"))
>>> s.name, s.beats_for("low", "intro"), s.order
('cinematic+every_beat', (1, 1), 'story')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Sequence

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

import numpy as np

from montage_ai.core.analysis.music import MusicAnalysis
from montage_ai.core.plan.styles import ENERGY_LEVELS, Style, StyleError, load_style  # noqa: F401 - doctest

__all__ = ["Pattern", "PatternError", "load_pattern", "available_patterns", "apply_pattern", "detect_drops", "bar_low_end",
           "BUILTIN_DIR", "ENV_VAR"]

BUILTIN_DIR = Path(__file__).with_name("patterns")
ENV_VAR = "MONTAGE_AI_PATTERNS"
_KEYS = {"description", "beats_per_cut", "downbeats_only", "subdivide", "match_energy", "drops", "build_bars",
         "min_shot_s", "max_shot_s", "fade_out_s"}


class PatternError(StyleError):
    """A pattern cannot be found or its file is malformed; names the file and the key."""


@dataclass(frozen=True)
class Pattern:
    name: str
    description: str
    beats: tuple[int, int] | None = None
    beats_by_energy: tuple[tuple[str, tuple[int, int]], ...] = ()
    downbeats_only: bool = False
    subdivide: int = 1
    match_energy: bool = False
    drops: bool = False
    build_bars: int = 4
    min_shot_s: float | None = None
    max_shot_s: float | None = None
    fade_out_s: float | None = None
    source: str = ""


def pattern_dirs() -> list[Path]:
    import platformdirs

    dirs = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    return dirs + [Path(platformdirs.user_config_dir("montage-ai")) / "patterns", BUILTIN_DIR]


def _names() -> set[str]:
    return {p.stem for d in pattern_dirs() if d.is_dir() for p in d.glob("*.toml")}


def load_pattern(name_or_path: str | os.PathLike[str]) -> Pattern:
    """A pattern by name (user folders first) or from a ``.toml`` path; :class:`PatternError`
    lists the known names for an unknown one."""
    text = os.fspath(name_or_path)
    if text.endswith(".toml") or os.sep in text:
        path = Path(text)
        if not path.is_file():
            raise PatternError(text, None, "no such pattern file")
    else:
        path = next((d / f"{text}.toml" for d in pattern_dirs() if (d / f"{text}.toml").is_file()), None)
        if path is None:
            raise PatternError(text, None, f"unknown pattern; known patterns: {', '.join(sorted(_names()))}")
    return _parse(path)


def available_patterns() -> list[Pattern]:
    return [load_pattern(n) for n in sorted(_names())]


def _range(src: str, key: str, v: Any) -> tuple[int, int]:
    if (not isinstance(v, list) or len(v) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in v)
            or not 1 <= v[0] <= v[1]):
        raise PatternError(src, key, f"must be [min, max] whole beats with 1 <= min <= max, not {v!r}")
    return v[0], v[1]


def _parse(path: Path) -> Pattern:
    src = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise PatternError(src, None, f"cannot be read as TOML: {exc}") from None
    for key in raw:
        if key not in _KEYS:
            raise PatternError(src, key, f"unknown key; allowed: {', '.join(sorted(_KEYS))}")
    if not isinstance(raw.get("description"), str) or not raw["description"]:
        raise PatternError(src, "description", "missing: give a one-line description")
    bpc = raw.get("beats_per_cut")
    beats, by_energy = None, ()
    if isinstance(bpc, list):
        beats = _range(src, "beats_per_cut", bpc)
    elif isinstance(bpc, dict):
        table = bpc.get("energy", {})
        if set(bpc) - {"energy"} or not isinstance(table, dict) or set(table) - set(ENERGY_LEVELS):
            raise PatternError(src, "beats_per_cut", "a [min, max] or a [beats_per_cut.energy] table of low/mid/high")
        by_energy = tuple((k, _range(src, f"beats_per_cut.energy.{k}", v)) for k, v in table.items())
    elif bpc is not None:
        raise PatternError(src, "beats_per_cut", f"a [min, max] or a [beats_per_cut.energy] table, not {bpc!r}")

    def get(key: str, kind: type, default: Any) -> Any:
        v = raw.get(key, default)
        if v is default:
            return v
        if kind is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, kind) or (kind is not bool and isinstance(v, bool)):
            raise PatternError(src, key, f"must be {'a number' if kind is float else 'a ' + kind.__name__}, not {v!r}")
        if kind in (int, float) and v <= 0:
            raise PatternError(src, key, f"must be positive, not {v}")
        return v

    return Pattern(path.stem, raw["description"], beats, by_energy, get("downbeats_only", bool, False),
                   get("subdivide", int, 1), get("match_energy", bool, False), get("drops", bool, False),
                   get("build_bars", int, 4), get("min_shot_s", float, None), get("max_shot_s", float, None),
                   get("fade_out_s", float, None), src)


def apply_pattern(style: Style, pattern: Pattern | None) -> Style:
    """``style`` with what ``pattern`` names replaced (None: the style itself)."""
    if pattern is None:
        return style
    changes: dict[str, Any] = {"name": f"{style.name}+{pattern.name}", "pattern": pattern.name,
                               "subdivide": pattern.subdivide, "match_energy": pattern.match_energy or style.match_energy,
                               "drops": pattern.drops, "build_bars": pattern.build_bars}
    if pattern.beats is not None:
        changes["beats_by_energy"] = MappingProxyType({lv: pattern.beats for lv in ENERGY_LEVELS})
        changes["beats_by_phase"] = MappingProxyType({})
    elif pattern.beats_by_energy:
        changes["beats_by_energy"] = MappingProxyType({**dict(style.beats_by_energy), **dict(pattern.beats_by_energy)})
        changes["beats_by_phase"] = MappingProxyType({})
    if pattern.downbeats_only:
        changes["all_cuts_on_downbeat"] = True
    lo = pattern.min_shot_s if pattern.min_shot_s is not None else style.min_shot_s
    hi = pattern.max_shot_s if pattern.max_shot_s is not None else style.max_shot_s
    changes["min_shot_s"], changes["max_shot_s"] = lo, max(lo, hi)
    if pattern.fade_out_s is not None:
        changes["fade_out_s"] = pattern.fade_out_s
    return replace(style, **changes)


def _per_bar(music: MusicAnalysis, values: Sequence[float]) -> list[float]:
    """Mean of per-beat ``values`` over each bar (from each downbeat to the next)."""
    downs = list(music.downbeat_times_s)
    beats = np.asarray(music.beat_times_s, float)
    v = np.asarray(values[:len(beats)], float)
    out = []
    for a, b in zip(downs, downs[1:] + [music.duration_s]):
        sel = ((beats >= a - 1e-6) & (beats < b - 1e-6))[:len(v)]
        out.append(float(v[sel].mean()) if sel.any() else 0.0)
    return out


def _bar_energy(music: MusicAnalysis) -> tuple[list[float], list[float]]:
    """``(bar start times, mean beat energy of each bar)``."""
    return list(music.downbeat_times_s), _per_bar(music, music.beat_energy)


def bar_low_end(music: MusicAnalysis) -> list[float] | None:
    """Mean low-end energy (:attr:`~.music.MusicAnalysis.beat_low`: kick and bass) of each
    bar, or None for an analysis that does not carry it."""
    if len(music.beat_low) < len(music.beat_times_s) or not music.beat_low:
        return None
    return _per_bar(music, music.beat_low)


def detect_drops(music: MusicAnalysis, *, build_bars: int = 4, jump: float = 0.25,
                 low_jump: float = 0.25) -> list[float]:
    """Times (s) of the drops: the bars where energy and low end jump after a build.

    A bar is a drop when its energy (RMS per beat, 0..1) is ``jump`` or more over the mean
    of the ``build_bars`` before it, the build did not already peak (its loudest bar is
    below the drop's by ``jump / 2``), and its low end (energy below
    :data:`~.music.LOW_BAND_HZ`: kick and bass come in) is ``low_jump`` or more over the
    build's and at least 1.5 times it. A louder bar whose low end stays (strings swelling, a
    guitar solo) is no drop. Analyses without the low end (older caches) use loudness
    alone. A drop is not found within ``build_bars`` of the last one.

    >>> b = tuple(i / 2 for i in range(64))
    >>> e = tuple(0.3 if t < 16 else 0.95 for t in b)
    >>> low = tuple(0.1 if t < 16 else 1.0 for t in b)
    >>> detect_drops(MusicAnalysis("m", 32.0, 22050, 120.0, 4, b, b[::4], e, (), beat_low=low))
    [16.0]
    >>> detect_drops(MusicAnalysis("m", 32.0, 22050, 120.0, 4, b, b[::4], e, (), beat_low=(0.5,) * 64))
    []
    """
    downs, energy = _bar_energy(music)
    low = bar_low_end(music)
    drops: list[float] = []
    bar_s = downs[1] - downs[0] if len(downs) > 1 else 2.0
    for i in range(build_bars, len(downs)):
        before = energy[i - build_bars:i]
        if energy[i] - float(np.mean(before)) < jump or max(before) >= energy[i] - jump / 2:
            continue
        if low is not None:
            base = float(np.mean(low[i - build_bars:i]))
            if low[i] - base < low_jump or low[i] < 1.5 * base:
                continue
        if not drops or downs[i] - drops[-1] > build_bars * bar_s:
            drops.append(float(downs[i]))
    return drops


def drop_frames(music: MusicAnalysis, style: Style, rate, n_frames: int) -> Sequence[tuple[int, int]]:
    """``(build start, drop)`` timeline frames of each drop inside the cut (patterns with drops)."""
    from montage_ai.core.base.timebase import seconds_to_frames

    if not style.drops:
        return ()
    downs = list(music.downbeat_times_s)
    out = []
    for t in detect_drops(music, build_bars=style.build_bars):
        k = downs.index(t)
        start = downs[max(0, k - style.build_bars)]
        d = seconds_to_frames(t, rate)
        if 0 < d < n_frames:
            out.append((seconds_to_frames(start, rate), d))
    return out
