"""Proprioception as prompt tokens (the pi0-FAST way): ``observation.state`` clipped to its
q01..q99, cut into uniform bins and written with the action-bin tokens of the model's mapping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StateFormat:
    """How a model reads the robot state: entry names, bin bounds and the number of bins."""

    names: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    num_bins: int = 256

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(str(n) for n in self.names))
        lo = np.asarray(self.low, dtype=np.float64).reshape(-1)
        hi = np.asarray(self.high, dtype=np.float64).reshape(-1)
        if not self.names:
            raise ValueError("StateFormat.names: the state needs at least one entry")
        if lo.shape != (self.size,) or hi.shape != (self.size,):
            raise ValueError(
                f"StateFormat: {self.size} names {list(self.names)} but low has {lo.size} and "
                f"high {hi.size} entries"
            )
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise ValueError(f"StateFormat: bounds must be finite, got low={lo}, high={hi}")
        if self.num_bins < 2:
            raise ValueError(f"StateFormat.num_bins: expected >= 2, got {self.num_bins}")
        flat = hi <= lo  # a constant entry in the data: keep a tiny non-empty range
        lo, hi = np.where(flat, lo - 1e-6, lo), np.where(flat, hi + 1e-6, hi)
        object.__setattr__(self, "low", tuple(float(v) for v in lo))
        object.__setattr__(self, "high", tuple(float(v) for v in hi))

    @property
    def size(self) -> int:
        return len(self.names)

    @classmethod
    def from_stats(
        cls, names: Sequence[str], stats: dict[str, Any], num_bins: int = 256
    ) -> StateFormat:
        """Bounds from the state's q01/q99 (over every training frame)."""
        for key in ("q01", "q99"):
            if key not in stats:
                raise KeyError(f"state stats lack {key!r}; have {sorted(stats)}")
        return cls(tuple(names), tuple(stats["q01"]), tuple(stats["q99"]), num_bins)

    def check(self, state: Any) -> np.ndarray:
        """``state`` as a finite float64 (S,) vector, or a ValueError naming both sizes."""
        try:
            s = np.asarray(state, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"the state must be {self.size} numbers {list(self.names)}, got {state!r:.80}"
            ) from None
        if s.shape != (self.size,):
            raise ValueError(
                f"the state has shape {s.shape}; this policy reads {self.size} entries "
                f"{list(self.names)}"
            )
        if not np.all(np.isfinite(s)):
            raise ValueError(f"the state holds NaN or inf: {s.tolist()}")
        return s

    def normalize(self, state: Any) -> np.ndarray:
        """(S,) state -> (S,) float32 in [-1, 1] over q01..q99 (clipped): RT-1's state token."""
        s = self.check(state)
        lo, hi = np.asarray(self.low), np.asarray(self.high)
        return (2 * (np.clip(s, lo, hi) - lo) / (hi - lo) - 1).astype(np.float32)

    def encode(self, state: Any) -> np.ndarray:
        """(S,) state -> (S,) int64 bins in 0..num_bins - 1 (values outside q01..q99 clip)."""
        s = self.check(state)
        lo, hi = np.asarray(self.low), np.asarray(self.high)
        bins = np.floor((np.clip(s, lo, hi) - lo) / (hi - lo) * self.num_bins).astype(np.int64)
        return np.clip(bins, 0, self.num_bins - 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "low": list(self.low),
            "high": list(self.high),
            "num_bins": self.num_bins,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StateFormat:
        return cls(tuple(data["names"]), tuple(data["low"]), tuple(data["high"]), data["num_bins"])
