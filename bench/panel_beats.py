"""Benchmark: the panel's beat-grid controls and click track, on generated music and on real
recordings of ../shared/realworld/music (skipped when absent).

In a real window (Xvfb when installed, else offscreen), per song:

- Correction latency: from the click on the strip's Half button (then on Undo grid) to the
  corrected grid drawn on the waveform (the correction kept through the workflows and the song
  read back as kept), ``--repeat`` times each.
- Click track: the time to write the song with clicks (``workflows.run_click_track``, the whole
  song), next to ``ffmpeg -i SONG -f null -`` decoding the same file in the same run (the
  baseline), and whether every click starts on its beat's sample (clicks-only track, read
  back with soundfile: clicks found after digital silence against ``round(beat * rate)``).

Figures, not pass/fail.

    .venv/bin/python bench/panel_beats.py [--songs 5] [--repeat 3] [--shots DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from panel_latency import SHARED, Bench, generated_project  # noqa: E402 - it puts tests/ on sys.path
from x_server import start_xvfb  # noqa: E402 - the X server start-up the panel tests use


def real_songs(count: int) -> list[str]:
    """The first recording of each genre (GTZAN excerpts), then the long songs, up to ``count``."""
    folder = SHARED / "realworld" / "music"
    if not folder.is_dir():
        return []
    songs = sorted(folder.glob("*.flac"))
    firsts: dict[str, Path] = {}
    for s in songs:
        genre = s.stem.split("_")[1] if s.stem.startswith("gtzan_") else s.stem
        firsts.setdefault(genre, s)
    return [str(p) for p in list(firsts.values())[:count]]


def ffmpeg_decode_s(song: str) -> float:
    start = time.monotonic()
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", song, "-f", "null", "-"], check=True)
    return time.monotonic() - start


def onsets(y, silence: int = 200) -> list[int]:
    import numpy as np

    nz = np.flatnonzero(y != 0)
    if not len(nz):
        return []
    return [int(nz[0])] + [int(b) for a, b in zip(nz, nz[1:]) if b - a > silence]


def correction_latency(bench: Bench, panel, key: str) -> float:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    before = panel.grid.changes
    button = panel.grid_strip.button(panel.actions_[key])
    start = time.monotonic()
    QTest.mouseClick(button, Qt.LeftButton)
    end = start + 60
    while panel.grid.changes == before:
        if time.monotonic() > end:
            raise TimeoutError(f"{key} did not finish in 60 s")
        bench.app.processEvents()
        time.sleep(0.001)
    panel.song_range.repaint()  # drawn
    taken = time.monotonic() - start
    assert panel.song_range.beats() == tuple(panel.song_loaded.beat_times_s)
    return taken


def one_song(bench: Bench, song: str, repeat: int, work: Path, shots: Path | None) -> dict:
    import soundfile as sf

    from montage_ai.core.workflows import run_click_track
    from montage_ai.ui.qt import grid_actions

    panel = bench.panel(work)
    panel.music.setText(song)
    end = time.monotonic() + 300
    while grid_actions.song_path(panel) is None or panel.grid.busy():
        if time.monotonic() > end:
            raise TimeoutError(f"{song}: not read in 300 s")
        bench.pump(0.02)
    tracked = panel.song_loaded
    halves, undos = [], []
    for _ in range(repeat):
        halves.append(correction_latency(bench, panel, "grid_half"))
        undos.append(correction_latency(bench, panel, "grid_undo"))
    assert panel.song_loaded.beat_times_s == tracked.beat_times_s
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        panel.grab().save(str(shots / f"panel-beats-{Path(song).stem}.png"))
    decode = ffmpeg_decode_s(song)
    start = time.monotonic()
    track = run_click_track(tracked, work / "mix.wav")
    clicks_s = time.monotonic() - start
    alone = run_click_track(tracked, work / "clicks.wav", with_song=False)
    y, rate = sf.read(alone.path, dtype="int16")
    want = [round(t * rate) for t in tracked.beat_times_s if t < alone.duration_s]
    found = onsets(y)
    exact = sum(1 for a, b in zip(found, want) if a == b) if len(found) == len(want) else 0
    panel.close()
    bench.pump(0.1)
    return {"song": Path(song).name, "beats": len(tracked.beat_times_s), "bpm": tracked.tempo_bpm,
            "half": halves, "undo": undos, "decode": decode, "clicks": clicks_s, "length": track.duration_s,
            "exact": exact, "want": len(want)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--songs", type=int, default=5, help="real recordings to try (default 5)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shots", type=Path, default=None, help="save a screenshot of the panel per song here")
    args = ap.parse_args()
    xvfb = start_xvfb(raster_only=os.environ.get("MONTAGE_BENCH_GL") != "1")  # MONTAGE_BENCH_GL=1: through OpenGL
    where = xvfb.describe()
    bench = Bench()
    print(f"panel beat grid: {where}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="panel-beats-") as tmp:
        root = Path(tmp)
        os.environ.setdefault("MONTAGE_AI_DATA", str(root / "data"))  # never the user's kept grids
        _, generated = generated_project(root / "generated")
        songs = [("generated", generated)] + [("real", s) for s in real_songs(args.songs)]
        if len(songs) == 1:
            print(f"(no real music at {SHARED / 'realworld' / 'music'}: generated only)")
        for i, (kind, song) in enumerate(songs):
            rows.append((kind, one_song(bench, song, args.repeat, root / f"work{i}", args.shots)))
    print(f"{'kind':9s} {'song':28s} {'bpm':>6s} {'beats':>5s}  {'Half → drawn':>18s}  {'Undo → drawn':>18s}  "
          f"{'click track':>11s} {'ffmpeg decode':>13s} {'ratio':>6s}  clicks on their sample")
    for kind, r in rows:
        def ms(v):
            return f"{statistics.median(v) * 1000:5.0f} / {max(v) * 1000:4.0f} ms"

        print(f"{kind:9s} {r['song'][:28]:28s} {r['bpm']:6.1f} {r['beats']:5d}  {ms(r['half']):>18s}  "
              f"{ms(r['undo']):>18s}  {r['clicks']:9.2f} s {r['decode']:11.2f} s {r['clicks'] / r['decode']:6.1f}  "
              f"{r['exact']}/{r['want']}")
    print("(latency: median / max of the repeats; click track: the whole song with clicks, written as WAV)")
    xvfb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
