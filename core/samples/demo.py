"""A sample project for ``montage-ai demo``: generated footage and music with known content.

The demo runs the real pipeline on media anyone can make: clips rendered from ffmpeg's test
sources at the rates cameras and phones record (24000/1001, 25, 30000/1001, 60000/1001), of
different lengths, with hard cuts, a dissolve, fades through black, a flash, a blurred and
a dark shot and camera moves over generated landscapes, fractals and automata (no test
patterns: those are never offered in a cut, so the demo's cut is a fair show); and a synthesized song with a quiet intro, verses, a loud
chorus and an outro, whose beats, downbeats and sections are known.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

from montage_ai.core.samples import footage as sample_footage
from montage_ai.core.samples import music as sample_music
from montage_ai.core.samples.footage import Segment
from montage_ai.core.samples.music import MusicSpec, SectionSpec

DEMO_SIZE = (640, 360)
NTSC24, NTSC30, NTSC60 = Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)

#: Song: intro without drums, verse, chorus, verse, chorus (loudest), outro. 120 bpm, 4/4.
DEMO_SONG = MusicSpec(
    tempo_bpm=120, intro_bars=2, seed=2026, sr=44100,
    sections=(SectionSpec("verse", 4, 0.5, harmony=0), SectionSpec("chorus", 4, 0.85, harmony=1),
              SectionSpec("verse", 4, 0.55, harmony=0), SectionSpec("chorus", 4, 1.0, harmony=1),
              SectionSpec("outro", 2, 0.35, drums=False, harmony=0)),
)


@dataclass(frozen=True)
class DemoMedia:
    footage: tuple[str, ...]
    music: str
    footage_truth: tuple[sample_footage.GroundTruth, ...]
    music_truth: sample_music.GroundTruth


def _seconds(rate: Fraction, s: float) -> int:
    return int(round(rate * Fraction(s).limit_denominator(1000)))


def demo_clips() -> dict[str, tuple[Fraction, list[Segment]]]:
    """File name -> (rate, segments): a shoot's worth of varied clips."""
    r, p, e, s = NTSC24, Fraction(25), NTSC30, NTSC60
    return {
        "A001_C001_city.mov": (r, sample_footage.demo_segments(seconds_per_shot=2.0, rate=r)),
        "A001_C002_studio.mov": (r, [Segment("scene", _seconds(r, 3), seed=11, grain=2.0),
                                     Segment("zoompan", _seconds(r, 4), still="scene", seed=12),
                                     Segment("pan", _seconds(r, 3), still="scene", seed=13, gain=0.35,
                                             pan_px_per_frame=2.0)]),
        "B_cam_0003.mp4": (p, [Segment("pan", _seconds(p, 5), still="scene", seed=21, pan_px_per_frame=3.0),
                               Segment("mandelbrot", _seconds(p, 4), dissolve_in=12),
                               Segment("gradients", _seconds(p, 4), seed=9)]),
        "phone_20240501_1932.mp4": (e, [Segment("life", _seconds(e, 4), seed=5),
                                        Segment("scene", _seconds(e, 3), seed=14, grain=8.0),
                                        Segment("zoompan", _seconds(e, 3), still="scene", seed=15, blur_sigma=3.0,
                                                fade_out=15)]),
        "phone_20240501_1940_slowmo.mp4": (s, [Segment("pan", _seconds(s, 4), still="scene", seed=16,
                                                       pan_px_per_frame=6.0),
                                               Segment("mandelbrot", _seconds(s, 3))]),
        "A002_C004_night.mov": (r, [Segment("gradients", _seconds(r, 4), seed=4, gain=0.6),
                                    Segment("pan", _seconds(r, 3), still="scene", seed=17, fade_in=12,
                                            pan_px_per_frame=2.0),
                                    Segment("life", _seconds(r, 4), seed=8)]),
    }


def make_demo_media(folder: str | os.PathLike[str], *, progress: Callable[[float], None] | None = None,
                    size: tuple[int, int] = DEMO_SIZE, song: MusicSpec = DEMO_SONG) -> DemoMedia:
    """Render the sample project into ``folder/footage`` and ``folder/music``.

    Files already there with the expected name are replaced (the demo folder is ours).
    """
    folder = Path(folder)
    (folder / "footage").mkdir(parents=True, exist_ok=True)
    (folder / "music").mkdir(parents=True, exist_ok=True)
    clips = demo_clips()
    paths, truths = [], []
    for i, (name, (rate, segments)) in enumerate(clips.items()):
        path = folder / "footage" / name
        truths.append(sample_footage.render_footage(path, segments, rate=rate, size=size, audio=True,
                                                    gop_frames=int(round(rate))))
        paths.append(str(path))
        if progress:
            progress((i + 1) / (len(clips) + 1))
    y, music_truth = sample_music.render(song)
    music = str(folder / "music" / "demo_song.wav")
    sample_music.write_audio(music, y, music_truth.sample_rate)
    if progress:
        progress(1.0)
    return DemoMedia(tuple(paths), music, tuple(truths), music_truth)
