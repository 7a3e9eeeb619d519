"""Plain pre-norm Transformer layers with an optional KV cache (nanoGPT-style)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """x (B, T, D); mask (B, 1, T, T_past + T) bool (True = attend) or None (full)."""
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.num_heads, D // self.num_heads).unbind(2)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (B, H, T, Dh)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)  # (B, H, T_past + T, Dh)
            v = torch.cat([past[1], v], dim=2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, H, T, Dh)
        return self.proj(y.transpose(1, 2).reshape(B, T, D)), (k, v)


class Block(nn.Module):
    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, num_heads)
        self.ln2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        h, kv = self.attn(self.ln1(x), mask, past)
        x = x + h
        return x + self.mlp(self.ln2(x)), kv


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """GPT-2 style initialisation: normal(0, std) for linear/embedding weights, He (fan-in) for
    convolutions so a stack of them keeps its signal (with std 0.02, three stride-2 3x3 layers shrink
    pixels ~1000x), zero biases. Frozen layers (``requires_grad`` False, e.g. a pretrained trunk)
    keep their weights."""
    for m in module.modules():
        if not isinstance(m, nn.Linear | nn.Embedding | nn.Conv2d) or not m.weight.requires_grad:
            continue
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
        else:
            nn.init.normal_(m.weight, std=std)
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)
