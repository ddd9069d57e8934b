"""Robustness measures and the non-dominated set, by hand on a small table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from poolpilot.analysis.robustness import Objective, non_dominated, parse_measure, scores

# three candidates (lever "a") in four futures; "gain" is maximised, "loss" minimised
TABLE = pd.DataFrame(
    {
        "future": [0, 1, 2, 3] * 3,
        "a": ["x"] * 4 + ["y"] * 4 + ["z"] * 4,
        "gain": [1.0, 2.0, 3.0, 4.0, 2.0, 2.0, 2.0, 2.0, 0.0, 0.0, 0.0, 9.0],
        "loss": [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 4.0, 5.0, 5.0, 5.0, 5.0],
    }
)
GOALS = [Objective("gain", "max"), Objective("loss", "min")]


def test_mean_is_the_average_over_futures():
    s = scores(TABLE, ["a"], GOALS, "mean").set_index("a")
    assert s.loc["x", "gain"] == 2.5 and s.loc["y", "gain"] == 2.0 and s.loc["z", "gain"] == 2.25
    assert s.loc["y", "loss"] == 1.0 and (s["futures"] == 4).all()


def test_a_percentile_takes_the_pessimist_s_side_of_each_objective():
    s = scores(TABLE, ["a"], GOALS, "percentile:25").set_index("a")
    assert s.loc["x", "gain"] == pytest.approx(np.quantile([1, 2, 3, 4], 0.25))  # low side
    assert s.loc["y", "loss"] == pytest.approx(np.quantile([0, 0, 0, 4], 0.75))  # high side


def test_regret_is_the_largest_shortfall_from_the_best_candidate_of_each_future():
    s = scores(TABLE, ["a"], GOALS, "regret").set_index("a")
    # best gain per future: 2, 2, 3, 9; best loss: 0, 0, 0, 1
    assert s.loc["x", "gain"] == 5.0  # 9 - 4 in future 3
    assert s.loc["y", "gain"] == 7.0
    assert s.loc["z", "gain"] == 3.0
    assert s.loc["x", "loss"] == 1.0 and s.loc["y", "loss"] == 3.0 and s.loc["z", "loss"] == 5.0


def test_non_dominated_keeps_what_no_other_beats_on_every_objective():
    frame = pd.DataFrame({"gain": [3.0, 2.0, 1.0, 3.0], "loss": [2.0, 1.0, 3.0, 2.0]})
    assert non_dominated(frame, GOALS, "mean").tolist() == [True, True, False, True]
    regret = pd.DataFrame({"gain": [0.0, 1.0, 2.0], "loss": [1.0, 0.0, 2.0]})
    assert non_dominated(regret, GOALS, "regret").tolist() == [True, True, False]


def test_measures_and_objectives_are_checked():
    assert parse_measure("percentile:10") == ("percentile", 10.0)
    for bad in ("median", "percentile:0", "percentile:60", "percentile:x"):
        with pytest.raises(ValueError, match="--measure"):
            parse_measure(bad)
    with pytest.raises(ValueError, match="--objective"):
        Objective.parse("return_on_pool:up")
    with pytest.raises(ValueError, match="--objective nope"):
        scores(TABLE, ["a"], [Objective("nope", "max")], "mean")
