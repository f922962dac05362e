"""Footage judgement on real clips with truth: boundaries, bad frames, what reaches a cut.

    .venv/bin/python bench/footage_real.py [--shared ../shared] [--styles dynamic,mtv] [--no-cut]

Reads every ``NAME.json`` truth file in ``<shared>/realworld/footage/`` (README there) and,
in one run, on the same files:

* times ``ffmpeg -nostdin -v error -i X -an -f null -`` (the baseline: a plain decode of the
  video, default threads),
  wall clock and CPU (this process and its children: the CPU ratio is the work done, which
  other load on the machine does not change),
  ``analyze_footage(mode="full")`` and ``mode="fast"`` (boundaries compared with full), and
  PySceneDetect's ``AdaptiveDetector`` through its own ``detect()`` (the library side by side);
* scores boundaries as the README suggests: hard cuts exact (and within 1 frame), gradual
  transitions marked (a reported boundary inside the span or a reported span overlapping it),
  false boundaries (any reported boundary that is no cut (+-1) and lies in no gradual or black
  range; those inside a ``traps`` range are counted apart); ``unsure`` ranges are neither
  rewarded nor punished;
* scores frame judgement: a ``bad`` range counts as flagged when at least half of its frames
  are excluded (a quality flag, a transition, black); the false-alarm share is the share of
  good frames (in no bad, gradual, black or unsure range) that are excluded; per reason
  flagged frames are listed;
* makes rough cuts (the rules planner, each style given, a real 30 s song from
  ``realworld/music``) and selects from all the clips and counts source frames inside ``bad``
  ranges that end up in them (unsure ones shown apart), and best frames within 3 frames of a
  usable edge or inside a bad range.

Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from montage_ai.core.analysis.footage import FootageAnalysis, analyze_footage, excluded_mask  # noqa: E402
from montage_ai.core.analysis.music import analyze_music  # noqa: E402
from montage_ai.core.cut.assembly import assemble  # noqa: E402
from montage_ai.core.cut.selects import SelectsOptions, choose_selects  # noqa: E402
from montage_ai.core.media.probe import clear_probe_cache  # noqa: E402
from montage_ai.core.plan.planner import RulesPlanner, make_request  # noqa: E402
from montage_ai.core.plan.styles import load_style  # noqa: E402

SONG = "music/gtzan_rock_00069.flac"


@dataclass
class Truth:
    name: str
    path: str
    frames: int
    cuts: list[int]
    gradual: list[tuple[int, int, str]]
    black: list[tuple[int, int]]
    bad: list[tuple[int, int, str]]
    traps: list[tuple[int, int, str]]
    good: list[int]
    unsure: list[tuple[str, tuple[int, int] | None]] = field(default_factory=list)

    @classmethod
    def load(cls, json_path: Path) -> "Truth":
        d = json.loads(json_path.read_text())
        uns = [(u["field"], tuple(u["range"]) if "range" in u else None) for u in d.get("unsure", [])]
        return cls(json_path.stem, str(json_path.parent / d["file"]), int(d["frames"]), list(d["cuts"]),
                   [tuple(g) for g in d["gradual"]], [tuple(b) for b in d["black"]],
                   [tuple(b) for b in d["bad"]], [tuple(t) for t in d["traps"]], list(d["good"]), uns)

    def is_unsure(self, fieldname: str, rng: tuple[int, int]) -> bool:
        return any(f == fieldname and (r is None or tuple(r) == tuple(rng)) for f, r in self.unsure)


def cpu_s() -> float:
    """CPU seconds of this process and its finished children (ffmpeg, ffprobe)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def ffmpeg_null_s(path: str) -> tuple[float, float]:
    """(wall, CPU) seconds of a plain decode."""
    c0, t0 = cpu_s(), time.perf_counter()
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-an", "-f", "null", "-"], check=True)
    return time.perf_counter() - t0, cpu_s() - c0


def pyscenedetect(path: str) -> tuple[list[int], float]:
    from scenedetect import AdaptiveDetector, detect

    logging.getLogger("pyscenedetect").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    scenes = detect(path, AdaptiveDetector())
    return [s[0].frame_num for s in scenes[1:]], time.perf_counter() - t0


