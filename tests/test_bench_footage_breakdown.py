"""bench/footage_breakdown.py runs end to end on a short generated clip and accounts for every frame."""

from __future__ import annotations

from pathlib import Path

from bench_module import load_bench, two_shot_clip


def _bench():
    return load_bench("footage_breakdown")


def test_breakdown_times_every_stage_of_a_generated_clip(tmp_path):
    bench = _bench()
    path = two_shot_clip(tmp_path)
    n, cpu = bench.stage_cpu(str(path))
    assert n == 50
    assert set(cpu) == set(bench.STAGES) | set(bench.REST_HALVES)
    assert cpu["null decode"] > 0 and cpu["decode (ffmpeg)"] > 0 and cpu["full analysis"] > 0
    parts = sum(cpu[s] for s in bench.STAGES[1:-2])
    assert abs(cpu["rest"] - (cpu["full analysis"] - parts)) < 1e-9
    assert abs(cpu["rest: ffmpeg"] + cpu["rest: Python"] - cpu["rest"]) < 1e-9


def test_breakdown_falls_back_to_generated_footage_without_the_real_set(tmp_path):
    paths = _bench().clips(str(tmp_path / "no_shared"))
    assert len(paths) == 1 and Path(paths[0]).is_file()
