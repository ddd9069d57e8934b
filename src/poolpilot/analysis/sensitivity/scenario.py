"""Sensitivity of a scenario's metrics, with the studies layer as the runner.

The same path as `analyze_function`: sample, evaluate, analyze; only the evaluation differs.
The distinct points of the design run through `poolpilot.runs.study` (parallel, resumable,
with progress), ``replicates`` times each, and the indices are computed on replicate means.
Writing the report is not part of the analysis: ``poolpilot sensitivity`` does it afterwards.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from poolpilot.analysis.sensitivity.factors import (
    WHERE,
    Factor,
    checked_factors,
    design_points,
    scenario_problem,
)
from poolpilot.analysis.sensitivity.indices import (
    COLUMNS,
    CONVERGENCE_COLUMNS,
    analyze,
    convergence,
    noise_shares,
    ranking,
)
from poolpilot.analysis.sensitivity.plot import plot_morris, plot_sobol
from poolpilot.analysis.sensitivity.sampling import GROUPED_METHODS, METHODS, check_samples, sample
from poolpilot.model.metrics import METRICS
from poolpilot.runs import study
from poolpilot.scenario import Problem, ScenarioError, load_scenario, to_data
from poolpilot.scenario.schema import Scenario, SensitivityParameter

__all__ = ["DEFAULT_SAMPLES", "IncompleteStudyError", "SensitivityResult", "analyze_scenario"]

#: Samples used when none are given: Sobol' base points, Morris trajectories, eFAST points per
#: parameter, Latin hypercube rows (rbd-fast and delta).
DEFAULT_SAMPLES = {"sobol": 256, "morris": 20, "fast": 128, "rbd-fast": 512, "delta": 512}


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
    overwrite: bool = False,
) -> SensitivityResult:
    """Sensitivity indices of a scenario's metrics to the fields its parameters name.

    ``X = sample(problem, method, samples, seed)``, each row mapped to a point ``{path:
    value}`` (`design_points`: levels and integer fields as `poolpilot.analysis.sensitivity.
    factors` says), the distinct points run through the studies layer
    (`poolpilot.runs.study.execute_study`: its plan, run function, results store and
    manifest; only the runs table is read back) ``replicates`` times each with the study's
    per-replicate seeds, the metrics averaged over replicates, put back in ``X``'s row order,
    and handed to `analyze`. Rows of ``X`` that map to the same point (a level or an integer
    shared by two rows) are run once and used for both.

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
        Metric names (`poolpilot.model.metrics.METRICS`); default the block's ``metrics``, or
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
        ``fast_<metric>.png`` or ``morris_<metric>.png``). No report: write it afterwards
        with `poolpilot.report.write_report` (``poolpilot sensitivity`` does). None: the runs
        go to a temporary folder, removed afterwards, and no files are kept.
    workers, executor, scheduler, resume, progress, command
        Passed to the studies layer.
    overwrite : bool
        Replace the study in ``out`` (what poolpilot wrote there, sensitivity outputs
        included); without it or ``resume``, a folder holding a study is refused.
    months : int, optional
        Overrides the scenario's horizon.
    groups : dict, optional
        ``{path: group name}``, setting or overriding the parameters' groups.

    Raises
    ------
    ScenarioError
        Before any run, listing every bad input (unknown metric or path, bounds the scenario
        refuses, a sobol sample size that is not a power of two, ...), one per line.
    IncompleteStudyError
        When runs failed or the study was interrupted.
    StudyMismatch, FolderRefused
        When ``out`` holds another study, files poolpilot did not write, or is in use
        (`poolpilot.runs.identity`).
    """
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
    folder = Path(out) if out is not None else None
    with contextlib.ExitStack() as stack:
        # Without ``out`` the runs go to a scratch folder, removed once the runs table is read.
        where = folder or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="poolpilot-sensitivity-"))
        )
        # Runs keep their metrics only (``detail=False``): a sensitivity study never reads the
        # timeseries or events, and at N = 1024 with ten parameters they would take gigabytes.
        ran = study.execute_study(
            [design],
            replicates=replicates,
            seed=seed,
            vary=unique,
            out=where,
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            resume=resume,
            overwrite=overwrite,
            progress=progress,
            command=command,
            detail=False,
        )
        runs, summary = ran.runs, ran.summary
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
    result = SensitivityResult(
        indices=indices,
        convergence=converged,
        noise=noise,
        runs=runs,
        folder=folder,
        ranking=ranking(indices),
        problem=problem,
        factors=list(found),
        X=X,
        Y=Y,
        points=points,
        summary=summary,
        notes=notes,
    )
    if folder is not None:
        _write_outputs(result, method, n, replicates, seed, len(unique))
    return result


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
    problems: list[Problem] = []
    n = samples if samples is not None else DEFAULT_SAMPLES.get(method, 0)
    if method not in METHODS:
        problems.append(Problem(file, "method", f"unknown method {method!r}; expected {METHODS}"))
    else:
        try:
            check_samples(method, n)
        except ValueError as err:
            problems.append(Problem(file, "samples", str(err)))
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        problems.append(Problem(file, "replicates", f"must be an integer >= 1, got {replicates!r}"))
    block = design.sensitivity
    names = list(dict.fromkeys(metrics or (block.metrics if block and block.metrics else METRICS)))
    for name in names:
        if name not in METRICS:
            close = difflib.get_close_matches(name, list(METRICS), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Problem(file, "sensitivity.metrics", f"unknown metric {name!r}{hint}"))
    found, bad = checked_factors(design, parameters, groups, file)
    problems += bad
    if found and any(f.group for f in found) and method not in GROUPED_METHODS:
        problems.append(Problem(file, WHERE, f"groups need sobol or morris, not {method!r}"))
    return found, names, n, problems


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
) -> dict[str, np.ndarray]:
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
    out: dict[str, np.ndarray] = {}
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
    result: SensitivityResult,
    method: str,
    samples: int,
    replicates: int,
    seed: int,
    distinct: int,
) -> None:
    """The tables (Parquet and CSV), sensitivity.json and the figures, into the folder."""
    folder = result.folder
    assert folder is not None
    tables = {
        "indices": result.indices[COLUMNS],
        "ranking": result.ranking,
        "convergence": result.convergence,
        "noise": result.noise,
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
        "design_rows": len(result.X),
        "distinct_points": distinct,
        "runs": distinct * replicates,
        "problem": result.problem,
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
            for f in result.factors
        ],
        "metrics": list(result.Y),
        "notes": result.notes,
    }
    (folder / "sensitivity.json").write_text(json.dumps(info, indent=2, default=str))
    for metric in result.Y:
        rows = result.indices[result.indices["metric"] == metric]
        if rows["value"].isna().all():
            continue
        if method in ("sobol", "fast"):
            ax = plot_sobol(result.indices, metric)
        elif method == "morris":
            ax = plot_morris(result.indices, metric)
        else:
            continue
        ax.figure.savefig(folder / f"{method}_{metric}.png", dpi=120, bbox_inches="tight")
