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

from montage_ai.core import defaults
from montage_ai.ui.cli.main import StageBars, add_work_options, ctrl_c_cancels, print_failures, work_from_args

if TYPE_CHECKING:  # the engine is imported when a command runs, not when the CLI starts
    from montage_ai.core.cut.selects import Selects


def _selects_options(p: argparse.ArgumentParser, group: bool) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="footage files or folders")
    p.add_argument("--per-clip", type=int, default=defaults.SELECTS_PER_CLIP, metavar="N",
                   help=f"best pieces per clip (default {defaults.SELECTS_PER_CLIP})")
    p.add_argument("--min-score", type=float, default=defaults.SELECTS_MIN_SCORE, metavar="X",
                   help=f"lowest best-moment score of a piece, 0..1 (default {defaults.SELECTS_MIN_SCORE})")
    if group:
        p.add_argument("--group", choices=("source", "clip", "bin", "phase"), default=defaults.SELECTS_GROUP,
                       help="order: source order, or grouped by clip, by bin (folder) or by story phase "
                            f"(default {defaults.SELECTS_GROUP})")
        p.add_argument("--piece", type=float, default=defaults.SELECTS_PIECE_S, metavar="S",
                       help=f"longest piece in seconds (default {defaults.SELECTS_PIECE_S:g})")
        p.add_argument("--seed", type=int, default=defaults.SEED, help="breaks near-ties between windows")
    add_work_options(p)


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


def cmd_selects(args: argparse.Namespace) -> int:
    from montage_ai.core.workflows import (
        ExportJob,
        SelectsJob,
        SelectsOptions,
        check_free,
        export_targets,
        run_export,
        run_selects,
    )
    from montage_ai.otio_adapters.export import FORMATS

    out = Path(args.out)
    if out.suffix.lower() != ".otio":
        print(f"error: {out}: the selects timeline is written as .otio (the other formats beside it)", file=sys.stderr)
        return 1
    export = ExportJob(overwrite=args.force)
    check_free(list(export_targets(out, export).values()), args.force)  # before any work
    job = SelectsJob(SelectsOptions(per_clip=args.per_clip, min_score=args.min_score, group=args.group,
                                    piece_s=args.piece, seed=args.seed), name=out.stem, work=work_from_args(args))
    bars = StageBars()
    with ctrl_c_cancels() as cancel_event:
        try:
            result = run_selects(args.paths, job, progress=bars, cancel=cancel_event.is_set)
        finally:
            bars.close()
    written = run_export(result.timeline, out, export)
    print_failures(written.failures + written.incomplete, "error: ")
    print_selects(result.selects)
    print("wrote " + ", ".join(f"{p} ({FORMATS[f].name})" for f, p in written.written.items()))
    from montage_ai.ui.cli.main import EXIT_MISSING, incomplete_exit

    if written.failures:  # as cut and export: the exit code says a file the editor expects is missing
        print(f"error: {len(written.failures)} timeline files not written: "
              + ", ".join(f.path for f in written.failures), file=sys.stderr)
        return EXIT_MISSING
    return incomplete_exit(written.incomplete)


def print_selects(selects: "Selects") -> None:
    """The summary: each piece with its score and reason, each shot left out with its reason."""
    from montage_ai.core.base import stages
    from montage_ai.core.base.types import Failure

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
    print_failures(Failure.of(stages.FOOTAGE, selects.failures), "  skipped: ")


def cmd_report(args: argparse.Namespace) -> int:
    from montage_ai.core.workflows import ReportJob, SelectsOptions, run_shot_report

    job = ReportJob(SelectsOptions(per_clip=args.per_clip, min_score=args.min_score), music=args.music,
                    overwrite=args.force, work=work_from_args(args))
    bars = StageBars()
    with ctrl_c_cancels() as cancel_event:
        try:
            result = run_shot_report(args.paths, args.out, job, progress=bars, cancel=cancel_event.is_set)
        finally:
            bars.close()
    selects = result.selects
    shots = sum(len(a.shots) for a in result.analyses)
    print(f"{len(result.analyses)} clips, {shots} shots: {len(selects.picks)} selects, "
          f"{len(selects.rejections)} left out" + (f", {len(result.failures)} unreadable" if result.failures else ""))
    print_failures(result.failures, "  skipped: ")
    print(f"wrote {result.html}, {result.csv}")
    return 0
