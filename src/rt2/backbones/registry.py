"""Backbones by name: ``register_backbone("tiny")(factory)`` and ``build_backbone("tiny", ...)``."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from rt2.backbones.base import VLMBackbone

_REGISTRY: dict[str, Callable[..., VLMBackbone]] = {}


def register_backbone(
    name: str,
) -> Callable[[Callable[..., VLMBackbone]], Callable[..., VLMBackbone]]:
    """Decorator registering a factory ``(**options) -> VLMBackbone`` under ``name``."""

    def wrap(factory: Callable[..., VLMBackbone]) -> Callable[..., VLMBackbone]:
        if name in _REGISTRY and _REGISTRY[name] is not factory:
            raise ValueError(f"backbone {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return wrap


def available_backbones() -> list[str]:
    return sorted(_REGISTRY)


def build_backbone(name: str, **options: Any) -> VLMBackbone:
    """Build a registered backbone; unknown names list the known ones and suggest the closest."""
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(
            f"unknown backbone {name!r}; known backbones: {available_backbones()}.{hint}"
        )
    return _REGISTRY[name](**options)
