"""Typed, validated specification of an episode distribution (one suite group or mix entry).

Suites (``suites/*.yaml``) are parsed into :class:`GroupSpec` objects; every field is checked and
errors name the field and the bad value.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from rt2.envs.scenery import BACKGROUNDS, ENVIRONMENTS
from rt2.envs.suite_files import SpecError
from rt2.envs.tabletop.catalogue import get_object
from rt2.envs.tabletop.instructions import LANGUAGES, TEMPLATES

FAMILIES: tuple[str, ...] = tuple(TEMPLATES)


def _range(name: str, v: Any, lo: float, hi: float) -> tuple[float, float]:
    if not (
        isinstance(v, list | tuple) and len(v) == 2 and all(isinstance(x, int | float) for x in v)
    ):
        raise SpecError(f"{name}: expected a [min, max] pair of numbers, got {v!r}")
    a, b = float(v[0]), float(v[1])
    if not (lo <= a <= b <= hi):
        raise SpecError(f"{name}: expected {lo} <= min <= max <= {hi}, got {list(v)}")
    return (a, b)


def _names(name: str, v: Any, known: Any, kind: str | None = None) -> tuple[str, ...]:
    if isinstance(v, str) or not isinstance(v, list | tuple):
        raise SpecError(f"{name}: expected a list of names, got {v!r}")
    for i, item in enumerate(v):
        if not isinstance(item, str):
            raise SpecError(f"{name}[{i}]: expected a string, got {item!r}")
        if known is None:
            try:
                entry = get_object(item)
            except KeyError as err:
                raise SpecError(f"{name}[{i}]: {err.args[0]}") from None
            if kind is not None and entry.kind != kind:
                raise SpecError(f"{name}[{i}]: {item!r} is a {entry.kind}, expected kind {kind!r}")
        elif item not in known:
            raise SpecError(f"{name}[{i}]: unknown value {item!r}; known: {sorted(known)}")
    return tuple(v)


@dataclass(frozen=True)
class GroupSpec:
    """How to sample the episodes of one suite group (or one entry of a group's ``mix``)."""

    families: dict[str, float]
    objects: tuple[str, ...]
    backgrounds: tuple[str, ...]
    environments: tuple[str, ...]
    distractors: tuple[str, ...] = ()
    num_distractors: tuple[float, float] = (1, 3)
    marks: tuple[str, ...] = ()
    distractor_marks: tuple[str, ...] = ()
    num_distractor_marks: tuple[float, float] = (0, 2)
    brightness: tuple[float, float] = (0.9, 1.1)
    tint: float = 0.04
    camera_shift: float = 0.01
    camera_rotation: float = 2.0
    camera_scale: float = 0.02
    languages: tuple[str, ...] = ("en",)
    refer_objects: str = "name"
    refer_marks: str = "name"
    concept: str = ""
    weight: float = 1.0
    where: str = field(default="spec", compare=False)

    def __post_init__(self) -> None:
        w = self.where
        if not isinstance(self.families, dict) or not self.families:
            raise SpecError(
                f"{w}.families: expected a non-empty mapping family -> weight, got {self.families!r}"
            )
        for fam, wt in self.families.items():
            if fam not in FAMILIES:
                raise SpecError(f"{w}.families: unknown family {fam!r}; known: {list(FAMILIES)}")
            if not (isinstance(wt, int | float) and wt > 0):
                raise SpecError(f"{w}.families.{fam}: expected a positive weight, got {wt!r}")
        for name in ("objects", "distractors"):
            object.__setattr__(
                self, name, _names(f"{w}.{name}", getattr(self, name), None, "object")
            )
        for name in ("marks", "distractor_marks"):
            object.__setattr__(self, name, _names(f"{w}.{name}", getattr(self, name), None, "mark"))
        if len(self.objects) < 2:
            raise SpecError(f"{w}.objects: expected at least 2 objects, got {list(self.objects)}")
        object.__setattr__(
            self, "backgrounds", _names(f"{w}.backgrounds", self.backgrounds, BACKGROUNDS)
        )
        object.__setattr__(
            self, "environments", _names(f"{w}.environments", self.environments, ENVIRONMENTS)
        )
        object.__setattr__(self, "languages", _names(f"{w}.languages", self.languages, LANGUAGES))
        for name in ("backgrounds", "environments", "languages"):
            if not getattr(self, name):
                raise SpecError(f"{w}.{name}: expected at least one entry, got []")
        if "push_onto_mark" in self.families and not self.marks:
            raise SpecError(f"{w}.marks: family 'push_onto_mark' needs target marks, got []")
        object.__setattr__(
            self, "num_distractors", _range(f"{w}.num_distractors", self.num_distractors, 0, 8)
        )
        object.__setattr__(
            self,
            "num_distractor_marks",
            _range(f"{w}.num_distractor_marks", self.num_distractor_marks, 0, 6),
        )
        object.__setattr__(self, "brightness", _range(f"{w}.brightness", self.brightness, 0.3, 2.0))
        for name, hi in (
            ("tint", 0.5),
            ("camera_shift", 0.2),
            ("camera_rotation", 45.0),
            ("camera_scale", 0.4),
        ):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and 0 <= v <= hi):
                raise SpecError(f"{w}.{name}: expected a number in [0, {hi}], got {v!r}")
        if self.refer_objects not in ("name", "fact"):
            raise SpecError(
                f"{w}.refer_objects: expected 'name' or 'fact', got {self.refer_objects!r}"
            )
        if self.refer_marks not in ("name", "math"):
            raise SpecError(f"{w}.refer_marks: expected 'name' or 'math', got {self.refer_marks!r}")
        if not (isinstance(self.weight, int | float) and self.weight > 0):
            raise SpecError(f"{w}.weight: expected a positive number, got {self.weight!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> GroupSpec:
        """Build from a YAML mapping; unknown keys are errors."""
        known = {f.name for f in fields(cls)} - {"where"}
        for key in data:
            if key not in known:
                raise SpecError(f"{where}.{key}: unknown field; known fields: {sorted(known)}")
        for req in ("families", "objects", "backgrounds", "environments"):
            if req not in data:
                raise SpecError(f"{where}.{req}: required field is missing")
        kwargs = dict(data)
        if "families" in kwargs and isinstance(kwargs["families"], list):
            kwargs["families"] = dict.fromkeys(kwargs["families"], 1.0)
        return cls(**kwargs, where=where)

    def all_objects(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.objects + self.distractors))

    def all_marks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.marks + self.distractor_marks))
