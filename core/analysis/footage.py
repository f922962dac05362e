"""Footage analysis: shots, per-shot quality and a "best moment" curve, in one decode.

>>> analysis = analyze_footage("clip.mp4", thumbnail_dir="thumbs")      # doctest: +SKIP
>>> [(s.start_frame, s.end_frame, s.black, s.best_frame) for s in analysis.shots]  # doctest: +SKIP
[(0, 25, False, 12), (25, 69, False, 40), ...]
>>> FootageAnalysis.from_dict(analysis.to_dict()) == analysis             # doctest: +SKIP
True

Modes
-----
``"full"`` decodes every frame once (small, see :mod:`.decode`) and feeds the shot detector,
the feature functions and the thumbnail writer from that single pass.
``"fast"`` (coarse to fine) decodes keyframes only, compares consecutive keyframes with a
distance that ignores brightness, grain, evolving texture and camera movement, and decodes
fully only the keyframe intervals where the picture may have changed (plus the context the
detector asks for), so boundaries land on the same frames as in full mode. What it saves
depends on the GOP: every boundary costs the GOP before it (the frames just before a cut
are needed to prove it), so on long-GOP files with keyframes at scene cuts fast mode
decodes nearly everything. Features and quality flags then come from the decoded frames
only (keyframes and the refined intervals). Measured on real clips (bench/footage_real.py)
fast mode took 1.5-2.7x as long as full mode, so ``"auto"`` is full mode: fast mode is kept
for a first look at long static takes with short GOPs, where it decodes a fraction.

Frame indices are in the source's own frame grid from 0; ``*_s`` times are presentation
times of those frames (VFR-correct) on the container's timeline.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from montage_ai.core.analysis import exposure as EX
from montage_ai.core.analysis import exposure_mark as XM
from montage_ai.core.analysis import features as F
from montage_ai.core.analysis import flag_reasons as FR
from montage_ai.core.analysis import frame_work as FW
from montage_ai.core.analysis import moments as M
from montage_ai.core.analysis import obstruction as OB
from montage_ai.core.analysis import patterns as P
from montage_ai.core.analysis import quality as Q
from montage_ai.core.analysis.coarse_to_fine import coarse_to_fine
from montage_ai.core.analysis.quality import Flag
from montage_ai.core.analysis.shots import ShotDetector, ShotResult, without_defocused_dissolves
from montage_ai.core.base.errors import AnalysisError, MediaError
from montage_ai.core.media.decode import (
    Frame,
    HardwareDecodeError,
    PacketTable,
    analysis_size,
    analysis_threads,
    decode_frames,
    packet_table,
)
from montage_ai.core.media.early_decode import Decoding, decode_while_probing
from montage_ai.core.media.probe import MediaInfo, probe, start_probe

log = logging.getLogger(__name__)

#: 11: best-moment exposure judged against the shot's key (.exposure_mark);
#: 10: measures from the decoder's Y plane (I420 decode), detail on every 2nd frame;
#: 9: exposure drift inside a take is no boundary (.exposure_drift), wrong reasons taken back
#: (.flag_reasons); 8: blown-out and crushed ranges flagged (.exposure)
ANALYSIS_VERSION = "13"  # 13: transition ends widened to the settled shot (an iris's tail); 12: decoded without the deblocking filter (skip_loop_filter all): flags and scores move
#: What the decoder delivers for the analysis: planar 4:2:0 (see :mod:`.frame_work`).
PIX_FMT = "yuv420p"
#: Feature samples per second of footage (every frame at 8 fps or less).
SAMPLES_PER_SECOND = 8


@dataclass(frozen=True)
class Shot:
    """One shot (or black segment) of a file.

    ``end_frame`` is exclusive; ``start_s``/``end_s`` are the presentation times of the
    first frame and of the frame after the last. ``usable_*`` exclude transitions.
    Feature values are means over the usable part (``None`` when nothing was sampled).
    ``score_frames``/``scores`` are the best-moment curve (0..1, high = sharp, well
    exposed, steady, some motion); ``best_frame`` is its maximum.
    """

    index: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    transition_in: tuple[int, int] | None
    transition_out: tuple[int, int] | None
    black: bool
    usable_start_frame: int
    usable_end_frame: int
    keyframe_frame: int
    thumbnail: str | None
    motion: float | None
    shake: float | None
    sharpness: float | None
    exposure: float | None
    clipped_high: float | None
    clipped_low: float | None
    colourfulness: float | None
    best_frame: int
    score_frames: tuple[int, ...]
    scores: tuple[float, ...]
    #: Frames of this shot an editor would not use, with the reason (see :mod:`.quality`).
    flagged: tuple[Flag, ...] = ()

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame


@dataclass(frozen=True)
class FootageAnalysis:
    """Everything the planner needs about one file; JSON-safe via :meth:`to_dict`."""

    path: str
    media: MediaInfo
    mode: str
    analysis_version: str
    frame_count: int
    shots: tuple[Shot, ...]
    sample_frames: tuple[int, ...]
    sample_times_s: tuple[float, ...]
    motion: tuple[float | None, ...]
    shake: tuple[float | None, ...]
    sharpness: tuple[float | None, ...]
    exposure: tuple[float | None, ...]
    clipped_high: tuple[float | None, ...]
    clipped_low: tuple[float | None, ...]
    colourfulness: tuple[float | None, ...]
    #: Every flagged range of the file (blur, corruption, shake, flash, test pattern...).
    flags: tuple[Flag, ...] = ()

    @property
    def boundaries(self) -> tuple[int, ...]:
        """First frames of every shot after the first."""
        return tuple(s.start_frame for s in self.shots[1:])

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "media":
                d["media"] = value.to_dict()
            elif f.name == "shots":
                d["shots"] = [_shot_to_dict(s) for s in value]
            elif f.name == "flags":
                d["flags"] = [fl.to_list() for fl in value]
            elif isinstance(value, tuple):
                d[f.name] = list(value)
            else:
                d[f.name] = value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FootageAnalysis":
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            value = d.get(f.name, ())
            if f.name == "flags":
                value = tuple(Flag.from_list(v) for v in value)
            elif f.name == "media":
                value = MediaInfo.from_dict(value)
            elif f.name == "shots":
                value = tuple(_shot_from_dict(s) for s in value)
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[f.name] = value
        return cls(**kwargs)


#: A frame whose best-moment score is below this share of the best in its range is in a dip
#: (a blur, a shake, a bad exposure).
DIP_SHARE = 0.6


def quality_curve(shot: Shot, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """The shot's best-moment score at every frame of ``[start, end)`` (interpolated between
    the analysed samples; 0.5 where the analysis has none), and 1.0 where a frame is in a dip
    (below :data:`DIP_SHARE` of the best there), else 0.0.

    >>> s = Shot(0, 0, 10, 0.0, 0.4, None, None, False, 0, 10, 5, None, None, None, None, None,
    ...          None, None, None, 5, (0, 9), (1.0, 0.1))
    >>> [round(float(x), 2) for x in quality_curve(s, 0, 3)[0]], quality_curve(s, 8, 10)[1].tolist()
    ([1.0, 0.9, 0.8], [0.0, 1.0])
    """
    frames = np.arange(start, end)
    if shot.scores:
        q = np.interp(frames, np.asarray(shot.score_frames, float), np.asarray(shot.scores, float))
    else:
        q = np.full(frames.size, 0.5)
    if shot.flagged:
        q = np.where(flagged_mask(shot, start, end), 0.0, q)
    dips = (q < DIP_SHARE * float(q.max())).astype(float) if q.size else q
    return q, dips


def _shot_to_dict(s: Shot) -> dict[str, Any]:
    d = {}
    for f in fields(s):
        v = getattr(s, f.name)
        if f.name == "flagged":
            v = [fl.to_list() for fl in v]
        d[f.name] = list(v) if isinstance(v, tuple) else v
    return d


def _shot_from_dict(d: dict[str, Any]) -> Shot:
    return Shot(**{k: (tuple(Flag.from_list(x) for x in v) if k == "flagged" else
                       tuple(v) if isinstance(v, list) else v) for k, v in d.items()})


def flagged_mask(shot: Shot, start: int, end: int) -> np.ndarray:
    """True for the frames of ``[start, end)`` inside one of the shot's flagged ranges."""
    mask = np.zeros(max(0, end - start), bool)
    for fl in shot.flagged:
        lo, hi = max(start, fl.first), min(end, fl.last + 1)
        if hi > lo:
            mask[lo - start:hi - start] = True
    return mask


