"""Numpy on arrays of a few lines, payers or services, without numpy's per-call overhead.

The monthly step works on arrays of 2 to 10 elements, every month of every run, where the
Python wrappers around a numpy call cost more than its arithmetic. These helpers give the same
floats, to the last bit, as the calls they replace (``benchmarks/check_identical.py``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["clip", "np_sum", "ratio", "some"]

#: ``np.clip``'s own ufunc: the same values (signed zeros and NaN included), called directly
#: rather than through ``np.clip``'s wrappers, which cost three times the clipping. It lives in
#: numpy's private core (``numpy._core`` from numpy 2, ``numpy.core`` before).
try:
    from numpy._core.umath import clip
except ImportError:  # numpy < 2
    from numpy.core.umath import clip


def some(values: np.ndarray) -> bool:
    """``values.any()``: the same answer, at a quarter of the cost for a few elements."""
    return any(values.tolist())


def ratio(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``a / b`` where ``where`` holds, 0 elsewhere: ``np.where(where, a / b, 0.0)`` without
    dividing where it does not hold (so no warnings to silence); ``a`` has the result's shape."""
    return np.divide(a, b, out=np.zeros(a.shape), where=where)


def np_sum(values: list[float]) -> float:
    """The sum numpy gives for a 1-D float64 array of these values, on plain floats.

    numpy sums pairwise (``pairwise_sum`` in its loops): one running sum below 8 values, eight
    partial sums combined as a tree up to 128, halves recursively beyond; the reduction adds
    that to its identity, 0.0. Python's ``sum`` compensates (3.12) and a plain loop runs left
    to right: both can differ from numpy in the last bit.
    """
    return 0.0 + _pairwise(values)


def _pairwise(values: list[float]) -> float:
    n = len(values)
    if n < 8:
        total = -0.0
        for v in values:
            total += v
        return total
    if n <= 128:
        r = values[:8]
        stop = n - n % 8
        for i in range(8, stop, 8):
            for j in range(8):
                r[j] += values[i + j]
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for v in values[stop:]:
            total += v
        return total
    half = n // 2
    half -= half % 8
    return _pairwise(values[:half]) + _pairwise(values[half:])
