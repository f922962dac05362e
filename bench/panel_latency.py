"""Benchmark: how fast the panel stops a task on Cancel, and whether the window keeps turning
while the cut plays.

In a real window (Xvfb when it is installed, else offscreen), on a generated project and on
the real footage of ../shared/realworld (skipped when absent):

- Cancel latency: Analyse, Rough Cut and Preview are started from their toolbar buttons with
  an empty cache, Esc is pressed after ``--after`` seconds of work, and the time from the key
  press to the task having stopped (its thread ended, the panel showing "Cancelled.") is taken.
- Event-loop stalls while playing: a 10 ms QTimer runs while the preview plays in the panel
  (``--play`` seconds); the longest gap between its ticks and the 99th percentile are printed,
  next to the same timer on the idle window (the baseline: what the machine itself adds).

Figures, not pass/fail. The goals are a stop within 2 s and no stall over 100 ms.

    .venv/bin/python bench/panel_latency.py [--repeat 3] [--after 1.0] [--play 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

SHARED = Path(os.environ.get("MONTAGE_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from x_server import start_xvfb  # noqa: E402 - the X server start-up the panel tests use


def generated_project(root: Path) -> tuple[list[str], str]:
    from montage_ai.core.samples.footage import Segment, render_footage
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    root.mkdir(parents=True, exist_ok=True)
    kinds = ["testsrc2", "mandelbrot", "life", "gradients", "pan", "smptebars"]
    clips = []
    for i in range(4):
        path = root / f"clip {i}.mp4"
        if not path.exists():
            render_footage(path, [Segment(kinds[(i + k) % len(kinds)], 250, seed=i + k) for k in range(3)],
                           rate=Fraction(25), size=(640, 360))
        clips.append(str(path))
    song = root / "song.wav"
    if not song.exists():
        y, truth = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 4, 0.5), SectionSpec("B", 4, 0.9),
                                                               SectionSpec("C", 4, 0.6))))
        write_audio(song, y, truth.sample_rate)
    return clips, str(song)


def realworld_project() -> tuple[list[str], str] | None:
    footage, music = SHARED / "realworld" / "footage", SHARED / "realworld" / "music"
    if not footage.is_dir() or not music.is_dir():
        return None
    clips = sorted(str(p) for p in footage.glob("*.mp4"))
    songs = sorted(str(p) for p in music.glob("*.flac"))
    return (clips, songs[0]) if clips and songs else None


class Bench:
    def __init__(self) -> None:
        from PySide6.QtWidgets import QApplication

        self.app = QApplication.instance() or QApplication(["panel-latency"])

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.002)

    def wait(self, panel, task, timeout: float = 600) -> None:
        end = time.monotonic() + timeout
        while panel.last_finished is not task:
            if time.monotonic() > end:
                raise TimeoutError(f"{task.objectName()} did not finish in {timeout:.0f} s")
            self.app.processEvents()
            time.sleep(0.002)

    def panel(self, work: Path):
        from PySide6.QtCore import QSettings

        from montage_ai.core.run.executor import InlineExecutor
        from montage_ai.ui.qt.panel import MontagePanel
        from montage_ai.ui.qt.settings import PanelSettings

        store = QSettings(str(work / "settings.ini"), QSettings.IniFormat)
        (work / "exports").mkdir(parents=True, exist_ok=True)
        PanelSettings(cache_dir=str(work / "cache"), export_folder=str(work / "exports")).save(store)
        panel = MontagePanel(store=store, executor=InlineExecutor(), open_files=False)
        panel.show()
        panel.activateWindow()
        self.pump(0.3)
        return panel

    def cancel_latency(self, clips: list[str], song: str, action: str, after: float, work: Path) -> float | None:
        """Seconds from Esc to the task stopped; None when it finished before Esc."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        panel = self.panel(work)
        panel.set_footage(clips)
        panel.music.setText(song)
        if action == "preview":  # a cut to preview first (its analysis then is cached)
            task = panel.rough_cut()
            self.wait(panel, task)
        before = panel.task
        QTest.mouseClick(panel.tool_button({"analysis": "analyse", "cut": "cut", "preview": "preview"}[action]),
                         Qt.LeftButton)
        task = panel.task
        assert task is not before, f"{action} did not start"
        self.pump(after)
        if panel.last_finished is task:
            panel.close()
            return None
        pressed = time.monotonic()
        QTest.keyClick(panel, Qt.Key_Escape)
        self.wait(panel, task)
        stopped = panel.stopped_at - pressed
        ok = panel.stage_label.text() == "Cancelled."
        panel.close()
        self.pump(0.1)
        return stopped if ok else None

    def ticks(self, seconds: float) -> list[float]:
        from PySide6.QtCore import QTimer

        stamps: list[float] = []
        timer = QTimer()
        timer.timeout.connect(lambda: stamps.append(time.monotonic()))
        timer.start(10)
        self.pump(seconds)
        timer.stop()
        return [b - a for a, b in zip(stamps, stamps[1:])]

    def playing(self, clips: list[str], song: str, seconds: float, work: Path) -> tuple[list[float], list[float], int]:
        panel = self.panel(work)
        panel.set_footage(clips)
        panel.music.setText(song)
        panel.duration.setValue(min(seconds + 4, 30))
        self.wait(panel, panel.rough_cut())
        idle = self.ticks(seconds)
        self.wait(panel, panel.preview(play=True))
        end = time.monotonic() + 20
        while panel.timeline.playhead() == 0 and time.monotonic() < end:
            self.pump(0.01)
        start_frame = panel.timeline.playhead()
        gaps = self.ticks(seconds)
        frames = panel.timeline.playhead() - start_frame
        panel.close()
        self.pump(0.1)
        return idle, gaps, frames


