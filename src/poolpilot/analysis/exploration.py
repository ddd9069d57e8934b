"""Exploration studies: one design across many sampled futures, each lever setting beside the
status quo of the same future.

A *future* is a point of the uncertainties (need trend, shocks, unit costs, partners'
tolerance...), sampled by Latin hypercube; a *lever setting* is one combination of the
governance choices a designer controls: every combination of the listed values (a full grid),
or a sample of them drawn without replacement when the grid is too large to run in every
future (``settings_sampled``). Every lever setting and the no-pool baseline run in every
future, and all the runs of future ``f`` share its seed (the ``f``-th child of the study
seed): common random numbers, so the pool and the status quo face the same need, shocks and
partner draws, and their difference is the pool's effect in that future. Runs keep metrics
only and go through the studies layer (parallel, resumable, Dask).

:func:`outcomes` turns the runs into the table scenario discovery and robustness read: one row
per future and lever setting, with the uncertainties, the levers, the design's metrics and its
paired differences with the status quo (``return_on_pool`` among them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from poolpilot.model.records import RunSpec
from poolpilot.runs import study
from poolpilot.runs.identity import StudyIdentity
from poolpilot.scenario import apply_override, content_hash, to_data, validate_data
from poolpilot.scenario.applicability import (
    Inert,
    condition_paths,
    hand_over_own_lines,
    switched_off,
    without_inert,
)
from poolpilot.scenario.schema import Scenario
from poolpilot.scenario.variants import no_pool_variant

#: What an exploration folder records of its sampling (read by discovery and robustness).
EXPLORATION = "exploration.json"
#: The outcome columns compared with the status quo, run by run (``<metric>_vs_status_quo``).
COMPARED = ("unmet_need_share", "total_system_cost", "trust_final_mean", "partner_exits")
#: The second word of the seed that samples lever settings (the first is the study seed).
SETTINGS_STREAM = 19


@dataclass(frozen=True)
class Exploration:
    """The sampling of an exploration: uncertainties (path -> (low, high)), levers (path ->
    values), the number of futures, the study seed, and how many lever settings to sample
    from the levers' grid (``None``: every combination)."""

    uncertainties: dict[str, tuple[float, float]]
    levers: dict[str, list[Any]]
    futures: int
    seed: int = 0
    settings_sampled: int | None = None
    #: Numeric levers sampled in a range (path -> (low, high)): settings are then a Latin
    #: hypercube of ``settings_sampled`` points over these and the listed levers.
    lever_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def lever_paths(self) -> list[str]:
        """Every lever: the listed ones, then those sampled in a range."""
        return [*self.levers, *self.lever_ranges]

    def future_points(self) -> list[dict[str, Any]]:
        """The sampled futures (a Latin hypercube over the uncertainties)."""
        if not self.uncertainties:
            return [{} for _ in range(self.futures)]
        return study.latin_hypercube(self.futures, self.uncertainties, self.seed)

    def settings(self) -> list[dict[str, Any]]:
        """The lever settings every future runs, in grid order: every combination of the
        levers' values (one empty setting without levers), or ``settings_sampled`` of them.

        The sample is drawn without replacement, uniformly over the grid, from a stream of
        its own (the study seed and :data:`SETTINGS_STREAM`), so adding futures leaves the
        settings as they were. A sample as large as the grid is the grid.
        """
        rng = np.random.default_rng([self.seed, SETTINGS_STREAM])
        if self.lever_ranges:
            return self._hypercube_settings(rng)
        grid = study.expand(self.levers)
        n = self.settings_sampled
        if n is None or n >= len(grid):
            return grid
        return [grid[i] for i in sorted(rng.choice(len(grid), size=n, replace=False).tolist())]

    def _hypercube_settings(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        """``settings_sampled`` settings by Latin hypercube: a range lever uniform over its
        range, a listed one over its values (each value an equal slice of the unit interval)."""
        if self.settings_sampled is None:
            raise ValueError("levers sampled in a range need settings_sampled (how many)")
        unit = {p: (0.0, 1.0) for p in self.levers}  # a listed lever's slices
        points = study.latin_hypercube(self.settings_sampled, {**unit, **self.lever_ranges}, rng)
        for point in points:
            for path, values in self.levers.items():
                point[path] = values[min(int(point[path] * len(values)), len(values) - 1)]
        return points

    def combinations(self) -> int | None:
        """How many settings the levers' grid holds (``settings()`` may run fewer); None when
        a lever is sampled in a range (no grid)."""
        return None if self.lever_ranges else len(study.expand(self.levers))

    def seeds(self) -> list[int]:
        """One seed per future, shared by all its runs (common random numbers)."""
        return study.run_seeds(self.seed, self.futures)

    def to_json(self) -> dict[str, Any]:
        return {
            "uncertainties": {k: list(v) for k, v in self.uncertainties.items()},
            "levers": self.levers,
            "futures": self.futures,
            "seed": self.seed,
            "settings_sampled": self.settings_sampled,
            "lever_ranges": {k: list(v) for k, v in self.lever_ranges.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exploration:
        return cls(
            {k: (float(v[0]), float(v[1])) for k, v in data["uncertainties"].items()},
            {k: list(v) for k, v in data["levers"].items()},
            int(data["futures"]),
            int(data.get("seed", 0)),
            data.get("settings_sampled"),  # absent from folders written before sampling
            {k: (float(v[0]), float(v[1])) for k, v in data.get("lever_ranges", {}).items()},
        )


def _variant(
    base: dict[str, Any], point: dict[str, Any], name: str, inert: list[Inert] | None = None
) -> tuple[Scenario, list[Inert]]:
    """The design at ``point``, and the settings the point made inert (back at their defaults).

    ``inert``, when given, is what the same lever setting made inert in another future: the
    futures' numbers switch nothing on or off, so planning need not find it again.
    """
    data = json.loads(json.dumps(base))
    for path, value in point.items():
        apply_override(data, path, value)
    hand_over_own_lines(data, set(point))
    if inert is None:
        inert = switched_off(data, set(point)) if point else []
    without_inert(data, inert)
    return validate_data(data, name), inert


def plan_exploration(design: Scenario, exploration: Exploration) -> tuple[list[RunSpec], list]:
    """The runs: in each future, every lever setting and the status quo, at the future's seed.

    Returns the runs and the designs they stand for (the design and its baseline). The
    baseline is the status quo of the design *in that future*: the uncertainties apply to it,
    the levers (choices about the pool) do not.
    """
    base = to_data(design)
    baseline = no_pool_variant(design)
    baseline_base = to_data(baseline)
    specs: list[RunSpec] = []
    settings = exploration.settings()
    # what each arm's levers made inert, found in the first future and kept for the others,
    # unless an uncertainty is itself a field that switches others on or off
    reuse = not set(exploration.uncertainties) & condition_paths()
    inert: dict[int, list[Inert]] = {}
    for future, (point, seed) in enumerate(
        zip(exploration.future_points(), exploration.seeds(), strict=True)
    ):
        arms = [(design.name, base, {**point, **s}) for s in settings]
        arms.append((baseline.name, baseline_base, point))
        for arm, (name, data, varied) in enumerate(arms):
            scenario, inert[arm] = _variant(data, varied, name, inert.get(arm) if reuse else None)
            key = f"{content_hash(scenario)}-r{future}-s{seed}"
            resolved = _sharing(to_data(scenario), data)
            specs.append(RunSpec(key, name, resolved, seed, future, dict(varied)))
    return specs, [design, baseline]


def _sharing(data: Any, like: Any) -> Any:
    """``data`` holding ``like``'s own objects wherever they are equal, section by section
    and item by item.

    The runs of an exploration differ in a few fields: sharing the rest keeps a 100,000-run
    exploration's plan to one copy of it, not a whole scenario (about 29 KB) a run. Planned
    scenarios are only read (sent to the workers, which rebuild the scenario from them). Both
    are dumps of validated scenarios, so equal values of a field are of one type.
    """
    if data == like:
        return like
    if isinstance(data, dict) and isinstance(like, dict):
        return {k: _sharing(v, like[k]) if k in like else v for k, v in data.items()}
    if isinstance(data, list) and isinstance(like, list) and len(data) == len(like):
        return [_sharing(a, b) for a, b in zip(data, like, strict=True)]
    return data


def explore(
    design: Scenario,
    exploration: Exploration,
    *,
    out: str | Path | None = None,
    command: str | None = None,
    **options: Any,
) -> study.StudyResults:
    """Run an exploration into ``out`` (``options`` as for `execute_study`: workers, executor,
    scheduler, resume, overwrite, progress). ``poolpilot explore`` calls this."""
    if exploration.futures < 1:
        raise ValueError(f"futures must be at least 1 (given {exploration.futures})")
    if exploration.settings_sampled is not None and exploration.settings_sampled < 1:
        raise ValueError(
            f"settings_sampled must be at least 1 (given {exploration.settings_sampled})"
        )
    specs, designs = plan_exploration(design, exploration)
    # the sampling, not its points: they follow from it, and a 100,000-run exploration's
    # points would make a manifest (and the report's appendix) of tens of megabytes
    sampling = json.dumps(exploration.to_json(), sort_keys=True, default=str)
    identity = StudyIdentity.of_study(
        designs,
        seed=exploration.seed,
        replicates=exploration.futures,
        points=[{"exploration": sampling}],
        detail=False,
    )
    result = study.execute_planned(
        specs,
        identity,
        exploration.seeds(),
        out=out,
        command=command,
        detail=False,
        **options,
    )
    path = result.folder / EXPLORATION
    path.write_text(json.dumps(exploration.to_json(), indent=2, default=str))
    return result


def read_exploration(folder: str | Path) -> Exploration:
    """The sampling recorded in an exploration folder (ValueError if it is not one)."""
    path = Path(folder) / EXPLORATION
    if not path.is_file():
        raise ValueError(
            f"{folder}: not an exploration folder (no {EXPLORATION}; run poolpilot explore)"
        )
    return Exploration.from_json(json.loads(path.read_text()))


def outcomes(runs: pd.DataFrame, exploration: Exploration) -> pd.DataFrame:
    """One row per future and lever setting: the inputs, the metrics, and the pool against
    the status quo of the same future (paired by the future's seed).

    ``return_on_pool`` is the system cost the pool saved per dollar pooled; each
    ``<metric>_vs_status_quo`` is the design's value minus the status quo's. Failed runs are
    left out (a future whose baseline failed has no comparison: NaN).
    """
    ok = runs[runs["status"] == "ok"]
    baseline_rows = ok[ok["design"].str.startswith("no_pool")].set_index("replicate")
    pooled = ok[~ok["design"].str.startswith("no_pool")].copy()
    pooled = pooled.rename(columns={"replicate": "future"})
    b = baseline_rows.reindex(pooled["future"].to_numpy())
    money = pooled["pooled_funding"].where(pooled["pooled_funding"] > 0).to_numpy()
    saved = b["total_system_cost"].to_numpy() - pooled["total_system_cost"].to_numpy()
    pooled["return_on_pool"] = saved / money
    for metric in COMPARED:
        pooled[f"{metric}_vs_status_quo"] = pooled[metric].to_numpy() - b[metric].to_numpy()
    inputs = [*exploration.uncertainties, *exploration.lever_paths]
    metrics = [c for c in pooled.columns if c not in {*inputs, "key", "design", "status", "error"}]
    return pooled[["future", *inputs, *[m for m in metrics if m != "future"]]].reset_index(
        drop=True
    )


def inputs_of(table: pd.DataFrame, exploration: Exploration) -> pd.DataFrame:
    """The input columns of an outcomes table, levers that vary kept (as categories where
    their values are not numbers)."""
    columns = [*exploration.uncertainties] + [
        p for p, values in exploration.levers.items() if len(values) > 1
    ]
    columns += list(exploration.lever_ranges)
    x = table[columns].copy()
    for path in exploration.levers:
        if path in x and not all(isinstance(v, (int, float)) for v in exploration.levers[path]):
            x[path] = x[path].astype(str)
    return x


def expected_runs(exploration: Exploration) -> int:
    """Runs an exploration makes: each future, each lever setting and the status quo."""
    return exploration.futures * (len(exploration.settings()) + 1)


__all__ = [
    "Exploration",
    "explore",
    "expected_runs",
    "inputs_of",
    "outcomes",
    "plan_exploration",
    "read_exploration",
]
