"""The command line: probe and analyze, progress on stderr, clear errors, no overwrites."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from montage_ai.ui.cli.main import main


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "shot one.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30000/1001",
                    "-frames:v", "30", "-c:v", "libx264", str(path)], check=True)
    return path


def test_probe_prints_exact_rate(clip, capsys):
    assert main(["probe", str(clip)]) == 0
    out = capsys.readouterr().out
    assert "30000/1001 fps" in out and "30 frames" in out


def test_probe_json(clip, capsys):
    assert main(["probe", "--json", str(clip)]) == 0
    assert json.loads(capsys.readouterr().out)["video"]["rate"] == "30000/1001"


def test_probe_bad_file_names_it(tmp_path, capsys):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert main(["probe", str(empty)]) == 1
    assert f"error: {empty}: file is empty" in capsys.readouterr().err


def test_analyze_writes_json_and_reports_skipped_files(clip, tmp_path, capsys):
    bad = tmp_path / "bad.mov"
    bad.write_bytes(b"not a movie" * 100)
    out = tmp_path / "analysis.json"
    code = main(["analyze", str(clip), str(bad), "--mode", "full", "--json", str(out),
                 "--cache-dir", str(tmp_path / "cache"), "--workers", "1"])
    assert code == 0
    doc = json.loads(out.read_text())
    assert [f["path"] for f in doc["footage"]] == [str(clip)]
    assert doc["failures"][0]["path"] == str(bad)
    err = capsys.readouterr().err
    assert f"skipped: {bad}" in err


def test_analyze_never_overwrites_without_force(clip, tmp_path, capsys):
    out = tmp_path / "mine.json"
    out.write_text("the editor's notes")
    args = ["analyze", str(clip), "--json", str(out), "--cache-dir", str(tmp_path / "cache"), "--workers", "1"]
    assert main(args) == 1
    assert out.read_text() == "the editor's notes"
    assert "--force" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0
    assert json.loads(out.read_text())["footage"]


def test_console_script_runs(clip):
    done = subprocess.run([sys.executable, "-m", "montage_ai.ui.cli.main", "probe", str(clip)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "h264" in done.stdout


def test_analyze_with_music(clip, tmp_path, capsys):
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    y, truth = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 6),)))
    song = write_audio(tmp_path / "song.flac", y, truth.sample_rate)
    out = tmp_path / "a.json"
    assert main(["analyze", str(clip), "--music", song, "--json", str(out), "--cache-dir", str(tmp_path / "c"),
                 "--workers", "1"]) == 0
    music = json.loads(out.read_text())["music"]
    assert abs(music["tempo_bpm"] - 120) < 2
    assert "bpm" in capsys.readouterr().out


def test_demo_cuts_a_generated_project(tmp_path, capsys):
    import opentimelineio as otio

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--workers", "2"]) == 0
    assert len(list((out / "footage").iterdir())) == 6 and (out / "music" / "demo_song.wav").exists()
    timeline = otio.adapters.read_from_file(str(out / "cut.otio"))
    clips = list(timeline.video_tracks()[0].find_clips())
    assert len(clips) > 10
    assert all((out / f"cut{suffix}").stat().st_size > 0 for suffix in (".fcpxml", ".xml", ".edl", ".otioz"))
    # The demo's EDL (mixed rates) loads in OTIO's official CMX 3600 reader.
    listed = otio.adapters.read_from_file(str(out / "cut.edl"), adapter_name="cmx_3600",
                                          rate=timeline.global_start_time.rate)
    assert len(list(listed.video_tracks()[0].find_clips())) == len(clips)
    preview = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                              "stream=nb_read_frames", "-of", "csv=p=0", str(out / "cut_preview.mp4")],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert int(preview) == sum(c.duration().to_frames() for c in clips)
    printed = capsys.readouterr().out
    assert "intro" in printed and "climax" in printed and "wrote" in printed


@pytest.fixture(scope="module")
def small_project(tmp_path_factory):
    from fractions import Fraction

    from montage_ai.core.samples.footage import Segment, render_footage
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    root = tmp_path_factory.mktemp("project")
    (root / "footage").mkdir()
    kinds = ["testsrc2", "smptebars", "mandelbrot", "gradients", "pan", "life"]
    for i, rate in enumerate([Fraction(25), Fraction(30000, 1001), Fraction(25)]):
        segs = [Segment(kinds[(i * 2 + k) % len(kinds)], int(rate * 3), seed=i + k + 1) for k in range(4)]
        render_footage(root / "footage" / f"clip{i}.mp4", segs, rate=rate, size=(192, 108))
    y, truth = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 3, 0.5), SectionSpec("B", 3, 0.95))))
    song = write_audio(root / "song.wav", y, truth.sample_rate)
    return root, song


def test_cut_writes_timeline_with_duration_and_rate(small_project, tmp_path, capsys):
    import opentimelineio as otio

    root, song = small_project
    out = tmp_path / "cut.otio"
    args = ["cut", "--media", str(root / "footage"), "--music", song, "--style", "mtv", "--duration", "8",
            "--fps", "25", "--seed", "3", "-o", str(out), "--cache-dir", str(tmp_path / "cache"), "--workers", "2"]
    assert main(args) == 0
    timeline = otio.adapters.read_from_file(str(out))
    assert timeline.global_start_time.to_timecode() == "01:00:00:00"
    v1 = timeline.video_tracks()[0]
    assert v1.duration().rate == 25
    # 8 s at 120 bpm ends on the nearest bar line: the song's downbeats are at 0.3 + 2k s.
    assert abs(v1.duration().to_frames() / 25 - 8.3) <= 1 / 25
    summary = capsys.readouterr().out
    assert "cuts" in summary and "style mtv, seed 3" in summary
    # The same cut beside it in every NLE format, frame for frame.
    from montage_ai.core.model.timeline import cut_list_from_timeline
    from montage_ai.otio_adapters.export import read_timeline

    cut_list = cut_list_from_timeline(timeline)
    for suffix in (".fcpxml", ".xml"):
        assert cut_list_from_timeline(read_timeline(out.with_suffix(suffix))) == cut_list
    assert len(cut_list_from_timeline(read_timeline(out.with_suffix(".edl"))).cuts) == len(cut_list.cuts)
    # Never overwrites without --force.
    assert main(args) == 1
    assert "--force" in capsys.readouterr().err


def test_cut_reports_unknown_style(small_project, tmp_path, capsys):
    root, song = small_project
    assert main(["cut", "--media", str(root / "footage"), "--music", song, "--style", "nosuchstyle",
                 "-o", str(tmp_path / "x.otio")]) == 1
    assert "nosuchstyle" in capsys.readouterr().err


def test_demo_refuses_a_folder_it_did_not_make(tmp_path, capsys):
    mine = tmp_path / "project"
    mine.mkdir()
    (mine / "cut.otio").write_text("the editor's timeline")
    assert main(["demo", "--out", str(mine)]) == 1
    assert (mine / "cut.otio").read_text() == "the editor's timeline"
    assert "did not make" in capsys.readouterr().err
