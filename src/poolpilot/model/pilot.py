"""PilotModel: one pooled-budget pilot, month by month.

Each month, in this order (DESIGN.md, docs/ODD.md): notices that end take effect; need is
realised; contributions arrive; the decision-maker proposes allocations; the governance rules
decide which changes stand or wait for approval (votes close), challenges climb the escalation
ladder, and grievances are revisited; providers deliver what funded capacity and effort allow;
unmet need and acute events are booked; reconciliation and assurance run when due; trust is
updated; partners renew, reduce, disengage or give notice.

The model knows nothing of files, the command line or reports: it takes a validated
``Scenario`` and a seed, and hands back metrics, a timeseries and audit events. The rules
(``decisions``, ``challenges``, ``attribution``, ``assurance``, ``prospective``, ``trust``)
reach it through the small interface in ``interface.py``: they read its arrays and act
through its verbs (``allocate``, the books, the tally, the partners' experience).
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from poolpilot.model import (
    accounts,
    assurance,
    attribution,
    delivery,
    membership,
    population,
    prospective,
    silos,
    trust,
)
from poolpilot.model.agents import Payer, Provider, normals, partner_stream
from poolpilot.model.challenges import Disputes
from poolpilot.model.decisions import Approvals
from poolpilot.model.events import EventLog
from poolpilot.model.holders import HOLDERS, BudgetHolder
from poolpilot.model.ledger import Books, Ledger
from poolpilot.model.smallarrays import ratio
from poolpilot.model.state import EnvelopeYear, Experience, Parties, PayerAccounts
from poolpilot.model.tally import Tally
from poolpilot.model.targeting import Targeting, response_matrix
from poolpilot.scenario.schema import Provider as ProviderSpec
from poolpilot.scenario.schema import Scenario

#: Months of capacity cost the holder's own lines can spend on unfunded work (as providers).
RESERVE_MONTHS = ProviderSpec.model_fields["reserve_months"].default


class PilotModel(mesa.Model):
    """A pooled-budget pilot under the governance rules of one scenario.

    Parameters
    ----------
    scenario
        A validated scenario (``poolpilot.load_scenario``).
    rng
        An integer seed or a ``numpy.random.SeedSequence``; never None, so every run can be
        reproduced. The population's need draws from a stream of its own (common random
        numbers): two designs with the same seed face the same need.
    months
        Run this many months instead of the scenario's horizon.
    holder
        The budget holder's class; by default the one registered for the scenario's
        ``holder.kind`` in ``HOLDERS``. A subclass of ``BudgetHolder`` changes how the holder
        sees need or proposes, without touching the rest of the model.
    """

    def __init__(
        self,
        scenario: Scenario,
        rng: int | np.random.SeedSequence,
        months: int | None = None,
        holder: type[BudgetHolder] | None = None,
    ):
        if rng is None:
            raise ValueError("PilotModel needs an explicit seed (rng=int or SeedSequence)")
        seq = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(int(rng))
        # need, the model's own draws, and the partners' streams (keyed by name under this one)
        need_seq, decision_seq, self._partner_seq = seq.spawn(3)
        super().__init__(rng=np.random.default_rng(decision_seq))
        self.design = scenario
        self.horizon = months or scenario.horizon_months
        self.events = EventLog()
        self.books = Books()
        self.tally = Tally()
        self.ended_month: int | None = None

        self.service_names = [sv.name for sv in scenario.services]
        self.need = population.draw_need(scenario, np.random.default_rng(need_seq), self.horizon)
        self._build_lines()
        self._build_payers()
        self.holder = (holder or HOLDERS[scenario.holder.kind])(self)
        if not self.holder.pooled:  # each payer codes its own contracts
            self.line_approved[:] = True
        self.disputes = Disputes(self)
        self.approvals = Approvals(self, self.disputes)
        self._build_acute()
        self._build_records()

    @property
    def month(self) -> int:
        """The current month (1 = the first), Mesa's own step counter."""
        return self.steps

    @property
    def envelopes_set(self) -> bool:
        """A prospective budget in force: the pool sets envelopes (not after an early end)."""
        return self.design.budget.basis == "prospective" and self.holder.pooled

    @property
    def ledger(self) -> Ledger:
        """The ledger of every flow (its entries and totals), kept by the books."""
        return self.books.ledger

    # --- construction -------------------------------------------------------------------

    def _build_lines(self) -> None:
        s = self.design
        idx = {name: i for i, name in enumerate(self.service_names)}
        # lines and payers in name order, whatever their order in the file
        specs = [(p, p.name, False) for p in s.providers] + [
            (line, f"{s.holder.name}:{line.service}", True) for line in s.holder.own_lines
        ]
        specs.sort(key=lambda spec: spec[1])
        self.n_lines = len(specs)
        self.lines = [
            Provider(self, spec, i, name, own, partner_stream(self._partner_seq, name))
            for i, (spec, name, own) in enumerate(specs)
        ]
        self.line_names = [name for _, name, _ in specs]
        self.disengage_threshold = np.array([line.disengage_threshold for line in self.lines])
        self.line_own = np.array([own for _, _, own in specs], dtype=bool)
        self.pay_routes = delivery.pay_routes(self)
        self.line_service = np.array([idx[spec.service] for spec, _, _ in specs], dtype=int)
        self.line_capacity = np.array([spec.capacity for spec, _, _ in specs], dtype=float)
        self.line_unit_cost = np.array(
            [s.services[idx[spec.service]].unit_cost for spec, _, _ in specs], dtype=float
        )
        self.line_demand_bias = np.array(
            [0.0 if own else spec.demand_bias for spec, _, own in specs], dtype=float
        )
        self.line_base_effort = np.array([spec.base_effort for spec, _, _ in specs], dtype=float)
        # the effort contracts and the holder's leverage enforce at full trust (delivery.py)
        base = self.line_base_effort
        self.contracted_effort = base + (1.0 - base) * 0.8 * s.holder.leverage
        reserve_months = np.array(
            [getattr(spec, "reserve_months", RESERVE_MONTHS) for spec, _, _ in specs], dtype=float
        )
        self.line_reserve_size = reserve_months * self.line_capacity * self.line_unit_cost
        self.line_reserve = self.line_reserve_size.copy()
        self.line_active = np.ones(self.n_lines, dtype=bool)
        self._capacity_of = b""  # the lines active when _capacity was last worked out
        # whether a line's allocation was approved by a vote (set-up counts when a decision-
        # rights matrix was agreed with it); unapproved spend can be miscoded (attribution)
        self.line_approved = np.full(self.n_lines, s.governance.decision_rights.enabled)
        self.line_community = np.array(
            [s.services[k].kind == "community" for k in self.line_service], dtype=bool
        )
        self.trust_initial = np.array(
            [1.0 if own else spec.initial_trust for spec, _, own in specs], dtype=float
        )
        self.trust = self.trust_initial.copy()
        n = self.n_lines
        self.allocation = np.zeros(n)
        self.fair = np.zeros(n)
        self.disengaged = np.zeros(n, dtype=bool)
        self.line_need_history = np.zeros((self.horizon, n))
        self.envelopes = EnvelopeYear(n)
        self.experience = Experience(n)
        segs = s.population.segments
        self.mean_trend = float(
            np.average([g.trend for g in segs], weights=[g.size + 1 for g in segs])
        )
        self.people = max(1, sum(g.size for g in segs))
        self.access_difficulty = np.array([g.access_difficulty for g in segs])

    def _build_payers(self) -> None:
        s = self.design
        specs = sorted(s.payers, key=lambda p: p.name)
        self.payers = [
            Payer(self, spec, i, partner_stream(self._partner_seq, spec.name))
            for i, spec in enumerate(specs)
        ]
        self.n_payers = len(self.payers)
        self.payer_names = [p.name for p in self.payers]
        self.payer_trust = np.array([p.initial_trust for p in specs], dtype=float)
        self.payer_initial = self.payer_trust.copy()
        # lines then payers: the order of the trust update's arrays
        self.partners: list[Provider | Payer] = [*self.lines, *self.payers]
        self.partners_initial = np.concatenate((self.trust_initial, self.payer_initial))
        self.payer_active = np.ones(self.n_payers, dtype=bool)
        self.payer_earmarked = np.array([p.earmarked for p in specs], dtype=bool)
        allows = np.zeros((self.n_payers, len(self.service_names)), dtype=bool)
        for i, p in enumerate(specs):
            if p.allowable_uses == "all":
                allows[i] = True
            else:
                for name in p.allowable_uses:
                    allows[i, self.service_names.index(name)] = True
        self.payer_allows = allows
        # per service, the payers that may pay for it (the attribution rule walks these)
        self.payer_allows_lists = [
            np.flatnonzero(allows[:, k]).tolist() for k in range(allows.shape[1])
        ]
        self.payer_earmarked_lists = [
            [i for i in seats if specs[i].earmarked] for seats in self.payer_allows_lists
        ]
        self.accounts = PayerAccounts(self.n_payers)
        self.initial_funding = math.fsum(p.annual_contribution for p in specs)

    def _build_acute(self) -> None:
        s = self.design
        events = [ev.name for ev in s.acute_events]
        self.acute_names = events
        self.acute_baseline = population.baseline_acute(s)
        self.acute_unit_cost = np.array([ev.unit_cost for ev in s.acute_events], dtype=float)
        n_svc = len(self.service_names)
        self.elasticity = np.zeros((n_svc, len(events)))
        self.acute_lag = np.array([sv.lag_months for sv in s.services], dtype=int)
        for k, sv in enumerate(s.services):
            if sv.averts is not None:
                self.elasticity[k, events.index(sv.averts)] = sv.elasticity
        # each segment's response to each service, and where delivery is aimed (targeting.py)
        self.response = response_matrix(s)
        self.targeting = Targeting(s, self.response, self.elasticity, self.acute_unit_cost)
        self.community_service = np.array([sv.kind == "community" for sv in s.services])
        self.service_unit_cost = np.array([sv.unit_cost for sv in s.services], dtype=float)
        # who pays for what: the parties, the status quo's silos, the boundary between budgets
        self.parties = Parties(silos.party_names(self), self.horizon)
        self.bearers = silos.bearer_matrix(self)
        self.beds = silos.bed_matrix(self)
        self.silo_split = silos.funding_split(self)
        self.silo_value = silos.valuation(self)
        self.delay_days = silos.delay_days(self)
        self.prevention_stake = silos.prevention_stake(self)
        self.status_quo_cover = np.zeros(n_svc)
        self.contributed = np.zeros((self.horizon, self.n_payers))

    def _build_records(self) -> None:
        h, n_seg, n_svc = self.need.shape
        self.unmet = np.zeros((h, n_seg, n_svc))
        self.met_need = np.zeros((h, n_seg, n_svc))
        self.true_need = np.zeros((h, n_seg, n_svc))
        self.acute = np.zeros((h, len(self.acute_names)))
        self.acute_after = np.zeros(len(self.acute_names))  # after the end: bear_after_end
        self.upstream = np.zeros(h)
        self.line_spend = np.zeros((h, self.n_lines))
        self.line_burden = np.zeros((h, self.n_lines))
        self.funded_cost_by_service = np.zeros((h, n_svc))
        self.payer_spend = np.zeros((h, self.n_payers))
        self.trust_history = np.zeros((h, self.n_lines))
        self.payer_trust_history = np.zeros((h, self.n_payers))
        self.pool_history = np.zeros((h, 2))
        self.budget_history = np.zeros(h)
        self.cost_incurred = np.zeros(h)
        self.funded_demand = np.zeros(h)
        self.funded_delivered = np.zeros(h)
        self.planned_spend = np.zeros(h)

    def _realise_need(self, t: int) -> np.ndarray:
        """This month's need (segments x services), after prevention, and its split by line."""
        self.prevention = population.prevention_in(
            t, self.upstream, self.design.prevention, self.people
        )
        need = self.need[t - 1] * self.prevention
        self.true_need[t - 1] = need
        by_service = need.sum(axis=0)
        self.line_need_history[t - 1] = by_service[self.line_service] * self._capacity()[0]
        return need

    def _capacity(self) -> tuple[np.ndarray, np.ndarray]:
        """Each line's share of its service's active capacity (the share of the service's
        need it meets), and what its capacity costs a month (0 once it has left). Worked out
        again only when a line has joined or left."""
        active = self.line_active.tobytes()
        if active != self._capacity_of:
            cap = self.line_capacity * self.line_active
            n_svc = len(self.service_names)
            den = np.bincount(self.line_service, weights=cap, minlength=n_svc)[self.line_service]
            cost = self.line_capacity * self.line_unit_cost * self.line_active
            self._capacity_now = ratio(cap, den, where=den > 0), cost
            self._capacity_of = active
        return self._capacity_now

    def _collect_contributions(self, t: int) -> None:
        b = self.design.budget
        admin, reserve = (b.admin_share, b.reserve_share) if self.holder.pooled else (0.0, 0.0)
        for payer in self.payers:
            if not self.payer_active[payer.seat]:
                continue
            amount = self.books.transfer(
                t, "contribution", payer.name, "pool", payer.annual_contribution / 12.0
            )
            self.parties.paid_in[payer.seat] += amount
            self.contributed[t - 1, payer.seat] = amount
            self.books.transfer(t, "administration", "pool", "administration", amount * admin)
            self.books.transfer(t, "reserve", "pool", "reserve", amount * reserve)
            self.accounts.deposit(payer.seat, amount * (1.0 - admin - reserve))
        budget = self.monthly_budget()
        need_cost = self.line_need_history[t - 1] * self.line_unit_cost * self.line_active
        cap = self._capacity()[1]
        total = need_cost.sum()
        self.fair = (
            np.minimum(budget * need_cost / total, cap) if total > 0 else np.zeros(self.n_lines)
        )
        self.budget_history[t - 1] = budget

    def _plan(self, t: int) -> None:
        """The decision-maker proposes; governance decides what stands."""
        s = self.design
        budget = self.budget_history[t - 1]  # set when contributions arrived this month
        if self.envelopes_set:
            if (t - 1) % 12 != 0:
                prospective.adjust_in_year(self, t)
                return
            if t > 1 and not s.budget.rebasing:
                return
            forecast = prospective.forecast_envelope(self, t) / 12.0
            total = forecast.sum()
            # the envelopes shrink to the budget, never grow; dividing only when the budget
            # is the smaller keeps a tiny forecast from overflowing (the same values)
            scale = (budget / total if budget < total else 1.0) if total > 0 else 0.0
            proposal = self.holder.propose(t, budget, need_cost=forecast * scale)
            proposal *= min(1.0, forecast.sum() * scale / max(proposal.sum(), 1.0))
        elif (t - 1) % s.holder.planning_cycle_months == 0:
            proposal = self.holder.propose(t, budget)
        else:
            return
        if t == 1:  # the starting allocation is agreed when the pilot is set up
            self.allocate(t, proposal, f"holder.kind={s.holder.kind}", "agreed at set-up")
        else:
            self.approvals.decide(t, proposal)

    def _book_outcomes(self, t: int, need: np.ndarray, delivered: np.ndarray) -> None:
        """Delivered service reaches segments; unmet need raises acute events after a lag."""
        n_svc = len(self.service_names)
        by_service = np.bincount(self.line_service, weights=delivered, minlength=n_svc)
        drift = self.holder.outreach_drift()
        # without drift every segment's need is in reach (need * 1.0 is need, exactly)
        reach = need * (1.0 - drift * self.access_difficulty)[:, None] if drift else need
        # the design's targeting rule divides each service's delivery among segments
        supply = np.minimum(by_service, need.sum(axis=0))
        served = self.targeting.serve(need, reach, supply)
        self.met_need[t - 1] = served
        self.unmet[t - 1] = np.maximum(need - served, 0.0)
        # unmet need of each service in the month its lag points back to (0 before month 1),
        # weighted by each segment's response to the service
        lagged = population.lagged_unmet(self.unmet, t, self.acute_lag, self.response)
        self.acute[t - 1] = self.acute_baseline * self.prevention + lagged @ self.elasticity

    # --- the verbs the rules act through ------------------------------------------------

    def monthly_budget(self) -> float:
        """What the pool can spend on services each month, after administration and reserve."""
        b = self.design.budget
        funding = sum(p.annual_contribution for p in self.payers if self.payer_active[p.seat])
        if not self.holder.pooled:
            return funding / 12.0
        return funding / 12.0 * (1.0 - b.admin_share - b.reserve_share)

    def allocate(self, month: int, levels: np.ndarray, rule: str, evidence: str) -> None:
        """Put new allocations in force; every changed line leaves an ``allocate`` event.

        The event's amount is the new monthly level, so the allocation history of every line
        can be rebuilt from the events alone.
        """
        levels = np.maximum(np.asarray(levels, dtype=float), 0.0)  # a new array: ours to keep
        for line in (levels != self.allocation).nonzero()[0]:
            self.events.log(
                month=month,
                actor=self.holder.name,
                action="allocate",
                target=self.line_names[line],
                amount=levels[line],
                rule=rule,
                evidence=evidence,
                outcome="in force",
            )
        self.allocation = levels

    def surprise_payers(self, cut: np.ndarray) -> None:
        """Findings cut payers' trust at once, by ``cut`` (a share per payer)."""
        self.payer_trust *= 1.0 - cut

    @property
    def visibility(self) -> float:
        """What partners can see: the transparency rule, raised by joint performance review."""
        gov = self.design.governance
        v = gov.transparency
        if gov.joint_review.enabled:
            v += (1.0 - v) * 0.5
        return v

    # --- the month ----------------------------------------------------------------------

    def step(self) -> None:
        """One month of the pilot, in the order of DESIGN.md (Mesa counts ``steps``)."""
        t = self.month
        self.experience.reset()
        membership.leave(self, t)
        need = self._realise_need(t)
        self._collect_contributions(t)
        self._plan(t)
        self.approvals.vote(t)
        self.disputes.escalate(t)
        self.disputes.revisit(t)
        delivered = delivery.deliver(self, t)
        self._book_outcomes(t, need, delivered)
        accounts.bear_costs(self, t)
        attribution.reconcile(self, t)
        assurance.assure(self, t)
        if self.envelopes_set and t % 12 == 0:
            prospective.settle_year(self, t)
            self.envelopes.adjusted = False
        self._update_trust(t)
        self._renew_and_exit(t)
        if t == self.horizon or not self.running:
            assurance.final_audit(self, t)
            accounts.bear_after_end(self, t)
        self.books.check(t)
        self._record(t)
        if t >= self.horizon:
            self.running = False

    def run(self) -> PilotModel:
        """Run to the horizon (or until the pilot ends early)."""
        while self.running and self.month < self.horizon:
            self.step()
        return self

    def _update_trust(self, t: int) -> None:
        rules = self.design.trust
        moves = self.line_active & ~self.line_own  # the holder's own lines trust it fully
        # each partner draws its noise from its own stream: lines and payers in one draw
        self.trust, self.payer_trust = trust.move(
            self.trust,
            self.payer_trust,
            np.concatenate((trust.partner_signal(self, t), trust.payer_signal(self, t))),
            rules.signal_noise * normals(self.partners),
            self.partners_initial,
            rules.gain_rate,
            rules.loss_asymmetry,
            rules.forgetting,
            self.experience.unconsulted_cut,
            1.0 - self.visibility,
            moves,
            self.payer_active,
        )
        # a partner disengages below its threshold and re-engages above it
        crossed = moves & ((self.trust < self.disengage_threshold) != self.disengaged)
        for line in crossed.nonzero()[0].tolist():
            below = not self.disengaged[line]
            self.disengaged[line] = below
            self.events.log(
                month=t,
                actor=self.line_names[line],
                action="disengage" if below else "re-engage",
                target=self.holder.name,
                rule="providers.disengage_threshold",
                evidence=f"trust {self.trust[line]:.2f}",
                outcome="disengaged" if below else "engaged",
            )

    def _renew_and_exit(self, t: int) -> None:
        gov = self.design.governance
        if gov.joint_review.enabled and t % gov.joint_review.frequency_months == 0:
            self.holder.answer_for(0.05)
            self.events.log(
                month=t,
                actor=self.holder.name,
                action="joint_review",
                target="partners",
                rule="governance.joint_review",
                evidence="shared data pack",
                outcome="reviewed",
            )
        self.holder.month_passes()
        accounts.share_savings(self, t)
        if t < self.horizon:
            # payers renew (reduce, or withdraw on exposure) in name order, through Mesa's
            # AgentSet; without a pool there is no membership for payers to renew
            if t % gov.renewal_months == 0 and self.holder.pooled:
                self.agents_by_type[Payer].do("review_membership", t)
            membership.review(self, t)
        funding_now = sum(
            p.annual_contribution
            for p in self.payers
            if self.payer_active[p.seat] and p.exit_month is None
        )
        if (
            self.holder.pooled
            and self.ended_month is None
            and funding_now < gov.viability_floor * self.initial_funding
        ):
            self.ended_month = t
            self.events.log(
                month=t,
                actor="pool",
                action="end",
                target="pilot",
                amount=funding_now,
                rule="governance.viability_floor",
                evidence=f"funding {funding_now:,.0f} below floor",
                outcome="ended early",
            )
            for payer in self.payers:
                if self.payer_active[payer.seat]:
                    membership.unwind(self, t, payer, counted=payer.exit_month is not None)
            if t < self.horizon:
                self._resume_status_quo(t)

    def _resume_status_quo(self, t: int) -> None:
        """After an early end each payer goes back to its own contracts (the status quo), so
        every run covers the whole horizon: the people still need care, and a pilot that
        collapsed must not look cheaper for the months it did not run."""
        self.holder.remove()
        self.holder = HOLDERS["none"](self)  # with the design's status_quo settings
        for payer in self.payers:
            payer.annual_contribution = payer.spec.annual_contribution
            payer.exit_month = None
            self.payer_active[payer.seat] = True
        self.delay_days = silos.delay_days(self)
        self.prevention_stake = silos.prevention_stake(self)
        self.events.log(
            month=t,
            actor="payers",
            action="status_quo",
            target="pilot",
            rule="governance.viability_floor",
            evidence="the pool ended",
            outcome="each payer funds its own contracts",
        )

    def _record(self, t: int) -> None:
        self.trust_history[t - 1] = self.trust
        self.payer_trust_history[t - 1] = self.payer_trust
        self.pool_history[t - 1] = (
            self.books.balance("pool"),
            self.books.balance("reserve"),
        )
