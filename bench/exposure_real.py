"""Exposure judgement on real clips: blown-out and crushed frames against the shot's own key.

    .venv/bin/python bench/exposure_real.py [--shared ../shared]

In one run, on the real clips of ``<shared>/realworld/footage`` (truth JSON beside them,
README there), prints

* per clip, the frames our rule (:mod:`montage_ai.core.analysis.exposure`) flags "blown out"
  / "crushed", and how many of them are good frames (in no ``bad``, gradual, black or unsure
  range of the truth): none of these clips has an exposure fault, so every good frame
  flagged is a false alarm;
* the same for two fixed rules side by side, on the same analysis samples (no library judges
  exposure against a shot's key; these are what a plain exposure check does): "clip share"
  flags a sample with at least half the frame at a clip point, "mean luma" one whose mean
  is under 0.2 or over 0.85 of full scale (the kind of rule that once called low-key film
  "under-exposed");
* real clips with an exposure fault put in by ffmpeg's ``eq`` filter, as an iris or an
  auto-exposure hunt would (a ramp of 10 frames, a hold, a ramp back, inside one shot): the
  frames of the hold flagged by each rule (recall), the frames of the hold no cut may use
  for any reason (flag, black, transition), and the frames flagged outside the ramp.

Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from footage_real import Truth, default_shared  # noqa: E402
from montage_ai.core.analysis.exposure import BLOWN, CRUSHED  # noqa: E402
from montage_ai.core.analysis.footage import FootageAnalysis, analyze_footage, excluded_mask  # noqa: E402

#: (clip, first frame of the fault, last frame of its hold + ramp, eq brightness): inside one shot each.
FAULTS = (
    ("carphone", 30, 90, 0.55), ("carphone", 30, 90, -0.55),
    ("nature_doc", 390, 490, 0.55), ("nature_doc", 390, 490, -0.55),
    ("tiffany_film", 70, 150, 0.55), ("tiffany_film", 70, 150, -0.55),
    ("makeup_webcam", 40, 130, 0.55), ("makeup_webcam", 40, 130, -0.55),
    ("pool_handheld", 100, 200, 0.55), ("pool_handheld", 100, 200, -0.55),
)
RAMP = 10


def ours(a: FootageAnalysis) -> np.ndarray:
    m = np.zeros(a.frame_count, bool)
    for f in a.flags:
        if f.reason in (BLOWN, CRUSHED):
            m[f.first:f.last + 1] = True
    return m


def fixed_rule(a: FootageAnalysis, kind: str) -> np.ndarray:
    """A sample's verdict held over the frames up to the next sample."""
    m = np.zeros(a.frame_count, bool)
    idx = list(a.sample_frames) + [a.frame_count]
    for k, i in enumerate(a.sample_frames):
        hi, lo, ex = a.clipped_high[k], a.clipped_low[k], a.exposure[k]
        if hi is None or lo is None or ex is None:
            continue
        bad = max(hi, lo) >= 0.5 if kind == "clip share" else (ex < 0.2 or ex > 0.85)
        if bad:
            m[i:idx[k + 1]] = True
    black = np.zeros(a.frame_count, bool)
    for s in a.shots:
        if s.black:
            black[s.start_frame:s.end_frame] = True
    return m & ~black  # black runs are segments, not exposure faults, for every rule


def good_frames(t: Truth, n: int) -> np.ndarray:
    good = np.ones(n, bool)
    for b0, b1, _ in t.bad:
        good[b0:b1 + 1] = False
    for g0, g1, _ in t.gradual:
        good[g0:g1 + 1] = False
    for b0, b1 in t.black:
        good[b0:b1 + 1] = False
    for f, r in t.unsure:
        if r is not None and f in ("bad", "black", "gradual"):
            good[r[0]:r[1] + 1] = False
    return good


