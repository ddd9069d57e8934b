"""What every section's data function starts from: the study, and figures as the page embeds
them.

`Study` holds a loaded results folder and the frames more than one section reads (the ranked
summary, the what-to-fund outcomes, the return on the pool, the parties' accounts), each computed once.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
from matplotlib.figure import Figure as MplFigure

from poolpilot.report import accounts, figures, series, tables, verdict
from poolpilot.report.data import ReportData
from poolpilot.report.palette import Colours

#: Designs per block of a wide table (fits a portrait page).
DESIGNS_PER_TABLE = 6


@dataclass(frozen=True)
class Figure:
    """A figure as the page embeds it: SVG in a data URL, at its print size."""

    src: str
    alt: str
    caption: str
    width: int
    height: int


def embed(fig: MplFigure, alt: str, caption: str = "") -> Figure:
    """SVG as a data URL in an <img>: no script, no id clashes between figures."""
    data = base64.b64encode(figures.svg(fig)).decode("ascii")
    width, height = fig.get_size_inches()
    return Figure(
        f"data:image/svg+xml;base64,{data}", alt, caption, round(width * 96), round(height * 96)
    )


def chunks(items: list[str], size: int = DESIGNS_PER_TABLE) -> list[list[str]]:
    """Designs in blocks of a table each."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)] or [[]]


class Study:
    """A loaded results folder with the frames more than one section reads, computed once."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.symbol = data.symbol
        self.summary, self.offered = tables.ranked_summary(data)

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        return verdict.outcome_frame(self.data)

    @cached_property
    def returns(self) -> tuple[pd.DataFrame, dict[str, str]]:
        return tables.pool_return(self.data)

    @cached_property
    def colours(self) -> Colours:
        """One colour per partner, service and design for every figure of the report."""
        return study_colours(self.data)

    @cached_property
    def accounts(self) -> pd.DataFrame:
        return accounts.party_accounts(self.data)

    @cached_property
    def months(self) -> dict[str, pd.DataFrame]:
        """Monthly series as medians and bands (`series.trajectories`)."""
        return series.trajectories(self.data)

    @cached_property
    def spend(self) -> dict[str, pd.DataFrame]:
        return series.spend_frames(self.data)

    @cached_property
    def activity(self) -> dict[str, pd.DataFrame]:
        return series.governance_frames(self.data)


def study_colours(data: ReportData) -> Colours:
    """The report's colours, from every partner, party, service and design of the study;
    account parties (``account:<party>:...`` columns) that are not payers count as
    partners."""
    ts = data.timeseries
    partners: set[str] = {"holder", "outside", "providers"}
    services: set[str] = set()
    payers: set[str] = set()
    if len(ts):
        names = ts.loc[ts["series"] == "trust", "partner"]
        partners |= set(names.dropna().astype(str))
        payers |= set(ts.loc[ts["series"] == "payer_spend", "partner"].dropna().astype(str))
        spent = ts.loc[ts["series"] == "unmet_need_share", "partner"]
        services |= set(spent.dropna().astype(str))
    for resolved in data.scenarios.values():
        payers |= {str(p.get("name")) for p in resolved.get("payers") or [] if p}
        providers = resolved.get("providers") or {}
        items = providers.values() if isinstance(providers, dict) else providers
        services |= {str(p.get("service")) for p in items if isinstance(p, dict)}
    services.discard("None")
    for column in data.runs.columns:
        if isinstance(column, str) and column.startswith("account:"):
            partners.add(column.split(":")[1])
    return Colours.of(partners | payers, services, data.labels, data.baselines, payers)
