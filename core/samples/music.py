"""Synthesized music with known ground truth: beats, downbeats, sections.

Tests, benchmarks and ``make demo`` need music whose beats are known exactly. This module
renders simple drum kits (kick, snare, hi-hat) with an optional bass line, chord pad and a
quiet piano-like intro, following a tempo map that may change, in 3/4 or 4/4, swung or
straight, with added noise, and returns the signal with the ground truth it was built from.

>>> from montage_ai.core.samples.music import PRESETS, render
>>> y, truth = render(PRESETS["steady_120"])
>>> truth.meter, round(truth.beat_times_s[1] - truth.beat_times_s[0], 3)
(4, 0.5)

Everything is deterministic given the spec (its ``seed`` included).
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np
import soundfile as sf

from montage_ai.core.base.errors import MediaError
from montage_ai.core.media.probe import require_tool

__all__ = [
    "SectionSpec",
    "MusicSpec",
    "GroundTruth",
    "PRESETS",
    "EASY_PRESETS",
    "HARD_PRESETS",
    "render",
    "render_preset",
    "write_audio",
    "write_music_video",
]

# Drum patterns: (beat in bar, subdivision) with subdivision 0 on the beat, 1 on the
# eighth-note offbeat (moved later by swing). Velocities are relative.
_PATTERNS: dict[str, dict[str, Any]] = {
    # kick 1 & 3, snare 2 & 4, hats on eighths
    "rock": {"meter": 4, "kick": [(0, 0, 1.0), (2, 0, 0.9)], "snare": [(1, 0, 0.9), (3, 0, 0.9)],
             "hat": "eighths"},
    # kick on every beat, hats on the offbeats
    "four": {"meter": 4, "kick": [(b, 0, 1.0 if b == 0 else 0.85) for b in range(4)],
             "snare": [(1, 0, 0.6), (3, 0, 0.6)], "hat": "offbeats"},
    # kick pushes onto offbeats, snare 2 & 4
    "syncopated": {"meter": 4, "kick": [(0, 0, 1.0), (1, 1, 0.8), (2, 1, 0.75), (3, 1, 0.7)],
                   "snare": [(1, 0, 0.9), (3, 0, 0.9)], "hat": "eighths"},
    # half-time feel: kick on 1, snare on 3 only, hats and bass mark every beat
    "halftime": {"meter": 4, "kick": [(0, 0, 1.0), (1, 1, 0.5)], "snare": [(2, 0, 1.0)], "hat": "quarters"},
    # fast punk: kick 1 & 3, snare 2 & 4, hats on quarters
    "punk": {"meter": 4, "kick": [(0, 0, 1.0), (2, 0, 0.9)], "snare": [(1, 0, 0.9), (3, 0, 0.9)],
             "hat": "quarters"},
    # oom-pah-pah
    "waltz": {"meter": 3, "kick": [(0, 0, 1.0)], "snare": [(1, 0, 0.45), (2, 0, 0.45)], "hat": "quarters"},
}

# Chord progressions as semitone roots over C with a quality; one chord per bar.
_PROGRESSIONS: tuple[tuple[tuple[int, str], ...], ...] = (
    ((0, "maj"), (9, "min"), (5, "maj"), (7, "maj")),      # C Am F G
    ((3, "maj"), (10, "maj"), (0, "min"), (8, "maj")),     # Eb Bb Cm Ab
    ((2, "min"), (7, "maj"), (4, "min"), (9, "min")),      # Dm G Em Am
)
_QUALITY = {"maj": (0, 4, 7), "min": (0, 3, 7)}


@dataclass(frozen=True)
class SectionSpec:
    """One section of a rendered track.

    ``energy`` (0..1) scales the level and the density of the arrangement; ``drums`` False
    makes a drum-less part (an intro or a breakdown); ``harmony`` picks a chord progression
    so that sections differ in harmony as well as in energy.
    """

    label: str
    bars: int
    energy: float = 0.7
    drums: bool = True
    harmony: int = 0


@dataclass(frozen=True)
class MusicSpec:
    """Everything that defines a rendered track.

    ``tempo_changes`` holds ``(bar, bpm, ramp_bars)``: from bar ``bar`` (counted from 0 over the
    whole track) the tempo moves to ``bpm`` linearly over ``ramp_bars`` bars (0: at once).
    ``swing`` moves eighth-note offbeats from half-way (0) to the triplet position (1).
    ``intro_bars`` prepends a quiet, drum-less section (pad and soft plucks on the beats).
    ``snr_db`` adds pink noise at that signal-to-noise ratio (``None``: no noise).
    """

    tempo_bpm: float = 120.0
    pattern: str = "rock"
    sections: tuple[SectionSpec, ...] = (SectionSpec("A", 4, 0.55, harmony=0), SectionSpec("B", 4, 0.95, harmony=1),
                                         SectionSpec("A", 4, 0.55, harmony=0))
    meter: int | None = None
    tempo_changes: tuple[tuple[int, float, int], ...] = ()
    swing: float = 0.0
    intro_bars: int = 0
    snr_db: float | None = None
    bass: bool = True
    pad: bool = True
    jitter_ms: float = 2.0
    lead_in_s: float = 0.3
    tail_s: float = 1.0
    sr: int = 22050
    seed: int = 0


@dataclass(frozen=True)
class GroundTruth:
    """What a rendered track contains, in seconds from its first sample."""

    beat_times_s: tuple[float, ...]
    downbeat_times_s: tuple[float, ...]
    section_starts_s: tuple[float, ...]
    section_labels: tuple[str, ...]
    meter: int
    tempo_bpm: float
    duration_s: float
    sample_rate: int
    drums_start_s: float = 0.0
    local_tempo_bpm: tuple[float, ...] = field(default=(), repr=False)

    @property
    def section_boundaries_s(self) -> tuple[float, ...]:
        """Starts of every section but the first: where the music changes."""
        return self.section_starts_s[1:]

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _tempo_per_beat(spec: MusicSpec, meter: int, n_bars: int) -> np.ndarray:
    """Tempo (bpm) of every beat of the track, following ``spec.tempo_changes``."""
    n_beats = n_bars * meter
    bpm = np.full(n_beats, float(spec.tempo_bpm))
    current = float(spec.tempo_bpm)
    for bar, target, ramp_bars in sorted(spec.tempo_changes):
        start = bar * meter
        if start >= n_beats:
            break
        ramp = max(0, ramp_bars * meter)
        for i in range(start, n_beats):
            k = i - start
            bpm[i] = target if ramp == 0 or k >= ramp else current + (target - current) * (k + 1) / ramp
        current = target
    return bpm


def _env(n: int, sr: int, decay_s: float, attack_s: float = 0.001) -> np.ndarray:
    t = np.arange(n) / sr
    env = np.exp(-t / decay_s)
    a = max(1, int(attack_s * sr))
    env[:a] *= np.linspace(0.0, 1.0, a)
    return env


def _kick(sr: int) -> np.ndarray:
    n = int(0.35 * sr)
    t = np.arange(n) / sr
    freq = 45.0 + 95.0 * np.exp(-t / 0.04)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    body = np.sin(phase) * _env(n, sr, 0.12)
    click = np.zeros(n)
    c = int(0.004 * sr)
    click[:c] = np.hanning(2 * c)[c:] * 0.5
    return (body + click).astype(np.float64)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.25 * sr)
    t = np.arange(n) / sr
    noise = rng.standard_normal(n)
    noise = np.diff(noise, prepend=0.0) * 0.6 + noise * 0.4     # brighter than white
    tone = np.sin(2 * np.pi * 190.0 * t) * _env(n, sr, 0.05)
    return 0.55 * noise * _env(n, sr, 0.07) + 0.6 * tone


def _hat(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.08 * sr)
    noise = rng.standard_normal(n)
    hp = np.diff(np.diff(noise, prepend=0.0), prepend=0.0) * 0.35
    return hp * _env(n, sr, 0.018)


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def _tone(freq: float, dur_s: float, sr: int, harmonics: int, decay_s: float, attack_s: float) -> np.ndarray:
    n = max(1, int(dur_s * sr))
    t = np.arange(n) / sr
    sig = np.zeros(n)
    for h in range(1, harmonics + 1):
        if freq * h < sr / 2 - 500:
            sig += np.sin(2 * np.pi * freq * h * t) / h
    env = _env(n, sr, decay_s, attack_s)
    rel = min(n, int(0.03 * sr))
    env[n - rel:] *= np.linspace(1.0, 0.0, rel)
    return sig * env


def _add(out: np.ndarray, x: np.ndarray, at_s: float, sr: int, gain: float) -> None:
    i = int(round(at_s * sr))
    if i >= len(out) or i + len(x) <= 0:
        return
    if i < 0:
        x, i = x[-i:], 0
    j = min(len(out), i + len(x))
    out[i:j] += gain * x[: j - i]


def _pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    spec /= np.sqrt(f)
    x = np.fft.irfft(spec, n)
    return x / (np.std(x) + 1e-12)


def render(spec: MusicSpec) -> tuple[np.ndarray, GroundTruth]:
    """Render ``spec`` to a mono float32 signal at ``spec.sr`` and its ground truth.

    Parameters
    ----------
    spec : MusicSpec
        Tempo map, metre, pattern, sections, swing, intro, noise and seed.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]
        Peak-normalised to 0.9.
    truth : GroundTruth
        Beat, downbeat and section times in seconds (the grid, before humanising jitter).

    Examples
    --------
    >>> y, truth = render(MusicSpec(tempo_bpm=100, meter=3, pattern="waltz"))
    >>> truth.meter
    3
    """
    if spec.pattern not in _PATTERNS:
        raise ValueError(f"unknown pattern {spec.pattern!r}; choose one of {sorted(_PATTERNS)}")
    pat = _PATTERNS[spec.pattern]
    meter = int(spec.meter or pat["meter"])
    if meter not in (3, 4):
        raise ValueError(f"meter must be 3 or 4, not {meter}")
    sr = int(spec.sr)
    rng = np.random.default_rng(spec.seed)

    sections = list(spec.sections)
    if spec.intro_bars > 0:
        sections.insert(0, SectionSpec("intro", spec.intro_bars, energy=0.2, drums=False, harmony=sections[0].harmony
                                       if sections else 0))
    n_bars = sum(s.bars for s in sections)
    bpm = _tempo_per_beat(spec, meter, n_bars)
    beat_dur = 60.0 / bpm
    beats = spec.lead_in_s + np.concatenate([[0.0], np.cumsum(beat_dur)])  # n_beats + 1 (end of last bar)
    duration_s = float(beats[-1] + spec.tail_s)
    out = np.zeros(int(math.ceil(duration_s * sr)) + 1)

    kick, snare = _kick(sr), _snare(sr, rng)
    hats = [_hat(sr, rng) for _ in range(4)]
    jit = spec.jitter_ms / 1000.0

    def when(beat_index: int, sub: int) -> float:
        t0 = beats[beat_index]
        if sub == 0:
            return float(t0)
        frac = 0.5 + spec.swing / 6.0
        return float(t0 + frac * beat_dur[beat_index])

    section_starts: list[float] = []
    labels: list[str] = []
    drums_start: float | None = None
    bar = 0
    for sec in sections:
        section_starts.append(float(beats[bar * meter]))
        labels.append(sec.label)
        level = 0.35 + 0.65 * float(np.clip(sec.energy, 0.0, 1.0))
        prog = _PROGRESSIONS[sec.harmony % len(_PROGRESSIONS)]
        for b in range(bar, bar + sec.bars):
            b0 = b * meter
            bar_t = float(beats[b0])
            bar_len = float(beats[b0 + meter] - bar_t)
            root, quality = prog[b % len(prog)]
            chord = [48 + root + iv for iv in _QUALITY[quality]]
            if spec.pad:
                bright = 2 + int(3 * sec.energy)
                for note in chord:
                    _add(out, _tone(_midi_hz(note + 12), bar_len, sr, bright, 1.5, 0.12), bar_t, sr,
                         0.05 * level)
            if spec.bass and sec.drums:
                for k in range(meter):
                    note = 36 + root + (7 if (k % 2 == 1 and meter == 4) else 0)
                    dur = float(beat_dur[b0 + k]) * 0.9
                    _add(out, _tone(_midi_hz(note), dur, sr, 4, 0.25, 0.006), float(beats[b0 + k]), sr,
                         0.2 * level * (1.0 if k == 0 else 0.7))
            if not sec.drums:
                # quiet piano-like plucks on each beat, louder on the first of the bar
                for k in range(meter):
                    note = chord[0] + 12 + (0 if k == 0 else 7)
                    _add(out, _tone(_midi_hz(note), float(beat_dur[b0 + k]) * 0.95, sr, 5, 0.2, 0.003),
                         float(beats[b0 + k]), sr, 0.07 * (1.0 if k == 0 else 0.7))
                continue
            if drums_start is None:
                drums_start = bar_t
            for beat_in_bar, sub, vel in pat["kick"]:
                _add(out, kick, when(b0 + beat_in_bar, sub) + rng.normal(0, jit), sr, 0.8 * vel * level)
            for beat_in_bar, sub, vel in pat["snare"]:
                _add(out, snare, when(b0 + beat_in_bar, sub) + rng.normal(0, jit), sr, 0.6 * vel * level)
            hat_mode = pat["hat"]
            for k in range(meter):
                subs = {"eighths": (0, 1), "offbeats": (1,), "quarters": (0,)}[hat_mode]
                if hat_mode == "quarters" and sec.energy > 0.8:
                    subs = (0, 1)  # busier in loud sections
                for sub in subs:
                    vel = 0.5 if sub else 0.7
                    _add(out, hats[rng.integers(4)], when(b0 + k, sub) + rng.normal(0, jit), sr,
                         vel * 0.5 * level)
        bar += sec.bars

    if spec.snr_db is not None:
        sig_rms = float(np.sqrt(np.mean(out ** 2)) + 1e-12)
        out += _pink_noise(len(out), rng) * sig_rms * 10 ** (-spec.snr_db / 20.0)
    out *= 0.9 / (np.max(np.abs(out)) + 1e-12)

    beat_times = tuple(round(float(t), 6) for t in beats[:-1])
    truth = GroundTruth(
        beat_times_s=beat_times,
        downbeat_times_s=beat_times[::meter],
        section_starts_s=tuple(round(t, 6) for t in section_starts),
        section_labels=tuple(labels),
        meter=meter,
        tempo_bpm=float(bpm[0]),
        duration_s=len(out) / sr,
        sample_rate=sr,
        drums_start_s=round(float(drums_start if drums_start is not None else duration_s), 6),
        local_tempo_bpm=tuple(float(b) for b in bpm),
    )
    return out.astype(np.float32), truth


def _secs(*parts: tuple[str, int, float, int]) -> tuple[SectionSpec, ...]:
    return tuple(SectionSpec(label, bars, energy, harmony=h) for label, bars, energy, h in parts)


def _bars_for(seconds: float, bpm: float, meter: int) -> int:
    return max(3, int(round(seconds * bpm / 60.0 / meter)))


def _abab(total_s: float, bpm: float, meter: int = 4) -> tuple[SectionSpec, ...]:
    """Three sections A B A of roughly equal length filling about ``total_s``."""
    n = _bars_for(total_s, bpm, meter)
    a = n // 3
    return _secs(("A", a, 0.5, 0), ("B", n - 2 * a, 0.95, 1), ("A", a, 0.5, 0))


#: Named specs: ``easy_*`` steady 4/4 at several tempi, the others each one classic failure mode.
PRESETS: dict[str, MusicSpec] = {
    "steady_80": MusicSpec(tempo_bpm=80, sections=_abab(30, 80), seed=80),
    "steady_100": MusicSpec(tempo_bpm=100, sections=_abab(30, 100), seed=100),
    "steady_120": MusicSpec(tempo_bpm=120, sections=_abab(30, 120), seed=120),
    "steady_128_four": MusicSpec(tempo_bpm=128, pattern="four", sections=_abab(30, 128), seed=128),
    "steady_140": MusicSpec(tempo_bpm=140, sections=_abab(30, 140), seed=140),
    "steady_160": MusicSpec(tempo_bpm=160, sections=_abab(30, 160), seed=160),
    "quiet_intro": MusicSpec(tempo_bpm=110, intro_bars=4, sections=_abab(22, 110), seed=7),
    "tempo_change": MusicSpec(tempo_bpm=96, tempo_changes=((8, 128, 0),),
                              sections=_secs(("A", 8, 0.55, 0), ("B", 8, 0.95, 1)), seed=3),
    "tempo_ramp": MusicSpec(tempo_bpm=100, tempo_changes=((4, 132, 6),),
                            sections=_secs(("A", 6, 0.55, 0), ("B", 8, 0.95, 1)), seed=4),
    "swing": MusicSpec(tempo_bpm=112, swing=1.0, sections=_abab(30, 112), seed=5),
    "noisy": MusicSpec(tempo_bpm=118, snr_db=0.0, sections=_abab(30, 118), seed=6),
    "waltz": MusicSpec(tempo_bpm=150, pattern="waltz", sections=_abab(30, 150, 3), seed=9),
    "halftime": MusicSpec(tempo_bpm=140, pattern="halftime", sections=_abab(30, 140), seed=10),
    "syncopated": MusicSpec(tempo_bpm=100, pattern="syncopated", sections=_abab(30, 100), seed=11),
    "fast_176": MusicSpec(tempo_bpm=176, pattern="punk", sections=_abab(30, 176), seed=12),
    "quiet_intro_long": MusicSpec(tempo_bpm=92, intro_bars=5, sections=_abab(18, 92), seed=16),
    "noisy_heavy": MusicSpec(tempo_bpm=124, snr_db=-6.0, sections=_abab(30, 124), seed=13),
    "shuffle": MusicSpec(tempo_bpm=96, swing=1.0, pattern="syncopated", sections=_abab(30, 96), seed=14),
    "waltz_96": MusicSpec(tempo_bpm=96, pattern="waltz", sections=_abab(30, 96, 3), seed=15),
    "fast_halftime": MusicSpec(tempo_bpm=172, pattern="halftime", sections=_abab(30, 172), seed=17),
}
EASY_PRESETS: tuple[str, ...] = tuple(k for k in PRESETS if k.startswith("steady_"))
HARD_PRESETS: tuple[str, ...] = tuple(k for k in PRESETS if not k.startswith("steady_"))


def render_preset(name: str, **overrides: Any) -> tuple[np.ndarray, GroundTruth]:
    """Render the named preset, with any :class:`MusicSpec` field overridden.

    >>> y, truth = render_preset("waltz", sr=16000)
    >>> truth.meter, truth.sample_rate
    (3, 16000)
    """
    try:
        spec = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
    return render(replace(spec, **overrides) if overrides else spec)


def _tmp_beside(path: str) -> str:
    folder, base = os.path.split(os.path.abspath(path))
    stem, ext = os.path.splitext(base)
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".part{ext}", dir=folder)
    os.close(fd)
    return tmp


def write_audio(path: str | os.PathLike[str], y: np.ndarray, sr: int) -> str:
    """Write ``y`` atomically: WAV/FLAC/OGG through soundfile, any other format through ffmpeg.

    The file appears complete or not at all (written beside it, then renamed).
    Returns the path.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    tmp = _tmp_beside(path)
    try:
        if ext in (".wav", ".flac", ".ogg"):
            sf.write(tmp, np.asarray(y, dtype=np.float32), int(sr), format=ext[1:].upper(),
                     subtype="PCM_16" if ext != ".ogg" else None)
        else:
            wav = _tmp_beside(path + ".wav")
            try:
                sf.write(wav, np.asarray(y, dtype=np.float32), int(sr), format="WAV", subtype="PCM_16")
                _ffmpeg(["-i", wav, "-vn", tmp], path)
            finally:
                _unlink(wav)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    return path


def write_music_video(path: str | os.PathLike[str], y: np.ndarray, sr: int, *,
                      rate: Fraction = Fraction(24000, 1001), size: tuple[int, int] = (160, 90)) -> str:
    """Write a small video (test pattern) carrying ``y`` as its audio track, atomically."""
    path = os.fspath(path)
    tmp = _tmp_beside(path)
    wav = _tmp_beside(path + ".wav")
    try:
        sf.write(wav, np.asarray(y, dtype=np.float32), int(sr), format="WAV", subtype="PCM_16")
        dur = len(y) / float(sr)
        _ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size={size[0]}x{size[1]}:rate={rate.numerator}/{rate.denominator}"
                 f":duration={dur:.3f}", "-i", wav, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                 "-c:a", "aac", "-shortest", tmp], path)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    finally:
        _unlink(wav)
    return path


def _ffmpeg(args: list[str], path: str) -> None:
    cmd = [require_tool("ffmpeg"), "-nostdin", "-y", "-v", "error", *args]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise MediaError(path, f"ffmpeg could not write it: {msg[-1] if msg else 'unknown error'}")


def _unlink(p: str) -> None:
    try:
        os.unlink(p)
    except FileNotFoundError:
        pass
