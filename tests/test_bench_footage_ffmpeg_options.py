"""bench/footage_ffmpeg_options.py: its command lines run, are timed, and the variants that
must keep the pixels (pts from showinfo or from the metadata filters, no format filter) do."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from montage_ai.core.media.probe import probe
from montage_ai.core.samples.footage import Segment, render_footage

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("footage_ffmpeg_options", ROOT / "bench" / "footage_ffmpeg_options.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_variants_run_and_keep_the_pixels(tmp_path):
    bench = _bench()
    path = str(render_footage(tmp_path / "clip.mp4", [Segment("scene", 20, seed=2)], size=(320, 180)).path)
    media = probe(path)
    wall, cpu = bench.run_once([a.replace("{path}", path) for a in bench.NULL])
    assert wall > 0 and cpu > 0
    digests = {}
    for name in ("current", "showinfo_pts", "no_format", "threads_2"):
        cmd = bench.VARIANTS[name](path, media)
        assert cmd != bench.VARIANTS["current"](path, media) or name == "current"
        digests[name] = hashlib.blake2b()
        wall, cpu = bench.run_once(cmd, digests[name])
        assert wall > 0 and cpu > 0
    assert len({d.digest() for d in digests.values()}) == 1
    one = hashlib.blake2b()
    bench.run_once(bench.VARIANTS["fast_bilinear"](path, media), one)  # another scaler: other pixels
    assert one.digest() != digests["current"].digest()
