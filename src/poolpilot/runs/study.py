"""Studies: designs x varied values x replicates, run and saved as a results folder.

Seeds: replicate ``r`` of a study with seed ``S`` runs with the ``r``-th child of
``numpy.random.SeedSequence(S)``, whatever the design, so designs compared at the same
replicate face the same need (common random numbers) and comparisons pair runs by seed. The
seed is recorded in runs.parquet, and results do not depend on the number of workers.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import sys
import tempfile
import weakref
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from poolpilot.model import metrics, series
from poolpilot.model.pilot import PilotModel
from poolpilot.model.records import EVENT_COLUMNS, TIMESERIES_COLUMNS, RunResult, RunSpec
from poolpilot.runs.executors import StudySummary, execute
from poolpilot.runs.identity import (
    MANIFEST,
    StudyIdentity,
    StudyStatus,
    claim_folder,
    folder_status,
)
from poolpilot.runs.identity import write_manifest as write_study_manifest
from poolpilot.runs.store import ResultsStore
from poolpilot.scenario import (
    apply_override,
    baselines_for,
    content_hash,
    load_scenario,
    parse_assignment,
    to_data,
    validate_data,
)
from poolpilot.scenario.applicability import after_changes
from poolpilot.scenario.schema import Scenario


def run_seeds(seed: int, replicates: int) -> list[int]:
    """One seed per replicate, derived from the study seed (shared by every design)."""
    children = np.random.SeedSequence(seed).spawn(replicates)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> 1) for child in children]


@lru_cache(maxsize=64)
def _scenario_from_json(text: str) -> Scenario:
    return Scenario.model_validate(json.loads(text))


def simulate(spec: RunSpec) -> RunResult:
    """Run one pilot and turn it into its run record (module-level, so it can be shipped)."""
    model, row = _simulate(spec)
    return RunResult(
        row=row, timeseries=series.timeseries(model, spec.key), events=model.events.frame(spec.key)
    )


def simulate_metrics(spec: RunSpec) -> RunResult:
    """Run one pilot and keep only its row of metrics (sensitivity studies need no more)."""
    _, row = _simulate(spec)
    return RunResult(row=row, timeseries=_NO_TIMESERIES, events=_NO_EVENTS)


# Shared by every metrics-only run (never written to: the store skips empty tables); making
# two empty frames per run cost about 1 ms, a tenth of a run.
_NO_TIMESERIES = pd.DataFrame(columns=TIMESERIES_COLUMNS)
_NO_EVENTS = pd.DataFrame(columns=EVENT_COLUMNS)


def _simulate(spec: RunSpec) -> tuple[PilotModel, dict[str, Any]]:
    scenario = _scenario_from_json(json.dumps(spec.scenario, sort_keys=True))
    model_class = spec.model or PilotModel
    options = {"holder": spec.holder} if spec.holder is not None else {}
    model = model_class(scenario, rng=spec.seed, **options).run()
    row: dict[str, Any] = {
        "key": spec.key,
        "design": spec.design,
        "replicate": spec.replicate,
        "seed": spec.seed,
        **spec.varied,
        **metrics.compute(model),
        **metrics.accounts(model),
        "status": "ok",
        "error": "",
    }
    return model, row


def expand(vary: dict[str, list[Any]] | None) -> list[dict[str, Any]]:
    """Every combination of the varied values (a full grid); one empty combination if none."""
    if not vary:
        return [{}]
    paths = list(vary)
    return [dict(zip(paths, values, strict=True)) for values in itertools.product(*vary.values())]


def one_at_a_time(vary: dict[str, list[Any]] | None) -> list[dict[str, Any]]:
    """Each listed value of each path, the other fields staying at the scenario's values."""
    if not vary:
        return [{}]
    return [{path: value} for path, values in vary.items() for value in values]


