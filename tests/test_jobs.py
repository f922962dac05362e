"""Cached analysis jobs over many files: hits skip the decode, bad files are reported."""

from __future__ import annotations

import subprocess
import time

import pytest

from montage_ai.core.run import jobs
from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.run.executor import LocalExecutor


def make_clip(path, frames=48, rate="24"):
    # Two shots with a hard cut at frame 24.
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=192x108:rate={rate}",
                    "-f", "lavfi", "-i", f"mandelbrot=size=192x108:rate={rate}",
                    "-filter_complex", f"[0:v]trim=end_frame=24[a];[1:v]trim=end_frame={frames - 24},setpts=PTS-STARTPTS[b];[a][b]concat=n=2:v=1[v]",
                    "-map", "[v]", "-c:v", "libx264", "-g", "12", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    good = [make_clip(d / f"good{i}.mp4") for i in range(2)]
    bad = d / "broken.mp4"
    bad.write_bytes(good[0].read_bytes()[:2000])
    return good, bad


def test_second_analysis_is_served_from_the_cache(clips, tmp_path, monkeypatch):
    good, _ = clips
    cache = AnalysisCache(tmp_path / "cache")
    first = jobs.analyze_footage_cached(str(good[0]), mode="full", cache=cache)
    assert [s.start_frame for s in first.shots][:2] == [0, 24]
    assert all(s.thumbnail and s.thumbnail.startswith(str(cache.root)) for s in first.shots if not s.black)

    def no_decode(*a, **k):
        raise AssertionError("a cache hit must not decode")

    monkeypatch.setattr(jobs, "analyze_footage", no_decode)
    started = time.perf_counter()
    again = jobs.analyze_footage_cached(str(good[0]), mode="full", cache=cache)
    assert time.perf_counter() - started < 0.5
    assert again == first


def test_changed_file_is_analysed_again(clips, tmp_path):
    good, _ = clips
    cache = AnalysisCache(tmp_path / "cache")
    path = tmp_path / "clip.mp4"
    path.write_bytes(good[0].read_bytes())
    jobs.analyze_footage_cached(str(path), mode="full", cache=cache)
    make_clip(path, frames=60)
    again = jobs.analyze_footage_cached(str(path), mode="full", cache=cache)
    assert again.media.video.frame_count == 60


def test_corrupt_cache_entry_is_rebuilt(clips, tmp_path):
    good, _ = clips
    cache = AnalysisCache(tmp_path / "cache")
    first = jobs.analyze_footage_cached(str(good[1]), mode="full", cache=cache)
    for entry in cache.root.rglob("*.json"):
        entry.write_text("{not json")
    assert jobs.analyze_footage_cached(str(good[1]), mode="full", cache=cache) == first


def test_one_bad_file_among_good_ones(clips, tmp_path):
    good, bad = clips
    missing = tmp_path / "missing.mov"
    report = jobs.analyze_files([str(good[0]), str(bad), str(missing), str(good[1])],
                                executor=LocalExecutor(max_workers=2), mode="full",
                                cache=AnalysisCache(tmp_path / "cache"))
    assert [a.path for a in report.analyses] == [str(good[0]), str(good[1])]
    reasons = dict(report.failures)
    assert set(reasons) == {str(bad), str(missing)}
    assert "broken.mp4" in reasons[str(bad)]
    assert "does not exist" in reasons[str(missing)]
