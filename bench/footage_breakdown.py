"""Where full footage analysis spends its CPU, stage by stage, against a plain decode.

    .venv/bin/python bench/footage_breakdown.py [--shared ../shared] [--only a,b] [--repeat 3]

For every clip of ``<shared>/realworld/footage/`` (or generated clips when that folder is
absent), in one run, on the same files:

* ``ffmpeg -v error -i X -an -f null -`` (the baseline of ``bench/footage_real.py``), CPU of
  the child process;
* ``probe()`` (the ffprobe run analysis starts with), CPU of the child;
* the analysis decode as ``analyze_footage(mode="full")`` runs it (scaled, 4:2:0, pts filters,
  piped: :func:`~montage_ai.core.media.decode.decode_frames`), CPU of ffmpeg and of reading
  the pipe apart;
* each per-frame stage of :mod:`montage_ai.core.analysis.frame_work` on those frames, one
  thread, in blocks of :data:`~montage_ai.core.analysis.frame_work.BATCH` as the workers run
  them: reductions, shot-detector signatures, border cells, ``quality.measure``, the sampled
  work (features, pattern, faces, subject), and PySceneDetect's ``AdaptiveDetector`` on the
  64x36 frames (the second opinion);
* the whole ``analyze_footage(mode="full")``; what it costs beyond the stages above is the
  rest (threads, shot detection, judgement, glue), printed also in its two halves: its
  ffmpeg/ffprobe children against the probe and decode stages (``rest: ffmpeg``: process
  start-ups, a decode started twice), and this process against the Python stages (``rest:
  Python``). The children's CPU varies most on a loaded machine, so the Python half is the
  steadier figure of the Python side's glue.

Each figure is the median of ``--repeat`` runs. Prints ms a frame and shares of the plain
decode's CPU: figures, not pass/fail. The ffmpeg-side total (probe + analysis decode) is
the floor no Python work can go under; the last line says what the goal (1.3x) leaves the Python
side beside it, and what that side spends.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import scenedetect  # noqa: E402,F401  (imported here, not inside a timed stage)

from footage_real import default_shared  # noqa: E402
from montage_ai.core.analysis import features as F  # noqa: E402
from montage_ai.core.analysis import frame_work as FW  # noqa: E402
from montage_ai.core.analysis import moments as M  # noqa: E402
from montage_ai.core.analysis import obstruction as OB  # noqa: E402
from montage_ai.core.analysis import patterns as P  # noqa: E402
from montage_ai.core.analysis import quality as Q  # noqa: E402
from montage_ai.core.analysis.footage import PIX_FMT, SAMPLES_PER_SECOND, analyze_footage  # noqa: E402
from montage_ai.core.analysis.shot_signatures import frame_signatures  # noqa: E402
from montage_ai.core.media.decode import analysis_size, analysis_threads, decode_frames  # noqa: E402
from montage_ai.core.media.probe import clear_probe_cache, probe  # noqa: E402

STAGES = ("null decode", "probe", "decode (ffmpeg)", "decode (pipe)", "reduce", "signatures", "border cells",
          "measure", "sampled", "pyscenedetect", "rest", "full analysis")
#: The rest in its halves: the children's CPU beyond the probe and decode stages, this process's
#: beyond the Python stages (they add up to "rest").
REST_HALVES = ("rest: ffmpeg", "rest: Python")
FFMPEG_STAGES = ("probe", "decode (ffmpeg)")
#: The goal of issue 18: full analysis at most this many times the plain decode.
GOAL = 1.3


def kids_cpu() -> float:
    k = resource.getrusage(resource.RUSAGE_CHILDREN)
    return k.ru_utime + k.ru_stime


def own_cpu() -> float:
    return time.process_time()


def timed(fn: Callable[[], object], clock: Callable[[], float] = own_cpu) -> float:
    c0 = clock()
    fn()
    return clock() - c0


def stage_cpu(path: str) -> tuple[int, dict[str, float]]:
    """``(frames, CPU seconds per stage)`` of one file, one run."""
    out: dict[str, float] = {}
    out["null decode"] = timed(lambda: subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-an",
                                                       "-f", "null", "-"], check=True), kids_cpu)
    clear_probe_cache()  # every figure is a first look at the file
    k0 = kids_cpu()
    media = probe(path, verify_tail=False)
    out["probe"] = kids_cpu() - k0
    k0, c0 = kids_cpu(), own_cpu()
    frames = list(decode_frames(path, media=media, threads=analysis_threads(media), pix_fmt=PIX_FMT))
    out["decode (ffmpeg)"], out["decode (pipe)"] = kids_cpu() - k0, own_cpu() - c0
    n = len(frames)
    images = np.stack([f.image for f in frames])
    size = analysis_size(media)
    native = (size[0] == media.video.display_width, size[1] == media.video.display_height)
    step = max(1, int(round(float(media.video.rate) / SAMPLES_PER_SECOND)))
    blocks = [slice(i, i + FW.BATCH) for i in range(0, n, FW.BATCH)]
    red: list = []
    out["reduce"] = timed(lambda: red.extend(FW.reduce_block_i420(images[b]) for b in blocks))
    smalls, tinys, lumas = (np.concatenate([r[k] for r in red]) for k in range(3))
    out["signatures"] = timed(lambda: [frame_signatures(smalls[b]) for b in blocks])
    out["border cells"] = timed(lambda: [OB.border_cells_block(smalls[b], tinys[b]) for b in blocks])
    prev = [None] + list(tinys[:-1])
    out["measure"] = timed(lambda: [Q.measure(lumas[i], tinys[i], prev[i], native, FW.measures_detail(i, i % step == 0))
                                    for i in range(n)])

    def sampled() -> None:
        for i in range(0, n, step):
            shift = F.global_shift_px(prev[i], tinys[i]) if prev[i] is not None else None
            FW.features(lumas[i], smalls[i], tinys[i], prev[i], shift)
            P.pattern_kind(None, smalls[i], gray=lumas[i])
            M.count_faces(lumas[i])
            M.subject_strength(tinys[i])
    out["sampled"] = timed(sampled)

    def psd() -> None:
        from scenedetect import AdaptiveDetector, FrameTimecode
        det = AdaptiveDetector(min_scene_len=1)
        for i in range(n):
            det.process_frame(FrameTimecode(i, media.video.rate), smalls[i])
        det.post_process(FrameTimecode(n, media.video.rate))
    out["pyscenedetect"] = timed(psd)
    clear_probe_cache()
    k0, c0 = kids_cpu(), own_cpu()
    analyze_footage(path, mode="full")
    kids, own = kids_cpu() - k0, own_cpu() - c0
    out["full analysis"] = kids + own
    parts = sum(out[s] for s in STAGES[1:-2])
    out["rest"] = out["full analysis"] - parts
    out["rest: ffmpeg"] = kids - sum(out[s] for s in FFMPEG_STAGES)
    out["rest: Python"] = own - sum(out[s] for s in STAGES[1:-2] if s not in FFMPEG_STAGES)
    return n, out


def clips(shared: str) -> list[str]:
    d = Path(shared) / "realworld" / "footage"
    if d.is_dir():
        return sorted(str(p) for p in d.iterdir() if p.suffix in (".mp4", ".avi", ".mov", ".mkv"))
    from montage_ai.core.samples.footage import demo_segments, render_footage
    out = os.path.join(tempfile.mkdtemp(prefix="breakdown-"), "generated.mp4")
    render_footage(out, demo_segments())
    return [out]


def clip_arguments(description: str) -> tuple[argparse.Namespace, list[str]]:
    """The footage benches' command line (``--shared``, ``--only``, ``--repeat``) and the clips it names."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--shared", default=default_shared())
    ap.add_argument("--only", default="", help="comma-separated clip names")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    paths = clips(args.shared)
    if args.only:
        paths = [p for p in paths if Path(p).stem in args.only.split(",")]
    return args, paths


