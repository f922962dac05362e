"""The click track that auditions a beat grid: its clicks start on the very samples of the
grid's beats (read back from the WAV with soundfile, a reader we did not write), downbeats
are accented, and the mix is the song plus the clicks."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.render.click_track import RATE, click_sound, make_click_track
from montage_ai.core.workflows import MusicJob, run_click_track, run_music_analysis


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    y, truth = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 2, 0.6),)))
    return str(write_audio(tmp_path_factory.mktemp("click") / "song.wav", y, truth.sample_rate))


def _onsets(y: np.ndarray, silence: int = 200) -> list[int]:
    """Where a sound starts after at least ``silence`` samples of digital silence."""
    nz = np.flatnonzero(y != 0)
    if not len(nz):
        return []
    starts = [int(nz[0])] + [int(b) for a, b in zip(nz, nz[1:]) if b - a > silence]
    return starts


def test_clicks_start_on_the_grids_samples_with_accented_downbeats(tmp_path, song):
    beats = [0.25 + 0.5 * k for k in range(16)] + [7.9]
    downs = [0.25, 2.25, 4.25, 6.25, 7.0]  # 7.0 is not a beat: it clicks too, accented
    track = make_click_track(song, beats, downs, tmp_path / "clicks.wav", duration_s=8.0, with_song=False)
    y, rate = sf.read(track.path, dtype="int16")
    assert rate == RATE and len(y) == 8 * RATE
    times = sorted(beats + [7.0])
    want = [round(t * RATE) for t in times]
    assert _onsets(y) == want == list(track.click_samples)
    assert track.accents == tuple(t in downs for t in times)
    peak = {s: int(np.abs(y[s:s + 50]).max()) for s in want}
    first = {s: int(y[s]) for s in want}
    accent_hz = np.fft.rfft(y[want[0]:want[0] + 1024].astype(float))
    plain_hz = np.fft.rfft(y[want[1]:want[1] + 1024].astype(float))
    assert all(peak[s] > peak[want[1]] * 1.5 for s, a in zip(want, track.accents) if a)
    assert all(first[s] != 0 for s in want)  # the click's loudest sample is its first
    assert np.argmax(np.abs(accent_hz)) > np.argmax(np.abs(plain_hz))  # the accent is higher


def test_a_part_of_the_song_mixed_with_clicks(tmp_path, song):
    music = run_music_analysis(song, MusicJob())
    original, sr = sf.read(song, dtype="float64", always_2d=True)
    # At the song's own rate, so the mix compares with it sample by sample.
    track = run_click_track(music, tmp_path / "mix.wav", start_s=1.0, end_s=5.0, rate=sr)
    y, rate = sf.read(track.path, dtype="float64")
    part = original.mean(axis=1)[sr: 5 * sr]
    assert rate == sr and len(y) == 4 * sr and track.start_s == 1.0 and track.with_song
    clicks = np.zeros(len(y))
    for at, accent in zip(track.click_samples, track.accents):
        sound = click_sound(sr, accent)[: len(y) - at]
        clicks[at:at + len(sound)] += sound
    expected = track.song_gain * part + track.click_gain * clicks
    assert track.song_gain > 0.3 and np.max(np.abs(y - expected)) < 2 / 32767
    inside = [t for t in music.beat_times_s if 1.0 <= t < 5.0]
    assert list(track.click_samples) == [round((t - 1.0) * sr) for t in inside] and len(inside) >= 6


def test_bad_song_and_cancel_are_said_plainly(tmp_path, song):
    bad = tmp_path / "not a song.wav"
    bad.write_bytes(b"RIFF nothing here")
    with pytest.raises(MediaError, match="not a song.wav"):
        make_click_track(str(bad), [0.5], [0.5], tmp_path / "x.wav", duration_s=2.0)
    with pytest.raises(MediaError, match="no music"):
        make_click_track(song, [0.5], [0.5], tmp_path / "x.wav", duration_s=2.0, start_s=3.0)
    with pytest.raises(Cancelled):
        make_click_track(song, [0.5], [0.5], tmp_path / "x.wav", duration_s=8.0, cancel=lambda: True)
    assert not (tmp_path / "x.wav").exists()


def test_a_long_song_is_clicked_ten_minutes_at_a_time_and_the_decode_has_a_deadline(tmp_path, song, monkeypatch):
    from montage_ai.core.render import click_track

    monkeypatch.setattr(click_track, "MAX_SECONDS", 2.0)  # as a 30-minute song meets the 10-minute limit
    track = make_click_track(song, [0.5, 1.0, 1.5, 2.5, 3.5], [0.5], tmp_path / "part.wav", duration_s=8.0, start_s=1.0)
    assert track.duration_s == 2.0 and len(sf.read(track.path)[0]) == 2 * RATE
    assert track.click_samples == (0, RATE // 2, 3 * RATE // 2) and not any(track.accents)  # 0.5 s is before it
    with pytest.raises(MediaError, match="took over 0 s"):
        make_click_track(song, [0.5], [0.5], tmp_path / "late.wav", duration_s=8.0, deadline_s=0.0)
    assert not (tmp_path / "late.wav").exists()
