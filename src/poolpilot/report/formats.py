"""Numbers and values as the report shows them: one format per metric kind, everywhere.

A metric's kind (share, pp, money, index, count, months, runs) comes from the metric registry,
so the comparison table, the summary's sentences and the terminal agree on how a value reads.
Values are plain text here; the templates escape them.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from poolpilot.model.metrics import METRICS, Direction
from poolpilot.report import figures

MINUS = "\u2212"


def kind_of(metric: str) -> str:
    """The registry's kind of a metric; "number" for a column the registry does not know."""
    return METRICS[metric].kind if metric in METRICS else "number"


def label_of(metric: str) -> str:
    """A metric's plain name from the registry; the column's own name when it is not a metric."""
    return METRICS[metric].label if metric in METRICS else metric.replace("_", " ")


def direction_of(metric: str) -> Direction:
    """Which way is better for a metric (None for inputs, activity, and unknown columns)."""
    return METRICS[metric].direction if metric in METRICS else None


def minus(text: str) -> str:
    """A typographic minus sign."""
    return text.replace("-", MINUS)


def money(value: float, symbol: str = "$") -> str:
    """An amount with its currency symbol, in thousands or millions."""
    return figures.money(value, symbol)


def plain(value: Any) -> str:
    """A parameter value as text: integers without '.0', floats to 6 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(not set)"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}" if abs(int(value)) >= 10000 else str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}" if abs(v) >= 10000 else str(int(v))
        return f"{v:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True) if value else "(none)"
    return str(value)


def fmt(metric: str, value: float, symbol: str = "$") -> str:
    """A metric's value as the report shows it (the table and the summary use this alone)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    kind = kind_of(metric)
    if kind in ("share", "runs"):
        return minus(f"{value * 100:.1f}%")
    if kind == "pp":
        return minus(f"{value * 100:+.1f} pp")
    if kind == "money":
        return figures.money(value, symbol)
    if kind == "index":
        return minus(f"{value:.3f}")
    if kind == "months":
        return minus(f"{value:.1f} mo")
    if kind == "count":
        if abs(value) >= 100 or float(value).is_integer():
            return minus(f"{value:,.0f}")
        return minus(f"{value:.1f}")
    return minus(f"{value:.4g}")


def fmt_diff(metric: str, value: float, symbol: str = "$") -> str:
    """A paired difference: shares in percentage points, everything signed."""
    if value is None or not np.isfinite(value):
        return "n/a"
    kind = kind_of(metric)
    if kind in ("share", "pp", "runs"):
        text = f"{abs(value) * 100:.1f} pp"
    elif kind == "money":
        text = figures.money(abs(value), symbol)
    elif kind == "index":
        text = f"{abs(value):.3f}"
    elif kind == "months":
        text = f"{abs(value):.1f} mo"
    elif kind == "count":
        text = f"{abs(value):,.0f}" if abs(value) >= 100 else f"{abs(value):.1f}"
    else:
        text = f"{abs(value):.4g}"
    if not any(c in "123456789" for c in text):
        return text  # rounds to zero: no sign
    return ("+" if value > 0 else MINUS) + text


def fmt_interval(metric: str, low: float, high: float, symbol: str = "$") -> str:
    """A spread of one metric: low to high, each as `fmt` shows it."""
    return f"{fmt(metric, low, symbol)} to {fmt(metric, high, symbol)}"


def fmt_diff_interval(metric: str, low: float, high: float, symbol: str = "$") -> str:
    """An interval of a paired difference, each end signed."""
    return f"{fmt_diff(metric, low, symbol)} to {fmt_diff(metric, high, symbol)}"


def ratio(value: float) -> str:
    """A ratio (the return per unit pooled) to two decimals."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return minus(f"{value:.2f}") if round(value, 2) != 0 else "0.00"  # never "-0.00"


#: The name of one unit of a currency, for "per dollar pooled".
CURRENCY_UNITS = {"USD": "dollar", "CAD": "dollar", "AUD": "dollar", "NZD": "dollar"}
CURRENCY_UNITS |= {"GBP": "pound", "EUR": "euro"}


def per_pooled(currency: str = "USD") -> str:
    """The unit of the return on the pool: "per dollar pooled" (a code when it has no name)."""
    unit = CURRENCY_UNITS.get(currency)
    return f"per {unit} pooled" if unit else f"per {currency} 1 pooled"


def count(value: Any, pct: bool = False) -> str:
    """A mean count per run (or a share of runs); an em dash when there is none."""
    if value is None or not np.isfinite(value):
        return "\u2014"
    return f"{value:.0%}" if pct else f"{value:.1f}"


def share(value: float) -> str:
    """A share of a total, to a tenth of a percent."""
    return f"{value:.1%}" if value is not None and np.isfinite(value) else "n/a"
