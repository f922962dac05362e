"""Shot boundaries: hard cuts on their exact frame, dissolves and fades with their span,
black stretches as segments of their own; flashes, strobe, brightness swells and pans are
not boundaries.

The detector is fed the frames the analysis decodes anyway (no second decode):

>>> detector = ShotDetector(rate=Fraction(25))                       # doctest: +SKIP
>>> for frame in decode_frames("clip.mp4"):                          # doctest: +SKIP
...     detector.add(frame.index, frame.image)
>>> result = detector.finish(frame_count)                            # doctest: +SKIP
>>> [(s.start_frame, s.end_frame, s.black) for s in result.segments] # doctest: +SKIP

How it decides (all on tiny per-frame *signatures*, see :func:`frame_signature`):

* Two brightness-invariant distances between frames: *structure* (1 - correlation of
  the mean/contrast-normalised 32x18 luma) and *colour* (L1 distance of chromaticity
  histograms, r/(r+g+b), g/(r+g+b), weighted by brightness). A global brightness change
  (flash, swell, exposure ramp, fade) moves neither much.
* **Hard cut at i**: frame ``i-1`` differs from each of ``i..i+P`` *and* each of
  ``i-1-P..i-1`` differs from ``i`` (the change persists on both sides: a flash or a
  strobe returns to what it was and fails), and that difference is several times the
  frame-to-frame change on either side (continuous motion, a whip pan, noise-like
  content fail). Only the true first frame passes: its neighbours have a same-shot
  partner.
* **Black**: mean luma and 99th percentile under thresholds; runs are segments.
* **Fade to/from black**: the frames before a black run (after it) whose brightness falls
  (rises) monotonically with unchanged structure.
* **Dissolve**: where frames ``K`` apart differ inside one piece, the frames in between
  must be linear blends ``(1-a)*A + a*B`` of the frames at the ends, with ``a`` rising
  monotonically; a zoom, pan or animation is not a blend and fails.
* PySceneDetect's :class:`~scenedetect.AdaptiveDetector` is fed the same frames (their
  64x36 reduction, in line on the caller's thread; measured: the same cuts as at half the analysis
  size, bench/footage_real.py). A cut it proposes is a second opinion: it is accepted when the
  persistence test above passes with thresholds scaled by :data:`CONFIRM_SCALE` (two
  detectors agreeing lower the bar; a flash or a swell still returns to what it was and
  fails). Candidates it makes that fail even that are logged.

Everything is local (a decision at frame ``i`` reads at most :data:`CONTEXT_FRAMES`-ish
frames around it), so detection over separately decoded ranges (coarse-to-fine mode) gives
the same answer as over the whole file; :func:`detect_range` reports when a range is too
short to decide and must be extended.
"""


from __future__ import annotations

import logging
from fractions import Fraction
from typing import Sequence

import cv2
import numpy as np

from montage_ai.core.analysis.cut_detect import RangeResult, black_flags, cut_scores, detect_range  # noqa: F401 (re-exported)
from montage_ai.core.analysis.exposure_drift import without_exposure_drift
from montage_ai.core.analysis.shot_signatures import (  # noqa: F401 (re-exported)
    SignatureBuilder,
    Signatures,
    _lag_distances,
    chroma_histogram,
    coarse_distances,
    colour_distance,
    frame_signature,
    structure_confidence,
    structure_distance,
)
from montage_ai.core.analysis.shot_types import (  # noqa: F401 (re-exported)
    _CUT_H,
    _CUT_S,
    BLACK_MEAN,
    BLACK_P99,
    CONFIRM_SCALE,
    FLAT_STD,
    PERSIST_FRAMES,
    STRUCTURED_STD,
    ShotResult,
    ShotSegment,
    Transition,
    true_runs,
)

log = logging.getLogger(__name__)


