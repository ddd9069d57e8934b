"""Sensitivity of a plain Python function: sample, evaluate (serially or on an executor), analyze.

The scenario path (`analyze_scenario`) runs its design through the studies layer instead;
both hand the same ``X`` and ``Y`` to `analyze`, so a toy function can stand in for the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from poolpilot.analysis.sensitivity.indices import analyze
from poolpilot.analysis.sensitivity.sampling import checked_problem, sample

__all__ = ["CHUNK_SIZE", "analyze_function"]

#: Points per executor task: large enough to amortise task overhead, small enough to balance.
CHUNK_SIZE = 32


def analyze_function(
    func: Callable[[dict[str, float]], Mapping[str, float]],
    problem: Mapping[str, Any],
    method: str = "sobol",
    samples: int = 1024,
    seed: int = 0,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Sensitivity indices of every metric ``func`` returns, over ``problem``'s ranges.

    Parameters
    ----------
    func : callable
        Maps ``{parameter: value}`` to ``{metric: value}``. Must be picklable for process or
        cluster executors (a module-level function).
    problem : dict
        SALib problem: ``names``, ``bounds`` and optionally ``num_vars``, ``groups``, ``dists``.
    method : {"sobol", "morris", "fast", "rbd-fast", "delta"}
    samples : int
        Sobol' base points (a power of two; N*(D+2) runs), Morris trajectories (N*(D+1)
        runs), eFAST points per parameter (> 64; N*D runs) or Latin hypercube rows (N runs),
        with D the number of groups where groups are given.
    seed : int
        Seeds the sampler and the bootstrap, so a call is reproducible.
    executor : concurrent.futures.Executor, optional
        Evaluates chunks of ``CHUNK_SIZE`` points in order; results do not depend on it.

    Returns
    -------
    pandas.DataFrame
        Columns ``COLUMNS``; see `analyze`.

    Raises
    ------
    ValueError
        Before any run for a bad problem, method or sample size; after the runs, naming the
        metric and parameter values, when ``func`` returns a non-dict, changing keys or a
        non-finite number.
    """
    X = sample(problem, method, samples, seed)
    Y = _evaluate(func, checked_problem(problem)["names"], X, executor)
    return analyze(problem, method, X, Y, seed)


def _evaluate(
    func: Callable[[dict[str, float]], Any],
    names: Sequence[str],
    X: np.ndarray,
    executor: Executor | None,
) -> dict[str, np.ndarray]:
    """Run ``func`` over ``X`` in ordered chunks and check the outputs point by point."""
    chunks = [X[i : i + CHUNK_SIZE] for i in range(0, len(X), CHUNK_SIZE)]
    task = partial(_evaluate_chunk, func, list(names))
    mapped = map(task, chunks) if executor is None else executor.map(task, chunks)
    outputs = [out for chunk in mapped for out in chunk]
    return _collect(outputs, names, X)


def _evaluate_chunk(
    func: Callable[[dict[str, float]], Any], names: list[str], rows: np.ndarray
) -> list[Any]:
    return [func(dict(zip(names, map(float, row), strict=True))) for row in rows]


def _collect(outputs: list[Any], names: Sequence[str], X: np.ndarray) -> dict[str, np.ndarray]:
    """Stack per-point dicts into per-metric arrays, failing on the first bad point."""
    first = outputs[0] if outputs else None
    if not isinstance(first, Mapping) or not first:
        raise ValueError(f"func must return a non-empty dict of metrics, got {first!r}.")
    metrics = list(first)
    Y = {m: np.empty(len(outputs)) for m in metrics}
    for i, out in enumerate(outputs):
        if not isinstance(out, Mapping) or set(out) != set(metrics):
            point = dict(zip(names, X[i].tolist(), strict=True))
            got = sorted(out) if isinstance(out, Mapping) else type(out).__name__
            raise ValueError(f"func returned {got} at {point}; expected keys {sorted(metrics)}.")
        for m in metrics:
            try:
                Y[m][i] = float(out[m])
            except (TypeError, ValueError) as err:
                raise ValueError(f"metric {m!r}: {out[m]!r} is not a number.") from err
    for m, y in Y.items():
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            point = dict(zip(names, X[bad[0]].tolist(), strict=True))
            raise ValueError(f"metric {m!r} is {y[bad[0]]} at {point} ({bad.size} non-finite).")
    return Y
