"""The served population: need by segment and service, vectorised with numpy.

Need is drawn once per run, for the whole horizon, from the population's own random stream.
Two designs run with the same seed therefore face exactly the same need (common random
numbers) and differ only by their rules. Prevention, which depends on the design, scales that
drawn need month by month in the model.

Functional form, for segment s, service k, month t (1-based, calendar month c):

    need[t, s, k] = size_s * rate_s,k * (1 + trend_s) ** ((t - 1) / 12)
                    * (1 + seasonality_s * cos(2 pi (c - peak_s) / 12))
                    * shock_s,k(t) * lognormal(mean 1, CV noise_s)

Acute events (readmissions, crisis episodes), for event e in month t:

    acute[t, e] = m_t * sum_s size_s * rate_s,e
                  + sum_s sum_{k averting e} elasticity_k * response_s,k * unmet[t - lag_k, s, k]

with m_t the prevention multiplier, rate_s,e the segment's own rate (``acute_rates``; absent:
the event's ``baseline_rate``) and response_s,k its response to the service (absent: 1; see
``targeting.py``). Rates, responses and elasticities are scenario parameters; their bases are
in docs/parameters.md.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from poolpilot.model.smallarrays import np_sum
from poolpilot.scenario.schema import Prevention, Scenario


def draw_need(scenario: Scenario, rng: np.random.Generator, months: int) -> np.ndarray:
    """Need in units, shape (months, segments, services), from the population stream."""
    services = [sv.name for sv in scenario.services]
    segments = scenario.population.segments
    n_seg, n_svc = len(segments), len(services)
    rate = np.zeros((n_seg, n_svc))
    for i, seg in enumerate(segments):
        for name, units in seg.need.items():
            rate[i, services.index(name)] = seg.size * units
    t = np.arange(months, dtype=float)  # 0-based month index
    calendar = (t % 12) + 1
    trend = np.array([seg.trend for seg in segments])
    amp = np.array([seg.seasonality for seg in segments])
    peak = np.array([seg.peak_month for seg in segments])
    cv = np.array([seg.noise for seg in segments])
    growth = (1.0 + trend[None, :]) ** (t[:, None] / 12.0)
    season = 1.0 + amp[None, :] * np.cos(2 * np.pi * (calendar[:, None] - peak[None, :]) / 12.0)
    # lognormal with mean 1 and coefficient of variation cv (one draw per month, segment, service)
    sigma = np.sqrt(np.log1p(cv**2))
    z = rng.standard_normal((months, n_seg, n_svc))
    noise = np.exp(sigma[None, :, None] * z - 0.5 * sigma[None, :, None] ** 2)
    need = rate[None, :, :] * (growth * season)[:, :, None] * noise
    for i, seg in enumerate(segments):
        for shock in seg.shocks:
            cols = [services.index(s) for s in shock.services] or list(range(n_svc))
            start = shock.month - 1
            stop = min(months, start + shock.duration_months)
            need[start:stop, i, cols] *= shock.multiplier
    return need


def baseline_acute(scenario: Scenario) -> np.ndarray:
    """Acute events per month when all community need is met, by event (before prevention).

    Each segment has its own rate where it gives one (``acute_rates``), else the event's
    ``baseline_rate``.
    """
    segments = scenario.population.segments
    out = []
    for ev in scenario.acute_events:
        plain = sum(seg.size for seg in segments if ev.name not in seg.acute_rates)
        own = sum(
            seg.size * seg.acute_rates[ev.name] for seg in segments if ev.name in seg.acute_rates
        )
        out.append(ev.baseline_rate * plain + own)
    return np.array(out, dtype=float)


def prevention_multiplier(upstream_per_person: float, ceiling: float, half_effect: float) -> float:
    """Share of need left after prevention: a saturating curve capped at the avertable share."""
    if upstream_per_person <= 0 or ceiling <= 0:
        return 1.0
    return 1.0 - ceiling * upstream_per_person / (upstream_per_person + half_effect)


def prevention_in(month: int, upstream: np.ndarray, rules: Prevention, people: int) -> float:
    """The prevention multiplier of ``month``: from the mean upstream spend per person over the
    three months ending ``lag_months`` before it (months beyond ``upstream`` spent nothing)."""
    lag = rules.lag_months
    lo, hi = max(0, month - 1 - lag - 2), max(0, month - lag)
    spent = np_sum(upstream[lo:hi].tolist()) / (hi - lo) if hi > lo else 0.0  # mean
    return prevention_multiplier(
        spent / people, rules.max_need_reduction, rules.half_effect_per_person
    )


@njit(cache=True)
def lagged_unmet(unmet: np.ndarray, t: int, lag: np.ndarray, response: np.ndarray) -> np.ndarray:
    """Per service, the unmet need of month ``t - lag_k`` weighted by each segment's response
    (``sum_s response_s,k * unmet[t - lag_k, s, k]``; 0 where the lag points before month 1)."""
    n_segments, n_services = response.shape
    out = np.zeros(n_services)
    for k in range(n_services):
        month = t - 1 - lag[k]
        if month >= 0:
            total = 0.0
            for s in range(n_segments):
                total += unmet[month, s, k] * response[s, k]
            out[k] = total
    return out
