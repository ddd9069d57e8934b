"""Prospective budgets: corridors and in-year adjustment, hand-checked."""

from __future__ import annotations

import pytest

from poolpilot.model import PilotModel, prospective
from poolpilot.scenario import validate_data
from tiny import tiny_data


@pytest.mark.parametrize(
    ("variance", "expected"),
    [
        (0.02, 0.0),  # inside the no-share band
        (0.05, (0.05 - 0.03) * 0.5),  # first band only
        (0.10, (0.08 - 0.03) * 0.5 + (0.10 - 0.08) * 0.8),  # both bands
        (-0.05, -(0.05 - 0.03) * 0.5),  # underspend: payers take their share back
        (-0.10, -((0.08 - 0.03) * 0.5 + (0.10 - 0.08) * 0.8)),
    ],
)
def test_risk_corridor_settlement(variance, expected):
    bands = [(0.03, 0.5), (0.08, 0.8)]
    assert prospective.corridor_settlement(variance, 100_000.0, bands) == pytest.approx(
        expected * 100_000
    )


def _prospective(bias: float, adjust: bool) -> PilotModel:
    budget = {
        "basis": "prospective",
        "forecast_bias": bias,
        "forecast_error": 0.0,
        "upstream_share": 0.0,
        "in_year_adjustment": {"enabled": adjust, "trigger": 0.05},
    }
    data = tiny_data(horizon_months=12, budget=budget, prevention={"max_need_reduction": 0.0})
    data["holder"] = {"kind": "convener"}  # it plans from the forecast, not its own need data
    data["payers"][0]["annual_contribution"] = 200000  # money is not the constraint
    return PilotModel(validate_data(data, "t"), rng=1).run()


def test_an_envelope_set_10_percent_low_with_and_without_in_year_adjustment():
    accurate, low, adjusted = (
        _prospective(0.0, False),
        _prospective(-0.1, False),
        _prospective(-0.1, True),
    )
    # need is 100 visits x $100 a month: the low forecast buys 90 visits a month
    assert accurate.planned_spend[0] == pytest.approx(10_000.0)
    assert low.planned_spend[0] == pytest.approx(9_000.0)
    assert low.unmet[:, 0, 0].sum() > accurate.unmet[:, 0, 0].sum()
    adjustments = [e for e in adjusted.events.records if e[2] == "in_year_adjustment"]
    assert adjustments and adjustments[0][0] == 3  # two months delivered make a trend
    assert adjusted.planned_spend[-1] == pytest.approx(10_000.0)
    assert adjusted.unmet[:, 0, 0].sum() < low.unmet[:, 0, 0].sum()
