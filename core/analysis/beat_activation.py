"""Beat and downbeat activations from BeatNet's published CRNN, run in numpy.

BeatNet (Heydari, Cwitkowitz, Duan, ISMIR 2021; weights CC BY 4.0, see THIRD_PARTY.md) maps
each 20 ms frame of log-filtered spectrogram features (:mod:`spectral_features`) to three
probabilities: beat, downbeat, no beat. The network: a 1-D convolution over the feature axis
(1 -> 2 channels, kernel 10), ReLU, max-pooling by 2, a linear layer to 150, a two-layer
unidirectional LSTM of 150 cells, a linear layer to 3 and a softmax. The weights ship in
``weights/beatnet_1.npz`` (BeatNet's "model 1", the one trained with GTZAN held out),
converted once from the published ``model_1_weights.pt``; torch is not needed.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib import resources

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["WEIGHTS_NAME", "ModelUnavailable", "load_weights", "beatnet_activations", "activations_for_signal",
           "features_and_activations"]

WEIGHTS_NAME = "beatnet_1.npz"


class ModelUnavailable(RuntimeError):
    """The shipped weights cannot be read (missing or damaged install)."""


@lru_cache(maxsize=2)
def load_weights(name: str = WEIGHTS_NAME) -> dict[str, np.ndarray]:
    """The network's parameters by torch's names (``"lstm.weight_ih_l0"`` ...), float32."""
    try:
        ref = resources.files("montage_ai.core.analysis").joinpath("weights").joinpath(name)
        with ref.open("rb") as fh, np.load(fh) as z:
            w = {k.replace("__", "."): np.asarray(z[k], dtype=np.float32) for k in z.files}
    except (OSError, ValueError, KeyError) as exc:
        raise ModelUnavailable(f"beat model weights {name!r} cannot be read: {exc}") from exc
    need = {"conv1.weight", "conv1.bias", "linear0.weight", "linear0.bias", "linear.weight", "linear.bias"}
    if not need <= set(w):
        raise ModelUnavailable(f"beat model weights {name!r} lack {sorted(need - set(w))}")
    return w


def _lstm_layer(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One unidirectional LSTM layer (torch's gate order i, f, g, o), zero initial state: the
    input projection of all frames as one matrix product, the recurrence compiled."""
    from montage_ai.core.analysis.beat_kernels import lstm_recurrence

    gates_x = np.ascontiguousarray(x @ w_ih.T + b, dtype=np.float32)
    return lstm_recurrence(gates_x, np.ascontiguousarray(w_hh.T, dtype=np.float32))


def beatnet_activations(features: np.ndarray, weights: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Per-frame ``(beat, downbeat)`` probabilities, shape ``(n_frames, 2)``.

    ``beat`` is the probability of a beat that is not a downbeat; the third class (no beat)
    is ``1 - beat - downbeat``.
    """
    w = load_weights() if weights is None else weights
    x = np.asarray(features, dtype=np.float32)
    if len(x) == 0:
        return np.zeros((0, 2), dtype=np.float32)
    k = w["conv1.weight"]                                   # (2, 1, 10)
    width = k.shape[2]
    n_out = x.shape[1] - width + 1
    conv = np.empty((len(x), k.shape[0], n_out), dtype=np.float32)
    for ch in range(k.shape[0]):                         # cross-correlation, as torch's Conv1d
        acc = np.full((len(x), n_out), w["conv1.bias"][ch], dtype=np.float32)
        for j in range(width):
            acc += k[ch, 0, j] * x[:, j:j + n_out]
        conv[:, ch] = acc
    n_pool = conv.shape[2] // 2
    # ReLU then max-pooling by 2 = max-pooling then ReLU (both monotone); pairwise maxima,
    # as numpy's reduction over an axis of two is slow.
    pooled = np.maximum(np.maximum(conv[:, :, 0:2 * n_pool:2], conv[:, :, 1:2 * n_pool:2]), 0.0)
    h = pooled.reshape(len(x), -1) @ w["linear0.weight"].T + w["linear0.bias"]
    layer = 0
    while f"lstm.weight_ih_l{layer}" in w:
        h = _lstm_layer(h, w[f"lstm.weight_ih_l{layer}"], w[f"lstm.weight_hh_l{layer}"],
                        w[f"lstm.bias_ih_l{layer}"] + w[f"lstm.bias_hh_l{layer}"])
        layer += 1
    logits = h @ w["linear.weight"].T + w["linear.bias"]
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return p[:, :2].astype(np.float32)


def activations_for_signal(y: np.ndarray, sr: int) -> np.ndarray:
    """Resample to 22050 Hz if needed, compute the features and run the network: ``(n, 2)``
    at 50 frames/s."""
    return features_and_activations(y, sr)[1]


def features_and_activations(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """The network's input features ``(n, 272)`` and its activations ``(n, 2)``."""
    from montage_ai.core.analysis.spectral_features import FEATURE_SR, log_filtered_features

    y = np.asarray(y, dtype=np.float32)
    if int(sr) != FEATURE_SR:
        from math import gcd

        import scipy.signal

        g = gcd(int(sr), FEATURE_SR)
        y = scipy.signal.resample_poly(y, FEATURE_SR // g, int(sr) // g).astype(np.float32)
    feats = log_filtered_features(y)
    return feats, beatnet_activations(feats)
