"""Timing helpers every bench row shares: medians in ms, random samples, training samples/s."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable

import numpy as np
import torch

from rt2.actions import ActionSpace
from rt2.bench.cases import INSTRUCTION
from rt2.samples import RobotSample


def median_ms(values: list[float]) -> float:
    """Median of ``values`` seconds, in milliseconds."""
    return 1000.0 * statistics.median(values)


def random_samples(
    rng: np.random.Generator,
    batch: int,
    size: int,
    space: ActionSpace,
    history: int | None = None,
) -> list[RobotSample]:
    """``batch`` robot samples: random ``size`` px images (and ``history`` earlier frames, if
    given) and actions uniform in the action ``space``."""
    return [
        RobotSample(
            rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
            INSTRUCTION,
            rng.uniform(space.low, space.high),
            history=(
                None
                if history is None
                else rng.integers(0, 256, (history, size, size, 3), dtype=np.uint8)
            ),
        )
        for _ in range(batch)
    ]


def samples_per_s(
    loss: Callable[[], torch.Tensor], params: Iterable[torch.nn.Parameter], batch: int, steps: int
) -> float:
    """``batch`` / median seconds of ``loss()`` + backward + AdamW step, after one warm-up step."""
    opt = torch.optim.AdamW(params, lr=1e-4)
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        value = loss()
        opt.zero_grad()
        value.backward()
        opt.step()
        if i:  # the first step warms up
            times.append(time.perf_counter() - t0)
    return batch / statistics.median(times)
