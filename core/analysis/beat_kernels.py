"""The two loops of the neural beat tracker that cannot be vectorised, compiled with numba.

- :func:`lstm_recurrence`: an LSTM layer's recurrent update, one frame after another (the
  input projection of every frame is one matrix product done before, in numpy).
- :func:`bar_viterbi`: the forward pass of the bar-pointer DBN's Viterbi decoding, with the
  tempo transitions at the beat boundaries restricted to the band where they are non-zero, and
  :func:`bar_backtrack`, its path.

numba is already a dependency of librosa (music analysis imports both); the kernels are cached
on disk after their first compilation (``cache=True``). Their numpy equivalents are the
reference in the tests (``tests/test_beat_tracker.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["fast_tanh", "lstm_recurrence", "bar_viterbi", "bar_backtrack"]


#: Beyond this |x| float32's tanh is +-1 (to the last bit).
_TANH_CLAMP = 7.90531110763549805
# A rational minimax approximation of tanh on [-_TANH_CLAMP, _TANH_CLAMP] (odd numerator of
# degree 13 over an even denominator of degree 6), as in Eigen's fast float tanh: within
# 3e-7 of the exact tanh everywhere (tested), and a loop of it vectorises.
_TANH_P = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
           1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03)
_TANH_Q = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03)
_P32 = tuple(np.float32(c) for c in _TANH_P)
_Q32 = tuple(np.float32(c) for c in _TANH_Q)
_LIM32 = np.float32(_TANH_CLAMP)


@njit(cache=True, nogil=True, fastmath=True)
def fast_tanh(x: np.ndarray) -> None:  # pragma: no cover - compiled
    """``x[:] = tanh(x)`` (float32), to within 3e-7."""
    p0, p1, p2, p3, p4, p5, p6 = _P32
    q0, q1, q2, q3 = _Q32
    lim = _LIM32
    for i in range(x.shape[0]):
        v = min(max(x[i], -lim), lim)
        v2 = v * v
        p = ((((((p0 * v2 + p1) * v2 + p2) * v2 + p3) * v2 + p4) * v2 + p5) * v2 + p6) * v
        q = ((q0 * v2 + q1) * v2 + q2) * v2 + q3
        x[i] = p / q


@njit(cache=True, nogil=True, fastmath=True)
def lstm_recurrence(gates_x: np.ndarray, w_hh_t: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Hidden states ``(n_frames, n_cells)`` of an LSTM layer (torch's gate order i, f, g, o, zero
    initial state) from its input gates ``x @ W_ih.T + b`` (``(n_frames, 4 * n_cells)``, float32)
    and ``W_hh.T`` (``(n_cells, 4 * n_cells)``, contiguous float32). The sigmoid of a gate is
    ``(1 + tanh(g / 2)) / 2``."""
    n_frames = gates_x.shape[0]
    n = w_hh_t.shape[0]
    h = np.zeros(n, dtype=np.float32)
    c = np.zeros(n, dtype=np.float32)
    g = np.empty(4 * n, dtype=np.float32)
    tc = np.empty(n, dtype=np.float32)
    out = np.empty((n_frames, n), dtype=np.float32)
    half = np.float32(0.5)
    for t in range(n_frames):
        # h @ W_hh.T as a loop of row updates (vectorised): a BLAS call per frame would be as
        # fast alone but, multi-threaded, synchronises its threads 50 times a second of music.
        for j in range(4 * n):
            g[j] = gates_x[t, j]
        for k in range(n):
            hk = h[k]
            for j in range(4 * n):
                g[j] += hk * w_hh_t[k, j]
        for j in range(2 * n):
            g[j] *= half
        for j in range(3 * n, 4 * n):
            g[j] *= half
        fast_tanh(g)
        for j in range(n):
            c[j] = (half + half * g[n + j]) * c[j] + (half + half * g[j]) * g[2 * n + j]
            tc[j] = c[j]
        fast_tanh(tc)
        for j in range(n):
            h[j] = (half + half * g[3 * n + j]) * tc[j]
        out[t] = h
    return out


@njit(cache=True, nogil=True)
def bar_viterbi(delta: np.ndarray, lasts_prev: np.ndarray, firsts: np.ndarray, log_a: np.ndarray,
                band_lo: np.ndarray, band_hi: np.ndarray, beat_states: np.ndarray,
                downbeat_states: np.ndarray, d_beat: np.ndarray, d_down: np.ndarray,
                bp: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Run the Viterbi recursion over frames ``1..n-1`` from the initial scores ``delta``.

    Inside a beat a state's only predecessor is the state before it; a beat's first state is
    reached from the last states of the previous beat at every tempo ``fr`` with
    ``band_lo[to] <= fr < band_hi[to]`` (the others have zero probability). ``bp[i, b, to]``
    receives the best ``fr``; the final scores are returned.

    The scores live in a ring: state ``s`` at frame ``i`` is at ``(s - i) mod n``, so moving
    every state one position on is free and only the beats' first states are written.
    """
    n_frames = bp.shape[0]
    b_count, n_t = firsts.shape
    n = delta.shape[0]
    ring = delta.copy()
    log_a_t = np.ascontiguousarray(log_a.T)             # (to, from)
    vals = np.empty(n_t)
    best = np.empty((b_count, n_t))
    for i in range(1, n_frames):
        prev = i - 1
        for b in range(b_count):
            for fr in range(n_t):
                vals[fr] = ring[(lasts_prev[b, fr] - prev) % n]
            for to in range(n_t):
                m = -np.inf
                arg = band_lo[to]
                row = log_a_t[to]
                for fr in range(band_lo[to], band_hi[to]):
                    v = vals[fr] + row[fr]
                    if v > m:
                        m = v
                        arg = fr
                best[b, to] = m
                bp[i, b, to] = arg
        for b in range(b_count):
            for to in range(n_t):
                ring[(firsts[b, to] - i) % n] = best[b, to]
        db = d_beat[i]
        for s in beat_states:
            ring[(s - i) % n] += db
        dd = d_down[i]
        for s in downbeat_states:
            ring[(s - i) % n] += dd
    out = np.empty(n)
    last = n_frames - 1
    for s in range(n):
        out[s] = ring[(s - last) % n]
    return out


@njit(cache=True, nogil=True)
def bar_backtrack(last_state: int, bp: np.ndarray, is_first: np.ndarray, block_beat: np.ndarray,
                  block_tempo: np.ndarray, lasts_prev: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """The Viterbi path ending in ``last_state``, from the back-pointers of :func:`bar_viterbi`:
    inside a beat the state before is ``s - 1``; at a beat's first state it is the last state of
    the previous beat at the tempo ``bp`` recorded."""
    n_frames = bp.shape[0]
    path = np.empty(n_frames, dtype=np.int64)
    s = last_state
    for i in range(n_frames - 1, 0, -1):
        path[i] = s
        if is_first[s]:
            b = block_beat[s]
            s = lasts_prev[b, bp[i, b, block_tempo[s]]]
        else:
            s -= 1
    path[0] = s
    return path
