"""Generated media and a cut list over it, shared by the Resolve tests."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from montage_ai.core.base.timebase import timecode_to_frames
from montage_ai.core.model.cutlist import Cut, CutList, Section
from montage_ai.core.samples.footage import render_audio
from montage_ai.core.samples.framecode import render_framecode

NTSC24 = Fraction(24000, 1001)


def make_media(folder: Path) -> dict[str, str]:
    """Three short clips (two at 24000/1001, one with a start timecode; one at 25) and a song."""
    paths = {"a": str(folder / "A001 café.mp4"), "b": str(folder / "B002.mp4"), "c": str(folder / "C003 pal.mp4"),
             "song": str(folder / "song.wav")}
    render_framecode(paths["a"], 48, rate=NTSC24, size=(64, 36), start_timecode="01:00:00:00")
    render_framecode(paths["b"], 48, rate=NTSC24, size=(64, 36), tag=1)
    render_framecode(paths["c"], 50, rate=25, size=(64, 36), tag=2)
    render_audio(paths["song"], 4.0)
    return paths


def make_cut_list(paths: dict[str, str], **changes) -> CutList:
    """A 23.976 cut of 60 frames over the three clips, the song on A1, beats and sections."""
    cuts = (
        Cut(0, 12, paths["a"], NTSC24, 5, 0, 0.9, "intro", "opening"),
        Cut(12, 30, paths["b"], NTSC24, 3, 1, 0.5, "build", "downbeat"),
        Cut(30, 47, paths["c"], Fraction(25), 2, 2, 0.4, "climax", "energy"),
        Cut(47, 60, paths["a"], NTSC24, 30, 3, 0.7, "outro", "end"),
    )
    values = dict(rate=NTSC24, width=64, height=36, duration=60, cuts=cuts, music_path=paths["song"],
                  music_duration=60, start_frames=timecode_to_frames("01:00:00:00", NTSC24), music_fade_out=0,
                  beats=(0, 12, 24, 36, 48), downbeats=(0, 48),
                  sections=(Section(0, 30, "intro", "intro", 0.2), Section(30, 60, "chorus", "climax", 0.9)),
                  name="Rough cut", style="mtv", seed=1)
    values.update(changes)
    return CutList(**values)
