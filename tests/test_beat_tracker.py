"""The neural beat tracker: shipped weights, numpy forward pass, bar DBN, confidence.

Generated signals only (seconds each); the real-music figures are in bench/beats_real.py.
"""

from __future__ import annotations

import json

import mir_eval
import numpy as np
import pytest

from montage_ai.core.analysis import beat_activation
from montage_ai.core.analysis.bar_dbn import bar_state_space, decode_bars
from montage_ai.core.analysis.beat_tracker import NO_CLEAR_BEAT, BeatConfidence, track_signal
from montage_ai.core.analysis.music import MusicAnalysis, analyze_music_signal
from montage_ai.core.analysis.spectral_features import FEATURE_FPS, log_filtered_features
from montage_ai.core.samples.music import render_preset

SR = 22050
RNG = np.random.default_rng(7)


def _f(ref, est) -> float:
    return mir_eval.beat.f_measure(mir_eval.beat.trim_beats(np.asarray(ref, float)),
                                   mir_eval.beat.trim_beats(np.asarray(est, float)))


def _pink(n: int) -> np.ndarray:
    spec = np.fft.rfft(RNG.standard_normal(n))
    k = np.arange(len(spec), dtype=float)
    k[0] = 1.0
    return np.fft.irfft(spec / np.sqrt(k), n)


def _speech_like(n: int) -> np.ndarray:
    """Syllables: voiced harmonic bursts of 80-300 ms at random gaps and pauses."""
    y = np.zeros(n)
    pos = int(0.2 * SR)
    while pos < n - SR // 2:
        dur = int(RNG.uniform(0.08, 0.3) * SR)
        f0, t = RNG.uniform(100, 180), np.arange(dur) / SR
        syl = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12))
        y[pos:pos + dur] += syl * np.sin(np.pi * np.arange(dur) / dur) ** 2 * RNG.uniform(0.3, 1.0)
        pos += dur + int(RNG.exponential(0.12) * SR)
        if RNG.random() < 0.15:
            pos += int(RNG.uniform(0.3, 0.8) * SR)
    return y


def _norm(y: np.ndarray) -> np.ndarray:
    return (0.3 * y / (np.abs(y).max() + 1e-12)).astype(np.float32)


def test_shipped_weights_load_with_the_network_shapes():
    w = beat_activation.load_weights()
    assert w["conv1.weight"].shape == (2, 1, 10)
    assert w["linear0.weight"].shape == (150, 262)
    assert w["lstm.weight_hh_l1"].shape == (600, 150)
    assert w["linear.weight"].shape == (3, 150)


def test_features_have_the_networks_272_columns_at_50_fps():
    f = log_filtered_features(np.zeros(SR * 2, dtype=np.float32))
    assert f.shape == (100, 272) and FEATURE_FPS == 50.0
    assert np.all(f == 0.0)


def test_activations_peak_on_the_beats_of_generated_music():
    y, truth = render_preset("steady_120")
    act = beat_activation.activations_for_signal(y, SR)
    assert act.shape[1] == 2 and np.all(act >= 0) and np.all(act.sum(axis=1) <= 1.0 + 1e-5)
    frames = np.round(np.asarray(truth.beat_times_s) * FEATURE_FPS).astype(int)
    frames = frames[frames < len(act) - 3]
    on = np.array([act[f - 2:f + 3].sum(axis=1).max() for f in frames])
    assert np.median(on) > 0.5 and np.median(act.sum(axis=1)) < 0.1


def test_tracker_finds_beats_downbeats_and_metre_on_generated_music():
    y, truth = render_preset("steady_120")
    tb = track_signal(y, SR)
    assert _f(truth.beat_times_s, tb.beat_times_s) >= 0.95
    assert tb.meter == 4
    assert _f(truth.downbeat_times_s, tb.beat_times_s[tb.beat_numbers == 1]) >= 0.9
    assert tb.confidence.beats > 0.8 and tb.confidence.clear_beat


def test_dbn_decodes_a_synthetic_activation_in_3_4():
    fps, period = 50.0, 25                                  # 120 bpm
    act = np.full((1000, 2), 0.01)
    for i, f in enumerate(range(10, 1000, period)):
        act[f, 1 if i % 3 == 0 else 0] = 0.9
    d = decode_bars(act, fps, beats_per_bar=(3, 4))
    assert d.beats_per_bar == 3 and d.log_probs[3] > d.log_probs[4]
    assert np.all(np.abs(np.diff(d.beat_frames) - period) <= 1)
    assert set(d.beat_frames[d.beat_numbers == 1] % (3 * period)) == {10}


