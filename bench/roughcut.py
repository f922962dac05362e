"""Benchmark: the rough cut end to end, cold and warm.

A generated project of 20 clips / 10 minutes of 1080p H.264 footage (mixed rates) and a
3-minute song. In one run: the plain ``ffmpeg -i X -f null -`` decode time of all the
footage (the baseline), a cold cut (empty cache: every clip and the song analysed), and a
warm cut (cache full: the editor changes the style or re-rolls). Goal: warm <= 2 s.
The generated media is kept in bench/results/roughcut/ for later runs. Figures, not
pass/fail.

    .venv/bin/python bench/roughcut.py [--clips 20] [--seconds 30]
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

from montage_ai.core.cut.roughcut import RoughCutOptions, make_rough_cut
from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.run.executor import LocalExecutor
from montage_ai.core.samples.footage import Segment, render_footage
from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

ROOT = Path(__file__).resolve().parent / "results" / "roughcut"
RATES = (Fraction(24000, 1001), Fraction(24000, 1001), Fraction(25), Fraction(30000, 1001))
KINDS = ("testsrc2", "smptebars", "mandelbrot", "gradients", "pan", "life", "zoompan", "color")


def project(clips: int, seconds: int) -> tuple[list[Path], Path]:
    footage = ROOT / "footage"
    footage.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(clips):
        rate = RATES[i % len(RATES)]
        path = footage / f"clip_{i:02d}.mp4"
        paths.append(path)
        if path.exists():
            continue
        shot = int(round(rate * 5))
        n = max(1, math.ceil(rate * seconds / shot))
        segs = [Segment(KINDS[(i + k) % len(KINDS)], shot, seed=i * 7 + k + 1, grain=2.0,
                        color=f"0x{(40 * i) % 200 + 30:02x}{(70 * k) % 200 + 30:02x}80") for k in range(n)]
        print(f"rendering {path.name} ({rate} fps, {n * shot} frames)…", file=sys.stderr)
        render_footage(path, segs, rate=rate, size=(1920, 1080), gop_frames=int(round(rate)), preset="veryfast")
    song = ROOT / "music" / "song_3min.wav"
    if not song.exists():
        song.parent.mkdir(parents=True, exist_ok=True)
        # 4 + 86 bars of 4 beats at 120 bpm: 3 minutes.
        spec = MusicSpec(tempo_bpm=120, intro_bars=4, seed=3, sr=44100, sections=(
            SectionSpec("verse", 12, 0.5, harmony=0), SectionSpec("chorus", 12, 0.85, harmony=1),
            SectionSpec("verse", 12, 0.55, harmony=0), SectionSpec("chorus", 12, 0.9, harmony=1),
            SectionSpec("bridge", 12, 0.4, harmony=2), SectionSpec("chorus", 16, 1.0, harmony=1),
            SectionSpec("outro", 10, 0.3, drums=False, harmony=0)))
        y, truth = render(spec)
        write_audio(song, y, truth.sample_rate)
    return paths, song


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--style", default="dynamic")
    args = ap.parse_args()
    paths, song = project(args.clips, args.seconds)
    t0 = time.perf_counter()
    for p in paths:
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(p), "-f", "null", "-"], check=True)
    decode_s = time.perf_counter() - t0

    cache_dir = ROOT / "cache"
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache = AnalysisCache(cache_dir)
    opts = RoughCutOptions(style=args.style, mode="auto")
    t0 = time.perf_counter()
    cold = make_rough_cut([str(ROOT / "footage")], str(song), opts, cache=cache, executor=LocalExecutor())
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = make_rough_cut([str(ROOT / "footage")], str(song), RoughCutOptions(style=args.style, seed=1),
                          cache=cache, executor=LocalExecutor())
    warm_s = time.perf_counter() - t0
    minutes = sum(a.media.duration_s for a in cold.analyses) / 60
    print(f"project: {len(paths)} clips, {minutes:.1f} min of 1920x1080 H.264, song {cold.music.duration_s:.0f} s, "
          f"style {args.style}")
    print(f"plain ffmpeg decode of all footage   {decode_s:8.2f} s   (baseline)")
    print(f"cold cut (analysis + cut)            {cold_s:8.2f} s   {cold_s / decode_s:6.3f}x decode   "
          f"{len(cold.cut_list.cuts)} cuts")
    print(f"warm cut (cache full, re-roll)       {warm_s:8.2f} s   {warm_s / decode_s:6.3f}x decode   "
          f"{len(warm.cut_list.cuts)} cuts   (goal <= 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
