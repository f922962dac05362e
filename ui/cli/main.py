"""The ``montage-ai`` command line: a thin layer over :mod:`montage_ai.core.workflows`.

    montage-ai probe FILE [--json]
    montage-ai analyze PATH... [--json OUT] [--mode auto|full|fast] [--music FILE]
    montage-ai cut --media DIR|FILE... --music SONG -o CUT.otio [--style S] [--duration S] [--fps RATE]
        [--seed N] [--brief TEXT] [--planner auto|ollama|rules] [--preview CUT.mp4] [--bundle]
    montage-ai styles
    montage-ai demo [--out DIR]
    montage-ai export CUT --to FORMAT ...             (ui/cli/export.py)
    montage-ai selects PATH... -o SELECTS.otio        (ui/cli/selects.py)
    montage-ai report PATH... -o REPORT.html          (ui/cli/selects.py)
    montage-ai proxies PATH... / encoders              (ui/cli/proxies.py)
    montage-ai resolve status|list|cut|log|unlog      (ui/cli/resolve.py, ui/cli/resolve_log.py)
    montage-ai install-resolve                        (ui/cli/resolve.py)
    montage-ai doctor                                 (ui/cli/doctor.py)
    montage-ai panel [--resolve]                      (ui/cli/panel.py)

Every command that analyses or writes takes the same work options (``--workers``,
``--cache-dir``, ``--no-cache``, ``--force``, ``--scheduler``, ``--path-map``), and ``cut`` and
``resolve cut`` the same cut options (:func:`add_cut_options`), with the defaults of
:mod:`montage_ai.core.defaults`.
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
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from montage_ai.core import defaults
from montage_ai.core.base import stages
from montage_ai.core.base.errors import Cancelled, MontageError
from montage_ai.core.base.fileio import OutputExistsError, display_name, write_atomic
from montage_ai.core.base.timebase import format_rate
from montage_ai.core.base.types import Failure
from montage_ai.core.media.probe import probe
from montage_ai.ui.cli.beats import add_grid_options
from montage_ai.ui.cli.doctor import add_ollama_options

if TYPE_CHECKING:  # the engine is imported when a command runs, not when the CLI starts
    from montage_ai.core.run.executor import Progress
    from montage_ai.core.workflows import RoughCutOptions, WorkOptions

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
    a.add_argument("paths", nargs="*", metavar="PATH",
                   help="footage files or folders; a song (audio file) alone is analysed as music")
    a.add_argument("--json", metavar="OUT", help="write the analysis as JSON to OUT ('-' for stdout)")
    a.add_argument("--mode", choices=defaults.MODES, default=defaults.MODE,
                   help="auto and full decode every frame (the only mode with quality flags on every frame); fast decodes "
                        "keyframes and refines cuts, for a first look at long static takes with short GOPs: on most "
                        "footage it is slower than full")
    a.add_argument("--music", metavar="FILE", help="also analyse this music file (beats, downbeats, sections)")
    add_work_options(a)
    a.set_defaults(func=cmd_analyze)

    c = sub.add_parser("cut", help="cut footage to music: analyse, plan the story, assemble on the beat, write the timeline")
    c.add_argument("--media", nargs="+", required=True, metavar="DIR|FILE", help="footage folders or files")
    c.add_argument("--music", required=True, metavar="SONG", help="the music track (any audio or video file)")
    add_cut_options(c)
    c.add_argument("-o", "--out", required=True, metavar="CUT.otio", help="the OpenTimelineIO timeline to write; the same cut is written beside it as "
                        "CUT.fcpxml (Resolve, Final Cut), CUT.xml (Premiere) and CUT.edl")
    c.add_argument("--bundle", action="store_true",
                   help="also write CUT.otioz: the timeline with copies of its media in one zip (large)")
    c.add_argument("--preview", metavar="CUT.mp4", help="also render a preview MP4 with the music")
    c.add_argument("--preview-height", type=int, default=defaults.PREVIEW_HEIGHT,
                   help=f"preview height in pixels (default {defaults.PREVIEW_HEIGHT})")
    add_work_options(c)
    add_grid_options(c, keep=True)
    c.set_defaults(func=cmd_cut)

    st = sub.add_parser("styles", help="list the editing styles (built-in and your own)")
    st.set_defaults(func=cmd_styles)

    d = sub.add_parser("demo", help="generate a sample project, cut it, write the timeline and a preview")
    d.add_argument("--out", default="demo-out", help="output folder (default: demo-out)")
    d.add_argument("--workers", type=int, default=None, help="files analysed at once (default: one per core)")
    d.add_argument("--style", default=defaults.STYLE, help=f"editing style (default {defaults.STYLE})")
    d.add_argument("--seed", type=int, default=defaults.SEED, help="variation; another seed re-rolls the cut")
    d.set_defaults(func=cmd_demo)

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


#: Modules that add their own sub-commands: each has ``add_commands(subparsers)`` which
#: calls ``subparsers.add_parser(...)`` and ``set_defaults(func=...)`` for its commands.
COMMAND_MODULES: tuple[str, ...] = (
    "montage_ai.ui.cli.export", "montage_ai.ui.cli.doctor", "montage_ai.ui.cli.panel", "montage_ai.ui.cli.resolve",
    "montage_ai.ui.cli.proxies", "montage_ai.ui.cli.selects", "montage_ai.ui.cli.beats",
)


def rate_arg(text: str):
    """``--fps`` as an exact rate (argparse reports a bad one with the option's name)."""
    from montage_ai.core.base.timebase import parse_rate

    try:
        return parse_rate(text)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def size_arg(text: str) -> tuple[int, int]:
    """``--size`` as ``(width, height)``: ``1920x1080``, both positive."""
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) <= 0 or int(h) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a frame size (write it as 1920x1080)")
    return int(w), int(h)


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


