"""Music analysis that is bounded: it stops at once when cancelled, and long songs stream.

:func:`analyze_music_bounded` is what the product calls (through
:func:`~montage_ai.core.run.jobs.analyze_music_cached`):

- Ctrl-C (``cancel()``) returns within a poll interval (0.1 s), whatever long numeric step
  the analysis is in: a song up to :data:`LONG_SONG_S` is analysed in a worker thread that
  the caller stops waiting for (it stops itself at its next stage); a longer one in child
  processes that are killed, with the ffmpeg decoder;
- a long song is decoded by ffmpeg as a stream and analysed in overlapping chunks in a
  child process (:data:`LONG_SONG_WORKERS`; at most two), so memory is bounded by the chunk,
  not the song.

Memory, measured (``bench/scale_music.py``, a 30-minute song): a worker holds its own
librosa, numba and LLVM, about 330 MB of which a 46 s chunk's own arrays are about 40 MB.
One worker: 0.57 GB peak for the whole process tree (this process 0.14, the worker 0.37,
ffmpeg 0.05), 32 s of CPU. A second worker saves wall time only on an idle machine (both
cores free) and adds its 0.33 GB (0.91 GB peak), so the default is one.

A song up to :data:`LONG_SONG_S` is analysed whole by
:func:`~montage_ai.core.analysis.music.analyze_music`. A longer one
goes through :func:`~montage_ai.core.analysis.music.analyze_music_signal` chunk by chunk
(whatever tracker that is): each chunk is analysed with :data:`OVERLAP_S` of context either
side and keeps the beats and downbeats of its own span; the metre is the one most of the
song has; beat energy and sections are computed over the whole song from compact
per-frame features (RMS, chroma, MFCC) the chunks send back. Only the fields of
:class:`~montage_ai.core.analysis.music.MusicAnalysis` cross between the two.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any, Callable

import numpy as np

from montage_ai.core.analysis.music import DECODED_PROGRESS, MusicAnalysis, Section, analyze_music, analyze_music_signal
from montage_ai.core.analysis.music_sections import find_sections, section_label
from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.media.probe import probe, require_tool

log = logging.getLogger(__name__)

#: Songs longer than this (seconds) are streamed and analysed in chunks.
LONG_SONG_S = 600.0
CHUNK_S = 40.0
OVERLAP_S = 6.0
SR = 22050
HOP = 512
#: Worker processes for a long song by default (see the module docstring: memory).
LONG_SONG_WORKERS = 1
#: How often the parent looks at ``cancel()`` and its children.
POLL_S = 0.1
#: After a cancel, how long the whole-song path waits for its decoder to be killed.
DECODER_STOP_S = 1.0
#: A decoder that sends nothing for this long is stopped (a stalled network share).
STALL_S = 120.0

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]


# --------------------------------------------------------------------------- children


def _chunk_features(y: np.ndarray, sr: int) -> np.ndarray:
    """Per-frame RMS (1), chroma (12) and MFCC 1..12 (12) of a chunk at ``HOP``: (25, n_frames)."""
    import librosa

    S = np.abs(librosa.stft(y, n_fft=2048, hop_length=HOP)) ** 2
    rms = np.sqrt(np.maximum(S.sum(axis=0) * 2 / 2048 ** 2, 0.0))[None, :]
    chroma = librosa.feature.chroma_stft(S=S, sr=sr, n_fft=2048, hop_length=HOP)
    mel = librosa.feature.melspectrogram(S=S, sr=sr, n_mels=64)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=13)[1:]
    return np.vstack([rms, chroma, mfcc]).astype(np.float32)


def _worker(conn: Any) -> None:
    """A child: analyses what the parent sends until told to stop (or killed). It says
    "ready" first, so the parent never blocks sending a chunk to a child still starting."""
    logging.basicConfig(level=logging.WARNING)
    import librosa  # noqa: F401  (the slow import, before "ready")

    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        try:
            if msg[0] == "file":
                result = analyze_music(msg[1], progress=lambda f: conn.send(("progress", f)))
                conn.send(("done", result.to_dict()))
            elif msg[0] == "chunk":
                _, index, y, sr = msg
                result = analyze_music_signal(y, sr)
                conn.send(("chunk", index, result.to_dict(), _chunk_features(y, sr)))
            else:
                return
        except MediaError as exc:
            conn.send(("media_error", exc.path, exc.reason))
        except Exception as exc:  # reported to the parent as one line, never a traceback
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class _Children:
    """Worker processes, killed on exit. On POSIX each is ``python -m`` this module talking
    over two pipes (no re-import of the caller's main module, which a script without a
    ``__main__`` guard would not survive); elsewhere a multiprocessing spawn process."""

    def __init__(self, n: int) -> None:
        self.procs: list[Any] = []
        self.conns: list[Any] = []
        try:
            for _ in range(n):
                self._start()
        except BaseException:
            self.__exit__()
            raise

    def _start(self) -> None:
        from multiprocessing.connection import Connection

        if os.name == "posix":
            to_child, from_parent = os.pipe()
            to_parent, from_child = os.pipe()[::-1]
            proc = subprocess.Popen([sys.executable, "-m", "montage_ai.core.analysis.music_stream", "--worker",
                                     str(to_child), str(to_parent)], pass_fds=(to_child, to_parent),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            os.close(to_child)
            os.close(to_parent)
            self.procs.append(proc)
            self.conns.append(_Duplex(Connection(from_child, writable=False), Connection(from_parent, readable=False)))
            return
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_worker, args=(child,), daemon=True, name="montage-ai music")
        p.start()
        child.close()
        self.procs.append(p)
        self.conns.append(parent)

    def __enter__(self) -> "_Children":
        return self

    def __exit__(self, *exc: Any) -> None:
        for conn in self.conns:
            try:
                conn.close()
            except OSError:
                pass
        for p in self.procs:
            if _exitcode(p) is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(timeout=2) if isinstance(p, subprocess.Popen) else p.join(timeout=2)
            except subprocess.TimeoutExpired:
                pass

    def check_alive(self, path: str) -> None:
        for p in self.procs:
            code = _exitcode(p)
            if code is not None and code != 0:
                raise MediaError(path, f"music analysis stopped unexpectedly (worker exit status {code}; "
                                       "out of memory?)")


def _exitcode(p: Any) -> int | None:
    return p.poll() if isinstance(p, subprocess.Popen) else p.exitcode


class _Duplex:
    """A reading and a writing Connection used as one (what ``Pipe()`` gives)."""

    def __init__(self, reader: Any, writer: Any) -> None:
        self.reader, self.writer = reader, writer

    def send(self, obj: Any) -> None:
        self.writer.send(obj)

    def recv(self) -> Any:
        return self.reader.recv()

    def poll(self, timeout: float = 0.0) -> bool:
        return self.reader.poll(timeout)

    def fileno(self) -> int:
        return self.reader.fileno()

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


def _check(cancel: CancelFn | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("music analysis cancelled")


def _raise_for(msg: tuple, path: str) -> None:
    if msg[0] == "media_error":
        raise MediaError(msg[1], msg[2])
    if msg[0] == "error":
        raise MediaError(path, f"music analysis failed: {msg[1]}")


# --------------------------------------------------------------------------- entry point


def analyze_music_bounded(path: str | os.PathLike[str], *, progress: ProgressFn | None = None,
                          cancel: CancelFn | None = None, workers: int | None = None,
                          long_song_s: float = LONG_SONG_S, chunk_s: float = CHUNK_S,
                          overlap_s: float = OVERLAP_S) -> MusicAnalysis:
    """:func:`~montage_ai.core.analysis.music.analyze_music` in child processes: cancellable
    within :data:`POLL_S`, long songs streamed in chunks (see the module docstring) by
    ``workers`` processes (default :data:`LONG_SONG_WORKERS`, at most 2).

    Raises
    ------
    MediaError
        The file cannot be decoded, or the analysis failed (one line, naming the file).
    Cancelled
        ``cancel()`` returned True; the children and the decoder are already stopped.
    """
    path = os.path.abspath(os.fspath(path))
    _check(cancel)
    info = probe(path, require_video=False, verify_tail=False)  # names the file when it cannot be read
    if not info.has_audio:
        raise MediaError(path, "has no audio stream to use as music")
    if info.duration_s <= long_song_s:
        return _analyze_in_thread(path, progress, cancel)
    n = max(1, min(workers or LONG_SONG_WORKERS, os.cpu_count() or 1, 2))
    return _analyze_long(path, info.duration_s, n, progress, cancel, chunk_s, overlap_s)


def _analyze_in_thread(path: str, progress: ProgressFn | None, cancel: CancelFn | None) -> MusicAnalysis:
    """The whole song in a worker thread while this one watches ``cancel()``: a cancel
    returns at once (the worker stops at its next stage and its result is dropped). The
    callbacks run on the caller's thread."""
    stop = threading.Event()
    done = threading.Event()
    box: dict[str, Any] = {"fraction": 0.0}

    def run() -> None:
        try:
            box["result"] = analyze_music(path, progress=lambda f: box.__setitem__("fraction", f), cancel=stop.is_set)
        except BaseException as exc:  # handed to the caller
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name="montage-ai music").start()
    shown = -1.0
    try:
        while not done.wait(POLL_S):
            _check(cancel)
            if progress is not None and box["fraction"] != shown:
                shown = box["fraction"]
                progress(shown)
    except BaseException:
        stop.set()
        _let_decoder_stop(done, box)
        raise
    if "error" in box:
        raise box["error"]
    if progress is not None:
        progress(1.0)
    return box["result"]


