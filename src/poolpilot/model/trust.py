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

from poolpilot.model.challenges import unfairness
from poolpilot.model.smallarrays import clip, ratio, some

if TYPE_CHECKING:
    from poolpilot.model.interface import Pilot

#: Procedural fairness of each kind of challenge right (formal with a ladder: see below).
RIGHTS_SIGNAL = {"formal": 0.1, "informal": 0.0, "none": -0.3}


def update(
    trust: np.ndarray,
    signal: np.ndarray,
    initial: np.ndarray,
    gain_rate: float,
    loss_asymmetry: float,
    forgetting: float,
) -> np.ndarray:
    """One month of trust: move toward experience, losses faster than gains; stays in [0, 1]."""
    experience = 0.5 * (1.0 + clip(signal, -1.0, 1.0))
    gap = experience - trust
    rate = np.where(gap >= 0, gain_rate, min(1.0, gain_rate * loss_asymmetry))
    moved = trust + rate * gap + forgetting * (initial - trust)
    return clip(moved, 0.0, 1.0)


def effort(
    base_effort: np.ndarray, trust: np.ndarray, sensitivity: float, disengaged: np.ndarray
) -> np.ndarray:
    """Share of funded capacity delivered: falls with low trust, and more when disengaged."""
    out = base_effort * (1.0 - sensitivity * (1.0 - trust))
    return np.where(disengaged, out * 0.8, out)


def grievance(m: Pilot, t: int) -> np.ndarray:
    """Each line's unfunded work this month, as a share of what it did (paid and unpaid)."""
    burden, paid = m.line_burden[t - 1], m.line_spend[t - 1]
    return ratio(burden, burden + paid, where=burden > 0)


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
    # fairness against the others (its need-fair share of the budget), less the grievance of
    # unfunded work (how far funding falls short of need itself weighs on its standing)
    fairness = clip(1.0 - 4.0 * unfairness(m.allocation, m.fair), -1.0, 1.0)
    if some(m.line_burden[t - 1]):  # otherwise no grievance (0 is taken off)
        fairness -= m.design.trust.burden_grievance * grievance(m, t)
    rights = RIGHTS_SIGNAL[gov.challenges.rights]
    if gov.challenges.rights == "formal" and gov.escalation.tiers:
        rights = 0.3
    procedural = np.full(m.n_lines, rights + (0.2 if gov.decision_rights.enabled else -0.1))
    if not seen.quiet:  # in a quiet month these terms are exactly zero, and not computed
        procedural += 0.5 * seen.consulted + 0.5 * seen.overturned - 0.3 * seen.upheld_against
        procedural -= 0.5 * (seen.unconsulted_cut > 0.02)
    spend = m.line_spend[t - 2] if t > 1 else m.allocation
    total = spend.sum()
    own_share = spend[m.line_own].sum() / total if total > 0 else 0.0
    procedural -= own_share * (1.0 - gov.coi_controls)
    open_data = 2.0 * m.visibility - 1.0
    return 0.45 * fairness + 0.3 * procedural + 0.25 * open_data


def payer_signal(m: Pilot, t: int) -> np.ndarray:
    """Each payer's signal: open data and statements, independent assurance, visible results."""
    gov = m.design.governance
    recent = (m.unmet[max(0, t - 3) : t] * m.service_unit_cost).sum()
    need = (m.true_need[max(0, t - 3) : t] * m.service_unit_cost).sum()
    results = 1.0 - 4.0 * (recent / need if need > 0 else 0.0)
    # a payer counts on financial statements once it has received one (at reconciliation)
    assured = np.where(m.accounts.statement_seen, 0.4, -0.2)
    assured += 0.2 if gov.assurance.enabled else 0.0
    signal = 0.35 * (2.0 * gov.transparency - 1.0) + 0.3 * assured
    signal += 0.35 * results * (0.3 + 0.7 * gov.transparency)
    return signal
