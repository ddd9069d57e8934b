"""Scenario discovery on an exploration folder: the condition, the boxes, the words."""

from __future__ import annotations

import dataclasses
import math

import pytest

from poolpilot.analysis.discovery_study import condition, discover, sentence
from poolpilot.analysis.exploration import Exploration, explore, outcomes
from poolpilot.runs import study

COST = "services.transitional_care.unit_cost"
TRANSPARENCY = "governance.transparency"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    design = study.prepare_design("hospital_led_post_acute", None, 6)
    e = Exploration({COST: (150.0, 300.0), TRANSPARENCY: (0.1, 0.9)}, {}, 60, 1)
    out = tmp_path_factory.mktemp("explore") / "x"
    explore(design, e, out=out, workers=2, progress="none")
    return out


def test_a_condition_on_an_input_is_found_as_that_box(folder):
    # the true box is known: the condition holds exactly where the input is above 225
    found = discover(folder, f"`{COST}` > 225", threshold=0.95)
    first = found.boxes[0]
    assert set(first.limits) == {COST}
    low, high = first.limits[COST]
    assert 215 < low <= 226 and math.isinf(high)
    assert first.density >= 0.95 and first.coverage > 0.85
    assert found.cases == 30 and found.futures == 60  # a Latin hypercube halves exactly


def test_the_tables_agree_with_the_boxes(folder):
    found = discover(folder, f"`{COST}` > 225", threshold=0.95)
    boxes, limits, trajectory = found.box_table(), found.limit_table(), found.trajectory_table()
    assert list(boxes["box"]) == list(range(1, len(found.boxes) + 1))
    assert boxes.loc[0, "coverage"] == found.boxes[0].coverage
    assert limits.loc[0, "input"] == COST and limits.loc[0, "quasi_p"] < 1e-6
    chosen = trajectory[(trajectory["box"] == 1) & trajectory["chosen"]]
    assert len(chosen) == 1 and chosen["density"].item() == found.boxes[0].density


def test_a_condition_must_be_a_comparison_on_the_outcomes(folder):
    from poolpilot.analysis.exploration import read_exploration
    from poolpilot.runs.store import ResultsStore

    with ResultsStore(folder, readonly=True) as store:
        table = outcomes(store.read("runs"), read_exploration(folder))
    assert condition(table, "return_on_pool > 0").dtype == bool
    with pytest.raises(ValueError, match="--where 'no_such_metric > 0': cannot be evaluated"):
        condition(table, "no_such_metric > 0")
    with pytest.raises(ValueError, match="must give true or false"):
        condition(table, "return_on_pool + 1")


def test_the_sentence_says_density_coverage_and_the_limits(folder):
    found = discover(folder, f"`{COST}` > 225", threshold=0.95)
    text = sentence(found.boxes[0], "the pool paid")
    assert text.startswith(f"the pool paid held in {found.boxes[0].density:.0%} of the futures")
    assert f"{COST} was at least" in text
    assert f"hold {found.boxes[0].coverage:.0%} of all the cases" in text


def test_a_folder_that_is_no_exploration_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not an exploration folder"):
        discover(tmp_path, "return_on_pool > 0")


def test_the_sentence_flags_limits_that_are_not_significant(folder):
    found = discover(folder, f"`{COST}` > 225", threshold=0.95)
    assert "not significant" not in sentence(found.boxes[0], "x")  # the planted limit is sure
    weak = dataclasses.replace(found.boxes[0], quasi_p={COST: 0.3})
    assert f"The limits on {COST} are not significant" in sentence(weak, "x")


def test_each_box_says_whether_the_pool_ended_early_and_the_need_left_unmet_inside_it(folder):
    # a pool that "paid" because it collapsed early, or left more need unmet, shows beside it
    found = discover(folder, f"`{COST}` > 225", threshold=0.95)
    box = found.boxes[0]
    inside = box.contains(found.x)
    ended, unmet = found.outcomes["ended_early"], found.outcomes["unmet_need_share"]
    said = found.box_table().loc[0, "sentence"]
    assert said.startswith(sentence(box, f"`{COST}` > 225"))
    assert (
        f"Inside the box the pool ended early in {ended[inside].mean():.0%} of runs "
        f"({ended[~inside].mean():.0%} outside it) and left unmet "
        f"{unmet[inside].mean():.0%} of need ({unmet[~inside].mean():.0%} outside it)."
    ) in said
    everything = dataclasses.replace(box, limits={})
    assert found.aside(everything) == ""  # a box of every run has no outside to compare
