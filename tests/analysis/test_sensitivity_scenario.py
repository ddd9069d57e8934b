"""Sensitivity analysis of scenarios: the studies layer as runner, and the outputs.

Real runs use the reference scenario at 12 months and small designs (these tests check the
plumbing, not the indices' values); the agreement with `analyze_function` uses a toy model in
place of the simulation, so every number can be compared exactly.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from poolpilot.analysis import sensitivity as sa
from poolpilot.model.metrics import METRICS
from poolpilot.model.records import EVENT_COLUMNS, TIMESERIES_COLUMNS, RunResult
from poolpilot.runs import study
from poolpilot.scenario import ScenarioError, load_scenario

SCENARIO = "hospital_led_post_acute"
RIGHTS = ["none", "informal", "formal"]
PARAMETERS = [
    {"path": "governance.challenges.rights", "levels": RIGHTS},
    {"path": "holder.planning_cycle_months", "bounds": [1, 6]},
    {"path": "trust.gain_rate", "bounds": [0.02, 0.1]},
]
STUDY_METRICS = ["unmet_need_share", "trust_final_mean", "disputes_raised"]
QUICK = dict(months=12, workers=1, progress="none")


@pytest.fixture(scope="module")
def sobol_study(tmp_path_factory):
    """One small Sobol' study with two replicates, shared by the read-only checks below."""
    out = tmp_path_factory.mktemp("sobol") / "study"
    result = sa.analyze_scenario(
        SCENARIO,
        "sobol",
        samples=16,
        replicates=2,
        metrics=STUDY_METRICS,
        parameters=PARAMETERS,
        seed=3,
        out=out,
        **QUICK,
    )
    return result, out


# --- inputs ----------------------------------------------------------------------------------


def test_bad_inputs_are_all_reported_before_any_run(tmp_path):
    out = tmp_path / "never"
    with pytest.raises(ScenarioError) as err:
        sa.analyze_scenario(
            SCENARIO,
            "sobol",
            samples=12,
            metrics=["unmet_need_share", "unmet_need_shares"],
            parameters=[
                {"path": "holder.no_such_field", "bounds": [0, 1]},
                {"path": "trust.gain_rate", "bounds": [0.5, 3]},
                {"path": "holder.kind", "bounds": [0, 1]},
                {"path": "holder.planning_cycle_months", "bounds": [1.2, 1.8]},
            ],
            out=out,
            **QUICK,
        )
    lines = str(err.value).splitlines()
    assert len(lines) == 6, lines
    assert any("power of two" in line for line in lines)
    assert any("unknown metric 'unmet_need_shares' (did you mean" in line for line in lines)
    assert any("holder.no_such_field: unknown field path" in line for line in lines)
    assert any("trust.gain_rate: 3.0 refused" in line for line in lines)
    assert any("holder.kind: bounds need a number field" in line for line in lines)
    assert any("planning_cycle_months: integer field" in line for line in lines)
    assert not out.exists()


# --- a real study -----------------------------------------------------------------------------


def test_sobol_study_writes_the_indices_tables(sobol_study):
    result, out = sobol_study
    for name in ("indices.parquet", "indices.csv"):
        table = pd.read_parquet(out / name) if name.endswith("parquet") else pd.read_csv(out / name)
        assert list(table.columns) == sa.COLUMNS
        assert set(table["metric"]) == set(STUDY_METRICS)
        assert set(table["parameter"]) == {p["path"] for p in PARAMETERS}
        assert set(table["index"]) == {"S1", "ST"}
        assert (table["method"] == "sobol").all()
        assert len(table) == len(STUDY_METRICS) * len(PARAMETERS) * 2
    assert list(result.indices.columns) == sa.COLUMNS
    for name in ("convergence", "noise", "ranking"):
        assert (out / f"{name}.parquet").exists()
    for name in ("runs.parquet", "timeseries.parquet", "events.parquet", "manifest.json"):
        assert (out / name).exists()
    assert not (out / "report.html").exists()  # the report is a later stage: the CLI writes it
    info = json.loads((out / "sensitivity.json").read_text())
    assert info["metrics"] == STUDY_METRICS and info["replicates"] == 2
    assert [p["path"] for p in info["parameters"]] == [p["path"] for p in PARAMETERS]
    for metric in STUDY_METRICS:
        if result.indices.loc[result.indices["metric"] == metric, "value"].notna().any():
            assert (out / f"sobol_{metric}.png").stat().st_size > 0
    convergence = pd.read_parquet(out / "convergence.parquet")
    assert set(convergence["metric"]) == set(STUDY_METRICS)
    assert {"value_half", "value", "unstable"} <= set(convergence.columns)
    ranking = result.ranking
    assert set(ranking["index"]) == {"ST"}
    for _, rows in ranking.groupby("metric"):
        ranks = rows["rank"].dropna().tolist()
        assert ranks == sorted(ranks)