def segments_from_events(frame_count: int, cuts: Sequence[int], blacks: Sequence[tuple[int, int]],
                         transitions: Sequence[Transition]) -> tuple[ShotSegment, ...]:
    """Segments ``[start, end)`` from cut frames, black runs and transitions.

    A dissolve's boundary is the middle of its span; fades belong to the shot they fade.
    """
    starts = {0}
    starts.update(c for c in cuts if 0 < c < frame_count)
    for s, e in blacks:
        if 0 < s < frame_count:
            starts.add(s)
        if 0 < e + 1 < frame_count:
            starts.add(e + 1)
    dissolves = [t for t in transitions if t.kind == "dissolve"]
    for t in dissolves:
        starts.add((t.first + t.last + 1) // 2)
    bounds = sorted(starts) + [frame_count]
    black_set = [(s, e) for s, e in blacks]
    segs = []
    for s, e in zip(bounds[:-1], bounds[1:]):
        is_black = any(bs <= s and e - 1 <= be for bs, be in black_set)
        t_in = t_out = None
        for t in transitions:
            if t.kind == "dissolve":
                mid = (t.first + t.last + 1) // 2
                if mid == s:
                    t_in = t.span
                if mid == e:
                    t_out = t.span
            elif t.kind == "fade_out" and s <= t.first < e and not is_black:
                t_out = t.span
            elif t.kind == "fade_in" and s <= t.last < e and not is_black:
                t_in = t.span
        segs.append(ShotSegment(s, e, is_black, t_in, t_out))
    return tuple(segs)


class ShotDetector:
    """Feed decoded frames (any order of consecutive ranges); ask for the boundaries.

    Runs PySceneDetect's AdaptiveDetector on the same frames (their 64x36 reduction when
    the caller gives it, else half size), in line on the caller's thread, for a second
    opinion on cuts (see :func:`detect_range`).

    It used to run on a thread of its own (one a process, :mod:`.pools`). In line costs less
    CPU: measured on the nine real clips, a loaded 2-core machine, analyses alternating in
    one process, 5-9 % less of the analysis's own CPU (the caller waits on the decode and the
    workers most of the time anyway; a thread of its own added hand-overs, futures and cache
    misses that cost it about twice its CPU alone, bench/footage_breakdown.py against
    bench/footage_threads.py), and the output is the same (it sees the same frames in order).
    """

    #: Frames handed to PySceneDetect at a time.
    PSD_BATCH = 8

    def __init__(self, rate: Fraction, *, use_pyscenedetect: bool = True) -> None:
        self.rate = Fraction(rate)
        self.signatures = SignatureBuilder()
        self._psd = None
        self._psd_cuts: list[int] = []
        self._psd_last = -2
        # PySceneDetect sees the frames in order, PSD_BATCH at a time; every query flushes first.
        self._psd_batch: list[tuple[int, np.ndarray]] = []
        if use_pyscenedetect:
            from scenedetect import AdaptiveDetector

            self._psd_factory = AdaptiveDetector
        else:
            self._psd_factory = None

    def add(self, index: int, image: np.ndarray, small: np.ndarray | None = None,
            signature: tuple | None = None) -> None:
        """One decoded frame (BGR uint8, any small size); ``small``: it at 64x36, if known;
        ``signature``: its :func:`frame_signature`, if computed already."""
        if signature is not None:
            self.signatures.add_signature(index, signature)
        else:
            self.signatures.add(index, image, small)
        if self._psd_factory is not None:
            # Its 64x36 reduction when known (a quarter of half size's pixels, same cuts).
            self._psd_batch.append((index, small if small is not None else image))
            if len(self._psd_batch) >= self.PSD_BATCH:
                self._submit_psd()

    def _submit_psd(self) -> None:
        if self._psd_batch:
            batch, self._psd_batch = self._psd_batch, []
            self._run_psd(batch)

    def _sync_psd(self) -> None:
        """Let PySceneDetect see every frame added so far."""
        self._submit_psd()

    def close(self) -> None:
        """Drop the frames PySceneDetect has not seen (after :meth:`finish`, or when giving up):
        nothing of this detector runs after it returns."""
        self._psd_batch = []

    def _run_psd(self, batch: list[tuple[int, np.ndarray]]) -> None:
        from scenedetect import FrameTimecode

        rate = self.rate if self.rate.denominator != 1 else float(self.rate)
        for index, image in batch:
            if index != self._psd_last + 1 or self._psd is None:
                self._flush_psd()
                self._psd = self._psd_factory(min_scene_len=1)
            if image.shape[:2] == (36, 64):
                small = image
            else:
                small = cv2.resize(image, (max(1, image.shape[1] // 2), max(1, image.shape[0] // 2)),
                                   interpolation=cv2.INTER_AREA)
            self._psd_cuts += [tc.frame_num for tc in self._psd.process_frame(FrameTimecode(index, rate), small)]
            self._psd_last = index

    def _flush_psd(self) -> None:
        if self._psd is not None:
            from scenedetect import FrameTimecode

            rate = self.rate if self.rate.denominator != 1 else float(self.rate)
            self._psd_cuts += [tc.frame_num for tc in
                               self._psd.post_process(FrameTimecode(self._psd_last + 1, rate))]
            self._psd = None

    def detect(self, lo: int, hi: int, frame_count: int) -> RangeResult:
        """Detect within decoded frames ``[lo, hi)``."""
        self._sync_psd()
        sig = self.signatures.build(lo, hi)
        return detect_range(sig, self.rate, at_start=lo == 0, at_end=hi >= frame_count,
                            candidates=[c for c in self._psd_cuts if lo < c < hi])

    def finish(self, frame_count: int) -> ShotResult:
        """Boundaries over every decoded range (the whole file in full mode)."""
        self._sync_psd()
        self._flush_psd()
        try:
            results = [self.detect(lo, hi, frame_count) for lo, hi in self.signatures.ranges()]
        finally:
            self.close()
        # Exposure drift inside one take (an iris, auto-exposure) is no boundary (.exposure_drift).
        return without_exposure_drift(combine(results, frame_count), self._thumb)

    def _thumb(self, index: int) -> np.ndarray | None:
        """Frame ``index``'s 32x18 colour thumbnail (None where not decoded)."""
        return self.signatures.build(index, index + 1).thumb[0] if index in self.signatures else None


def combine(results: Sequence[RangeResult], frame_count: int) -> ShotResult:
    """One :class:`ShotResult` from per-range results."""
    cuts = sorted({c for r in results for c in r.cuts})
    blacks = sorted({b for r in results for b in r.blacks})
    transitions = sorted({t for r in results for t in r.transitions}, key=lambda t: (t.first, t.kind))
    segments = segments_from_events(frame_count, cuts, blacks, transitions)
    return ShotResult(cuts=tuple(cuts), transitions=tuple(transitions), blacks=tuple(blacks),
                      segments=segments)


def without_defocused_dissolves(result: ShotResult, detail: np.ndarray, limit: float) -> ShotResult:
    """``result`` without the dissolves whose every frame, with the frame either side of
    the span, lacks fine detail on the absolute scale (``detail`` per frame, contrast
    normalised, see :func:`.quality.detail`, under ``limit``; NaN where not measured keeps
    the dissolve).

    Light from out-of-focus sources adds: drifting bokeh discs that brighten while others
    dim *are* linear blends of the frames around them, monotone and with the change
    concentrated, so no pixel test on the frames tells them from a dissolve between two
    defocused shots (measured on the real night clip, frames 100-112: a mean blend
    residual of 0.26 against the limit's 0.35, the mix rising 0 to 1 over 11 frames, the
    middle frame 1.5x farther from either end moved and re-exposed than from the blend,
    and farther still from either end warped by dense optical flow). Such a span holds
    nothing an editor would cut to (every frame is flagged out of focus), and a split
    costs the shot, so it stays one shot.

    >>> seg = (ShotSegment(0, 10, False, None, (4, 6)), ShotSegment(10, 20, False, (4, 6), None))
    >>> r = ShotResult((), (Transition("dissolve", 4, 6),), (), seg)
    >>> without_defocused_dissolves(r, np.full(20, 1e-4), 1e-3).boundaries
    ()
    >>> without_defocused_dissolves(r, np.full(20, 1e-2), 1e-3).boundaries == r.boundaries
    True
    """
    n = int(detail.size)
    keep = []
    for t in result.transitions:
        lo, hi = max(0, t.first - 1), min(n, t.last + 2)
        d = detail[lo:hi]
        soft = t.kind == "dissolve" and hi > lo and bool(np.all(np.isfinite(d))) and float(d.max()) < limit
        if soft:
            log.info("dissolve %d-%d dropped: every frame out of focus (detail <= %.5f)", t.first, t.last,
                     float(d.max()))
        else:
            keep.append(t)
    if len(keep) == len(result.transitions):
        return result
    frame_count = result.segments[-1].end_frame if result.segments else n
    segments = segments_from_events(frame_count, result.cuts, result.blacks, keep)
    return ShotResult(cuts=result.cuts, transitions=tuple(keep), blacks=result.blacks, segments=segments)
