"""A trained VLA as a policy for the evaluation runner, the trainer's rollouts and the server.

``VLAPolicy`` follows the openpi-client contract: ``infer(obs) -> action`` and ``reset()``, plus
``infer_batch`` so the runner can step many environments with one forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rt2.decoding import SamplingConfig
from rt2.model import VLA
from rt2.observations import camera_views, require_keys


class VLAPolicy:
    """Observation dicts (``image`` uint8 HWC, or ``images`` {camera name: image} for a model
    that sees several cameras; ``instruction``; ``state`` (S,) for a model that reads it) ->
    continuous actions. ``execute_steps``: how many actions of each chunk to play per call, as
    the model was measured (``model.execute_steps``; None: the whole chunk)."""

    def __init__(
        self,
        model: VLA,
        sampling: SamplingConfig | None = None,
        cot: bool = False,
        execute_steps: int | None = None,
    ) -> None:
        self.model = model.eval()
        self.sampling = sampling
        self.cot = cot
        self.execute_steps = execute_steps
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
        require_keys(observations, ("instruction",))
        reads_state = getattr(self.model, "state_format", None) is not None
        cameras = getattr(self.model, "cameras", ())
        res = self.model.act_batch(
            [camera_views(o, cameras) for o in observations],
            [str(o["instruction"]) for o in observations],
            cot=self.cot,
            sampling=self.sampling,
            states=[o.get("state") for o in observations] if reads_state else None,
        )
        self.last_result = res
        if res.chunks is not None and res.chunks.shape[1] > 1:
            return res.chunks  # (B, K, D)
        return res.actions  # (B, D)
