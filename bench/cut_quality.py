"""Benchmark: how well the rough cut keeps its promises, for every style and pattern.

Inputs: the demo project (generated; its song's beats are known exactly) and the real clips
of ``../shared/realworld/footage/`` cut to real songs of ``../shared/realworld/music/``
(human beat annotations in the ``.beats`` files). Analyses are cached in
``bench/results/cut_quality/cache`` so a second run takes a few minutes at most.

For every style (and every pattern over the default style, and every pattern over every
style with ``--all``), over ``--seeds`` seeds, it prints:

- ``aba``: A-B-A alternations (cut i and i+2 from one shot, i+1 another), goal 0;
- ``adj``: pieces of one shot on two cuts in a row, goal 0;
- ``dev style``: the mean over phases of |mean shot length / the style's target - 1| (the
  target is the middle of the style's beats-per-cut range at the phase's energy, at least a
  bar when it cuts only on downbeats, times the beat period, within its shortest and longest
  shot and at most the phase's length; a phase shorter than two of its shortest takes holds
  one), and the worst phase; goal within 20 %;
- ``dev promise``: the same against the target the cut promises: the style's, capped at the
  longest take the footage holds over the cut (``CutList.metadata["hold_s"]``, in the notes;
  ``capped``: seeds where that applied). A pattern over a style: the pattern's pace, the
  style's order and reuse (:mod:`montage_ai.core.cut.pace`);
- ``dev local``: the promise again, each cut's target taken at the energy where it starts
  (the mean over the bar of beats from its first frame) and the phase's target the mean of
  its cuts' targets. A style that promises "faster when louder" (dynamic, energy_map) keeps
  that promise cut by cut: a quiet bar inside a loud build is promised a longer take, which
  the phase's mean energy would not say; both columns are printed;
- ``w/seed style``, ``w/seed promise``: each seed's worst phase, |ratio - 1| averaged over the
  seeds (the goal is every phase within 20 %, not only the mean over phases);
- ``w/seed reach``: the same at what a cut can reach and promises: a phase no whole number of
  takes keeps within 20 % (between 1.2 and 1.6 takes long: one take too long, two too short;
  :func:`~montage_ai.core.cut.pace.quantised_phases`, said in the cut's notes) against the whole
  takes either side of its target nearer the cut's; the last take held over the song's
  ring-out (past its last beat; :func:`~montage_ai.core.cut.pace.ring_out_take`, said in the
  notes) left out of its phase; a build into a drop against the tightening the pattern
  promises; a target under the shortest take the grid cuts at the tempo raised to it, and one
  over the longest lowered to it (whole beats, or bars for a style that cuts only on
  downbeats, within the style's shortest and longest shot: :func:`~.pace.shortest_take_s`,
  :func:`~.pace.longest_take_s`, said in the notes); a target shorter than a cut on every one
  of the grid's points inside the phase gives (:func:`~.grid.cut_points`: a phase whose beats
  are slower than the median, or a lead-in before the first tracked beat;
  :func:`~.pace.too_few_beats`, said in the notes) raised to that. ``reached``: seeds with a phase measured so. The rows whose worst phase misses
  the promise are listed with that phase and ratio;
- ``on beat``: the share of cuts within one frame of an annotated beat;
- ``short``: seeds whose cut the footage could not fill (or that ended earlier, noted);
- for each row off the style's own target, the footage's evidence (the longest target take
  against the longest usable shot, whether half the song would hold the style's takes) and
  what the cut's notes tell the editor (``off its own pace``, :func:`~.pace.off_pace_note`);
- drops: for each song, the drops found from energy and low end and from loudness alone, and
  for patterns with drops, how many have a cut on them filled from the most intense quarter
  of the shots left (``--drops-all``: the drops of every annotated song, nothing else).

Side by side, for the same songs: the share of our tracker's beats, and of librosa's
``beat_track`` beats, within one frame of the annotated beats (the best a cut on the
tracked grid can do, and the library's). Figures, not pass/fail.

    .venv/bin/python bench/cut_quality.py [--seeds 10] [--songs 2] [--all] [--inputs demo,realworld]
    .venv/bin/python bench/cut_quality.py --drops-all
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from montage_ai.core.analysis.duplicates import find_duplicates, shot_hashes
from montage_ai.core.cut.assembly import FootageShortError, assemble, played_music
from montage_ai.core.cut.fit import DurationError
from montage_ai.core.cut.footage_hold import usable_lengths as footage_usable_lengths
from montage_ai.core.cut.grid import cut_points
from montage_ai.core.cut.pace import longest_take_s, ring_out_take, shortest_take_s, whole_takes
from montage_ai.core.plan.patterns import apply_pattern, available_patterns, detect_drops, drop_frames
from montage_ai.core.plan.planner import RulesPlanner, make_request
from montage_ai.core.plan.styles import available_styles
from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.run.executor import InlineExecutor
from montage_ai.core.run.jobs import analyze_files, analyze_music_cached

HERE = Path(__file__).resolve().parent
ROOT = HERE / "results" / "cut_quality"
def _shared() -> Path:
    """``$MONTAGE_SHARED``, else the first ``shared/`` beside the repository or a folder above it."""
    if os.environ.get("MONTAGE_SHARED"):
        return Path(os.environ["MONTAGE_SHARED"])
    for up in HERE.parents:
        if (up / "shared" / "realworld").is_dir():
            return up / "shared"
    return HERE.parent.parent / "shared"


SHARED = _shared()
REAL = SHARED / "realworld"
#: The real songs, in the order ``--songs N`` takes them; the country one has the only drop
#: (energy and low end) among the annotated songs (``--drops-all``).
SONGS = ("gtzan_pop_00068", "gtzan_disco_00071", "gtzan_rock_00069", "gtzan_hiphop_00042", "gtzan_country_00078")


def read_beats(path: Path) -> list[float]:
    return [float(line.split()[0]) for line in path.read_text().splitlines() if line.strip()]


def demo_inputs(cache: AnalysisCache):
    from montage_ai.core.samples.demo import make_demo_media
    from montage_ai.core.samples.music import render

    folder = ROOT / "demo"
    song = folder / "music" / "demo_song.wav"
    if not song.exists():
        print("rendering the demo project…", file=sys.stderr)
        make_demo_media(folder)
    from montage_ai.core.samples.demo import DEMO_SONG

    _, truth = render(DEMO_SONG)
    footage = sorted(str(p) for p in (folder / "footage").iterdir())
    return "demo", footage, [(str(song), list(truth.beat_times_s))]


def real_inputs(n_songs: int):
    if not REAL.is_dir():
        return None
    footage = sorted(str(p) for p in (REAL / "footage").iterdir() if p.suffix in (".mp4", ".avi"))
    songs = []
    for name in SONGS[:n_songs]:
        audio = REAL / "music" / f"{name}.flac"
        if audio.exists():
            songs.append((str(audio), read_beats(audio.with_suffix(".beats"))))
    return "realworld", footage, songs


def on_beat(frames_s: list[float], truth: list[float], frame_s: float) -> float:
    if not frames_s:
        return float("nan")
    t = np.asarray(truth)
    return float(np.mean([np.min(np.abs(t - x)) <= frame_s + 1e-9 for x in frames_s]))


def shot_keys(cl) -> list[tuple[str, int]]:
    return [(c.source_path, c.shot_index) for c in cl.cuts]


def repetition(cl) -> tuple[int, int]:
    k = shot_keys(cl)
    aba = sum(1 for i in range(len(k) - 2) if k[i] == k[i + 2] and k[i] != k[i + 1])
    adj = sum(1 for a, b in zip(k, k[1:]) if a == b)
    return aba, adj


def _target_s(style, music, phase: str, energy: float, beat: float) -> float:
    lo, hi = style.beats_for(style.energy_level(energy), phase)
    mid = (lo + hi) / 2
    if style.all_cuts_on_downbeat:  # a cut on every downbeat at most: a bar is the shortest shot promised
        mid = max(mid, music.meter * max(1, style.subdivide))
    return min(max(mid * beat, style.min_shot_s), style.max_shot_s)


def _energy_at(music, t: float) -> float:
    """The music's energy where a cut starts: the mean over the bar of beats from ``t`` on."""
    times, e = np.asarray(music.beat_times_s), np.asarray(music.beat_energy, dtype=float)
    if not len(e):
        return 0.5
    i = min(int(np.searchsorted(times, t - 1e-6)), len(e) - 1)
    return float(np.mean(e[i:i + max(1, music.meter)]))


