"""A click track to audition a beat grid: a click on every beat (a higher, louder one on
each downbeat), alone or mixed over the song, written as a 16-bit WAV.

The click of a beat at song time ``t`` starts on the sample ``round((t - start_s) * rate)``
of the file (``start_s``: the song time of the file's first sample), so what the editor
hears is exactly the grid every cut uses. The song is decoded by ffmpeg (any audio or video
file), mono, for the part asked; the decode has a deadline and can be cancelled.

>>> track = make_click_track("song.wav", music.beat_times_s, music.downbeat_times_s,
...                          "clicks.wav", duration_s=music.duration_s)        # doctest: +SKIP
>>> track.click_samples[:3]                                                    # doctest: +SKIP
(11025, 22050, 33075)
"""

from __future__ import annotations

import io
import logging
import math
import os
import subprocess
import threading
import time
import wave
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.base.fileio import write_atomic
from montage_ai.core.media.probe import require_tool

log = logging.getLogger(__name__)

RATE = 44100
#: The longest stretch rendered at once (a 30-minute song is auditioned ten minutes at a time).
MAX_SECONDS = 600.0
CLICK_S = 0.03
BEAT_HZ, DOWNBEAT_HZ = 1000.0, 1600.0
BEAT_LEVEL, DOWNBEAT_LEVEL = 0.45, 0.8
SONG_LEVEL = 0.6
#: Beats and downbeats closer than this are the same event (a downbeat is one of the beats).
SAME_S = 0.002


@dataclass(frozen=True)
class ClickTrack:
    """A written click track. ``click_samples[i]``: the first sample of click ``i`` in the
    file; ``accents[i]``: it marks a downbeat. The file holds
    ``song_gain * song + click_gain * clicks`` (before 16-bit rounding)."""

    path: str
    sample_rate: int
    start_s: float
    duration_s: float
    click_samples: tuple[int, ...]
    accents: tuple[bool, ...]
    with_song: bool
    song_gain: float
    click_gain: float


def click_sound(rate: int, accent: bool) -> np.ndarray:
    """One click: a cosine burst (1 kHz, 1.6 kHz on a downbeat) with a fast exponential decay;
    its first sample is its loudest, so the click starts exactly where it is placed."""
    n = int(round(CLICK_S * rate))
    t = np.arange(n) / rate
    hz, level = (DOWNBEAT_HZ, DOWNBEAT_LEVEL) if accent else (BEAT_HZ, BEAT_LEVEL)
    return (level * np.cos(2 * np.pi * hz * t) * np.exp(-t / (CLICK_S / 6))).astype(np.float32)


