"""The workflows: one function per job, one options object each, on small generated media.

Each test runs a job as a front end does and reads what it wrote with readers we did not
write (OTIO's own JSON reader, ffprobe) or checks it against the engine called directly.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from fake_resolve import make_resolve
from montage_ai.core import defaults, workflows
from montage_ai.core.base import stages
from montage_ai.core.base.errors import Cancelled, NoUsableFootage
from montage_ai.core.base.fileio import OutputExistsError
from montage_ai.core.base.types import Failure, ShotKey
from montage_ai.core.cut.roughcut import RoughCutOptions
from montage_ai.core.cut.selects import SelectsOptions, choose_selects
from montage_ai.core.run.executor import InlineExecutor, LocalExecutor
from montage_ai.core.workflows import (
    ExportJob,
    MediaLogJob,
    PreviewJob,
    PushJob,
    ReportJob,
    RoughCutJob,
    SelectsJob,
    WorkOptions,
)
from montage_ai.resolve_plugin.direct import DirectClient
from selects_media import render_project


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from montage_ai.core.samples.footage import Segment, render_footage
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    root = tmp_path_factory.mktemp("workflows")
    (root / "footage").mkdir()
    kinds = ["testsrc2", "smptebars", "mandelbrot", "gradients", "pan", "life"]
    for i in range(2):
        segs = [Segment(kinds[(i * 3 + k) % len(kinds)], 50, seed=i + k + 1) for k in range(3)]
        render_footage(root / "footage" / f"clip{i}.mp4", segs, rate=Fraction(25), size=(128, 72))
    (root / "footage" / "broken.mp4").write_bytes(b"not a video")
    y, truth = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 2, 0.5), SectionSpec("B", 2, 0.95))))
    song = write_audio(root / "song.wav", y, truth.sample_rate)
    return root, song


def _work(root: Path) -> WorkOptions:
    return WorkOptions(cache_dir=str(root / "cache"), executor=InlineExecutor())


def test_job_defaults_are_the_product_defaults():
    job = RoughCutJob()
    assert (job.cut.style, job.cut.planner, job.cut.seed, job.cut.mode, job.cut.rate) == (
        defaults.STYLE, defaults.PLANNER, defaults.SEED, defaults.MODE, defaults.RATE)
    s = SelectsJob().selects
    assert (s.per_clip, s.min_score, s.piece_s, s.group) == (
        defaults.SELECTS_PER_CLIP, defaults.SELECTS_MIN_SCORE, defaults.SELECTS_PIECE_S, defaults.SELECTS_GROUP)
    assert ExportJob().formats == defaults.EXPORT_FORMATS and PreviewJob().height == defaults.PREVIEW_HEIGHT
    assert workflows.ProxiesJob().profile == defaults.PROXY_PROFILE


def test_work_options_choose_the_executor(monkeypatch):
    monkeypatch.delenv("MONTAGE_AI_DASK_SCHEDULER", raising=False)
    assert isinstance(WorkOptions(inline=True).make_executor(), InlineExecutor)
    assert isinstance(WorkOptions(workers=3).make_executor(), LocalExecutor)
    mine = InlineExecutor()
    with WorkOptions(executor=mine).executor_for() as got:
        assert got is mine
    assert WorkOptions(use_cache=False).cache() is None
    # A scheduler, named or from the environment, sends the work to Dask.
    asked = {}

    def fake_make(kind, max_workers=None, *, scheduler=None, path_map=None):
        asked.update(kind=kind, scheduler=scheduler, path_map=path_map)
        return InlineExecutor()

    monkeypatch.setattr("montage_ai.core.run.executor.make_executor", fake_make)
    WorkOptions(scheduler="tcp://sched:8786", path_map=("/Volumes/media=/mnt/media",)).make_executor()
    assert asked["kind"] == "dask" and asked["scheduler"] == "tcp://sched:8786"
    assert asked["path_map"].to_worker("/Volumes/media/a.mov") == "/mnt/media/a.mov"
    monkeypatch.setenv("MONTAGE_AI_DASK_SCHEDULER", "tcp://env:8786")
    WorkOptions().make_executor()
    assert asked["scheduler"] == "tcp://env:8786"


def test_rough_cut_then_export_then_preview(project, tmp_path):
    root, song = project
    seen: list[str] = []
    job = RoughCutJob(RoughCutOptions(style="mtv", duration_s=4.0, seed=2, planner="rules", name="wf"), _work(root))
    cut = workflows.run_rough_cut([str(root / "footage")], song, job, progress=lambda s, f: seen.append(s))
    assert cut.cut_list.seed == 2 and cut.cut_list.name == "wf" and cut.cut_list.cuts
    assert {stages.FOOTAGE, stages.MUSIC, stages.DUPLICATES, stages.PLAN, stages.ASSEMBLE} <= set(seen)
    assert [os.path.basename(f.path) for f in workflows.failures_of(cut)] == ["broken.mp4"]
    out = tmp_path / "cut.otio"
    result = workflows.run_export(cut.timeline, out, ExportJob())
    assert set(result.written) == set(defaults.EXPORT_FORMATS) and not result.failures
    back = otio.adapters.read_from_file(str(out))
    assert back.duration() == cut.timeline.duration()
    with pytest.raises(OutputExistsError):
        workflows.run_export(cut.timeline, out, ExportJob())
    preview = workflows.run_preview(cut, tmp_path / "p.mp4", PreviewJob(height=72))
    from montage_ai.core.media.probe import probe

    info = probe(str(preview))
    assert info.video.height == 72 and info.video.width == 128


def test_rough_cut_cancel_and_no_footage(project, tmp_path):
    root, song = project
    with pytest.raises(NoUsableFootage):
        workflows.run_rough_cut([str(tmp_path)], song, RoughCutJob(work=_work(root)))
    with pytest.raises(Cancelled):
        workflows.run_rough_cut([str(root / "footage")], song, RoughCutJob(RoughCutOptions(planner="rules"), _work(root)),
                                cancel=lambda: True)


def test_selects_report_and_media_log_judge_alike(tmp_path_factory):
    root = tmp_path_factory.mktemp("wf selects")
    paths = render_project(root)
    files = [str(paths[k]) for k in ("A", "B", "C", "D")]
    work = _work(root)
    opts = SelectsOptions(per_clip=2)
    made = workflows.run_selects(files, SelectsJob(opts, name="Day", work=work))
    assert made.timeline.name == "Day" and made.selects.picks
    # Near-duplicate B is judged against A in every job (the hashes are computed in all three).
    direct = choose_selects(made.analyses, opts)
    assert [(p.path, p.shot_index) for p in made.selects.picks] == [(p.path, p.shot_index) for p in direct.picks]
    logged = workflows.run_media_log(files, MediaLogJob(opts, work=work))
    statuses = {(c.path, s.shot_index): s.status for c in logged.clips for s in c.shots}
    assert all(statuses[(p.path, p.shot_index)] == "select" for p in made.selects.picks)
    assert any(r.flags == ("duplicate",) for r in made.selects.rejections)
    report = workflows.run_shot_report(files, tmp_path_factory.mktemp("rep") / "r.html", ReportJob(opts, work=work))
    assert report.html.exists() and report.csv.exists()
    assert [(p.path, p.shot_index) for p in report.selects.picks] == [(p.path, p.shot_index) for p in direct.picks]
    with pytest.raises(OutputExistsError):
        workflows.run_shot_report(files, report.html, ReportJob(opts, work=work))


def test_push_makes_proxies_then_links_them(tmp_path):
    from resolve_media import make_cut_list, make_media

    media = make_media(tmp_path)
    resolve = make_resolve({"Day 1": [media["a"], media["b"], media["c"]], "Music": [media["song"]]})
    cut_list = make_cut_list(media)
    from montage_ai.core.model.timeline import build_timeline

    class Shown:
        pass

    cut = Shown()
    cut.cut_list, cut.timeline, cut.analyses = cut_list, build_timeline(cut_list), ()
    seen: list[str] = []
    job = PushJob(name="WF", markers=False, make_proxies=True,
                  proxies=workflows.ProxiesJob(work=WorkOptions(executor=InlineExecutor())))
    report = workflows.run_push(DirectClient(resolve), cut, job, progress=lambda s, f: seen.append(s))
    assert report.ok, report.mismatches
    assert report.timeline_name == "WF" and report.markers_added == 0
    assert len(report.proxies_linked) == 3 and stages.PROXIES in seen and stages.RESOLVE in seen
    for source in (media["a"], media["b"], media["c"]):
        assert (Path(source).parent / "Proxy").is_dir()


def test_proxy_map_links_other_tools_proxies_by_name(tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "A001.mov").write_bytes(b"x")
    got = workflows.proxy_map([str(tmp_path / "A001.mp4"), str(tmp_path / "B.mp4")], str(folder))
    assert got == {str(tmp_path / "A001.mp4"): str(folder / "A001.mov")}
    with pytest.raises(workflows.MontageError, match="not a folder"):
        workflows.proxy_map([], str(tmp_path / "nope"))


def test_shared_types():
    assert ShotKey("a", 1) == ("a", 1) and {("a", 1): 2}[ShotKey("a", 1)] == 2
    assert str(Failure("/x/a.mov", stages.FOOTAGE, "no video")) == "/x/a.mov: no video"
    assert str(Failure("/x/a.mov", stages.FOOTAGE, "/x/a.mov: truncated")) == "/x/a.mov: truncated"
    assert stages.label(stages.FOOTAGE) == "Analysing footage"
