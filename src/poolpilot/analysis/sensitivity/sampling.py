"""Drawing designs: a checked SALib problem and the SALib sampler each method needs.

Sampling is kept apart from evaluation so that a design can be run anywhere (serially, on an
executor, through the studies layer) and analysed afterwards with `analyze`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from SALib.sample import fast_sampler, latin
from SALib.sample import morris as morris_sampler
from SALib.sample import sobol as sobol_sampler

__all__ = ["FAST_M", "METHODS", "MORRIS_LEVELS", "sample"]

#: Supported methods.
METHODS = ("sobol", "morris", "fast", "rbd-fast", "delta")
#: eFAST interference factor (SALib's default); the sampler needs N > 4 * M**2.
FAST_M = 4
#: Morris grid levels.
MORRIS_LEVELS = 4
#: Methods that accept SALib ``groups``.
GROUPED_METHODS = ("sobol", "morris")


def sample(
    problem: Mapping[str, Any], method: str, samples: int = 1024, seed: int = 0
) -> np.ndarray:
    """Design matrix for ``method``, one row per model run, one column per parameter.

    ``samples`` is Sobol' base points (a power of two; N*(D+2) rows, first and total order
    only), Morris trajectories (N*(D+1)), eFAST points per parameter (> 64; N*D) or Latin
    hypercube rows for rbd-fast and delta (N), D counting groups where groups are given.
    """
    p = checked_problem(problem)
    check_method(method, p)
    check_samples(method, samples)
    if method == "sobol":
        return sobol_sampler.sample(p, samples, calc_second_order=False, seed=seed)
    if method == "morris":
        return morris_sampler.sample(p, samples, num_levels=MORRIS_LEVELS, seed=seed)
    if method == "fast":
        return fast_sampler.sample(p, samples, M=FAST_M, seed=seed)
    return latin.sample(p, samples, seed=seed)


def checked_problem(problem: Mapping[str, Any]) -> dict[str, Any]:
    """A checked copy of a SALib problem with ``num_vars`` filled in.

    SALib writes into the problem it is given and fails late on inconsistent ones; a copy
    checked up front keeps the caller's dict intact and the error next to its cause.
    """
    if not isinstance(problem, Mapping) or "names" not in problem or "bounds" not in problem:
        raise ValueError("problem must be a dict with 'names' and 'bounds'.")
    names = list(problem["names"])
    if not names or len(set(names)) != len(names):
        raise ValueError(f"problem names must be non-empty and unique, got {names}.")
    if len(problem["bounds"]) != len(names):
        raise ValueError(f"problem has {len(problem['bounds'])} bounds for {len(names)} names.")
    if problem.get("num_vars", len(names)) != len(names):
        raise ValueError(f"problem num_vars={problem['num_vars']} but {len(names)} names.")
    p = {"num_vars": len(names), "names": names, "bounds": [list(b) for b in problem["bounds"]]}
    if problem.get("groups"):
        if len(problem["groups"]) != len(names):
            raise ValueError("problem groups must name one group per parameter.")
        p["groups"] = list(problem["groups"])
    if problem.get("dists") is not None:
        p["dists"] = list(problem["dists"])
    return p


def factor_names(p: Mapping[str, Any]) -> list[str]:
    """Parameter names, or group names in first-appearance order when grouped."""
    return list(dict.fromkeys(p.get("groups") or p["names"]))


def check_method(method: str, p: Mapping[str, Any]) -> None:
    """Refuse an unknown method, or groups with a method SALib cannot group."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {list(METHODS)}.")
    if p.get("groups") and method not in GROUPED_METHODS:
        raise ValueError(f"groups are supported by sobol and morris only, not {method!r}.")


def check_samples(method: str, samples: int) -> None:
    """Refuse a sample size the sampler would reject or silently unbalance."""
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 2:
        raise ValueError(f"samples must be an integer >= 2, got {samples!r}.")
    if method == "sobol" and samples & (samples - 1):
        raise ValueError(
            f"sobol needs samples to be a power of two (Sobol' sequence balance), got "
            f"{samples}; try {1 << (int(samples) - 1).bit_length()}."
        )
    if method == "fast" and samples <= 4 * FAST_M**2:
        raise ValueError(f"fast needs samples > 4*M^2 = {4 * FAST_M**2} (M={FAST_M}).")


def block_count(p: Mapping[str, Any], method: str, X: np.ndarray) -> int:
    """Base samples in ``X``: rows come in blocks whose size depends on the method."""
    if X.ndim != 2 or X.shape[1] != p["num_vars"]:
        raise ValueError(f"X must have shape (runs, {p['num_vars']}), got {X.shape}.")
    names = factor_names(p)
    size = {"sobol": len(names) + 2, "morris": len(names) + 1, "fast": p["num_vars"]}
    block = size.get(method, 1)
    if len(X) == 0 or len(X) % block:
        raise ValueError(f"{method}: {len(X)} rows is not a whole number of {block}-row blocks.")
    return len(X) // block
