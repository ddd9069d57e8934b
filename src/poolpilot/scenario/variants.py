"""Designs derived from a design: its no-pool baseline, and the same pilot without own lines.

These are transformations of scenario data, shared by studies (the baseline that runs beside
every comparison) and the claims (arms that differ by one practice).
"""

from __future__ import annotations

import json
from typing import Any

from poolpilot.scenario.applicability import own_lines_to_partners, without_inert
from poolpilot.scenario.loading import to_data
from poolpilot.scenario.schema import Scenario
from poolpilot.scenario.validation import validate_data


def without_own_lines(scenario: Scenario, kind: str) -> dict[str, Any]:
    """The scenario's data with a holder of ``kind`` that runs no lines of its own.

    The holder's own lines stay in the pilot, delivered by the holder as a partner provider
    (named ``<holder>_<service>``) with the same capacity and effort.
    """
    data = own_lines_to_partners(to_data(scenario))
    data["holder"] = {**data["holder"], "kind": kind, "self_interest": 0.0}
    return without_inert(data)


#: Governance a payer applies to its own contracts without a pool: kept from the design.
CONTRACT_GOVERNANCE = ("reconciliation", "validation", "renewal_months", "max_shift_per_cycle")

#: The idealised baseline: one frictionless planner, the design's governance, no fragmentation.
IDEAL_STATUS_QUO = {
    "silo_budgets": False,
    "historic_allocation": "current_need",
    "wrong_pockets": 0.0,
    "pool_governance": True,
}


def no_pool_variant(scenario: Scenario, ideal: bool = False) -> Scenario:
    """The status quo of the same population: no pool, each payer's own contracts.

    Without ``status_quo.pool_governance`` the pool-level rules (decision rights, joint review,
    assurance, statements, the escalation ladder, transparency dashboards) do not act: each
    payer keeps only the reconciliation and validation of its own contracts, and partners can
    dispute a contract informally. ``ideal`` gives the idealised baseline ``no_pool_ideal``:
    one planner allocating all the money to need, the design's governance, no contracts to run
    and no boundary between its budgets (only the one with budgets outside the pilot): what a
    pool would be compared with if the status quo were frictionless.
    """
    data = without_own_lines(scenario, "none")
    data["name"] = "no_pool_ideal" if ideal else "no_pool_baseline"
    what = "idealised baseline (frictionless planner)" if ideal else "status quo"
    data["description"] = f"no pool, {what}, for the population of {scenario.name}"
    data["budget"] = {
        **data["budget"],
        "basis": "retrospective",
        "admin_share": 0.0,
        "reserve_share": 0.0,
    }
    if ideal:
        data["status_quo"] = {**data.get("status_quo", {}), **IDEAL_STATUS_QUO}
        data["fragmentation"] = {**data.get("fragmentation", {}), "contract_cost": 0.0}
    elif not data.get("status_quo", {}).get("pool_governance", False):
        governance = data.get("governance", {})
        data["governance"] = {
            **{k: governance[k] for k in CONTRACT_GOVERNANCE if k in governance},
            "challenges": {"rights": "informal"},
        }
    label = "idealised baseline" if ideal else "status-quo baseline"
    # a prospective design's envelope settings, prevention and planning rules act no more
    return validate_data(without_inert(data), f"{scenario.name} ({label})")


def population_key(resolved: dict[str, Any]) -> str:
    """What makes two designs face the same need: population, services, acute events, horizon."""
    keys = ("population", "services", "acute_events", "horizon_months")
    return json.dumps({k: resolved.get(k) for k in keys}, sort_keys=True, default=str)


def baselines_for(designs: list[Scenario], ideal: bool = False) -> list[Scenario]:
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
        for kind in (False, True) if ideal else (False,):
            variant = no_pool_variant(group[0], ideal=kind)
            if len(needed) > 1:
                data = to_data(variant)
                prefix = "no_pool_ideal" if kind else "no_pool"
                data["name"] = f"{prefix}_for_{group[0].name}"
                variant = validate_data(data, data["name"])
            out.append(variant)
    return out
