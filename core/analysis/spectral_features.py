"""Log-filtered spectrogram features, as madmom computes them for beat-tracking networks.

A re-implementation in numpy of madmom's chain ``FramedSignal -> STFT (Hann) ->
LogarithmicFilterbank (triangular, log-spaced) -> log10(1 + S) -> positive first difference``
(madmom is BSD-licensed; no code is copied). BeatNet's networks were trained on exactly these
features at 22050 Hz, 64 ms frames, 20 ms hop (50 frames/s), 24 bands per octave from 30 Hz:
``log_filtered_features(y)`` gives them, shape ``(n_frames, 272)``.

Frame ``i`` is centred on sample ``i * hop`` (zero padded at the ends), so frame ``i`` is the
time ``i / fps``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft

__all__ = ["FEATURE_SR", "FEATURE_HOP", "FEATURE_FPS", "FEATURE_FRAME",
           "frame_signal", "log_filterbank", "log_filtered_features"]

FEATURE_SR = 22050
FEATURE_HOP = int(0.020 * FEATURE_SR)      # 441 samples, 20 ms
FEATURE_FRAME = int(0.064 * FEATURE_SR)    # 1411 samples, 64 ms
FEATURE_FPS = FEATURE_SR / FEATURE_HOP     # 50 frames per second


def _padded(y: np.ndarray, frame_size: int, hop: int) -> tuple[np.ndarray, int]:
    """``y`` with ``frame_size // 2`` zeros in front and enough behind for the last frame."""
    y = np.asarray(y, dtype=np.float32)
    n_frames = int(np.ceil(len(y) / float(hop)))
    left = frame_size // 2
    padded = np.zeros(left + n_frames * hop + frame_size, dtype=np.float32)
    padded[left:left + len(y)] = y
    return padded, n_frames


def frame_signal(y: np.ndarray, frame_size: int, hop: int) -> np.ndarray:
    """Frames of ``y`` centred on ``i * hop``, ``ceil(len(y) / hop)`` of them, zero padded."""
    padded, n_frames = _padded(y, frame_size, hop)
    idx = np.arange(n_frames)[:, None] * hop + np.arange(frame_size)[None, :]
    return padded[idx]


def _log_frequencies(bands_per_octave: int, fmin: float, fmax: float, fref: float = 440.0) -> np.ndarray:
    left = np.floor(np.log2(fmin / fref) * bands_per_octave)
    right = np.ceil(np.log2(fmax / fref) * bands_per_octave)
    f = fref * 2.0 ** (np.arange(left, right) / float(bands_per_octave))
    f = f[np.searchsorted(f, fmin):]
    return f[:np.searchsorted(f, fmax, "right")]


def _nearest_bins(freqs: np.ndarray, bin_freqs: np.ndarray) -> np.ndarray:
    idx = np.clip(bin_freqs.searchsorted(freqs), 1, len(bin_freqs) - 1)
    left, right = bin_freqs[idx - 1], bin_freqs[idx]
    idx = idx - (freqs - left < right - freqs)
    return np.unique(idx)


@lru_cache(maxsize=8)
def log_filterbank(n_fft_bins: int, sr: int, bands_per_octave: int = 24, fmin: float = 30.0,
                   fmax: float = 17000.0) -> np.ndarray:
    """Triangular filters on log-spaced centres, each normalised to unit area:
    shape ``(n_fft_bins, n_bands)``. Bins are those of an FFT of ``2 * n_fft_bins`` points."""
    bin_freqs = np.fft.fftfreq(n_fft_bins * 2, 1.0 / sr)[:n_fft_bins]
    bins = _nearest_bins(_log_frequencies(bands_per_octave, fmin, fmax), bin_freqs)
    bank = []
    for start, center, stop in zip(bins[:-2], bins[1:-1], bins[2:]):
        start, center, stop = int(start), int(center), int(stop)
        if stop - start < 2:
            center, stop = start, start + 1
        tri = np.zeros(stop - start)
        tri[:center - start] = np.linspace(0.0, 1.0, center - start, endpoint=False)
        tri[center - start:] = np.linspace(1.0, 0.0, stop - center, endpoint=False)
        tri /= tri.sum()
        col = np.zeros(n_fft_bins, dtype=np.float32)
        col[start:stop] = tri
        bank.append(col)
    bank_arr = np.stack(bank, axis=1)
    bank_arr.setflags(write=False)
    return bank_arr


def log_filtered_features(y: np.ndarray, sr: int = FEATURE_SR, frame_size: int = FEATURE_FRAME,
                          hop: int = FEATURE_HOP, bands_per_octave: int = 24) -> np.ndarray:
    """``[log10(1 + filtered magnitude), its positive first difference]`` per frame.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono signal at ``sr`` (BeatNet: 22050 Hz), float in [-1, 1].

    Returns
    -------
    np.ndarray [shape=(n_frames, 2 * n_bands)], float32
    """
    window = np.hanning(frame_size).astype(np.float32)
    n_bins = frame_size >> 1
    bank = log_filterbank(n_bins, int(sr), bands_per_octave)
    padded, n_frames = _padded(y, frame_size, hop)
    logspec = np.empty((n_frames, bank.shape[1]), dtype=np.float32)
    chunk = 2048                                       # frames at a time: bounded memory on long songs
    # Overlapping frames as a strided view of the padded signal (no copy until the window).
    all_frames = np.lib.stride_tricks.as_strided(padded, (n_frames, frame_size),
                                                 (padded.strides[0] * hop, padded.strides[0]), writeable=False)
    for a in range(0, n_frames, chunk):
        b = min(n_frames, a + chunk)
        frames = all_frames[a:b]
        spec = np.abs(scipy.fft.rfft(frames * window, n=frame_size, axis=1)[:, :n_bins]).astype(np.float32)
        logspec[a:b] = np.log10(spec @ bank + 1.0)
    # Difference to the frame whose window overlaps by half (madmom's diff_ratio=0.5).
    sample = int(np.argmax(window > 0.5))
    diff_frames = max(1, int(round((frame_size / 2.0 - sample) / hop)))
    diff = np.zeros_like(logspec)
    diff[diff_frames:] = np.maximum(logspec[diff_frames:] - logspec[:-diff_frames], 0.0)
    return np.hstack([logspec, diff])
