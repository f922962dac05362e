"""Resolve commands of the ``montage-ai`` command line (thin layer over ``resolve_plugin``).

    montage-ai resolve status
    montage-ai resolve list [--json]
    montage-ai resolve cut [--bin NAME] --music CLIP_OR_FILE [--style S] [--duration S] ...
    montage-ai resolve cut --file-route --footage FILE_OR_FOLDER ... --music FILE [--out-dir DIR]
    montage-ai install-resolve [--uninstall] [--all-users]

``resolve`` commands reach Resolve by the best route the edition allows
(:func:`montage_ai.resolve_plugin.routes.select_route`: the object Resolve injects, external
scripting, an in-app bridge started from Workspace > Scripts) and say which. Where none is
live, ``resolve cut`` writes FCP7 XML and FCPXML and prints the steps to import them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from contextlib import ExitStack, contextmanager
from typing import Iterator

from montage_ai.core.base.errors import MontageError
from montage_ai.core.base.timebase import format_rate


@contextmanager
def _cancel_event() -> Iterator[threading.Event]:
    """Ctrl-C cancels (:func:`~montage_ai.ui.cli.main.ctrl_c_cancels`); where no signal handler
    can be set (not the main thread, e.g. some embedded consoles) a plain event."""
    from montage_ai.ui.cli.main import ctrl_c_cancels

    with ExitStack() as stack:
        try:
            event = stack.enter_context(ctrl_c_cancels())
        except ValueError:
            event = threading.Event()
        yield event


def add_commands(sub: argparse._SubParsersAction) -> None:
    from montage_ai.ui.cli.main import add_cut_options, add_work_options

    r = sub.add_parser("resolve", help="DaVinci Resolve: list the media pool, cut a bin and push the timeline")
    r.add_argument("--host", default=None, help="Resolve on another machine (its Preferences: External scripting "
                                                 "using: Network); default: this machine")
    r.add_argument("--timeout", type=float, default=10.0, metavar="S", help="longest wait for Resolve to answer")
    r.add_argument("--bridge-file", default=None, metavar="PATH", help=argparse.SUPPRESS)
    rsub = r.add_subparsers(dest="resolve_command", required=True)
    st = rsub.add_parser("status", help="which route reaches Resolve, its version, and why other routes fail")
    st.set_defaults(func=cmd_resolve_status)
    ls = rsub.add_parser("list", help="the media pool as a tree of bins and clips, and the project's format")
    ls.add_argument("--json", action="store_true", help="print it as JSON")
    ls.set_defaults(func=cmd_resolve_list)

    c = rsub.add_parser("cut", help="analyse a bin's clips, cut them to the music and push a new timeline")
    c.add_argument("--bin", metavar="NAME", help="bin name or path (Master/Day 1); default: the selected clips, "
                                                  "else the current bin")
    c.add_argument("--music", required=True, metavar="CLIP_OR_FILE", help="a clip name in the media pool or an audio file")
    add_cut_options(c)
    c.add_argument("--name", default=None, help="timeline name (a number is added when it is taken)")
    c.add_argument("--proxy-dir", metavar="DIR", help="also link proxies found here by file name stem (A001.mov -> A001.*); "
                        "proxies made by `montage-ai proxies` are linked without it")
    c.add_argument("--otio", metavar="CUT.otio", help="also write the OpenTimelineIO timeline")
    c.add_argument("--file-route", action="store_true", help="write FCP7 XML and FCPXML to import by hand, even when "
                                                            "a live route into Resolve exists")
    c.add_argument("--footage", nargs="+", metavar="FILE_OR_FOLDER", help="clips to cut when no live route can "
                                                                           "read the media pool (file route)")
    c.add_argument("--out-dir", metavar="DIR", help="where the file route writes (default: the footage's folder)")
    add_work_options(c)
    c.set_defaults(func=cmd_resolve_cut)
    from montage_ai.ui.cli.resolve_log import add_log_commands

    add_log_commands(rsub)

    i = sub.add_parser("install-resolve", help="add Montage AI to Resolve's Workspace > Scripts menu")
    i.add_argument("--uninstall", action="store_true", help="remove what an earlier install added, nothing else")
    i.add_argument("--all-users", action="store_true", help="install for every user (needs administrator rights)")
    i.add_argument("--python", default=None, help="the interpreter of Montage AI's environment (default: this one)")
    i.add_argument("--mode", choices=("auto", "process"), default="auto",
                   help="process: always open the panel as a separate process (default: inside Resolve when possible)")
    i.add_argument("--bridge-folder", action="append", default=[], metavar="FOLDER",
                   help="the bridges take only files in this folder (through symlinks); repeat for each of the "
                        "project's folders (default: any folder; $MONTAGE_AI_BRIDGE_FOLDERS overrides it)")
    i.set_defaults(func=cmd_install_resolve)


def _route(args: argparse.Namespace):
    from montage_ai.resolve_plugin.routes import select_route

    return select_route(host=args.host, timeout_s=args.timeout, bridge_file=getattr(args, "bridge_file", None))


def live_client(args: argparse.Namespace):
    """The client of a live route into Resolve (the route is printed), else a clear error."""
    result = _route(args)
    if not result.live:
        raise MontageError("no live route into DaVinci Resolve:\n  " + "\n  ".join(result.lines()))
    print(f"route: {result.route} ({result.product.name} {result.product.version})" if result.product
          else f"route: {result.route}", file=sys.stderr)
    return result.client


def cmd_resolve_status(args: argparse.Namespace) -> int:
    result = _route(args)
    for line in result.lines():
        print(line)
    close = getattr(result.client, "close", None)
    if close is not None:
        close()
    return 0 if result.live else 1


def cmd_resolve_list(args: argparse.Namespace) -> int:
    from montage_ai.resolve_plugin.pool import read_pool, read_project

    client = live_client(args)
    product, project, tree = client.product(), read_project(client), read_pool(client)
    if args.json:
        def clip_dict(c):
            return {"id": c.id, "name": c.name, "file_path": c.file_path, "type": c.type, "rate": format_rate(c.rate),
                    "frames": c.frames, "width": c.width, "height": c.height, "start_tc": c.start_tc}

        def bin_dict(b):
            return {"name": b.name, "path": "/".join(b.path), "clips": [clip_dict(c) for c in b.clips],
                    "bins": [bin_dict(s) for s in b.bins]}

        print(json.dumps({"product": product.name, "version": product.version, "project": project.name,
                          "rate": format_rate(project.rate), "drop_frame": project.drop_frame,
                          "width": project.width, "height": project.height, "pool": bin_dict(tree.root),
                          "skipped": [{"name": s.name, "bin": "/".join(s.bin_path), "type": s.type, "reason": s.reason}
                                      for s in tree.skipped]}, indent=2, ensure_ascii=False))
        return 0
    print(f"{product.name} {product.version}: project {project.name!r}, timelines at {format_rate(project.rate)} fps"
          f"{' drop frame' if project.drop_frame else ''}, {project.width}x{project.height}")
    for b in tree.root.walk():
        depth = len(b.path) - 1
        print(f"{'  ' * depth}{b.name}/")
        for c in b.clips:
            size = f"{c.width}x{c.height}" if c.width else "audio"
            print(f"{'  ' * (depth + 1)}{c.name}  {format_rate(c.rate)} fps, {c.frames} frames, {size}, "
                  f"TC {c.start_tc or '-'}  {c.file_path}")
    for s in tree.skipped:
        print(f"skipped: {'/'.join(s.bin_path)}/{s.name}: {s.reason}", file=sys.stderr)
    return 0


def _music(tree, value: str) -> str:
    if os.path.isfile(value):
        return os.path.abspath(value)
    named = tree.clips_named(value)
    if len(named) == 1:
        return named[0].file_path
    if named:
        raise MontageError(f"{len(named)} clips in the media pool are called {value!r}: "
                           + ", ".join(c.file_path for c in named) + "; give the file path")
    raise MontageError(f"--music {value}: neither a file nor a clip in the media pool")


def cmd_resolve_cut(args: argparse.Namespace) -> int:
    from montage_ai.core.workflows import ExportJob, PushJob, check_free, run_export, run_push, run_rough_cut
    from montage_ai.resolve_plugin.pool import read_clips, read_pool
    from montage_ai.ui.cli.main import StageBars, print_summary

    result = None if args.file_route else _route(args)
    if result is None or not result.live:
        return _cut_to_files(args, result)
    client = result.client
    print(f"route: {result.route}" + (f" ({result.product.name} {result.product.version})" if result.product else ""),
          file=sys.stderr)
    tree = read_pool(client)
    clips, source = read_clips(client, tree, args.bin)
    music = _music(tree, args.music)
    footage = [c.file_path for c in clips
               if c.has_video and (c.frames or 0) > 1 and os.path.abspath(c.file_path) != music]
    if not footage:
        raise MontageError(f"no video clips with files in the {source}")
    print(f"Cutting {len(footage)} clip{'' if len(footage) == 1 else 's'} from the {source} to "
          f"{os.path.basename(music)} …", file=sys.stderr)
    job = _job(args)
    check_free([args.otio], args.force)
    push = PushJob(name=job.cut.name, proxy_dir=args.proxy_dir)
    bars = StageBars()
    with _cancel_event() as cancel_event:
        try:
            result = run_rough_cut(footage, music, job, progress=bars, cancel=cancel_event.is_set)
            if args.otio:
                run_export(result.timeline, args.otio, ExportJob(formats=("otio",), overwrite=args.force),
                           paths={"otio": args.otio})
            report = run_push(client, result, push, progress=bars, cancel=cancel_event.is_set)
        finally:
            bars.close()
    print_summary(result)
    print(f"pushed timeline {report.timeline_name!r} ({report.route}): {report.items_placed} items, "
          f"{report.markers_added} markers" + (f", imported {len(report.imported)} files" if report.imported else "")
          + (f", {len(report.proxies_linked)} proxies linked" if report.proxies_linked else ""))
    for note in report.notes:
        print(f"  note: {note}")
    if args.otio:
        print(f"wrote {args.otio}")
    if report.mismatches:
        print(f"the timeline differs from the cut in {len(report.mismatches)} places "
              "(left in the project for inspection):", file=sys.stderr)
        for line in report.mismatches[:20]:
            print(f"  {line}", file=sys.stderr)
        return 2
    return 0


def _job(args: argparse.Namespace):
    """The rough-cut job of ``resolve cut``: the cut options every front end offers, and where
    it runs. Inside Resolve (its Console) ``sys.executable`` is Resolve itself, so a process
    pool would start or fork Resolve: the analysis runs in this process there (a
    ``--scheduler`` still sends it to the cluster)."""
    from montage_ai.core.workflows import RoughCutJob
    from montage_ai.resolve_plugin.connect import injected_resolve
    from montage_ai.ui.cli.main import cut_options, work_from_args

    return RoughCutJob(cut_options(args, args.name or f"Montage AI {args.style}"),
                       work_from_args(args, inline=injected_resolve() is not None))


def _footage_files(values: list[str]) -> list[str]:
    """The file route's clips; each media file passed over is said once (folders passed over
    are said by the walk's own warning, as in ``cut``)."""
    from montage_ai.core.base import stages
    from montage_ai.core.base.types import Failure
    from montage_ai.resolve_plugin.file_route import footage_files
    from montage_ai.ui.cli.main import print_failures

    listing = footage_files(values)
    print_failures([Failure(path, stages.FOOTAGE, reason) for path, reason in listing.files], "skipped: ")
    return list(listing.clips)


