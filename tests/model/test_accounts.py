"""Parties' accounts, by hand: who bears acute costs, boundary waits, the benchmark, sharing.

The tiny pilot: 100 people needing one nursing visit a month (cost 100), one payer with 8,000 a
month; one readmission a month at baseline (1,000 each), 0.05 more per unit of unmet nursing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from poolpilot.model import PilotModel, accounts, metrics
from poolpilot.model.state import Parties
from poolpilot.scenario import validate_data
from tiny import tiny_data


def pilot(borne_by="outside", months: int = 3, **changes) -> PilotModel:
    data = tiny_data(horizon_months=months, **changes)
    data["acute_events"][0]["borne_by"] = borne_by
    return PilotModel(validate_data(data, "t"), rng=1)


def test_acute_cost_lands_on_the_parties_that_bear_it() -> None:
    m = pilot({"medicaid": 0.2, "holder": 0.3, "outside": 0.5})
    m.step()  # month 1: the baseline event only (unmet need shows after the lag)
    row = dict(zip(m.parties.names, m.parties.acute[0], strict=True))
    assert row == pytest.approx({"medicaid": 200, "holder": 300, "outside": 500, "providers": 0})


def test_boundary_waits_cost_bed_days_to_whoever_pays_the_bed() -> None:
    data = tiny_data(fragmentation={"bed_day_cost": 1000.0})
    data["services"][0]["discharge_delay_days"] = 0.5
    data["acute_events"][0]["borne_by"] = {"medicaid": 0.2, "outside": 0.8}
    m = PilotModel(validate_data(data, "t"), rng=1)
    m.step()
    # 100 units needed x 0.5 days x boundary 0.8 (the bed is 80% outside the pool) = 40 days
    assert m.tally.totals["delayed_bed_days"] == pytest.approx(40.0)
    delays = dict(zip(m.parties.names, m.parties.delays[0], strict=True))
    assert delays["medicaid"] == pytest.approx(8000.0)
    assert delays["outside"] == pytest.approx(32000.0)


def test_without_a_pool_each_contract_costs_its_payer() -> None:
    m = pilot(holder={"kind": "none", "name": "no_pool"}, fragmentation={"contract_cost": 12000})
    m.step()
    assert m.parties.contracts[0, m.parties.index("medicaid")] == pytest.approx(1000.0)
    pooled = pilot(fragmentation={"contract_cost": 12000})
    pooled.step()
    assert pooled.parties.contracts.sum() == 0.0  # the pool's one route is its running cost


def test_the_benchmark_is_acute_cost_at_the_status_quos_cover_of_need() -> None:
    # the status quo values nursing at 1 - 0.5 * (1 - 0.2) = 0.6: it covers 60% of need, so
    # from month 2 the benchmark is 1 + 0.05 x 40 unmet units = 3 events, 600 of them medicaid's
    m = pilot({"medicaid": 0.2, "outside": 0.8}, status_quo={"historic_allocation": "current_need"})
    m.step()
    m.step()
    assert m.status_quo_cover == pytest.approx([0.6])
    bench = dict(zip(m.parties.names, m.parties.benchmark[1], strict=True))
    assert bench["medicaid"] == pytest.approx(600.0)
    assert bench["outside"] == pytest.approx(2400.0)


def test_gain_sharing_passes_a_share_of_savings_above_the_minimum_rate() -> None:
    p = Parties(["a", "b", "holder", "outside", "providers"], horizon=12)
    p.benchmark[:, 2] = 100.0  # the holder expected 1,200 of acute cost over the year
    p.acute[:, 2] = 50.0  # and bore 600: it saved 600
    p.benchmark[:, 0] = 100.0
    p.acute[:, 0] = 99.0  # payer a saved 12, under 2% of its 1,200 benchmark: noise
    transfers = p.share_savings(12, np.array([300.0, 100.0]), share=0.5, minimum_rate=0.02)
    assert transfers == [(2, 0, pytest.approx(225.0)), (2, 1, pytest.approx(75.0))]
    assert p.shared.tolist() == pytest.approx([225.0, 75.0, -300.0, 0.0, 0.0])


def test_a_payer_weighs_its_own_return_beside_trust_at_renewal() -> None:
    m = pilot(months=12)
    m.run()
    seat = 0
    m.parties.benchmark[:, seat] = 1000.0
    m.parties.acute[:, seat] = 0.0  # it saved 12,000 on a 96,000 contribution: 0.125
    weight = m.payers[seat].spec.savings_weight
    assert m.payers[seat].standing(12) == pytest.approx(m.payers[seat].trust + weight * 0.125)


def test_gain_sharing_moves_money_between_parties_and_keeps_the_books() -> None:
    gov = {"savings_sharing": {"enabled": True, "share": 0.5, "minimum_savings_rate": 0.0}}
    data = tiny_data(horizon_months=24, governance=gov)
    data["acute_events"][0]["borne_by"] = "holder"
    data["payers"][0]["annual_contribution"] = 240000  # need fully funded: acute cost falls
    m = PilotModel(validate_data(data, "t"), rng=1).run()  # the books are checked monthly
    shared = [e for e in m.events.records if e[2] == "share_savings"]
    assert shared and m.parties.shared[m.parties.index("medicaid")] > 0
    assert m.parties.shared.sum() == pytest.approx(0.0, abs=1e-6)
    assert m.books.total("shared_savings") == pytest.approx(m.parties.shared[0], abs=0.01)


@pytest.mark.parametrize("holder", ["convener", "none"])
def test_the_parties_net_costs_add_up_to_the_total_system_cost(holder: str) -> None:
    m = pilot({"medicaid": 0.5, "outside": 0.5}, months=12, holder={"kind": holder})
    m.run()
    items = metrics.accounts(m)
    total = math.fsum(v for k, v in items.items() if k.endswith(":net_cost"))
    assert metrics.compute(m)["total_system_cost"] == pytest.approx(total)
    # what was paid in and not spent comes back: refunds and what the pool and reserve hold
    returned = math.fsum(v for k, v in items.items() if k.endswith(":returned"))
    left = m.books.balance("pool") + m.books.balance("reserve") + m.books.total("refund")
    assert returned == pytest.approx(left)
    spent = m.books.total("payment") + m.books.total("own_line_spend")
    paid = math.fsum(v for k, v in items.items() if k.endswith(":paid_in"))
    assert paid - returned == pytest.approx(spent + m.books.total("administration"), abs=0.05)


def test_a_payer_that_sees_its_acute_costs_rise_reduces_where_trust_alone_would_not() -> None:
    m = pilot(months=12)
    m.run()
    payer = m.payers[0]
    m.payer_trust[0] = 0.5  # above its reduce threshold (0.45): trust alone continues
    m.parties.acute[:, 0] = 2000.0  # 24,000 above its benchmark on a 96,000 contribution
    m.parties.benchmark[:, 0] = 0.0
    assert payer.standing(12) == pytest.approx(0.5 - 0.5 * 0.25)
    assert payer.renew(12) == "reduce"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_payer_that_bears_no_acute_cost_sees_a_return_only_when_savings_are_shared(seed) -> None:
    from poolpilot.scenario import load_scenario

    standing = {}
    for sharing in (False, True):
        scenario = load_scenario(
            "multi_payer_medicaid_ph_local",
            overrides=[f"governance.savings_sharing.enabled={str(sharing).lower()}"],
        )
        m = PilotModel(scenario, rng=seed, months=12).run()
        local = m.payer_names.index("local_funds")
        standing[sharing] = m.payers[local].standing(12)
        if not sharing:  # local funds bear none of the acute cost: no savings of their own
            assert m.parties.savings(12)[local] == 0.0
    assert standing[True] > standing[False]


def test_a_lag_longer_than_the_horizon_leaves_the_benchmark_at_baseline() -> None:
    data = tiny_data(horizon_months=2)
    data["services"][0]["lag_months"] = 6
    m = PilotModel(validate_data(data, "t"), rng=1).run()
    outside = m.parties.index("outside")
    assert m.parties.benchmark[:, outside] == pytest.approx([1000.0, 1000.0])


@pytest.mark.parametrize(("lag", "after"), [(0, 0.0), (1, 5.0), (2, 10.0)])
def test_need_unmet_in_the_last_months_raises_acute_events_after_the_end(lag, after) -> None:
    # no nurse to deliver: all 100 units of need are unmet every month, and each raises 0.05
    # readmissions ``lag`` months later; those of the last ``lag`` months land after month 3
    data = tiny_data(providers=[{"name": "nurses", "service": "nursing", "capacity": 0}])
    data["services"][0]["lag_months"] = lag
    data["acute_events"][0]["borne_by"] = {"medicaid": 0.2, "outside": 0.8}
    m = PilotModel(validate_data(data, "t"), rng=1).run()
    assert m.acute_after == pytest.approx([after])
    values = metrics.compute(m)
    assert values["acute_cost_after_end"] == pytest.approx(1000.0 * after)
    # borne as the events are, in the parties' accounts and so in the total system cost
    items = metrics.accounts(m)
    in_run = dict(zip(m.parties.names, m.parties.acute.sum(axis=0), strict=True))
    assert items["account:medicaid:acute"] == pytest.approx(in_run["medicaid"] + 200.0 * after)
    assert items["account:outside:acute"] == pytest.approx(in_run["outside"] + 800.0 * after)
    assert values["acute_cost"] == pytest.approx(sum(in_run.values()))  # months 1 to 3 only


def test_prevention_paid_for_in_the_last_months_averts_acute_events_after_the_end() -> None:
    # prevention acts a month later, through the mean upstream spend of three months: 600 spent
    # in month 3 is 200 a month, 2 a person, in each of months 4, 5 and 6, which leaves
    # 1 - 0.2 * 2 / (2 + 2) = 0.9 of need: 0.1 of the baseline readmission averted in each
    data = tiny_data(
        providers=[{"name": "nurses", "service": "nursing", "capacity": 0}],
        prevention={"max_need_reduction": 0.2, "half_effect_per_person": 2.0, "lag_months": 1},
    )
    m = PilotModel(validate_data(data, "t"), rng=1).run()
    m.upstream[:] = [0.0, 0.0, 600.0]
    accounts.bear_after_end(m, 3)
    # 5 readmissions from the unmet need of month 3, less 3 x 0.1 averted
    assert m.acute_after == pytest.approx([5.0 - 0.3])