def add_cut_options(parser: argparse.ArgumentParser) -> None:
    """The editor's choices for a rough cut: ``cut`` and ``resolve cut`` offer the same ones
    with the same defaults (:mod:`montage_ai.core.defaults`)."""
    parser.add_argument("--style", default=defaults.STYLE,
                        help=f"editing style (see `montage-ai styles`; default {defaults.STYLE})")
    parser.add_argument("--duration", type=float, default=None, metavar="S",
                        help="length in seconds (ends on a phrase or bar near it, music faded, or with the song "
                             "when that is within a bar); default: the whole song")
    parser.add_argument("--fps", type=rate_arg, default=defaults.RATE, metavar="RATE",
                        help="timeline rate, e.g. 24000/1001 or 25 (default: the rate of the footage with most "
                             "screen time)")
    parser.add_argument("--size", type=size_arg, default=None, metavar="WxH",
                        help="timeline frame size, e.g. 1920x1080 (default: the size of the footage with most "
                             "screen time)")
    parser.add_argument("--pattern", default=None, metavar="NAME",
                        help="cut pattern over the style: every_beat, double_time, every_bar, every_phrase, "
                             "energy_map, downbeats_only, build_drop, wedding (or your own <name>.toml)")
    parser.add_argument("--song-start", default=None, metavar="S|SECTION",
                        help="start the music here: seconds (42.5, 1:05) or a section label (snaps to a bar)")
    parser.add_argument("--song-end", default=None, metavar="S|SECTION",
                        help="end the music here: seconds or a section label (its end); default the song's end")
    parser.add_argument("--seed", type=int, default=defaults.SEED, help="variation; another seed re-rolls the cut")
    parser.add_argument("--brief", default="", metavar="TEXT", help="what the story is about (used by the LLM planner)")
    parser.add_argument("--mode", choices=defaults.MODES, default=defaults.MODE,
                        help="analysis mode: auto = full (every frame); fast only for long static takes (see analyze)")
    parser.add_argument("--planner", choices=defaults.PLANNERS, default=defaults.PLANNER,
                        help="story planner: a local LLM through Ollama, the deterministic rules, or auto "
                             f"(Ollama when it answers and has the model; default {defaults.PLANNER})")
    add_ollama_options(parser)


def cut_options(args: argparse.Namespace, name: str | None) -> "RoughCutOptions":
    """The rough-cut options of :func:`add_cut_options`, named ``name``."""
    from montage_ai.core.workflows import RoughCutOptions

    return RoughCutOptions(style=args.style, duration_s=args.duration, rate=args.fps, seed=args.seed,
                           brief=args.brief, mode=args.mode, name=name, planner=args.planner,
                           ollama_host=args.ollama_host, model=args.model, vision_model=args.vision_model,
                           size=args.size, pattern=args.pattern, song_start=args.song_start, song_end=args.song_end)


def work_from_args(args: argparse.Namespace, *, inline: bool = False) -> "WorkOptions":
    """Where the work runs, from :func:`add_work_options` / :func:`add_cluster_options`: a Dask
    cluster when a scheduler is named (option or ``$MONTAGE_AI_DASK_SCHEDULER``), else this
    machine (in this process with ``inline``)."""
    from montage_ai.core.workflows import WorkOptions

    return WorkOptions(workers=getattr(args, "workers", None), scheduler=getattr(args, "scheduler", None),
                       path_map=tuple(getattr(args, "path_map", None) or ()),
                       cache_dir=getattr(args, "cache_dir", None), use_cache=not getattr(args, "no_cache", False),
                       inline=inline)


