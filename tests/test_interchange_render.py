"""The rendered check of every interchange format: rebuild the timeline from the file we
wrote, render it with the preview renderer, and read the frame number burnt into every output
frame. Frame-numbered sources (a camera file with a start timecode, 25, 59.94 and VFR files in
a 23.976 timeline) must show exactly the frame the cut list says, in every format."""

from __future__ import annotations

import pytest

from montage_ai.core.model.timeline import build_timeline, cut_list_from_timeline
from montage_ai.core.render.preview import render_preview
from montage_ai.otio_adapters.export import export_path, export_timeline, read_timeline
from test_preview import OUT_SIZE, TAGS, _cut_list, _decode_codes, _expected, probes, sources  # noqa: F401 - fixtures


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["otio", "fcpxml", "premiere", "edl"])
def test_every_format_renders_the_frames_the_cut_list_says(fmt, sources, probes, tmp_path):  # noqa: F811
    cut_list = _cut_list(sources)
    path = export_path(tmp_path / "cut.otio", fmt)
    export_timeline(build_timeline(cut_list, media=probes), path, fmt)
    rebuilt = read_timeline(path)
    assert [c.source_in for c in cut_list_from_timeline(rebuilt).cuts] == [c.source_in for c in cut_list.cuts]
    out = tmp_path / f"{fmt}.mp4"
    render_preview(rebuilt, out, size=OUT_SIZE, media=probes)
    expected = _expected(cut_list, {sources[k]: TAGS[k] for k in TAGS})
    got = _decode_codes(str(out))
    assert len(got) == cut_list.duration
    wrong = [(k, e, g) for k, (e, g) in enumerate(zip(expected, got)) if e != g]
    assert not wrong, f"{fmt}: frames that differ (frame, expected, got): {wrong[:10]}"
