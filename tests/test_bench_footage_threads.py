"""bench/footage_threads.py runs on a short generated clip: every stage is timed inside the
analysis, the wrappers and the worker setting are undone, and in-line work gives the same analysis."""

from __future__ import annotations

from bench_module import load_bench, two_shot_clip
from montage_ai.core.analysis import frame_work as FW
from montage_ai.core.analysis.footage import analyze_footage


def _bench():
    return load_bench("footage_threads")


def test_stages_are_timed_inside_the_analysis_and_put_back(tmp_path):
    bench = _bench()
    path = two_shot_clip(tmp_path)
    measure, pool = FW.Q.measure, FW.shared_pool
    frames, split = bench.stage_split([str(path)])
    assert frames == 50
    assert split["per-frame work, all"] > 0 and split["quality.measure"] > 0 and split["PySceneDetect"] > 0
    assert split["per-frame work, all"] >= split["quality.measure"]
    assert FW.Q.measure is measure

    pooled = analyze_footage(path, mode="full")
    seen = []
    real_analyze = bench.analyze_footage
    bench.analyze_footage = lambda p, mode: seen.append(real_analyze(p, mode=mode))
    try:
        turn = bench.one_turn([str(path)], 0)
    finally:
        bench.analyze_footage = real_analyze
    assert seen == [pooled]  # in line on the caller's thread: the same analysis
    assert turn["wall"] > 0 and turn["own"] > 0 and turn["kids"] > 0
    assert FW.shared_pool is pool
