"""``montage-ai proxies`` and ``montage-ai encoders``: a thin layer over core.proxies and core.encoders.

    montage-ai proxies PATH... [--profile NAME] [--encoder auto|nvenc|vaapi|qsv|videotoolbox|cpu] [--out DIR]
    montage-ai encoders [--recheck]
"""

from __future__ import annotations

import argparse
import sys

from montage_ai.core import defaults
from montage_ai.core.render.encoders import (
    ENCODER_KINDS,
    PREFERENCES,
    PROFILES,
    EncoderError,
    EncoderRegistry,
    preference,
)

#: Proxies encoded at once on this machine (see :data:`montage_ai.core.defaults.PROXY_WORKERS`).
DEFAULT_PROXY_WORKERS = defaults.PROXY_WORKERS


def add_commands(sub: argparse._SubParsersAction) -> None:
    from montage_ai.ui.cli.main import add_cluster_options

    p = sub.add_parser("proxies", help="make edit proxies (Proxy folder beside the media) that conform frame for frame")
    p.add_argument("paths", nargs="+", metavar="PATH", help="footage files or folders")
    p.add_argument("--profile", choices=sorted(PROFILES), default=defaults.PROXY_PROFILE,
                   help=f"proxy format (default {defaults.PROXY_PROFILE}); " + "; ".join(
                       f"{n}: {p.description}" for n, p in PROFILES.items()))
    p.add_argument("--encoder", choices=PREFERENCES, default=None,
                   help="video encoder (default: $FFMPEG_HWACCEL, else auto: the first of "
                        + ", ".join(ENCODER_KINDS) + " that passes a trial encode)")
    p.add_argument("--out", metavar="DIR", default=None, help="write every proxy into DIR (default: a Proxy folder beside each file)")
    p.add_argument("--workers", type=int, default=None,
                   help=f"proxies encoded at once on this machine (default {DEFAULT_PROXY_WORKERS})")
    p.add_argument("--force", action="store_true", help="replace files at the proxies' names that montage-ai did not write")
    add_cluster_options(p)
    p.set_defaults(func=cmd_proxies)

    e = sub.add_parser("encoders", help="list the video encoders ffmpeg offers and which passed a trial encode here")
    e.add_argument("--recheck", action="store_true", help="run the trial encodes again (new driver, new GPU)")
    e.set_defaults(func=cmd_encoders)


def cmd_proxies(args: argparse.Namespace) -> int:
    from montage_ai.core.workflows import NoUsableFootage, ProxiesJob, failures_of, run_proxies
    from montage_ai.ui.cli.main import ProgressBar, ctrl_c_cancels, print_failures, work_from_args

    job = ProxiesJob(profile=args.profile, encoder=args.encoder, out_dir=args.out, force=args.force,
                     work=work_from_args(args))
    with ctrl_c_cancels() as cancel_event:
        bar = None

        def on_clip(p) -> None:
            nonlocal bar
            if bar is None:
                bar = ProgressBar(p.total, "Making proxies")
            bar(p)

        try:
            report = run_proxies(args.paths, job, clip_progress=on_clip, cancel=cancel_event.is_set)
        except NoUsableFootage as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            if bar is not None:
                bar.close()
    for r in report.results:
        if r.skipped:
            print(f"up to date: {r.proxy}")
        else:
            print(f"wrote {r.proxy} ({r.encoder}, {r.frame_count} frames)")
        if r.note:
            print(f"  note: {r.note}", file=sys.stderr)
    print_failures(failures_of(report, "proxies"))
    return 0 if report.results or not report.failures else 2


def cmd_encoders(args: argparse.Namespace) -> int:
    registry = EncoderRegistry()
    print(f"{registry.version}")
    print(f"{'kind':13s} {'codec':7s} {'encoder':18s} status")
    for v in registry.survey(refresh=args.recheck):
        status = "works" if v.works else ("not in this ffmpeg build" if not v.listed else f"fails: {v.reason}")
        print(f"{v.kind:13s} {v.codec:7s} {v.encoder:18s} {status}")
    want = preference(None)
    for codec in ("h264", "hevc"):
        try:
            chosen = registry.select(codec, want)
            print(f"{want} uses {chosen.encoder} for {codec}")
        except EncoderError as exc:
            print(f"{want}: {exc}")
    print(f"verdicts cached in {registry.cache_path} (--recheck runs the trials again)")
    return 0
