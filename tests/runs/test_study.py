"""Studies: seeds, reproducibility whatever the workers, the results folder, the no-pool baseline."""

from __future__ import annotations

import pandas as pd
import pytest

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


def test_the_ideal_baseline_needs_the_baseline(tmp_path):
    with pytest.raises(ValueError, match="ideal_baseline"):
        study.compare(["hospital_led_post_acute"], baseline=False, ideal_baseline=True)


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
