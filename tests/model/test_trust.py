"""Trust: losses weigh more than gains; low trust disengages."""

from __future__ import annotations

import numpy as np
from cases import events_of, governed

from poolpilot.model import trust


def test_trust_loses_more_than_it_gains_from_equal_and_opposite_shocks():
    start = np.array([0.6])
    up = trust.update(start, np.array([0.6]), start, 0.1, 3.0, 0.0)
    down = trust.update(up, np.array([-0.6]), start, 0.1, 3.0, 0.0)
    assert down[0] < start[0]
    symmetric = trust.update(
        trust.update(start, np.array([0.6]), start, 0.1, 1.0, 0.0),
        np.array([-0.6]),
        start,
        0.1,
        1.0,
        0.0,
    )
    assert symmetric[0] > down[0]


def test_a_partner_below_its_threshold_disengages_and_delivers_less():
    m = governed({})
    m.step()
    m.trust[0] = 0.1  # below the default disengage threshold of 0.35
    m.step()  # trust is updated at the end of the month: it disengages now...
    assert m.disengaged[0]
    assert [e[-1] for e in events_of(m, "disengage")] == ["disengaged"]
    m.step()  # ...and delivers 20% less effort from the next month
    assert m.met_need[2, 0, 0] < m.met_need[0, 0, 0]