def test_design_rows_map_to_the_runs(sobol_study):
    result, _ = sobol_study
    runs = result.runs
    assert set(runs["governance.challenges.rights"]) <= set(RIGHTS)
    cycles = runs["holder.planning_cycle_months"]
    assert (cycles == cycles.round()).all()
    assert cycles.between(1, 6).all()
    # every row of X is the point the mapping helpers say, and its Y is the replicate mean
    assert len(result.points) == len(result.X) == 16 * (3 + 2)
    for row, point in zip(result.X, result.points, strict=True):
        assert point == {f.path: f.value(x) for f, x in zip(result.factors, row, strict=True)}
    distinct = {tuple(p.values()) for p in result.points}
    assert len(runs) == 2 * len(distinct) < 2 * len(result.X)  # shared points run once
    for i in (0, 7, 40):
        point = result.points[i]
        match = np.ones(len(runs), dtype=bool)
        for path, value in point.items():
            match &= (runs[path] == value).to_numpy()
        assert sorted(runs.loc[match, "replicate"]) == [0, 1]
        for metric in STUDY_METRICS:
            assert result.Y[metric][i] == pytest.approx(runs.loc[match, metric].mean(), abs=0)
    assert sorted(set(runs["seed"])) == sorted(study.run_seeds(3, 2))


def test_replicates_report_the_noise_share(sobol_study):
    result, out = sobol_study
    noise = pd.read_parquet(out / "noise.parquet")
    assert list(noise.columns) == sa.NOISE_COLUMNS
    assert set(noise["metric"]) == set(STUDY_METRICS)
    row = noise.set_index("metric").loc["unmet_need_share"]
    assert row["total_variance"] > 0
    assert math.isfinite(row["noise_share"])
    assert 0 <= row["noise_share"] <= 1
    assert row["replicates"] == 2


def test_resume_runs_nothing_new(sobol_study):
    result, out = sobol_study
    again = sa.analyze_scenario(
        SCENARIO,
        "sobol",
        samples=16,
        replicates=2,
        metrics=STUDY_METRICS,
        parameters=PARAMETERS,
        seed=3,
        out=out,
        resume=True,
        **QUICK,
    )
    assert again.summary.total == len(result.runs)
    assert again.summary.skipped == again.summary.total
    assert again.summary.ok == 0
    pd.testing.assert_frame_equal(again.indices, result.indices)


def test_groups_give_indices_by_group(tmp_path):
    params = [{**PARAMETERS[0], "group": "disputes"}, PARAMETERS[1], PARAMETERS[2]]
    result = sa.analyze_scenario(
        SCENARIO,
        "sobol",
        samples=8,
        metrics=["trust_final_mean"],
        parameters=params,
        groups={"holder.planning_cycle_months": "holder", "trust.gain_rate": "holder"},
        out=tmp_path / "g",
        **QUICK,
    )
    assert result.problem["groups"] == ["disputes", "holder", "holder"]
    assert set(result.indices["parameter"]) == {"disputes", "holder"}
    assert len(result.X) == 8 * (2 + 2)  # one column block per group


