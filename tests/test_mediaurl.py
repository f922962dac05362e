"""One path function: every URL form tools write is read back to the file, each format gets
the form it wants, fuzzed over hostile names; .otioz media resolve inside the bundle."""

from __future__ import annotations

import pathlib
import urllib.parse
import xml.etree.ElementTree as ET
from fractions import Fraction

import opentimelineio as otio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from montage_ai.core.base.mediaurl import fcp7_url, file_url, path_from_url, plain_path
from montage_ai.core.model.cutlist import Cut, CutList
from montage_ai.core.model.timeline import build_timeline, cut_list_from_timeline, media_path
from montage_ai.otio_adapters import edl, fcp7_xml, fcpxml
from montage_ai.otio_adapters.export import export_timeline, read_timeline
from test_interchange import _mixed, _probe

HOSTILE = ["take #2 100%.mov", "what?.mov", "%20 intro.mov", "tab\there.mov", "a%2Fb.mov", "café & <co>.mov",
           "semi;colon,comma=eq+plus.mov", "日本語.mov", "%zz odd.mov", "  spaced  .mov"]


@pytest.mark.parametrize("name", HOSTILE)
def test_every_form_of_a_hostile_name_reads_back_to_the_file(name):
    path = f"/media/Day 1/{name}"
    assert path_from_url(file_url(path)) == path
    assert path_from_url(fcp7_url(path)) == path
    assert path_from_url(path) == path
    # OTIO 0.18's own url_from_filepath writes the URL unencoded.
    assert path_from_url(otio.url_utils.url_from_filepath(path)) == path or "%" in name


def test_the_forms_tools_write():
    assert path_from_url("file:///media/Day%201/caf%C3%A9.mov") == "/media/Day 1/café.mov"
    assert path_from_url("file://localhost/media/Day%201/x.mov") == "/media/Day 1/x.mov"
    assert path_from_url("file:///media/take #2 100%.mov") == "/media/take #2 100%.mov"
    assert path_from_url("file:///media/what?.mov") == "/media/what?.mov"
    # Premiere: a Windows drive with a lower-case %3a, the URL wrapped over lines.
    assert path_from_url("\n    file://localhost/D%3a/media/sc01_sh010_anim.mov\n   ") == "D:/media/sc01_sh010_anim.mov"
    assert path_from_url("file:///C:/Users/me/x%20y.mov") == "C:/Users/me/x y.mov"
    assert path_from_url("C:\\media\\x.mov") == "C:\\media\\x.mov"
    assert path_from_url("file://server/share/clip%201.mov") == "//server/share/clip 1.mov"
    assert path_from_url("\\\\server\\share\\clip.mov") == "\\\\server\\share\\clip.mov"
    assert path_from_url("media/a b.mov", base="/bundle") == "/bundle/media/a b.mov"
    with pytest.raises(ValueError, match="not a local file"):
        path_from_url("https://example.com/a.mov")


def test_writers_encode_for_their_format():
    assert file_url("C:\\media\\x y.mov") == "file:///C:/media/x%20y.mov"
    assert fcp7_url("C:\\media\\x y.mov") == "file://localhost/C:/media/x%20y.mov"
    assert file_url("//server/share/a b.mov") == "file://server/share/a%20b.mov"
    assert file_url("/m/tab\there #1.mov") == "file:///m/tab%09here%20%231.mov"


def test_a_file_really_named_with_percent_escapes_is_found(tmp_path):
    real = tmp_path / "%20 intro.mov"
    real.write_bytes(b"x")
    # Unencoded URL of a name that looks encoded: the file that exists wins.
    assert path_from_url(f"file://{real}") == str(real)
    assert path_from_url(file_url(real)) == str(real)


_piece = st.sampled_from(["#", "?", "%", "%20", "%2F", "%zz", "\t", " ", "&", ";", "é", "日", "+", "'", '"'])
names = st.lists(_piece | st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\x00"),
                                  min_size=1, max_size=6), min_size=1, max_size=6).map("".join).filter(
    lambda n: n not in (".", ".."))


@settings(max_examples=300, deadline=None)
@given(folder=names, name=names)
def test_fuzzed_names_survive_every_encoded_form(folder, name):
    path = f"/m/{folder}/{name}.mov"
    assert path_from_url(file_url(path)) == path
    assert path_from_url(fcp7_url(path)) == path
    assert plain_path(file_url(path)) == path
    encoded = urllib.parse.urlsplit(file_url(path))
    assert not encoded.query and not encoded.fragment  # '#' and '?' never split the URL


@settings(max_examples=40, deadline=None)
@given(name=names)
def test_fuzzed_names_round_trip_through_every_format(name):
    path = f"/media/{name}.mov"

    cut_list = CutList(rate=Fraction(25), width=1920, height=1080, duration=10, music_path="", music_duration=0,
                       cuts=(Cut(0, 10, path, Fraction(25), 3, 0, 1.0, "setup", "x"),), start_frames=90000)
    timeline = build_timeline(cut_list, media={path: _probe(path, Fraction(25), 100)})
    for module in (fcpxml, fcp7_xml, edl):
        back = module.read_from_string(module.write_to_string(timeline))
        assert cut_list_from_timeline(back).cuts[0].source_path == path, module.__name__


def test_otio_export_carries_plain_absolute_paths_for_resolve(tmp_path):
    cut_list, probes = _mixed()
    target = export_timeline(build_timeline(cut_list, media=probes), tmp_path / "cut.otio", "otio")
    timeline = otio.adapters.read_from_file(str(target))
    urls = [c.media_reference.target_url for c in timeline.find_clips()]
    assert all(u.startswith("/") and "%" not in u for u in urls)
    assert cut_list_from_timeline(read_timeline(target)) == cut_list


def test_otioz_media_resolve_inside_the_bundle(tmp_path, monkeypatch):
    from montage_ai.core.media.probe import probe
    from montage_ai.core.samples.framecode import render_framecode

    media = tmp_path / "media in"
    media.mkdir()
    clip = media / "%20 take #2?.mp4"
    render_framecode(str(clip), 24, rate=Fraction(24), size=(64, 36))
    cut_list = CutList(rate=Fraction(24), width=64, height=36, duration=10, music_path="", music_duration=0,
                       cuts=(Cut(0, 10, str(clip), Fraction(24), 2, 0, 1.0, "setup", "only"),), start_frames=86400)
    bundle = export_timeline(build_timeline(cut_list, media={str(clip): probe(str(clip))}),
                             tmp_path / "out" / "cut.otioz", "otioz")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the current directory must not matter
    timeline = read_timeline(bundle)
    inside = media_path(timeline.find_clips()[0].media_reference.target_url)
    assert inside == str(tmp_path / "out" / "cut.media" / "media" / clip.name)
    assert pathlib.Path(inside).read_bytes() == clip.read_bytes()
    # ... and an export from the bundle points at the unpacked media.
    xml = export_timeline(timeline, elsewhere / "cut.xml", "premiere")
    url = ET.parse(xml).getroot().find(".//file/pathurl").text
    assert path_from_url(url) == inside
    assert read_timeline(bundle).find_clips()[0].media_reference.target_url == timeline.find_clips()[0] \
        .media_reference.target_url  # read again: the unpacked copy is reused
