"""Exits: a leaving payer is refunded its unspent share after its notice; leaving is a monthly
chance that rises as standing falls through each partner's own threshold."""

from __future__ import annotations

from poolpilot.model import PilotModel
from poolpilot.scenario import validate_data
from tiny import tiny_data


def test_a_leaving_payer_is_refunded_its_unspent_share_after_its_notice():
    data = tiny_data(
        horizon_months=24,
        governance={
            "renewal_months": 6,
            "viability_floor": 0.0,
            "reconciliation": {"external_audit_probability": 0.0},
        },
        trust={"effort_sensitivity": 0.0, "exit_hazard": 1.0, "tolerance_spread": 0.0},
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
    # far below its exit threshold it gives notice in month 1 (chance ~1), with 3 months' notice
    assert exit_event[0] == 4
    refunds = [e for e in m.ledger.entries if e[1] == "refund" and e[3] == "county"]
    assert len(refunds) == 1 and refunds[0][0] == 4
    assert m.tally.counts["partner_exits"] == 1
    assert m.ledger.balances["county"] == -3 * 4000_00 + refunds[0][4]  # paid months 1-3
