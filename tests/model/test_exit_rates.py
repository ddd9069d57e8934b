"""How many providers leave in three years, against what real programmes saw.

Not a claim of the source articles but a magnitude the evidence bounds (docs/ODD.md 1.1,
"Magnitudes against evidence"): in England's home-care market of 2016-17, squeezed by fees,
59 of 152 councils had a provider hand back a contract within six months (ADASS budget survey
2016) and 95 of 197 UK councils had had contracts handed back (BBC Panorama, 2017); a
partnership that excluded its partners lost 1 of 4 (EVIDENCE.md section 6). The model must lose
some status-quo providers, not all or none, fewer from a pool whose rules give partners a
voice, and many from a pool that gives them none. Intervals are the claims' (99%, bootstrap).
"""

from __future__ import annotations

import numpy as np

from poolpilot.analysis.claims import LEVEL
from poolpilot.analysis.paired import paired
from poolpilot.model import PilotModel
from poolpilot.runs.study import run_seeds
from poolpilot.scenario import load_scenario
from poolpilot.scenario.variants import no_pool_variant

REPLICATES = 150
EXCLUDING = [
    "governance.transparency=0.1",
    "governance.challenges.rights=none",
    "governance.decision_rights.enabled=false",
    "governance.joint_review.enabled=false",
]


def share_left(scenario) -> np.ndarray:
    """Per run, the share of partner providers that left within the horizon."""
    out = []
    for seed in run_seeds(2026, REPLICATES):
        m = PilotModel(scenario, rng=seed).run()
        partners = ~m.line_own
        out.append((partners & ~m.line_active).sum() / partners.sum())
    return np.array(out)


def interval(a: np.ndarray, b: np.ndarray | None = None) -> tuple[float, float]:
    """The interval of the mean of ``a`` (or of ``a - b``, run by run)."""
    d = paired(a, b, level=LEVEL)
    return d.low, d.high


def test_providers_leave_the_status_quo_some_not_all_and_fewer_with_a_voice_in_a_pool():
    reference = load_scenario("hospital_led_post_acute")
    status_quo = share_left(no_pool_variant(reference))
    pool = share_left(reference)
    excluding = share_left(load_scenario("hospital_led_post_acute", EXCLUDING))
    low, high = interval(status_quo)
    # some status-quo providers leave in three years, nowhere near all (evidence: of the order of
    # 5%; the band is wide, the evidence is rough)
    assert low > 0.02 and high < 0.25
    # a pool that consults and shows its books keeps more of them ...
    assert interval(status_quo, pool)[0] > 0
    # ... and one that excludes them loses more than the status quo
    assert interval(excluding, status_quo)[0] > 0
