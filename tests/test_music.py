"""Music analysis: beats, tempo, downbeats, sections, decoding, errors, records.

Every test runs on generated music (montage_ai.core.samples.music) whose beats are known.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from fractions import Fraction
from functools import lru_cache

import mir_eval
import numpy as np
import pytest

from montage_ai.core.analysis.music import (
    MUSIC_ANALYSIS_VERSION,
    MusicAnalysis,
    analyze_music,
    analyze_music_signal,
    beat_frames,
    load_audio,
)
from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.samples.music import (
    PRESETS,
    MusicSpec,
    SectionSpec,
    render,
    write_audio,
    write_music_video,
)

SR = 22050
TOL_S = 0.07


def _short(name: str, bars: tuple[int, ...] = (3, 3, 3)) -> MusicSpec:
    """A preset cut to about 20 s: sections A B A of the given bar counts."""
    spec = PRESETS[name]
    secs = tuple(SectionSpec(lbl, n, e, harmony=h) for (lbl, e, h), n in
                 zip((("A", 0.5, 0), ("B", 0.95, 1), ("A", 0.5, 0)), bars))
    if name in ("tempo_change", "quiet_intro"):
        return spec
    return replace(spec, sections=secs)


@lru_cache(maxsize=None)
def _case(name: str, bars: tuple[int, ...] = (3, 3, 3)):
    y, truth = render(_short(name, bars))
    return y, truth, analyze_music_signal(y, SR)


def _f_measure(ref, est) -> float:
    return mir_eval.beat.f_measure(mir_eval.beat.trim_beats(np.asarray(ref, float)),
                                   mir_eval.beat.trim_beats(np.asarray(est, float)))


def _hits(ref, est, tol=TOL_S) -> float:
    """Share of reference times with an estimate within ``tol``."""
    est = np.asarray(est, float)
    if len(est) == 0:
        return 0.0
    return float(np.mean([np.min(np.abs(est - r)) <= tol for r in ref]))


# --------------------------------------------------------------------------- beats and tempo


@pytest.mark.parametrize("name", ["steady_80", "steady_120", "steady_160"])
def test_beats_fall_within_70ms_on_steady_4_4(name):
    _, truth, a = _case(name)
    assert _f_measure(truth.beat_times_s, a.beat_times_s) >= 0.95


_HALF_TEMPO = pytest.mark.xfail(reason="the neural tracker (BeatNet model 1 + DBN) reads this generated "
                                "track at half tempo; known, see bench/beats_real.py", strict=False)


@pytest.mark.parametrize("name", [pytest.param("fast_176", marks=_HALF_TEMPO),
                                  pytest.param("halftime", marks=_HALF_TEMPO), "steady_80"])
def test_tempo_is_not_an_octave_off(name):
    _, truth, a = _case(name)
    assert a.tempo_bpm == pytest.approx(truth.tempo_bpm, rel=0.04)


def test_beats_are_found_through_a_quiet_intro():
    _, truth, a = _case("quiet_intro")
    intro = [t for t in truth.beat_times_s if t < truth.drums_start_s]
    assert len(intro) >= 8
    assert _hits(intro, a.beat_times_s) >= 0.9


def test_beats_follow_a_tempo_change():
    _, truth, a = _case("tempo_change")
    after = [t for t in truth.beat_times_s if t > truth.section_starts_s[1] + 2.0]
    assert _f_measure(truth.beat_times_s, a.beat_times_s) >= 0.95
    assert _hits(after, a.beat_times_s) >= 0.95


def test_swung_eighths_do_not_move_the_beat():
    _, truth, a = _case("swing")
    assert _f_measure(truth.beat_times_s, a.beat_times_s) >= 0.95


# --------------------------------------------------------------------------- downbeats


def test_downbeats_on_the_bar_line_in_4_4():
    _, truth, a = _case("steady_120")
    assert a.meter == 4
    assert _hits(truth.downbeat_times_s[1:], a.downbeat_times_s) >= 0.9
    assert _hits(a.downbeat_times_s, truth.downbeat_times_s) >= 0.9


def test_waltz_is_read_as_3_4_with_the_right_downbeats():
    # On this 12 s cut the DBN's 3/4 and 4/4 are almost equally likely; the accents decide.
    _, truth, a = _case("waltz")
    assert a.meter == 3
    assert _hits(truth.downbeat_times_s[1:], a.downbeat_times_s) >= 0.9
    assert _hits(a.downbeat_times_s, truth.downbeat_times_s) >= 0.9


# --------------------------------------------------------------------------- energy and sections


def test_sections_start_near_the_known_boundaries():
    _, truth, a = _case("steady_120", (4, 4, 4))
    starts = [s.start_s for s in a.sections]
    beat_s = 60.0 / truth.tempo_bpm
    for b in truth.section_boundaries_s:
        assert min(abs(s - b) for s in starts) <= beat_s, (b, starts)
    assert len(a.sections) <= len(truth.section_starts_s) + 1


def test_sections_tile_the_track_and_repeat_their_label():
    _, truth, a = _case("steady_120", (4, 4, 4))
    assert a.sections[0].start_s == 0.0 and a.sections[-1].end_s == pytest.approx(a.duration_s)
    for s, t in zip(a.sections, a.sections[1:]):
        assert s.end_s == t.start_s
    labels = [s.label for s in a.sections]
    assert labels[0] == labels[-1] != labels[1]


def test_loud_section_has_more_energy_than_quiet_ones():
    _, _, a = _case("steady_120", (4, 4, 4))
    energies = [s.energy for s in a.sections]
    assert max(energies) == energies[1]
    assert 0.0 <= min(a.beat_energy) and max(a.beat_energy) == pytest.approx(1.0)
    assert len(a.beat_energy) == len(a.beat_times_s)


# --------------------------------------------------------------------------- decoding files


@pytest.fixture(scope="module")
def clip():
    y, truth = render(_short("steady_120"))
    return y, truth


@pytest.mark.parametrize("ext", [".mp3", ".flac"])
def test_analyses_mp3_and_flac_files(tmp_path, clip, ext):
    y, truth = clip
    path = write_audio(tmp_path / f"music{ext}", y, SR)
    a = analyze_music(path)
    assert a.path == str(path) and a.stem in ("mix", "hpss")
    assert a.duration_s == pytest.approx(truth.duration_s, abs=0.1)
    assert _f_measure(truth.beat_times_s, a.beat_times_s) >= 0.95


def test_analyses_the_audio_of_a_video_file(tmp_path, clip):
    y, truth = clip
    path = write_music_video(tmp_path / "clip.mp4", y, SR)
    a = analyze_music(path)
    assert _f_measure(truth.beat_times_s, a.beat_times_s) >= 0.95


def test_load_audio_resamples_to_mono_float32(tmp_path, clip):
    y, truth = clip
    path = write_audio(tmp_path / "music.wav", y, SR)
    out = load_audio(path, sr=16000)
    assert out.dtype == np.float32 and out.ndim == 1
    assert len(out) == pytest.approx(truth.duration_s * 16000, abs=200)


def test_file_without_audio_raises_media_error(tmp_path):
    path = tmp_path / "silent_video.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=24:duration=1",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    with pytest.raises(MediaError, match="no audio") as info:
        load_audio(path)
    assert info.value.path == str(path)


def test_corrupt_file_raises_media_error_naming_it(tmp_path):
    path = tmp_path / "broken.mp3"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(MediaError) as info:
        analyze_music(path)
    assert "broken.mp3" in str(info.value)


# --------------------------------------------------------------------------- progress and cancel


def test_cancel_during_analysis_raises_cancelled(clip):
    y, _ = clip
    seen: list[float] = []
    with pytest.raises(Cancelled):
        analyze_music_signal(y, SR, progress=seen.append, cancel=lambda: bool(seen) and seen[-1] >= 0.3)
    assert seen and seen[-1] < 1.0


def test_cancel_before_decoding_raises_cancelled(tmp_path, clip):
    y, _ = clip
    path = write_audio(tmp_path / "music.wav", y, SR)
    with pytest.raises(Cancelled):
        analyze_music(path, cancel=lambda: True)


def test_progress_rises_from_0_to_1(tmp_path, clip):
    y, _ = clip
    path = write_audio(tmp_path / "music.wav", y, SR)
    seen: list[float] = []
    analyze_music(path, progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(b >= a for a, b in zip(seen, seen[1:]))


# --------------------------------------------------------------------------- records and frames


def test_to_dict_from_dict_round_trips_through_json():
    _, _, a = _case("steady_120")
    d = json.loads(json.dumps(a.to_dict()))
    assert d["version"] == MUSIC_ANALYSIS_VERSION
    assert MusicAnalysis.from_dict(d) == a


def test_beat_frames_at_23_976_are_whole_increasing_frames():
    _, _, a = _case("steady_120")
    rate = Fraction(24000, 1001)
    frames = beat_frames(a, rate)
    assert all(type(f) is int for f in frames)
    assert all(b > a_ for a_, b in zip(frames, frames[1:]))
    assert len(frames) == len(a.beat_times_s)
    for f, t in zip(frames, a.beat_times_s):
        assert abs(float(Fraction(f) / rate) - t) <= 0.5 / float(rate) + 1e-9
    down = beat_frames(a, rate, which="downbeats")
    assert set(down) <= set(frames)


def test_beat_frames_refuses_a_float_rate():
    _, _, a = _case("steady_120")
    with pytest.raises(TypeError):
        beat_frames(a, 23.976)