def pace(cl, style, music, promised: bool = False, local: bool = False, whole: bool = False) -> dict[str, float]:
    """Mean shot length over the style's target, per phase (1.0 is on target); with
    ``promised``, over the target the cut promises: the style's, capped at the longest take
    the footage holds over the cut (``metadata["hold_s"]``, said in the notes). With
    ``local``, the target is the mean over the phase's cuts of the style's target at the
    energy where each cut starts (a style whose pace follows the energy promises that, not a
    pace set by the phase's mean energy: a quiet bar in a loud build gets a longer take).
    With ``whole`` (what a cut can reach), a phase whose length holds no whole number of its
    target takes within 20 % (:func:`~montage_ai.core.cut.pace.whole_takes`: between 1.2 and
    1.6 takes long, one take too long and two too short) is measured against the mean of ``n``
    or ``n + 1`` whole takes, the two either side of the target, whichever is nearer the cut's:
    the best any cut can do there (the cut's notes say so); and the end hold over the song's
    ring-out (:func:`ring_out`) is left out of its phase; a pattern's build into a drop is
    measured against the tightening it promises (each cut's target a quarter shorter for every
    quarter of the build behind it, down to a quarter: ``1 - 0.75 x``), not the flat target;
    and a target outside the takes the grid cuts at the tempo (whole beats, or bars, within the
    style's shortest and longest shot) is measured against the nearest of them, and one under
    the phase's length over the most takes the grid's cut points inside it allow, against that."""
    beat = float(np.median(np.diff(music.beat_times_s))) if len(music.beat_times_s) > 1 else 0.5
    beat /= max(1, style.subdivide)
    out = {}
    ring = ring_out(cl) if whole else None
    drops = list(drop_frames(music, style, cl.rate, cl.duration)) if whole else []
    points = cut_points(music, style, cl.rate, cl.duration) if whole else []
    for phase in ("intro", "build", "climax", "outro"):
        cuts = [c for c in cl.cuts if c.phase == phase]
        if not cuts:
            continue
        if ring is not None and len(cuts) > 1 and cuts[-1] is ring:
            cuts = cuts[:-1]  # the end hold over the song's ring-out: no beats there, no pace promised
        sec = next((s for s in cl.sections if s.phase == phase), None)
        energy = float(np.mean([s.energy for s in cl.sections if s.phase == phase])) if sec else 0.5
        if local:
            # the music's times are the cut's (an excerpt's start is its 0)
            target = float(np.mean([_target_s(style, music, phase, _energy_at(music, float(c.record_in / cl.rate)),
                                              beat) for c in cuts]))
        else:
            target = _target_s(style, music, phase, energy, beat)
        length = float((cuts[-1].record_out - cuts[0].record_in) / cl.rate)
        target = min(target, length)  # a phase shorter than one take holds one shot: that is on target
        if promised and cl.metadata.get("hold_s"):
            target = min(target, float(cl.metadata["hold_s"]))
        if length < 2 * style.min_shot_s:  # nor can it be split into two takes the style allows
            target = length
        if whole:  # no shorter than the shortest take the grid cuts at this tempo, nor longer than the longest
            target = max(target, min(length, shortest_take_s(style, beat * max(1, style.subdivide), music.meter)))
            target = min(target, longest_take_s(style, beat * max(1, style.subdivide), music.meter))
            # nor shorter than a cut on every one of the grid's points inside the phase gives
            target = max(target, length / (1 + sum(1 for q in points if cuts[0].record_in < q < cuts[-1].record_out)))
        mean = float(np.mean([c.record_frames for c in cuts])) / float(cl.rate)
        ramp = [ramp_share(c.record_in, drops) for c in cuts] if whole and drops else []
        if any(x is not None for x in ramp):
            # the build into a drop tightens steadily to a quarter of the take (the pattern's
            # promise, :func:`~montage_ai.core.cut.grid._beats_per_cut`), at least a beat
            target = float(np.mean([target if x is None else max(beat, target * (1 - 0.75 * x)) for x in ramp]))
        elif whole and abs(whole_takes(length, target)[1] - 1) > 0.2 + 1e-9:
            # n or n + 1 takes, both over 20 % off (which one the grid allows is its own):
            # measured against the one nearer the cut's
            n = max(1, int(length / target))
            target = min((length / n, length / (n + 1)), key=lambda t: abs(np.log(mean / t)))
        out[phase] = mean / target
    return out


