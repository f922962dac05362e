"""Long songs: time and peak memory of our music analysis on a 30-minute song, beside the
plain ffmpeg decode and librosa's ``beat_track`` on the same file, measured in one run.

    .venv/bin/python bench/scale_music.py [--minutes 30] [--workers 1,2] [--no-real] [--no-librosa]

Two songs:
- generated: a 120 bpm 4/4 piece in sections (core/samples/music), as FLAC;
- real: every recording of ../shared/realworld/music (human beat annotations) decoded and
  joined end to end, repeated to the length (skipped when the folder is absent;
  ``MONTAGE_SHARED`` names another shared folder).

``cpu s`` is the processor time of the process tree (what an idle machine's 2 cores share).
Peak memory is the largest sum of the resident sets of the analysing process and all its
children (workers, ffmpeg), sampled every 50 ms. Beat F-measure (mir_eval, 70 ms) against
the truth is printed for ours and librosa's. Figures only: no pass/fail (goals: <= 60 s,
<= 1 GB on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

SR = 22050
HERE = Path(__file__).resolve().parent


def shared_dir() -> Path:
    """$MONTAGE_SHARED, else shared/ beside the repository (or inside it), else /work/shared."""
    for p in (os.environ.get("MONTAGE_SHARED"), HERE.parent.parent / "shared", HERE.parent / "shared", "/work/shared"):
        if p and (Path(p) / "realworld").is_dir():
            return Path(p)
    return HERE.parent.parent / "shared"


# --------------------------------------------------------------------------- memory


def _tree_rss_kb(root: int) -> int:
    kids: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{name}/status") as f:
                kb = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(name))
        rss[int(name)] = kb
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += kids.get(pid, [])
    return total


class PeakRSS:
    """Samples the resident memory of a process tree until stopped; ``peak_mb``."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid))
            self._stop.wait(0.05)

    def __enter__(self) -> "PeakRSS":
        self.peak_kb = _tree_rss_kb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024


# --------------------------------------------------------------------------- songs


def generated_song(folder: Path, minutes: float) -> tuple[str, np.ndarray]:
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    kinds = (("A", 0.5, 0), ("B", 0.95, 1), ("C", 0.7, 2), ("A", 0.55, 0), ("B", 0.9, 1), ("D", 0.4, 3))
    bars = int(minutes * 60 / 2)  # 2 s bars at 120 bpm in 4/4
    secs, k = [], 0
    while sum(s.bars for s in secs) < bars:
        label, energy, harmony = kinds[k % len(kinds)]
        secs.append(SectionSpec(label, 16, energy, harmony=harmony))
        k += 1
    y, truth = render(MusicSpec(tempo_bpm=120, sections=tuple(secs)))
    path = write_audio(folder / "generated 30 min.flac", y, truth.sample_rate)
    return path, np.asarray(truth.beat_times_s)


def _decode(path: Path) -> np.ndarray:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(SR), "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<f4")


def real_song(folder: Path, minutes: float) -> tuple[str, np.ndarray] | None:
    from montage_ai.core.samples.music import write_audio

    music = shared_dir() / "realworld" / "music"
    tracks = sorted(music.glob("*.flac"))
    if not tracks:
        return None
    pieces, beats, t = [], [], 0.0
    decoded = [(p, _decode(p)) for p in tracks]
    while t < minutes * 60:
        for path, y in decoded:
            ann = path.with_suffix(".beats")
            times = [float(line.split()[0]) for line in ann.read_text().splitlines() if line.strip()] if ann.exists() else []
            beats += [t + x for x in times if x < len(y) / SR]
            pieces.append(y)
            t += len(y) / SR
            if t >= minutes * 60:
                break
    y = np.concatenate(pieces)
    path = write_audio(folder / "real music joined.flac", y, SR)
    return path, np.asarray(beats)


# --------------------------------------------------------------------------- runs


def f_measure(ref: np.ndarray, est: np.ndarray) -> float:
    import mir_eval

    return float(mir_eval.beat.f_measure(mir_eval.beat.trim_beats(ref), mir_eval.beat.trim_beats(np.asarray(est))))


