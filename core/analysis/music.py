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

Where the parts are
-------------------
This module holds the records (:class:`MusicAnalysis`, :class:`Section`, the version), the
entry points and :func:`beat_frames`, and re-exports the public functions of the others:
:mod:`~montage_ai.core.analysis.music_signal` (decoding, spectra, the shared hop and cancel
check), :mod:`~montage_ai.core.analysis.music_classic` (the signal-processing tracker, steps
1-5), :mod:`~montage_ai.core.analysis.music_meter` (metre and bar phase, for both trackers),
:mod:`~montage_ai.core.analysis.music_sections` (beat energy and sections).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.ndimage

from montage_ai.core.analysis.beat_tracker import NO_CLEAR_BEAT, BeatConfidence
from montage_ai.core.analysis.music_classic import classic_beats, local_tempo, onset_envelope, track_beats
from montage_ai.core.analysis.music_meter import bar_phase, estimate_downbeats
from montage_ai.core.analysis.music_sections import (
    LOW_BAND_HZ,
    beat_energy,
    beat_low_energy,
    find_sections,
    section_label,
)
from montage_ai.core.analysis.music_signal import (
    HOP,
    CancelFn,
    ProgressFn,
    bass_chroma,
    beat_sync,
    check_cancel,
    chroma_filters,
    load_audio,
    percussive_component,
    spectra,
)
from montage_ai.core.base.timebase import quantize_times

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
    "LOW_BAND_HZ",
]

#: Bumped whenever the results of :func:`analyze_music` change (a cache key for callers).
MUSIC_ANALYSIS_VERSION = "8"  # 8: double time when the network fires on the off-beats as on the beats; 7: swing phase, metrical level; 4: beat_low; 5: the compiled tracker, swing and metre checks; 6: bass notes in the bar phase


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


def _track_neural(y: np.ndarray, sr: int, path: str):
    """The neural tracker's result, or None when its model cannot be loaded."""
    from montage_ai.core.analysis.beat_activation import ModelUnavailable
    from montage_ai.core.analysis.beat_tracker import track_signal

    try:
        return track_signal(y, sr)
    except ModelUnavailable as exc:
        log.warning("%s: %s; using the signal-processing beat tracker", path or "signal", exc)
        return None


def analyze_music_signal(y: np.ndarray, sr: int, *, path: str = "", progress: ProgressFn | None = None,
                         cancel: CancelFn | None = None, use_demucs: bool | None = None,
                         hop_length: int = HOP, tracker: str = "auto") -> MusicAnalysis:
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
    check_cancel(cancel, "start")
    report(0.0)
    if len(y) < sr or not np.any(np.abs(y) > 1e-6):
        log.info("%s: too short or silent for beat analysis", path or "signal")
        return MusicAnalysis(path, duration_s, int(sr), 0.0, 4, (), (), (), (Section(0.0, duration_s, "A", 0.0),)
                             if duration_s > 0 else (), "hpss",
                             BeatConfidence(0.0, 0.0, 0.0, (NO_CLEAR_BEAT,), tracker="none"))

    stem, confidence = "hpss", None
    tracked = None if tracker == "classic" else _track_neural(y, sr, path)
    check_cancel(cancel, "beats")
    if tracked is not None:
        beat_times, beats, meter, db_idx, confidence, S, mel_power, chroma, rms = _neural_beats(
            tracked, y, sr, hop_length, duration_s)
        stem = "mix"
        report(0.75)
    else:
        stem, beat_times, beats, meter, phase, S, mel_power, chroma, rms = classic_beats(
            y, sr, hop_length, use_demucs, cancel, report, path)
        db_idx = np.arange(phase, len(beats), max(meter, 1))
    n_frames = S.shape[1]
    check_cancel(cancel, "downbeats")
    downbeats = beats[db_idx]

    # Energy per beat, and of the low end (kick, bass) from the spectrum.
    energy = beat_energy(y, librosa.frames_to_samples(beats, hop_length=hop_length))
    low = beat_low_energy(S, beats, sr)

    sections: tuple[Section, ...]
    if len(downbeats) >= 4:
        sections = _bar_sections(chroma, mel_power, rms, downbeats, beat_times[db_idx], beat_times, energy,
                                 n_frames, duration_s)
    else:
        sections = (Section(0.0, duration_s, "A", float(np.mean(energy)) if len(energy) else 0.0),)
    check_cancel(cancel, "sections")          # a cancel during the last stage still cancels
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


