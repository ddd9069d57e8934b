"""What the report tests share: an exploration folder with a discovery and a robust search."""

from __future__ import annotations

import pytest

from poolpilot.analysis.discovery_study import discover
from poolpilot.analysis.robust_search import robust_search
from poolpilot.analysis.robustness import Objective
from poolpilot.report.discovery import write_discovery
from poolpilot.report.robust import write_robust
from poolpilot.runs.study import prepare_design

COST = "services.transitional_care.unit_cost"
LEVER = "governance.transparency"


@pytest.fixture(scope="session")
def explored_folder(tmp_path_factory):
    """A robust search's folder (an exploration of its candidates: 12 futures of 6 months,
    two lever settings), a discovery run on it, as ``robust`` and ``discover`` leave it."""
    folder = tmp_path_factory.mktemp("explore") / "x"
    design = prepare_design("hospital_led_post_acute", [], 6)
    found = robust_search(
        design,
        {COST: (150.0, 300.0)},
        {LEVER: [0.2, 0.8]},
        [Objective("return_on_pool", "max"), Objective("unmet_need_share", "min")],
        measure="regret",
        futures=12,
        population=4,
        generations=1,
        seed=0,
        out=folder,
        workers=1,
    )
    write_robust(found)
    write_discovery(folder, discover(folder, f"`{COST}` > 225", threshold=0.9))
    return folder
