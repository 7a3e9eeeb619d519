"""The backbone protocol: the narrow interface a vision-language model offers to rt2.

A backbone owns a text tokenizer, turns images into embeddings in its LM's space, computes the
next-token loss on answer tokens, and decodes incrementally with a KV cache. Everything RT-2
specific (prompts, action tokens, grammar) lives above it, in :mod:`rt2.model`.

Sequence layout for every backbone: ``[image tokens][text tokens]``. ``attention_mask`` (B, T)
marks real text tokens (padding may be on either side); ``image_mask`` (B,) marks rows that have
an image (text-only samples, such as world-knowledge facts, have their image tokens masked out).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rt2.actions.mapping import TextTokenizer

IGNORE_INDEX = -100


@dataclass
class BackboneOutput:
    logits: torch.Tensor  # (B, T, V) over text positions; logits[:, t] predicts token t + 1
    loss: torch.Tensor | None = None  # mean next-token loss over labelled positions


class VLMBackbone(nn.Module, ABC):
    """Abstract image+text backbone. Subclasses set ``tokenizer``, ``image_size``,
    ``num_image_tokens`` and ``max_positions`` and implement the abstract methods."""

    tokenizer: TextTokenizer
    image_size: int
    num_image_tokens: int
    max_positions: int

    def preprocess_images(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 images (B, H, W, 3) -> float pixels (B, 3, S, S) in [-1, 1] at ``image_size``."""
        x = torch.as_tensor(np.asarray(images))
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"expected images of shape (B, H, W, 3), got {tuple(x.shape)}")
        x = x.permute(0, 3, 1, 2).float().div_(255.0)  # (B, 3, H, W)
        if x.shape[-2:] != (self.image_size, self.image_size):
            x = F.interpolate(x, size=(self.image_size,) * 2, mode="bilinear", antialias=True)
        return x.sub_(0.5).div_(0.5)

    @abstractmethod
    def embed_images(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pixels (B, 3, S, S) -> image tokens (B, N, D) in the LM's embedding space."""

    @abstractmethod
    def forward(
        self,
        pixels: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> BackboneOutput:
        """Teacher-forced pass; ``labels`` (B, T) hold ``IGNORE_INDEX`` outside answers."""

    @abstractmethod
    def prefill(
        self,
        image_embeds: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Any]:
        """Run the prompt; return last-position logits (B, V) and an opaque decode cache."""

    @abstractmethod
    def decode_step(self, input_ids: torch.Tensor, cache: Any) -> tuple[torch.Tensor, Any]:
        """Feed one token per row (B, 1); return logits (B, V) and the updated cache."""

    def pretrained_parameter_names(self) -> set[str]:
        """Parameters that reload from the backbone's pretrained source (none when from scratch);
        checkpoints leave them out while they stay frozen."""
        return set()

    def reserved_corpus(self) -> Sequence[str]:
        """Text over which ``reserved`` action ids are picked by frequency (besides the prompts);
        backbones with a real pretrained vocabulary return an offline corpus."""
        return ()

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


@dataclass
class DecodeCache:
    """Decode state: the LM's own cache, key mask (B, T_past) bool, next position id (B,)."""

    past: Any  # e.g. per-layer (keys, values) or an HF ``DynamicCache``
    key_mask: torch.Tensor  # True for real (non-pad) positions
    next_pos: torch.Tensor


class CachedDecoderBackbone(VLMBackbone):
    """Teacher forcing, prefill and cached decoding for a causal LM over ``[image tokens][text
    tokens]``. Subclasses give the text embedding, the LM pass and the output head.

    With ``prefix_lm`` the image and prompt tokens attend to each other in both directions and
    only the answer is causal (PaliGemma's prefix-LM; PaLI's encoder sees image and text
    jointly): image tokens can read the instruction. The subclass's ``_run`` honours ``prefix``.
    """

    prefix_lm: bool = False

    def _embed_text(self, input_ids: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _run(
        self,
        x: torch.Tensor,
        key_mask: torch.Tensor,
        positions: torch.Tensor,
        past: Any = None,
        use_cache: bool = False,
        prefix: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Any]:
        """Embeddings (B, Q, D), key mask (B, K) incl. past -> hidden (B, Q, D) and new past;
        ``prefix`` (B, Q) bool marks positions that also see later prefix positions."""
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
        prefix = None
        if self.prefix_lm and labels is not None:  # the prompt: real tokens without labels
            prompt = attention_mask.bool() & (labels == IGNORE_INDEX)  # (B, T)
            prefix = torch.cat([key_mask[:, : self.num_image_tokens], prompt], dim=1)
        h, _ = self._run(x, key_mask, positions, prefix=prefix)
        logits = self._logits(h[:, self.num_image_tokens :])  # (B, T, V)
        loss = None if labels is None else next_token_loss(logits, labels)
        return BackboneOutput(logits=logits, loss=loss)

    def prefill(
        self,
        image_embeds: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, DecodeCache]:
        if not bool(attention_mask[:, -1].all()):
            raise ValueError("prefill needs left-padded prompts (the last position must be real)")
        x, key_mask, positions = self._inputs(image_embeds, input_ids, attention_mask, image_mask)
        prefix = key_mask if self.prefix_lm else None  # the whole prompt is the prefix
        h, past = self._run(x, key_mask, positions, use_cache=True, prefix=prefix)
        return self._logits(h[:, -1]), DecodeCache(past, key_mask, positions[:, -1] + 1)

    def decode_step(
        self, input_ids: torch.Tensor, cache: DecodeCache
    ) -> tuple[torch.Tensor, DecodeCache]:
        if int(cache.next_pos.max()) >= self.max_positions:
            raise ValueError(f"decoding past max_positions={self.max_positions}")
        B = input_ids.shape[0]
        key_mask = torch.cat([cache.key_mask, torch.ones(B, 1, dtype=torch.bool)], dim=1)
        x = self._embed_text(input_ids)
        h, past = self._run(x, key_mask, cache.next_pos[:, None], cache.past, use_cache=True)
        return self._logits(h[:, -1]), DecodeCache(past, key_mask, cache.next_pos + 1)


def full_key_mask(
    attention_mask: torch.Tensor, image_mask: torch.Tensor | None, num_image_tokens: int
) -> torch.Tensor:
    """(B, T) text mask + (B,) image flags -> (B, N + T) bool key mask."""
    B = attention_mask.shape[0]
    img = (
        torch.ones(B, dtype=torch.bool, device=attention_mask.device)
        if image_mask is None
        else image_mask.bool()
    )
    return torch.cat([img[:, None].expand(B, num_image_tokens), attention_mask.bool()], 1)


def positions_from_mask(key_mask: torch.Tensor, max_positions: int) -> torch.Tensor:
    """(B, T) bool -> (B, T) position ids counting real keys only."""
    pos = (key_mask.long().cumsum(1) - 1).clamp(min=0)
    if int(pos.max()) >= max_positions:
        raise ValueError(
            f"sequence of {int(pos.max()) + 1} positions exceeds max_positions={max_positions}"
        )
    return pos


def next_token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of logits (B, T, V) predicting labels shifted by one (B, T)."""
    shift_logits = logits[:, :-1].reshape(-1, logits.shape[-1]).float()  # (B*(T-1), V)
    shift_labels = labels[:, 1:].reshape(-1)  # (B*(T-1),)
    return F.cross_entropy(shift_logits, shift_labels, ignore_index=IGNORE_INDEX)