def spans_of(a: FootageAnalysis) -> list[tuple[int, int]]:
    out = set()
    for s in a.shots:
        for t in (s.transition_in, s.transition_out):
            if t:
                out.add(tuple(t))
    return sorted(out)


def score_boundaries(t: Truth, found: list[int], spans: list[tuple[int, int]]) -> dict:
    exact = sum(1 for c in t.cuts if c in found)
    near = sum(1 for c in t.cuts if any(abs(c - f) <= 1 for f in found))
    marked = unsure_g = 0
    counted = 0
    for g0, g1, _ in t.gradual:
        hit = any(g0 <= f <= g1 + 1 for f in found) or any(a <= g1 and g0 <= b for a, b in spans)
        if t.is_unsure("gradual", (g0, g1)):
            unsure_g += hit
            continue
        counted += 1
        marked += hit
    legit = set()
    for c in t.cuts:
        legit.update((c - 1, c, c + 1))
    for g0, g1, _ in t.gradual:
        legit.update(range(g0 - 1, g1 + 3))
    for b0, b1 in t.black:
        legit.update(range(b0 - 1, b1 + 3))
    false = [f for f in found if f not in legit]
    in_traps = [f for f in false if any(a <= f <= b + 1 for a, b, _ in t.traps)]
    return dict(cuts=len(t.cuts), exact=exact, near=near, gradual=counted, marked=marked,
                false=false, false_traps=in_traps, unsure_gradual_hit=unsure_g)


def score_frames(t: Truth, a: FootageAnalysis) -> dict:
    n = min(t.frames, a.frame_count)
    excl = excluded_mask(a)[:n]
    bad_mask = [False] * n
    ranges = []
    for b0, b1, why in t.bad:
        b1 = min(b1, n - 1)
        share = sum(excl[b0:b1 + 1]) / max(1, b1 - b0 + 1)
        ranges.append((b0, b1, why, share, t.is_unsure("bad", (b0, b1))))
        for i in range(b0, b1 + 1):
            bad_mask[i] = True
    neutral = [False] * n
    for g0, g1, _ in t.gradual:
        for i in range(g0, min(g1, n - 1) + 1):
            neutral[i] = True
    for b0, b1 in t.black:
        for i in range(b0, min(b1, n - 1) + 1):
            neutral[i] = True
    for f, r in t.unsure:
        if r is not None and f in ("bad", "black", "gradual"):
            for i in range(r[0], min(r[1], n - 1) + 1):
                neutral[i] = True
    good = [i for i in range(n) if not bad_mask[i] and not neutral[i]]
    false_alarm = sum(1 for i in good if excl[i])
    reasons = Counter()
    for fl in a.flags:
        reasons[fl.reason] += fl.last - fl.first + 1
    return dict(ranges=ranges, good=len(good), false_alarm=false_alarm, reasons=dict(reasons))


def bad_frames_in(t_by_path: dict[str, Truth], pieces: list[tuple[str, int, int]]) -> tuple[int, int, list[str]]:
    """(sure, unsure, where) bad frames in source pieces ``(path, in, out)``."""
    sure = unsure = 0
    where = []
    for path, s_in, s_out in pieces:
        t = t_by_path.get(path)
        if t is None:
            continue
        for b0, b1, why in t.bad:
            k = max(0, min(s_out, b1 + 1) - max(s_in, b0))
            if k:
                if t.is_unsure("bad", (b0, b1)):
                    unsure += k
                else:
                    sure += k
                where.append(f"{t.name}[{max(s_in, b0)}-{min(s_out, b1 + 1) - 1}] {why} x{k}")
    return sure, unsure, where


def edge_and_bad_best(t_by_path: dict[str, Truth], analyses: list[FootageAnalysis]) -> tuple[int, int, int]:
    near_edge = in_bad = total = 0
    for a in analyses:
        t = t_by_path[a.path]
        for s in a.shots:
            if s.black or s.usable_end_frame - s.usable_start_frame < 12:
                continue
            total += 1
            if min(s.best_frame - s.usable_start_frame, s.usable_end_frame - 1 - s.best_frame) < 3:
                near_edge += 1
            if any(b0 <= s.best_frame <= b1 for b0, b1, _ in t.bad if not t.is_unsure("bad", (b0, b1))):
                in_bad += 1
    return near_edge, in_bad, total


