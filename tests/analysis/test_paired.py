"""paired(): the one paired difference, hand-checked."""

from __future__ import annotations

import numpy as np
import pytest

from poolpilot.analysis.paired import paired


def test_mean_median_and_shares_by_hand() -> None:
    # differences 3 - 1, 1 - 1, 0 - 1, 4 - 1 = 2, 0, -1, 3
    r = paired([3, 1, 0, 4], [1, 1, 1, 1])
    assert r.n == 4
    assert r.mean == pytest.approx(1.0)
    assert r.median == pytest.approx(1.0)
    assert r.share_above == pytest.approx(0.5)
    assert r.share_below == pytest.approx(0.25)
    assert r.low <= r.mean <= r.high


def test_missing_pairs_are_dropped() -> None:
    r = paired([1.0, np.nan, 3.0], [0.0, 0.0, np.nan])
    assert r.n == 1 and r.mean == 1.0 and (r.low, r.high) == (1.0, 1.0)


def test_no_spread_gives_the_value_itself() -> None:
    r = paired(np.full(10, 0.25))
    assert (r.low, r.high) == (0.25, 0.25) and r.clear


def test_no_pairs() -> None:
    r = paired([], [])
    assert r.n == 0 and np.isnan(r.mean) and not r.clear


def test_interval_covers_the_true_mean_at_its_level() -> None:
    """Over many samples, a 95% interval of the mean holds the true mean about 95% of the time."""
    rng = np.random.default_rng(7)
    covered = 0
    trials = 300
    for i in range(trials):
        r = paired(rng.normal(0.3, 1.0, 40), resamples=999, seed=i)
        covered += r.low <= 0.3 <= r.high
    assert 0.90 <= covered / trials <= 0.99


def test_clear_when_the_interval_excludes_zero() -> None:
    rng = np.random.default_rng(3)
    assert paired(rng.normal(1.0, 0.5, 50)).clear
    assert not paired(rng.normal(0.0, 0.5, 50)).clear


def test_same_data_same_interval() -> None:
    d = np.random.default_rng(5).normal(size=30)
    assert paired(d) == paired(d)
