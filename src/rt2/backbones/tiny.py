"""``tiny``: a small ViT + small causal Transformer LM + byte tokenizer, trained from scratch.

Sized to train on 2 CPU cores in minutes (about 5M parameters by default). It stands in for a
pretrained VLM when the point is the pipeline, not web knowledge: the RT-2 "from scratch" ablation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from rt2.backbones.base import CachedDecoderBackbone, check_prompt_first, visibility
from rt2.backbones.byte_tokenizer import ByteTokenizer
from rt2.backbones.efficientnet_trunk import TRUNK_DEPTHS, EfficientNetTrunk
from rt2.backbones.layers import Block, init_weights
from rt2.backbones.registry import register_backbone

Stem = Literal["conv", "patch", "efficientnet-lite0"]
STEMS: tuple[str, ...] = ("conv", "patch", "efficientnet-lite0")


@dataclass(frozen=True)
class TinyConfig:
    """Sizes of the tiny backbone; ``pool`` average-pools the patch grid before the LM."""

    image_size: int = 128
    patch_size: int = 16
    pool: int = 2
    # "conv": stride-2 3x3 convolutions down to patch_size (Xiao et al. 2021); "patch": linear
    # patchify; "efficientnet-lite0": a frozen ImageNet trunk at stride patch_size (8, 16 or 32)
    stem: Stem = "conv"
    vision_dim: int = 192
    vision_layers: int = 4
    vision_heads: int = 3
    lm_dim: int = 256
    lm_layers: int = 4
    lm_heads: int = 4
    max_positions: int = 512
    # efficientnet-lite0 stem: memoise the frozen features of this many images (0: none)
    feature_cache: int = 0
    # image + prompt attend both ways, the answer causally (PaliGemma's prefix-LM)
    prefix_lm: bool = False
    # [prompt][image][answer]: the prompt's KV cache serves every step of an episode
    prompt_first: bool = False
    num_extra_tokens: int = 256

    def __post_init__(self) -> None:
        check_prompt_first(self)
        for name in (
            "image_size",
            "patch_size",
            "pool",
            "vision_dim",
            "vision_layers",
            "vision_heads",
            "lm_dim",
            "lm_layers",
            "lm_heads",
            "max_positions",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"TinyConfig.{name} must be positive, got {getattr(self, name)}")
        if self.stem not in STEMS:
            raise ValueError(f"TinyConfig.stem: expected one of {STEMS}, got {self.stem!r}")
        if self.stem == "efficientnet-lite0" and self.patch_size not in TRUNK_DEPTHS:
            raise ValueError(
                f"TinyConfig.patch_size must be one of {sorted(TRUNK_DEPTHS)} with the "
                f"efficientnet-lite0 stem, got {self.patch_size}"
            )
        if self.stem == "conv" and (self.patch_size & (self.patch_size - 1) or self.patch_size < 2):
            raise ValueError(
                f"TinyConfig.patch_size must be a power of two for the conv stem, got {self.patch_size}"
            )
        grid = self.image_size // self.patch_size
        if self.image_size % self.patch_size or grid % self.pool:
            raise ValueError(
                f"TinyConfig: image_size {self.image_size} must be a multiple of patch_size "
                f"{self.patch_size} and the grid {grid} a multiple of pool {self.pool}"
            )

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def num_image_tokens(self) -> int:
        return (self.grid // self.pool) ** 2


def sincos_2d(grid: int, dim: int) -> torch.Tensor:
    """(grid*grid, dim) fixed positions: half the channels encode the row, half the column."""
    if dim % 4:
        raise ValueError(f"vision_dim must be a multiple of 4 for 2-D sin-cos positions, got {dim}")
    freqs = 1.0 / 10000 ** (torch.arange(dim // 4) / (dim // 4))  # (dim/4,)
    coords = torch.arange(grid, dtype=torch.float32)
    ang = coords[:, None] * freqs[None]  # (G, dim/4)
    axis = torch.cat([ang.sin(), ang.cos()], dim=1)  # (G, dim/2)
    rows = axis[:, None, :].expand(grid, grid, dim // 2)  # (G, G, dim/2)
    cols = axis[None, :, :].expand(grid, grid, dim // 2)
    return torch.cat([rows, cols], dim=-1).reshape(grid * grid, dim)


def _conv_stem(dim: int, patch_size: int) -> nn.Sequential:
    """log2(patch_size) stride-2 3x3 convolutions: (B, 3, S, S) -> (B, dim, S/p, S/p)."""
    layers: list[nn.Module] = []
    n = patch_size.bit_length() - 1
    channels = [3] + [max(16, dim >> (n - i)) for i in range(1, n)] + [dim]
    for i in range(n):
        layers.append(nn.Conv2d(channels[i], channels[i + 1], 3, stride=2, padding=1))
        if i < n - 1:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


def _stem(c: TinyConfig) -> nn.Module:
    """Pixels (B, 3, S, S) -> patch features (B, vision_dim, S/p, S/p)."""
    if c.stem == "conv":
        return _conv_stem(c.vision_dim, c.patch_size)
    if c.stem == "patch":
        return nn.Conv2d(3, c.vision_dim, c.patch_size, stride=c.patch_size)
    trunk = EfficientNetTrunk(c.image_size, c.patch_size, c.feature_cache)
    return nn.Sequential(trunk, nn.Conv2d(trunk.channels, c.vision_dim, 1))


class TinyBackbone(CachedDecoderBackbone):
    def __init__(self, config: TinyConfig | None = None) -> None:
        super().__init__()
        c = self.config = config or TinyConfig()
        self.tokenizer = ByteTokenizer(c.num_extra_tokens)
        self.image_size = c.image_size
        self.num_image_tokens = c.num_image_tokens
        self.max_positions = c.max_positions
        self.prefix_lm = bool(c.prefix_lm)
        self.prompt_first = c.prompt_first
        # vision tower
        self.patch = _stem(c)
        # unit-scale patch features, so neither they nor the positions drown the other
        self.patch_norm = nn.LayerNorm(c.vision_dim)
        # fixed 2-D sin-cos positions (as in MAE): where things are is known from step one
        self.register_buffer("vision_pos", sincos_2d(c.grid, c.vision_dim)[None], persistent=False)
        self.vision_blocks = nn.ModuleList(
            Block(c.vision_dim, c.vision_heads) for _ in range(c.vision_layers)
        )
        self.vision_norm = nn.LayerNorm(c.vision_dim)
        self.projector = nn.Sequential(
            nn.Linear(c.vision_dim, c.lm_dim), nn.GELU(), nn.Linear(c.lm_dim, c.lm_dim)
        )
        # language model
        self.tok_emb = nn.Embedding(self.tokenizer.vocab_size, c.lm_dim)
        self.pos_emb = nn.Embedding(c.max_positions, c.lm_dim)
        self.blocks = nn.ModuleList(Block(c.lm_dim, c.lm_heads) for _ in range(c.lm_layers))
        self.norm = nn.LayerNorm(c.lm_dim)
        self.head = nn.Linear(c.lm_dim, self.tokenizer.vocab_size, bias=False)
        init_weights(self)  # leaves the frozen ImageNet trunk as loaded
        self.head.weight = self.tok_emb.weight  # tied input/output embeddings

    def pretrained_parameter_names(self) -> set[str]:
        """The frozen ImageNet trunk's parameters and buffers (rebuilt from its package)."""
        if self.config.stem != "efficientnet-lite0":
            return set()
        trunk = self.patch[0]
        names = [n for n, _ in trunk.named_parameters()] + [n for n, _ in trunk.named_buffers()]
        return {f"patch.0.{n}" for n in names}

    # ---- vision -------------------------------------------------------------------------
    def embed_images(self, pixels: torch.Tensor) -> torch.Tensor:
        c = self.config
        x = self.patch_norm(self.patch(pixels).flatten(2).transpose(1, 2))  # (B, G*G, Dv)
        x = x + self.vision_pos
        for block in self.vision_blocks:
            x, _ = block(x)
        x = self.vision_norm(x)
        if c.pool > 1:
            B, _, Dv = x.shape
            x = x.transpose(1, 2).reshape(B, Dv, c.grid, c.grid)  # (B, Dv, G, G)
            x = nn.functional.avg_pool2d(x, c.pool).flatten(2).transpose(1, 2)  # (B, N, Dv)
        return self.projector(x)  # (B, N, D)

    # ---- language model -----------------------------------------------------------------
    def _embed_text(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.tok_emb(input_ids)

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.head(hidden)

    def _run(
        self,
        x: torch.Tensor,
        key_mask: torch.Tensor,
        positions: torch.Tensor,
        past: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
        use_cache: bool = False,
        groups: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """x (B, T, D) embeddings; key_mask (B, T_past + T) bool -> hidden (B, T, D), new KV
        (per layer: (B, H, T_past + T, Dh) keys, values; returned whatever ``use_cache``).
        ``groups`` (B, T_past + T): same-group positions see each other (``visibility``)."""
        x = x + self.pos_emb(positions)
        mask = visibility(key_mask, x.shape[1], groups)  # (B, 1, T, T_past + T)
        kv = []
        for i, block in enumerate(self.blocks):
            x, layer_kv = block(x, mask, None if past is None else past[i])
            kv.append(layer_kv)
        return self.norm(x), kv


@register_backbone("tiny")
def build_tiny(**options: object) -> TinyBackbone:
    """The tiny from-scratch backbone; options are :class:`TinyConfig` fields."""
    return TinyBackbone(TinyConfig(**options))  # type: ignore[arg-type]