def _let_decoder_stop(done: threading.Event, box: dict[str, Any]) -> None:
    """After a cancel, wait (at most :data:`DECODER_STOP_S`) while the worker may still be
    decoding: its ffmpeg is killed and reaped at its next read, so none outlives the call.
    Past decoding (progress at :data:`DECODED_PROGRESS`) the worker holds no child and is
    left to stop at its next stage."""
    deadline = time.monotonic() + DECODER_STOP_S
    while box["fraction"] < DECODED_PROGRESS and not done.is_set() and time.monotonic() < deadline:
        done.wait(0.01)


def _receive(kids: _Children, k: int, path: str, cancel: CancelFn | None) -> tuple:
    conn = kids.conns[k]
    while not conn.poll(POLL_S):
        _check(cancel)
        kids.check_alive(path)
    try:
        return conn.recv()
    except EOFError:
        kids.check_alive(path)
        raise MediaError(path, "music analysis stopped unexpectedly") from None


# --------------------------------------------------------------------------- long songs


def _decode_stream(path: str, sr: int, cancel: CancelFn | None) -> Any:
    """Yield mono float32 blocks from ffmpeg as it decodes; the decoder is killed on cancel,
    on a stall of :data:`STALL_S`, or when the consumer stops early."""
    cmd = [require_tool("ffmpeg"), "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-vn", "-sn", "-dn",
           "-f", "f32le", "-acodec", "pcm_f32le", "-ac", "1", "-ar", str(int(sr)), "pipe:1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    blocks: queue.Queue = queue.Queue(maxsize=8)
    err: list[bytes] = []

    def pump() -> None:
        try:
            while True:
                b = proc.stdout.read(1 << 18)
                blocks.put(b)
                if not b:
                    return
        except (OSError, ValueError):
            blocks.put(b"")

    threading.Thread(target=pump, daemon=True).start()
    threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True).start()
    rest = b""
    got = 0
    last = time.monotonic()
    try:
        while True:
            try:
                b = blocks.get(timeout=POLL_S)
            except queue.Empty:
                _check(cancel)
                if time.monotonic() - last > STALL_S:
                    raise MediaError(path, f"the decoder sent no audio for {STALL_S:.0f} s") from None
                continue
            _check(cancel)
            last = time.monotonic()
            if not b:
                break
            got += len(b)
            b = rest + b
            n = len(b) // 4
            rest = b[n * 4:]
            y = np.frombuffer(b[: n * 4], dtype="<f4")
            yield np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
        rc = proc.wait(timeout=STALL_S)
        if got < 4:
            lines = b"".join(err).decode("utf-8", "replace").strip().splitlines()
            raise MediaError(path, "audio cannot be decoded: " + (lines[-1] if lines else f"ffmpeg exited with {rc}"))
        if rc != 0:
            log.warning("%s: ffmpeg reported errors while decoding, using what it decoded", path)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


