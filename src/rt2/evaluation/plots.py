"""Bar charts of success rates with 95% confidence intervals (matplotlib, Agg backend): one
grouped bar chart (:func:`grouped_bars`) that every report's figure draws with."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rt2.evaluation.rates import Rate

if TYPE_CHECKING:
    from rt2.evaluation.report import Summary


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _rate_bars(
    ax: Any,
    x: np.ndarray,
    rates: Sequence[Rate | None],
    width: float,
    scale: float = 1.0,
    **bar: Any,
) -> None:
    """Bars of ``rates`` (x ``scale``) with their Wilson 95% intervals as error bars; a missing
    or empty rate leaves its bar out."""
    kept = [r if r is not None and r.n else None for r in rates]
    value = np.array([scale * r.rate if r else np.nan for r in kept])
    lo = [scale * (r.rate - r.low) if r else 0.0 for r in kept]
    hi = [scale * (r.high - r.rate) if r else 0.0 for r in kept]
    yerr = np.clip(np.array([lo, hi]), 0.0, None)  # (2, n)
    ax.bar(x, value, width, yerr=yerr, capsize=3, **bar)


def grouped_bars(
    ax: Any,
    categories: Sequence[str],
    series: dict[str, Sequence[Rate | None]],
    scale: float = 1.0,
    reference: dict[str, Sequence[float | None]] | None = None,
    group_width: float = 0.8,
) -> None:
    """One group per category, one bar per series (its rate x ``scale``, Wilson 95% error
    bars); ``reference`` series (numbers already scaled, e.g. the paper's %) as hatched bars
    without error bars. A missing value leaves its bar out."""
    names = [*series, *(reference or {})]
    x = np.arange(len(categories))
    width = group_width / max(len(names), 1)
    colors = _pyplot().rcParams["axes.prop_cycle"].by_key()["color"]
    for k, name in enumerate(names):
        offset = x + (k - (len(names) - 1) / 2) * width
        color = colors[k % len(colors)]
        if name in series:
            _rate_bars(ax, offset, series[name], width, scale, label=name, color=color)
        else:
            vals = np.array([np.nan if v is None else v for v in (reference or {})[name]], float)
            ax.bar(offset, vals, width, label=name, fill=False, hatch="//", edgecolor=color)


def _save(fig: Any, path: Path, dpi: int) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    _pyplot().close(fig)
    return path


def plot_success_rates(summary: Summary, path: Path, title: str = "") -> Path:
    """Left: success per suite; right: per task family within each suite. Error bars = 95% CI."""
    plt = _pyplot()
    suites = summary.suites
    families = sorted({f for s in suites.values() for f in s.task_families})
    fig, (ax1, ax2) = plt.subplots(
        1, 2, figsize=(max(8, 2 + 1.2 * len(suites) + 0.6 * len(families)), 4)
    )
    names = list(suites)
    grouped_bars(ax1, names, {"": [suites[n].success for n in names]}, group_width=0.6)
    ax1.set_xticks(np.arange(len(names)), names, rotation=30, ha="right")
    ax1.set_title("per suite")
    series = {
        suite: [g.success if (g := suites[suite].task_families.get(f)) else None for f in families]
        for suite in names
    }
    grouped_bars(ax2, families, series)
    ax2.set_xticks(np.arange(len(families)), families, rotation=30, ha="right")
    ax2.set_title("per task family")
    if len(names) > 1:
        ax2.legend(fontsize=7)
    for ax in (ax1, ax2):
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("success rate")
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path, dpi=100)


def plot_grouped(
    path: Path,
    categories: list[str],
    series: dict[str, Sequence[Rate | None]],
    title: str,
    reference: dict[str, Sequence[float | None]] | None = None,
) -> Path:
    """Grouped bars in the style of the RT-2 paper's figures: one group per category, one bar
    per model (success %, Wilson 95% error bars); ``reference`` (the paper's numbers, %) as
    hatched bars without error bars. A missing value leaves its bar out."""
    plt = _pyplot()
    n_bars = len(series) + len(reference or {})
    fig, ax = plt.subplots(figsize=(max(6, 1.2 + 1.1 * len(categories) * max(1, n_bars / 3)), 4))
    grouped_bars(ax, categories, series, 100.0, reference)
    ax.set_xticks(np.arange(len(categories)), categories, rotation=15, ha="right")
    ax.set_ylim(0, 105)
    ax.set_ylabel("success rate (%)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return _save(fig, path, dpi=110)
