"""The tally: what the rules count over a run, for the metrics to read at the end.

Rules report what happened (a dispute raised, a clawback recovered, a month of latency) by
calling these methods; they never reach into the model's attributes to do it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


class Tally:
    """Counts, money totals, samples (months of latency, ...) and peaks of one run."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)
        self.totals: dict[str, float] = defaultdict(float)
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.peaks: dict[str, float] = defaultdict(float)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] += n

    def add(self, name: str, amount: float) -> None:
        self.totals[name] += amount

    def note(self, name: str, *values: float) -> None:
        """Keep observations of a quantity (decision latency, detection lag) for its mean."""
        self.samples[name].extend(values)

    def peak(self, name: str, value: float) -> None:
        """Keep the largest value seen (the largest year-end adjustment)."""
        self.peaks[name] = max(self.peaks[name], value)

    def mean(self, name: str) -> float:
        """Mean of the observations of ``name``; 0 when there were none."""
        values = self.samples.get(name)
        return float(np.mean(values)) if values else 0.0
