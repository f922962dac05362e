"""Music analysis: beats, downbeats, metre, beat energy and sections of a music track.

Functional, in the manner of librosa: pure functions from arrays to arrays with units in
their names (``sr``, ``hop_length``, ``*_s`` seconds, ``*_frames``), and one entry point per
use: :func:`analyze_music` for a file (any audio or video ffmpeg decodes) and
:func:`analyze_music_signal` for a signal already in memory.

>>> from montage_ai.core.samples.music import render_preset
>>> y, truth = render_preset("steady_120")
>>> a = analyze_music_signal(y, 22050)
>>> round(a.tempo_bpm), a.meter
(120, 4)

How the beats are found
-----------------------
By default (``tracker="auto"``): BeatNet's beat/downbeat network (model 1, weights shipped in
``weights/``, run in numpy: :mod:`beat_activation`) on madmom-style log-filtered spectrogram
features (:mod:`spectral_features`), decoded jointly into beats, downbeats and metre (3 or 4)
by a bar-pointer DBN (:mod:`bar_dbn`); :mod:`beat_tracker` adds the confidence and doubts.
When the weights cannot be loaded, the signal-processing tracker below is the fallback:

1. The percussive part (HPSS; a demucs ``no_vocals`` stem first when demucs and its model
   are already installed) gives an onset envelope, normalised by its local level so that a
   quiet intro counts as much as the loud chorus.
2. A local tempo curve is the Viterbi path through an autocorrelation tempogram under a
   log-normal tempo prior, so tempo changes and drifts are followed.
3. Octave check: the curve is doubled when the half-beat positions carry onsets as strong
   as the beats in the low and middle bands (fast music read at half speed), and halved
   when every other beat is empty there (slow music read at double speed).
4. Dynamic-programming beat tracking (librosa's, fed the time-varying tempo).
5. Bar phase and metre (3 or 4): the pair whose downbeats best line up with low-frequency
   onsets, onset accents and chord changes, measured on beat-synchronous features.
6. Sections: bar-level chroma, timbre (MFCC) and loudness; boundaries where the bars before
   and after differ most, so they fall on downbeats; labels by similarity.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import threading
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
import scipy.fft
import scipy.ndimage
import scipy.signal

from montage_ai.core.analysis.beat_tracker import NO_CLEAR_BEAT, BeatConfidence
from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.base.timebase import quantize_times
from montage_ai.core.media.probe import probe, require_tool

log = logging.getLogger(__name__)

__all__ = [
    "MUSIC_ANALYSIS_VERSION",
    "Section",
    "MusicAnalysis",
    "load_audio",
    "analyze_music",
    "analyze_music_signal",
    "percussive_component",
    "onset_envelope",
    "local_tempo",
    "track_beats",
    "estimate_downbeats",
    "beat_energy",
    "beat_low_energy",
    "find_sections",
    "beat_frames",
]

#: Bumped whenever the results of :func:`analyze_music` change (a cache key for callers).
MUSIC_ANALYSIS_VERSION = "8"  # 8: double time when the network fires on the off-beats as on the beats; 7: swing phase, metrical level; 4: beat_low; 5: the compiled tracker, swing and metre checks; 6: bass notes in the bar phase

_HOP = 512
_N_FFT = 2048
_TEMPO_MIN_BPM = 40.0
_TEMPO_MAX_BPM = 240.0
_BINS_PER_OCTAVE = 24
# The log-spectral flux of centred STFT frames peaks as soon as an onset enters the leading
# edge of the window, about 0.38 of a half window before the onset itself (measured on drums).
_ONSET_LAG_FRACTION = 0.38

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Section:
    """A structural section: ``[start_s, end_s)``, a label ("A", "B", ...; equal labels mean
    similar music) and its mean beat energy (0..1)."""

    start_s: float
    end_s: float
    label: str
    energy: float

    def to_dict(self) -> dict[str, Any]:
        return {"start_s": self.start_s, "end_s": self.end_s, "label": self.label, "energy": self.energy}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Section":
        return cls(float(d["start_s"]), float(d["end_s"]), str(d["label"]), float(d["energy"]))


@dataclass(frozen=True)
class MusicAnalysis:
    """Everything the planner needs from a music track. Immutable; JSON-safe via :meth:`to_dict`.

    ``beat_energy[i]`` is the RMS loudness of the span from beat ``i`` to the next, scaled so
    the loudest beats are 1.0. ``stem`` says which signal the beats were tracked on
    (``"mix"``: the neural tracker on the full mix; ``"hpss"`` or ``"demucs"``: the
    signal-processing fallback). ``confidence`` says how far to trust tempo, beats and
    downbeats and names the doubts (``None`` from the fallback tracker, which has no measure).
    """

    path: str
    duration_s: float
    sample_rate: int
    tempo_bpm: float
    meter: int
    beat_times_s: tuple[float, ...]
    downbeat_times_s: tuple[float, ...]
    beat_energy: tuple[float, ...]
    sections: tuple[Section, ...]
    stem: str = "hpss"
    confidence: BeatConfidence | None = None
    #: RMS below :data:`LOW_BAND_HZ` (kick and bass) from each beat to the next, max 1.0; empty
    #: from older analyses (drop detection then uses loudness alone, and says so).
    beat_low: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": MUSIC_ANALYSIS_VERSION,
            "path": self.path,
            "duration_s": self.duration_s,
            "sample_rate": self.sample_rate,
            "tempo_bpm": self.tempo_bpm,
            "meter": self.meter,
            "beat_times_s": list(self.beat_times_s),
            "downbeat_times_s": list(self.downbeat_times_s),
            "beat_energy": list(self.beat_energy),
            "sections": [s.to_dict() for s in self.sections],
            "stem": self.stem,
            "confidence": None if self.confidence is None else self.confidence.to_dict(),
            "beat_low": list(self.beat_low),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MusicAnalysis":
        return cls(
            path=str(d["path"]),
            duration_s=float(d["duration_s"]),
            sample_rate=int(d["sample_rate"]),
            tempo_bpm=float(d["tempo_bpm"]),
            meter=int(d["meter"]),
            beat_times_s=tuple(float(t) for t in d["beat_times_s"]),
            downbeat_times_s=tuple(float(t) for t in d["downbeat_times_s"]),
            beat_energy=tuple(float(e) for e in d["beat_energy"]),
            sections=tuple(Section.from_dict(s) for s in d["sections"]),
            stem=str(d.get("stem", "hpss")),
            confidence=BeatConfidence.from_dict(d["confidence"]) if d.get("confidence") else None,
            beat_low=tuple(float(e) for e in d.get("beat_low", ())),
        )


# --------------------------------------------------------------------------- decoding


def load_audio(path: str | os.PathLike[str], sr: int = 22050, cancel: CancelFn | None = None) -> np.ndarray:
    """Decode the first audio stream of any file ffmpeg reads to mono float32 at ``sr``.

    Parameters
    ----------
    path : str or PathLike
        Audio (wav, mp3, flac, aac, ...) or video (mp4, mov, ...) with an audio stream.
    sr : int
        Target sample rate; ffmpeg resamples and downmixes.
    cancel : callable, optional
        Polled while decoding; when it returns True the decoder is stopped and
        :class:`~montage_ai.core.base.errors.Cancelled` raised.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]

    Raises
    ------
    MediaError
        Missing, empty or corrupt file, no audio stream, or nothing decodable.

    Examples
    --------
    >>> y = load_audio("song.mp3", sr=22050)       # doctest: +SKIP
    """
    path = os.fspath(path)
    info = probe(path, require_video=False, verify_tail=False)  # raises MediaError naming the file
    if not info.has_audio:
        raise MediaError(path, "has no audio stream to use as music")
    ffmpeg_bin = require_tool("ffmpeg")
    cmd = [ffmpeg_bin, "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-vn", "-sn", "-dn",
           "-f", "f32le", "-acodec", "pcm_f32le", "-ac", "1", "-ar", str(int(sr)), "pipe:1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err_chunks: list[bytes] = []
    drain = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    drain.start()
    chunks: list[bytes] = []
    try:
        while True:
            if cancel is not None and cancel():
                raise Cancelled(f"decoding {path} was cancelled")
            block = proc.stdout.read(1 << 18)
            if not block:
                break
            chunks.append(block)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        proc.stdout.close()
    rc = proc.wait()
    drain.join(timeout=5)
    err = b"".join(err_chunks).decode("utf-8", "replace").strip()
    data = b"".join(chunks)
    if rc != 0 and not data:
        last = err.splitlines()[-1] if err else f"ffmpeg exited with status {rc}"
        raise MediaError(path, f"audio cannot be decoded: {last.split(': ', 1)[-1]}")
    if rc != 0:
        log.warning("%s: ffmpeg reported errors while decoding, using what it decoded: %s", path, err[-300:])
    n = len(data) // 4
    if n == 0:
        raise MediaError(path, "audio stream decodes to no samples")
    y = np.frombuffer(data[: n * 4], dtype="<f4").astype(np.float32, copy=True)
    if not np.all(np.isfinite(y)):
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    return y


# --------------------------------------------------------------------------- stems


def _demucs_model_cached() -> bool:
    """True when demucs is importable and its default model is already on disk."""
    if importlib.util.find_spec("demucs") is None:
        return False
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "torch")
    ckpt = os.path.join(torch_home, "hub", "checkpoints", "955717e8-8726e21a.th")  # htdemucs
    return os.path.isfile(ckpt)


def _demucs_no_vocals(y: np.ndarray, sr: int) -> np.ndarray:
    """The demucs (htdemucs) accompaniment: every source but vocals, mono at ``sr``."""
    import librosa
    import torch  # noqa: F401  (demucs needs it)
    from demucs.apply import apply_model
    from demucs.pretrained import get_model

    model = get_model("htdemucs")
    model.eval()
    y_m = librosa.resample(y, orig_sr=sr, target_sr=model.samplerate)
    wav = torch.from_numpy(np.stack([y_m, y_m]))[None].float()
    with torch.no_grad():
        sources = apply_model(model, wav, device="cpu", progress=False)[0]
    keep = [i for i, name in enumerate(model.sources) if name != "vocals"]
    acc = sources[keep].sum(0).mean(0).numpy()
    return librosa.resample(acc, orig_sr=model.samplerate, target_sr=sr).astype(np.float32)


def percussive_component(S: np.ndarray, *, margin: float = 1.0, kernel_size: int = 17) -> tuple[np.ndarray, np.ndarray]:
    """Split a magnitude spectrogram into harmonic and percussive parts (median-filter HPSS).

    Returns ``(H, P)`` magnitudes of the shape of ``S``.
    """
    import librosa

    H, P = librosa.decompose.hpss(S, kernel_size=kernel_size, margin=margin)
    return H, P


# --------------------------------------------------------------------------- onsets


def _flux(log_mel: np.ndarray, lag: int = 1) -> np.ndarray:
    """Half-wave rectified spectral flux per band, frame-centred like librosa's onset_strength."""
    d = np.maximum(0.0, log_mel[:, lag:] - log_mel[:, :-lag])
    d = np.pad(d, ((0, 0), (lag, 0)))
    return d


