"""The editor's edits of a cut (core/cut/edits.py): pure functions over the cut list, checked
on hand-made analyses whose best moments are known."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from types import SimpleNamespace

import pytest

from montage_ai.core.analysis.footage import FootageAnalysis, Shot
from montage_ai.core.cut import edits
from montage_ai.core.model.cutlist import Cut, CutList

RATE = Fraction(25)


def _shot(index: int, start: int, end: int, score: float) -> Shot:
    return Shot(index, start, end, start / 25, end / 25, None, None, False, start, end, start, None, None, None, None,
                None, None, None, None, start, (start, end - 1), (score, score))


def _analysis(path: str, shots: list[tuple[int, int, float]]) -> FootageAnalysis:
    media = SimpleNamespace(video=SimpleNamespace(rate=RATE))  # what the edits read of a probe
    return FootageAnalysis(path, media, "full", "test", shots[-1][1],
                           tuple(_shot(i, a, b, s) for i, (a, b, s) in enumerate(shots)), (), (), (), (), (), (), (),
                           (), ())


@pytest.fixture
def project():
    analyses = [_analysis("/a.mp4", [(0, 100, 0.9), (100, 200, 0.5)]),
                _analysis("/b.mp4", [(0, 100, 0.8), (100, 200, 0.7)])]
    cuts = (Cut(0, 50, "/a.mp4", RATE, 10, 0, 0.9, "intro", "r"),
            Cut(50, 100, "/b.mp4", RATE, 20, 0, 0.8, "build", "r"),
            Cut(100, 150, "/a.mp4", RATE, 120, 1, 0.5, "outro", "r"))
    cl = CutList(RATE, 160, 90, 150, cuts, "/song.wav", 150, beats=tuple(range(0, 150, 12)),
                 downbeats=tuple(range(0, 150, 48)))
    return cl, analyses


def test_swap_steps_through_the_unused_shots_best_first(project):
    cl, analyses = project
    once = edits.swap(cl, 1, analyses)
    assert (once.cuts[1].source_path, once.cuts[1].shot_index) == ("/b.mp4", 1)  # 0.7: next after 0.8
    assert once.cuts[1].record_in == 50 and once.cuts[1].record_out == 100
    assert cl.cuts[1].source_path == "/b.mp4" and cl.cuts[1].shot_index == 0  # the old cut list is untouched
    twice = edits.swap(once, 1, analyses)
    assert (twice.cuts[1].source_path, twice.cuts[1].shot_index) == ("/b.mp4", 0)  # wrapped round


def test_exclude_replaces_every_use_and_never_picks_an_excluded_shot(project):
    cl, analyses = project
    out = edits.exclude(cl, ("/a.mp4", 0), analyses)
    assert [edits.shot_key(c) for c in out.cuts] == [("/b.mp4", 1), ("/b.mp4", 0), ("/a.mp4", 1)]
    # The other shots are all in use or excluded: the edit says so rather than reuse one.
    with pytest.raises(edits.EditError, match="nothing can replace it"):
        edits.exclude(cl, ("/a.mp4", 0), analyses, excluded={("/b.mp4", 1)})


def test_trim_rolls_the_edit_to_the_next_beat_and_keeps_the_length(project):
    cl, analyses = project
    longer = edits.trim(cl, 0, 1, analyses)
    assert longer.cuts[0].record_out == 60 == longer.cuts[1].record_in and longer.duration == cl.duration
    assert longer.cuts[1].source_in == 30  # the next cut's head moved on by the 10 frames it gave
    shorter = edits.trim(cl, 0, -2, analyses)
    assert shorter.cuts[0].record_out == 36 and shorter.cuts[1].source_in == 6
    last = edits.trim(cl, 2, 1, analyses)  # the last cut grows at its start
    assert last.cuts[2].record_in == 96 and last.cuts[2].record_out == 150


def test_trim_slips_inside_the_shot_and_says_when_it_cannot(project):
    cl, analyses = project
    near_end = replace(cl, cuts=(replace(cl.cuts[0], source_in=45),) + cl.cuts[1:])
    out = edits.trim(near_end, 0, 1, analyses)  # 60 frames from 45 would pass the shot's end at 100
    assert out.cuts[0].source_in == 40 and out.cuts[0].record_out == 60
    with pytest.raises(edits.EditError, match="neighbouring cut"):
        edits.trim(cl, 0, 5, analyses)


def test_keep_locked_puts_locked_cuts_back_in_place():
    cl_cuts = (Cut(0, 40, "/x.mp4", RATE, 0, 0, 0.5, "intro", "r"), Cut(40, 150, "/y.mp4", RATE, 100, 0, 0.5, "build", "r"))
    rerolled = CutList(RATE, 160, 90, 150, cl_cuts, "/song.wav", 150)
    locked = Cut(30, 60, "/a.mp4", RATE, 10, 0, 0.9, "intro", "locked")
    out = edits.keep_locked(rerolled, [locked])
    assert [(c.record_in, c.record_out) for c in out.cuts] == [(0, 30), (30, 60), (60, 150)]
    assert out.cuts[1] == locked and out.cuts[2].source_in == 120  # y's head moved on by 20 frames


def test_history_undoes_and_redoes_and_keeps_every_version(project):
    cl, analyses = project
    history = edits.EditHistory()
    history.push(cl, "cut")
    swapped = edits.swap(cl, 1, analyses)
    history.push(swapped, "swap")
    assert history.undo().cut_list is cl and history.can_redo()
    assert history.redo().cut_list is swapped
    history.undo()
    back = history.go_to(1)
    assert back.cut_list is swapped and len(history.versions()) == 3 and history.undo().cut_list is cl
    with pytest.raises(edits.EditError):
        edits.EditHistory().undo()


def test_song_part_snaps_to_bars():
    from montage_ai.core.cut.song_part import snap_to_bars

    downbeats = [0.5 + 2.0 * k for k in range(10)]  # a bar every 2 s from 0.5 s; the song lasts 20 s
    part = snap_to_bars(3.1, 9.2, downbeats, 20.0)
    assert (part.start_s, part.end_s, part.bars) == (2.5, 8.5, 3)
    assert snap_to_bars(9.0, 3.0, downbeats, 20.0).start_s == 2.5  # either way round
    whole = snap_to_bars(0.0, 20.0, downbeats, 20.0)
    assert (whole.start_s, whole.end_s, whole.bars) == (0.5, 20.0, 10)
    assert snap_to_bars(4.4, 4.6, downbeats, 20.0).bars == 1  # never shorter than a bar
    assert snap_to_bars(1.0, 5.0, [], 4.0).end_s == 4.0


def test_exclude_reuses_a_used_shot_at_frames_no_cut_shows(project):
    cl, analyses = project
    # Only b#0 is left (a#1 and b#1 excluded); cut 1 shows its frames 20-70, so cut 0 (50
    # frames) cannot fit beside it... until the shot is long enough: make b#0 200 frames.
    long_b = _analysis("/b.mp4", [(0, 200, 0.8), (200, 300, 0.7)])
    out = edits.exclude(cl, ("/a.mp4", 0), [analyses[0], long_b], excluded={("/a.mp4", 1), ("/b.mp4", 1)})
    assert edits.shot_key(out.cuts[0]) == ("/b.mp4", 0)
    assert out.cuts[0].source_in >= 70  # none of cut 1's frames (20-70) shown twice