def excluded_mask(a: "FootageAnalysis", length: int | None = None) -> np.ndarray:
    """True for every frame of the file no cut may use: flagged, black, or outside its
    shot's usable range (inside a transition)."""
    n = a.frame_count if length is None else length
    mask = np.ones(n, bool)
    for s in a.shots:
        if s.black:
            continue
        us, ue = max(0, s.usable_start_frame), min(n, s.usable_end_frame)
        if ue > us:
            mask[us:ue] = flagged_mask(s, us, ue)
    for fl in a.flags:
        mask[max(0, fl.first):min(n, fl.last + 1)] = True
    return mask


# ----------------------------------------------------------------------------------------
# The one pass


class _Collector:
    """Receives decoded frames: shot detector input, feature samples, thumbnails."""

    def __init__(self, rate: Fraction, sample_step: int, keep_thumbnails: bool,
                 progress: Callable[[float], None] | None, planned: int,
                 native: bool | tuple[bool, bool] = False) -> None:
        self.detector = ShotDetector(rate)
        self.measures = Q.Measures()
        self.faces: dict[int, int] = {}
        self.subjects: dict[int, float] = {}
        self.cells: dict[int, np.ndarray] = {}  # border cells per frame (see .obstruction)
        self.native = native
        self.sample_step = sample_step
        self.keep_thumbnails = keep_thumbnails
        self.samples: dict[int, tuple] = {}
        self.jpegs: dict[int, bytes] = {}
        self.pts: dict[int, float] = {}
        self._prev: tuple[int, np.ndarray] | None = None
        self._progress = progress
        self._planned = max(planned, 1)
        self._done = 0
        self._last_report = -1.0

    def add(self, frame: Frame, force_sample: bool = False, detect: bool = True) -> None:
        """One decoded frame; ``detect=False`` keeps it out of the shot detector (keyframes
        decoded without the loop filter, for the coarse pass and features only)."""
        i, image = frame.index, frame.image
        self.pts[i] = frame.pts_s
        if detect and i in self.detector.signatures:
            return
        small, tiny, luma = FW.reduce_frame(image)  # shared by detector and features
        if detect:
            self.detector.add(i, image, small)
        prev = self._prev[1] if self._prev is not None and self._prev[0] == i - 1 else None
        if detect and i not in self.measures:
            self.measures.add(i, Q.measure(luma, tiny, prev, self.native))
            self.cells[i] = OB.border_cells(small)
        if force_sample or i % self.sample_step == 0 or (i in self.samples and prev is not None):
            self.samples[i] = self._features(luma, small, tiny, prev)
            if i not in self.measures.patterns:
                self.measures.patterns[i] = P.pattern_kind(None, small, gray=luma)
                self.faces[i] = M.count_faces(luma)
                self.subjects[i] = M.subject_strength(tiny)
            if self.keep_thumbnails:
                buf = FW.jpeg_of(image)
                if buf is not None:
                    self.jpegs[i] = buf
        self._prev = (i, tiny)
        self._advance()

    def add_result(self, frame: Frame, r: FW.FrameResult) -> None:
        """One frame of a full decode (consecutive, each once) with its per-frame work done
        already (:func:`.frame_work.worked_frames`): the same as :meth:`add` stores."""
        i = frame.index
        self.pts[i] = frame.pts_s
        self.detector.add(i, frame.image, r.small, r.signature)
        self.measures.add(i, r.measure)
        if r.cells is not None:
            self.cells[i] = r.cells
        if r.sample is not None:
            self.samples[i] = r.sample
            self.measures.patterns[i] = r.pattern
            self.faces[i] = r.faces
            self.subjects[i] = r.subject
            if self.keep_thumbnails and r.jpeg is not None:
                self.jpegs[i] = r.jpeg
        self._prev = (i, r.tiny)
        self._advance()

    def _advance(self) -> None:
        self._done += 1
        if self._progress is not None:
            frac = min(self._done / self._planned, 0.999)
            if frac - self._last_report >= 0.01:
                self._last_report = frac
                self._progress(frac)

    _features = staticmethod(FW.features)


