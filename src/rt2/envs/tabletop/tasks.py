"""Task families: lay out a scene for a family, write its instruction and its success goal.

Families (Language-Table's five, then RT-2's two):

| family | example | success |
|---|---|---|
| ``block_to_block`` | "push the red star to the blue cube" | centres within 8 cm |
| ``block_to_absolute`` | "move the red star to the top left corner" | within 5 cm of the spot |
| ``block_to_relative`` | "move the red star left" | within 5 cm of a spot 10 cm away |
| ``separate`` | "separate the red star and the blue cube" | centres at least 14 cm apart |
| ``block_to_block_relative`` | "put the red star to the left of the blue cube" | within 5 cm of the spot 10 cm beside it |
| ``move_near`` | "move the apple near the cola can" | centres within 10 cm |
| ``push_onto_mark`` | "push the apple onto the 3" | within 5 cm of the mark's centre |
"""

from __future__ import annotations

import numpy as np

from rt2.envs.scenery import Environment
from rt2.envs.tabletop import instructions as ins
from rt2.envs.tabletop.catalogue import get_object
from rt2.envs.tabletop.referents import Target
from rt2.envs.tabletop.scene import Goal, Placed, Task
from rt2.envs.tabletop.spec import GroupSpec

INSET = 0.065  # object centres start at least this far inside the table edge
RELATIVE_DISTANCE = 0.10
NEAR_RADIUS = {"block_to_block": 0.08, "move_near": 0.10}
POINT_RADIUS = 0.05
SEPARATE_DISTANCE = 0.14


class Retry(Exception):  # noqa: N818
    """The random layout failed a constraint; sample again."""


