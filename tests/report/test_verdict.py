"""Page one of the report: the verdict and what to fund, on runs small enough to follow by hand.

One pooled design (``pool``, 100 people over 10 months) and its status quo (``no_pool``),
three replicates paired by seed; then two designs serving different populations, each with its
own status quo, which must never be ranked against each other on totals.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from poolpilot.analysis.paired import paired
from poolpilot.model.metrics import METRICS
from poolpilot.model.records import EVENT_COLUMNS, TIMESERIES_COLUMNS
from poolpilot.report import findings, tables, verdict
from poolpilot.report.context import Study
from poolpilot.report.data import ReportData
from poolpilot.report.render import render
from poolpilot.report.title import study_date, study_title


def _scenario(kind: str, segment: str = "adults", size: int = 100) -> dict:
    return {
        "holder": {"kind": kind},
        "status_quo": {"silo_budgets": True},
        "population": {"segments": [{"name": segment, "size": size}]},
        "horizon_months": 10,
    }


def _runs(design: str, **columns: list[float]) -> list[dict]:
    n = len(next(iter(columns.values())))
    base = {"pooled_funding": [500.0] * n, "trust_initial_mean": [0.7] * n}
    columns = base | columns
    return [
        {"key": f"{design}-{r}", "design": design, "replicate": r}
        | {k: float(v[r]) for k, v in columns.items()}
        for r in range(n)
    ]


#: The pool: less need unmet, a lower total cost, fewer exits, trust that rose.
POOL = dict(
    unmet_need_share=[0.20, 0.22, 0.18],
    total_system_cost=[900.0, 1000.0, 1100.0],
    partner_exits=[0.0, 1.0, 0.0],
    trust_final_mean=[0.75, 0.70, 0.72],
)
STATUS_QUO = dict(
    unmet_need_share=[0.30, 0.31, 0.26],
    total_system_cost=[1000.0, 1050.0, 1150.0],
    partner_exits=[1.0, 1.0, 0.0],
    trust_final_mean=[0.60, 0.65, 0.70],
)


def _data(rows: list[dict], scenarios: dict[str, dict], created: str | None = None) -> ReportData:
    runs = pd.DataFrame(rows)
    runs["label"] = runs["design"]
    runs["pair"] = runs["replicate"]
    labels = list(dict.fromkeys(runs["design"]))
    manifest = {"months": dict.fromkeys(labels, 10)} | ({"created": created} if created else {})
    return ReportData(
        folder=Path("."),
        manifest=manifest,
        runs=runs,
        failed=runs.iloc[:0],
        timeseries=pd.DataFrame(columns=[*TIMESERIES_COLUMNS, "label"]),
        events=pd.DataFrame(columns=[*EVENT_COLUMNS, "label"]),
        labels=labels,
        metrics=[
            c for c in runs.columns if c not in ("key", "design", "replicate", "label", "pair")
        ],
        varied=[],
        label_design={label: label for label in labels},
        scenarios=scenarios,
        baselines=[x for x in labels if scenarios[x]["holder"]["kind"] == "none"],
        indices=None,
        symbol="$",
        complete=True,
    )


def _one(pool: dict, created: str | None = None) -> ReportData:
    scenarios = {"pool": _scenario("lead_agency"), "no_pool": _scenario("none")}
    return _data(_runs("pool", **pool) + _runs("no_pool", **STATUS_QUO), scenarios, created)


def _row(frame: pd.DataFrame, outcome: str) -> pd.Series:
    return frame.set_index("outcome").loc[outcome]


def test_what_to_fund_numbers_by_hand():
    frame = verdict.outcome_frame(_one(POOL))
    assert set(frame["baseline"]) == {"no_pool"} and (frame["n"] == 3).all()
    unmet = _row(frame, "unmet")
    assert unmet["value"] == pytest.approx(0.20) and unmet["baseline_value"] == pytest.approx(0.29)
    assert unmet["diff"] == pytest.approx(-0.09)  # -0.10, -0.09, -0.08
    expected = paired([0.20, 0.22, 0.18], [0.30, 0.31, 0.26])
    assert (unmet["low"], unmet["high"]) == pytest.approx((expected.low, expected.high))
    assert unmet["better"] == 1.0 and unmet["clear"]
    # total system cost / (100 people x 10 months): 0.9, 1.0, 1.1 against 1.0, 1.05, 1.15
    cost = _row(frame, "cost")
    assert cost["value"] == pytest.approx(1.0)
    assert cost["diff"] == pytest.approx(-0.2 / 3)
    # dollars returned per dollar pooled: (1000 - 900) / 500, 50 / 500, 50 / 500
    ret = _row(frame, "return")
    assert ret["diff"] == pytest.approx(0.4 / 3) and np.isnan(ret["baseline_value"])
    assert ret["low"] == pytest.approx(paired([0.2, 0.1, 0.1]).low) and ret["clear"]
    # a partner left in runs 1 (both) and 0 (the status quo only)
    lost = _row(frame, "partners_lost")
    assert lost["value"] == pytest.approx(1 / 3) and lost["baseline_value"] == pytest.approx(2 / 3)
    assert lost["better"] == pytest.approx(1 / 3)  # better in run 0, tied in 1 and 2
    # trust in points out of 100, end minus start: +5, 0, +2 against -10, -5, 0
    trust = _row(frame, "trust")
    assert trust["value"] == pytest.approx(7 / 3)
    assert trust["baseline_value"] == pytest.approx(-5.0)
    assert trust["diff"] == pytest.approx(22 / 3) and trust["better"] == 1.0


def test_verdict_when_the_design_beats_its_status_quo():
    said = verdict.sentences(verdict.outcome_frame(_one(POOL)))
    assert said[0].startswith(
        "The pooled design, pool, cost the system less than carrying on without a pool: it "
        "returned $0.13 per dollar pooled"
    )
    assert said[1] == (
        "pool left less need unmet than its status quo (20.0% vs 29.0%) and saved $0.13 per "
        "dollar pooled beyond what it cost."
    )


def test_verdict_when_no_design_beats_its_status_quo():
    dearer = POOL | {"total_system_cost": [1100.0, 1150.0, 1200.0]}  # returns -0.2, -0.2, -0.1
    said = verdict.sentences(verdict.outcome_frame(_one(dearer)))
    assert said[0] == (
        "The pooled design did not do better than carrying on without a pool on total cost: "
        "it cost more than it saved."
    )
    # the sign is a verb: a pool that cost more is not said to have saved too little
    assert said[1].endswith("but cost $0.17 more per dollar pooled than it saved.")
    assert "avoided" not in " ".join(said)
    c = findings.what_to_fund(Study(_one(dearer)))
    cells = dict(zip(c["headers"], c["rows"][0]["cells"], strict=True))
    assert cells["Return per dollar pooled"]["mark"] == "loss"
    assert cells["Need left unmet"]["mark"] == "gain"
    assert cells["Return per dollar pooled"]["diff"] == "\u2212$0.17"


def _two_populations() -> ReportData:
    """Two designs, one serving 100 people and one 300: the larger costs three times as much
    in total and the same per person."""
    scenarios = {
        "small": _scenario("lead_agency", "town", 100),
        "large": _scenario("county", "city", 300),
        "no_pool_for_small": _scenario("none", "town", 100),
        "no_pool_for_large": _scenario("none", "city", 300),
    }
    triple = {k: [3 * v for v in vs] if k == "total_system_cost" else vs for k, vs in POOL.items()}
    triple_sq = {
        k: [3 * v for v in vs] if k == "total_system_cost" else vs for k, vs in STATUS_QUO.items()
    }
    rows = _runs("small", **POOL) + _runs("large", **triple, pooled_funding=[1500.0] * 3)
    rows += _runs("no_pool_for_small", **STATUS_QUO)
    rows += _runs("no_pool_for_large", **triple_sq, pooled_funding=[1500.0] * 3)
    return _data(rows, scenarios)


def test_designs_of_different_populations_are_not_ranked_on_totals():
    data = _two_populations()
    summary, _ = tables.ranked_summary(data)
    cost = summary[summary["metric"] == "total_system_cost"].set_index("design")
    assert not cost["best"].any() and cost["rank"].isna().all()  # 900 is not "better" than 2700
    frame = verdict.outcome_frame(data)
    pairs = dict(zip(frame["design"], frame["baseline"], strict=False))
    assert pairs == {"small": "no_pool_for_small", "large": "no_pool_for_large"}
    per_person = frame[frame["outcome"] == "cost"].set_index("design")["value"]
    assert per_person["small"] == pytest.approx(per_person["large"])  # per person: the same
    study = Study(data)
    c = findings.what_to_fund(study)
    assert c["populations"] == [["small"], ["large"]]
    said = " ".join(c["sentences"])
    assert "clearly better" not in said
    assert said.startswith("Two of the two pooled designs cost the system less")
    text = render(data)
    assert "Each of these designs serves its own population" in text
    assert "never ranks designs of different populations on totals" in text
    assert 'class="best"' not in text


def test_a_baseline_is_never_ranked_beside_a_single_design():
    summary, _ = tables.ranked_summary(_one(POOL))
    assert not summary["best"].any() and not summary["worst"].any()


def test_every_metric_has_a_plain_label_and_the_glossary_lists_them():
    labels = [m.label for m in METRICS.values()]
    assert all(label and "_" not in label for label in labels)
    assert len(set(labels)) == len(labels)
    assert METRICS["unmet_need_share"].label == "Need left unmet"
    assert METRICS["trust_final_mean"].label == "Trust in the holder at the end"
    data = _one(POOL)
    text = render(data)
    main, appendix = text.split('id="appendix"')
    main = re.sub(r"<[^>]+>", " ", main)  # the text a reader sees
    glossary = appendix[appendix.index('id="glossary"') :]
    for outcome in verdict.OUTCOMES:
        assert f'<td class="text">{outcome.label}</td>' in glossary
    for name in ("unmet_need_share", "total_system_cost", "partner_exits"):
        assert f"<code>{name}</code>" in glossary
        assert METRICS[name].label in glossary
        assert name not in main  # technical names only in the appendix
    for jargon in ("seed article", "paired difference of absolute values", "erosion"):
        assert jargon not in main.lower()


def test_title_from_the_study_or_given():
    data = _one(POOL, created="2026-12-03T12:43:18+00:00")
    assert study_date("2026-12-03T12:43:18+00:00") == "3 December 2026"
    assert study_title(data) == "pool against the status quo \u2014 3 December 2026"
    two = _two_populations()
    two.manifest["created"] = "2026-12-03T09:00:00+00:00"
    assert study_title(two) == "Two pooled designs against the status quo \u2014 3 December 2026"
    text = render(data, title="Pilot options for the board")
    assert "<title>Pilot options for the board</title>" in text
    assert "<h1>Pilot options for the board</h1>" in text


def test_an_incomplete_or_failed_study_is_marked_on_page_one():
    data = _one(POOL)
    data.complete, data.runs_done, data.runs_planned = False, 6, 10
    text = render(data)
    warning = text.index("Incomplete study: 6 of 10 runs done")
    assert warning < text.index('id="verdict"')
    data.failed = data.runs.iloc[:1]
    text = render(data)
    assert text.index("1 run(s) failed") < text.index('id="verdict"')
