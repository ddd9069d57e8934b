"""The return on the pool and who pays and who saves, on runs small enough to follow by hand.

One pooled design (``pool``) and its baselines, two replicates each: the status quo
(``no_pool_baseline``) and the idealised baseline (``no_pool_ideal``, no silo budgets). Each
run's parties' net costs add up to its total system cost, as in the model.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from poolpilot.analysis.paired import paired
from poolpilot.report import accounts, findings, tables
from poolpilot.report.context import Study
from poolpilot.report.data import ReportData
from poolpilot.report.formats import per_pooled

SCENARIOS = {
    "pool": {"holder": {"kind": "lead_agency"}},
    "no_pool_baseline": {"holder": {"kind": "none"}, "status_quo": {"silo_budgets": True}},
    "no_pool_ideal": {"holder": {"kind": "none"}, "status_quo": {"silo_budgets": False}},
}


def _account(party: str, **items: float) -> dict[str, float]:
    """A party's account columns; net cost as the model computes it."""
    values = dict.fromkeys(("paid_in", "returned", "shared", *accounts.BORNE), 0.0) | items
    values["net_cost"] = (
        values["paid_in"]
        - values["returned"]
        - values["shared"]
        + sum(values[i] for i in accounts.BORNE)
    )
    return {f"account:{party}:{item}": v for item, v in values.items()}


def _run(design: str, replicate: int, pooled: float, running: float, *parties) -> dict:
    """One run: its parties' accounts and the cost metrics they add up to."""
    row: dict = {"design": design, "replicate": replicate}
    for party in parties:
        row |= party
    nets = [v for k, v in row.items() if k.endswith(":net_cost")]
    acute = [v for k, v in row.items() if k.endswith(":acute")]
    fragmentation = [v for k, v in row.items() if k.endswith((":delays", ":contracts"))]
    return row | {
        "total_system_cost": sum(nets),
        "acute_cost": sum(acute),
        "fragmentation_cost": sum(fragmentation),
        "pooled_funding": pooled,
        "running_cost": running,
    }


#: The pool: medicaid pays in 100 (10 and 20 come back), the holder bears 5 of acute cost,
#: providers do 20 and 30 of unfunded work; 10 of medicaid's money runs the pool.
POOL = [
    _run(
        "pool",
        0,
        100.0,
        10.0,
        _account("medicaid", paid_in=100, returned=10, acute=50),
        _account("holder", acute=5),
        _account("providers", unfunded_work=20),
    ),
    _run(
        "pool",
        1,
        100.0,
        10.0,
        _account("medicaid", paid_in=100, returned=20, acute=60),
        _account("holder", acute=5),
        _account("providers", unfunded_work=30),
    ),
]
#: The status quo: no holder; medicaid runs contracts; Medicare ("outside") bears acute cost.
STATUS_QUO = [
    _run(
        "no_pool_baseline",
        0,
        100.0,
        0.0,
        _account("medicaid", paid_in=100, acute=60, contracts=10),
        _account("providers", unfunded_work=25),
        _account("outside", acute=8),
    ),
    _run(
        "no_pool_baseline",
        1,
        100.0,
        0.0,
        _account("medicaid", paid_in=100, returned=5, acute=70, contracts=10),
        _account("providers", unfunded_work=35),
        _account("outside", acute=4),
    ),
]
#: The frictionless planner: less acute cost than the pool, no contracts.
IDEAL = [
    _run("no_pool_ideal", r, 100.0, 0.0, _account("medicaid", paid_in=100, acute=acute))
    for r, acute in ((0, 50), (1, 60))
]


def _data(rows: list[dict], baselines: list[str]) -> ReportData:
    runs = pd.DataFrame(rows)
    runs["label"] = runs["design"]
    runs["pair"] = runs["replicate"]
    labels = list(dict.fromkeys(runs["design"]))
    return ReportData(
        folder=Path("."),
        manifest={},
        runs=runs,
        failed=runs.iloc[:0],
        timeseries=pd.DataFrame(),
        events=pd.DataFrame(),
        labels=labels,
        metrics=[c for c in runs.columns if c not in ("design", "replicate", "label", "pair")],
        varied=[],
        label_design={label: label for label in labels},
        scenarios={k: v for k, v in SCENARIOS.items() if k in labels},
        baselines=baselines,
        indices=None,
        symbol="$",
    )


