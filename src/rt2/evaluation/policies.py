"""The policy interface the evaluation runner drives, and the built-in policies.

A policy maps an observation dict (``image`` uint8 HWC, ``instruction`` str, ``state``) to an
action vector. The runner calls, per step, ``infer_batch`` if the policy has it (one call for all
envs stepped in lockstep), else ``infer`` per env. Optional hooks:

- ``start_episode(slot, seed)``: env ``slot`` starts an episode with ``seed`` (per-episode state);
  without it the runner calls ``reset()`` when any episode starts.
- ``bind(envs)``: receive the envs (privileged policies such as the scripted expert).

The runner adds ``env_slot`` (int) to each observation it passes. A checkpoint becomes a policy
through one loader, :func:`load_checkpoint_policy`: its ``config.json``'s ``model.kind`` picks
the model and the policy (:data:`POLICY_KINDS`).
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


def _blind_expert(noise: float, seed: int) -> Any:
    from rt2.envs.expert import BlindTabletopExpert

    return BlindTabletopExpert(noise=noise, seed=seed)


#: Policies that load no weights: built from their name alone.
SCRIPTED = ("random", "expert", "blind-expert")


def _vla_policy(model: Any, config: Any, compile: bool = False) -> Policy:
    from rt2.policy import VLAPolicy
    from rt2.precision import inference_precision

    model.precision = inference_precision()
    if model.precision == "bfloat16" and hasattr(model.backbone, "to_inference"):
        model.backbone.to_inference("bfloat16")  # bf16 weights once, not a cast in every call
    if compile:
        model.compile_for_inference()
    return VLAPolicy(model, cot=config.data.plan_bins > 0)  # trained to plan: let it plan


def _rt1_policy(model: Any, config: Any, compile: bool = False) -> Policy:
    from rt2.baselines.rt1.policy import RT1Policy

    if compile:
        raise ValueError("compile: RT-1 policies run eager (one ~18 ms pass); drop --compile")
    return RT1Policy(model)


# model.kind of a checkpoint's config.json -> (trained model, its TrainConfig, compile) -> policy
POLICY_KINDS: dict[str, Callable[[Any, Any, bool], Policy]] = {
    "vla": _vla_policy,
    "rt1": _rt1_policy,
}


def load_checkpoint_policy(path: str | Path, compile: bool = False) -> Policy:
    """The policy of a checkpoint (or run directory, or ``rt2:NAME``): its ``config.json``'s
    ``model.kind`` picks the model (:func:`rt2.training.factory.load_model`) and the policy
    around it (:data:`POLICY_KINDS`: a :class:`~rt2.policy.VLAPolicy` that plans if it was
    trained to, or a stateful :class:`~rt2.baselines.rt1.policy.RT1Policy`). ``compile``:
    ``torch.compile`` the model for acting (:meth:`rt2.model.VLA.compile_for_inference`)."""
    from rt2.training.checkpoint import latest_checkpoint, model_kind, read_json
    from rt2.training.config import TrainConfig
    from rt2.training.factory import load_model

    ckpt = latest_checkpoint(path)
    if ckpt is None or not (ckpt / "config.json").is_file():
        raise ValueError(
            f"{path} is not a checkpoint this version can load (expected a directory with "
            "config.json and model.safetensors written by `rt2 train`, or a run directory holding "
            "checkpoints/)"
        )
    kind = model_kind(ckpt)
    if kind not in POLICY_KINDS:
        raise ValueError(
            f"{ckpt}/config.json: model.kind={kind!r} has no policy; known: {sorted(POLICY_KINDS)}"
        )
    config = TrainConfig.from_dict(read_json(ckpt, "config.json"))
    return POLICY_KINDS[kind](load_model(ckpt), config, compile)


def load_policy(
    spec: str,
    *,
    action_space: ActionSpace | None = None,
    seed: int = 0,
    noise: float = 0.0,
    compile: bool = False,
) -> Policy:
    """``"expert"``, ``"blind-expert"`` (the scripted expert pushing a uniformly drawn
    candidate mover to a uniformly drawn candidate target: perfect motor skill, no
    understanding), ``"random"``, a checkpoint path, shipped weights (``rt2:tiny-vla``) or a
    server URL (``ws://HOST:PORT``) -> a policy; ``compile`` applies to checkpoints."""
    if spec == "expert":
        return ExpertPolicy(noise=noise, seed=seed)
    if spec == "blind-expert":
        return ExpertPolicy(noise=noise, seed=seed, expert_factory=_blind_expert)
    if spec == "random":
        return RandomPolicy(action_space, seed=seed)
    if spec.split("://", 1)[0] in ("ws", "wss", "http", "https"):  # a running `rt2 serve`
        from rt2.serving.client import PolicyClient

        return PolicyClient(spec)
    from rt2.weights import resolve

    path = resolve(spec)  # "rt2:NAME": weights shipped in the package
    if not path.exists():
        raise FileNotFoundError(
            f"--policy {spec!r}: no such checkpoint; use 'expert', 'blind-expert', 'random', "
            "'rt2:tiny-vla' or "
            "the path of a checkpoint directory written by `rt2 train`"
        )
    return load_checkpoint_policy(path, compile)
