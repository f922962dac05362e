"""Footage analysis speed and accuracy against a plain ffmpeg decode.

    .venv/bin/python bench/analysis.py [--seconds 60] [--width 1920]

Generates (once, cached in bench/results/) a 1080p H.264 reel with hard cuts, a dissolve,
a fade through black, a flash and a brightness swell, in two GOP structures (1 s GOP and a
long 10 s GOP with scene-cut keyframes), then times in one run on the same file:
``ffmpeg -i X -f null -`` (the baseline: default threads, default decoder settings),
``analyze_footage(mode="full")`` and ``analyze_footage(mode="fast")``, and scores the
boundaries against the ground truth (hard cuts with 0-frame tolerance, a transition counts
when a detected span or boundary falls inside it).

Speed levers our decode uses (see core/media/decode.py): ``-skip_loop_filter all -flags2 fast``,
scaling to 256 px in ffmpeg (``area``) before the pixel-format conversion, rotation after
scaling, tiny (32x18 / 64x36) signatures and feature frames, Python work overlapped with
ffmpeg's decode through the pipe, and in fast mode decoding keyframes only plus the
intervals that changed.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from montage_ai.core.analysis.footage import analyze_footage  # noqa: E402
from montage_ai.core.media.probe import probe  # noqa: E402
from montage_ai.core.samples.footage import Segment, render_footage  # noqa: E402

#: Part of the cached file names: bump when :func:`reel` changes.
REEL_VERSION = "r2"


def reel(seconds: float, rate: Fraction) -> list[Segment]:
    shot = int(round(rate * 5))
    kinds = [
        dict(source="testsrc2"), dict(source="smptebars"), dict(source="mandelbrot", dissolve_in=int(rate)),
        dict(source="gradients", seed=4, fade_out=12), dict(source="black", frames=int(rate)),
        dict(source="pan", fade_in=12, pan_px_per_frame=24.0), dict(source="color", color="0xa04020", flash=(40, 2)),
        dict(source="testsrc2", blur_sigma=4.0, swell=(20, 50)), dict(source="life", seed=3),
        dict(source="zoompan"), dict(source="cellauto"), dict(source="testsrc2"),
        dict(source="gradients", seed=7),
    ]
    # Adjacent segments always differ (no shot restarts the picture the previous one
    # showed: that is one continuous shot, not a cut).
    segs, total, k = [], 0, 0
    while total < seconds * rate:
        spec = dict(kinds[k % len(kinds)])
        frames = spec.pop("frames", shot)
        segs.append(Segment(frames=frames, grain=4.0, **spec))
        total += frames - spec.get("dissolve_in", 0)
        k += 1
    return segs


def score(truth, analysis):
    cuts = set(truth.cuts)
    found = set(analysis.boundaries)
    spans = [s.transition_in for s in analysis.shots if s.transition_in] + \
            [s.transition_out for s in analysis.shots if s.transition_out]
    hit_cuts = cuts & found
    hit_trans = [t for t in truth.transitions
                 if any(a <= t[1] and t[0] <= b for a, b in spans) or any(t[0] <= f <= t[1] + 1 for f in found)]
    legit = set(cuts)
    for a, b in list(truth.transitions) + list(truth.blacks):
        legit.update(range(a - 1, b + 3))
    false = sorted(f for f in found if f not in legit)
    gt_n = len(cuts) + len(truth.transitions)
    tp = len(hit_cuts) + len(hit_trans)
    recall = tp / gt_n if gt_n else 1.0
    precision = (len(found) - len(false)) / len(found) if found else 1.0
    return (f"cuts {len(hit_cuts)}/{len(cuts)} exact, transitions {len(hit_trans)}/{len(truth.transitions)}, "
            f"false {false}; precision {precision:.3f} recall {recall:.3f}")


def timed(fn):
    """``(wall_s, cpu_s, result)``; CPU time counts this process and its children (ffmpeg)."""
    def cpu() -> float:
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    t, c = time.perf_counter(), cpu()
    out = fn()
    return time.perf_counter() - t, cpu() - c, out


class _DecodedFrames(logging.Handler):
    """Picks up fast mode's "decoded N of M frames" log line."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if "fast mode decoded" in record.getMessage():
            self.last = record.getMessage().split(": ", 1)[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of decode/full/fast, interleaved; ratios are medians over the runs")
    args = ap.parse_args()
    rate = Fraction(25)
    size = (args.width, args.width * 9 // 16 // 2 * 2)
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    decoded = _DecodedFrames()
    footage_log = logging.getLogger("montage_ai.core.analysis.footage")
    footage_log.addHandler(decoded)
    footage_log.setLevel(logging.INFO)
    print(f"# {size[0]}x{size[1]} H.264 {float(rate):g} fps, {args.seconds:g} s, {os.cpu_count()} CPUs, "
          f"{args.repeat} interleaved runs (median ratios; each run's ratio is against its own decode)")
    for name, gop, scenecut in (("gop1s", int(rate), True), ("longgop", int(rate) * 10, True)):
        path = os.path.join(out, f"bench-{REEL_VERSION}-{name}-{size[0]}-{int(args.seconds)}s.mp4")
        segs = reel(args.seconds, rate)
        if not os.path.exists(path):
            t = time.perf_counter()
            truth = render_footage(path, segs, rate=rate, size=size, gop_frames=gop, scenecut=scenecut)
            print(f"  rendered {os.path.basename(path)} in {time.perf_counter() - t:.1f} s")
        else:
            from montage_ai.core.samples.footage import _layout, _truth
            truth = _truth(path, segs, _layout(segs), rate, size[0], size[1], None)
        media = probe(path)
        runs: dict[str, list] = {"decode": [], "full": [], "fast": []}
        for _ in range(args.repeat):
            for key, fn in (
                ("decode", lambda: subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-f", "null", "-"],
                                                  check=True)),
                ("full", lambda: analyze_footage(path, mode="full", media=media)),
                ("fast", lambda: analyze_footage(path, mode="fast", media=media)),
            ):
                runs[key].append(timed(fn))
        dec = runs["decode"]

        print(f"{name}: {truth.frame_count} frames, {len(truth.cuts)} cuts, {len(truth.transitions)} transitions, "
              f"{len(truth.blacks)} black")
        print(f"  ffmpeg -f null decode  wall {_fmt(r[0] for r in dec)} s, cpu {_fmt(r[1] for r in dec)} s")
        for key, goal in (("full", 1.15), ("fast", 0.30)):
            wall = statistics.median(r[0] / d[0] for r, d in zip(runs[key], dec))
            cpu = statistics.median(r[1] / d[1] for r, d in zip(runs[key], dec))
            print(f"  {key} analysis    wall {_fmt(r[0] for r in runs[key])} s = {wall:.2f}x decode (median; "
                  f"goal <= {goal:.2f}x), cpu {cpu:.2f}x")
        full, fast = runs["full"][-1][2], runs["fast"][-1][2]
        print(f"  full: {score(truth, full)}")
        print(f"  fast: {score(truth, fast)}")
        print(f"  fast boundaries == full boundaries: {full.boundaries == fast.boundaries}; {decoded.last}")


def _fmt(values) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"


if __name__ == "__main__":
    main()
