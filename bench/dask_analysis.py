"""Benchmark: analysis of a 20-file set on a 2-worker Dask LocalCluster against the local executor.

    .venv/bin/python bench/dask_analysis.py [--files 20] [--seconds 6] [--workers 2] [--scheduler tcp://HOST:8786]

Generates ``files`` clips (640x360 H.264, three shots each, 24000/1001) and analyses them,
without the cache, in one run: with the local process pool of ``workers`` processes (the
baseline) and with :class:`~montage_ai.core.run.dask_executor.DaskExecutor` on a LocalCluster
of ``workers`` single-threaded worker processes (or on ``--scheduler``, whose workers must
see the generated files under the same path). Prints both times, the ratio, the cluster's
start-up time (not in the ratio), and whether the results are identical.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from montage_ai.core.run.dask_executor import DaskExecutor
from montage_ai.core.run.executor import LocalExecutor
from montage_ai.core.run.jobs import analyze_files
from montage_ai.core.samples.footage import Segment, render_footage

RATE = Fraction(24000, 1001)
KINDS = ["testsrc2", "mandelbrot", "smptebars", "gradients", "pan", "life"]


def make_set(folder: Path, files: int, seconds: int) -> list[str]:
    per = max(2, int(round(RATE * seconds / 3)))
    paths = []
    for i in range(files):
        segs = [Segment(KINDS[(i + k) % len(KINDS)], per, seed=i * 3 + k + 1) for k in range(3)]
        path = folder / f"clip{i:02d}.mp4"
        render_footage(path, segs, rate=RATE, size=(640, 360), gop_frames=24, preset="ultrafast")
        paths.append(str(path))
    return paths


def signature(report) -> list:
    return [(a.path, [(s.start_frame, s.end_frame, s.transition_in, s.black, s.best_frame) for s in a.shots],
             a.sharpness, a.motion) for a in report.analyses]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", default=None, help="a running scheduler instead of a LocalCluster")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        files = make_set(Path(tmp), args.files, args.seconds)
        print(f"{args.files} clips of {args.seconds} s (640x360 H.264, 3 shots each) generated in "
              f"{time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        local = analyze_files(files, executor=LocalExecutor(args.workers))
        local_s = time.perf_counter() - t0

        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        cluster = None
        if args.scheduler:
            client = Client(args.scheduler)
        else:
            cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=40)
            client = Client(cluster)
        startup_s = time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            remote = analyze_files(files, executor=DaskExecutor(client))
            dask_s = time.perf_counter() - t0
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        same = signature(local) == signature(remote) and not local.failures and not remote.failures
        where = args.scheduler or f"LocalCluster, {args.workers} worker processes x 1 thread"
        print(f"{'what':52s} {'seconds':>8s}")
        print(f"{f'local executor, {args.workers} processes (baseline)':52s} {local_s:8.2f}")
        print(f"{'Dask (' + where + ')':52s} {dask_s:8.2f}")
        print(f"{'  cluster start-up (not counted)':52s} {startup_s:8.2f}")
        print(f"ratio Dask / local: {dask_s / local_s:.3f}; results identical: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
