"""``montage-ai export``: a timeline we wrote, in another format.

    montage-ai export cut.otio --to fcpxml|premiere|edl|otio|otioz [-o PATH] [--force]
        [--fcpxml-version 1.9|1.10|1.11] [--drop-frame] [--camera-audio] [--rate RATE]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from montage_ai.otio_adapters.edit import DROP_FRAME_RATES_TEXT
from montage_ai.otio_adapters.export import FCPXML_DEFAULT_VERSION, FCPXML_VERSIONS, FORMATS
from montage_ai.otio_adapters.fcpxml import REFUSED_BY


def add_commands(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("export", help="write a timeline as FCPXML, Premiere XML, EDL, OTIO or OTIOZ",
                       description="Formats: " + "; ".join(f"{f.name} ({f.suffix}): {f.description}"
                                                          for f in FORMATS.values()))
    e.add_argument("timeline", metavar="CUT", help="a timeline file we wrote (.otio, .fcpxml, .xml, .edl)")
    e.add_argument("--to", required=True, action="append", choices=list(FORMATS), metavar="FORMAT",
                   help=f"format to write ({', '.join(FORMATS)}); repeat for several")
    e.add_argument("-o", "--out", metavar="PATH", help="output file (one format) or base name (default: beside CUT)")
    e.add_argument("--fcpxml-version", default=FCPXML_DEFAULT_VERSION, choices=FCPXML_VERSIONS,
                   help=f"FCPXML version (default {FCPXML_DEFAULT_VERSION}: Resolve 18+ and Final Cut 10.5+ import it)")
    e.add_argument("--drop-frame", action="store_true",
                   help=f"drop-frame timecode ({DROP_FRAME_RATES_TEXT} fps timelines; 01:00:00:00 becomes 01:00:00;00)")
    e.add_argument("--camera-audio", action="store_true",
                   help="carry the clips' own sound, linked to their video (default: off, the music only)")
    e.add_argument("--rate", metavar="RATE",
                   help="frame rate of an EDL that does not say it (e.g. 24000/1001 or 25)")
    e.add_argument("--force", action="store_true", help="replace output files that exist")
    e.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from montage_ai.core.workflows import ExportJob, MontageError, export_targets, read_timeline, run_export

    try:
        timeline = read_timeline(args.timeline, rate=args.rate)
    except MontageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    formats = tuple(dict.fromkeys(args.to))
    job = ExportJob(formats=formats, overwrite=args.force, fcpxml_version=args.fcpxml_version,
                    drop_frame=True if args.drop_frame else None, camera_audio=True if args.camera_audio else None)
    targets = export_targets(args.out or args.timeline, job)
    if args.out and len(formats) == 1:
        targets = {formats[0]: args.out}
    failed = 0
    incomplete: list = []
    for fmt, path in targets.items():
        if str(path) == str(args.timeline):
            print(f"error: {path} is the timeline being read; choose another -o", file=sys.stderr)
            failed += 1
            continue
        try:
            result = run_export(timeline, path, replace(job, formats=(fmt,)), paths={fmt: path})
        except (MontageError, FileExistsError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        for failure in result.failures + result.incomplete:
            print(f"error: {failure}", file=sys.stderr)
        failed += len(result.failures)
        incomplete += result.incomplete
        if fmt in result.written:
            described = FORMATS[fmt].description
            if fmt == "fcpxml":
                described = described.replace(FCPXML_DEFAULT_VERSION, args.fcpxml_version, 1)
                refused = REFUSED_BY.get(args.fcpxml_version)
                if refused:
                    print(f"warning: {path}: FCPXML {args.fcpxml_version} is refused by {refused}; "
                          f"FCPXML {FCPXML_DEFAULT_VERSION} imports everywhere", file=sys.stderr)
            print(f"wrote {path} ({described})")
    from montage_ai.ui.cli.main import EXIT_MISSING, incomplete_exit

    return EXIT_MISSING if failed else incomplete_exit(incomplete)
