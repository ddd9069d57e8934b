"""Tests for poolpilot.sensitivity against functions whose sensitivity indices are known."""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from SALib.analyze import sobol as salib_sobol
from scipy.stats import norm

from poolpilot.analysis import sensitivity as sa

pytestmark = pytest.mark.filterwarnings("ignore:FAST confidence intervals:UserWarning")

A, B = 7.0, 0.1
ISHIGAMI = {"names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
LINEAR = {"names": ["x1", "x2", "x3", "x4"], "bounds": [[0.0, 1.0]] * 4}
LINEAR_COEFS = (10.0, 3.0, 0.5, 0.0)


def ishigami(p: dict[str, float]) -> dict[str, float]:
    """Module level so that it pickles into worker processes."""
    x1, x2, x3 = p["x1"], p["x2"], p["x3"]
    y = math.sin(x1) + A * math.sin(x2) ** 2 + B * x3**4 * math.sin(x1)
    return {"y": y, "x1_only": x1}


def ishigami_y(p: dict[str, float]) -> dict[str, float]:
    return {"y": ishigami(p)["y"]}


def linear(p: dict[str, float]) -> dict[str, float]:
    return {"y": sum(c * p[n] for c, n in zip(LINEAR_COEFS, LINEAR["names"], strict=True))}


def ishigami_partial_variances() -> tuple[float, float, float, float]:
    """V, V1, V2, V13 of the Ishigami function with uniform inputs on [-pi, pi]."""
    v1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
    return v1 + v2 + v13, v1, v2, v13


def ishigami_truth() -> dict[tuple[str, str], float]:
    v, v1, v2, v13 = ishigami_partial_variances()
    s1 = {"x1": v1 / v, "x2": v2 / v, "x3": 0.0}
    st_ = {"x1": (v1 + v13) / v, "x2": v2 / v, "x3": v13 / v}
    return {**{("S1", k): x for k, x in s1.items()}, **{("ST", k): x for k, x in st_.items()}}


def widening(checks: int, family_error: float = 0.01) -> float:
    """Half-widths an estimate may miss by, for `checks` simultaneous checks.

    SALib's interval is value +/- 1.96 bootstrap standard errors (95 %). A single check at
    1 half-width would fail 5 % of the time for an unlucky seed even with a correct
    estimator; for several checks we want the chance that *any* fails to be `family_error`,
    so by Bonferroni each gets z = Phi^-1(1 - family_error / (2 checks)), i.e. z / 1.96
    half-widths (about 1.6 for 6 checks). The bootstrap treats Sobol' points as
    independent draws, so it overstates the error of a scrambled Sobol' design: the factor
    errs on the lenient side only through that, not through a number picked to pass.
    """
    return norm.ppf(1 - family_error / (2 * checks)) / norm.ppf(0.975)


def values(frame: pd.DataFrame, metric: str = "y") -> pd.DataFrame:
    return frame[frame["metric"] == metric].set_index(["index", "parameter"])


def order(frame: pd.DataFrame, index: str, metric: str = "y") -> list[str]:
    rows = frame[(frame["metric"] == metric) & (frame["index"] == index)]
    return list(rows.sort_values("value", ascending=False)["parameter"])


@pytest.fixture(scope="module")
def sobol_ishigami() -> pd.DataFrame:
    return sa.analyze_function(ishigami, ISHIGAMI, "sobol", samples=2048, seed=0)


# --- accuracy on known answers ------------------------------------------------------------------


def test_ishigami_truth_matches_published_values():
    truth = ishigami_truth()
    published = [0.3139, 0.4424, 0.0, 0.5576, 0.4424, 0.2437]
    keys = [("S1", "x1"), ("S1", "x2"), ("S1", "x3"), ("ST", "x1"), ("ST", "x2"), ("ST", "x3")]
    assert [round(truth[k], 4) for k in keys] == published


def test_sobol_recovers_ishigami_indices_within_their_intervals(sobol_ishigami):
    truth = ishigami_truth()
    got = values(sobol_ishigami)
    factor = widening(len(truth))
    for key, expected in truth.items():
        row = got.loc[key]
        half_width = (row["ci_high"] - row["ci_low"]) / 2
        # Without this the check below would pass for any estimate with a huge interval.
        assert 0 < half_width < 0.1, key
        assert abs(row["value"] - expected) <= factor * half_width, (key, row["value"], expected)


def test_frame_layout(sobol_ishigami):
    assert list(sobol_ishigami.columns) == sa.COLUMNS
    assert len(sobol_ishigami) == 2 * 2 * 3  # metrics x indices x parameters
    assert set(sobol_ishigami["method"]) == {"sobol"}
    assert sobol_ishigami.attrs["notes"] == []
    # A metric that is x1 itself: S1 = ST = 1 for x1, exactly 0 for the others.
    only = values(sobol_ishigami, "x1_only")["value"]
    assert only.loc[("ST", "x1")] == pytest.approx(1, abs=1e-6)
    assert only.loc[("S1", "x2")] == 0 and only.loc[("ST", "x3")] == 0


def test_rank_orders_sobol_by_total_effect(sobol_ishigami):
    ranked = sa.rank(sobol_ishigami)
    st_rows = ranked[(ranked["metric"] == "y") & (ranked["index"] == "ST")]
    assert dict(zip(st_rows["parameter"], st_rows["rank"], strict=True)) == {
        "x1": 1,
        "x2": 2,
        "x3": 3,
    }
    assert len(ranked) == len(sobol_ishigami)
    # Every row of a parameter carries its rank, so S1 rows rank by ST too.
    s1_rows = ranked[(ranked["metric"] == "y") & (ranked["index"] == "S1")]
    assert list(s1_rows["rank"]) == [1, 2, 3]


def test_morris_linear_function_gives_exact_effects():
    frame = sa.analyze_function(linear, LINEAR, "morris", samples=20, seed=3)
    got = values(frame)["value"]
    for name, coef in zip(LINEAR["names"], LINEAR_COEFS, strict=True):
        # Every elementary effect of a linear function on unit bounds is its coefficient.
        assert got.loc[("mu_star", name)] == pytest.approx(coef, abs=1e-9)
        assert got.loc[("mu", name)] == pytest.approx(coef, abs=1e-9)
        assert got.loc[("sigma", name)] == pytest.approx(0, abs=1e-9)
    assert order(frame, "mu_star") == ["x1", "x2", "x3", "x4"]
    ranked = sa.rank(frame)
    mu_star = ranked[ranked["index"] == "mu_star"]
    assert list(mu_star["rank"]) == [1, 2, 3, 4]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=2, max_size=5), st.integers(0, 2**32 - 1))
