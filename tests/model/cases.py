"""Small governance cases shared by the decision, challenge, trust and holder tests."""

from __future__ import annotations

from poolpilot.model import PilotModel
from poolpilot.scenario import validate_data
from tiny import tiny_data

LADDER = [
    {"name": "frontline", "delay_months": 1, "overturn_probability": 0.0},
    {"name": "contract_management", "delay_months": 2, "overturn_probability": 0.0},
    {"name": "system_governance", "delay_months": 3, "overturn_probability": 0.0},
]


def governed(governance: dict, months: int = 12) -> PilotModel:
    gov = {"reconciliation": {"external_audit_probability": 0.0}, **governance}
    data = tiny_data(horizon_months=months, governance=gov)
    data["holder"] = {**data["holder"], "planning_cycle_months": 24}  # only we propose cuts
    return PilotModel(validate_data(data, "t"), rng=1)


def cut_first_line(m: PilotModel, share: float) -> None:
    proposal = m.allocation.copy()
    proposal[0] *= 1.0 - share
    m.approvals.decide(m.month, proposal)


def events_of(m: PilotModel, action: str) -> list[tuple]:
    return [e for e in m.events.records if e[2] == action]
