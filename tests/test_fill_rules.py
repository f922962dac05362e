"""Each fill rule on its own, the loop that applies them, and no mechanical repetition.

The states are tiny: a few synthetic shots at 25 fps, one phase, beats every 12 frames.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from montage_ai.core.cut import fill as F
from montage_ai.core.cut.fill_state import FillState, Hold, Pending, Pick, Resplit
from montage_ai.core.cut.grid import Slot
from montage_ai.core.plan.planner import Phase, StoryPlan, shot_id_map
from montage_ai.core.plan.styles import load_style
from test_assembly import STYLES, cut
from test_planner import footage, varied_footage

R = Fraction(25)
BEATS = list(range(12, 1200, 12))


def state(style: str, lengths: list[int], *, planned: list[int] | None = None, exclude=(), files: int | None = None,
          phase: str = "climax") -> tuple[FillState, list[str]]:
    """A FillState over shots of ``lengths`` frames (one file each unless ``files``)."""
    shots = [footage(f"/clips/S{i}.mp4", R, [{"frames": n}]) for i, n in enumerate(lengths)]
    ids = shot_id_map(shots)
    names = sorted(ids)
    plan_ids = tuple(names[i] for i in (planned if planned is not None else range(len(names))))
    plan = StoryPlan((Phase(phase, 0.0, 40.0, 0.8, plan_ids),), {i: "planned" for i in plan_ids}, "test")
    st = load_style(style)
    points = BEATS if not st.all_cuts_on_downbeat else BEATS[3::4]
    s = FillState(plan, ids, st, R, 0, 1000, points, BEATS, frozenset(), frozenset(names[i] for i in exclude))
    s.target_counts = {}
    return s, names


def slot(a: int, b: int, phase: str = "climax") -> Pending:
    return Pending(Slot(a, b, phase, 0.8))


def test_planned_by_phase_takes_a_fresh_shot_of_the_phase_from_another_file():
    st, names = state("dynamic", [100, 100])
    st.prev_path = "/clips/S0.mp4"
    got = F.planned_by_phase(st, slot(0, 24))
    assert isinstance(got, Pick) and got.sid == names[1]


def test_planned_in_order_holds_the_shot_just_shown_instead_of_cutting_to_it():
    st, names = state("vlog", [200, 200])
    st.target_counts = {0: 2}
    first = F.planned_in_order(st, Pending(Slot(0, 24, "climax", .8), 0))
    st.place(Pending(Slot(0, 24, "climax", .8), 0), first)
    assert isinstance(F.planned_in_order(st, Pending(Slot(24, 48, "climax", .8), 0)), Hold)
    st.hold(Pending(Slot(24, 48, "climax", .8), 0))
    assert st.cuts[-1].record_out == 48 and len(st.cuts) == 1


def test_split_for_planned_cuts_a_slot_longer_than_any_shot_on_a_beat():
    st, _ = state("dynamic", [40, 40])
    got = F.split_for_planned(st, slot(0, 96))
    assert isinstance(got, Resplit) and got.relaxation == "split"
    first, second = (p.slot for p in got.slots)
    assert first.end == second.start and first.end in BEATS and first.frames <= 40


def test_back_in_time_uses_frames_of_shots_already_passed():
    st, names = state("vlog", [200, 200])
    st.cursor = 1
    got = F.back_in_time(st, slot(0, 24))
    assert isinstance(got, Pick) and got.sid == names[1]
    st.cursor, st.all_ids = 1, [names[0], names[1]]
    st.uses[names[1]] = 1
    st.history = [names[1]]  # the shot in order was just shown: the one before it is used
    got = F.back_in_time(st, slot(24, 48))
    assert got.sid == names[0] and 24 in st.went_back


def test_split_for_earlier_fits_the_earlier_shot():
    st, names = state("vlog", [40, 30])
    st.cursor = 1
    st.history = [names[1]]
    got = F.split_for_earlier(st, slot(0, 96))
    assert isinstance(got, Resplit) and got.slots[0].slot.frames <= 40


def test_off_downbeat_splits_on_another_beat_only_for_downbeat_styles():
    st, _ = state("cinematic", [60, 60])  # shots of 2.4 s; downbeats every 1.92 s
    got = F.off_downbeat(st, slot(0, 144))
    assert isinstance(got, Resplit) and got.slots[0].slot.end in BEATS and got.slots[0].slot.end not in st.points
    dyn, _ = state("dynamic", [30, 30])
    assert F.off_downbeat(dyn, slot(0, 144)) is None


def test_unplanned_shots_fill_when_the_plan_has_none_left():
    st, names = state("dynamic", [100, 100], planned=[0])
    st.uses[names[0]] = 1
    st.history = [names[0]]
    got = F.unplanned_shots(st, slot(0, 24))
    assert got.sid == names[1]


def test_out_of_order_reuses_earlier_frames_of_a_shot_outside_the_window():
    st, names = state("dynamic", [300, 300, 300, 300])
    st.uses[names[0]] = 1
    st.last_end[names[0]] = 300  # its later frames are used
    st.used["/clips/S0.mp4"][200:300] = True
    st.history = [names[1], names[2], names[3]]
    for n in names[1:]:
        st.uses[n] = 1
        st.used[f"/clips/S{names.index(n)}.mp4"][:] = True
    assert F.planned_by_phase(st, slot(0, 24)) is None
    got = F.out_of_order(st, slot(0, 24))
    assert got.sid == names[0] and got.source_in < 200
    st.place(slot(0, 24), got)
    assert st.relaxed["out of order"] == 1


def test_repeat_sooner_shows_a_shot_again_within_the_window_but_never_twice_in_a_row():
    st, names = state("dynamic", [300, 300])
    st.history = [names[0], names[1]]
    st.uses.update({names[0]: 1, names[1]: 1})
    assert F.planned_by_phase(st, slot(0, 24)) is None  # both within the window of 3
    got = F.repeat_sooner(st, slot(0, 24))
    assert got.sid == names[0] and got.relaxation == "repeat"


def test_shorter_than_style_makes_a_short_part_when_only_short_shots_are_left():
    st, _ = state("documentary", [40])  # 1.6 s of footage, the style wants 3 s
    got = F.shorter_than_style(st, slot(0, 96))
    assert isinstance(got, Resplit) and got.slots[0].slot.frames <= 40


def test_near_duplicates_come_last_and_shorter_for_duplicates_splits_for_them():
    st, names = state("dynamic", [100, 30], planned=[0], exclude=[1])
    st.uses[names[0]] = 1
    st.history = [names[0]]
    assert F.unplanned_shots(st, slot(0, 24)) is None
    assert F.near_duplicates(st, slot(0, 24)).sid == names[1]
    got = F.shorter_for_duplicates(st, slot(0, 60))
    assert isinstance(got, Resplit) and got.slots[0].slot.frames <= 30


def test_same_shot_again_is_the_last_resort_and_says_so():
    st, names = state("dynamic", [300])
    st.history = [names[0]]
    st.uses[names[0]] = 1
    assert F.repeat_sooner(st, slot(0, 24)) is None
    got = F.same_shot_again(st, slot(0, 24))
    assert got.sid == names[0] and got.relaxation == "adjacent"


def test_the_loop_applies_the_rules_in_order_and_leaves_the_list_alone():
    before = F.RULES
    assert [r.__name__ for r in F.RULES] == [
        "planned_in_order", "planned_by_phase", "split_for_planned", "back_in_time", "split_for_earlier",
        "off_downbeat", "unplanned_shots", "out_of_order", "shorter_than_style", "repeat_sooner", "near_duplicates",
        "shorter_for_duplicates", "split_to_repeat", "same_shot_again"]
    for rule in F.RULES:
        assert rule.__doc__ and len(rule.__doc__.strip()) > 20
    cl = cut("mtv")
    assert F.RULES is before and isinstance(F.RULES, tuple)
    assert cl.cuts


def _keys(cl):
    return [(c.source_path, c.shot_index) for c in cl.cuts]


@pytest.mark.parametrize("name", STYLES)
@pytest.mark.parametrize("seed", [0, 3])
def test_no_a_b_a_and_no_piece_of_a_shot_right_after_another(name, seed):
    cl = cut(name, seed=seed)
    keys = _keys(cl)
    window = load_style(name).repeat_window
    notes = " ".join(cl.metadata["notes"])
    assert all(a != b for a, b in zip(keys, keys[1:])) or "jump cut" in notes
    repeats = sum(1 for i, k in enumerate(keys) if k in keys[max(0, i - window):i])
    assert repeats == 0 or "shown again within" in notes
    for key in set(keys):  # used again: forward in its own time, or the notes say otherwise
        ins = [c.source_in for c in cl.cuts if (c.source_path, c.shot_index) == key]
        assert ins == sorted(ins) or "out of source order" in notes


def test_two_shots_for_a_fast_style_alternate_only_with_a_note():
    shots = varied_footage(files=1, shots_per_file=2, frames=600)  # two long shots, 24 s each
    cl = cut("mtv", shots=shots, duration_s=10.0)
    keys = _keys(cl)
    assert all(a != b for a, b in zip(keys, keys[1:]))
    assert any("shown again within 3 cuts" in n for n in cl.metadata["notes"])


def test_reuse_spreads_over_the_footage():
    shots = varied_footage(files=3, shots_per_file=2, frames=500)  # six shots of 10 s for 60 s of mtv
    cl = cut("mtv", shots=shots)
    uses = {}
    for k in _keys(cl):
        uses[k] = uses.get(k, 0) + 1
    assert len(uses) == 6 and max(uses.values()) - min(uses.values()) <= max(3, len(cl.cuts) // 6)
