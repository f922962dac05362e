"""The cache never breaks a run: entries of the wrong shape, edited by hand or of another
format are rebuilt like corrupt ones; a cache folder that cannot be written means analysing
in memory, with one warning."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from montage_ai.core.analysis.footage import ANALYSIS_VERSION
from montage_ai.core.run.cache import AnalysisCache, FileIdentity
from montage_ai.core.run.jobs import FOOTAGE_KIND, analyze_files


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("degrade") / "shot.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=128x72:rate=25", "-frames:v", "25",
                    "-c:v", "libx264", str(path)], check=True)
    return str(path)


def _entry(cache: AnalysisCache, clip: str):
    key = cache.key(FOOTAGE_KIND, FileIdentity.of(clip), ANALYSIS_VERSION, mode="auto")
    return key, cache.path_for(key)


def _good(cache: AnalysisCache, clip: str) -> dict:
    report = analyze_files([clip], cache=cache)
    assert report.failures == [] and len(report.analyses) == 1
    return json.loads(_entry(cache, clip)[1].read_text())


WRONG = {
    "a JSON list": lambda env: [env],
    "a payload that is a list": lambda env: {**env, "payload": [env["payload"]]},
    "shots that are a string": lambda env: {**env, "payload": {**env["payload"], "shots": "many"}},
    "no payload": lambda env: {"key": env["key"]},
    "an edited value": lambda env: {**env, "payload": {**env["payload"],
                                                       "shots": [dict(s, end_frame=s["end_frame"] + 1000)
                                                                 for s in env["payload"]["shots"]]}},
    "another cache format": lambda env: {**env, "format": 1},
}


@pytest.mark.parametrize("case", list(WRONG))
def test_a_wrong_entry_is_rebuilt_not_used(clip, tmp_path, case):
    cache = AnalysisCache(tmp_path / "cache")
    env = _good(cache, clip)
    first = analyze_files([clip], cache=cache).analyses[0]
    _, path = _entry(cache, clip)
    path.write_text(json.dumps(WRONG[case](env)))
    report = analyze_files([clip], cache=cache)  # no traceback, the same analysis as before
    assert report.failures == [] and report.analyses[0].shots == first.shots
    assert json.loads(path.read_text())["sum"] == env["sum"]  # rebuilt, valid again


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="needs POSIX modes and a non-root user")
def test_a_read_only_cache_means_analysing_in_memory(clip, tmp_path, caplog):
    root = tmp_path / "cache"
    root.mkdir()
    os.chmod(root, stat.S_IRUSR | stat.S_IXUSR)
    try:
        report = analyze_files([clip, clip], cache=AnalysisCache(root))
    finally:
        os.chmod(root, stat.S_IRWXU)
    assert report.failures == [] and len(report.analyses) == 2
    assert caplog.text.count("cannot be written") == 1


def test_a_cache_that_cannot_be_written_means_analysing_in_memory(clip, tmp_path, caplog):
    """Works as root too: the cache 'folder' is a file, so nothing can be made under it."""
    root = tmp_path / "not a folder"
    root.write_text("x")
    report = analyze_files([clip, clip], cache=AnalysisCache(root))
    assert report.failures == [] and len(report.analyses) == 2
    assert caplog.text.count("cannot be written") == 1
