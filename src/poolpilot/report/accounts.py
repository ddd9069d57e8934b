"""Who pays and who saves: each party's account in a pooled design against its baseline.

A pool can lower the total system cost and still leave one party worse off: the payer that
pays in while the acute savings land in another budget (``outside``, say Medicare), or the
providers doing unfunded work. The runs hold each party's account (``account:<party>:<item>``
columns, `poolpilot.model.metrics.accounts`); here they are set beside the same party's
account in the design's no-pool baseline (the status quo, `tables.baseline_pairs`), run by
run, so a funder sees who carries the cost of the pool and who keeps its savings.

A party that appears in only one of the pair (the holder of a pool, which the baseline lacks)
counts as 0 in the other: it had nothing on its account there. The parties' savings add up to
the total system cost saved, because their net costs add up to the total system cost.
"""

from __future__ import annotations

import pandas as pd

from poolpilot.analysis.paired import paired
from poolpilot.report.data import ReportData
from poolpilot.report.tables import baseline_pairs, wide

PREFIX = "account:"
#: What a party bore because of the pathway, beside what it paid in.
BORNE = ("acute", "delays", "contracts", "unfunded_work")
#: What each item a party bore is, in words.
BORNE_NAMES = {
    "acute": "readmissions and crises",
    "delays": "delayed discharges",
    "contracts": "running contracts",
    "unfunded_work": "unfunded work",
}
#: The who-pays table's money columns: (column, heading). Net cost = paid in - savings shared
#: with the party + what it bore.
PARTY_COLUMNS: list[tuple[str, str]] = [
    ("paid_in", "Paid in, net of returns"),
    ("shared", "Savings shared with it"),
    ("acute", "Acute events"),
    ("delays", "Boundary waits"),
    ("contracts", "Contracts"),
    ("unfunded_work", "Unfunded work"),
    ("net_cost", "Net cost"),
    ("baseline_net_cost", "Net cost in the baseline"),
]
COLUMNS = ["design", "baseline", "party", *(c for c, _ in PARTY_COLUMNS)]
COLUMNS += ["saving", "saving_low", "saving_high", "positive", "n"]


def account_columns(runs: pd.DataFrame) -> list[str]:
    """The runs' account columns, in the order of the results table."""
    return [c for c in runs.columns if isinstance(c, str) and c.startswith(PREFIX)]


#: The parties every run has besides its payers, in the order the table lists them.
OTHER_PARTIES = ("holder", "outside", "providers")


def parties(runs: pd.DataFrame) -> list[str]:
    """The parties with an account in any of ``runs``: the payers first, in the order of the
    columns, then `OTHER_PARTIES` (a results table's columns gather several designs' payers)."""
    names = [c.split(":")[1] for c in account_columns(runs) if runs[c].notna().any()]
    names = list(dict.fromkeys(names))
    return [n for n in names if n not in OTHER_PARTIES] + [n for n in OTHER_PARTIES if n in names]


def _item(frame: pd.DataFrame, party: str, item: str) -> pd.Series:
    """One item of a party's account per pair; 0 where the party has no account."""
    column = f"{PREFIX}{party}:{item}"
    if column not in frame:
        return pd.Series(0.0, index=frame.index)
    return frame[column].fillna(0.0)


def _party_row(design: pd.DataFrame, baseline: pd.DataFrame, party: str) -> dict[str, float]:
    """A party's means over the pairs, and its saving against the baseline (paired)."""
    row = {
        "paid_in": _item(design, party, "paid_in") - _item(design, party, "returned"),
        **{item: _item(design, party, item) for item in ("shared", *BORNE, "net_cost")},
        "baseline_net_cost": _item(baseline, party, "net_cost"),
    }
    out = {key: float(values.mean()) for key, values in row.items()}
    saving = paired(row["baseline_net_cost"].to_numpy(), row["net_cost"].to_numpy())
    out |= {"saving": saving.mean, "saving_low": saving.low, "saving_high": saving.high}
    return out | {"positive": saving.share_above, "n": saving.n}


def party_accounts(data: ReportData) -> pd.DataFrame:
    """Per pooled design and party: what it paid in (net of what came back), the savings
    shared with it, what it bore, its net cost in the design and in the baseline (means over
    the paired replicates), and its saving (baseline net cost - design net cost) with the 95%
    interval of the mean (`paired`) and the share of pairs above zero.

    Designs are paired with their status-quo baseline (`tables.baseline_pairs`); the frame is
    empty when the folder has no baseline or its runs no accounts (made before the model kept
    them).
    """
    columns = account_columns(data.runs)
    pairs, _ = baseline_pairs(data)
    if not columns or not pairs:
        return pd.DataFrame(columns=COLUMNS)
    values = wide(data.runs.assign(_ran=1.0), [*columns, "_ran"])
    rows = []
    for design, baseline in pairs.items():
        d = values.xs(design, axis=1, level="label")
        b = values.xs(baseline, axis=1, level="label")
        both = d["_ran"].notna() & b["_ran"].notna()
        if not both.any():
            continue
        runs = data.runs[data.runs["label"].isin([design, baseline])]
        for party in parties(runs):
            row = _party_row(d[both], b[both], party)
            rows.append({"design": design, "baseline": baseline, "party": party, **row})
    return pd.DataFrame(rows, columns=COLUMNS)
