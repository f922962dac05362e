"""``montage-ai export``: a timeline we wrote, in another format.

    montage-ai export cut.otio --to fcpxml|premiere|edl|otio|otioz [-o PATH] [--force]
        [--fcpxml-version 1.9|1.10|1.11] [--drop-frame] [--camera-audio] [--rate RATE]
"""

from __future__ import annotations

import argparse
import sys

from montage_ai.otio_adapters.edit import set_timeline_options
from montage_ai.otio_adapters.export import FORMATS, export_path, export_timeline, read_timeline
from montage_ai.otio_adapters.fcpxml import DEFAULT_VERSION, REFUSED_BY


def add_commands(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("export", help="write a timeline as FCPXML, Premiere XML, EDL, OTIO or OTIOZ",
                       description="Formats: " + "; ".join(f"{f.name} ({f.suffix}): {f.description}"
                                                          for f in FORMATS.values()))
    e.add_argument("timeline", metavar="CUT", help="a timeline file we wrote (.otio, .fcpxml, .xml, .edl)")
    e.add_argument("--to", required=True, action="append", choices=list(FORMATS), metavar="FORMAT",
                   help=f"format to write ({', '.join(FORMATS)}); repeat for several")
    e.add_argument("-o", "--out", metavar="PATH", help="output file (one format) or base name (default: beside CUT)")
    e.add_argument("--fcpxml-version", default="1.9", choices=("1.9", "1.10", "1.11"),
                   help="FCPXML version (default 1.9: Resolve 18+ and Final Cut 10.5+ import it)")
    e.add_argument("--drop-frame", action="store_true",
                   help="drop-frame timecode (29.97 and 59.94 fps timelines; 01:00:00:00 becomes 01:00:00;00)")
    e.add_argument("--camera-audio", action="store_true",
                   help="carry the clips' own sound, linked to their video (default: off, the music only)")
    e.add_argument("--rate", metavar="RATE",
                   help="frame rate of an EDL that does not say it (e.g. 24000/1001 or 25)")
    e.add_argument("--force", action="store_true", help="replace output files that exist")
    e.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    try:
        read_args = {"rate": args.rate} if args.rate and str(args.timeline).lower().endswith(".edl") else {}
        timeline = read_timeline(args.timeline, **read_args)
        set_timeline_options(timeline, drop_frame=True if args.drop_frame else None,
                             camera_audio=True if args.camera_audio else None)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    base = args.out or args.timeline
    formats = list(dict.fromkeys(args.to))
    failed = 0
    for fmt in formats:
        path = args.out if args.out and len(formats) == 1 else export_path(base, fmt)
        if str(path) == str(args.timeline):
            print(f"error: {path} is the timeline being read; choose another -o", file=sys.stderr)
            failed += 1
            continue
        extra = {"version": args.fcpxml_version} if fmt == "fcpxml" else {}
        try:
            export_timeline(timeline, path, fmt, overwrite=args.force, **extra)
        except (ValueError, FileExistsError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        described = FORMATS[fmt].description
        if fmt == "fcpxml":
            described = described.replace(DEFAULT_VERSION, args.fcpxml_version, 1)
            refused = REFUSED_BY.get(args.fcpxml_version)
            if refused:
                print(f"warning: {path}: FCPXML {args.fcpxml_version} is refused by {refused}; "
                      f"FCPXML {DEFAULT_VERSION} imports everywhere", file=sys.stderr)
        print(f"wrote {path} ({described})")
    return 1 if failed else 0
