"""Policies that load no weights: uniform random actions, the scripted expert, the blind expert."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rt2.actions import ActionSpace

#: Policies built from their name alone (``--policy random`` etc.).
SCRIPTED = ("random", "expert", "blind-expert")


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


def blind_expert_policy(noise: float = 0.0, seed: int = 0) -> ExpertPolicy:
    """The scripted expert pushing a uniformly drawn candidate mover to a uniformly drawn
    candidate target: perfect motor skill, no understanding."""
    return ExpertPolicy(noise=noise, seed=seed, expert_factory=_blind_expert)


def _tabletop_expert(noise: float, seed: int) -> Any:
    from rt2.envs import TabletopExpert

    return TabletopExpert(noise=noise, seed=seed)


def _blind_expert(noise: float, seed: int) -> Any:
    from rt2.envs.tabletop.expert import BlindTabletopExpert

    return BlindTabletopExpert(noise=noise, seed=seed)
