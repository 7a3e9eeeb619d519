"""Learning-rate schedule: linear warm-up, then cosine decay to ``min_lr_ratio * lr``."""

from __future__ import annotations

import math

from rt2.training.config import OptimConfig


def learning_rate(step: int, optim: OptimConfig) -> float:
    """The learning rate of optimizer step ``step`` (0-based); a pure function, so resume-safe."""
    if step < optim.warmup_steps:
        return optim.lr * (step + 1) / optim.warmup_steps
    span = max(1, optim.steps - optim.warmup_steps)
    progress = min(1.0, (step - optim.warmup_steps) / span)
    floor = optim.min_lr_ratio * optim.lr
    return floor + (optim.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))
