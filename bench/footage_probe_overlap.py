"""What the probe costs a footage analysis, probe-first against the decode started while ffprobe runs.

    .venv/bin/python bench/footage_probe_overlap.py [--shared ../shared] [--only a,b] [--repeat 3]

For every clip of ``<shared>/realworld/footage/`` (or a generated clip when that folder is
absent), in one run; a round runs each of these over all clips in order (as a folder is
analysed: the thread choice the overlapped decode guesses is the previous clip's):

* ``ffmpeg -v error -i X -an -f null -``: the plain decode, the baseline of ``bench/footage_real.py``;
* the ffmpeg side alone, two ways: ``probe()`` then the analysis decode (what analysis did
  before), and :func:`~montage_ai.core.media.early_decode.decode_while_probing` (the decode's ffmpeg
  started while ffprobe runs);
* the whole ``analyze_footage(mode="full")`` both ways: given the probe it made first
  (``media=probe(...)``, the old order, the probe's time counted), and on its own (the new order).

The probe cache is cleared before each run (a first look at each file). Wall and CPU (this
process and its children) are the medians of ``--repeat`` rounds; ratios are to the plain
decode of the same round. Figures, not pass/fail.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from footage_breakdown import clip_arguments  # noqa: E402
from montage_ai.core.analysis.footage import PIX_FMT, analyze_footage  # noqa: E402
from montage_ai.core.media.decode import analysis_threads, decode_frames  # noqa: E402
from montage_ai.core.media.early_decode import decode_while_probing  # noqa: E402
from montage_ai.core.media.probe import clear_probe_cache, probe, start_probe  # noqa: E402

RUNS = ("null decode", "probe + decode", "overlapped decode", "analysis, probe first", "analysis, overlapped")


def cpu_s() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    clear_probe_cache()
    c0, t0 = cpu_s(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, cpu_s() - c0


def probe_then_decode(path: str) -> None:
    media = probe(path, verify_tail=False)
    for _ in decode_frames(path, media=media, threads=analysis_threads(media), pix_fmt=PIX_FMT):
        pass


def overlapped_decode(path: str) -> None:
    _, frames = decode_while_probing(path, start_probe(path, verify_tail=False), pix_fmt=PIX_FMT)
    try:
        for _ in frames:
            pass
    finally:
        frames.close()


def run_of(kind: str, path: str) -> Callable[[], object]:
    return {
        "null decode": lambda: subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-an", "-f", "null", "-"],
                                              check=True),
        "probe + decode": lambda: probe_then_decode(path),
        "overlapped decode": lambda: overlapped_decode(path),
        "analysis, probe first": lambda: analyze_footage(path, mode="full", media=probe(path, verify_tail=False)),
        "analysis, overlapped": lambda: analyze_footage(path, mode="full"),
    }[kind]


def main() -> None:
    args, paths = clip_arguments(__doc__.splitlines()[0])
    analyze_footage(paths[0], mode="full")  # imports, the thread guess: not in the figures
    rounds: dict[str, list[dict[str, tuple[float, float]]]] = {p: [] for p in paths}
    for _ in range(args.repeat):
        got: dict[str, dict[str, tuple[float, float]]] = {p: {} for p in paths}
        for kind in RUNS:  # each kind over the clips in order, as a folder is analysed
            for p in paths:
                got[p][kind] = timed(run_of(kind, p))
        for p in paths:
            rounds[p].append(got[p])
    print(f"{'clip':22s} " + " ".join(f"{r:>22s}" for r in RUNS) + "   (wall s / CPU s, medians)")
    tot = {r: [0.0, 0.0] for r in RUNS}
    for p in paths:
        med = {r: (statistics.median(x[r][0] for x in rounds[p]), statistics.median(x[r][1] for x in rounds[p]))
               for r in RUNS}
        for r in RUNS:
            tot[r][0] += med[r][0]
            tot[r][1] += med[r][1]
        print(f"{Path(p).name:22s} " + " ".join(f"{med[r][0]:>10.3f} / {med[r][1]:>9.3f}" for r in RUNS))
    base_w, base_c = tot["null decode"]
    print()
    for r in RUNS:
        print(f"{r:24s} wall {tot[r][0]:7.2f} s ({tot[r][0] / base_w:.2f}x the plain decode), "
              f"CPU {tot[r][1]:7.2f} s ({tot[r][1] / base_c:.2f}x)")


if __name__ == "__main__":
    main()
