"""The full music analysis of a few songs, written as JSON or compared exactly with an earlier run.

For refactors of :mod:`montage_ai.core.analysis.music` that must not change what it outputs:
run it before (``--write before.json``) and after (``--against before.json``). Every song is
analysed by both trackers (the neural one through :func:`analyze_music` on the file, and the
signal-processing fallback through :func:`analyze_music_signal` with ``tracker="classic"``), and
the whole :meth:`MusicAnalysis.to_dict` is compared: beats, downbeats, metre, tempo, beat energy,
low-band energy, sections, confidence. Prints the figures of each song and, with ``--against``,
the number of values that differ (0 means identical to the last bit: floats round-trip through
JSON exactly).

    .venv/bin/python bench/music_digest.py --write /tmp/before.json
    .venv/bin/python bench/music_digest.py --against /tmp/before.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_BASES = [Path(os.environ["MONTAGE_SHARED"])] if os.environ.get("MONTAGE_SHARED") else [
    ROOT.parent / "shared", ROOT.parent.parent / "shared"]  # a clone, or a worktree under wt/
SHARED = next((b for b in _BASES if (b / "realworld").is_dir()), _BASES[0])
GENERATED = ("steady_120", "waltz", "tempo_change")
REAL = ("gtzan_blues_00047", "gtzan_jazz_00045", "gtzan_rock_00069")


def _diffs(a: object, b: object, where: str = "") -> list[str]:
    """Paths at which two JSON values differ (exactly)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}.{k}: only on one side" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += _diffs(a[k], b[k], f"{where}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} values, {len(b)} now"]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += _diffs(x, y, f"{where}[{i}]")
        return out
    return [] if a == b and type(a) is type(b) else [f"{where}: {a!r} -> {b!r}"]


def write_or_compare(results: dict, write: Path | None, against: Path | None) -> int:
    """Write ``results`` as JSON to ``write`` and/or compare them exactly with the JSON in
    ``against`` (printing the differences); 1 when they differ, else 0."""
    if write:
        write.write_text(json.dumps(results, indent=1))
        print(f"wrote {write}: {len(results)} analyses")
    if against:
        before = json.loads(against.read_text())
        bad = _diffs(before, json.loads(json.dumps(results)))
        n_values = sum(len(json.dumps(v)) for v in before.values())
        print(f"compared {len(results)} analyses with {against} ({n_values} characters of JSON): "
              f"{len(bad)} differences")
        for line in bad[:20]:
            print("  " + line)
        return 1 if bad else 0
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", type=Path, help="write the analyses to this JSON file")
    ap.add_argument("--against", type=Path, help="compare with the analyses in this JSON file")
    args = ap.parse_args(argv)

    from montage_ai.core.analysis.music import analyze_music, analyze_music_signal, load_audio
    from montage_ai.core.samples.music import render_preset, write_audio

    music_dir = SHARED / "realworld" / "music"
    songs: list[tuple[str, Path]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in GENERATED:
            y, _ = render_preset(name)
            path = Path(tmp) / f"{name}.wav"
            write_audio(path, y, 22050)
            songs.append((name, path))
        for name in REAL:
            path = music_dir / f"{name}.flac"
            if path.is_file():
                songs.append((name, path))
            else:
                print(f"{name}: not found under {music_dir}, left out")
        results: dict[str, dict] = {}
        for name, path in songs:
            for tracker in ("auto", "classic"):
                t0 = time.perf_counter()
                if tracker == "auto":
                    a = analyze_music(path)
                else:
                    a = analyze_music_signal(load_audio(path), 22050, path=os.path.abspath(path), tracker="classic")
                d = a.to_dict()
                d["path"] = path.name  # the temporary folder differs from run to run
                results[f"{name}/{tracker}"] = d
                print(f"{name:20s} {tracker:8s} {a.tempo_bpm:6.1f} bpm  metre {a.meter}  {len(a.beat_times_s):3d} beats  "
                      f"{len(a.downbeat_times_s):3d} downbeats  {len(a.sections)} sections  "
                      f"({time.perf_counter() - t0:.1f} s)")
    return write_or_compare(results, args.write, args.against)


if __name__ == "__main__":
    sys.exit(main())