def test_morris_mu_equals_coefficient_for_any_linear_function(coefs, seed):
    names = [f"p{i}" for i in range(len(coefs))]
    problem = {"names": names, "bounds": [[0.0, 1.0]] * len(coefs)}

    def func(p):
        return {"y": sum(c * p[n] for c, n in zip(coefs, names, strict=True))}

    got = values(sa.analyze_function(func, problem, "morris", samples=4, seed=seed))["value"]
    for name, coef in zip(names, coefs, strict=True):
        assert got.loc[("mu", name)] == pytest.approx(coef, abs=1e-9)
        assert got.loc[("mu_star", name)] == pytest.approx(abs(coef), abs=1e-9)


@pytest.mark.parametrize(
    ("method", "samples", "indices"),
    [("fast", 1000, ["S1", "ST"]), ("rbd-fast", 1000, ["S1"]), ("delta", 1000, ["delta", "S1"])],
)
def test_other_methods_order_ishigami_first_order_effects(method, samples, indices):
    frame = sa.analyze_function(ishigami_y, ISHIGAMI, method, samples=samples, seed=1)
    assert list(frame.columns) == sa.COLUMNS
    assert list(dict.fromkeys(frame["index"])) == indices
    assert len(frame) == len(indices) * 3
    assert order(frame, "S1") == ["x2", "x1", "x3"]
    assert frame["value"].notna().all()


def test_fast_notes_unreliable_intervals_but_keeps_them():
    frame = sa.analyze_function(ishigami, ISHIGAMI, "fast", samples=200, seed=0)
    assert any("#649" in note for note in frame.attrs["notes"])
    assert frame[["ci_low", "ci_high"]].notna().all().all()


# --- groups -------------------------------------------------------------------------------------


def test_sobol_groups_report_group_names_and_group_indices():
    problem = {**ISHIGAMI, "groups": ["g12", "g12", "g3"]}
    X = sa.sample(problem, "sobol", 1024, seed=0)
    assert X.shape == (1024 * (2 + 2), 3)  # one cross-sampled block per group
    frame = sa.analyze_function(ishigami, problem, "sobol", samples=1024, seed=0)
    assert list(dict.fromkeys(frame["parameter"])) == ["g12", "g3"]
    v, v1, v2, v13 = ishigami_partial_variances()
    got = values(frame)
    factor = widening(2)
    for key, expected in {("S1", "g12"): (v1 + v2) / v, ("ST", "g3"): v13 / v}.items():
        row = got.loc[key]
        half_width = (row["ci_high"] - row["ci_low"]) / 2
        assert abs(row["value"] - expected) <= factor * half_width, key


