"""Beat, downbeat and tempo benchmark on the synthesized set (montage_ai.core.samples.music).

Run:  .venv/bin/python bench/beats.py [--only NAME ...] [--verbose]

For each preset it renders the track, runs our analysis and ``librosa.beat.beat_track``
with its defaults on the same signal, and scores both the way docs/analysis.md says:
mir_eval F-measure (70 ms window) after ``trim_beats`` on reference and estimate,
CMLt / AMLt continuity, and the downbeat F-measure (ours only: librosa has no downbeats).
Columns: m = metre found / true; bnd = true section boundaries found within one beat /
true boundaries / boundaries reported.
Times are wall-clock seconds in this run on this machine; the ratio is ours / librosa.
Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import numpy as np


def _score(ref: np.ndarray, est: np.ndarray) -> tuple[float, float, float]:
    import mir_eval

    r = mir_eval.beat.trim_beats(np.asarray(ref, dtype=float))
    e = mir_eval.beat.trim_beats(np.asarray(est, dtype=float))
    f = mir_eval.beat.f_measure(r, e)
    if len(r) < 2 or len(e) < 2:
        return f, 0.0, 0.0
    _, cmlt, _, amlt = mir_eval.beat.continuity(r, e)
    return f, cmlt, amlt


def main(argv: list[str] | None = None) -> int:
    import librosa

    from montage_ai.core.analysis.music import analyze_music_signal
    from montage_ai.core.samples.music import EASY_PRESETS, HARD_PRESETS, render_preset

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="preset names to run")
    ap.add_argument("--verbose", action="store_true", help="debug logging from the analysis")
    args = ap.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(message)s")
        logging.getLogger("numba").setLevel(logging.WARNING)

    # Warm both up (numba JIT, FFT plans) so the first preset's time is not a compile time.
    y0, _ = render_preset("steady_120")
    librosa.beat.beat_track(y=y0, sr=22050)
    analyze_music_signal(y0, 22050)

    names = [n for n in EASY_PRESETS + HARD_PRESETS if not args.only or n in args.only]
    rows = []
    for name in names:
        y, truth = render_preset(name)
        sr = truth.sample_rate
        t0 = time.perf_counter()
        ours = analyze_music_signal(y, sr)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        lib_tempo, lib_beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
        t_lib = time.perf_counter() - t0
        f, cmlt, amlt = _score(truth.beat_times_s, ours.beat_times_s)
        lf, lcmlt, lamlt = _score(truth.beat_times_s, lib_beats)
        df, _, _ = _score(truth.downbeat_times_s, ours.downbeat_times_s)
        beat_s = 60.0 / truth.tempo_bpm
        found = [s.start_s for s in ours.sections[1:]]
        true_b = truth.section_boundaries_s
        sec_hit = sum(any(abs(f - b) <= beat_s for f in found) for b in true_b)
        rows.append(dict(sec_hit=sec_hit, sec_true=len(true_b), sec_found=len(found),name=name, group="easy" if name in EASY_PRESETS else "hard", true_bpm=truth.tempo_bpm,
                         bpm=ours.tempo_bpm, lib_bpm=float(np.atleast_1d(lib_tempo)[0]), f=f, cmlt=cmlt, amlt=amlt,
                         df=df, meter=ours.meter, true_meter=truth.meter, lf=lf, lcmlt=lcmlt, lamlt=lamlt,
                         t=t_ours, lt=t_lib, n_sec=len(ours.sections), true_sec=len(truth.section_starts_s)))

    hdr = (f"{'preset':16s} {'bpm':>5s} {'ours':>6s} {'lib':>6s} | {'F':>5s} {'CMLt':>5s} {'AMLt':>5s} {'DbF':>5s} "
           f"{'m':>3s} {'bnd':>7s} | {'libF':>5s} {'CMLt':>5s} {'AMLt':>5s} | {'t ours':>6s} {'t lib':>6s}")
    print(hdr)
    print("-" * len(hdr))
    for group in ("easy", "hard"):
        sel = [r for r in rows if r["group"] == group]
        for r in sel:
            print(f"{r['name']:16s} {r['true_bpm']:5.0f} {r['bpm']:6.1f} {r['lib_bpm']:6.1f} | {r['f']:5.3f} "
                  f"{r['cmlt']:5.3f} {r['amlt']:5.3f} {r['df']:5.3f} {r['meter']:d}/{r['true_meter']:d} "
                  f"{r['sec_hit']:d}/{r['sec_true']:d}/{r['sec_found']:<3d} | {r['lf']:5.3f} {r['lcmlt']:5.3f} {r['lamlt']:5.3f} | "
                  f"{r['t']:6.2f} {r['lt']:6.2f}")
        if sel:
            _summary(f"mean {group}", sel)
    print("-" * len(hdr))
    _summary("mean all", rows)
    t = sum(r["t"] for r in rows)
    lt = sum(r["lt"] for r in rows)
    print(f"\ntime: ours {t:.2f} s, librosa default {lt:.2f} s, ratio ours/librosa {t / max(lt, 1e-9):.1f}x "
          f"({len(rows)} tracks, {sum(1 for _ in rows)} x ~30 s)")
    return 0


def _summary(label: str, rows: list[dict]) -> None:
    m = lambda k: float(np.mean([r[k] for r in rows]))  # noqa: E731
    meters = sum(r["meter"] == r["true_meter"] for r in rows)
    print(f"{label:16s} {'':5s} {'':6s} {'':6s} | {m('f'):5.3f} {m('cmlt'):5.3f} {m('amlt'):5.3f} {m('df'):5.3f} "
          f"{meters:2d}/{len(rows):<2d} {sum(r['sec_hit'] for r in rows):2d}/{sum(r['sec_true'] for r in rows):2d}/"
          f"{sum(r['sec_found'] for r in rows):<3d}| {m('lf'):5.3f} {m('lcmlt'):5.3f} {m('lamlt'):5.3f} | "
          f"{sum(r['t'] for r in rows):6.2f} {sum(r['lt'] for r in rows):6.2f}")


if __name__ == "__main__":
    sys.exit(main())
