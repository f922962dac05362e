"""The ``montage-ai`` command line: a thin layer over the library.

    montage-ai probe FILE [--json]
    montage-ai analyze PATH... [--json OUT] [--mode auto|full|fast] [--music FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from contextlib import contextmanager
from typing import Iterator, Sequence

from montage_ai.core.cache import AnalysisCache
from montage_ai.core.errors import Cancelled, MontageError
from montage_ai.core.executor import Progress, make_executor
from montage_ai.core.fileio import OutputExistsError, collect_media, write_atomic
from montage_ai.core.media import probe

log = logging.getLogger("montage_ai")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="montage-ai", description="The assistant editor's rough cut.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("probe", help="what ffprobe tells about a media file")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print the full record as JSON")
    p.set_defaults(func=cmd_probe)

    a = sub.add_parser("analyze", help="analyse footage (shots, motion, sharpness, best moments) and music")
    a.add_argument("paths", nargs="+", metavar="PATH", help="footage files or folders")
    a.add_argument("--json", metavar="OUT", help="write the analysis as JSON to OUT ('-' for stdout)")
    a.add_argument("--mode", choices=("auto", "full", "fast"), default="auto",
                   help="full decodes every frame; fast decodes keyframes and refines cuts (auto: fast for long files)")
    a.add_argument("--music", metavar="FILE", help="also analyse this music file (beats, downbeats, sections)")
    a.add_argument("--workers", type=int, default=None, help="files analysed at once (default: one per core)")
    a.add_argument("--cache-dir", default=None, help="analysis cache folder (default: the user cache folder)")
    a.add_argument("--no-cache", action="store_true", help="analyse again even if a cached result exists")
    a.add_argument("--force", action="store_true", help="replace OUT if it exists")
    a.set_defaults(func=cmd_analyze)

    d = sub.add_parser("demo", help="generate sample footage and music, analyse them, write the results")
    d.add_argument("--out", default="demo-out", help="output folder (default: demo-out)")
    d.add_argument("--workers", type=int, default=None, help="files analysed at once (default: one per core)")
    d.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except Cancelled:
        print("Cancelled.", file=sys.stderr)
        return 130
    except (MontageError, OutputExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def cmd_probe(args: argparse.Namespace) -> int:
    info = probe(args.file)
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
        return 0
    v = info.video
    print(f"{info.path}")
    print(f"  container   {info.format_name}, {info.duration_s:.3f} s, {info.size_bytes} bytes")
    if v is not None:
        rate = f"{v.rate.numerator}/{v.rate.denominator}" if v.rate.denominator != 1 else str(v.rate.numerator)
        print(f"  video       {v.codec} {v.width}x{v.height} {v.pix_fmt} ({v.bit_depth}-bit), {rate} fps, "
              f"{v.frame_count} frames{' (variable frame rate)' if v.vfr else ''}")
        if v.rotation:
            print(f"  rotation    {v.rotation}° clockwise for display ({v.display_width}x{v.display_height})")
    for a in info.audio:
        print(f"  audio #{a.index}    {a.codec} {a.channels} ch, {a.sample_rate} Hz")
    if info.start_timecode:
        print(f"  timecode    {info.start_timecode}")
    if info.creation_time:
        print(f"  created     {info.creation_time.isoformat()}")
    return 0


@contextmanager
def ctrl_c_cancels() -> Iterator[threading.Event]:
    """Ctrl-C sets an event the work polls, so running jobs stop cleanly."""
    event = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):  # noqa: ARG001 - signal handler signature
        if event.is_set():
            raise KeyboardInterrupt
        event.set()
        print("\nCancelling… (Ctrl-C again to abort)", file=sys.stderr)

    signal.signal(signal.SIGINT, handler)
    try:
        yield event
    finally:
        signal.signal(signal.SIGINT, previous)


class ProgressBar:
    """A tqdm bar over files whose position includes the running files' own fractions."""

    def __init__(self, total: int, desc: str) -> None:
        from tqdm import tqdm

        self._fractions: dict[str, float] = {}
        self._shown = 0.0
        self._bar = tqdm(total=total, desc=desc, unit="file", file=sys.stderr, dynamic_ncols=True,
                         bar_format="{l_bar}{bar}| {n:.1f}/{total} files [{elapsed}<{remaining}] {postfix}")

    def __call__(self, p: Progress) -> None:
        self._fractions[str(p.item)] = p.fraction
        now = time.monotonic()
        if now - self._shown < 0.2 and p.fraction < 1.0:
            return  # redraw at most five times a second
        self._shown = now
        self._bar.n = sum(self._fractions.values())
        self._bar.set_postfix_str(Path(str(p.item)).name[-40:], refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.n = sum(self._fractions.values())
        self._bar.close()


def cmd_analyze(args: argparse.Namespace) -> int:
    from montage_ai.core.jobs import analyze_files, analyze_music_cached, as_json

    files = collect_media(args.paths)
    if not files:
        print("error: no footage found in " + ", ".join(args.paths), file=sys.stderr)
        return 1
    cache = None if args.no_cache else AnalysisCache(args.cache_dir)
    executor = make_executor("local", max_workers=args.workers)
    with ctrl_c_cancels() as cancel_event:
        bar = ProgressBar(len(files), "Analysing footage")
        try:
            report = analyze_files(files, executor=executor, mode=args.mode, cache=cache,
                                   progress=bar, cancel=cancel_event.is_set)
        finally:
            bar.close()
        music = None
        if args.music:
            music = analyze_music_cached(args.music, cache=cache, cancel=cancel_event.is_set)

    for a in report.analyses:
        usable = sum(1 for s in a.shots if not s.black)
        print(f"{a.path}: {len(a.shots)} shots ({usable} usable), {a.media.video.frame_count} frames, mode {a.mode}")
    if music is not None:
        print(f"{music.path}: {music.tempo_bpm:.1f} bpm, {music.meter}/4, {len(music.beat_times_s)} beats, "
              f"{len(music.sections)} sections")
    for path, reason in report.failures:
        print(f"skipped: {reason}" if path in reason else f"skipped: {path}: {reason}", file=sys.stderr)

    if args.json:
        doc = as_json(report)
        if music is not None:
            doc["music"] = music.to_dict()
        text = json.dumps(doc, indent=2)
        if args.json == "-":
            print(text)
        else:
            write_atomic(args.json, text + "\n", overwrite=args.force)
            print(f"wrote {args.json}")
    return 0 if report.analyses or not report.failures else 2


def cmd_demo(args: argparse.Namespace) -> int:
    from montage_ai.core.demo import make_demo_media
    from montage_ai.core.jobs import analyze_files, analyze_music_cached, as_json

    out = Path(args.out)
    print(f"Generating a sample project (footage/, music/) in {out} …", file=sys.stderr)
    media = make_demo_media(out)
    cache = AnalysisCache(out / "cache")
    with ctrl_c_cancels() as cancel_event:
        bar = ProgressBar(len(media.footage), "Analysing footage")
        try:
            report = analyze_files(list(media.footage), executor=make_executor("local", args.workers), mode="full",
                                   cache=cache, progress=bar, cancel=cancel_event.is_set)
        finally:
            bar.close()
        music = analyze_music_cached(media.music, cache=cache, cancel=cancel_event.is_set)
    for a, truth in zip(report.analyses, media.footage_truth):
        found = [s.start_frame for s in a.shots[1:]]
        print(f"{Path(a.path).name}: {len(a.shots)} shots at frames {found} (generated: {list(truth.boundaries)})")
    print(f"{Path(music.path).name}: {music.tempo_bpm:.1f} bpm (generated: {media.music_truth.tempo_bpm:.0f}), "
          f"{len(music.beat_times_s)} beats, {len(music.sections)} sections")
    doc = as_json(report)
    doc["music"] = music.to_dict()
    path = write_atomic(out / "analysis.json", json.dumps(doc, indent=2) + "\n", overwrite=True)
    print(f"wrote {path} (thumbnails under {cache.root})")
    return 0 if not report.failures else 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
