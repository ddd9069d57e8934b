"""Decisions and approvals, each on a small case with a hand-known answer."""

from __future__ import annotations

import numpy as np
from cases import cut_first_line, events_of, governed

from poolpilot.model import PilotModel
from poolpilot.scenario import validate_data
from tiny import tiny_data


def test_a_cut_above_the_threshold_waits_for_approval_and_one_below_does_not():
    rights = {
        "enabled": True,
        "cut": {"requires": "approval", "threshold_share": 0.1, "delay_months": 2},
    }
    m = governed({"decision_rights": rights})
    m.step()
    before = m.allocation[0]
    cut_first_line(m, 0.05)  # below the threshold: the holder decides alone, at once
    assert m.allocation[0] == np.float64(before * 0.95)
    assert events_of(m, "decide")[-1][-1] == "applied"
    cut_first_line(m, 0.2)  # above it: a vote closes two months later
    assert m.allocation[0] == before * 0.95
    assert events_of(m, "propose")[-1][-1] == "pending"
    m.step()
    assert not events_of(m, "approval")
    m.step()
    (approval,) = events_of(m, "approval")
    assert approval[0] == 3  # month 1 + 2 months' delay
    assert events_of(m, "vote"), "partners concerned voted"
    if approval[-1] == "approved":
        assert m.allocation[0] < before * 0.95
        assert m.tally.samples["decision_latency"][-1] == 2


def test_weak_leverage_moves_money_slowly():
    strong = governed({})
    weak_data = tiny_data(horizon_months=12)
    weak_data["holder"] = {**weak_data["holder"], "leverage": 0.2, "planning_cycle_months": 24}
    weak = PilotModel(validate_data(weak_data, "t"), rng=1)
    for m in (strong, weak):
        m.step()
        cut_first_line(m, 0.2)
    assert strong.allocation[0] < weak.allocation[0] < weak.fair[0]
