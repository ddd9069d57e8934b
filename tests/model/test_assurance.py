"""Findings and clawbacks: found sooner is found smaller."""

from __future__ import annotations

import numpy as np
import pytest

from poolpilot.model import PilotModel, attribution
from poolpilot.scenario import validate_data
from tiny import tiny_data


def _with_hidden_spend(cadence: str) -> PilotModel:
    gov = {
        "reconciliation": {
            "external_audit_probability": 0.0,
            "self_assessment_power": 1.0,
            "variance_threshold": 0.0,
            "final_audit": False,
        },
        "decision_rights": {"enabled": True},
    }
    data = tiny_data(horizon_months=12, governance=gov)
    data["payers"][0]["reconciliation"] = cadence
    m = PilotModel(validate_data(data, "t"), rng=1)
    for month in range(1, 13):
        m.step()
        if month <= 3:  # 1,000 of disallowed spend in each of the first three months
            attribution.disallow(m, month, np.array([1000.0]))
    return m


def test_a_clawback_found_at_month_3_is_smaller_and_sooner_than_at_month_12():
    quarterly, annual = _with_hidden_spend("quarterly"), _with_hidden_spend("annual")
    # quarterly: the month-1 and month-2 amounts are found at month 3 (the month-3 amount is
    # booked after that month's reconciliation, and found at month 6).
    assert quarterly.tally.samples["detection_lag"] == [2, 1, 3]
    assert annual.tally.samples["detection_lag"] == [11, 10, 9]
    assert (
        quarterly.tally.totals["clawbacks"] <= 3000.0 and annual.tally.totals["clawbacks"] <= 3000.0
    )
    assert annual.tally.peaks["year_end_shock"] == pytest.approx(3000.0 / 96000)
    assert quarterly.tally.peaks["year_end_shock"] == pytest.approx(2000.0 / 96000)
