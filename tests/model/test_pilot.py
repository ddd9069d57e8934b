"""The pilot model: a tiny scenario followed by hand, conservation, and common random numbers."""

from __future__ import annotations

import numpy as np
import pytest

from poolpilot.model import PilotModel, metrics
from poolpilot.model.ledger import ConservationError, Ledger
from poolpilot.scenario import load_scenario, to_data, validate_data
from tiny import tiny_data


def test_tiny_scenario_by_hand(tiny):
    # 100 people x 1 visit x $100 = $10,000 of need a month. The payer pays $8,000 a month;
    # 5% runs the pool ($400), 2% goes to the reserve ($160): $7,440 buys 74.4 visits.
    # The provider also serves 25% of the unfunded 25.6 visits at its own cost (6.4 visits).
    m = PilotModel(tiny, rng=1).run()
    assert m.allocation[0] == pytest.approx(7440.0)
    assert m.line_spend[:, 0] == pytest.approx([7440.0] * 3)
    assert m.met_need[:, 0, 0] == pytest.approx([80.8] * 3)
    assert m.unmet[:, 0, 0] == pytest.approx([19.2] * 3)
    # acute events: 1 a month at baseline, plus 0.05 per unmet visit of the month before
    assert m.acute[:, 0] == pytest.approx([1.0, 1.96, 1.96])
    assert m.ledger.totals["contribution"] == 24_000_00
    assert m.ledger.totals["administration"] == 1_200_00
    assert m.ledger.totals["reserve"] == 480_00
    assert m.ledger.totals["payment"] == 22_320_00
    assert m.ledger.balance("pool") == 0
    assert m.ledger.balance("reserve") == 480_00
    got = metrics.compute(m)
    assert got["unmet_need_share"] == pytest.approx(5760 / 30000)
    assert got["acute_events"] == pytest.approx(4.92)
    assert got["acute_cost"] == pytest.approx(4920.0)
    assert got["unfunded_burden"] == pytest.approx(1920.0)
    assert got["financial_drift"] == pytest.approx(640 / 7440)
    # the 19.2 visits unmet in month 3 raise 0.96 readmissions after the end (in the cost)
    assert got["acute_cost_after_end"] == pytest.approx(960.0)
    assert got["total_system_cost"] == pytest.approx(3 * 8080 + 1200 + 4920 + 960)
    assert got["demand_mismatch"] == pytest.approx(0.0)
    assert got["cost_shift_index"] == 0.0
    assert got["ended_early"] == 0.0 and got["ended_month"] == 3.0


def test_every_metric_of_design_is_reported(tiny):
    required = {
        "unmet_need_share",
        "community_unmet_need_share",
        "equity_gap",
        "demand_mismatch",
        "cost_shift_index",
        "unfunded_burden",
        "trust_initial_mean",
        "trust_final_mean",
        "trust_min",
        "trust_erosion",
        "partner_exits",
        "decision_latency_mean",
        "disputes_raised",
        "disputes_upheld",
        "escalations",
        "disallowed_spend",
        "clawbacks",
        "detection_lag_mean",
        "financial_drift",
        "year_end_shock",
        "acute_events",
        "acute_cost",
        "ended_early",
        "ended_month",
        "total_system_cost",
    }
    got = metrics.compute(PilotModel(tiny, rng=3).run())
    assert required <= set(got)
    assert all(np.isfinite(v) for v in got.values())


def test_a_leaking_payment_is_caught(tiny, monkeypatch):
    post = Ledger.post

    def leaky(self, month, kind, source, target, amount):
        moved = post(self, month, kind, source, target, amount)
        if kind == "payment":
            self.balances[target] -= 1  # one cent of every payment vanishes
        return moved

    monkeypatch.setattr(Ledger, "post", leaky)
    with pytest.raises(ConservationError, match="month 1: money is not conserved"):
        PilotModel(tiny, rng=1).run()


def test_a_payment_that_bypasses_the_model_is_caught(tiny):
    m = PilotModel(tiny, rng=1)
    m.step()
    m.ledger.post(2, "payment", "pool", "nurses", 500)  # not through the model's own books
    with pytest.raises(ConservationError):
        m.step()


def test_the_model_refuses_an_unseeded_run(tiny):
    with pytest.raises(ValueError, match="explicit seed"):
        PilotModel(tiny, rng=None)


def test_two_designs_with_one_seed_face_the_same_need():
    hospital = load_scenario("hospital_led_post_acute")
    other = load_scenario(
        "hospital_led_post_acute",
        {"governance.challenges.rights": "none", "holder.self_interest": 0.9},
    )
    a, b = PilotModel(hospital, rng=11), PilotModel(other, rng=11)
    assert np.array_equal(a.need, b.need)
    assert not np.array_equal(a.need, PilotModel(hospital, rng=12).need)


def test_agents_are_mesa_agents_by_type(tiny):
    from poolpilot.model.agents import Payer, Provider
    from poolpilot.model.holders import HOLDERS, BudgetHolder

    m = PilotModel(tiny, rng=1)
    assert len(m.agents_by_type[Payer]) == 1
    assert len(m.agents_by_type[Provider]) == 1
    holder_class = HOLDERS[tiny.holder.kind]
    assert list(m.agents_by_type[holder_class]) == [m.holder]
    assert isinstance(m.holder, BudgetHolder)


def test_upstream_spend_lowers_need_after_its_lag():
    data = tiny_data(
        horizon_months=12,
        budget={"basis": "prospective", "upstream_share": 0.2, "forecast_error": 0.0},
        prevention={"lag_months": 2, "max_need_reduction": 0.2, "half_effect_per_person": 15},
    )
    data["holder"] = {"kind": "convener"}  # it plans from the forecast, not its own need data
    m = PilotModel(validate_data(data, "t"), rng=1).run()
    assert m.upstream[0] > 0
    assert m.true_need[0, 0, 0] == pytest.approx(100.0)  # no effect before the lag
    assert m.true_need[11, 0, 0] < 100.0


def test_reordering_partners_in_the_file_gives_the_same_numbers():
    """Draws are keyed by partner name, and partners sit in name order: file order is moot."""
    data = to_data(load_scenario("convener_led_multi_provider"))
    shuffled = to_data(load_scenario("convener_led_multi_provider"))
    shuffled["providers"] = shuffled["providers"][::-1]
    shuffled["payers"] = shuffled["payers"][::-1]
    assert [p["name"] for p in shuffled["providers"]] != [p["name"] for p in data["providers"]]
    a = metrics.compute(PilotModel(validate_data(data, "a"), rng=5).run())
    b = metrics.compute(PilotModel(validate_data(shuffled, "b"), rng=5).run())
    assert a == b


def test_a_partners_draws_do_not_depend_on_the_others():
    """Adding a provider leaves another provider's own stream as it was (names, not places)."""
    m = PilotModel(load_scenario("convener_led_multi_provider"), rng=5)
    data = to_data(load_scenario("convener_led_multi_provider"))
    data["providers"].append({**data["providers"][0], "name": "a_new_provider"})
    bigger = PilotModel(validate_data(data, "more"), rng=5)
    first = m.lines[0].name
    twin = next(line for line in bigger.lines if line.name == first)
    assert m.lines[0].rng.random() == twin.rng.random()
    assert m.lines[0].rng.random() != m.lines[1].rng.random()
