"""Benchmark: what the near-duplicate check, the selects and the shot report add to analysis.

Generates a small project (six 720p clips of four shots each from ffmpeg's test sources,
so a few sources recur across clips; clip5 a near-identical copy of clip0, whose moving
shots may not be found when their best frames fall at other moments), analyses it (with thumbnails, as the cache does), then times the keyframe hashes
from the thumbnails, the same hashes decoded from the files (analysis without a cache
writes no thumbnails), the selects, and the HTML + CSV report, each as a ratio of the
analysis time measured in the same run. Figures, not pass/fail.

    .venv/bin/python bench/selects.py [--seconds-per-shot 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from montage_ai.core.analysis.duplicates import find_duplicates, shot_hashes
from montage_ai.core.analysis.footage import analyze_footage
from montage_ai.core.cut.selects import choose_selects
from montage_ai.core.render.report import write_report
from montage_ai.core.samples.footage import Segment, render_footage

SOURCES = ("testsrc2", "mandelbrot", "smptebars", "life", "cellauto", "pan", "gradients", "zoompan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds-per-shot", type=float, default=2.0)
    args = ap.parse_args()
    n = int(round(25 * args.seconds_per_shot))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = []
        for k in range(6):
            src = SOURCES[(2 * k) % len(SOURCES):] + SOURCES[:(2 * k) % len(SOURCES)]
            segs = [Segment(s, n, seed=k + 1) for s in src[:4]]
            if k == 5:  # a near-identical copy of clip 0
                segs = [Segment(s, n, seed=1, grain=3.0, gain=1.1) for s in SOURCES[:4]]
            path = root / f"clip{k}.mp4"
            render_footage(path, segs, size=(1280, 720))
            paths.append(path)
        t0 = time.perf_counter()
        analyses = [analyze_footage(str(p), mode="full", thumbnail_dir=str(root / f"thumbs{k}"))
                    for k, p in enumerate(paths)]
        analysis_s = time.perf_counter() - t0
        bare = [analyze_footage(str(p), mode="full") for p in paths]

        t0 = time.perf_counter()
        hashes = shot_hashes(analyses)
        thumbs_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        shot_hashes(bare)
        decode_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        selects = choose_selects(analyses, hashes=hashes)
        selects_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_report(root / "report.html", analyses, selects)
        report_s = time.perf_counter() - t0
        shots = sum(len(a.shots) for a in analyses)
        dups = find_duplicates(analyses, hashes)
        pairs = sorted(f"{Path(d.path).stem}#{d.shot_index}~{Path(d.kept_path).stem}#{d.kept_index}({d.distance})"
                       for d in dups.values())

    print(f"{len(paths)} clips, {shots} shots, {len(dups)} near-duplicates: {', '.join(pairs)}")
    print(f"analysis {analysis_s:.2f} s (baseline)")
    for name, s in (("hashes from thumbnails", thumbs_s), ("hashes decoding keyframes", decode_s),
                    ("selects (given hashes)", selects_s), ("report HTML + CSV", report_s)):
        print(f"  {name:28s} {s * 1000:9.1f} ms  {s / analysis_s:6.3f}x analysis")


if __name__ == "__main__":
    main()
