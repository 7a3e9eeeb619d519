"""RT-1 as a stateful policy: a frame history per environment slot (per episode).

The evaluation runner (and the policy server) add ``env_slot`` to each observation and call
``start_episode(slot, seed)`` when an env starts an episode; ``reset()`` clears every slot.
The first frame of an episode fills the whole history (as the training data does).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rt2.baselines.rt1.model import RT1, RT1Output


class RT1Policy:
    """Observation dicts (``image`` uint8 HWC, ``instruction``, ``env_slot``) -> actions (D,)."""

    def __init__(self, model: RT1, precision: str = "bfloat16") -> None:
        self.model = model.eval()
        self.model.precision = precision
        self.frames = model.config.frames
        self._history: dict[int, deque[np.ndarray]] = {}
        self.last_result: RT1Output | None = None

    @property
    def action_space(self):
        return self.model.action_space

    def reset(self) -> None:
        """Forget every slot's frames."""
        self._history.clear()

    def start_episode(self, slot: int, seed: int = 0) -> None:
        """Env ``slot`` starts a new episode: its history starts empty."""
        self._history.pop(int(slot), None)

    def history_length(self, slot: int) -> int:
        """Frames held for ``slot`` (0 after reset / a new episode)."""
        return len(self._history.get(int(slot), ()))

    def _push(self, slot: int, image: np.ndarray) -> np.ndarray:
        hist = self._history.get(slot)
        if hist is None:
            hist = self._history[slot] = deque([image] * self.frames, maxlen=self.frames)
        else:
            hist.append(image)
        return np.stack(hist)  # (F, H, W, 3)

    def infer(self, obs: dict[str, Any]) -> np.ndarray:
        return self.infer_batch([obs])[0]

    def infer_batch(self, observations: Sequence[dict[str, Any]]) -> np.ndarray:
        for key in ("image", "instruction"):
            missing = [i for i, o in enumerate(observations) if key not in o]
            if missing:
                raise KeyError(
                    f"observation {missing[0]} has no {key!r}; got keys {sorted(observations[missing[0]])}"
                )
        slots = [int(o.get("env_slot", 0)) for o in observations]
        if len(set(slots)) != len(slots):
            raise ValueError(f"one batch holds the same env_slot twice: {slots}")
        frames = [
            self._push(s, np.asarray(o["image"])) for s, o in zip(slots, observations, strict=True)
        ]
        res = self.model.act_frames(np.stack(frames), [str(o["instruction"]) for o in observations])
        self.last_result = res
        return res.actions  # (B, D)


def load_rt1_policy(path: Path) -> RT1Policy | None:
    """Checkpoint loader for :func:`rt2.evaluation.load_policy`; None unless ``path`` is an RT-1."""
    from rt2.training.checkpoint import latest_checkpoint, read_json
    from rt2.training.factory import load_model

    ckpt = latest_checkpoint(path)
    if ckpt is None or not (ckpt / "config.json").is_file():
        return None
    if read_json(ckpt, "config.json").get("model", {}).get("kind") != "rt1":
        return None
    return RT1Policy(load_model(ckpt))


def _register() -> None:
    from rt2.evaluation.policies import CHECKPOINT_LOADERS, register_checkpoint_loader

    if load_rt1_policy not in CHECKPOINT_LOADERS:
        register_checkpoint_loader(load_rt1_policy)


_register()
