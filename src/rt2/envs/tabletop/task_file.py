"""User-written task files (YAML or JSON) for ``rt2/Tabletop-v0`` and ``rt2 eval --tasks FILE``.

Format (every field but ``tasks[].objects``, ``instructions`` and ``success`` is optional)::

    name: my tasks
    tasks:
      - id: apple_to_cat                 # default "task<i>"
        family: push_onto_mark           # free label for reports, default "custom"
        group: user                      # reported as info["split_group"], default "user"
        objects: [apple, red cube]       # movable catalogue objects in the scene
        marks: [cat, dog]                # printed marks on the table
        mover: apple                     # the object to move, default: the first object
        layout:                          # placement ranges in metres (table frame, x right, y up)
          default: {x: [-0.2, 0.2], y: [-0.12, 0.12]}
          apple: {x: [-0.25, -0.1], y: [-0.1, 0.1]}
        instructions: ["push the {mover} onto the picture of the {target}"]
        success: {type: near, target: cat, radius: 0.05}   # or far; target: a name or [x, y];
                                                            # optional offset: [dx, dy]
        # optional in success: candidates: [cat, dog, [0.2, 0.1]]: the targets the instruction
        # chooses among, for referent accuracy and the blind expert (default: for a mark target
        # every mark, for an object target every object, for a point target the point alone)
        background: wood_light
        environment: lab_standard
        weight: 1

Errors name the field and the bad value, e.g.
``tasks[2].success.radius: expected a positive number, got -3``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rt2.envs.scenery import BACKGROUNDS, ENVIRONMENTS, get_environment
from rt2.envs.suite_files import SpecError
from rt2.envs.tabletop.catalogue import get_object
from rt2.envs.tabletop.referents import Target
from rt2.envs.tabletop.scene import Goal, Look, Placed, Scene, Task

Range = tuple[float, float]


@dataclass(frozen=True)
class UserTask:
    """One validated task of a task file."""

    id: str
    family: str
    group: str
    objects: tuple[str, ...]
    marks: tuple[str, ...]
    mover: str
    layout: dict[str, tuple[Range, Range]]
    instructions: tuple[str, ...]
    goal: Goal
    target_name: str
    targets: tuple[Target, ...]
    background: str
    environment: str
    weight: float


@dataclass(frozen=True)
class TaskFile:
    """A validated task file: ``name`` and its ``tasks``."""

    name: str
    tasks: tuple[UserTask, ...]


def _num(where: str, v: Any, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or (positive and v <= 0):
        raise SpecError(f"{where}: expected a {'positive ' if positive else ''}number, got {v!r}")
    return float(v)


def _pair(where: str, v: Any) -> tuple[float, float]:
    if not (isinstance(v, list | tuple) and len(v) == 2):
        raise SpecError(f"{where}: expected a [a, b] pair of numbers, got {v!r}")
    return (_num(f"{where}[0]", v[0]), _num(f"{where}[1]", v[1]))


def _str(where: str, v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise SpecError(f"{where}: expected a non-empty string, got {v!r}")
    return v


def _names(where: str, v: Any, kind: str) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise SpecError(f"{where}: expected a list of catalogue names, got {v!r}")
    for i, n in enumerate(v):
        n = _str(f"{where}[{i}]", n)
        try:
            entry = get_object(n)
        except KeyError as err:
            raise SpecError(f"{where}[{i}]: {err.args[0]}") from None
        if entry.kind != kind:
            raise SpecError(f"{where}[{i}]: {n!r} is a {entry.kind}, expected kind {kind!r}")
    if len(set(v)) != len(v):
        raise SpecError(f"{where}: names must be unique, got {v!r}")
    return tuple(v)


_TASK_KEYS = {
    "id",
    "family",
    "group",
    "objects",
    "marks",
    "mover",
    "layout",
    "instructions",
    "success",
    "background",
    "environment",
    "weight",
}


def _parse_task(t: Any, w: str, i: int) -> UserTask:
    if not isinstance(t, dict):
        raise SpecError(f"{w}: expected a mapping, got {t!r}")
    for key in t:
        if key not in _TASK_KEYS:
            raise SpecError(f"{w}.{key}: unknown field; known fields: {sorted(_TASK_KEYS)}")
    for req in ("objects", "instructions", "success"):
        if req not in t:
            raise SpecError(f"{w}.{req}: required field is missing")
    objs = _names(f"{w}.objects", t["objects"], "object")
    if not objs:
        raise SpecError(f"{w}.objects: expected at least one object, got []")
    marks = _names(f"{w}.marks", t.get("marks", []), "mark")
    mover = _str(f"{w}.mover", t.get("mover", objs[0]))
    if mover not in objs:
        raise SpecError(f"{w}.mover: {mover!r} is not one of objects {list(objs)}")
    env_name = _str(f"{w}.environment", t.get("environment", "lab_standard"))
    if env_name not in ENVIRONMENTS:
        raise SpecError(
            f"{w}.environment: unknown environment {env_name!r}; known: {sorted(ENVIRONMENTS)}"
        )
    env = get_environment(env_name)
    bg = _str(f"{w}.background", t.get("background", "wood_light"))
    if bg not in BACKGROUNDS:
        raise SpecError(f"{w}.background: unknown background {bg!r}; known: {sorted(BACKGROUNDS)}")
    hx, hy = env.width / 2 - 0.03, env.height / 2 - 0.03
    layout: dict[str, tuple[Range, Range]] = {
        "default": ((-hx + 0.03, hx - 0.03), (-hy + 0.03, hy - 0.03))
    }
    lay_in = t.get("layout", {}) or {}
    if not isinstance(lay_in, dict):
        raise SpecError(
            f"{w}.layout: expected a mapping name -> {{x: [min, max], y: [min, max]}}, got {lay_in!r}"
        )
    for name, rng_spec in lay_in.items():
        lw = f"{w}.layout.{name}"
        if name != "default" and name not in objs + marks:
            raise SpecError(f"{lw}: {name!r} is not one of the task's objects or marks")
        if not isinstance(rng_spec, dict) or set(rng_spec) - {"x", "y"}:
            raise SpecError(f"{lw}: expected {{x: [min, max], y: [min, max]}}, got {rng_spec!r}")
        d = layout["default"]
        xr = _pair(f"{lw}.x", rng_spec.get("x", list(d[0])))
        yr = _pair(f"{lw}.y", rng_spec.get("y", list(d[1])))
        for axis, (lo, hi), lim in (("x", xr, hx), ("y", yr, hy)):
            if not (-lim <= lo <= hi <= lim):
                raise SpecError(
                    f"{lw}.{axis}: expected {-lim:.3f} <= min <= max <= {lim:.3f} on {env_name!r}, got {[lo, hi]}"
                )
        layout[name] = (xr, yr)
    ins = t["instructions"]
    if isinstance(ins, str):
        ins = [ins]
    if not isinstance(ins, list) or not ins:
        raise SpecError(f"{w}.instructions: expected a non-empty list of strings, got {ins!r}")
    for k, s in enumerate(ins):
        _str(f"{w}.instructions[{k}]", s)
        try:
            s.format(mover=mover, target="x")
        except (KeyError, IndexError, ValueError) as err:
            raise SpecError(
                f"{w}.instructions[{k}]: bad placeholder in {s!r} ({err}); use {{mover}} and {{target}}"
            ) from None
    sw = f"{w}.success"
    s = t["success"]
    if not isinstance(s, dict):
        raise SpecError(f"{sw}: expected a mapping with type, target, radius, got {s!r}")
    for key in s:
        if key not in ("type", "target", "radius", "offset", "candidates"):
            raise SpecError(
                f"{sw}.{key}: unknown field; known: candidates, offset, radius, target, type"
            )
    kind = s.get("type", "near")
    if kind not in ("near", "far"):
        raise SpecError(f"{sw}.type: expected 'near' or 'far', got {kind!r}")
    radius = _num(f"{sw}.radius", s.get("radius", 0.05), positive=True)
    if "target" not in s:
        raise SpecError(f"{sw}.target: required field is missing")
    target = s["target"]
    offset = _pair(f"{sw}.offset", s.get("offset", [0.0, 0.0]))
    if isinstance(target, str):
        if target not in objs + marks or target == mover:
            raise SpecError(
                f"{sw}.target: {target!r} is not one of the other objects/marks {[n for n in objs + marks if n != mover]}"
            )
        goal = Goal(kind, radius, ref=target, offset=offset)
        target_name = target
    else:
        pt = _pair(f"{sw}.target", target)
        if abs(pt[0]) > env.width / 2 or abs(pt[1]) > env.height / 2:
            raise SpecError(
                f"{sw}.target: point {list(pt)} is off the {env.width} x {env.height} m table"
            )
        goal = Goal(kind, radius, point=(pt[0] + offset[0], pt[1] + offset[1]))
        target_name = _point_name(pt)
    targets = _candidates(sw, s, goal, target_name, mover, objs, marks, env)
    return UserTask(
        id=_str(f"{w}.id", t.get("id", f"task{i}")),
        family=_str(f"{w}.family", t.get("family", "custom")),
        group=_str(f"{w}.group", t.get("group", "user")),
        objects=objs,
        marks=marks,
        mover=mover,
        layout=layout,
        instructions=tuple(ins),
        goal=goal,
        target_name=target_name,
        targets=targets,
        background=bg,
        environment=env_name,
        weight=_num(f"{w}.weight", t.get("weight", 1.0), positive=True),
    )


def _point_name(pt: tuple[float, float]) -> str:
    return f"({pt[0]:.2f}, {pt[1]:.2f})"


def _candidates(
    sw: str,
    s: dict[str, Any],
    goal: Goal,
    target_name: str,
    mover: str,
    objs: tuple[str, ...],
    marks: tuple[str, ...],
    env: Any,
) -> tuple[Target, ...]:
    """The task's candidate targets (``success.candidates``, or the default of its target's
    kind), each with the goal's kind, radius and offset; the target itself always among them."""
    if "candidates" in s:
        given = s["candidates"]
        if not isinstance(given, list) or not given:
            raise SpecError(
                f"{sw}.candidates: expected a non-empty list of names and [x, y] points, "
                f"got {given!r}"
            )
        items: list[str | tuple[float, float]] = []
        for k, c in enumerate(given):
            cw = f"{sw}.candidates[{k}]"
            if isinstance(c, str):
                if c not in objs + marks:
                    raise SpecError(f"{cw}: {c!r} is not one of the task's objects or marks")
                items.append(c)
            else:
                pt = _pair(cw, c)
                if abs(pt[0]) > env.width / 2 or abs(pt[1]) > env.height / 2:
                    raise SpecError(f"{cw}: point {list(pt)} is off the table")
                items.append(pt)
    elif goal.ref in marks:
        items = list(marks)
    elif goal.ref is not None:
        items = list(objs)
    else:
        items = []
    out: dict[str, Target] = {}
    for it in items:
        if isinstance(it, str):
            out[it] = Target(it, Goal(goal.kind, goal.radius, ref=it, offset=goal.offset))
        else:
            p = (it[0] + goal.offset[0], it[1] + goal.offset[1])
            out[_point_name(it)] = Target(_point_name(it), Goal(goal.kind, goal.radius, point=p))
    if target_name not in out:
        out[target_name] = Target(target_name, goal)
    return tuple(out.values())


