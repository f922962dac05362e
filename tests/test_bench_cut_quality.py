"""bench/cut_quality.py's pace measures on small synthetic cut lists: the worst phase, and
what a cut can reach (a phase between 1.2 and 1.6 takes long, the end hold over a ring-out,
the build into a drop)."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace as C

import pytest

from bench_module import load_bench
from montage_ai.core.plan.styles import load_style

R = Fraction(25)


def _bench():
    return load_bench("cut_quality")


def _music(n_beats: int, tail_s: float = 0.0):
    beats = tuple(i * 0.5 for i in range(n_beats))
    return C(beat_times_s=beats, beat_energy=(0.1,) * n_beats, meter=4, downbeat_times_s=beats[::4],
             duration_s=n_beats * 0.5 + tail_s)


def _cut_list(phases, music, duration: int):
    cuts, at = [], 0
    for name, takes in phases:
        for n in takes:
            cuts.append(C(phase=name, record_in=at, record_out=at + n, record_frames=n))
            at += n
    beats = tuple(round(t * 25) for t in music.beat_times_s)
    secs = [C(phase=name, energy=0.1) for name, _ in phases]
    return C(cuts=cuts, sections=secs, rate=R, metadata={"hold_s": None}, beats=beats, duration=duration)


def test_a_phase_between_one_and_two_takes_long_is_measured_at_the_whole_takes_a_cut_can_reach():
    cq = _bench()
    style = load_style("cinematic")  # low energy: 8 beats, 4 s takes at 0.5 s beats
    m = _music(40)
    # intro: two 4 s takes (on target); outro: 6 s (1.5 takes) as one take, 50 % over
    cl = _cut_list([("intro", [100, 100]), ("outro", [150])], m, 350)
    assert cq.pace(cl, style, m, promised=True) == {"intro": 1.0, "outro": pytest.approx(1.5)}
    assert cq.pace(cl, style, m, promised=True, whole=True) == {"intro": 1.0, "outro": pytest.approx(1.0)}
    # three takes of 2 s over the same 6 s outro are a cut's own choice: still 33 % short of two
    cl3 = _cut_list([("intro", [100, 100]), ("outro", [50, 50, 50])], m, 350)
    assert cq.pace(cl3, style, m, promised=True, whole=True)["outro"] == pytest.approx(2 / 3)


def test_the_end_hold_over_a_ring_out_is_left_out_of_its_phase():
    cq = _bench()
    style = load_style("cinematic")
    m = _music(36, tail_s=2.0)  # last beat at 17.5 s, the song ends at 20 s
    # outro: four 4 s takes, then the last from 16 s over the ring-out to the end
    cl = _cut_list([("outro", [100, 100, 100, 100, 100])], m, 500)
    assert cq.ring_out(cl) is cl.cuts[-1]
    assert cq.pace(cl, style, m, promised=True, whole=True) == {"outro": 1.0}
    no_ring = _cut_list([("outro", [100, 100, 100, 100, 100])], _music(40), 500)
    assert cq.ring_out(no_ring) is None


def test_a_build_into_a_drop_is_measured_against_the_tightening_the_pattern_promises(monkeypatch):
    from montage_ai.core.plan.patterns import apply_pattern, load_pattern

    cq = _bench()
    style = apply_pattern(load_style("dynamic"), load_pattern("build_drop"))
    m = _music(80)
    t = cq._target_s(style, m, "climax", 0.1, 0.5) * 25  # frames
    # a build over the whole climax into a drop at its end: each take a quarter shorter for every
    # quarter of the build behind it, as the grid cuts it
    takes, at, end = [], 0, 800
    while at < end:
        n = max(13, round(t * (1 - 0.75 * at / end)))
        takes.append(min(n, end - at))
        at += takes[-1]
    monkeypatch.setattr(cq, "drop_frames", lambda music, style, rate, n: [(0, end)])
    cl = _cut_list([("climax", takes)], m, end)
    flat = cq.pace(cl, style, m, promised=True)["climax"]
    ramp = cq.pace(cl, style, m, promised=True, whole=True)["climax"]
    assert flat < 0.8 and ramp == pytest.approx(1.0, abs=0.1), (flat, ramp, takes)
    assert cq.ramp_share(400, [(0, 800)]) == 0.5 and cq.ramp_share(800, [(0, 800)]) is None


def test_a_target_over_the_longest_take_at_the_tempo_is_measured_at_that_take():
    from montage_ai.core.plan.patterns import apply_pattern, load_pattern

    cq = _bench()
    # every cut on a downbeat at 68 bpm: a bar is 3.53 s, two are over dynamic's 6 s longest
    # shot; the quiet build's 6-beat target (5.3 s) can only be cut in one-bar takes
    style = apply_pattern(load_style("dynamic"), load_pattern("downbeats_only"))
    beat = 60 / 68
    beats = tuple(round(i * beat, 6) for i in range(32))
    m = C(beat_times_s=beats, beat_energy=(0.1,) * 32, meter=4, downbeat_times_s=beats[::4], duration_s=32 * beat)
    bar = round(4 * beat * 25)
    cl = _cut_list([("build", [bar] * 8)], m, 8 * bar)
    assert cq.pace(cl, style, m, promised=True)["build"] == pytest.approx(2 / 3, abs=0.01)
    assert cq.pace(cl, style, m, promised=True, whole=True)["build"] == pytest.approx(1.0, abs=0.01)
    # at 120 bpm two bars (4 s) are within it: the style's own target
    m2 = _music(64)
    cl2 = _cut_list([("build", [50] * 16)], m2, 800)
    assert cq.pace(cl2, style, m2, promised=True, whole=True)["build"] == pytest.approx(2 / 3, abs=0.01)


def test_a_phase_with_fewer_beats_than_its_length_asks_is_measured_at_a_cut_on_every_beat():
    from montage_ai.core.plan.patterns import apply_pattern, load_pattern

    cq = _bench()
    # gtzan country, dynamic+every_beat: the intro (0-3.27 s) opens on a 1.31 s lead-in (the
    # beat carried back would be 0.43 s in, under half a beat: none), then beats 0.98 s apart,
    # against the song's median beat of 0.88 s. A cut on every beat is three takes of 1.09 s
    style = apply_pattern(load_style("dynamic"), load_pattern("every_beat"))
    beats = (1.31, 2.29, 3.27) + tuple(round(3.27 + 0.88 * i, 3) for i in range(1, 30))
    m = C(beat_times_s=beats, beat_energy=(0.1,) * len(beats), meter=4, downbeat_times_s=beats[2::4],
          duration_s=30.0, path="song.flac")
    rate = Fraction(30000, 1001)
    f = [round(t * rate) for t in (0.0, 1.31, 2.29, 3.27)]
    cuts = [C(phase="intro", record_in=a, record_out=b, record_frames=b - a) for a, b in zip(f, f[1:])]
    cl = C(cuts=cuts, sections=[C(phase="intro", energy=0.1)], rate=rate, metadata={"hold_s": None},
           beats=tuple(round(t * rate) for t in beats), duration=f[-1])
    assert cq.pace(cl, style, m, promised=True)["intro"] == pytest.approx(1.09 / 0.88, abs=0.02)
    assert cq.pace(cl, style, m, promised=True, whole=True)["intro"] == pytest.approx(1.0, abs=0.01)
    # two takes where the beats allow three: still measured as the cut's own choice
    two = [C(phase="intro", record_in=f[0], record_out=f[2], record_frames=f[2]), cuts[-1]]
    assert cq.pace(C(**{**vars(cl), "cuts": two}), style, m, promised=True, whole=True)["intro"] == \
        pytest.approx(1.5, abs=0.01)
