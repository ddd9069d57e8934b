"""Numpy on arrays of a few lines, payers or services, without numpy's per-call overhead.

The monthly step works on arrays of 2 to 10 elements, every month of every run, where the
Python wrappers around a numpy call cost more than its arithmetic. These helpers give the same
floats, to the last bit, as the calls they replace (``benchmarks/check_identical.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "clip",
    "clip_value",
    "maximum",
    "minimum",
    "np_sum",
    "pairwise_sum",
    "python_sum",
    "ratio",
    "some",
]

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
    """The sum numpy gives for a 1-D float64 array of these values (``pairwise_sum``)."""
    return pairwise_sum(np.asarray(values, dtype=np.float64))


# --- compiled: the same floats, inside the month's compiled rules ----------------------------
# numba compiles these on first use and caches the machine code beside the module, so a
# study's worker processes load it rather than compile it again. A cached function is compiled
# again when its own file changes, not when a helper it calls from another file does: after
# changing a helper here, delete the caches (``find src -name '*.nb[ic]' -delete``).


@njit(cache=True)
def clip_value(x: float, low: float, high: float) -> float:
    """``np.clip`` of one float, as numpy computes it (NaN passes through)."""
    if x != x or low != low or high != high:  # NaN, in the value or a bound, is the result
        return x + low + high
    x = low if low > x else x  # at a bound, x is kept (its signed zero too)
    return high if high < x else x


@njit(cache=True)
def minimum(a: float, b: float) -> float:
    """``np.minimum`` of two floats (NaN wins)."""
    return a if (a < b or a != a) else b


@njit(cache=True)
def maximum(a: float, b: float) -> float:
    """``np.maximum`` of two floats (NaN wins)."""
    return a if (a > b or a != a) else b


@njit(cache=True)
def pairwise_sum(values: np.ndarray) -> float:
    """``values.sum()`` for a 1-D float64 array, in numpy's order.

    numpy sums pairwise (``pairwise_sum`` in its loops): one running sum below 8 values, eight
    partial sums combined as a tree up to 128, halves recursively beyond; the reduction adds
    that to its identity, 0.0. Python's ``sum`` compensates (3.12) and a plain loop runs left
    to right: both can differ from numpy in the last bit.
    """
    return 0.0 + _pairwise_sum(values)


@njit(cache=True)
def _pairwise_sum(values: np.ndarray) -> float:
    n = values.shape[0]
    if n < 8:
        total = -0.0
        for i in range(n):
            total += values[i]
        return total
    if n <= 128:
        r = values[:8].copy()
        stop = n - n % 8
        for i in range(8, stop, 8):
            for j in range(8):
                r[j] += values[i + j]
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(stop, n):
            total += values[i]
        return total
    half = n // 2
    half -= half % 8
    return _pairwise_sum(values[:half]) + _pairwise_sum(values[half:])


@njit(cache=True)
def python_sum(values: np.ndarray) -> float:
    """Python's ``sum`` of these floats, to the bit: from 3.12 it compensates (Neumaier), so a
    plain loop can differ from it in the last bit. Empty gives 0.0 (Python's gives 0)."""
    n = values.shape[0]
    if n == 0:
        return 0.0
    total = 0.0 + values[0]  # sum starts from the integer 0
    c = 0.0
    for i in range(1, n):
        x = values[i]
        t = total + x
        if abs(total) >= abs(x):
            c += (total - t) + x
        else:
            c += (x - t) + total
        total = t
    if c != 0.0 and np.isfinite(c):
        total += c
    return total