def parse_task_file(data: Any, name: str = "tasks") -> TaskFile:
    """Validate an already-loaded mapping (see :func:`load_task_file`)."""
    if not isinstance(data, dict):
        raise SpecError(
            f"task file: expected a mapping with a 'tasks' list, got {type(data).__name__}"
        )
    for key in data:
        if key not in ("name", "tasks"):
            raise SpecError(f"{key}: unknown top-level field; expected 'name' and 'tasks'")
    tasks = data.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise SpecError(f"tasks: expected a non-empty list of tasks, got {tasks!r}")
    parsed = tuple(_parse_task(t, f"tasks[{i}]", i) for i, t in enumerate(tasks))
    ids = [t.id for t in parsed]
    for i, tid in enumerate(ids):
        if ids.index(tid) != i:
            raise SpecError(f"tasks[{i}].id: duplicate id {tid!r}")
    return TaskFile(str(data.get("name", name)), parsed)


def load_task_file(path: str | Path) -> TaskFile:
    """Load and validate a YAML (``.yaml``/``.yml``) or JSON (``.json``) task file.

    Raises :class:`~rt2.envs.suite_files.SpecError` (a ``ValueError``) naming the bad field and value,
    ``FileNotFoundError`` if ``path`` does not exist. Use the result with
    ``gym.make("rt2/Tabletop-v0", task_file=path)`` (the env calls this loader itself).
    """
    p = Path(path)
    text = p.read_text()
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise SpecError(f"{p}: cannot parse: {err}") from None
    return parse_task_file(data, p.stem)


