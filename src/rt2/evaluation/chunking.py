"""Executing action chunks in closed loop: a policy that returns (B, K, D) chunks becomes one
that returns one (B, D) action per step.

* ``open_loop``: query the model once per ``steps`` control steps and play that many actions of
  the chunk (OpenVLA-OFT, pi0); ``steps=K`` plays whole chunks. ``steps=None``: the policy's own
  ``execute_steps`` (a checkpoint's ``model.execute_steps``), else the whole chunk.
* ``ensemble``: query every step and average, for the current step, every chunk that covers it,
  weighted ``exp(-decay * i)`` with ``i = 0`` the oldest (ACT's temporal ensembling, Zhao et al.
  2023): smoother, one model call per step.

Per-episode state lives per env slot; the runner's ``start_episode(slot, seed)`` clears it.
A policy returning (B, D) actions passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from rt2.policies import Policy

EXECUTIONS = ("open_loop", "ensemble")


@dataclass(frozen=True)
class ChunkExecution:
    """How chunks are played: ``open_loop`` ``steps`` actions per query (None: the whole
    chunk), or ``ensemble`` with weight decay ``decay`` per step of age."""

    mode: Literal["open_loop", "ensemble"] = "open_loop"
    steps: int | None = None
    decay: float = 0.1

    def __post_init__(self) -> None:
        if self.mode not in EXECUTIONS:
            raise ValueError(f"ChunkExecution.mode must be one of {EXECUTIONS}, got {self.mode!r}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"ChunkExecution.steps must be >= 1 or None, got {self.steps}")
        if self.decay < 0:
            raise ValueError(f"ChunkExecution.decay must be >= 0, got {self.decay}")


@dataclass
class _SlotState:
    t: int = 0  # control steps played this episode
    queue: list[np.ndarray] = field(default_factory=list)  # open loop: actions still to play
    chunks: list[tuple[int, np.ndarray]] = field(default_factory=list)  # ensemble: (t0, (K, D))


class ChunkExecutor:
    """Wraps a policy whose ``infer_batch`` may return chunks (B, K, D); see the module doc."""

    def __init__(self, policy: Policy, execution: ChunkExecution | None = None) -> None:
        self.policy = policy
        self.execution = execution or ChunkExecution()
        self._slots: dict[int, _SlotState] = {}
        self.queries = 0  # model calls made (rows), for throughput reports

    def __getattr__(self, name: str) -> Any:  # last_result, action_space, bind, ...
        return getattr(self.policy, name)

    def reset(self) -> None:
        self._slots.clear()
        self.policy.reset()

    def start_episode(self, slot: int, seed: int) -> None:
        """Clear ``slot``'s chunks; the wrapped policy gets its own hook, or ``reset()`` (what
        the runner calls for a policy without per-episode hooks)."""
        self._slots[slot] = _SlotState()
        inner = getattr(self.policy, "start_episode", None)
        if inner is not None:
            inner(slot, seed)
        else:
            self.policy.reset()

    def infer(self, obs: dict[str, Any]) -> np.ndarray:
        return self.infer_batch([obs])[0]

    def infer_batch(self, observations: Sequence[dict[str, Any]]) -> np.ndarray:
        slots = [int(o.get("env_slot", i)) for i, o in enumerate(observations)]
        states = [self._slots.setdefault(s, _SlotState()) for s in slots]
        if self.execution.mode == "open_loop":
            need = [i for i, st in enumerate(states) if not st.queue]
        else:
            need = list(range(len(observations)))
        if need:
            chunks = self._query([observations[i] for i in need])  # (n, K, D)
            for i, chunk in zip(need, chunks, strict=True):
                st = states[i]
                if self.execution.mode == "open_loop":
                    st.queue = list(chunk[: played_steps(self.policy, self.execution, len(chunk))])
                else:
                    st.chunks = [(t0, c) for t0, c in st.chunks if st.t - t0 < len(c)]
                    st.chunks.append((st.t, chunk))
        out = []
        for st in states:
            out.append(st.queue.pop(0) if self.execution.mode == "open_loop" else self._mean(st))
            st.t += 1
        return np.stack(out)  # (B, D)

    def _query(self, observations: list[dict[str, Any]]) -> np.ndarray:
        """(n, K, D) chunks from the wrapped policy, counted in :attr:`queries`."""
        out = query_chunks(self.policy, observations)
        self.queries += len(observations)
        return out

    def _mean(self, st: _SlotState) -> np.ndarray:
        """ACT's weighted average of every stored chunk's prediction for step ``st.t``."""
        preds = [c[st.t - t0] for t0, c in st.chunks if 0 <= st.t - t0 < len(c)]  # oldest first
        w = np.exp(-self.execution.decay * np.arange(len(preds)))
        return (w[:, None] * np.stack(preds)).sum(0) / w.sum()


def played_steps(policy: Policy, execution: ChunkExecution, k: int) -> int:
    """Actions of a K-action chunk played per model call in open loop: ``execution.steps``, else
    the policy's ``execute_steps``, else all K."""
    return min(k, execution.steps or getattr(policy, "execute_steps", None) or k)


def query_chunks(policy: Policy, observations: Sequence[dict[str, Any]]) -> np.ndarray:
    """(n, K, D) chunks from ``policy`` for n observations: one ``infer_batch`` call if it has
    one; (n, D) actions count as K = 1."""
    batched = getattr(policy, "infer_batch", None)
    if batched is not None:
        out = np.asarray(batched(list(observations)), dtype=np.float64)
    else:
        out = np.stack([np.asarray(policy.infer(o), np.float64) for o in observations])
    if out.ndim == 2:
        out = out[:, None]
    if out.ndim != 3 or out.shape[0] != len(observations):
        raise ValueError(
            f"policy returned actions of shape {out.shape} for {len(observations)} observations"
        )
    return out