def _chunks(blocks: Any, sr: int, own: int, ctx: int) -> Any:
    """``(index, first_sample, samples)`` of chunks whose own span is ``own`` samples, with
    ``ctx`` samples of context either side (both multiples of :data:`HOP`)."""
    buf = np.zeros(0, dtype=np.float32)
    base = 0  # song sample of buf[0]
    index = 0
    for block in blocks:
        buf = np.concatenate([buf, block])
        while base + len(buf) >= (index + 1) * own + ctx:
            start = max(0, index * own - ctx)
            end = (index + 1) * own + ctx
            yield index, start, buf[start - base:end - base].copy()
            index += 1
            drop = max(0, index * own - ctx) - base
            buf, base = buf[drop:], base + drop
    start = max(0, index * own - ctx)
    if base + len(buf) > index * own + sr // 2 or index == 0:  # the tail (at least half a second of its own)
        yield index, start, buf[start - base:].copy()


def _analyze_long(path: str, claimed_s: float, n_workers: int, progress: ProgressFn | None, cancel: CancelFn | None,
                  chunk_s: float, overlap_s: float) -> MusicAnalysis:
    own = int(round(chunk_s * SR / HOP)) * HOP
    ctx = int(round(overlap_s * SR / HOP)) * HOP
    total = max(1, int(np.ceil(claimed_s * SR / own)))
    results: dict[int, tuple[int, int, MusicAnalysis, np.ndarray]] = {}
    n_samples = 0
    with _Children(n_workers) as kids:
        busy: dict[int, tuple[int, int, int]] = {}  # worker -> (index, start, length)
        ready: set[int] = set()

        def collect(k: int) -> None:
            msg = _receive(kids, k, path, cancel)
            _raise_for(msg, path)
            index, start, length = busy.pop(k)
            results[index] = (start, length, MusicAnalysis.from_dict(msg[2]), msg[3])
            if progress is not None:
                progress(min(0.95, len(results) / total))

        for index, start, y in _chunks(_decode_stream(path, SR, cancel), SR, own, ctx):
            n_samples = max(n_samples, start + len(y))
            free = next((k for k in range(n_workers) if k not in busy), None)
            if free is not None and free not in ready:
                _raise_for(_receive(kids, free, path, cancel), path)
                ready.add(free)
            while free is None:  # wait for whichever worker answers first
                ready = multiprocessing.connection.wait([kids.conns[k].reader if isinstance(kids.conns[k], _Duplex)
                                                         else kids.conns[k] for k in busy], timeout=POLL_S)
                _check(cancel)
                kids.check_alive(path)
                for k in [k for k in busy if (getattr(kids.conns[k], "reader", kids.conns[k])) in ready]:
                    collect(k)
                free = next((k for k in range(n_workers) if k not in busy), None)
            kids.conns[free].send(("chunk", index, y, SR))
            busy[free] = (index, start, len(y))
        while busy:
            collect(next(iter(busy)))
    if not results:
        raise MediaError(path, "audio stream decodes to no samples")
    return _stitch(path, results, n_samples / SR, own, ctx)


