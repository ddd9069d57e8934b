"""The state the rules act on: partners' experience, payers' accounts, the envelope year, and
every party's account of what it bore (``Parties``).

Plain containers with verbs, importing nothing else of the model, so the rules' interface
(``interface.py``) can name them without a cycle.
"""

from __future__ import annotations

import numpy as np

from poolpilot.model.smallarrays import np_sum


class Experience:
    """What each line went through this month, as the rules report it; trust reads it.

    Reset at the start of every month. Rules call the verbs (a partner was consulted, a cut
    was made without asking, a challenge won or lost); the trust update turns them into the
    procedural part of the partner's signal.
    """

    def __init__(self, n_lines: int) -> None:
        self.n_lines = n_lines
        self.quiet = False
        self.reset()

    def reset(self) -> None:
        if self.quiet:  # nothing was reported last month: every array is still all zero
            return
        n = self.n_lines
        self.consulted = np.zeros(n, dtype=bool)
        self.unconsulted_cut = np.zeros(n)
        self.overturned = np.zeros(n, dtype=bool)
        self.upheld_against = np.zeros(n, dtype=bool)
        #: no rule has reported anything this month (the procedural terms are all zero)
        self.quiet = True

    def consult(self, line: int) -> None:
        self.quiet = False
        self.consulted[line] = True

    def cut_without_asking(self, line: int, share: float) -> None:
        """A cut of ``share`` of its allocation, decided without consulting the partner."""
        self.quiet = False
        self.unconsulted_cut[line] = max(self.unconsulted_cut[line], share)

    def won_challenge(self, line: int) -> None:
        self.quiet = False
        self.overturned[line] = True

    def lost_challenge(self, line: int) -> None:
        self.quiet = False
        self.upheld_against[line] = True


class PayerAccounts:
    """Each payer's unspent share of the pool, its spend this period, and its hidden findings.

    ``vintages[seat]`` holds the disallowed spend charged to a payer and not yet found, as
    ``[month, amount]`` pairs.
    """

    def __init__(self, n_payers: int) -> None:
        self.balance = np.zeros(n_payers)
        self.period_spend = np.zeros(n_payers)
        self.statement_seen = np.zeros(n_payers, dtype=bool)
        self.vintages: list[list[list[float]]] = [[] for _ in range(n_payers)]

    def deposit(self, seat: int, amount: float) -> None:
        """A contribution, net of administration and reserve, becomes the payer's to spend."""
        self.balance[seat] += amount

    def charge(self, amounts: np.ndarray) -> None:
        """Spend charged to payers (one amount per payer)."""
        self.balance -= amounts
        self.period_spend += amounts

    def credit(self, amounts: np.ndarray | float, seat: int | None = None) -> None:
        """Money back to a payer's share (a clawback, a corridor repayment) or taken out."""
        if seat is None:
            self.balance += amounts
        else:
            self.balance[seat] += amounts

    def hide(self, seat: int, month: int, amount: float) -> None:
        """Disallowed spend waits, undetected, until something finds it."""
        self.vintages[seat].append([month, amount])

    def search(
        self, seat: int, month: int, power: float, rng: np.random.Generator
    ) -> tuple[float, list[int]]:
        """Look through a payer's hidden spend: each vintage is found with chance ``power``.

        Returns the amount found and, for each vintage found, the months it lay hidden.
        """
        found = 0.0
        kept = []
        lags = []
        for vintage in self.vintages[seat]:
            if power >= 1.0 or rng.random() < power:
                found += vintage[1]
                lags.append(month - vintage[0])
            else:
                kept.append(vintage)
        self.vintages[seat] = kept
        return found, lags

    def any_hidden(self) -> bool:
        return any(self.vintages)

    def hidden(self, seat: int) -> float:
        return sum(v[1] for v in self.vintages[seat])

    def close_period(self, seat: int) -> None:
        self.period_spend[seat] = 0.0


