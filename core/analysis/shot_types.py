"""Shot boundaries: the event types and the thresholds every detector module shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Frames on each side a hard cut must persist for.
PERSIST_FRAMES = 6
#: Signature sizes.
_SIG_W, _SIG_H = 32, 18
_HIST_BINS = 6
#: Structure counts fully from this luma standard deviation (8-bit units), not at all
#: below FLAT_STD: a flat or nearly flat frame has no structure to compare.
FLAT_STD = 1.0
STRUCTURED_STD = 5.0
#: Black: mean luma at most this, and 99th percentile at most BLACK_P99 (8-bit, full range).
BLACK_MEAN = 20.0
BLACK_P99 = 48.0
#: White (a dip to white): mean luma at least this, luma std (32x18) at most WHITE_STD.
WHITE_MEAN = 200.0
WHITE_STD = 2.0
# Cut thresholds: structure distance (0..2) and colour distance (0..1).
_CUT_S = 0.45
_CUT_H = 0.12
# Two frames a dissolve apart must differ at least this much in colour (a slow colour drift,
# e.g. a fractal zoom, is not a dissolve; the hard-cut test has its calm ratio instead).
_BLEND_H = 0.22
_CUT_RATIO = 3.0
#: A cut this few frames after another is not a new shot.
_MIN_CUT_GAP = 2
#: Thresholds of the cut test for a cut PySceneDetect also found (a second opinion).
CONFIRM_SCALE = 0.6
# Dissolve search.
_BLEND_RESIDUAL = 0.35
_BLEND_MONOTONE = 0.85
#: A frame is part of a blend when its mix lies this far from both ends (a one-second
#: dissolve at 25 fps moves 0.038 per frame).
_BLEND_EDGE = 0.025
#: A blend's middle frame must be explained worse by *one* of the span's ends, moved by the
#: global shift and given a per-channel gain and offset, than this share of its residual as
#: a blend of both: a camera move with an exposure drift inside one take is one image
#: changing (measured on real clips: 0.60 for a tilt with exposure drift; 0.96-1.53 for
#: real and generated dissolves, an iris and a fade).
_ONE_IMAGE_RATIO = 0.75
#: A side of a dissolve moves steadily (a pan, a tilt) at this many 32x18-thumbnail pixels
#: per frame at least (1 % of the width)...
_STEADY_PX = 0.3
#: ...with its steps this close to their mean (RMS spread as a share of the speed, on the
#: 32x18 thumbnails: generated pans measure 0.29-0.39, the handheld drift of lights in the
#: real defocused night shot 0.51-0.61; a thin margin, measured on few clips).
_STEADY_SPREAD = 0.45


@dataclass(frozen=True)
class Transition:
    """A gradual transition: ``kind`` is ``"dissolve"``, ``"fade_out"`` or ``"fade_in"``;
    ``first``/``last`` its inclusive frame span."""

    kind: str
    first: int
    last: int

    @property
    def span(self) -> tuple[int, int]:
        return (self.first, self.last)


@dataclass(frozen=True)
class ShotSegment:
    """A stretch of frames between boundaries ``[start_frame, end_frame)``.

    ``usable_start_frame``/``usable_end_frame`` exclude the transitions at either end.
    """

    start_frame: int
    end_frame: int
    black: bool
    transition_in: tuple[int, int] | None
    transition_out: tuple[int, int] | None

    @property
    def usable_start_frame(self) -> int:
        if self.black:
            return self.start_frame
        return max(self.start_frame, self.transition_in[1] + 1) if self.transition_in else self.start_frame

    @property
    def usable_end_frame(self) -> int:
        if self.black:
            return self.end_frame
        return min(self.end_frame, self.transition_out[0]) if self.transition_out else self.end_frame


@dataclass(frozen=True)
class ShotResult:
    """Boundaries of one file: cut frames, transitions, black runs and the segments."""

    cuts: tuple[int, ...]
    transitions: tuple[Transition, ...]
    blacks: tuple[tuple[int, int], ...]
    segments: tuple[ShotSegment, ...]

    @property
    def boundaries(self) -> tuple[int, ...]:
        """First frame of every segment after the first."""
        return tuple(s.start_frame for s in self.segments[1:])


def true_runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` positions of the runs of True (the detectors' and the frame
    judges' ranges).

    >>> true_runs(np.array([0, 1, 1, 0, 1], bool))
    [(1, 2), (4, 4)]
    """
    if not flags.size:
        return []
    d = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist()))
