"""What the server tells clients on connect (and on ``GET /metadata``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rt2.data.format import read_json


def action_space_metadata(space: Any) -> dict[str, Any]:
    """Names and bounds of an :class:`~rt2.actions.ActionSpace`."""
    return {
        "name": getattr(space, "name", "unknown"),
        "names": list(space.names),
        "low": np.asarray(space.low, dtype=np.float64).tolist(),
        "high": np.asarray(space.high, dtype=np.float64).tolist(),
        "dim": len(space.names),
    }


def policy_metadata(policy: Any, model_name: str = "policy", **extra: Any) -> dict[str, Any]:
    """Metadata of any policy with an ``action_space`` (and, for a VLA, its backbone)."""
    meta: dict[str, Any] = {"model": model_name, **extra}
    space = getattr(policy, "action_space", None) or getattr(policy, "space", None)
    if space is not None:
        meta["action_space"] = action_space_metadata(space)
    model = getattr(policy, "model", None)
    backbone = getattr(model, "backbone", None)
    if backbone is not None and getattr(backbone, "image_size", None) is not None:
        size = int(backbone.image_size)
        meta.setdefault("image_size", [size, size])
    cameras = tuple(getattr(model, "cameras", ()) or ())
    if cameras:  # the camera names a request sends its images under (several: all of them)
        meta.setdefault("cameras", list(cameras))
    state = getattr(model, "state_format", None)
    if state is not None:  # the state a request must carry
        meta.setdefault("state", {"names": list(state.names), "dim": state.size})
    steps = getattr(policy, "execute_steps", None)
    if steps:  # actions of each returned chunk to play before asking again, as measured
        meta.setdefault("execute_steps", int(steps))
    meta.setdefault("action_horizon", 1)
    return meta


def load_served_policy(checkpoint: str | Path, compile: bool = False) -> tuple[Any, dict[str, Any]]:
    """A checkpoint directory -> (policy, metadata with model name, stats and image size).
    ``compile``: ``torch.compile`` the VLA and compile it now, with one warm-up call on a blank
    frame, so that no client waits the minute or two of compiling."""
    from rt2.policies import load_checkpoint_policy
    from rt2.training.checkpoint import latest_checkpoint, model_kind

    ckpt = latest_checkpoint(checkpoint)
    if ckpt is None:
        raise FileNotFoundError(
            f"--checkpoint {checkpoint}: no checkpoint there (expected model.safetensors or "
            "checkpoints/latest, written by `rt2 train`)"
        )
    if not (ckpt / "vla.json").is_file() or model_kind(ckpt) != "vla":
        raise ValueError(
            f"--checkpoint {checkpoint}: {ckpt} is not a VLA checkpoint (no vla.json, or "
            "model.kind is not vla)"
        )
    policy = load_checkpoint_policy(ckpt, compile)
    config = read_json(ckpt / "config.json", {})
    model_cfg = config.get("model", {})
    name = f"{config.get('name', 'vla')}/{model_cfg.get('backbone', '?')}"
    meta = policy_metadata(
        policy, name, checkpoint=str(ckpt), stats=read_json(ckpt / "stats.json", {}), kind="vla"
    )
    if compile:
        h, w = meta.get("image_size", [224, 224])
        blank = np.zeros((h, w, 3), dtype=np.uint8)
        cameras = meta.get("cameras", [])
        warm: dict[str, Any] = {"instruction": "warm up"}
        warm |= {"images": {c: blank for c in cameras}} if len(cameras) > 1 else {"image": blank}
        if "state" in meta:
            warm["state"] = np.zeros(meta["state"]["dim"], dtype=np.float32)
        policy.infer(warm)
    return policy, meta
