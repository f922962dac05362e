"""Story-arc planner: music phases, shot candidates, the rules planner, plan validation.

Footage and music analyses are built synthetically (no decoding): :func:`footage` and
:func:`music` are reused by tests/test_assembly.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from montage_ai.core.analysis.footage import FootageAnalysis, Shot
from montage_ai.core.analysis.music import MusicAnalysis, Section
from montage_ai.core.media.probe import MediaInfo, VideoStream
from montage_ai.core.plan.planner import (
    PHASES,
    Phase,
    PlanError,
    Planner,
    RulesPlanner,
    StoryPlan,
    chronological_key,
    make_request,
    music_phases,
    shot_id_map,
    validate_plan,
)
from montage_ai.core.plan.styles import load_style

# --------------------------------------------------------------------------- builders


def footage(path: str, rate: Fraction, shots: list[dict], *, created: dt.datetime | None = None,
            size: tuple[int, int] = (1920, 1080)) -> FootageAnalysis:
    """A FootageAnalysis of consecutive shots; each dict gives ``frames`` and optional
    ``motion``, ``shake``, ``colour``, ``black``, ``dip`` (a (start, end) offset range of bad
    frames), ``handles`` (frames of transition excluded at each end)."""
    step = max(1, int(rate / 8))
    out, pos = [], 0
    sample_frames, motion, shake, sharp, expo = [], [], [], [], []
    for k, spec in enumerate(shots):
        n = spec["frames"]
        h = spec.get("handles", 0)
        start, end = pos, pos + n
        us, ue = start + h, end - h
        frames = tuple(range(us, ue, step))
        dip = spec.get("dip")
        scores = []
        for f in frames:
            s = 0.8 - 0.2 * abs((f - us) / max(1, ue - us) - 0.5)
            if dip and start + dip[0] <= f < start + dip[1]:
                s = 0.1
            scores.append(round(s, 4))
        m = spec.get("motion", 0.02)
        for f, s in zip(frames, scores):
            sample_frames.append(f)
            motion.append(m * (1.5 if s > 0.75 else 1.0))
            shake.append(spec.get("shake", 0.001))
            sharp.append(100.0 * s)
            expo.append(0.45)
        black = spec.get("black", False)
        best = frames[int(np.argmax(scores))] if frames else (us + ue) // 2
        out.append(Shot(
            index=k, start_frame=start, end_frame=end, start_s=float(start / rate), end_s=float(end / rate),
            transition_in=(start, us - 1) if h else None, transition_out=(ue, end - 1) if h else None,
            black=black, usable_start_frame=us, usable_end_frame=ue, keyframe_frame=best, thumbnail=None,
            motion=None if black else m, shake=None if black else spec.get("shake", 0.001),
            sharpness=None if black else 80.0, exposure=0.02 if black else 0.45, clipped_high=0.0,
            clipped_low=1.0 if black else 0.0, colourfulness=None if black else spec.get("colour", 20.0),
            best_frame=best, score_frames=frames, scores=tuple(scores)))
        pos = end
    video = VideoStream(index=0, codec="h264", profile="High", width=size[0], height=size[1], rate=rate,
                        avg_rate=rate, frame_count=pos, vfr=False, rotation=0, pix_fmt="yuv420p", bit_depth=8,
                        time_base=Fraction(1, 90000), start_time_s=0.0, duration_s=float(pos / rate))
    media = MediaInfo(path=path, size_bytes=1, format_name="mov,mp4", duration_s=float(pos / rate), video=video,
                      creation_time=created)
    none = tuple(None for _ in sample_frames)
    return FootageAnalysis(path=path, media=media, mode="full", analysis_version="2", frame_count=pos,
                           shots=tuple(out), sample_frames=tuple(sample_frames),
                           sample_times_s=tuple(float(f / rate) for f in sample_frames), motion=tuple(motion),
                           shake=tuple(shake), sharpness=tuple(sharp), exposure=tuple(expo),
                           clipped_high=tuple(0.0 for _ in sample_frames), clipped_low=tuple(0.0 for _ in sample_frames),
                           colourfulness=none)


SONG = (("A", 0, 8, 0.3), ("B", 8, 16, 0.6), ("C", 16, 24, 0.95), ("A", 24, 30, 0.3))  # in bars


def music(sections=SONG, *, bpm: float = 120.0, meter: int = 4, lead_s: float = 0.0, tail_s: float = 0.25,
          path: str = "/music/song.wav") -> MusicAnalysis:
    """Music of ``sections`` (label, first bar, end bar, energy) on a steady grid."""
    beat = 60.0 / bpm
    n_bars = max(s[2] for s in sections) if sections else 16
    n_beats = n_bars * meter
    beats = tuple(round(lead_s + i * beat, 6) for i in range(n_beats))
    energy = []
    for i in range(n_beats):
        bar = i // meter
        e = next((s[3] for s in sections if s[1] <= bar < s[2]), 0.5)
        energy.append(round(e * (1.0 if i % meter == 0 else 0.9), 4))
    secs = tuple(Section(round(lead_s + s[1] * meter * beat, 6), round(lead_s + s[2] * meter * beat, 6), s[0], s[3])
                 for s in sections)
    if secs:
        secs = (replace(secs[0], start_s=0.0),) + secs[1:-1] + (replace(secs[-1], end_s=lead_s + n_beats * beat + tail_s),)
    return MusicAnalysis(path=path, duration_s=lead_s + n_beats * beat + tail_s, sample_rate=22050, tempo_bpm=bpm,
                         meter=meter, beat_times_s=beats, downbeat_times_s=beats[::meter], beat_energy=tuple(energy),
                         sections=secs)


def varied_footage(rate=Fraction(25), files: int = 4, shots_per_file: int = 6, frames: int = 125,
                   base_time: dt.datetime | None = None) -> list[FootageAnalysis]:
    """Files whose shots range from calm (motion 0.002) to intense (motion 0.2)."""
    out = []
    for f in range(files):
        specs = []
        for k in range(shots_per_file):
            level = ((f * shots_per_file + k) * 7) % (files * shots_per_file) / (files * shots_per_file)
            specs.append({"frames": frames, "motion": 0.002 + 0.2 * level, "shake": 0.0005 + 0.01 * level,
                          "colour": 10 + 60 * level})
        created = None if base_time is None else base_time + dt.timedelta(minutes=10 * f)
        out.append(footage(f"/clips/C{f:03d}.mp4", rate, specs, created=created))
    return out


# --------------------------------------------------------------------------- music phases


def test_phases_follow_sections_and_put_the_climax_on_the_loudest_late_section():
    m = music()
    ph = music_phases(m, load_style("dynamic"))
    assert [p.name for p in ph] == list(PHASES)
    assert [(p.start_s, p.end_s) for p in ph] == [(0.0, 16.0), (16.0, 32.0), (32.0, 48.0), (48.0, m.duration_s)]
    assert ph[2].energy == max(p.energy for p in ph)


def test_a_loud_late_chorus_beats_an_equally_loud_early_one():
    m = music((("A", 0, 6, 0.3), ("B", 6, 10, 0.9), ("A", 10, 14, 0.4), ("B", 14, 18, 0.9), ("C", 18, 22, 0.3)))
    climax = music_phases(m, load_style("dynamic"))[2]
    assert climax.start_s == 14 * 2.0


def test_a_climax_that_runs_to_the_end_leaves_its_last_bars_to_the_outro():
    m = music((("A", 0, 8, 0.3), ("B", 8, 16, 0.5), ("C", 16, 32, 1.0)))
    ph = music_phases(m, load_style("dynamic"))
    assert ph[2].start_s == 32.0
    assert 32.0 < ph[3].start_s < m.duration_s
    assert ph[3].start_s in m.downbeat_times_s


def test_phases_cover_the_music_contiguously_without_sections():
    m = replace(music(), sections=())
    ph = music_phases(m, load_style("mtv"))
    assert ph[0].start_s == 0.0 and ph[-1].end_s == m.duration_s
    assert all(a.end_s == b.start_s and b.start_s > a.start_s for a, b in zip(ph, ph[1:]))
    assert all(p.start_s in m.downbeat_times_s for p in ph[1:])


def test_phases_plan_only_the_requested_duration():
    ph = music_phases(music(), load_style("dynamic"), duration_s=30.0)
    assert ph[-1].end_s == 30.0
    assert all(p.end_s > p.start_s for p in ph)


# --------------------------------------------------------------------------- candidates


def test_black_and_too_short_shots_are_not_candidates():
    a = footage("/clips/A.mp4", Fraction(25), [{"frames": 100}, {"frames": 50, "black": True}, {"frames": 5},
                                                {"frames": 100}])
    req = make_request([a], music(), load_style("documentary"))  # min 3 s = 75 frames
    assert [c.id for c in req.shots] == ["A.mp4#0", "A.mp4#3"]
    req = make_request([a], music(), load_style("mtv"))  # min 0.2 s = 5 frames
    assert [c.id for c in req.shots] == ["A.mp4#0", "A.mp4#2", "A.mp4#3"]
    short = footage("/clips/S.mp4", Fraction(25), [{"frames": 50}, {"frames": 30, "black": True}, {"frames": 60}])
    req = make_request([short], music(), load_style("documentary"))  # none is 3 s: plan the short ones anyway
    assert [c.id for c in req.shots] == ["S.mp4#0", "S.mp4#2"]


def test_shot_ids_use_full_paths_when_base_names_collide():
    a = footage("/day1/A.mp4", Fraction(25), [{"frames": 50}])
    b = footage("/day2/A.mp4", Fraction(25), [{"frames": 50}])
    assert set(shot_id_map([a, b])) == {"/day1/A.mp4#0", "/day2/A.mp4#0"}


# --------------------------------------------------------------------------- rules planner


def _calm(req, ids):
    return float(np.mean([req.shot(i).calm for i in ids]))


def test_the_arc_goes_calm_to_intense_and_resolves_on_a_calm_shot():
    req = make_request(varied_footage(), music(), load_style("dynamic"), seed=0)
    plan = RulesPlanner().plan(req)
    intro, climax, outro = plan.phase("intro"), plan.phase("climax"), plan.phase("outro")
    assert intro.shot_ids and climax.shot_ids and outro.shot_ids
    assert _calm(req, intro.shot_ids) > _calm(req, climax.shot_ids) + 0.3
    assert req.shot(outro.shot_ids[-1]).calm > np.median([c.calm for c in req.shots])
    assert all(plan.reasons[i] for i in plan.shot_ids)
    assert set(plan.shot_ids) == {c.id for c in req.shots}  # every usable shot placed, once


def test_same_seed_same_plan_other_seed_a_variation_with_the_same_arc():
    shots, m, style = varied_footage(), music(), load_style("dynamic")
    p0 = RulesPlanner().plan(make_request(shots, m, style, seed=0))
    assert RulesPlanner().plan(make_request(shots, m, style, seed=0)) == p0
    others = [RulesPlanner().plan(make_request(shots, m, style, seed=s)) for s in (1, 2, 3)]
    assert any(p.phases != p0.phases for p in others)
    for s, p in zip((1, 2, 3), others):
        req = make_request(shots, m, style, seed=s)
        assert _calm(req, p.phase("intro").shot_ids) > _calm(req, p.phase("climax").shot_ids)


def test_chronological_style_orders_by_creation_time_then_path_then_frame():
    t0 = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.timezone.utc)
    files = varied_footage(base_time=t0)
    files = [files[2], files[0], files[3], files[1]]  # given out of order
    files[3] = replace(files[3], media=replace(files[3].media, creation_time=None))  # no time: last
    req = make_request(files, music(), load_style("vlog"), seed=5)
    plan = RulesPlanner().plan(req)
    keys = [chronological_key(req.shot(i)) for i in plan.shot_ids]
    assert keys == sorted(keys)
    assert req.shot(plan.shot_ids[-1]).path == files[3].path


def test_rules_planner_is_a_planner():
    assert isinstance(RulesPlanner(), Planner)


def test_no_usable_shots_is_a_clear_error():
    a = footage("/clips/A.mp4", Fraction(25), [{"frames": 50, "black": True}])
    with pytest.raises(PlanError, match="no usable shots"):
        RulesPlanner().plan(make_request([a], music(), load_style("dynamic")))


# --------------------------------------------------------------------------- validation


def test_validate_plan_reports_unknown_duplicate_ids_and_missing_phases():
    req = make_request(varied_footage(files=1), music(), load_style("dynamic"))
    good = RulesPlanner().plan(req)
    first = good.shot_ids[0]
    bad = replace(good, phases=(replace(good.phases[0], shot_ids=(first, first, "nope.mp4#9")),) + good.phases[1:3])
    with pytest.raises(PlanError) as err:
        validate_plan(bad, req)
    msg = str(err.value)
    assert "missing phases outro" in msg and "nope.mp4#9" in msg and f"used twice {first}" in msg
    assert validate_plan(good, req) is good
    empty = StoryPlan(tuple(Phase(p.name, p.start_s, p.end_s, p.energy) for p in req.phases), {}, "llm")
    with pytest.raises(PlanError, match="plan from llm is invalid: no shots planned"):
        validate_plan(empty, req)
