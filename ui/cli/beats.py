"""``montage-ai beats``: a song's beat grid, its one-click corrections, a grid-only timeline.

    montage-ai beats SONG                       print the grid (and confidence, when the analysis has it)
    montage-ai beats SONG --half --downbeat 2   correct it; the corrections are kept for the song
    montage-ai beats SONG --reset               back to the tracked grid
    montage-ai beats SONG --export grid.otio|grid.fcpxml|grid.xml   the music with beat markers only

Corrections are applied in the order given (``--half --shift-half`` halves first), on top of
the grid kept for the song. ``beats`` keeps them (that is what it is for); ``cut`` takes the
same options for one cut only, and keeps them with ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import sys
from fractions import Fraction
from pathlib import Path

from montage_ai.core.analysis.beat_grid import Correction

#: ``--export`` suffix -> export format.
GRID_FORMATS = {".otio": "otio", ".fcpxml": "fcpxml", ".xml": "premiere", ".edl": "edl"}


class _Append(argparse.Action):
    """Collects corrections, in command-line order, into ``args.grid_corrections``."""

    def __init__(self, option_strings, dest, op: str, convert=None, **kwargs) -> None:
        self.op, self.convert = op, convert
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        items = list(getattr(namespace, "grid_corrections", None) or [])
        try:
            value = self.convert(values) if self.convert is not None else None
            items.append(Correction(self.op, value))
        except ValueError as exc:
            parser.error(f"{option_string}: {exc}")
        namespace.grid_corrections = items


def _taps(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(t) for t in text.replace(" ", "").split(",") if t)
    except ValueError:
        raise ValueError(f"tap times are seconds separated by commas, not {text!r}") from None


def _number(kind):
    def convert(text: str):
        try:
            return kind(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
    return convert


def add_grid_options(parser: argparse.ArgumentParser, *, keep: bool = False) -> None:
    """The correction options ``beats`` and ``cut`` share (``keep``: add ``--keep``)."""
    g = parser.add_argument_group("beat-grid corrections (applied in the order given)")
    parser.set_defaults(grid_corrections=[])
    flag = dict(nargs=0, dest="grid_corrections", default=argparse.SUPPRESS)
    g.add_argument("--half", action=_Append, op="half", help="halve the tempo (every other beat)", **flag)
    g.add_argument("--double", action=_Append, op="double", help="double the tempo (a beat between beats)", **flag)
    g.add_argument("--two-thirds", action=_Append, op="two_thirds", help="tempo x 2/3", **flag)
    g.add_argument("--three-halves", action=_Append, op="three_halves", help="tempo x 3/2", **flag)
    g.add_argument("--shift-half", action=_Append, op="shift_half", help="move every beat half a beat later", **flag)
    value = dict(dest="grid_corrections", default=argparse.SUPPRESS)
    g.add_argument("--downbeat", action=_Append, op="downbeat", convert=_number(int), metavar="N",
                   help="the beat now counted N of the bar becomes beat 1", **value)
    g.add_argument("--meter", action=_Append, op="meter", convert=_number(int), metavar="N",
                   help="N beats to the bar, from the first downbeat", **value)
    g.add_argument("--offset-ms", action=_Append, op="offset_ms", convert=_number(float), metavar="MS",
                   help="move the whole grid MS milliseconds later (negative: earlier)", **value)
    g.add_argument("--bpm", action=_Append, op="bpm", convert=_number(float), metavar="BPM",
                   help="a constant grid at BPM from the first downbeat", **value)
    g.add_argument("--tap", action=_Append, op="tap", convert=_taps, metavar="T1,T2,...",
                   help="tapped beat times in seconds (the first on a downbeat): a constant grid through them", **value)
    if keep:
        g.add_argument("--keep", action="store_true", help="keep these corrections for the song (like `beats`)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("beats", help="a song's beat grid: show it, correct it (kept until --reset), export it",
                       description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("song", metavar="SONG", help="the music (any audio or video file)")
    add_grid_options(b)
    b.add_argument("--reset", action="store_true", help="forget the kept corrections (before any given here)")
    b.add_argument("--export", metavar="GRID", help="write the music with beat, downbeat and section markers only "
                   "(.otio, .fcpxml, .xml for Premiere, .edl)")
    b.add_argument("--fps", default=None, metavar="RATE", help="rate of the exported timeline (default 24)")
    b.add_argument("--json", metavar="OUT", help="write the grid as JSON to OUT ('-' for stdout, nothing else there)")
    b.add_argument("--cache-dir", default=None, help="analysis cache folder (default: the user cache folder)")
    b.add_argument("--no-cache", action="store_true", help="analyse again even if a cached result exists")
    b.add_argument("--force", action="store_true", help="replace output files that exist")
    b.set_defaults(func=cmd_beats)


def music_with_progress(song: str, *, work, cancel, kept_grid: bool = True, corrections=()):
    """The song's analysis with a progress bar on stderr."""
    from montage_ai.core.workflows import MusicJob, run_music_analysis
    from montage_ai.ui.cli.main import StageBars

    bars = StageBars()
    try:
        return run_music_analysis(song, MusicJob(kept_grid=kept_grid, corrections=tuple(corrections), work=work),
                                  progress=bars, cancel=cancel)
    finally:
        bars.close()


