"""What a pool returns against the status quo it replaces, over many seeds (EVIDENCE.md section 7).

Pooled programmes rarely lowered hospital use (3 of 34 schemes), and a national pool did not
save: a pool pays when its services avert acute cost that silos left unfunded, not by merely
existing. So a reference pool whose services avert nothing must not pay for itself: its running
cost and the extra it spends on the pathway outweigh the contracts and boundary waits it saves.
"""

from __future__ import annotations

import numpy as np

from poolpilot.model import PilotModel, metrics
from poolpilot.scenario import load_scenario, no_pool_variant, to_data, validate_data

REFERENCE = "hospital_led_post_acute"
SEEDS = range(30)


def _returns(scenario) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per seed: the system cost the pool saved per dollar pooled, and the saving's parts."""

    def cost(sc, seed: int) -> dict[str, float]:
        return metrics.compute(PilotModel(sc, rng=seed).run())

    pool = [cost(scenario, s) for s in SEEDS]
    silos = [cost(no_pool_variant(scenario), s) for s in SEEDS]
    saved = np.array(
        [b["total_system_cost"] - d["total_system_cost"] for d, b in zip(pool, silos, strict=True)]
    )
    pooled = np.array([d["pooled_funding"] for d in pool])
    parts = {
        key: np.array([b[key] - d[key] for d, b in zip(pool, silos, strict=True)])
        for key in ("acute_cost", "fragmentation_cost")
    }
    return saved / pooled, parts


def _without_effects(name: str):
    data = to_data(load_scenario(name))
    for service in data["services"]:
        service["elasticity"] = 0.0
    return validate_data(data, name)


def _upper(x: np.ndarray) -> float:
    """A one-sided 99% bound of the mean (normal: 30 paired seeds)."""
    return float(x.mean() + 2.33 * x.std(ddof=1) / np.sqrt(len(x)))


def test_a_pool_whose_services_avert_nothing_does_not_pay() -> None:
    returns, parts = _returns(_without_effects(REFERENCE))
    assert parts["fragmentation_cost"].mean() > 0  # it does remove contracts and boundary waits
    assert _upper(returns) < 0.0


def test_what_a_pool_returns_comes_from_the_acute_cost_its_services_avert() -> None:
    with_effects, parts = _returns(load_scenario(REFERENCE))
    without, _ = _returns(_without_effects(REFERENCE))
    assert parts["acute_cost"].mean() > 0
    assert _upper(without - with_effects) < 0.0  # paired by seed: the same need in both