def onset_envelope(log_mel: np.ndarray, freqs_hz: np.ndarray, *, fmax_hz: float | None = None,
                   fmin_hz: float = 0.0) -> np.ndarray:
    """Mean spectral flux over the mel bands between ``fmin_hz`` and ``fmax_hz``."""
    sel = freqs_hz >= fmin_hz
    if fmax_hz is not None:
        sel &= freqs_hz <= fmax_hz
    return _flux(log_mel[sel]).mean(axis=0)


def _normalise_locally(env: np.ndarray, sr: int, hop_length: int, window_s: float = 4.0) -> np.ndarray:
    """Divide by a running high percentile so quiet passages count as much as loud ones.

    A floor at 10 % of the global level keeps silence and noise from being blown up.
    """
    size = max(3, int(window_s * sr / hop_length) | 1)
    level = scipy.ndimage.percentile_filter(env, 95, size=size, mode="nearest")
    level = scipy.ndimage.uniform_filter1d(level, size)
    floor = 0.1 * float(np.percentile(env, 95)) + 1e-9
    return env / np.maximum(level, floor)


# --------------------------------------------------------------------------- tempo


def _tempo_grid() -> np.ndarray:
    n = int(np.floor(np.log2(_TEMPO_MAX_BPM / _TEMPO_MIN_BPM) * _BINS_PER_OCTAVE)) + 1
    return _TEMPO_MIN_BPM * 2.0 ** (np.arange(n) / _BINS_PER_OCTAVE)


