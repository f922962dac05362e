"""Beat, downbeat and tempo benchmark on real recordings with human annotations.

Run:  .venv/bin/python bench/beats_real.py [--music-dir DIR] [--only NAME ...] [--classic]
                                           [--candidates-python OTHER_VENV/bin/python] [--sweep]

Default folder: ``../shared/realworld/music`` beside the repository (or
``$MONTAGE_SHARED/realworld/music``): one ``NAME.flac`` + ``NAME.beats`` per track, a beat per
line as ``time`` or ``time<TAB>beat_in_bar`` (1 = downbeat).

For every track, on the same decoded signal (22050 Hz mono) in the same run:
  ours      montage_ai's full music analysis (neural tracker: BeatNet model 1 in numpy + bar DBN)
  tracker   our beat tracker alone (features + network + DBN), for the time split
  librosa   ``librosa.beat.beat_track`` with its defaults (no downbeats)
  classic   (--classic) our previous signal-processing tracker, the fallback
  beatnet-torch, madmom  (--candidates-python) the originals, in a separate environment
            that has torch/madmom/BeatNet (bench/beats_candidates.py); never product deps.
Scores (mir_eval, as docs/analysis.md says): beat F-measure (70 ms) after ``trim_beats``,
CMLt and AMLt, downbeat F on the rows numbered 1, Acc1 (tempo from the median inter-beat
interval within 4 % of the annotation's) and Acc2 (also at 1/3, 1/2, 2, 3 times).
Times are wall-clock seconds per track (decoding excluded, the same signal for all); the
ratio is ours / librosa summed over the tracks, in wall time and in CPU time (all threads; the
steadier figure when other work shares the machine). Figures, not pass/fail.
``--sweep`` also runs the tracker alone with each of its tuned thresholds moved to neighbouring
values (one at a time), printing mean beat F and the count at or above librosa for each: the
thresholds were chosen with this set in view, and the sweep shows how wide each plateau is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def default_music_dir() -> Path:
    env = os.environ.get("MONTAGE_SHARED")
    bases = [Path(env)] if env else [ROOT.parent / "shared", ROOT.parent.parent / "shared"]
    for base in bases:  # beside the clone; or beside the worktrees' folder
        if (base / "realworld" / "music").is_dir():
            return base / "realworld" / "music"
    return bases[0] / "realworld" / "music"


def read_beats(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Beat times and, when annotated, their numbers in the bar."""
    rows = [ln.split() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    times = np.array([float(r[0]) for r in rows])
    nums = np.array([int(float(r[1])) for r in rows]) if rows and all(len(r) > 1 for r in rows) else None
    return times, nums


def _tempo(beats: np.ndarray) -> float:
    return float(60.0 / np.median(np.diff(beats))) if len(beats) > 1 else 0.0


def score(ref: np.ndarray, ref_nums: np.ndarray | None, est: np.ndarray,
          est_nums: np.ndarray | None) -> dict[str, float]:
    import mir_eval

    r = mir_eval.beat.trim_beats(np.asarray(ref, float))
    e = mir_eval.beat.trim_beats(np.asarray(est, float))
    out = {"F": mir_eval.beat.f_measure(r, e), "CMLt": 0.0, "AMLt": 0.0}
    if len(r) >= 2 and len(e) >= 2:
        _, out["CMLt"], _, out["AMLt"] = mir_eval.beat.continuity(r, e)
    out["dF"] = float("nan")
    if ref_nums is not None and est_nums is not None:
        rd = mir_eval.beat.trim_beats(np.asarray(ref, float)[ref_nums == 1])
        ed = mir_eval.beat.trim_beats(np.asarray(est, float)[np.asarray(est_nums) == 1])
        out["dF"] = mir_eval.beat.f_measure(rd, ed)
    t_ref, t_est = _tempo(np.asarray(ref, float)), _tempo(np.asarray(est, float))
    out["Acc1"] = float(t_est > 0 and abs(t_est - t_ref) <= 0.04 * t_ref)
    out["Acc2"] = float(t_est > 0 and any(abs(t_est - k * t_ref) <= 0.04 * k * t_ref
                                          for k in (1 / 3, 1 / 2, 1, 2, 3)))
    out["bpm"] = t_est
    return out


def _run_candidates(python: str, files: list[Path]) -> dict:
    cmd = [python, str(ROOT / "bench" / "beats_candidates.py"), *map(str, files)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"candidates not run: {exc}", file=sys.stderr)
        return {}
    if p.returncode != 0:
        print(f"candidates failed: {p.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return {}
    for line in p.stderr.splitlines():
        if "unavailable" in line:
            print(line, file=sys.stderr)
    return json.loads(p.stdout)


#: The tracker's thresholds chosen with the real set in view, and the neighbouring values the
#: sweep tries (one at a time; a huge value switches the check off).
SWEEP = {
    "SWING_PHASE_LEVEL": (0.6, 0.7, 0.9, 9.0),
    "SWING_PHASE_MARGIN": (0.05, 0.15, 0.35, 9.0),
    "THREE_HALVES_LP_RATIO": (0.7, 0.72, 0.8, 0.85, 9.0),
    "THREE_HALVES_ONSET_VETO": (0.0, 0.02, 0.13, 0.2, 0.3),
    "HALF_REPEAT": (0.0, 0.08, 0.15, 0.2),
    "HALF_MARGIN": (0.0, 0.02, 0.08, 0.1, 9.0),
    "DOUBLE_MID_LEVEL": (0.4, 0.5, 0.6, 0.7, 0.86, 0.9, 9.0),
    "DOUBLE_MAX_BPM": (200.0, 220.0, 260.0),
}


def sweep(signals: dict[str, tuple[np.ndarray, np.ndarray]], sr: int, librosa_f: dict[str, float]) -> None:
    """Mean beat F of the tracker alone, and its count at or above librosa, with each tuned
    threshold of :mod:`beat_tracker` moved to its neighbours (the others as shipped)."""
    from montage_ai.core.analysis import beat_tracker as bt

    def run(label: str) -> None:
        fs = {n: score(ref, None, bt.track_signal(y, sr).beat_times_s, None)["F"] for n, (y, ref) in signals.items()}
        ge = sum(fs[n] >= librosa_f[n] for n in fs)
        print(f"  {label:36s} beat F {np.mean(list(fs.values())):.3f}  >= librosa on {ge} of {len(fs)}")

    print(f"\nsweep over {len(signals)} tracks (the tracker alone):")
    run("as shipped")
    for name, values in SWEEP.items():
        shipped = getattr(bt, name)
        try:
            for v in values:
                setattr(bt, name, v)
                run(f"{name} = {v} (shipped {shipped})")
        finally:
            setattr(bt, name, shipped)


def _fmt(v: float) -> str:
    return "  -  " if v != v else f"{v:5.3f}"


def main(argv: list[str] | None = None) -> int:
    import librosa

    from montage_ai.core.analysis.beat_tracker import track_signal
    from montage_ai.core.analysis.music import analyze_music_signal, load_audio

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--music-dir", type=Path, default=default_music_dir())
    ap.add_argument("--only", nargs="*", help="track names (file stems) to run")
    ap.add_argument("--classic", action="store_true", help="also score the signal-processing fallback (slow)")
    ap.add_argument("--candidates-python", help="a python with torch/madmom/BeatNet for the originals")
    ap.add_argument("--candidates-cache", type=Path,
                    help="JSON file: read the candidates' results from it if it exists, else write them there")
    ap.add_argument("--sweep", action="store_true", help="also move each tuned threshold to its neighbours")
    args = ap.parse_args(argv)
    tracks = sorted(p for p in args.music_dir.glob("*.beats") if p.with_suffix(".flac").exists())
    if args.only:
        tracks = [p for p in tracks if p.stem in args.only]
    if not tracks:
        print(f"no NAME.flac + NAME.beats pairs in {args.music_dir}")
        return 1
    sr = 22050
    y0 = load_audio(tracks[0].with_suffix(".flac"), sr=sr)        # warm-up: JIT, FFT plans
    librosa.beat.beat_track(y=y0, sr=sr)
    analyze_music_signal(y0, sr)
    cands: dict = {}
    if args.candidates_cache and args.candidates_cache.exists():
        cands = json.loads(args.candidates_cache.read_text())
    elif args.candidates_python:
        cands = _run_candidates(args.candidates_python, [t.with_suffix(".flac") for t in tracks])
        if args.candidates_cache and cands:
            args.candidates_cache.write_text(json.dumps(cands))

    methods = ["ours", "librosa"] + (["classic"] if args.classic else [])
    scores: dict[str, dict[str, dict[str, float]]] = {}
    times: dict[str, dict[str, float]] = {}
    doubts: dict[str, str] = {}
    signals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    cpu = {"ours": 0.0, "librosa": 0.0}      # CPU seconds (all threads): steadier than wall time on a busy machine
    for t in tracks:
        ref, ref_nums = read_beats(t)
        y = load_audio(t.with_suffix(".flac"), sr=sr)
        row, trow = {}, {}
        t0, c0 = time.perf_counter(), time.process_time()
        _, lb = librosa.beat.beat_track(y=y, sr=sr, units="time")
        trow["librosa"], cpu["librosa"] = time.perf_counter() - t0, cpu["librosa"] + time.process_time() - c0
        row["librosa"] = score(ref, ref_nums, lb, None)
        if args.sweep:
            signals[t.stem] = (y, ref)
        t0, c0 = time.perf_counter(), time.process_time()
        a = analyze_music_signal(y, sr)
        trow["ours"], cpu["ours"] = time.perf_counter() - t0, cpu["ours"] + time.process_time() - c0
        bt = np.asarray(a.beat_times_s)
        nums = np.array([1 if any(abs(b - d) < 1e-9 for d in a.downbeat_times_s) else 2 for b in bt])
        row["ours"] = score(ref, ref_nums, bt, nums)
        c = a.confidence
        doubts[t.stem] = "" if c is None else f"t{c.tempo:.2f} b{c.beats:.2f} d{c.downbeats:.2f} " + "; ".join(c.doubts)
        t0 = time.perf_counter()
        track_signal(y, sr)
        trow["tracker"] = time.perf_counter() - t0
        if args.classic:
            t0 = time.perf_counter()
            ac = analyze_music_signal(y, sr, tracker="classic")
            trow["classic"] = time.perf_counter() - t0
            cb = np.asarray(ac.beat_times_s)
            cn = np.array([1 if any(abs(b - d) < 1e-9 for d in ac.downbeat_times_s) else 2 for b in cb])
            row["classic"] = score(ref, ref_nums, cb, cn)
        for name, r in cands.get(str(t.with_suffix(".flac")), {}).items():
            if name not in methods:
                methods.append(name)
            row[name] = score(ref, ref_nums, np.array(r["beats"]), np.array(r["beat_numbers"]))
            trow[name] = float(r["time_s"])
        scores[t.stem], times[t.stem] = row, trow

    keys = ["F", "CMLt", "AMLt", "dF", "Acc1", "Acc2"]
    print(f"{'track':24s} {'method':14s} " + " ".join(f"{k:>5s}" for k in keys) + "   bpm  time_s")
    for name, row in scores.items():
        for m in methods:
            if m in row:
                s = row[m]
                print(f"{name:24s} {m:14s} " + " ".join(_fmt(s[k]) for k in keys)
                      + f" {s['bpm']:6.1f} {times[name].get(m, float('nan')):6.2f}")
        print(f"{'':24s} confidence     {doubts[name]}")
    groups = {"GTZAN (30)": [n for n in scores if n.startswith("gtzan_")], "all": list(scores)}
    for gname, names in groups.items():
        if not names:
            continue
        print(f"\nmeans over {gname}: {len(names)} tracks")
        for m in methods:
            have = [n for n in names if m in scores[n]]
            if not have:
                continue
            means = [np.nanmean([scores[n][m][k] for n in have]) if any(
                scores[n][m][k] == scores[n][m][k] for n in have) else float("nan") for k in keys]
            print(f"  {m:14s} " + " ".join(f"{k} {_fmt(v)}" for k, v in zip(keys, means)))
        ge = sum(scores[n]["ours"]["F"] >= scores[n]["librosa"]["F"] for n in names)
        print(f"  ours beat F >= librosa's on {ge} of {len(names)}")
        fails = [n for n in names if scores[n]["ours"]["F"] < 0.8]
        print(f"  ours beat F < 0.80 on: {', '.join(fails) if fails else 'none'}")
    tot = {m: sum(times[n].get(m, 0.0) for n in scores) for m in ("ours", "tracker", "librosa")}
    print(f"\ntime over {len(scores)} tracks: ours {tot['ours']:.2f} s (tracker alone {tot['tracker']:.2f} s), "
          f"librosa beat_track {tot['librosa']:.2f} s; ratio ours/librosa {tot['ours'] / max(tot['librosa'], 1e-9):.2f}x"
          f" (tracker alone {tot['tracker'] / max(tot['librosa'], 1e-9):.2f}x)")
    print(f"CPU time over {len(scores)} tracks: ours {cpu['ours']:.2f} s, librosa beat_track {cpu['librosa']:.2f} s; "
          f"ratio ours/librosa {cpu['ours'] / max(cpu['librosa'], 1e-9):.2f}x")
    if args.sweep and signals:
        gtzan = {n: v for n, v in signals.items() if n.startswith("gtzan_")}   # the goals' set, when present
        sweep(gtzan or signals, sr, {n: scores[n]["librosa"]["F"] for n in signals})
    return 0


if __name__ == "__main__":
    sys.exit(main())
