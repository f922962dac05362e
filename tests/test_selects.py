"""Selects: the best moment of every clip, every other shot left out with its reason."""

from __future__ import annotations

import os
import subprocess
from fractions import Fraction

import opentimelineio as otio
import pytest

from montage_ai.core.analysis.duplicates import shot_hashes
from montage_ai.core.analysis.footage import analyze_footage
from montage_ai.core.cut.selects import (
    SELECT_COLOR,
    SelectsError,
    SelectsOptions,
    choose_selects,
    clip_logs,
    quality_flags,
    selects_cut_list,
    selects_timeline,
)
from montage_ai.core.model.timeline import NAMESPACE, cut_list_from_timeline
from montage_ai.core.samples.footage import Segment, render_footage
from montage_ai.otio_adapters.export import FORMATS, export_timeline, read_timeline
from montage_ai.ui.cli.main import main
from selects_media import render_project


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("selects")
    paths = render_project(root / "footage")
    analyses = [analyze_footage(str(p), mode="full") for p in paths.values()]
    return root, {k: a for k, a in zip(paths, analyses)}, shot_hashes(analyses)


def run(project, **kw):
    _, clips, hashes = project
    return choose_selects(list(clips.values()), SelectsOptions(**kw), hashes=hashes)


def names(selects):
    return [(os.path.basename(p.path), p.shot_index) for p in selects.picks]


def test_same_seed_same_selects(project):
    assert run(project, seed=3) == run(project, seed=3)


def test_every_shot_is_a_pick_or_a_rejection_with_a_reason(project):
    _, clips, _ = project
    s = run(project, per_clip=1)
    for a in clips.values():
        for shot in a.shots:
            picked, rejected = s.picked(a.path, shot.index), s.rejected(a.path, shot.index)
            assert (picked is None) != (rejected is None)
            if rejected is not None:
                assert rejected.reasons and all(rejected.reasons) and rejected.flags
    assert all(p.reason and p.score >= 0.5 for p in s.picks)


def test_poor_shots_are_rejected_for_what_is_wrong_with_them(project):
    _, clips, _ = project
    s = run(project)
    flags = {(os.path.basename(r.path), r.shot_index): r.flags for r in s.rejections}
    assert "black" in flags[("A.mp4", 3)]
    assert "blur" in flags[("D.mp4", 0)]
    assert "dark" in flags[("D.mp4", 1)]
    assert "bright" in flags[("D.mp4", 2)]
    assert "shake" in flags[("shaky.mp4", 0)]
    assert not any(n[0] in ("D.mp4", "shaky.mp4") for n in names(s))
    assert "under-exposed" in s.rejected(clips["D"].path, 1).reason
    assert "over-exposed" in s.rejected(clips["D"].path, 2).reason
    assert "Under-exposed" in s.rejected(clips["D"].path, 1).keywords


def test_a_low_key_shot_with_detail_is_offered_and_the_same_shot_crushed_is_not(tmp_path):
    """Exposure is the analysis' verdict against the shot's own key, not a mean-luma rule:
    a dark look (mean luma 0.13, 2 % at black) is a select; crushed to black it is not."""
    src = tmp_path / "pan.mp4"
    render_footage(src, [Segment("pan", 60, still="scene", pan_px_per_frame=1.5, grain=2.0)], size=(320, 180))
    lamp = "drawbox=x=240:y=20:w=30:h=20:color=white:t=fill"
    out = {}
    for name, vf in (("low", f"eq=gamma=0.45:contrast=1.2,{lamp}"), ("crushed", f"eq=brightness=-0.6,{lamp}")):
        out[name] = str(tmp_path / f"{name}.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), "-vf", vf, "-c:v", "libx264",
                        "-pix_fmt", "yuv420p", out[name]], check=True)
    low, crushed = (analyze_footage(out[k], mode="full") for k in ("low", "crushed"))
    assert max(e for e in low.exposure if e is not None) < 0.16  # darker than the old mean-luma limit
    s = choose_selects([low, crushed], SelectsOptions(), hashes={})
    assert s.picked(low.path, 0) is not None, s.rejected(low.path, 0)
    r = s.rejected(crushed.path, 0)
    assert r is not None and "dark" in r.flags and r.reason.startswith("under-exposed: crushed")
    assert not quality_flags(low.shots[0], Fraction(25), None)


