"""sample(): SALib's samplers behind one call, with the problem and sizes checked first."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from known_indices import ISHIGAMI, LINEAR
from poolpilot.analysis import sensitivity as sa
from poolpilot.analysis.sensitivity.sampling import block_count, checked_problem


@pytest.mark.parametrize(
    ("method", "samples", "rows"),
    [
        ("sobol", 64, 64 * (3 + 2)),  # first and total order only: N * (D + 2)
        ("morris", 10, 10 * (3 + 1)),
        ("fast", 100, 100 * 3),
        ("rbd-fast", 50, 50),
        ("delta", 50, 50),
    ],
)
def test_design_size_per_method(method, samples, rows):
    X = sa.sample(ISHIGAMI, method, samples, seed=0)
    assert X.shape == (rows, 3)
    assert np.abs(X).max() <= np.pi
    assert block_count(checked_problem(ISHIGAMI), method, X) == samples


def test_groups_sample_one_block_per_group():
    sobol = sa.sample({**ISHIGAMI, "groups": ["g12", "g12", "g3"]}, "sobol", 1024, seed=0)
    assert sobol.shape == (1024 * (2 + 2), 3)
    morris = sa.sample({**LINEAR, "groups": ["big", "big", "small", "small"]}, "morris", 10)
    assert morris.shape == (10 * (2 + 1), 4)


@pytest.mark.parametrize("method", sa.METHODS)
def test_seed_reproduces_the_design(method):
    samples = 128 if method == "fast" else 16
    first = sa.sample(LINEAR, method, samples, seed=4)
    np.testing.assert_array_equal(first, sa.sample(LINEAR, method, samples, seed=4))
    assert not np.array_equal(first, sa.sample(LINEAR, method, samples, seed=5))


def test_the_callers_problem_is_left_alone():
    problem = {**ISHIGAMI, "groups": ["a", "a", "b"]}
    before = copy.deepcopy(problem)
    sa.sample(problem, "sobol", 16)
    assert problem == before
    assert "num_vars" not in problem
    assert checked_problem(problem)["num_vars"] == 3


@pytest.mark.parametrize(
    ("problem", "method", "samples", "match"),
    [
        (ISHIGAMI, "sobolish", 64, "unknown method"),
        (ISHIGAMI, "sobol", 1000, "power of two.*try 1024"),
        (ISHIGAMI, "sobol", True, "integer >= 2"),
        (ISHIGAMI, "fast", 64, r"4\*M\^2"),
        ({**ISHIGAMI, "groups": ["a", "a", "b"]}, "rbd-fast", 64, "groups"),
        ({**ISHIGAMI, "groups": ["a", "b"]}, "sobol", 64, "one group per parameter"),
        ({**ISHIGAMI, "bounds": [[0, 1]]}, "sobol", 64, "bounds"),
        ({**ISHIGAMI, "names": ["x", "x", "y"]}, "sobol", 64, "unique"),
        ({**ISHIGAMI, "num_vars": 2}, "sobol", 64, "num_vars"),
        ({"names": ["x"]}, "sobol", 64, "'names' and 'bounds'"),
    ],
)
def test_bad_problems_and_sizes_raise_before_sampling(problem, method, samples, match):
    with pytest.raises(ValueError, match=match):
        sa.sample(problem, method, samples)


def test_block_count_refuses_a_cut_design():
    X = sa.sample(ISHIGAMI, "sobol", 16)
    with pytest.raises(ValueError, match="5-row blocks"):
        block_count(checked_problem(ISHIGAMI), "sobol", X[:-1])
    with pytest.raises(ValueError, match="shape"):
        block_count(checked_problem(ISHIGAMI), "sobol", X[:, :2])
