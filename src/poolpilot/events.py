"""The audit trail: every decision, vote, challenge, escalation, review and exit.

"Who decided what, when, and on what evidence" is what funders ask (seed 003); each record
answers it with month, actor, action, target, amount, the rule that applied, the evidence, and
the outcome.
"""

from __future__ import annotations

import pandas as pd

from poolpilot.records import EVENT_COLUMNS


class EventLog:
    """Append-only list of audit records, turned into a table once at the end of a run."""

    def __init__(self) -> None:
        self.records: list[tuple] = []

    def log(
        self,
        month: int,
        actor: str,
        action: str,
        target: str,
        amount: float,
        rule: str,
        evidence: str,
        outcome: str,
    ) -> None:
        self.records.append((month, actor, action, target, float(amount), rule, evidence, outcome))

    def frame(self, run: str) -> pd.DataFrame:
        frame = pd.DataFrame(self.records, columns=EVENT_COLUMNS[1:])
        frame.insert(0, "run", run)
        return frame.astype({"month": "int64", "amount": "float64"})
