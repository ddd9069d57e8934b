"""The comparative report for funders: one self-contained HTML file per results folder.

``write_report(folder)`` reads a results folder (``manifest.json``, ``runs.parquet``,
``timeseries.parquet``, ``events.parquet`` and, after a sensitivity study, ``indices.parquet``)
and writes ``folder/report.html``: figures embedded as SVG data, styles inline, no script and no
external reference, so it reads offline and prints to PDF from any browser.

The sections follow a funder's reading order: summary, return on the pool, the comparison
table, trajectories, where the money went, governance activity, sensitivity, assumptions and
reproducibility.

Numbers: every design is summarised by the median and the 90% interval (5th to 95th
percentile) of a metric over its replicates. Designs are compared pairwise *by seed*: replicate
``r`` of every design faces the same need (common random numbers), so the difference between
two designs is computed replicate by replicate, and it is called *clear* when the 90% interval
of those paired differences excludes zero. The summary's sentences and the comparison table are
both generated from one tidy frame (`summary_frame`), so they cannot disagree.

Everything that comes from a scenario file or a results table (names, descriptions, values) is
escaped with `html.escape` before it reaches the page.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from poolpilot._version import __version__
from poolpilot.model.metrics import HIGHER, LOWER, METRICS, ZERO
from poolpilot.report import figures
from poolpilot.runs.store import RUN_IDENTITY, RUN_TAIL, ResultsStore
from poolpilot.scenario.variants import population_key

__all__ = [
    "DIRECTIONS",
    "HEADLINES",
    "KINDS",
    "ReportData",
    "flatten",
    "headline_frame",
    "load",
    "pool_return",
    "render",
    "summary_frame",
    "write_report",
]

#: The report's file name inside a results folder.
REPORT_NAME = "report.html"
#: Quantiles of the 90% intervals.
LOW, HIGH = 0.05, 0.95
#: Designs per block of a wide table (fits a portrait page).
DESIGNS_PER_TABLE = 6
#: Beyond this many design x varied-value combinations, the varied values are not shown as
#: designs of their own (a sensitivity design or a large grid): runs are summarised per design.
MAX_DESIGNS = 30
#: At most this many sensitivity figures (metric x method); the ranked table has them all.
MAX_SENSITIVITY_FIGURES = 16

#: Which way is better and how each metric is shown: read from the metric registry.
DIRECTIONS: dict[str, str | None] = {name: m.direction for name, m in METRICS.items()}
KINDS: dict[str, str] = {name: m.kind for name, m in METRICS.items()}

#: The summary's questions: (metric, what it answers, plain name of the quantity).
HEADLINES: list[tuple[str, str, str]] = [
    ("unmet_need_share", "Under-service", "the share of need left unmet"),
    ("cost_shift_index", "Cost shifting", "the holder's own lines' excess share of pooled spend"),
    ("trust_final_mean", "Trust", "partners' mean trust in the holder at the end"),
    ("trust_erosion", "Trust erosion", "the fall in partners' mean trust over the pilot"),
    ("total_system_cost", "Cost", "the total system cost, inside and outside the pool"),
]

_RETURN_MEASURES: list[tuple[str, str, str]] = [
    ("acute_cost_avoided", "Acute cost avoided", "money"),
    ("avoided_per_dollar", "Avoided per unit pooled", "ratio"),
    ("net_avoided", "Avoided, net of running costs", "money"),
    ("net_per_dollar", "Net avoided per unit pooled", "ratio"),
    ("system_cost_saved", "Total system cost saved", "money"),
]
_METADATA_FIELDS = ("name", "description", "seed_article", "example", "basis")
_MINUS = "\u2212"


def esc(value: Any) -> str:
    """Text for the page: everything from scenarios and results goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


# --- loading ---------------------------------------------------------------------------------


@dataclass
class ReportData:
    """A results folder, read and labelled for the report.

    ``runs`` holds the runs that finished (status ok) with a ``label`` column: the design name,
    plus the varied values when the study varied parameters. ``timeseries`` and ``events``
    carry the same label; for a large study they hold a sample of the runs, ``detail_keys``
    (the first ``DETAIL_REPLICATES`` replicates of each design and point, at most
    ``MAX_DETAIL_RUNS`` runs), so the report of a 20,000-run study fits in memory.
    """

    folder: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    failed: pd.DataFrame
    timeseries: pd.DataFrame
    events: pd.DataFrame
    labels: list[str]
    metrics: list[str]
    varied: list[str]
    label_design: dict[str, str]
    scenarios: dict[str, dict[str, Any]]
    baselines: list[str]
    indices: pd.DataFrame | None
    symbol: str
    points: int = 0
    collapsed: bool = False
    detail_keys: frozenset[str] = frozenset()

    def scenario(self, label: str) -> dict[str, Any]:
        return self.scenarios.get(self.label_design.get(label, label), {})


def load(folder: str | Path) -> ReportData:
    """Read a results folder into a `ReportData` (missing tables read as empty)."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    with ResultsStore(folder, readonly=True) as store:
        runs = store.read("runs")
        detail = detail_sample(runs)
        tables = {t: store.read(t, runs=detail) for t in ("timeseries", "events")}
    scenarios = {
        str(name): entry.get("resolved", {}) or {}
        for name, entry in (manifest.get("scenarios") or {}).items()
    }
    varied = _varied_columns(manifest, runs)
    metrics = _metric_columns(runs, varied)
    status = runs["status"].astype(str) if "status" in runs else pd.Series("ok", index=runs.index)
    ok = runs[status == "ok"].copy()
    failed = runs[status != "ok"].copy()
    indices_path = folder / "indices.parquet"
    indices = pd.read_parquet(indices_path) if indices_path.exists() else None
    ok["label"] = _labels(ok, varied)
    points = ok["label"].nunique()
    collapsed = bool(varied) and (indices is not None or points > MAX_DESIGNS)
    if collapsed:
        # a sensitivity design or a large grid: one label per design; runs pair by replicate
        # and varied point (every design runs every point at every replicate's seed)
        ok["pair"] = ok["replicate"].astype(str) + "|" + ok["label"].str.partition(" [")[2]
        ok["label"] = ok["design"].astype(str)
    else:
        ok["pair"] = ok["replicate"]
    order = {name: i for i, name in enumerate(scenarios)}
    first = ok.drop_duplicates("label")
    first = first.assign(_o=first["design"].map(order).fillna(len(order)))
    labels = list(first.sort_values(["_o"], kind="stable")["label"])
    label_design = dict(zip(first["label"], first["design"].astype(str), strict=True))
    ok["label"] = pd.Categorical(ok["label"], categories=labels, ordered=True)
    ok = ok.sort_values(["label", "replicate"], kind="stable").reset_index(drop=True)
    key_label = pd.Series(ok["label"].to_numpy(), index=ok["key"].to_numpy())

    def labelled(frame: pd.DataFrame) -> pd.DataFrame:
        if frame.empty:
            return frame.assign(label=pd.Categorical([], categories=labels))
        label = pd.Categorical(frame["run"].map(key_label), categories=labels, ordered=True)
        return frame.assign(label=label)[label.notna()]

    baselines = [
        label
        for label in labels
        if (scenarios.get(label_design[label], {}).get("holder") or {}).get("kind") == "none"
        or (label_design[label] == "no_pool_baseline" and label_design[label] not in scenarios)
    ]
    currencies = {s.get("currency", "USD") for s in scenarios.values()} or {"USD"}
    currency = sorted(currencies)[0]
    symbol = "$" if currency == "USD" else f"{currency} "
    return ReportData(
        folder=folder,
        manifest=manifest,
        runs=ok,
        failed=failed,
        timeseries=labelled(tables["timeseries"]),
        events=labelled(tables["events"]),
        labels=labels,
        metrics=metrics,
        varied=varied,
        label_design=label_design,
        scenarios=scenarios,
        baselines=baselines,
        indices=indices,
        symbol=symbol,
        points=points,
        collapsed=collapsed,
        detail_keys=frozenset(detail),
    )


#: Trajectories and governance counts use at most this many replicates of each design and
#: point, and at most ``MAX_DETAIL_RUNS`` runs in all: bands and means from a few hundred runs
#: are as readable as from twenty thousand, at a fraction of the memory.
DETAIL_REPLICATES = 100
MAX_DETAIL_RUNS = 3000


def detail_sample(runs: pd.DataFrame) -> list[str]:
    """The run keys whose timeseries and events the report reads (deterministic)."""
    ok = runs[runs["status"].astype(str) == "ok"] if "status" in runs else runs
    keys = ok.loc[ok["replicate"] < DETAIL_REPLICATES, "key"].astype(str).tolist()
    if len(keys) > MAX_DETAIL_RUNS:
        step = len(keys) / MAX_DETAIL_RUNS
        keys = [keys[int(i * step)] for i in range(MAX_DETAIL_RUNS)]
    return keys


def _varied_columns(manifest: dict[str, Any], runs: pd.DataFrame) -> list[str]:
    vary = manifest.get("vary")
    if isinstance(vary, dict):
        paths = list(vary)
    elif isinstance(vary, list):
        paths = list(dict.fromkeys(p for point in vary if isinstance(point, dict) for p in point))
    else:
        paths = []
    return [p for p in paths if p in runs.columns]


def _metric_columns(runs: pd.DataFrame, varied: Sequence[str]) -> list[str]:
    skip = set(RUN_IDENTITY) | set(RUN_TAIL) | set(varied) | {"label", "pair"}
    numeric = [
        c
        for c in runs.columns
        if c not in skip
        and (pd.api.types.is_numeric_dtype(runs[c]) or pd.api.types.is_bool_dtype(runs[c]))
    ]
    known = [m for m in METRICS if m in numeric]
    return known + [c for c in numeric if c not in known]


def _labels(runs: pd.DataFrame, varied: Sequence[str]) -> pd.Series:
    label = runs["design"].astype(str)
    if varied and len(runs):
        parts = [runs[p].map(lambda v, p=p: f"{p}={_plain(v)}").astype(str) for p in varied]
        extra = parts[0]
        for part in parts[1:]:
            extra = extra + ", " + part
        label = label + " [" + extra + "]"
    return label


# --- numbers ---------------------------------------------------------------------------------


def _plain(value: Any) -> str:
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
        return ", ".join(_plain(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True) if value else "(none)"
    return str(value)


def kind_of(metric: str) -> str:
    return KINDS.get(metric, "number")


def fmt(metric: str, value: float, symbol: str = "$") -> str:
    """A metric's value as the report shows it (the table and the summary use this alone)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    kind = kind_of(metric)
    if kind in ("share", "runs"):
        return _minus(f"{value * 100:.1f}%")
    if kind == "pp":
        return _minus(f"{value * 100:+.1f} pp")
    if kind == "money":
        return figures.money(value, symbol)
    if kind == "index":
        return _minus(f"{value:.3f}")
    if kind == "months":
        return _minus(f"{value:.1f} mo")
    if kind == "count":
        if abs(value) >= 100 or float(value).is_integer():
            return _minus(f"{value:,.0f}")
        return _minus(f"{value:.1f}")
    return _minus(f"{value:.4g}")


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
    return ("+" if value > 0 else _MINUS) + text


