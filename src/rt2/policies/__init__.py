"""Policies: observation dicts -> actions, and the one loader from a ``--policy`` spec.

- :mod:`rt2.policies.base`: the :class:`Policy` protocol the runner, trainer and server drive.
- :mod:`rt2.policies.scripted`: random, scripted-expert and blind-expert policies.
- :mod:`rt2.policies.vla`: a trained VLA as a policy (:class:`~rt2.policies.vla.VLAPolicy`).
- :mod:`rt2.policies.rt1`: the RT-1 baseline with a frame history per env slot.
- :mod:`rt2.policies.loader`: ``model.kind`` -> policy (:data:`POLICY_KINDS`), ``load_policy``.

The model-backed policies import torch; import them from their modules.
"""

from rt2.policies.base import Policy, infer_batch
from rt2.policies.loader import (
    POLICY_KINDS,
    PolicyKind,
    load_checkpoint_policy,
    load_policy,
    policy_for,
)
from rt2.policies.scripted import SCRIPTED, ExpertPolicy, RandomPolicy, blind_expert_policy

__all__ = [
    "POLICY_KINDS",
    "SCRIPTED",
    "ExpertPolicy",
    "Policy",
    "PolicyKind",
    "RandomPolicy",
    "blind_expert_policy",
    "infer_batch",
    "load_checkpoint_policy",
    "load_policy",
    "policy_for",
]
