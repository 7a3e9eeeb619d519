"""Kitchen suites: typed group specs parsed from ``kitchen/suites/*.yaml`` and the sampler.

A suite file has ``name``, ``description``, ``defaults`` and ``groups`` (each a partial spec that
overrides the defaults), like the tabletop suites.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rt2.envs.kitchen.world import KITCHEN_OBJECTS, LAYOUTS
from rt2.envs.scenery import BACKGROUNDS
from rt2.envs.suite_files import (
    SpecError,
    list_suite_files,
    pick_group,
    read_builtin_suite,
    suite_parts,
)

SUITE_DIR = Path(__file__).parent / "suites"
SKILL_NAMES = (
    "pick",
    "move_near",
    "knock_over",
    "place_upright",
    "open_drawer",
    "close_drawer",
    "put_in_drawer",
)


def _names(where: str, v: Any, known: Any) -> tuple[str, ...]:
    if isinstance(v, str) or not isinstance(v, list | tuple):
        raise SpecError(f"{where}: expected a list of names, got {v!r}")
    for i, item in enumerate(v):
        if item not in known:
            close = difflib.get_close_matches(str(item), list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SpecError(f"{where}[{i}]: unknown value {item!r}{hint}")
    return tuple(v)


@dataclass(frozen=True)
class KitchenGroupSpec:
    """How to sample the episodes of one kitchen suite group."""

    skills: dict[str, float]
    objects: tuple[str, ...]
    backgrounds: tuple[str, ...]
    layouts: tuple[str, ...]
    distractors: tuple[str, ...] = ()
    num_distractors: tuple[float, float] = (1, 3)
    brightness: tuple[float, float] = (0.85, 1.15)
    camera_jitter: float = 0.02
    where: str = field(default="spec", compare=False)

    def __post_init__(self) -> None:
        w = self.where
        if not isinstance(self.skills, dict) or not self.skills:
            raise SpecError(f"{w}.skills: expected a mapping skill -> weight, got {self.skills!r}")
        for s, wt in self.skills.items():
            if s not in SKILL_NAMES:
                raise SpecError(f"{w}.skills: unknown skill {s!r}; known: {list(SKILL_NAMES)}")
            if not (isinstance(wt, int | float) and wt > 0):
                raise SpecError(f"{w}.skills.{s}: expected a positive weight, got {wt!r}")
        for name, known in (
            ("objects", KITCHEN_OBJECTS),
            ("distractors", KITCHEN_OBJECTS),
            ("backgrounds", BACKGROUNDS),
            ("layouts", LAYOUTS),
        ):
            object.__setattr__(self, name, _names(f"{w}.{name}", getattr(self, name), known))
        for name in ("objects", "backgrounds", "layouts"):
            if not getattr(self, name):
                raise SpecError(f"{w}.{name}: expected at least one entry, got []")
        for name, lo, hi in (("num_distractors", 0, 6), ("brightness", 0.2, 2.5)):
            v = getattr(self, name)
            ok = isinstance(v, list | tuple) and len(v) == 2 and lo <= v[0] <= v[1] <= hi
            if not ok:
                raise SpecError(f"{w}.{name}: expected [min, max] within [{lo}, {hi}], got {v!r}")
            object.__setattr__(self, name, (float(v[0]), float(v[1])))
        if not (isinstance(self.camera_jitter, int | float) and 0 <= self.camera_jitter <= 0.1):
            raise SpecError(
                f"{w}.camera_jitter: expected a number in [0, 0.1], got {self.camera_jitter!r}"
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> KitchenGroupSpec:
        """Build from a YAML mapping; unknown keys are errors."""
        known = {f.name for f in fields(cls)} - {"where"}
        for key in data:
            if key not in known:
                raise SpecError(f"{where}.{key}: unknown field; known fields: {sorted(known)}")
        kwargs = dict(data)
        if isinstance(kwargs.get("skills"), list):
            kwargs["skills"] = dict.fromkeys(kwargs["skills"], 1.0)
        try:
            return cls(**kwargs, where=where)
        except TypeError as err:
            raise SpecError(f"{where}: {err}") from None


@dataclass(frozen=True)
class KitchenSuite:
    """A named kitchen suite: groups of specs."""

    name: str
    description: str
    groups: dict[str, KitchenGroupSpec]


def list_kitchen_suites() -> list[str]:
    """Names of the built-in kitchen suites."""
    return list_suite_files(SUITE_DIR)


def parse_kitchen_suite(data: Any, where: str) -> KitchenSuite:
    """Validate a suite mapping (as loaded from YAML)."""
    defaults, groups = suite_parts(data, where)
    specs = {
        g: KitchenGroupSpec.from_dict({**defaults, **(gd or {})}, f"{where}.groups.{g}")
        for g, gd in groups.items()
    }
    return KitchenSuite(str(data.get("name", where)), str(data.get("description", "")), specs)


@functools.cache
def load_kitchen_suite(name: str) -> KitchenSuite:
    """The built-in kitchen suite ``name``."""
    return parse_kitchen_suite(read_builtin_suite(SUITE_DIR, name, "kitchen suite"), name)


def load_kitchen_task_file(path: str | Path) -> KitchenSuite:
    """A user task file: the suite format above, in YAML or JSON."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"task file {str(p)!r} does not exist")
    with p.open() as f:
        return parse_kitchen_suite(yaml.safe_load(f), f"tasks:{p.stem}")


class KitchenSampler:
    """Draws (scene, task, group): groups uniformly (those with the skill, if one is asked)."""

    def __init__(self, suite: KitchenSuite) -> None:
        self.suite = suite
        self.name = suite.name

    def sample(
        self, rng: np.random.Generator, group: str | None = None, skill: str | None = None
    ) -> tuple[Any, Any, str]:
        from rt2.envs.kitchen.tasks import sample_scene_task

        fits = None if skill is None else lambda spec: skill in spec.skills
        group = pick_group(rng, self.name, self.suite.groups, group, fits)
        scene, task = sample_scene_task(self.suite.groups[group], rng, skill)
        return scene, task, group