def latin_hypercube(
    n: int, ranges: dict[str, tuple[float, float]], seed: int | np.random.Generator = 0
) -> list[dict]:
    """``n`` points of a Latin hypercube over ``ranges`` (path -> (low, high)); ``seed`` a
    study seed, or a stream of its own."""
    from scipy.stats import qmc

    if n < 1 or not ranges:
        raise ValueError("a Latin hypercube needs n >= 1 and at least one range")
    for path, (low, high) in ranges.items():
        if not low < high:
            raise ValueError(f"--range {path}: low must be below high (given {low}, {high})")
    unit = qmc.LatinHypercube(d=len(ranges), seed=seed).random(n)
    lows = np.array([r[0] for r in ranges.values()])
    highs = np.array([r[1] for r in ranges.values()])
    values = qmc.scale(unit, lows, highs)
    return [dict(zip(ranges, map(float, row), strict=True)) for row in values]


def points(
    vary: dict[str, list[Any]] | None = None,
    grid: dict[str, list[Any]] | None = None,
    lhs: int | None = None,
    ranges: dict[str, tuple[float, float]] | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The varied points of a study: lists one at a time, a full grid, a Latin hypercube.

    Several kinds combine as their product (every grid point at every hypercube point, ...).
    """
    sets = [
        one_at_a_time(vary),
        expand(grid),
        latin_hypercube(lhs, ranges or {}, seed) if lhs else [{}],
    ]
    return [{**a, **b, **c} for a in sets[0] for b in sets[1] for c in sets[2]]


def plan(
    designs: list[Scenario],
    replicates: int,
    seed: int = 0,
    vary: dict[str, list[Any]] | list[dict[str, Any]] | None = None,
    model: type[PilotModel] | None = None,
    holder: type | None = None,
) -> list[RunSpec]:
    """The runs of a study. ``vary`` is a grid (path -> values) or a list of points.

    ``model`` and ``holder`` run a researcher's own model or holder class instead of the
    defaults; their names enter each run's key, so a folder never mixes them up.
    """
    points = vary if isinstance(vary, list) else expand(vary)
    custom = "".join(f"-{c.__module__}.{c.__qualname__}" for c in (model, holder) if c)
    seeds = run_seeds(seed, replicates)
    specs = []
    for design in designs:
        base = to_data(design)
        for point in points:
            data = json.loads(json.dumps(base))
            for path, value in point.items():
                apply_override(data, path, value)
            after_changes(data, set(point))
            scenario = validate_data(data, design.name) if point else design
            resolved = to_data(scenario)
            digest = content_hash(scenario)
            for replicate, run_seed in enumerate(seeds):
                key = f"{digest}-r{replicate}-s{run_seed}{custom}"
                specs.append(
                    RunSpec(
                        key,
                        design.name,
                        resolved,
                        run_seed,
                        replicate,
                        dict(point),
                        model=model,
                        holder=holder,
                    )
                )
    return specs


@dataclass
class StudyResults:
    """A finished (or interrupted) study: its folder, what happened, and its tables.

    The tables are read from the results folder when first asked for, so a study of any size
    returns at once and only the tables used are loaded (a 20,000-run timeseries is large).
    ``runs_done``, ``runs_planned`` (None when the folder has no manifest) and ``complete``
    say whether the tables hold the whole study (see `poolpilot.runs.identity`).

    A study run without ``out`` lives in a temporary folder, removed when this object is
    garbage-collected or the interpreter exits: read the tables you need before dropping it
    (a table once read stays in memory with the object, and in any frame taken from it).
    """

    folder: Path
    summary: StudySummary

    @cached_property
    def runs(self) -> pd.DataFrame:
        return self._read("runs")

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        return self._read("timeseries")

    @cached_property
    def events(self) -> pd.DataFrame:
        return self._read("events")

    @property
    def runs_done(self) -> int:
        """Runs in the folder, ok or failed."""
        return self._status.runs_done

    @property
    def runs_planned(self) -> int | None:
        """Runs the study planned; None for a folder without a manifest (an older poolpilot)."""
        return self._status.runs_planned

    @property
    def complete(self) -> bool:
        """Every planned run is in the folder and the study was not interrupted."""
        return self._status.complete

    @cached_property
    def _status(self) -> StudyStatus:
        return folder_status(self.folder)

    def _read(self, table: str) -> pd.DataFrame:
        with ResultsStore(self.folder, readonly=True) as store:
            return store.read(table)


def execute_study(
    designs: list[Scenario],
    *,
    replicates: int = 10,
    seed: int = 0,
    vary: dict[str, list[Any]] | list[dict[str, Any]] | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    executor: Any = None,
    scheduler: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: str = "auto",
    command: str | None = None,
    detail: bool = True,
    model: type[PilotModel] | None = None,
    holder: type | None = None,
) -> StudyResults:
    """Run every design x varied point x replicate into ``out``, a folder for this study only.

    ``resume=True`` finishes the study already in ``out`` and refuses another one
    (`StudyMismatch`); ``overwrite=True`` replaces what poolpilot wrote there; without either,
    a folder holding a study is refused (`FolderRefused`). ``out=None`` runs in a temporary
    folder, removed with the returned `StudyResults`. manifest.json is written when the study
    starts, marked incomplete, and rewritten when it stops (`poolpilot.runs.identity`).

    ``detail=False`` keeps only each run's row of metrics (no timeseries or events): what a
    sensitivity study needs, at a fraction of the time and disk. ``model`` (a ``PilotModel``
    subclass) and ``holder`` (a ``BudgetHolder`` subclass) run a mechanism of your own through
    the same executors, store and report.
    """
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1 (given {replicates})")
    specs = plan(designs, replicates, seed, vary, model=model, holder=holder)
    points = vary if isinstance(vary, list) else expand(vary)
    identity = StudyIdentity.of_study(
        designs,
        seed=seed,
        replicates=replicates,
        points=points,
        detail=detail,
        model=model,
        holder=holder,
    )
    return execute_planned(
        specs,
        identity,
        run_seeds(seed, replicates),
        out=out,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        command=command,
        detail=detail,
    )


def execute_planned(
    specs: list[RunSpec],
    identity: StudyIdentity,
    seeds: list[int],
    *,
    out: str | Path | None = None,
    workers: int | None = None,
    executor: Any = None,
    scheduler: Any = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: str = "auto",
    command: str | None = None,
    detail: bool = True,
) -> StudyResults:
    """Run planned ``specs`` into ``out`` as a study of ``identity`` (see `execute_study`).

    For studies planned otherwise than designs x points x replicates (an exploration pairs
    each sampled future with its own seed); ``seeds`` are the seeds the manifest records.
    """
    temporary = out is None
    folder = Path(tempfile.mkdtemp(prefix="poolpilot-") if out is None else out)
    if executor is None and workers == 1:
        executor = "serial"
    record = functools.partial(
        write_study_manifest,
        folder,
        identity,
        runs_planned=len(specs),
        command=command or " ".join(sys.argv),
        seeds=seeds,
    )
    planned = {spec.key for spec in specs}
    try:
        with claim_folder(folder, identity, resume=resume, overwrite=overwrite) as previous:
            record(runs_done=_done(folder, planned), complete=False, previous=previous)
            summary = None
            try:
                summary = execute(
                    specs,
                    simulate if detail else simulate_metrics,
                    folder,
                    executor=executor,
                    workers=workers,
                    scheduler=scheduler,
                    resume=resume,
                    progress=progress,
                )
            finally:
                # Interrupted or stopped by an error: the manifest says how far it got; an
                # error before any run (a bad option, say) leaves no study to resume.
                done = _done(folder, planned)
                if summary is None and done == 0 and previous is None:
                    (folder / MANIFEST).unlink(missing_ok=True)
                else:
                    complete = not (summary is None or summary.interrupted) and done == len(specs)
                    record(runs_done=done, complete=complete, previous=previous)
    except BaseException:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    result = StudyResults(folder, summary)
    if temporary:
        weakref.finalize(result, _remove_temporary, str(folder), os.getpid())
    return result


def _done(folder: Path, planned: set[str]) -> int:
    """Planned runs in the store, ok or failed."""
    return len(ResultsStore(folder, readonly=True).completed_keys() & planned)


def _remove_temporary(folder: str, owner: int) -> None:
    """Remove a temporary study's folder, in the process that made it (not a forked worker)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def write_manifest(
    folder: Path,
    designs: list[Scenario],
    specs: list[RunSpec],
    replicates: int,
    seed: int,
    vary: Any,
    command: str | None,
    *,
    detail: bool = True,
) -> None:
    """manifest.json for runs saved by other means than `execute_study` (the benchmarks).

    Complete when every run of ``specs`` is in the folder's store.
    """
    points = vary if isinstance(vary, list) else expand(vary)
    identity = StudyIdentity.of_study(
        designs, seed=seed, replicates=replicates, points=points, detail=detail
    )
    done = _done(folder, {spec.key for spec in specs})
    write_study_manifest(
        folder,
        identity,
        runs_planned=len(specs),
        runs_done=done,
        complete=done == len(specs),
        command=command or " ".join(sys.argv),
        seeds=run_seeds(seed, replicates),
    )


