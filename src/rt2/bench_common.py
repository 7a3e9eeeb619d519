"""What the VLA and RT-1 benchmarks share: a bench case, its row of timings, and the timing
helpers (:mod:`rt2.bench` runs the VLAs, :mod:`rt2.baselines.rt1.bench` RT-1)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch

from rt2.actions import ActionSpace
from rt2.batching import RobotSample
from rt2.decoding.parallel import DecodingConfig

INSTRUCTION = "push the red star to the top left corner"
RT1_SPACE = "language_table"  # the shipped RT-1's action space (the tabletop's 2 dims)


@dataclass(frozen=True)
class BenchCase:
    model: str
    mapping: str
    precision: str
    batch: int
    space: str = "rt2"
    train: bool = False  # a training-throughput case
    decoding: str = "autoregressive"  # "parallel": every action token in one pass; RT-1 "one-pass"
    chunk: int = 1  # actions per model call (parallel decoding)
    compiled: bool = False  # torch.compile'd for acting (VLA.compile_for_inference), warmed up
    prompt_first: bool = False  # [prompt][image][slots]: the prompt's KV cache reused per step

    def decoding_config(self) -> DecodingConfig:
        return DecodingConfig(self.decoding, self.chunk)  # type: ignore[arg-type]


@dataclass
class BenchRow:
    case: BenchCase
    params: int
    tokens_per_action: int
    vision_ms: float
    prefill_ms: float
    decode_ms: float
    total_ms: float  # the whole act_batch call, incl. preprocessing and parsing

    @property
    def hz(self) -> float:
        """Control rate of one robot served alone (batch 1) or of each of ``batch`` robots."""
        return 1000.0 / self.total_ms

    @property
    def actions_per_s(self) -> float:
        """Actions produced per second over the whole batch (a chunk holds ``chunk``)."""
        return self.case.batch * self.case.chunk * 1000.0 / self.total_ms


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
