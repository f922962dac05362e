"""`montage-ai proxies` and `montage-ai encoders`; --scheduler/--path-map choose the Dask executor."""

from __future__ import annotations

import subprocess

import pytest

from montage_ai.core.media.probe import probe
from montage_ai.ui.cli.main import build_parser, main, work_from_args


@pytest.fixture
def footage(tmp_path, monkeypatch):
    monkeypatch.setenv("MONTAGE_AI_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("FFMPEG_HWACCEL", raising=False)
    monkeypatch.delenv("MONTAGE_AI_DASK_SCHEDULER", raising=False)
    d = tmp_path / "day1"
    d.mkdir()
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-frames:v", "20",
                    "-c:v", "libx264", "-timecode", "01:00:00:00", str(d / "A001.mov")], check=True)
    return d


def test_proxies_command_writes_then_skips(footage, capsys):
    assert main(["proxies", str(footage), "--encoder", "cpu", "--profile", "h264-quarter", "--workers", "1"]) == 0
    proxy = footage / "Proxy" / "A001.mp4"
    assert f"wrote {proxy} (libx264, 20 frames)" in capsys.readouterr().out
    assert probe(proxy).start_timecode == "01:00:00:00"
    assert main(["proxies", str(footage), "--encoder", "cpu", "--profile", "h264-quarter", "--workers", "1"]) == 0
    assert f"up to date: {proxy}" in capsys.readouterr().out


def test_proxies_command_writes_into_a_chosen_folder(footage, tmp_path, capsys):
    out = tmp_path / "proxies"
    assert main(["proxies", str(footage / "A001.mov"), "--profile", "prores-proxy-quarter", "--out", str(out),
                 "--workers", "1"]) == 0
    assert probe(out / "A001.mov").video.codec == "prores"


def test_bad_encoder_setting_is_an_error(footage, monkeypatch, capsys):
    monkeypatch.setenv("FFMPEG_HWACCEL", "cuda")
    assert main(["proxies", str(footage)]) == 1
    assert "FFMPEG_HWACCEL='cuda' is not an encoder" in capsys.readouterr().err


def test_encoders_command_lists_what_was_proven(footage, capsys):
    assert main(["encoders"]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[:4] == ["cpu", "h264", "libx264", "works"] for line in out.splitlines())
    assert "auto uses" in out


@pytest.mark.parametrize("command", [["analyze", "x.mov"], ["cut", "--media", "x", "--music", "s.wav", "-o", "c.otio"],
                                     ["selects", "x.mov", "-o", "s.otio"], ["report", "x.mov", "-o", "r.html"],
                                     ["proxies", "x.mov"], ["resolve", "cut", "--music", "s.wav"],
                                     ["resolve", "log"]])
def test_scheduler_and_path_map_choose_the_dask_executor(monkeypatch, command):
    """Every command that runs jobs takes --scheduler and --path-map, and they reach the executor."""
    pytest.importorskip("distributed")
    monkeypatch.delenv("MONTAGE_AI_DASK_SCHEDULER", raising=False)
    args = build_parser().parse_args(command + ["--scheduler", "tcp://render1:8786",
                                                "--path-map", "/Volumes/media=/mnt/media"])
    ex = work_from_args(args).make_executor()
    assert type(ex).__name__ == "DaskExecutor" and ex.scheduler == "tcp://render1:8786"
    assert ex.path_map.to_worker("/Volumes/media/a.mov") == "/mnt/media/a.mov"
    local = work_from_args(build_parser().parse_args(command + ["--workers", "3"])).make_executor()
    assert type(local).__name__ == "LocalExecutor" and local.max_workers == 3
