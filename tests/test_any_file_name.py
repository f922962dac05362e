"""Any file name, through every format we write: names made of every Unicode category,
control characters, line breaks and bytes that are not UTF-8 (surrogateescape). Each output
is well-formed for xmllint (and valid against Apple's DTD), read back by OTIO's own readers
and by ours with every path exact, and an EDL never gains an event from a name."""

from __future__ import annotations

import os
import shutil
import subprocess

import opentimelineio as otio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from montage_ai.core.base.fileio import display_name
from montage_ai.core.model.timeline import build_timeline, cut_list_from_timeline, file_url, media_path
from montage_ai.otio_adapters.export import export_path, export_timeline, read_timeline
from test_interchange import DTD_DIR, NTSC24, _cut_list

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX byte names")
XMLLINT = shutil.which("xmllint")

#: Every category, surrogates included (the bytes of non-UTF-8 names), never "/" or NUL.
NAME_CHARS = st.characters(exclude_characters="/\x00", codec=None)


def _a_file_can_have(name: str) -> bool:
    """Whether the file system can hold ``name``: every character but lone surrogates other
    than the surrogateescape bytes (U+DC80..U+DCFF), which no POSIX name decodes to."""
    try:
        os.fsencode(name)
    except UnicodeEncodeError:
        return False
    return True


NAMES = st.lists(st.text(NAME_CHARS, min_size=1, max_size=12).filter(lambda n: n not in (".", "..") and _a_file_can_have(n)),
                 min_size=2, max_size=3, unique=True)
CRAFTED = ["line\nbreak.mov", "002  AX V C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n.mov",
           "caf\udce9 latin-1.mov", "bell\x07esc\x1b.mov", "sep\u2028para\u2029.mov", "tab\tcr\r.mov",
           "ufffe\ufffe.mov", "nel\x85.mov"]


def _export_all(names: list[str], folder) -> tuple:
    cut_list, probes = _cut_list(NTSC24, [(n + ".mov", NTSC24) for n in names], [12, 13, 14, 15],
                                 folder="/media/Day\n1")
    timeline = build_timeline(cut_list, media=probes)
    paths = {}
    for fmt in ("otio", "fcpxml", "premiere", "edl"):
        path = export_path(folder / "cut.otio", fmt)
        export_timeline(timeline, path, fmt, overwrite=True)
        paths[fmt] = path
    return cut_list, paths


def _check(names: list[str], folder) -> None:
    cut_list, paths = _export_all(names, folder)
    sources = [c.source_path for c in cut_list.cuts]
    for fmt in ("fcpxml", "premiere"):
        data = paths[fmt].read_bytes()
        data.decode("utf-8")  # strict
        if XMLLINT:
            done = subprocess.run([XMLLINT, "--noout", str(paths[fmt])], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
    if XMLLINT:
        dtd = DTD_DIR / "FCPXMLv1_9.dtd"
        if dtd.exists():
            done = subprocess.run([XMLLINT, "--noout", "--dtdvalid", str(dtd), str(paths["fcpxml"])],
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
    # Readers we did not write.
    official = otio.adapters.read_from_file(str(paths["otio"]))
    assert [media_path(c.media_reference.target_url) for c in official.video_tracks()[0].find_clips()] == sources
    otio.adapters.read_from_file(str(paths["premiere"]), adapter_name="fcp_xml")
    edl_text = paths["edl"].read_bytes().decode("utf-8")
    official_edl = otio.adapters.read_from_string(edl_text, adapter_name="cmx_3600", rate=float(NTSC24))
    assert len(list(official_edl.video_tracks()[0].find_clips())) == len(cut_list.cuts)
    assert sum(1 for line in edl_text.split("\r\n") if line[:3].isdigit()) == len(cut_list.cuts)
    # Ours, every path exact.
    for fmt in ("otio", "fcpxml", "premiere", "edl"):
        back = cut_list_from_timeline(read_timeline(paths[fmt]))
        assert [c.source_path for c in back.cuts] == sources, fmt


@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_names_survive_every_format(name, tmp_path):
    _check([name, "plain"], tmp_path)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=NAMES)
def test_names_of_every_unicode_category_survive_every_format(names, tmp_path):
    _check(names, tmp_path)


def test_display_names_are_visible_and_one_line():
    assert display_name("a\nb\x07c\udce9") == "a\\nb\\x07c\\xe9"
    assert file_url("/m/caf\udce9.mov") == "file:///m/caf%E9.mov"
    assert media_path("file:///m/caf%E9.mov") == "/m/caf\udce9.mov"
