"""Dask executor: path mapping, analysis and proxies on a LocalCluster equal to local, worker death, retries."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

import pytest

distributed = pytest.importorskip("distributed")

from montage_ai.core.base.errors import Cancelled, MediaError, MontageError  # noqa: E402
from montage_ai.core.media.decode import decode_frames  # noqa: E402
from montage_ai.core.media.probe import probe  # noqa: E402
from montage_ai.core.render.proxies import make_proxies  # noqa: E402
from montage_ai.core.run import jobs  # noqa: E402
from montage_ai.core.run.cache import AnalysisCache  # noqa: E402
from montage_ai.core.run.dask_executor import DaskExecutor, PathMap  # noqa: E402
from montage_ai.core.run.executor import LocalExecutor, make_executor  # noqa: E402
from montage_ai.core.samples.framecode import read_framecode, render_framecode  # noqa: E402

# --- path mapping (no cluster) -------------------------------------------------------

@dataclass(frozen=True)
class Holder:
    path: str
    others: tuple[str, ...]
    count: int


def test_path_map_rewrites_prefixes_at_folder_boundaries_longest_first():
    m = PathMap.parse(["/Volumes/media=/mnt/media", "/Volumes/media/cache=/mnt/cache"])
    assert m.to_worker("/Volumes/media/day1/A.mov") == "/mnt/media/day1/A.mov"
    assert m.to_worker("/Volumes/media/cache/ab/x.json") == "/mnt/cache/ab/x.json"
    assert m.to_worker("/Volumes/media2/A.mov") == "/Volumes/media2/A.mov"  # another folder
    assert m.to_editor("/mnt/media/day1/A.mov") == "/Volumes/media/day1/A.mov"


def test_path_map_converts_windows_separators():
    m = PathMap.parse(["Z:\\footage=/mnt/media"])
    assert m.to_worker("Z:\\footage\\day1\\A.mov") == "/mnt/media/day1/A.mov"
    assert m.to_editor("/mnt/media/day1/A.mov") == "Z:\\footage\\day1\\A.mov"


def test_path_map_walks_results_and_job_arguments():
    m = PathMap.parse(["/e=/w"])
    held = m.to_editor(Holder("/w/a.mov", ("/w/t/0.jpg", "/elsewhere/x"), 3))
    assert held == Holder("/e/a.mov", ("/e/t/0.jpg", "/elsewhere/x"), 3)
    job = m.to_worker(partial(jobs.footage_job, mode="fast", cache_root="/e/cache"))
    assert job.keywords == {"mode": "fast", "cache_root": "/w/cache"}
    assert m.to_worker(PurePosixPath("/e/b.mov")) == PurePosixPath("/w/b.mov")


def test_path_map_refuses_a_pair_without_two_sides():
    with pytest.raises(MontageError, match="EDITOR_PREFIX=WORKER_PREFIX"):
        PathMap.parse(["/Volumes/media"])


def test_dask_executor_needs_a_scheduler(monkeypatch):
    monkeypatch.delenv("MONTAGE_AI_DASK_SCHEDULER", raising=False)
    with pytest.raises(MontageError, match="--scheduler"):
        make_executor("dask")


def test_an_unreachable_scheduler_is_a_clear_error():
    ex = DaskExecutor("tcp://127.0.0.1:9", connect_timeout_s=2)
    assert ex.run(wait_for_cancel, []) == []  # nothing to do: no connection needed
    with pytest.raises(MontageError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        ex.run(wait_for_cancel, [1])


# --- on a LocalCluster ---------------------------------------------------------------

def slow_footage_job(path, progress, cancel, *, delay_s, **kwargs):
    """A real analysis job that first waits, so a test can kill its worker mid-job."""
    progress(0.05)
    time.sleep(delay_s)
    return jobs.footage_job(path, progress, cancel, **kwargs)


def fails_once(item, progress, cancel, *, marker_dir):
    marker = Path(marker_dir) / f"{item}.tried"
    if not marker.exists():
        marker.touch()
        raise OSError("the NFS mount went away for a moment")
    return item * 10


def bad_file(item, progress, cancel, *, marker_dir):
    (Path(marker_dir) / f"{item}.{os.getpid()}.{time.monotonic_ns()}").touch()
    raise MediaError(f"/e/clip{item}.mov", "file is truncated")


def wait_for_cancel(item, progress, cancel):
    for _ in range(400):
        progress(0.1)
        if cancel():
            raise Cancelled("stopped")
        time.sleep(0.025)
    return item


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    """Shared storage seen under two prefixes: the workers' real folder and the editor's link to it."""
    root = tmp_path_factory.mktemp("nfs")
    real = root / "export"
    (real / "media").mkdir(parents=True)
    for i in range(4):
        render_framecode(real / "media" / f"clip{i}.mp4", 36, rate=24, size=(192, 108), tag=i, gop_frames=12)
    editor = root / "Volumes-media"
    editor.symlink_to(real)
    files = [str(editor / "media" / f"clip{i}.mp4") for i in range(4)]
    return editor, real, files


def comparable(analysis):
    d = analysis.to_dict()
    for shot in d["shots"]:
        shot["thumbnail"] = os.path.basename(shot["thumbnail"]) if shot["thumbnail"] else None
    return d


def test_analysis_on_the_cluster_equals_the_local_executor(client, storage, tmp_path):
    editor, real, files = storage
    ex = DaskExecutor(client, path_map=PathMap.parse([f"{editor}={real}"]))
    events = []
    remote = jobs.analyze_files(files, executor=ex, cache=AnalysisCache(editor / "cache-a"), progress=events.append)
    local = jobs.analyze_files(files, executor=LocalExecutor(2), cache=AnalysisCache(tmp_path / "cache-b"))
    assert not remote.failures and [a.path for a in remote.analyses] == files
    assert [comparable(a) for a in remote.analyses] == [comparable(a) for a in local.analyses]
    thumbs = [s.thumbnail for a in remote.analyses for s in a.shots if s.thumbnail]
    assert thumbs and all(t.startswith(str(editor)) and os.path.exists(t) for t in thumbs)
    assert events[-1].done == 4 and any(e.fraction < 1.0 for e in events)
    # A later local run finds the workers' cache entries and sees them with its own paths.
    again = jobs.analyze_files(files, cache=AnalysisCache(editor / "cache-a"))
    assert [comparable(a) for a in again.analyses] == [comparable(a) for a in local.analyses]
    assert all(s.thumbnail.startswith(str(editor / "cache-a")) for a in again.analyses for s in a.shots if s.thumbnail)


def test_proxies_on_the_cluster_equal_the_local_executor(client, storage, tmp_path, monkeypatch):
    editor, real, files = storage
    monkeypatch.setenv("MONTAGE_AI_CACHE", str(tmp_path / "user-cache"))
    ex = DaskExecutor(client, path_map=PathMap.parse([f"{editor}={real}"]))
    remote = make_proxies(files, profile="h264-half", encoder="cpu", out_dir=editor / "px-dask", executor=ex)
    local = make_proxies(files, profile="h264-half", encoder="cpu", out_dir=tmp_path / "px-local",
                         executor=LocalExecutor(2))
    assert not remote.failures and not local.failures
    assert [r.proxy for r in remote.results] == [str(editor / "px-dask" / f"clip{i}.mp4") for i in range(4)]
    for r, l in zip(remote.results, local.results):
        assert (r.source, r.encoder, r.frame_count, Path(r.proxy).name) == (l.source, l.encoder, l.frame_count,
                                                                            Path(l.proxy).name)
        a, b = probe(r.proxy), probe(l.proxy)
        assert (a.video.frame_count, a.video.rate, a.video.width) == (b.video.frame_count, b.video.rate, b.video.width)
        assert [read_framecode(f.image) for f in decode_frames(r.proxy, hwaccel=None)] == list(range(36))


def test_a_worker_killed_mid_job_and_the_job_still_completes(client, storage, tmp_path):
    editor, real, files = storage
    ex = DaskExecutor(client, path_map=PathMap.parse([f"{editor}={real}"]))
    job = partial(slow_footage_job, delay_s=2.0, mode="auto", cache_root=None)
    killed: list[int] = []

    def kill_a_busy_worker():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed:
            busy = [addr for addr, keys in client.processing().items() if keys]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.2)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    results = ex.run(job, files[:3])
    killer.join()
    assert killed, "no worker was caught running a job"
    assert all(r.ok for r in results), [r.error for r in results]
    local = jobs.analyze_files(files[:3])
    assert [comparable(r.value) for r in results] == [comparable(a) for a in local.analyses]
    client.wait_for_workers(2, timeout=60)  # the nanny restarted the killed one
    assert killed[0] not in client.run(os.getpid).values()


def test_an_unexpected_error_is_retried(client, tmp_path):
    results = DaskExecutor(client, retries=2).run(partial(fails_once, marker_dir=str(tmp_path)), [1, 2])
    assert [r.value for r in results] == [10, 20]


def test_a_bad_file_is_reported_once_and_not_retried(client, tmp_path):
    results = DaskExecutor(client, retries=2).run(partial(bad_file, marker_dir=str(tmp_path)), [7])
    assert results[0].error == "/e/clip7.mov: file is truncated"
    assert len(os.listdir(tmp_path)) == 1


def test_cancel_stops_the_cluster_jobs(client):
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        DaskExecutor(client).run(wait_for_cancel, [1, 2, 3], cancel=stop.is_set)
    assert time.monotonic() - started < 5
