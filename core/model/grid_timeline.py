"""A song's beat grid as a timeline: the music on A1 with beat, downbeat and section markers
and nothing else, for an editor who cuts by hand on our grid.

It is an ordinary :class:`~montage_ai.core.model.cutlist.CutList` with no cuts, built into an
OTIO timeline by :func:`~montage_ai.core.model.timeline.build_timeline` (so the markers are
the same as on a rough cut's timeline) and written by the usual adapters.

>>> tl = grid_timeline(analysis, Fraction(24))                # doctest: +SKIP
>>> len(tl.video_tracks()), len(tl.audio_tracks())            # doctest: +SKIP
(1, 1)
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from montage_ai.core.base.errors import MediaError
from montage_ai.core.base.timebase import quantize_times, timecode_to_frames
from montage_ai.core.media.probe import MediaInfo
from montage_ai.core.media.song import song_info
from montage_ai.core.model.cutlist import CutList, Section
from montage_ai.core.model.timeline import NAMESPACE, build_timeline

#: The grid timeline's rate when the editor names none.
GRID_RATE = Fraction(24)
_TIMELINE_START = "01:00:00:00"


def _frames(times: Any, rate: Fraction, limit: int) -> tuple[int, ...]:
    out: list[int] = []
    for f in quantize_times(tuple(times), rate):
        if 0 <= f < limit and (not out or f > out[-1]):
            out.append(int(f))
    return tuple(out)


def grid_cut_list(analysis: Any, rate: Fraction, info: MediaInfo, *, name: str | None = None) -> CutList:
    """The cut list of a grid timeline: no cuts, the whole song, its beats, downbeats, sections."""
    if not isinstance(rate, Fraction):
        raise TypeError("rate must be a Fraction such as Fraction(24000, 1001)")
    length = math.floor(Fraction(info.duration_s) * rate)
    if length <= 0:
        raise MediaError(info.path, "the music is shorter than one frame")
    sections = []
    for s in analysis.sections:
        start, end = (int(x) for x in quantize_times((s.start_s, s.end_s), rate))
        start, end = max(0, start), min(length, end)
        if end > start:
            sections.append(Section(start, end, s.label, "", float(s.energy)))
    return CutList(
        rate=rate, width=1920, height=1080, duration=length, cuts=(), music_path=os.path.abspath(info.path),
        music_duration=length, start_frames=timecode_to_frames(_TIMELINE_START, rate),
        beats=_frames(analysis.beat_times_s, rate, length), downbeats=_frames(analysis.downbeat_times_s, rate, length),
        sections=tuple(sections), name=name or f"{os.path.splitext(os.path.basename(info.path))[0]} beat grid",
        style="beat grid",
    )


def grid_timeline(analysis: Any, rate: Fraction = GRID_RATE, *, info: MediaInfo | None = None,
                  name: str | None = None) -> otio.schema.Timeline:
    """The timeline of a song's grid: an empty V1 (the editor's to fill), the song on A1,
    markers for every beat, downbeat and section (at ``rate``, on whole frames).

    ``analysis`` is a :class:`~montage_ai.core.analysis.music.MusicAnalysis` (corrections
    already applied); ``info`` the song's probe (probed here when omitted).
    """
    info = info or song_info(analysis)
    cut_list = grid_cut_list(analysis, rate, info, name=name)
    timeline = build_timeline(cut_list, media={info.path: info, cut_list.music_path: info})
    timeline.metadata[NAMESPACE]["tempo_bpm"] = float(analysis.tempo_bpm)
    timeline.metadata[NAMESPACE]["meter"] = int(analysis.meter)
    return timeline
