"""The ``montage-ai`` command line: a thin layer over the library.

    montage-ai probe FILE [--json]
    montage-ai analyze PATH... [--json OUT] [--mode auto|full|fast] [--music FILE]
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from contextlib import contextmanager
from typing import Iterator, Sequence

from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.base.errors import Cancelled, MontageError
from montage_ai.core.run.executor import Executor, Progress, make_executor
from montage_ai.core.base.fileio import OutputExistsError, collect_media, write_atomic
from montage_ai.core.media.probe import probe
from montage_ai.ui.cli.doctor import add_ollama_options

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
    add_work_options(a)
    a.set_defaults(func=cmd_analyze)

    c = sub.add_parser("cut", help="cut footage to music: analyse, plan the story, assemble on the beat, write the timeline")
    c.add_argument("--media", nargs="+", required=True, metavar="DIR|FILE", help="footage folders or files")
    c.add_argument("--music", required=True, metavar="SONG", help="the music track (any audio or video file)")
    c.add_argument("--style", default="dynamic", help="editing style (see `montage-ai styles`; default dynamic)")
    c.add_argument("--duration", type=float, default=None, metavar="S",
                   help="length in seconds (ends on the nearest bar, music faded); default: the whole song")
    c.add_argument("--fps", type=rate_arg, default=None, metavar="RATE", help="timeline rate, e.g. 24000/1001 or 25 (default: most common source rate)")
    c.add_argument("--seed", type=int, default=0, help="variation; another seed re-rolls the cut")
    c.add_argument("--brief", default="", metavar="TEXT", help="what the story is about (used by the LLM planner)")
    c.add_argument("-o", "--out", required=True, metavar="CUT.otio", help="the OpenTimelineIO timeline to write; the same cut is written beside it as "
                        "CUT.fcpxml (Resolve, Final Cut), CUT.xml (Premiere) and CUT.edl")
    c.add_argument("--bundle", action="store_true",
                   help="also write CUT.otioz: the timeline with copies of its media in one zip (large)")
    c.add_argument("--preview", metavar="CUT.mp4", help="also render a preview MP4 with the music")
    c.add_argument("--preview-height", type=int, default=720, help="preview height in pixels (default 720)")
    c.add_argument("--mode", choices=("auto", "full", "fast"), default="auto", help="analysis mode")
    c.add_argument("--planner", choices=("auto", "ollama", "rules"), default="auto",
                   help="story planner: a local LLM through Ollama, the deterministic rules, or auto "
                        "(Ollama when it answers and has the model; default)")
    add_ollama_options(c)
    add_work_options(c)
    c.set_defaults(func=cmd_cut)

    st = sub.add_parser("styles", help="list the editing styles (built-in and your own)")
    st.set_defaults(func=cmd_styles)

    d = sub.add_parser("demo", help="generate a sample project, cut it, write the timeline and a preview")
    d.add_argument("--out", default="demo-out", help="output folder (default: demo-out)")
    d.add_argument("--workers", type=int, default=None, help="files analysed at once (default: one per core)")
    d.add_argument("--style", default="dynamic", help="editing style (default dynamic)")
    d.add_argument("--seed", type=int, default=0, help="variation; another seed re-rolls the cut")
    d.set_defaults(func=cmd_demo)

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


#: Modules that add their own sub-commands: each has ``add_commands(subparsers)`` which
#: calls ``subparsers.add_parser(...)`` and ``set_defaults(func=...)`` for its commands.
COMMAND_MODULES: tuple[str, ...] = (
    "montage_ai.ui.cli.export", "montage_ai.ui.cli.doctor", "montage_ai.ui.cli.panel", "montage_ai.ui.cli.resolve",
    "montage_ai.ui.cli.proxies", "montage_ai.ui.cli.selects",
)


def rate_arg(text: str):
    """``--fps`` as an exact rate (argparse reports a bad one with the option's name)."""
    from montage_ai.core.base.timebase import parse_rate

    try:
        return parse_rate(text)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_work_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that analyses and writes files shares."""
    parser.add_argument("--workers", type=int, default=None, help="files analysed at once (default: one per core)")
    parser.add_argument("--cache-dir", default=None, help="analysis cache folder (default: the user cache folder)")
    parser.add_argument("--no-cache", action="store_true", help="analyse again even if a cached result exists")
    parser.add_argument("--force", action="store_true", help="replace output files that exist")
    add_cluster_options(parser)


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """Where jobs run: this machine, or a Dask cluster (``--scheduler``) with path mapping."""
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:8786",
                        help="run the jobs on this Dask scheduler's workers (default: $MONTAGE_AI_DASK_SCHEDULER, "
                             "else this machine); needs the dask extra")
    parser.add_argument("--path-map", action="append", default=None, metavar="EDITOR=WORKER",
                        help="the shared storage's prefix here and on the workers, e.g. /Volumes/media=/mnt/media "
                             "(repeatable; default: $MONTAGE_AI_PATH_MAP, pairs separated by ';')")


def executor_from_args(args: argparse.Namespace, workers: int | None = None) -> Executor:
    """A Dask executor when a scheduler is named (option or environment), else the local pool."""
    scheduler = getattr(args, "scheduler", None) or os.environ.get("MONTAGE_AI_DASK_SCHEDULER")
    if scheduler:
        from montage_ai.core.run.dask_executor import PathMap

        spec = getattr(args, "path_map", None)
        return make_executor("dask", scheduler=scheduler, path_map=PathMap.parse(spec) if spec else None)
    return make_executor("local", max_workers=workers if workers is not None else getattr(args, "workers", None))


@contextmanager
def closing_executor(executor: Executor) -> Iterator[Executor]:
    """Closes a cluster client when the command is done (local executors have nothing to close)."""
    try:
        yield executor
    finally:
        close = getattr(executor, "close", None)
        if close is not None:
            close()


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
    except KeyboardInterrupt:  # the second Ctrl-C, or one outside the cancellable work
        print("\nInterrupted.", file=sys.stderr)
        return 130
    except OSError as exc:  # a read-only or full disk, a folder where a file should be: one line
        from montage_ai.core.base.fileio import display_name

        name = exc.filename if exc.filename is not None else ""
        where = f"{display_name(os.fsdecode(name))}: " if name else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
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
    from montage_ai.core.run.jobs import analyze_files, analyze_music_cached, as_json

    files = collect_media(args.paths)
    if not files:
        print("error: no footage found in " + ", ".join(args.paths), file=sys.stderr)
        return 1
    cache = None if args.no_cache else AnalysisCache(args.cache_dir)
    with closing_executor(executor_from_args(args)) as executor, ctrl_c_cancels() as cancel_event:
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
    from montage_ai.core.samples.demo import make_demo_media
    from montage_ai.core.cut.roughcut import RoughCutOptions

    out = Path(args.out)
    marker = out / ".montage-ai-demo"
    if out.exists() and any(out.iterdir()) and not marker.exists():
        print(f"error: {out} already holds files that the demo did not make; choose another --out", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    marker.touch()
    print(f"Generating a sample project (footage/, music/) in {out} …", file=sys.stderr)
    media = make_demo_media(out)
    # The demo folder is ours (marked): its outputs are replaced on every run.
    code = run_cut([str(out / "footage")], media.music, out / "cut.otio",
                   RoughCutOptions(style=args.style, seed=args.seed, name="Montage AI demo"),
                   preview=out / "cut_preview.mp4", preview_height=360, workers=args.workers,
                   cache=AnalysisCache(out / "cache"), force=True, bundle=True)
    print(f"Open {out / 'cut_preview.mp4'} to watch the cut. Import {out / 'cut.fcpxml'} (Resolve, Final Cut), "
          f"{out / 'cut.xml'} (Premiere, Resolve) or {out / 'cut.edl'}; {out / 'cut.otio'} opens in any OTIO tool.")
    return code


class StageBars:
    """One progress bar per stage of a long job, opened when the stage starts."""

    LABELS = {"footage": "Analysing footage", "music": "Analysing music", "duplicates": "Comparing shots",
              "report": "Writing the report", "plan": "Planning the story",
              "assemble": "Cutting on the beat", "timeline": "Building the timeline", "preview": "Rendering preview"}

    def __init__(self) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._bars: dict[str, object] = {}
        self._shown = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        bar = self._bars.get(stage)
        if bar is None:
            for other in self._bars.values():
                other.close()
            bar = self._bars[stage] = self._tqdm(total=100, desc=self.LABELS.get(stage, stage), file=sys.stderr,
                                                 bar_format="{l_bar}{bar}| [{elapsed}<{remaining}]", dynamic_ncols=True)
        now = time.monotonic()
        if fraction < 1.0 and now - self._shown < 0.2:
            return
        self._shown = now
        bar.n = round(100 * min(max(fraction, 0.0), 1.0), 1)
        bar.refresh()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


def print_summary(result) -> None:
    cl = result.cut_list
    seconds = float(cl.duration / cl.rate)
    files = {c.source_path for c in cl.cuts}
    shots = {(c.source_path, c.shot_index) for c in cl.cuts}
    available = sum(1 for a in result.analyses for s in a.shots if not s.black)
    print(f"{cl.name}: {len(cl.cuts)} cuts, {seconds:.2f} s at {cl.rate.numerator}/{cl.rate.denominator} fps "
          f"({cl.duration} frames), style {result.style.name}, seed {cl.seed}")
    print(f"  shots used {len(shots)} of {available} usable, from {len(files)} of {len(result.analyses)} clips; "
          f"music {result.music.tempo_bpm:.1f} bpm, planner {result.plan.planner}")
    print(f"  {'phase':8s} {'from':>8s} {'to':>8s} {'cuts':>5s} {'mean cut':>9s}  clips")
    for phase in ("intro", "build", "climax", "outro"):
        cuts = [c for c in cl.cuts if c.phase == phase]
        if not cuts:
            continue
        start, end = cuts[0].record_in, cuts[-1].record_out
        mean = sum(c.record_frames for c in cuts) / len(cuts) / float(cl.rate)
        names = sorted({Path(c.source_path).name for c in cuts})
        print(f"  {phase:8s} {float(start / cl.rate):7.2f}s {float(end / cl.rate):7.2f}s {len(cuts):5d} {mean:8.2f}s  "
              + ", ".join(names[:4]) + (" …" if len(names) > 4 else ""))
    for note in cl.metadata.get("notes", ()):
        print(f"  note: {note}")
    for path, reason in result.failures:
        print(f"  skipped: {reason}" if path in reason else f"  skipped: {path}: {reason}", file=sys.stderr)


def run_cut(media: list[str], music: str, out: Path, options, *, preview: Path | None, preview_height: int,
            workers: int | None, cache: AnalysisCache | None, force: bool, bundle: bool = False,
            executor: Executor | None = None) -> int:
    from montage_ai.core.render.preview import render_preview
    from montage_ai.core.cut.roughcut import make_rough_cut
    from montage_ai.otio_adapters.edit import InterchangeError
    from montage_ai.otio_adapters.export import DEFAULT_FORMATS, export_path, export_timeline

    formats = DEFAULT_FORMATS + (("otioz",) if bundle else ())
    exports = [export_path(out, fmt) for fmt in formats]
    for target in exports + ([preview] if preview else []):
        if target.exists() and not force:
            raise OutputExistsError(target)
    bars = StageBars()
    with closing_executor(executor or make_executor("local", workers)) as executor, ctrl_c_cancels() as cancel_event:
        try:
            result = make_rough_cut(media, music, options, cache=cache, executor=executor,
                                    progress=bars, cancel=cancel_event.is_set)
            written, missing = [], []
            for fmt, path in zip(formats, exports):
                try:
                    written.append(export_timeline(result.timeline, path, fmt, overwrite=force))
                except InterchangeError as exc:  # a format that cannot carry this cut: the others still do
                    missing.append(path)
                    print(f"error: {path}: not written: {exc}", file=sys.stderr)
            if preview:
                render_preview(result.timeline, preview, size=_preview_size(result, preview_height),
                               progress=lambda f: bars("preview", f), cancel=cancel_event.is_set, overwrite=force,
                               media={a.path: a.media for a in result.analyses})
        finally:
            bars.close()
    print_summary(result)
    print("wrote " + ", ".join(str(p) for p in written))
    if preview:
        print(f"wrote {preview}")
    if missing:  # the exit code says a file the editor expects is not there
        print(f"error: {len(missing)} of {len(exports)} timeline files not written: "
              + ", ".join(str(p) for p in missing), file=sys.stderr)
        return 1
    return 0


def _preview_size(result, height: int) -> tuple[int, int]:
    cl = result.cut_list
    width = int(round(cl.width * height / cl.height / 2)) * 2 if cl.height else int(height * 16 / 9)
    return (width, height)


def cmd_cut(args: argparse.Namespace) -> int:
    from montage_ai.core.cut.roughcut import RoughCutOptions

    options = RoughCutOptions(style=args.style, duration_s=args.duration, rate=args.fps, seed=args.seed,
                              brief=args.brief, mode=args.mode, name=Path(args.out).stem, planner=args.planner,
                              ollama_host=args.ollama_host, model=args.model, vision_model=args.vision_model)
    return run_cut(args.media, args.music, Path(args.out), options,
                   preview=Path(args.preview) if args.preview else None, preview_height=args.preview_height,
                   workers=args.workers, cache=None if args.no_cache else AnalysisCache(args.cache_dir),
                   force=args.force, bundle=args.bundle, executor=executor_from_args(args))


def cmd_styles(args: argparse.Namespace) -> int:
    from montage_ai.core.plan.styles import available_styles

    for style in sorted(available_styles(strict=False), key=lambda s: s.name):
        print(f"{style.name:12s} {style.description}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
