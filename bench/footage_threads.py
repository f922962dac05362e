"""The per-frame work as the real analysis runs it: CPU of each stage on its own thread, and
what the worker threads buy, against a plain decode.

    .venv/bin/python bench/footage_threads.py [--shared ../shared] [--repeat 3] [--workers 0,1,2]

:mod:`bench.footage_breakdown` times each stage alone, one thread, on frames decoded first.
Here the stages are timed inside ``analyze_footage(mode="full")`` while ffmpeg decodes beside
them (the caches and cores shared as in use): every stage function of
:mod:`montage_ai.core.analysis.frame_work` is wrapped to add up the CPU time of the thread it
runs on (``time.thread_time``), and PySceneDetect's jobs likewise. Then, for each number of
worker threads given (``0``: the per-frame work runs on the caller's thread, in line), the
whole set of clips is analysed ``--repeat`` times, the settings taking turns, and the wall
time and CPU (this process, and its ffmpeg/ffprobe children apart) are printed as medians
with the plain ``ffmpeg -f null`` decode of the same files timed in the same turn.

Figures, not pass/fail. A loaded machine moves the wall times; the CPU figures less so.
"""

from __future__ import annotations

import argparse
import collections
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from footage_breakdown import clips  # noqa: E402
from footage_real import default_shared  # noqa: E402
from montage_ai.core.analysis import frame_work as FW  # noqa: E402
from montage_ai.core.analysis import shots as S  # noqa: E402
from montage_ai.core.analysis.footage import analyze_footage  # noqa: E402

#: ``(owner, attribute, stage)`` of every wrapped stage.
STAGES = ((FW, "reduce_block_i420", "reductions"), (FW, "frame_signatures", "signatures"),
          (FW.OB, "border_cells_block", "border cells"), (FW.Q, "measure", "quality.measure"),
          (FW, "features", "sample: features"), (FW.P, "pattern_kind", "sample: pattern"),
          (FW.M, "count_faces", "sample: faces"), (FW.M, "subject_strength", "sample: subject"),
          (FW, "_work_batch", "per-frame work, all"), (S.ShotDetector, "_run_psd", "PySceneDetect"))


class _InLine:
    """An executor that runs each job at once on the caller's thread (0 workers)."""

    def submit(self, fn, *args, **kwargs) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool does
            f.set_exception(exc)
        return f


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def stage_split(paths: list[str]) -> tuple[int, dict[str, float]]:
    """``(frames, thread CPU seconds per stage)`` over one analysis of every clip."""
    acc: collections.Counter = collections.Counter()
    saved = []
    for owner, name, stage in STAGES:
        fn = getattr(owner, name)
        saved.append((owner, name, fn))

        def timed(*a, _fn=fn, _stage=stage, **k):
            t = time.thread_time()
            try:
                return _fn(*a, **k)
            finally:
                acc[_stage] += time.thread_time() - t
        setattr(owner, name, timed)
    try:
        frames = 0
        t = time.thread_time()
        for p in paths:
            frames += analyze_footage(p, mode="full").frame_count
        acc["caller's thread, all"] = time.thread_time() - t
    finally:
        for owner, name, fn in saved:
            setattr(owner, name, fn)
    return frames, dict(acc)


def one_turn(paths: list[str], workers: int) -> dict[str, float]:
    """Wall and CPU of analysing every clip with ``workers`` worker threads."""
    pool, default = FW.shared_pool, FW.default_workers
    if workers == 0:
        FW.shared_pool = lambda name, n: _InLine()
    else:
        FW.default_workers = lambda: workers
    try:
        (o0, k0), w0 = _cpu(), time.perf_counter()
        for p in paths:
            analyze_footage(p, mode="full")
        (o1, k1), w1 = _cpu(), time.perf_counter()
    finally:
        FW.shared_pool, FW.default_workers = pool, default
    return {"wall": w1 - w0, "own": o1 - o0, "kids": k1 - k0}


def null_decode(paths: list[str]) -> dict[str, float]:
    (_, k0), w0 = _cpu(), time.perf_counter()
    for p in paths:
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", p, "-an", "-f", "null", "-"], check=True)
    (_, k1), w1 = _cpu(), time.perf_counter()
    return {"wall": w1 - w0, "cpu": k1 - k0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=default_shared())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", default="0,1,2", help="comma-separated worker thread counts to compare")
    args = ap.parse_args()
    paths = clips(args.shared)
    settings = [int(w) for w in args.workers.split(",")]
    analyze_footage(paths[0], mode="full")  # imports and first-call set-up out of the figures

    frames, split = stage_split(paths)
    print(f"per-frame stages inside the analysis (thread CPU, {frames} frames, default "
          f"{FW.default_workers()} workers):")
    for stage, secs in sorted(split.items(), key=lambda kv: -kv[1]):
        print(f"  {stage:24s} {secs:6.2f} s {1000 * secs / frames:7.3f} ms a frame")

    turns: dict[int, list[dict[str, float]]] = {w: [] for w in settings}
    nulls: list[dict[str, float]] = []
    for _ in range(max(1, args.repeat)):
        nulls.append(null_decode(paths))
        for w in settings:
            turns[w].append(one_turn(paths, w))
    null_wall = statistics.median(n["wall"] for n in nulls)
    null_cpu = statistics.median(n["cpu"] for n in nulls)
    print(f"\nplain ffmpeg -f null: wall {null_wall:.2f} s, CPU {null_cpu:.2f} s (medians of {len(nulls)})")
    print(f"{'workers':>7s} {'wall s':>7s} {'wall/dec':>8s} {'own CPU':>8s} {'ffmpeg CPU':>10s} {'CPU/dec':>8s}"
          f" {'own ms/frame':>12s}")
    for w in settings:
        med = {k: statistics.median(t[k] for t in turns[w]) for k in ("wall", "own", "kids")}
        cpu = statistics.median(t["own"] + t["kids"] for t in turns[w])
        print(f"{w:7d} {med['wall']:7.2f} {med['wall'] / null_wall:8.2f} {med['own']:8.2f} {med['kids']:10.2f}"
              f" {cpu / null_cpu:8.2f} {1000 * med['own'] / frames:12.3f}")


if __name__ == "__main__":
    main()
