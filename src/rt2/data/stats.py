"""Running dataset statistics for ``meta/stats.json``.

Vectors (state, action) keep every row (they are small) and use :func:`rt2.actions.compute_stats`.
uint8 images keep a 256-bin histogram per channel, which gives exact mean/std/min/max/quantiles
in constant memory. Image stats follow LeRobot: per channel, shape (3, 1, 1), scaled to [0, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rt2.actions import compute_stats


class VectorStats:
    """Accumulates (N, D) float rows."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []

    def update(self, values: np.ndarray) -> None:
        v = np.asarray(values, dtype=np.float64)
        self._parts.append(v.reshape(v.shape[0], -1))  # (T, D)

    @property
    def count(self) -> int:
        return sum(p.shape[0] for p in self._parts)

    def result(self) -> dict[str, Any]:
        return compute_stats(np.concatenate(self._parts, axis=0))


class ImageStats:
    """Accumulates uint8 (N, H, W, 3) images as per-channel histograms."""

    def __init__(self) -> None:
        self.hist = np.zeros((3, 256), dtype=np.int64)  # (C, 256)
        self.frames = 0

    def update(self, images: np.ndarray) -> None:
        imgs = np.asarray(images)
        if imgs.dtype != np.uint8 or imgs.ndim != 4 or imgs.shape[-1] != 3:
            raise ValueError(
                f"ImageStats wants uint8 (N, H, W, 3) images, got {imgs.dtype} {imgs.shape}"
            )
        for c in range(3):
            self.hist[c] += np.bincount(imgs[..., c].reshape(-1), minlength=256)
        self.frames += imgs.shape[0]

    @property
    def count(self) -> int:
        return self.frames

    def result(self) -> dict[str, Any]:
        if self.frames == 0:
            raise ValueError("ImageStats.result() called before any image was added")
        levels = np.arange(256, dtype=np.float64) / 255.0
        total = self.hist.sum(axis=1, keepdims=True).astype(np.float64)  # (C, 1)
        p = self.hist / total  # (C, 256)
        mean = (p * levels).sum(axis=1)
        std = np.sqrt(np.maximum((p * levels**2).sum(axis=1) - mean**2, 0.0))
        cdf = np.cumsum(p, axis=1)
        nonzero = self.hist > 0

        def per_channel(values: np.ndarray) -> list[list[list[float]]]:
            return [[[float(v)]] for v in values]  # (3, 1, 1)

        return {
            "mean": per_channel(mean),
            "std": per_channel(std),
            "min": per_channel(levels[nonzero.argmax(axis=1)]),
            "max": per_channel(levels[255 - nonzero[:, ::-1].argmax(axis=1)]),
            "q01": per_channel(levels[(cdf >= 0.01).argmax(axis=1)]),
            "q99": per_channel(levels[(cdf >= 0.99).argmax(axis=1)]),
            "count": [int(self.frames)],
        }
