"""The robust designs section: the candidates as Parquet and CSV, a parallel-coordinates
figure of the non-dominated ones, and an HTML section (``poolpilot robust`` writes them)."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from poolpilot.analysis.robust_search import RobustResult  # noqa: E402
from poolpilot.report.palette import GREY, PALETTE  # noqa: E402

MEASURE_WORDS = {
    "mean": "the mean over the futures",
    "regret": "the largest regret over the futures (shortfall from the best candidate there)",
}


def measure_words(measure: str) -> str:
    """How a candidate was judged across the futures, in words (``regret``, ``percentile:10``)."""
    kind, _, percent = measure.partition(":")
    return MEASURE_WORDS.get(kind) or (
        f"the value reached or bettered in all but {percent}% of futures"
    )


def write_robust(found: RobustResult) -> dict[str, Path]:
    """Write the search's candidates, figure and section into its folder; return the paths."""
    folder = found.folder
    found.candidates.to_parquet(folder / "robust_candidates.parquet", index=False)
    found.candidates.to_csv(folder / "robust_candidates.csv", index=False)
    svg = parallel_coordinates(found)
    (folder / "robust_front.svg").write_text(svg)
    summary = {
        "objectives": [f"{o.metric}:{o.sense}" for o in found.objectives],
        "measure": found.measure,
        "candidates": len(found.candidates),
        "non_dominated": int(found.candidates["non_dominated"].sum()),
    }
    (folder / "robust.json").write_text(json.dumps(summary, indent=2))
    (folder / "robust.html").write_text(section_html(found, svg))
    return {
        "candidates": folder / "robust_candidates.parquet",
        "figure": folder / "robust_front.svg",
        "section": folder / "robust.html",
    }


def _axis_values(column) -> tuple[np.ndarray, list[str] | None]:
    """A column on [0, 1]: numbers scaled to their range, levels spread evenly."""
    if column.dtype.kind in "fiu":
        v = column.to_numpy(float)
        span = np.nanmax(v) - np.nanmin(v)
        return (v - np.nanmin(v)) / span if span > 0 else np.full(len(v), 0.5), None
    levels = sorted(map(str, column.unique()))
    where = {level: i / max(len(levels) - 1, 1) for i, level in enumerate(levels)}
    return column.astype(str).map(where).to_numpy(float), levels


def parallel_coordinates(found: RobustResult) -> str:
    """One axis per lever and objective; non-dominated candidates in colour, others grey."""
    frame = found.candidates
    axes = found.levers + [o.metric for o in found.objectives]
    fig, ax = plt.subplots(figsize=(max(6, 1.8 * len(axes)), 4))
    scaled = {name: _axis_values(frame[name]) for name in axes}
    xs = np.arange(len(axes))
    front = frame["non_dominated"].to_numpy()
    for i in np.argsort(front):
        ys = [scaled[name][0][i] for name in axes]
        colour = PALETTE[0] if front[i] else GREY
        ax.plot(xs, ys, color=colour, alpha=0.9 if front[i] else 0.4, linewidth=1.5)
    for x, name in zip(xs, axes, strict=True):
        ax.axvline(x, color="#333333", linewidth=0.8)
        values, levels = scaled[name]
        if levels is None:
            low, high = frame[name].min(), frame[name].max()
            ax.annotate(f"{low:.3g}", (x, 0), xytext=(3, -12), textcoords="offset points")
            ax.annotate(f"{high:.3g}", (x, 1), xytext=(3, 4), textcoords="offset points")
        else:
            for j, level in enumerate(levels):
                y = j / max(len(levels) - 1, 1)
                ax.annotate(level, (x, y), xytext=(3, 2), textcoords="offset points")
    ax.set_xticks(xs, [n.replace(".", ".\n") for n in axes])
    ax.set_yticks([])
    ax.set_ylabel("each axis scaled to its range (low to high)")
    ax.plot([], [], color=PALETTE[0], label="non-dominated")
    ax.plot([], [], color=GREY, label="dominated")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title(f"Candidates by {found.measure}")
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def section_html(found: RobustResult, svg: str) -> str:
    """The section in words and tables, self-contained."""
    kind = found.measure.partition(":")[0]
    words = measure_words(found.measure)
    goals = ", ".join(
        f"{o.metric} ({'higher' if o.sense == 'max' else 'lower'} is better)"
        for o in found.objectives
    )
    if kind == "regret":
        goals += "; every regret: lower is better"
    front = found.front.drop(columns=["non_dominated"])
    table = front.to_html(index=False, float_format=lambda v: f"{v:.3g}")
    lead = (
        f"{len(front)} of {len(found.candidates)} lever settings evaluated are not beaten on "
        f"every objective by another: {goals}. Each candidate was judged by {words}, in the "
        f"same {int(found.candidates['futures'].max())} futures, at the same seeds."
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Designs that hold up</title>"
        "<style>body{font-family:sans-serif;max-width:64rem;margin:2rem auto;}"
        "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
        "svg{max-width:100%;height:auto}</style></head><body>"
        f"<h2>Designs that hold up</h2><p>{html.escape(lead)}</p>{table}"
        f"<figure>{svg}</figure></body></html>"
    )
