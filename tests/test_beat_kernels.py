"""The compiled loops of the neural tracker against plain numpy references (the code they
replaced): the LSTM recurrence, its fast tanh, and the bar DBN's Viterbi recursion."""

from __future__ import annotations

import numpy as np

from montage_ai.core.analysis import bar_dbn, beat_activation
from montage_ai.core.analysis.beat_kernels import fast_tanh, lstm_recurrence
from montage_ai.core.samples.music import render_preset

RNG = np.random.default_rng(3)


def _lstm_numpy(x, w_ih, w_hh, b):
    n = w_hh.shape[1]
    gx = x @ w_ih.T + b
    h = np.zeros(n, np.float32)
    c = np.zeros(n, np.float32)
    out = np.empty((len(x), n), np.float32)
    for t in range(len(x)):
        g = gx[t] + h @ w_hh.T
        sg = 1.0 / (1.0 + np.exp(-g.astype(np.float64)))
        c = sg[n:2 * n] * c + sg[:n] * np.tanh(g[2 * n:3 * n].astype(np.float64))
        h = (sg[3 * n:] * np.tanh(c)).astype(np.float32)
        out[t] = h
    return out


def _viterbi_numpy(ss, act, observation_lambda):
    """The dense numpy recursion bar_dbn used before its loop was compiled."""
    eps = 1e-12
    beat = np.log(np.maximum(act[:, 0], eps))
    down = np.log(np.maximum(act[:, 1], eps))
    none = np.log(np.maximum(1.0 - act[:, 0] - act[:, 1], eps) / (observation_lambda - 1.0))
    d_beat, d_down = beat - none, down - none
    b_count, n_t = ss.firsts.shape
    lasts_prev = ss.lasts[np.roll(np.arange(b_count), 1)]
    log_a = ss.log_transition[None, :, :]
    bp = np.empty((len(act), b_count, n_t), dtype=np.int16)
    delta = np.full(ss.n_states, -np.log(ss.n_states))
    delta[ss.beat_states] += d_beat[0]
    delta[ss.downbeat_states] += d_down[0]
    new = np.empty_like(delta)
    for i in range(1, len(act)):
        cand = delta[lasts_prev][:, :, None] + log_a
        bp[i] = cand.argmax(axis=1)
        new[1:] = delta[:-1]
        new[ss.firsts] = cand.max(axis=1)
        new[ss.beat_states] += d_beat[i]
        new[ss.downbeat_states] += d_down[i]
        delta, new = new, delta
    path = np.empty(len(act), dtype=np.int64)
    s = int(np.argmax(delta))
    log_p = float(delta[s])
    for i in range(len(act) - 1, 0, -1):
        path[i] = s
        if ss.is_first[s]:
            s = int(lasts_prev[int(ss.block_beat[s]), bp[i, int(ss.block_beat[s]), int(ss.block_tempo[s])]])
        else:
            s -= 1
    path[0] = s
    return path, log_p


def test_fast_tanh_is_within_3e_7_of_tanh_everywhere():
    x = np.linspace(-20.0, 20.0, 400_001).astype(np.float32)
    y = x.copy()
    fast_tanh(y)
    assert np.max(np.abs(y - np.tanh(x.astype(np.float64)))) < 3e-7
    assert np.all(np.abs(y) <= 1.0) and np.all(np.diff(y) >= -5e-7)


def test_compiled_lstm_matches_numpy_on_the_shipped_weights():
    w = beat_activation.load_weights()
    x = RNG.standard_normal((400, 150)).astype(np.float32)
    b = w["lstm.bias_ih_l0"] + w["lstm.bias_hh_l0"]
    ref = _lstm_numpy(x, w["lstm.weight_ih_l0"], w["lstm.weight_hh_l0"], b)
    got = lstm_recurrence(np.ascontiguousarray(x @ w["lstm.weight_ih_l0"].T + b),
                          np.ascontiguousarray(w["lstm.weight_hh_l0"].T))
    assert got.dtype == np.float32 and got.shape == ref.shape
    assert np.max(np.abs(got - ref)) < 5e-6


def test_compiled_viterbi_gives_the_numpy_path_on_generated_music():
    y, _ = render_preset("waltz")
    act = beat_activation.activations_for_signal(y, 22050)[:900].astype(np.float64)
    for bpb in (3, 4):
        ss = bar_dbn.bar_state_space(bpb, 60 * 50 / 205, 60 * 50 / 55)
        ref_path, ref_lp = _viterbi_numpy(ss, act, 16.0)
        path, lp = bar_dbn._viterbi(ss, act, 16.0)
        assert np.array_equal(path, ref_path)
        assert abs(lp - ref_lp) < 1e-6 * abs(ref_lp)


def test_one_blas_thread_limits_blas_inside_nested_blocks_and_restores_it():
    from montage_ai.core.analysis.blas_threads import _controller, one_blas_thread

    ctl = _controller()
    if ctl is None or not ctl.info():
        return                                            # no BLAS that threadpoolctl can see
    before = [i["num_threads"] for i in ctl.info()]
    with one_blas_thread():
        with one_blas_thread():
            assert all(i["num_threads"] == 1 for i in ctl.info())
        assert all(i["num_threads"] == 1 for i in ctl.info())
    assert [i["num_threads"] for i in ctl.info()] == before
