"""bench/beats_real.py runs end to end: on generated music always, on the real set when present."""

from __future__ import annotations

import numpy as np
import pytest

from bench_module import load_bench
from montage_ai.core.samples.music import render_preset, write_audio


def _bench():
    return load_bench("beats_real")


def test_bench_scores_generated_music_in_the_real_sets_format(tmp_path, capsys):
    for name in ("steady_120", "waltz"):
        y, truth = render_preset(name)
        write_audio(tmp_path / f"gen_{name}.flac", y[: 22050 * 12], 22050)
        beats = [t for t in truth.beat_times_s if t < 12.0]
        downs = {round(t, 6) for t in truth.downbeat_times_s}
        (tmp_path / f"gen_{name}.beats").write_text(
            "".join(f"{t:.3f}\t{1 if round(t, 6) in downs else 2}\n" for t in beats))
    bench = _bench()
    bench.SWEEP = {"HALF_REPEAT": (0.08,)}               # one neighbour: the sweep's path, kept short
    assert bench.main(["--music-dir", str(tmp_path), "--sweep"]) == 0
    out = capsys.readouterr().out
    assert "gen_steady_120" in out and "librosa" in out and "ratio ours/librosa" in out
    assert "sweep over 2 tracks" in out and "HALF_REPEAT = 0.08 (shipped 0.12)" in out
    ref, nums = bench.read_beats(tmp_path / "gen_steady_120.beats")
    s = bench.score(ref, nums, ref + 0.01, nums)
    assert s["F"] == 1.0 and s["dF"] == 1.0 and s["Acc1"] == 1.0
    half = bench.score(ref, nums, ref[::2], None)
    assert half["Acc1"] == 0.0 and half["Acc2"] == 1.0 and np.isnan(half["dF"])


def test_bench_reads_the_real_set_when_present():
    bench = _bench()
    d = bench.default_music_dir()
    if not d.is_dir():
        pytest.skip("../shared/realworld/music not present (only on development machines)")
    t, n = bench.read_beats(d / "gtzan_rock_00075.beats")
    assert len(t) > 20 and n is not None and set(n) >= {1, 2}
