"""Holder kinds: self-interest damping, a provider council under oversight."""

from __future__ import annotations

import pytest

from poolpilot.model import PilotModel
from poolpilot.scenario import validate_data
from tiny import tiny_data


def test_conflict_of_interest_controls_and_joint_review_damp_self_interest():
    def holder(governance: dict) -> PilotModel:
        data = tiny_data(governance=governance)
        data["holder"] = {
            **data["holder"],
            "kind": "hospital",
            "self_interest": 0.4,
            "pressure_sensitivity": 1.0,
        }
        return PilotModel(validate_data(data, "t"), rng=1).holder

    # w = self_interest * (1 + sensitivity * pressure) * (1 - coi) * (1 - damping)
    assert holder({}).self_interest(0.5) == pytest.approx(0.6)
    assert holder({"coi_controls": 0.5}).self_interest(0.5) == pytest.approx(0.3)
    both = {"coi_controls": 0.5, "joint_review": {"enabled": True, "damping": 0.5}}
    assert holder(both).self_interest(0.5) == pytest.approx(0.15)


def test_oversight_pulls_provider_reports_back_to_system_need():
    def council(oversight: bool) -> PilotModel:
        data = tiny_data(governance={"oversight": {"enabled": oversight, "strength": 0.8}})
        data["holder"] = {
            "kind": "provider_council",
            "planning_cycle_months": 1,
        }
        data["providers"] = [{**data["providers"][0], "demand_bias": 0.5}]
        m = PilotModel(validate_data(data, "t"), rng=1)
        m.step()
        return m

    seen = council(False).holder.observed_need_cost(1)[0]
    checked = council(True).holder.observed_need_cost(1)[0]
    true_cost = 100 * 100.0
    # reports inflated by the bias (0.5), or by what oversight leaves of it (0.5 * 0.2)
    assert seen == pytest.approx(true_cost * 1.5, rel=0.1)
    assert checked == pytest.approx(true_cost * 1.1, rel=0.1)
