"""The tidy monthly series of a finished run: what ``simulate`` stores beside its metrics.

One row per month, series and partner (trust, spend, unmet need, acute events, balances);
metrics-only runs skip it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from poolpilot.model.records import TIMESERIES_COLUMNS

if TYPE_CHECKING:
    from poolpilot.model.pilot import PilotModel


def timeseries(m: PilotModel, run: str) -> pd.DataFrame:
    """The tidy monthly series (run, month, series, partner, value) of a finished run."""
    months = np.arange(1, m.month + 1)
    uc = m.service_unit_cost
    need = m.true_need[: m.month].sum(axis=1) * uc
    unmet = m.unmet[: m.month].sum(axis=1) * uc
    with np.errstate(divide="ignore", invalid="ignore"):
        unmet_share = np.where(need > 0, unmet / need, 0.0)
    partners = [i for i in range(m.n_lines) if not m.line_own[i]]
    blocks = [
        ("trust", [m.line_names[i] for i in partners], m.trust_history[: m.month][:, partners]),
        ("trust", m.payer_names, m.payer_trust_history[: m.month]),
        ("spend", m.line_names, m.line_spend[: m.month]),
        ("payer_spend", m.payer_names, m.payer_spend[: m.month]),
        ("unmet_need_share", m.service_names, unmet_share),
        ("need_cost", m.service_names, need),
        ("funded", m.service_names, m.funded_cost_by_service[: m.month]),
        ("acute_events", m.acute_names, m.acute[: m.month]),
        ("balance", ["pool", "reserve"], m.pool_history[: m.month]),
        ("cumulative_spend", ["pool"], np.cumsum(m.cost_incurred[: m.month])[:, None]),
        ("cumulative_budget", ["pool"], np.cumsum(m.planned_spend[: m.month])[:, None]),
    ]
    series, partner, values = [], [], []
    for name, labels, table in blocks:
        if table.size == 0:
            continue
        series.append(np.repeat(name, table.size))
        partner.append(np.tile(np.asarray(labels, dtype=object), len(months)))
        values.append(table.reshape(-1))
    n = sum(len(v) for v in values)
    month_col = np.concatenate(
        [np.repeat(months, len(labels)) for _, labels, t in blocks if t.size]
    )
    frame = pd.DataFrame(
        {
            "run": np.repeat(run, n),
            "month": month_col.astype("int64"),
            "series": np.concatenate(series),
            "partner": np.concatenate(partner),
            "value": np.concatenate(values).astype("float64"),
        },
        columns=TIMESERIES_COLUMNS,
    )
    return frame
