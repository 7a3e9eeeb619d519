"""``hf``: any ``transformers`` image-text-to-text model (PaliGemma, SmolVLM/Idefics3, ...).

Loads ``AutoModelForImageTextToText`` and ``AutoProcessor`` from a local directory or hub id.
The processor writes the model's image block once (image placeholder tokens plus whatever
wrappers it adds, e.g. ``<fake_token_around_image>``); its length is ``num_image_tokens``.
``embed_images`` runs the model's own ``get_image_features`` and scatters the features into that
block's embeddings, so every backbone sees rt2's ``[image tokens][text tokens]`` layout and the
LM runs through :mod:`rt2.backbones.hf_lm` (1-D positions from the key mask, causal attention;
PaliGemma's bidirectional prefix and Qwen2-VL's 3-D M-RoPE positions are not reproduced).
Supported: processors whose ``pixel_values`` carry a leading batch dimension.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from rt2.backbones.hf_lm import HFDecoderBackbone, module_dtype
from rt2.backbones.hf_tokenizer import HFTextTokenizer
from rt2.backbones.lora import LoraOptions, apply_lora
from rt2.backbones.registry import register_backbone
from rt2.backbones.text_corpus import offline_corpus

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
LM_ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")


@dataclass(frozen=True)
class HFConfig:
    """Options of the ``hf`` backbone (keyword options of ``build_vla("hf", ...)``)."""

    model: str = ""  # local directory or hub id
    image_size: int = 0  # 0: the processor's own size
    freeze_vision: bool = True  # vision tower and its projector
    freeze_lm: bool = False  # with LoRA the base LM is always frozen
    lora_rank: int = 0
    lora_alpha: float | None = None
    lora_targets: tuple[str, ...] = ()  # () : the attention projections of the LM only
    dtype: Literal["float32", "bfloat16"] = "float32"  # weights of the frozen parts
    max_positions: int = 2048

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("HFConfig.model must name a local directory or hub id, got ''")
        if self.image_size < 0:
            raise ValueError(f"HFConfig.image_size must be >= 0, got {self.image_size}")
        if self.dtype not in DTYPES:
            raise ValueError(f"HFConfig.dtype must be one of {list(DTYPES)}, got {self.dtype!r}")
        if self.max_positions <= 0:
            raise ValueError(f"HFConfig.max_positions must be positive, got {self.max_positions}")
        object.__setattr__(self, "lora_targets", tuple(self.lora_targets))
        LoraOptions(self.lora_rank, self.lora_alpha, self.lora_targets or LM_ATTENTION)


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


class HFBackbone(HFDecoderBackbone):
    def __init__(self, config: HFConfig) -> None:
        super().__init__()
        from transformers import AutoModelForImageTextToText, AutoProcessor

        c = self.config = config
        model = AutoModelForImageTextToText.from_pretrained(c.model, dtype=torch.float32)
        self.processor = AutoProcessor.from_pretrained(c.model)
        ip = self.processor.image_processor
        if hasattr(ip, "do_image_splitting"):  # Idefics3/SmolVLM: one fixed-size tile
            ip.do_image_splitting = False
        self.image_size = c.image_size or self._processor_size(ip)
        self._resize_processor(ip, self.image_size)
        text_config = model.config.get_text_config()
        vocab = model.get_output_embeddings().weight.shape[0]
        self.tokenizer = HFTextTokenizer(self.processor.tokenizer, vocab)
        self.image_token_id = int(
            _first(
                getattr(model.config, "image_token_id", None),
                getattr(model.config, "image_token_index", None),
            )
        )
        block = self._image_block()
        self.register_buffer("block_ids", block, persistent=False)  # (N,)
        self.num_image_tokens = int(block.numel())
        self.max_positions = min(
            c.max_positions, getattr(text_config, "max_position_embeddings", c.max_positions)
        )
        # freezing: everything but the LM (and its head/embeddings) counts as vision
        lm_names = self._lm_parameter_names(model)
        lm_frozen = c.freeze_lm or c.lora_rank > 0
        for name, p in model.named_parameters():
            frozen = lm_frozen if name in lm_names else c.freeze_vision
            p.requires_grad_(not frozen)
            if frozen:
                p.data = p.data.to(DTYPES[c.dtype])
        targets = c.lora_targets or self._lm_attention_names(model)
        self.model = apply_lora(model, LoraOptions(c.lora_rank, c.lora_alpha, targets))
        self.train()  # like any fresh nn.Module (HF loaders return eval mode)

    # ---- construction helpers -----------------------------------------------------------
    @staticmethod
    def _processor_size(ip: Any) -> int:
        size = getattr(ip, "max_image_size", None) or getattr(ip, "size", None) or {}
        for key in ("longest_edge", "height", "shortest_edge"):
            if key in size:
                return int(size[key])
        raise ValueError(f"cannot tell the image size of processor {type(ip).__name__}: {size}")

    @staticmethod
    def _resize_processor(ip: Any, s: int) -> None:
        size = getattr(ip, "size", None)
        if isinstance(size, dict) and "height" in size:
            ip.size = {"height": s, "width": s}
        elif isinstance(size, dict) and "longest_edge" in size:
            ip.size = {"longest_edge": s}
            if hasattr(ip, "max_image_size"):
                ip.max_image_size = {"longest_edge": s}

    def _image_block(self) -> torch.Tensor:
        """Token ids the processor writes for one image (placeholders and wrappers)."""
        image = np.zeros((self.image_size, self.image_size, 3), dtype=np.uint8)
        token = getattr(self.processor, "image_token", None) or "<image>"
        out = self.processor(images=[image], text=[token], return_tensors="pt")
        ids = out["input_ids"][0]
        if out.get("attention_mask") is not None:
            ids = ids[out["attention_mask"][0].bool()]
        specials = {self.tokenizer.bos_id, self.tokenizer.pad_id}
        while ids.numel() and int(ids[0]) in specials and int(ids[0]) != self.image_token_id:
            ids = ids[1:]  # rt2 writes its own BOS after the image block
        if not bool((ids == self.image_token_id).any()):
            raise ValueError(f"the processor of {self.config.model!r} wrote no image tokens")
        return ids.clone()

    @staticmethod
    def _lm_attention_names(model: nn.Module) -> tuple[str, ...]:
        lm = _language_model(model)
        prefix = next(n for n, m in model.named_modules() if m is lm)
        names = [
            f"{prefix}.{n}" for n, _ in lm.named_modules() if n.rsplit(".", 1)[-1] in LM_ATTENTION
        ]
        return tuple(names)

    @staticmethod
    def _lm_parameter_names(model: nn.Module) -> set[str]:
        keep = {id(p) for p in _language_model(model).parameters()}
        keep |= {id(p) for p in model.get_output_embeddings().parameters()}
        keep |= {id(p) for p in model.get_input_embeddings().parameters()}
        return {n for n, p in model.named_parameters() if id(p) in keep}

    def reserved_corpus(self) -> tuple[str, ...]:
        return offline_corpus()

    @property
    def base_model(self) -> nn.Module:
        return self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model

    def _language_model_module(self) -> nn.Module:
        return _language_model(self.base_model)

    def pretrained_parameter_names(self) -> set[str]:
        return {f"model.{n}" for n, _ in self.model.named_parameters() if "lora_" not in n}

    # ---- vision -------------------------------------------------------------------------
    def preprocess_images(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 (B, H, W, 3) -> the processor's pixel_values (B, ...)."""
        arr = np.asarray(images)
        if arr.ndim != 4 or arr.shape[-1] != 3:
            raise ValueError(f"expected images of shape (B, H, W, 3), got {arr.shape}")
        ip = self.processor.image_processor
        pixels = ip(images=list(arr), return_tensors="pt")["pixel_values"]
        if pixels.shape[0] != arr.shape[0]:  # multi-image processors (Idefics3): one list per row
            pixels = ip(images=[[a] for a in arr], return_tensors="pt")["pixel_values"]
        if pixels.shape[0] != arr.shape[0]:
            raise ValueError(
                f"processor {type(ip).__name__} returned pixel_values {tuple(pixels.shape)} "
                f"without a batch dimension of {arr.shape[0]}: unsupported by the hf backbone"
            )
        return pixels

    def embed_images(self, pixels: torch.Tensor) -> torch.Tensor:
        model = self.base_model
        B = pixels.shape[0]
        feats = model.get_image_features(pixel_values=pixels.to(module_dtype(model.model)))
        feats = getattr(feats, "pooler_output", feats)
        if isinstance(feats, list | tuple):
            feats = torch.cat([f.reshape(-1, f.shape[-1]) for f in feats])
        embed = model.get_input_embeddings()
        block = embed(self.block_ids)[None].expand(B, -1, -1).clone()  # (B, N, D)
        is_image = (self.block_ids == self.image_token_id)[None, :, None].expand_as(block)
        if int(is_image.sum()) != feats.numel():
            raise ValueError(
                f"{feats.numel() // block.shape[-1]} image features for "
                f"{int(is_image.sum()) // block.shape[-1]} image tokens"
            )
        return block.masked_scatter(is_image, feats.to(block.dtype))  # (B, N, D)

    # ---- language model -----------------------------------------------------------------
    def _decoder(self) -> nn.Module:
        return _language_model(self.base_model)

    def _logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.base_model.get_output_embeddings()(h)

    def _embed_text(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.base_model.get_input_embeddings()(input_ids)


def _language_model(model: nn.Module) -> nn.Module:
    """The text decoder inside an image-text-to-text model (``model.model.language_model``)."""
    inner = getattr(model, "model", None)
    lm = getattr(inner, "language_model", None)
    if lm is None:
        lm = model.get_decoder()
    return lm


@register_backbone("hf")
def build_hf(**options: object) -> HFBackbone:
    """Any ``AutoModelForImageTextToText``; options are :class:`HFConfig` fields."""
    return HFBackbone(HFConfig(**options))  # type: ignore[arg-type]
