"""FiLM-conditioned ImageNet EfficientNet-Lite0: the RT-1 image tokenizer's convolutional part.

After every MBConv block ``i`` (past ``frozen_blocks``), the feature map is modulated by the
instruction embedding ``e``: ``x <- x * (1 + gamma_i(e)) + beta_i(e)``. The projections
``gamma_i``/``beta_i`` start at zero (as in RT-1), so at initialisation the network computes
exactly the pretrained ImageNet features. BatchNorm layers always use their ImageNet statistics
(frozen BN: the robot batches are small and highly correlated).
"""

from __future__ import annotations

import torch
from torch import nn


class FiLM(nn.Module):
    """``x * (1 + gamma(e)) + beta(e)``, zero-initialised (identity at the start)."""

    def __init__(self, text_dim: int, channels: int) -> None:
        super().__init__()
        self.proj = nn.Linear(text_dim, 2 * channels)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        # x (N, C, H, W), text (N, E)
        gamma, beta = self.proj(text).to(x.dtype).chunk(2, dim=-1)  # (N, C) each
        return x * (1.0 + gamma[:, :, None, None]) + beta[:, :, None, None]


class FiLMEfficientNet(nn.Module):
    """Pixels (N, 3, S, S) in [-1, 1] + instruction embeddings (N, E) -> (N, 1280, S/32, S/32)
    with all 16 blocks and the conv head, or (N, C, S/16, S/16) with ``blocks`` < 16 (the last
    kept block's map, no head)."""

    def __init__(
        self,
        image_size: int,
        text_dim: int,
        film: bool = True,
        frozen_blocks: int = 0,
        net: nn.Module | None = None,
        blocks: int = 16,
    ) -> None:
        super().__init__()
        if net is None:
            from rt2.backbones.pretrained import load_efficientnet_lite0

            net = load_efficientnet_lite0(image_size)
        if hasattr(net, "_fc"):
            del net._fc  # ImageNet classifier head unused
        self.head = blocks >= len(net._blocks)
        if not self.head:  # a mid-level map: later blocks and the conv head are unused
            net._blocks = net._blocks[:blocks]
            del net._conv_head, net._bn1
        self.net = net
        self.frozen_blocks = frozen_blocks
        self.film = nn.ModuleList(
            [
                FiLM(text_dim, b._block_args.output_filters)
                if film and i >= frozen_blocks
                else nn.Identity()
                for i, b in enumerate(net._blocks)
            ]
        )
        for name, p in self.net.named_parameters():
            if self._is_frozen(name):
                p.requires_grad_(False)
        self.net.eval()

    def _is_frozen(self, name: str) -> bool:
        """Parameter ``name`` (inside ``net``) belongs to the stem or a frozen block."""
        if self.frozen_blocks == 0:
            return False
        if name.startswith(("_conv_stem.", "_bn0.")):
            return True
        if name.startswith("_blocks."):
            return int(name.split(".")[1]) < self.frozen_blocks
        return False

    def train(self, mode: bool = True) -> FiLMEfficientNet:
        super().train(mode)
        self.net.eval()  # frozen BatchNorm statistics, no stochastic depth
        return self

    def pretrained_parameter_names(self) -> set[str]:
        """Names (relative to this module) of ImageNet weights and BN statistics: they reload from
        the package, so checkpoints keep only the ones that were trained."""
        names = {f"net.{n}" for n, _ in self.net.named_parameters()}
        return names | {f"net.{n}" for n, _ in self.net.named_buffers()}

    def forward(self, pixels: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        net = self.net
        grad = torch.is_grad_enabled()
        with torch.set_grad_enabled(grad and self.frozen_blocks == 0):
            x = net._swish(net._bn0(net._conv_stem(pixels)))  # (N, 32, S/2, S/2)
        for i, (block, film) in enumerate(zip(net._blocks, self.film, strict=True)):
            with torch.set_grad_enabled(grad and i >= self.frozen_blocks):
                x = block(x)
            if not isinstance(film, nn.Identity):
                x = film(x, text)
        if not self.head:
            return x  # (N, C, S/16, S/16)
        return net._swish(net._bn1(net._conv_head(x)))  # (N, 1280, S/32, S/32)