def analyze_footage(
    path: str | os.PathLike[str],
    *,
    mode: str = "auto",
    media: MediaInfo | None = None,
    thumbnail_dir: str | None = None,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    hwaccel: str = "auto",
) -> FootageAnalysis:
    """Analyse one file: shots with exact boundaries, features, best moments, thumbnails.

    Parameters
    ----------
    mode:
        ``"full"``, ``"fast"`` (coarse to fine over keyframes) or ``"auto"`` (full: fast
        mode is slower on most footage, see the module docstring).
    media:
        The file's :class:`MediaInfo` when already probed.
    thumbnail_dir:
        Where to write one JPEG per shot (``shot_0000.jpg`` ...); none when ``None``.
    progress:
        Called with the fraction of work done, 0..1.
    cancel:
        Polled between frames; true stops ffmpeg and raises ``Cancelled``.
    hwaccel:
        ffmpeg ``-hwaccel`` method (``"auto"`` falls back to software inside ffmpeg), or
        ``""``/``None``. When an explicit method (``"cuda"``...) cannot be set up, the file
        is analysed again with software decoding and a warning is logged.

    Raises
    ------
    MediaError, AnalysisError, Cancelled
    """
    path = os.fspath(path)
    if mode not in ("auto", "full", "fast"):
        raise ValueError(f"mode must be auto, full or fast, not {mode!r}")
    if mode == "auto":
        mode = "full"
    hw = hwaccel or None
    early: Decoding | None = None
    if media is None and mode == "full":
        # Full mode decodes every frame and counts them, which proves the file whole: the
        # probe's own tail check (a second ffprobe run) would only repeat it. The decode starts
        # while ffprobe runs (each process costs its start-up; they now overlap).
        media, early = decode_while_probing(path, start_probe(path, verify_tail=False), hwaccel=hw, cancel=cancel,
                                            pix_fmt=PIX_FMT)
    media = media or probe(path, verify_tail=mode != "full")
    if media.video is None:
        raise MediaError(path, "has no video stream")
    try:
        return _analyze(path, mode, media, thumbnail_dir, progress, cancel, hw, early)
    except HardwareDecodeError as exc:
        if hw in (None, "auto"):
            raise
        log.warning("%s: hardware decoding with %r failed (%s); analysing it again with software decoding",
                    path, hw, exc.reason)
        return _analyze(path, mode, media, thumbnail_dir, progress, cancel, None)
    finally:
        if early is not None:
            early.close()  # its ffmpeg, also when the analysis failed before reading a frame


