"""find_boxes(): PRIM recovers a box we planted, and is chosen, covered and checked as promised.

The planted data: 2,000 points uniform in [0, 1]^4 plus ``cat`` uniform on a/b/c; ``y`` is
true with probability 0.95 inside ``x0 > 0.6 and x1 < 0.4 and cat in {a, b}`` and 0.05
outside. By hand:

- the box holds 0.4 * 0.4 * 2/3 = 0.1067 of the points (its mass);
- cases of interest inside: 0.95 * 0.1067 = 0.1013 of the points; outside:
  0.05 * (1 - 0.1067) = 0.0447; so 0.146 of all points are cases;
- the planted box's coverage is 0.1013 / 0.146 = 0.694, its density 0.95.

How far past the planted box the chosen one may reach: adding a slab of mass ``m`` from outside
keeps density ``(0.1013 + 0.05 m) / (0.1067 + m)`` at or above the threshold while
``m <= 0.0063`` for 0.9 (a slab 0.024 wide along ``x0`` or ``x1``) and ``m <= 0.0213`` for 0.8
(0.08 wide): at 0.9 the limits are within 0.05 of the planted ones, at 0.8 within 0.1.
Coverage varies from sample to sample by about ``sqrt(0.694 * 0.306 / 292) = 0.027``
(292 cases), so 0.08 is three standard deviations.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from poolpilot.discovery import Box, find_boxes

PLANTED_COVERAGE = (0.95 * 0.4 * 0.4 * 2 / 3) / (
    0.95 * 0.4 * 0.4 * 2 / 3 + 0.05 * (1 - 0.4 * 0.4 * 2 / 3)
)


def planted(seed: int = 0, n: int = 2000) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(n, 4)), columns=["x0", "x1", "x2", "x3"])
    x["cat"] = pd.Categorical(rng.choice(["a", "b", "c"], size=n))
    inside = (x["x0"] > 0.6) & (x["x1"] < 0.4) & x["cat"].isin(["a", "b"])
    y = np.where(inside, rng.uniform(size=n) < 0.95, rng.uniform(size=n) < 0.05)
    return x, y


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    return planted()


@pytest.fixture(scope="module")
def boxes(data: tuple[pd.DataFrame, np.ndarray]) -> list[Box]:
    x, y = data
    return find_boxes(x, y, threshold=0.9)


def test_the_planted_box_is_recovered(boxes: list[Box]) -> None:
    first = boxes[0]
    assert set(first.limits) == {"x0", "x1", "cat"}  # x2, x3 left free
    low, high = first.limits["x0"]
    assert low == pytest.approx(0.6, abs=0.05) and high == math.inf
    low, high = first.limits["x1"]
    assert low == -math.inf and high == pytest.approx(0.4, abs=0.05)
    assert first.limits["cat"] <= {"a", "b"}
    assert first.density >= 0.9
    assert first.coverage == pytest.approx(PLANTED_COVERAGE, abs=0.08)
    assert first.mass >= 0.05
    assert all(0 <= p < 1e-6 for p in first.quasi_p.values())
    assert set(first.quasi_p) == set(first.limits)


def test_the_default_threshold_reaches_a_little_further(
    data: tuple[pd.DataFrame, np.ndarray],
) -> None:
    first = find_boxes(*data)[0]
    assert first.density >= 0.8
    assert first.limits["x0"][0] == pytest.approx(0.6, abs=0.1)
    assert first.limits["x1"][1] == pytest.approx(0.4, abs=0.1)
    assert first.coverage == pytest.approx(PLANTED_COVERAGE, abs=0.08)


def test_the_box_is_the_widest_dense_entry_on_its_trajectory(boxes: list[Box]) -> None:
    first = boxes[0]
    trajectory = first.trajectory
    assert list(trajectory.columns) == ["coverage", "density", "mass", "restricted"]
    dense = trajectory[trajectory["density"] >= 0.9]
    assert first.coverage == dense["coverage"].max()
    row = trajectory.loc[first.step]
    assert (row["coverage"], row["density"], row["mass"]) == (
        first.coverage,
        first.density,
        first.mass,
    )
    assert row["restricted"] == len(first.limits)
    # PRIM peeled on past it: the chosen box is not simply the last
    assert first.step < len(trajectory) - 1


def test_the_limits_select_the_box_scores(
    data: tuple[pd.DataFrame, np.ndarray], boxes: list[Box]
) -> None:
    x, y = data
    inside = boxes[0].contains(x)
    assert inside.mean() == pytest.approx(boxes[0].mass)
    assert y[inside].mean() == pytest.approx(boxes[0].density)
    assert y[inside].sum() / y.sum() == pytest.approx(boxes[0].coverage)
    low, high = boxes[0].limits["x0"][0], boxes[0].limits["x1"][1]
    levels = ", ".join(sorted(boxes[0].limits["cat"]))
    rule = f"x0 >= {low:.3g} and x1 <= {high:.3g} and cat in {{{levels}}}"
    assert boxes[0].describe() == rule


def test_covering_finds_a_second_box_in_the_rest() -> None:
    rng = np.random.default_rng(7)
    x = pd.DataFrame(rng.uniform(size=(2000, 4)), columns=["x0", "x1", "x2", "x3"])
    planted_a = (x["x0"] > 0.6) & (x["x1"] > 0.6)
    planted_b = (x["x2"] < 0.35) & (x["x3"] < 0.35)
    y = np.where(
        planted_a | planted_b, rng.uniform(size=2000) < 0.95, rng.uniform(size=2000) < 0.02
    )
    found = find_boxes(x, y, threshold=0.9)
    assert [set(b.limits) for b in found] == [{"x0", "x1"}, {"x2", "x3"}]
    assert found[1].limits["x2"][1] == pytest.approx(0.35, abs=0.05)
    assert all(b.density >= 0.9 and b.mass >= 0.05 for b in found)
    # the second box is scored on the points the first left, as shares of all the data
    rest = found[1].contains(x) & ~found[0].contains(x)
    assert found[1].mass == pytest.approx(rest.mean())
    assert found[1].coverage == pytest.approx(y[rest].sum() / y.sum())
    assert sum(b.coverage for b in found) <= 1.0


def test_same_input_same_boxes(data: tuple[pd.DataFrame, np.ndarray], boxes: list[Box]) -> None:
    again = find_boxes(*data, threshold=0.9)
    assert again == boxes
    pd.testing.assert_frame_equal(again[0].trajectory, boxes[0].trajectory)


def test_no_case_of_interest_gives_no_box(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    x, y = data
    assert find_boxes(x, np.zeros(len(y), dtype=bool)) == []


def test_every_point_a_case_gives_one_box_of_everything() -> None:
    x, _ = planted(n=200)
    (box,) = find_boxes(x, np.ones(len(x), dtype=bool))
    assert box.limits == {} and box.describe() == "everywhere"
    assert (box.coverage, box.density, box.mass) == (1.0, 1.0, 1.0)


def test_other_column_kinds_are_peeled() -> None:
    """Integers, booleans, strings and odd column names ("scenario" is dropped by EMA)."""
    rng = np.random.default_rng(3)
    n = 800
    x = pd.DataFrame(
        {
            "scenario": rng.integers(0, 10, size=n),
            "flag": rng.uniform(size=n) < 0.5,
            "lead": rng.choice(["hospital", "council"], size=n),
            3: rng.uniform(size=n).astype("float32"),
        }
    )
    planted_box = (x["scenario"] >= 5) & x["flag"]
    y = np.where(planted_box, rng.uniform(size=n) < 0.95, rng.uniform(size=n) < 0.03)
    first = find_boxes(x, y, threshold=0.9)[0]
    assert set(first.limits) == {"scenario", "flag"}
    assert first.limits["flag"] == frozenset({True})
    assert 4 < first.limits["scenario"][0] <= 5  # peeled as a real: 4.5 keeps 5 and up
    assert first.contains(x).mean() == pytest.approx(first.mass)


@pytest.mark.parametrize(
    ("change", "argument"),
    [
        ({"y": np.ones(10, dtype=bool)}, "y"),
        ({"y": np.ones(200, dtype=int)}, "y"),
        ({"y": np.ones((200, 1), dtype=bool)}, "y"),
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": 1.5}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"peel_alpha": 0.0}, "peel_alpha"),
        ({"min_mass": -0.1}, "min_mass"),
        ({"x": "not a frame"}, "x"),
    ],
)
def test_bad_input_names_the_argument(change: dict, argument: str) -> None:
    x, y = planted(n=200)
    arguments = {"x": x, "y": y, **change}
    with pytest.raises(ValueError, match=rf"^{argument}: ") as caught:
        find_boxes(**arguments)
    assert "\n" not in str(caught.value)


def test_missing_values_in_x_are_refused() -> None:
    x, y = planted(n=200)
    x.loc[3, "x2"] = np.nan
    with pytest.raises(ValueError, match=r"^x: .*'x2'"):
        find_boxes(x, y)


def test_the_workbench_is_imported_only_to_find_boxes() -> None:
    """It takes seconds to import: ``import poolpilot.discovery`` must not pay for it."""
    code = "import sys, poolpilot.discovery; sys.exit('ema_workbench' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