def local_tempo(env: np.ndarray, sr: int, hop_length: int = _HOP, *, win_length: int = 256,
                prior_bpm: float = 120.0, prior_octaves: float = 1.0,
                jump_cost: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Local tempo (bpm) at every frame: the Viterbi path through an autocorrelation tempogram.

    Parameters
    ----------
    env : np.ndarray
        Onset envelope, one value per frame.
    win_length : int
        Tempogram window in frames (256 at 22050/512 is about 6 s).
    prior_bpm, prior_octaves : float
        Log-normal prior over tempo (centre, standard deviation in octaves).
    jump_cost : float
        Penalty (log units) per bin (1/24 octave) of tempo change between frames: the path
        changes tempo only when the tempogram insists for a while. The path is then folded
        into half an octave either side of its median, so it never jumps by an octave.

    Returns
    -------
    bpm : np.ndarray [shape=(n_frames,)]
        The tempo path.
    salience : np.ndarray [shape=(n_bins, n_frames)]
        The tempogram on the log-tempo grid (:func:`_tempo_grid`).
    """
    import librosa

    tg = librosa.feature.tempogram(onset_envelope=env, sr=sr, hop_length=hop_length, win_length=win_length,
                                   norm=None)
    tg = tg / (tg[0:1] + 1e-9)
    lags = np.arange(tg.shape[0])
    grid = _tempo_grid()
    lag_of = 60.0 * sr / (hop_length * grid)
    # Linear interpolation of the ACF at fractional lags.
    lo = np.floor(lag_of).astype(int)
    frac = (lag_of - lo)[:, None]
    ok = lo + 1 < len(lags)
    acf = np.zeros((len(grid), tg.shape[1]))
    acf[ok] = (1 - frac[ok]) * tg[lo[ok]] + frac[ok] * tg[lo[ok] + 1]
    acf = np.maximum(acf, 0.0)
    sal = acf
    log_prior = -0.5 * (np.log2(grid / prior_bpm) / prior_octaves) ** 2
    emis = np.log(sal + 1e-3) + log_prior[:, None]
    # Viterbi with a linear-in-bins transition cost.
    n_bins, n_frames = emis.shape
    dist = np.abs(np.arange(n_bins)[:, None] - np.arange(n_bins)[None, :])
    trans = -jump_cost * dist
    score = emis[:, 0].copy()
    back = np.zeros((n_bins, n_frames), dtype=np.int32)
    for t in range(1, n_frames):
        cand = score[None, :] + trans
        back[:, t] = np.argmax(cand, axis=1)
        score = cand[np.arange(n_bins), back[:, t]] + emis[:, t]
    path = np.zeros(n_frames, dtype=int)
    path[-1] = int(np.argmax(score))
    for t in range(n_frames - 1, 0, -1):
        path[t - 1] = back[path[t], t]
    # Sub-bin precision: parabolic interpolation of the salience around the path, smoothed.
    cols = np.arange(n_frames)
    k = np.clip(path, 1, n_bins - 2)
    l, c, r = sal[k - 1, cols], sal[k, cols], sal[k + 1, cols]
    den = l - 2 * c + r
    off = np.where(den < -1e-9, 0.5 * (l - r) / np.where(den < -1e-9, den, -1.0), 0.0)
    off = np.where((path > 0) & (path < n_bins - 1), np.clip(off, -0.5, 0.5), 0.0)
    off = scipy.ndimage.median_filter(off, size=max(3, win_length // 4) | 1, mode="nearest")
    bpm = grid[path] * 2.0 ** (off / _BINS_PER_OCTAVE)
    # The first and last half-window see half a window of signal: hold the tempo there.
    edge = min(win_length // 2, n_frames // 4)
    if edge > 0:
        bpm[:edge] = bpm[edge]
        bpm[n_frames - edge:] = bpm[n_frames - edge - 1]
    med = float(np.median(bpm))
    bpm = np.where(bpm > med * np.sqrt(2), bpm / 2, np.where(bpm < med / np.sqrt(2), bpm * 2, bpm))
    return bpm, sal


def refine_beats(env: np.ndarray, beats: np.ndarray, radius: int = 2) -> np.ndarray:
    """Fractional frame of the onset peak nearest each beat (parabolic interpolation).

    A beat with no clear peak within ``radius`` frames keeps its frame.
    """
    beats = np.asarray(beats, dtype=int)
    out = beats.astype(float)
    n = len(env)
    for i, b in enumerate(beats):
        a, z = max(1, b - radius), min(n - 1, b + radius + 1)
        if z - a < 1:
            continue
        k = a + int(np.argmax(env[a:z]))
        if k <= 0 or k >= n - 1 or env[k] <= 0:
            continue
        if env[k] < env[k - 1] or env[k] < env[k + 1]:
            continue  # the window edge, not a peak
        l, c, r = env[k - 1], env[k], env[k + 1]
        den = l - 2 * c + r
        off = 0.5 * (l - r) / den if den < 0 else 0.0
        out[i] = k + float(np.clip(off, -0.5, 0.5))
    return out


def trim_weak_ends(env: np.ndarray, beats: np.ndarray, ratio: float = 0.2, contrast: float = 1.6) -> np.ndarray:
    """Drop leading and trailing beats with no onset: the tracker runs on into fades and tails.

    A beat is weak when the envelope near it is under ``ratio`` times the median over
    beats, or when it stands less than ``contrast`` times above the envelope between beats
    (beats ticking on through noise). Weak beats inside the track are kept (a break).
    """
    beats = np.asarray(beats, dtype=int)
    if len(beats) < 4:
        return beats
    v = _values_at(env, beats, 2)
    between = np.empty(len(beats))
    for i, b in enumerate(beats):
        lo = beats[i - 1] if i > 0 else max(0, b - (beats[1] - beats[0]))
        hi = beats[i + 1] if i + 1 < len(beats) else min(len(env), b + (beats[-1] - beats[-2]))
        seg = np.r_[env[lo + 3:max(lo + 3, b - 2)], env[b + 3:max(b + 3, hi - 2)]]
        between[i] = float(np.mean(seg)) if len(seg) else 0.0
    strong = (v >= ratio * float(np.median(v))) & (v >= contrast * between)
    if not np.any(strong):
        return beats
    a = int(np.argmax(strong))
    z = len(beats) - int(np.argmax(strong[::-1]))
    return beats[a:z]


def _values_at(env: np.ndarray, frames: np.ndarray, radius: int = 1) -> np.ndarray:
    frames = np.clip(np.asarray(frames, dtype=int), 0, len(env) - 1)
    if radius <= 0:
        return env[frames]
    m = scipy.ndimage.maximum_filter1d(env, 2 * radius + 1)
    return m[frames]


def track_beats(env: np.ndarray, bpm: np.ndarray, sr: int, hop_length: int = _HOP, *,
                tightness: float = 100.0) -> np.ndarray:
    """Beat frames by dynamic programming over ``env`` following the per-frame tempo ``bpm``."""
    import librosa

    # Track only from the first to the last clear onset: beats ticking on into a silent or
    # decaying tail pull the backtracked path off the beat at the end.
    strong = np.flatnonzero(env >= 0.3 * float(np.percentile(env, 95)))
    if len(strong) < 2:
        return np.zeros(0, dtype=int)
    # The end keeps half a beat of margin after the last onset, so the last beat is chosen
    # by the tempo and not by a stray offbeat at the very edge.
    period = int(round(60.0 * sr / (hop_length * float(np.median(bpm)))))
    a, z = int(strong[0]), min(len(env), int(strong[-1]) + max(3, period // 2))
    _, beats = librosa.beat.beat_track(onset_envelope=env[a:z], sr=sr, hop_length=hop_length, bpm=bpm[a:z],
                                       tightness=tightness, trim=False, units="frames")
    return np.asarray(beats, dtype=int) + a


def _octave_check(env_track: np.ndarray, env_low: np.ndarray, bpm: np.ndarray, sr: int,
                  hop_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Double or halve the tempo curve where the onsets say the beat is twice as fast or slow.

    Returns the corrected tempo curve and the beats tracked at it.
    """
    beats = track_beats(env_track, bpm, sr, hop_length)
    if len(beats) < 8:
        return bpm, beats
    med = float(np.median(bpm[beats]))
    on = _values_at(env_low, beats)
    mids = (beats[:-1] + beats[1:]) // 2
    off = _values_at(env_low, mids)
    strength = float(np.median(on)) + 1e-9
    half_ratio = float(np.percentile(off, 20)) / strength
    even, odd = float(np.percentile(on[0::2], 20)), float(np.percentile(on[1::2], 20))
    alt_ratio = min(even, odd) / (max(even, odd) + 1e-9)
    log.debug("octave check: tempo %.1f, half-beat ratio %.2f, alternate-beat ratio %.2f", med, half_ratio, alt_ratio)
    if med * 2 <= 200.0 and half_ratio > 0.55:
        bpm2 = bpm * 2.0
        return bpm2, track_beats(env_track, bpm2, sr, hop_length)
    if med >= 150.0 and alt_ratio < 0.3:
        bpm2 = bpm / 2.0
        return bpm2, track_beats(env_track, bpm2, sr, hop_length)
    return bpm, beats


# --------------------------------------------------------------------------- downbeats


def _beat_sync(X: np.ndarray, beats: np.ndarray, n_frames: int, aggregate=np.mean) -> np.ndarray:
    """Aggregate feature columns between consecutive beats: one column per beat (beat i to i+1)."""
    bounds = np.concatenate([beats, [n_frames]]).astype(int)
    out = np.zeros((X.shape[0], len(beats)))
    for i in range(len(beats)):
        a, b = bounds[i], max(bounds[i] + 1, bounds[i + 1])
        out[:, i] = aggregate(X[:, a:b], axis=1)
    return out


def _zscore(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    s = float(np.std(x))
    return (x - float(np.mean(x))) / s if s > 1e-9 else np.zeros_like(x)


def _chroma_change(c_sync: np.ndarray, width: int = 2) -> np.ndarray:
    """Cosine distance between the mean chroma of the ``width`` beats before each beat and the
    ``width`` beats from it on: high where the chord changes, as at most bar lines."""
    n = c_sync.shape[1]
    csum = np.concatenate([np.zeros((c_sync.shape[0], 1)), np.cumsum(c_sync, axis=1)], axis=1)
    out = np.zeros(n)
    for i in range(1, n):
        a, z = max(0, i - width), min(n, i + width)
        before = (csum[:, i] - csum[:, a])
        after = (csum[:, z] - csum[:, i])
        nb, na = np.linalg.norm(before), np.linalg.norm(after)
        if nb > 1e-9 and na > 1e-9:
            out[i] = 1.0 - float(before @ after) / (nb * na)
    return out


def _lag_corr(v: np.ndarray, lag: int) -> float:
    if len(v) <= lag + 2:
        return 0.0
    a, b = v[:-lag], v[lag:]
    sa, sb = float(np.std(a)), float(np.std(b))
    if sa < 1e-9 or sb < 1e-9:
        return 0.0
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))


