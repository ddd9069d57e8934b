"""Global sensitivity analysis of any function of named parameters, built on SALib.

The pilot model is expensive and its outputs are many, so this module keeps three steps apart:
``sample`` draws the design, the caller evaluates it (serially or on any executor), and
``analyze`` turns the outputs into one tidy table. ``analyze_function`` chains the three for a
plain Python callable; ``analyze_scenario`` reuses the same ``sample`` and ``analyze`` with the
studies layer as its runner (parallel, resumable, with progress), on replicate means.

Every index comes back as a row of ``metric, parameter, method, index, value, ci_low,
ci_high`` so that results from different methods and metrics stack, filter and plot alike.

Scenario parameters are fields addressed by dotted path (``holder.planning_cycle_months``,
``payers.medicaid.initial_trust``), each given ``bounds`` or ``levels``:

* a number field with ``bounds: [lo, hi]`` is sampled uniformly on ``[lo, hi]``;
* an integer field (``int`` in the schema: a cadence, a delay, a notice period) with
  ``bounds: [lo, hi]`` is sampled on ``[lo - 0.5, hi + 0.5]`` and rounded to the nearest
  integer (halves up, then clipped to ``[lo, hi]``), so each integer in ``lo..hi`` gets the
  same share of the range (see `integer_value`);
* a field with ``levels: [a, b, c]`` (a rule like challenge rights, or any field at a few
  chosen values) is sampled on ``[0, 1]`` and mapped to level ``floor(u * n)`` (the last one at
  ``u = 1``), so each level gets an equal share (see `level_value`). Levels are unordered as
  far as variance-based indices go; for Morris, the elementary effects follow the listed
  order.

Parameters that share a ``group`` are analysed as one factor (SALib ``groups``; sobol and
morris only); ungrouped parameters then form a group of their own, named by their path.
"""

from __future__ import annotations

import difflib
import json
import math
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from pydantic import ValidationError
from SALib.analyze import delta as delta_analyzer
from SALib.analyze import fast as fast_analyzer
from SALib.analyze import morris as morris_analyzer
from SALib.analyze import rbd_fast as rbd_fast_analyzer
from SALib.analyze import sobol as sobol_analyzer
from SALib.sample import fast_sampler, latin
from SALib.sample import morris as morris_sampler
from SALib.sample import sobol as sobol_sampler

from poolpilot.scenario import (
    Problem,
    ScenarioError,
    apply_override,
    get_field,
    load_scenario,
    parse_assignment,
    to_data,
    validate_data,
)
from poolpilot.scenario.schema import Scenario, SensitivityParameter

