"""Figures of a tidy indices table: Sobol'/eFAST bars and the Morris plane.

Figures are drawn on a bare matplotlib Figure unless an Axes is given, so that neither a
study nor the report touches pyplot's global state or backend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["plot_morris", "plot_sobol"]

# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
_BLUE, _ORANGE, _GREY = "#0072B2", "#E69F00", "#999999"


def plot_sobol(indices: pd.DataFrame, metric: str, ax: Axes | None = None) -> Axes:
    """Horizontal S1 and ST bars with their intervals for one metric (sobol or fast rows).

    The gap between a parameter's S1 and ST bars is its share in interactions.
    """
    rows = indices[
        (indices["metric"] == metric)
        & indices["method"].isin(["sobol", "fast"])
        & indices["index"].isin(["S1", "ST"])
    ]
    if rows["method"].nunique() != 1:
        raise ValueError(f"plot_sobol: need sobol or fast rows of one method for {metric!r}.")
    ax = _axes(ax)
    names = list(dict.fromkeys(rows["parameter"]))
    pos = np.arange(len(names))
    for offset, name, colour in ((-0.2, "S1", _BLUE), (0.2, "ST", _ORANGE)):
        r = rows[rows["index"] == name].set_index("parameter").loc[names]
        err = [r["value"] - r["ci_low"], r["ci_high"] - r["value"]]
        ax.barh(pos + offset, r["value"], height=0.4, xerr=err, color=colour, label=name)
    ax.axvline(0, color=_GREY, linewidth=0.8)
    ax.set_yticks(pos, names)
    ax.invert_yaxis()
    ax.set_xlabel("Sensitivity index (whiskers: 95% bootstrap interval)")
    ax.set_ylabel("Parameter")
    ax.set_title(f"{rows['method'].iloc[0]}: {metric}")
    ax.legend()
    return ax


def plot_morris(indices: pd.DataFrame, metric: str, ax: Axes | None = None) -> Axes:
    """Morris mu_star against sigma for one metric, one labelled point per parameter.

    Points right are influential; points high act non-linearly or through interactions.
    """
    rows = indices[(indices["metric"] == metric) & (indices["method"] == "morris")]
    if rows.empty:
        raise ValueError(f"plot_morris: no morris rows for metric {metric!r}.")
    table = rows.pivot(index="parameter", columns="index", values="value")
    conf = rows[rows["index"] == "mu_star"].set_index("parameter")
    conf = (conf["ci_high"] - conf["ci_low"]) / 2
    ax = _axes(ax)
    ax.errorbar(table["mu_star"], table["sigma"], xerr=conf.loc[table.index], fmt="o", color=_BLUE)
    for name, x, y in zip(table.index, table["mu_star"], table["sigma"], strict=True):
        ax.annotate(str(name), (x, y), xytext=(4, 4), textcoords="offset points")
    top = np.nanmax(table[["mu_star", "sigma"]].to_numpy(), initial=0.0)
    ax.plot([0, top], [0, top], linestyle="--", color=_GREY, label="sigma = mu*")
    ax.set_xlabel("mu* (mean absolute elementary effect)")
    ax.set_ylabel("sigma (std of elementary effects)")
    ax.set_title(f"morris: {metric}")
    ax.legend()
    return ax


def _axes(ax: Axes | None) -> Axes:
    # A bare Figure renders with Agg and never touches pyplot's global state or backend.
    return ax if ax is not None else Figure(figsize=(6, 4), layout="constrained").subplots()
