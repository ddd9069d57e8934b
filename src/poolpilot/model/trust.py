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

import numpy as np


def update(
    trust: np.ndarray,
    signal: np.ndarray,
    initial: np.ndarray,
    gain_rate: float,
    loss_asymmetry: float,
    forgetting: float,
) -> np.ndarray:
    """One month of trust: move toward experience, losses faster than gains; stays in [0, 1]."""
    experience = 0.5 * (1.0 + np.clip(signal, -1.0, 1.0))
    gap = experience - trust
    rate = np.where(gap >= 0, gain_rate, min(1.0, gain_rate * loss_asymmetry))
    moved = trust + rate * gap + forgetting * (initial - trust)
    return np.clip(moved, 0.0, 1.0)


def effort(
    base_effort: np.ndarray, trust: np.ndarray, sensitivity: float, disengaged: np.ndarray
) -> np.ndarray:
    """Share of funded capacity delivered: falls with low trust, and more when disengaged."""
    out = base_effort * (1.0 - sensitivity * (1.0 - trust))
    return np.where(disengaged, out * 0.8, out)