def click_events(beat_times_s: Sequence[float], downbeat_times_s: Sequence[float], start_s: float,
                 end_s: float, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample positions (from ``start_s``) and accents of the clicks in ``[start_s, end_s)``:
    every beat, accented when a downbeat falls on it, and any downbeat that is not a beat."""
    beats = np.asarray(sorted(float(t) for t in beat_times_s), dtype=float)
    downs = np.asarray(sorted(float(t) for t in downbeat_times_s), dtype=float)
    accent = np.zeros(len(beats), dtype=bool)
    lone: list[float] = []
    for d in downs:
        if len(beats):
            i = int(np.argmin(np.abs(beats - d)))
            if abs(beats[i] - d) <= SAME_S:
                accent[i] = True
                continue
        lone.append(float(d))
    times = np.concatenate([beats, np.asarray(lone, dtype=float)])
    accents = np.concatenate([accent, np.ones(len(lone), dtype=bool)])
    order = np.argsort(times, kind="stable")
    times, accents = times[order], accents[order]
    keep = (times >= start_s) & (times < end_s)
    samples = np.round((times[keep] - start_s) * rate).astype(np.int64)
    return samples, accents[keep]


def render_clicks(n_samples: int, samples: np.ndarray, accents: np.ndarray, rate: int) -> np.ndarray:
    """The clicks alone, ``n_samples`` long (a click that runs past the end is cut short)."""
    out = np.zeros(n_samples, dtype=np.float32)
    sounds = {False: click_sound(rate, False), True: click_sound(rate, True)}
    for at, acc in zip(samples.tolist(), accents.tolist()):
        if 0 <= at < n_samples:
            sound = sounds[bool(acc)]
            end = min(n_samples, at + len(sound))
            out[at:end] += sound[: end - at]
    return out


def wav_bytes(y: np.ndarray, rate: int) -> bytes:
    """Mono float samples (-1..1) as a 16-bit PCM WAV file."""
    pcm = np.clip(np.round(np.asarray(y, dtype=np.float64) * 32767), -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def decode_part(path: str, start_s: float, length_s: float, rate: int, *, cancel: Callable[[], bool] | None = None,
                deadline_s: float = 60.0) -> np.ndarray:
    """``length_s`` seconds of the song from ``start_s``, mono float32 at ``rate``, by ffmpeg.
    Raises MediaError naming the file when it cannot be decoded or takes over ``deadline_s``,
    Cancelled when ``cancel()`` says so (ffmpeg is killed either way)."""
    cmd = [require_tool("ffmpeg"), "-nostdin", "-v", "error", "-ss", f"{max(0.0, start_s):.6f}", "-t",
           f"{length_s:.6f}", "-i", path, "-map", "0:a:0", "-vn", "-sn", "-dn", "-f", "f32le", "-acodec",
           "pcm_f32le", "-ac", "1", "-ar", str(int(rate)), "pipe:1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    chunks: list[bytes] = []
    err: list[bytes] = []
    readers = [threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stdout.read(1 << 18), b"")), daemon=True),
               threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)]
    for r in readers:
        r.start()
    until = time.monotonic() + deadline_s
    try:
        while proc.poll() is None:
            if cancel is not None and cancel():
                raise Cancelled(f"the click track of {path} was cancelled")
            if time.monotonic() > until:
                raise MediaError(path, f"decoding the song for the click track took over {deadline_s:.0f} s")
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    for r in readers:
        r.join(timeout=5)
    data = b"".join(chunks)
    if proc.returncode != 0 and not data:
        lines = b"".join(err).decode("utf-8", "replace").strip().splitlines()
        raise MediaError(path, "audio cannot be decoded: " + (lines[-1] if lines else f"ffmpeg exited with {proc.returncode}"))
    y = np.frombuffer(data[: len(data) // 4 * 4], dtype="<f4")
    return np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def make_click_track(song: str | os.PathLike[str], beat_times_s: Sequence[float], downbeat_times_s: Sequence[float],
                     out_path: str | os.PathLike[str], *, duration_s: float, start_s: float = 0.0,
                     end_s: float | None = None, with_song: bool = True, rate: int = RATE,
                     progress: Callable[[float], None] | None = None, cancel: Callable[[], bool] | None = None,
                     deadline_s: float = 60.0) -> ClickTrack:
    """Write the click track of a grid over ``[start_s, end_s)`` of the song (at most
    :data:`MAX_SECONDS`), mixed with the song unless ``with_song`` is False.

    The mix is the song at :data:`SONG_LEVEL` plus the clicks, scaled down together when it
    would clip. Raises MediaError naming the song (it cannot be decoded, an empty range).
    """
    song = os.fspath(song)
    end = min(float(duration_s), float(end_s) if end_s is not None else float(duration_s))
    end = min(end, start_s + MAX_SECONDS)
    if not end > start_s >= 0:
        raise MediaError(song, f"no music to click over from {start_s:.2f} s to {end:.2f} s")
    n = int(math.ceil((end - start_s) * rate))
    if progress:
        progress(0.0)
    song_gain = 0.0
    music = np.zeros(n, dtype=np.float32)
    if with_song:
        decoded = decode_part(song, start_s, end - start_s, rate, cancel=cancel, deadline_s=deadline_s)
        music[: min(n, len(decoded))] = decoded[:n]
        song_gain = SONG_LEVEL
    if progress:
        progress(0.6)
    samples, accents = click_events(beat_times_s, downbeat_times_s, start_s, end, rate)
    clicks = render_clicks(n, samples, accents, rate)
    mixed = song_gain * music + clicks
    peak = float(np.max(np.abs(mixed))) if n else 0.0
    scale = 0.98 / peak if peak > 0.98 else 1.0
    if cancel is not None and cancel():
        raise Cancelled(f"the click track of {song} was cancelled")
    write_atomic(out_path, wav_bytes(mixed * scale, rate), overwrite=True)
    if progress:
        progress(1.0)
    log.info("click track of %s: %d clicks, %.1f s from %.2f s%s", os.path.basename(song), len(samples),
             end - start_s, start_s, " over the song" if with_song else "")
    return ClickTrack(os.fspath(out_path), int(rate), float(start_s), float(end - start_s),
                      tuple(int(s) for s in samples), tuple(bool(a) for a in accents), bool(with_song),
                      float(song_gain * scale), float(scale))