def run_child(code: str, label: str) -> dict:
    """Run ``code`` in a fresh interpreter (it prints one JSON line last); time + peak tree RSS."""
    t0 = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakRSS(proc.pid) as mem:
        out, err = proc.communicate()
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child and every process it waited for
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        print(f"  {label}: failed: {err.strip().splitlines()[-1] if err.strip() else proc.returncode}", file=sys.stderr)
        return {"wall_s": wall, "cpu_s": cpu, "peak_mb": mem.peak_mb, "beats": []}
    doc = json.loads(out.strip().splitlines()[-1])
    doc.update(wall_s=wall, cpu_s=cpu, peak_mb=mem.peak_mb)
    return doc


OURS = """
import json, time
from montage_ai.core.analysis.music_stream import analyze_music_bounded
t = time.monotonic()
a = analyze_music_bounded({path!r}, workers={workers})
print(json.dumps({{"work_s": time.monotonic() - t, "beats": a.beat_times_s, "tempo": a.tempo_bpm, "meter": a.meter,
                  "sections": len(a.sections), "duration": a.duration_s}}))
"""
LIBROSA = """
import json, time
t = time.monotonic()
import librosa
y, sr = librosa.load({path!r}, sr=22050)
tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
print(json.dumps({{"work_s": time.monotonic() - t, "beats": [float(b) for b in beats], "tempo": float(tempo[0] if hasattr(tempo, "__len__") else tempo)}}))
"""


def ffmpeg_null(path: str) -> float:
    t0 = time.monotonic()
    subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"], check=True)
    return time.monotonic() - t0


def bench(name: str, path: str, truth: np.ndarray, args: argparse.Namespace) -> None:
    decode_s = ffmpeg_null(path)
    counts = [int(w) for w in str(args.workers).split(",") if w.strip()]
    runs = [(f"ours w={w}", run_child(OURS.format(path=path, workers=w), f"ours, {w} workers")) for w in counts]
    ours = runs[0][1]
    print(f"{name}: {ours.get('duration', 0) / 60:.1f} min, ffmpeg -f null decode {decode_s:.1f} s")
    print(f"  {'':9s} {'wall s':>7s} {'cpu s':>7s} {'peak MB':>8s} {'/decode':>8s} {'bpm':>6s} {'beats':>6s} {'beat F':>7s}")
    rows = list(runs)
    if not args.no_librosa:
        rows.append(("librosa", run_child(LIBROSA.format(path=path), "librosa")))
    for label, r in rows:
        f = f_measure(truth, r["beats"]) if len(truth) and r["beats"] else float("nan")
        print(f"  {label:9s} {r['wall_s']:7.1f} {r['cpu_s']:7.1f} {r['peak_mb']:8.0f} {r['wall_s'] / decode_s:8.1f} "
              f"{r.get('tempo', 0):6.1f} {len(r['beats']):6d} {f:7.3f}")
    if len(rows) > len(runs):
        lib = rows[-1][1]
        print(f"  ours (w={counts[0]}) / librosa beat_track: wall {ours['wall_s'] / lib['wall_s']:.2f}, "
              f"cpu {ours['cpu_s'] / max(lib['cpu_s'], 1e-9):.2f}; "
              f"sections {ours.get('sections')}, metre {ours.get('meter')}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--workers", default="1,2", help="worker counts to measure, comma-separated (the first is "
                    "compared with librosa)")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--no-librosa", action="store_true")
    args = ap.parse_args()
    print(f"cores {os.cpu_count()}, load {open('/proc/loadavg').read().split()[:3]} (wall times grow with the load; "
          "cpu s is the processor time of the whole process tree)")
    with tempfile.TemporaryDirectory(prefix="scale-music-") as tmp:
        folder = Path(tmp)
        path, truth = generated_song(folder, args.minutes)
        bench("generated", path, truth, args)
        if not args.no_real:
            real = real_song(folder, args.minutes)
            if real is None:
                print(f"real: skipped ({shared_dir() / 'realworld' / 'music'} not found)")
            else:
                bench("real (realworld/music joined)", real[0], real[1], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