def _analyze(path: str, mode: str, media: MediaInfo, thumbnail_dir: str | None,
             progress: Callable[[float], None] | None, cancel: Callable[[], bool] | None,
             hw: str | None, early: Decoding | None = None) -> FootageAnalysis:
    rate = media.video.rate
    step = max(1, int(round(float(rate) / SAMPLES_PER_SECOND)))
    expected = media.video.frame_count
    size = analysis_size(media)
    native = (size[0] == media.video.display_width, size[1] == media.video.display_height)
    collector = _Collector(rate, step, thumbnail_dir is not None, progress, expected, native)
    table: PacketTable | None = None
    try:
        if mode == "full":
            frames = early if early is not None else decode_frames(
                path, media=media, hwaccel=hw, cancel=cancel, threads=analysis_threads(media), pix_fmt=PIX_FMT)
            for frame, work in FW.worked_frames(frames, step=step, native=native, jpeg=thumbnail_dir is not None):
                collector.add_result(frame, work)
            frame_count = len(collector.pts)
            if frame_count < expected - max(2, expected // 50):
                raise AnalysisError(path, f"only {frame_count} of {expected} frames could be decoded; "
                                          f"the file is damaged or truncated")
            result = collector.detector.finish(frame_count)
        else:
            table = packet_table(path, media)
            frame_count = table.frame_count
            result = coarse_to_fine(path, media, table, collector, hw, cancel)
    finally:
        collector.detector.close()  # PySceneDetect's thread, also when cancelled or failing
    if progress is not None:
        progress(1.0)
    times = _frame_times(collector, table, frame_count, rate)
    measures = Q.fill_detail(collector.measures.arrays(frame_count), [seg.start_frame for seg in result.segments])
    result = without_defocused_dissolves(result, Q.detail(measures), Q.DEFOCUS_ABS)
    spans = [(seg.start_frame, seg.end_frame) for seg in result.segments if not seg.black]
    flags = Q.judge(measures, spans, float(rate), 64, collector.measures.patterns, step)
    cells = np.full((frame_count, 24, 4), np.nan, np.float32)
    known = [i for i in collector.cells if 0 <= i < frame_count]
    if known:
        cells[np.array(known, np.int64)] = np.stack([collector.cells[i] for i in known])
    flags = flags + OB.obstructed(cells, spans, float(rate))
    flags = tuple(Q.merge(flags + EX.exposure_flags(measures["mean"], collector.samples, result.segments, flags)))
    flags = FR.reconciled(flags, result.transitions, collector.samples, frame_count)  # one right reason a frame
    speed = np.hypot(measures["dx"], measures["dy"]) / 64.0
    shots = _build_shots(result, collector, times, frame_count, thumbnail_dir, flags, Q.detail(measures),
                         (float(rate), speed))
    idx = sorted(collector.samples)
    cols = list(zip(*(collector.samples[i] for i in idx))) if idx else [()] * 7
    shake = _shake_series(idx, cols[1], media)
    return FootageAnalysis(
        path=os.path.abspath(path), media=media, mode=mode, analysis_version=ANALYSIS_VERSION,
        frame_count=frame_count, shots=shots, sample_frames=tuple(idx),
        sample_times_s=tuple(float(times(i)) for i in idx),
        motion=tuple(_opt(v) for v in cols[0]), shake=tuple(shake),
        sharpness=tuple(_opt(v) for v in cols[2]), exposure=tuple(_opt(v) for v in cols[3]),
        clipped_high=tuple(_opt(v) for v in cols[4]), clipped_low=tuple(_opt(v) for v in cols[5]),
        colourfulness=tuple(_opt(v) for v in cols[6]), flags=flags,
    )


def _opt(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


# ----------------------------------------------------------------------------------------
# Shots


def _frame_times(collector: _Collector, table: PacketTable | None, frame_count: int, rate: Fraction):
    pts = collector.pts
    step = 1.0 / float(rate)

    def time_of(i: int) -> float:
        if i in pts:
            return pts[i]
        if table is not None and 0 <= i < table.frame_count:
            return table.seconds(i)
        if i >= frame_count and frame_count - 1 in pts:
            return pts[frame_count - 1] + step * (i - frame_count + 1)
        if table is not None and i >= table.frame_count:
            return table.seconds(table.frame_count - 1) + step * (i - table.frame_count + 1)
        return i * step

    return time_of


def _shake_series(idx: list[int], shifts, media: MediaInfo) -> list[float | None]:
    """Shake per sample from the per-sample global shifts (None where unknown)."""
    out: list[float | None] = [None] * len(idx)
    known = [(k, s) for k, s in enumerate(shifts) if s is not None]
    if not known:
        return out
    ks, arr = zip(*known)
    values = F.shake_frac(np.array(arr, np.float64), 64)
    for k, v in zip(ks, values):
        out[k] = float(v)
    return out


#: Contrast-normalised detail (see :func:`.quality.detail`) that counts as fully sharp on the
#: absolute scale (in-focus real footage measures 0.004-0.06).
SHARP_ABS = 0.012


def _score(sharp_n: float, exposure: float, hi: float, lo: float, shake: float | None,
           motion: float | None, key: XM.Key = XM.NO_KEY, lost: bool | None = None) -> float:
    """A frame's technical score, 0..1: 0.35 sharpness, 0.25 exposure, 0.25 steadiness, 0.15 motion.

    Exposure is judged against the shot's own ``key`` (:mod:`.exposure_mark`): a frame near its
    shot's median luma whose clipped share is no more than its shot's well-exposed frames have
    scores full exposure marks, whether the shot is low-key, mid-grey or high-key; frames off
    the key or clipped beyond it lose marks; only detail lost on the absolute scale (what
    :mod:`.exposure` calls "blown out" or "crushed") scores no exposure marks in any shot.
    """
    expo = XM.exposure_mark(exposure, hi, lo, key, lost)
    steady = 0.7 if shake is None else 1.0 / (1.0 + shake / 0.004)
    if motion is None:
        interest = 0.5
    else:
        interest = 1.0 - math.exp(-motion / 0.02)
        if motion > 0.12:
            interest *= max(0.2, 1.0 - (motion - 0.12) * 4.0)
    return 0.35 * sharp_n + 0.25 * expo + 0.25 * steady + 0.15 * interest


def _build_shots(result: ShotResult, collector: _Collector, time_of, frame_count: int,
                 thumbnail_dir: str | None, flags: tuple[Flag, ...] = (),
                 detail: np.ndarray | None = None,
                 motion: tuple[float, np.ndarray] | None = None) -> tuple[Shot, ...]:
    idx = np.array(sorted(collector.samples), dtype=np.int64)
    shots = []
    if thumbnail_dir is not None:
        os.makedirs(thumbnail_dir, exist_ok=True)
    all_shake = dict(zip(idx.tolist(), _shake_series(idx.tolist(), [collector.samples[int(i)][1] for i in idx], None)))
    lost = EX.samples_lost(collector.samples, idx.tolist())
    for n, seg in enumerate(result.segments):
        us, ue = seg.usable_start_frame, seg.usable_end_frame
        if ue <= us:
            us, ue = seg.start_frame, seg.end_frame
        sel = idx[(idx >= us) & (idx < ue)]
        if sel.size == 0:
            sel = idx[(idx >= seg.start_frame) & (idx < seg.end_frame)]
        rows = [collector.samples[int(i)] for i in sel]
        means = []
        for col in range(7):
            if col == 1:
                vals = [all_shake[int(i)] for i in sel if all_shake[int(i)] is not None]
            else:
                vals = [r[col] for r in rows if r[col] is not None]
            means.append(float(np.mean(vals)) if vals else None)
        sharp_max = max((r[2] for r in rows), default=0.0) or 1.0
        flagged = tuple(Flag(max(fl.first, seg.start_frame), min(fl.last, seg.end_frame - 1), fl.reason, fl.detail)
                        for fl in flags if fl.first < seg.end_frame and fl.last >= seg.start_frame)
        bad = set()
        for fl in flagged:
            bad.update(range(fl.first, fl.last + 1))

        def sharp(i: int, r: tuple) -> float:
            rel = r[2] / sharp_max
            d = detail[i] if detail is not None and 0 <= i < detail.size else float("nan")
            return rel if not np.isfinite(d) else 0.5 * rel + 0.5 * min(1.0, float(d) / SHARP_ABS)

        key = XM.shot_key([r[3:6] for i, r in zip(sel, rows) if int(i) not in bad])
        scores = tuple(0.0 if int(i) in bad else
                       M.weigh(_score(sharp(int(i), r), r[3], r[4], r[5], all_shake[int(i)], r[0], key, lost[int(i)]),
                               int(i), (us, ue),
                               motion[0] if motion else 25.0, collector.faces.get(int(i), 0),
                               motion[1] if motion else None, collector.subjects.get(int(i), 0.0))
                       for i, r in zip(sel, rows))
        if scores and not seg.black:
            best = int(sel[int(np.argmax(scores))])
        else:
            best = (us + ue) // 2 if not sel.size else int(sel[len(sel) // 2])
        keyframe = best
        thumb = None
        if thumbnail_dir is not None:
            thumb = _write_thumbnail(collector, keyframe, seg.start_frame, seg.end_frame, thumbnail_dir, n)
        shots.append(Shot(
            index=n, start_frame=seg.start_frame, end_frame=seg.end_frame,
            start_s=float(time_of(seg.start_frame)), end_s=float(time_of(seg.end_frame)),
            transition_in=seg.transition_in, transition_out=seg.transition_out, black=seg.black,
            usable_start_frame=seg.usable_start_frame, usable_end_frame=seg.usable_end_frame,
            keyframe_frame=keyframe, thumbnail=thumb,
            motion=means[0], shake=means[1], sharpness=means[2], exposure=means[3],
            clipped_high=means[4], clipped_low=means[5], colourfulness=means[6],
            best_frame=best, score_frames=tuple(int(i) for i in sel), scores=scores, flagged=flagged,
        ))
    return tuple(shots)


def _write_thumbnail(collector: _Collector, frame: int, start: int, end: int, directory: str, n: int) -> str | None:
    jpegs = collector.jpegs
    if frame not in jpegs:
        inside = [i for i in jpegs if start <= i < end]
        pool = inside or list(jpegs)
        if not pool:
            return None
        frame = min(pool, key=lambda i: abs(i - frame))
    final = os.path.join(directory, f"shot_{n:04d}.jpg")
    fd, tmp = tempfile.mkstemp(prefix=".thumb-", suffix=".jpg", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(jpegs[frame])
        os.replace(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return final
