"""The audit trail alone lets a reader rebuild who got what, month by month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from poolpilot.model import PilotModel
from poolpilot.scenario import load_scenario


def _rebuild(events: pd.DataFrame, lines: list[str], months: int) -> pd.DataFrame:
    """Allocation in force each month, by line, from the ``allocate`` events only."""
    levels = pd.DataFrame(np.nan, index=range(1, months + 1), columns=lines)
    for row in events[events["action"] == "allocate"].itertuples():
        levels.loc[row.month, row.target] = row.amount  # the last event of a month wins
    return levels.ffill().fillna(0.0)


def _paid(m: PilotModel) -> pd.DataFrame:
    paid = pd.DataFrame(0.0, index=range(1, m.month + 1), columns=m.line_names)
    for month, kind, _, target, amount in m.ledger.entries:
        if kind == "payment":
            paid.loc[month, target] += amount / 100
    return paid


@pytest.mark.parametrize("preset", ["prospective_community_health", "hospital_led_post_acute"])
def test_allocation_history_rebuilt_from_events_matches_the_ledger(preset):
    overrides = {"budget.basis": "prospective", "budget.in_year_adjustment.enabled": True}
    m = PilotModel(load_scenario(preset, overrides), rng=5).run()
    events = m.events.frame("r")
    providers = [n for n, own in zip(m.line_names, m.line_own, strict=True) if not own]
    rebuilt = _rebuild(events, m.line_names, m.month)[providers]
    paid = _paid(m)[providers]
    # a prospective envelope is paid in monthly installments of the allocation in force,
    # except in months the events show compliance validation blocking part of it, or months
    # the pool was spent to its last cent or ran dry (a payer left), where an installment may
    # come up short (the pool never pays more than it holds)
    blocked = {(r.month, r.target) for r in events[events["action"] == "block"].itertuples()}
    service = dict(zip(m.line_names, (m.service_names[k] for k in m.line_service), strict=True))
    dry = {month for month in rebuilt.index if m.pool_history[month - 1, 0] < 1.0}
    for line in providers:
        for month in rebuilt.index:
            if (month, service[line]) in blocked or month in dry:
                assert paid.loc[month, line] <= rebuilt.loc[month, line] + 0.01
            else:
                assert paid.loc[month, line] == pytest.approx(rebuilt.loc[month, line], abs=0.01)
    assert (rebuilt.diff().abs() > 0.01).sum().sum() > 10, "the history has real changes"
