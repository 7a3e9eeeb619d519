"""Running a Hugging Face causal decoder on rt2's ``[image tokens][text tokens]`` layout.

Shared by ``rt2-mini`` and ``hf``. Positions come from the cumulative key mask (so left padding
and masked image tokens take no position), and the 4-D additive attention mask lets every query
see itself, so fully padded rows stay finite (HF passes a 4-D mask through unchanged). The decode
cache (:class:`~rt2.backbones.base.DecodeCache`) holds the HF ``past_key_values``, our key
mask and the next position per row.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rt2.backbones.base import CachedDecoderBackbone, visibility


def attention_bias(
    key_mask: torch.Tensor,
    num_queries: int,
    dtype: torch.dtype,
    groups: torch.Tensor | None = None,
) -> torch.Tensor:
    """Key mask (B, K) -> additive mask (B, 1, Q, K) of :func:`~rt2.backbones.base.visibility`."""
    allowed = visibility(key_mask, num_queries, groups)
    bias = torch.zeros(allowed.shape, dtype=dtype, device=key_mask.device)
    return bias.masked_fill_(~allowed, torch.finfo(dtype).min)


def module_dtype(module: nn.Module) -> torch.dtype:
    """dtype of a module's first floating parameter."""
    for p in module.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


class HFDecoderBackbone(CachedDecoderBackbone):
    """A :class:`CachedDecoderBackbone` whose LM is a Hugging Face causal decoder. Subclasses
    give the decoder module, text embedding and output head."""

    def _decoder(self) -> nn.Module:
        raise NotImplementedError

    def compile_for_inference(self, mode: str = "max-autotune") -> None:
        """Run the LM pass (and the vision tower, where a subclass says how) through
        ``torch.compile`` with inductor's weight ``freezing``, in place.

        On CPU eager PyTorch runs the decoder as hundreds of small operators and re-lays out
        every bf16 weight in each call; inductor fuses the elementwise work and packs the
        weights once, tuning its GEMMs (rt2-mini's bf16 one pass at batch 1 on 2 Xeon cores:
        ~1.8x, ``rt2 bench --compile``). The first call of each shape class compiles (~1 min on 2 cores; a second
        shape recompiles once with dynamic sizes, which later batch sizes and prompt lengths
        share). Inference only: the weights become constants of the graph, so the backbone is
        switched to ``requires_grad=False`` and later changes to its weights are not seen.
        ``mode``: ``torch.compile``'s (``"default"`` compiles faster, runs ~1.2x slower here).
        Sets ``torch._inductor.config.freezing`` for the process (passed per call as an option
        it did not apply; it only touches graphs that need no gradients)."""
        import torch._inductor.config as inductor_config

        inductor_config.freezing = True  # read when a graph compiles, i.e. at its first call
        self.eval().requires_grad_(False)
        # max-autotune: inductor's C++ GEMM templates (AMX / AVX-512 micro-kernels on packed
        # weights) beat oneDNN at these few rows: rt2-mini's LM pass 38.8 -> 28.2 ms at batch 1
        compiled = torch.compile(self._decoder(), mode=None if mode == "default" else mode)
        self.__dict__["_compiled_decoder"] = compiled  # not a submodule: no new state_dict keys
        self._compile_vision()

    def _compile_vision(self) -> None:
        """Compile the vision tower too (subclasses that know its entry point)."""

    @property
    def compiled(self) -> bool:
        return "_compiled_decoder" in self.__dict__

    def _run(
        self,
        x: torch.Tensor,
        key_mask: torch.Tensor,
        positions: torch.Tensor,
        past: Any = None,
        use_cache: bool = False,
        groups: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Any]:
        """The HF decoder under our 4-D mask (same-group positions see each other both ways);
        the cache is an HF ``DynamicCache``."""
        if use_cache and past is None:
            from transformers import DynamicCache

            past = DynamicCache()
        decoder = self.__dict__.get("_compiled_decoder", None)
        decoder = self._decoder() if decoder is None else decoder
        mask = attention_bias(key_mask, x.shape[1], x.dtype, groups)
        if getattr(decoder.config, "layer_types", None):  # hybrid sliding/full models (Gemma 3)
            mask = {t: mask for t in set(decoder.config.layer_types)}
        out = decoder(
            inputs_embeds=x,
            attention_mask=mask,
            position_ids=positions,
            past_key_values=past,
            use_cache=use_cache,
        )
        return out.last_hidden_state, (out.past_key_values if use_cache else None)
