"""The policy interface the evaluation runner, the trainer's rollouts and the server drive.

A policy maps an observation dict (``image`` uint8 HWC, ``instruction`` str, ``state``) to an
action vector. The runner calls, per step, ``infer_batch`` if the policy has it (one call for all
envs stepped in lockstep), else ``infer`` per env. Optional hooks:

- ``start_episode(slot, seed)``: env ``slot`` starts an episode with ``seed`` (per-episode state);
  without it the runner calls ``reset()`` when any episode starts.
- ``bind(envs)``: receive the envs (privileged policies such as the scripted expert).

The runner adds ``env_slot`` (int) to each observation it passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Policy(Protocol):
    """``infer(obs) -> action`` plus ``reset()`` (the openpi-client contract, numpy actions)."""

    def infer(self, obs: dict[str, Any]) -> np.ndarray: ...

    def reset(self) -> None: ...


def infer_batch(policy: Policy, observations: Sequence[dict[str, Any]]) -> np.ndarray:
    """(B, D) actions for B observations: one ``infer_batch`` call if available."""
    batched = getattr(policy, "infer_batch", None)
    if batched is not None:
        actions = np.asarray(batched(list(observations)), dtype=np.float64)
    else:
        actions = np.stack(
            [np.asarray(policy.infer(o), dtype=np.float64).reshape(-1) for o in observations]
        )
    if actions.ndim != 2 or actions.shape[0] != len(observations):
        raise ValueError(
            f"policy returned actions of shape {actions.shape} for a batch of {len(observations)}"
        )
    return actions
