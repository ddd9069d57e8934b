"""Challenges and escalation, each on a small case with a hand-known answer."""

from __future__ import annotations

from cases import LADDER, cut_first_line, events_of, governed

from poolpilot.model import PilotModel
from poolpilot.scenario import validate_data
from tiny import tiny_data


def test_a_formal_challenge_climbs_the_ladder_with_each_tiers_delay():
    m = governed(
        {"challenges": {"rights": "formal", "propensity": 50}, "escalation": {"tiers": LADDER}}
    )
    m.step()
    m.trust[0] = 0.0  # a partner with no trust left always presses on
    cut_first_line(m, 0.3)
    (challenge,) = events_of(m, "challenge")
    assert challenge[0] == 1 and challenge[-1] == "frontline"
    m.trust[0] = 0.0
    for _ in range(7):
        m.trust[0] = 0.0
        m.step()
    steps = [(e[0], e[3]) for e in events_of(m, "escalate")]
    assert steps == [(2, "contract_management"), (4, "system_governance")]
    final = events_of(m, "escalation_decision")
    assert [(e[0], e[1], e[-1]) for e in final] == [(7, "system_governance", "upheld")]
    assert m.tally.counts["escalations"] == 2


def test_an_unfair_cut_is_overturned_when_a_tier_always_overturns():
    ladder = [{"name": "frontline", "delay_months": 1, "overturn_probability": 1.0}]
    m = governed(
        {
            "challenges": {"rights": "formal", "propensity": 50},
            "transparency": 1.0,
            "escalation": {"tiers": ladder},
        }
    )
    m.step()
    before = m.allocation[0]
    cut_first_line(m, 0.3)
    m.step()
    assert [e[-1] for e in events_of(m, "escalation_decision")] == ["overturned"]
    assert m.allocation[0] == before
    assert m.tally.counts["disputes_upheld"] == 1


def test_without_challenge_rights_no_challenge_is_possible():
    m = governed({"challenges": {"rights": "none", "propensity": 50}})
    m.step()
    for _ in range(5):
        cut_first_line(m, 0.3)
        m.step()
    assert not events_of(m, "challenge")
    assert m.tally.counts["disputes_raised"] == 0


def test_informal_challenges_have_no_tiers():
    m = governed(
        {"challenges": {"rights": "informal", "propensity": 50}, "escalation": {"tiers": LADDER}}
    )
    m.step()
    m.trust[0] = 0.0
    cut_first_line(m, 0.3)
    assert events_of(m, "challenge")[0][-1] == "informal"


def test_transparency_limits_what_partners_challenge_and_enters_their_trust():
    def first_month(transparency: float) -> PilotModel:
        m = governed(
            {"transparency": transparency, "challenges": {"rights": "formal", "propensity": 1}}
        )
        m.step()
        return m

    opaque, open_ = first_month(0.0), first_month(1.0)
    assert opaque.visibility == 0.0 and open_.visibility == 1.0
    assert open_.trust[0] > opaque.trust[0]  # open data is part of the experience
    # the same unfair cut: harm seen through visibility 0.4 + 0.6 V, so challenges are likelier
    # when the data is open
    draws = {}
    for name, transparency in (("opaque", 0.0), ("open", 1.0)):
        raised = 0
        for seed in range(200):
            data = tiny_data(
                governance={
                    "transparency": transparency,
                    "challenges": {"rights": "formal", "propensity": 3},
                }
            )
            data["holder"] = {**data["holder"], "planning_cycle_months": 24}
            m = PilotModel(validate_data(data, "t"), rng=seed)
            m.step()
            cut_first_line(m, 0.3)
            raised += m.tally.counts["disputes_raised"]
        draws[name] = raised
    assert draws["open"] > draws["opaque"]