def test_a_near_duplicate_of_a_better_shot_is_left_out_naming_it(project):
    _, clips, _ = project
    s = run(project)
    a, b = clips["A"].path, clips["B"].path
    for i in range(3):
        used = [p for p in ((a, i), (b, i)) if s.picked(*p)]
        assert len(used) == 1
        other = (b, i) if used[0] == (a, i) else (a, i)
        r = s.rejected(*other)
        assert r.flags == ("duplicate",) and r.duplicate_of == used[0]
        assert os.path.basename(used[0][0]) in r.reason and "near-duplicate" in r.reason


def test_per_clip_keeps_the_best_and_says_why_the_rest_went(project):
    _, clips, _ = project
    s = run(project, per_clip=1)
    c = clips["C"].path
    assert sum(1 for p in s.picks if p.path == c) == 1
    extras = [r for r in s.rejections if r.path == c]
    assert extras and all(r.flags == ("extra",) and "not among the 1 best" in r.reason for r in extras)
    kept = next(p for p in s.picks if p.path == c)
    assert all(kept.score >= r.score for r in extras)


def test_min_score_leaves_out_weaker_pieces(project):
    s = run(project, min_score=0.99)
    assert s.picks == ()
    assert any(r.flags == ("low score",) and "under the minimum 0.99" in r.reason for r in s.rejections)


def test_pieces_lie_inside_the_usable_part_and_contain_their_best_frame(project):
    _, clips, _ = project
    by_path = {a.path: a for a in clips.values()}
    for p in run(project, piece_s=0.6).picks:
        shot = by_path[p.path].shots[p.shot_index]
        assert shot.usable_start_frame <= p.source_in < p.source_out <= shot.usable_end_frame
        assert p.frames == 15 and p.source_in <= p.best_frame < p.source_out


def test_source_order_follows_files_then_frames(project):
    picks = run(project, group="source").picks
    keys = [(p.path, p.source_in) for p in picks]
    assert keys == sorted(keys)


def test_group_by_bin_keeps_each_folder_together(project):
    s = run(project, group="bin")
    assert s.groups == ("day1", "day2")
    assert [p.group for p in s.picks] == sorted(p.group for p in s.picks)


def test_group_by_phase_runs_calm_to_intense(project):
    s = run(project, group="phase")
    order = ["intro", "build", "climax"]
    assert [order.index(p.group) for p in s.picks] == sorted(order.index(p.group) for p in s.picks)
    assert s.groups[0] == "intro" and s.groups[-1] == "climax"


def test_selects_timeline_has_no_music_and_a_marker_per_piece(project):
    _, clips, _ = project
    s = run(project, group="bin")
    tl = selects_timeline(s, list(clips.values()), name="day1 Selects")
    assert [t.kind for t in tl.tracks] == [otio.schema.TrackKind.Video]
    marks = [m for m in tl.tracks.markers if (m.metadata.get(NAMESPACE) or {}).get("kind") == "select"]
    assert len(marks) == len(s.picks) and all(m.color == SELECT_COLOR for m in marks)
    for m, p in zip(marks, s.picks):
        assert f"{p.score:.2f}" in m.name and m.metadata[NAMESPACE]["reason"] == p.reason
    cl = cut_list_from_timeline(tl)
    assert cl.music_path == "" and [c.source_in for c in cl.cuts] == [p.source_in for p in s.picks]
    assert [sec.label for sec in cl.sections] == ["day1", "day2"]


