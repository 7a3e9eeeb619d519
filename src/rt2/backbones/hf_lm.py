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

from rt2.backbones.base import (
    BackboneOutput,
    VLMBackbone,
    full_key_mask,
    next_token_loss,
    positions_from_mask,
)


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


class HFDecoderBackbone(VLMBackbone):
    """Teacher forcing, prefill and cached decoding for backbones whose LM is a Hugging Face
    causal decoder. Subclasses give the decoder module, text embedding and output head."""

    def _decoder(self) -> nn.Module:
        raise NotImplementedError

    def _embed_text(self, input_ids: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _inputs(
        self,
        image_embeds: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """[image tokens][text tokens] embeddings (B, N + T, D), key mask and positions."""
        text = self._embed_text(input_ids)
        x = torch.cat([image_embeds.to(text.dtype), text], dim=1)  # (B, N + T, D)
        key_mask = full_key_mask(attention_mask, image_mask, self.num_image_tokens)
        return x, key_mask, positions_from_mask(key_mask, self.max_positions)

    def forward(
        self,
        pixels: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> BackboneOutput:
        x, key_mask, positions = self._inputs(
            self.embed_images(pixels), input_ids, attention_mask, image_mask
        )
        h, _ = run_decoder(self._decoder(), x, key_mask, positions)
        logits = self._logits(h[:, self.num_image_tokens :])  # (B, T, V)
        loss = None if labels is None else next_token_loss(logits, labels)
        return BackboneOutput(logits=logits, loss=loss)

    def prefill(
        self,
        image_embeds: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, HFCache]:
        if not bool(attention_mask[:, -1].all()):
            raise ValueError("prefill needs left-padded prompts (the last position must be real)")
        x, key_mask, positions = self._inputs(image_embeds, input_ids, attention_mask, image_mask)
        h, past = run_decoder(self._decoder(), x, key_mask, positions, use_cache=True)
        return self._logits(h[:, -1]), HFCache(past, key_mask, positions[:, -1] + 1)

    def decode_step(self, input_ids: torch.Tensor, cache: HFCache) -> tuple[torch.Tensor, HFCache]:
        if int(cache.next_pos.max()) >= self.max_positions:
            raise ValueError(f"decoding past max_positions={self.max_positions}")
        B = input_ids.shape[0]
        key_mask = torch.cat([cache.key_mask, torch.ones(B, 1, dtype=torch.bool)], dim=1)
        x = self._embed_text(input_ids)
        h, past = run_decoder(
            self._decoder(), x, key_mask, cache.next_pos[:, None], cache.past, use_cache=True
        )
        return self._logits(h[:, -1]), HFCache(past, key_mask, cache.next_pos + 1)
