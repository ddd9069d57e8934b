"""The terminal summary computed on small hand-made runs tables: the interval and the layout.

Values that do not vary have no interval, so most cells below can be written out by hand; the
cells that do vary are checked against `paired`, the one interval of the project.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from poolpilot.analysis.paired import paired
from poolpilot.cli import summary


def two_digits(v: float) -> str:
    return f"{v:.2f}"


# --- one cell ------------------------------------------------------------------------------------


def test_a_cell_is_the_mean_and_the_bootstrap_interval_of_the_mean():
    values = [0.20, 0.22, 0.25, 0.21, 0.24]
    p = paired(values)
    cell = summary.interval(values, lambda v: f"{100 * v:.1f}", "%")
    assert cell == f"22.4% [{100 * p.low:.1f}, {100 * p.high:.1f}]"
    assert p.low < 0.224 < p.high


def test_the_interval_is_of_the_mean_not_of_the_values():
    """With many runs the bootstrap interval is close to the t-interval of the mean, and far
    narrower than the spread of the runs."""
    values = np.random.default_rng(3).normal(10.0, 2.0, 200)
    p = paired(values)
    t_low, t_high = stats.t.interval(0.95, len(values) - 1, values.mean(), stats.sem(values))
    assert p.low == pytest.approx(t_low, abs=0.1) and p.high == pytest.approx(t_high, abs=0.1)
    cell = summary.interval(values, two_digits)
    low, high = (float(x) for x in cell.split("[")[1].rstrip("]").split(", "))
    assert high - low < 1.0 < np.ptp(values)


def test_a_cell_without_spread_is_the_mean_alone():
    assert summary.interval([0.7], two_digits) == "0.70"  # one run
    assert summary.interval([3.0, 3.0, 3.0], two_digits) == "3.00"  # no spread
    assert summary.interval([0.7001, 0.7002, 0.7003], two_digits) == "0.70"  # rounds away
    assert summary.interval([np.nan, 2.0], two_digits) == "2.00"  # a missing value is dropped
    assert summary.interval([], two_digits) == "-"


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("design", "shown"),
    [
        ("hospital_led_post_acute", "hospital_led_post_acute"),
        ("no_pool_baseline", "status quo (baseline)"),
        ("no_pool_ideal", "idealised planner (baseline)"),
        ("no_pool_for_lead_commissioner", "status quo (baseline)"),
        ("no_pool_ideal_for_lead_commissioner", "idealised planner (baseline)"),
    ],
)
def test_baselines_are_named_as_baselines(design, shown):
    assert summary.label(design, {}) == shown


def test_a_design_without_a_pool_of_its_own_is_a_baseline_under_its_name():
    scenarios = {"my_status_quo": {"holder": {"kind": "none"}}}
    assert summary.label("my_status_quo", scenarios) == "my_status_quo (baseline)"


# --- the table -----------------------------------------------------------------------------------


def runs_table() -> pd.DataFrame:
    """Two pooled designs and the status quo, four replicates; one run of B failed."""
    rows = []
    for r in range(4):
        rows.append(("A", r, 0.20, 0.70, 20e6, 0.0, 10e6, "ok"))
        rows.append(("B", r, 0.25, 0.60, 20.5e6 + r * 0.1e6, 1.0, 10e6, "ok" if r else "failed"))
        rows.append(("no_pool_baseline", r, 0.30, 0.50, 21e6, 2.0, 10e6, "ok"))
    columns = ["design", "replicate", "unmet_need_share", "trust_final_mean"]
    columns += ["total_system_cost", "partner_exits", "pooled_funding", "status"]
    runs = pd.DataFrame(rows, columns=columns)
    failed = runs["status"] == "failed"
    runs.loc[failed, ["unmet_need_share", "total_system_cost"]] = np.nan
    return runs


def test_the_table_by_hand():
    lines = summary.summary_lines(runs_table())
    b_costs = np.array([20.6e6, 20.7e6, 20.8e6])  # the three runs of B that finished
    b_cost = paired(b_costs)
    b_return = paired((21e6 - b_costs) / 10e6)
    cost = f"20.70 [{b_cost.low / 1e6:.2f}, {b_cost.high / 1e6:.2f}]"
    ratio = f"0.03 [{b_return.low:.2f}, {b_return.high:.2f}]"
    rows = [
        # the registry's labels, the report's words
        [
            "design",
            "Need left unmet",
            "Trust in the holder at the end",
            "Total system cost $M",
            "Partners who left",
        ],
        ["A", "20.0%", "0.70", "20.00", "0.0", "0.10"],
        ["B", "25.0%", "0.60", cost, "1.0", ratio],
        ["status quo (baseline)", "30.0%", "0.50", "21.00", "2.0", "-"],
    ]
    rows[0].append("return per $ pooled")
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    expected = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    assert lines[:4] == expected
    assert lines[4:] == [
        "means over 3 to 4 replicates [with the 95% bootstrap interval of the mean]",
        "return: total system cost saved per $ pooled, paired by seed",
        "1 of 12 runs failed and are left out (see runs.parquet)",
    ]


def test_without_a_baseline_there_is_no_return_column():
    runs = runs_table()
    lines = summary.summary_lines(runs[runs["design"] != "no_pool_baseline"])
    assert "return" not in lines[0] and len(lines) == 5
    assert not any(line.startswith("return:") for line in lines)


def test_each_baseline_follows_the_designs_of_its_population():
    runs = runs_table()
    runs = pd.concat([runs, runs[runs["design"] == "no_pool_baseline"].assign(design="no_pool_b")])
    runs["design"] = runs["design"].replace({"no_pool_baseline": "no_pool_a"})
    scenarios = {
        "A": {"holder": {"kind": "hospital"}, "population": {"size": 1}},
        "B": {"holder": {"kind": "county"}, "population": {"size": 2}},
        "no_pool_a": {"holder": {"kind": "none"}, "population": {"size": 1}},
        "no_pool_b": {"holder": {"kind": "none"}, "population": {"size": 2}},
    }
    lines = summary.summary_lines(runs, scenarios)
    names = [re.split(r"(?<=\S)  ", line)[0] for line in lines[1:5]]
    assert names == ["A", "  no_pool_a (baseline)", "B", "  no_pool_b (baseline)"]
    assert lines[1].endswith("0.10") and lines[2].endswith("-")  # A against its own baseline


def test_varied_points_pair_by_replicate_and_point():
    rows = []
    for point, saving in ((0.2, 1e6), (0.8, 3e6)):
        for r in range(2):
            rows.append(("A", r, point, 21e6 - saving, 10e6))
            rows.append(("no_pool_baseline", r, point, 21e6, 10e6))
    columns = ["design", "replicate", "governance.transparency", "total_system_cost"]
    runs = pd.DataFrame(rows, columns=[*columns, "pooled_funding"])
    lines = summary.summary_lines(runs, varied=["governance.transparency"])
    p = paired([0.1, 0.1, 0.3, 0.3])
    assert lines[1].endswith(f"0.20 [{p.low:.2f}, {p.high:.2f}]")
    assert lines[3].startswith("means over 2 replicates and 2 varied points")


def test_a_study_in_which_every_run_failed():
    runs = runs_table().assign(status="failed")
    assert summary.summary_lines(runs) == ["no run finished (12 failed): nothing to summarise"]


def test_a_long_design_name_is_cut():
    name = "a_design_with_a_name_much_longer_than_a_column_should_be"
    line = summary.summary_lines(runs_table().replace({"A": name}))[1]
    assert line.startswith(name[: summary.MAX_LABEL - 3] + "...  ")


def test_the_manifest_gives_the_scenarios_the_varied_fields_and_the_currency(tmp_path):
    assert summary.read_scenarios(tmp_path) == ({}, [])
    manifest = {
        "scenarios": {"A": {"hash": "x", "resolved": {"currency": "EUR", "holder": {}}}},
        "vary": [{"governance.transparency": 0.2}, {"governance.transparency": 0.8}],
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    scenarios, varied = summary.read_scenarios(tmp_path)
    assert list(scenarios) == ["A"] and varied == ["governance.transparency"]
    runs = runs_table()
    text = summary.study_summary(runs[runs["design"] == "A"], tmp_path)
    assert "system cost EUR M" in text.splitlines()[0]
