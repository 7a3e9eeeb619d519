"""The action tokenizer a model config asks for: its action space binned over fixed bounds or
the training data's q01..q99 (shared by the VLA and the RT-1 builders)."""

from __future__ import annotations

from typing import Any

from rt2.actions import ActionSpace, ActionTokenizer
from rt2.training.config import ModelConfig


def action_tokenizer_for(config: ModelConfig, stats: dict[str, Any] | None) -> ActionTokenizer:
    """The configured action space binned over fixed bounds or the data's q01..q99."""
    space = ActionSpace.preset(config.action_space, **config.action_space_options)
    if config.bounds == "fixed":
        return ActionTokenizer(space, config.num_bins)
    if stats is None:
        raise ValueError(
            "model.bounds='stats' needs action statistics: train with robot data or set model.bounds=fixed"
        )
    return ActionTokenizer.from_stats(space, stats, config.num_bins)
