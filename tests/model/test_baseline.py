"""The presets' metrics at a fixed seed match the stored baseline (refresh: make baseline)."""

from __future__ import annotations

import json

import pytest

from baseline import STORED, current


def test_presets_match_the_stored_baseline():
    stored = json.loads(STORED.read_text())
    now = current()
    assert sorted(now) == sorted(stored), "presets changed: run `make baseline`"
    for design, figures in stored.items():
        for name, value in figures.items():
            assert now[design][name] == pytest.approx(value, rel=1e-6, abs=1e-9), (
                f"{design}.{name} changed from {value} to {now[design][name]}; "
                "if intended, run `make baseline`"
            )
