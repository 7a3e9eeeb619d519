"""Build a model from its config, and rebuild a trained one from a checkpoint directory."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from torch import nn

from rt2.actions import ActionSpace, ActionTokenizer, build_mapping, mapping_from_dict
from rt2.backbones import build_backbone
from rt2.batching import PromptFormat
from rt2.model import VLA
from rt2.training.checkpoint import latest_checkpoint, load_weights, read_json
from rt2.training.config import ModelConfig, TrainConfig


def build_model(
    config: ModelConfig, stats: dict[str, Any] | None, corpus: Iterable[str] = ()
) -> nn.Module:
    """A fresh model. ``stats`` (of the training actions) set the bins when ``bounds == "stats"``;
    ``corpus`` (training texts) picks the least used ids for the ``reserved`` mapping."""
    if config.kind == "rt1":
        from rt2.baselines.rt1 import build_rt1

        model: nn.Module = build_rt1(config, stats)
    else:
        action_tokenizer = action_tokenizer_for(config, stats)
        backbone = build_backbone(config.backbone, **config.backbone_options)
        prompt = PromptFormat()
        texts = [prompt.robot_prompt("x"), prompt.plan_text("x"), *corpus]
        mapping = build_mapping(
            config.mapping, backbone.tokenizer, action_tokenizer.num_values.tolist(), corpus=texts
        )
        model = VLA(backbone, action_tokenizer, mapping, prompt)
    if config.init:
        ckpt = latest_checkpoint(config.init)
        if ckpt is None:
            raise FileNotFoundError(f"model.init={config.init!r}: no checkpoint found there")
        load_weights(model, ckpt)
    return model


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


def load_model(path: str | Path) -> nn.Module:
    """A trained model (VLA or RT-1) from a checkpoint directory (or a run directory: its latest)."""
    ckpt = latest_checkpoint(path)
    if ckpt is None:
        raise FileNotFoundError(
            f"{path} holds no checkpoint (expected model.safetensors or checkpoints/latest)"
        )
    config = TrainConfig.from_dict(read_json(ckpt, "config.json"))
    if config.model.kind == "rt1":
        from rt2.baselines.rt1 import load_rt1

        return load_rt1(ckpt, config)
    spec = read_json(ckpt, "vla.json")
    backbone = build_backbone(config.model.backbone, **config.model.backbone_options)
    action_tokenizer = ActionTokenizer.from_dict(spec["action_tokenizer"])
    mapping = mapping_from_dict(spec["mapping"], backbone.tokenizer)
    model = VLA(backbone, action_tokenizer, mapping, PromptFormat(**spec["prompt"]))
    load_weights(model, ckpt)
    return model.eval()
