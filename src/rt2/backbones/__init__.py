"""Backbones: the protocol, the registry, and the built-in backbones (registered on import)."""

from rt2.backbones import rt2_mini as _rt2_mini  # noqa: F401  (registers "rt2-mini")
from rt2.backbones import tiny as _tiny  # noqa: F401  (registers "tiny")
from rt2.backbones.base import IGNORE_INDEX, BackboneOutput, VLMBackbone
from rt2.backbones.byte_tokenizer import ByteTokenizer
from rt2.backbones.registry import available_backbones, build_backbone, register_backbone
from rt2.backbones.tiny import TinyBackbone, TinyConfig

__all__ = [
    "IGNORE_INDEX",
    "BackboneOutput",
    "ByteTokenizer",
    "TinyBackbone",
    "TinyConfig",
    "VLMBackbone",
    "available_backbones",
    "build_backbone",
    "register_backbone",
]