def test_state_space_blocks_tile_the_states():
    ss = bar_state_space(4, 60 * 50 / 205, 60 * 50 / 55)
    assert ss.n_states == 4 * int(ss.intervals.sum())
    assert np.all(ss.lasts - ss.firsts + 1 == ss.intervals[None, :])


@pytest.mark.parametrize("kind", ["tone", "pink_noise", "silence", "speech"])
def test_no_clear_beat_on_tone_noise_silence_and_speech(kind):
    n = 12 * SR
    t = np.arange(n) / SR
    y = {"tone": lambda: np.sin(2 * np.pi * 440 * t), "pink_noise": lambda: _pink(n),
         "silence": lambda: np.zeros(n), "speech": lambda: _speech_like(n)}[kind]()
    a = analyze_music_signal(_norm(y) if kind != "silence" else y.astype(np.float32), SR)
    c = a.confidence
    assert c is not None and NO_CLEAR_BEAT in c.doubts
    assert c.beats < 0.55 and c.tempo < 0.55


def test_clear_music_has_high_confidence_and_names_no_beat_doubt():
    y, _ = render_preset("steady_100")
    c = analyze_music_signal(y, SR).confidence
    assert c.beats > 0.8 and c.tempo > 0.6 and c.downbeats > 0.6
    assert NO_CLEAR_BEAT not in c.doubts


def test_confidence_round_trips_through_the_analysis_json():
    y, _ = render_preset("waltz")
    a = analyze_music_signal(y[: SR * 12], SR)
    d = json.loads(json.dumps(a.to_dict()))
    assert set(d["confidence"]) >= {"tempo", "beats", "downbeats", "doubts"}
    assert MusicAnalysis.from_dict(d) == a
    assert BeatConfidence.from_dict(d["confidence"]) == a.confidence


def test_missing_weights_fall_back_on_the_signal_processing_tracker(monkeypatch):
    def broken(name: str = "") -> dict:
        raise beat_activation.ModelUnavailable("weights missing (test)")

    monkeypatch.setattr(beat_activation, "load_weights", broken)
    y, truth = render_preset("steady_120")
    a = analyze_music_signal(y, SR)
    assert a.stem in ("hpss", "demucs") and a.confidence is None
    assert _f(truth.beat_times_s, a.beat_times_s) >= 0.9


def test_features_computed_in_chunks_equal_one_pass_on_a_long_signal():
    from montage_ai.core.analysis.spectral_features import FEATURE_FRAME, FEATURE_HOP, frame_signal

    y = (0.1 * RNG.standard_normal(SR * 50)).astype(np.float32)        # 2501 frames: two chunks
    f = log_filtered_features(y)
    frames = frame_signal(y, FEATURE_FRAME, FEATURE_HOP)
    spec = np.abs(np.fft.rfft(frames * np.hanning(FEATURE_FRAME), axis=1)[:, :FEATURE_FRAME >> 1])
    from montage_ai.core.analysis.spectral_features import log_filterbank

    ref = np.log10(spec @ log_filterbank(FEATURE_FRAME >> 1, SR) + 1.0)
    assert f.shape == (len(frames), 272)
    assert np.allclose(f[:, :136], ref, atol=1e-4)


def _pulses(n: int, times: np.ndarray, heights: np.ndarray) -> np.ndarray:
    x = np.zeros(n)
    x[np.clip(np.round(times).astype(int), 0, n - 1)] += heights
    return np.convolve(x, [0.25, 1.0, 0.25], mode="same")


def test_three_halves_evidence_fires_on_swing_read_at_3_2_and_not_on_straight_beats():
    from montage_ai.core.analysis.beat_tracker import SWING_MARGIN, three_halves_evidence

    n, beat = 1500, 36.0                                  # true beat: 36 frames (83 bpm)
    t = np.arange(0, n, beat)
    # Swing: the beat, then a lighter swung eighth two thirds of the way to the next beat.
    swing = _pulses(n, np.r_[t, t + 2 * beat / 3], np.r_[np.ones(len(t)), 0.6 * np.ones(len(t))])
    bass = _pulses(n, t, np.ones(len(t)))
    assert three_halves_evidence(2 * beat / 3, [swing, bass]) > SWING_MARGIN   # read at 3:2
    assert three_halves_evidence(beat, [swing, bass]) < 0                      # read right
    straight = _pulses(n, np.r_[t, t + beat / 2], np.r_[np.ones(len(t)), 0.5 * np.ones(len(t))])
    assert three_halves_evidence(beat, [straight, bass]) < 0


