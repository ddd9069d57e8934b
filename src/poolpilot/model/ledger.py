"""The ledger: every flow of money is an entry, and money is conserved exactly.

Amounts are held in integer cents, so conservation is an exact equality, not a tolerance.
Accounts are either *inside* the pilot (the pool, the risk reserve) or *outside* it (payers,
providers, the holder, administration). The conservation check compares two independent
records: the running balances the model moves, and the sum of the entries posted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

#: The kinds of entry, one per kind of flow (names used in the events and the docs).
ENTRY_KINDS = (
    "contribution",  # payer -> pool
    "reserve",  # pool -> reserve (risk reserve set aside)
    "administration",  # pool -> administration (running the pool)
    "payment",  # pool -> provider (reimbursed activity or envelope installment)
    "own_line_spend",  # pool -> holder's own line
    "refund",  # pool -> payer (unwinding on exit)
    "clawback",  # holder or provider -> pool (recovered disallowed spend)
    "corridor_settlement",  # reserve/pool <-> provider (risk corridor)
)

INSIDE = ("pool", "reserve")


class ConservationError(RuntimeError):
    """Money appeared or vanished: the run stops, because every result after it is wrong."""


def cents(amount: float) -> int:
    """Round an amount to whole cents (the ledger's unit)."""
    return round(amount * 100)


@dataclass
class Ledger:
    """Double-entry ledger in cents, with the entries kept for the audit trail."""

    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    entries: list[tuple[int, str, str, str, int]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def post(self, month: int, kind: str, source: str, target: str, amount_cents: int) -> int:
        """Move money from ``source`` to ``target``; returns the amount moved (cents)."""
        if amount_cents <= 0:
            return 0
        self.balances[source] -= amount_cents
        self.balances[target] += amount_cents
        self.entries.append((month, kind, source, target, amount_cents))
        self.totals[kind] += amount_cents
        return amount_cents

    def balance(self, account: str) -> int:
        return self.balances.get(account, 0)

    def check(self, month: int, expected_inside: int) -> None:
        """Money in equals money out plus balances; the model's own running total must agree.

        ``expected_inside`` is what the model believes the pool and reserve hold, tracked by the
        model separately from the ledger; a payment that bypasses or half-posts shows up here.
        """
        total = sum(self.balances.values())
        inside = sum(self.balances.get(a, 0) for a in INSIDE)
        money_in = -sum(v for a, v in self.balances.items() if a not in INSIDE and v < 0)
        money_out = sum(v for a, v in self.balances.items() if a not in INSIDE and v > 0)
        if total != 0 or inside != expected_inside or money_in != money_out + inside:
            raise ConservationError(
                f"month {month}: money is not conserved: balances sum to {total / 100:.2f}, "
                f"pool and reserve hold {inside / 100:.2f} but the model expects "
                f"{expected_inside / 100:.2f}; in {money_in / 100:.2f}, "
                f"out {money_out / 100:.2f}"
            )
