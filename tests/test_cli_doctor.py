"""`montage-ai doctor` and `montage-ai cut --planner ...` against a fake Ollama server."""

from __future__ import annotations

import json

from fake_ollama import FakeOllama, closed_port_host
from montage_ai.ui.cli import doctor as cli_doctor
from montage_ai.ui.cli.doctor import Check
from montage_ai.ui.cli.main import main
from test_cli import small_project  # noqa: F401 - module fixture: a generated three-clip project

MODEL = "llama3.2:3b"


def test_doctor_reports_ffmpeg_with_its_version(capsys):
    assert main(["doctor", "--ollama-host", closed_port_host()]) == 0
    out = capsys.readouterr().out
    assert "ok   ffmpeg   ffmpeg version" in out and "ok   ffprobe  ffprobe version" in out


def test_doctor_lists_the_models_of_a_reachable_ollama(capsys):
    with FakeOllama(models={MODEL: ("completion",), "moondream:latest": ("completion", "vision")}) as s:
        assert main(["doctor", "--ollama-host", s.host, "--vision-model", "moondream"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "ollama" in x)
    assert line.startswith("ok ") and s.host in line and f"{MODEL}, moondream:latest" in line


def test_doctor_says_which_model_to_pull(capsys):
    with FakeOllama(models={"mistral:7b": ("completion",)}) as s:
        assert main(["doctor", "--ollama-host", s.host, "--model", "qwen2.5:7b"]) == 0
    out = capsys.readouterr().out
    assert "missing: qwen2.5:7b" in out and "fix: ollama pull qwen2.5:7b" in out


def test_doctor_says_how_to_start_ollama_when_it_does_not_answer(capsys):
    assert main(["doctor", "--ollama-host", closed_port_host()]) == 0
    out = capsys.readouterr().out
    assert "does not answer" in out and "ollama serve" in out and f"ollama pull {MODEL}" in out


def test_doctor_fails_when_a_required_check_fails_and_runs_the_others(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("boom")

    def missing(args):
        return Check("sometool", False, "not found on PATH", "install sometool", required=True)

    monkeypatch.setattr(cli_doctor, "CHECKS", [missing, broken, cli_doctor.check_ffmpeg])
    assert main(["doctor"]) == 1
    captured = capsys.readouterr()
    assert "FAIL sometool" in captured.out and "fix: install sometool" in captured.out
    assert "the check failed: boom" in captured.out and "ok   ffmpeg" in captured.out
    assert "sometool" in captured.err


def test_register_check_adds_a_check_once(monkeypatch):
    monkeypatch.setattr(cli_doctor, "CHECKS", list(cli_doctor.CHECKS))

    def extra(args):
        return Check("extra", True, "fine")

    cli_doctor.register_check(extra)
    cli_doctor.register_check(extra)
    assert cli_doctor.CHECKS.count(extra) == 1


def schema_plan(body: dict) -> str:
    ids = body["format"]["properties"]["intro"]["items"]["properties"]["id"]["enum"]
    n = len(ids)
    cuts = [0, n // 4, n // 2, 3 * n // 4, n]
    names = ("intro", "build", "climax", "outro")
    return json.dumps({p: [{"id": i, "reason": "model pick"} for i in reversed(ids[a:b])]
                       for p, a, b in zip(names, cuts, cuts[1:])})


def cut_args(project, tmp_path, *extra):
    root, song = project
    return ["cut", "--media", str(root / "footage"), "--music", song, "--style", "dynamic", "--duration", "8",
            "-o", str(tmp_path / "cut.otio"), "--cache-dir", str(tmp_path / "cache"), "--workers", "2", *extra]


def test_cut_with_the_ollama_planner_uses_the_models_plan(small_project, tmp_path, capsys):  # noqa: F811
    import opentimelineio as otio

    with FakeOllama(models={MODEL: ("completion",)}, reply=schema_plan) as s:
        assert main(cut_args(small_project, tmp_path, "--planner", "ollama", "--ollama-host", s.host)) == 0
        (chat,) = s.chats()
    assert chat["options"]["temperature"] == 0 and "clip0.mp4#0" in chat["messages"][1]["content"]
    assert f"planner ollama {MODEL}" in capsys.readouterr().out
    timeline = otio.adapters.read_from_file(str(tmp_path / "cut.otio"))
    reasons = [c.metadata["montage_ai"]["reason"] for c in timeline.video_tracks()[0].find_clips()]
    assert any("model pick" in r for r in reasons)


def test_cut_with_auto_and_no_ollama_uses_the_rules(small_project, tmp_path, capsys):  # noqa: F811
    assert main(cut_args(small_project, tmp_path, "--ollama-host", closed_port_host())) == 0
    out = capsys.readouterr().out
    assert "planner rules" in out and "rules planner used" not in out


def test_cut_with_ollama_and_no_server_falls_back_and_says_why(small_project, tmp_path, capsys):  # noqa: F811
    assert main(cut_args(small_project, tmp_path, "--planner", "ollama", "--ollama-host", closed_port_host())) == 0
    out = capsys.readouterr().out
    assert "planner rules" in out and "note: rules planner used: Ollama at" in out