def test_morris_groups_report_group_names():
    problem = {**LINEAR, "groups": ["big", "big", "small", "small"]}
    assert sa.sample(problem, "morris", 10, seed=0).shape == (10 * 3, 4)
    frame = sa.analyze_function(linear, problem, "morris", samples=10, seed=0)
    assert list(dict.fromkeys(frame["parameter"])) == ["big", "small"]
    assert order(frame, "mu_star") == ["big", "small"]


# --- evaluation and reproducibility -------------------------------------------------------------


# CPython 3.12's ProcessPoolExecutor forks after starting its own manager thread, which makes
# the fork start method warn; the warning is about the executor, not about this module.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_executors_give_identical_frames():
    args = (ishigami, ISHIGAMI, "sobol", 64, 5)  # 320 runs: ten chunks
    serial = sa.analyze_function(*args)
    with ThreadPoolExecutor(3) as pool:
        threaded = sa.analyze_function(*args, executor=pool)
    with ProcessPoolExecutor(2) as pool:
        processes = sa.analyze_function(*args, executor=pool)
    pd.testing.assert_frame_equal(serial, threaded)
    pd.testing.assert_frame_equal(serial, processes)


@pytest.mark.parametrize(
    ("method", "samples"),
    [("sobol", 256), ("morris", 20), ("fast", 100), ("rbd-fast", 200), ("delta", 200)],
)
def test_seed_reproduces_results_and_leaves_global_rng_alone(method, samples):
    # The legacy global RNG is what SALib's fast and delta use, so it is what could leak.
    np.random.seed(123)  # noqa: NPY002
    expected_draw = np.random.random()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    # Seed 0 matters: SALib's sobol, fast and delta analyzers treat it as "no seed".
    first = sa.analyze_function(ishigami_y, ISHIGAMI, method, samples, seed=0)
    assert np.random.random() == expected_draw  # noqa: NPY002
    again = sa.analyze_function(ishigami_y, ISHIGAMI, method, samples, seed=0)
    other = sa.analyze_function(ishigami_y, ISHIGAMI, method, samples, seed=1)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["ci_high"], other["ci_high"], equal_nan=True)


def test_negative_first_order_estimates_are_not_clipped():
    # x3 has no first-order effect in the Ishigami function, so its S1 estimate scatters
    # around 0; seed 6 happens to give a negative one.
    frame = sa.analyze_function(ishigami, ISHIGAMI, "sobol", samples=2048, seed=6)
    row = values(frame).loc[("S1", "x3")]
    assert row["value"] < 0
    X = sa.sample(ISHIGAMI, "sobol", 2048, seed=6)
    y = np.array([ishigami(dict(zip(ISHIGAMI["names"], x, strict=True)))["y"] for x in X])
    raw = salib_sobol.analyze(
        dict(ISHIGAMI, num_vars=3), y, calc_second_order=False, seed=np.random.default_rng(6)
    )
    assert row["value"] == raw["S1"][2]
    assert row["ci_low"] == raw["S1"][2] - raw["S1_conf"][2]


def test_analyze_matches_analyze_function():
    X = sa.sample(ISHIGAMI, "rbd-fast", 300, seed=2)
    outputs = [ishigami(dict(zip(ISHIGAMI["names"], x, strict=True))) for x in X]
    Y = {m: np.array([o[m] for o in outputs]) for m in ("y", "x1_only")}
    direct = sa.analyze(ISHIGAMI, "rbd-fast", X, Y, seed=2)
    pd.testing.assert_frame_equal(
        direct, sa.analyze_function(ishigami, ISHIGAMI, "rbd-fast", 300, seed=2)
    )


def test_constant_metric_gives_nan_and_a_note():
    X = sa.sample(ISHIGAMI, "sobol", 64, seed=0)
    frame = sa.analyze(ISHIGAMI, "sobol", X, {"flat": np.full(len(X), 2.0)}, seed=0)
    assert frame["value"].isna().all()
    assert any("flat" in note and "constant" in note for note in frame.attrs["notes"])


# --- convergence --------------------------------------------------------------------------------


def ishigami_design(method: str, samples: int, seed: int = 0):
    X = sa.sample(ISHIGAMI, method, samples, seed)
    y = np.array([ishigami(dict(zip(ISHIGAMI["names"], x, strict=True)))["y"] for x in X])
    return X, {"y": y}


