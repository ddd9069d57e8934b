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
    "clawback",  # holder or provider -> pool (recovered disallowed spend or under-service)
    "corridor_settlement",  # reserve/pool <-> provider (risk corridor)
    "shared_savings",  # bearer -> payer (gain sharing, outside the pool)
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
        total = inside = money_in = money_out = 0  # integer cents: one pass, exact
        for account, v in self.balances.items():
            total += v
            if account in INSIDE:
                inside += v
            elif v < 0:
                money_in -= v
            else:
                money_out += v
        if total != 0 or inside != expected_inside or money_in != money_out + inside:
            raise ConservationError(
                f"month {month}: money is not conserved: balances sum to {total / 100:.2f}, "
                f"pool and reserve hold {inside / 100:.2f} but the model expects "
                f"{expected_inside / 100:.2f}; in {money_in / 100:.2f}, "
                f"out {money_out / 100:.2f}"
            )


class Books:
    """The pilot's books: the ledger, and the model's own running total of money inside.

    Every flow in the model goes through :meth:`transfer` (or :meth:`pay`, which never pays
    more than the pool holds), so the monthly :meth:`check` compares two independent records.
    """

    def __init__(self) -> None:
        self.ledger = Ledger()
        self.inside_cents = 0  # what the pool and reserve hold, tracked apart from the ledger

    def transfer(self, month: int, kind: str, source: str, target: str, amount: float) -> float:
        """Post a flow; returns the amount moved (in currency units, whole cents)."""
        moved = self.ledger.post(month, kind, source, target, round(amount * 100))  # cents()
        if moved:
            if source in INSIDE:
                self.inside_cents -= moved
            if target in INSIDE:
                self.inside_cents += moved
        return moved / 100

    def pay(self, month: int, kind: str, target: str, amount: float) -> float:
        """Pay out of the pool, never more than it holds."""
        return self.pay_each(month, [(kind, target)], [amount])[0]

    def pay_each(
        self, month: int, routes: list[tuple[str, str]], amounts: list[float]
    ) -> list[float]:
        """Pay each ``(kind, target)`` its amount out of the pool in turn, never more than the
        pool holds: one call for the lines the pool pays every month of every run."""
        post, balances = self.ledger.post, self.ledger.balances
        paid = [0.0] * len(amounts)
        for i, amount in enumerate(amounts):
            if not amount > 0:
                continue
            kind, target = routes[i]
            moved = post(
                month, kind, "pool", target, round(min(amount, balances.get("pool", 0) / 100) * 100)
            )
            if moved:
                self.inside_cents -= moved
                if target in INSIDE:
                    self.inside_cents += moved
                paid[i] = moved / 100
        return paid

    def pay_from_reserve(self, month: int, target: str, amount: float) -> float:
        """Corridor settlements draw on the risk reserve first, then the pool."""
        from_reserve = min(amount, self.ledger.balance("reserve") / 100)
        paid = self.transfer(month, "corridor_settlement", "reserve", target, from_reserve)
        return paid + self.pay(month, "corridor_settlement", target, amount - paid)

    def balance(self, account: str) -> float:
        return self.ledger.balance(account) / 100

    def total(self, kind: str) -> float:
        """Everything posted under one kind of entry (contributions, administration, ...)."""
        return self.ledger.totals[kind] / 100

    def check(self, month: int) -> None:
        self.ledger.check(month, self.inside_cents)
