"""Leaving and unfunded work, by hand: tolerance, the hazard, reserves, grievance, adequacy.

The tiny pilot: 100 people needing one nursing visit a month (cost 100: 10,000 a month), one
payer with 8,000 a month, one provider with capacity 200.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolpilot.model import PilotModel, trust
from poolpilot.model.membership import hazard, shifted, tolerance_shift
from poolpilot.scenario import validate_data
from tiny import tiny_data


def pilot(months: int = 12, **changes) -> PilotModel:
    return PilotModel(validate_data(tiny_data(horizon_months=months, **changes), "t"), rng=1)


def test_the_hazard_is_half_its_ceiling_at_the_partners_own_threshold() -> None:
    assert hazard(0.3, 0.3, ceiling=0.2, width=0.05) == pytest.approx(0.1)
    # one width above: 0.2 / (1 + e); far above: nil; far below: the ceiling
    assert hazard(0.35, 0.3, 0.2, 0.05) == pytest.approx(0.2 / (1 + math.e))
    assert hazard(0.9, 0.3, 0.2, 0.05) == pytest.approx(0.0, abs=1e-5)
    assert hazard(0.0, 0.3, 0.2, 0.05) == pytest.approx(0.2, rel=1e-2)


def test_each_partner_draws_its_own_tolerance_once() -> None:
    stream = np.random.default_rng(7)
    expected = 0.1 * np.random.default_rng(7).standard_normal()
    assert tolerance_shift(stream, 0.1) == pytest.approx(expected)
    assert shifted(0.2, 0.5) == 0.7 and shifted(0.2, -0.5) == 0.0
    m = pilot(trust={"effort_sensitivity": 0.0, "tolerance_spread": 0.0})
    assert m.lines[0].exit_threshold == 0.2  # no spread: the scenario's threshold
    m = pilot(trust={"effort_sensitivity": 0.0, "tolerance_spread": 0.2})
    assert m.lines[0].exit_threshold != 0.2
    assert m.lines[0].disengage_threshold >= m.lines[0].exit_threshold


@pytest.mark.parametrize("spread", [0.05, 0.2])
def test_partners_differ_so_a_share_of_them_leaves(spread: float) -> None:
    # 200 providers at trust 0.3 around an exit threshold of 0.3: a spread of tolerances
    # splits them, where one threshold for all would send all or none
    data = tiny_data(
        horizon_months=1, trust={"effort_sensitivity": 0.0, "tolerance_spread": spread}
    )
    data["providers"] = [
        {"name": f"p{i:03d}", "service": "nursing", "capacity": 2, "exit_threshold": 0.3}
        for i in range(200)
    ]
    m = PilotModel(validate_data(data, "t"), rng=3)
    below = np.mean([line.exit_threshold > 0.3 for line in m.lines])
    assert 0.3 < below < 0.7


def test_a_partner_far_below_its_threshold_gives_notice_at_once() -> None:
    m = pilot(months=2, trust={"effort_sensitivity": 0.0, "exit_hazard": 1.0})
    m.trust[:] = 0.0
    m.lines[0].exit_threshold = 0.9
    m.step()
    assert m.lines[0].exit_month == 1 + m.lines[0].spec.notice_months


def test_unfunded_work_stops_when_the_providers_reserve_is_spent() -> None:
    # nothing funded: the provider serves a quarter of need (25 visits, 2,500) from a reserve
    # of 1 month x capacity 200 x 100 = 20,000: eight months, then nothing
    data = tiny_data(horizon_months=12, trust={"effort_sensitivity": 0.0, "exit_hazard": 0.0})
    data["payers"][0]["annual_contribution"] = 0.0
    data["providers"][0]["reserve_months"] = 1.0
    data["governance"]["viability_floor"] = 0.0
    m = PilotModel(validate_data(data, "t"), rng=1).run()
    burden = m.line_burden[:, 0]
    assert burden[:8] == pytest.approx([2500.0] * 8)
    assert burden[8:] == pytest.approx([0.0] * 4)
    assert m.unmet[8:].sum() == pytest.approx(m.true_need[8:].sum())  # unfunded need unmet


def test_unfunded_work_is_a_grievance_that_lowers_the_signal() -> None:
    m = pilot(months=1)
    m.step()
    m.line_burden[0] = 0.0
    base = trust.partner_signal(m, 1)
    m.line_burden[0] = m.line_spend[0]  # as much unpaid as paid: grievance 0.5
    assert trust.partner_signal(m, 1)[0] == pytest.approx(base[0] - 0.45 * 1.0 * 0.5)


def test_a_providers_standing_is_judged_against_its_need_not_the_budget() -> None:
    m = pilot(months=1, trust={"effort_sensitivity": 0.0, "adequacy_weight": 1.0})
    m.step()
    need = m.line_need_history[0][0] * 100.0
    m.allocation[0] = m.fair[0] = 0.5 * need  # fair against the others, half of its need
    assert trust.unfairness(m.allocation, m.fair)[0] == 0.0
    assert m.lines[0].standing(1) == pytest.approx(m.lines[0].trust - 0.5)


@settings(max_examples=60, deadline=None)
@given(
    standing=st.floats(-2.0, 3.0),
    threshold=st.floats(0.0, 1.0),
    ceiling=st.floats(0.0, 1.0),
    width=st.floats(1e-3, 1.0),
)
def test_the_hazard_stays_within_zero_and_its_ceiling(standing, threshold, ceiling, width) -> None:
    h = hazard(standing, threshold, ceiling, width)
    assert 0.0 <= h <= ceiling


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    noise=st.floats(0.0, 1.0),
    spread=st.floats(0.0, 0.5),
    contribution=st.floats(0.0, 400_000.0),
)
def test_trust_stays_in_bounds_whatever_the_noise_and_money(seed, noise, spread, contribution):
    data = tiny_data(horizon_months=24, trust={"signal_noise": noise, "tolerance_spread": spread})
    data["payers"][0]["annual_contribution"] = contribution
    m = PilotModel(validate_data(data, "t"), rng=seed).run()
    for history in (m.trust_history[: m.month], m.payer_trust_history[: m.month]):
        assert (history >= 0.0).all() and (history <= 1.0).all()
    assert (m.line_reserve >= -1e-6).all()


def test_a_provider_rebuilds_its_reserve_from_the_surplus_on_what_it_is_paid() -> None:
    m = pilot(months=1, trust={"effort_sensitivity": 0.0, "reserve_rebuild_share": 0.1})
    m.line_reserve[:] = 0.0
    m.step()
    assert m.line_reserve[0] == pytest.approx(0.1 * m.line_spend[0, 0])