def _ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


def _gaps(values: list[float]) -> str:
    if not values:
        return "no ticks"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"longest {max(values) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, {sum(v > 0.1 for v in values)} over 100 ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--after", type=float, default=1.0, help="seconds of work before Esc")
    parser.add_argument("--play", type=float, default=6.0, help="seconds of playback measured")
    args = parser.parse_args(argv)
    xvfb = start_xvfb(raster_only=os.environ.get("MONTAGE_BENCH_GL") != "1")  # MONTAGE_BENCH_GL=1: through OpenGL
    how = xvfb.describe()
    try:
        bench = Bench()
        from PySide6.QtWidgets import QApplication

        print(f"display: {how}; Qt platform {QApplication.platformName()}; {os.cpu_count()} cores; "
              f"load {os.getloadavg()[0]:.1f}")
        projects = {"generated": generated_project(Path(__file__).resolve().parent / "results" / "panel_latency")}
        real = realworld_project()
        if real is None:
            print(f"realworld: skipped ({SHARED / 'realworld'} not found)")
        else:
            projects["realworld"] = real
        for name, (clips, song) in projects.items():
            print(f"\n{name}: {len(clips)} clips, music {os.path.basename(song)}")
            for action in ("analysis", "cut", "preview"):
                stops, early = [], 0
                for _ in range(args.repeat):
                    with tempfile.TemporaryDirectory() as work:
                        took = bench.cancel_latency(clips, song, action, args.after, Path(work))
                    if took is None:
                        early += 1
                    else:
                        stops.append(took)
                note = f" ({early} finished before Esc)" if early else ""
                print(f"  Esc -> {action} stopped: {_ms(stops)} over {len(stops)} runs{note}")
            import threading

            left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
            print(f"  threads still running before playback: {len(left)} {sorted(set(left))[:6]}")
            with tempfile.TemporaryDirectory() as work:
                idle, gaps, frames = bench.playing(clips, song, args.play, Path(work))
            print(f"  event loop, idle window (baseline): {_gaps(idle)}")
            print(f"  event loop while playing {args.play:.0f} s ({frames} frames shown on the playhead): {_gaps(gaps)}")
    finally:
        xvfb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
