"""Attribution and reconciliation: whose money paid, whether allowed, what payers see."""

from __future__ import annotations

import numpy as np
import pytest

from poolpilot.model import PilotModel, attribution
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


@pytest.mark.parametrize("rights", [False, True])
def test_spend_no_payer_approved_can_be_miscoded_and_approved_spend_cannot(rights) -> None:
    data = _two_payers(
        governance={
            "decision_rights": {"enabled": rights},
            "validation": {"miscoding_rate": 0.5, "strictness": 0.0},
        }
    )
    m = PilotModel(validate_data(data, "t"), rng=1)
    m.allocation[:] = 1000.0
    # a matrix agreed at set-up: every line approved; none without it
    assert m.line_approved.all() == rights and m.line_approved.any() == rights
    spend = np.array([1000.0, 1000.0])
    for month in range(1, 21):
        m.accounts.balance[:] = 10_000.0
        attribution.miscode(m, month, spend)
    assert (m.tally.totals["disallowed_spend"] > 0) == (not rights)
    m.line_approved[:] = False  # changes decided alone: nobody checked their coding
    for month in range(21, 41):
        attribution.miscode(m, month, spend)
    assert m.tally.totals["disallowed_spend"] > 0
