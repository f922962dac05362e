"""The analysis's faster equivalents give numpy's (and their own slower form's) values to the
last bit: the footage analysis output must not move when they replace the slow forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from montage_ai.core.analysis import quality as Q


def _reference_median(win: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(win, axis=-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_median_matches_numpy_bit_for_bit(dtype) -> None:
    rng = np.random.default_rng(7)
    for _ in range(400):
        shape = tuple(int(v) for v in rng.integers(1, 6, size=rng.integers(1, 3))) + (int(rng.integers(1, 40)),)
        x = (rng.standard_normal(shape) * 10 ** rng.uniform(-5, 3)).astype(dtype)
        if rng.random() < 0.4:
            x = np.round(x, 1)  # ties, and -0.0 beside 0.0
        x[rng.random(shape) < rng.uniform(0, 1)] = np.nan
        if rng.random() < 0.1:
            x[rng.random(shape) < 0.1] = np.inf
        want = _reference_median(x)
        got = Q.nan_median_last(x)
        assert got.dtype == want.dtype
        assert got.tobytes() == np.asarray(want).tobytes()


def test_nan_median_all_nan_rows_and_window_reduce() -> None:
    x = np.array([[np.nan, np.nan], [1.0, np.nan], [-0.0, -0.0]])
    assert np.array_equal(Q.nan_median_last(x), np.array([np.nan, 1.0, 0.0]), equal_nan=True)
    assert np.signbit(Q.nan_median_last(x)[2]) == np.signbit(_reference_median(x)[2])
    # Through the windowed reduction the judges use (NaN-cut ends, NaN holes).
    rng = np.random.default_rng(3)
    v = rng.uniform(0, 1, 300)
    v[rng.random(300) < 0.3] = np.nan
    got = Q._window_reduce(v, 12, 13, np.nanmedian)
    pad = np.concatenate([np.full(12, np.nan), v, np.full(14, np.nan)])
    want = _reference_median(np.lib.stride_tricks.sliding_window_view(pad, 25)[:301])
    assert got.tobytes() == want.tobytes()


def test_blend_fit_is_fitted_once_a_range_with_the_same_values() -> None:
    from montage_ai.core.analysis import gradual as G
    from montage_ai.core.analysis.shot_signatures import frame_signatures

    rng = np.random.default_rng(5)
    a, b = rng.uniform(0, 255, (36, 64, 3)), rng.uniform(0, 255, (36, 64, 3))
    smalls = np.stack([np.clip((1 - t) * a + t * b, 0, 255) for t in np.linspace(0, 1, 12)]).astype(np.uint8)
    z, hist, mean, p99, std, thumb = frame_signatures(smalls)
    sig = G.Signatures(np.arange(12), z, hist, mean, p99, std, thumb)
    first = G._blend_fit(sig, 1, 10)
    assert G._blend_fit(sig, 1, 10) is first
    fresh = G._fit_blend(G.Signatures(np.arange(12), z, hist, mean, p99, std, thumb), 1, 10)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(first, fresh))
    # The fit as it was written before (float64 copies, np.linalg.norm): the same bits.
    A, B = thumb[1].ravel().astype(np.float64), thumb[10].ravel().astype(np.float64)
    dAB = B - A
    norm2 = float(dAB @ dAB)
    X = thumb[1:11].reshape(10, -1).astype(np.float64) - A
    alpha = X @ dAB / norm2
    resid = np.linalg.norm(X - alpha[:, None] * dAB[None, :], axis=1) / np.sqrt(norm2)
    assert first[0].tobytes() == alpha.tobytes() and first[1].tobytes() == resid.tobytes()
    assert G._blend_span(sig, 0, 11) == G._blend_span(G.Signatures(np.arange(12), z, hist, mean, p99, std, thumb), 0, 11)


def test_details_lost_at_once_equals_one_by_one() -> None:
    from montage_ai.core.analysis import exposure as EX
    from montage_ai.core.analysis import exposure_mark as XM

    rng = np.random.default_rng(11)
    mean = np.concatenate([rng.uniform(0, 1, 400), [0.0, 1.0, 0.02, 0.99, 0.5]])
    hi = np.concatenate([rng.uniform(0, 1, 400) ** 3, [0.0, 0.97, 0.0, 0.95, 0.0]])
    lo = np.concatenate([rng.uniform(0, 1, 400) ** 3, [1.0, 0.0, 0.98, 0.0, 0.0]])
    at_once = EX.details_lost(255.0 * mean, hi, lo)
    one_by_one = [EX.detail_lost(255.0 * float(m), float(h), float(lw)) is not None for m, h, lw in zip(mean, hi, lo)]
    assert at_once.tolist() == one_by_one and any(one_by_one) and not all(one_by_one)
    key = XM.Key(0.3, 0.1)
    for m, h, lw, gone in zip(mean, hi, lo, at_once):
        assert XM.exposure_mark(m, h, lw, key, bool(gone)) == XM.exposure_mark(m, h, lw, key)


def test_tone_fit_stops_early_only_once_the_answer_is_known() -> None:
    from montage_ai.core.analysis.exposure_drift import TONE_R2, tone_fit

    rng = np.random.default_rng(0)
    pic = rng.uniform(0, 255, (18, 32, 1)).repeat(3, -1)
    crushed = np.clip(pic - 120.0, 0, 255)
    other = rng.uniform(0, 255, (18, 32, 3))
    assert tone_fit(pic, crushed, enough=TONE_R2) >= TONE_R2 and tone_fit(pic, crushed) >= TONE_R2
    assert tone_fit(pic, other, enough=TONE_R2) == tone_fit(pic, other) < TONE_R2
