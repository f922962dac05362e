"""Benchmark: footage analysis with hardware decoding against software decoding.

On a generated 1080p H.264 clip with known cuts, in one run:
plain ``ffmpeg -f null`` decode on the CPU (the baseline) and with ``-hwaccel METHOD``,
then our full and fast analysis with ``hwaccel=None`` and ``hwaccel=METHOD``. Prints the
times as ratios of the CPU decode, whether ffmpeg really decoded on the device, and
whether the shots found are the same (they must be: hardware decoding may change pixels
by a code value, never a boundary). Figures, not pass/fail.

    python bench/hwdecode.py [--hwaccel cuda] [--seconds 30]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from montage_ai.core.analysis.footage import analyze_footage
from montage_ai.core.samples.footage import Segment, render_footage


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def ffmpeg_null(path: Path, hwaccel: str | None) -> subprocess.CompletedProcess:
    hw = ["-hwaccel", hwaccel] if hwaccel else []
    return subprocess.run(["ffmpeg", "-nostdin", "-v", "verbose", *hw, "-i", str(path), "-f", "null", "-"],
                          capture_output=True, text=True)


def hardware_in_use(stderr: str, method: str) -> bool:
    """ffmpeg says when a hwaccel could not be set up and it decodes in software instead."""
    failed = ("Failed setup for format", "hwaccel initialisation returned error", "Device creation failed",
              "Cannot load", "No device available")
    return not any(f in stderr for f in failed) and (method in stderr.lower() or "hwaccel" in stderr.lower())


def shots_signature(analysis):
    return [(s.start_frame, s.end_frame, s.transition_in, s.black) for s in analysis.shots]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hwaccel", default="cuda", help="ffmpeg -hwaccel method (cuda, vaapi, qsv, videotoolbox)")
    ap.add_argument("--seconds", type=int, default=30)
    args = ap.parse_args()
    hwaccels = subprocess.run(["ffmpeg", "-hide_banner", "-hwaccels"], capture_output=True, text=True).stdout.split()
    print(f"ffmpeg hwaccels: {' '.join(hwaccels[3:]) or 'none'}")
    rate = Fraction(24000, 1001)
    n = int(round(rate * 3))
    kinds = ["testsrc2", "mandelbrot", "smptebars", "gradients", "pan", "life"]
    shots = max(2, args.seconds // 3)
    segments = [Segment(kinds[i % len(kinds)], n, seed=i + 1, grain=2.0) for i in range(shots)]
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip_1080p.mp4"
        truth = render_footage(clip, segments, rate=rate, size=(1920, 1080), gop_frames=24, preset="veryfast")
        cpu_s, cpu_run = timed(lambda: ffmpeg_null(clip, None))
        hw_s, hw_run = timed(lambda: ffmpeg_null(clip, args.hwaccel))
        in_use = hw_run.returncode == 0 and hardware_in_use(hw_run.stderr, args.hwaccel)
        rows = [("ffmpeg -f null, CPU decode (baseline)", cpu_s, None),
                (f"ffmpeg -f null, -hwaccel {args.hwaccel}", hw_s, None)]
        results = {}
        for mode in ("full", "fast"):
            for hw in (None, args.hwaccel):
                t, a = timed(lambda: analyze_footage(clip, mode=mode, hwaccel=hw))
                results[(mode, hw)] = a
                rows.append((f"analysis {mode}, {'hwaccel ' + hw if hw else 'CPU decode'}", t, a))
        print(f"clip: 1920x1080 H.264, {truth.frame_count} frames at 24000/1001, cuts at {list(truth.boundaries)}")
        print(f"hardware decoding in use with -hwaccel {args.hwaccel}: {'yes' if in_use else 'no'}")
        if not in_use:
            tail = [ln for ln in hw_run.stderr.splitlines() if "hwaccel" in ln.lower() or "fail" in ln.lower()][-3:]
            print("  ffmpeg said: " + (" | ".join(tail) or "(nothing)"))
        print(f"{'what':48s} {'seconds':>8s} {'x CPU decode':>12s}  shots")
        for name, t, a in rows:
            found = "" if a is None else str([s.start_frame for s in a.shots[1:]])
            print(f"{name:48s} {t:8.2f} {t / cpu_s:12.3f}  {found}")
        for mode in ("full", "fast"):
            same = shots_signature(results[(mode, None)]) == shots_signature(results[(mode, args.hwaccel)])
            print(f"{mode}: shots with hwaccel {'identical to' if same else 'DIFFER from'} CPU decode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
