"""Checks on the observation dicts that policies receive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def require_keys(
    observations: Sequence[dict[str, Any]], keys: Sequence[str] = ("image", "instruction")
) -> None:
    """KeyError naming the first observation that lacks one of ``keys``."""
    for key in keys:
        missing = [i for i, o in enumerate(observations) if key not in o]
        if missing:
            raise KeyError(
                f"observation {missing[0]} has no {key!r}; got keys {sorted(observations[missing[0]])}"
            )
