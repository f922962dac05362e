"""The full footage analysis of the real clips, written as JSON or compared exactly with an earlier run.

For speed work on :mod:`montage_ai.core.analysis` that must not change what it outputs: run it
before (``--write before.json``) and after (``--against before.json``). Every clip of
``<shared>/realworld/footage/`` and one generated clip (the demo's segments) is analysed in full
mode and the whole :meth:`FootageAnalysis.to_dict` is compared, field by field: shots, boundaries,
transitions, usable ranges, flags with their reasons and details, best frames, the best-moment
curves, every feature sample. Prints each clip's figures and, with ``--against``, the number of
values that differ (0: identical to the last bit; floats round-trip through JSON exactly).

    .venv/bin/python bench/footage_digest.py --write /tmp/before.json
    .venv/bin/python bench/footage_digest.py --against /tmp/before.json
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from footage_real import default_shared  # noqa: E402
from music_digest import write_or_compare  # noqa: E402


def clips(shared: str, tmp: str) -> list[tuple[str, str]]:
    """``(name, path)`` of the real clips (when present) and one generated clip."""
    from montage_ai.core.samples.footage import demo_segments, render_footage

    d = Path(shared) / "realworld" / "footage"
    out = [(p.stem, str(p)) for p in sorted(d.iterdir()) if p.suffix in (".mp4", ".avi", ".mov", ".mkv")] \
        if d.is_dir() else []
    gen = os.path.join(tmp, "generated.mp4")
    render_footage(gen, demo_segments())
    return out + [("generated", gen)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=default_shared())
    ap.add_argument("--write", type=Path, help="write the analyses to this JSON file")
    ap.add_argument("--against", type=Path, help="compare with the analyses in this JSON file")
    args = ap.parse_args(argv)

    from montage_ai.core.analysis.footage import analyze_footage

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in clips(args.shared, tmp):
            t0 = time.perf_counter()
            a = analyze_footage(path, mode="full")
            d = a.to_dict()
            d["path"] = Path(path).name  # the temporary folder differs from run to run
            d["media"].pop("path", None)
            results[name] = d
            print(f"{name:20s} {a.frame_count:5d} frames  {len(a.shots):2d} shots  {len(a.flags):2d} flags  "
                  f"{len(a.sample_frames):4d} samples  ({time.perf_counter() - t0:.1f} s)")
    return write_or_compare(results, args.write, args.against)


if __name__ == "__main__":
    sys.exit(main())
