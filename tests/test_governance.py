"""Governance rules, each checked on a small case with a hand-known answer."""

from __future__ import annotations

import numpy as np

from poolpilot import trust
from poolpilot.model import PilotModel
from poolpilot.scenario import validate_data
from tiny import tiny_data

LADDER = [
    {"name": "frontline", "delay_months": 1, "overturn_probability": 0.0},
    {"name": "contract_management", "delay_months": 2, "overturn_probability": 0.0},
    {"name": "system_governance", "delay_months": 3, "overturn_probability": 0.0},
]


def _model(governance: dict, months: int = 12) -> PilotModel:
    gov = {"reconciliation": {"external_audit_probability": 0.0}, **governance}
    data = tiny_data(horizon_months=months, governance=gov)
    data["holder"] = {**data["holder"], "planning_cycle_months": 24}  # only we propose cuts
    return PilotModel(validate_data(data, "t"), rng=1)


def _cut(m: PilotModel, share: float) -> None:
    proposal = m.allocation.copy()
    proposal[0] *= 1.0 - share
    m.governance.decide(m.month, proposal)


def _events(m: PilotModel, action: str) -> list[tuple]:
    return [e for e in m.events.records if e[2] == action]


def test_a_cut_above_the_threshold_waits_for_approval_and_one_below_does_not():
    rights = {
        "enabled": True,
        "cut": {"requires": "approval", "threshold_share": 0.1, "delay_months": 2},
    }
    m = _model({"decision_rights": rights})
    m.step()
    before = m.allocation[0]
    _cut(m, 0.05)  # below the threshold: the holder decides alone, at once
    assert m.allocation[0] == np.float64(before * 0.95)
    assert _events(m, "decide")[-1][-1] == "applied"
    _cut(m, 0.2)  # above it: a vote closes two months later
    assert m.allocation[0] == before * 0.95
    assert _events(m, "propose")[-1][-1] == "pending"
    m.step()
    assert not _events(m, "approval")
    m.step()
    (approval,) = _events(m, "approval")
    assert approval[0] == 3  # month 1 + 2 months' delay
    assert _events(m, "vote"), "partners concerned voted"
    if approval[-1] == "approved":
        assert m.allocation[0] < before * 0.95
        assert m.latencies[-1] == 2


def test_a_formal_challenge_climbs_the_ladder_with_each_tiers_delay():
    m = _model(
        {"challenges": {"rights": "formal", "propensity": 50}, "escalation": {"tiers": LADDER}}
    )
    m.step()
    m.trust[0] = 0.0  # a partner with no trust left always presses on
    _cut(m, 0.3)
    (challenge,) = _events(m, "challenge")
    assert challenge[0] == 1 and challenge[-1] == "frontline"
    m.trust[0] = 0.0
    for _ in range(7):
        m.trust[0] = 0.0
        m.step()
    steps = [(e[0], e[3]) for e in _events(m, "escalate")]
    assert steps == [(2, "contract_management"), (4, "system_governance")]
    final = _events(m, "escalation_decision")
    assert [(e[0], e[1], e[-1]) for e in final] == [(7, "system_governance", "upheld")]
    assert m.counts["escalations"] == 2


def test_an_unfair_cut_is_overturned_when_a_tier_always_overturns():
    ladder = [{"name": "frontline", "delay_months": 1, "overturn_probability": 1.0}]
    m = _model(
        {
            "challenges": {"rights": "formal", "propensity": 50},
            "transparency": 1.0,
            "escalation": {"tiers": ladder},
        }
    )
    m.step()
    before = m.allocation[0]
    _cut(m, 0.3)
    m.step()
    assert [e[-1] for e in _events(m, "escalation_decision")] == ["overturned"]
    assert m.allocation[0] == before
    assert m.counts["disputes_upheld"] == 1


def test_without_challenge_rights_no_challenge_is_possible():
    m = _model({"challenges": {"rights": "none", "propensity": 50}})
    m.step()
    for _ in range(5):
        _cut(m, 0.3)
        m.step()
    assert not _events(m, "challenge")
    assert m.counts["disputes_raised"] == 0


def test_informal_challenges_have_no_tiers():
    m = _model(
        {"challenges": {"rights": "informal", "propensity": 50}, "escalation": {"tiers": LADDER}}
    )
    m.step()
    m.trust[0] = 0.0
    _cut(m, 0.3)
    assert _events(m, "challenge")[0][-1] == "informal"


def test_trust_loses_more_than_it_gains_from_equal_and_opposite_shocks():
    start = np.array([0.6])
    up = trust.update(start, np.array([0.6]), start, 0.1, 3.0, 0.0)
    down = trust.update(up, np.array([-0.6]), start, 0.1, 3.0, 0.0)
    assert down[0] < start[0]
    symmetric = trust.update(
        trust.update(start, np.array([0.6]), start, 0.1, 1.0, 0.0),
        np.array([-0.6]),
        start,
        0.1,
        1.0,
        0.0,
    )
    assert symmetric[0] > down[0]


def test_weak_leverage_moves_money_slowly():
    strong = _model({})
    weak_data = tiny_data(horizon_months=12)
    weak_data["holder"] = {**weak_data["holder"], "leverage": 0.2, "planning_cycle_months": 24}
    weak = PilotModel(validate_data(weak_data, "t"), rng=1)
    for m in (strong, weak):
        m.step()
        _cut(m, 0.2)
    assert strong.allocation[0] < weak.allocation[0] < weak.fair[0]