class EnvelopeYear:
    """The budget year so far, per line: cost, envelope paid, cost of demand; and margins kept.

    ``provider_margin`` is what providers kept of underspends (cumulative, repaid through the
    corridor when they overspend), ``burden_offset`` what corridors paid back for unfunded
    work, ``adjusted`` whether this year's envelopes were already adjusted in year.
    """

    def __init__(self, n_lines: int) -> None:
        self.ytd_cost = np.zeros(n_lines)
        self.ytd_envelope = np.zeros(n_lines)
        self.ytd_demand_cost = np.zeros(n_lines)
        self.provider_margin = np.zeros(n_lines)
        self.burden_offset = 0.0
        self.adjusted = False

    def book(self, cost: np.ndarray, envelope: np.ndarray, demand_cost: np.ndarray) -> None:
        self.ytd_cost += cost
        self.ytd_envelope += envelope
        self.ytd_demand_cost += demand_cost

    def keep(self, margin: np.ndarray) -> None:
        self.provider_margin += margin

    def new_year(self) -> None:
        self.ytd_cost[:] = 0.0
        self.ytd_envelope[:] = 0.0
        self.ytd_demand_cost[:] = 0.0


class Parties:
    """Per party and month: acute cost borne, boundary delays, contract costs, the benchmark.

    Rows of the monthly tables are months (0 = month 1), columns parties in ``names`` order.
    """

    def __init__(self, names: list[str], horizon: int) -> None:
        self.names = names
        n = len(names)
        self.acute = np.zeros((horizon, n))
        self.delays = np.zeros((horizon, n))
        self.contracts = np.zeros((horizon, n))
        self.benchmark = np.zeros((horizon, n))
        # acute cost after the run's last month that its last months cause (bear_after_end)
        self.acute_after = np.zeros(n)
        self.paid_in = np.zeros(n)
        self.refunded = np.zeros(n)
        self.shared = np.zeros(n)  # savings shared with it (negative: what it shared out)
        self.shared_history = np.zeros((horizon, n))

    def index(self, party: str) -> int:
        return self.names.index(party)

    def savings(self, month: int, months: int = 12) -> np.ndarray:
        """Each party's acute cost below its benchmark over the last ``months`` to ``month``."""
        lo = max(0, month - months)
        return (self.benchmark[lo:month] - self.acute[lo:month]).sum(axis=0)

    def share_savings(
        self, month: int, contributions: np.ndarray, share: float, minimum_rate: float
    ) -> list[tuple[int, int, float]]:
        """A year's gain sharing: each bearer passes ``share`` of its savings (when above the
        minimum savings rate of its benchmark) to the payers, by what they contributed.

        ``contributions`` holds each payer's contribution over the year (its first entries are
        the payers). Returns the transfers as (from party, to party, amount).
        """
        n_payers = contributions.size
        if contributions.sum() <= 0:
            return []
        lo = max(0, month - 12)
        bench = self.benchmark[lo:month].sum(axis=0)
        saved = self.savings(month)
        holder = self.index("holder")
        transfers = []
        for bearer in [*range(n_payers), holder]:
            if saved[bearer] <= max(minimum_rate * bench[bearer], 0.0) or saved[bearer] <= 0:
                continue
            pot = share * saved[bearer]
            for seat in range(n_payers):
                amount = pot * contributions[seat] / contributions.sum()
                if seat != bearer and amount > 0:
                    transfers.append((bearer, seat, amount))
        for source, target, amount in transfers:
            self.shared[source] -= amount
            self.shared[target] += amount
            self.shared_history[month - 1, source] -= amount
            self.shared_history[month - 1, target] += amount
        return transfers

    def own_return(self, seat: int, month: int, contribution: float) -> float:
        """A payer's savings of its own over the last year, with what was shared with it, per
        unit it contributed (0 when it contributed nothing)."""
        if contribution <= 0:
            return 0.0
        lo = max(0, month - 12)
        shared = np_sum(self.shared_history[lo:month, seat].tolist())
        # this party's column of ``savings(month)``: numpy sums a column of a table of
        # several parties month after month, left to right
        saved = 0.0
        for bench, acute in zip(
            self.benchmark[lo:month, seat].tolist(),
            self.acute[lo:month, seat].tolist(),
            strict=True,
        ):
            saved += bench - acute
        return (saved + shared) / contribution
