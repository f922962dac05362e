"""Sample media for ``montage-ai demo``: generated footage and music with known content.

The demo runs the real pipeline on media anyone can make: a few clips rendered from
ffmpeg's test sources (hard cuts, a dissolve, fades through black, a flash, a blurred and a
moving shot) and a synthesized track with known beats, downbeats and sections.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Callable

from . import sample_footage, sample_music
from .sample_footage import Segment

DEMO_RATE = Fraction(24000, 1001)
DEMO_SIZE = (640, 360)


@dataclass(frozen=True)
class DemoMedia:
    footage: tuple[str, ...]
    music: str
    footage_truth: tuple[sample_footage.GroundTruth, ...]
    music_truth: sample_music.GroundTruth


def _clips(rate: Fraction) -> dict[str, list[Segment]]:
    n = int(round(2 * rate))  # two-second shots
    return {
        "A001_city.mp4": sample_footage.demo_segments(seconds_per_shot=2.0, rate=rate),
        "A002_studio.mp4": [Segment("smptebars", n, grain=2.0), Segment("zoompan", n + n // 2),
                            Segment("testsrc2", n, gain=0.35), Segment("cellauto", n, seed=4)],
        "A003_night.mp4": [Segment("pan", 2 * n, pan_px_per_frame=4.0), Segment("mandelbrot", n, dissolve_in=n // 3),
                           Segment("gradients", n, seed=9, blur_sigma=4.0), Segment("life", n, seed=5, fade_out=n // 4)],
    }


def make_demo_media(folder: str | os.PathLike[str], *, progress: Callable[[float], None] | None = None,
                    rate: Fraction = DEMO_RATE, size: tuple[int, int] = DEMO_SIZE,
                    music_preset: str = "steady_120") -> DemoMedia:
    """Render the demo clips and track into ``folder`` (existing files are kept as they are)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    clips = _clips(rate)
    paths, truths = [], []
    for i, (name, segments) in enumerate(clips.items()):
        path = folder / name
        truths.append(sample_footage.render_footage(path, segments, rate=rate, size=size, audio=True, gop_frames=24))
        paths.append(str(path))
        if progress:
            progress((i + 1) / (len(clips) + 1))
    spec = sample_music.PRESETS[music_preset]
    y, music_truth = sample_music.render(replace(spec, sr=44100))
    music = str(folder / "music.wav")
    sample_music.write_audio(music, y, music_truth.sample_rate)
    if progress:
        progress(1.0)
    return DemoMedia(tuple(paths), music, tuple(truths), music_truth)
