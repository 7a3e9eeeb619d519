"""The action tokenizer a model config asks for: its action space binned over fixed bounds or
the training data's q01..q99 (shared by the VLA and the RT-1 builders)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rt2.actions import ActionSpace, ActionTokenizer
from rt2.training.config import ModelConfig


def action_space_for(config: ModelConfig, names: Sequence[str] | None = None) -> ActionSpace:
    """The configured space: a preset, or ``dataset``: the dataset's action ``names``. With
    ``names``, a preset must have as many dimensions as the data."""
    if config.action_space == "dataset":
        if names is None:
            raise ValueError(
                "model.action_space='dataset' builds the space from a dataset's action names: "
                "train with --data DIR"
            )
        return ActionSpace.from_names(names, "dataset", **config.action_space_options)
    space = ActionSpace.preset(config.action_space, **config.action_space_options)
    if names is not None and len(names) != space.size:
        raise ValueError(
            f"model.action_space={config.action_space!r} has {space.size} dims {list(space.names)}"
            f" but the dataset's actions have {len(names)}: {list(names)}; set "
            "model.action_space=dataset to use the dataset's own action space"
        )
    return space


def action_tokenizer_for(
    config: ModelConfig, stats: dict[str, Any] | None, names: Sequence[str] | None = None
) -> ActionTokenizer:
    """The configured action space binned over fixed bounds or the data's q01..q99."""
    space = action_space_for(config, names)
    if config.bounds == "fixed":
        return ActionTokenizer(space, config.num_bins)
    if stats is None:
        raise ValueError(
            "model.bounds='stats' needs action statistics: train with robot data or set model.bounds=fixed"
        )
    return ActionTokenizer.from_stats(space, stats, config.num_bins)
