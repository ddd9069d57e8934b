"""Cautions: a scenario that is valid but will not do what it seems to.

A pilot with no money, no people, or a provider that can deliver nothing runs, and is a fair
thing to model (the limit of a sweep, a service not yet commissioned), so it is not refused.
But its results are easily misread, so loading it warns once per condition with a
``ScenarioWarning`` saying what the model will do, one line in the form of a problem
(``FILE:LINE:COL: field.path: ...``). What each text says was checked against the model
(tests/scenario/test_scenario_files.py runs each case).
"""

from __future__ import annotations

from collections.abc import Mapping

from poolpilot.scenario.located import Place
from poolpilot.scenario.schema import Scenario
from poolpilot.scenario.validation import placed


class ScenarioWarning(UserWarning):
    """A valid scenario that will not do what it seems to; the message is one full line."""


NO_MONEY = (
    "every contribution is 0: the pool has no money, so it funds no service; providers serve "
    "only the unfunded work their own reserves pay for, the rest of the need goes unmet, and "
    "ratios to the budget (financial_drift, year_end_shock) are reported as 0"
)
NO_PEOPLE = (
    "every segment has size 0: there is no need, so nothing is delivered, only running costs "
    "(administration, contracts) are spent, and every share of need (unmet_need_share, "
    "equity_gap, demand_mismatch) is reported as 0"
)


def _no_capacity(service: str, others: bool) -> str:
    if others:
        return f"0: it can deliver nothing and is paid nothing; {service} is left to its other providers"
    return (
        f"0: no one can deliver {service}, so the pool pays for none of it and all of its need "
        "goes unmet"
    )


def cautions(
    scenario: Scenario, file: str = "<scenario>", places: Mapping[str, Place] | None = None
) -> list[str]:
    """One line for each condition that makes a valid scenario behave unlike it seems."""
    found = []
    if all(p.annual_contribution == 0 for p in scenario.payers):
        found.append(("payers", NO_MONEY))
    if all(sg.size == 0 for sg in scenario.population.segments):
        found.append(("population.segments", NO_PEOPLE))
    lines = [(f"providers.{p.name}", p.service, p.capacity) for p in scenario.providers] + [
        (f"holder.own_lines.{line.service}", line.service, line.capacity)
        for line in scenario.holder.own_lines
    ]
    for path, service, capacity in lines:
        if capacity == 0:
            others = any(s == service and c > 0 for _, s, c in lines)
            found.append((f"{path}.capacity", _no_capacity(service, others)))
    return [str(placed(file, path, message, places)) for path, message in found]
