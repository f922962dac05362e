"""The cut list: what the assembly decided, in whole frames, before it becomes a timeline.

Every position is a whole frame. Record positions are frames of the timeline (rate
``CutList.rate``) counted from the timeline's first frame (0 = 01:00:00:00 when
``start_frames`` is one hour). Source positions are frames of the source file in its own
grid (``Cut.source_rate``), as the analysis counted them.

A source whose rate differs from the timeline's plays at its own speed: a cut of ``n``
record frames covers ``n * source_rate / rate`` source frames (not always a whole number;
``source_in`` always is).

The cut list is the input of :mod:`.timeline`, which turns it into the OTIO timeline that
every exporter and the preview renderer read. The Resolve push reads the cut list itself
(:func:`montage_ai.resolve_plugin.push.push_cut_list`: one clip-info dict per cut, markers
from its beats and sections); the timeline goes with it only for the FCP7 XML fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Cut:
    """One clip on V1: ``[record_in, record_out)`` on the timeline shows the source from
    ``source_in`` on."""

    record_in: int
    record_out: int
    source_path: str
    source_rate: Fraction
    source_in: int
    shot_index: int
    score: float
    phase: str
    reason: str

    @property
    def record_frames(self) -> int:
        return self.record_out - self.record_in

    def source_duration(self, timeline_rate: Fraction) -> Fraction:
        """Source frames this cut covers (a Fraction when the rates differ)."""
        return Fraction(self.record_frames) * self.source_rate / timeline_rate

    def source_out(self, timeline_rate: Fraction) -> Fraction:
        """Exclusive end in source frames."""
        return self.source_in + self.source_duration(timeline_rate)


@dataclass(frozen=True)
class Section:
    """A section of the music on the timeline: ``[start, end)`` frames, its label, its
    story phase and its energy (0..1)."""

    start: int
    end: int
    label: str
    phase: str
    energy: float


@dataclass(frozen=True)
class CutList:
    """A whole rough cut: V1 cuts, the music on A1, beat/downbeat/section positions.

    The music on A1 plays the song from its frame ``music_start`` (timeline frames into the
    file: a part of the song chosen with ``--song-start``) for ``music_duration`` frames from
    the timeline's first frame, fading out over its last ``music_fade_out`` frames. A rough
    cut's A1 ends with V1 (``music_duration == duration``).
    """

    rate: Fraction
    width: int
    height: int
    duration: int
    cuts: tuple[Cut, ...]
    music_path: str
    music_duration: int
    start_frames: int = 0
    music_fade_out: int = 0
    music_start: int = 0
    beats: tuple[int, ...] = ()
    downbeats: tuple[int, ...] = ()
    sections: tuple[Section, ...] = ()
    name: str = "Montage AI rough cut"
    style: str = ""
    seed: int = 0
    brief: str = ""
    metadata: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.rate, Fraction):
            raise TypeError("CutList.rate must be a Fraction such as Fraction(24000, 1001)")
        pos = 0
        for c in self.cuts:
            if c.record_in != pos or c.record_out <= c.record_in:
                raise ValueError(f"cut at record frame {c.record_in} leaves a gap or overlap (expected {pos})")
            pos = c.record_out
        if self.cuts and pos != self.duration:
            raise ValueError(f"cuts end at frame {pos}, the cut list lasts {self.duration} frames")
