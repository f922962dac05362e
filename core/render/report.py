"""The shot report: one self-contained HTML page and a CSV of the same rows.

>>> html_path, csv_path = write_report("report.html", analyses, selects, music=song)   # doctest: +SKIP

Per clip, a filmstrip of its shots (the keyframe as an embedded JPEG), each with its
timecode, best-moment score, caption (when the analysis has one), flags (``black``,
``blur``, ``shake``, ``dark``, ``bright``, ``short``, ``duplicate``, ``low score``,
``extra``; per clip ``vfr`` and ``rotated``; clips that could not be read are listed as
``unreadable`` with the reason) and whether it is a select; then, with a song, a chart of
its sections, beat energy, beats and downbeats (inline SVG).

The page needs nothing but itself: thumbnails are ``data:`` URIs, the style sheet is
inline, there is no script and no external resource. Text is escaped with
:func:`html.escape`. The CSV (:data:`CSV_COLUMNS`) has one row per shot and one per
unreadable clip; a spreadsheet opens it as is.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import html
import io
import logging
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from montage_ai.core.analysis.duplicates import keyframe_images
from montage_ai.core.analysis.footage import FootageAnalysis
from montage_ai.core.analysis.music import MusicAnalysis
from montage_ai.core.base.fileio import OutputExistsError, display_name, write_atomic
from montage_ai.core.base.timebase import format_rate, frames_to_timecode, timecode_to_frames
from montage_ai.core.base.types import ShotKey
from montage_ai.core.cut.clip_log import clip_flags
from montage_ai.core.cut.selects import Selects

log = logging.getLogger(__name__)

#: Width of the embedded thumbnails, pixels.
THUMB_WIDTH = 192

CSV_COLUMNS = ("clip", "path", "shot", "start_frame", "end_frame", "timecode", "duration_s", "status", "score",
               "mean_score", "best_frame", "sharpness", "exposure", "shake", "motion", "flags", "reasons",
               "caption", "keywords")


@dataclass(frozen=True)
class ReportRow:
    """One shot (or one unreadable clip, ``shot`` None) as the report and the CSV show it."""

    clip: str
    path: str
    shot: int | None
    start_frame: int | None
    end_frame: int | None
    timecode: str
    duration_s: float | None
    status: str
    score: float | None
    mean_score: float | None
    best_frame: int | None
    sharpness: float | None
    exposure: float | None
    shake: float | None
    motion: float | None
    flags: tuple[str, ...]
    reasons: tuple[str, ...]
    caption: str | None
    keywords: tuple[str, ...]


def _timecode(a: FootageAnalysis, frame: int) -> str:
    rate = Fraction(a.media.video.rate)
    start = 0
    if a.media.start_timecode:
        try:
            start = timecode_to_frames(a.media.start_timecode, rate)
        except ValueError:
            start = 0
    return frames_to_timecode(start + frame, rate)


def _r(x: float | None, n: int) -> float | None:
    return None if x is None else round(float(x), n)


def report_rows(analyses: Sequence[FootageAnalysis], selects: Selects) -> list[ReportRow]:
    """The rows of the report: every shot of every clip (in the selects' source order),
    then the clips that could not be read."""
    rows = []
    for a in analyses:
        rate = Fraction(a.media.video.rate) if a.media.video is not None else Fraction(25)
        cflags = clip_flags(a)
        for s in a.shots:
            pick, rej = selects.picked(a.path, s.index), selects.rejected(a.path, s.index)
            if pick is not None:
                status, flags, reasons, score, keywords = "select", (), (pick.reason,), pick.score, pick.keywords
            elif rej is not None:
                status, flags, reasons, score, keywords = "reject", rej.flags, rej.reasons, rej.score, rej.keywords
            else:
                status, flags, reasons, score, keywords = "", (), (), None, ()
            rows.append(ReportRow(
                clip=os.path.basename(a.path), path=a.path, shot=s.index, start_frame=s.start_frame,
                end_frame=s.end_frame, timecode=_timecode(a, s.start_frame),
                duration_s=round(float(Fraction(s.frame_count) / rate), 3), status=status,
                score=_r(score if score is not None else (max(s.scores) if s.scores and not s.black else None), 3),
                mean_score=_r(float(np.mean(s.scores)) if s.scores else None, 3), best_frame=s.best_frame,
                sharpness=_r(s.sharpness, 1), exposure=_r(s.exposure, 3), shake=_r(s.shake, 4), motion=_r(s.motion, 4),
                flags=tuple(flags) + cflags, reasons=tuple(reasons), caption=getattr(s, "caption", None),
                keywords=tuple(keywords)))
    for path, reason in selects.failures:
        rows.append(ReportRow(os.path.basename(path), path, None, None, None, "", None, "unreadable", None, None, None,
                              None, None, None, None, ("unreadable",), (reason,), None, ()))
    return rows


def report_csv(rows: Sequence[ReportRow]) -> str:
    """The rows as CSV text (header :data:`CSV_COLUMNS`; lists joined with ``"; "``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        d = asdict(row)
        cells = ["; ".join(d[c]) if isinstance(d[c], (tuple, list)) else ("" if d[c] is None else d[c])
                 for c in CSV_COLUMNS]
        writer.writerow([display_name(c) if isinstance(c, str) else c for c in cells])  # any file name, one line
    return buf.getvalue()


# --------------------------------------------------------------------------- thumbnails


def thumbnail_uri(image: np.ndarray, width: int = THUMB_WIDTH) -> str:
    """A ``data:image/jpeg;base64,...`` URI of ``image`` (BGR) scaled to ``width``."""
    h, w = image.shape[:2]
    if w != width:
        image = cv2.resize(image, (width, max(2, int(round(h * width / w)))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ValueError("the thumbnail cannot be encoded as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def shot_thumbnails(analyses: Sequence[FootageAnalysis], *, progress: Callable[[float], None] | None = None,
                    cancel: Callable[[], bool] | None = None) -> dict[ShotKey, str]:
    """Data URIs of every shot's keyframe that can be read (thumbnail file, else decoded)."""
    todo = [(a, s) for a in analyses for s in a.shots]
    return {key: thumbnail_uri(image) for key, image in keyframe_images(todo, progress=progress, cancel=cancel)}


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;background:#1c1d20;color:#e6e6e6}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0}
.sum{color:#aab;margin:0 0 18px}.clip{background:#26282c;border-radius:8px;padding:12px 14px;margin:0 0 16px}
.meta{color:#9aa;font-size:12px;margin:2px 0 10px}
.strip{display:flex;gap:10px;overflow-x:auto;padding-bottom:6px}
.shot{flex:0 0 192px;margin:0;background:#1f2024;border-radius:6px;overflow:hidden;border:2px solid #3a3c42}
.shot.select{border-color:#e0b030}.shot.reject{opacity:.78}
.shot img,.nopic{display:block;width:192px;height:108px;object-fit:cover;background:#000}
.nopic{display:flex;align-items:center;justify-content:center;color:#777;font-size:12px}
.shot figcaption{padding:6px 8px;font-size:12px}
.row{display:flex;justify-content:space-between;color:#ccd}.score{font-weight:600;color:#fff}
.flag{display:inline-block;background:#5a2e2e;color:#fcc;border-radius:3px;padding:0 4px;margin:2px 2px 0 0;font-size:11px}
.flag.clipflag{background:#2e3f5a;color:#cde}.flag.sel{background:#6a5414;color:#fe9}
.cap{color:#dde;font-style:italic;margin-top:3px}.why{color:#99a;margin-top:3px;font-size:11px}
.bar{height:4px;background:#333}.bar>i{display:block;height:4px;background:#e0b030}
.music{background:#26282c;border-radius:8px;padding:12px 14px;margin:0 0 16px}
.unreadable{border-left:4px solid #c44}
svg text{fill:#ccd;font-size:11px}
"""

_SECTION_COLOURS = ("#3b6ea5", "#a55a3b", "#4f9a5a", "#8a5aa5", "#a59a3b", "#3ba5a0")


def music_chart_svg(music: MusicAnalysis, width: int = 960, height: int = 140) -> str:
    """Inline SVG of a song: sections (coloured bands with their labels), beat energy
    (a line), beats (short ticks) and downbeats (tall red ticks), on a seconds axis."""
    dur = max(music.duration_s, 1e-6)

    def x(t: float) -> float:
        return round(10 + (width - 20) * t / dur, 2)

    top, bottom = 18, height - 22
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" role="img" aria-label="music chart">']
    labels = sorted({s.label for s in music.sections})
    for s in music.sections:
        colour = _SECTION_COLOURS[labels.index(s.label) % len(_SECTION_COLOURS)]
        parts.append(f'<rect x="{x(s.start_s)}" y="{top}" width="{max(0.5, x(s.end_s) - x(s.start_s))}" '
                     f'height="{bottom - top}" fill="{colour}" fill-opacity="0.45"><title>'
                     f'{html.escape(s.label)} {s.start_s:.1f}-{s.end_s:.1f} s, energy {s.energy:.2f}</title></rect>')
        parts.append(f'<text x="{x(s.start_s) + 3}" y="{top + 12}">{html.escape(s.label)}</text>')
    if music.beat_times_s and music.beat_energy:
        pts = " ".join(f"{x(t)},{round(bottom - (bottom - top - 16) * float(e), 2)}"
                       for t, e in zip(music.beat_times_s, music.beat_energy))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#f0d060" stroke-width="1.5"/>')
    for t in music.beat_times_s:
        parts.append(f'<line x1="{x(t)}" x2="{x(t)}" y1="{bottom}" y2="{bottom + 6}" stroke="#99a"/>')
    for t in music.downbeat_times_s:
        parts.append(f'<line x1="{x(t)}" x2="{x(t)}" y1="{top}" y2="{bottom + 8}" stroke="#e05050" '
                     f'stroke-opacity="0.8"/>')
    step = 5 if dur <= 60 else 15 if dur <= 240 else 30
    for k in range(0, int(dur) + 1, step):
        parts.append(f'<text x="{x(k)}" y="{height - 4}" text-anchor="middle">{k}s</text>')
    parts.append("</svg>")
    return "".join(parts)


def _n(count: int, noun: str) -> str:
    """``"1 clip"``, ``"2 clips"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def report_html(analyses: Sequence[FootageAnalysis], selects: Selects, thumbnails: dict[ShotKey, str], *,
                music: MusicAnalysis | None = None, title: str = "Shot report") -> str:
    """The report page (see the module docstring)."""
    def e(text: str, quote: bool = True) -> str:  # any file name: visible escapes, then HTML's
        return html.escape(display_name(str(text)), quote=quote)

    rows = report_rows(analyses, selects)
    by_shot = {(r.path, r.shot): r for r in rows if r.shot is not None}
    n_shots = sum(len(a.shots) for a in analyses)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width,initial-scale=1">',
           f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{e(title)}</h1>",
           f'<p class="sum">{_n(len(analyses), "clip")}, {_n(n_shots, "shot")}: {_n(len(selects.picks), "select")}, '
           f"{len(selects.rejections)} left out"
           + (f", {_n(len(selects.failures), 'unreadable clip')}" if selects.failures else "")
           + f". Generated {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by Montage AI.</p>"]
    if music is not None:
        out.append(f'<section class="music"><h2>Music: {e(os.path.basename(music.path))}</h2>'
                   f'<p class="meta">{music.tempo_bpm:.1f} bpm, {music.meter} beats a bar, '
                   f"{_n(len(music.beat_times_s), 'beat')}, {_n(len(music.sections), 'section')}, "
                   f"{music.duration_s:.1f} s. Bands: sections; yellow line: beat energy; red: downbeats; "
                   f"ticks: beats.</p>{music_chart_svg(music)}</section>")
    for a in analyses:
        v = a.media.video
        rate = Fraction(v.rate) if v is not None else None
        cflags = clip_flags(a)
        meta = [e(a.path)]
        if v is not None:
            meta.append(f"{v.display_width}x{v.display_height}, {format_rate(rate, ratio=True)} fps, "
                        f"{v.frame_count} frames, {a.media.duration_s:.1f} s")
        if a.media.start_timecode:
            meta.append(f"TC {e(a.media.start_timecode)}")
        badges = "".join(f'<span class="flag clipflag">{e(f)}</span>' for f in cflags)
        out.append(f'<section class="clip"><h2>{e(os.path.basename(a.path))} {badges}</h2>'
                   f'<p class="meta">{" · ".join(meta)}</p><div class="strip">')
        for s in a.shots:
            r = by_shot[(a.path, s.index)]
            uri = thumbnails.get((a.path, s.index))
            pic = (f'<img src="{uri}" alt="{e(r.clip)} shot {s.index}" width="{THUMB_WIDTH}">' if uri
                   else '<div class="nopic">no picture</div>')
            score = r.score if r.score is not None else 0.0
            flags = "".join(f'<span class="flag">{e(f)}</span>' for f in r.flags if f not in cflags)
            if r.status == "select":
                flags = '<span class="flag sel">select</span>' + flags
            caption = f'<div class="cap">{e(r.caption)}</div>' if r.caption else ""
            why = f'<div class="why">{e("; ".join(r.reasons))}</div>' if r.reasons else ""
            out.append(f'<figure class="shot {e(r.status)}" title="{e("; ".join(r.reasons))}">{pic}'
                       f'<div class="bar"><i style="width:{round(100 * min(max(score, 0.0), 1.0))}%"></i></div>'
                       f'<figcaption><div class="row"><span>#{s.index} {e(r.timecode)}</span>'
                       f'<span class="score">{"" if r.score is None else f"{r.score:.2f}"}</span></div>'
                       f'<div class="row"><span>{r.duration_s:.2f} s</span><span>best @{s.best_frame}</span></div>'
                       f"{flags}{caption}{why}</figcaption></figure>")
        out.append("</div></section>")
    for path, reason in selects.failures:
        out.append(f'<section class="clip unreadable"><h2>{e(os.path.basename(path))} '
                   f'<span class="flag">unreadable</span></h2><p class="meta">{e(path)}</p>'
                   f"<p>{e(reason)}</p></section>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(path: str | os.PathLike[str], analyses: Sequence[FootageAnalysis], selects: Selects, *,
                 music: MusicAnalysis | None = None, csv_path: str | os.PathLike[str] | None = None,
                 title: str | None = None, overwrite: bool = False,
                 progress: Callable[[float], None] | None = None,
                 cancel: Callable[[], bool] | None = None) -> tuple[Path, Path]:
    """Write the HTML report and its CSV (default: ``path`` with ``.csv``), atomically.

    Raises
    ------
    OutputExistsError
        Either file exists and ``overwrite`` is False (checked before any work).
    """
    html_path = Path(path)
    csv_file = Path(csv_path) if csv_path is not None else html_path.with_suffix(".csv")
    for target in (html_path, csv_file):
        if target.exists() and not overwrite:
            raise OutputExistsError(target)
    thumbs = shot_thumbnails(analyses, progress=progress, cancel=cancel)
    page = report_html(analyses, selects, thumbs, music=music, title=title or f"Shot report: {html_path.stem}")
    rows = report_rows(analyses, selects)
    write_atomic(html_path, page, overwrite=overwrite)
    write_atomic(csv_file, report_csv(rows), overwrite=overwrite)
    return html_path, csv_file
