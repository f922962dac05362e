"""Scale: time and peak memory as a project grows (figures, not pass/fail).

    .venv/bin/python bench/scale.py [--clips 500] [--preview-cuts 200] [--steps 50,100,250,500]
        [--song-minutes 30] [--skip-real] [--only-preview]

1. **Many clips.** Generates N distinct one-second clips (one ffmpeg run cut into segments,
   128x72 H.264, cached in bench/results/scale/), then for each step of the clip count analyses
   that many clips in a fresh process (inline executor, no cache) and prints wall time, the
   process's peak RSS and the baseline measured in the same run: a plain ``ffmpeg -i X -f
   null -`` decode of the same clips. The goal: peak memory does not grow with the clip count.
2. **Long preview.** A cut list of M cuts over the clips (a 200-cut, ~1-minute timeline),
   rendered by :func:`~montage_ai.core.render.preview.render_preview` at 640x360 in a fresh
   process, chunked (the default) and in one pass; prints wall time and peak RSS of our
   process and of the largest ffmpeg child, beside a
   plain ``ffmpeg -f concat`` of the same pieces (the library way to join many files).
3. **Real media.** The same analysis over the clips in ../shared/realworld/footage (or
   $MONTAGE_SHARED/realworld/footage) when present: time and peak RSS per clip count.

4. **A 30-minute song.** Streamed music analysis (bench/scale_music.py: a generated song and
   the real annotated recordings joined end to end): wall and CPU time of the process tree,
   peak RSS of the whole tree (workers and ffmpeg included) and beat F-measure, beside
   librosa's ``beat_track`` on the same file and a plain ffmpeg decode. ``--song-minutes 0``
   skips it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.dirname(ROOT))
RESULTS = os.path.join(HERE, "results", "scale")
PY = sys.executable


def _shared() -> str:
    """$MONTAGE_SHARED, else ../shared beside the checkout (in a worktree under wt/, the one
    beside its parent folder)."""
    if os.environ.get("MONTAGE_SHARED"):
        return os.environ["MONTAGE_SHARED"]
    for up in (os.path.join(ROOT, ".."), os.path.join(ROOT, "..", "..")):
        if os.path.isdir(os.path.join(up, "shared")):
            return os.path.join(up, "shared")
    return os.path.join(ROOT, "..", "shared")


def make_clips(n: int) -> list[str]:
    """N distinct one-second 25 fps clips, cut from one generated stream (cached)."""
    folder = os.path.join(RESULTS, f"clips-{n}")
    paths = [os.path.join(folder, f"clip{i:04d}.mp4") for i in range(n)]
    if all(os.path.exists(p) for p in paths):
        return paths
    os.makedirs(folder, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=128x72:rate=25:duration={n},hue=H=t*0.7", "-c:v", "libx264", "-g", "25",
                    "-preset", "ultrafast", "-f", "segment", "-segment_time", "1", "-reset_timestamps", "1",
                    os.path.join(folder, "clip%04d.mp4")], check=True)
    return [p for p in paths if os.path.exists(p)]


_ANALYSE = """
import json, resource, sys, time
from montage_ai.core.run.jobs import analyze_files
paths = json.load(open(sys.argv[1]))
t0 = time.perf_counter()
report = analyze_files(paths, cache=None)
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "ok": len(report.analyses), "failed": len(report.failures),
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""

