"""TokenLearner (Ryoo et al., 2021), as in RT-1: a feature map -> a few learned tokens."""

from __future__ import annotations

import torch
from torch import nn


class TokenLearner(nn.Module):
    """Tokens (N, P, C) -> (N, num_tokens, C): each output is a softmax-weighted sum over the P
    positions, the weights computed by a small MLP from each position's features."""

    def __init__(self, dim: int, num_tokens: int = 8, hidden: int = 64) -> None:
        super().__init__()
        if num_tokens < 1:
            raise ValueError(f"TokenLearner.num_tokens: expected >= 1, got {num_tokens}")
        self.num_tokens = num_tokens
        self.norm = nn.LayerNorm(dim)
        self.attend = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, num_tokens)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x (N, P, C)
        weights = self.attend(self.norm(x))  # (N, P, S)
        weights = weights.transpose(1, 2).softmax(dim=-1)  # (N, S, P), sums to 1 over positions
        return weights @ x  # (N, S, C)
