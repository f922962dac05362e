"""The file route: FCP7 XML and FCPXML with names unique in the file and the folder, never
overwriting, and the exact steps to import them; and ``resolve cut`` using it."""

from __future__ import annotations

import sys

import pytest

import __main__
from fake_resolve import make_resolve
from montage_ai.core.model.timeline import build_timeline
from montage_ai.resolve_plugin.connect import MODULE
from montage_ai.resolve_plugin.file_route import write_file_route
from resolve_media import make_cut_list, make_media


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("resolve file route"))


@pytest.fixture
def timeline(media):
    return build_timeline(make_cut_list(media))


def test_both_files_are_written_with_the_timeline_name_inside(timeline, tmp_path):
    result = write_file_route(timeline, tmp_path)
    assert (result.xml.name, result.fcpxml.name, result.timeline_name) == ("Rough cut.xml", "Rough cut.fcpxml",
                                                                           "Rough cut")
    assert "<name>Rough cut</name>" in result.xml.read_text() and 'name="Rough cut"' in result.fcpxml.read_text()


def test_an_existing_file_is_never_overwritten_and_the_name_moves_on(timeline, tmp_path):
    first = write_file_route(timeline, tmp_path)
    before = first.xml.read_bytes()
    (tmp_path / "Rough cut 2.fcpxml").write_text("the editor's")
    second = write_file_route(timeline, tmp_path)
    assert second.timeline_name == "Rough cut 3" and second.xml.name == "Rough cut 3.xml"
    assert first.xml.read_bytes() == before and (tmp_path / "Rough cut 2.fcpxml").read_text() == "the editor's"
    assert not (tmp_path / "Rough cut 2.xml").exists()


def test_names_the_project_already_has_are_not_used(timeline, tmp_path):
    assert write_file_route(timeline, tmp_path, taken_names=["Rough cut", "Rough cut 2"]).timeline_name == "Rough cut 3"


def test_the_written_xml_imports_into_resolve_under_its_unique_name(timeline, tmp_path, media):
    resolve = make_resolve({"Day 1": [media["a"], media["b"], media["c"]], "Music": [media["song"]]}, rate="23.976")
    resolve.project.GetMediaPool().CreateEmptyTimeline("Rough cut")  # the editor's
    result = write_file_route(timeline, tmp_path, taken_names=["Rough cut"])
    imported = resolve.project.GetMediaPool().ImportTimelineFromFile(str(result.xml), {"importSourceClips": False})
    assert imported is not None and imported.GetName() == "Rough cut 2"
    assert len(imported.GetItemListInTrack("video", 1)) == 4


def test_the_steps_name_the_menu_the_file_the_options_and_what_does_not_travel(timeline, tmp_path):
    result = write_file_route(timeline, tmp_path)
    text = result.text()
    assert text.startswith("1. In DaVinci Resolve, open the project")
    assert f"File > Import > Timeline… (Ctrl+Shift+I; Cmd+Shift+I on macOS) and pick {result.xml}" in text
    assert "'Automatically import source clips into media pool'" in text
    assert "'Automatically set project settings'" in text and "'Rough cut'" in text
    assert str(result.fcpxml) in text
    assert "Markers (beats, downbeats, sections) and proxy links do not travel through these files" in text


@pytest.fixture
def outside_resolve(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    monkeypatch.setattr(__main__, "resolve", None, raising=False)
    monkeypatch.delattr(__main__, "resolve")
    monkeypatch.setenv("RESOLVE_SCRIPT_API", str(tmp_path / "no-resolve"))


def test_resolve_cut_without_a_live_route_writes_the_files_and_prints_the_steps(outside_resolve, media, tmp_path, capsys):
    from montage_ai.ui.cli.main import main

    out_dir = tmp_path / "for resolve"
    code = main(["resolve", "cut", "--footage", media["a"], media["b"], "--music", media["song"], "--duration", "3",
                 "--name", "Friday cut", "--out-dir", str(out_dir), "--cache-dir", str(tmp_path / "cache"),
                 "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (out_dir / "Friday cut.xml").is_file() and (out_dir / "Friday cut.fcpxml").is_file()
    assert "no live route into DaVinci Resolve" in captured.err and "bridge: no (not-started)" in captured.err
    assert "File > Import > Timeline" in captured.out and "Markers (beats" in captured.out


def test_resolve_cut_file_route_needs_the_footage(outside_resolve, media, capsys):
    from montage_ai.ui.cli.main import main

    assert main(["resolve", "cut", "--file-route", "--music", media["song"]]) == 1
    assert "the file route needs the clips: give --footage" in capsys.readouterr().err