_PREVIEW = """
import json, resource, sys, time
from fractions import Fraction
from montage_ai.core.model.cutlist import Cut, CutList
from montage_ai.core.model.timeline import build_timeline
from montage_ai.core.render.preview import render_preview
paths, n, out, chunk = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
cuts, pos = [], 0
for i in range(n):
    length = 6 + (i % 5) * 2
    cuts.append(Cut(pos, pos + length, paths[i % len(paths)], Fraction(25), 2, 0, 0.5, "build", "bench"))
    pos += length
cl = CutList(rate=Fraction(25), width=640, height=360, duration=pos, cuts=tuple(cuts), music_path="",
             music_duration=0)
t0 = time.perf_counter()
render_preview(build_timeline(cl), out, size=(640, 360), overwrite=True, chunk=chunk)
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "frames": pos, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _child(code: str, *args: str) -> dict:
    done = subprocess.run([PY, "-c", code, *args], capture_output=True, text=True, cwd=os.path.dirname(ROOT))
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


_BASELINE = """
import json, resource, subprocess, sys, time
cmds = json.load(open(sys.argv[1]))
t0 = time.perf_counter()
for cmd in cmds:
    subprocess.run(cmd, check=True)
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _baseline(cmds: list[list[str]]) -> tuple[float, int]:
    """Seconds and peak RSS (kB) of plain ffmpeg commands, measured in a fresh process (so no
    earlier child's peak is counted)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(cmds, f)
    got = _child(_BASELINE, f.name)
    os.unlink(f.name)
    return got.get("seconds", float("nan")), got.get("children_kb", 0)


def _ffmpeg_null(paths: list[str]) -> tuple[float, int]:
    """A plain decode of every clip, one ffmpeg per clip."""
    return _baseline([["ffmpeg", "-v", "error", "-nostdin", "-i", p, "-f", "null", "-"] for p in paths])


def _ffmpeg_concat(paths: list[str], n: int, out: str) -> tuple[float, int]:
    """A plain ffmpeg concat (demuxer) of the same number of pieces, re-encoded at 640x360."""
    listing = os.path.join(RESULTS, f"concat-{n}.txt")
    with open(listing, "w") as f:
        for i in range(n):
            f.write(f"file '{paths[i % len(paths)]}'\n")
    return _baseline([["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "concat", "-safe", "0", "-i", listing,
                       "-vf", "scale=640:360", "-c:v", "libx264", "-preset", "veryfast", out]])


def bench_clips(label: str, paths: list[str], steps: list[int]) -> None:
    print(f"\n== analysis of many clips: {label} ==")
    print(f"{'clips':>6} {'time s':>8} {'s/clip':>7} {'peak RSS MB':>12} {'ffmpeg null s':>14} {'ratio':>6}")
    for n in steps:
        subset = paths[:n]
        if len(subset) < n:
            break
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(subset, f)
        got = _child(_ANALYSE, f.name)
        os.unlink(f.name)
        if "error" in got:
            print(f"{n:>6} error: {got['error']}")
            continue
        base, _ = _ffmpeg_null(subset)
        print(f"{n:>6} {got['seconds']:>8.1f} {got['seconds'] / n:>7.3f} {got['peak_kb'] / 1024:>12.1f} "
              f"{base:>14.1f} {got['seconds'] / base:>6.2f}   ({got['ok']} analysed, {got['failed']} failed)")


def bench_preview(paths: list[str], cuts: int) -> None:
    print(f"\n== preview of a long cut: {cuts} cuts over {len(paths)} clips, 640x360 ==")
    out = os.path.join(RESULTS, f"preview-{cuts}.mp4")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(paths, f)
    from montage_ai.core.render.preview import CHUNK_PIECES

    for label, chunk in ((f"chunked ({CHUNK_PIECES} cuts a chunk)", CHUNK_PIECES), ("one pass", 10**9)):
        got = _child(_PREVIEW, f.name, str(cuts), out, str(chunk))
        if "error" in got:
            print(f"render_preview {label}: error: {got['error']}")
            continue
        print(f"render_preview {label}: {got['seconds']:.1f} s for {got['frames']} frames; peak RSS ours "
              f"{got['peak_kb'] / 1024:.1f} MB, largest ffmpeg child {got['children_kb'] / 1024:.1f} MB")
    os.unlink(f.name)
    seconds, peak = _ffmpeg_concat(paths, cuts, os.path.join(RESULTS, f"concat-{cuts}.mp4"))
    print(f"ffmpeg concat demuxer (baseline, whole clips): {seconds:.1f} s; ffmpeg peak RSS {peak / 1024:.1f} MB")


def bench_song(minutes: float, real: bool) -> None:
    from pathlib import Path

    sys.path.insert(0, HERE)
    import scale_music

    print(f"\n== a {minutes:g}-minute song: streamed music analysis (goal <= 60 s, <= 1 GB on 2 cores) ==")
    print(f"load {open('/proc/loadavg').read().split()[:3]}")
    args = argparse.Namespace(workers="1", no_librosa=False)
    with tempfile.TemporaryDirectory(prefix="scale-song-") as tmp:
        path, truth = scale_music.generated_song(Path(tmp), minutes)
        scale_music.bench("generated", path, truth, args)
        if real:
            found = scale_music.real_song(Path(tmp), minutes)
            if found is None:
                print("real: skipped (no ../shared/realworld/music)")
            else:
                scale_music.bench("real (realworld/music joined)", found[0], found[1], args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=500)
    ap.add_argument("--steps", default="50,100,250,500")
    ap.add_argument("--preview-cuts", type=int, default=200)
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--only-preview", action="store_true", help="measure the long preview alone")
    ap.add_argument("--song-minutes", type=float, default=30.0, help="length of the long song (0: skip it)")
    args = ap.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    steps = [int(s) for s in args.steps.split(",") if int(s) <= args.clips]
    paths = make_clips(args.clips)
    print(f"{len(paths)} generated clips (1 s, 128x72, 25 fps) in {os.path.dirname(paths[0])}; "
          f"{os.cpu_count()} CPUs")
    if args.only_preview:
        bench_preview(paths, args.preview_cuts)
        return
    bench_clips("generated", paths, steps)
    bench_preview(paths, args.preview_cuts)
    if args.song_minutes > 0:
        bench_song(args.song_minutes, not args.skip_real)
    real = os.path.join(_shared(), "realworld", "footage")
    if not args.skip_real and os.path.isdir(real):
        from montage_ai.core.base.fileio import collect_media

        clips = collect_media([real])
        bench_clips(f"real ({real})", clips, sorted({max(1, len(clips) // 2), len(clips)}))
    elif not args.skip_real:
        print(f"\n(real media: {real} is absent; skipped)")


if __name__ == "__main__":
    main()
