"""The small-array helpers give numpy's own floats, to the last bit (signed zeros included)."""

from __future__ import annotations

import warnings

import numpy as np

from poolpilot.model.challenges import unfairness
from poolpilot.model.smallarrays import (
    clip,
    clip_value,
    maximum,
    minimum,
    np_sum,
    pairwise_sum,
    python_sum,
    ratio,
    some,
)


def _arrays(seed: int, count: int):
    rng = np.random.default_rng(seed)
    for trial in range(count):
        n = int(rng.integers(0, 300)) if trial % 10 == 0 else int(rng.integers(0, 40))
        a = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 12, n)
        a[rng.random(n) < 0.2] = 0.0
        a[rng.random(n) < 0.1] = -0.0
        yield a


def test_np_sum_is_numpys_sum_bit_for_bit():
    for a in _arrays(0, 3000):
        assert np_sum(a.tolist()).hex() == float(a.sum()).hex()
        table = np.stack([a, a * 3.0], axis=1)  # a strided column sums the same way
        assert np_sum(table[:, 1].tolist()).hex() == float(table[:, 1].sum()).hex()


def test_clip_ratio_and_some_are_what_they_replace():
    for a in _arrays(1, 500):
        assert clip(a, -1.0, 1.0).tobytes() == np.clip(a, -1.0, 1.0).tobytes()
        b = np.abs(a[::-1])
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.where(b > 0, a / b, 0.0)
        assert ratio(a, b, where=b > 0).tobytes() == expected.tobytes()
        assert some(a) == bool(a.any())
    for x in (-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, float("nan")):
        assert float(np.clip(np.float64(x), -1.0, 1.0)).hex() == min(max(x, -1.0), 1.0).hex()


def test_unfairness_of_a_tiny_fair_share_is_clipped_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the overflow to inf is expected, and clipped
        gap = unfairness(np.array([5.0, 0.0, 1.0]), np.array([1e-320, 1e-320, 2.0]))
    assert gap.tolist() == [0.0, 1.0, 0.5]


def test_compiled_sums_are_numpys_and_pythons_bit_for_bit():
    for a in _arrays(2, 2000):
        assert pairwise_sum(a) == float(a.sum())
        assert python_sum(a) == float(sum(a.tolist()))
    # compensation: Python's sum keeps the 1.0 that a plain loop loses
    assert python_sum(np.array([1e16, 1.0, -1e16])) == 1.0
    assert pairwise_sum(np.array([1e16, 1.0, -1e16])) == 0.0
    assert python_sum(np.array([1e308, 1e308, -1e308])) == float("inf")


def test_compiled_clip_minimum_and_maximum_are_numpys():
    values = (-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, float("inf"), float("nan"))
    for x in values:
        for y in values:
            pairs = [
                (clip_value(x, -1.0, y), np.clip(np.float64(x), -1.0, y)),
                (clip_value(x, y, 1.0), np.clip(np.float64(x), y, 1.0)),
                (minimum(x, y), np.minimum(x, y)),
                (maximum(x, y), np.maximum(x, y)),
            ]
            for ours, numpys in pairs:
                assert float(ours).hex() == float(numpys).hex() or (
                    ours != ours and numpys != numpys
                )