def _neural_beats(tracked, y: np.ndarray, sr: int, hop_length: int, duration_s: float):
    """Beat times and frames, metre, downbeat indices and confidence from the neural tracker's
    result (the bar phase checked against the harmony), and the spectra the sections need."""
    import librosa

    S, mel_power, H, rms = spectra(y, sr, hop_length, hpss=False)
    beat_times = np.asarray(tracked.beat_times_s, dtype=float)
    beat_times = beat_times[(beat_times >= 0.0) & (beat_times < duration_s)]
    beats = librosa.time_to_frames(beat_times, sr=sr, hop_length=hop_length)
    numbers = tracked.beat_numbers[:len(beat_times)]
    meter = int(tracked.meter)
    # librosa.feature.chroma_stft(S=H ** 2, tuning=0.0), as one matrix product (H holds the
    # bins below ~5.5 kHz; the others are zero)
    chroma = librosa.util.normalize(
        chroma_filters(int(sr))[:, :H.shape[0]].astype(H.dtype, copy=False) @ (H ** 2), norm=np.inf, axis=0)
    db_idx, confidence = bar_phase(tracked, numbers, meter, chroma, beats, S.shape[1], bass_chroma(S, sr))
    return beat_times, beats, meter, db_idx, confidence, S, mel_power, chroma, rms


def _bar_sections(chroma: np.ndarray, mel_power: np.ndarray, rms: np.ndarray, downbeats: np.ndarray,
                  db_times: np.ndarray, beat_times: np.ndarray, energy: np.ndarray, n_frames: int,
                  duration_s: float) -> tuple[Section, ...]:
    """Sections on bars: harmony (over two-bar spans), timbre and loudness per bar into
    :func:`find_sections`; each section's energy is the mean beat energy inside it."""
    import librosa

    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel_power), n_mfcc=13)[1:]
    loud = librosa.power_to_db(np.maximum(rms, 1e-10) ** 2)[None, :]
    bars_f = beat_sync(chroma, downbeats, n_frames)
    bars_m = beat_sync(mfcc, downbeats, n_frames)
    bars_e = beat_sync(loud, downbeats, n_frames)
    # Chords change within a section: compare harmony over two-bar spans.
    bars_f = scipy.ndimage.uniform_filter1d(bars_f, 2, axis=1, mode="nearest")
    starts, labels = find_sections([bars_f, bars_m, bars_e])
    edges = [0.0] + [float(db_times[s]) for s in starts[1:]] + [duration_s]
    sec_list = []
    for i, lab in enumerate(labels):
        a, b = edges[i], edges[i + 1]
        sel = (beat_times >= a) & (beat_times < b)
        e = float(np.mean(energy[sel])) if np.any(sel) else 0.0
        sec_list.append(Section(float(a), float(b), section_label(lab), e))
    return tuple(sec_list)


#: ``analyze_music``'s progress once the song is decoded and its decoder reaped.
DECODED_PROGRESS = 0.2


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
    check_cancel(cancel, "start")
    if progress is not None:
        progress(0.0)
    y = load_audio(path, sr=sr, cancel=cancel)
    if progress is not None:
        progress(DECODED_PROGRESS)
    sub = None if progress is None else (lambda x: progress(DECODED_PROGRESS + (1 - DECODED_PROGRESS) * x))
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