def default_shared() -> str:
    """``$MONTAGE_SHARED``, else ``shared/`` beside the repository (or beside its parent,
    for a worktree under a folder of worktrees)."""
    if os.environ.get("MONTAGE_SHARED"):
        return os.environ["MONTAGE_SHARED"]
    for up in (HERE.parent.parent, HERE.parent.parent.parent):
        if (up / "shared" / "realworld").is_dir():
            return str(up / "shared")
    return str(HERE.parent.parent / "shared")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=default_shared())
    ap.add_argument("--styles", default="dynamic,cinematic,mtv,documentary")
    ap.add_argument("--no-cut", action="store_true")
    ap.add_argument("--no-fast", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated clip names")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pyscenedetect").setLevel(logging.WARNING)
    root = Path(args.shared) / "realworld"
    truths = [Truth.load(p) for p in sorted((root / "footage").glob("*.json"))]
    if args.only:
        truths = [t for t in truths if t.name in args.only.split(",")]
    if not truths:
        sys.exit(f"no truth files under {root / 'footage'}")
    analyses: list[FootageAnalysis] = []
    tot = Counter()
    print(f"{'clip':20s} {'cuts':>7s} {'grad':>5s} {'false':>5s} {'psd cut':>7s} {'psd fls':>7s} "
          f"{'bad flagged':>11s} {'false alarm':>12s} {'full/dec':>8s} {'fast/full':>9s}  flags")
    for t in truths:
        dec, dec_cpu = ffmpeg_null_s(t.path)
        clear_probe_cache()  # each analysis probes the file as a first look would
        c0, t0 = cpu_s(), time.perf_counter()
        a = analyze_footage(t.path, mode="full")
        full_s, full_cpu = time.perf_counter() - t0, cpu_s() - c0
        analyses.append(a)
        if args.no_fast:
            fast_s, same = float("nan"), True
        else:
            clear_probe_cache()
            t0 = time.perf_counter()
            fa = analyze_footage(t.path, mode="fast")
            fast_s = time.perf_counter() - t0
            same = fa.boundaries == a.boundaries
        psd, psd_s = pyscenedetect(t.path)
        b = score_boundaries(t, list(a.boundaries), spans_of(a))
        pb = score_boundaries(t, psd, [])
        fr = score_frames(t, a)
        sure = [r for r in fr["ranges"] if not r[4]]
        tot.update({
            "dec": dec, "full": full_s, "fast": fast_s, "psd_s": psd_s, "dec_cpu": dec_cpu, "full_cpu": full_cpu,
            "cuts": b["cuts"], "exact": b["exact"], "near": b["near"], "gradual": b["gradual"],
            "marked": b["marked"], "false": len(b["false"]), "false_traps": len(b["false_traps"]),
            "psd_exact": pb["exact"], "psd_marked": pb["marked"], "psd_false": len(pb["false"]),
            "bad": len(sure), "bad_hit": sum(1 for r in sure if r[3] >= 0.5),
            "bad_all": len(fr["ranges"]), "bad_all_hit": sum(1 for r in fr["ranges"] if r[3] >= 0.5),
            "good": fr["good"], "false_alarm": fr["false_alarm"],
        })
        tot["fast_differs"] += 0 if same else 1
        bad_txt = " ".join(f"{r[2]}{'?' if r[4] else ''}:{r[3]:.0%}" for r in fr["ranges"]) or "-"
        print(f"{t.name:20s} {b['exact']:>3d}/{b['cuts']:<3d} {b['marked']:>2d}/{b['gradual']:<2d} "
              f"{len(b['false']):>5d} {pb['exact']:>3d}/{pb['cuts']:<3d} {len(pb['false']):>7d} "
              f"{bad_txt:>11s} {fr['false_alarm']:>5d}/{fr['good']:<6d} {full_s / dec:>8.2f} "
              f"{fast_s / full_s:>8.2f}{'' if same else '!'}  {fr['reasons']}")
        print(f"{'':20s} boundaries {list(a.boundaries)}; time: decode {dec:.2f} s, full {full_s:.2f} s "
              f"({full_s / dec:.2f}x wall, {full_cpu / max(dec_cpu, 1e-6):.2f}x CPU)")
        if b["false"]:
            print(f"{'':20s} false boundaries at {b['false']} (in traps: {b['false_traps']})")
    print()
    print(f"hard cuts exact {tot['exact']}/{tot['cuts']} (within 1: {tot['near']}), transitions marked "
          f"{tot['marked']}/{tot['gradual']}, false boundaries {tot['false']} ({tot['false_traps']} in traps)")
    print(f"PySceneDetect AdaptiveDetector: cuts exact {tot['psd_exact']}/{tot['cuts']}, transitions "
          f"{tot['psd_marked']}/{tot['gradual']}, false {tot['psd_false']}, {tot['psd_s']:.2f} s")
    print(f"bad ranges flagged (>= half their frames excluded): {tot['bad_hit']}/{tot['bad']} sure "
          f"(recall {tot['bad_hit'] / max(1, tot['bad']):.2f}), {tot['bad_all_hit']}/{tot['bad_all']} with unsure; "
          f"good frames excluded {tot['false_alarm']}/{tot['good']} ({tot['false_alarm'] / max(1, tot['good']):.1%})")
    print(f"CPU: ffmpeg -f null {tot['dec_cpu']:.2f} s, full analysis {tot['full_cpu']:.2f} s "
          f"({tot['full_cpu'] / max(tot['dec_cpu'], 1e-6):.2f}x decode; the work done, whatever else runs on the machine)")
    print(f"time: ffmpeg -f null {tot['dec']:.2f} s, full analysis {tot['full']:.2f} s "
          f"({tot['full'] / tot['dec']:.2f}x decode), fast {tot['fast']:.2f} s ({tot['fast'] / tot['full']:.2f}x full, "
          f"boundaries differ on {tot['fast_differs']} clips)")
    t_by_path = {a.path: t for a, t in zip(analyses, truths)}
    near_edge, in_bad, n_best = edge_and_bad_best(t_by_path, analyses)
    print(f"best frames: {near_edge}/{n_best} within 3 frames of a usable edge, {in_bad} inside a bad range")
    if args.no_cut:
        return
    music = analyze_music(str(root / SONG))
    for style_name in args.styles.split(","):
        style = load_style(style_name)
        req = make_request(analyses, music, style, seed=1)
        plan = RulesPlanner().plan(req)
        cl = assemble(plan, analyses, music, style, seed=1)
        pieces = [(c.source_path, c.source_in, math.ceil(c.source_out(cl.rate))) for c in cl.cuts]
        sure, uns, where = bad_frames_in(t_by_path, pieces)
        print(f"rough cut {style_name:12s}: {len(cl.cuts)} cuts, bad frames used {sure} (unsure {uns}) {where}")
    sel = choose_selects(analyses, SelectsOptions())
    pieces = [(p.path, p.source_in, p.source_out) for p in sel.picks]
    sure, uns, where = bad_frames_in(t_by_path, pieces)
    print(f"selects: {len(sel.picks)} picks, bad frames used {sure} (unsure {uns}) {where}")
    print_key_ranks(t_by_path, analyses, sel.picks)


