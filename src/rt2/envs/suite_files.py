"""What the tabletop and kitchen suites share: suite files, their top-level checks, draws."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml


class SpecError(ValueError):
    """A specification field has a bad value; the message names the field and the value."""


def list_suite_files(directory: Path) -> list[str]:
    """Names of the ``*.yaml`` suites in ``directory``."""
    return sorted(p.stem for p in directory.glob("*.yaml"))


def read_builtin_suite(directory: Path, name: str, kind: str) -> Any:
    """The YAML of suite ``name`` in ``directory``; KeyError naming the ``kind`` if there is none."""
    path = directory / f"{name}.yaml"
    if not path.exists():
        close = difflib.get_close_matches(name, list_suite_files(directory), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown {kind} {name!r}{hint}; known: {list_suite_files(directory)}")
    with path.open() as f:
        return yaml.safe_load(f)


def suite_parts(data: Any, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check a suite mapping's top-level fields; return its ``defaults`` and ``groups``."""
    if not isinstance(data, dict):
        raise SpecError(f"{where}: expected a mapping, got {type(data).__name__}")
    for key in data:
        if key not in ("name", "description", "defaults", "groups"):
            raise SpecError(
                f"{where}.{key}: unknown field; expected name, description, defaults, groups"
            )
    defaults = data.get("defaults") or {}
    groups = data.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise SpecError(f"{where}.groups: expected a non-empty mapping, got {groups!r}")
    return defaults, groups


def choice(rng: np.random.Generator, items: tuple[str, ...] | list[str]) -> str:
    """One of ``items``, uniformly."""
    return items[int(rng.integers(len(items)))]


def pick_weighted(
    rng: np.random.Generator, weights: Mapping[str, float], given: str | None, kind: str, kinds: str
) -> str:
    """``given`` if ``weights`` has it (KeyError naming the ``kind`` if not), else one by weight."""
    names = list(weights)
    if given is None:
        w = np.array([weights[n] for n in names], dtype=np.float64)
        return names[int(rng.choice(len(names), p=w / w.sum()))]
    if given not in weights:
        raise KeyError(f"{kind} {given!r} is not in this group; {kinds}: {names}")
    return given


def pick_group(
    rng: np.random.Generator,
    suite: str,
    groups: Mapping[str, Any],
    group: str | None,
    fits: Callable[[Any], bool] | None = None,
) -> str:
    """``group`` if the suite has it, else one drawn uniformly (among those that ``fits``, if any)."""
    names = list(groups)
    if group is None:
        if fits is not None:
            names = [g for g in names if fits(groups[g])] or names
        return choice(rng, names)
    if group not in groups:
        raise KeyError(f"suite {suite!r} has no group {group!r}; groups: {names}")
    return group