def _own_span(index: int, own: int, last: bool) -> tuple[float, float]:
    return index * own / SR, (np.inf if last else (index + 1) * own / SR)


def _stitch(path: str, results: dict, duration_s: float, own: int, ctx: int) -> MusicAnalysis:
    """One analysis from the chunks': own-span beats and downbeats, seams cleaned, the
    majority metre, energy and sections over the whole song."""
    order = sorted(results)
    beats: list[float] = []
    downs: list[float] = []
    meters: Counter = Counter()
    frames: list[np.ndarray] = []
    for i in order:
        start, length, a, feats = results[i]
        lo, hi = _own_span(i, own, i == order[-1])
        off = start / SR
        beats += [t + off for t in a.beat_times_s if lo <= t + off < hi]
        downs += [t + off for t in a.downbeat_times_s if lo <= t + off < hi]
        if a.beat_times_s:
            meters[a.meter] += len(a.beat_times_s)
        f0 = int(round((lo - off) * SR / HOP))
        f1 = feats.shape[1] if hi == np.inf else int(round((hi - off) * SR / HOP))
        frames.append(feats[:, f0:f1])
    feats = np.concatenate(frames, axis=1) if frames else np.zeros((25, 0), np.float32)
    beats_a = _clean_seams(np.asarray(beats))
    meter = meters.most_common(1)[0][0] if meters else 4
    downs_a = _downbeats(beats_a, downs, meter)
    energy = _beat_energy(feats[0], beats_a)
    sections = _sections(feats, beats_a, downs_a, energy, duration_s)
    ibi = np.diff(beats_a)
    return MusicAnalysis(
        path=path, duration_s=float(duration_s), sample_rate=SR, tempo_bpm=float(60.0 / np.median(ibi)) if len(ibi) else 0.0,
        meter=int(meter), beat_times_s=tuple(float(t) for t in beats_a), downbeat_times_s=tuple(float(t) for t in downs_a),
        beat_energy=tuple(float(e) for e in energy), sections=sections, stem="hpss")