def print_failures(failures: Sequence[Failure], prefix: str = "skipped: ") -> None:
    """Each failure on one line of stderr."""
    for failure in failures:
        print(f"{prefix}{failure}", file=sys.stderr)


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
        print(f"  video       {v.codec} {v.width}x{v.height} {v.pix_fmt} ({v.bit_depth}-bit), {format_rate(v.rate)} fps, "
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
        self._bar.set_postfix_str(display_name(Path(str(p.item)).name)[-40:], refresh=False)  # one line, any name
        self._bar.refresh()

    def close(self) -> None:
        self._bar.n = sum(self._fractions.values())
        self._bar.close()


def cmd_analyze(args: argparse.Namespace) -> int:
    from montage_ai.core.workflows import AnalysisJob, NoUsableFootage, run_analysis

    paths, song = music_only(args.paths, args.music)
    out = sys.stderr if args.json == "-" else sys.stdout  # `--json -`: JSON alone on stdout
    job = AnalysisJob(mode=args.mode, music=song, work=work_from_args(args))
    with ctrl_c_cancels() as cancel_event:
        bar = None

        def on_clip(p: "Progress") -> None:
            nonlocal bar
            if bar is None:
                bar = ProgressBar(p.total, stages.label(stages.FOOTAGE))
            bar(p)

        music_bars = StageBars()

        def on_stage(stage: str, fraction: float) -> None:
            if stage == stages.MUSIC:  # the footage has its per-clip bar
                music_bars(stage, fraction)

        try:
            result = run_analysis(paths, job, progress=on_stage, clip_progress=on_clip, cancel=cancel_event.is_set)
        except NoUsableFootage as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            if bar is not None:
                bar.close()
            music_bars.close()

    for a in result.analyses:
        usable = sum(1 for s in a.shots if not s.black)
        print(f"{a.path}: {len(a.shots)} shots ({usable} usable), {a.media.video.frame_count} frames, mode {a.mode}",
              file=out)
    music = result.music
    if music is not None:
        print(f"{music.path}: {music.tempo_bpm:.1f} bpm, {music.meter} beats to the bar, {len(music.beat_times_s)} "
              f"beats, {len(music.sections)} sections", file=out)
    print_failures(result.failures)

    if args.json:
        text = json.dumps(result.to_json(), indent=2)
        if args.json == "-":
            print(text)
        else:
            write_atomic(args.json, text + "\n", overwrite=args.force)
            print(f"wrote {args.json}", file=out)
    return 0 if result.analyses or music is not None or not result.failures else 2


#: Extensions ``analyze`` takes for a song when one is given alone as a PATH.
AUDIO_EXTENSIONS = frozenset((".wav", ".mp3", ".flac", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".aif", ".aiff",
                              ".wma", ".alac", ".caf"))


def music_only(paths: Sequence[str], music: str | None) -> tuple[list[str], str | None]:
    """``analyze``'s footage paths and song: a lone audio file among the paths is the song."""
    paths = list(paths)
    if music is None:
        audio = [p for p in paths if os.path.splitext(p)[1].lower() in AUDIO_EXTENSIONS and not os.path.isdir(p)]
        if len(audio) == 1:
            paths.remove(audio[0])
            music = audio[0]
    return paths, music


def cmd_demo(args: argparse.Namespace) -> int:
    from montage_ai.core.samples.demo import make_demo_media
    from montage_ai.core.workflows import RoughCutOptions, WorkOptions

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
                   WorkOptions(workers=args.workers, cache_dir=str(out / "cache")),
                   preview=out / "cut_preview.mp4", preview_height=360, force=True, bundle=True)
    print(f"Open {out / 'cut_preview.mp4'} to watch the cut. Import {out / 'cut.fcpxml'} (Resolve, Final Cut), "
          f"{out / 'cut.xml'} (Premiere, Resolve) or {out / 'cut.edl'}; {out / 'cut.otio'} opens in any OTIO tool.")
    return code


