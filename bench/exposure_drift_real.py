"""Exposure drift inside one take: boundaries the shot detector puts inside it, ours beside
PySceneDetect's.

    .venv/bin/python bench/exposure_drift_real.py [--shared ../shared]

In one run prints, for the real clips of ``<shared>/realworld/footage`` with an exposure
fault put in by ffmpeg's ``eq`` filter (the faults of bench/exposure_real.py: a ramp of 10
frames, a hold, a ramp back, inside one shot of the truth) and for generated pans with an
exposure ramp (as tests/test_exposure.py makes them), the boundaries found inside the fault
(every one a false boundary: the truth has none there) by our analysis
(:func:`~montage_ai.core.analysis.footage.analyze_footage`, full mode) and by PySceneDetect's
``AdaptiveDetector`` and ``ContentDetector`` through their own ``detect()``. The real cuts of
the clips without a fault are scored by bench/footage_real.py.

Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from exposure_real import FAULTS, with_fault  # noqa: E402
from footage_real import Truth, default_shared  # noqa: E402
from montage_ai.core.analysis.footage import ANALYSIS_VERSION, analyze_footage  # noqa: E402
from montage_ai.core.samples.footage import Segment, render_footage  # noqa: E402

#: Generated pans: (name, eq filter, first frame of the ramp, last frame of the ramp back).
RAMP = "clip((n-25)/12,0,1)*clip((75-n)/12,0,1)"
GENERATED = (("pan crushed", f"eq=brightness='-0.6*{RAMP}':eval=frame,"
                             "drawbox=x=240:y=20:w=30:h=20:color=white:t=fill", 25, 75),
             ("pan blown out", f"eq=brightness='0.75*{RAMP}':eval=frame", 25, 75))


def library(path: str) -> dict[str, list[int]]:
    from scenedetect import AdaptiveDetector, ContentDetector, detect

    return {name: [s[0].frame_num for s in detect(path, det)[1:]]
            for name, det in (("adaptive", AdaptiveDetector()), ("content", ContentDetector()))}


def row(name: str, path: str, first: int, last: int) -> tuple[int, int, int]:
    a = analyze_footage(path, mode="full")
    ours = [s.start_frame for s in a.shots[1:] if first <= s.start_frame <= last + 1]
    lib = {k: [b for b in v if first <= b <= last + 1] for k, v in library(path).items()}
    print(f"{name:26s} {f'{first}-{last}':>9s}  {len(ours):>4d} {str(ours):24s} {len(lib['adaptive']):>4d} "
          f"{str(lib['adaptive']):24s} {len(lib['content']):>4d} {lib['content']}")
    return len(ours), len(lib["adaptive"]), len(lib["content"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=default_shared())
    args = ap.parse_args()
    logging.getLogger("pyscenedetect").setLevel(logging.WARNING)
    root = Path(args.shared) / "realworld" / "footage"
    truths = {p.stem: Truth.load(p) for p in sorted(root.glob("*.json"))}
    print(f"footage analysis version {ANALYSIS_VERSION}; boundaries inside the fault (all false):")
    print(f"{'clip':26s} {'fault':>9s}  {'ours':>4s} {'':24s} {'PySceneDetect adaptive':>29s} {'content':>12s}")
    tot = [0, 0, 0]
    with tempfile.TemporaryDirectory() as tmp:
        for name, first, last, gain in FAULTS:
            if name not in truths:
                continue
            out = str(Path(tmp) / f"{name}_{gain}.mp4")
            with_fault(truths[name].path, out, first, last, gain)
            got = row(f"{name} {'blow' if gain > 0 else 'crush'} {gain:+.2f}", out, first, last)
            tot = [t + g for t, g in zip(tot, got)]
        base = Path(tmp) / "pan.mp4"
        render_footage(base, [Segment("pan", 100, still="scene", pan_px_per_frame=1.5, grain=2.0)], rate=Fraction(25),
                       size=(320, 180))
        for name, vf, first, last in GENERATED:
            out = str(Path(tmp) / f"{name.replace(' ', '_')}.mp4")
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(base), "-vf", vf, "-c:v", "libx264",
                            "-preset", "veryfast", "-pix_fmt", "yuv420p", out], check=True)
            got = row(f"generated {name}", out, first, last)
            tot = [t + g for t, g in zip(tot, got)]
    print(f"false boundaries inside exposure faults: ours {tot[0]}, PySceneDetect adaptive {tot[1]}, content {tot[2]}")


if __name__ == "__main__":
    main()
