"""The search for lever settings that hold up across futures (NSGA-II, `robustness` measures).

Every generation's new candidates run through the studies layer in one batch (parallel, Dask,
resumable: a candidate's runs have the same keys whenever it is proposed, so a rerun of the
same search skips what is stored). See `poolpilot.analysis.robustness` for the measures.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from poolpilot.analysis.exploration import EXPLORATION, Exploration, outcomes, plan_exploration
from poolpilot.analysis.robustness import (
    Objective,
    minimised,
    non_dominated,
    parse_measure,
    scores,
)
from poolpilot.runs.executors import execute
from poolpilot.runs.identity import StudyIdentity, claim_folder, write_manifest
from poolpilot.runs.store import ResultsStore
from poolpilot.runs.study import simulate_metrics
from poolpilot.scenario.schema import Scenario


@dataclass
class RobustResult:
    """Every candidate evaluated, its robustness per objective, and the non-dominated ones."""

    folder: Path
    candidates: pd.DataFrame
    objectives: list[Objective]
    measure: str
    levers: list[str]

    @property
    def front(self) -> pd.DataFrame:
        return self.candidates[self.candidates["non_dominated"]].reset_index(drop=True)


def robust_search(
    design: Scenario,
    uncertainties: dict[str, tuple[float, float]],
    levers: dict[str, list[Any]],
    objectives: list[Objective],
    *,
    measure: str = "mean",
    futures: int = 50,
    population: int = 12,
    generations: int = 5,
    seed: int = 0,
    out: str | Path,
    resume: bool = False,
    overwrite: bool = False,
    command: str | None = None,
    **options: Any,
) -> RobustResult:
    """Search the levers for settings whose robustness no other setting beats on every
    objective; every candidate faces the same ``futures`` (Latin hypercube, seed ``seed``)."""
    if not levers or any(len(v) < 2 for v in levers.values()):
        raise ValueError("--lever: a search needs levers with at least two values each")
    parse_measure(measure)
    exploration = Exploration(uncertainties, levers, futures, seed)
    names = list(levers)
    baseline_specs, designs = plan_exploration(
        design, Exploration(uncertainties, {}, futures, seed)
    )
    definition = {
        "objectives": [f"{o.metric}:{o.sense}" for o in objectives],
        "measure": measure,
        "population": population,
        "generations": generations,
        "levers": levers,
        "uncertainties": {k: list(v) for k, v in uncertainties.items()},
    }
    identity = StudyIdentity.of_study(
        designs,
        seed=seed,
        replicates=futures,
        points=[{"search": json.dumps(definition, sort_keys=True, default=str)}],
        detail=False,
    )
    folder = Path(out)
    seeds = exploration.seeds()
    record = {"command": command or " ".join(sys.argv), "seeds": seeds}
    # at most every setting of the levers, or as many as the generations propose, in every
    # future, and the status quo: an interrupted search reads as "N of at most M runs"
    settings = math.prod(len(values) for values in levers.values())
    most = futures * (1 + min(settings, population * generations))
    with claim_folder(folder, identity, resume=resume, overwrite=overwrite) as previous:
        write_manifest(
            folder,
            identity,
            runs_planned=most,
            runs_done=0,
            complete=False,
            previous=previous,
            **record,
        )
        (folder / EXPLORATION).write_text(json.dumps(exploration.to_json(), indent=2, default=str))
        runs = _Batches(folder, options)
        runs.run([r for r in baseline_specs if r.design != design.name])

        def evaluate(x: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
            settings = [
                {n: levers[n][int(i)] for n, i in zip(names, row, strict=True)} for row in x
            ]
            specs = []
            for s in settings:
                chosen = Exploration(uncertainties, {k: [v] for k, v in s.items()}, futures, seed)
                specs += [r for r in plan_exploration(design, chosen)[0] if r.design == design.name]
            table = outcomes(runs.run(specs), exploration)
            scored = scores(table, names, objectives, measure).set_index(names)
            index = pd.MultiIndex.from_tuples([tuple(s[n] for n in names) for s in settings])
            picked = (
                scored.reindex(index)
                if len(names) > 1
                else scored.reindex([s[names[0]] for s in settings])
            )
            return minimised(picked.reset_index(drop=True), objectives, measure), scored

        scored = _nsga2(
            evaluate,
            [len(levers[n]) for n in names],
            len(objectives),
            population,
            generations,
            seed,
        )
        done = len(ResultsStore(folder, readonly=True).completed_keys())
        write_manifest(
            folder,
            identity,
            runs_planned=done,
            runs_done=done,
            complete=True,
            previous=previous,
            **record,
        )
    candidates = scored.reset_index().drop(columns=["candidate"], errors="ignore")
    candidates["non_dominated"] = non_dominated(candidates, objectives, measure)
    return RobustResult(folder, candidates, objectives, measure, names)


class _Batches:
    """Runs batches of specs into one folder, skipping what it holds; returns all its runs."""

    def __init__(self, folder: Path, options: dict[str, Any]):
        self.folder, self.options = folder, options

    def run(self, specs: list) -> pd.DataFrame:
        execute(specs, simulate_metrics, self.folder, resume=True, **self.options)
        with ResultsStore(self.folder, readonly=True) as store:
            return store.read("runs")


def _nsga2(evaluate, sizes: list[int], n_obj: int, population: int, generations: int, seed: int):
    """NSGA-II over integer lever indices with pymoo's ask-and-tell loop."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.problems.static import StaticProblem

    problem = Problem(n_var=len(sizes), n_obj=n_obj, xl=0, xu=np.array(sizes) - 1, vtype=int)
    algorithm = NSGA2(
        pop_size=population,
        sampling=IntegerRandomSampling(),
        crossover=SBX(prob=0.9, eta=3.0, vtype=float, repair=RoundingRepair()),
        mutation=PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True,
    )
    algorithm.setup(problem, termination=("n_gen", generations), seed=seed, verbose=False)
    scored = None
    while algorithm.has_next():
        offspring = algorithm.ask()
        if offspring is None or len(offspring) == 0:  # no new candidate left to try
            break
        f, scored = evaluate(offspring.get("X").astype(int))
        Evaluator().eval(StaticProblem(problem, F=f), offspring)
        algorithm.tell(infills=offspring)
    return scored
