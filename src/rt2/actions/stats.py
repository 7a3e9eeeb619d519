"""Per-feature statistics (LeRobot's stats.json fields) used for normalisation and action bounds."""

from __future__ import annotations

from typing import Any

import numpy as np

STAT_KEYS = ("mean", "std", "min", "max", "q01", "q99", "count")


def compute_stats(values: np.ndarray) -> dict[str, Any]:
    """Stats over the first axis of ``values`` (N, ...): mean/std/min/max/q01/q99 as lists."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 0 or v.shape[0] == 0:
        raise ValueError(f"compute_stats needs a non-empty (N, ...) array, got shape {v.shape}")
    return {
        "mean": v.mean(axis=0).tolist(),
        "std": v.std(axis=0).tolist(),
        "min": v.min(axis=0).tolist(),
        "max": v.max(axis=0).tolist(),
        "q01": np.quantile(v, 0.01, axis=0).tolist(),
        "q99": np.quantile(v, 0.99, axis=0).tolist(),
        "count": [int(v.shape[0])],
    }
