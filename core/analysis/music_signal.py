"""The signal a music analysis reads: any file decoded to mono samples, and its spectra.

:func:`load_audio` decodes the first audio stream of anything ffmpeg reads. :func:`spectra` gives
the magnitude STFT, mel power, the (harmonic) bins below ~5.5 kHz for chroma, and RMS, with
librosa's filter banks cached per sample rate; :func:`percussive_component` is the HPSS split;
:func:`bass_chroma` which bass note sounds; :func:`beat_sync` folds any per-frame feature into
one column per beat (or bar). Also what every stage of :mod:`montage_ai.core.analysis.music`
shares: the frame hop and FFT size, the progress and cancel callback types, :func:`check_cancel`.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from functools import lru_cache
from typing import Callable

import numpy as np
import scipy.fft
import scipy.signal

from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.media.probe import probe, require_tool

log = logging.getLogger(__name__)

__all__ = ["HOP", "N_FFT", "ProgressFn", "CancelFn", "BASS_CHROMA_HZ", "check_cancel", "load_audio",
           "percussive_component", "mel_filters", "chroma_filters", "spectra", "bass_chroma", "beat_sync"]

#: Frame hop (samples) of every spectrum of the analysis.
HOP = 512
#: FFT size (samples) of the STFT.
N_FFT = 2048

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]


def check_cancel(cancel: CancelFn | None, what: str) -> None:
    """Raise :class:`~montage_ai.core.base.errors.Cancelled` naming the stage ``what`` when
    ``cancel()`` returns True."""
    if cancel is not None and cancel():
        raise Cancelled(f"music analysis cancelled ({what})")


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


def percussive_component(S: np.ndarray, *, margin: float = 1.0, kernel_size: int = 17) -> tuple[np.ndarray, np.ndarray]:
    """Split a magnitude spectrogram into harmonic and percussive parts (median-filter HPSS).

    Returns ``(H, P)`` magnitudes of the shape of ``S``.
    """
    import librosa

    H, P = librosa.decompose.hpss(S, kernel_size=kernel_size, margin=margin)
    return H, P


@lru_cache(maxsize=4)
def mel_filters(sr: int) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=N_FFT, n_mels=96, fmax=sr / 2)


@lru_cache(maxsize=4)
def chroma_filters(sr: int) -> np.ndarray:
    import librosa

    return librosa.filters.chroma(sr=sr, n_fft=N_FFT, tuning=0.0)


def _stft_magnitude(y: np.ndarray, hop_length: int) -> np.ndarray:
    """``abs(librosa.stft(y, n_fft=2048, hop_length))`` (centred frames, zero padding, periodic
    Hann window), from a strided view of the padded signal: ``(1 + n_fft // 2, n_frames)``."""
    y = np.asarray(y, dtype=np.float32)
    pad = N_FFT // 2
    padded = np.zeros(len(y) + 2 * pad, dtype=np.float32)
    padded[pad:pad + len(y)] = y
    n_frames = 1 + (len(padded) - N_FFT) // hop_length
    frames = np.lib.stride_tricks.as_strided(padded, (n_frames, N_FFT),
                                             (padded.strides[0] * hop_length, padded.strides[0]), writeable=False)
    window = scipy.signal.get_window("hann", N_FFT, fftbins=True).astype(np.float32)
    return np.ascontiguousarray(np.abs(scipy.fft.rfft(frames * window, axis=1)).T)


def spectra(y: np.ndarray, sr: int, hop_length: int, hpss: bool = True):
    """Magnitude STFT, mel power, the (harmonic) bins below ~5.5 kHz (for chroma) and RMS."""
    S = _stft_magnitude(y, hop_length)
    power = S * S
    # librosa.feature.melspectrogram's result, as one matrix product (its einsum is slower here)
    mel_power = mel_filters(int(sr)).astype(S.dtype, copy=False) @ power
    n_low = min(S.shape[0], int(5500.0 * N_FFT / sr) + 1)
    H = percussive_component(S[:n_low], kernel_size=17)[0] if hpss else S[:n_low]
    # librosa.feature.rms(S=S, frame_length=n_fft): half weight on the DC and Nyquist bins
    rms = np.sqrt(2.0 * (power.sum(axis=0) - 0.5 * power[0] - 0.5 * power[-1]) / float(N_FFT) ** 2)
    return S, mel_power, H, rms


#: Top of the bass register for the bass-note chroma (Hz): bass-guitar and left-hand notes.
BASS_CHROMA_HZ = 250.0


def bass_chroma(S: np.ndarray, sr: int) -> np.ndarray:
    """Chroma of the STFT bins below :data:`BASS_CHROMA_HZ`: which bass note sounds."""
    n = min(S.shape[0], int(BASS_CHROMA_HZ * N_FFT / sr) + 1)
    return chroma_filters(int(sr))[:, :n].astype(S.dtype, copy=False) @ (S[:n] ** 2)


def beat_sync(X: np.ndarray, beats: np.ndarray, n_frames: int, aggregate=np.mean) -> np.ndarray:
    """Aggregate feature columns between consecutive beats: one column per beat (beat i to i+1)."""
    bounds = np.concatenate([beats, [n_frames]]).astype(int)
    out = np.zeros((X.shape[0], len(beats)))
    for i in range(len(beats)):
        a, b = bounds[i], max(bounds[i] + 1, bounds[i + 1])
        out[:, i] = aggregate(X[:, a:b], axis=1)
    return out