def estimate_downbeats(beat_features: dict[str, np.ndarray], meters: Sequence[int] = (3, 4),
                       weights: dict[str, float] | None = None, prefer: int = 4,
                       prefer_margin: float = 0.05) -> tuple[int, int, float]:
    """Metre and bar phase from beat-synchronous features.

    The metre is the bar length ``m`` at which the features repeat best (their correlation
    with themselves ``m`` and ``2m`` beats later); the phase is the one whose beats have the
    features highest compared with the other beats.

    Parameters
    ----------
    beat_features : dict of name -> np.ndarray [shape=(n_beats,)]
        One value per beat, larger where a downbeat is likelier (low-frequency onset,
        onset accent, chord change).
    meters : sequence of int
        Candidate beats per bar.
    weights : dict of name -> float, optional
        Weight of each feature (1.0 by default).
    prefer, prefer_margin : int, float
        Metre chosen when the repetition scores are within ``prefer_margin`` of each other.

    Returns
    -------
    meter, phase, score : int, int, float
        Downbeats are beats ``phase, phase + meter, ...``; ``score`` is how much more the
        features are at downbeats than elsewhere, in standard deviations.

    Examples
    --------
    >>> low = np.tile([1.0, 0.0, 0.2], 12)
    >>> estimate_downbeats({"low": low})[:2]
    (3, 0)
    """
    weights = weights or {}
    feats = {k: _zscore(v) for k, v in beat_features.items() if len(v)}
    n = min((len(v) for v in feats.values()), default=0)
    if n < 2 * max(meters) + 2:
        return (prefer if prefer in meters else max(meters)), 0, 0.0
    feats = {k: v[:n] for k, v in feats.items()}
    total_w = sum(weights.get(k, 1.0) for k in feats) or 1.0
    rep = {}
    for m in meters:
        rep[m] = sum(weights.get(k, 1.0) * 0.5 * (_lag_corr(v, m) + _lag_corr(v, 2 * m))
                     for k, v in feats.items()) / total_w
    log.debug("metre repetition: %s", {m: round(r, 3) for m, r in rep.items()})
    meter = max(meters, key=lambda m: rep[m] + (prefer_margin if m == prefer else 0.0))
    best_p, best_score = 0, -np.inf
    for p in range(meter):
        mask = (np.arange(n) % meter) == p
        score = sum(weights.get(k, 1.0) * (float(v[mask].mean()) - float(v[~mask].mean())) for k, v in feats.items())
        log.debug("downbeats: meter %d phase %d score %.3f", meter, p, score)
        if score > best_score:
            best_p, best_score = p, score
    return meter, best_p, float(best_score / total_w)


# --------------------------------------------------------------------------- energy & sections


