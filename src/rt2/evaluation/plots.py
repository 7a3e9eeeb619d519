"""Bar charts of success rates with 95% confidence intervals (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _rate_bars(
    ax: Any,
    x: np.ndarray,
    rows: list[dict[str, Any] | None],
    width: float,
    scale: float = 1.0,
    **bar: Any,
) -> None:
    """Bars of summary rows' success rates (x ``scale``) with their Wilson 95% intervals as
    error bars; a missing or empty row leaves its bar out."""
    kept = [r if r and r["n"] else None for r in rows]
    rate = np.array([scale * r["success_rate"] if r else np.nan for r in kept])
    lo = [scale * (r["success_rate"] - r["ci95_low"]) if r else 0.0 for r in kept]
    hi = [scale * (r["ci95_high"] - r["success_rate"]) if r else 0.0 for r in kept]
    yerr = np.clip(np.array([lo, hi]), 0.0, None)  # (2, n)
    ax.bar(x, rate, width, yerr=yerr, capsize=3, **bar)


def _save(fig: Any, path: Path, dpi: int) -> Path:
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def plot_success_rates(summary: dict[str, Any], path: Path, title: str = "") -> Path:
    """Left: success per suite; right: per task family within each suite. Error bars = 95% CI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suites = summary["suites"]
    families = sorted({f for s in suites.values() for f in s["task_families"]})
    fig, (ax1, ax2) = plt.subplots(
        1, 2, figsize=(max(8, 2 + 1.2 * len(suites) + 0.6 * len(families)), 4)
    )

    names = list(suites)
    _rate_bars(ax1, np.arange(len(names)), [suites[n] for n in names], 0.6)
    ax1.set_xticks(np.arange(len(names)), names, rotation=30, ha="right")
    ax1.set_title("per suite")
    width = 0.8 / max(len(names), 1)
    for k, suite in enumerate(names):
        rows = [suites[suite]["task_families"].get(f) for f in families]
        x = np.arange(len(families)) + (k - (len(names) - 1) / 2) * width
        _rate_bars(ax2, x, rows, width, label=suite)
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
    series: dict[str, list[dict[str, Any] | None]],
    title: str,
    reference: dict[str, list[float | None]] | None = None,
) -> Path:
    """Grouped bars in the style of the RT-2 paper's figures: one group per category, one bar
    per model (success %, Wilson 95% error bars); ``reference`` (the paper's numbers, %) as
    hatched bars without error bars. A missing value leaves its bar out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*series, *(reference or {})]
    x = np.arange(len(categories))
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(
        figsize=(max(6, 1.2 + 1.1 * len(categories) * max(1, len(names) / 3)), 4)
    )
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, name in enumerate(names):
        offset = x + (k - (len(names) - 1) / 2) * width
        color = colors[k % len(colors)]
        if name in series:
            _rate_bars(ax, offset, series[name], width, 100.0, label=name, color=color)
        else:
            vals = np.array([np.nan if v is None else v for v in (reference or {})[name]], float)
            ax.bar(offset, vals, width, label=name, fill=False, hatch="//", edgecolor=color)
    ax.set_xticks(x, categories, rotation=15, ha="right")
    ax.set_ylim(0, 105)
    ax.set_ylabel("success rate (%)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return _save(fig, path, dpi=110)
