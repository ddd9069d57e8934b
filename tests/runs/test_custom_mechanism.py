"""A researcher's own holder or model class runs through studies, the pool and the store."""

from __future__ import annotations

import numpy as np

import poolpilot
from poolpilot.model import PilotModel, metrics
from poolpilot.model.holders import BudgetHolder


class BlindHolder(BudgetHolder):
    """Sees every line's need as equal: a mechanism that visibly changes allocations."""

    def observed_need_cost(self, month: int) -> np.ndarray:
        seen = super().observed_need_cost(month)
        return np.full_like(seen, seen.mean())


class BlindPilot(PilotModel):
    def __init__(self, scenario, rng, months=None):
        super().__init__(scenario, rng, months, holder=BlindHolder)


def test_a_holder_class_runs_through_a_study_on_the_process_pool(tmp_path):
    scenario = poolpilot.load_scenario("county_led_bh_housing", {"horizon_months": 12})
    default = poolpilot.run(scenario, replicates=3, seed=4, workers=1, progress="none")
    blind = poolpilot.run(
        scenario,
        replicates=3,
        seed=4,
        workers=2,
        holder=BlindHolder,
        progress="none",
        out=tmp_path / "blind",
    )
    assert (blind.runs["status"] == "ok").all()
    assert not np.allclose(blind.runs["demand_mismatch"], default.runs["demand_mismatch"])
    # the pool ran exactly what the class computes in-process, seed by seed
    seed = int(blind.runs.sort_values("replicate")["seed"].iloc[0])
    here = metrics.compute(PilotModel(scenario, rng=seed, holder=BlindHolder).run())
    first = blind.runs.sort_values("replicate").iloc[0]
    assert first["demand_mismatch"] == here["demand_mismatch"]
    assert blind.runs["key"].str.endswith("BlindHolder").all()


def test_a_model_class_runs_through_compare_with_its_baseline():
    scenario = poolpilot.load_scenario("county_led_bh_housing", {"horizon_months": 12})
    result = poolpilot.compare(
        [scenario], replicates=2, seed=1, workers=1, model=BlindPilot, progress="none"
    )
    assert set(result.runs["design"]) == {scenario.name, "no_pool_baseline"}
    seed = int(result.runs["seed"].iloc[0])
    row = result.runs[(result.runs["design"] == scenario.name) & (result.runs["seed"] == seed)]
    assert (
        row["demand_mismatch"].iloc[0]
        == metrics.compute(BlindPilot(scenario, rng=seed).run())["demand_mismatch"]
    )