def beat_energy(y: np.ndarray, beat_samples: np.ndarray) -> np.ndarray:
    """RMS of ``y`` from each beat to the next (the last to the end), scaled so the max is 1."""
    if len(beat_samples) == 0:
        return np.zeros(0)
    bounds = np.concatenate([np.asarray(beat_samples, dtype=int), [len(y)]])
    a, b = bounds[:-1], np.maximum(bounds[1:], bounds[:-1] + 1)
    a, b = np.clip(a, 0, len(y)), np.clip(b, 0, len(y))
    # Sums of squares over [a, b): one pass of reduceat (segments must start in order).
    sq = np.zeros(len(y) + 1)
    np.square(np.asarray(y, dtype=np.float64), out=sq[:-1])
    starts = np.minimum(a, len(y))
    sums = np.add.reduceat(sq, starts) if len(starts) else np.zeros(0)
    sums = np.where(b > a, sums, 0.0)
    rms = np.sqrt(np.maximum(sums, 0.0) / np.maximum(b - a, 1))
    top = float(np.max(rms))
    return rms / top if top > 0 else rms


#: Upper edge of the low band :func:`beat_low_energy` measures (kick drum and bass), Hz.
LOW_BAND_HZ = 150.0


def beat_low_energy(S: np.ndarray, beats: np.ndarray, sr: int) -> np.ndarray:
    """RMS of magnitude STFT ``S`` (``_N_FFT`` bins) below :data:`LOW_BAND_HZ` from each beat
    frame to the next (the last to the end), scaled so the max is 1."""
    if len(beats) == 0 or S.size == 0:
        return np.zeros(0)
    n_bins = max(2, int(LOW_BAND_HZ * _N_FFT / sr) + 1)
    power = np.concatenate([[0.0], np.cumsum((S[1:n_bins].astype(np.float64) ** 2).sum(axis=0))])
    a = np.clip(np.asarray(beats, dtype=int), 0, S.shape[1])
    b = np.maximum(np.concatenate([a[1:], [S.shape[1]]]), a + 1).clip(max=S.shape[1])
    rms = np.sqrt(np.maximum(power[b] - power[a], 0.0) / np.maximum(b - a, 1))
    top = float(np.max(rms))
    return rms / top if top > 0 else rms


def find_sections(bar_features: Sequence[np.ndarray], *, min_bars: int = 2,
                  merge_cost: float = 4.0, same_label: float = 0.3) -> tuple[list[int], list[int]]:
    """Section boundaries and labels from bar-level features (Ward clustering along time).

    Every bar starts as its own segment; the two neighbouring segments whose merge adds
    least within-segment variance (Ward's cost ``n_a n_b / (n_a + n_b) * |mean_a - mean_b|^2``)
    are merged until every remaining merge would cost more than ``merge_cost`` per feature
    group and every segment has ``min_bars`` bars. Boundaries therefore sit on bar lines.

    Parameters
    ----------
    bar_features : sequence of np.ndarray [shape=(d_g, n_bars)]
        Feature groups (chroma, timbre, loudness ...), one column per bar. Each row is
        standardised and each group scaled to unit total variance, so groups weigh equally.
    min_bars : int
        Shortest section.
    merge_cost : float
        Stop merging above this cost (per group).
    same_label : float
        A segment takes the label of an earlier one whose mean features are closer than
        this share of the median distance between neighbouring segments.

    Returns
    -------
    starts : list of int
        First bar of each section (0 included).
    labels : list of int
        Label index of each section (0 for "A"), numbered in order of first appearance.

    Examples
    --------
    >>> loud = np.r_[np.zeros(4), np.ones(4), np.zeros(4)][None, :]
    >>> find_sections([loud])
    ([0, 4, 8], [0, 1, 0])
    """
    groups = [np.atleast_2d(np.asarray(g, dtype=float)) for g in bar_features]
    n = min(g.shape[1] for g in groups) if groups else 0
    if n < 2 * min_bars:
        return [0], [0]
    scaled = []
    for g in groups:
        z = _noise_scaled_rows(g[:, :n])
        if np.any(z):
            scaled.append(z / np.sqrt(z.shape[0]))
    if not scaled:
        return [0], [0]
    Z = np.vstack(scaled)
    n_groups = len(scaled)
    limit = merge_cost * n_groups
    starts = list(range(n))
    sums = [Z[:, i].copy() for i in range(n)]
    counts = [1] * n

    def cost(i: int) -> float:
        a, b = counts[i], counts[i + 1]
        d = sums[i] / a - sums[i + 1] / b
        return a * b / (a + b) * float(d @ d)

    while len(starts) > 1:
        costs = [cost(i) for i in range(len(starts) - 1)]
        i = int(np.argmin(costs))
        log.debug("sections: %d segments, cheapest merge %.2f at bar %d", len(starts), costs[i], starts[i + 1])
        short = [k for k, c in enumerate(counts) if c < min_bars]
        if costs[i] > limit:
            if not short:
                break
            k = short[0]  # merge a too-short segment into its more similar neighbour
            if k == 0:
                i = 0
            elif k == len(starts) - 1:
                i = k - 1
            else:
                i = k if costs[k] < costs[k - 1] else k - 1
        sums[i] = sums[i] + sums[i + 1]
        counts[i] += counts[i + 1]
        del sums[i + 1], counts[i + 1], starts[i + 1]
    starts = _refine_boundaries(Z, starts, min_bars)
    bounds = starts + [n]
    means = [Z[:, a:b].mean(axis=1) for a, b in zip(bounds[:-1], bounds[1:])]
    adjacent = [float((means[i] - means[i + 1]) @ (means[i] - means[i + 1])) for i in range(len(means) - 1)]
    limit_same = same_label * float(np.median(adjacent)) if adjacent else 0.0
    labels: list[int] = []
    protos: list[np.ndarray] = []
    for m in means:
        d = [float((m - p) @ (m - p)) for p in protos]
        if d and min(d) < limit_same:
            labels.append(int(np.argmin(d)))
        else:
            protos.append(m)
            labels.append(len(protos) - 1)
    return starts, labels


def _refine_boundaries(Z: np.ndarray, starts: list[int], min_bars: int) -> list[int]:
    """Move each boundary by a bar either way where that lowers the within-segment variance."""
    n = Z.shape[1]
    starts = list(starts)

    def sse(a: int, b: int) -> float:
        seg = Z[:, a:b]
        return float(np.sum((seg - seg.mean(axis=1, keepdims=True)) ** 2)) if b > a else 0.0

    for k in range(1, len(starts)):
        lo = starts[k - 1] + min_bars
        hi = (starts[k + 1] if k + 1 < len(starts) else n) - min_bars
        best, best_cost = starts[k], None
        for c in (starts[k] - 1, starts[k], starts[k] + 1):
            if lo <= c <= hi:
                cost = sse(starts[k - 1], c) + sse(c, starts[k + 1] if k + 1 < len(starts) else n)
                if best_cost is None or cost < best_cost - 1e-9:
                    best, best_cost = c, cost
        starts[k] = best
    return starts