@pytest.fixture
def both() -> ReportData:
    # the idealised baseline listed first: the status quo is preferred whatever the order
    return _data(POOL + STATUS_QUO + IDEAL, ["no_pool_ideal", "no_pool_baseline"])


def _measures(table: pd.DataFrame, main: bool = True) -> pd.DataFrame:
    return table[table["main"] == main].set_index("measure")


def test_return_is_system_cost_saved_per_unit_pooled_with_components_counted_once(both):
    table, reasons = tables.pool_return(both)
    assert not reasons
    got = _measures(table)
    assert set(got["baseline"]) == {"no_pool_baseline"}
    assert set(got["against"]) == {tables.STATUS_QUO}
    # system cost: pool 165 and 175, status quo 203 and 214; 100 pooled
    assert got.at["system_cost_saved", "mean"] == pytest.approx(38.5)
    assert got.at["return_on_pool", "mean"] == pytest.approx(0.385)
    assert got.at["return_on_pool", "low"] == pytest.approx(paired([0.38, 0.39]).low)
    assert got.at["acute_cost_avoided", "mean"] == pytest.approx(11.0)  # 68 - 55, 74 - 65
    assert got.at["fragmentation_cost_avoided", "mean"] == pytest.approx(10.0)
    assert got.at["extra_pathway_spend", "mean"] == pytest.approx(-27.5)  # 100 - 125, 100 - 130
    assert got.at["running_cost", "mean"] == pytest.approx(10.0)
    parts = got["mean"]
    assert parts["system_cost_saved"] == pytest.approx(
        parts["acute_cost_avoided"]
        + parts["fragmentation_cost_avoided"]
        - parts["extra_pathway_spend"]
        - parts["running_cost"]
    )
    assert (got["positive"][["system_cost_saved", "running_cost"]] == 1.0).all()
    assert got.at["extra_pathway_spend", "positive"] == 0.0


def test_return_against_a_frictionless_planner_is_a_second_line(both):
    table, _ = tables.pool_return(both)
    ideal = _measures(table, main=False)
    assert set(ideal["baseline"]) == {"no_pool_ideal"}
    assert set(ideal["against"]) == {tables.IDEAL}
    assert ideal.at["system_cost_saved", "mean"] == pytest.approx(-15.0)  # 150 - 165, 160 - 175
    assert ideal.at["return_on_pool", "mean"] == pytest.approx(-0.15)
    assert ideal.at["acute_cost_avoided", "mean"] == pytest.approx(-5.0)
    assert list(table["main"]) == [True] * 6 + [False] * 6  # the main line first
    c = findings.pool(Study(both))
    assert [row["against"] for row in c["rows"]] == [tables.STATUS_QUO, tables.IDEAL]
    assert c["ideal"] and c["headers"][0] == "Return per dollar pooled"


def test_only_an_idealised_baseline_is_the_main_one():
    data = _data(POOL + IDEAL, ["no_pool_ideal"])
    table, _ = tables.pool_return(data)
    assert table["main"].all() and set(table["against"]) == {tables.IDEAL}
    assert tables.ideal_pairs(data) == {}


def test_who_pays_and_who_saves_by_party(both):
    frame = accounts.party_accounts(both).set_index("party")
    assert set(frame["baseline"]) == {"no_pool_baseline"}  # the status quo, not the planner
    assert list(frame.index) == ["medicaid", "holder", "outside", "providers"]
    medicaid = frame.loc["medicaid"]
    assert medicaid["paid_in"] == pytest.approx(85.0)  # 100 - 10, 100 - 20
    assert medicaid["acute"] == pytest.approx(55.0)
    assert medicaid["net_cost"] == pytest.approx(140.0)
    assert medicaid["baseline_net_cost"] == pytest.approx(172.5)  # 170, 175
    assert medicaid["saving"] == pytest.approx(32.5)
    expected = paired([170.0, 175.0], [140.0, 140.0])
    assert medicaid["saving_low"] == pytest.approx(expected.low)
    assert medicaid["saving_high"] == pytest.approx(expected.high)
    # a party in only one of the pair counts as 0 in the other
    assert frame.at["holder", "baseline_net_cost"] == 0.0
    assert frame.at["holder", "saving"] == pytest.approx(-5.0)
    assert frame.at["holder", "positive"] == 0.0
    assert frame.at["outside", "net_cost"] == 0.0
    assert frame.at["outside", "saving"] == pytest.approx(6.0)  # 8 and 4
    assert frame.at["providers", "unfunded_work"] == pytest.approx(25.0)
    assert frame.at["providers", "saving"] == pytest.approx(5.0)
    assert (frame["n"] == 2).all()
    # the parties' savings add up to the total system cost saved
    saved = _measures(tables.pool_return(both)[0]).at["system_cost_saved", "mean"]
    assert frame["saving"].sum() == pytest.approx(saved)


