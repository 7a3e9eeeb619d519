"""A frozen ImageNet EfficientNet-Lite0 trunk: the stem and first MBConv blocks as a feature map.

Mid-level features (stride 16, 112 channels after block 10) keep where things are, which the
stride-32 head features of a classifier blur; they localise the effector and coloured objects of
the tabletop world after a few hundred steps of a small head, where a from-scratch stem needs
thousands. The trunk never trains: BatchNorm keeps its ImageNet statistics and no gradient flows.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import nn

# stride -> (MBConv blocks kept, output channels) of EfficientNet-Lite0
TRUNK_DEPTHS = {8: (4, 40), 16: (11, 112), 32: (16, 320)}


class FeatureCache:
    """Memoise a frozen function of images by content: an LRU of up to ``size`` results keyed by
    a hash of each image's pixels (``size`` 0: no cache). A training run revisits its frames
    every epoch, and a frozen vision trunk is much of the compute of a small model on top of it.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._store: OrderedDict[bytes, torch.Tensor] = OrderedDict()

    def __len__(self) -> int:
        return len(self._store)

    def __call__(
        self, pixels: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        """``fn(pixels)`` (B, ...) with the rows seen before taken from the cache."""
        if self.size <= 0:
            return fn(pixels)
        rows = pixels.detach().cpu().contiguous()
        keys = [hashlib.blake2b(r.numpy().tobytes(), digest_size=16).digest() for r in rows]
        missing = [i for i, k in enumerate(keys) if k not in self._store]
        if missing:
            with torch.no_grad():
                new = fn(pixels[missing])
            for i, f in zip(missing, new, strict=True):
                self._store[keys[i]] = f.clone()
        out = torch.stack([self._store[k] for k in keys])
        for k in keys:
            self._store.move_to_end(k)
        while len(self._store) > self.size:
            self._store.popitem(last=False)
        return out


class EfficientNetTrunk(nn.Module):
    """Pixels (B, 3, S, S) in [-1, 1] -> frozen features (B, C, S/stride, S/stride).

    With ``cache_size > 0`` the features of up to that many images are memoised by content
    (:class:`FeatureCache`).
    """

    def __init__(self, image_size: int, stride: int = 16, cache_size: int = 0) -> None:
        super().__init__()
        from rt2.backbones.pretrained import load_efficientnet_lite0

        if stride not in TRUNK_DEPTHS:
            raise ValueError(
                f"EfficientNetTrunk: stride must be one of {sorted(TRUNK_DEPTHS)}, got {stride}"
            )
        depth, self.channels = TRUNK_DEPTHS[stride]
        net = load_efficientnet_lite0(image_size)
        self.stem = nn.Sequential(net._conv_stem, net._bn0, net._swish)
        self.blocks = nn.ModuleList(net._blocks[:depth])
        self.requires_grad_(False)
        self.eval()
        self.cache = FeatureCache(cache_size)

    def train(self, mode: bool = True) -> EfficientNetTrunk:
        return super().train(False)  # frozen BatchNorm, no drop-connect

    @torch.no_grad()
    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.cache(pixels, self._features)

    def _features(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.stem(pixels.to(self.stem[0].weight.dtype))
        for block in self.blocks:
            x = block(x)  # EfficientNet-Lite blocks: drop-connect only in training mode
        return x
