"""One loader from a ``--policy`` spec to a policy, and the registry it shares with the trainer.

A checkpoint's ``config.json`` ``model.kind`` picks the policy class around the trained model
(:data:`POLICY_KINDS`); the trainer's closed-loop rollouts wrap their live model the same way
(:func:`policy_for`), without the inference-only preparation the loader adds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rt2.actions import ActionSpace
from rt2.policies.base import Policy
from rt2.policies.scripted import ExpertPolicy, RandomPolicy, blind_expert_policy


@dataclass(frozen=True)
class PolicyKind:
    """How one ``model.kind`` acts: ``wrap(model, train_config)`` puts the policy around a
    model as is; ``prepare(model, compile)`` readies a loaded checkpoint's model for acting."""

    wrap: Callable[[Any, Any], Policy]
    prepare: Callable[[Any, bool], None]


def _vla_policy(model: Any, config: Any) -> Policy:
    from rt2.policies.vla import VLAPolicy

    if config.model.plan_source == "head":  # the grounding head writes the plan
        model.head_plan = config.data.plan_format()
    return VLAPolicy(  # trained to plan: let it plan
        model, cot=config.data.plan_bins > 0, execute_steps=config.model.execute_steps
    )


def _prepare_vla(model: Any, compile: bool) -> None:
    from rt2.precision import inference_precision

    model.precision = inference_precision()
    if model.precision == "bfloat16" and hasattr(model.backbone, "to_inference"):
        model.backbone.to_inference("bfloat16")  # bf16 weights once, not a cast in every call
    if compile:
        model.compile_for_inference()


def _rt1_policy(model: Any, config: Any) -> Policy:
    from rt2.policies.rt1 import RT1Policy

    return RT1Policy(model)


def _prepare_rt1(model: Any, compile: bool) -> None:
    if compile:
        raise ValueError("compile: RT-1 policies run eager (one ~18 ms pass); drop --compile")


#: ``model.kind`` of a checkpoint's config.json -> how a model of that kind acts.
POLICY_KINDS: dict[str, PolicyKind] = {
    "vla": PolicyKind(_vla_policy, _prepare_vla),
    "rt1": PolicyKind(_rt1_policy, _prepare_rt1),
}


def _kind(kind: str, where: str) -> PolicyKind:
    if kind not in POLICY_KINDS:
        raise ValueError(
            f"{where}: model.kind={kind!r} has no policy; known: {sorted(POLICY_KINDS)}"
        )
    return POLICY_KINDS[kind]


def policy_for(model: Any, config: Any) -> Policy:
    """The policy around ``model`` trained by ``config`` (a ``TrainConfig``): a
    :class:`~rt2.policies.vla.VLAPolicy` that plans if it was trained to, or a stateful
    :class:`~rt2.policies.rt1.RT1Policy`. The model's weights and precision stay as they are."""
    return _kind(config.model.kind, "config").wrap(model, config)


def load_checkpoint_policy(path: str | Path, compile: bool = False) -> Policy:
    """The policy of a checkpoint (or run directory, or ``rt2:NAME``): its ``config.json``'s
    ``model.kind`` picks the model (:func:`rt2.training.factory.load_model`) and the policy
    around it (:data:`POLICY_KINDS`), with inference precision. ``compile``: ``torch.compile``
    the model for acting (:meth:`rt2.model.VLA.compile_for_inference`)."""
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
    kind = _kind(model_kind(ckpt), f"{ckpt}/config.json")
    config = TrainConfig.from_dict(read_json(ckpt, "config.json"))
    model = load_model(ckpt)
    kind.prepare(model, compile)
    return kind.wrap(model, config)


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
        return blind_expert_policy(noise=noise, seed=seed)
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