def _minus(text: str) -> str:
    """A typographic minus sign."""
    return text.replace("-", _MINUS)


def fmt_interval(metric: str, low: float, high: float, symbol: str = "$") -> str:
    return f"{fmt(metric, low, symbol)} to {fmt(metric, high, symbol)}"


def fmt_diff_interval(metric: str, low: float, high: float, symbol: str = "$") -> str:
    return f"{fmt_diff(metric, low, symbol)} to {fmt_diff(metric, high, symbol)}"


# --- the summary frame -----------------------------------------------------------------------


def _wide(runs: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Metric values with one row per replicate and columns (metric, label): the pairing."""
    key = "pair" if "pair" in runs else "replicate"
    frame = runs.set_index([key, "label"])[list(metrics)].astype(float)
    frame = frame[~frame.index.duplicated(keep="first")]
    return frame.unstack("label")


def _oriented(values: pd.DataFrame | pd.Series, direction: str | None):
    """Values such that lower is better."""
    if direction == HIGHER:
        return -values
    if direction == ZERO:
        return values.abs()
    return values


def paired_difference(
    wide: pd.DataFrame, metric: str, a: str, b: str, direction: str | None = LOWER
) -> tuple[float, float, float, bool, int]:
    """Median and 90% interval of ``a - b`` over the replicates both ran, paired by seed.

    For metrics better closer to zero the difference is of absolute values. Returns
    (median, low, high, clear, n) with ``clear`` when the interval excludes zero.
    """
    x = wide[metric][a]
    y = wide[metric][b]
    if direction == ZERO:
        x, y = x.abs(), y.abs()
    d = (x - y).dropna()
    if d.empty:
        return (np.nan, np.nan, np.nan, False, 0)
    low, med, high = np.quantile(d.to_numpy(), [LOW, 0.5, HIGH])
    clear = bool(low > 0 or high < 0)
    return (float(med), float(low), float(high), clear, len(d))


def summary_frame(
    runs: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per metric and design: the numbers behind the summary and the table.

    Columns: metric, design, direction, kind, stat ("median", or "share of runs" for 0/1
    metrics), n, centre, low, high (5th and 95th percentiles over replicates), mean, rank
    (1 = best, by centre then mean; NaN without a direction), best, worst, diff_median, diff_low,
    diff_high (paired difference to the best design, of absolute values for metrics better
    closer to zero), clear (for the best design: clearly better than the runner-up; for the
    others: clearly different from the best) and same (every design equal in every replicate).
    Ties: designs equal to the best (or worst) in every replicate share the mark.
    """
    if "label" not in runs:
        runs = runs.assign(label=runs["design"])
    if labels is None:
        labels = list(dict.fromkeys(runs["label"]))
    labels = list(labels)
    if metrics is None:
        metrics = _metric_columns(runs, [])
    metrics = [m for m in metrics if runs[m].notna().any()]
    columns = [
        "metric",
        "design",
        "direction",
        "kind",
        "stat",
        "n",
        "centre",
        "low",
        "high",
        "mean",
        "rank",
        "best",
        "worst",
        "diff_median",
        "diff_low",
        "diff_high",
        "clear",
        "same",
    ]
    if not metrics or runs.empty:
        return pd.DataFrame(columns=columns)
    values = runs[["label", *metrics]].copy()
    values[metrics] = values[metrics].astype(float)
    grouped = values.groupby("label", observed=True, sort=False)[metrics]
    stats = {
        "n": grouped.count(),
        "median": grouped.median(),
        "mean": grouped.mean(),
        "low": grouped.quantile(LOW),
        "high": grouped.quantile(HIGH),
    }
    wide = _wide(runs, metrics)
    rows = []
    for metric in metrics:
        direction = DIRECTIONS.get(metric)
        kind = kind_of(metric)
        centre_stat = "mean" if kind == "runs" else "median"
        present = [lab for lab in labels if stats["n"].at[lab, metric] > 0]
        centre = stats[centre_stat].loc[present, metric]
        table = wide[metric].reindex(columns=present)
        same = bool(
            len(present) > 1
            and (table.sub(table.iloc[:, 0], axis=0).abs().fillna(0.0) == 0).all().all()
        )
        info: dict[str, dict[str, Any]] = {lab: {} for lab in present}
        if direction and len(present) > 1 and not same:
            score = _oriented(table, direction)
            centre_score = score.mean() if kind == "runs" else score.median()
            order = sorted(present, key=lambda lab: (centre_score[lab], score[lab].mean()))
            best = order[0]
            ties = [lab for lab in order if _equal(score[lab], score[best])]
            worst = order[-1]
            worst_ties = [lab for lab in order if _equal(score[lab], score[worst])]
            for position, lab in enumerate(order, start=1):
                info[lab]["rank"] = float(position)
            for lab in present:
                info[lab]["best"] = lab in ties
                info[lab]["worst"] = lab in worst_ties
                if lab in ties:
                    continue
                med, low, high, clear, _ = paired_difference(wide, metric, lab, best, direction)
                info[lab].update(diff_median=med, diff_low=low, diff_high=high, clear=clear)
            runner = next((lab for lab in order if lab not in ties), None)
            for lab in ties:
                info[lab]["clear"] = bool(runner is not None and info[runner].get("clear"))
        for lab in present:
            got = info[lab]
            rows.append(
                {
                    "metric": metric,
                    "design": lab,
                    "direction": direction,
                    "kind": kind,
                    "stat": "share of runs" if kind == "runs" else "median",
                    "n": int(stats["n"].at[lab, metric]),
                    "centre": float(centre[lab]),
                    "low": float(stats["low"].at[lab, metric]),
                    "high": float(stats["high"].at[lab, metric]),
                    "mean": float(stats["mean"].at[lab, metric]),
                    "rank": got.get("rank", np.nan),
                    "best": bool(got.get("best", False)),
                    "worst": bool(got.get("worst", False)),
                    "diff_median": got.get("diff_median", np.nan),
                    "diff_low": got.get("diff_low", np.nan),
                    "diff_high": got.get("diff_high", np.nan),
                    "clear": bool(got.get("clear", False)),
                    "same": same,
                }
            )
    frame = pd.DataFrame(rows, columns=columns)
    frame["design"] = frame["design"].astype(str)
    return frame


def _equal(a: pd.Series, b: pd.Series) -> bool:
    d = (a - b).dropna()
    return bool(len(d) and (d == 0).all())


def ranked_summary(data: ReportData) -> tuple[pd.DataFrame, list[str]]:
    """The summary frame with only the designs on offer ranked.

    No-pool baselines are the reference, not a choice: they appear in the table with their
    numbers but no marks, and the summary names best and worst among the pooled designs
    (unless a study holds nothing else). Returns the frame and the ranked labels.
    """
    offered = [label for label in data.labels if label not in data.baselines]
    if len(offered) < 2 or len(offered) == len(data.labels):
        return summary_frame(data.runs, data.metrics, data.labels), list(data.labels)
    runs = data.runs
    ranked = summary_frame(runs[runs["label"].isin(offered)], data.metrics, offered)
    reference = summary_frame(
        runs[~runs["label"].isin(offered)],
        data.metrics,
        [x for x in data.labels if x not in offered],
    )
    unmarked = {"rank": np.nan, "best": False, "worst": False, "clear": False}
    for column, value in unmarked.items():
        if column in reference:
            reference[column] = value
    for column in ("diff_median", "diff_low", "diff_high"):
        if column in reference:
            reference[column] = np.nan
    frame = pd.concat([ranked, reference], ignore_index=True)
    order = {label: i for i, label in enumerate(data.labels)}
    metric_order = {metric: i for i, metric in enumerate(dict.fromkeys(ranked["metric"]))}
    frame = frame.sort_values(
        ["metric", "design"],
        key=lambda c: c.map(order if c.name == "design" else metric_order),
    )
    return frame.reset_index(drop=True), offered


def headline_frame(summary: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """The summary's findings: per headline metric, best and worst with their uncertainty.

    Values come from ``summary`` (the table's frame); the worst-against-next-worst difference
    is paired by seed like the table's differences.
    """
    if "label" not in runs:
        runs = runs.assign(label=runs["design"])
    rows = []
    for metric, title, quantity in HEADLINES:
        part = summary[summary["metric"] == metric]
        if part.empty:
            continue
        part = part.set_index("design")
        row: dict[str, Any] = {
            "metric": metric,
            "title": title,
            "quantity": quantity,
            "direction": part["direction"].iloc[0],
            "designs": len(part),
            "same": bool(part["same"].iloc[0]),
        }
        ranked = part.dropna(subset=["rank"]).sort_values("rank")
        if ranked.empty:
            row["best"] = list(part.index)
            rows.append(_with_centres(row, part, "best", list(part.index)[:1]))
            continue
        best = list(ranked.index[ranked["best"]])
        worst = list(ranked.index[ranked["worst"]])
        row["best"], row["worst"] = best, worst
        row = _with_centres(row, part, "best", best)
        row = _with_centres(row, part, "worst", worst)
        others = ranked[~ranked["best"]]
        if not others.empty:
            runner = others.index[0]
            r = part.loc[runner]
            row.update(
                runner_up=runner,
                runner_centre=r["centre"],
                best_diff_median=-r["diff_median"],
                best_diff_low=-r["diff_high"],
                best_diff_high=-r["diff_low"],
                best_clear=bool(r["clear"]),
            )
        rest = ranked[~ranked["worst"]]
        if not rest.empty:
            nxt = rest.index[-1]
            wide = _wide(runs, [metric])
            med, low, high, clear, _ = paired_difference(
                wide, metric, worst[0], nxt, row["direction"]
            )
            row.update(
                next_worst=nxt,
                next_worst_centre=part.at[nxt, "centre"],
                worst_diff_median=med,
                worst_diff_low=low,
                worst_diff_high=high,
                worst_clear=clear,
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _with_centres(row: dict[str, Any], part: pd.DataFrame, key: str, names: list[str]):
    first = part.loc[names[0]]
    row.update(
        {
            f"{key}_centre": first["centre"],
            f"{key}_low": first["low"],
            f"{key}_high": first["high"],
            f"{key}_stat": first["stat"],
        }
    )
    return row


def _names(names: Sequence[str], cap: int = 4) -> str:
    """Bold names joined in prose; beyond ``cap`` names, 'and N others'."""
    quoted = [f"<strong>{esc(n)}</strong>" for n in names]
    if len(quoted) > cap:
        return ", ".join(quoted[: cap - 1]) + f" and {len(quoted) - cap + 1} others"
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _value_phrase(row: dict[str, Any], key: str, symbol: str) -> str:
    """'median 14.7% (90% interval 13.6% to 15.3%)' for the best or worst of a headline row."""
    metric = row["metric"]
    word = "share of runs" if row.get(f"{key}_stat") == "share of runs" else "median"
    value = fmt(metric, row[f"{key}_centre"], symbol)
    interval = fmt_interval(metric, row[f"{key}_low"], row[f"{key}_high"], symbol)
    return f"{word} {esc(value)} (90% interval {esc(interval)})"


def _diff_phrase(row: dict[str, Any], key: str, symbol: str) -> str:
    metric = row["metric"]
    what = (
        "paired difference of absolute values"
        if row.get("direction") == ZERO
        else "paired difference"
    )
    median = fmt_diff(metric, row[f"{key}_diff_median"], symbol)
    interval = fmt_diff_interval(metric, row[f"{key}_diff_low"], row[f"{key}_diff_high"], symbol)
    return f"{what} {esc(median)}, 90% interval {esc(interval)}"


def summary_sentences(headlines: pd.DataFrame, symbol: str = "$") -> list[tuple[str, str]]:
    """(metric, HTML sentence) per headline, generated from `headline_frame` alone."""
    out = []
    for row in headlines.to_dict("records"):
        metric = row["metric"]
        head = (
            f"<strong>{esc(row['title'])}</strong> ({esc(row['quantity'])}, "
            f"<code>{esc(metric)}</code>"
        )
        direction = row.get("direction")
        head += f"; {esc(direction)} is better). " if direction else "). "
        if row["designs"] == 1:
            best = _value_phrase(row, "best", symbol)
            out.append((metric, f"{head}Only one design: {_names(row['best'])}, {best}."))
            continue
        if row["same"]:
            value = esc(fmt(metric, row["best_centre"], symbol))
            text = f"{head}No difference: every design has {value} in every replicate."
            out.append((metric, text))
            continue
        best = row["best"]
        text = f"{head}{_names(best)} {'do' if len(best) > 1 else 'does'} best, "
        text += _value_phrase(row, "best", symbol)
        if len(best) > 1:
            text += ", equal in every replicate"
        if isinstance(row.get("runner_up"), str):
            runner = _names([row["runner_up"]])
            diff = _diff_phrase(row, "best", symbol)
            if row["best_clear"]:
                text += f"; clearly better than the runner-up, {runner} ({diff})."
            else:
                text += (
                    f"; <em>not clearly better</em> than the runner-up, {runner}: the paired "
                    f"difference's interval includes zero ({diff})."
                )
        else:
            text += "."
        worst = row["worst"]
        text += f" {_names(worst)} {'do' if len(worst) > 1 else 'does'} worst, "
        text += _value_phrase(row, "worst", symbol)
        if isinstance(row.get("next_worst"), str):
            nxt = _names([row["next_worst"]])
            diff = _diff_phrase(row, "worst", symbol)
            if row["worst_clear"]:
                text += f"; clearly worse than {nxt} ({diff})."
            else:
                text += f"; <em>not clearly worse</em> than {nxt} ({diff})."
        else:
            text += "."
        out.append((metric, text))
    return out


# --- return on the pool ----------------------------------------------------------------------


def baseline_pairs(data: ReportData) -> tuple[dict[str, str], dict[str, str]]:
    """Each pooled design's no-pool baseline (same population, same varied values).

    Returns (pairs, reasons): pairs maps a design to its baseline; reasons says why a design
    has none.
    """
    pairs: dict[str, str] = {}
    reasons: dict[str, str] = {}
    point = (
        {
            lab: tuple(str(v) for v in group.iloc[0][data.varied])
            for lab, group in data.runs.groupby("label", observed=True)
        }
        if data.varied and not data.collapsed
        else {}
    )
    for label in data.labels:
        if label in data.baselines:
            continue
        if not data.baselines:
            reasons[label] = "no no-pool baseline in this folder"
            continue
        mine = population_key(data.scenario(label))
        same_population = [b for b in data.baselines if population_key(data.scenario(b)) == mine]
        same_point = [b for b in same_population if point.get(b) == point.get(label)]
        if same_point:
            pairs[label] = same_point[0]
        elif same_population:
            reasons[label] = "no baseline run with the same varied values"
        else:
            reasons[label] = (
                "its population, services or horizon differ from every baseline's, so the "
                "comparison would not be like for like"
            )
    return pairs, reasons


def pool_return(data: ReportData) -> tuple[pd.DataFrame, dict[str, str]]:
    """Acute cost avoided against the no-pool baseline, paired by seed, per pooled design.

    Per replicate: avoided = baseline acute_cost - design acute_cost; per unit pooled =
    avoided / pooled_funding; net = avoided - running_cost (and per unit pooled); total system
    cost saved = baseline total_system_cost - design total_system_cost. Returns a tidy frame
    (design, baseline, measure, median, low, high, positive: share of replicates above zero,
    n) and the reasons designs without a comparable baseline have none.
    """
    pairs, reasons = baseline_pairs(data)
    columns = ["design", "baseline", "measure", "median", "low", "high", "positive", "n"]
    need = ["acute_cost", "pooled_funding", "running_cost", "total_system_cost"]
    if not pairs or any(c not in data.runs for c in need):
        if pairs:
            reasons.update(dict.fromkeys(pairs, "this folder lacks the cost metrics"))
        return pd.DataFrame(columns=columns), reasons
    wide = _wide(data.runs, need)
    frames = []
    for design, baseline in pairs.items():
        d = wide.xs(design, axis=1, level="label")
        b = wide.xs(baseline, axis=1, level="label")
        avoided = b["acute_cost"] - d["acute_cost"]
        pooled = d["pooled_funding"].where(d["pooled_funding"] > 0)
        net = avoided - d["running_cost"]
        per = pd.DataFrame(
            {
                "acute_cost_avoided": avoided,
                "avoided_per_dollar": avoided / pooled,
                "net_avoided": net,
                "net_per_dollar": net / pooled,
                "system_cost_saved": b["total_system_cost"] - d["total_system_cost"],
            }
        )
        tidy = per.melt(var_name="measure").dropna()
        tidy["design"], tidy["baseline"] = design, baseline
        frames.append(tidy)
    tidy = pd.concat(frames, ignore_index=True)
    g = tidy.groupby(["design", "baseline", "measure"], sort=False)["value"]
    out = pd.DataFrame(
        {
            "median": g.median(),
            "low": g.quantile(LOW),
            "high": g.quantile(HIGH),
            "positive": g.apply(lambda v: float((v > 0).mean())),
            "n": g.count(),
        }
    ).reset_index()
    return out[columns], reasons


# --- aggregation of the series and events ----------------------------------------------------


def _quantiles(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """low/median/high of ``value`` per group."""
    if frame.empty:
        return pd.DataFrame(columns=["low", "median", "high"])
    q = frame.groupby(by, observed=True, sort=False)["value"].quantile([LOW, 0.5, HIGH])
    q = q.unstack(-1)
    q.columns = ["low", "median", "high"]
    return q


def trajectories(data: ReportData) -> dict[str, pd.DataFrame]:
    """Bands over the months: per series (trust, unmet_need_share, cumulative_*) and design."""
    ts = data.timeseries
    wanted = ["trust", "unmet_need_share", "cumulative_spend", "cumulative_budget"]
    sub = ts[ts["series"].isin(wanted)]
    q = _quantiles(sub, ["series", "label", "partner", "month"])
    out = {s: q.xs(s, level="series") for s in wanted if s in q.index.get_level_values(0)}
    trust = ts[ts["series"] == "trust"]
    if not trust.empty:
        mean = trust.groupby(["label", "run", "month"], observed=True, sort=False)["value"].mean()
        out["mean_trust"] = _quantiles(mean.reset_index(), ["label", "month"])
    return out


def spend_frames(data: ReportData) -> dict[str, pd.DataFrame]:
    """Totals over the horizon per run, summarised per design: by partner and by payer.

    ``partners``/``payers``: design, name, median, low, high, mean, share (of the design's
    mean total). ``services``: mean total spend by service (partners) and the holder's own
    lines, per design. ``shift``: the holder's own-line share of pooled spend and its
    need-fair share (own share minus cost_shift_index), per run.
    """
    ts = data.timeseries
    sub = ts[ts["series"].isin(["spend", "payer_spend"])]
    totals = sub.groupby(["series", "label", "run", "partner"], observed=True, sort=False)[
        "value"
    ].sum()
    totals = totals.reset_index()
    out: dict[str, pd.DataFrame] = {}
    for series, key in (("spend", "partners"), ("payer_spend", "payers")):
        part = totals[totals["series"] == series]
        if part.empty:
            out[key] = pd.DataFrame()
            continue
        g = part.groupby(["label", "partner"], observed=True, sort=False)["value"]
        frame = pd.DataFrame(
            {
                "median": g.median(),
                "low": g.quantile(LOW),
                "high": g.quantile(HIGH),
                "mean": g.mean(),
            }
        ).reset_index()
        frame = frame.sort_values("label", kind="stable").reset_index(drop=True)
        frame["share"] = frame["mean"] / frame.groupby("label", observed=True)["mean"].transform(
            "sum"
        ).where(lambda s: s > 0)
        out[key] = frame
    partners = out.get("partners", pd.DataFrame())
    if not partners.empty:
        partners["own"] = partners["partner"].astype(str).str.contains(":", regex=False)
        partners["service"] = [
            _service_of(data, lab, str(name))
            for lab, name in zip(partners["label"], partners["partner"], strict=True)
        ]
        services = partners[~partners["own"]].pivot_table(
            index="label", columns="service", values="mean", aggfunc="sum", observed=True
        )
        own = partners[partners["own"]].groupby("label", observed=True)["mean"].sum()
        services.insert(0, "holder's own lines", own.reindex(services.index).fillna(0.0))
        services = services.reindex([lab for lab in data.labels if lab in services.index])
        if not (services["holder's own lines"] > 0).any():
            services = services.drop(columns="holder's own lines")
        out["services"] = services
        spend = totals[totals["series"] == "spend"]
        own_run = spend.assign(own=spend["partner"].astype(str).str.contains(":", regex=False))
        per_run = own_run.groupby(["label", "run", "own"], observed=True)["value"].sum()
        per_run = per_run.unstack("own", fill_value=0.0)
        with_own = set(partners.loc[partners["own"], "label"].astype(str))
        per_run = per_run[per_run.index.get_level_values("label").isin(with_own)]
        if True in per_run.columns and not per_run.empty:
            total = per_run.sum(axis=1)
            share = (per_run[True] / total.where(total > 0)).rename("own_share").reset_index()
            shift = (
                data.runs[["key", "cost_shift_index"]] if "cost_shift_index" in data.runs else None
            )
            if shift is not None:
                share = share.merge(shift, left_on="run", right_on="key")
                share["fair_share"] = share["own_share"] - share["cost_shift_index"]
                out["shift"] = share
    return out


def _service_of(data: ReportData, label: str, line: str) -> str:
    if ":" in line:
        return line.split(":", 1)[1]
    for provider in data.scenario(label).get("providers") or []:
        if provider.get("name") == line:
            return str(provider.get("service", "unknown"))
    return "unknown"


def governance_frames(data: ReportData) -> dict[str, pd.DataFrame]:
    """Governance activity per design: counts of audit events per run, and tiers."""
    ev = data.events
    runs = data.runs[data.runs["key"].isin(data.detail_keys)]  # the runs whose events were read
    keys = runs["key"]
    conditions = {
        "approvals": ev["action"] == "approval",
        "approvals rejected": (ev["action"] == "approval") & (ev["outcome"] == "rejected"),
        "challenges": ev["action"] == "challenge",
        "escalations": ev["action"] == "escalate",
        "overturned": (ev["action"] == "escalation_decision") & (ev["outcome"] == "overturned"),
        "findings": ev["action"] == "finding",
        "clawback events": ev["action"] == "clawback",
        "exit notices": ev["action"] == "exit_notice",
        "exits": ev["action"] == "exit",
        "disengagements": ev["action"] == "disengage",
        "blocked by validation": ev["action"] == "block",
    }
    counts = pd.DataFrame(index=pd.Index(keys, name="run"))
    for name, mask in conditions.items():
        counts[name] = ev.loc[mask, "run"].value_counts().reindex(keys, fill_value=0).to_numpy()
    counts["label"] = runs["label"].to_numpy()
    for metric in ("disputes_raised", "disputes_upheld", "clawbacks", "partner_exits"):
        if metric in runs:
            counts[metric] = runs[metric].to_numpy()
    activity = counts.groupby("label", observed=True, sort=False).mean(numeric_only=True)
    if "ended_early" in runs:
        g = runs.groupby("label", observed=True, sort=False)
        activity["ended early"] = g["ended_early"].mean()
        ended = runs[runs["ended_early"] > 0]
        activity["median end month"] = (
            ended.groupby("label", observed=True)["ended_month"].median().reindex(activity.index)
        )
    if "detection_lag_mean" in runs and "disallowed_spend" in runs:
        found = runs[runs["disallowed_spend"] > 0]
        activity["detection lag"] = (
            found.groupby("label", observed=True)["detection_lag_mean"]
            .median()
            .reindex(activity.index)
        )
        activity["runs with disallowed spend"] = (
            runs.assign(d=runs["disallowed_spend"] > 0)
            .groupby("label", observed=True)["d"]
            .mean()
            .reindex(activity.index)
        )
    # cases heard at each tier: first hearings (challenge outcome) and escalations (target)
    heard = pd.concat(
        [
            ev.loc[ev["action"] == "challenge", ["label", "run", "outcome"]].rename(
                columns={"outcome": "tier"}
            ),
            ev.loc[ev["action"] == "escalate", ["label", "run", "target"]].rename(
                columns={"target": "tier"}
            ),
        ]
    )
    n_runs = runs.groupby("label", observed=True).size()
    tiers = heard.groupby(["label", "tier"], observed=True, sort=False).size().rename("cases")
    tiers = tiers.reset_index()
    tiers["per_run"] = tiers["cases"] / tiers["label"].map(n_runs).astype(float)
    tiers["level"] = [
        _tier_level(data, lab, str(t)) for lab, t in zip(tiers["label"], tiers["tier"], strict=True)
    ]
    overturned = ev[(ev["action"] == "escalation_decision") & (ev["outcome"] == "overturned")]
    over = overturned.groupby(["label", "actor"], observed=True).size()
    tiers["overturned_per_run"] = [
        over.get((lab, t), 0) / n_runs[lab]
        for lab, t in zip(tiers["label"], tiers["tier"], strict=True)
    ]
    tiers = tiers.sort_values(["label", "level"], kind="stable")
    return {"activity": activity, "tiers": tiers}


def _tier_level(data: ReportData, label: str, tier: str) -> int:
    ladder = (data.scenario(label).get("governance") or {}).get("escalation") or {}
    names = [t.get("name") for t in ladder.get("tiers") or []]
    return names.index(tier) + 1 if tier in names else 0


# --- assumptions -----------------------------------------------------------------------------


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """A resolved scenario as dotted paths; list items by name (or service), as ``--set`` does."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        if not data and prefix:
            out[prefix] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and data and all(isinstance(i, dict) for i in data):
        for i, item in enumerate(data):
            name = item.get("name", item.get("service", str(i)))
            rest = {k: v for k, v in item.items() if k != "name"} if "name" in item else item
            out.update(flatten(rest, f"{prefix}.{name}"))
    else:
        out[prefix] = data
    return out


def assumptions_frame(data: ReportData) -> pd.DataFrame:
    """Every parameter of every design: rows are dotted paths, columns designs (None if absent)."""
    designs = [d for d in dict.fromkeys(data.label_design.get(lab, lab) for lab in data.labels)]
    designs += [d for d in data.scenarios if d not in designs]
    flat = {
        d: {
            k: _plain(v)
            for k, v in flatten(data.scenarios.get(d, {})).items()
            if k.split(".")[0] not in _METADATA_FIELDS
        }
        for d in designs
        if d in data.scenarios
    }
    paths = list(dict.fromkeys(p for d in flat.values() for p in d))
    return pd.DataFrame(
        {d: [values.get(p) for p in paths] for d, values in flat.items()}, index=paths
    )


# --- HTML ------------------------------------------------------------------------------------

CSS = """
:root { --ink: #1b1b1b; --muted: #5a5a5a; --rule: #d8d8d8; --accent: #0072B2;
  --best: #dcefe4; --diff: #fff1cc; --warn: #fbe3d6; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 10.5pt;
  line-height: 1.45; color: var(--ink); max-width: 1000px; margin: 1.5em auto;
  padding: 0 1.5em; background: #fff; }
h1 { font-size: 19pt; margin: 0 0 .2em; }
h2 { font-size: 14pt; margin: 2em 0 .6em; padding-bottom: .2em;
  border-bottom: 2px solid var(--accent); break-after: avoid; }
h3 { font-size: 11.5pt; margin: 1.4em 0 .4em; break-after: avoid; }
p, li { max-width: 46em; }
.lede { color: var(--muted); margin-top: 0; }
.note { color: var(--muted); font-size: 9pt; }
.warning { background: var(--warn); padding: .5em .8em; border-left: 4px solid #D55E00; }
nav.toc ol { columns: 2; font-size: 9.5pt; }
nav.toc a { color: var(--accent); }
ul.findings li { margin-bottom: .6em; }
table { border-collapse: collapse; font-size: 8.5pt; margin: .5em 0 1.2em; width: auto; }
th, td { border-bottom: 1px solid var(--rule); padding: .28em .5em; text-align: right;
  vertical-align: top; }
th { background: #f1f4f7; font-weight: bold; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td .iv { display: block; color: var(--muted); font-size: 7.5pt; white-space: nowrap; }
table.designs td { font-size: 8.5pt; }
table.designs td .iv { white-space: normal; }
td.best { background: var(--best); font-weight: bold; }
td.best .mark::before { content: "\\2605\\00a0"; }
td .unclear { color: var(--muted); font-weight: normal; font-size: 7.5pt; display: block; }
td .metricdef { display: block; color: var(--muted); font-size: 7pt; font-weight: normal;
  max-width: 22em; }
td.same { color: var(--muted); }
table.params td { font-size: 7.5pt; overflow-wrap: anywhere; max-width: 14em; }
table.params td:first-child { min-width: 16em; max-width: 22em; overflow-wrap: normal; }
table.params td.diff { background: var(--diff); font-weight: bold; }
table.params td.missing { color: #aaa; }
.tablewrap { overflow-x: auto; }
figure { margin: 1em 0 1.4em; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 8.5pt; color: var(--muted); margin-top: .3em; max-width: 46em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: .3em 0; }
dt { color: var(--muted); } dd { margin: 0; word-break: break-word; }
code { font-size: 90%; }
@page { size: A4; margin: 14mm 13mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; }
  nav.toc { break-after: page; }
  section.major { break-before: page; }
  .tablewrap { overflow: visible; }
  a { color: inherit; text-decoration: none; }
  table { font-size: 7.5pt; max-width: 100%; }
  th, td { padding: .22em .35em; }
  td { overflow-wrap: anywhere; }
  td:first-child { overflow-wrap: normal; }
  table.comparison td:first-child { min-width: 11em; }
  td .iv { white-space: normal; font-size: 6.8pt; }
  td .metricdef { font-size: 6.5pt; max-width: 15em; }
  table.params td { font-size: 6.8pt; }
  table.params td:first-child { min-width: 12em; }
}
"""


def _figure(fig, alt: str, caption: str) -> str:
    """An embedded figure: SVG as a data URL in an <img> (no script, no id clashes)."""
    data = base64.b64encode(figures.svg(fig)).decode("ascii")
    width, height = fig.get_size_inches()
    return (
        f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{esc(alt)}" '
        f'width="{width * 96:.0f}" height="{height * 96:.0f}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "", raw_header: bool = False
) -> str:
    """A table; a column whose first cell is text (class "text") gets a left-aligned header.

    A cell of the form ``("rowspan", n, html)`` spans ``n`` rows; ``None`` is a spanned cell.
    """
    rows = [list(r) for r in rows]
    first = rows[0] if rows else []
    texts = [
        isinstance(c, str) and c.startswith('<td class="text') or isinstance(c, tuple)
        for c in first
    ]
    klasses = [' class="text"' if i < len(texts) and texts[i] else "" for i in range(len(header))]
    head = "".join(
        f"<th{k}>{h if raw_header else esc(h)}</th>" for k, h in zip(klasses, header, strict=True)
    )
    body = "".join(
        "<tr>" + "".join(_cell(c) for c in row if c is not None) + "</tr>" for row in rows
    )
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<div class="tablewrap"><table{klass}><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _grouped(rows: list[list[Any]], size_of: Sequence[int]) -> list[list[Any]]:
    """Merge the first cell of consecutive rows of one group into a rowspan cell."""
    out, i = [], 0
    for n in size_of:
        for j in range(n):
            row = list(rows[i + j])
            row[0] = ("rowspan", n, row[0]) if j == 0 else None
            out.append(row)
        i += n
    return out


def _cell(cell: str | tuple[str, int, str]) -> str:
    if isinstance(cell, tuple):
        _, n, inner = cell
        inner = inner.removeprefix('<td class="text">').removesuffix("</td>")
        return f'<td class="text group" rowspan="{n}">{inner}</td>'
    return cell if cell.startswith("<td") else f"<td>{cell}</td>"


def _chunks(items: Sequence[str], size: int = DESIGNS_PER_TABLE) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)] or [[]]


class _Report:
    """Builds the HTML of one report, section by section."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.symbol = data.symbol
        self.summary, offered = ranked_summary(data)
        self.headlines = headline_frame(self.summary, data.runs[data.runs["label"].isin(offered)])
        self.sections: list[tuple[str, str, str]] = []  # (id, title, html)

    def money(self, value: float) -> str:
        return figures.money(value, self.symbol)

    # -- sections ---------------------------------------------------------------------------

    def build(self) -> str:
        d = self.data
        has_runs = not d.runs.empty
        self.add("summary", "Summary", self.section_summary())
        if has_runs:
            self.add("return", "Return on the pool", self.section_return())
            self.add("comparison", "Designs compared", self.section_comparison())
            self.add("trajectories", "Over the months", self.section_trajectories())
            self.add("money", "Where the money went", self.section_money())
            self.add("governance", "Governance activity", self.section_governance())
        if d.indices is not None:
            self.add("sensitivity", "Which rules matter most", self.section_sensitivity())
        self.add("assumptions", "Assumptions", self.section_assumptions())
        self.add("reproducibility", "Reproducibility", self.section_reproducibility())
        return self.page()

    def add(self, key: str, title: str, body: str) -> None:
        self.sections.append((key, title, body))

    def page(self) -> str:
        d = self.data
        m = d.manifest
        title = f"poolpilot report: {d.folder.resolve().name}"
        designs = len(d.labels)
        reps = m.get("replicates", d.runs["replicate"].nunique() if not d.runs.empty else 0)
        if designs:
            lede = (
                f"{designs} design{'s' if designs != 1 else ''}, {esc(reps)} replicate"
                f"{'s' if reps != 1 else ''} each"
            )
        else:
            lede = "No simulation runs in this folder"
        lede += (
            f"; study run {esc(m.get('created'))}" if m.get("created") else ""
        ) + f"; poolpilot {esc(m.get('poolpilot_version', __version__))}."
        toc = "".join(
            f'<li><a href="#{key}">{esc(title)}</a></li>' for key, title, _ in self.sections
        )
        body = "".join(
            f'<section id="{key}" class="{"major" if i > 1 else "lead"}">'
            f"<h2>{i + 1}. {esc(title)}</h2>{html_}</section>"
            for i, (key, title, html_) in enumerate(self.sections)
        )
        warn = ""
        if not d.failed.empty:
            warn = (
                f'<p class="warning">{len(d.failed)} run(s) failed and are left out of every '
                "number below; the reproducibility section lists them.</p>"
            )
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(title)}</h1><p class='lede'>{lede}</p>{warn}</header>"
            f'<nav class="toc"><h2>Contents</h2><ol>{toc}</ol></nav>'
            f"{body}</body></html>\n"
        )

    def section_summary(self) -> str:
        d = self.data
        if d.runs.empty:
            return "<p>This folder holds no finished runs, so there is nothing to compare.</p>"
        n = int(d.runs["replicate"].nunique())
        reps = f"{n} replicate{'s' if n != 1 else ''}"
        if len(d.labels) > 1:
            intro = (
                f"<p>Each design ran the same {reps}: replicate <em>r</em> of every design faces "
                "the same need, so designs are compared run by run (paired by seed). A value is "
                "the median over replicates with its 90% interval (the 5th to the 95th "
                "percentile); a difference is <em>clear</em> when the 90% interval of the paired "
                "differences excludes zero.</p>"
            )
        else:
            intro = (
                f"<p>One design, {reps}. A value is the median over replicates with its 90% "
                "interval (the 5th to the 95th percentile).</p>"
            )
        if d.collapsed:
            intro += (
                f'<p class="note">This folder samples {d.points} points of the parameter space '
                f"({esc(', '.join(d.varied))}), a sensitivity study or a large grid. The points "
                "are not shown as designs of their own: each design's values below range over "
                "the sampled points as well as the replicates, and comparisons pair runs by "
                "replicate and point.</p>"
            )
        items = "".join(
            f'<li data-metric="{esc(metric)}">{text}</li>'
            for metric, text in summary_sentences(self.headlines, self.symbol)
        )
        ret = self.return_sentence()
        return f'{intro}{self.population_note()}<ul class="findings">{items}</ul>{ret}'

    def population_note(self) -> str:
        """Say so when the designs do not all serve the same population."""
        d = self.data
        groups: dict[str, list[str]] = {}
        for label in d.labels:
            groups.setdefault(population_key(d.scenario(label)), []).append(label)
        if len(groups) < 2 or not d.scenarios:
            return ""
        listing = "; ".join(_names(g, cap=len(g)) for g in groups.values())
        return (
            f'<p class="note">These designs serve {len(groups)} different populations '
            f"(segments, services, acute events or horizon differ): {listing}. Between designs "
            "with different populations, a difference reflects the population as well as the "
            "design.</p>"
        )

    def return_sentence(self) -> str:
        table, reasons = self.returns
        if table.empty:
            if not self.data.baselines:
                return (
                    "<p><strong>Return on the pool:</strong> this folder has no no-pool "
                    "baseline, so the acute cost avoided by pooling cannot be estimated "
                    "(<code>poolpilot compare</code> adds one unless told "
                    "<code>--no-baseline</code>).</p>"
                )
            return (
                "<p><strong>Return on the pool:</strong> no design here has a comparable "
                "no-pool baseline (see section 2).</p>"
            )
        net = table[table["measure"] == "net_per_dollar"].sort_values("median", ascending=False)
        if net.empty:
            return ""
        top = net.iloc[0]
        if top["low"] > 0:
            verdict = (
                "clearly above zero: the acute cost it avoided more than paid for running the pool"
            )
        elif top["high"] < 0:
            verdict = (
                "clearly below zero: the acute cost it avoided did not cover the pool's running "
                "costs"
            )
        else:
            verdict = "<em>not clearly different from zero</em>"
        which = "the best net return is" if len(net) > 1 else "the net return is"
        return (
            f'<p data-metric="net_per_dollar"><strong>Return on the pool:</strong> {which} '
            f"{_names([top['design']])}'s: acute cost avoided against "
            f"{_names([top['baseline']])}, net of running costs, per unit pooled, was a median "
            f"{esc(_ratio(top['median']))} (90% interval {esc(_ratio(top['low']))} to "
            f"{esc(_ratio(top['high']))}), {verdict}. Section 2 has the details"
            + (" and the other designs." if len(net) > 1 or reasons else ".")
            + "</p>"
        )

    @property
    def returns(self) -> tuple[pd.DataFrame, dict[str, str]]:
        if not hasattr(self, "_returns"):
            self._returns = pool_return(self.data)
        return self._returns

    def section_return(self) -> str:
        d = self.data
        table, reasons = self.returns
        intro = (
            "<p>Pooling exists to pay for community services that prevent acute events "
            "(readmissions, crises, emergency visits). For each pooled design, the acute cost it "
            "avoided is the no-pool baseline's acute cost minus its own, <em>replicate by "
            "replicate</em> (the same seed, so the same need). That is then divided by the money "
            "pooled, and reduced by the pool's running costs (administration). Values are the "
            "median and the 90% interval over the paired replicates; <em>above zero</em> is the "
            "share of paired replicates in which the design avoided cost.</p>"
        )
        if not d.baselines:
            return intro + (
                '<p class="warning">This folder has no no-pool baseline, so the return on the '
                "pool cannot be estimated. <code>poolpilot compare</code> runs the no-pool "
                "baseline of the same population alongside the designs unless "
                "<code>--no-baseline</code> is given.</p>"
            )
        parts = [intro]
        if not table.empty:
            rows = []
            for design, part in table.groupby("design", sort=False):
                part = part.set_index("measure")
                cells = [f'<td class="text">{esc(design)}</td>']
                for measure, _, kind in _RETURN_MEASURES:
                    if measure not in part.index:
                        cells.append("<td>n/a</td>")
                        continue
                    r = part.loc[measure]
                    show = self.money if kind == "money" else _ratio
                    cells.append(
                        f"<td>{esc(show(r['median']))}<span class='iv'>"
                        f"{esc(show(r['low']))} to {esc(show(r['high']))}</span>"
                        f"<span class='iv'>above zero in {r['positive']:.0%}</span></td>"
                    )
                cells.append(f'<td class="text">{esc(part["baseline"].iloc[0])}</td>')
                rows.append(cells)
            header = ["Design", *[t for _, t, _ in _RETURN_MEASURES], "Baseline"]
            parts.append(_table(header, rows))
            net = table[table["measure"] == "net_per_dollar"].set_index("design")
            if not net.empty:
                fig = figures.intervals(
                    net[["median", "low", "high"]],
                    "Acute cost avoided per unit pooled, net of running costs",
                    "Net acute cost avoided per unit pooled (median and 90% interval)",
                )
                parts.append(
                    _figure(
                        fig,
                        "Net return per unit pooled, by design",
                        "Right of the dashed line: the design avoided more acute cost than it "
                        "cost to run, per unit pooled, against the no-pool baseline.",
                    )
                )
        if reasons:
            by_reason: dict[str, list[str]] = {}
            for design, reason in reasons.items():
                by_reason.setdefault(reason, []).append(design)
            items = "".join(
                f"<li>No return computed for {_names(designs, cap=len(designs))}: "
                f"{esc(reason)}.</li>"
                for reason, designs in by_reason.items()
            )
            parts.append(f"<ul>{items}</ul>")
        return "".join(parts)

    def section_comparison(self) -> str:
        d = self.data
        s = self.summary
        if s.empty:
            return "<p>No metrics to compare.</p>"
        intro = (
            "<p>Each cell: the median over replicates and, below it, the 90% interval. "
            "<strong>&#9733; marks the best design</strong> in a row (the direction that counts "
            "as better is given under each metric); when the best is not clearly better than "
            "the runner-up it says so. <em>&#8776; best</em> marks designs whose paired "
            "difference from the best has a 90% interval that includes zero: not clearly "
            "different from the best. Rows without a direction (inputs, descriptions of "
            "activity) mark nothing.</p>"
        )
        cells = s.set_index(["metric", "design"])
        metrics = list(dict.fromkeys(s["metric"]))
        blocks = []
        for chunk in _chunks(d.labels):
            rows = []
            for metric in metrics:
                definition = METRICS[metric].definition if metric in METRICS else ""
                direction = DIRECTIONS.get(metric)
                stat = "share of runs" if kind_of(metric) == "runs" else ""
                label = (
                    f'<td class="text"><code>{_wrap(metric)}</code><span class="metricdef">'
                    f"{esc(definition)}"
                    + (f" ({esc(stat)})" if stat else "")
                    + (f"; {esc(direction)} is better" if direction else "")
                    + "</span></td>"
                )
                row = [label]
                for design in chunk:
                    if (metric, design) not in cells.index:
                        row.append("<td>n/a</td>")
                        continue
                    c = cells.loc[(metric, design)]
                    row.append(self.comparison_cell(metric, design, c))
                rows.append(f'<tr data-metric="{esc(metric)}">' + "".join(row) + "</tr>")
            head = "".join(f'<th data-design="{esc(x)}">{_wrap(x)}</th>' for x in chunk)
            blocks.append(
                '<div class="tablewrap"><table class="comparison"><thead><tr>'
                f'<th class="text">Metric</th>{head}</tr></thead><tbody>{"".join(rows)}'
                "</tbody></table></div>"
            )
        note = ""
        if len(blocks) > 1:
            note = (
                f"<p class='note'>{len(d.labels)} designs, shown {DESIGNS_PER_TABLE} at a time; "
                "the best mark compares all of them.</p>"
            )
        return intro + note + "".join(blocks)

    def comparison_cell(self, metric: str, design: str, c: pd.Series) -> str:
        value = esc(fmt(metric, c["centre"], self.symbol))
        interval = esc(fmt_interval(metric, c["low"], c["high"], self.symbol))
        attrs = f'data-design="{esc(design)}"'
        if c["same"]:
            return f'<td class="same" {attrs}>{value}<span class="iv">{interval}</span></td>'
        if c["best"]:
            flag = "" if c["clear"] else '<span class="unclear">best, not clearly</span>'
            return (
                f'<td class="best" {attrs} title="best in this row"><span class="mark">'
                f'{value}</span><span class="iv">{interval}</span>{flag}</td>'
            )
        flag = ""
        if c["direction"] and not c["clear"] and np.isfinite(c["diff_median"]):
            flag = (
                '<span class="unclear" title="paired 90% interval of the difference from the '
                'best includes zero">&#8776; best</span>'
            )
        return f"<td {attrs}>{value}<span class='iv'>{interval}</span>{flag}</td>"

    def section_trajectories(self) -> str:
        d = self.data
        traj = trajectories(d)
        parts = [
            "<p>Lines are medians over replicates; shaded bands run from the 5th to the 95th "
            "percentile. Payers' trust is dashed.</p>"
        ]
        if "mean_trust" in traj:
            mean = traj["mean_trust"].reindex(d.labels, level=0)
            fig = figures.trust_overview(mean, bands=len(d.labels) <= 4)
            parts.append(
                _figure(
                    fig,
                    "Mean partner trust over the months, by design",
                    "Mean trust of the partners (providers and payers) in the holder"
                    + (
                        "; bands omitted with more than four designs, see each design below."
                        if len(d.labels) > 4
                        else "."
                    ),
                )
            )
        empty = pd.DataFrame(columns=["low", "median", "high"])
        for label in d.labels:
            payers = [p.get("name") for p in d.scenario(label).get("payers") or []]

            def part(series: str, label: str = label) -> pd.DataFrame:
                q = traj.get(series)
                if q is None or label not in q.index.get_level_values(0):
                    return empty
                return q.xs(label, level="label")

            fig = figures.design_trajectories(
                "",
                part("trust"),
                part("unmet_need_share"),
                part("cumulative_spend"),
                part("cumulative_budget"),
                payers,
                self.symbol,
            )
            parts.append(f"<h3>{esc(label)}</h3>")
            parts.append(
                _figure(
                    fig,
                    f"Trajectories of {label}",
                    f"{esc(label)}: trust by partner (top), unmet need by service as a share of "
                    "its need cost (bottom left), and cumulative spend against the cumulative "
                    "budget (bottom right).",
                )
            )
        return "".join(parts)

    def section_money(self) -> str:
        d = self.data
        frames = spend_frames(d)
        parts = []
        services = frames.get("services")
        if services is not None and not services.empty:
            hatched = pd.DataFrame(False, index=services.index, columns=services.columns)
            if "holder's own lines" in hatched:
                hatched["holder's own lines"] = True
            fig = figures.stacked_bars(
                services,
                "Pooled spend by service over the pilot",
                f"Spend over the horizon ({self.symbol}; mean over replicates)",
                hatched=hatched,
                formatter=figures.money_formatter(self.symbol),
            )
            parts.append(
                _figure(
                    fig,
                    "Spend by service and the holder's own lines, by design",
                    "Hatched: the budget holder's own service lines. Other segments: partners' "
                    "services. Means are used so that the segments add up to the total.",
                )
            )
        shift = frames.get("shift")
        if shift is not None and not shift.empty:
            g = shift.groupby("label", observed=True, sort=False)
            table = pd.DataFrame(
                {
                    "spend_median": g["own_share"].median(),
                    "spend_low": g["own_share"].quantile(LOW),
                    "spend_high": g["own_share"].quantile(HIGH),
                    "fair_median": g["fair_share"].median(),
                    "fair_low": g["fair_share"].quantile(LOW),
                    "fair_high": g["fair_share"].quantile(HIGH),
                }
            )
            table = table.reindex([lab for lab in d.labels if lab in table.index])
            parts.append(
                _figure(
                    figures.cost_shift(table),
                    "Holder's own lines: share of spend against need-fair share",
                    "Only designs whose holder runs service lines of its own. The gap between "
                    "the two markers is the cost shift index (own lines' share of pooled spend "
                    "minus their share of need cost).",
                )
            )
        partners = frames.get("partners")
        if partners is not None and not partners.empty:
            rows = []
            for r in partners.itertuples(index=False):
                who = "holder's own line" if r.own else "partner"
                rows.append(
                    [
                        f'<td class="text">{esc(r.label)}</td>',
                        f'<td class="text">{esc(r.partner)}</td>',
                        f'<td class="text">{esc(r.service)}</td>',
                        f'<td class="text">{who}</td>',
                        esc(self.money(r.median)),
                        esc(f"{self.money(r.low)} to {self.money(r.high)}"),
                        esc(f"{r.share:.1%}") if np.isfinite(r.share) else "n/a",
                    ]
                )
            sizes = partners.groupby("label", observed=True, sort=False).size().tolist()
            parts.append("<h3>Spend by partner</h3>")
            parts.append(
                _table(
                    [
                        "Design",
                        "Line",
                        "Service",
                        "Run by",
                        "Spend (median)",
                        "90% interval",
                        "Share",
                    ],
                    _grouped(rows, sizes),
                )
            )
        payers = frames.get("payers")
        if payers is not None and not payers.empty:
            rows = [
                [
                    f'<td class="text">{esc(r.label)}</td>',
                    f'<td class="text">{esc(r.partner)}</td>',
                    esc(self.money(r.median)),
                    esc(f"{self.money(r.low)} to {self.money(r.high)}"),
                    esc(f"{r.share:.1%}") if np.isfinite(r.share) else "n/a",
                ]
                for r in payers.itertuples(index=False)
            ]
            sizes = payers.groupby("label", observed=True, sort=False).size().tolist()
            parts.append("<h3>Spend charged to each payer</h3>")
            parts.append(
                _table(
                    ["Design", "Payer", "Spend (median)", "90% interval", "Share"],
                    _grouped(rows, sizes),
                )
            )
        if not parts:
            return "<p>No spend series in this folder.</p>"
        return "".join(parts)

    def section_governance(self) -> str:
        d = self.data
        frames = governance_frames(d)
        act = frames["activity"]
        parts = [
            "<p>Counts are means per run (per pilot) over the replicates, from the audit "
            "records. Approvals are changes put to a partner vote; challenges are partners "
            "contesting a decision; escalations take a challenge up the ladder; "
            "<em>overturned</em> counts decisions reversed on challenge.</p>"
        ]

        def num(value: Any, pct: bool = False) -> str:
            if value is None or not np.isfinite(value):
                return "&#8212;"
            return esc(f"{value:.0%}") if pct else esc(f"{value:.1f}")

        cols_a = [
            ("approvals", "Approvals sought"),
            ("approvals rejected", "rejected"),
            ("challenges", "Challenges"),
            ("escalations", "Escalations"),
            ("overturned", "Overturned"),
            ("disputes_raised", "Disputes raised"),
            ("disputes_upheld", "upheld"),
            ("blocked by validation", "Blocked by validation"),
        ]
        cols_b = [
            ("findings", "Findings", False),
            ("clawback events", "Clawbacks", False),
            ("clawbacks", "Recovered", "money"),
            ("runs with disallowed spend", "Runs with disallowed spend", True),
            ("detection lag", "Detection lag (months)", False),
            ("disengagements", "Disengagements", False),
            ("exit notices", "Exit notices", False),
            ("exits", "Exits", False),
            ("ended early", "Ended early (runs)", True),
            ("median end month", "Ended in month", False),
        ]
        rows = [
            [f'<td class="text">{_wrap(lab)}</td>']
            + [num(act.at[lab, c]) if c in act else "&#8212;" for c, _ in cols_a]
            for lab in act.index
        ]
        parts.append("<h3>Decisions, challenges and escalations</h3>")
        parts.append(_table(["Design", *[t for _, t in cols_a]], rows))
        rows = []
        for lab in act.index:
            row = [f'<td class="text">{_wrap(lab)}</td>']
            for c, _, how in cols_b:
                if c not in act:
                    row.append("&#8212;")
                elif how == "money":
                    row.append(esc(self.money(act.at[lab, c])))
                else:
                    row.append(num(act.at[lab, c], pct=how is True))
            rows.append(row)
        parts.append("<h3>Money recovered, exits and early ends</h3>")
        parts.append(
            "<p class='note'>Detection lag: months from disallowed spend arising to its "
            "detection, median over the runs that had disallowed spend. Ended in month: median, "
            "over the runs that ended early.</p>"
        )
        parts.append(_table(["Design", *[t for _, t, _ in cols_b]], rows))
        tiers = frames["tiers"]
        if not tiers.empty:
            pivot = tiers.assign(
                col=[
                    f"tier {lv}" if lv else "outside the ladder" for lv in tiers["level"].to_numpy()
                ]
            ).pivot_table(
                index="label", columns="col", values="per_run", aggfunc="sum", observed=True
            )
            pivot = pivot.reindex([lab for lab in d.labels if lab in pivot.index])
            pivot = pivot[sorted(pivot.columns, key=lambda c: (c.startswith("outside"), c))]
            fig = figures.stacked_bars(
                pivot,
                "Cases heard at each tier of the escalation ladder",
                "Cases per run (mean over replicates)",
                legend_title="tier (1 = first hearing)",
            )
            parts.append(
                _figure(
                    fig,
                    "Cases heard at each tier, by design",
                    "Tier 1 counts challenges at their first hearing; higher tiers count "
                    "escalations into them. Tier names differ by design: see the table.",
                )
            )
            rows = [
                [
                    f'<td class="text">{esc(r.label)}</td>',
                    esc(r.level) if r.level else "&#8212;",
                    f'<td class="text">{esc(r.tier)}</td>',
                    esc(f"{r.per_run:.2f}"),
                    esc(f"{r.overturned_per_run:.2f}"),
                ]
                for r in tiers.itertuples(index=False)
            ]
            sizes = tiers.groupby("label", observed=True, sort=False).size().tolist()
            parts.append("<h3>Escalations by tier</h3>")
            parts.append(
                _table(
                    ["Design", "Tier", "Name", "Cases per run", "Overturned per run"],
                    _grouped(rows, sizes),
                )
            )
        return "".join(parts)

    def section_sensitivity(self) -> str:
        from poolpilot.analysis import sensitivity as sa

        idx = self.data.indices
        assert idx is not None
        if idx.empty:
            return "<p>The sensitivity indices table is empty.</p>"
        parts = [
            "<p>Global sensitivity analysis: how much of each metric's variation each "
            "parameter explains. Sobol'/FAST: S1 is a parameter's effect alone, ST its total "
            "effect including interactions. Morris: mu* is the mean absolute elementary effect "
            "(influence), sigma its spread (non-linearity or interactions). Whiskers and "
            "intervals are 95% bootstrap intervals where the method gives them.</p>"
        ]
        notes = idx.attrs.get("notes") if hasattr(idx, "attrs") else None
        if notes:
            parts.append(
                "<ul class='note'>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"
            )
        shown = 0
        pairs = idx[["metric", "method"]].drop_duplicates().itertuples(index=False)
        for metric, method in pairs:
            if method not in ("sobol", "fast", "morris"):
                continue
            if shown >= MAX_SENSITIVITY_FIGURES:
                parts.append(
                    f"<p class='note'>Figures stop at {MAX_SENSITIVITY_FIGURES}; the ranked "
                    "table below has every metric.</p>"
                )
                break
            try:
                fig = figures.sensitivity(idx, metric, method)
            except (ValueError, KeyError) as err:
                parts.append(f"<p class='note'>{esc(metric)} ({esc(method)}): {esc(err)}</p>")
                continue
            parts.append(
                _figure(
                    fig,
                    f"Sensitivity of {metric} ({method})",
                    f"<code>{esc(metric)}</code>, {esc(method)}.",
                )
            )
            shown += 1
        try:
            ranked = sa.rank(idx)
        except ValueError as err:
            parts.append(f"<p class='note'>Ranking not possible: {esc(err)}</p>")
            return "".join(parts)
        key = {"sobol": "ST", "fast": "ST", "morris": "mu_star", "rbd-fast": "S1", "delta": "delta"}
        top = ranked[ranked["index"] == ranked["method"].map(key)]
        top = top.sort_values(["metric", "method", "rank"], kind="stable")
        rows = []
        for r in top.itertuples(index=False):
            ci = (
                f"{r.ci_low:.3f} to {r.ci_high:.3f}"
                if np.isfinite(r.ci_low) and np.isfinite(r.ci_high)
                else "&#8212;"
            )
            rank = "&#8212;" if pd.isna(r.rank) else esc(int(r.rank))
            rows.append(
                [
                    f'<td class="text"><code>{esc(r.metric)}</code></td>',
                    f'<td class="text">{esc(r.method)}</td>',
                    rank,
                    f'<td class="text">{esc(r.parameter)}</td>',
                    esc(r.index),
                    esc(f"{r.value:.3f}") if np.isfinite(r.value) else "n/a",
                    esc(ci) if ci != "&#8212;" else ci,
                ]
            )
        parts.append("<h3>Parameters ranked by influence</h3>")
        parts.append(
            _table(
                ["Metric", "Method", "Rank", "Parameter", "Index", "Value", "95% interval"], rows
            )
        )
        return "".join(parts)

    def section_assumptions(self) -> str:
        d = self.data
        if not d.scenarios:
            return "<p>No resolved scenarios in manifest.json.</p>"
        parts = ["<h3>The designs</h3>"]
        rows = []
        for design, resolved in d.scenarios.items():
            entry = (d.manifest.get("scenarios") or {}).get(design, {})
            holder = (resolved.get("holder") or {}).get("kind")
            about = "".join(
                f"<span class='iv'>{esc(k)}: {esc(v)}</span>"
                for k, v in (
                    ("holder", holder),
                    ("horizon", f"{resolved.get('horizon_months')} months"),
                    ("hash", entry.get("hash")),
                )
                if v is not None
            )
            source = "".join(
                f"<span class='iv'>{esc(k)}: {esc(v)}</span>"
                for k, v in (
                    ("seed article", resolved.get("seed_article")),
                    ("example", resolved.get("example")),
                    ("basis", resolved.get("basis")),
                )
                if v not in (None, "")
            )
            rows.append(
                [
                    f'<td class="text"><strong>{esc(design)}</strong>{about}</td>',
                    f'<td class="text">{esc(resolved.get("description") or "")}{source}</td>',
                ]
            )
        parts.append(
            _table(["Design", "Description, seed article, example and basis"], rows, "designs")
        )
        frame = assumptions_frame(d)
        if frame.empty:
            parts.append("<p>No resolved scenarios in manifest.json.</p>")
            return "".join(parts)
        designs = list(frame.columns)
        if len(designs) > 1:
            differs = frame.apply(lambda r: len(set(r.fillna("\0"))) > 1, axis=1)
        else:
            differs = pd.Series(False, index=frame.index)
        parts.append(
            f"<p>{len(frame)} parameters (dotted paths, list items by name, as "
            f"<code>--set</code> takes them); {int(differs.sum())} differ between designs. "
            "Parameters that differ come first, with the values that differ from the most "
            "common one highlighted; &#8212; means the design has no such item.</p>"
        )
        diff = frame[differs]
        if not diff.empty:
            parts.append("<h3>Parameters that differ between designs</h3>")
            for chunk in _chunks(designs):
                rows = []
                for path, values in diff[chunk].iterrows():
                    full = diff.loc[path].fillna("\0")
                    mode = full.value_counts().index[0]
                    cells = [f'<td class="text"><code>{_path(path)}</code></td>']
                    for design in chunk:
                        v = values[design]
                        if v is None or (isinstance(v, float) and math.isnan(v)):
                            cls = "missing diff" if mode != "\0" else "missing"
                            cells.append(f'<td class="text {cls}">&#8212;</td>')
                        else:
                            cls = "diff" if v != mode else ""
                            cells.append(f'<td class="text {cls}">{esc(v)}</td>')
                    rows.append(cells)
                header = ["Parameter", *(_wrap(c) for c in chunk)]
                parts.append(_table(header, rows, cls="params", raw_header=True))
        same = frame[~differs]
        if not same.empty:
            title = "Parameters common to all designs" if len(designs) > 1 else "Parameters"
            parts.append(f"<h3>{title}</h3>")
            rows = [
                [
                    f'<td class="text"><code>{_path(p)}</code></td>',
                    f'<td class="text">{esc(v)}</td>',
                ]
                for p, v in same.iloc[:, 0].items()
            ]
            parts.append(_table(["Parameter", "Value"], rows, cls="params"))
        return "".join(parts)

    def section_reproducibility(self) -> str:
        d = self.data
        m = d.manifest
        n_runs = len(d.runs) + len(d.failed)
        fields = [
            ("poolpilot version (study)", m.get("poolpilot_version")),
            ("poolpilot version (report)", __version__),
            ("command", m.get("command")),
            ("created", m.get("created")),
            ("study seed", m.get("study_seed")),
            ("replicates", m.get("replicates")),
            ("runs", f"{n_runs} ({len(d.runs)} ok, {len(d.failed)} failed)"),
            ("varied", json.dumps(m.get("vary"), default=str) if m.get("vary") else "nothing"),
        ]
        known = {k for k in m} - {
            "poolpilot_version",
            "command",
            "created",
            "study_seed",
            "replicates",
            "seeds",
            "vary",
            "runs",
            "scenarios",
        }
        for key in sorted(known):
            value = m[key]
            fields.append(
                (key, value if isinstance(value, str) else json.dumps(value, default=str))
            )
        dl = "".join(
            f"<dt>{esc(k)}</dt><dd><code>{esc(v)}</code></dd>" for k, v in fields if v is not None
        )
        parts = [
            f"<dl>{dl}</dl>",
            "<p>Re-running the command with the same poolpilot version gives identical "
            "results, whatever the number of workers: each replicate's seed derives from the "
            "study seed.</p>",
        ]
        hashes = [
            [
                f'<td class="text">{esc(name)}</td>',
                f'<td class="text"><code>{esc(e.get("hash"))}</code></td>',
            ]
            for name, e in (m.get("scenarios") or {}).items()
        ]
        if hashes:
            parts.append("<h3>Scenario content hashes</h3>")
            parts.append(_table(["Design", "Hash"], hashes))
        seeds = m.get("seeds") or []
        if seeds:
            parts.append("<h3>Seeds by replicate</h3>")
            parts.append(
                _table(
                    ["Replicate", "Seed"],
                    [
                        [esc(i), f'<td class="text"><code>{esc(s)}</code></td>']
                        for i, s in enumerate(seeds)
                    ],
                )
            )
        if not d.failed.empty:
            rows = [
                [
                    f'<td class="text">{esc(r["design"])}</td>',
                    esc(r["replicate"]),
                    f'<td class="text"><code>{esc(str(r.get("error", ""))[:300])}</code></td>',
                ]
                for r in d.failed.to_dict("records")
            ]
            parts.append("<h3>Failed runs</h3>")
            parts.append(_table(["Design", "Replicate", "Error"], rows))
        return "".join(parts)


def _wrap(name: str) -> str:
    """A name that may wrap after its underscores (long design names in table headers)."""
    return "_<wbr>".join(esc(part) for part in str(name).split("_"))


def _path(path: str) -> str:
    """A dotted path that may wrap after its dots."""
    return ".<wbr>".join(esc(part) for part in path.split("."))


def _ratio(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.2f}".replace("-", _MINUS)


def render(data: ReportData) -> str:
    """The report's HTML for loaded results."""
    return _Report(data).build()


def write_report(folder: str | Path) -> Path:
    """Write ``folder/report.html`` from the results folder and return its path."""
    folder = Path(folder)
    text = render(load(folder))
    path = folder / REPORT_NAME
    tmp = folder / f".{REPORT_NAME}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
