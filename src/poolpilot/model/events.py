"""The audit trail: every decision, vote, challenge, escalation, review and exit.

"Who decided what, when, and on what evidence" is what funders ask (seed 003); each record
answers it with month, actor, action, target, amount, the rule that applied, the evidence, and
the outcome.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from poolpilot.model.records import EVENT_COLUMNS


class EventLog:
    """Append-only list of audit records, turned into a table once at the end of a run."""

    def __init__(self) -> None:
        self.records: list[tuple] = []

    def log(
        self,
        *,
        month: int,
        actor: str,
        action: str,
        target: str,
        amount: float = 0.0,
        rule: str,
        evidence: str,
        outcome: str,
    ) -> None:
        """Record one decision: who (actor) did what (action) to whom (target), by which rule.

        Keyword-only, so a record cannot silently swap its evidence and its outcome.
        """
        self.records.append((month, actor, action, target, float(amount), rule, evidence, outcome))

    def frame(self, run: str) -> pd.DataFrame:
        """The records as a table, built column by column (one copy, typed at once)."""
        n = len(self.records)
        columns = list(zip(*self.records, strict=True)) if n else [()] * 8
        data = {
            "run": np.full(n, run, dtype=object),
            "month": np.fromiter(columns[0], dtype=np.int64, count=n),
            "actor": np.array(columns[1], dtype=object),
            "action": np.array(columns[2], dtype=object),
            "target": np.array(columns[3], dtype=object),
            "amount": np.fromiter(columns[4], dtype=np.float64, count=n),
            "rule": np.array(columns[5], dtype=object),
            "evidence": np.array(columns[6], dtype=object),
            "outcome": np.array(columns[7], dtype=object),
        }
        return pd.DataFrame(data, columns=EVENT_COLUMNS)
