"""Build a model from its config, and rebuild a trained one from a checkpoint directory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from rt2.actions import ActionTokenizer, build_mapping, mapping_from_dict
from rt2.actions.state import StateFormat
from rt2.backbones import build_backbone
from rt2.decoding.parallel import DecodingConfig
from rt2.model import VLA
from rt2.samples import PromptFormat
from rt2.training.action_bins import action_tokenizer_for
from rt2.training.checkpoint import WEIGHTS, latest_checkpoint, load_weights, read_json
from rt2.training.config import ModelConfig, TrainConfig


def build_model(
    config: ModelConfig,
    stats: dict[str, Any] | None,
    corpus: Iterable[str] = (),
    action_names: Sequence[str] | None = None,
    state: StateFormat | None = None,
    cameras: Sequence[str] = (),
) -> nn.Module:
    """A fresh model, or one starting from ``config.init`` (a path or ``rt2:NAME``), with the
    parameters named by ``config.freeze`` frozen.

    ``stats`` (of the training actions) set the bins when ``bounds == "stats"``; ``corpus``
    (training texts) picks the least used ids for the ``reserved`` mapping. A model that starts
    from a checkpoint keeps the action vocabulary it learned there: that checkpoint's bins (when
    they came from robot data) and its action-token ids. ``action_names``: the dataset's
    (``model.action_space=dataset`` builds its space from them; a preset must match their count).
    ``state``: how the VLA reads the robot state in its prompts (None: it does not);
    ``cameras``: the camera names it sees, in order (two or more: one token block each).
    """
    ckpt = _init_checkpoint(config)
    spec = _learned_vocabulary(ckpt, config, action_names)
    if config.kind == "rt1":
        from rt2.baselines.rt1 import build_rt1

        learned = None if spec is None else ActionTokenizer.from_dict(spec["action_tokenizer"])
        model: nn.Module = build_rt1(config, stats, learned, action_names, state)
    else:
        backbone = build_backbone(config.backbone, **config.backbone_options)
        if spec is not None:
            action_tokenizer = ActionTokenizer.from_dict(spec["action_tokenizer"])
            mapping = mapping_from_dict(spec["mapping"], backbone.tokenizer)
        else:
            action_tokenizer = action_tokenizer_for(config, stats, action_names)
            prompt = PromptFormat()
            texts = [prompt.robot_prompt("x"), prompt.plan_text("x"), prompt.state_prefix]
            texts += corpus
            mapping = build_mapping(
                config.mapping,
                backbone.tokenizer,
                action_tokenizer.num_values.tolist(),
                corpus=texts,
            )
        model = VLA(
            backbone,
            action_tokenizer,
            mapping,
            PromptFormat(),
            decoding=config.decoding_config(),
            state=state,
            cameras=cameras,
        )
        model.grounding_weight = config.grounding_weight
    if ckpt is not None:
        fresh = ("slots.",) if _new_slots(ckpt, config) else ()
        if _new_cameras(ckpt, cameras):
            fresh += ("backbone.camera_embedding",)
        fresh += _new_image_side(ckpt, model)
        load_weights(model, ckpt, fresh=fresh)
    for name, p in model.named_parameters():
        if any(name.startswith(prefix) for prefix in config.freeze):
            p.requires_grad_(False)
    return model


def _new_slots(ckpt: Path, config: ModelConfig) -> bool:
    """True if this run adds action slots its init checkpoint did not have (an autoregressive
    checkpoint continued with parallel decoding): the slots start fresh, the rest loads."""
    if not (ckpt / "vla.json").is_file() or config.decoding != "parallel":
        return False
    saved = read_json(ckpt, "vla.json").get("decoding", {})
    return (saved.get("mode"), saved.get("chunk")) != ("parallel", config.chunk)


def _new_cameras(ckpt: Path, cameras: Sequence[str]) -> bool:
    """True if this run sees several cameras its init checkpoint did not (in this order): the
    camera embedding starts fresh, the rest loads."""
    saved = read_json(ckpt, "vla.json").get("cameras", []) if (ckpt / "vla.json").is_file() else []
    return len(cameras) > 1 and list(saved) != list(cameras)


#: Image-side modules an option adds (rt2-mini ``film``, ``ground``): a run that adds one to a
#: checkpoint without it starts that module fresh and loads the rest
OPTIONAL_IMAGE_SIDE = ("backbone.film_text.", "backbone.film.", "backbone.ground_head.")


def _new_image_side(ckpt: Path, model: nn.Module) -> tuple[str, ...]:
    """The optional image-side modules ``model`` has and ``ckpt`` lacks."""
    from safetensors import safe_open

    with safe_open(str(ckpt / WEIGHTS), "pt") as f:
        saved = set(f.keys())
    own = model.state_dict().keys()
    return tuple(
        p
        for p in OPTIONAL_IMAGE_SIDE
        if any(k.startswith(p) for k in own) and not any(k.startswith(p) for k in saved)
    )


def _init_checkpoint(config: ModelConfig) -> Path | None:
    if not config.init:
        return None
    ckpt = latest_checkpoint(config.init)
    if ckpt is None:
        raise FileNotFoundError(f"model.init={config.init!r}: no checkpoint found there")
    return ckpt


def _learned_vocabulary(
    ckpt: Path | None, config: ModelConfig, action_names: Sequence[str] | None = None
) -> dict[str, Any] | None:
    """The init checkpoint's ``vla.json`` if it learned actions of this model's kind from robot
    data (bins from its stats, same space and bin count; a ``dataset`` space: of the same
    action names), else None."""
    if ckpt is None or not (ckpt / "vla.json").is_file() or not (ckpt / "config.json").is_file():
        return None
    start = TrainConfig.from_dict(read_json(ckpt, "config.json")).model
    same = (start.action_space, start.action_space_options, start.num_bins, start.mapping) == (
        config.action_space,
        config.action_space_options,
        config.num_bins,
        config.mapping,
    )
    if not (same and start.bounds == "stats" and config.bounds == "stats"):
        return None
    spec = read_json(ckpt, "vla.json")
    if config.action_space == "dataset":  # another dataset's actions: bins of its own
        saved = [d["name"] for d in spec["action_tokenizer"]["space"]["dims"]]
        if action_names is None or saved != list(action_names):
            return None
    return spec


def _checkpoint(path: str | Path) -> Path:
    ckpt = latest_checkpoint(path)
    if ckpt is None:
        raise FileNotFoundError(
            f"{path} holds no checkpoint (expected model.safetensors or checkpoints/latest)"
        )
    return ckpt


def saved_config(path: str | Path) -> TrainConfig:
    """The config a checkpoint (or a run directory's latest) was trained with."""
    return TrainConfig.from_dict(read_json(_checkpoint(path), "config.json"))


def load_model(path: str | Path) -> nn.Module:
    """A trained model (VLA or RT-1) from a checkpoint directory (or a run directory: its latest)."""
    ckpt = _checkpoint(path)
    config = saved_config(ckpt)
    if config.model.kind == "rt1":
        from rt2.baselines.rt1 import load_rt1

        return load_rt1(ckpt, config)
    spec = read_json(ckpt, "vla.json")
    backbone = build_backbone(config.model.backbone, **config.model.backbone_options)
    action_tokenizer = ActionTokenizer.from_dict(spec["action_tokenizer"])
    mapping = mapping_from_dict(spec["mapping"], backbone.tokenizer)
    decoding = DecodingConfig(**spec.get("decoding", {}))  # older checkpoints: autoregressive
    state = StateFormat.from_dict(spec["state"]) if "state" in spec else None
    model = VLA(
        backbone,
        action_tokenizer,
        mapping,
        PromptFormat(**spec["prompt"]),
        decoding=decoding,
        state=state,
        cameras=spec.get("cameras", ()),  # older checkpoints: one unnamed camera
    )
    load_weights(model, ckpt)
    return model.eval()
