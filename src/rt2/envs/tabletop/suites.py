"""Built-in evaluation suites (``suites/*.yaml``) and the episode sampler.

A suite file has ``name``, ``description``, ``defaults`` (a partial group spec) and ``groups``:
each group overrides the defaults and may have a ``mix`` of weighted partial specs (e.g. the
emergent ``reasoning`` group mixes math, category and multilingual instructions).

>>> list_suites()
['emergent', 'seen', 'unseen_backgrounds', 'unseen_environments', 'unseen_objects']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rt2.envs.scenery import get_environment
from rt2.envs.suite_files import (
    SpecError,
    choice,
    list_suite_files,
    pick_group,
    pick_weighted,
    read_builtin_suite,
    suite_parts,
)
from rt2.envs.tabletop.scene import Look, Scene, Task
from rt2.envs.tabletop.spec import GroupSpec
from rt2.envs.tabletop.tasks import Retry, sample_task

SUITE_DIR = Path(__file__).parent / "suites"


@dataclass(frozen=True)
class SuiteSpec:
    """A named suite: groups (``easy``/``hard``/...), each a weighted mix of :class:`GroupSpec`."""

    name: str
    description: str
    groups: dict[str, tuple[GroupSpec, ...]]

    def __post_init__(self) -> None:
        if not self.groups:
            raise SpecError(f"suite {self.name!r}.groups: expected at least one group, got {{}}")


def list_suites() -> list[str]:
    """Names of the built-in suites."""
    return list_suite_files(SUITE_DIR)


def parse_suite(data: Any, where: str) -> SuiteSpec:
    """Validate a suite mapping (as loaded from YAML)."""
    defaults, groups_in = suite_parts(data, where)
    groups: dict[str, tuple[GroupSpec, ...]] = {}
    for gname, gdata in groups_in.items():
        gdata = dict(gdata or {})
        mix = gdata.pop("mix", None)
        base = {**defaults, **gdata}
        if mix is None:
            groups[gname] = (GroupSpec.from_dict(base, f"{where}.groups.{gname}"),)
        else:
            if not isinstance(mix, list) or not mix:
                raise SpecError(
                    f"{where}.groups.{gname}.mix: expected a non-empty list, got {mix!r}"
                )
            groups[gname] = tuple(
                GroupSpec.from_dict({**base, **entry}, f"{where}.groups.{gname}.mix[{i}]")
                for i, entry in enumerate(mix)
            )
    return SuiteSpec(str(data.get("name", where)), str(data.get("description", "")), groups)


@functools.cache
def load_suite(name: str) -> SuiteSpec:
    """The built-in suite ``name`` (see :func:`list_suites`)."""
    return parse_suite(read_builtin_suite(SUITE_DIR, name, "suite"), name)


def sample_look(spec: GroupSpec, rng: np.random.Generator) -> Look:
    tint = tuple(float(1 + rng.uniform(-spec.tint, spec.tint)) for _ in range(3))
    return Look(
        brightness=float(rng.uniform(*spec.brightness)),
        tint=tint,  # type: ignore[arg-type]
        shift=(
            float(rng.uniform(-1, 1) * spec.camera_shift),
            float(rng.uniform(-1, 1) * spec.camera_shift),
        ),
        rotation=float(rng.uniform(-1, 1) * spec.camera_rotation),
        scale=float(1 + rng.uniform(-1, 1) * spec.camera_scale),
    )


def sample_episode(
    spec: GroupSpec, rng: np.random.Generator, family: str | None = None
) -> tuple[Scene, Task]:
    """Draw one scene and task from ``spec`` (family drawn by weight unless given)."""
    family = pick_weighted(rng, spec.families, family, "family", "families")
    for _ in range(100):
        env = get_environment(choice(rng, spec.environments))
        try:
            objs, marks, task, eff = sample_task(spec, env, family, rng)
        except Retry:
            continue
        scene = Scene(
            environment=env,
            background=choice(rng, spec.backgrounds),
            objects=objs,
            marks=marks,
            look=sample_look(spec, rng),
            texture_seed=int(rng.integers(2**31)),
            effector=(float(eff[0]), float(eff[1])),
        )
        return scene, task
    raise RuntimeError(f"could not lay out a {family!r} episode for {spec.where} in 100 tries")


class SuiteSampler:
    """Draws (scene, task, group) for a suite; groups uniformly, mix entries by weight."""

    def __init__(self, suite: SuiteSpec) -> None:
        self.suite = suite

    @property
    def name(self) -> str:
        return self.suite.name

    def sample(
        self, rng: np.random.Generator, group: str | None = None, family: str | None = None
    ) -> tuple[Scene, Task, str]:
        fits = None if family is None else lambda specs: any(family in s.families for s in specs)
        group = pick_group(rng, self.suite.name, self.suite.groups, group, fits)
        specs = self.suite.groups[group]
        if family is not None:
            specs = tuple(s for s in specs if family in s.families) or specs
        w = np.array([s.weight for s in specs], dtype=np.float64)
        spec = specs[int(rng.choice(len(specs), p=w / w.sum()))]
        scene, task = sample_episode(spec, rng, family)
        return scene, task, group
