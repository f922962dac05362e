"""Benchmark: re-analysis of an unchanged file is a cache lookup.

Generates a 1080p H.264 clip, analyses it once (a miss: decode and analysis), then times
repeated re-analyses of the unchanged file (hits: file identity + JSON load), and prints
them with the plain ffmpeg decode time of the same file as the baseline. Goal: a hit
under 50 ms. Figures, not pass/fail.

    .venv/bin/python bench/cache.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.run.jobs import analyze_footage_cached


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        f"testsrc2=size=1920x1080:rate=24000/1001:duration={args.seconds}",
                        "-c:v", "libx264", "-preset", "veryfast", "-g", "24", str(clip)], check=True)
        t0 = time.perf_counter()
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(clip), "-f", "null", "-"], check=True)
        decode_s = time.perf_counter() - t0

        cache = AnalysisCache(Path(tmp) / "cache")
        t0 = time.perf_counter()
        first = analyze_footage_cached(str(clip), mode="full", cache=cache)
        miss_s = time.perf_counter() - t0
        hits = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            again = analyze_footage_cached(str(clip), mode="full", cache=cache)
            hits.append(time.perf_counter() - t0)
        assert again == first, "a cache hit must return the same analysis"
        entry_bytes = sum(p.stat().st_size for p in cache.root.rglob("*.json"))
        print(f"clip: 1920x1080 H.264, {args.seconds} s at 24000/1001, {clip.stat().st_size} bytes; "
              f"cache entry {entry_bytes} bytes")
    print(f"plain ffmpeg decode     {decode_s * 1000:9.1f} ms   (baseline)")
    print(f"first analysis (miss)   {miss_s * 1000:9.1f} ms   {miss_s / decode_s:6.3f}x decode")
    print(f"re-analysis (hit)       {statistics.median(hits) * 1000:9.2f} ms   median of {args.repeats}, "
          f"max {max(hits) * 1000:.2f} ms, {statistics.median(hits) / decode_s:.4f}x decode   (goal < 50 ms)")


if __name__ == "__main__":
    main()
