"""``montage-ai resolve log`` / ``resolve unlog``: what the analysis found, written into (and
taken out of) Resolve's media pool. See :mod:`montage_ai.resolve_plugin.media_log`.

    montage-ai resolve log [--bin NAME] [--dry-run] [--per-clip N] [--min-score X] [--vision-model M]
    montage-ai resolve unlog [--dry-run]
"""

from __future__ import annotations

import argparse
import sys


def add_log_commands(rsub: argparse._SubParsersAction) -> None:
    from montage_ai.ui.cli.main import add_work_options

    g = rsub.add_parser("log", help="write captions, keywords, best-moment markers and reject colours into the "
                                    "media pool, never over what you wrote")
    g.add_argument("--bin", metavar="NAME", help="bin name or path; default: the selected clips, else the current bin")
    g.add_argument("--dry-run", action="store_true", help="print every change it would make and change nothing")
    g.add_argument("--per-clip", type=int, default=3, help="best moments marked per clip (default 3)")
    g.add_argument("--min-score", type=float, default=0.5, help="lowest best-moment score marked (0..1, default 0.5)")
    g.add_argument("--vision-model", default=None, metavar="MODEL",
                   help="an Ollama vision model for captions (Description) and subject keywords")
    add_work_options(g)
    g.set_defaults(func=cmd_resolve_log)
    u = rsub.add_parser("unlog", help="remove exactly what `resolve log` added, nothing else")
    u.add_argument("--dry-run", action="store_true", help="print every change it would make and change nothing")
    u.set_defaults(func=cmd_resolve_unlog)


def _journal(client):
    """The project's log journal, in the user data folder (not the cache)."""
    from montage_ai.resolve_plugin.media_log import journal_path

    name = client.project().name
    return journal_path(None, name), name


def _print(changes, dry_run: bool) -> None:
    for change in changes:
        print(("would " if dry_run else "") + change.describe())


def cmd_resolve_log(args: argparse.Namespace) -> int:
    from montage_ai.core.run.cache import AnalysisCache
    from montage_ai.core.plan.captions import caption_shots
    from montage_ai.core.analysis.duplicates import shot_hashes
    from montage_ai.core.run.jobs import analyze_files
    from montage_ai.core.plan.ollama_config import OllamaSettings
    from montage_ai.core.cut.selects import SelectsOptions, choose_selects, clip_logs
    from montage_ai.resolve_plugin.media_log import apply_changes, plan_log
    from montage_ai.resolve_plugin.pool import read_clips, read_pool
    from montage_ai.ui.cli.resolve import _live_client
    from montage_ai.ui.cli.main import ProgressBar, ctrl_c_cancels, executor_from_args

    client = _live_client(args)
    tree = read_pool(client)
    clips, where = read_clips(client, tree, args.bin)
    files = [c.file_path for c in clips if c.has_video]
    if not files:
        print(f"error: no video clips in the {where}", file=sys.stderr)
        return 1
    cache = None if args.no_cache else AnalysisCache(args.cache_dir)
    with ctrl_c_cancels() as cancel_event:
        bar = ProgressBar(len(files), f"Analysing the {where}")
        try:
            report = analyze_files(files, executor=executor_from_args(args), cache=cache, progress=bar,
                                   cancel=cancel_event.is_set)
        finally:
            bar.close()
        hashes = shot_hashes(report.analyses, cancel=cancel_event.is_set)
        selects = choose_selects(report.analyses, SelectsOptions(per_clip=args.per_clip, min_score=args.min_score),
                                 hashes=hashes, failures=report.failures)
        captions = {}
        if args.vision_model:
            captions = caption_shots(report.analyses, OllamaSettings.resolve(vision_model=args.vision_model),
                                     cache=cache, cancel=cancel_event.is_set).captions
    changes, notes = plan_log(client, tree, clip_logs(selects, report.analyses), captions)
    for path, reason in report.failures:
        print(f"skipped: {reason}", file=sys.stderr)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    _print(changes, args.dry_run)
    if args.dry_run:
        print(f"{len(changes)} changes; nothing was changed (--dry-run).")
        return 0
    journal, project = _journal(client)
    failed = apply_changes(client, changes, journal=journal, project=project)
    for text in failed:
        print(f"Resolve refused: {text}", file=sys.stderr)
    print(f"logged {len(files) - len(report.failures)} clips of the {where}: {len(changes) - len(failed)} changes"
          + (f", {len(failed)} refused" if failed else "") + "; `montage-ai resolve unlog` takes them out.")
    return 1 if failed else 0


def cmd_resolve_unlog(args: argparse.Namespace) -> int:
    from montage_ai.resolve_plugin.media_log import apply_changes, plan_unlog
    from montage_ai.resolve_plugin.pool import read_pool
    from montage_ai.ui.cli.resolve import _live_client

    client = _live_client(args)
    journal, project = _journal(client)
    changes = plan_unlog(client, read_pool(client), journal=journal)
    _print(changes, args.dry_run)
    if args.dry_run:
        print(f"{len(changes)} changes; nothing was changed (--dry-run).")
        return 0
    failed = apply_changes(client, changes, journal=journal, project=project)
    for text in failed:
        print(f"Resolve refused: {text}", file=sys.stderr)
    print(f"removed what Montage AI had logged: {len(changes) - len(failed)} changes.")
    return 1 if failed else 0