def test_convergence_sobol_settled_on_ishigami():
    X, Y = ishigami_design("sobol", 2048)
    conv = sa.convergence(ISHIGAMI, "sobol", X, Y, seed=0)
    assert str(conv["unstable"].dtype) == "boolean"
    assert {"value_half", "ci_low_half", "ci_high_half", "value", "unstable"} <= set(conv)
    assert len(conv) == 6
    # The full estimate must be the one analyze gives; the half one must use N/2 points.
    full = sa.analyze(ISHIGAMI, "sobol", X, Y, seed=0)
    assert list(conv["value"]) == list(full["value"])
    half = sa.analyze(ISHIGAMI, "sobol", X[: 1024 * 5], {"y": Y["y"][: 1024 * 5]}, seed=0)
    assert list(conv["value_half"]) == list(half["value"])
    # Halving by base points keeps Saltelli blocks intact, so halves agree with the whole.
    assert not conv["unstable"].any()


def test_convergence_flags_an_index_that_moves():
    X = sa.sample(LINEAR, "rbd-fast", 512, seed=0)
    # The first half of the runs depends on x1 only, the second half on x2 only.
    y = np.where(np.arange(len(X)) < 256, X[:, 0], X[:, 1])
    conv = sa.convergence(LINEAR, "rbd-fast", X, {"y": y}, seed=0).set_index("parameter")
    assert conv.loc["x1", "value_half"] > 0.9
    assert bool(conv.loc["x1", "unstable"]) is True
    assert bool(conv.loc["x4", "unstable"]) is False


def test_convergence_morris_has_no_flag_without_an_interval():
    X = sa.sample(LINEAR, "morris", 20, seed=0)
    y = X @ np.array(LINEAR_COEFS)
    conv = sa.convergence(LINEAR, "morris", X, {"y": y}, seed=0)
    assert conv.loc[conv["index"] != "mu_star", "unstable"].isna().all()
    assert conv.loc[conv["index"] == "mu_star", "unstable"].notna().all()


# --- input validation ---------------------------------------------------------------------------


def returns_list(p):
    return [p["x1"]]


def returns_changing_keys(p):
    return {"a": 1.0} if p["x1"] < 0 else {"b": 1.0}


def returns_nan(p):
    return {"fine": 1.0, "cost": float("nan") if p["x2"] > 0 else 0.0}


@pytest.mark.parametrize(
    ("func", "problem", "method", "samples", "match"),
    [
        (ishigami, ISHIGAMI, "sobolish", 64, "unknown method"),
        (ishigami, ISHIGAMI, "sobol", 1000, "power of two"),
        (ishigami, ISHIGAMI, "fast", 64, r"4\*M\^2"),
        (ishigami, {**ISHIGAMI, "groups": ["a", "a", "b"]}, "rbd-fast", 64, "groups"),
        (ishigami, {**ISHIGAMI, "bounds": [[0, 1]]}, "sobol", 64, "bounds"),
        (returns_list, ISHIGAMI, "sobol", 64, "dict"),
        (returns_changing_keys, ISHIGAMI, "sobol", 64, "expected keys"),
        (returns_nan, ISHIGAMI, "sobol", 64, "'cost'"),
    ],
)
def test_bad_inputs_raise_clear_errors(func, problem, method, samples, match):
    with pytest.raises(ValueError, match=match):
        sa.analyze_function(func, problem, method, samples)


def test_analyze_rejects_mismatched_outputs():
    X = sa.sample(ISHIGAMI, "sobol", 64)
    with pytest.raises(ValueError, match="'y' has 10 values"):
        sa.analyze(ISHIGAMI, "sobol", X, {"y": np.ones(10)})
    with pytest.raises(ValueError, match="blocks"):
        sa.analyze(ISHIGAMI, "sobol", X[:-1], {"y": np.ones(len(X) - 1)})
    with pytest.raises(ValueError, match="cannot be halved"):
        sa.convergence(ISHIGAMI, "fast", X, {"y": np.ones(len(X))})


# --- figures ------------------------------------------------------------------------------------


def test_plot_sobol_draws_two_bars_per_parameter(sobol_ishigami):
    ax = sa.plot_sobol(sobol_ishigami, "y")
    assert len(ax.patches) == 2 * 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x1", "x2", "x3"]
    assert ax.get_xlabel() and ax.get_ylabel()
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    expected = sorted(round(v, 6) for v in values(sobol_ishigami)["value"])
    assert widths == expected
    ax.figure.savefig(__import__("io").BytesIO(), format="png")


def test_plot_morris_labels_each_parameter():
    frame = sa.analyze_function(linear, LINEAR, "morris", samples=10, seed=0)
    ax = Figure().subplots()
    assert sa.plot_morris(frame, "y", ax=ax) is ax
    assert sorted(t.get_text() for t in ax.texts) == ["x1", "x2", "x3", "x4"]
    assert "mu*" in ax.get_xlabel() and "sigma" in ax.get_ylabel()
    with pytest.raises(ValueError, match="no morris rows"):
        sa.plot_morris(frame, "missing")
