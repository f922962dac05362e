"""A held cut the footage can give only shorter: where its takes come from (the runs between
flagged frames), how short it may go, and a song whose lead-in no shot can carry."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from montage_ai.core.analysis.quality import Flag
from montage_ai.core.cut.assembly import played_music
from montage_ai.core.cut.footage_hold import clean_runs, longest_usable_s, usable_lengths
from montage_ai.core.cut.pace import phase_ratios
from montage_ai.core.plan.patterns import apply_pattern, load_pattern
from montage_ai.core.plan.planner import shot_id_map
from montage_ai.core.plan.styles import load_style
from test_assembly import assert_sound, short_footage
from test_cut_pace import _cut
from test_planner import music

# the demo's song: a 0.29 s lead-in before the first downbeat, bars of 2 s
SONG = music((("A", 0, 2, 0.13), ("B", 2, 14, 0.5), ("C", 14, 18, 0.66), ("A", 18, 20, 0.13)), lead_s=0.29,
             tail_s=1.0)
WEDDING = apply_pattern(load_style("dynamic"), load_pattern("wedding"))


def test_a_shots_usable_lengths_are_its_runs_between_flagged_frames_as_the_fill_uses_them():
    # a 100-frame shot out of focus over its first 30 and last 25 frames holds one 45-frame run
    # (the fill never shows flagged frames); a flag in the middle of another leaves two runs,
    # of which a style that never reuses a shot takes one
    a, b = short_footage([100, 100], files=1)[0].shots
    clip = replace(short_footage([100, 100], files=1)[0],
                   flags=(Flag(0, 29, "out of focus"), Flag(75, 99, "out of focus"), Flag(140, 149, "flash")))
    assert clean_runs(clip, a) == [45]
    assert clean_runs(clip, b) == [40, 50]
    ids = shot_id_map([clip])
    assert sorted(usable_lengths(ids, set())) == [1.6, 1.8, 2.0]
    assert sorted(usable_lengths(ids, set(), never=True)) == [1.8, 2.0]
    assert longest_usable_s(ids, set()) == 2.0
    unflagged = shot_id_map([replace(clip, flags=())])
    assert usable_lengths(unflagged, set()) == [4.0, 4.0]


def test_a_held_cut_starts_on_the_first_downbeat_when_no_shot_holds_the_lead_in_and_the_first_take():
    # wedding cuts two-bar takes of 4 s on downbeats only (its 2.5 s shortest shot is over a
    # bar); the longest shots last 4.2 s, so the first take over the 0.29 s lead-in (4.29 s)
    # fits none: the lead-in got a shot of its own, a 7-frame flash, and the song's full length
    # chopped the held phases into one-bar pieces. Now the cut is held shorter, its music
    # starting on the first downbeat, every take a whole two bars, and the notes say so
    shots = short_footage([105, 75, 105, 75, 60], files=3)
    cl = _cut(WEDDING, shots, SONG)
    notes = cl.metadata["notes"]
    assert_sound(cl, shots, WEDDING)
    assert cl.music_start == round(0.29 * 25), notes
    assert any("the music starts on its first downbeat, 0.29 s in" in n for n in notes), notes
    assert any("the cut ends earlier" in n for n in notes), notes
    # five two-bar takes: under half the song (down to HELD_FLOOR), rather than one-bar pieces
    assert float(cl.duration / cl.rate) < 0.5 * SONG.duration_s and len(cl.cuts) == 5, cl.duration
    assert min(c.record_frames for c in cl.cuts) >= 2.5 * 25, [c.record_frames for c in cl.cuts]
    ratios = phase_ratios(cl.cuts, cl.sections, WEDDING, 0.5, 4, cl.rate, cl.metadata["hold_s"])
    assert all(abs(v - 1) <= 0.2 for v in ratios.values()), (ratios, notes)
    # the cut's music is the song from the frame that downbeat lands on (frame 7 of 25 fps:
    # 0.28 s), its times counted from there, so each beat is on the song's own frame
    played = played_music(cl, SONG)
    assert played.offset_s == 0.28 and played.downbeat_times_s[:2] == (0.01, 2.01)
    assert list(cl.downbeats[:2]) == [0, 50]
    song_frames = [round(t * 25) for t in SONG.downbeat_times_s]
    assert [d + cl.music_start for d in cl.downbeats] == song_frames[:len(cl.downbeats)]


def test_a_first_shot_that_holds_the_lead_in_keeps_the_song_from_its_start():
    # shots of 4.6 s hold the lead-in and the first two bars: the song plays from 0
    shots = short_footage([115, 75, 115, 75, 60], files=3)
    cl = _cut(WEDDING, shots, SONG)
    assert cl.music_start == 0, cl.metadata["notes"]
    assert played_music(cl, SONG) is SONG
    assert cl.cuts[0].record_frames == round(4.29 * 25)
    assert not any("first downbeat" in n for n in cl.metadata["notes"])


def test_a_song_picked_from_a_section_is_never_moved_to_another_downbeat():
    # an excerpt the editor chose starts on its downbeat already: no lead-in to drop
    from montage_ai.core.cut.fit import song_excerpt

    part = song_excerpt(SONG, 4.29)
    shots = short_footage([105, 75, 105, 75, 60], files=3)
    cl = _cut(WEDDING, shots, part)
    assert cl.music_start == round(Fraction(429, 100) * 25)
    assert not any("first downbeat" in n for n in cl.metadata["notes"])
    # its bars on the song's own frames (the start rounded to frame 107 once, not each bar apart)
    song_frames = [round(t * 25) for t in SONG.downbeat_times_s if t >= 4.29]
    assert [d + cl.music_start for d in cl.downbeats] == song_frames[:len(cl.downbeats)]


def test_a_cut_from_the_first_downbeat_plays_the_song_from_there_in_every_format(tmp_path):
    # A1 starts 7 frames into the song and ends with V1, as each format says it back
    import opentimelineio as otio

    from montage_ai.core.model.timeline import build_timeline, cut_list_from_timeline
    from montage_ai.otio_adapters.export import export_timeline, read_timeline
    from test_interchange import _music_probe
    from test_music_fit import _a1_v1_ends

    shots = short_footage([105, 75, 105, 75, 60], files=3)
    cl = _cut(WEDDING, shots, SONG)
    assert cl.music_start == 7 and cl.music_duration == cl.duration
    media = {a.path: a.media for a in shots}
    media[SONG.path] = _music_probe(SONG.path, SONG.duration_s)
    timeline = build_timeline(cl, media=media)
    for fmt, suffix in (("otio", ".otio"), ("fcpxml", ".fcpxml"), ("premiere", ".xml")):
        back = cut_list_from_timeline(read_timeline(export_timeline(timeline, tmp_path / f"c{suffix}", fmt)))
        assert (back.music_start, back.music_duration, back.duration) == (7, cl.duration, cl.duration), fmt
    official = otio.adapters.read_from_string((tmp_path / "c.xml").read_text(), adapter_name="fcp_xml")
    v_end, a_end, frame = _a1_v1_ends(official)
    assert abs(a_end - v_end) <= frame + 1e-9
    a1 = next(c for t in official.audio_tracks() for c in t if isinstance(c, otio.schema.Clip))
    assert a1.source_range.start_time.to_frames() == 7


def test_a_song_that_starts_on_its_downbeat_has_no_lead_in_to_drop():
    # the first downbeat at 0: the bar after it is music, not a lead-in
    from montage_ai.core.cut.assembly import _from_first_downbeat
    from montage_ai.core.plan.planner import RulesPlanner, make_request

    on_bar = music((("A", 0, 2, 0.13), ("B", 2, 14, 0.5), ("C", 14, 18, 0.66), ("A", 18, 20, 0.13)), bpm=150)
    shots = short_footage([105, 75, 105, 75, 60], files=3)
    plan = RulesPlanner().plan(make_request(shots, on_bar, WEDDING))
    assert on_bar.downbeat_times_s[0] == 0.0 and on_bar.downbeat_times_s[1] < WEDDING.min_shot_s
    assert _from_first_downbeat(plan, on_bar, WEDDING) is None
    # a song with a 0.29 s lead-in: the excerpt from its first downbeat, the plan's phases moved with it
    song_plan = RulesPlanner().plan(make_request(shots, SONG, WEDDING))
    late_plan, late, _ = _from_first_downbeat(song_plan, SONG, WEDDING)
    assert late.offset_s == 0.29 and late.downbeat_times_s[0] == 0.0
    assert [(p.name, p.start_s, p.end_s) for p in late_plan.phases] == [
        (p.name, round(max(0.0, p.start_s - 0.29), 6), round(p.end_s - 0.29, 6)) for p in song_plan.phases]


def test_a_held_cut_caps_a_phase_the_grid_would_hold_in_one_take_longer_than_any_shot():
    # wedding's 6 s takes: an 8 s build is nearer its target in one take than in two of 4 s,
    # but no usable shot lasts 8 s (they last 4.2 s). Tiled, the style's takes fit (two of 4 s),
    # so a strict cut stays uncapped (its fill may hold the phase anyway); a held cut is capped
    # at the tiled take, so its grid cuts the two takes the shots hold (the demo's wedding held
    # 20 s in five takes, not 16 s after the fill chopped an 8 s slot)
    from montage_ai.core.cut.footage_hold import footage_hold

    rate = Fraction(24)
    shots = short_footage([100, 100], files=3, rate=rate)
    ids = shot_id_map(shots)
    phases = [("intro", 0, 96, 0.13), ("build", 96, 288, 0.5), ("climax", 288, 384, 0.66), ("outro", 384, 480, 0.13)]
    beats = list(range(0, 480, 12))
    strict = footage_hold(ids, set(), WEDDING, rate, phases, beats, 4, 480)
    held = footage_hold(ids, set(), WEDDING, rate, phases, beats, 4, 480, tiled=True)
    assert strict[0] is None and strict[2] == 0.0
    assert held[0] == 4.0 and "every phase's takes are capped there" in held[1][0]
    # shots of 8.5 s hold the one 8 s take: nothing to cap either way
    long_ids = shot_id_map(short_footage([204, 204], files=3, rate=rate))
    assert footage_hold(long_ids, set(), WEDDING, rate, phases, beats, 4, 480, tiled=True)[0] is None
