"""Designs derived from a design: its no-pool baseline, and the same pilot without own lines.

These are transformations of scenario data, shared by studies (the baseline that runs beside
every comparison) and the claims (arms that differ by one practice).
"""

from __future__ import annotations

import json
from typing import Any

from poolpilot.scenario.applicability import without_inert
from poolpilot.scenario.loading import to_data
from poolpilot.scenario.schema import Scenario
from poolpilot.scenario.validation import validate_data


def without_own_lines(scenario: Scenario, kind: str) -> dict[str, Any]:
    """The scenario's data with a holder of ``kind`` that runs no lines of its own.

    The holder's own lines stay in the pilot, delivered by the holder as a partner provider
    (named ``<holder>_<service>``) with the same capacity and effort.
    """
    data = to_data(scenario)
    holder = data["holder"]
    for line in holder.get("own_lines", []):
        data["providers"].append(
            {
                "name": f"{holder['name']}_{line['service']}",
                "service": line["service"],
                "capacity": line["capacity"],
                "base_effort": line["base_effort"],
            }
        )
    data["holder"] = {**holder, "kind": kind, "own_lines": [], "self_interest": 0.0}
    return without_inert(data)


def no_pool_variant(scenario: Scenario) -> Scenario:
    """The no-pool baseline of the same population: direct allocations, bilateral changes."""
    data = without_own_lines(scenario, "none")
    data["name"] = "no_pool_baseline"
    data["description"] = f"no pool: direct allocations for the population of {scenario.name}"
    data["budget"] = {
        **data["budget"],
        "basis": "retrospective",
        "admin_share": 0.0,
        "reserve_share": 0.0,
    }
    # a prospective design's envelope settings, prevention and planning rules act no more
    return validate_data(without_inert(data), f"{scenario.name} (no-pool baseline)")


def population_key(resolved: dict[str, Any]) -> str:
    """What makes two designs face the same need: population, services, acute events, horizon."""
    keys = ("population", "services", "acute_events", "horizon_months")
    return json.dumps({k: resolved.get(k) for k in keys}, sort_keys=True, default=str)


def baselines_for(designs: list[Scenario]) -> list[Scenario]:
    """One no-pool baseline per population among ``designs`` that has none yet.

    A baseline is paired with the designs of its own population (the return on the pool
    compares like with like); it is named ``no_pool_baseline`` when one is enough.
    """
    groups: dict[str, list[Scenario]] = {}
    for design in designs:
        groups.setdefault(population_key(to_data(design)), []).append(design)
    needed = [g for g in groups.values() if not any(d.holder.kind == "none" for d in g)]
    out = []
    for group in needed:
        variant = no_pool_variant(group[0])
        if len(needed) > 1:
            data = to_data(variant)
            data["name"] = f"no_pool_for_{group[0].name}"
            variant = validate_data(data, data["name"])
        out.append(variant)
    return out
