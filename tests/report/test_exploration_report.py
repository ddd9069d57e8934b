"""The report of an exploration folder: when the pool paid, in which futures, which settings
hold up.

`setting_frame` is checked by hand on a four-run table; the page is rendered from a real small
robust search (12 futures of 6 months, two lever settings), a discovery written into its folder,
as ``poolpilot robust`` and ``poolpilot discover`` would.
"""

from __future__ import annotations

import math
import re
from statistics import NormalDist

import pandas as pd
import pytest

from poolpilot.analysis.exploration import Exploration, explore
from poolpilot.report import figures, write_report
from poolpilot.report.exploration import SETTINGS_SHOWN, _tradeoff, returns_figure, setting_frame
from poolpilot.runs.study import prepare_design

COST = "services.transitional_care.unit_cost"
LEVER = "governance.transparency"


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval, from its formula."""
    z = NormalDist().inv_cdf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_each_setting_counts_the_futures_it_paid_in_with_wilson_intervals():
    table = pd.DataFrame(
        {
            LEVER: [0.2, 0.2, 0.2, 0.8, 0.8],
            "return_on_pool": [0.1, -0.2, 0.3, -0.1, -0.3],
            "unmet_need_share_vs_status_quo": [-0.1, -0.2, -0.3, 0.0, 0.1],
        }
    )
    frame = setting_frame(table, [LEVER]).set_index("values")
    low = frame.loc["0.2"]
    assert list(frame.index) == ["0.2", "0.8"]  # the setting that paid most often first
    assert (low["futures"], low["paid"]) == (3, 2)
    assert low["paid_low"] == pytest.approx(wilson(2, 3)[0], abs=1e-9)
    assert low["paid_high"] == pytest.approx(wilson(2, 3)[1], abs=1e-9)
    assert low["return_median"] == pytest.approx(0.1)
    assert low["return_low"] == pytest.approx(-0.2 + 0.1 * 0.3)  # the 5% point of 3 values
    assert low["unmet_need_share_vs_status_quo"] == pytest.approx(-0.2)
    assert frame.loc["0.8", "paid"] == 0 and frame.loc["0.8", "paid_low"] == 0
    assert low["setting"] == f"{LEVER}=0.2"


@pytest.mark.parametrize("futures", [100, 5000])
def test_many_futures_are_one_image_in_the_figure_a_few_are_dots(futures):
    table = pd.DataFrame(
        {
            LEVER: [0.2, 0.8] * futures,
            "return_on_pool": [(i % 17 - 8) / 40 for i in range(2 * futures)],
            "unmet_need_share_vs_status_quo": 0.0,
        }
    )
    page = figures.svg(returns_figure(table, setting_frame(table, [LEVER]), [LEVER])).decode()
    many = 2 * futures > figures.RASTER_POINTS
    assert ("<image" in page) is many
    assert len(page) < 150_000  # 10,000 dots as elements are over half a megabyte


def test_a_setting_that_meets_more_need_is_named_beside_the_one_that_paid_most():
    table = pd.DataFrame(
        {
            LEVER: [0.2, 0.2, 0.8, 0.8],
            "return_on_pool": [0.1, 0.2, -0.1, 0.1],
            "unmet_need_share_vs_status_quo": [-0.05, -0.07, -0.12, -0.14],
        }
    )
    frame = setting_frame(table, [LEVER])
    assert _tradeoff(frame) == {
        "setting": f"{LEVER}=0.8",
        "unmet": "\u221213.0 pp",
        "unmet_of_best": "\u22126.0 pp",
        "paid": "1 of 2",
    }
    table["unmet_need_share_vs_status_quo"] = [-0.10, -0.10, -0.105, -0.10]  # within a point
    assert _tradeoff(setting_frame(table, [LEVER])) is None


def test_a_future_without_a_return_is_left_out_of_the_counts():
    table = pd.DataFrame({"return_on_pool": [0.5, float("nan"), -0.5]})
    frame = setting_frame(table, [])
    assert frame["futures"].tolist() == [2] and frame["paid"].tolist() == [1]
    assert frame["setting"].tolist() == ["the design as given"]


@pytest.fixture(scope="module")
def explored(explored_folder):
    return explored_folder, write_report(explored_folder).read_text(encoding="utf-8")


def test_the_exploration_page_leads_with_when_the_pool_paid(explored):
    folder, page = explored
    runs = pd.read_parquet(folder / "runs.parquet")
    assert "An exploration: hospital_led_post_acute in 12 sampled futures" in page
    main = page[: page.index('id="appendix"')]
    keys = re.findall(r'<section id="([a-z_]+)"', main)
    assert keys == ["exploration_paid", "discoveries", "robust_section"]
    assert "No pooled design has a status-quo baseline" not in page
    pooled = runs[~runs["design"].str.startswith("no_pool")]
    counted = re.search(r"more than it cost in <strong>(\d+) of (\d+) runs</strong>", page)
    assert int(counted.group(2)) == len(pooled)
    for value in ("0.2", "0.8"):
        assert f'<td class="text">{LEVER}={value}</td>' in page
    assert page.count("<img") >= 4  # returns, trajectory, box, parallel coordinates


def test_the_discovery_and_robust_sections_say_what_the_commands_found(explored):
    _, page = explored
    found = page[page.index('id="discoveries"') : page.index('id="robust_section"')]
    assert "held in 100% of the futures where" in found
    assert f"{COST}".split(".")[-1] in found and "at least" in found
    robust = page[page.index('id="robust_section"') : page.index('id="appendix"')]
    assert re.search(r"<strong>\d of 2</strong> lever settings evaluated", robust)
    assert "the largest regret over the futures" in robust
    assert "(regret)" in robust
    appendix = page[page.index('id="reproducibility"') :]
    assert "search: {" in appendix  # the search's definition, not every point it ran


def test_a_sampled_design_of_many_settings_shows_those_that_paid_most(tmp_path):
    design = prepare_design("hospital_led_post_acute", [], 3)
    e = Exploration({}, {}, 2, 0, SETTINGS_SHOWN + 4, {LEVER: (0.2, 0.9)})
    explore(design, e, out=tmp_path / "x", executor="serial", progress="none")
    page = write_report(tmp_path / "x").read_text(encoding="utf-8")
    section = page[page.index('id="exploration_paid"') : page.index('id="appendix"')]
    assert section.count(f'<td class="text">{LEVER}=') == SETTINGS_SHOWN
    assert (
        f"the {SETTINGS_SHOWN} settings that paid most often; the 4 other settings are" in section
    )
    assert f"under {SETTINGS_SHOWN + 4} lever settings sampled in the levers" in page