def test_morris_study_and_one_replicate_noise_note(tmp_path):
    out = tmp_path / "m"
    result = sa.analyze_scenario(
        SCENARIO,
        "morris",
        samples=4,
        metrics=["unmet_need_share", "trust_final_mean"],
        parameters=PARAMETERS,
        out=out,
        **QUICK,
    )
    assert set(result.indices["index"]) == {"mu_star", "sigma", "mu"}
    assert (result.indices.query("index == 'mu_star'")["value"] >= 0).all()
    assert (out / "morris_trust_final_mean.png").stat().st_size > 0
    assert result.noise["noise_share"].isna().all()
    assert result.noise["note"].str.contains("one replicate").all()


def test_scenario_sensitivity_block_is_used(tmp_path):
    scenario = load_scenario(
        SCENARIO,
        {"sensitivity": {"parameters": PARAMETERS[1:], "metrics": ["trust_final_mean"]}},
    )
    result = sa.analyze_scenario(scenario, "sobol", samples=8, out=tmp_path / "b", **QUICK)
    assert set(result.indices["parameter"]) == {"holder.planning_cycle_months", "trust.gain_rate"}
    assert set(result.indices["metric"]) == {"trust_final_mean"}


# --- the same path as analyze_function -------------------------------------------------------


def _toy(point: dict, seed: int) -> dict[str, float]:
    """A deterministic stand-in for the model, with an interaction and a seed-driven term."""
    level = RIGHTS.index(point["governance.challenges.rights"])
    cycle = point["holder.planning_cycle_months"]
    gain = point["trust.gain_rate"]
    noise = (seed % 1000) / 1000
    return {
        "unmet_need_share": level * cycle + 30 * gain**2 + 0.1 * noise,
        "trust_final_mean": math.sin(cycle) + level * gain * 10 + noise,
    }


def _fake_simulate(spec):
    row = {
        "key": spec.key,
        "design": spec.design,
        "replicate": spec.replicate,
        "seed": spec.seed,
        **spec.varied,
        **_toy(spec.varied, spec.seed),
        "status": "ok",
        "error": "",
    }
    empty = pd.DataFrame(columns=TIMESERIES_COLUMNS), pd.DataFrame(columns=EVENT_COLUMNS)
    return RunResult(row, *empty)


@pytest.mark.parametrize(("method", "samples"), [("sobol", 32), ("morris", 6)])
def test_scenario_path_agrees_with_analyze_function(tmp_path, monkeypatch, method, samples):
    monkeypatch.setattr(study, "simulate_metrics", _fake_simulate)  # serial: runs here
    metrics = ["unmet_need_share", "trust_final_mean"]
    result = sa.analyze_scenario(
        SCENARIO,
        method,
        samples=samples,
        replicates=2,
        metrics=metrics,
        parameters=PARAMETERS,
        seed=5,
        out=tmp_path / "toy",
        **QUICK,
    )
    found = sa.factors(load_scenario(SCENARIO), PARAMETERS)
    seeds = study.run_seeds(5, 2)

    def func(raw: dict[str, float]) -> dict[str, float]:
        point = {f.path: f.value(raw[f.path]) for f in found}
        runs = [_toy(point, s) for s in seeds]
        return {m: float(np.mean([r[m] for r in runs])) for m in metrics}

    expected = sa.analyze_function(func, sa.scenario_problem(found), method, samples, seed=5)
    pd.testing.assert_frame_equal(result.indices, expected)
    assert result.indices["value"].notna().all()


def test_every_metric_by_default():
    result = sa.analyze_scenario(
        SCENARIO, "sobol", samples=4, parameters=PARAMETERS[2:], months=3, progress="none"
    )
    assert result.folder is None
    assert list(result.Y) == list(METRICS)
    assert set(result.indices["metric"]) == set(METRICS)
    constant = [m for m in METRICS if np.ptp(result.Y[m]) == 0]
    for metric in constant:
        assert any(note.startswith(f"{metric}: constant") for note in result.notes)
