"""The bar phase (which beat is 1): the network's downbeat output and the kick tell 1 and 3
from 2 and 4; the bass note, which changes at the bar line, tells 1 from 3."""

from __future__ import annotations

import numpy as np

from montage_ai.core.analysis.beat_tracker import BeatConfidence, TrackedBeats
from montage_ai.core.analysis.music_meter import bar_phase
from montage_ai.core.analysis.music_signal import HOP, bass_chroma, spectra
from montage_ai.core.samples.music import MusicSpec, SectionSpec, render

SR = 22050


def _case():
    """A rock groove (kick on 1 and 3 alike) with a bass line that plays the chord's root on 1
    and 3 and its fifth on 2 and 4, one chord a bar; a fake network whose downbeat output
    prefers beat 3, as it does on real songs (country_00085, metal_00064 ...)."""
    import librosa

    spec = MusicSpec(tempo_bpm=110.0, pattern="rock", pad=False, jitter_ms=0.0,
                     sections=(SectionSpec("A", 8, 0.8, harmony=0),))
    y, truth = render(spec)
    times = np.asarray(truth.beat_times_s)
    n = len(times) - len(times) % 4
    times = times[:n]
    phase = np.arange(n) % 4                      # truth: index 0 is a downbeat
    down = np.where(phase == 2, 1.0, np.where(phase == 0, 0.8, 0.1))
    kick = np.where(phase % 2 == 0, 1.0, 0.3)
    numbers = (np.arange(n) - 2) % 4 + 1          # the DBN's bars start on beat 3
    tracked = TrackedBeats(times, numbers, 4, BeatConfidence(0.9, 0.9, 0.8), down, kick)
    S = spectra(y, SR, HOP, hpss=False)[0]
    beats = librosa.time_to_frames(times, sr=SR, hop_length=HOP)
    flat = np.ones((12, S.shape[1]))              # a chord pad that never changes
    return tracked, numbers, flat, beats, S


def test_bass_note_changes_move_the_downbeat_from_beat_3_to_beat_1():
    tracked, numbers, flat, beats, S = _case()
    without, _ = bar_phase(tracked, numbers, 4, flat, beats, S.shape[1])
    assert without[0] % 4 == 2                    # the network and the kick alone: beat 3
    ones, conf = bar_phase(tracked, numbers, 4, flat, beats, S.shape[1], bass_chroma(S, SR))
    assert ones[0] == 0 and np.all(np.diff(ones) == 4)
    assert conf.downbeats < tracked.confidence.downbeats   # it moved the DBN's downbeats


def test_a_bass_that_holds_one_note_leaves_the_networks_downbeat():
    tracked, numbers, flat, beats, S = _case()
    drone = np.zeros_like(S)
    drone[6] = 1.0                                # one bass bin, steady: no note changes
    ones, conf = bar_phase(tracked, numbers, 4, flat, beats, S.shape[1], bass_chroma(drone, SR))
    assert ones[0] % 4 == 2 and conf == tracked.confidence