def keep_corrections(song: str, corrections, *, work, cancel):
    """Apply ``corrections`` to the song's grid and keep the result; returns the StoredGrid."""
    from montage_ai.core.workflows import MusicJob, keep_grid_corrections
    from montage_ai.ui.cli.main import StageBars

    bars = StageBars()
    try:
        return keep_grid_corrections(song, corrections, MusicJob(work=work), progress=bars, cancel=cancel)
    finally:
        bars.close()


def describe(music, stored) -> list[str]:
    """The lines ``beats`` prints for a song's grid."""
    d = music.to_dict()
    first = f"{music.downbeat_times_s[0]:.3f} s" if music.downbeat_times_s else "none"
    lines = [music.path,
             f"  tempo       {music.tempo_bpm:.1f} bpm, {music.meter} beats to the bar",
             f"  beats       {len(music.beat_times_s)}, downbeats {len(music.downbeat_times_s)}, first downbeat {first}",
             f"  sections    {len(music.sections)}: " + " ".join(s.label for s in music.sections[:24])
             + (" …" if len(music.sections) > 24 else "")]
    doubts: list[str] = []
    for key in sorted(k for k in d if "confidence" in k and d[k] is not None):
        value = d[key]
        if isinstance(value, dict):
            doubts += [str(v) for v in value.get("doubts") or () if v]
            parts = [f"{k} {v:.2f}" for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
            alts = value.get("alternatives_bpm") or ()
            if alts:
                parts.append("or " + " / ".join(f"{float(b):.1f}" for b in alts) + " bpm")
            text = ", ".join(parts) + (f" ({value['tracker']})" if value.get("tracker") else "")
        else:
            text = f"{value:.2f}" if isinstance(value, (int, float)) else str(value)
        note = " (as tracked, before your corrections)" if stored is not None else ""
        lines.append(f"  {key.replace('_', ' '):11s} {text}{note}")
    for key in sorted(k for k in d if "doubt" in k):
        doubts += [str(v) for v in (d[key] if isinstance(d[key], (list, tuple)) else [d[key]]) if v]
    lines += [f"  doubt       {v}" for v in doubts]
    if stored is not None:
        lines.append(f"  grid        corrected by you: {stored.labels()} (kept since {stored.saved}; --reset undoes)")
    else:
        lines.append("  grid        as tracked (no corrections kept)")
    return lines


def grid_json(music, stored) -> dict:
    doc = music.to_dict()
    doc["grid_corrections"] = [c.to_dict() for c in stored.corrections] if stored is not None else []
    return doc


def cmd_beats(args: argparse.Namespace) -> int:
    from montage_ai.core.base.fileio import write_atomic
    from montage_ai.core.workflows import kept_grid, reset_grid
    from montage_ai.ui.cli.main import ctrl_c_cancels, work_from_args

    song = str(Path(args.song).absolute())
    work = work_from_args(args)
    out = sys.stderr if args.json == "-" else sys.stdout
    rate = _rate(args.fps)
    if args.export and Path(args.export).suffix.lower() not in GRID_FORMATS:
        print(f"error: {args.export}: the grid exports as {', '.join(GRID_FORMATS)}", file=sys.stderr)
        return 1
    with ctrl_c_cancels() as cancel_event:
        if args.reset:
            print(f"{song}: kept corrections removed" if reset_grid(song) else f"{song}: no corrections were kept",
                  file=out)
        if args.grid_corrections:
            keep_corrections(song, args.grid_corrections, work=work, cancel=cancel_event.is_set)
            print(f"{song}: kept {', '.join(c.label() for c in args.grid_corrections)}", file=out)
        music = music_with_progress(song, work=work, cancel=cancel_event.is_set)
    stored = kept_grid(song)
    print("\n".join(describe(music, stored)), file=out)
    if args.export:
        _export_grid(music, Path(args.export), rate, force=args.force, out=out)
    if args.json:
        text = json.dumps(grid_json(music, stored), indent=2)
        if args.json == "-":
            print(text)
        else:
            write_atomic(args.json, text + "\n", overwrite=args.force)
            print(f"wrote {args.json}", file=out)
    return 0


def _rate(text: str | None) -> Fraction:
    from montage_ai.core.base.timebase import parse_rate
    from montage_ai.core.model.grid_timeline import GRID_RATE

    if text is None:
        return GRID_RATE
    try:
        return parse_rate(text)
    except (ValueError, TypeError) as exc:
        raise SystemExit(f"error: --fps: {exc}") from None


def _export_grid(music, path: Path, rate: Fraction, *, force: bool, out) -> None:
    from montage_ai.core.workflows import run_grid_export
    from montage_ai.otio_adapters.export import FORMATS

    fmt = GRID_FORMATS[path.suffix.lower()]
    run_grid_export(music, path, fmt, rate, overwrite=force)
    print(f"wrote {path} ({FORMATS[fmt].description}): {len(music.beat_times_s)} beats, "
          f"{len(music.downbeat_times_s)} downbeats, {len(music.sections)} sections", file=out)
