"""Shared fixtures: small scenarios whose numbers can be followed by hand."""

from __future__ import annotations

import pytest

from poolpilot.scenario import validate_data
from tiny import tiny_data


@pytest.fixture
def tiny():
    return validate_data(tiny_data(), "tiny.yaml")
