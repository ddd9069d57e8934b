"""Test functions whose sensitivity indices are known, shared by the sensitivity tests.

Module level so that they pickle into worker processes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm

A, B = 7.0, 0.1
ISHIGAMI = {"names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
LINEAR = {"names": ["x1", "x2", "x3", "x4"], "bounds": [[0.0, 1.0]] * 4}
LINEAR_COEFS = (10.0, 3.0, 0.5, 0.0)


def ishigami(p: dict[str, float]) -> dict[str, float]:
    """The Ishigami function, and a metric that is x1 itself."""
    x1, x2, x3 = p["x1"], p["x2"], p["x3"]
    y = math.sin(x1) + A * math.sin(x2) ** 2 + B * x3**4 * math.sin(x1)
    return {"y": y, "x1_only": x1}


def ishigami_y(p: dict[str, float]) -> dict[str, float]:
    return {"y": ishigami(p)["y"]}


def linear(p: dict[str, float]) -> dict[str, float]:
    return {"y": sum(c * p[n] for c, n in zip(LINEAR_COEFS, LINEAR["names"], strict=True))}


def ishigami_partial_variances() -> tuple[float, float, float, float]:
    """V, V1, V2, V13 of the Ishigami function with uniform inputs on [-pi, pi]."""
    v1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
    return v1 + v2 + v13, v1, v2, v13


def ishigami_truth() -> dict[tuple[str, str], float]:
    v, v1, v2, v13 = ishigami_partial_variances()
    s1 = {"x1": v1 / v, "x2": v2 / v, "x3": 0.0}
    st_ = {"x1": (v1 + v13) / v, "x2": v2 / v, "x3": v13 / v}
    return {**{("S1", k): x for k, x in s1.items()}, **{("ST", k): x for k, x in st_.items()}}


def ishigami_design(sample, method: str, samples: int, seed: int = 0):
    """``X`` from ``sample`` and the Ishigami outputs over it."""
    X = sample(ISHIGAMI, method, samples, seed)
    y = np.array([ishigami(dict(zip(ISHIGAMI["names"], x, strict=True)))["y"] for x in X])
    return X, {"y": y}


def widening(checks: int, family_error: float = 0.01) -> float:
    """Half-widths an estimate may miss by, for `checks` simultaneous checks.

    SALib's interval is value +/- 1.96 bootstrap standard errors (95 %). A single check at
    1 half-width would fail 5 % of the time for an unlucky seed even with a correct
    estimator; for several checks we want the chance that *any* fails to be `family_error`,
    so by Bonferroni each gets z = Phi^-1(1 - family_error / (2 checks)), i.e. z / 1.96
    half-widths (about 1.6 for 6 checks). The bootstrap treats Sobol' points as
    independent draws, so it overstates the error of a scrambled Sobol' design: the factor
    errs on the lenient side only through that, not through a number picked to pass.
    """
    return norm.ppf(1 - family_error / (2 * checks)) / norm.ppf(0.975)


def values(frame: pd.DataFrame, metric: str = "y") -> pd.DataFrame:
    return frame[frame["metric"] == metric].set_index(["index", "parameter"])


def order(frame: pd.DataFrame, index: str, metric: str = "y") -> list[str]:
    rows = frame[(frame["metric"] == metric) & (frame["index"] == index)]
    return list(rows.sort_values("value", ascending=False)["parameter"])