__all__ = [
    "COLUMNS",
    "DEFAULT_SAMPLES",
    "METHODS",
    "Factor",
    "IncompleteStudyError",
    "SensitivityResult",
    "analyze",
    "analyze_function",
    "analyze_scenario",
    "convergence",
    "design_points",
    "factors",
    "integer_value",
    "level_value",
    "noise_shares",
    "parse_options",
    "plot_morris",
    "plot_sobol",
    "rank",
    "sample",
    "scenario_problem",
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


# --- scenarios --------------------------------------------------------------------------------

#: Samples used when none are given: Sobol' base points, Morris trajectories, eFAST points per
#: parameter, Latin hypercube rows (rbd-fast and delta).
DEFAULT_SAMPLES = {"sobol": 256, "morris": 20, "fast": 128, "rbd-fast": 512, "delta": 512}
#: Columns of the convergence table (see `convergence`).
CONVERGENCE_COLUMNS = [
    "metric",
    "parameter",
    "method",
    "index",
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
# Sample values sitting exactly on a level or half-integer edge (Morris grids do) map upwards,
# whatever the floating-point rounding of the grid.
_EDGE = 1e-9


def level_value(u: float, levels: Sequence[Any]) -> Any:
    """The level a sample ``u`` on [0, 1] stands for: ``levels[floor(u * n)]``, clipped to n-1.

    Each of the ``n`` levels owns an equal share of the unit interval.
    """
    n = len(levels)
    return levels[min(max(math.floor(u * n + _EDGE), 0), n - 1)]


def integer_value(x: float, low: int, high: int) -> int:
    """The integer a sample ``x`` on ``[low - 0.5, high + 0.5]`` stands for.

    Rounded to the nearest integer (halves up) and clipped to ``[low, high]``, so each integer
    of ``low..high`` owns an equal share of the sampled range.
    """
    return min(max(math.floor(x + 0.5 + _EDGE), int(low)), int(high))


@dataclass(frozen=True)
class Factor:
    """One varied scenario field and how a sample value becomes a field value.

    ``kind`` is ``"number"`` (sampled on ``[low, high]``), ``"integer"`` (an int field, sampled
    on ``[low - 0.5, high + 0.5]`` and rounded by `integer_value`) or ``"levels"`` (sampled on
    [0, 1] and mapped by `level_value`).
    """

    path: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    levels: tuple[Any, ...] = ()
    group: str | None = None

    @property
    def bounds(self) -> list[float]:
        """The SALib bounds of the sample variable."""
        if self.kind == "levels":
            return [0.0, 1.0]
        if self.kind == "integer":
            return [self.low - 0.5, self.high + 0.5]
        return [float(self.low), float(self.high)]

    def value(self, x: float) -> Any:
        """The field value a sample value stands for (a plain Python scalar)."""
        if self.kind == "levels":
            return level_value(x, self.levels)
        if self.kind == "integer":
            return integer_value(x, int(self.low), int(self.high))
        return float(x)


def factors(
    scenario: Scenario,
    parameters: Sequence[Mapping[str, Any] | SensitivityParameter] | None = None,
    groups: Mapping[str, str] | None = None,
) -> list[Factor]:
    """The varied fields of ``scenario``: ``parameters``, or its ``sensitivity:`` block.

    ``groups`` (path -> group name) sets or overrides the parameters' groups. Every parameter
    is checked before any run: its path exists and is a value, bounds are given for number
    fields only, and the scenario is valid at both bounds and at every level.

    Raises
    ------
    ScenarioError
        Listing every problem, one per line.
    """
    found, problems = _factors(scenario, parameters, groups, scenario.name)
    if problems:
        raise ScenarioError(problems)
    return found


def scenario_problem(found: Sequence[Factor]) -> dict[str, Any]:
    """The SALib problem of the factors: names are paths; groups when any factor has one."""
    problem: dict[str, Any] = {
        "num_vars": len(found),
        "names": [f.path for f in found],
        "bounds": [f.bounds for f in found],
    }
    if any(f.group for f in found):
        problem["groups"] = [f.group or f.path for f in found]
    return problem


def design_points(found: Sequence[Factor], X: np.ndarray) -> list[dict[str, Any]]:
    """One ``{path: field value}`` point per row of the design ``X`` (same order)."""
    return [
        {f.path: f.value(x) for f, x in zip(found, row, strict=True)}
        for row in np.asarray(X, dtype=float)
    ]


class IncompleteStudyError(RuntimeError):
    """Some runs of a sensitivity study failed or were interrupted: no indices were computed.

    ``summary`` says what happened; rerun with ``resume=True`` on ``folder`` to finish.
    """

    def __init__(self, summary: Any, folder: Path | None):
        self.summary = summary
        self.folder = folder
        super().__init__(
            f"the sensitivity study is incomplete ({summary}); no indices computed"
            + (f"; resume with resume=True on {folder}" if folder else "")
        )


@dataclass
class SensitivityResult:
    """A scenario sensitivity analysis: its tables, and the folder they were written to.

    ``indices`` has the columns ``COLUMNS``; ``ranking`` holds the rows of the index each
    method ranks by (ST, mu_star, S1 or delta; see `rank`) with ``rank``, best first per
    metric (NaN indices last, rank <NA>); ``convergence`` has
    ``CONVERGENCE_COLUMNS``; ``noise`` has ``NOISE_COLUMNS``; ``runs`` is the study's runs
    table (one row per point and replicate). ``X`` is the design, ``Y`` the replicate means
    per metric in ``X``'s row order, ``points`` the field values of each row of ``X``.
    """

    indices: pd.DataFrame
    convergence: pd.DataFrame
    noise: pd.DataFrame
    runs: pd.DataFrame
    folder: Path | None
    ranking: pd.DataFrame
    problem: dict[str, Any]
    factors: list[Factor]
    X: np.ndarray
    Y: dict[str, np.ndarray]
    points: list[dict[str, Any]]
    summary: Any
    notes: list[str] = field(default_factory=list)


def analyze_scenario(
    scenario: str | Path | Scenario | Mapping[str, Any],
    method: str = "sobol",
    samples: int | None = None,
    replicates: int = 1,
    metrics: Sequence[str] | None = None,
    parameters: Sequence[Mapping[str, Any] | SensitivityParameter] | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    workers: int | None = None,
    executor: Any = None,
    resume: bool = False,
    progress: str = "auto",
    months: int | None = None,
    *,
    groups: Mapping[str, str] | None = None,
    scheduler: str | None = None,
    command: str | None = None,
    report: bool = True,
) -> SensitivityResult:
    """Sensitivity indices of a scenario's metrics to the fields its parameters name.

    The same path as `analyze_function`: ``X = sample(problem, method, samples, seed)``, each
    row mapped to a point ``{path: value}`` (`design_points`: levels and integer fields as
    the module docstring says), the distinct points run through the studies layer as
    `poolpilot.study.execute_study` runs them (its plan, run function, results store and
    manifest: parallel, resumable, with progress; only the runs table is read back)
    ``replicates`` times each with the study's per-replicate seeds, the metrics averaged over
    replicates, put back in ``X``'s row order, and handed to `analyze`. Rows of ``X`` that map
    to the same point (a level or an integer shared by two rows) are run once and used for
    both.

    Parameters
    ----------
    scenario : preset name, file, dict or Scenario
    method : {"sobol", "morris", "fast", "rbd-fast", "delta"}
    samples : int, optional
        As in `analyze_function` (a power of two for sobol); default ``DEFAULT_SAMPLES``.
    replicates : int
        Runs per point, with independent seeds; indices are computed on the replicate mean
        and ``noise`` says how much of the output variance is run-to-run noise.
    metrics : list of str, optional
        Metric names (`poolpilot.metrics.METRIC_NAMES`); default the block's ``metrics``, or
        every metric.
    parameters : list of dict, optional
        Like the ``sensitivity.parameters`` block (``path``, ``bounds`` or ``levels``,
        ``group``); default the scenario's block.
    seed : int
        Seeds the sampler, the runs (study seed) and the bootstrap.
    out : folder, optional
        Results folder: the study's runs, timeseries, events and manifest, plus
        indices.parquet/.csv, ranking.parquet/.csv, convergence.parquet/.csv,
        noise.parquet/.csv, sensitivity.json and the figures (``sobol_<metric>.png``,
        ``fast_<metric>.png`` or ``morris_<metric>.png``); then the report when
        `poolpilot.report` is available. None: the runs go to a temporary folder, removed
        afterwards, and no files are kept.
    workers, executor, scheduler, resume, progress, command
        Passed to the studies layer.
    months : int, optional
        Overrides the scenario's horizon.
    groups : dict, optional
        ``{path: group name}``, setting or overriding the parameters' groups.
    report : bool
        Write ``out/report.html`` (`poolpilot.report.write_report`) when that module exists.

    Raises
    ------
    ScenarioError
        Before any run, listing every bad input (unknown metric or path, bounds the scenario
        refuses, a sobol sample size that is not a power of two, ...), one per line.
    IncompleteStudyError
        When runs failed or the study was interrupted.
    """
    from poolpilot.runs import study

    design = _load(scenario, months)
    file = str(scenario) if isinstance(scenario, str | Path) else design.name
    found, names, n, problems = _check(
        design, method, samples, replicates, metrics, parameters, groups, file
    )
    if problems:
        raise ScenarioError(problems)
    problem = scenario_problem(found)
    X = sample(problem, method, n, seed)
    points = design_points(found, X)
    unique, row_point = _distinct(points)
    options = dict(
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        resume=resume,
        progress=progress,
        command=command,
    )
    if out is None:
        with tempfile.TemporaryDirectory(prefix="poolpilot-sensitivity-") as scratch:
            runs, summary = _run_study(design, replicates, seed, unique, Path(scratch), **options)
        folder = None
    else:
        folder = Path(out)
        runs, summary = _run_study(design, replicates, seed, unique, folder, **options)
    if summary.failed or summary.interrupted:
        raise IncompleteStudyError(summary, folder)
    seeds = study.run_seeds(seed, replicates)
    per_run = _replicate_outputs(runs, design.name, found, unique, names, seeds)
    Y = {m: per_run[m][row_point].mean(axis=1) for m in names}
    indices = analyze(problem, method, X, Y, seed)
    notes = list(indices.attrs["notes"])
    try:
        converged = convergence(problem, method, X, Y, seed)
    except ValueError as err:
        converged = pd.DataFrame(columns=CONVERGENCE_COLUMNS)
        notes.append(str(err))  # the message starts with "convergence"
    noise = noise_shares({m: per_run[m][row_point] for m in names})
    if replicates == 1:
        notes.append("noise: one replicate, so run-to-run noise is not separated (NaN).")
    else:
        notes += [f"{m}: {t}" for m, t in zip(noise["metric"], noise["note"], strict=True) if t]
    indices.attrs["notes"] = notes
    sa = SensitivityResult(
        indices=indices,
        convergence=converged,
        noise=noise,
        runs=runs,
        folder=folder,
        ranking=_ranking(indices),
        problem=problem,
        factors=list(found),
        X=X,
        Y=Y,
        points=points,
        summary=summary,
        notes=notes,
    )
    if folder is not None:
        _write_outputs(sa, method, n, replicates, seed, len(unique))
        if report:
            try:
                from poolpilot import report as reports
            except ImportError:
                pass
            else:
                reports.write_report(folder)
    return sa


def _run_study(
    design: Scenario,
    replicates: int,
    seed: int,
    points: list[dict[str, Any]],
    folder: Path,
    *,
    command: str | None,
    **options: Any,
) -> tuple[pd.DataFrame, Any]:
    """The studies layer runs the points; only the runs table is read back.

    Runs keep their metrics only (``detail=False``): a sensitivity study never reads the
    timeseries or events, and at N = 1024 with ten parameters they would take gigabytes.
    """
    from poolpilot.runs import study

    result = study.execute_study(
        [design],
        replicates=replicates,
        seed=seed,
        vary=points,
        out=folder,
        command=command,
        detail=False,
        **options,
    )
    return result.runs, result.summary


def _ranking(indices: pd.DataFrame) -> pd.DataFrame:
    """The rows of the index that ranks each method (see `rank`), best first per metric."""
    ranked = rank(indices)
    ranked = ranked[ranked["index"] == ranked["method"].map(_RANK_BY)]
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


def parse_options(
    params: Sequence[str] = (), groups: Sequence[str] = ()
) -> tuple[list[dict[str, Any]] | None, dict[str, str]]:
    """The ``--param`` and ``--group`` options of ``poolpilot sensitivity``.

    ``path=lo,hi`` gives bounds; ``path=a|b|c`` gives levels, each read as a YAML scalar like
    ``--set`` values (``1|3|6`` are integers, ``none|formal`` strings); ``--group path=name``
    puts a parameter in a group. Returns the parameters (None when no ``--param`` was given:
    the scenario's block is used) and the groups by path.

    Raises
    ------
    ScenarioError
        One problem per malformed option.
    """
    problems: list[Problem] = []
    parameters: list[dict[str, Any]] = []
    for item in params:
        path, _, raw = (part.strip() for part in item.partition("="))
        if not path or not raw:
            problems.append(Problem("--param", "", f"{item!r}: expected path=lo,hi or path=a|b"))
        elif "|" in raw:
            levels = [parse_assignment(f"x={v.strip()}")[1] for v in raw.split("|")]
            parameters.append({"path": path, "levels": levels})
        else:
            try:
                low, high = (float(v) for v in raw.split(","))
            except ValueError:
                problems.append(
                    Problem("--param", "", f"{item!r}: bounds must be two numbers lo,hi")
                )
            else:
                parameters.append({"path": path, "bounds": [low, high]})
    grouped: dict[str, str] = {}
    for item in groups:
        path, _, name = (part.strip() for part in item.partition("="))
        if not path or not name:
            problems.append(Problem("--group", "", f"{item!r}: expected path=name"))
        else:
            grouped[path] = name
    if problems:
        raise ScenarioError(problems)
    return (parameters or None), grouped


def _load(source: Any, months: int | None) -> Scenario:
    changes = {"horizon_months": months} if months else None
    if isinstance(source, Scenario):
        return load_scenario(to_data(source), changes) if changes else source
    return load_scenario(dict(source) if isinstance(source, Mapping) else source, changes)


def _check(
    design: Scenario,
    method: str,
    samples: int | None,
    replicates: int,
    metrics: Sequence[str] | None,
    parameters: Any,
    groups: Mapping[str, str] | None,
    file: str,
) -> tuple[list[Factor], list[str], int, list[Problem]]:
    """Every problem with the inputs, found before any run."""
    from poolpilot.model.metrics import METRIC_NAMES

    problems: list[Problem] = []
    n = samples if samples is not None else DEFAULT_SAMPLES.get(method, 0)
    if method not in METHODS:
        problems.append(Problem(file, "method", f"unknown method {method!r}; expected {METHODS}"))
    else:
        try:
            _check_samples(method, n)
        except ValueError as err:
            problems.append(Problem(file, "samples", str(err)))
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        problems.append(Problem(file, "replicates", f"must be an integer >= 1, got {replicates!r}"))
    block = design.sensitivity
    names = list(metrics or (block.metrics if block and block.metrics else METRIC_NAMES))
    for name in dict.fromkeys(names):
        if name not in METRIC_NAMES:
            close = difflib.get_close_matches(name, METRIC_NAMES, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Problem(file, "sensitivity.metrics", f"unknown metric {name!r}{hint}"))
    found, bad = _factors(design, parameters, groups, file)
    problems += bad
    if found and any(f.group for f in found) and method not in ("sobol", "morris"):
        problems.append(
            Problem(file, "sensitivity.parameters", f"groups need sobol or morris, not {method!r}")
        )
    return found, list(dict.fromkeys(names)), n, problems


def _factors(
    scenario: Scenario, parameters: Any, groups: Mapping[str, str] | None, file: str
) -> tuple[list[Factor], list[Problem]]:
    block = scenario.sensitivity
    raw = list(parameters) if parameters is not None else list(block.parameters if block else [])
    where = "sensitivity.parameters"
    if not raw:
        return [], [Problem(file, where, "no parameters: give a sensitivity: block or parameters")]
    data = to_data(scenario)
    found: list[Factor] = []
    problems: list[Problem] = []
    for i, item in enumerate(raw):
        try:
            param = SensitivityParameter.model_validate(
                item.model_dump() if isinstance(item, SensitivityParameter) else item
            )
        except ValidationError as err:
            for e in err.errors(include_url=False):
                loc = ".".join(str(part) for part in e["loc"])
                msg = e["msg"].replace("Value error, ", "")
                problems.append(Problem(file, f"{where}[{i}]" + (f".{loc}" if loc else ""), msg))
            continue
        factor, bad = _factor(param, data, file, f"{where}.{param.path}")
        if any(f.path == param.path for f in found):
            bad = [Problem(file, f"{where}.{param.path}", "listed twice")]
        problems += bad
        if factor is not None and not bad:
            found.append(factor)
    for path, name in (groups or {}).items():
        match = [i for i, f in enumerate(found) if f.path == path]
        if match:
            found[match[0]] = replace(found[match[0]], group=str(name))
        elif not any(p.path.startswith(f"{where}.{path}") for p in problems):
            problems.append(Problem(file, f"{where}.{path}", "group given for a path not varied"))
    return found, problems


def _factor(
    param: SensitivityParameter, data: dict[str, Any], file: str, where: str
) -> tuple[Factor | None, list[Problem]]:
    path = param.path
    try:
        current = get_field(data, path)
    except (KeyError, StopIteration, TypeError, AttributeError, IndexError):
        return None, [Problem(file, where, "unknown field path")]
    if isinstance(current, dict | list):
        return None, [Problem(file, where, "is a section or a list, not a value")]
    kind_of = _leaf_type(path)
    if kind_of is None:  # not in the schema's terms: judge by the value
        kind_of = type(current)
    if param.levels is not None:
        levels = tuple(param.levels)
        if len(levels) < 2 or len(set(map(repr, levels))) < len(levels):
            return None, [Problem(file, where, "needs two or more distinct levels")]
        factor = Factor(path, "levels", levels=levels, group=param.group)
        tried = list(levels)
    else:
        low, high = param.bounds or (0.0, 1.0)
        if kind_of is int:
            lo, hi = math.ceil(low), math.floor(high)
            if lo >= hi:
                return None, [
                    Problem(file, where, f"integer field: {low}..{high} holds < 2 integers")
                ]
            factor = Factor(path, "integer", lo, hi, group=param.group)
            tried = [lo, hi]
        elif kind_of is float:
            factor = Factor(path, "number", float(low), float(high), group=param.group)
            tried = [float(low), float(high)]
        else:
            name = getattr(kind_of, "__name__", str(kind_of))
            return None, [Problem(file, where, f"bounds need a number field ({name}): use levels")]
    problems = []
    for value in tried:
        trial = json.loads(json.dumps(data))
        apply_override(trial, path, value)
        try:
            validate_data(trial, file)
        except ScenarioError as err:
            for p in err.problems:
                at = "" if p.path == path else f" ({p.path})"
                problems.append(Problem(file, where, f"{value!r} refused{at}: {p.message}"))
    return factor, problems


def _leaf_type(path: str) -> Any:
    """The schema type of a dotted field (int, float, bool, a Literal...), None if not found."""
    model: Any = Scenario
    parts = path.split(".")
    i = 0
    while i < len(parts):
        fields = getattr(model, "model_fields", None)
        if fields is None or parts[i] not in fields:
            return None
        kind = _bare(fields[parts[i]].annotation)
        i += 1
        if get_origin(kind) in (list, dict):  # the next part names the item or the key
            kind = _bare(get_args(kind)[-1])
            i += 1
        if i >= len(parts):
            return kind
        model = kind
    return None


def _bare(kind: Any) -> Any:
    """``kind`` without Annotated metadata and without ``| None``."""
    while True:
        if get_origin(kind) is Annotated:
            kind = get_args(kind)[0]
        elif get_origin(kind) in (Union, UnionType):
            args = [a for a in get_args(kind) if a is not type(None)]
            if len(args) != 1:
                return kind
            kind = args[0]
        else:
            return kind


def _point_key(values: Sequence[Any]) -> tuple[Any, ...]:
    """A hashable identity of a point's values that survives a trip through Parquet."""
    key = []
    for v in values:
        v = v.item() if isinstance(v, np.generic) else v
        if isinstance(v, bool):
            key.append(("bool", v))
        elif isinstance(v, int | float):
            key.append(("number", float(v)))
        else:
            key.append(("text", str(v)))
    return tuple(key)


def _distinct(points: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The distinct points in first-seen order, and each design row's index into them."""
    index: dict[tuple[Any, ...], int] = {}
    row_point = np.empty(len(points), dtype=np.intp)
    unique = []
    for r, point in enumerate(points):
        key = _point_key(list(point.values()))
        if key not in index:
            index[key] = len(unique)
            unique.append(point)
        row_point[r] = index[key]
    return unique, row_point


def _replicate_outputs(
    runs: pd.DataFrame,
    design: str,
    found: Sequence[Factor],
    unique: list[dict[str, Any]],
    names: Sequence[str],
    seeds: Sequence[int],
) -> _Metrics:
    """Per metric, the runs' outputs as (distinct points, replicates), matched by value."""
    paths = [f.path for f in found]
    index = {_point_key([p[path] for path in paths]): i for i, p in enumerate(unique)}
    mine = runs[(runs["design"] == design) & (runs["status"] == "ok")]
    reps = mine["replicate"].to_numpy(dtype=np.int64)
    points = np.array(
        [
            index.get(_point_key(values), -1)
            for values in zip(*(mine[path].tolist() for path in paths), strict=True)
        ],
        dtype=np.int64,
    )
    seeds_arr = np.asarray(seeds, dtype=np.int64)
    ours = (points >= 0) & (reps >= 0) & (reps < len(seeds))
    ours[ours] &= mine["seed"].to_numpy(dtype=np.int64)[ours] == seeds_arr[reps[ours]]
    out: _Metrics = {}
    for m in names:
        y = np.full((len(unique), len(seeds)), np.nan)
        y[points[ours], reps[ours]] = mine[m].to_numpy(dtype=float)[ours]
        out[m] = y
    missing = np.isnan(next(iter(out.values()))) if out else np.zeros((0, 0), bool)
    if missing.any():
        raise RuntimeError(
            f"{int(missing.sum())} of {missing.size} runs are missing from the results folder "
            "after the study; the folder may be shared with another study."
        )
    return out


def _write_outputs(
    sa: SensitivityResult, method: str, samples: int, replicates: int, seed: int, distinct: int
) -> None:
    folder = sa.folder
    assert folder is not None
    tables = {
        "indices": sa.indices[COLUMNS],
        "ranking": sa.ranking,
        "convergence": sa.convergence,
        "noise": sa.noise,
    }
    for name, frame in tables.items():
        frame = frame.copy()
        frame.attrs = {}
        frame.to_parquet(folder / f"{name}.parquet", index=False)
        frame.to_csv(folder / f"{name}.csv", index=False)
    info = {
        "method": method,
        "samples": samples,
        "replicates": replicates,
        "seed": seed,
        "design_rows": len(sa.X),
        "distinct_points": distinct,
        "runs": distinct * replicates,
        "problem": sa.problem,
        "parameters": [
            {
                "path": f.path,
                "kind": f.kind,
                "sampled_on": f.bounds,
                **(
                    {"levels": list(f.levels)}
                    if f.kind == "levels"
                    else {"bounds": [f.low, f.high]}
                ),
                "group": f.group,
            }
            for f in sa.factors
        ],
        "metrics": list(sa.Y),
        "notes": sa.notes,
    }
    (folder / "sensitivity.json").write_text(json.dumps(info, indent=2, default=str))
    for metric in sa.Y:
        rows = sa.indices[sa.indices["metric"] == metric]
        if rows["value"].isna().all():
            continue
        if method in ("sobol", "fast"):
            ax = plot_sobol(sa.indices, metric)
        elif method == "morris":
            ax = plot_morris(sa.indices, metric)
        else:
            continue
        ax.figure.savefig(folder / f"{method}_{metric}.png", dpi=120, bbox_inches="tight")


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
