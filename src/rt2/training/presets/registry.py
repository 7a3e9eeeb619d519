"""The preset registry: ``register_preset`` adds a named config factory, ``get_preset`` builds
one (under its name), ``describe_presets`` lists them."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import replace

from rt2.training.config import TrainConfig

PRESETS: dict[str, Callable[[], TrainConfig]] = {}


def register_preset(name: str) -> Callable[[Callable[[], TrainConfig]], Callable[[], TrainConfig]]:
    def wrap(fn: Callable[[], TrainConfig]) -> Callable[[], TrainConfig]:
        PRESETS[name] = fn
        return fn

    return wrap


def get_preset(name: str) -> TrainConfig:
    if name not in PRESETS:
        close = difflib.get_close_matches(name, PRESETS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown preset {name!r}; known: {sorted(PRESETS)}{hint}")
    return replace(PRESETS[name](), name=name)


def describe_presets() -> list[tuple[str, str]]:
    """(name, first docstring line) of every preset."""
    return [(n, (fn.__doc__ or "").strip().splitlines()[0]) for n, fn in sorted(PRESETS.items())]