def main() -> None:
    args, paths = clip_arguments(__doc__.splitlines()[0])
    if paths:  # imports and first-call set-up out of the figures
        analyze_footage(paths[0], mode="full")
    total_n, totals = 0, {s: 0.0 for s in STAGES + REST_HALVES}
    print(f"{'clip':20s} {'frames':>6s} " + " ".join(f"{s[:13]:>13s}" for s in STAGES) + "   (ms a frame, CPU)")
    for path in paths:
        runs = [stage_cpu(path) for _ in range(max(1, args.repeat))]
        n = runs[0][0]
        med = {s: statistics.median(r[1][s] for r in runs) for s in STAGES + REST_HALVES}
        total_n += n
        for s in STAGES + REST_HALVES:
            totals[s] += med[s]
        print(f"{Path(path).stem:20s} {n:6d} " + " ".join(f"{1000 * med[s] / max(n, 1):13.3f}" for s in STAGES))
    base = max(totals["null decode"], 1e-9)
    print(f"\ntotal over {total_n} frames (CPU s, ms a frame, share of the plain decode):")
    for s in STAGES[:-1] + REST_HALVES + STAGES[-1:]:
        print(f"  {s:16s} {totals[s]:7.2f} s {1000 * totals[s] / max(total_n, 1):7.3f} ms {totals[s] / base:6.2f}x")
    floor = totals["probe"] + totals["decode (ffmpeg)"]
    print(f"ffmpeg side (probe + analysis decode): {floor / base:.2f}x the plain decode; "
          f"full analysis {totals['full analysis'] / base:.2f}x")
    # What a goal of GOAL x the plain decode's CPU leaves this process, beside the ffmpeg side
    # as measured (its children's CPU in the full analysis), against what it spends.
    kids = floor + totals["rest: ffmpeg"]
    own = totals["full analysis"] - kids
    budget = GOAL * base - kids
    print(f"at {GOAL}x the plain decode, this process may spend {budget:.2f} s "
          f"({1000 * budget / max(total_n, 1):.3f} ms a frame) beside its ffmpeg children's {kids:.2f} s; "
          f"it spends {own:.2f} s ({1000 * own / max(total_n, 1):.3f} ms a frame, {own / max(budget, 1e-9):.1f}x that)")


if __name__ == "__main__":
    main()
