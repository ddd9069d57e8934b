"""Global sensitivity analysis of any function of named parameters, built on SALib.

The pilot model is expensive and its outputs are many, so this module keeps three steps apart:
``sample`` draws the design, the caller evaluates it (serially or on any executor), and
``analyze`` turns the outputs into one tidy table. ``analyze_function`` chains the three for a
plain Python callable; the scenario-level analysis reuses the pieces with its own runner.

Every index comes back as a row of ``metric, parameter, method, index, value, ci_low,
ci_high`` so that results from different methods and metrics stack, filter and plot alike.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from SALib.analyze import delta as delta_analyzer
from SALib.analyze import fast as fast_analyzer
from SALib.analyze import morris as morris_analyzer
from SALib.analyze import rbd_fast as rbd_fast_analyzer
from SALib.analyze import sobol as sobol_analyzer
from SALib.sample import fast_sampler, latin
from SALib.sample import morris as morris_sampler
from SALib.sample import sobol as sobol_sampler

__all__ = [
    "COLUMNS",
    "METHODS",
    "analyze",
    "analyze_function",
    "convergence",
    "plot_morris",
    "plot_sobol",
    "rank",
    "sample",
]

#: Column order of the tidy indices table.
COLUMNS = ["metric", "parameter", "method", "index", "value", "ci_low", "ci_high"]
#: Supported methods.
METHODS = ("sobol", "morris", "fast", "rbd-fast", "delta")

#: Points per executor task: large enough to amortise task overhead, small enough to balance.
CHUNK_SIZE = 32
#: eFAST interference factor (SALib's default); the sampler needs N > 4 * M**2.
FAST_M = 4
#: Morris grid levels.
MORRIS_LEVELS = 4

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
# The index that orders parameters by importance, per method.
_RANK_BY = {"sobol": "ST", "fast": "ST", "morris": "mu_star", "rbd-fast": "S1", "delta": "delta"}
_FAST_NOTE = (
    "fast: eFAST bootstrap intervals are unreliable (SALib issue #649); "
    "treat ci_low/ci_high as indicative only."
)
# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
_BLUE, _ORANGE, _GREY = "#0072B2", "#E69F00", "#999999"

_Metrics = dict[str, np.ndarray]


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
    Y = _evaluate(func, _problem(problem)["names"], X, executor)
    return analyze(problem, method, X, Y, seed)


def sample(
    problem: Mapping[str, Any], method: str, samples: int = 1024, seed: int = 0
) -> np.ndarray:
    """Design matrix for ``method``, one row per model run, one column per parameter.

    Kept separate from evaluation so that callers can run the design wherever they like.
    """
    p = _problem(problem)
    _check_method(method, p)
    _check_samples(method, samples)
    if method == "sobol":
        return sobol_sampler.sample(p, samples, calc_second_order=False, seed=seed)
    if method == "morris":
        return morris_sampler.sample(p, samples, num_levels=MORRIS_LEVELS, seed=seed)
    if method == "fast":
        return fast_sampler.sample(p, samples, M=FAST_M, seed=seed)
    return latin.sample(p, samples, seed=seed)


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
    p = _problem(problem)
    _check_method(method, p)
    X = np.asarray(X, dtype=float)
    _block_count(p, method, X)
    rows: list[dict[str, Any]] = []
    notes = [_FAST_NOTE] if method == "fast" else []
    for metric, y in _outputs(Y, len(X)).items():
        if method != "morris" and np.ptp(y) == 0:
            notes.append(f"{metric}: constant over the design; indices undefined (NaN).")
            rows += _rows(metric, method, _names(p), {}, nan=True)
            continue
        result = _run_analyzer(p, method, X, y, seed)
        delta_notes = zip(p["names"], result.get("notes", []), strict=False)  # delta only
        notes += [f"{metric} [{name}]: {text}" for name, text in delta_notes if text]
        rows += _rows(metric, method, _names(p), result)
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
        ``metric, parameter, method, index``, then ``value_half, ci_low_half, ci_high_half``
        (first N/2 base points, trajectories or rows), ``value, ci_low, ci_high`` (all N) and
        ``unstable`` (nullable boolean: ``|value - value_half|`` exceeds the sum of the two
        half-widths; ``<NA>`` where an index has no interval).
    """
    p = _problem(problem)
    _check_method(method, p)
    if method == "fast":
        raise ValueError(
            "convergence: eFAST designs cannot be halved (the search curve spans the whole "
            "sample); compare two runs with different samples instead."
        )
    X = np.asarray(X, dtype=float)
    n = _block_count(p, method, X)
    if n < 4:
        raise ValueError(f"convergence needs at least 4 base samples to halve, got {n}.")
    cut = (n // 2) * (len(X) // n)
    Y = _outputs(Y, len(X))
    half = analyze(p, method, X[:cut], {k: v[:cut] for k, v in Y.items()}, seed)
    full = analyze(p, method, X, Y, seed)
    keys = ["metric", "parameter", "method", "index"]
    both = half.merge(full, on=keys, suffixes=("_half", ""))
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
    unknown = set(indices["method"]) - set(_RANK_BY)
    if unknown:
        raise ValueError(f"rank: unknown method(s) {sorted(unknown)}; expected {list(METHODS)}.")
    key = indices[indices["index"] == indices["method"].map(_RANK_BY)]
    by = ["metric", "method"]
    ranks = key[[*by, "parameter"]].assign(
        rank=key.groupby(by)["value"].rank(ascending=False, method="min").astype("Int64")
    )
    ranked = indices.merge(ranks, on=[*by, "parameter"], how="left")
    ranked.attrs.update(indices.attrs)
    return ranked


def plot_sobol(indices: pd.DataFrame, metric: str, ax: Axes | None = None) -> Axes:
    """Horizontal S1 and ST bars with their intervals for one metric (sobol or fast rows).

    The gap between a parameter's S1 and ST bars is its share in interactions.
    """
    rows = indices[
        (indices["metric"] == metric)
        & indices["method"].isin(["sobol", "fast"])
        & indices["index"].isin(["S1", "ST"])
    ]
    if rows["method"].nunique() != 1:
        raise ValueError(f"plot_sobol: need sobol or fast rows of one method for {metric!r}.")
    ax = _axes(ax)
    names = list(dict.fromkeys(rows["parameter"]))
    pos = np.arange(len(names))
    for offset, name, colour in ((-0.2, "S1", _BLUE), (0.2, "ST", _ORANGE)):
        r = rows[rows["index"] == name].set_index("parameter").loc[names]
        err = [r["value"] - r["ci_low"], r["ci_high"] - r["value"]]
        ax.barh(pos + offset, r["value"], height=0.4, xerr=err, color=colour, label=name)
    ax.axvline(0, color=_GREY, linewidth=0.8)
    ax.set_yticks(pos, names)
    ax.invert_yaxis()
    ax.set_xlabel("Sensitivity index (whiskers: 95% bootstrap interval)")
    ax.set_ylabel("Parameter")
    ax.set_title(f"{rows['method'].iloc[0]}: {metric}")
    ax.legend()
    return ax


def plot_morris(indices: pd.DataFrame, metric: str, ax: Axes | None = None) -> Axes:
    """Morris mu_star against sigma for one metric, one labelled point per parameter.

    Points right are influential; points high act non-linearly or through interactions.
    """
    rows = indices[(indices["metric"] == metric) & (indices["method"] == "morris")]
    if rows.empty:
        raise ValueError(f"plot_morris: no morris rows for metric {metric!r}.")
    table = rows.pivot(index="parameter", columns="index", values="value")
    conf = rows[rows["index"] == "mu_star"].set_index("parameter")
    conf = (conf["ci_high"] - conf["ci_low"]) / 2
    ax = _axes(ax)
    ax.errorbar(table["mu_star"], table["sigma"], xerr=conf.loc[table.index], fmt="o", color=_BLUE)
    for name, x, y in zip(table.index, table["mu_star"], table["sigma"], strict=True):
        ax.annotate(str(name), (x, y), xytext=(4, 4), textcoords="offset points")
    top = np.nanmax(table[["mu_star", "sigma"]].to_numpy(), initial=0.0)
    ax.plot([0, top], [0, top], linestyle="--", color=_GREY, label="sigma = mu*")
    ax.set_xlabel("mu* (mean absolute elementary effect)")
    ax.set_ylabel("sigma (std of elementary effects)")
    ax.set_title(f"morris: {metric}")
    ax.legend()
    return ax


# --- evaluation -------------------------------------------------------------------------------


def _evaluate(
    func: Callable[[dict[str, float]], Any],
    names: Sequence[str],
    X: np.ndarray,
    executor: Executor | None,
) -> _Metrics:
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


def _collect(outputs: list[Any], names: Sequence[str], X: np.ndarray) -> _Metrics:
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


def _outputs(Y: Mapping[str, Any], n: int) -> _Metrics:
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


# --- SALib glue -------------------------------------------------------------------------------


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


# --- validation -------------------------------------------------------------------------------


def _problem(problem: Mapping[str, Any]) -> dict[str, Any]:
    """A checked copy of a SALib problem with ``num_vars`` filled in."""
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


def _names(p: Mapping[str, Any]) -> list[str]:
    """Parameter names, or group names in first-appearance order when grouped."""
    return list(dict.fromkeys(p.get("groups") or p["names"]))


def _check_method(method: str, p: Mapping[str, Any]) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {list(METHODS)}.")
    if p.get("groups") and method not in ("sobol", "morris"):
        raise ValueError(f"groups are supported by sobol and morris only, not {method!r}.")


def _check_samples(method: str, samples: int) -> None:
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 2:
        raise ValueError(f"samples must be an integer >= 2, got {samples!r}.")
    if method == "sobol" and samples & (samples - 1):
        raise ValueError(
            f"sobol needs samples to be a power of two (Sobol' sequence balance), got "
            f"{samples}; try {1 << (int(samples) - 1).bit_length()}."
        )
    if method == "fast" and samples <= 4 * FAST_M**2:
        raise ValueError(f"fast needs samples > 4*M^2 = {4 * FAST_M**2} (M={FAST_M}).")


def _block_count(p: Mapping[str, Any], method: str, X: np.ndarray) -> int:
    """Base samples in ``X``: rows come in blocks whose size depends on the method."""
    if X.ndim != 2 or X.shape[1] != p["num_vars"]:
        raise ValueError(f"X must have shape (runs, {p['num_vars']}), got {X.shape}.")
    size = {"sobol": len(_names(p)) + 2, "morris": len(_names(p)) + 1, "fast": p["num_vars"]}
    block = size.get(method, 1)
    if len(X) == 0 or len(X) % block:
        raise ValueError(f"{method}: {len(X)} rows is not a whole number of {block}-row blocks.")
    return len(X) // block


def _axes(ax: Axes | None) -> Axes:
    # A bare Figure renders with Agg and never touches pyplot's global state or backend.
    return ax if ax is not None else Figure(figsize=(6, 4), layout="constrained").subplots()
