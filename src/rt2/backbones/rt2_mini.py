"""``rt2-mini``: EfficientNet-Lite0 -> MLP projector -> SmolLM2-135M-Instruct, fully offline.

A LLaVA-style small VLM built from real pretrained parts shipped on PyPI (see
:mod:`rt2.backbones.pretrained`): an ImageNet EfficientNet-Lite0 feature map (``vision_stride``
32: the 1280-channel head; 16: the 112-channel block-10 map, which keeps where small objects are)
is average-pooled to ``image_tokens`` cells, projected by a 2-layer MLP into SmolLM2's 576-d
embedding space (plus a learned 2-D position code with ``pos_embed``) and put in front of the
prompt. With ``prefix_lm`` the image and prompt tokens attend both ways (PaliGemma), so the image
tokens read the instruction. Frozen parts are stored in ``dtype`` (bf16 by default); trainable
parts stay fp32 (call ``.to(torch.bfloat16)`` for pure inference).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from rt2.backbones.base import check_prompt_first
from rt2.backbones.efficientnet_trunk import EfficientNetTrunk, FeatureCache
from rt2.backbones.grounding import GroundingHead
from rt2.backbones.hf_lm import HFDecoderBackbone, module_dtype
from rt2.backbones.hf_tokenizer import HFTextTokenizer
from rt2.backbones.lora import LoraOptions, apply_lora
from rt2.backbones.random_init import randomize_
from rt2.backbones.registry import register_backbone
from rt2.backbones.text_corpus import offline_corpus

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
VISION_CHANNELS = 1280  # EfficientNet-Lite0 head
VISION_STRIDES = (16, 32)


@dataclass(frozen=True)
class RT2MiniConfig:
    """Options of ``rt2-mini`` (all keyword options of ``build_vla("rt2-mini", ...)``)."""

    image_size: int = 128  # pixels; a multiple of 32 (EfficientNet stride)
    image_tokens: int = 16  # a square number g*g with g <= image_size / vision_stride
    # 32: the classifier's 1280-channel head features; 16: the frozen 112-channel block-10 map
    vision_stride: int = 32
    pos_embed: bool = False  # a learned (image_tokens, D) position code on the image tokens
    # its start: "zeros", or "sincos" (a 2-D sine-cosine code, MAE-style, of norm ``pos_norm`` per
    # token: the projected features have norm ~11, so a code grown from zero stays drowned)
    pos_init: Literal["zeros", "sincos"] = "zeros"
    pos_norm: float = 8.0
    # FiLM (as RT-1 conditions its EfficientNet, OpenVLA-OFT+ its vision): a GRU over the prompt's
    # word embeddings scales and shifts the projector's hidden channels of every image cell, so
    # the image tokens can mark the thing the prompt names; zero-initialized (starts as identity)
    film: bool = False
    film_width: int = 256  # the GRU's state
    # a grounding head (rt2.backbones.grounding) on the FiLM'd image tokens: where the arm, the
    # named thing and its goal are (needs ``film``: only FiLM'd tokens know the prompt); trained
    # by the grounding loss (``model.grounding_weight``); can write the plan (``plan_source``)
    ground: bool = False
    ground_width: int = 256  # the head's convolution channels
    prefix_lm: bool = False  # image + prompt attend both ways, the answer causally
    # [prompt][image][answer]: the prompt's KV cache serves every step of an episode
    prompt_first: bool = False
    feature_cache: int = 0  # frozen vision: memoise the features of this many images
    freeze_vision: bool = True
    freeze_lm: bool = False  # with LoRA the base LM is always frozen
    # False: the same architecture on seeded random weights (the "from scratch" ablation)
    pretrained: bool = True
    init_seed: int = 0  # the random weights' seed when not pretrained
    lora_rank: int = 0  # 0: no LoRA
    # > 0: only the LoRA of the last ``train_layers`` decoder layers learns; the projector, the
    # position code and the lower layers' LoRA stay as loaded, so the backward pass stops there
    train_layers: int = 0
    lora_alpha: float | None = None  # default 2 * rank
    lora_targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    dtype: Literal["float32", "bfloat16"] = "bfloat16"  # weights of the frozen parts
    lm: Literal["smollm2-135m", "gemma3-270m"] = "smollm2-135m"  # gemma: optional ablation
    max_positions: int = 2048
    cache_dir: str | None = None  # default $RT2_CACHE or ~/.cache/rt2

    def __post_init__(self) -> None:
        check_prompt_first(self)
        if self.image_size <= 0 or self.image_size % 32:
            raise ValueError(
                f"RT2MiniConfig.image_size must be a positive multiple of 32, got {self.image_size}"
            )
        if self.vision_stride not in VISION_STRIDES:
            raise ValueError(
                f"RT2MiniConfig.vision_stride must be one of {VISION_STRIDES}, "
                f"got {self.vision_stride}"
            )
        g, side = math.isqrt(self.image_tokens), self.image_size // self.vision_stride
        if self.image_tokens <= 0 or g * g != self.image_tokens or g > side:
            raise ValueError(
                f"RT2MiniConfig.image_tokens must be a square g*g with g <= "
                f"image_size/vision_stride ({side}), got {self.image_tokens}"
            )
        if self.feature_cache < 0 or (self.feature_cache and not self.freeze_vision):
            raise ValueError(
                f"RT2MiniConfig.feature_cache must be >= 0 and needs freeze_vision, got "
                f"{self.feature_cache} with freeze_vision={self.freeze_vision}"
            )
        if self.vision_stride == 16 and not self.freeze_vision:
            raise ValueError("RT2MiniConfig: the stride-16 trunk is frozen (freeze_vision=True)")
        if self.dtype not in DTYPES:
            raise ValueError(
                f"RT2MiniConfig.dtype must be one of {list(DTYPES)}, got {self.dtype!r}"
            )
        if self.lm not in ("smollm2-135m", "gemma3-270m"):
            raise ValueError(
                f"RT2MiniConfig.lm must be 'smollm2-135m' or 'gemma3-270m', got {self.lm!r}"
            )
        if self.pos_init not in ("zeros", "sincos") or self.pos_norm <= 0:
            raise ValueError(
                f"RT2MiniConfig.pos_init must be 'zeros' or 'sincos' and pos_norm > 0, got "
                f"{self.pos_init!r} and {self.pos_norm}"
            )
        if self.film_width < 1 or self.ground_width < 1:
            raise ValueError(
                f"RT2MiniConfig.film_width and ground_width must be >= 1, got "
                f"{self.film_width}, {self.ground_width}"
            )
        if self.ground and not self.film:
            raise ValueError(
                "RT2MiniConfig.ground needs film=True (only FiLM'd tokens read the prompt)"
            )
        if self.max_positions <= self.image_tokens:
            raise ValueError(f"RT2MiniConfig.max_positions too small: {self.max_positions}")
        if self.train_layers < 0 or (self.train_layers and not self.lora_rank):
            raise ValueError(
                f"RT2MiniConfig.train_layers must be >= 0 and needs lora_rank > 0, got "
                f"{self.train_layers} with lora_rank={self.lora_rank}"
            )
        object.__setattr__(self, "lora_targets", tuple(self.lora_targets))
        LoraOptions(self.lora_rank, self.lora_alpha, self.lora_targets)  # validates

    @property
    def grid(self) -> int:
        return math.isqrt(self.image_tokens)


def sincos_2d(grid: int, dim: int, norm: float) -> torch.Tensor:
    """(grid*grid, dim) 2-D sine-cosine position code in raster order (row-major): the first half
    of the channels codes the column, the second the row (as MAE's fixed code), scaled so each
    position's vector has L2 norm ``norm``. The frequencies run geometrically from half a period
    over the grid to half a period per cell: MAE's 1/10000^k (made for 14-196 positions) would
    leave 8 positions a code ~90% common to all of them."""
    if dim % 4 or grid < 2:
        raise ValueError(f"sincos_2d: dim must be a multiple of 4 and grid >= 2, got {dim}, {grid}")
    k = torch.arange(dim // 4, dtype=torch.float64) / max(dim // 4 - 1, 1)
    freqs = math.pi / grid * grid**k  # (dim/4,)
    pos = torch.arange(grid, dtype=torch.float64)[:, None] * freqs  # (grid, dim/4)
    axis = torch.cat([pos.sin(), pos.cos()], dim=1)  # (grid, dim/2)
    rows, cols = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    code = torch.cat([axis[cols.flatten()], axis[rows.flatten()]], dim=1)  # (grid*grid, dim)
    return (code * norm / code.norm(dim=1, keepdim=True)).float()


class RT2MiniBackbone(HFDecoderBackbone):
    def __init__(self, config: RT2MiniConfig | None = None) -> None:
        super().__init__()
        from rt2.backbones.pretrained import load_efficientnet_lite0, load_lm

        c = self.config = config or RT2MiniConfig()
        frozen = DTYPES[c.dtype]
        root = Path(c.cache_dir).expanduser() if c.cache_dir else None
        lm_frozen = c.freeze_lm or c.lora_rank > 0
        lm, hf_tok = load_lm(c.lm, frozen if lm_frozen else torch.float32, root)
        self.tokenizer = HFTextTokenizer(hf_tok, lm.config.vocab_size)
        self.image_size = c.image_size
        self.num_image_tokens = c.image_tokens
        self.max_positions = min(c.max_positions, lm.config.max_position_embeddings)
        self.prefix_lm = c.prefix_lm
        self.prompt_first = c.prompt_first
        if c.vision_stride == 16:
            self.vision: nn.Module = EfficientNetTrunk(c.image_size, 16).to(frozen)
            channels = self.vision.channels
        else:
            self.vision = load_efficientnet_lite0(c.image_size)
            del self.vision._fc  # classifier head unused
            channels = VISION_CHANNELS
            if c.freeze_vision:
                self.vision.to(frozen).requires_grad_(False)
        if not c.pretrained:
            randomize_(self.vision, c.init_seed)
            randomize_(lm, c.init_seed + 1)
        self.feature_cache = FeatureCache(c.feature_cache)
        d = lm.config.hidden_size
        self.image_pos = (
            nn.Parameter(
                sincos_2d(c.grid, d, c.pos_norm)
                if c.pos_init == "sincos"
                else torch.zeros(c.image_tokens, d)
            )
            if c.pos_embed
            else None
        )
        self.projector = nn.Sequential(
            nn.LayerNorm(channels),
            nn.Linear(channels, d),
            nn.GELU(),
            nn.Linear(d, d),
        )
        self.reads_prompt = c.film
        if c.film:
            self.film_text = nn.GRU(d, c.film_width, batch_first=True)
            self.film = nn.Linear(c.film_width, 2 * d)  # -> (scale, shift) per hidden channel
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)
        self.ground_head = GroundingHead(d, c.grid, c.ground_width) if c.ground else None
        if lm_frozen:
            lm.requires_grad_(False)
        self.lm = apply_lora(lm, LoraOptions(c.lora_rank, c.lora_alpha, c.lora_targets))
        if c.train_layers:
            self._train_upper_layers(c.train_layers)
        self.train()  # like any fresh nn.Module (HF loaders return eval mode)

    def _train_upper_layers(self, n: int) -> None:
        """Freeze everything trainable below the last ``n`` decoder layers. With a grounding
        head the image side (projector, FiLM, position code, head) keeps learning, from the
        grounding loss alone: the LM reads its tokens detached."""
        layers = self.base_lm.model.layers
        if n > len(layers):
            raise ValueError(f"RT2MiniConfig.train_layers={n}: the LM has {len(layers)} layers")
        self.detach_image_tokens = self.ground_head is not None
        if not self.detach_image_tokens:
            self.projector.requires_grad_(False)
            if self.config.film:
                self.film_text.requires_grad_(False)
                self.film.requires_grad_(False)
            if self.image_pos is not None:
                self.image_pos.requires_grad_(False)
        for layer in layers[: len(layers) - n]:
            # frozen LoRA in the base's dtype: no fp32 round trip of the activations per adapter
            layer.requires_grad_(False).to(DTYPES[self.config.dtype])
        for layer in layers[len(layers) - n :]:
            # the layers that learn use eager attention: the CPU SDPA kernel's backward under our
            # 4-D mask took ~7x its forward (28 vs 4 ms per layer, batch 16), eager +12% per step
            config = copy.copy(layer.self_attn.config)
            config._attn_implementation = "eager"
            layer.self_attn.config = config

    def reserved_corpus(self) -> Sequence[str]:
        return offline_corpus()

    def pretrained_parameter_names(self) -> set[str]:
        """Vision and LM weights (not LoRA, not the projector); buffers only of frozen parts."""
        c = self.config
        names: set[str] = set()
        for prefix, module, frozen in (
            ("vision.", self.vision, c.freeze_vision),
            ("lm.", self.lm, c.freeze_lm or c.lora_rank > 0),
        ):
            names |= {prefix + n for n, _ in module.named_parameters() if "lora_" not in n}
            if frozen:
                names |= {prefix + n for n, _ in module.named_buffers()}
        return names

    @property
    def base_lm(self) -> nn.Module:
        """The ``LlamaForCausalLM`` (LoRA layers injected in place when enabled)."""
        return self.lm.get_base_model() if hasattr(self.lm, "get_base_model") else self.lm

    def train(self, mode: bool = True) -> RT2MiniBackbone:
        super().train(mode)
        if self.config.freeze_vision:
            self.vision.eval()  # frozen BatchNorm keeps its ImageNet statistics
        return self

    def to_inference(self, mode: Literal["bfloat16", "int8"] = "bfloat16") -> RT2MiniBackbone:
        """Make this backbone inference-only, in place: merge LoRA, then bf16 weights everywhere
        (``bfloat16``) or bf16 vision + int8 dynamically quantized LM linears except the MLP
        ``down_proj`` (``int8``, the fastest for token-by-token decoding on CPU)."""
        if mode not in ("bfloat16", "int8"):
            raise ValueError(f"to_inference: mode must be 'bfloat16' or 'int8', got {mode!r}")
        self.eval().requires_grad_(False)
        if hasattr(self.lm, "merge_and_unload"):
            self.lm = self.lm.merge_and_unload()
        if mode == "bfloat16":
            return self.to(torch.bfloat16)
        import warnings

        from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic

        self.vision.to(torch.bfloat16)
        lm = self.lm.float()
        # down_proj reads the MLP's outlier activations: per-tensor int8 there wrecks the logits
        # (cosine to fp32 ~0.05 with it quantized, ~0.95 without), so it stays fp32
        spec = {
            n: default_dynamic_qconfig
            for n, m in lm.named_modules()
            if isinstance(m, nn.Linear) and not n.endswith("down_proj")
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.lm = quantize_dynamic(lm, spec, dtype=torch.qint8)
        return self

    # ---- vision -------------------------------------------------------------------------
    def _compile_vision(self) -> None:
        # eager EfficientNet-Lite0 at 128 px: ~11 ms bf16 at batch 1; compiled (BatchNorm folded,
        # convolutions fused with their activations) ~3.6 ms
        self._features = torch.compile(self._features)  # type: ignore[method-assign]

    def _features(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pixels (B, 3, S, S) -> pooled vision features (B, C, g, g)."""
        x = pixels.to(module_dtype(self.vision))
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.config.freeze_vision):
            if self.config.vision_stride == 16:
                f = self.vision(x)  # (B, 112, S/16, S/16)
            else:
                f = self.vision.extract_features(x)  # (B, 1280, S/32, S/32)
            return F.adaptive_avg_pool2d(f, self.config.grid)  # (B, C, g, g)

    def condition(self, input_ids: torch.Tensor, prompt_mask: torch.Tensor) -> torch.Tensor:
        """The prompt's tokens (``prompt_mask`` (B, T), in order) through the FiLM GRU over the
        frozen word embeddings -> its last state (B, film_width)."""
        gru_dtype = self.film_text.weight_ih_l0.dtype  # fp32 in training, bf16 after to_inference
        emb = self._embed_text(input_ids.clamp_min(0)).detach().to(gru_dtype)  # (B, T, D)
        # move each row's prompt tokens to the front, keeping their order
        order = torch.argsort((~prompt_mask).to(torch.int8), dim=1, stable=True)  # (B, T)
        emb = emb.gather(1, order[..., None].expand(-1, -1, emb.shape[-1]))
        lengths = prompt_mask.sum(1).clamp_min(1).cpu()  # (B,)
        packed = nn.utils.rnn.pack_padded_sequence(
            emb, lengths, batch_first=True, enforce_sorted=False
        )
        with torch.autocast("cpu", enabled=False):
            _, state = self.film_text(packed)  # (1, B, W)
        return state[0]

    def embed_images(
        self, pixels: torch.Tensor, condition: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Pixels (B, 3, S, S) (+ a FiLM ``condition`` (B, W)) -> image tokens (B, N, D)."""
        return self.project(self.feature_cache(pixels, self._features), condition)

    def project(
        self, features: torch.Tensor, condition: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Vision features (B, C, g, g) (+ a FiLM ``condition`` (B, W)) -> image tokens (B, N, D)."""
        f = features.flatten(2).transpose(1, 2)  # (B, N, C)
        p = self.projector  # LayerNorm, Linear, GELU, Linear
        h = p[1](p[0](f.to(module_dtype(p))))  # (B, N, D) hidden channels
        if condition is not None:
            scale, shift = self.film(condition.to(h.dtype)).unsqueeze(1).chunk(2, dim=-1)
            h = h * (1 + scale) + shift  # (B, N, D)
        tokens = p[3](p[2](h))  # (B, N, D)
        if self.image_pos is not None:
            tokens = tokens + self.image_pos.to(tokens.dtype)
        return tokens.to(module_dtype(self.base_lm))

    def grounding(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Image tokens (B, N, D) -> per grounding target: cell logits (B, K, N) and table
        positions (B, K, N, 2) (:class:`rt2.backbones.grounding.GroundingHead`)."""
        if self.ground_head is None:
            raise ValueError("rt2-mini: grounding needs the option ground=True")
        logits, xy = self.ground_head(tokens)
        return logits.float(), xy.float()

    # ---- language model -----------------------------------------------------------------
    def _decoder(self) -> nn.Module:
        return self.base_lm.model

    def _embed_text(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.base_lm.get_input_embeddings()(input_ids)  # (B, T, D)

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.base_lm.lm_head(hidden)


@register_backbone("rt2-mini")
def build_rt2_mini(**options: object) -> RT2MiniBackbone:
    """EfficientNet-Lite0 + SmolLM2-135M-Instruct; options are :class:`RT2MiniConfig` fields."""
    return RT2MiniBackbone(RT2MiniConfig(**options))  # type: ignore[arg-type]
