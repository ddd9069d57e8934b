"""Trust: how partners' trust in the budget holder (and payers' in the pool) moves.

Each month a partner's experience ``e`` in [0, 1] is built from signals in [-1, 1] (fair
funding for its need, procedural fairness, transparency, visible results) as ``e = (1 + s) / 2``.
Trust moves toward experience by exponential smoothing with an asymmetric rate: it rises at
``gain_rate`` and falls at ``gain_rate * loss_asymmetry`` (losses weigh more than gains:
Slovic 1993; 3:1 in Pant & Yu 2025, EVIDENCE.md section 6). ``forgetting`` pulls trust slowly back
toward where the partner started. Surprises (unexplained cuts, clawbacks, year-end shocks) cut
trust multiplicatively at once, where they happen (model.py, funding.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from poolpilot.model.challenges import unfairness
from poolpilot.model.smallarrays import clip_value, pairwise_sum

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot

#: Procedural fairness of each kind of challenge right (formal with a ladder: see below).
RIGHTS_SIGNAL = {"formal": 0.1, "informal": 0.0, "none": -0.3}


@njit(cache=True)
def update(
    trust: np.ndarray,
    signal: np.ndarray,
    initial: np.ndarray,
    gain_rate: float,
    loss_asymmetry: float,
    forgetting: float,
) -> np.ndarray:
    """One month of trust: move toward experience, losses faster than gains; stays in [0, 1]."""
    loss_rate = min(1.0, gain_rate * loss_asymmetry)
    moved = np.empty(trust.shape[0])
    for i in range(trust.shape[0]):
        experience = 0.5 * (1.0 + clip_value(signal[i], -1.0, 1.0))
        gap = experience - trust[i]
        rate = gain_rate if gap >= 0 else loss_rate
        moved[i] = clip_value(
            trust[i] + rate * gap + forgetting * (initial[i] - trust[i]), 0.0, 1.0
        )
    return moved


@njit(cache=True)
def move(
    lines: np.ndarray,
    payers: np.ndarray,
    signal: np.ndarray,
    noise: np.ndarray,
    initial: np.ndarray,
    gain_rate: float,
    loss_asymmetry: float,
    forgetting: float,
    unconsulted_cut: np.ndarray,
    hidden: float,
    lines_move: np.ndarray,
    payers_move: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The month's trust of lines and payers (``signal`` and ``noise``: lines, then payers):
    one update for both; a cut made without asking costs a line trust at once, less the more
    it can see (``hidden`` is one less visibility); only partners in ``*_move`` move."""
    n = lines.shape[0]
    moved = update(
        np.concatenate((lines, payers)),
        signal + noise,
        initial,
        gain_rate,
        loss_asymmetry,
        forgetting,
    )
    new_lines = lines.copy()
    for i in range(n):
        if lines_move[i]:  # no cut: a factor of exactly 1
            new_lines[i] = moved[i] * (1.0 - unconsulted_cut[i] * hidden)
    new_payers = payers.copy()
    for i in range(payers.shape[0]):
        if payers_move[i]:
            new_payers[i] = moved[n + i]
    return new_lines, new_payers


def effort(
    base_effort: np.ndarray, trust: np.ndarray, sensitivity: float, disengaged: np.ndarray
) -> np.ndarray:
    """Share of funded capacity delivered: falls with low trust, and more when disengaged."""
    out = base_effort * (1.0 - sensitivity * (1.0 - trust))
    return np.where(disengaged, out * 0.8, out)


def shortfall(m: Pilot, t: int) -> np.ndarray:
    """Each line's funding below its need (at most its capacity) this month, as a share of that
    need: what a provider's own account shows, whatever the budget."""
    need = np.minimum(m.line_need_history[t - 1], m.line_capacity) * m.line_unit_cost
    return unfairness(m.allocation, need * m.line_active)


def partner_signal(m: Pilot, t: int) -> np.ndarray:
    """Each line's signal this month: fair funding against the others, the unfunded work it
    carried, procedural fairness, open data.

    Procedural fairness counts the rights the rules give, being consulted, challenges won or
    lost, cuts made without asking, and the power imbalance of a holder that is also a large
    provider (Huxham & Vangen; seed 000), unless conflict-of-interest controls answer it.
    """
    gov = m.design.governance
    seen = m.experience
    rights = RIGHTS_SIGNAL[gov.challenges.rights]
    if gov.challenges.rights == "formal" and gov.escalation.tiers:
        rights = 0.3
    return _partner_signal(
        m.allocation,
        m.fair,
        m.line_burden[t - 1],
        m.line_spend[t - 1],
        m.design.trust.burden_grievance,
        rights + (0.2 if gov.decision_rights.enabled else -0.1),
        seen.consulted,
        seen.overturned,
        seen.upheld_against,
        seen.unconsulted_cut,
        m.line_spend[t - 2] if t > 1 else m.allocation,
        m.line_own,
        1.0 - gov.coi_controls,
        2.0 * m.visibility - 1.0,
    )


@njit(cache=True)
def _partner_signal(
    allocation,
    fair,
    burden,
    paid,
    burden_grievance,
    rights,
    consulted,
    overturned,
    upheld_against,
    unconsulted_cut,
    spend,
    own,
    uncontrolled,
    open_data,
):
    # the power imbalance: the holder's own lines' share of last month's spend
    total = pairwise_sum(spend)
    own_share = pairwise_sum(spend[own]) / total if total > 0 else 0.0
    signal = np.empty(allocation.shape[0])
    for i in range(allocation.shape[0]):
        # fairness against the others (its need-fair share of the budget), less the grievance
        # of unfunded work (how far funding falls short of need itself weighs on its standing)
        gap = clip_value((fair[i] - allocation[i]) / fair[i], 0.0, 1.0) if fair[i] > 0 else 0.0
        fairness = clip_value(1.0 - 4.0 * gap, -1.0, 1.0)
        if burden[i] > 0:
            fairness -= burden_grievance * (burden[i] / (burden[i] + paid[i]))
        procedural = rights + (0.5 * consulted[i] + 0.5 * overturned[i] - 0.3 * upheld_against[i])
        procedural -= 0.5 * (unconsulted_cut[i] > 0.02)
        procedural -= own_share * uncontrolled
        signal[i] = 0.45 * fairness + 0.3 * procedural + 0.25 * open_data
    return signal


def payer_signal(m: Pilot, t: int) -> np.ndarray:
    """Each payer's signal: open data and statements, independent assurance, visible results."""
    gov = m.design.governance
    first = max(0, t - 3)
    return _payer_signal(
        m.unmet[first:t],
        m.true_need[first:t],
        m.service_unit_cost,
        m.accounts.statement_seen,
        0.2 if gov.assurance.enabled else 0.0,
        gov.transparency,
    )


@njit(cache=True)
def _payer_signal(unmet, need, unit_cost, statement_seen, assurance, transparency):
    # visible results: the last three months' unmet need, as a share of need (at cost)
    recent = pairwise_sum((unmet * unit_cost).ravel())
    cost = pairwise_sum((need * unit_cost).ravel())
    results = 1.0 - 4.0 * (recent / cost if cost > 0 else 0.0)
    signal = np.empty(statement_seen.shape[0])
    for i in range(statement_seen.shape[0]):
        # a payer counts on financial statements once it has received one (at reconciliation)
        assured = (0.4 if statement_seen[i] else -0.2) + assurance
        signal[i] = 0.35 * (2.0 * transparency - 1.0) + 0.3 * assured
        signal[i] += 0.35 * results * (0.3 + 0.7 * transparency)
    return signal
