"""bench/footage_ffmpeg_options.py: its command lines run, are timed, and the variants that
must keep the pixels (pts from showinfo or from the metadata filters, no format filter) do."""

from __future__ import annotations

import hashlib

from bench_module import load_bench
from montage_ai.core.media.probe import probe
from montage_ai.core.samples.footage import Segment, render_footage


def _bench():
    return load_bench("footage_ffmpeg_options")


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


def test_loop_filter_variants_set_the_input_option(tmp_path):
    bench = _bench()
    path = str(render_footage(tmp_path / "clip.mp4", [Segment("scene", 6, seed=3)], size=(320, 180)).path)
    media = probe(path)
    for level in bench.LOOP_FILTER_LEVELS:
        for name, fast in ((f"slf_{level}", True), (f"slf_{level}_nofast", False)):
            cmd = bench.VARIANTS[name](path, media)
            before = cmd[:cmd.index("-i")]
            assert before[before.index("-skip_loop_filter") + 1] == level and cmd.count("-skip_loop_filter") == 1
            assert ("-flags2" in before) == fast and cmd.count("-flags2") == int(fast)
    none = bench.VARIANTS["no_skip_loop_filter"](path, media)
    assert "-skip_loop_filter" not in none and "-flags2" not in none


def test_luma_difference_reads_the_y_planes_only():
    bench = _bench()
    w, h = 4, 2
    a = bytes([10] * (w * h) + [128] * (w * h // 2)) * 2
    b = bytes([10] * (w * h) + [0] * (w * h // 2)) + bytes([14] * (w * h) + [128] * (w * h // 2))
    assert bench.luma_difference(a, a, w, h) == (0.0, 0.0)
    assert bench.luma_difference(a, b, w, h) == (2.0, 4.0)  # chroma ignored; frame 2 is 4 levels off