def _cut_to_files(args: argparse.Namespace, result) -> int:
    """The file route: cut ``--footage`` to ``--music`` and write FCP7 XML + FCPXML."""
    from montage_ai.core.workflows import run_rough_cut
    from montage_ai.resolve_plugin.file_route import write_file_route
    from montage_ai.ui.cli.main import StageBars, print_summary

    if result is not None:
        print("no live route into DaVinci Resolve:", file=sys.stderr)
        for line in result.lines():
            print(f"  {line}", file=sys.stderr)
    if not args.footage:
        raise MontageError("the file route needs the clips: give --footage FILES_OR_FOLDERS (no live route can read "
                           "Resolve's media pool)")
    if not os.path.isfile(args.music):
        raise MontageError(f"--music {args.music}: the file route needs an audio file")
    music = os.path.abspath(args.music)
    footage = [f for f in _footage_files(args.footage) if f != music]
    if not footage:
        raise MontageError("no video clips in --footage")
    job = _job(args)
    bars = StageBars()
    with _cancel_event() as cancel_event:
        try:
            cut = run_rough_cut(footage, music, job, progress=bars, cancel=cancel_event.is_set)
        finally:
            bars.close()
    print_summary(cut)
    written = write_file_route(cut.timeline, args.out_dir or os.path.dirname(footage[0]), name=job.cut.name)
    print(f"wrote {written.xml}\nwrote {written.fcpxml}\n\nTo bring timeline {written.timeline_name!r} into "
          "DaVinci Resolve:")
    print(written.text())
    for line in written.left_out:
        print(f"error: {line}", file=sys.stderr)
    return 3 if written.left_out else 0  # 3: a file is without a clip (as `cut` and `export`)


def cmd_install_resolve(args: argparse.Namespace) -> int:
    from montage_ai.resolve_plugin.install import install, uninstall

    if args.uninstall:
        result = uninstall(all_users=args.all_users)
        for path in result.removed:
            print(f"removed {path}")
        for line in result.kept:
            print(f"kept {line}")
        return 0
    result = install(args.python, all_users=args.all_users, mode=args.mode, bridge_folders=args.bridge_folder)
    print(f"installed {result.launcher}")
    if args.bridge_folder:
        print("bridge paths restricted to: " + ", ".join(args.bridge_folder))
    for path in result.scripts:
        print(f"installed {path}")
    print(f"config    {result.config}")
    print("Restart DaVinci Resolve, open a project, then: Workspace > Scripts > Utility > Montage AI.\n"
          "Free edition: Workspace > Scripts > Utility > Montage AI Bridge (21.1 and later, which list only Lua "
          "scripts: Montage AI (Lua)), then use Montage AI as usual; `montage-ai resolve status` shows the route.")
    return 0
