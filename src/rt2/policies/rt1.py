"""RT-1 as a stateful policy: a frame history per environment slot (per episode).

The evaluation runner (and the policy server) add ``env_slot`` to each observation and call
``start_episode(slot, seed)`` when an env starts an episode; ``reset()`` clears every slot.
The first frame of an episode fills the whole history (as the training data does).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from rt2.baselines.rt1.model import RT1, RT1Output
from rt2.observations import require_keys
from rt2.precision import inference_precision


class RT1Policy:
    """Observation dicts (``image`` uint8 HWC, ``instruction``, ``env_slot``; ``state`` (S,) for
    a model that reads it) -> actions (D,).

    Per slot it keeps the TokenLearner tokens of the last ``frames`` frames (a frame's tokens
    depend only on that frame and the instruction), so each step encodes one new image. A slot
    whose instruction changes starts a new history.
    """

    def __init__(self, model: RT1, precision: str | None = None) -> None:
        self.model = model.eval()
        self.model.precision = precision or inference_precision()  # bf16 where native
        self.frames = model.config.frames
        self._history: dict[int, deque[torch.Tensor]] = {}  # slot -> (T, d) per frame
        self._instruction: dict[int, str] = {}
        self.last_result: RT1Output | None = None

    @property
    def action_space(self):
        return self.model.action_space

    def reset(self) -> None:
        """Forget every slot's frames."""
        self._history.clear()
        self._instruction.clear()

    def start_episode(self, slot: int, seed: int = 0) -> None:
        """Env ``slot`` starts a new episode: its history starts empty."""
        self._history.pop(int(slot), None)
        self._instruction.pop(int(slot), None)

    def history_length(self, slot: int) -> int:
        """Frames held for ``slot`` (0 after reset / a new episode)."""
        return len(self._history.get(int(slot), ()))

    def _push(self, slot: int, instruction: str, tokens: torch.Tensor) -> torch.Tensor:
        hist = self._history.get(slot)
        if hist is None or self._instruction.get(slot) != instruction:
            hist = self._history[slot] = deque([tokens] * self.frames, maxlen=self.frames)
            self._instruction[slot] = instruction
        else:
            hist.append(tokens)
        return torch.stack(list(hist))  # (F, T, d)

    def infer(self, obs: dict[str, Any]) -> np.ndarray:
        return self.infer_batch([obs])[0]

    def infer_batch(self, observations: Sequence[dict[str, Any]]) -> np.ndarray:
        require_keys(observations)
        slots = [int(o.get("env_slot", 0)) for o in observations]
        if len(set(slots)) != len(slots):
            raise ValueError(f"one batch holds the same env_slot twice: {slots}")
        instructions = [str(o["instruction"]) for o in observations]
        images = np.stack([np.asarray(o["image"]) for o in observations])  # (B, H, W, 3)
        new = self.model.encode_frames(images, instructions)  # (B, T, d)
        tokens = torch.stack(
            [self._push(s, i, t) for s, i, t in zip(slots, instructions, new, strict=True)]
        )  # (B, F, T, d)
        reads_state = self.model.state_format is not None
        res = self.model.act_tokens(
            tokens, [o.get("state") for o in observations] if reads_state else None
        )
        self.last_result = res
        return res.actions  # (B, D)
