"""Small generated footage for the selects, duplicates and report tests (128x72, 25 fps).

``A.mp4`` and ``B.mp4`` show the same three shots (B re-encoded with grain and 15 % more
light: near-identical), A ending on a black slug; ``C.mp4`` shows three other sources;
``D.mp4`` a blurred, an under-exposed and an over-exposed shot (crushed to black but for
a lamp by ffmpeg's ``eq``, and blown out to white: lost detail, not a dark or bright look);
``shaky.mp4`` a still jittered by up to ±10 px per frame.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np

from montage_ai.core.samples.footage import Segment, render_footage

SIZE = (128, 72)
N = 40

# Landscapes, fractals and automata: no test patterns (those are never selects).
SAME = [Segment("zoompan", N, still="scene", seed=1), Segment("mandelbrot", N),
        Segment("scene", N, seed=2)]
NEAR = [Segment(s.source, N, still=s.still, seed=s.seed, pan_px_per_frame=s.pan_px_per_frame, grain=3.0, gain=1.15)
        for s in SAME]
OTHER = [Segment("life", N, seed=3), Segment("cellauto", N), Segment("pan", N, still="scene", seed=6)]
POOR = [Segment("zoompan", N, still="scene", seed=4, blur_sigma=6.0), Segment("pan", N, still="scene", seed=5),
        Segment("zoompan", N, still="scene", seed=7, gain=5.0)]
#: D's second shot crushed (ffmpeg ``eq``), a lamp in its corner still lit.
CRUSH = (f"eq=brightness='-0.6*between(n,{N},{2 * N - 1})':eval=frame,"
         f"drawbox=x=96:y=6:w=20:h=12:color=white:t=fill:enable='between(n,{N},{2 * N - 1})'")


def render_shaky(path: Path, frames: int = 50, amplitude: int = 10, seed: int = 1) -> Path:
    """A still chart whose frame jumps by up to ``amplitude`` pixels every frame."""
    w, h = SIZE
    rng = np.random.default_rng(seed)
    base = np.zeros((h + 2 * amplitude + 4, w + 2 * amplitude + 4, 3), np.uint8)
    cv2.rectangle(base, (30, 20), (90, 70), (40, 200, 220), -1)
    cv2.circle(base, (120, 50), 18, (200, 60, 60), -1)
    cv2.putText(base, "AB", (40, 60), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255), 2)
    base = base + (np.indices(base.shape[:2]).sum(0) % 40 * 3).astype(np.uint8)[..., None]
    proc = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
                             "-r", "25", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)],
                            stdin=subprocess.PIPE)
    o = amplitude + 2
    for _ in range(frames):
        dx, dy = rng.integers(-amplitude, amplitude + 1, 2)
        proc.stdin.write(np.ascontiguousarray(base[o + dy:o + dy + h, o + dx:o + dx + w]).tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return path


def render_project(root: Path) -> dict[str, Path]:
    """The clips above, A/B in ``root/day1``, the rest in ``root/day2``."""
    (root / "day1").mkdir(parents=True, exist_ok=True)
    (root / "day2").mkdir(parents=True, exist_ok=True)
    paths = {"A": root / "day1" / "A.mp4", "B": root / "day1" / "B.mp4", "C": root / "day2" / "C.mp4",
             "D": root / "day2" / "D.mp4", "shaky": root / "day2" / "shaky.mp4"}
    render_footage(paths["A"], SAME + [Segment("black", 15)], size=SIZE)
    render_footage(paths["B"], NEAR, size=SIZE)
    render_footage(paths["C"], OTHER, size=SIZE)
    raw = root / "day2" / ".D_raw.mp4"
    render_footage(raw, POOR, size=SIZE)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(raw), "-vf", CRUSH, "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(paths["D"])], check=True)
    raw.unlink()
    render_shaky(paths["shaky"])
    return paths
