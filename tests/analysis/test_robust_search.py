"""The search: every candidate in the same futures, the front recomputed over all of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from poolpilot.analysis.exploration import Exploration, explore, outcomes
from poolpilot.analysis.robust_search import robust_search
from poolpilot.analysis.robustness import Objective, non_dominated, scores
from poolpilot.runs import study

COST = "services.transitional_care.unit_cost"
LEVERS = {
    "governance.transparency": [0.2, 0.8],
    "governance.challenges.rights": ["formal", "informal"],
}
GOALS = [Objective("return_on_pool", "max"), Objective("trust_erosion", "min")]


def search(design, out, **options):
    """The search both tests run: regret over 5 futures, 4 candidates, 3 generations."""
    return robust_search(
        design,
        {COST: (150.0, 300.0)},
        LEVERS,
        GOALS,
        measure="regret",
        futures=5,
        population=4,
        generations=3,
        seed=2,
        out=out,
        progress="none",
        **options,
    )


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    design = study.prepare_design("hospital_led_post_acute", None, 6)
    out = tmp_path_factory.mktemp("robust") / "r"
    found = search(design, out, workers=2)
    return design, found


def test_the_search_scores_candidates_as_an_exhaustive_exploration_does(searched, tmp_path):
    design, found = searched
    assert len(found.candidates) == 4  # the whole space of 2 x 2 settings
    assert (found.candidates["futures"] == 5).all()
    e = Exploration({COST: (150.0, 300.0)}, LEVERS, 5, 2)
    runs = explore(design, e, out=tmp_path / "x", workers=2, progress="none").runs
    by_hand = scores(outcomes(runs, e), list(LEVERS), GOALS, "regret")
    keys = list(LEVERS)
    mine = found.candidates.set_index(keys).sort_index()
    theirs = by_hand.set_index(keys).sort_index()
    pd.testing.assert_series_equal(mine["return_on_pool"], theirs["return_on_pool"])
    pd.testing.assert_series_equal(mine["trust_erosion"], theirs["trust_erosion"])
    front = non_dominated(theirs.reset_index(), GOALS, "regret")
    assert mine["non_dominated"].tolist() == front.tolist()


def test_a_rerun_of_the_same_search_runs_nothing_new(searched):
    design, found = searched
    before = len(pd.read_parquet(found.folder / "runs.parquet"))
    again = search(design, found.folder, resume=True, executor="serial")
    assert len(pd.read_parquet(found.folder / "runs.parquet")) == before == 5 * (4 + 1)
    pd.testing.assert_frame_equal(again.candidates, found.candidates)


def test_a_search_needs_levers_with_choices(tmp_path):
    design = study.prepare_design("hospital_led_post_acute", None, 6)
    with pytest.raises(ValueError, match="at least two values"):
        robust_search(design, {}, {"governance.transparency": [0.5]}, GOALS, out=tmp_path / "r")


def test_an_interrupted_search_says_how_many_runs_it_planned_at_most(tmp_path, monkeypatch):
    import poolpilot.analysis.robust_search as module
    from poolpilot.runs.identity import folder_status

    def interrupted(evaluate, *args):
        evaluate(np.array([[0, 0]]))  # one candidate's futures run, then the search stops
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "_nsga2", interrupted)
    design = study.prepare_design("hospital_led_post_acute", None, 6)
    with pytest.raises(KeyboardInterrupt):
        search(design, tmp_path / "r", executor="serial")
    status = folder_status(tmp_path / "r")
    # the status quo and one candidate, of at most the 4 settings and the status quo
    assert (status.runs_done, status.runs_planned, status.complete) == (10, 25, False)