def _seg_dist(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = float(np.clip(np.dot(p - a, ab) / max(float(np.dot(ab, ab)), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + t * ab)))


class Layout:
    """Rejection sampler for non-overlapping object centres on a table."""

    def __init__(self, env: Environment, rng: np.random.Generator) -> None:
        self.half = np.array([env.width / 2, env.height / 2])
        self.rng = rng
        self.items: list[tuple[np.ndarray, float]] = []

    def inside(self, p: np.ndarray, inset: float = INSET) -> bool:
        return bool(np.all(np.abs(p) <= self.half - inset))

    def free(self, p: np.ndarray, r: float, gap: float = 0.02) -> bool:
        return all(np.linalg.norm(p - q) >= r + rq + gap for q, rq in self.items)

    def sample(
        self, r: float, ok: object = None, inset: float = INSET, tries: int = 200
    ) -> np.ndarray:
        """A free point for a disc of radius ``r`` satisfying ``ok(p)``; it is then occupied."""
        lo = self.half - inset
        for _ in range(tries):
            p = self.rng.uniform(-lo, lo)
            if self.free(p, r) and (ok is None or ok(p)):  # type: ignore[operator]
                self.items.append((p, r))
                return p
        raise Retry("no free spot")

    def add(self, p: np.ndarray, r: float) -> np.ndarray:
        if not (self.inside(p) and self.free(p, r, 0.004)):
            raise Retry("spot taken or outside")
        self.items.append((p, r))
        return p


def _pick(rng: np.random.Generator, pool: list[str] | tuple[str, ...], k: int) -> list[str]:
    if len(pool) < k:
        raise Retry(f"pool too small: need {k}, have {len(pool)}")
    idx = rng.choice(len(pool), size=k, replace=False)
    return [pool[int(i)] for i in idx]


def _refer(name: str, spec: GroupSpec, rng: np.random.Generator, facts: list[str]) -> str:
    text = ins.refer_object(get_object(name), spec.refer_objects, rng)
    if spec.refer_objects == "fact":
        facts.append(text.removeprefix("the "))
    return text


def absolute_point(loc: str, half: np.ndarray) -> np.ndarray:
    """(2,) table point of location ``loc`` ("top left corner", ...)."""
    fx, fy = ins.LOCATIONS[loc]
    return np.array([fx * (half[0] - 0.075), fy * (half[1] - 0.07)])


def _targets(
    family: str,
    goal: Goal,
    objects: list[str],
    marks: list[str],
    locs: list[str],
    half: np.ndarray,
) -> tuple[Target, ...]:
    """The candidate targets of ``family``'s target role (see :mod:`rt2.envs.tabletop.referents`):
    objects (each may be the target of any other), marks, the locations the instruction's
    language can name, directions (spots 10 cm from the moved object's start) or spots beside
    objects (every relation of every object)."""
    if family in ("block_to_block", "move_near", "separate"):
        return tuple(Target(o, Goal(goal.kind, goal.radius, ref=o)) for o in objects)
    if family == "push_onto_mark":
        return tuple(Target(m, Goal("near", POINT_RADIUS, ref=m)) for m in marks)
    if family == "block_to_absolute":
        pts = {loc: absolute_point(loc, half) for loc in locs}
        return tuple(
            Target(loc, Goal("near", POINT_RADIUS, point=(float(p[0]), float(p[1]))))
            for loc, p in pts.items()
        )
    if family == "block_to_relative":
        return tuple(
            Target(w, Goal("near", POINT_RADIUS, point=_off(d)), from_start=True)
            for w, d in ins.DIRECTIONS.items()
        )
    if family == "block_to_block_relative":
        return tuple(
            Target(f"{rel} {o}", Goal("near", POINT_RADIUS, ref=o, offset=_off(d)))
            for o in objects
            for rel, d in ins.RELATIONS.items()
        )
    raise KeyError(f"unknown task family {family!r}")


def _off(d: tuple[float, float]) -> tuple[float, float]:
    return (RELATIVE_DISTANCE * float(d[0]), RELATIVE_DISTANCE * float(d[1]))


def sample_task(
    spec: GroupSpec, env: Environment, family: str, rng: np.random.Generator
) -> tuple[tuple[Placed, ...], tuple[Placed, ...], Task, np.ndarray]:
    """Lay out objects and marks for ``family`` and write the task.

    Returns (objects, marks, task, effector start (2,)). Raises :class:`Retry` on a bad draw.
    """
    langs = [g for g in spec.languages if g == "en" or family in ins.TRANSLATED_FAMILIES]
    if not langs:
        raise Retry(f"no language of {spec.languages} supports {family!r}")
    lang = langs[int(rng.integers(len(langs)))]
    movers = (
        list(spec.objects)
        if lang == "en"
        else [o for o in spec.objects if o in ins.translatable_objects(lang)]
    )
    lay = Layout(env, rng)
    hx, hy = lay.half
    facts: list[str] = []
    placed: dict[str, np.ndarray] = {}
    marks: dict[str, np.ndarray] = {}
    locs: list[str] = []
    n_movers = 1 if family in ("block_to_absolute", "block_to_relative", "push_onto_mark") else 2
    names = _pick(rng, movers, n_movers)
    a = names[0]
    ra = get_object(a).radius
    ref_a = _refer(a, spec, rng, facts)
    goal_pt: np.ndarray
    slots: dict[str, str] = {"a": ref_a}
    target_key = ""
    if family in ("block_to_block", "move_near"):
        b = names[1]
        pa = lay.sample(ra)
        far = NEAR_RADIUS[family] + 0.09
        pb = lay.sample(get_object(b).radius, lambda p: np.linalg.norm(p - pa) >= far)
        placed |= {a: pa, b: pb}
        goal = Goal("near", NEAR_RADIUS[family], ref=b)
        goal_pt, target_key = pb, b
        slots["b"] = _refer(b, spec, rng, facts)
    elif family == "block_to_absolute":
        locs = list(ins.LOCATIONS) if lang == "en" else list(ins.translated_locations(lang))
        loc = locs[int(rng.integers(len(locs)))]
        fx, fy = ins.LOCATIONS[loc]
        goal_pt = np.array([fx * (hx - 0.075), fy * (hy - 0.07)])
        pa = lay.sample(ra, lambda p: np.linalg.norm(p - goal_pt) >= 0.12)
        placed[a] = pa
        goal = Goal("near", POINT_RADIUS, point=(float(goal_pt[0]), float(goal_pt[1])))
        slots["loc"], target_key = loc, loc
    elif family == "block_to_relative":
        word = list(ins.DIRECTIONS)[int(rng.integers(len(ins.DIRECTIONS)))]
        d = np.array(ins.DIRECTIONS[word], dtype=np.float64)
        pa = lay.sample(ra, lambda p: lay.inside(p + RELATIVE_DISTANCE * d, 0.075))
        placed[a] = pa
        goal_pt = pa + RELATIVE_DISTANCE * d
        goal = Goal("near", POINT_RADIUS, point=(float(goal_pt[0]), float(goal_pt[1])))
        slots["dir"], target_key = word, word
    elif family == "separate":
        b = names[1]
        rb = get_object(b).radius
        pa = lay.sample(ra, lambda p: lay.inside(p, 0.09))
        ang = rng.uniform(0, 2 * np.pi)
        pb = lay.add(
            pa + (ra + rb + rng.uniform(0.006, 0.015)) * np.array([np.cos(ang), np.sin(ang)]), rb
        )
        placed |= {a: pa, b: pb}
        goal = Goal("far", SEPARATE_DISTANCE, ref=b)
        goal_pt, target_key = pb, b
        slots["b"] = _refer(b, spec, rng, facts)
    elif family == "block_to_block_relative":
        b = names[1]
        rb = get_object(b).radius
        rel = list(ins.RELATIONS)[int(rng.integers(len(ins.RELATIONS)))]
        off = RELATIVE_DISTANCE * np.array(ins.RELATIONS[rel], dtype=np.float64)
        pb = lay.sample(rb, lambda p: lay.inside(p + off, 0.075))
        goal_pt = pb + off

        def ok(p: np.ndarray) -> bool:
            return bool(
                np.linalg.norm(p - goal_pt) >= 0.12 and _seg_dist(pb, p, goal_pt) >= ra + rb + 0.012
            )

        pa = lay.sample(ra, ok)
        placed |= {a: pa, b: pb}
        goal = Goal("near", POINT_RADIUS, ref=b, offset=(float(off[0]), float(off[1])))
        slots |= {"rel": rel, "b": _refer(b, spec, rng, facts)}
        target_key = f"{rel} {b}"
    elif family == "push_onto_mark":
        m = _pick(rng, spec.marks, 1)[0]
        lo = lay.half - 0.07
        pm = rng.uniform(-lo, lo)
        pa = lay.sample(ra, lambda p: np.linalg.norm(p - pm) >= 0.12)
        placed[a], marks[m] = pa, pm
        goal = Goal("near", POINT_RADIUS, ref=m)
        goal_pt = pm
        slots["m"] = ins.refer_mark(get_object(m), spec.refer_marks, rng)
        target_key = m
    else:
        raise KeyError(f"unknown task family {family!r}")

    # distractor objects: never on the mover's path, never sharing a fact the instruction uses
    pool = [
        o
        for o in (spec.distractors or spec.objects)
        if o not in placed and not set(get_object(o).facts) & set(facts)
    ]
    k = int(rng.integers(int(spec.num_distractors[0]), int(spec.num_distractors[1]) + 1))
    pa = placed[a]
    for name in _pick(rng, pool, min(k, len(pool))):
        r = get_object(name).radius

        def clear(p: np.ndarray, r: float = r) -> bool:
            return (
                _seg_dist(p, pa, goal_pt) >= r + ra + 0.03
                and np.linalg.norm(p - goal_pt) >= r + 0.06
            )

        try:
            placed[name] = lay.sample(r, clear, tries=60)
        except Retry:
            break
    # printed marks: target first, then distractor marks away from it and from objects
    mpool = [m for m in (spec.distractor_marks or spec.marks) if m not in marks]
    km = int(rng.integers(int(spec.num_distractor_marks[0]), int(spec.num_distractor_marks[1]) + 1))
    for name in _pick(rng, mpool, min(km, len(mpool))):
        lo = lay.half - 0.04
        for _ in range(60):
            p = rng.uniform(-lo, lo)
            if all(np.linalg.norm(p - q) >= 0.075 for q in marks.values()) and all(
                np.linalg.norm(p - q) >= 0.05 for q in placed.values()
            ):
                marks[name] = p
                break
    # effector start: free spot anywhere on the table
    eff = lay.sample(0.014, inset=0.03)

    if lang == "en":
        text = ins.english(family, rng, **slots)
    else:
        text = ins.foreign(
            lang, family, a, names[1] if family == "block_to_block" else slots["loc"]
        )
    concept = spec.concept or ("" if lang == "en" else f"multilingual:{lang}")
    task_id = f"{family}:{a}:{target_key}" + (f":{concept}" if concept else "")
    targets = _targets(family, goal, list(placed), list(marks), locs, lay.half)
    target = {
        "block_to_absolute": slots.get("loc", ""),
        "block_to_relative": slots.get("dir", ""),
        "block_to_block_relative": target_key,
    }.get(family, target_key)
    task = Task(family, text, a, goal, task_id, concept, lang, targets, target)
    objs = tuple(
        Placed(n, (float(p[0]), float(p[1])), float(rng.uniform(-np.pi, np.pi)))
        for n, p in placed.items()
    )
    mks = tuple(Placed(n, (float(p[0]), float(p[1]))) for n, p in marks.items())
    positions = {n: np.asarray(p) for n, p in (*placed.items(), *marks.items())}
    if task.success(positions):
        raise Retry("task already solved at start")
    return objs, mks, task, eff