def with_fault(src: str, out: str, first: int, last: int, gain: float) -> None:
    ramp = f"clip((n-{first})/{RAMP},0,1)*clip(({last}-n)/{RAMP},0,1)"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, "-an", "-vf",
                    f"eq=brightness='{gain}*{ramp}':eval=frame", "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", "18", "-pix_fmt", "yuv420p", out], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=default_shared())
    args = ap.parse_args()
    root = Path(args.shared) / "realworld" / "footage"
    truths = {p.stem: Truth.load(p) for p in sorted(root.glob("*.json"))}
    if not truths:
        sys.exit(f"{root}: no truth files (give --shared)")
    rules = ("ours", "clip share", "mean luma")
    print(f"{'clip':20s} {'good':>5s}  " + "  ".join(f"{r + ' flagged/good':>22s}" for r in rules))
    tot = {r: [0, 0] for r in rules}
    n_good = 0
    for name, t in truths.items():
        a = analyze_footage(t.path, mode="full")
        good = good_frames(t, a.frame_count)
        n_good += int(good.sum())
        cells = []
        for r in rules:
            m = ours(a) if r == "ours" else fixed_rule(a, r)
            tot[r][0] += int(m.sum())
            tot[r][1] += int((m & good).sum())
            cells.append(f"{int(m.sum()):>12d}/{int((m & good).sum()):<9d}")
        print(f"{name:20s} {int(good.sum()):>5d}  " + "  ".join(f"{c:>22s}" for c in cells))
    print(f"{'all':20s} {n_good:>5d}  " + "  ".join(f"{tot[r][0]:>12d}/{tot[r][1]:<9d}" for r in rules)
          + "   (frames flagged / of them good frames: false alarms)")
    print()
    print("real clips with an exposure fault put in (eq brightness over a ramp, a hold, a ramp back):")
    print(f"{'clip':14s} {'fault':>9s} {'hold':>9s}  {'ours':>5s} {'reason':>9s} {'excl.':>5s}  {'clip share':>10s} "
          f"{'mean luma':>9s}   outside the ramp: ours / clip share / mean luma")
    hold_tot = {r: 0 for r in rules}
    excl_tot = n_hold = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, first, last, gain in FAULTS:
            out = str(Path(tmp) / f"{name}_{gain}.mp4")
            with_fault(truths[name].path, out, first, last, gain)
            a = analyze_footage(out, mode="full")
            hold = np.zeros(a.frame_count, bool)
            hold[first + RAMP:last - RAMP + 1] = True
            outside = np.ones(a.frame_count, bool)
            outside[first:last + 1] = False
            outside &= good_frames(truths[name], a.frame_count)
            masks = {r: ours(a) if r == "ours" else fixed_rule(a, r) for r in rules}
            reasons = sorted({f.reason for f in a.flags if f.reason in (BLOWN, CRUSHED)
                              and f.first <= last and f.last >= first})
            excl = int((excluded_mask(a) & hold).sum())
            n = int(hold.sum())
            n_hold += n
            excl_tot += excl
            for r in rules:
                hold_tot[r] += int((masks[r] & hold).sum())
            print(f"{name:14s} {('blow' if gain > 0 else 'crush') + f' {gain:+.2f}':>9s} {f'{first + RAMP}-{last - RAMP}':>9s}  "
                  f"{int((masks['ours'] & hold).sum()):>2d}/{n:<2d} {','.join(reasons) or '-':>9s} {excl:>2d}/{n:<2d}  "
                  f"{int((masks['clip share'] & hold).sum()):>5d}/{n:<4d} {int((masks['mean luma'] & hold).sum()):>4d}/{n:<4d}"
                  f"   {int((masks['ours'] & outside).sum())} / {int((masks['clip share'] & outside).sum())} / "
                  f"{int((masks['mean luma'] & outside).sum())}")
    print(f"hold frames flagged: ours {hold_tot['ours']}/{n_hold}, clip share {hold_tot['clip share']}/{n_hold}, "
          f"mean luma {hold_tot['mean luma']}/{n_hold}; excluded from cuts for any reason {excl_tot}/{n_hold}")


if __name__ == "__main__":
    main()
