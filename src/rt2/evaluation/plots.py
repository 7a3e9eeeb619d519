"""Bar charts of success rates with 95% confidence intervals (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


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

    def bars(
        ax: Any, x: np.ndarray, rows: list[dict[str, Any] | None], width: float, label: str | None
    ) -> None:
        rate = np.array([r["success_rate"] if r else np.nan for r in rows])
        lo = np.array([r["success_rate"] - r["ci95_low"] if r else 0.0 for r in rows])
        hi = np.array([r["ci95_high"] - r["success_rate"] if r else 0.0 for r in rows])
        yerr = np.clip(np.stack([lo, hi]), 0.0, None)  # (2, n)
        ax.bar(x, rate, width, yerr=yerr, capsize=3, label=label)

    names = list(suites)
    bars(ax1, np.arange(len(names)), [suites[n] for n in names], 0.6, None)
    ax1.set_xticks(np.arange(len(names)), names, rotation=30, ha="right")
    ax1.set_title("per suite")
    width = 0.8 / max(len(names), 1)
    for k, suite in enumerate(names):
        rows = [suites[suite]["task_families"].get(f) for f in families]
        bars(ax2, np.arange(len(families)) + (k - (len(names) - 1) / 2) * width, rows, width, suite)
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