def ramp_share(f: int, drops) -> float | None:
    """How far frame ``f`` is through the build into a drop (0 at its start, 1 at the drop),
    None outside every build."""
    return next(((f - a) / max(1, d - a) for a, d in drops if a <= f < d), None)


def ring_out(cl):
    """The cut's end hold over the song's ring-out (:func:`~montage_ai.core.cut.pace.ring_out_take`), or None."""
    i = ring_out_take(cl.cuts, cl.beats, cl.duration)
    return None if i is None else cl.cuts[i]


def drop_hits(cl, analyses, music, style, stats) -> None:
    """Drops inside the cut, those with a cut on them, and those whose shot is among the
    most intense quarter of the shots not shown before the drop (motion)."""
    motion = {(a.path, s.index): float(s.motion or 0.0) for a in analyses for s in a.shots if not s.black}
    for _, d in drop_frames(music, style, cl.rate, cl.duration):
        stats["drops"] += 1
        at = next((c for c in cl.cuts if c.record_in == d), None)
        if at is None:
            continue
        stats["on drop"] += 1
        before = {(c.source_path, c.shot_index) for c in cl.cuts if c.record_out <= d}
        fresh = [v for k, v in motion.items() if k not in before] or list(motion.values())
        stats["strongest"] += motion.get((at.source_path, at.shot_index), 0.0) >= np.percentile(fresh, 75)


