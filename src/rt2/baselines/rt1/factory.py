"""Build RT-1 from a ``ModelConfig(kind="rt1")``, and rebuild a trained one from a checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rt2.actions import ActionTokenizer
from rt2.actions.state import StateFormat
from rt2.baselines.rt1.config import RT1Config
from rt2.baselines.rt1.model import RT1
from rt2.training.action_bins import action_tokenizer_for
from rt2.training.checkpoint import load_weights, read_json
from rt2.training.config import ModelConfig, TrainConfig


def rt1_config(config: ModelConfig) -> RT1Config:
    """``backbone_options`` as an :class:`RT1Config`; ``frames`` follows ``model.history + 1``
    (checked when the config was built: :meth:`ModelConfig.backbone_config`)."""
    if config.kind != "rt1":
        raise ValueError(f"rt1_config: model.kind must be 'rt1', got {config.kind!r}")
    return config.backbone_config()


def build_rt1(
    config: ModelConfig,
    stats: dict[str, Any] | None,
    action_tokenizer: ActionTokenizer | None = None,
    action_names: Sequence[str] | None = None,
    state: StateFormat | None = None,
) -> RT1:
    """A fresh RT-1 (ImageNet EfficientNet-Lite0, identity FiLM). ``stats`` of the training
    actions set the bins when ``model.bounds == "stats"`` (q01..q99), unless ``action_tokenizer``
    (the bins an init checkpoint learned) is given; ``model.init``'s weights are loaded by
    :func:`rt2.training.factory.build_model`."""
    if config.kind != "rt1":
        raise ValueError(f"build_rt1: model.kind must be 'rt1', got {config.kind!r}")
    tokenizer = action_tokenizer or action_tokenizer_for(config, stats, action_names)
    return RT1(rt1_config(config), tokenizer, state=state)


def load_rt1(ckpt: Path, config: TrainConfig) -> RT1:
    """A trained RT-1 (eval mode) from a checkpoint directory and its resolved config."""
    spec = read_json(ckpt, "vla.json")
    if spec.get("kind") != "rt1":
        raise ValueError(f"{ckpt}/vla.json does not describe an RT-1 (kind={spec.get('kind')!r})")
    rt1 = RT1Config(**spec["rt1"])
    expected = rt1_config(config.model)
    if rt1 != expected:
        raise ValueError(
            f"{ckpt}: vla.json RT-1 config {rt1} disagrees with config.json {expected}"
        )
    state = StateFormat.from_dict(spec["state"]) if "state" in spec else None
    model = RT1(rt1, ActionTokenizer.from_dict(spec["action_tokenizer"]), state=state)
    load_weights(model, ckpt)
    return model.eval()
