"""Benchmark: a 2,000-clip timeline written to every interchange format.

Builds a 2,000-clip 23.976 timeline over mixed-rate sources (23.976 with a start timecode,
25, 59.94, 29.97) with the music and ~1,600 beat/downbeat/section markers, then times writing
it as FCPXML, FCP7 XML and EDL (each to a file, atomically, as `montage-ai export` does),
and as .otio (OTIO's own JSON writer) in the same run as the baseline. Goal: all three of
ours together in at most 2 s. Figures, not pass/fail.

    .venv/bin/python bench/interchange.py [--clips 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fractions import Fraction  # noqa: E402

from montage_ai.core.model.timeline import build_timeline  # noqa: E402
from montage_ai.otio_adapters.export import export_path, export_timeline  # noqa: E402
from test_interchange import NTSC24, NTSC30, NTSC60, _cut_list  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    lengths = [5 + (i * 7) % 40 for i in range(args.clips)]
    cut_list, probes = _cut_list(NTSC24, [("A cam 01.mov", NTSC24), ("pal 25.mp4", Fraction(25)),
                                          ("ntsc 60.mov", NTSC60), ("Day 1 café.mov", NTSC30)], lengths)
    timeline = build_timeline(cut_list, media=probes)
    print(f"{args.clips} clips, {len(timeline.tracks.markers)} markers, {cut_list.duration} frames at 24000/1001")
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("otio", "fcpxml", "premiere", "edl"):
            runs = []
            for i in range(args.repeats):
                path = export_path(Path(tmp) / f"cut{i}.otio", fmt)
                t0 = time.perf_counter()
                export_timeline(timeline, path, fmt)
                runs.append(time.perf_counter() - t0)
            times[fmt] = statistics.median(runs)
            print(f"  {fmt:9s} {times[fmt] * 1000:8.1f} ms  ({path.stat().st_size / 1e6:.2f} MB)")
    ours = times["fcpxml"] + times["premiere"] + times["edl"]
    print(f"FCPXML + FCP7 XML + EDL: {ours:.3f} s (goal <= 2 s); "
          f".otio alone {times['otio']:.3f} s; ratio ours/otio {ours / times['otio']:.2f}x")


if __name__ == "__main__":
    main()
