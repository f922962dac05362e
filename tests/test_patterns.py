"""Cut patterns: TOML files combinable with every style, each doing what its name says."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from montage_ai.core.analysis.music import beat_frames
from montage_ai.core.cut.assembly import assemble
from montage_ai.core.plan.patterns import PatternError, apply_pattern, available_patterns, detect_drops, load_pattern
from montage_ai.core.plan.planner import RulesPlanner, make_request
from montage_ai.core.plan.styles import load_style
from test_assembly import STYLES
from test_planner import music, varied_footage

R = Fraction(25)
NAMES = ["build_drop", "double_time", "downbeats_only", "energy_map", "every_bar", "every_beat", "every_phrase",
         "wedding"]
DROP_SONG = (("A", 0, 4, 0.3), ("B", 4, 8, 0.45), ("C", 8, 16, 0.95), ("D", 16, 20, 0.35), ("E", 20, 28, 0.95))


def cut(style: str, pattern: str, *, m=None, shots=None, seed: int = 0, duration_s=None):
    st = apply_pattern(load_style(style), load_pattern(pattern))
    shots = varied_footage(files=6, frames=300) if shots is None else shots
    m = music() if m is None else m
    plan = RulesPlanner().plan(make_request(shots, m, st, seed=seed, duration_s=duration_s))
    return assemble(plan, shots, m, st, seed=seed, duration_s=duration_s), shots, st


def test_every_builtin_pattern_loads_and_has_a_description():
    assert sorted(p.name for p in available_patterns()) == NAMES
    assert all(p.description for p in available_patterns())


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("pattern", NAMES)
def test_every_pattern_combines_with_every_style(style, pattern):
    fast = pattern in ("every_beat", "double_time") and load_style(style).reuse == "never"
    cl, _, st = cut(style, pattern, duration_s=8.0 if fast else 24.0)  # a shot once each: 36 shots, 4 cuts a second
    assert cl.style == f"{style}+{pattern}" and cl.cuts[-1].record_out == cl.duration
    assert st.order == load_style(style).order and st.reuse == load_style(style).reuse  # the style's own rules stay


def _lengths(cl):
    return [c.record_frames for c in cl.cuts]


def test_every_beat_cuts_on_each_beat():
    cl, _, _ = cut("dynamic", "every_beat")
    assert np.median(_lengths(cl)) in (12, 13)  # 120 bpm at 25 fps: 12.5 frames a beat
    assert all(c.record_in in set(cl.beats) for c in cl.cuts[1:])


def test_double_time_cuts_twice_a_beat():
    cl, _, _ = cut("mtv", "double_time")
    assert np.median(_lengths(cl)) in (6, 7)
    on_beat = sum(c.record_in in set(cl.beats) for c in cl.cuts[1:])
    assert 0.3 < on_beat / (len(cl.cuts) - 1) < 0.7  # half on the beat, half between


def test_every_bar_and_downbeats_only_cut_on_bar_lines():
    for pattern in ("every_bar", "downbeats_only"):
        cl, _, _ = cut("dynamic", pattern)
        downs = set(beat_frames(music(), R, "downbeats"))
        assert all(c.record_in in downs for c in cl.cuts[1:]), pattern
    cl, _, _ = cut("dynamic", "every_bar")
    assert np.median(_lengths(cl)) == 50


def test_every_phrase_holds_four_bars():
    cl, _, _ = cut("cinematic", "every_phrase", shots=varied_footage(files=6, frames=500))
    assert np.median(_lengths(cl)) == 200  # 4 bars of 2 s


def test_energy_map_and_wedding_put_calm_shots_on_quiet_bars_and_intense_ones_on_loud_bars():
    for pattern in ("energy_map", "wedding"):
        cl, shots, _ = cut("dynamic", pattern, shots=varied_footage(files=8, frames=300))
        motion = {(a.path, s.index): s.motion for a in shots for s in a.shots}
        energy = [next((s.energy for s in cl.sections if s.start <= c.record_in < s.end), 0.5) for c in cl.cuts]
        moves = [motion[(c.source_path, c.shot_index)] for c in cl.cuts]
        assert np.corrcoef(energy, moves)[0, 1] > 0.3, pattern
    cl, _, _ = cut("dynamic", "energy_map")
    quiet = [c.record_frames for c in cl.cuts if c.phase == "intro"]
    loud = [c.record_frames for c in cl.cuts if c.phase == "climax"]
    assert np.mean(quiet) > 2 * np.mean(loud)
    cl, _, _ = cut("dynamic", "wedding", shots=varied_footage(files=8, frames=300))
    assert min(_lengths(cl)) >= 2.5 * 25 - 1 or any("shorter" in n for n in cl.metadata["notes"])


def test_drops_are_found_where_energy_jumps_after_a_build():
    m = music(DROP_SONG)
    assert detect_drops(m) == [16.0, 40.0]  # bars 8 and 20, 2 s a bar
    assert detect_drops(music()) == [16.0, 32.0]  # the standard song: 0.3 -> 0.6 -> 0.95, bars 8 and 16


def test_build_drop_tightens_into_the_drop_and_hits_it_with_the_most_intense_shot():
    m = music(DROP_SONG)
    shots = varied_footage(files=8, frames=300)
    cl, _, _ = cut("dynamic", "build_drop", m=m, shots=shots)
    drop = 400  # 16 s at 25 fps
    at = next(c for c in cl.cuts if c.record_in == drop)
    motion = {(a.path, s.index): s.motion for a in shots for s in a.shots}
    used_before = {(c.source_path, c.shot_index) for c in cl.cuts if c.record_out <= drop}
    fresh = [v for k, v in motion.items() if k not in used_before]
    assert motion[(at.source_path, at.shot_index)] >= np.percentile(fresh, 75)
    build = [c for c in cl.cuts if 200 <= c.record_in < drop]
    half = len(build) // 2
    assert np.mean([c.record_frames for c in build[half:]]) < np.mean([c.record_frames for c in build[:half]])
    assert any("2 drops found (loudness alone" in n and "at 16.0 s, 40.0 s" in n for n in cl.metadata["notes"])


def test_a_bad_pattern_is_named(tmp_path, monkeypatch):
    with pytest.raises(PatternError, match="known patterns: build_drop"):
        load_pattern("nosuch")
    bad = tmp_path / "odd.toml"
    bad.write_text('description = "x"\nbeats_per_cut = [3, 1]\n')
    with pytest.raises(PatternError, match=r"odd.toml: key 'beats_per_cut'"):
        load_pattern(str(bad))
    mine = tmp_path / "p"
    mine.mkdir()
    (mine / "triplets.toml").write_text('description = "three cuts a beat"\nbeats_per_cut = [1, 1]\nsubdivide = 3\n')
    monkeypatch.setenv("MONTAGE_AI_PATTERNS", str(mine))
    assert load_pattern("triplets").subdivide == 3


# --------------------------------------------------------------------------- drops on analysed audio

def _analysed(spec):
    from montage_ai.core.analysis.music import analyze_music_signal
    from montage_ai.core.samples.music import render

    y, truth = render(spec)
    return analyze_music_signal(y, spec.sr, path="generated.wav"), truth


def _build_drop_spec():
    from montage_ai.core.samples.music import MusicSpec, SectionSpec

    # a quiet intro, a drum-less build that swells, the drop (kick and bass come in), a break, the drop again
    return MusicSpec(tempo_bpm=120, seed=21, sections=(
        SectionSpec("intro", 4, 0.3, drums=False), SectionSpec("build", 4, 1.0, drums=False),
        SectionSpec("drop", 8, 0.95, harmony=1), SectionSpec("break", 4, 0.3, drums=False),
        SectionSpec("drop", 8, 0.95, harmony=1)))


@pytest.fixture(scope="module")
def build_drop_song():
    return _analysed(_build_drop_spec())


def test_the_analysis_carries_the_low_end_per_beat_and_keeps_it_in_json(build_drop_song):
    from montage_ai.core.analysis.music import MusicAnalysis
    from montage_ai.core.plan.patterns import bar_low_end

    m, truth = build_drop_song
    assert len(m.beat_low) == len(m.beat_times_s) and max(m.beat_low) == pytest.approx(1.0)
    low = bar_low_end(m)
    drop = truth.section_starts_s[2]
    k = min(range(len(m.downbeat_times_s)), key=lambda i: abs(m.downbeat_times_s[i] - drop))
    assert max(low[:k]) < 0.1 < 0.3 < min(low[k:k + 8])  # no kick or bass before the drop, both after it
    assert MusicAnalysis.from_dict(m.to_dict()).beat_low == m.beat_low
    old = m.to_dict()
    del old["beat_low"]
    assert MusicAnalysis.from_dict(old).beat_low == ()  # an older analysis reads, without a low end


def test_drops_are_the_bars_where_energy_and_low_end_jump_after_a_build(build_drop_song):
    from dataclasses import replace

    from montage_ai.core.samples.music import MusicSpec, SectionSpec

    m, truth = build_drop_song
    drops = detect_drops(m)
    assert len(drops) == 2
    for found, want in zip(drops, (truth.section_starts_s[2], truth.section_starts_s[4])):
        assert abs(found - want) < 0.1
    # a swell that gets loud with no kick or bass is no drop; loudness alone took it for one
    swell, truth = _analysed(MusicSpec(tempo_bpm=120, seed=22, sections=(
        SectionSpec("A", 6, 0.1, drums=False), SectionSpec("B", 8, 1.0, drums=False, harmony=1))))
    assert detect_drops(swell) == []
    assert len(detect_drops(replace(swell, beat_low=()))) == 1


def test_build_drop_on_analysed_music_hits_the_drop_with_the_most_intense_shot(build_drop_song):
    m, truth = build_drop_song
    shots = varied_footage(files=8, frames=300)
    cl, _, _ = cut("dynamic", "build_drop", m=m, shots=shots)
    notes = [n for n in cl.metadata["notes"] if "drops found" in n]
    assert notes and "2 drops found (energy and low end)" in notes[0]
    motion = {(a.path, s.index): s.motion for a in shots for s in a.shots}
    for drop_s in detect_drops(m):
        drop = min(cl.beats, key=lambda f: abs(f / R - Fraction(drop_s)))
        at = next(c for c in cl.cuts if c.record_in == drop)  # a cut on the drop
        used_before = {(c.source_path, c.shot_index) for c in cl.cuts if c.record_out <= drop}
        fresh = [v for k, v in motion.items() if k not in used_before]
        assert motion[(at.source_path, at.shot_index)] >= np.percentile(fresh, 75)
        build = [c.record_frames for c in cl.cuts if drop - 4 * 50 <= c.record_in < drop]
        assert np.mean(build[len(build) // 2:]) < np.mean(build[:len(build) // 2])  # tighter into the drop


def test_a_part_of_the_song_keeps_its_low_end_beat_for_beat(build_drop_song):
    from montage_ai.core.cut.fit import song_excerpt

    m, truth = build_drop_song
    part = song_excerpt(m, 8.0, 50.0)  # from the build's bar on
    first = m.beat_times_s.index(part.beat_times_s[0] + part.offset_s) if part.offset_s else 0
    assert len(part.beat_low) == len(part.beat_times_s)
    assert part.beat_low == m.beat_low[first:first + len(part.beat_low)]
    assert [round(d + part.offset_s, 1) for d in detect_drops(part)] == [round(d, 1) for d in detect_drops(m)]