def test_a_failed_run_drops_its_pair_only():
    data = _data(POOL + STATUS_QUO[:1], ["no_pool_baseline"])
    frame = accounts.party_accounts(data).set_index("party")
    assert (frame["n"] == 1).all()
    assert frame.at["medicaid", "saving"] == pytest.approx(30.0)  # 170 - 140, replicate 0


def test_runs_without_accounts_give_an_empty_table():
    rows = [{k: v for k, v in r.items() if not k.startswith("account:")} for r in POOL + IDEAL]
    data = _data(rows, ["no_pool_ideal"])
    assert accounts.party_accounts(data).empty
    c = findings.who_pays(Study(data))
    assert not c["accounts"] and not c["designs"]


def test_the_return_says_what_the_pool_did_with_the_sign():
    # the pool adds acute cost: 88 and 94 against the status quo's 68 and 74
    worse = [
        dict(
            r, acute_cost=r["acute_cost"] + extra, total_system_cost=r["total_system_cost"] + extra
        )
        for r, extra in zip(POOL, (33.0, 29.0), strict=True)
    ]
    data = _data(worse + STATUS_QUO, ["no_pool_baseline"])
    row = findings.pool(Study(data))["rows"][0]
    acute = tables.pool_return(data)[0].set_index("measure").at["acute_cost_avoided", "mean"]
    assert acute == pytest.approx(-20.0)  # 68 - 88, 74 - 94
    assert "added $20 of acute cost" in row["phrases"]
    assert not any("avoided" in p and "acute" in p for p in row["phrases"])
    assert "cost $10 to run" in row["phrases"]
    assert findings.pool(Study(data))["unit"] == "per dollar pooled"


def test_the_unit_of_the_return_follows_the_currency():
    assert per_pooled("USD") == "per dollar pooled"
    assert per_pooled("GBP") == "per pound pooled"
    assert per_pooled("CHF") == "per CHF 1 pooled"


def test_who_pays_table_names_parties_and_says_who_gains_and_who_loses(both):
    c = findings.who_pays(Study(both))
    (design,) = c["designs"]
    names = [r["name"] for r in design["rows"]]
    assert names == ["Medicaid", "The budget holder", "Budgets outside the pilot", "Providers"]
    medicaid = design["rows"][0]
    assert medicaid["bore"] == pytest.approx(55.0)  # acute 50 and 60, nothing else
    assert medicaid["bore_items"] == [("readmissions and crises", pytest.approx(55.0))]
    assert not design["shared"]  # no savings passed on: the column is left out
    # medicaid saves 32.5, outside 6 and providers 5; the holder pays 5 more in every run
    assert design["sentence"] == (
        "Against the status quo, medicaid ($32), budgets outside the pilot ($6) and providers "
        "($5) saved, while the budget holder ($5) paid more."
    )
    assert design["totals"]["saving"] == pytest.approx(38.5)  # the total system cost saved


def test_a_party_without_an_account_is_left_out_of_the_table(both):
    rows = [r | {"account:holder:acute": 0.0, "account:holder:net_cost": 0.0} for r in POOL]
    data = _data(rows + STATUS_QUO, ["no_pool_baseline"])
    names = [r["name"] for r in findings.who_pays(Study(data))["designs"][0]["rows"]]
    assert "The budget holder" not in names