def _downbeats(beats: np.ndarray, downs: list[float], meter: int) -> np.ndarray:
    """Every ``meter``-th beat at the bar phase most of the chunks' downbeats vote for: one
    bar count through the whole song, as the tracker keeps for a song analysed whole."""
    if not len(beats) or not downs:
        return np.zeros(0)
    near = np.abs(beats[None, :] - np.asarray(downs)[:, None]).argmin(axis=1)
    near = near[np.abs(beats[near] - np.asarray(downs)) < 0.1]
    if not len(near):
        return np.zeros(0)
    phase = Counter(int(i) % meter for i in near).most_common(1)[0][0]
    return beats[phase::meter]


def _clean_seams(beats: np.ndarray) -> np.ndarray:
    """Beats closer than 0.6 of the local period are one beat seen by two chunks: keep one."""
    if len(beats) < 3:
        return beats
    beats = np.sort(beats)
    period = float(np.median(np.diff(beats)))
    keep = [beats[0]]
    for t in beats[1:]:
        if t - keep[-1] >= 0.6 * period:
            keep.append(t)
    return np.asarray(keep)


def _beat_energy(rms: np.ndarray, beats: np.ndarray) -> np.ndarray:
    if not len(beats):
        return np.zeros(0)
    sq = np.concatenate([[0.0], np.cumsum(rms.astype(np.float64) ** 2)])
    f = np.clip(np.round(beats * SR / HOP).astype(int), 0, len(rms))
    b = np.r_[f[1:], len(rms)]
    b = np.maximum(b, f + 1).clip(max=len(rms))
    e = np.sqrt(np.maximum(sq[b] - sq[f], 0.0) / np.maximum(b - f, 1))
    top = float(e.max()) if len(e) else 0.0
    return e / top if top > 0 else e


def _bar_means(X: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Mean of the frame columns of each bar ``[bounds[i], bounds[i + 1])`` (at least one frame)."""
    n = X.shape[1]
    out = np.zeros((X.shape[0], len(bounds) - 1))
    for i in range(len(bounds) - 1):
        a = min(int(bounds[i]), n - 1)
        b = min(max(int(bounds[i + 1]), a + 1), n)
        out[:, i] = X[:, a:b].mean(axis=1)
    return out


def _sections(feats: np.ndarray, beats: np.ndarray, downs: np.ndarray, energy: np.ndarray,
              duration_s: float) -> tuple[Section, ...]:
    whole = (Section(0.0, duration_s, "A", float(np.mean(energy)) if len(energy) else 0.0),)
    if len(downs) < 4 or feats.shape[1] == 0:
        return whole
    n = feats.shape[1]
    bounds = np.r_[np.clip(np.round(downs * SR / HOP).astype(int), 0, n), n]
    loud = 10 * np.log10(np.maximum(feats[0:1] ** 2, 1e-10))
    chroma = _bar_means(feats[1:13], bounds)
    k = np.ones(2) / 2
    chroma = np.vstack([np.convolve(r, k, mode="same") for r in chroma])
    starts, labels = find_sections([chroma, _bar_means(feats[13:], bounds), _bar_means(loud, bounds)])
    edges = [0.0] + [float(downs[s]) for s in starts[1:]] + [duration_s]
    out = []
    for i, lab in enumerate(labels):
        a, b = edges[i], edges[i + 1]
        sel = (beats >= a) & (beats < b)
        out.append(Section(float(a), float(b), section_label(lab), float(np.mean(energy[sel])) if np.any(sel) else 0.0))
    return tuple(out)


__all__ = ["LONG_SONG_S", "CHUNK_S", "OVERLAP_S", "analyze_music_bounded"]


def _worker_main(argv: list[str]) -> int:
    """``python -m montage_ai.core.analysis.music_stream --worker READ_FD WRITE_FD``."""
    from multiprocessing.connection import Connection

    if len(argv) != 3 or argv[0] != "--worker":
        print("usage: python -m montage_ai.core.analysis.music_stream --worker READ_FD WRITE_FD", file=sys.stderr)
        return 2
    conn = _Duplex(Connection(int(argv[1]), writable=False), Connection(int(argv[2]), readable=False))
    _worker(conn)
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
