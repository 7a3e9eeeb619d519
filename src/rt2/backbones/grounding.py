"""A grounding head: where the effector, the named thing and its goal are, read off image tokens.

The head looks at FiLM'd image tokens (they already know the instruction) laid out on their
g x g grid, with each cell's own coordinates as two more channels (CoordConv: the tokens' own
position code may be anything a checkpoint left); two 3 x 3 convolutions let each cell see its
neighbours. For each target it scores
every cell as the one holding it and regresses, from every cell, the target's table position.
Its reading is the regression at the best cell: a detector's "which anchor, then where exactly".
Measured on the proxy (experiments/grounded_plan.py, notes/rt2-mini-v2.md section 8), this
places the three positions of a grounded plan within 1-2 plan cells far sooner than the LM
learns to write them.
"""

from __future__ import annotations

import torch
from torch import nn

#: What a grounding head finds in a frame, in this order: the effector, the thing the
#: instruction names (the object to move; a pointing question's answer) and where it must go.
#: The grounded plan's labels (:class:`rt2.data.plan.PlanFormat`) name the same three.
GROUND_TARGETS = ("arm", "block", "goal")


class GroundingHead(nn.Module):
    """Image tokens (B, g*g, D) -> cell logits (B, K, g*g) and table positions (B, K, g*g, 2)."""

    def __init__(self, dim: int, grid: int, width: int = 256) -> None:
        super().__init__()
        self.grid, self.targets = grid, len(GROUND_TARGETS)
        axis = torch.linspace(-1, 1, grid)
        coords = torch.stack(torch.meshgrid(axis, axis, indexing="xy"))  # (2, g, g): x, y
        self.register_buffer("coords", coords, persistent=False)
        self.net = nn.Sequential(
            nn.Conv2d(dim + 2, width, 3, padding=1),
            nn.GELU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.GELU(),
            nn.Conv2d(width, 3 * self.targets, 1),  # per target: logit, x, y
        )

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, N, D = tokens.shape
        if self.grid * self.grid != N:
            raise ValueError(f"GroundingHead: expected {self.grid**2} image tokens, got {N}")
        dtype = self.net[0].weight.dtype  # fp32 in training, bf16 after to_inference
        x = tokens.to(dtype).transpose(1, 2).reshape(B, D, self.grid, self.grid)
        x = torch.cat([x, self.coords.to(x.dtype).expand(B, -1, -1, -1)], dim=1)  # (B, D+2, g, g)
        out = self.net(x).reshape(B, self.targets, 3, N)  # (B, K, 3, N)
        return out[:, :, 0], torch.tanh(out[:, :, 1:]).transpose(2, 3)  # (B,K,N), (B,K,N,2)


def read_positions(logits: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """The head's reading: the position regressed at each target's best cell, (B, K, 2)."""
    best = logits.argmax(-1)  # (B, K)
    return positions.gather(2, best[..., None, None].expand(-1, -1, 1, 2))[:, :, 0]