class TaskFileSampler:
    """Draws episodes from a :class:`TaskFile` (tasks by weight; ``group`` selects a task group)."""

    def __init__(self, tf: TaskFile) -> None:
        self.tf = tf

    @property
    def name(self) -> str:
        return f"tasks:{self.tf.name}"

    def sample(
        self, rng: np.random.Generator, group: str | None = None, family: str | None = None
    ) -> tuple[Scene, Task, str]:
        tasks = [
            t
            for t in self.tf.tasks
            if (group is None or t.group == group) and (family is None or t.family == family)
        ]
        if not tasks:
            raise KeyError(f"no task in {self.tf.name!r} with group={group!r} family={family!r}")
        w = np.array([t.weight for t in tasks])
        ut = tasks[int(rng.choice(len(tasks), p=w / w.sum()))]
        return self._episode(ut, rng), self._task(ut, rng), ut.group

    def _task(self, ut: UserTask, rng: np.random.Generator) -> Task:
        text = ut.instructions[int(rng.integers(len(ut.instructions)))].format(
            mover=ut.mover, target=ut.target_name
        )
        return Task(
            ut.family,
            text,
            ut.mover,
            ut.goal,
            f"{ut.family}:{ut.id}",
            "",
            "en",
            ut.targets,
            ut.target_name,
        )

    def _episode(self, ut: UserTask, rng: np.random.Generator) -> Scene:
        env = get_environment(ut.environment)
        half = np.array([env.width / 2, env.height / 2])
        for _ in range(200):
            pos: dict[str, np.ndarray] = {}
            ok = True
            for name in ut.objects + ut.marks:
                xr, yr = ut.layout.get(name, ut.layout["default"])
                r = get_object(name).radius
                is_obj = name in ut.objects
                for _ in range(50):
                    p = np.array([rng.uniform(*xr), rng.uniform(*yr)])
                    others = [
                        (q, get_object(n).radius)
                        for n, q in pos.items()
                        if (n in ut.objects) == is_obj
                    ]
                    if all(
                        np.linalg.norm(p - q) >= r + rq + (0.02 if is_obj else 0.005)
                        for q, rq in others
                    ):
                        pos[name] = p
                        break
                else:
                    ok = False
                    break
            if not ok or ut.goal.reached(pos[ut.mover], pos):
                continue
            eff = rng.uniform(-(half - 0.03), half - 0.03)
            if any(np.linalg.norm(eff - pos[n]) < get_object(n).radius + 0.02 for n in ut.objects):
                continue
            return Scene(
                environment=env,
                background=ut.background,
                objects=tuple(
                    Placed(
                        n, (float(pos[n][0]), float(pos[n][1])), float(rng.uniform(-np.pi, np.pi))
                    )
                    for n in ut.objects
                ),
                marks=tuple(Placed(n, (float(pos[n][0]), float(pos[n][1]))) for n in ut.marks),
                look=Look(),
                texture_seed=int(rng.integers(2**31)),
                effector=(float(eff[0]), float(eff[1])),
            )
        raise RuntimeError(
            f"task {ut.id!r}: could not place objects in their layout ranges in 200 tries"
        )
