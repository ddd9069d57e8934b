"""Targeting: where delivered service goes among segments, and what each segment's unmet need
costs in acute events.

Segments differ in how strongly their unmet need for a service raises acute events: the
service's elasticity times the segment's ``response`` to it (absent: 1). A unit of service
``k`` delivered to segment ``s`` therefore avoids

    value[s, k] = response[s, k] * sum_e elasticity[k, e] * unit_cost_e

of acute cost (after the service's lag). ``governance.targeting.rule`` says how the units a
service delivers in a month (``supply_k``, at most its need) are divided among segments, from
each segment's reachable need ``reach[s, k]`` (its need, less the outreach drift of a provider
council away from hard-to-reach segments):

- ``need`` (the absent setting): in proportion to reachable need;
- ``risk``: segments in order of ``value``, highest first, each up to its reachable need; tied
  segments (all of them for a service that averts nothing) share in proportion to reachable
  need;
- ``shares``: each listed segment first takes its share of the supply, up to its reachable
  need; the rest is spread over the remaining reachable need in proportion to it.

Under every rule, what the segments could not absorb (reach below need) then goes to the need
still unmet, in proportion to it, once.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from poolpilot.model.smallarrays import maximum, minimum
from poolpilot.scenario.schema import Scenario


def response_matrix(scenario: Scenario) -> np.ndarray:
    """segments x services: each segment's multiplier on each service's elasticity (1 absent)."""
    services = [sv.name for sv in scenario.services]
    segments = scenario.population.segments
    out = np.ones((len(segments), len(services)))
    for s, seg in enumerate(segments):
        for name, value in seg.response.items():
            out[s, services.index(name)] = value
    return out


@njit(cache=True)
def by_need(need: np.ndarray, reach: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """Supply (per service) spread over segments in proportion to reachable need, capped at need."""
    n_segments, n_services = need.shape
    served = np.empty((n_segments, n_services))
    for k in range(n_services):
        total = column_sum(reach, k)
        for s in range(n_segments):
            share = reach[s, k] / total if total > 0 else 0.0
            served[s, k] = minimum(share * supply[k], need[s, k])
    return served


@njit(cache=True)
def spread_left(need: np.ndarray, served: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """What the segments could not absorb goes to the need still unmet, in proportion, once."""
    n_segments, n_services = need.shape
    out = np.empty((n_segments, n_services))
    for k in range(n_services):
        left = maximum(supply[k] - column_sum(served, k), 0.0)
        room_total = 0.0
        for s in range(n_segments):
            room_total += need[s, k] - served[s, k]
        for s in range(n_segments):
            room = need[s, k] - served[s, k]
            out[s, k] = served[s, k] + (room / room_total if room_total > 0 else 0.0) * left
    return out


@njit(cache=True)
def column_sum(values: np.ndarray, k: int) -> float:
    """``values.sum(axis=0)[k]`` for a few rows: row after row, as numpy adds them."""
    total = 0.0
    for s in range(values.shape[0]):
        total += values[s, k]
    return total


class Targeting:
    """The targeting rule of a design, with what it needs tabulated once at set-up.

    Parameters
    ----------
    scenario
        The design (its ``governance.targeting`` and its segments).
    response
        segments x services, from ``response_matrix``.
    elasticity
        services x events: acute events per unit of unmet need.
    event_cost
        the unit cost of each acute event.
    """

    def __init__(
        self,
        scenario: Scenario,
        response: np.ndarray,
        elasticity: np.ndarray,
        event_cost: np.ndarray,
    ):
        rule = scenario.governance.targeting
        self.rule = rule.rule
        #: segments x services: acute cost a unit of service avoids in each segment
        self.value = response * (elasticity @ event_cost)[None, :]
        v = self.value
        # [s', s, k]: segment s' comes before s for service k; s' and s are tied
        self.before = (v[:, None, :] > v[None, :, :]).astype(float)
        self.tied = (v[:, None, :] == v[None, :, :]).astype(float)
        names = [seg.name for seg in scenario.population.segments]
        self.shares = np.array([rule.shares.get(name, 0.0) for name in names], dtype=float)

    def serve(self, need: np.ndarray, reach: np.ndarray, supply: np.ndarray) -> np.ndarray:
        """Units served, segments x services, from need, reachable need and units delivered.

        ``supply`` (per service) must not exceed the service's total need.
        """
        if self.rule == "risk":
            served = self.by_value(reach, supply)
        elif self.rule == "shares":
            fixed = np.minimum(self.shares[:, None] * supply[None, :], reach)
            served = fixed + by_need(need - fixed, reach - fixed, supply - fixed.sum(axis=0))
        else:
            served = by_need(need, reach, supply)
        return spread_left(need, served, supply)

    def by_value(self, reach: np.ndarray, supply: np.ndarray) -> np.ndarray:
        """Highest value first, each segment up to its reachable need; ties share by reach."""
        ahead = np.einsum("tsk,tk->sk", self.before, reach)  # reach of the segments before s
        group = np.einsum("tsk,tk->sk", self.tied, reach)  # reach of s and its ties
        room = np.clip(supply[None, :] - ahead, 0.0, group)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(group > 0, reach / group, 0.0) * room