def test_bar_phase_scores_mark_the_metre_the_accents_repeat_in():
    from montage_ai.core.analysis.beat_tracker import bar_phase_scores

    accents = np.tile([1.0, 0.2, 0.3], 20) + RNG.normal(0, 0.05, 60)   # 3/4, downbeat first
    s3, s4 = bar_phase_scores(3, [accents]), bar_phase_scores(4, [accents])
    assert int(np.argmax(s3)) == 0 and s3.max() - s4.max() > 1.0
    assert len(bar_phase_scores(4, [accents[:6]])) == 0


def test_a_beat_re_read_at_two_thirds_keeps_the_first_tempo_as_the_doubt():
    from montage_ai.core.analysis.bar_dbn import BarDecoding
    from montage_ai.core.analysis.beat_tracker import _with_three_halves_doubt

    frames = np.arange(10, 1400, 38)                              # 78.9 bpm at 50 fps
    dec = BarDecoding(frames, (np.arange(len(frames)) % 4) + 1, 4, {3: 0.0, 4: 1.0}, np.full(len(frames), 38.0))
    conf = BeatConfidence(1.0, 1.0, 1.0)
    out = _with_three_halves_doubt(conf, dec, 50.0, 120.0)
    assert "tempo could be 79 or 120 bpm" in out.doubts and out.tempo < conf.tempo
    assert out.alternatives_bpm == (120.0,)
    assert _with_three_halves_doubt(conf, dec, 50.0, 79.0) == conf   # not re-read: unchanged
    halved = _with_three_halves_doubt(conf, dec, 50.0, 157.9)       # re-read at half tempo
    assert "tempo could be 79 or 158 bpm" in halved.doubts and halved.alternatives_bpm == (157.9,)
    named = BeatConfidence(1.0, 1.0, 1.0, ("tempo could be 79 or 158 bpm",), (157.8,))
    again = _with_three_halves_doubt(named, dec, 50.0, 157.9)       # already named: not twice
    assert again.doubts == named.doubts and again.alternatives_bpm == (157.8,)
    doubled = _with_three_halves_doubt(conf, dec, 50.0, 39.5)        # re-read at double time
    assert "tempo could be 40 or 79 bpm" in doubled.doubts and doubled.alternatives_bpm == (39.5,)


def test_beats_on_the_swung_eighth_move_a_third_of_a_beat_later_and_true_swing_stays():
    from montage_ai.core.analysis.bar_dbn import BarDecoding
    from montage_ai.core.analysis.beat_tracker import _swing_phase

    n, beat = 1500, 36.0                                  # true beat: 36 frames (83 bpm)
    t = np.arange(30, n - 40, beat)
    # A shuffle: the beat, and the swung eighth two thirds of the way to the next one, as loud.
    onsets = _pulses(n, np.r_[t, t + 2 * beat / 3], np.ones(2 * len(t)))
    act = np.stack([0.5 * onsets, np.zeros(n)], axis=1)
    wrong = np.round(t[:-1] + 2 * beat / 3).astype(int)   # a grid on the swung eighths
    dec = BarDecoding(wrong, (np.arange(len(wrong)) % 4) + 1, 4, {4: 0.0}, np.full(len(wrong), beat))
    moved = _swing_phase(act, dec, onsets)
    truth = np.round(t[1:]).astype(int)
    assert len(moved.beat_frames) >= len(wrong) - 1
    assert np.all(np.abs(moved.beat_frames - truth[:len(moved.beat_frames)]) <= 1)
    right = BarDecoding(np.round(t).astype(int), (np.arange(len(t)) % 4) + 1, 4, {4: 0.0}, np.full(len(t), beat))
    assert _swing_phase(act, right, onsets) is right      # on the beat already: unchanged
    straight = _pulses(n, np.r_[t, t + beat / 2], np.ones(2 * len(t)))
    act_s = np.stack([0.5 * straight, np.zeros(n)], axis=1)
    assert _swing_phase(act_s, right, straight) is right  # straight eighths: unchanged


