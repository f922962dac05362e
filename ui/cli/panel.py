"""``montage-ai panel``: the PySide6 panel, standalone or connected to a running Resolve."""

from __future__ import annotations

import argparse
import sys


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("panel", help="open the Montage AI panel (Rough Cut, preview, send to Resolve, export)")
    p.add_argument("--resolve", action="store_true",
                   help="connect to the running DaVinci Resolve (the Scripts menu launcher passes this)")
    p.set_defaults(func=cmd_panel)


def cmd_panel(args: argparse.Namespace) -> int:
    try:
        from montage_ai.ui.qt.panel import run_panel
    except ImportError as exc:
        print(f"error: the panel needs PySide6 ({exc}); install it with: pip install 'montage-ai[ui]'", file=sys.stderr)
        return 1
    route = None
    if args.resolve:
        from montage_ai.ui.qt.resolve_panel import connect_for_panel

        route = connect_for_panel()
    return run_panel(resolve=route.client if route else None, route=route)
