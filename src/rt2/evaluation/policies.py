"""The policy interface the evaluation runner drives, and the built-in policies.

A policy maps an observation dict (``image`` uint8 HWC, ``instruction`` str, ``state``) to an
action vector. The runner calls, per step, ``infer_batch`` if the policy has it (one call for all
envs stepped in lockstep), else ``infer`` per env. Optional hooks:

- ``start_episode(slot, seed)``: env ``slot`` starts an episode with ``seed`` (per-episode state);
  without it the runner calls ``reset()`` when any episode starts.
- ``bind(envs)``: receive the envs (privileged policies such as the scripted expert).

The runner adds ``env_slot`` (int) to each observation it passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rt2.actions import ActionSpace


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


class RandomPolicy:
    """Uniform random actions inside the action space bounds (terminate/mode dims stay 0).

    Each episode draws from its own generator seeded by the episode seed, so results do not
    depend on how episodes are batched or sharded.
    """

    def __init__(self, action_space: ActionSpace | None = None, seed: int = 0) -> None:
        self.space = action_space or ActionSpace.preset("language_table")
        self.seed = seed
        self._rngs: dict[int, np.random.Generator] = {}
        self._continuous = np.array([not d.is_discrete for d in self.space.dims])

    def reset(self) -> None:
        self._rngs.clear()

    def start_episode(self, slot: int, seed: int) -> None:
        self._rngs[slot] = np.random.default_rng([self.seed, seed])

    def infer(self, obs: dict[str, Any]) -> np.ndarray:
        slot = int(obs.get("env_slot", 0))
        rng = self._rngs.setdefault(slot, np.random.default_rng([self.seed, slot]))
        action = rng.uniform(self.space.low, self.space.high)
        return np.where(self._continuous, action, 0.0)

    def infer_batch(self, observations: list[dict[str, Any]]) -> np.ndarray:
        return np.stack([self.infer(o) for o in observations])


class ExpertPolicy:
    """The simulator's scripted expert as a (privileged) policy: it reads the true env state."""

    def __init__(
        self,
        noise: float = 0.0,
        seed: int = 0,
        expert_factory: Callable[[float, int], Any] | None = None,
    ) -> None:
        self.noise, self.seed = noise, seed
        self._factory = expert_factory or _tabletop_expert
        self._envs: list[Any] = []
        self._experts: dict[int, Any] = {}

    def bind(self, envs: Sequence[Any]) -> None:
        self._envs = list(envs)
        self._experts.clear()

    def reset(self) -> None:
        for expert in self._experts.values():
            expert.reset()

    def start_episode(self, slot: int, seed: int) -> None:
        self._experts[slot] = self._factory(self.noise, self.seed + seed)
        self._experts[slot].reset()

    def infer(self, obs: dict[str, Any]) -> np.ndarray:
        slot = int(obs.get("env_slot", 0))
        if slot >= len(self._envs):
            raise RuntimeError(
                "ExpertPolicy needs the envs: the runner calls bind(envs) before stepping"
            )
        if slot not in self._experts:
            self.start_episode(slot, 0)
        return np.asarray(self._experts[slot].act(self._envs[slot]), dtype=np.float64)

    def infer_batch(self, observations: list[dict[str, Any]]) -> np.ndarray:
        return np.stack([self.infer(o) for o in observations])


def _tabletop_expert(noise: float, seed: int) -> Any:
    from rt2.envs import TabletopExpert

    return TabletopExpert(noise=noise, seed=seed)


# Functions that turn a checkpoint path into a policy (or return None if not theirs).
CheckpointLoader = Callable[[Path], Policy | None]
CHECKPOINT_LOADERS: list[CheckpointLoader] = []


def register_checkpoint_loader(loader: CheckpointLoader) -> CheckpointLoader:
    """Add a checkpoint loader consulted by :func:`load_policy` (usable as a decorator)."""
    CHECKPOINT_LOADERS.append(loader)
    return loader


def load_policy(
    spec: str, *, action_space: ActionSpace | None = None, seed: int = 0, noise: float = 0.0
) -> Policy:
    """``"expert"``, ``"random"``, a checkpoint path, shipped weights (``rt2:tiny-vla``) or a
    server URL (``ws://HOST:PORT``) -> a policy."""
    if spec == "expert":
        return ExpertPolicy(noise=noise, seed=seed)
    if spec == "random":
        return RandomPolicy(action_space, seed=seed)
    if spec.split("://", 1)[0] in ("ws", "wss", "http", "https"):  # a running `rt2 serve`
        from rt2.serving.client import PolicyClient

        return PolicyClient(spec)
    from rt2.weights import resolve

    path = resolve(spec)  # "rt2:NAME": weights shipped in the package
    if not path.exists():
        raise FileNotFoundError(
            f"--policy {spec!r}: no such checkpoint; use 'expert', 'random', 'rt2:tiny-vla' or "
            "the path of a checkpoint directory written by `rt2 train`"
        )
    import rt2.baselines.rt1.policy  # registers the RT-1 checkpoint loader
    import rt2.policy  # noqa: F401  (registers the VLA checkpoint loader)

    for loader in CHECKPOINT_LOADERS:
        policy = loader(path)
        if policy is not None:
            return policy
    raise ValueError(
        f"--policy {spec!r} is not a checkpoint this version can load (expected a directory with "
        "config.json and model weights written by `rt2 train`; no registered loader accepted it)"
    )
