"""Kitchen skills (RT-1/RT-2 style), their success checks from object poses, and episode sampling.

Skills: ``pick`` X, ``move_near`` X Y, ``knock_over`` X, ``place_upright`` X, ``open_drawer``,
``close_drawer``, ``put_in_drawer`` X. Success is judged from the poses MuJoCo reports:

- pick: X's centre is >= ``LIFT`` above its resting height;
- move_near: X rests (within 3 cm of its resting height) with its centre within
  ``r_X + r_Y + NEAR_MARGIN`` of Y's centre in the table plane, and X itself was moved (at least
  ``START_MARGIN`` from where it started: pushing Y over to X does not count);
- knock_over: X lies on its side on the table: tilted by more than ``LYING_TILT`` degrees with its
  centre within ``LYING_TOL`` of its lying height (a can caught mid-fall or leaning does not count),
  and no other object moved more than ``UNDISTURBED`` (sweeping the whole table does not count);
- place_upright: X's axis is within 15 degrees of vertical and X rests on the table;
- open_drawer / close_drawer: the drawer is >= 80% open / <= ``CLOSED_TOL`` open;
- put_in_drawer: X's centre is inside the drawer's interior box.

No episode starts solved: ``move_near`` places X at least ``START_MARGIN`` beyond the success
radius from Y, ``close_drawer`` starts with the drawer at least ``CLOSE_START`` open, and the
other skills start in states their checks reject (upright, lying, closed drawer, on the table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rt2.envs.kitchen.spec import SKILL_NAMES, KitchenGroupSpec
from rt2.envs.kitchen.world import (
    DRAWER_FLOOR,
    DRAWER_SIZE,
    DRAWER_TRAVEL,
    LAYOUTS,
    KitchenScene,
    Layout,
    Placement,
    get_kitchen_object,
    rest_height,
)
from rt2.envs.suite_files import choice, pick_weighted

SKILLS: tuple[str, ...] = SKILL_NAMES
LIFT = 0.05
NEAR_MARGIN = 0.05
START_MARGIN = 0.05  # move_near: extra start distance beyond the success radius
LYING_TILT = 75.0  # knock_over: degrees from vertical
LYING_TOL = 0.01  # knock_over: centre height above the lying height (m)
CLOSED_TOL = 0.005  # close_drawer: largest opening counted as closed (m)
CLOSE_START = 0.11  # close_drawer: smallest starting opening (m)
UNDISTURBED = 0.05  # knock_over: largest displacement of the other objects (m)
TEMPLATES: dict[str, tuple[str, ...]] = {
    "pick": ("pick {x}", "pick up the {x}"),
    "move_near": ("move {x} near {y}", "put the {x} next to the {y}"),
    "knock_over": ("knock {x} over", "knock over the {x}"),
    "place_upright": ("place {x} upright", "stand the {x} up"),
    "open_drawer": ("open the drawer", "open drawer"),
    "close_drawer": ("close the drawer", "close drawer"),
    "put_in_drawer": ("put {x} into the drawer", "place the {x} in the drawer"),
}


class RetryError(Exception):
    """The layout could not be sampled; draw again."""


@dataclass(frozen=True)
class PoseState:
    """What the success checks read: object centres, axes, the drawer and its interior box."""

    pos: dict[str, np.ndarray]  # name -> (3,) centre
    axis: dict[str, np.ndarray]  # name -> (3,) unit z axis of the body
    rest: dict[str, float]  # name -> resting centre height (upright)
    drawer: float  # opening in metres
    drawer_box: tuple[np.ndarray, np.ndarray]  # interior (lo, hi) corners in world
    start: dict[str, np.ndarray]  # name -> (3,) centre at the start of the episode

    def moved(self, name: str) -> float:
        """Distance ``name`` travelled in the table plane since the start of the episode."""
        return float(np.linalg.norm(self.pos[name][:2] - self.start[name][:2]))


@dataclass(frozen=True)
class KitchenTask:
    """One instruction: skill, its object(s), the text."""

    skill: str
    target: str = ""
    reference: str = ""
    instruction: str = ""

    def __post_init__(self) -> None:
        if self.skill not in SKILLS:
            raise ValueError(f"KitchenTask.skill: unknown skill {self.skill!r}; known {SKILLS}")

    @property
    def task_id(self) -> str:
        return ":".join(s for s in (self.skill, self.target, self.reference) if s)

    def success(self, s: PoseState) -> bool:
        """Whether the poses in ``s`` satisfy the instruction."""
        if self.skill == "open_drawer":
            return s.drawer >= 0.8 * DRAWER_TRAVEL
        if self.skill == "close_drawer":
            return s.drawer <= CLOSED_TOL
        p = s.pos[self.target]
        tilt = float(np.degrees(np.arccos(np.clip(abs(s.axis[self.target][2]), 0.0, 1.0))))
        if self.skill == "pick":
            return p[2] - s.rest[self.target] >= LIFT
        if self.skill == "knock_over":
            lying = rest_height(get_kitchen_object(self.target), True)
            others = (s.moved(n) for n in s.pos if n != self.target)
            return (
                tilt > LYING_TILT
                and p[2] - lying < LYING_TOL
                and max(others, default=0.0) <= UNDISTURBED
            )
        if self.skill == "place_upright":
            return tilt < 15.0 and abs(p[2] - s.rest[self.target]) < 0.015
        if self.skill == "move_near":
            q = s.pos[self.reference]
            resting = p[2] - s.rest[self.target] < 0.03
            near = np.linalg.norm(p[:2] - q[:2]) < near_reach(self)
            return bool(resting and near and s.moved(self.target) >= START_MARGIN)
        lo, hi = s.drawer_box  # put_in_drawer
        return bool(np.all(p >= lo) and np.all(p <= hi))


def near_reach(task: KitchenTask) -> float:
    """Success radius of ``move_near``: both footprint radii plus ``NEAR_MARGIN``."""
    target, reference = get_kitchen_object(task.target), get_kitchen_object(task.reference)
    return target.radius + reference.radius + NEAR_MARGIN


def drawer_box(layout: Layout, opening: float) -> tuple[np.ndarray, np.ndarray]:
    """World (lo, hi) corners of the drawer interior at ``opening`` metres."""
    dx, dy, dh = DRAWER_SIZE
    front = layout.cabinet_front + 0.012 - opening
    lo = np.array([layout.cabinet_x - dx, front, DRAWER_FLOOR - 0.005])
    hi = np.array([layout.cabinet_x + dx, front + 2 * dy, DRAWER_FLOOR + 2 * dh + 0.02])
    return lo, hi


def _pick_target(spec: KitchenGroupSpec, skill: str, rng: np.random.Generator) -> str:
    if skill in ("knock_over", "place_upright"):
        pool = [o for o in spec.objects if get_kitchen_object(o).tall]
    else:
        pool = [o for o in spec.objects if get_kitchen_object(o).pickable]
    if not pool:
        raise RetryError(f"no object for skill {skill}")
    return choice(rng, pool)


def _place(
    names: list[str],
    lying: dict[str, bool],
    layout: Layout,
    rng: np.random.Generator,
    required: int = 0,
    apart: float = 0.0,
) -> list[Placement]:
    """Non-overlapping placements; the first ``required`` names must fit, others may be dropped.

    The second placement's centre is kept at least ``apart`` from the first's.
    """
    tx, ty = layout.table
    front = layout.cabinet_front
    out: list[Placement] = []
    for name in names:
        obj = get_kitchen_object(name)
        r = obj.size[1] + 0.01 if lying[name] else obj.radius
        ylo, yhi = -ty + 0.07 + r, front - 0.03 - r
        if ylo >= yhi:
            raise RetryError(f"{name} does not fit")
        for _ in range(200):
            x = float(rng.uniform(-tx + 0.07 + r, tx - 0.07 - r))
            y = float(rng.uniform(ylo, yhi))
            # keep the open drawer's footprint and the path to its handle clear
            if abs(x - layout.cabinet_x) < 0.13 + 0.03 + r and y > front - DRAWER_TRAVEL - 0.1 - r:
                continue
            ok = all(np.hypot(x - p.x, y - p.y) > r + _footprint(p) + 0.045 for p in out)
            if len(out) == 1 and np.hypot(x - out[0].x, y - out[0].y) < apart:
                continue
            if ok:
                out.append(Placement(name, x, y, float(rng.uniform(-np.pi, np.pi)), lying[name]))
                break
        else:
            if len(out) < required:
                raise RetryError("no room on the table")
    return out


def _footprint(p: Placement) -> float:
    obj = get_kitchen_object(p.name)
    return obj.size[1] + 0.01 if p.lying else obj.radius


def sample_scene_task(
    spec: KitchenGroupSpec, rng: np.random.Generator, skill: str | None = None
) -> tuple[KitchenScene, KitchenTask]:
    """Draw a scene and a task from ``spec`` (skill by weight unless given)."""
    skill = pick_weighted(rng, spec.skills, skill, "skill", "skills")
    for _ in range(100):
        try:
            return _sample_once(spec, rng, skill)
        except RetryError:
            continue
    raise RuntimeError(f"could not lay out a {skill!r} episode for {spec.where} in 100 tries")


def _sample_once(
    spec: KitchenGroupSpec, rng: np.random.Generator, skill: str
) -> tuple[KitchenScene, KitchenTask]:
    layout = LAYOUTS[choice(rng, spec.layouts)]
    target = reference = ""
    chosen: list[str] = []
    if skill not in ("open_drawer", "close_drawer"):
        target = _pick_target(spec, skill, rng)
        chosen.append(target)
    if skill == "move_near":
        refs = [o for o in spec.objects + spec.distractors if o != target]
        reference = choice(rng, refs)
        chosen.append(reference)
    pool = [o for o in (spec.distractors or spec.objects) if o not in chosen]
    n = int(rng.integers(int(spec.num_distractors[0]), int(spec.num_distractors[1]) + 1))
    n = min(n, len(pool))
    chosen += [pool[i] for i in rng.choice(len(pool), size=n, replace=False)] if n else []
    lying = {o: False for o in chosen}
    if skill == "place_upright":
        lying[target] = True
    task = KitchenTask(skill, target, reference)
    apart = near_reach(task) + START_MARGIN if reference else 0.0
    objects = _place(chosen, lying, layout, rng, required=2 if reference else 1, apart=apart)
    drawer_open = 0.0
    if skill == "close_drawer":
        drawer_open = float(rng.uniform(CLOSE_START, DRAWER_TRAVEL))
    elif skill == "put_in_drawer":
        drawer_open = DRAWER_TRAVEL
    text = choice(rng, TEMPLATES[skill]).format(x=target, y=reference)
    az = float(rng.uniform(-0.6, 0.6))
    light = (float(np.sin(az)), float(rng.uniform(0.1, 0.5)), -1.0)
    jitter = tuple(float(v) for v in rng.uniform(-1, 1, 3) * spec.camera_jitter)
    hand = (float(rng.uniform(-0.1, 0.1)), float(rng.uniform(-0.2, -0.1)), 0.2)
    scene = KitchenScene(
        layout=layout,
        background=choice(rng, spec.backgrounds),
        objects=tuple(objects),
        drawer_open=drawer_open,
        brightness=float(rng.uniform(*spec.brightness)),
        light_dir=light,
        camera_jitter=jitter,  # type: ignore[arg-type]
        texture_seed=int(rng.integers(2**31)),
        hand=hand,
    )
    return scene, KitchenTask(skill, target, reference, text)


def resting_heights(scene: KitchenScene) -> dict[str, float]:
    """Upright resting centre height of every object."""
    return {p.name: rest_height(get_kitchen_object(p.name), False) for p in scene.objects}