def _noise_scaled_rows(X: np.ndarray, cap: float = 6.0) -> np.ndarray:
    """Rows centred and scaled by their typical bar-to-bar change (robust), capped.

    A boundary is then a change that is large compared with how much the music varies
    from one bar to the next inside a section, however different an intro or a break is.
    """
    X = np.asarray(X, dtype=float)
    med = np.median(X, axis=1, keepdims=True)
    step = np.median(np.abs(np.diff(X, axis=1)), axis=1, keepdims=True) * 1.4826 / np.sqrt(2)
    sd = X.std(axis=1, keepdims=True)
    scale = np.maximum(step, 0.1 * sd)
    out = np.where(scale > 1e-9, (X - med) / np.where(scale > 1e-9, scale, 1.0), 0.0)
    return np.clip(out, -cap, cap)


def _label(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


# --------------------------------------------------------------------------- entry points


def _check(cancel: CancelFn | None, what: str) -> None:
    if cancel is not None and cancel():
        raise Cancelled(f"music analysis cancelled ({what})")


@lru_cache(maxsize=4)
def _mel_filters(sr: int) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=_N_FFT, n_mels=96, fmax=sr / 2)


@lru_cache(maxsize=4)
def _chroma_filters(sr: int) -> np.ndarray:
    import librosa

    return librosa.filters.chroma(sr=sr, n_fft=_N_FFT, tuning=0.0)


def _stft_magnitude(y: np.ndarray, hop_length: int) -> np.ndarray:
    """``abs(librosa.stft(y, n_fft=2048, hop_length))`` (centred frames, zero padding, periodic
    Hann window), from a strided view of the padded signal: ``(1 + n_fft // 2, n_frames)``."""
    y = np.asarray(y, dtype=np.float32)
    pad = _N_FFT // 2
    padded = np.zeros(len(y) + 2 * pad, dtype=np.float32)
    padded[pad:pad + len(y)] = y
    n_frames = 1 + (len(padded) - _N_FFT) // hop_length
    frames = np.lib.stride_tricks.as_strided(padded, (n_frames, _N_FFT),
                                             (padded.strides[0] * hop_length, padded.strides[0]), writeable=False)
    window = scipy.signal.get_window("hann", _N_FFT, fftbins=True).astype(np.float32)
    return np.ascontiguousarray(np.abs(scipy.fft.rfft(frames * window, axis=1)).T)


def _spectra(y: np.ndarray, sr: int, hop_length: int, hpss: bool = True):
    """Magnitude STFT, mel power, the (harmonic) bins below ~5.5 kHz (for chroma) and RMS."""
    S = _stft_magnitude(y, hop_length)
    power = S * S
    # librosa.feature.melspectrogram's result, as one matrix product (its einsum is slower here)
    mel_power = _mel_filters(int(sr)).astype(S.dtype, copy=False) @ power
    n_low = min(S.shape[0], int(5500.0 * _N_FFT / sr) + 1)
    H = percussive_component(S[:n_low], kernel_size=17)[0] if hpss else S[:n_low]
    # librosa.feature.rms(S=S, frame_length=n_fft): half weight on the DC and Nyquist bins
    rms = np.sqrt(2.0 * (power.sum(axis=0) - 0.5 * power[0] - 0.5 * power[-1]) / float(_N_FFT) ** 2)
    return S, mel_power, H, rms


def _track_neural(y: np.ndarray, sr: int, path: str):
    """The neural tracker's result, or None when its model cannot be loaded."""
    from montage_ai.core.analysis.beat_activation import ModelUnavailable
    from montage_ai.core.analysis.beat_tracker import track_signal

    try:
        return track_signal(y, sr)
    except ModelUnavailable as exc:
        log.warning("%s: %s; using the signal-processing beat tracker", path or "signal", exc)
        return None


#: Top of the bass register for the bass-note chroma (Hz): bass-guitar and left-hand notes.
BASS_CHROMA_HZ = 250.0


def _bass_chroma(S: np.ndarray, sr: int) -> np.ndarray:
    """Chroma of the STFT bins below :data:`BASS_CHROMA_HZ`: which bass note sounds."""
    n = min(S.shape[0], int(BASS_CHROMA_HZ * _N_FFT / sr) + 1)
    return _chroma_filters(int(sr))[:, :n].astype(S.dtype, copy=False) @ (S[:n] ** 2)


def _bar_phase(tracked, numbers: np.ndarray, meter: int, chroma: np.ndarray, beats: np.ndarray,
               n_frames: int, bass_chroma: np.ndarray | None = None) -> tuple[np.ndarray, BeatConfidence]:
    """Downbeat indices: the bar phase that the network's downbeat probability, bass onsets,
    chord changes and bass-note changes agree on best (the DBN's own phase by default); the
    downbeat confidence drops when that moves the DBN's downbeats.

    The network's downbeat output and the kick tell beats 1 and 3 from 2 and 4, but often not
    1 from 3; the harmony, and the bass note above all, changes at the bar line."""
    from dataclasses import replace as _replace

    from montage_ai.core.analysis.beat_tracker import choose_bar_phase

    ones = np.flatnonzero(numbers == 1)
    dbn_phase = int(ones[0]) % meter if len(ones) else 0
    conf = tracked.confidence
    if tracked.downbeat_activation is None or len(beats) < 2 * meter:
        return ones, conf
    n = len(beats)
    feats = [tracked.downbeat_activation[:n], tracked.bass_onset[:n]]
    for c in (chroma, bass_chroma):
        if c is not None:
            c_sync = _beat_sync(c, beats, n_frames)
            c_sync = c_sync / (np.linalg.norm(c_sync, axis=0, keepdims=True) + 1e-9)
            feats.append(_chroma_change(c_sync, width=2))
    phase = choose_bar_phase(meter, feats, default=dbn_phase)
    if phase != dbn_phase:
        conf = _replace(conf, downbeats=round(conf.downbeats * 0.6, 3))
    return np.arange(phase, n, meter), conf