class StageBars:
    """One progress bar per stage of a long job, opened when the stage starts."""

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
            bar = self._bars[stage] = self._tqdm(total=100, desc=stages.label(stage), file=sys.stderr,
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
    print(f"{cl.name}: {len(cl.cuts)} cuts, {seconds:.2f} s at {format_rate(cl.rate, ratio=True)} fps "
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
    print_failures(Failure.of(stages.FOOTAGE, result.failures), "  skipped: ")


def run_cut(media: list[str], music: str, out: Path, options: "RoughCutOptions", work: "WorkOptions", *,
            preview: Path | None, preview_height: int, force: bool, bundle: bool = False) -> int:
    """``cut`` and ``demo``: the rough cut, written in every format beside ``out``, and a preview."""
    from montage_ai.core.workflows import (
        ExportJob,
        PreviewJob,
        RoughCutJob,
        check_free,
        export_targets,
        run_export,
        run_preview,
        run_rough_cut,
    )

    export = ExportJob(bundle=bundle, overwrite=force)
    check_free(list(export_targets(out, export).values()) + [preview], force)  # before any work
    bars = StageBars()
    with ctrl_c_cancels() as cancel_event:
        try:
            result = run_rough_cut(media, music, RoughCutJob(options, work), progress=bars, cancel=cancel_event.is_set)
            written = run_export(result.timeline, out, export, cancel=cancel_event.is_set)
            if preview:
                run_preview(result, preview, PreviewJob(height=preview_height, overwrite=force), progress=bars,
                            cancel=cancel_event.is_set)
        finally:
            bars.close()
    print_failures(written.failures, "error: ")
    print_failures(written.incomplete, "error: ")
    print_summary(result)
    print("wrote " + ", ".join(str(p) for p in written.written.values()))
    if preview:
        print(f"wrote {preview}")
    if written.failures:  # the exit code says a file the editor expects is not there
        print(f"error: {len(written.failures)} of {len(written.failures) + len(written.written)} timeline files "
              "not written: " + ", ".join(f.path for f in written.failures), file=sys.stderr)
        return EXIT_MISSING
    return incomplete_exit(written.incomplete)


#: Exit codes of ``cut``, ``demo``, ``selects`` and ``export`` beyond 0 (all written) and 130 (cancelled):
#: 1, a timeline file the editor expects is not written (or another error); 3, every file is
#: written but one is without a clip its format cannot carry (each named on stderr).
EXIT_MISSING = 1
EXIT_INCOMPLETE = 3


def incomplete_exit(incomplete: Sequence[Failure]) -> int:
    """0, or :data:`EXIT_INCOMPLETE` after one summary line naming the incomplete files."""
    if not incomplete:
        return 0
    files = list(dict.fromkeys(f.path for f in incomplete))
    print(f"error: {len(files)} timeline file{'s' if len(files) > 1 else ''} written without "
          f"{len(incomplete)} clip{'s' if len(incomplete) > 1 else ''}: " + ", ".join(files), file=sys.stderr)
    return EXIT_INCOMPLETE


def cmd_cut(args: argparse.Namespace) -> int:
    corrections = tuple(args.grid_corrections)
    if corrections and args.keep:  # kept first: this cut and every later one use them
        from montage_ai.ui.cli.beats import keep_corrections

        with ctrl_c_cancels() as cancel_event:
            stored = keep_corrections(args.music, corrections, work=work_from_args(args), cancel=cancel_event.is_set)
        print(f"{stored.path}: beat grid kept ({stored.labels()})", file=sys.stderr)
        corrections = ()
    _say_kept_grid(args.music)
    options = replace(cut_options(args, Path(args.out).stem), grid_corrections=corrections)
    return run_cut(args.media, args.music, Path(args.out), options, work_from_args(args),
                   preview=Path(args.preview) if args.preview else None, preview_height=args.preview_height,
                   force=args.force, bundle=args.bundle)


def _say_kept_grid(song: str) -> None:
    """One line on stderr when the cut uses a beat grid the editor kept for the song."""
    from montage_ai.core.workflows import kept_grid

    try:
        kept = kept_grid(song)
    except MontageError:
        return  # the cut names an unreadable song itself
    if kept is not None:
        print(f"{song}: using the beat grid you kept ({kept.labels()}; `montage-ai beats SONG --reset` undoes it)",
              file=sys.stderr)


def cmd_styles(args: argparse.Namespace) -> int:
    from montage_ai.core.plan.styles import available_styles

    for style in sorted(available_styles(strict=False), key=lambda s: s.name):
        print(f"{style.name:12s} {style.description}")
    return 0


def run() -> None:
    """The console command: :func:`main`, then exit. After a cancel the process ends at once
    (``os._exit``), without waiting for analysis threads still finishing their step inside
    native code: their libraries may abort the interpreter's shutdown ("terminate called")."""
    code = main()
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
