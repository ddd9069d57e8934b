"""Exploration studies: futures x lever settings x the status quo, at each future's seed."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from poolpilot.analysis.exploration import (
    Exploration,
    expected_runs,
    explore,
    inputs_of,
    outcomes,
    plan_exploration,
    read_exploration,
)
from poolpilot.runs import study
from poolpilot.runs.identity import StudyMismatch
from poolpilot.scenario import content_hash, load_scenario, validate_data

COST = "services.transitional_care.unit_cost"
TRANSPARENCY = "governance.transparency"
RIGHTS = "governance.challenges.rights"


@pytest.fixture(scope="module")
def design():
    return study.prepare_design("hospital_led_post_acute", None, 12)


def small(futures: int = 6) -> Exploration:
    return Exploration({COST: (150.0, 300.0)}, {RIGHTS: ["formal", "informal"]}, futures, 3)


def test_each_future_runs_every_setting_and_the_status_quo_at_its_own_seed(design):
    e = small()
    specs, designs = plan_exploration(design, e)
    assert len(specs) == expected_runs(e) == 6 * 3
    assert [d.name for d in designs] == [design.name, "no_pool_baseline"]
    by_future = pd.DataFrame(
        [(s.replicate, s.seed, s.design, s.varied.get(RIGHTS)) for s in specs],
        columns=["future", "seed", "design", "rights"],
    )
    seeds = by_future.groupby("future")["seed"].nunique()
    assert (seeds == 1).all()  # one seed per future: common random numbers
    assert by_future.groupby("future")["seed"].first().nunique() == 6
    baseline = by_future[by_future["design"] == "no_pool_baseline"]
    assert len(baseline) == 6 and baseline["rights"].isna().all()
    assert len({s.key for s in specs}) == len(specs)


def test_the_future_applies_to_the_status_quo_and_the_levers_do_not(design):
    specs, _ = plan_exploration(design, small(2))
    for spec in specs:
        cost = next(
            s["unit_cost"] for s in spec.scenario["services"] if s["name"] == "transitional_care"
        )
        assert cost == pytest.approx(spec.varied[COST])
        rights = spec.scenario["governance"]["challenges"]["rights"]
        if spec.design == "no_pool_baseline":
            assert rights == "informal"  # the status quo keeps informal disputes only
        else:
            assert rights == spec.varied[RIGHTS]


def test_futures_are_a_latin_hypercube_over_the_ranges():
    e = Exploration({COST: (150.0, 300.0), TRANSPARENCY: (0.2, 0.9)}, {}, 10, 0)
    points = pd.DataFrame(e.future_points())
    for path, (low, high) in e.uncertainties.items():
        strata = np.floor((points[path] - low) / (high - low) * 10)
        assert sorted(strata.astype(int)) == list(range(10))  # one point per stratum


def test_a_run_is_the_run_the_studies_layer_makes_at_the_same_seed(design, tmp_path):
    current = design.governance.challenges.rights
    e = Exploration({}, {RIGHTS: [current]}, 2, 5)
    result = explore(design, e, out=tmp_path / "x", executor="serial", progress="none")
    runs = result.runs.set_index(["design", "replicate"])
    seeds = e.seeds()
    for future in range(2):
        spec = dataclasses.replace(study.plan([design], 1, 0)[0], seed=seeds[future])
        alone = study.simulate_metrics(spec).row
        mine = runs.loc[(design.name, future)]
        assert mine["total_system_cost"] == alone["total_system_cost"]
        assert mine["unmet_need_share"] == alone["unmet_need_share"]


def test_outcomes_pair_each_run_with_the_status_quo_of_its_future(design, tmp_path):
    e = small(4)
    result = explore(design, e, out=tmp_path / "x", workers=2, progress="none")
    table = outcomes(result.runs, e)
    assert len(table) == 4 * 2
    runs = result.runs
    for row in table.itertuples():
        base = runs[(runs["design"] == "no_pool_baseline") & (runs["replicate"] == row.future)]
        by_hand = (base["total_system_cost"].item() - row.total_system_cost) / row.pooled_funding
        assert row.return_on_pool == pytest.approx(by_hand)
        gap = row.unmet_need_share - base["unmet_need_share"].item()
        assert row.unmet_need_share_vs_status_quo == pytest.approx(gap)


def test_the_same_exploration_gives_the_same_numbers_on_one_or_two_workers(design, tmp_path):
    e = small(4)
    one = explore(design, e, out=tmp_path / "a", executor="serial", progress="none").runs
    two = explore(design, e, out=tmp_path / "b", workers=2, progress="none").runs
    columns = ["key", "total_system_cost", "unmet_need_share", "trust_final_mean"]
    a, b = (r[columns].sort_values("key").reset_index(drop=True) for r in (one, two))
    pd.testing.assert_frame_equal(a, b)


def test_resume_finishes_the_same_exploration_and_refuses_another(design, tmp_path):
    e = small(3)
    folder = tmp_path / "x"
    explore(design, e, out=folder, executor="serial", progress="none")
    again = explore(design, e, out=folder, executor="serial", progress="none", resume=True)
    assert again.summary.skipped == expected_runs(e)
    other = Exploration(e.uncertainties, {RIGHTS: ["formal"]}, 3, 3)
    with pytest.raises(StudyMismatch):
        explore(design, other, out=folder, executor="serial", progress="none", resume=True)
    more = Exploration(e.uncertainties, e.levers, 4, 3)  # one more future is another study
    with pytest.raises(StudyMismatch):
        explore(design, more, out=folder, executor="serial", progress="none", resume=True)


def test_the_manifest_records_the_sampling_not_every_point(design, tmp_path):
    sizes = []
    for futures in (2, 40):
        folder = tmp_path / str(futures)
        explore(design, small(futures), out=folder, executor="serial", progress="none")
        manifest = json.loads((folder / "manifest.json").read_text())
        (point,) = manifest["vary"]
        assert json.loads(point["exploration"]) == small(futures).to_json()
        sizes.append(len(json.dumps(manifest)) - len(json.dumps(manifest["seeds"])))
    assert abs(sizes[1] - sizes[0]) < 20  # the same, but for the digits of the count


def test_an_exploration_needs_a_future():
    with pytest.raises(ValueError, match="futures must be at least 1"):
        explore(load_scenario("hospital_led_post_acute"), Exploration({}, {}, 0))
    with pytest.raises(ValueError, match="settings_sampled must be at least 1"):
        explore(load_scenario("hospital_led_post_acute"), Exploration({}, GRID, 2, 0, 0))


#: Twelve lever settings: three rights by four levels of transparency.
GRID = {RIGHTS: ["none", "informal", "formal"], TRANSPARENCY: [0.3, 0.5, 0.7, 0.9]}


def test_sampled_settings_are_distinct_settings_of_the_grid_in_grid_order():
    grid = study.expand(GRID)
    e = Exploration({COST: (150.0, 300.0)}, GRID, 5, 3, settings_sampled=5)
    chosen = e.settings()
    assert len(chosen) == 5
    places = [grid.index(s) for s in chosen]  # each one a combination of the grid...
    assert places == sorted(set(places))  # ...none twice, in the grid's order
    assert expected_runs(e) == 5 * (5 + 1)
    assert dataclasses.replace(e, futures=50).settings() == chosen  # futures leave them be
    assert dataclasses.replace(e, seed=4).settings() != chosen  # another seed, another sample
    assert dataclasses.replace(e, settings_sampled=12).settings() == grid
    assert dataclasses.replace(e, settings_sampled=99).settings() == grid


def test_sampled_settings_are_uniform_over_the_grid():
    # each of 12 settings is in a sample of 3 with probability 1/4: over 2,000 seeds its count
    # is Binomial(2000, 0.25), mean 500 and standard deviation 19.4
    grid = [json.dumps(s, sort_keys=True) for s in study.expand(GRID)]
    counts = dict.fromkeys(grid, 0)
    for seed in range(2000):
        for s in Exploration({}, GRID, 1, seed, settings_sampled=3).settings():
            counts[json.dumps(s, sort_keys=True)] += 1
    assert sum(counts.values()) == 6000
    assert all(abs(c - 500) < 5 * 19.4 for c in counts.values()), counts


def test_a_sampled_exploration_runs_its_settings_and_records_the_sample(design, tmp_path):
    e = Exploration({COST: (150.0, 300.0)}, GRID, 2, 3, settings_sampled=4)
    specs, _ = plan_exploration(design, e)
    pooled = [s.varied for s in specs if s.design != "no_pool_baseline"]
    settings = [{p: v[p] for p in GRID} for v in pooled]
    assert settings == e.settings() * 2  # every sampled setting in each future
    folder = tmp_path / "x"
    explore(design, e, out=folder, executor="serial", progress="none")
    assert read_exploration(folder) == e
    older = e.to_json()
    del older["settings_sampled"]  # a folder written before settings could be sampled
    assert Exploration.from_json(older).settings_sampled is None


def test_holder_kind_is_a_lever_even_from_a_hospital_led_design(design):
    e = Exploration({COST: (150.0, 300.0)}, {"holder.kind": ["hospital", "convener"]}, 3, 0)
    specs, _ = plan_exploration(design, e)
    convener = [s for s in specs if s.varied.get("holder.kind") == "convener"]
    assert len(convener) == 3
    partner = f"{design.holder.name}_{design.holder.own_lines[0].service}"
    for spec in convener:  # the hospital's own line is now a partner of the convener
        assert spec.scenario["holder"]["own_lines"] == []
        assert partner in [p["name"] for p in spec.scenario["providers"]]


def test_what_a_lever_makes_inert_is_reset_in_every_future():
    # found in the first future and kept for the others: each future's arm must still have
    # its envelope settings reset, and its own value of the uncertainty
    prospective = study.prepare_design("prospective_community_health", None, 12)
    e = Exploration(
        {"trust.gain_rate": (0.02, 0.1)}, {"budget.basis": ["prospective", "retrospective"]}, 4, 1
    )
    specs, _ = plan_exploration(prospective, e)
    arms = [s for s in specs if s.varied.get("budget.basis") == "retrospective"]
    assert len(arms) == 4
    assert len({s.scenario["trust"]["gain_rate"] for s in arms}) == 4
    for spec in arms:
        assert spec.scenario["trust"]["gain_rate"] == spec.varied["trust.gain_rate"]
        assert spec.scenario["budget"]["corridor"]["enabled"] is False
    assert all(
        s.scenario["budget"]["corridor"]["enabled"]
        for s in specs
        if s.varied.get("budget.basis") == "prospective"
    )


def test_planned_runs_share_what_they_do_not_vary_and_keep_their_content(design):
    specs, _ = plan_exploration(design, small(3))
    pooled = [s for s in specs if s.design == design.name]
    first, other = pooled[0].scenario, pooled[-1].scenario
    assert first["governance"] is not other["governance"]  # the rights lever differs...
    assert first["payers"] is other["payers"]  # ...the payers do not: one copy
    cost = [s for s in first["services"] if s["name"] == "transitional_care"][0]["unit_cost"]
    assert cost == pytest.approx(pooled[0].varied[COST])
    for spec in specs:  # each still is the scenario its key names
        rebuilt = validate_data(json.loads(json.dumps(spec.scenario)), spec.design)
        assert spec.key.startswith(content_hash(rebuilt))


def test_a_lever_sampled_in_a_range_is_a_latin_hypercube_with_the_listed_levers():
    e = Exploration({}, {RIGHTS: ["formal", "informal"]}, 2, 5, 8, {TRANSPARENCY: (0.2, 0.6)})
    settings = e.settings()
    assert e.lever_paths == [RIGHTS, TRANSPARENCY] and e.combinations() is None
    assert [list(s) for s in settings] == [[RIGHTS, TRANSPARENCY]] * 8
    levels = sorted(s[TRANSPARENCY] for s in settings)
    # one value in each eighth of the range (0.2 to 0.25, 0.25 to 0.3, ...)
    assert [int((v - 0.2) / 0.05) for v in levels] == list(range(8))
    # each listed value an equal slice: four settings each
    assert sorted(s[RIGHTS] for s in settings) == ["formal"] * 4 + ["informal"] * 4
    assert dataclasses.replace(e, futures=9).settings() == settings
    assert Exploration.from_json(json.loads(json.dumps(e.to_json()))) == e
    with pytest.raises(ValueError, match="need settings_sampled"):
        dataclasses.replace(e, settings_sampled=None).settings()


def test_a_range_lever_is_an_input_of_the_outcomes(design, tmp_path):
    e = Exploration({COST: (150.0, 300.0)}, {}, 3, 3, 2, {TRANSPARENCY: (0.2, 0.9)})
    runs = explore(design, e, out=tmp_path / "x", executor="serial", progress="none").runs
    table = outcomes(runs, e)
    assert len(table) == 3 * 2 and table[TRANSPARENCY].between(0.2, 0.9).all()
    assert list(inputs_of(table, e).columns) == [COST, TRANSPARENCY]