def _classic_beats(y: np.ndarray, sr: int, hop_length: int, use_demucs: bool | None,
                   cancel: CancelFn | None, report: ProgressFn, path: str):
    """The signal-processing tracker (the fallback): stem, beat times, beat frames, metre,
    downbeat phase and the spectra the sections need."""
    import librosa

    stem = "hpss"
    y_track = y
    if use_demucs is not False and _demucs_model_cached():
        try:
            y_track = _demucs_no_vocals(y, sr)
            stem = "demucs"
        except Exception as exc:  # demucs is optional: fall back on HPSS
            log.warning("demucs failed (%s); using HPSS", exc)
            y_track = y
    _check(cancel, "separation")

    S = np.abs(librosa.stft(y_track, n_fft=_N_FFT, hop_length=hop_length))
    # HPSS twice on small spectrograms rather than once on the full one (4x faster): on
    # mel power for the percussive onsets, on the bins below ~5.5 kHz for harmonic chroma.
    n_mels = 96
    mel_power = librosa.feature.melspectrogram(S=S ** 2, sr=sr, n_mels=n_mels, fmax=sr / 2)
    _, P_mel = percussive_component(mel_power, kernel_size=17)
    freqs = librosa.mel_frequencies(n_mels=n_mels, fmax=sr / 2)
    log_mel = librosa.power_to_db(P_mel, ref=np.max, top_db=80.0)
    n_low = min(S.shape[0], int(5500.0 * _N_FFT / sr) + 1)
    H_low, _ = percussive_component(S[:n_low], kernel_size=17)
    H = np.zeros_like(S)
    H[:n_low] = H_low
    report(0.3)
    _check(cancel, "spectrogram")

    env = onset_envelope(log_mel, freqs)
    env_low = onset_envelope(log_mel, freqs, fmax_hz=3000.0)
    env_n = _normalise_locally(env, sr, hop_length)
    env_low_n = _normalise_locally(env_low, sr, hop_length)
    report(0.45)
    _check(cancel, "onsets")

    bpm_curve, _ = local_tempo(env_n, sr, hop_length)
    _check(cancel, "tempo")
    # Local normalisation lifts a decaying tail too; the beats end with the last onset that
    # is clear on the absolute scale.
    env_track = env_n.copy()
    loud = np.flatnonzero(env >= 0.2 * float(np.percentile(env, 95)))
    if len(loud):
        env_track[int(loud[-1]) + 3:] = 0.0
    bpm_curve, beats = _octave_check(env_track, env_low_n, bpm_curve, sr, hop_length)
    report(0.6)
    _check(cancel, "beats")

    # Drop beats before the music starts and after it ends (silence around the track).
    rms = librosa.feature.rms(y=y, frame_length=_N_FFT, hop_length=hop_length)[0]
    audible = rms > 10 ** (-45 / 20) * (float(rms.max()) + 1e-12)
    if np.any(audible):
        first, last = int(np.argmax(audible)), len(audible) - 1 - int(np.argmax(audible[::-1]))
        beats = beats[(beats >= first - 2) & (beats <= last)]
    beats = trim_weak_ends(env_track, beats)
    n_frames = S.shape[1]
    beat_pos = refine_beats(env, beats)
    beat_times = (beat_pos * hop_length + _ONSET_LAG_FRACTION * _N_FFT / 2) / sr

    # Downbeats.
    chroma = librosa.feature.chroma_stft(S=H ** 2, sr=sr, n_fft=_N_FFT, hop_length=hop_length)
    if len(beats) >= 8:
        c_sync = _beat_sync(chroma, beats, n_frames)
        c_sync = c_sync / (np.linalg.norm(c_sync, axis=0, keepdims=True) + 1e-9)
        chroma_change = _chroma_change(c_sync, width=2)
        env_bass = onset_envelope(log_mel, freqs, fmax_hz=200.0)
        feats = {
            "low": _values_at(_normalise_locally(env_bass, sr, hop_length), beats, 2),
            "accent": _values_at(env_n, beats, 1),
            "chroma": chroma_change,
        }
        meter, phase, _ = estimate_downbeats(feats, weights={"low": 1.0, "accent": 0.2, "chroma": 1.0})
    else:
        meter, phase = 4, 0
    report(0.75)
    return stem, beat_times, beats, meter, phase, S, mel_power, chroma, rms


def analyze_music_signal(y: np.ndarray, sr: int, *, path: str = "", progress: ProgressFn | None = None,
                         cancel: CancelFn | None = None, use_demucs: bool | None = None,
                         hop_length: int = _HOP, tracker: str = "auto") -> MusicAnalysis:
    """Analyse a mono signal: tempo, metre, beats, downbeats, beat energy and sections.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio.
    sr : int
        Its sample rate.
    path : str
        Recorded in the result (the file it came from, if any).
    progress : callable(float), optional
        Called with 0..1 at stage boundaries.
    cancel : callable() -> bool, optional
        Polled between stages; True raises :class:`~montage_ai.core.base.errors.Cancelled`.
    use_demucs : bool, optional
        ``None`` (default) uses demucs when it is installed with its model cached; ``False``
        never does (the fallback tracker only).
    tracker : {"auto", "classic"}
        ``"auto"``: the neural tracker (BeatNet activations + bar-pointer DBN), falling back on
        the signal-processing one when its weights cannot be loaded; ``"classic"``: always the
        signal-processing tracker.

    Returns
    -------
    MusicAnalysis

    Examples
    --------
    >>> from montage_ai.core.samples.music import render_preset
    >>> y, truth = render_preset("waltz")
    >>> analyze_music_signal(y, 22050).meter
    3
    """
    from montage_ai.core.analysis.blas_threads import one_blas_thread

    with one_blas_thread():
        return _analyze_music_signal(y, sr, path=path, progress=progress, cancel=cancel, use_demucs=use_demucs,
                                     hop_length=hop_length, tracker=tracker)


