"""analyze_function(): the design evaluated in order, on any executor, its outputs checked."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from known_indices import ISHIGAMI, ishigami
from poolpilot.analysis import sensitivity as sa


# CPython 3.12's ProcessPoolExecutor forks after starting its own manager thread, which makes
# the fork start method warn; the warning is about the executor, not about this module.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_executors_give_identical_frames():
    args = (ishigami, ISHIGAMI, "sobol", 64, 5)  # 320 runs: ten chunks
    assert sa.CHUNK_SIZE * 2 < 64 * 5  # several chunks, so order across workers matters
    serial = sa.analyze_function(*args)
    with ThreadPoolExecutor(3) as pool:
        threaded = sa.analyze_function(*args, executor=pool)
    with ProcessPoolExecutor(2) as pool:
        processes = sa.analyze_function(*args, executor=pool)
    pd.testing.assert_frame_equal(serial, threaded)
    pd.testing.assert_frame_equal(serial, processes)


def test_analyze_function_is_sample_evaluate_analyze():
    X = sa.sample(ISHIGAMI, "rbd-fast", 300, seed=2)
    outputs = [ishigami(dict(zip(ISHIGAMI["names"], x, strict=True))) for x in X]
    Y = {m: np.array([o[m] for o in outputs]) for m in ("y", "x1_only")}
    direct = sa.analyze(ISHIGAMI, "rbd-fast", X, Y, seed=2)
    pd.testing.assert_frame_equal(
        direct, sa.analyze_function(ishigami, ISHIGAMI, "rbd-fast", 300, seed=2)
    )


def returns_list(p):
    return [p["x1"]]


def returns_changing_keys(p):
    return {"a": 1.0} if p["x1"] < 0 else {"b": 1.0}


def returns_nan(p):
    return {"fine": 1.0, "cost": float("nan") if p["x2"] > 0 else 0.0}


def returns_text(p):
    return {"y": "high"}


@pytest.mark.parametrize(
    ("func", "problem", "method", "samples", "match"),
    [
        (ishigami, ISHIGAMI, "sobolish", 64, "unknown method"),
        (ishigami, ISHIGAMI, "sobol", 1000, "power of two"),
        (ishigami, {**ISHIGAMI, "groups": ["a", "a", "b"]}, "rbd-fast", 64, "groups"),
        (returns_list, ISHIGAMI, "sobol", 64, "dict"),
        (returns_changing_keys, ISHIGAMI, "sobol", 64, "expected keys"),
        (returns_nan, ISHIGAMI, "sobol", 64, "'cost' is nan at"),
        (returns_text, ISHIGAMI, "sobol", 64, "'high' is not a number"),
    ],
)
def test_bad_inputs_raise_clear_errors(func, problem, method, samples, match):
    with pytest.raises(ValueError, match=match):
        sa.analyze_function(func, problem, method, samples)


def test_a_bad_problem_fails_before_any_run():
    calls = []

    def counting(p):
        calls.append(p)
        return {"y": 1.0}

    with pytest.raises(ValueError, match="power of two"):
        sa.analyze_function(counting, ISHIGAMI, "sobol", 100)
    assert calls == []
