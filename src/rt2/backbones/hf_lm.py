"""Running a Hugging Face causal decoder on rt2's ``[image tokens][text tokens]`` layout.

Shared by ``rt2-mini`` and ``hf``. Positions come from the cumulative key mask (so left padding
and masked image tokens take no position), and the 4-D additive attention mask lets every query
see itself, so fully padded rows stay finite (HF passes a 4-D mask through unchanged). The decode
cache is the HF ``past_key_values`` plus our key mask and next position per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


@dataclass
class HFCache:
    """Decode state: HF cache (``DynamicCache``), key mask (B, T_past) bool, next position (B,)."""

    past: Any
    key_mask: torch.Tensor
    next_pos: torch.Tensor


def attention_bias(key_mask: torch.Tensor, num_queries: int, dtype: torch.dtype) -> torch.Tensor:
    """Key mask (B, K) -> additive causal mask (B, 1, Q, K); queries are the last Q keys."""
    K = key_mask.shape[1]
    Q = num_queries
    causal = torch.ones(Q, K, dtype=torch.bool, device=key_mask.device).tril(diagonal=K - Q)
    allowed = causal[None, None] & key_mask[:, None, None, :]  # (B, 1, Q, K)
    idx = torch.arange(Q, device=key_mask.device)
    allowed[:, :, idx, idx + K - Q] = True  # each query sees itself: no all-masked rows
    bias = torch.zeros(allowed.shape, dtype=dtype, device=key_mask.device)
    return bias.masked_fill_(~allowed, torch.finfo(dtype).min)


def run_decoder(
    decoder: nn.Module,
    embeds: torch.Tensor,
    key_mask: torch.Tensor,
    positions: torch.Tensor,
    past: Any = None,
    use_cache: bool = False,
) -> tuple[torch.Tensor, Any]:
    """Embeddings (B, Q, D), key mask (B, K) incl. past -> hidden (B, Q, D) and the HF cache."""
    if use_cache and past is None:
        from transformers import DynamicCache

        past = DynamicCache()
    mask = attention_bias(key_mask, embeds.shape[1], embeds.dtype)
    if getattr(decoder.config, "layer_types", None):  # hybrid sliding/full models (Gemma 3)
        mask = {t: mask for t in set(decoder.config.layer_types)}
    out = decoder(
        inputs_embeds=embeds,
        attention_mask=mask,
        position_ids=positions,
        past_key_values=past,
        use_cache=use_cache,
    )
    return out.last_hidden_state, (out.past_key_values if use_cache else None)


def module_dtype(module: nn.Module) -> torch.dtype:
    """dtype of a module's first floating parameter."""
    for p in module.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32
