"""Parallel action decoding with RT-2's discrete action tokens, and action chunks (OpenVLA-OFT).

Autoregressive decoding runs one forward pass per action token. Here all ``K x D`` tokens of a
chunk of K future actions come from one pass: ``K * D`` learned *slot* embeddings follow the
prompt (or the plan), attend to everything before them and to each other (attention group 2 of
:class:`~rt2.backbones.base.CachedDecoderBackbone`), and the LM head reads slot ``j`` restricted
to the token ids of its dimension (RT-2's output constraint, per position). Training is
cross-entropy on the action tokens at the slots, in the same batch as the answers of web and
plan text. Actions stay RT-2's tokens: the mapping must write each value with one token (the
``reserved`` mapping does; ``integers`` over a digit-splitting tokenizer does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from rt2.actions.mapping import TokenMapping
from rt2.backbones.base import IGNORE_INDEX

Decoding = Literal["autoregressive", "parallel"]
DECODINGS: tuple[str, ...] = ("autoregressive", "parallel")


@dataclass(frozen=True)
class DecodingConfig:
    """How a VLA writes its action: token by token, or all slots in one pass; ``chunk`` K
    future actions per answer (``parallel`` only)."""

    mode: Decoding = "autoregressive"
    chunk: int = 1

    def __post_init__(self) -> None:
        if self.mode not in DECODINGS:
            raise ValueError(f"decoding mode: expected one of {DECODINGS}, got {self.mode!r}")
        if self.chunk < 1:
            raise ValueError(f"decoding chunk: expected >= 1, got {self.chunk}")
        if self.chunk > 1 and self.mode != "parallel":
            raise ValueError(f"decoding chunk={self.chunk} needs mode='parallel'")

    @property
    def parallel(self) -> bool:
        return self.mode == "parallel"


def slot_input_ids(num_slots: int) -> list[int]:
    """Placeholder input ids of the slots in training batches: slot j is ``-1 - j``."""
    return [-1 - j for j in range(num_slots)]


class ActionSlots(nn.Module):
    """The ``chunk * D`` slot embeddings and the per-dimension read-out of their logits."""

    def __init__(self, mapping: TokenMapping, chunk: int, embed_dim: int, scale: float) -> None:
        super().__init__()
        self.chunk, self.num_dims = chunk, len(mapping.num_values)
        ids = []
        for d, n in enumerate(mapping.num_values):
            per_value = [mapping.value_ids(d, k) for k in range(n)]
            if any(len(t) != 1 for t in per_value):
                raise ValueError(
                    f"parallel decoding needs one token per action value; the "
                    f"{type(mapping).__name__} writes dim {d} with up to "
                    f"{max(len(t) for t in per_value)} tokens: use mapping='reserved'"
                )
            ids.append(torch.tensor([t[0] for t in per_value], dtype=torch.long))
        self.value_ids = ids  # per dim: (n_d,) token id of each bin
        generator = torch.Generator().manual_seed(0)
        queries = torch.randn(chunk * self.num_dims, embed_dim, generator=generator) * scale
        self.queries = nn.Parameter(queries)  # (S, E)

    @property
    def num_slots(self) -> int:
        return self.chunk * self.num_dims

    def targets(self, bins: np.ndarray) -> list[int]:
        """Bins (K, D), -1 where a step has no action (after the episode end) -> (S,) ids."""
        out = []
        for k in range(self.chunk):
            for d in range(self.num_dims):
                b = int(bins[k, d])
                out.append(IGNORE_INDEX if b < 0 else int(self.value_ids[d][b]))
        return out

    def embed(self, text: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        """Text embeddings (B, T, E) with the slot placeholders (ids < 0) replaced."""
        is_slot = input_ids < 0  # (B, T)
        q = self.queries[(-input_ids - 1).clamp(min=0, max=self.num_slots - 1)]  # (B, T, E)
        return torch.where(is_slot[..., None], q.to(text.dtype), text)

    def read(self, logits: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Slot logits (B, S, V) -> bins (B, K, D) and each chosen value's probability, every
        position restricted to its dimension's ids."""
        B = logits.shape[0]
        bins = np.zeros((B, self.chunk, self.num_dims), dtype=np.int64)
        probs = np.zeros((B, self.chunk, self.num_dims))
        for d, ids in enumerate(self.value_ids):
            cols = torch.arange(d, self.num_slots, self.num_dims)  # slot of dim d at each step
            p = torch.softmax(logits[:, cols][..., ids].float(), dim=-1)  # (B, K, n_d)
            best = p.max(dim=-1)
            bins[..., d] = best.indices.numpy()
            probs[..., d] = best.values.numpy()
        return bins, probs
