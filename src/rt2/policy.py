"""Trained VLAs as policies for the evaluation runner (and, later, the policy server).

``VLAPolicy`` follows the openpi-client contract: ``infer(obs) -> action`` and ``reset()``, plus
``infer_batch`` so the runner can step many environments with one forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rt2.decoding import SamplingConfig
from rt2.model import VLA
from rt2.observations import require_keys


class VLAPolicy:
    """Observation dicts (``image`` uint8 HWC, ``instruction``) -> continuous actions."""

    def __init__(
        self, model: VLA, sampling: SamplingConfig | None = None, cot: bool = False
    ) -> None:
        self.model = model.eval()
        self.sampling = sampling
        self.cot = cot
        self.last_result = None  # the ActResult of the latest call, for inspection

    @property
    def action_space(self):
        return self.model.action_space

    def reset(self) -> None:
        """RT-2 acts from the current frame only: no per-episode state to clear."""

    def infer(self, obs: dict[str, Any]) -> np.ndarray:
        return self.infer_batch([obs])[0]

    def infer_batch(self, observations: Sequence[dict[str, Any]]) -> np.ndarray:
        """(B, D) actions, or (B, K, D) chunks from a model that writes K > 1 actions (the
        evaluation runner plays them with :class:`rt2.evaluation.chunking.ChunkExecutor`; the
        policy server sends them whole)."""
        require_keys(observations)
        res = self.model.act_batch(
            [np.asarray(o["image"]) for o in observations],
            [str(o["instruction"]) for o in observations],
            cot=self.cot,
            sampling=self.sampling,
        )
        self.last_result = res
        if res.chunks is not None and res.chunks.shape[1] > 1:
            return res.chunks  # (B, K, D)
        return res.actions  # (B, D)


def load_vla_policy(path: Path) -> VLAPolicy | None:
    """Checkpoint loader for :func:`rt2.evaluation.load_policy`; None if ``path`` is not ours."""
    from rt2.training.checkpoint import latest_checkpoint, model_kind, read_json
    from rt2.training.config import TrainConfig
    from rt2.training.factory import load_model

    ckpt = latest_checkpoint(path)
    if ckpt is None or not (ckpt / "vla.json").is_file() or model_kind(ckpt) == "rt1":
        return None  # not a checkpoint, or an RT-1 one (rt2.baselines.rt1.policy loads it)
    model = load_model(ckpt)
    model.precision = "bfloat16"
    if hasattr(model.backbone, "to_inference"):  # bf16 weights once, not a cast in every call
        model.backbone.to_inference("bfloat16")
    config = TrainConfig.from_dict(read_json(ckpt, "config.json"))
    return VLAPolicy(model, cot=config.data.plan_bins > 0)  # trained to plan: let it plan


def _register() -> None:
    from rt2.evaluation.policies import CHECKPOINT_LOADERS, register_checkpoint_loader

    if load_vla_policy not in CHECKPOINT_LOADERS:
        register_checkpoint_loader(load_vla_policy)


_register()
