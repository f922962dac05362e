"""``montage-ai resolve log`` / ``resolve unlog``: what the analysis found, written into (and
taken out of) Resolve's media pool. See :mod:`montage_ai.resolve_plugin.media_log`.

    montage-ai resolve log [--bin NAME] [--dry-run] [--per-clip N] [--min-score X] [--vision-model M]
        [--ollama-host URL]
    montage-ai resolve unlog [--dry-run]
"""

from __future__ import annotations

import argparse
import sys

from montage_ai.core import defaults


def add_log_commands(rsub: argparse._SubParsersAction) -> None:
    from montage_ai.ui.cli.main import add_work_options

    g = rsub.add_parser("log", help="write captions, keywords, best-moment markers and reject colours into the "
                                    "media pool, never over what you wrote")
    g.add_argument("--bin", metavar="NAME", help="bin name or path; default: the selected clips, else the current bin")
    g.add_argument("--dry-run", action="store_true", help="print every change it would make and change nothing")
    g.add_argument("--per-clip", type=int, default=defaults.SELECTS_PER_CLIP,
                   help=f"best moments marked per clip (default {defaults.SELECTS_PER_CLIP})")
    g.add_argument("--min-score", type=float, default=defaults.SELECTS_MIN_SCORE,
                   help=f"lowest best-moment score marked (0..1, default {defaults.SELECTS_MIN_SCORE})")
    g.add_argument("--vision-model", default=None, metavar="MODEL",
                   help="an Ollama vision model for captions (Description) and subject keywords")
    g.add_argument("--ollama-host", default=None, metavar="URL",
                   help="the Ollama server for captions (default: $OLLAMA_HOST, else http://127.0.0.1:11434)")
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
    from montage_ai.core.workflows import MediaLogJob, SelectsOptions, run_media_log
    from montage_ai.resolve_plugin.media_log import apply_changes, plan_log
    from montage_ai.resolve_plugin.pool import read_clips, read_pool
    from montage_ai.ui.cli.main import ProgressBar, ctrl_c_cancels, print_failures, work_from_args
    from montage_ai.ui.cli.resolve import live_client

    client = live_client(args)
    tree = read_pool(client)
    clips, where = read_clips(client, tree, args.bin)
    files = [c.file_path for c in clips if c.has_video]
    if not files:
        print(f"error: no video clips in the {where}", file=sys.stderr)
        return 1
    job = MediaLogJob(SelectsOptions(per_clip=args.per_clip, min_score=args.min_score),
                      vision_model=args.vision_model, ollama_host=args.ollama_host, work=work_from_args(args))
    with ctrl_c_cancels() as cancel_event:
        bar = ProgressBar(len(files), f"Analysing the {where}")
        try:
            judged = run_media_log(files, job, clip_progress=bar, cancel=cancel_event.is_set)
        finally:
            bar.close()
    changes, notes = plan_log(client, tree, judged.clips, judged.captions)
    print_failures(judged.failures)
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
    print(f"logged {len(files) - len(judged.failures)} clips of the {where}: {len(changes) - len(failed)} changes"
          + (f", {len(failed)} refused" if failed else "") + "; `montage-ai resolve unlog` takes them out.")
    return 1 if failed else 0


def cmd_resolve_unlog(args: argparse.Namespace) -> int:
    from montage_ai.resolve_plugin.media_log import apply_changes, plan_unlog
    from montage_ai.resolve_plugin.pool import read_pool
    from montage_ai.ui.cli.resolve import live_client

    client = live_client(args)
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
