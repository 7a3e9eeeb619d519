"""Each bench model's builder and timers: a case -> its inference row or training samples/s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from rt2.bench.cases import BenchCase, BenchRow
from rt2.bench.rt1 import bench_rt1_inference, bench_rt1_training, build_rt1_case
from rt2.bench.vla import build_rt2_mini, build_tiny, vla_closed_loop, vla_inference, vla_training

BUILDERS: dict[str, Callable[[BenchCase], Any]] = {
    "tiny": build_tiny,
    "rt2-mini": build_rt2_mini,
    "rt1": build_rt1_case,  # RT-1 baseline, rt1-tabletop sizes
}


def build_case(case: BenchCase) -> Any:
    """The model ``case`` times (a VLA, or RT-1)."""
    return BUILDERS[case.model](case)


def bench_inference(
    case: BenchCase, build: Callable[[BenchCase], Any] = build_case, repeats: int = 10
) -> BenchRow:
    """Median stage latencies of one observation -> action call over ``repeats`` calls."""
    if case.model == "rt1":  # RT-1 baseline: one forward pass, per-slot frame history
        return bench_rt1_inference(case, repeats)
    torch.manual_seed(0)
    return vla_inference(build(case), case, repeats)


def bench_training(build: Callable[[BenchCase], Any], case: BenchCase, steps: int = 5) -> float:
    """Training samples/s (forward + backward + AdamW step) at ``case.batch``."""
    if case.model == "rt1":
        return bench_rt1_training(case, steps)
    torch.manual_seed(0)
    return vla_training(build(case), case, steps)


def bench_closed_loop(
    case: BenchCase, build: Callable[[BenchCase], Any] = build_case, max_steps: int = 20
) -> float:
    """Closed-loop evaluation env steps/s of ``case``'s VLA (see :func:`vla_closed_loop`)."""
    torch.manual_seed(0)
    return vla_closed_loop(build(case), case, max_steps)