def drops_table(name: str, music) -> tuple:
    """Drops found from energy and low end, and from loudness alone (the previous detector)."""
    from dataclasses import replace

    both = detect_drops(music)
    loud = detect_drops(replace(music, beat_low=()))
    return name, Path(music.path).stem, both, loud


def drops_all(cache: AnalysisCache) -> int:
    """The drops of every real song and of the generated build-and-drop track, both detectors."""
    from montage_ai.core.analysis.music import analyze_music_signal
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render

    spec = MusicSpec(tempo_bpm=120, seed=21, sections=(
        SectionSpec("intro", 4, 0.3, drums=False), SectionSpec("build", 4, 1.0, drums=False),
        SectionSpec("drop", 8, 0.95, harmony=1), SectionSpec("break", 4, 0.3, drums=False),
        SectionSpec("drop", 8, 0.95, harmony=1)))
    y, truth = render(spec)
    rows = [drops_table("generated", analyze_music_signal(y, spec.sr, path="build_drop.wav"))]
    print(f"generated build-and-drop track: drops at {truth.section_starts_s[2]:.1f} s and "
          f"{truth.section_starts_s[4]:.1f} s (kick and bass come in)")
    for song in sorted((REAL / "music").glob("*.flac")) if REAL.is_dir() else []:
        rows.append(drops_table("realworld", analyze_music_cached(str(song), cache=cache)))
    n_both = n_loud = 0
    for r in rows:
        n_both += len(r[2])
        n_loud += len(r[3])
        print(f"{r[0]:10s} {r[1]:24s} energy+low end: {[round(x, 1) for x in r[2]]}  loudness alone: "
              f"{[round(x, 1) for x in r[3]]}")
    print(f"\n{len(rows)} songs: {n_both} drops from energy and low end, {n_loud} from loudness alone")
    return 0


def usable_lengths(analyses, dups, never: bool = False) -> list[float]:
    """Usable lengths (s) the cut may take from every shot (not black, not a near-duplicate):
    each run between flagged frames, or for a style that never reuses a shot its longest run,
    as the assembly counts them (:func:`~montage_ai.core.cut.footage_hold.usable_lengths`)."""
    ids = {(a.path, s.index): (a, s) for a in analyses for s in a.shots}
    return sorted(footage_usable_lengths(ids, set(dups), never), reverse=True)


