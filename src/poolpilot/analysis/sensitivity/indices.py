"""From an evaluated design to one tidy table of indices, with SALib's analyzers.

Every index comes back as a row of ``metric, parameter, method, index, value, ci_low,
ci_high`` so that results from different methods and metrics stack, filter and plot alike.
`convergence` re-analyses the first half of the design to show whether the indices have
settled, `rank` orders parameters by the index each method ranks by, and `noise_shares` says
how much of a stochastic output's variance is run-to-run noise.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import delta as delta_analyzer
from SALib.analyze import fast as fast_analyzer
from SALib.analyze import morris as morris_analyzer
from SALib.analyze import rbd_fast as rbd_fast_analyzer
from SALib.analyze import sobol as sobol_analyzer

from poolpilot.analysis.sensitivity.sampling import (
    FAST_M,
    METHODS,
    MORRIS_LEVELS,
    block_count,
    check_method,
    checked_problem,
    factor_names,
)

__all__ = [
    "COLUMNS",
    "CONVERGENCE_COLUMNS",
    "NOISE_COLUMNS",
    "analyze",
    "convergence",
    "noise_shares",
    "rank",
]

#: Column order of the tidy indices table.
COLUMNS = ["metric", "parameter", "method", "index", "value", "ci_low", "ci_high"]
#: Columns of the convergence table (see `convergence`).
CONVERGENCE_COLUMNS = [
    *COLUMNS[:4],
    "value_half",
    "ci_low_half",
    "ci_high_half",
    "value",
    "ci_low",
    "ci_high",
    "unstable",
]
#: Columns of the noise table (see `noise_shares`).
NOISE_COLUMNS = [
    "metric",
    "noise_share",
    "within_variance",
    "total_variance",
    "replicates",
    "note",
]
#: The index that orders parameters by importance, per method.
RANK_BY = {"sobol": "ST", "fast": "ST", "morris": "mu_star", "rbd-fast": "S1", "delta": "delta"}

# (index reported, SALib key, SALib confidence key or None) per method.
_INDICES: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "sobol": (("S1", "S1", "S1_conf"), ("ST", "ST", "ST_conf")),
    "morris": (
        ("mu_star", "mu_star", "mu_star_conf"),
        ("sigma", "sigma", None),
        ("mu", "mu", None),
    ),
    "fast": (("S1", "S1", "S1_conf"), ("ST", "ST", "ST_conf")),
    "rbd-fast": (("S1", "S1", "S1_conf"),),
    "delta": (("delta", "delta_raw", "delta_raw_conf"), ("S1", "S1", "S1_conf")),
}
_FAST_NOTE = (
    "fast: eFAST bootstrap intervals are unreliable (SALib issue #649); "
    "treat ci_low/ci_high as indicative only."
)


def analyze(
    problem: Mapping[str, Any],
    method: str,
    X: np.ndarray,
    Y: Mapping[str, Any],
    seed: int = 0,
) -> pd.DataFrame:
    """Tidy indices from an already evaluated design.

    Parameters
    ----------
    problem : dict
        The problem ``X`` was drawn for.
    method : str
        The method ``X`` was drawn for.
    X : numpy.ndarray
        Design from `sample`.
    Y : mapping of str to array
        One output array per metric, in the row order of ``X``.
    seed : int
        Seeds the bootstrap intervals.

    Returns
    -------
    pandas.DataFrame
        One row per metric, parameter (or group) and index. ``ci_low``/``ci_high`` are
        ``value -/+`` SALib's bootstrap half-width (95 %), NaN where SALib gives none (Morris
        ``sigma`` and ``mu``). Estimates are not clipped: first-order indices of unimportant
        parameters can come out slightly negative, which shows the estimation error rather
        than hiding it. ``delta`` is SALib's ``delta_raw``, the Plischke et al. (2013)
        estimator that SALib < 1.6 reported as ``delta``. eFAST intervals are unreliable
        (SALib issue #649); they are kept, and ``attrs["notes"]`` says so. Metrics constant
        over the design get NaN indices (all variance-based indices are 0/0) and a note.
    """
    p = checked_problem(problem)
    check_method(method, p)
    X = np.asarray(X, dtype=float)
    block_count(p, method, X)
    rows: list[dict[str, Any]] = []
    notes = [_FAST_NOTE] if method == "fast" else []
    for metric, y in checked_outputs(Y, len(X)).items():
        if method != "morris" and np.ptp(y) == 0:
            notes.append(f"{metric}: constant over the design; indices undefined (NaN).")
            rows += _rows(metric, method, factor_names(p), {}, nan=True)
            continue
        result = _run_analyzer(p, method, X, y, seed)
        delta_notes = zip(p["names"], result.get("notes", []), strict=False)  # delta only
        notes += [f"{metric} [{name}]: {text}" for name, text in delta_notes if text]
        rows += _rows(metric, method, factor_names(p), result)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.attrs["notes"] = notes
    return frame


def convergence(
    problem: Mapping[str, Any],
    method: str,
    X: np.ndarray,
    Y: Mapping[str, Any],
    seed: int = 0,
) -> pd.DataFrame:
    """Indices from the first half of the design next to those from all of it.

    An index that moves by more than its two intervals allow between N/2 and N has not
    settled, and its ranking should not be trusted yet.

    Returns
    -------
    pandas.DataFrame
        ``CONVERGENCE_COLUMNS``: ``metric, parameter, method, index``, then ``value_half,
        ci_low_half, ci_high_half`` (first N/2 base points, trajectories or rows), ``value,
        ci_low, ci_high`` (all N) and ``unstable`` (nullable boolean: ``|value - value_half|``
        exceeds the sum of the two half-widths; ``<NA>`` where an index has no interval).
    """
    p = checked_problem(problem)
    check_method(method, p)
    if method == "fast":
        raise ValueError(
            "convergence: eFAST designs cannot be halved (the search curve spans the whole "
            "sample); compare two runs with different samples instead."
        )
    X = np.asarray(X, dtype=float)
    n = block_count(p, method, X)
    if n < 4:
        raise ValueError(f"convergence needs at least 4 base samples to halve, got {n}.")
    cut = (n // 2) * (len(X) // n)
    Y = checked_outputs(Y, len(X))
    half = analyze(p, method, X[:cut], {k: v[:cut] for k, v in Y.items()}, seed)
    full = analyze(p, method, X, Y, seed)
    both = half.merge(full, on=COLUMNS[:4], suffixes=("_half", ""))
    drift = (both["value"] - both["value_half"]).abs()
    allowed = (both["ci_high"] - both["ci_low"] + both["ci_high_half"] - both["ci_low_half"]) / 2
    both["unstable"] = pd.array(
        [
            pd.NA if np.isnan(a) or np.isnan(d) else d > a
            for d, a in zip(drift, allowed, strict=True)
        ],
        dtype="boolean",
    )
    both.attrs["notes"] = full.attrs["notes"]
    return both


def rank(indices: pd.DataFrame) -> pd.DataFrame:
    """Add ``rank`` (1 = most influential) per metric and method.

    Ranks by ST for sobol and fast (total effect catches interactions), mu_star for morris,
    S1 for rbd-fast and delta for delta; ties share the better rank, NaN indices get <NA>.
    """
    unknown = set(indices["method"]) - set(RANK_BY)
    if unknown:
        raise ValueError(f"rank: unknown method(s) {sorted(unknown)}; expected {list(METHODS)}.")
    key = indices[indices["index"] == indices["method"].map(RANK_BY)]
    by = ["metric", "method"]
    ranks = key[[*by, "parameter"]].assign(
        rank=key.groupby(by)["value"].rank(ascending=False, method="min").astype("Int64")
    )
    ranked = indices.merge(ranks, on=[*by, "parameter"], how="left")
    ranked.attrs.update(indices.attrs)
    return ranked


def ranking(indices: pd.DataFrame) -> pd.DataFrame:
    """The rows of the index that ranks each method (see `rank`), best first per metric."""
    ranked = rank(indices)
    ranked = ranked[ranked["index"] == ranked["method"].map(RANK_BY)]
    order = ranked.sort_values(["metric", "rank"], kind="stable", na_position="last")
    return order.reset_index(drop=True)


def noise_shares(outputs: Mapping[str, Any]) -> pd.DataFrame:
    """The share of each metric's output variance that is run-to-run noise.

    ``outputs`` holds, per metric, an array of single-run outputs with one row per row of the
    design (rows that map to the same point repeat its runs, as the indices see them) and one
    column per replicate. ``noise_share`` is the mean over points of the
    within-point variance (ddof 1) divided by the variance of all single-run outputs (ddof 1):
    an unbiased ratio, not clipped, so a metric that is all noise can come out slightly above
    1. Near 0 the parameters drive the metric; near 1 their indices describe noise. NaN with
    a note when there is one replicate (no within-point variance) or the metric is constant.

    Returns
    -------
    pandas.DataFrame
        Columns ``NOISE_COLUMNS``.
    """
    rows = []
    for metric, values in outputs.items():
        y = np.asarray(values, dtype=float)
        y = y.reshape(len(y), -1)
        reps = y.shape[1]
        total = float(y.var(ddof=1)) if y.size > 1 else float("nan")
        within, share, note = float("nan"), float("nan"), ""
        if reps < 2:
            note = "one replicate: run-to-run noise cannot be separated (use replicates >= 2)."
        else:
            within = float(y.var(axis=1, ddof=1).mean())
            if total > 0:
                share = within / total
            else:
                note = "constant over all runs: no variance to share out."
        rows.append(
            dict(zip(NOISE_COLUMNS, (metric, share, within, total, reps, note), strict=True))
        )
    return pd.DataFrame(rows, columns=NOISE_COLUMNS)


def checked_outputs(Y: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
    """Per-metric output arrays, refused when a length or a value would mislead SALib."""
    out = {m: np.asarray(y, dtype=float).ravel() for m, y in dict(Y).items()}
    if not out:
        raise ValueError("Y holds no metrics.")
    for m, y in out.items():
        if len(y) != n:
            raise ValueError(f"metric {m!r} has {len(y)} values for {n} design rows.")
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise ValueError(f"metric {m!r} is non-finite at row {bad[0]} ({bad.size} rows).")
    return out


def _run_analyzer(p: dict[str, Any], method: str, X: np.ndarray, y: np.ndarray, seed: int):
    """Call SALib so that every ``seed``, including 0, is reproducible.

    SALib's sobol, fast and delta analyzers test ``if seed:``, so seed 0 would silently use
    unseeded random numbers; sobol accepts a Generator, fast and delta only use numpy's
    global RNG, which is seeded here and restored afterwards.
    """
    p = dict(p)  # SALib writes into the problem dict
    if method == "sobol":
        rng = np.random.default_rng(seed)
        return sobol_analyzer.analyze(p, y, calc_second_order=False, seed=rng)
    if method == "morris":
        return morris_analyzer.analyze(p, X, y, num_levels=MORRIS_LEVELS, seed=seed)
    if method == "rbd-fast":
        return rbd_fast_analyzer.analyze(p, X, y, seed=seed)
    with _global_seed(seed):
        if method == "fast":
            return fast_analyzer.analyze(p, y, M=FAST_M, seed=seed)
        return _delta(p, X, y, seed)


def _delta(p: dict[str, Any], X: np.ndarray, y: np.ndarray, seed: int):
    # SALib's delta sets warnings.simplefilter("once") and its own formatwarning globally.
    formatwarning = warnings.formatwarning
    try:
        with warnings.catch_warnings():
            return delta_analyzer.analyze(p, X, y, seed=seed)
    finally:
        warnings.formatwarning = formatwarning


@contextmanager
def _global_seed(seed: int) -> Iterator[None]:
    # SALib's fast and delta draw from numpy's legacy global RNG; nothing else can seed them.
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _rows(
    metric: str, method: str, names: list[str], result: Mapping[str, Any], nan: bool = False
) -> list[dict[str, Any]]:
    rows = []
    for index, key, conf_key in _INDICES[method]:
        values = np.full(len(names), np.nan) if nan else np.asarray(result[key], dtype=float)
        conf = np.full(len(names), np.nan)
        if conf_key and not nan:
            conf = np.asarray(result[conf_key], dtype=float)
        for name, v, c in zip(names, values, conf, strict=True):
            rows.append(
                dict(zip(COLUMNS, (metric, name, method, index, v, v - c, v + c), strict=True))
            )
    return rows
