"""The benchmarks in ``bench/`` loaded as modules, for the tests that run them on small
generated media (``bench/`` on ``sys.path`` too: benches import each other)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load_bench(name: str) -> ModuleType:
    """``bench/<name>.py``, freshly executed."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def two_shot_clip(folder: Path) -> Path:
    """A 50-frame generated clip for the footage benches: a 30-frame pan, then a cut to a still scene."""
    from montage_ai.core.samples.footage import Segment, render_footage

    path = folder / "two_shots.mp4"
    render_footage(path, [Segment("pan", 30, still="scene", seed=1, pan_px_per_frame=2.0),
                          Segment("scene", 20, seed=6)], size=(320, 180))
    return path
