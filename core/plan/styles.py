"""Editing styles as data: one TOML file per style, built-in or the user's own.

A style says how a rough cut is paced and ordered: beats per cut by the music's energy and
by story phase, the shortest and longest shot, whether section changes (or all cuts) land
on downbeats, story or chronological order, whether shots may be reused, and the music fade.

Built-in styles ship in ``montage_ai/core/styles/*.toml``. A user adds or overrides a style
by dropping a ``<name>.toml`` file in ``platformdirs.user_config_dir("montage-ai")/styles``
or in a folder named by ``$MONTAGE_AI_STYLES`` (several folders separated by
:data:`os.pathsep`; the first wins). No code changes needed.

>>> style = load_style("mtv")
>>> style.beats_for("high", "climax")
(1, 1)
>>> sorted(s.name for s in available_styles())[:3]
['cinematic', 'documentary', 'dynamic']

File format (every key but ``description`` optional; ``extends`` starts from another style)::

    description = "Music-video pacing: a cut every 1-2 beats throughout"
    extends = "dynamic"           # take every unset key from this style
    min_shot_s = 0.2              # shortest shot, seconds
    max_shot_s = 2.5              # longest shot, seconds
    order = "story"               # or "chronological" (creation time, file, frame)
    reuse = "shots"               # "never": a shot is used once; "shots": again, never its frames
    fade_out_s = 1.0              # music fade at a cut shorter than the song
    section_cut_on_downbeat = true
    all_cuts_on_downbeat = false
    accelerate_build = false      # beats per cut fall steadily through the build phase
    energy_levels = [0.4, 0.7]    # beat energy below the first is "low", above the second "high"
    repeat_window = 3             # a shot is none of the last N cuts (3: no A-B-A, A-B-C-A; 1: not twice in a row)

    [beats_per_cut.energy]        # [min, max] beats per cut by energy level
    low = [2, 2]
    mid = [1, 2]
    high = [1, 1]

    [beats_per_cut.phase]         # [min, max] by story phase (intro, build, climax, outro)
    climax = [1, 1]
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from montage_ai.core.base.errors import MontageError

log = logging.getLogger(__name__)

__all__ = ["Style", "StyleError", "load_style", "available_styles", "style_dirs", "PHASES",
           "ENERGY_LEVELS", "BUILTIN_DIR", "ENV_VAR"]

#: Story phases, in order.
PHASES = ("intro", "build", "climax", "outro")
#: Energy levels, quietest first.
ENERGY_LEVELS = ("low", "mid", "high")
#: Folder of the built-in styles.
BUILTIN_DIR = Path(__file__).with_name("styles")
#: Environment variable naming extra style folders.
ENV_VAR = "MONTAGE_AI_STYLES"

_ORDERS = ("story", "chronological")
_REUSE = ("never", "shots")
_ANY = (1, 64)
_KEYS = {"name", "description", "extends", "min_shot_s", "max_shot_s", "order", "reuse", "fade_out_s",
         "section_cut_on_downbeat", "all_cuts_on_downbeat", "accelerate_build", "energy_levels",
         "beats_per_cut", "repeat_window"}


class StyleError(MontageError):
    """A style cannot be found or its file is malformed; names the file and the key."""

    def __init__(self, path: str, key: str | None, reason: str) -> None:
        self.path, self.key, self.reason = path, key, reason
        where = f"{path}: key {key!r}: " if key else f"{path}: "
        super().__init__(where + reason)

    def __reduce__(self):
        return (type(self), (self.path, self.key, self.reason))


@dataclass(frozen=True)
class Style:
    """How a rough cut is paced and ordered.

    ``beats_by_energy[level]`` and ``beats_by_phase[phase]`` are inclusive ``(min, max)``
    beats per cut; :meth:`beats_for` combines them. ``source`` is the file it came from.

    Examples
    --------
    >>> s = load_style("documentary")
    >>> s.min_shot_s, s.reuse, s.order
    (3.0, 'never', 'story')
    """

    name: str
    description: str
    beats_by_energy: Mapping[str, tuple[int, int]] = field(hash=False)
    beats_by_phase: Mapping[str, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    min_shot_s: float = 0.5
    max_shot_s: float = 8.0
    section_cut_on_downbeat: bool = True
    all_cuts_on_downbeat: bool = False
    order: str = "story"
    reuse: str = "shots"
    fade_out_s: float = 2.0
    accelerate_build: bool = False
    energy_levels: tuple[float, float] = (0.4, 0.7)
    repeat_window: int = 3
    source: str = ""
    #: Set by a cut pattern (:mod:`.patterns`): beats split into this many cut points,
    #: shots matched to the music's energy, drops detected and hit, bars of build before one.
    subdivide: int = 1
    match_energy: bool = False
    drops: bool = False
    build_bars: int = 4
    pattern: str = ""

    def energy_level(self, energy: float) -> str:
        """``"low"``, ``"mid"`` or ``"high"`` for a beat energy in 0..1."""
        lo, hi = self.energy_levels
        return "low" if energy < lo else "mid" if energy < hi else "high"

    def beats_for(self, level: str, phase: str) -> tuple[int, int]:
        """Inclusive ``(min, max)`` beats per cut at an energy level in a story phase.

        The intersection of the energy range and the phase range; the phase range alone
        when they do not overlap (the story phase wins).

        Examples
        --------
        >>> load_style("hitchcock").beats_for("high", "intro")
        (8, 16)
        """
        e = self.beats_by_energy.get(level, _ANY)
        p = self.beats_by_phase.get(phase, _ANY)
        lo, hi = max(e[0], p[0]), min(e[1], p[1])
        return (lo, hi) if lo <= hi else p

    @property
    def chronological(self) -> bool:
        return self.order == "chronological"


# --------------------------------------------------------------------------- lookup


def style_dirs() -> list[Path]:
    """Folders searched for styles, highest priority first: ``$MONTAGE_AI_STYLES`` folders,
    the user config folder, the built-ins."""
    import platformdirs

    dirs = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    dirs.append(Path(platformdirs.user_config_dir("montage-ai")) / "styles")
    dirs.append(BUILTIN_DIR)
    return dirs


def _find(name: str) -> Path | None:
    for d in style_dirs():
        p = d / f"{name}.toml"
        if p.is_file():
            return p
    return None


def load_style(name_or_path: str | os.PathLike[str]) -> Style:
    """Load a style by name (user folders first, then built-ins) or from a ``.toml`` path.

    Parameters
    ----------
    name_or_path : str or PathLike
        ``"mtv"``, or a path to a style file.

    Returns
    -------
    Style

    Raises
    ------
    StyleError
        Unknown name (the message lists the known ones) or a malformed file (the message
        names the file and the key).

    Examples
    --------
    >>> load_style("cinematic").all_cuts_on_downbeat
    True
    """
    text = os.fspath(name_or_path)
    if text.endswith(".toml") or os.sep in text or (os.altsep and os.altsep in text):
        path = Path(text)
        if not path.is_file():
            raise StyleError(text, None, "no such style file")
        return _load_file(path, ())
    path = _find(text)
    if path is None:
        known = ", ".join(sorted(_names()))
        raise StyleError(text, None, f"unknown style; known styles: {known} "
                         f"(add your own as <name>.toml in {style_dirs()[-2]} or ${ENV_VAR})")
    return _load_file(path, ())


def _names() -> set[str]:
    names: set[str] = set()
    for d in style_dirs():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return names


def available_styles(*, strict: bool = True) -> list[Style]:
    """Every style by name, a user's file overriding the built-in of the same name.

    Parameters
    ----------
    strict : bool
        Raise :class:`StyleError` for a malformed file (default); with ``False`` log a
        warning and leave it out.

    Examples
    --------
    >>> [(s.name, s.description) for s in available_styles()][0][0]
    'cinematic'
    """
    out = []
    for name in sorted(_names()):
        try:
            out.append(load_style(name))
        except StyleError as exc:
            if strict:
                raise
            log.warning("skipping style %s: %s", name, exc)
    return out


# --------------------------------------------------------------------------- parsing


def _load_file(path: Path, chain: tuple[str, ...]) -> Style:
    src = str(path)
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise StyleError(src, None, f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise StyleError(src, None, f"cannot be read: {exc.strerror or exc}") from None
    for key in raw:
        if key not in _KEYS:
            raise StyleError(src, key, f"unknown key; allowed: {', '.join(sorted(_KEYS))}")
    base: dict[str, Any] = {}
    if "extends" in raw:
        parent = raw["extends"]
        if not isinstance(parent, str):
            raise StyleError(src, "extends", "must be the name of another style")
        if parent in chain or parent == path.stem and path.parent == BUILTIN_DIR:
            raise StyleError(src, "extends", f"circular: {' -> '.join(chain + (parent,))}")
        ppath = _find_parent(parent, path)
        if ppath is None:
            raise StyleError(src, "extends", f"no style named {parent!r}")
        base = _as_dict(_load_file(ppath, chain + (path.stem,)))
    return _build(src, path.stem, raw, base)


def _find_parent(name: str, child: Path) -> Path | None:
    """A parent style; a file extending its own name skips to the next folder (a user
    ``mtv.toml`` may say ``extends = "mtv"`` to tweak the built-in)."""
    for d in style_dirs():
        p = d / f"{name}.toml"
        if p.is_file() and p.resolve() != child.resolve():
            return p
    return None


def _as_dict(s: Style) -> dict[str, Any]:
    return {"description": s.description, "min_shot_s": s.min_shot_s, "max_shot_s": s.max_shot_s,
            "order": s.order, "reuse": s.reuse, "fade_out_s": s.fade_out_s,
            "section_cut_on_downbeat": s.section_cut_on_downbeat, "all_cuts_on_downbeat": s.all_cuts_on_downbeat,
            "accelerate_build": s.accelerate_build, "energy_levels": s.energy_levels,
            "repeat_window": s.repeat_window, "energy": dict(s.beats_by_energy), "phase": dict(s.beats_by_phase)}


def _build(src: str, stem: str, raw: dict[str, Any], base: dict[str, Any]) -> Style:
    def get(key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        if key not in raw:
            return base.get(key, default)
        v = raw[key]
        if kind is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, kind) or (kind is not bool and isinstance(v, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise StyleError(src, key, f"must be {'a number' if kind is float else 'a ' + names}, not {v!r}")
        return v

    name = get("name", str, stem)
    description = get("description", str, None)
    if not description:
        raise StyleError(src, "description", "missing: give a one-line description")
    min_s = get("min_shot_s", float, 0.5)
    max_s = get("max_shot_s", float, 8.0)
    if min_s <= 0:
        raise StyleError(src, "min_shot_s", f"must be positive, not {min_s}")
    if max_s < min_s:
        raise StyleError(src, "max_shot_s", f"{max_s} is shorter than min_shot_s {min_s}")
    order = get("order", str, "story")
    if order not in _ORDERS:
        raise StyleError(src, "order", f"must be one of {', '.join(_ORDERS)}, not {order!r}")
    reuse = get("reuse", str, "shots")
    if reuse not in _REUSE:
        raise StyleError(src, "reuse", f"must be one of {', '.join(_REUSE)}, not {reuse!r}")
    fade = get("fade_out_s", float, 2.0)
    if fade < 0:
        raise StyleError(src, "fade_out_s", f"must not be negative, not {fade}")
    levels = get("energy_levels", (list, tuple), (0.4, 0.7))
    if (len(levels) != 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in levels)
            or not 0 <= levels[0] <= levels[1] <= 1):
        raise StyleError(src, "energy_levels", f"must be two numbers 0 <= low <= high <= 1, not {levels!r}")

    window = get("repeat_window", int, 3)
    if window < 1:
        raise StyleError(src, "repeat_window", f"must be a whole number of cuts, 1 or more, not {window}")

    bpc = raw.get("beats_per_cut", {})
    if not isinstance(bpc, dict):
        raise StyleError(src, "beats_per_cut", "must be a table with [beats_per_cut.energy] and/or .phase")
    for k in bpc:
        if k not in ("energy", "phase"):
            raise StyleError(src, f"beats_per_cut.{k}", "unknown table; use beats_per_cut.energy or .phase")
    energy = _ranges(src, "energy", bpc.get("energy"), ENERGY_LEVELS, base.get("energy", {}))
    phase = _ranges(src, "phase", bpc.get("phase"), PHASES, base.get("phase", {}))
    if not energy and not phase:
        raise StyleError(src, "beats_per_cut", "missing: give [beats_per_cut.energy] or [beats_per_cut.phase]")
    return Style(
        name=name, description=description,
        beats_by_energy=MappingProxyType(energy), beats_by_phase=MappingProxyType(phase),
        min_shot_s=float(min_s), max_shot_s=float(max_s),
        section_cut_on_downbeat=get("section_cut_on_downbeat", bool, True),
        all_cuts_on_downbeat=get("all_cuts_on_downbeat", bool, False),
        order=order, reuse=reuse, fade_out_s=float(fade),
        accelerate_build=get("accelerate_build", bool, False),
        energy_levels=(float(levels[0]), float(levels[1])), repeat_window=int(window), source=src,
    )


def _ranges(src: str, table: str, value: Any, allowed: tuple[str, ...],
            base: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    out = dict(base)
    if value is None:
        return out
    if not isinstance(value, dict):
        raise StyleError(src, f"beats_per_cut.{table}", "must be a table such as low = [2, 4]")
    for k, v in value.items():
        key = f"beats_per_cut.{table}.{k}"
        if k not in allowed:
            raise StyleError(src, key, f"unknown {table}; use {', '.join(allowed)}")
        if (not isinstance(v, list) or len(v) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in v)
                or not 1 <= v[0] <= v[1]):
            raise StyleError(src, key, f"must be [min, max] whole beats with 1 <= min <= max, not {v!r}")
        out[k] = (v[0], v[1])
    return out
