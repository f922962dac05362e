"""``montage-ai selects`` and ``montage-ai report``: the assistant editor's stringout and log.

    montage-ai selects PATH... [--per-clip N] [--min-score X] [--group source|clip|bin|phase]
        [--piece S] [--seed N] -o SELECTS.otio [--force]
    montage-ai report PATH... [--music SONG] [--per-clip N] [--min-score X] -o REPORT.html [--force]

``selects`` writes the timeline as .otio and beside it every format ``cut`` writes (.fcpxml,
.xml, .edl), then lists each piece and each shot left out with its reason. ``report`` writes
REPORT.html (self-contained) and REPORT.csv. Pushing selects to Resolve (``--bin``) comes
with the Resolve plugin.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.run.executor import make_executor
from montage_ai.core.base.fileio import OutputExistsError

if TYPE_CHECKING:  # the engine is imported when a command runs, not when the CLI starts
    from montage_ai.core.cut.selects import Selects


def _selects_options(p: argparse.ArgumentParser, group: bool) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="footage files or folders")
    p.add_argument("--per-clip", type=int, default=3, metavar="N", help="best pieces per clip (default 3)")
    p.add_argument("--min-score", type=float, default=0.5, metavar="X",
                   help="lowest best-moment score of a piece, 0..1 (default 0.5)")
    if group:
        p.add_argument("--group", choices=("source", "clip", "bin", "phase"), default="clip",
                       help="order: source order, or grouped by clip, by bin (folder) or by story phase (default clip)")
        p.add_argument("--piece", type=float, default=3.0, metavar="S", help="longest piece in seconds (default 3)")
        p.add_argument("--seed", type=int, default=0, help="breaks near-ties between windows")
    p.add_argument("--workers", type=int, default=None, help="files analysed at once (default: one per core)")
    p.add_argument("--cache-dir", default=None, help="analysis cache folder (default: the user cache folder)")
    p.add_argument("--no-cache", action="store_true", help="analyse again even if a cached result exists")
    p.add_argument("--force", action="store_true", help="replace output files that exist")


def add_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("selects", help="a stringout of the best moment of every clip, with what was left out and why")
    _selects_options(s, group=True)
    s.add_argument("-o", "--out", required=True, metavar="SELECTS.otio",
                   help="the timeline to write; .fcpxml, .xml and .edl are written beside it")
    s.set_defaults(func=cmd_selects)

    r = sub.add_parser("report", help="an HTML shot report (filmstrips, scores, flags, music chart) and a CSV")
    _selects_options(r, group=False)
    r.add_argument("--music", metavar="SONG", help="also chart this song's sections, beats and downbeats")
    r.add_argument("-o", "--out", required=True, metavar="REPORT.html", help="the page to write; REPORT.csv beside it")
    r.set_defaults(func=cmd_report)


def _cache(args: argparse.Namespace) -> AnalysisCache | None:
    return None if args.no_cache else AnalysisCache(args.cache_dir)


def cmd_selects(args: argparse.Namespace) -> int:
    from montage_ai.core.cut.selects import SelectsOptions, make_selects
    from montage_ai.otio_adapters.edit import InterchangeError
    from montage_ai.otio_adapters.export import DEFAULT_FORMATS, FORMATS, export_path, export_timeline
    from montage_ai.ui.cli.main import StageBars, ctrl_c_cancels

    out = Path(args.out)
    if out.suffix.lower() != ".otio":
        print(f"error: {out}: the selects timeline is written as .otio (the other formats beside it)", file=sys.stderr)
        return 1
    exports = [export_path(out, fmt) for fmt in DEFAULT_FORMATS]
    for target in exports:
        if target.exists() and not args.force:
            raise OutputExistsError(target)
    options = SelectsOptions(per_clip=args.per_clip, min_score=args.min_score, group=args.group,
                             piece_s=args.piece, seed=args.seed)
    bars = StageBars()
    with ctrl_c_cancels() as cancel_event:
        try:
            result = make_selects(args.paths, options, name=out.stem, cache=_cache(args),
                                  executor=make_executor("local", args.workers), progress=bars,
                                  cancel=cancel_event.is_set)
        finally:
            bars.close()
    written = []
    for fmt, path in zip(DEFAULT_FORMATS, exports):
        try:
            written.append(export_timeline(result.timeline, path, fmt, overwrite=args.force))
        except InterchangeError as exc:
            print(f"warning: {path}: not written: {exc}", file=sys.stderr)
    print_selects(result.selects)
    print("wrote " + ", ".join(f"{p} ({FORMATS[f].name})" for f, p in zip(DEFAULT_FORMATS, exports) if p in written))
    return 0


def print_selects(selects: "Selects") -> None:
    """The summary: each piece with its score and reason, each shot left out with its reason."""
    total = sum(p.frames / p.source_rate for p in selects.picks)
    print(f"{len(selects.picks)} selects, {float(total):.1f} s; {len(selects.rejections)} shots left out")
    group = None
    for p in selects.picks:
        if p.group and p.group != group:
            group = p.group
            print(f"  [{group}]")
        print(f"  + {os.path.basename(p.path)} #{p.shot_index} frames {p.source_in}-{p.source_out - 1}  "
              f"score {p.score:.2f}  {p.reason}")
    for r in selects.rejections:
        print(f"  - {os.path.basename(r.path)} #{r.shot_index} frames {r.start_frame}-{r.end_frame - 1}  "
              f"{', '.join(r.flags)}: {r.reason}")
    for path, reason in selects.failures:
        print(f"  skipped: {reason}" if path in reason else f"  skipped: {path}: {reason}", file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    from montage_ai.core.analysis.duplicates import shot_hashes
    from montage_ai.core.base.fileio import collect_media
    from montage_ai.core.run.jobs import analyze_files, analyze_music_cached
    from montage_ai.core.render.report import write_report
    from montage_ai.core.cut.selects import SelectsOptions, choose_selects
    from montage_ai.ui.cli.main import ProgressBar, StageBars, ctrl_c_cancels

    out = Path(args.out)
    csv_path = out.with_suffix(".csv")
    for target in (out, csv_path):
        if target.exists() and not args.force:
            raise OutputExistsError(target)
    files = collect_media(args.paths)
    if not files:
        print("error: no footage found in " + ", ".join(args.paths), file=sys.stderr)
        return 1
    cache = _cache(args)
    with ctrl_c_cancels() as cancel_event:
        bar = ProgressBar(len(files), "Analysing footage")
        try:
            report = analyze_files(files, executor=make_executor("local", args.workers), cache=cache,
                                   progress=bar, cancel=cancel_event.is_set)
        finally:
            bar.close()
        if not report.analyses:
            for path, reason in report.failures:
                print(f"error: {reason}", file=sys.stderr)
            return 1
        music = analyze_music_cached(args.music, cache=cache, cancel=cancel_event.is_set) if args.music else None
        bars = StageBars()
        try:
            hashes = shot_hashes(report.analyses, progress=lambda f: bars("duplicates", f), cancel=cancel_event.is_set)
            selects = choose_selects(report.analyses, SelectsOptions(per_clip=args.per_clip, min_score=args.min_score),
                                     hashes=hashes, failures=report.failures)
            html_path, csv_file = write_report(out, report.analyses, selects, music=music, csv_path=csv_path,
                                               overwrite=args.force, progress=lambda f: bars("report", f),
                                               cancel=cancel_event.is_set)
        finally:
            bars.close()
    shots = sum(len(a.shots) for a in report.analyses)
    print(f"{len(report.analyses)} clips, {shots} shots: {len(selects.picks)} selects, "
          f"{len(selects.rejections)} left out" + (f", {len(report.failures)} unreadable" if report.failures else ""))
    for path, reason in report.failures:
        print(f"  skipped: {reason}" if path in reason else f"  skipped: {path}: {reason}", file=sys.stderr)
    print(f"wrote {html_path}, {csv_file}")
    return 0
