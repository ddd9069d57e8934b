"""The report's colours: one per partner, service and design, the same in every figure.

A reader who has learnt that Medicaid is orange in the trust figure must find it orange in the
who-pays figure too, so colours are not handed out figure by figure (first series blue,
second orange...) but once per report, from the study's names in a stable order
(`context.study_colours`). The first colours are Okabe & Ito's (2008), distinguishable under the
common colour-vision deficiencies; a study with more names than that goes on with Paul Tol's
muted scheme (also colour-blind safe) and then repeats colours (a figure that shows two
names of one colour together dashes the second). Grey
is kept for the status-quo baseline and for "others": no partner or design gets it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies. Yellow is
#: last: it is the hardest to see on white paper.
PALETTE = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#000000",  # black
    "#F0E442",  # yellow
]
#: After Okabe-Ito (without its yellow, too pale for a line): Paul Tol's muted scheme, also
#: colour-blind safe, so a study with many partners repeats no colour before the 14th name.
EXTENDED = PALETTE[:7] + ["#332288", "#CC6677", "#999933", "#882255", "#44AA99", "#DDCC77"]
GREY = "#999999"
#: Line styles that tell apart series of one colour.
DASHES = ["-", "--", ":", "-."]
#: Names drawn in grey: the status quo is the reference every pooled design is read against.
STATUS_QUO = "status quo"
#: The parties of the who-pays accounts besides the payers: first, so they keep one colour in
#: every study.
PARTIES = ("holder", "providers", "outside")


def colour(i: int) -> str:
    """The i-th colour of the extended palette (repeats after the last)."""
    return EXTENDED[i % len(EXTENDED)]


def dash(i: int) -> str:
    """The line style of the i-th name: solid for the first round of colours."""
    return DASHES[(i // len(EXTENDED)) % len(DASHES)]


def assign(names: Iterable[str], grey: Iterable[str] = ()) -> dict[str, str]:
    """A colour per name, in the order given (first seen wins); ``grey`` names get grey."""
    greys = set(grey)
    out: dict[str, str] = {}
    i = 0
    for name in dict.fromkeys(str(n) for n in names):
        if name in greys:
            out[name] = GREY
        else:
            out[name] = colour(i)
            i += 1
    return out


@dataclass(frozen=True)
class Colours:
    """Colours of a report's partners (and parties), services and designs.

    Each mapping is total over the names it was built from; `partner`, `service` and `design`
    fall back to grey for a name the study did not have (drawn, never in a new colour).
    """

    partners: Mapping[str, str] = field(default_factory=dict)
    services: Mapping[str, str] = field(default_factory=dict)
    designs: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        partners: Iterable[str] = (),
        services: Iterable[str] = (),
        designs: Iterable[str] = (),
        baselines: Iterable[str] = (),
        payers: Iterable[str] = (),
    ) -> Colours:
        """Colours from names: the parties first, then the payers sorted, then the other
        partners sorted (so the who-pays figure's parties and payers never share a colour),
        services sorted, designs in the order given (baselines grey)."""
        partners = set(map(str, partners))
        paying = sorted(set(map(str, payers)) - set(PARTIES) - {STATUS_QUO})
        names = [p for p in PARTIES if p in partners] + paying
        names += sorted(partners - set(names) - set(PARTIES) - {STATUS_QUO})
        names.append(STATUS_QUO)
        return cls(
            partners=assign(names, grey=[STATUS_QUO]),
            services=assign(sorted(set(map(str, services)))),
            designs=assign(designs, grey=baselines),
        )

    def partner(self, name: str) -> str:
        return self.partners.get(str(name), GREY)

    def service(self, name: str) -> str:
        return self.services.get(str(name), GREY)

    def design(self, name: str) -> str:
        return self.designs.get(str(name), GREY)
