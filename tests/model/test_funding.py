"""Payers and budgets: attribution, clawbacks, corridors, unwinding, prospective envelopes."""

from __future__ import annotations

import numpy as np
import pytest

from poolpilot.model import PilotModel, attribution, prospective
from poolpilot.scenario import validate_data
from tiny import tiny_data


def _two_payers(**changes) -> dict:
    data = tiny_data(**changes)
    data["services"] = data["services"] + [{"name": "housing", "unit_cost": 1000}]
    data["population"]["segments"][0]["need"]["housing"] = 0.01
    data["providers"] = data["providers"] + [{"name": "homes", "service": "housing", "capacity": 5}]
    data["payers"] = [
        {
            "name": "medicaid",
            "annual_contribution": 96000,
            "allowable_uses": ["nursing"],
            "earmarked": True,
        },
        {"name": "local", "annual_contribution": 48000},
    ]
    return data


def _seat(m: PilotModel, payer: str) -> int:
    """Payers sit in name order, whatever their order in the file."""
    return m.payer_names.index(payer)


def _fund(m: PilotModel, **balances: float) -> None:
    for payer, amount in balances.items():
        m.accounts.balance[_seat(m, payer)] = amount


def test_spend_is_charged_to_earmarked_payers_first_then_pro_rata():
    m = PilotModel(validate_data(_two_payers(), "t"), rng=1)
    _fund(m, medicaid=5000.0, local=3000.0)
    blocked = attribution.attribute(m, 1, np.array([6000.0, 1000.0]))
    # nursing: medicaid (earmarked) pays its 5,000 first; local pays the other 1,000;
    # housing: only local allows it, and pays it.
    assert blocked.tolist() == [0.0, 0.0]
    assert m.accounts.balance[_seat(m, "medicaid")] == pytest.approx(0.0)
    assert m.accounts.balance[_seat(m, "local")] == pytest.approx(1000.0)
    assert m.tally.totals["disallowed_spend"] == 0.0


def test_spend_no_allowing_payer_can_cover_is_blocked_or_disallowed():
    m = PilotModel(
        validate_data(_two_payers(governance={"validation": {"strictness": 1.0}}), "t"), rng=1
    )
    _fund(m, medicaid=5000.0, local=0.0)
    blocked = attribution.attribute(m, 1, np.array([0.0, 1000.0]))
    assert blocked.tolist() == [0.0, 1000.0]  # caught before it was paid
    lax = PilotModel(
        validate_data(
            _two_payers(
                governance={"validation": {"strictness": 0.0}, "decision_rights": {"enabled": True}}
            ),
            "t",
        ),
        rng=1,
    )
    _fund(lax, medicaid=5000.0, local=0.0)
    blocked = attribution.attribute(lax, 1, np.array([0.0, 1000.0]))
    assert blocked.tolist() == [0.0, 0.0]
    assert lax.tally.totals["disallowed_spend"] == pytest.approx(1000.0)  # charged to medicaid
    assert lax.accounts.vintages[_seat(lax, "medicaid")] == [[1, pytest.approx(1000.0)]]


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


def test_a_leaving_payer_is_refunded_its_unspent_share_after_its_notice():
    data = tiny_data(
        horizon_months=24,
        governance={
            "renewal_months": 6,
            "viability_floor": 0.0,
            "reconciliation": {"external_audit_probability": 0.0},
        },
    )
    data["payers"] = [
        {"name": "medicaid", "annual_contribution": 96000},
        {
            "name": "county",
            "annual_contribution": 48000,
            "notice_months": 3,
            "exit_threshold": 0.99,
            "reduce_threshold": 0.99,
            "initial_trust": 0.5,
        },
    ]
    m = PilotModel(validate_data(data, "t"), rng=1).run()
    (exit_event,) = [e for e in m.events.records if e[2] == "exit" and e[1] == "county"]
    assert exit_event[0] == 9  # notice at the month-6 renewal, 3 months' notice
    refunds = [e for e in m.ledger.entries if e[1] == "refund" and e[3] == "county"]
    assert len(refunds) == 1 and refunds[0][0] == 9
    assert m.tally.counts["partner_exits"] == 1
    assert m.ledger.balances["county"] == -8 * 4000_00 + refunds[0][4]  # paid months 1-8


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


def test_financial_statements_reach_payers_at_reconciliation_and_enter_their_trust():
    def payer_trust(statements: bool) -> tuple[float, float]:
        data = tiny_data(horizon_months=6, governance={"financial_statements": statements})
        data["payers"][0]["reconciliation"] = "quarterly"
        m = PilotModel(validate_data(data, "t"), rng=1)
        for _ in range(2):
            m.step()
        before = m.payer_trust[0]
        for _ in range(4):
            m.step()
        return before, m.payer_trust[0]

    (before_with, after_with), (before_without, after_without) = (
        payer_trust(True),
        payer_trust(False),
    )
    assert before_with == pytest.approx(before_without)  # no statement before month 3
    assert after_with > after_without
