"""Studies: seeds, reproducibility whatever the workers, the results folder, the no-pool baseline."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from poolpilot.cli import main
from poolpilot.model.metrics import METRIC_NAMES
from poolpilot.runs import study


def _runs(result):
    return result.runs.sort_values("key").reset_index(drop=True)


def test_same_seed_same_values_and_another_seed_differs(tmp_path):
    a = study.run("hospital_led_post_acute", replicates=3, seed=7, months=8, workers=1)
    b = study.run("hospital_led_post_acute", replicates=3, seed=7, months=8, workers=1)
    c = study.run("hospital_led_post_acute", replicates=3, seed=8, months=8, workers=1)
    pd.testing.assert_frame_equal(_runs(a), _runs(b))
    assert not _runs(a)["unmet_need_share"].equals(_runs(c)["unmet_need_share"])


def test_one_and_two_workers_give_identical_results(tmp_path):
    one = study.run(
        "hospital_led_post_acute", replicates=4, seed=3, months=8, workers=1, out=tmp_path / "one"
    )
    two = study.run(
        "hospital_led_post_acute",
        replicates=4,
        seed=3,
        months=8,
        workers=2,
        executor="process",
        out=tmp_path / "two",
    )
    pd.testing.assert_frame_equal(_runs(one), _runs(two))
    key = ["run", "series", "partner", "month"]
    pd.testing.assert_frame_equal(
        one.timeseries.sort_values(key).reset_index(drop=True),
        two.timeseries.sort_values(key).reset_index(drop=True),
    )


def test_designs_share_seeds_by_replicate():
    result = study.compare(["hospital_led_post_acute"], replicates=3, months=4, workers=1)
    seeds = result.runs.pivot(index="replicate", columns="design", values="seed")
    assert set(seeds.columns) == {"hospital_led_post_acute", "no_pool_baseline"}
    assert (seeds.nunique(axis=1) == 1).all()


def test_compare_with_the_ideal_baseline_runs_both_baselines(tmp_path):
    out = tmp_path / "c"
    argv = ["compare", "hospital_led_post_acute", "--replicates", "2", "--months", "3"]
    code = main([*argv, "--ideal-baseline", "--out", str(out), "--workers", "1", "--quiet"])
    assert code == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs["design"]) == {"hospital_led_post_acute", "no_pool_baseline", "no_pool_ideal"}
    assert (runs.groupby("design")["seed"].apply(sorted).map(tuple).nunique()) == 1
    scenarios = json.loads((out / "manifest.json").read_text())["scenarios"]
    silos = {name: s["resolved"]["status_quo"]["silo_budgets"] for name, s in scenarios.items()}
    assert silos == {
        "hospital_led_post_acute": True,
        "no_pool_baseline": True,
        "no_pool_ideal": False,
    }
    assert "against a frictionless planner" in (out / "report.html").read_text(encoding="utf-8")


def test_the_ideal_baseline_needs_the_baseline(tmp_path):
    with pytest.raises(ValueError, match="ideal_baseline"):
        study.compare(["hospital_led_post_acute"], baseline=False, ideal_baseline=True)
    with pytest.raises(SystemExit) as stopped:
        main(["compare", "hospital_led_post_acute", "--no-baseline", "--ideal-baseline"])
    assert stopped.value.code == 2


def test_run_command_writes_the_results_folder(tmp_path, capsys):
    out = tmp_path / "x"
    code = main(
        [
            "run",
            "hospital_led_post_acute",
            "--replicates",
            "20",
            "--months",
            "6",
            "--out",
            str(out),
            "--workers",
            "2",
            "--quiet",
        ]
    )
    assert code == 0
    for name in ("manifest.json", "runs.parquet", "timeseries.parquet", "events.parquet"):
        assert (out / name).exists(), name
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 20
    assert set(METRIC_NAMES) <= set(runs.columns)
    assert (runs["status"] == "ok").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replicates"] == 20
    assert sorted(manifest["seeds"]) == sorted(runs["seed"].tolist())
    assert "hospital_led_post_acute" in manifest["scenarios"]
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts.columns) == ["run", "month", "series", "partner", "value"]
    assert {"trust", "spend", "payer_spend", "unmet_need_share", "balance"} <= set(ts["series"])
    events = pd.read_parquet(out / "events.parquet")
    assert {"month", "actor", "action", "target", "amount", "rule", "evidence", "outcome"} <= set(
        events.columns
    )


def test_vary_makes_one_design_per_value(tmp_path):
    result = study.run(
        "hospital_led_post_acute",
        replicates=2,
        months=4,
        workers=1,
        vary={"governance.challenges.rights": ["none", "formal"]},
    )
    assert sorted(result.runs["governance.challenges.rights"].unique()) == ["formal", "none"]
    assert result.runs["key"].is_unique


def test_bad_scenario_on_the_command_line_exits_2(tmp_path, capsys):
    code = main(
        [
            "run",
            "hospital_led_post_acute",
            "--set",
            "horizon_months=0",
            "--out",
            str(tmp_path / "r"),
        ]
    )
    assert code == 2
    assert "horizon_months" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["list"], ["show", "hospital_led_post_acute"]])
def test_listing_commands(argv, capsys):
    assert main(argv) == 0
    assert "hospital_led_post_acute" in capsys.readouterr().out


def test_lists_grids_and_latin_hypercubes_make_the_expected_points():
    oat = study.points(vary={"a": [1, 2], "b": [3]})
    assert oat == [{"a": 1}, {"a": 2}, {"b": 3}]
    grid = study.points(grid={"a": [1, 2], "b": [3, 4]})
    assert len(grid) == 4 and {"a": 2, "b": 4} in grid
    lhs = study.points(lhs=10, ranges={"x": (0.0, 1.0), "y": (5.0, 7.0)}, seed=1)
    assert len(lhs) == 10
    xs = sorted(p["x"] for p in lhs)  # one point in each tenth of the range
    assert all(i / 10 <= x < (i + 1) / 10 for i, x in enumerate(xs))
    assert all(5.0 <= p["y"] <= 7.0 for p in lhs)
    assert study.points(lhs=10, ranges={"x": (0.0, 1.0)}, seed=1) == study.points(
        lhs=10, ranges={"x": (0.0, 1.0)}, seed=1
    )


def test_grid_and_lhs_from_the_command_line(tmp_path):
    out = tmp_path / "g"
    code = main(
        [
            "run",
            "hospital_led_post_acute",
            "--replicates",
            "2",
            "--months",
            "3",
            "--grid",
            "governance.transparency=0.2,0.8",
            "--grid",
            "governance.challenges.rights=none,formal",
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert code == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2 * 4 and runs["key"].is_unique
    out = tmp_path / "l"
    code = main(
        [
            "run",
            "hospital_led_post_acute",
            "--replicates",
            "1",
            "--months",
            "3",
            "--lhs",
            "5",
            "--range",
            "holder.self_interest=0,0.6",
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert code == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs["holder.self_interest"].between(0, 0.6).all() and len(runs) == 5
    assert main(["run", "hospital_led_post_acute", "--lhs", "5", "--out", str(tmp_path / "x")]) == 2


def test_a_failing_run_is_recorded_and_the_exit_code_says_so(tmp_path, monkeypatch):
    from poolpilot.model import pilot as model

    real_step = model.PilotModel.step

    def step(self):
        if self.design.holder.self_interest > 0.5:  # some runs of the study fail
            raise RuntimeError("deliberate failure")
        real_step(self)

    monkeypatch.setattr(model.PilotModel, "step", step)
    out = tmp_path / "f"
    code = main(
        [
            "run",
            "hospital_led_post_acute",
            "--replicates",
            "2",
            "--months",
            "3",
            "--vary",
            "holder.self_interest=0.1,0.9",
            "--out",
            str(out),
            "--workers",
            "1",
            "--executor",
            "serial",
            "--quiet",
        ]
    )
    assert code == 1
    runs = pd.read_parquet(out / "runs.parquet")
    assert (runs["status"] == "failed").sum() == 2 and (runs["status"] == "ok").sum() == 2
    assert runs.loc[runs["status"] == "failed", "error"].str.contains("deliberate failure").all()


def test_varying_the_holder_kind_resets_what_the_new_kind_ignores():
    """A provider council's data settings are inert for a county: varying the kind is a new
    design, so those settings go back to their defaults instead of being refused."""
    from poolpilot.runs.study import plan
    from poolpilot.scenario import load_scenario

    council = load_scenario("provider_led_bh_allocation")
    specs = plan([council], replicates=1, vary={"holder.kind": ["county"]})
    assert specs[0].scenario["holder"]["kind"] == "county"
    biased = [p["demand_bias"] for p in specs[0].scenario["providers"]]
    assert biased and all(b == 0.0 for b in biased)  # demand_bias acts only in a council
