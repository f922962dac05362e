"""The signal-processing beat tracker: the fallback when the network's weights cannot be loaded,
and what ``tracker="classic"`` always uses (steps 1-5 of :mod:`montage_ai.core.analysis.music`).

Stem (demucs ``no_vocals`` when installed with its model cached, else HPSS), onset envelopes
normalised by their local level, a local tempo curve (Viterbi through a tempogram), the octave
check, librosa's dynamic-programming beat tracker fed that curve, and metre and bar phase from
beat-synchronous features. :func:`classic_beats` runs them in order.
"""

from __future__ import annotations

import importlib.util
import logging
import os

import numpy as np
import scipy.ndimage

from montage_ai.core.analysis.music_meter import chroma_change, estimate_downbeats
from montage_ai.core.analysis.music_signal import (
    HOP,
    N_FFT,
    CancelFn,
    ProgressFn,
    beat_sync,
    check_cancel,
    percussive_component,
)

log = logging.getLogger(__name__)

__all__ = ["onset_envelope", "local_tempo", "refine_beats", "trim_weak_ends", "track_beats", "classic_beats"]

_TEMPO_MIN_BPM = 40.0
_TEMPO_MAX_BPM = 240.0
_BINS_PER_OCTAVE = 24
# The log-spectral flux of centred STFT frames peaks as soon as an onset enters the leading
# edge of the window, about 0.38 of a half window before the onset itself (measured on drums).
_ONSET_LAG_FRACTION = 0.38


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


def _tempo_grid() -> np.ndarray:
    n = int(np.floor(np.log2(_TEMPO_MAX_BPM / _TEMPO_MIN_BPM) * _BINS_PER_OCTAVE)) + 1
    return _TEMPO_MIN_BPM * 2.0 ** (np.arange(n) / _BINS_PER_OCTAVE)


def local_tempo(env: np.ndarray, sr: int, hop_length: int = HOP, *, win_length: int = 256,
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
    n_bins, n_frames = emis.shape
    path = _viterbi_path(emis, jump_cost)
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


def _viterbi_path(emis: np.ndarray, jump_cost: float) -> np.ndarray:
    """The best path through log emissions ``emis`` (bins x frames) under a transition cost of
    ``jump_cost`` per bin of change between frames: one bin index per frame."""
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
    return path


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


def track_beats(env: np.ndarray, bpm: np.ndarray, sr: int, hop_length: int = HOP, *,
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


def classic_beats(y: np.ndarray, sr: int, hop_length: int, use_demucs: bool | None,
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
    check_cancel(cancel, "separation")

    S = np.abs(librosa.stft(y_track, n_fft=N_FFT, hop_length=hop_length))
    # HPSS twice on small spectrograms rather than once on the full one (4x faster): on
    # mel power for the percussive onsets, on the bins below ~5.5 kHz for harmonic chroma.
    n_mels = 96
    mel_power = librosa.feature.melspectrogram(S=S ** 2, sr=sr, n_mels=n_mels, fmax=sr / 2)
    _, P_mel = percussive_component(mel_power, kernel_size=17)
    freqs = librosa.mel_frequencies(n_mels=n_mels, fmax=sr / 2)
    log_mel = librosa.power_to_db(P_mel, ref=np.max, top_db=80.0)
    n_low = min(S.shape[0], int(5500.0 * N_FFT / sr) + 1)
    H_low, _ = percussive_component(S[:n_low], kernel_size=17)
    H = np.zeros_like(S)
    H[:n_low] = H_low
    report(0.3)
    check_cancel(cancel, "spectrogram")

    env = onset_envelope(log_mel, freqs)
    env_low = onset_envelope(log_mel, freqs, fmax_hz=3000.0)
    env_n = _normalise_locally(env, sr, hop_length)
    env_low_n = _normalise_locally(env_low, sr, hop_length)
    report(0.45)
    check_cancel(cancel, "onsets")

    bpm_curve, _ = local_tempo(env_n, sr, hop_length)
    check_cancel(cancel, "tempo")
    # Local normalisation lifts a decaying tail too; the beats end with the last onset that
    # is clear on the absolute scale.
    env_track = env_n.copy()
    loud = np.flatnonzero(env >= 0.2 * float(np.percentile(env, 95)))
    if len(loud):
        env_track[int(loud[-1]) + 3:] = 0.0
    bpm_curve, beats = _octave_check(env_track, env_low_n, bpm_curve, sr, hop_length)
    report(0.6)
    check_cancel(cancel, "beats")

    # Drop beats before the music starts and after it ends (silence around the track).
    rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=hop_length)[0]
    audible = rms > 10 ** (-45 / 20) * (float(rms.max()) + 1e-12)
    if np.any(audible):
        first, last = int(np.argmax(audible)), len(audible) - 1 - int(np.argmax(audible[::-1]))
        beats = beats[(beats >= first - 2) & (beats <= last)]
    beats = trim_weak_ends(env_track, beats)
    n_frames = S.shape[1]
    beat_pos = refine_beats(env, beats)
    beat_times = (beat_pos * hop_length + _ONSET_LAG_FRACTION * N_FFT / 2) / sr

    chroma = librosa.feature.chroma_stft(S=H ** 2, sr=sr, n_fft=N_FFT, hop_length=hop_length)
    meter, phase = _meter_and_phase(chroma, beats, n_frames, log_mel, freqs, env_n, sr, hop_length)
    report(0.75)
    return stem, beat_times, beats, meter, phase, S, mel_power, chroma, rms


def _meter_and_phase(chroma: np.ndarray, beats: np.ndarray, n_frames: int, log_mel: np.ndarray,
                     freqs: np.ndarray, env_n: np.ndarray, sr: int, hop_length: int) -> tuple[int, int]:
    """Metre and downbeat phase from bass onsets, onset accents and chord changes at the beats
    (4/4 from the first beat when there are too few beats to tell)."""
    if len(beats) < 8:
        return 4, 0
    c_sync = beat_sync(chroma, beats, n_frames)
    c_sync = c_sync / (np.linalg.norm(c_sync, axis=0, keepdims=True) + 1e-9)
    change = chroma_change(c_sync, width=2)
    env_bass = onset_envelope(log_mel, freqs, fmax_hz=200.0)
    feats = {
        "low": _values_at(_normalise_locally(env_bass, sr, hop_length), beats, 2),
        "accent": _values_at(env_n, beats, 1),
        "chroma": change,
    }
    meter, phase, _ = estimate_downbeats(feats, weights={"low": 1.0, "accent": 0.2, "chroma": 1.0})
    return meter, phase
