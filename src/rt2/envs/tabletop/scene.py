"""Plain data describing one episode: the scene laid out on the table and the task to do in it.

Coordinates are metres in the table frame: origin at the table centre, x to the right, y to the
top of the image ("top left corner" is (-x, +y)).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from rt2.envs.scenery import Environment

if TYPE_CHECKING:
    from rt2.envs.tabletop.referents import Target

Vec2 = tuple[float, float]


@dataclass(frozen=True)
class Placed:
    """A catalogue entry placed at ``pos`` (metres) with ``angle`` (radians)."""

    name: str
    pos: Vec2
    angle: float = 0.0


@dataclass(frozen=True)
class Look:
    """Per-episode appearance: lighting and camera jitter."""

    brightness: float = 1.0
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)  # RGB multipliers
    shift: Vec2 = (0.0, 0.0)  # camera shift, fraction of the image size
    rotation: float = 0.0  # camera roll, degrees
    scale: float = 1.0  # zoom factor

    def __post_init__(self) -> None:
        if not (0.2 <= self.brightness <= 3.0):
            raise ValueError(f"Look.brightness: expected 0.2..3.0, got {self.brightness}")
        if not (0.5 <= self.scale <= 2.0):
            raise ValueError(f"Look.scale: expected 0.5..2.0, got {self.scale}")


@dataclass(frozen=True)
class Scene:
    """Everything needed to build the physics world and draw the episode."""

    environment: Environment
    background: str
    objects: tuple[Placed, ...]
    marks: tuple[Placed, ...] = ()
    look: Look = field(default_factory=Look)
    texture_seed: int = 0
    effector: Vec2 = (0.0, -0.15)

    @property
    def object_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.objects)

    @property
    def mark_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.marks)


@dataclass(frozen=True)
class Goal:
    """Success condition for the ``mover`` object.

    ``near``: the mover's centre ends within ``radius`` of the goal point; ``far``: it ends at
    least ``radius`` from it. The goal point is ``point`` if ``ref`` is None, else the current
    centre of object/mark ``ref`` plus ``offset`` (so it follows a reference that moves).
    """

    kind: Literal["near", "far"]
    radius: float
    ref: str | None = None
    point: Vec2 = (0.0, 0.0)
    offset: Vec2 = (0.0, 0.0)

    def __post_init__(self) -> None:
        if self.kind not in ("near", "far"):
            raise ValueError(f"Goal.kind: expected 'near' or 'far', got {self.kind!r}")
        if not (isinstance(self.radius, int | float) and self.radius > 0):
            raise ValueError(f"Goal.radius: expected a positive number, got {self.radius!r}")

    def goal_point(self, positions: dict[str, np.ndarray]) -> np.ndarray:
        """(2,) goal point given current ``positions`` of objects and marks by name."""
        if self.ref is None:
            return np.asarray(self.point, dtype=np.float64)
        return positions[self.ref] + np.asarray(self.offset, dtype=np.float64)

    def reached(self, mover_pos: np.ndarray, positions: dict[str, np.ndarray]) -> bool:
        d = float(np.linalg.norm(mover_pos - self.goal_point(positions)))
        return d <= self.radius if self.kind == "near" else d >= self.radius


@dataclass(frozen=True)
class Task:
    """What to do: the instruction, who moves, and when it counts as done.

    ``targets``: the candidate targets of the role the instruction names (every mark for "push
    the apple onto the 3", every object for "push the apple to the banana", the nine regions,
    ...); ``target`` is the name of the one it means. They give referent accuracy and the
    concept-blind expert (:mod:`rt2.envs.tabletop.referents`); a task without them has neither."""

    family: str
    instruction: str
    mover: str
    goal: Goal
    task_id: str
    concept: str = ""  # e.g. "math", "category", "multilingual:fr" for emergent tasks
    language: str = "en"
    targets: tuple[Target, ...] = ()
    target: str = ""

    def success(self, positions: dict[str, np.ndarray]) -> bool:
        return self.goal.reached(positions[self.mover], positions)