def test_selects_export_to_every_format(project, tmp_path):
    _, clips, _ = project
    tl = selects_timeline(run(project), list(clips.values()), name="Selects")
    n = len(tl.tracks[0])
    for fmt, spec in FORMATS.items():
        path = export_timeline(tl, tmp_path / f"sel{spec.suffix}", fmt)
        assert path.stat().st_size > 0
        if fmt != "otioz":
            back = read_timeline(path)
            assert len(next(t for t in back.tracks if t.kind == otio.schema.TrackKind.Video)) == n


def test_mixed_rates_play_at_their_own_speed(project):
    _, clips, _ = project
    s = run(project)
    cl = selects_cut_list(s, list(clips.values()), rate=Fraction(24000, 1001))
    for c, p in zip(cl.cuts, s.picks):
        assert c.record_frames == int(Fraction(p.frames) * Fraction(24000, 1001) / p.source_rate)


def test_no_selects_is_a_clear_error(project):
    _, clips, _ = project
    with pytest.raises(SelectsError, match="every shot was left out"):
        selects_cut_list(run(project, min_score=0.99), list(clips.values()))


def test_clip_logs_carry_status_reasons_scores_best_frames_and_keywords(project):
    _, clips, _ = project
    s = run(project)
    logs = {os.path.basename(c.path): c for c in clip_logs(s, list(clips.values()))}
    assert set(logs) == {"A.mp4", "B.mp4", "C.mp4", "D.mp4", "shaky.mp4"}
    a = logs["A.mp4"]
    assert len(a.shots) == len(clips["A"].shots)
    # A and B show the same moments at two exposures, both with detail: which of each pair is
    # the select goes by the rest of the score (exposure is judged against each shot's key).
    sel = [x for c in (a, logs["B.mp4"]) for x in c.shots if x.status == "select"]
    assert sel and all("Select" in x.keywords and x.select_in <= x.best_frame < x.select_out for x in sel)
    black = next(x for x in a.shots if "black" in x.flags)
    assert black.status == "reject" and "Black" in black.keywords and black.reasons
    assert "Shaky" in logs["shaky.mp4"].shots[0].keywords


def test_quality_flags_on_a_clean_shot_are_empty(project):
    _, clips, _ = project
    shot = clips["C"].shots[1]
    assert quality_flags(shot, Fraction(25), shot.sharpness) == []


def test_bad_options_are_refused():
    with pytest.raises(SelectsError, match="group"):
        SelectsOptions(group="colour")
    with pytest.raises(SelectsError, match="per-clip"):
        SelectsOptions(per_clip=0)


def test_cli_writes_every_format_and_lists_what_was_left_out(project, capsys):
    root, _, _ = project
    out = root / "out" / "day Selects.otio"
    code = main(["selects", str(root / "footage"), "--group", "bin", "--per-clip", "2", "-o", str(out),
                 "--cache-dir", str(root / "cache"), "--workers", "1"])
    assert code == 0
    for suffix in (".otio", ".fcpxml", ".xml", ".edl"):
        assert out.with_suffix(suffix).exists()
    text = capsys.readouterr().out
    assert "[day1]" in text and "near-duplicate of" in text and "shaky:" in text and "black:" in text
    assert read_timeline(out).name == "day Selects"


def test_cli_never_overwrites_without_force(project, tmp_path, capsys):
    root, _, _ = project
    out = tmp_path / "sel.otio"
    out.with_suffix(".edl").write_text("the editor's list")
    assert main(["selects", str(root / "footage" / "day1"), "-o", str(out), "--cache-dir", str(root / "cache")]) == 1
    assert out.with_suffix(".edl").read_text() == "the editor's list" and not out.exists()


def test_selects_timeline_names_are_made_unique():
    from montage_ai.core.cut.selects import selects_name

    assert selects_name("Day 1") == "Day 1 Selects"
    assert selects_name("Day 1", ["Day 1 Selects"]) == "Day 1 Selects 2"
    assert selects_name("Day 1", ["Day 1 Selects", "Day 1 Selects 2"]) == "Day 1 Selects 3"
