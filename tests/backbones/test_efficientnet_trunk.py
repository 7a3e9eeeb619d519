"""The frozen EfficientNet-Lite0 trunk: ImageNet features as released, memoised, never trained."""

from __future__ import annotations

import pytest
import torch

from rt2.backbones.efficientnet_trunk import EfficientNetTrunk
from rt2.backbones.pretrained import load_efficientnet_lite0
from rt2.backbones.tiny import TinyBackbone, TinyConfig


def _reference(pixels: torch.Tensor, depth: int) -> torch.Tensor:
    net = load_efficientnet_lite0(64)
    with torch.no_grad():
        x = net._swish(net._bn0(net._conv_stem(pixels)))
        for block in net._blocks[:depth]:
            x = block(x)
    return x


def test_trunk_matches_the_released_network_and_keeps_relu6():
    pixels = torch.rand(2, 3, 64, 64) * 2 - 1
    trunk = EfficientNetTrunk(64, stride=16).train()  # train() must not unfreeze BatchNorm
    assert not trunk.training
    assert isinstance(trunk.stem[2], torch.nn.ReLU6)  # Lite models use ReLU6, not swish
    out = trunk(pixels)
    assert out.shape == (2, 112, 4, 4)
    torch.testing.assert_close(out, _reference(pixels, 11))
    assert not any(p.requires_grad for p in trunk.parameters())


def test_feature_cache_returns_the_same_features_and_evicts():
    trunk = EfficientNetTrunk(64, stride=8, cache_size=3)
    pixels = torch.rand(4, 3, 64, 64) * 2 - 1
    first = trunk(pixels[:2])
    assert len(trunk.cache) == 2
    again = trunk(pixels[[1, 0, 2]])  # two hits, one miss
    torch.testing.assert_close(again[:2], first[[1, 0]], rtol=0, atol=0)
    trunk(pixels[3:])
    assert len(trunk.cache) == 3  # least recently used (pixels[1]) evicted
    torch.testing.assert_close(
        trunk(pixels), EfficientNetTrunk(64, stride=8)(pixels), atol=1e-4, rtol=1e-4
    )


def test_bad_stride_is_named():
    with pytest.raises(ValueError, match="stride must be one of"):
        EfficientNetTrunk(64, stride=4)
    with pytest.raises(ValueError, match="patch_size must be one of"):
        TinyConfig(stem="efficientnet-lite0", patch_size=4)


def test_tiny_with_pretrained_stem_trains_only_its_own_parts():
    tiny = TinyBackbone(
        TinyConfig(image_size=64, stem="efficientnet-lite0", pool=1, vision_layers=1)
    )
    pixels = torch.rand(2, 3, 64, 64) * 2 - 1
    torch.testing.assert_close(tiny.patch[0](pixels), _reference(pixels, 11))  # not re-initialised
    names = tiny.pretrained_parameter_names()
    assert names and all(n.startswith("patch.0.") for n in names)
    trainable = {n for n, p in tiny.named_parameters() if p.requires_grad}
    assert not trainable & names
    assert "patch.1.weight" in trainable  # the 1x1 projection after the trunk trains
    assert tiny.embed_images(pixels).shape == (2, 16, tiny.config.lm_dim)
