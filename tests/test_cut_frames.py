"""Pieces counted in whole frames: a source at another rate holds a slot when it shows every
frame of it (never a tolerance in seconds); a cut ended earlier keeps every phase a take of
its own; a tail past the last tracked beat is split at the song's tempo."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from fractions import Fraction

from montage_ai.core.analysis.quality import Flag
from montage_ai.core.cut.assembly import assemble
from montage_ai.core.cut.fill_state import FillState
from montage_ai.core.cut.grid import Slot
from montage_ai.core.cut.pace import phase_ratios
from montage_ai.core.cut.shot_windows import shown_frames, slot_frames_held
from montage_ai.core.plan.patterns import apply_pattern, load_pattern
from montage_ai.core.plan.planner import Phase, RulesPlanner, StoryPlan, make_request, shot_id_map
from montage_ai.core.plan.styles import load_style
from test_assembly import T0, assert_sound
from test_planner import footage, music

NTSC = Fraction(24000, 1001)


def _state(shots, rate: Fraction, style: str = "dynamic") -> tuple[FillState, list[str]]:
    ids = shot_id_map(shots)
    names = sorted(ids)
    plan = StoryPlan((Phase("climax", 0.0, 40.0, 0.8, tuple(names)),), {i: "planned" for i in names}, "test")
    beats = list(range(12, 1200, 12))
    st = FillState(plan, ids, load_style(style), rate, 0, 1000, beats, beats, frozenset(), frozenset())
    st.target_counts = {}
    return st, names


def test_a_25_fps_piece_of_4_s_fills_a_two_bar_slot_at_23976_that_lasts_one_frame_longer():
    # 100 frames at 25 fps are 4.000 s; a 96-frame slot at 23.976 is 4.004 s. Timeline frame k
    # shows source frame floor(k * 25 / 23.976): the last (k = 95) shows frame 99, so every
    # frame the slot shows is in the piece. The fill asked for ceil(96 * 25 / 23.976) = 101
    # frames and left the slot to be split in two one-bar takes
    shot = footage("/clips/B_cam.mp4", Fraction(25), [{"frames": 100}, {"frames": 2, "black": True}])
    st, names = _state([shot], NTSC)
    assert st.avail([(names[0], None)]) == 96
    pick = st.try_shot(names[0], Slot(0, 96, "climax", 0.8))
    assert pick is not None and pick.length == 100 and pick.source_in == 0
    assert st.try_shot(names[0], Slot(0, 97, "climax", 0.8)) is None  # one frame more is one frame short
    # at the end of its file the slot's 4.004 s would run past the media's 4.000 s: an NLE
    # (FCP: "invalid edit with no respective media") finds nothing there, so it does not fill
    last = footage("/clips/B_end.mp4", Fraction(25), [{"frames": 100}])
    st, names = _state([last], NTSC)
    assert st.try_shot(names[0], Slot(0, 96, "climax", 0.8)) is None
    assert st.try_shot(names[0], Slot(0, 95, "climax", 0.8)).length == 100  # 99.07 source frames: inside it
    # the same rate: the slot's own frames, no tolerance
    same = footage("/clips/A.mp4", NTSC, [{"frames": 95}])
    st, names = _state([same], NTSC)
    assert st.try_shot(names[0], Slot(0, 96, "climax", 0.8)) is None and st.avail([(names[0], None)]) == 95
    # where the whole nominal range is free the piece takes it (no partial frame past its end)
    long = footage("/clips/B_long.mp4", Fraction(25), [{"frames": 200}])
    st, names = _state([long], NTSC)
    assert st.try_shot(names[0], Slot(0, 96, "climax", 0.8)).length == 101


def test_shown_frames_and_the_slot_a_run_holds_are_inverse_at_every_common_rate():
    rates = [NTSC, Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30), Fraction(50),
             Fraction(60000, 1001), Fraction(60)]
    for s in rates:
        for r in rates:
            for n in (1, 2, 47, 96, 240):
                shown = shown_frames(n, s, r)
                assert slot_frames_held(shown, s, r) >= n
                assert slot_frames_held(shown - 1, s, r) < n
                if s == r:
                    assert shown == n


def _demo_like():
    """The demo's shape at 25 fps under a 23.976 cut: five 4 s shots and one of 8.5 s hold
    two-bar takes; seven of 3 s hold none (a bar is 2 s, wedding's shortest take 2.5 s); one
    4 s shot is out of focus at both ends (2.9 s left)."""
    specs = [[{"frames": 100}, {"frames": 75}], [{"frames": 100}, {"frames": 75}], [{"frames": 213}, {"frames": 75}],
             [{"frames": 100}, {"frames": 75}], [{"frames": 100}, {"frames": 75}, {"frames": 75}],
             [{"frames": 100}, {"frames": 75}, {"frames": 100}]]
    out = []
    for f, shots in enumerate(specs):
        for k, s in enumerate(shots):
            s["motion"] = 0.002 + 0.03 * ((f + k) % 5)
        a = footage(f"/clips/D{f}.mp4", Fraction(25), shots, created=T0 + dt.timedelta(minutes=10 * f))
        if f == 5:  # the last shot of the last file: out of focus at both ends
            s = a.shots[2]
            a = replace(a, flags=(Flag(s.start_frame, s.start_frame + 16, "out of focus", ""),
                                  Flag(s.end_frame - 11, s.end_frame - 1, "out of focus", "")))
        out.append(a)
    return out


def test_the_whole_song_on_few_long_shots_ends_earlier_with_every_phase_a_take_of_its_own():
    # the demo's dynamic+wedding: 41 s of song, takes of two bars (4 s) at least, footage for
    # about six of them. Every shorter cut tried lost the outro (shortened below one take, it
    # fell into the climax) or chopped a phase in one-bar halves; the full song was kept with
    # its outro at a third of its target. Now the cut ends earlier with every phase there,
    # each within 20 % of what it promises, and says so
    style = apply_pattern(load_style("dynamic"), load_pattern("wedding"))
    m = music((("A", 0, 2, 0.13), ("B", 2, 14, 0.5), ("C", 14, 18, 0.66), ("D", 18, 20, 0.13)))
    shots = _demo_like()
    plan = RulesPlanner().plan(make_request(shots, m, style, seed=0))
    cl = assemble(plan, shots, m, style, seed=0, rate=NTSC)
    assert_sound(cl, shots, style)
    notes = cl.metadata["notes"]
    ratios = phase_ratios(cl.cuts, cl.sections, style, 0.5, 4, cl.rate, cl.metadata["hold_s"])
    assert set(ratios) == {"intro", "build", "climax", "outro"}, (ratios, notes)
    assert all(abs(v - 1) <= 0.2 for v in ratios.values()), (ratios, notes)
    assert cl.duration < m.duration_s * NTSC - 24 and any("the cut ends earlier" in n for n in notes), notes


def _fill_one(st: FillState, p) -> None:
    """The fill's loop (:func:`~.fill.fill`) on an existing state, from ``p`` until the queue is empty."""
    from montage_ai.core.cut import fill as F

    st.queue.appendleft(p)
    while st.queue:
        p = st.queue.popleft()
        for rule in F.RULES:
            got = rule(st, p)
            if isinstance(got, F.Pick):
                st.place(p, got)
                break
            if isinstance(got, F.Resplit):
                if got.relaxation:
                    st.relaxed[got.relaxation] += 1
                st.queue.extendleft(reversed(got.slots))
                break
        else:
            raise AssertionError(f"slot {p.slot} left empty")


def _tail_state(points, beats):
    from montage_ai.core.cut.fill_state import Pending, Pick

    shots = [footage(f"/clips/T{i}.mp4", Fraction(25), [{"frames": n}]) for i, n in enumerate((48, 300, 20, 24))]
    ids = shot_id_map(shots)
    names = sorted(ids)
    plan = StoryPlan((Phase("outro", 0.0, 40.0, 0.3, tuple(names)),), {i: "planned" for i in names}, "test")
    st = FillState(plan, ids, load_style("mtv"), Fraction(25), 0, 636, points, beats, frozenset(), frozenset())
    st.target_counts = {}
    # two cuts before the tail: T0 (12 of its 48 frames), then T1 (all its frames used)
    a0, s0 = ids[names[0]]
    st.place(Pending(Slot(576, 588, "outro", 0.3)), Pick(names[0], a0, s0, Fraction(25), 12, 0, 0.8))
    a1, s1 = ids[names[1]]
    st.used[a1.path][:] = True
    st.place(Pending(Slot(588, 600, "outro", 0.3)), Pick(names[1], a1, s1, Fraction(25), 12, 0, 0.8))
    return st, names


def test_a_tail_past_the_last_tracked_beat_is_split_at_the_tempo_rather_than_filled_with_an_a_b_a():
    # a song's ring-out: 36 frames after its last tracked beat (600), no beat inside. The only
    # shot with 36 free frames is the one shown two cuts before: with no point to split on the
    # fill showed it again (A-B-A, demo mtv seed 0). With the beats it may split on carried past
    # the last one (grid.lead_out), the tail is split on them and filled from two other shots
    from montage_ai.core.cut.fill_state import Pending
    from montage_ai.core.cut.grid import lead_out

    beats = list(range(12, 601, 12))
    st, names = _tail_state(beats, beats)
    _fill_one(st, Pending(Slot(600, 636, "outro", 0.3)))
    assert st.history[-1] == names[0] and st.relaxed["repeat"]  # before: T0, T1, T0

    carried = beats + lead_out(beats, 636)
    assert carried[-2:] == [612, 624]
    st, names = _tail_state(beats, carried)
    _fill_one(st, Pending(Slot(600, 636, "outro", 0.3)))
    keys = st.history
    assert not any(keys[i] == keys[i + 2] != keys[i + 1] for i in range(len(keys) - 2)), keys
    assert st.cuts[-1].record_out == 636 and not st.relaxed["repeat"]


def test_the_assembly_gives_the_fill_beats_to_split_on_past_the_last_tracked_beat(monkeypatch):
    import montage_ai.core.cut.assembly as asm
    from test_planner import varied_footage

    seen = {}
    real = asm.fill

    def spy(slots, plan, ids, style, rate, seed, n_frames, points, beats=(), *a, **kw):
        seen.update(points=list(points), beats=list(beats), n=n_frames)
        return real(slots, plan, ids, style, rate, seed, n_frames, points, beats, *a, **kw)

    monkeypatch.setattr(asm, "fill", spy)
    m = music((("A", 0, 4, 0.5), ("B", 4, 8, 0.9)), tail_s=1.5)  # 2 s after the last beat
    shots = varied_footage(files=3)
    style = load_style("mtv")
    plan = RulesPlanner().plan(make_request(shots, m, style, seed=0))
    cl = assemble(plan, shots, m, style, seed=0)
    last = max(cl.beats)
    # the split beats only: the cut points (the style's own choice) stay the tracked beats, so a
    # tail is split there only when nothing, not even an earlier piece of a shot, fills it whole
    assert [p for p in seen["beats"] if p > last] == list(range(last + 12, seen["n"], 12))
    assert not [p for p in seen["points"] if p > last]
    assert_sound(cl, shots, style)
