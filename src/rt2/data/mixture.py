"""Weighted mixtures of sample sources (robot data, web data), deterministic per (seed, step).

Every optimizer step draws its whole global batch from ``numpy.random.default_rng([seed, step])``,
so a resumed run sees exactly the batches an uninterrupted one would, and several processes can
each take their slice of the same batch without communicating.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from rt2.samples import Sample


class Source(Protocol):
    def __len__(self) -> int: ...

    def __getitem__(self, i: int) -> Sample: ...


class Mixture:
    """Draws batches whose per-source counts follow ``weights`` (largest-remainder rounding)."""

    def __init__(
        self, sources: Mapping[str, Source], weights: Mapping[str, float], seed: int = 0
    ) -> None:
        active = {k: float(w) for k, w in weights.items() if w > 0}
        missing = sorted(set(active) - set(sources))
        if missing:
            raise KeyError(
                f"mixture weights name sources {missing} that were not built; have {sorted(sources)}"
            )
        if not active:
            raise ValueError(f"mixture needs at least one positive weight, got {dict(weights)}")
        empty = [k for k in active if len(sources[k]) == 0]
        if empty:
            raise ValueError(f"mixture sources {empty} have no samples")
        total = sum(active.values())
        self.names = sorted(active)
        self.weights = np.array([active[k] / total for k in self.names])  # (S,)
        self.sources = {k: sources[k] for k in self.names}
        self.seed = seed

    def counts(self, n: int, rng: np.random.Generator) -> dict[str, int]:
        """Split ``n`` slots by weight; fractional remainders go to sources drawn by their size."""
        exact = self.weights * n
        base = np.floor(exact).astype(int)
        left = n - int(base.sum())
        if left:
            frac = exact - base
            extra = rng.choice(len(self.names), size=left, replace=False, p=frac / frac.sum())
            base[extra] += 1
        return dict(zip(self.names, base.tolist(), strict=True))

    def batch(self, step: int, n: int) -> tuple[list[Sample], dict[str, int]]:
        """The global batch of optimizer step ``step``: ``n`` samples and per-source counts."""
        rng = np.random.default_rng([self.seed, step])
        counts = self.counts(n, rng)
        samples: list[Sample] = []
        for name in self.names:
            src = self.sources[name]
            samples.extend(src[int(i)] for i in rng.integers(0, len(src), counts[name]))
        order = rng.permutation(len(samples))
        return [samples[i] for i in order], counts


class ListSource:
    """A source over an in-memory list of samples."""

    def __init__(self, samples: Sequence[Sample]) -> None:
        self.samples = list(samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> Sample:
        return self.samples[i]