def limit_evidence(cl, style, music, lengths: list[float]) -> tuple[str, float, float, bool]:
    """The phase with the longest style target in ``cl``, that target take (s), the longest
    usable shot (s) (a target take longer than every shot is a footage limit), and whether
    the usable shots could give every phase the style's own takes over a cut of half the song,
    its phases shortened alike (:func:`~montage_ai.core.cut.pace.holds`, perfect packing)."""
    from montage_ai.core.cut.pace import holds

    beat = float(np.median(np.diff(music.beat_times_s))) / max(1, style.subdivide) \
        if len(music.beat_times_s) > 1 else 0.5
    best, phases = ("-", 0.0), []
    scale = music.duration_s / 2 / max(1e-6, float(cl.duration / cl.rate))
    for phase in ("intro", "build", "climax", "outro"):
        secs = [s for s in cl.sections if s.phase == phase]
        cuts = [c for c in cl.cuts if c.phase == phase]
        if secs and cuts:
            t = _target_s(style, music, phase, float(np.mean([s.energy for s in secs])), beat)
            best = max(best, (phase, t), key=lambda kv: kv[1])
            phases.append((float((cuts[-1].record_out - cuts[0].record_in) / cl.rate) * scale, t))
    half = holds(lengths, phases, never=style.reuse == "never", cap=float("inf"))
    return best[0], best[1], lengths[0] if lengths else 0.0, half


