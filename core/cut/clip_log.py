"""What logging clips writes: per clip, every shot's status (select or reject), reasons,
score, best frame and keywords (:func:`clip_logs`). The Resolve side is
:mod:`montage_ai.resolve_plugin.media_log`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from montage_ai.core.analysis.footage import FootageAnalysis
from montage_ai.core.cut.selects import Selects, order_key


@dataclass(frozen=True)
class ShotLog:
    """One shot's log entry: ``status`` is ``"select"`` or ``"reject"``; frames are the
    file's own, ``select_in``/``select_out`` the chosen piece (selects only)."""

    shot_index: int
    start_frame: int
    end_frame: int
    status: str
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    score: float | None
    best_frame: int
    keywords: tuple[str, ...]
    select_in: int | None = None
    select_out: int | None = None


@dataclass(frozen=True)
class ClipLog:
    """Everything to log on one clip (a media pool item in Resolve): its shots and clip
    flags (``vfr``, ``rotated``)."""

    path: str
    flags: tuple[str, ...]
    shots: tuple[ShotLog, ...]


def clip_flags(a: FootageAnalysis) -> tuple[str, ...]:
    """Clip-level flags: ``vfr`` (variable frame rate), ``rotated`` (a display rotation)."""
    v = a.media.video
    out = []
    if v is not None and v.vfr:
        out.append("vfr")
    if v is not None and v.rotation:
        out.append("rotated")
    return tuple(out)


def clip_logs(selects: Selects, analyses: Sequence[FootageAnalysis]) -> tuple[ClipLog, ...]:
    """Per clip, every shot's status with its reasons, score, best frame and keywords: the
    data logging into Resolve writes (markers at best frames, keywords, notes)."""
    out = []
    for a in sorted(analyses, key=order_key):
        shots = []
        for s in a.shots:
            p = selects.picked(a.path, s.index)
            if p is not None:
                shots.append(ShotLog(s.index, s.start_frame, s.end_frame, "select", (p.reason,), (), p.score,
                                     p.best_frame, p.keywords, p.source_in, p.source_out))
                continue
            r = selects.rejected(a.path, s.index)
            if r is None:  # a shot outside the selects' analyses: not judged
                continue
            shots.append(ShotLog(s.index, s.start_frame, s.end_frame, "reject", r.reasons, r.flags, r.score,
                                 r.best_frame, r.keywords))
        out.append(ClipLog(a.path, clip_flags(a), tuple(shots)))
    return tuple(out)
