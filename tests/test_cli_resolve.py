"""`montage-ai resolve list|cut` against the fake Resolve, and `install-resolve` into a temporary home."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

import __main__
from fake_resolve import make_resolve
from montage_ai.ui.cli.main import main


@pytest.fixture
def no_injected(monkeypatch):
    monkeypatch.setattr(__main__, "resolve", None, raising=False)
    monkeypatch.delattr(__main__, "resolve")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from montage_ai.core.samples.footage import Segment, render_footage
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    root = tmp_path_factory.mktemp("resolve cli")
    kinds = ["testsrc2", "smptebars", "mandelbrot", "gradients"]
    clips = []
    for i in range(2):
        segs = [Segment(kinds[(i * 2 + k) % len(kinds)], 50, seed=i + k + 1) for k in range(3)]
        path = root / f"clip{i}.mp4"
        render_footage(path, segs, rate=Fraction(25), size=(160, 90))
        clips.append(str(path))
    y, truth = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 2, 0.5), SectionSpec("B", 2, 0.95))))
    song = write_audio(root / "song.wav", y, truth.sample_rate)
    return clips, song


def _inject(monkeypatch, resolve):
    monkeypatch.setattr(__main__, "resolve", resolve, raising=False)


def test_resolve_list_prints_the_tree_and_skipped_items(project, monkeypatch, capsys):
    clips, song = project
    _inject(monkeypatch, make_resolve({"Day 1": clips + [("Timeline 1", "Timeline")], "Music": [song]}, rate="25"))
    assert main(["resolve", "list"]) == 0
    out, err = capsys.readouterr()
    assert "project 'Fake project', timelines at 25 fps" in out
    assert "  Day 1/\n    clip0.mp4  25 fps, 150 frames, 160x90" in out
    assert "skipped: Master/Day 1/Timeline 1" in err


def test_resolve_list_json(project, monkeypatch, capsys):
    clips, song = project
    _inject(monkeypatch, make_resolve({"Day 1": clips}, rate="23.976"))
    assert main(["resolve", "list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rate"] == "24000/1001" and doc["pool"]["bins"][0]["clips"][1]["frames"] == 150


def test_resolve_cut_pushes_a_new_timeline_from_a_bin(project, monkeypatch, capsys, tmp_path):
    clips, song = project
    resolve = make_resolve({"Day 1": clips, "Music": [song]}, rate="25")
    _inject(monkeypatch, resolve)
    code = main(["resolve", "cut", "--bin", "Day 1", "--music", "song.wav", "--style", "mtv", "--duration", "4",
                 "--name", "Friday cut", "--cache-dir", str(tmp_path / "cache"), "--workers", "1",
                 "--otio", str(tmp_path / "cut.otio")])
    out = capsys.readouterr().out
    assert code == 0, out
    timeline = resolve.project.timeline("Friday cut")
    import opentimelineio as otio

    written = otio.adapters.read_from_file(str(tmp_path / "cut.otio"))
    assert len(timeline.GetItemListInTrack("video", 1)) == len(list(written.video_tracks()[0].find_clips()))
    assert len(timeline.GetItemListInTrack("audio", 1)) == 1 and timeline.GetMarkers()
    assert "pushed timeline 'Friday cut' (append)" in out


def test_resolve_cut_names_a_missing_music_clip(project, monkeypatch, capsys):
    clips, _ = project
    _inject(monkeypatch, make_resolve({"Day 1": clips}))
    assert main(["resolve", "cut", "--bin", "Day 1", "--music", "nothing.wav"]) == 1
    assert "--music nothing.wav: neither a file nor a clip in the media pool" in capsys.readouterr().err


def test_resolve_commands_without_resolve_explain(no_injected, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RESOLVE_SCRIPT_API", str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "DaVinciResolveScript", raising=False)
    assert main(["resolve", "list"]) == 1
    err = capsys.readouterr().err
    assert "error: no live route into DaVinci Resolve" in err
    assert "external: no (module-missing): cannot find Resolve's scripting module" in err and str(tmp_path / "Modules") in err
    assert "bridge: no (not-started)" in err and "Workspace > Scripts > Utility > Montage AI Bridge" in err


def test_install_resolve_and_uninstall_in_a_temporary_home(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    monkeypatch.setattr("platform.system", lambda: "Linux")
    assert main(["install-resolve"]) == 0
    launcher = tmp_path / ".local/share/DaVinciResolve/Fusion/Scripts/Utility/Montage AI.py"
    assert launcher.is_file() and f"installed {launcher}" in capsys.readouterr().out
    assert main(["install-resolve", "--uninstall"]) == 0
    assert not launcher.exists() and list(tmp_path.iterdir()) == []


def test_resolve_cut_without_a_bin_cuts_the_selected_clips(project, monkeypatch, capsys, tmp_path):
    from fake_resolve import find_clip

    clips, song = project
    resolve = make_resolve({"Day 1": clips, "Music": [song]}, rate="25")
    resolve.project.pool.selected = [find_clip(resolve, "clip1.mp4")]
    _inject(monkeypatch, resolve)
    code = main(["resolve", "cut", "--music", song, "--duration", "3", "--cache-dir", str(tmp_path / "cache"),
                 "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.out
    assert "Cutting 1 clip from the selection" in captured.err
    timeline = resolve.project.timeline("Montage AI dynamic")
    files = {item.GetMediaPoolItem().GetName() for item in timeline.GetItemListInTrack("video", 1)}
    assert files == {"clip1.mp4"}


def test_resolve_cut_runs_where_scheduler_says_and_plans_with_the_planner(project, monkeypatch, capsys, tmp_path):
    """``--scheduler`` and ``--path-map`` reach the executor that analyses, ``--planner`` the planner."""
    from montage_ai.core.run.executor import InlineExecutor
    from montage_ai.core.workflows import WorkOptions

    clips, song = project
    resolve = make_resolve({"Day 1": clips, "Music": [song]}, rate="25")
    _inject(monkeypatch, resolve)
    used = []

    def fake_make_executor(self, default_workers=None):
        used.append((self.scheduler, self.path_map))
        return InlineExecutor()

    monkeypatch.setattr(WorkOptions, "make_executor", fake_make_executor)
    code = main(["resolve", "cut", "--bin", "Day 1", "--music", "song.wav", "--duration", "3", "--planner", "rules",
                 "--scheduler", "tcp://render1:8786", "--path-map", "/Volumes/media=/mnt/media",
                 "--cache-dir", str(tmp_path / "cache")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert used == [("tcp://render1:8786", ("/Volumes/media=/mnt/media",))]
    assert "planner rules" in out


def test_cut_and_resolve_cut_offer_the_same_options_and_defaults():
    from montage_ai.core import defaults
    from montage_ai.ui.cli.main import build_parser

    parser = build_parser()
    cut = parser.parse_args(["cut", "--media", "x", "--music", "s.wav", "-o", "c.otio"])
    rcut = parser.parse_args(["resolve", "cut", "--music", "s.wav"])
    keys = ("style", "duration", "fps", "seed", "brief", "mode", "planner", "ollama_host", "model", "vision_model",
            "workers", "cache_dir", "no_cache", "force", "scheduler", "path_map")
    assert {k: getattr(cut, k) for k in keys} == {k: getattr(rcut, k) for k in keys}
    assert (cut.style, cut.planner, cut.seed, cut.mode) == (defaults.STYLE, defaults.PLANNER, defaults.SEED,
                                                             defaults.MODE)
    sel = parser.parse_args(["selects", "x", "-o", "s.otio"])
    log = parser.parse_args(["resolve", "log"])
    assert (sel.per_clip, sel.min_score) == (log.per_clip, log.min_score) == (defaults.SELECTS_PER_CLIP,
                                                                               defaults.SELECTS_MIN_SCORE)