#: The low-key real clips: their scores should not suffer for their look (issue 18).
LOW_KEY = ("tiffany_film", "makeup_webcam", "bokeh_night")


def print_key_ranks(t_by_path: dict[str, Truth], analyses: list[FootageAnalysis], picks: list) -> None:
    """Shot scores of the low-key clips and where their picks rank among all selects by score."""
    ranked = sorted(picks, key=lambda p: -p.score)
    for a in analyses:
        name = t_by_path[a.path].name
        if name not in LOW_KEY:
            continue
        shots = [s for s in a.shots if s.scores and not s.black]
        best = [max(s.scores) for s in shots]
        mean = [float(np.mean([v for v in s.scores if v > 0] or [0.0])) for s in shots]
        mine = [(k + 1, p.score) for k, p in enumerate(ranked) if p.path == a.path]
        expo = [s.exposure for s in shots if s.exposure is not None]
        print(f"low-key {name:14s}: mean luma {np.mean(expo) if expo else float('nan'):.2f}, shot best scores "
              f"{' '.join(f'{v:.3f}' for v in best)}, mean usable {np.mean(mean) if mean else 0:.3f}; selects rank "
              f"{', '.join(f'#{r} ({v:.3f})' for r, v in mine) or 'not picked'} of {len(ranked)}")


if __name__ == "__main__":
    main()