def run(name, analyses, music, truth, styles, seeds, rows):
    hashes = shot_hashes(analyses)
    dups = find_duplicates(analyses, hashes)
    all_lengths = {never: usable_lengths(analyses, dups, never) for never in (False, True)}
    for style in styles:
        lengths = all_lengths[style.reuse == "never"]
        stats = Counter()
        devs, worst, beats_share, times, pdevs, pworst, ldevs, qworst = [], [], [], [], [], [], [], []
        limits, cut_len, said = [], [], Counter()
        for seed in range(seeds):
            t0 = time.perf_counter()
            try:
                plan = RulesPlanner().plan(make_request(analyses, music, style, seed=seed))
                cl = assemble(plan, analyses, music, style, seed=seed, duplicates=dups)
            except (FootageShortError, DurationError):
                stats["short"] += 1
                continue
            played = played_music(cl, music)  # a cut held shorter may start on the first downbeat
            times.append(time.perf_counter() - t0)
            if any("ends earlier" in n for n in cl.metadata["notes"]):
                stats["shortened"] += 1
            aba, adj = repetition(cl)
            stats["aba"] += aba
            stats["adj"] += adj
            stats["cuts"] += len(cl.cuts)
            if style.drops:
                drop_hits(cl, analyses, played, style, stats)
            p = pace(cl, style, played)
            devs.append(np.mean([abs(v - 1) for v in p.values()]))
            worst.append(max(p.items(), key=lambda kv: abs(kv[1] - 1)))
            q = pace(cl, style, played, promised=True)
            pdevs.append(np.mean([abs(v - 1) for v in q.values()]))
            pworst.append(max(q.items(), key=lambda kv: abs(kv[1] - 1)))
            wq = pace(cl, style, played, promised=True, whole=True)
            qworst.append(max(wq.items(), key=lambda kv: abs(kv[1] - 1)))
            reach = {ph for ph in q if abs(wq[ph] - q[ph]) > 1e-9}  # measured at what a cut can reach
            stats["ring-out"] += ring_out(cl) is not None
            stats["quantised"] += bool(reach)
            stats["quantised worst"] += pworst[-1][0] in reach
            stats["quantised noted"] += any("holds no whole number of its" in n or "shorter than the shortest it cuts"
                                            in n or "longer than the longest it cuts" in n
                                            or "takes on its beats" in n for n in cl.metadata["notes"])
            stats["ring-out noted"] += any("ring-out past its last beat" in n for n in cl.metadata["notes"])
            stats["capped"] += bool(cl.metadata.get("hold_s"))
            if cl.metadata.get("hold_s"):
                limits.append(float(cl.metadata["hold_s"]))
            cut_len.append(float(cl.duration / cl.rate))
            # what the cut's notes tell the editor when it misses the style's own pace
            said.update(n.split("): ", 1)[-1] for n in cl.metadata["notes"] if ": off its own pace (" in n)
            ev = limit_evidence(cl, style, played, lengths)
            ldevs.append(np.mean([abs(v - 1) for v in pace(cl, style, played, promised=True, local=True).values()]))
            cut_s = [float((c.record_in + cl.music_start) / cl.rate) for c in cl.cuts[1:]]  # song times
            beats_share.append(on_beat(cut_s, truth, float(1 / cl.rate)))
        w = max(worst, key=lambda kv: abs(kv[1] - 1)) if worst else ("-", float("nan"))
        pw = max(pworst, key=lambda kv: abs(kv[1] - 1)) if pworst else ("-", float("nan"))
        # the worst phase's ratio averaged over seeds (each seed's worst phase)
        wmean = float(np.mean([abs(v - 1) for _, v in worst])) if worst else float("nan")
        pwmean = float(np.mean([abs(v - 1) for _, v in pworst])) if pworst else float("nan")
        qwmean = float(np.mean([abs(v - 1) for _, v in qworst])) if qworst else float("nan")
        # the phase most often worst over the seeds, with its mean ratio there (the row's miss)
        often = Counter(ph for ph, _ in pworst).most_common(1)[0][0] if pworst else "-"
        often_r = float(np.mean([v for ph, v in pworst if ph == often])) if pworst else float("nan")
        qoften = Counter(ph for ph, _ in qworst).most_common(1)[0][0] if qworst else "-"
        qoften_r = float(np.mean([v for ph, v in qworst if ph == qoften])) if qworst else float("nan")
        rows.append((name, Path(music.path).stem, style.name, seeds, stats["cuts"], stats["aba"], stats["adj"],
                     float(np.mean(devs)) if devs else float("nan"), f"{w[0]} {w[1]:.2f}",
                     float(np.nanmean(beats_share)) if beats_share else float("nan"),
                     f"{stats['short']}/{stats['shortened']}", float(np.mean(times)) if times else float("nan"),
                     float(np.mean(pdevs)) if pdevs else float("nan"), f"{pw[0]} {pw[1]:.2f}", stats["capped"],
                     wmean, pwmean, float(np.mean(ldevs)) if ldevs else float("nan"),
                     {"target": ev if worst else None, "holds": limits, "len": cut_len, "song_s": music.duration_s,
                      "n_long": sum(x >= ev[1] - 1e-6 for x in lengths) if worst else 0, "w": w,
                      "said": said, "n": len(worst), "qwmean": qwmean, "often": (often, often_r),
                      "qoften": (qoften, qoften_r)},
                     dict(stats)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--songs", type=int, default=2, help="real songs to cut to (default 2)")
    ap.add_argument("--all", action="store_true", help="every pattern over every style (slow)")
    ap.add_argument("--inputs", default="demo,realworld", help="which inputs (default demo,realworld)")
    ap.add_argument("--styles", default="",
                    help="only these style(+pattern) names, comma-separated (default: all)")
    ap.add_argument("--drops-all", action="store_true",
                    help="only list the drops of every song in ../shared/realworld/music (both detectors)")
    args = ap.parse_args()
    if args.drops_all:
        return drops_all(AnalysisCache(ROOT / "cache"))
    cache = AnalysisCache(ROOT / "cache")
    styles = sorted(available_styles(), key=lambda s: s.name)
    patterns = available_patterns()
    combos = list(styles)
    base = next(s for s in styles if s.name == "dynamic")
    combos += [apply_pattern(s, p) for p in patterns for s in (styles if args.all else [base])]
    if args.styles:
        combos = [c for c in combos if c.name in args.styles.split(",")]
    inputs = [demo_inputs(cache)] if "demo" in args.inputs else []
    real = real_inputs(args.songs) if "realworld" in args.inputs else None
    if real is None and "realworld" in args.inputs:
        print(f"(no {REAL}: real-world inputs skipped)")
    elif real is not None:
        inputs.append(real)
    rows: list[tuple] = []
    tracker_rows = []
    drop_rows = []
    for name, footage, songs in inputs:
        t0 = time.perf_counter()
        report = analyze_files(footage, executor=InlineExecutor(), cache=cache)
        print(f"{name}: {len(report.analyses)} clips analysed in {time.perf_counter() - t0:.1f} s"
              + (f"; skipped {len(report.failures)}" if report.failures else ""), file=sys.stderr)
        for song, truth in songs:
            music = analyze_music_cached(song, cache=cache)
            import librosa

            y, sr = librosa.load(song, sr=22050, mono=True)
            _, lb = librosa.beat.beat_track(y=y, sr=sr, units="time")
            frame = 1 / 24
            drop_rows.append(drops_table(name, music))
            tracker_rows.append((name, Path(song).stem, on_beat(list(music.beat_times_s), truth, frame),
                                 on_beat(list(lb), truth, frame), len(truth)))
            run(name, report.analyses, music, truth, combos, args.seeds, rows)
    print("\npace dev: mean over phases of |mean take / target - 1| (mean over seeds); worst: the phase furthest "
          "from target over all seeds; 'style' against the style's own target at the phase's mean energy, "
          "'promise' against it capped at the longest take the footage holds over the cut (capped: seeds where "
          "that cap applied, said in the notes); 'local': the promise with each cut's target at the energy where "
          "it starts (the bar of beats from its first frame), the phase's target their mean")
    print(f"{'input':10s} {'song':22s} {'style+pattern':28s} {'cuts':>6s} {'aba':>4s} {'adj':>4s} "
          f"{'dev style':>9s} {'worst (style)':>15s} {'dev promise':>11s} {'worst (promise)':>16s} {'capped':>6s} "
          f"{'dev local':>9s} {'on beat':>7s} {'short/shortened':>15s} {'s/cut':>6s} "
          f"{'w/seed style':>12s} {'w/seed promise':>14s} {'w/seed reach':>12s} {'reached':>9s}")
    for r in rows:
        print(f"{r[0]:10s} {r[1]:22s} {r[2]:28s} {r[4]:6d} {r[5]:4d} {r[6]:4d} {r[7]:9.1%} {r[8]:>15s} "
              f"{r[12]:11.1%} {r[13]:>16s} {r[14]:6d} {r[17]:9.1%} {r[9]:7.1%} {r[10]:>15s} {r[11]:6.2f} "
              f"{r[15]:12.1%} {r[16]:14.1%} {r[-2]['qwmean']:12.1%} "
              f"{r[-1].get('quantised', 0):>4d}/{r[-2]['n']:<4d}")
    print("\ndrops (s) found from energy and low end, and from loudness alone (the previous detector):")
    for r in drop_rows:
        print(f"{r[0]:10s} {r[1]:22s} energy+low end: {[round(x, 1) for x in r[2]]}  loudness alone: "
              f"{[round(x, 1) for x in r[3]]}")
    for r in rows:
        st = r[-1]
        if st.get("drops"):
            print(f"  {r[0]} {r[1]} {r[2]}: {st['drops']} drops over the seeds, {st.get('on drop', 0)} with a cut "
                  f"on the drop, {st.get('strongest', 0)} of them filled from the most intense quarter of the "
                  "shots left")
    print("\nrows off the style's own target (> 20 %): the style's longest target take against the footage "
          "(a target take longer than the longest usable shot is a footage limit; the cap and the cut's length "
          "are what the cut did instead)")
    for r in rows:
        ev = r[-2]
        if r[7] <= 0.2 or not ev["target"]:
            continue
        phase, t, longest, half = ev["target"]
        why = ("footage limit: no usable shot is as long as the target take" if longest < t - 1e-6 else
               f"{ev['n_long']} usable shot{'s' if ev['n_long'] != 1 else ''} as long as the target take")
        if longest >= t - 1e-6:  # long enough shots: are there enough of them for half the song?
            why += ("; even half the song at the style's takes is more than the shots hold (footage limit)"
                    if not half else "; the shots could hold the style's takes over half the song (not a "
                    "footage-length limit: the fill or the order is)")
        caps = f"capped at {np.mean(ev['holds']):.1f} s in {len(ev['holds'])} seeds" if ev["holds"] else "not capped"
        print(f"  {r[0]} {r[1]} {r[2]}: worst {ev['w'][0]} {ev['w'][1]:.2f}; target take {t:.1f} s ({phase}), "
              f"longest usable shot {longest:.1f} s: {why}; {caps}; cut {np.mean(ev['len']):.1f} s of "
              f"{ev['song_s']:.1f} s")
        # the cut's own notes, as the editor reads them (seeds whose cut says it is off its pace)
        for text, k in ev["said"].most_common(2):
            print(f"      notes ({k}/{ev['n']} seeds): {text}")
        if not ev["said"]:
            print(f"      notes: none of the {ev['n']} cuts says it is off its own pace")
    print("\nrows whose worst phase (per seed, averaged) misses the promise by > 20 %: the phase most often "
          "worst and its mean ratio over those seeds; 'reach': the same at what a cut can reach: a phase no whole "
          "number of takes keeps within 20 % (between 1.2 and 1.6 takes long) against the whole number of takes "
          "either side of its target nearer the cut's, and the end hold over the song's ring-out (more than two "
          "beats past its last tracked beat) left out of its phase, and a build into a drop against the tightening the "
          "pattern promises, and a target under the shortest take the grid cuts at the tempo (whole beats, none under "
          "the style's shortest shot) raised to it, and one over the longest it cuts (whole beats or bars, none over the "
          "style's longest shot) lowered to it, and one under a cut on every beat the phase has (fewer beats than its "
          "length at the median beat) raised to that (seeds: where the worst phase was measured so / "
          "cuts whose notes say a phase holds no whole number of takes or is cut at the shortest or longest take / cuts "
          "ending on a ring-out); "
          "'reached' in the table: seeds with a phase measured so")
    for r in rows:
        ev, st = r[-2], r[-1]
        if not r[16] > 0.2:
            continue
        (ph, v), (qph, qv) = ev["often"], ev["qoften"]
        print(f"  {r[0]} {r[1]} {r[2]}: promise {r[16]:.1%} ({ph} {v:.2f}); reach {ev['qwmean']:.1%} "
              f"({qph} {qv:.2f}); seeds {st.get('quantised worst', 0)}/{st.get('quantised noted', 0)}/"
              f"{st.get('ring-out', 0)} of {ev['n']} (ring-out noted in {st.get('ring-out noted', 0)})")
    print("\nbeats within one frame (1/24 s) of the annotated beats (the grid's ceiling for cuts):")
    print(f"{'input':10s} {'song':22s} {'ours':>6s} {'librosa':>8s} {'annotated':>9s}")
    for r in tracker_rows:
        print(f"{r[0]:10s} {r[1]:22s} {r[2]:6.1%} {r[3]:8.1%} {r[4]:9d}")
    total = Counter()
    for r in rows:
        total["aba"] += r[5]
        total["adj"] += r[6]
        total["cuts"] += r[4]
        total["within"] += r[7] <= 0.2
        total["within promise"] += r[12] <= 0.2
        total["worst within"] += r[15] <= 0.2
        total["worst within promise"] += r[16] <= 0.2
        total["within local"] += r[17] <= 0.2
        total["worst within whole"] += r[-2]["qwmean"] <= 0.2
        total["rows"] += 1
    print(f"\nall: {total['cuts']} cuts, {total['aba']} A-B-A, {total['adj']} adjacent same-shot; rows with the "
          f"mean over phases within 20 %: {total['within']}/{total['rows']} of the style's target, "
          f"{total['within promise']}/{total['rows']} of the promise, {total['within local']}/{total['rows']} of the "
          f"promise at the energy where each cut starts; rows whose worst phase (per seed, averaged) "
          f"is within 20 %: {total['worst within']}/{total['rows']} style, "
          f"{total['worst within promise']}/{total['rows']} promise, {total['worst within whole']}/{total['rows']} "
          "at what a cut can reach")
    return 0


if __name__ == "__main__":
    sys.exit(main())