def _analyze_music_signal(y: np.ndarray, sr: int, *, path: str, progress: ProgressFn | None,
                          cancel: CancelFn | None, use_demucs: bool | None, hop_length: int,
                          tracker: str) -> MusicAnalysis:
    import librosa

    def report(x: float) -> None:
        if progress is not None:
            progress(float(x))

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        y = y.mean(axis=0) if y.shape[0] < y.shape[-1] else y.mean(axis=1)
    duration_s = len(y) / float(sr)
    _check(cancel, "start")
    report(0.0)
    if len(y) < sr or not np.any(np.abs(y) > 1e-6):
        log.info("%s: too short or silent for beat analysis", path or "signal")
        return MusicAnalysis(path, duration_s, int(sr), 0.0, 4, (), (), (), (Section(0.0, duration_s, "A", 0.0),)
                             if duration_s > 0 else (), "hpss",
                             BeatConfidence(0.0, 0.0, 0.0, (NO_CLEAR_BEAT,), tracker="none"))

    stem, confidence = "hpss", None
    tracked = None if tracker == "classic" else _track_neural(y, sr, path)
    _check(cancel, "beats")
    if tracked is not None:
        S, mel_power, H, rms = _spectra(y, sr, hop_length, hpss=False)
        beat_times = np.asarray(tracked.beat_times_s, dtype=float)
        beat_times = beat_times[(beat_times >= 0.0) & (beat_times < duration_s)]
        beats = librosa.time_to_frames(beat_times, sr=sr, hop_length=hop_length)
        numbers = tracked.beat_numbers[:len(beat_times)]
        meter = int(tracked.meter)
        # librosa.feature.chroma_stft(S=H ** 2, tuning=0.0), as one matrix product (H holds the
        # bins below ~5.5 kHz; the others are zero)
        chroma = librosa.util.normalize(
            _chroma_filters(int(sr))[:, :H.shape[0]].astype(H.dtype, copy=False) @ (H ** 2), norm=np.inf, axis=0)
        db_idx, confidence = _bar_phase(tracked, numbers, meter, chroma, beats, S.shape[1], _bass_chroma(S, sr))
        stem = "mix"
        n_frames = S.shape[1]
        report(0.75)
    else:
        stem, beat_times, beats, meter, phase, S, mel_power, chroma, rms = _classic_beats(
            y, sr, hop_length, use_demucs, cancel, report, path)
        db_idx = np.arange(phase, len(beats), max(meter, 1))
        n_frames = S.shape[1]
    _check(cancel, "downbeats")
    downbeats = beats[db_idx]

    # Energy per beat, and of the low end (kick, bass) from the spectrum.
    energy = beat_energy(y, librosa.frames_to_samples(beats, hop_length=hop_length))
    low = beat_low_energy(S, beats, sr)

    # Sections on bars.
    sections: tuple[Section, ...]
    if len(downbeats) >= 4:
        mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel_power), n_mfcc=13)[1:]
        loud = librosa.power_to_db(np.maximum(rms, 1e-10) ** 2)[None, :]
        bars_f = _beat_sync(chroma, downbeats, n_frames)
        bars_m = _beat_sync(mfcc, downbeats, n_frames)
        bars_e = _beat_sync(loud, downbeats, n_frames)
        # Chords change within a section: compare harmony over two-bar spans.
        bars_f = scipy.ndimage.uniform_filter1d(bars_f, 2, axis=1, mode="nearest")
        starts, labels = find_sections([bars_f, bars_m, bars_e])
        db_times = beat_times[db_idx]
        edges = [0.0] + [float(db_times[s]) for s in starts[1:]] + [duration_s]
        sec_list = []
        for i, lab in enumerate(labels):
            a, b = edges[i], edges[i + 1]
            sel = (beat_times >= a) & (beat_times < b)
            e = float(np.mean(energy[sel])) if np.any(sel) else 0.0
            sec_list.append(Section(float(a), float(b), _label(lab), e))
        sections = tuple(sec_list)
    else:
        sections = (Section(0.0, duration_s, "A", float(np.mean(energy)) if len(energy) else 0.0),)
    _check(cancel, "sections")          # a cancel during the last stage still cancels
    report(0.95)

    ibi = np.diff(beat_times)
    tempo = float(60.0 / np.median(ibi)) if len(ibi) else 0.0
    result = MusicAnalysis(
        path=path,
        duration_s=float(duration_s),
        sample_rate=int(sr),
        tempo_bpm=tempo,
        meter=int(meter),
        beat_times_s=tuple(float(t) for t in beat_times),
        downbeat_times_s=tuple(float(t) for t in beat_times[db_idx]),
        beat_energy=tuple(float(e) for e in energy),
        sections=sections,
        stem=stem,
        confidence=confidence,
        beat_low=tuple(float(e) for e in low),
    )
    report(1.0)
    return result


def analyze_music(path: str | os.PathLike[str], *, sr: int = 22050, progress: ProgressFn | None = None,
                  cancel: CancelFn | None = None) -> MusicAnalysis:
    """Decode a music file (or the audio of a video) and analyse it.

    Parameters
    ----------
    path : str or PathLike
        Any file with an audio stream ffmpeg can decode.
    sr : int
        Analysis sample rate.
    progress : callable(float), optional
        0..1 at stage boundaries (decoding is the first fifth).
    cancel : callable() -> bool, optional
        True raises :class:`~montage_ai.core.base.errors.Cancelled`.

    Raises
    ------
    MediaError
        The file cannot be decoded or has no audio.
    Cancelled
        ``cancel()`` returned True.

    Examples
    --------
    >>> a = analyze_music("song.mp3")                # doctest: +SKIP
    >>> a.tempo_bpm, a.meter, len(a.beat_times_s)    # doctest: +SKIP
    (120.2, 4, 61)
    """
    path = os.path.abspath(os.fspath(path))
    _check(cancel, "start")
    if progress is not None:
        progress(0.0)
    y = load_audio(path, sr=sr, cancel=cancel)
    if progress is not None:
        progress(0.2)
    sub = None if progress is None else (lambda x: progress(0.2 + 0.8 * x))
    return analyze_music_signal(y, sr, path=path, progress=sub, cancel=cancel)


def beat_frames(analysis: MusicAnalysis, rate: Fraction, which: str = "beats") -> list[int]:
    """Beat (or downbeat) positions as whole frames of a timeline at ``rate``.

    Parameters
    ----------
    analysis : MusicAnalysis
    rate : Fraction
        Timeline frame rate, exact (``Fraction(24000, 1001)``), never a float.
    which : {"beats", "downbeats"}

    Returns
    -------
    frames : list of int
        Nearest frame of each beat, strictly increasing (beats that land on the same frame
        keep the first).

    Examples
    --------
    >>> a = MusicAnalysis("", 2.0, 22050, 120.0, 4, (0.0, 0.5, 1.0, 1.5), (0.0,), (1.0,) * 4, ())
    >>> beat_frames(a, Fraction(24000, 1001))
    [0, 12, 24, 36]
    """
    if not isinstance(rate, (Fraction, int)) or isinstance(rate, bool):
        raise TypeError(f"rate must be a Fraction such as Fraction(24000, 1001), not {type(rate).__name__}")
    if which == "beats":
        times = analysis.beat_times_s
    elif which == "downbeats":
        times = analysis.downbeat_times_s
    else:
        raise ValueError(f"which must be 'beats' or 'downbeats', not {which!r}")
    out: list[int] = []
    for f in quantize_times(times, Fraction(rate)):
        if not out or f > out[-1]:
            out.append(int(f))
    return out