def test_a_slower_beat_the_dbn_explains_nearly_as_well_is_taken_unless_the_onsets_object():
    from montage_ai.core.analysis.bar_dbn import BarDecoding
    from montage_ai.core.analysis.beat_tracker import THREE_HALVES_LP_RATIO, _decode_three_halves

    n, beat = 1500, 36.0                                  # the true beat: 36 frames (83 bpm)
    t = np.arange(20, n - 20, beat)
    down = (np.arange(len(t)) % 4) == 0                  # 4/4, the network's downbeats on 1
    act = np.stack([np.clip(_pulses(n, t[~down], np.full((~down).sum(), 0.7)), 0, 0.7),
                    np.clip(_pulses(n, t[down], np.full(down.sum(), 0.7)), 0, 0.7)], axis=1)
    slow_bpm = 60.0 * 50.0 / beat
    lp_slow = max(decode_bars(act, 50.0, beats_per_bar=(2, 3, 4), min_bpm=slow_bpm / 1.15,
                              max_bpm=slow_bpm * 1.15).log_probs.values())
    grid = np.arange(20, n - 20, 24)                      # a first reading at 3:2 (125 bpm)

    def first(lp: float) -> BarDecoding:
        return BarDecoding(grid, (np.arange(len(grid)) % 4) + 1, 4, {4: lp}, np.full(len(grid), 24.0))

    neutral = _pulses(n, np.arange(0, n, 12.0), np.ones(len(np.arange(0, n, 12.0))))  # repeats at 24 and 36 alike
    near = _decode_three_halves(act, first(lp_slow / (THREE_HALVES_LP_RATIO + 0.1)), 50.0, (neutral,), (2, 3, 4))
    assert float(np.median(np.diff(near.beat_frames))) == pytest.approx(beat, abs=1.5)
    far = first(lp_slow / (THREE_HALVES_LP_RATIO - 0.2))
    assert _decode_three_halves(act, far, 50.0, (neutral,), (2, 3, 4)) is far
    straight = _pulses(n, grid.astype(float), np.ones(len(grid)))   # onsets repeat at the first beat only
    vetoed = first(lp_slow / (THREE_HALVES_LP_RATIO + 0.1))
    assert _decode_three_halves(act, vetoed, 50.0, (straight,), (2, 3, 4)) is vetoed


def test_half_time_evidence_fires_on_a_grid_of_eighths_and_not_on_beats():
    from montage_ai.core.analysis.beat_tracker import HALF_MARGIN, HALF_REPEAT, half_time_evidence

    n, beat = 1500, 40.0                                  # the true beat: 40 frames (75 bpm)
    t = np.arange(0, n, beat)
    # Swung ride (beat + the eighth two thirds on), and a bass that walks with accents varying
    # beat to beat (no repetition at the grid of straight eighths, 20 frames).
    ride = _pulses(n, np.r_[t, t + 2 * beat / 3], np.r_[np.ones(len(t)), 0.7 * np.ones(len(t))])
    bass = _pulses(n, t, 0.5 + 0.5 * (np.arange(len(t)) % 2))
    repeat, gain = half_time_evidence(beat / 2, [ride, bass])       # a grid on the eighths
    assert repeat < HALF_REPEAT and gain > HALF_MARGIN
    repeat, gain = half_time_evidence(beat, [ride, bass])           # the beat itself
    assert repeat >= HALF_REPEAT


def test_a_grid_whose_off_beats_the_network_fires_on_as_strongly_is_re_read_at_double_time():
    from montage_ai.core.analysis.bar_dbn import BarDecoding
    from montage_ai.core.analysis.beat_tracker import DOUBLE_MID_LEVEL, _decode_double

    n, beat = 1500, 3000.0 / 220.0                        # the true beat: 220 bpm, above the DBN's first range
    t = np.arange(20, n - 20, beat)
    down = (np.arange(len(t)) % 4) == 0
    act = np.stack([_pulses(n, t[~down], np.full((~down).sum(), 0.6)),
                    _pulses(n, t[down], np.full(down.sum(), 0.6))], axis=1)
    first = decode_bars(act, 50.0, beats_per_bar=(2, 3, 4))     # 55-205 bpm: it can only take every other beat
    assert 60.0 * 50.0 / float(np.median(np.diff(first.beat_frames))) == pytest.approx(110.0, rel=0.05)
    fast = _decode_double(act, first, 50.0, (2, 3, 4))
    assert 60.0 * 50.0 / float(np.median(np.diff(fast.beat_frames))) == pytest.approx(220.0, rel=0.03)
    assert _f(t / 50.0, fast.beat_frames / 50.0) > 0.95
    # Real off-beats (weaker eighths between the beats) leave the grid alone.
    slow = np.arange(20, n - 20, 2 * beat)
    weak = np.stack([_pulses(n, np.r_[slow, slow + beat], np.r_[np.full(len(slow), 0.6),
                                                                np.full(len(slow), 0.6 * DOUBLE_MID_LEVEL * 0.5)]),
                     np.zeros(n)], axis=1)
    grid = BarDecoding(np.round(slow).astype(int), (np.arange(len(slow)) % 4) + 1, 4, {4: 1.0},
                       np.full(len(slow), 2 * beat))
    assert _decode_double(weak, grid, 50.0, (2, 3, 4)) is grid