def run(
    scenario: str | Path | Scenario,
    *,
    replicates: int = 10,
    seed: int = 0,
    months: int | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
    vary: dict[str, list[Any]] | None = None,
    grid: dict[str, list[Any]] | None = None,
    lhs: int | None = None,
    ranges: dict[str, tuple[float, float]] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    **options: Any,
) -> StudyResults:
    """Run one design ``replicates`` times (``poolpilot run``), at each varied point.

    ``vary`` runs each listed value of each path one at a time, ``grid`` every combination,
    ``lhs`` that many Latin hypercube points over ``ranges`` (see :func:`points`). ``resume``
    and ``overwrite`` say what to do with a folder that holds a study (`execute_study`).
    """
    design = prepare_design(scenario, overrides, months)
    varied = _varied(vary, grid, lhs, ranges, seed)
    return execute_study(
        [design],
        replicates=replicates,
        seed=seed,
        vary=varied,
        resume=resume,
        overwrite=overwrite,
        **options,
    )


def compare(
    scenarios: list[str | Path | Scenario],
    *,
    replicates: int = 10,
    seed: int = 0,
    months: int | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
    baseline: bool = True,
    ideal_baseline: bool = False,
    vary: dict[str, list[Any]] | None = None,
    grid: dict[str, list[Any]] | None = None,
    lhs: int | None = None,
    ranges: dict[str, tuple[float, float]] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    **options: Any,
) -> StudyResults:
    """Designs side by side at the same seeds, with the no-pool baseline alongside.

    The baseline is the status quo a pool would replace; ``ideal_baseline`` adds the idealised
    one too (a frictionless planner, no fragmentation), so the report can say how far the pool
    is from the best a single budget could do. Varied points (``vary``, ``grid``, ``lhs``)
    apply to every design, as in :func:`run`; so do ``resume`` and ``overwrite``.
    """
    if ideal_baseline and not baseline:
        raise ValueError("ideal_baseline adds to the no-pool baseline: it needs baseline=True")
    designs = [prepare_design(s, overrides, months) for s in scenarios]
    names = [d.name for d in designs]
    if len(set(names)) < len(names):
        raise ValueError(f"designs must have distinct names (given {', '.join(names)})")
    if baseline:
        designs += baselines_for(designs, ideal=ideal_baseline)
    varied = _varied(vary, grid, lhs, ranges, seed)
    return execute_study(
        designs,
        replicates=replicates,
        seed=seed,
        vary=varied,
        resume=resume,
        overwrite=overwrite,
        **options,
    )


def _varied(
    vary: dict[str, list[Any]] | None,
    grid: dict[str, list[Any]] | None,
    lhs: int | None,
    ranges: dict[str, tuple[float, float]] | None,
    seed: int,
) -> list[dict[str, Any]] | None:
    """The varied points of a study, or None when nothing is varied."""
    chosen = points(vary, grid, lhs, ranges, seed)
    return None if chosen == [{}] else chosen


def prepare_design(
    scenario: str | Path | Scenario,
    overrides: list[str] | dict[str, Any] | None,
    months: int | None,
) -> Scenario:
    """A validated design with its overrides (``--set``) and horizon (``--months``) applied.

    A shorter horizon drops the scheduled shocks that would start after it.
    """
    changes = (
        dict(overrides)
        if isinstance(overrides, dict)
        else dict(parse_assignment(o) for o in overrides or [])
    )
    source = to_data(scenario) if isinstance(scenario, Scenario) else scenario
    design = load_scenario(source, changes)
    if not months or months == design.horizon_months:
        return design
    data = to_data(design)
    data["horizon_months"] = months
    for segment in data["population"]["segments"]:
        segment["shocks"] = [s for s in segment["shocks"] if s["month"] <= months]
    return validate_data(data, design.name)
