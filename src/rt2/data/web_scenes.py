"""Pictures for the web corpus: random tabletop scenes and close-ups, rendered without a gym env.

Scenes put each object or mark in its own cell of a 3 x 3 grid over the table, away from the
cell borders, so "where is the apple?" has one clear answer in the words the robot instructions
use for places ("top left corner", "center", ...). Scattered scenes put things anywhere, for
pointing questions answered with coordinates. The robot's pusher is not drawn: these are "web
photos" of tables, not robot observations.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from rt2.envs.scenery import BACKGROUNDS, ENVIRONMENTS, FLOORS, Environment
from rt2.envs.tabletop import instructions as ins
from rt2.envs.tabletop.catalogue import CatalogueEntry, objects
from rt2.envs.tabletop.render import Renderer
from rt2.envs.tabletop.scene import Look, Placed, Scene

#: Grid cell (column -1..1 left->right, row -1..1 bottom->top) -> location name.
CELLS: dict[tuple[int, int], str] = {
    (int(fx), int(fy)): name for name, (fx, fy) in ins.LOCATIONS.items()
}
_HIDDEN = np.array([50.0, 50.0])  # effector far outside the view: not drawn
_CLOSEUP_FLOORS = tuple(FLOORS)


@dataclass(frozen=True)
class WebScene:
    """A scene to draw and, per placed thing, its catalogue entry and grid location name."""

    scene: Scene
    things: tuple[tuple[CatalogueEntry, str], ...]  # (entry, location), objects then marks
    closeup: bool = False

    def without(self, name: str) -> WebScene:
        """This scene with the thing called ``name`` taken away (to see which pixels it drew)."""
        sc = self.scene
        scene = dataclasses.replace(
            sc,
            objects=tuple(p for p in sc.objects if p.name != name),
            marks=tuple(p for p in sc.marks if p.name != name),
        )
        return dataclasses.replace(self, scene=scene)

    @property
    def objects(self) -> list[tuple[CatalogueEntry, str]]:
        return [(e, loc) for e, loc in self.things if e.kind == "object"]

    @property
    def marks(self) -> list[tuple[CatalogueEntry, str]]:
        return [(e, loc) for e, loc in self.things if e.kind == "mark"]

    def positions(self) -> list[tuple[CatalogueEntry, np.ndarray]]:
        """Each thing and its centre in table half-extents ([-1, 1] per axis), as ``things``."""
        sc = self.scene
        half = np.array([sc.environment.width / 2, sc.environment.height / 2])
        placed = {p.name: np.asarray(p.pos) / half for p in (*sc.objects, *sc.marks)}
        return [(e, placed[e.name]) for e, _ in self.things]

    def reading_order(self) -> list[tuple[CatalogueEntry, str]]:
        """Things top-to-bottom, left-to-right (the order captions list them in)."""
        inv = {name: cell for cell, name in CELLS.items()}
        return sorted(self.things, key=lambda t: (-inv[t[1]][1], inv[t[1]][0]))


def _look(rng: np.random.Generator, scale: float = 1.0) -> Look:
    return Look(
        brightness=float(rng.uniform(0.8, 1.2)),
        tint=tuple(float(1 + rng.uniform(-0.08, 0.08)) for _ in range(3)),  # type: ignore[arg-type]
        shift=(float(rng.uniform(-0.02, 0.02)), float(rng.uniform(-0.02, 0.02))),
        rotation=float(rng.uniform(-5, 5)),
        scale=float(scale * (1 + rng.uniform(-0.05, 0.05))),
    )


def _pick_objects(rng: np.random.Generator, k: int) -> list[CatalogueEntry]:
    """``k`` distinct movable objects; half the draws are everyday things, half blocks."""
    things = [e for e in objects(kind="object") if e.category != "block"]
    blocks = objects(category="block")
    out: dict[str, CatalogueEntry] = {}
    while len(out) < k:
        pool = things if rng.random() < 0.55 else blocks
        e = pool[int(rng.integers(len(pool)))]
        out[e.name] = e
    return list(out.values())


def random_scene(
    rng: np.random.Generator,
    texture_seed: int,
    n_objects: tuple[int, int] = (1, 4),
    n_marks: tuple[int, int] = (0, 3),
) -> WebScene:
    """Random objects and marks on any table top in any room (seen and unseen scenery alike)."""
    env = ENVIRONMENTS[sorted(ENVIRONMENTS)[int(rng.integers(len(ENVIRONMENTS)))]]
    background = sorted(BACKGROUNDS)[int(rng.integers(len(BACKGROUNDS)))]
    k_obj = int(rng.integers(n_objects[0], n_objects[1] + 1))
    k_mark = int(rng.integers(n_marks[0], n_marks[1] + 1))
    ents = _pick_objects(rng, k_obj)
    marks = objects(kind="mark")
    mark_ix = rng.choice(len(marks), size=k_mark, replace=False)
    ents += [marks[int(i)] for i in mark_ix]
    cells = list(CELLS)
    cell_ix = rng.choice(len(cells), size=len(ents), replace=False)
    cw, ch = env.width / 3, env.height / 3
    placed_o: list[Placed] = []
    placed_m: list[Placed] = []
    things = []
    for e, ci in zip(ents, cell_ix, strict=True):
        col, row = cells[int(ci)]
        reach = e.radius * (1.45 if e.kind == "mark" else 1.25)
        jx, jy = max(0.0, cw / 2 - reach - 0.012), max(0.0, ch / 2 - reach - 0.008)
        pos = (
            col * cw + float(rng.uniform(-jx, jx)) * 0.7,
            row * ch + float(rng.uniform(-jy, jy)) * 0.7,
        )
        if e.kind == "object":
            placed_o.append(Placed(e.name, pos, float(rng.uniform(-np.pi, np.pi))))
        else:
            placed_m.append(Placed(e.name, pos))
        things.append((e, CELLS[(col, row)]))
    scene = Scene(env, background, tuple(placed_o), tuple(placed_m), _look(rng), texture_seed)
    order = [t for t in things if t[0].kind == "object"] + [
        t for t in things if t[0].kind == "mark"
    ]
    return WebScene(scene, tuple(order))


def scattered_scene(
    rng: np.random.Generator, texture_seed: int, n_objects: tuple[int, int] = (2, 5)
) -> WebScene:
    """Objects and marks anywhere on a seen or unseen table, not overlapping (for pointing).

    Location names are the nearest grid cell's; only :func:`WebScene.positions` is exact.
    """
    env = ENVIRONMENTS[sorted(ENVIRONMENTS)[int(rng.integers(len(ENVIRONMENTS)))]]
    background = sorted(BACKGROUNDS)[int(rng.integers(len(BACKGROUNDS)))]
    ents = _pick_objects(rng, int(rng.integers(n_objects[0], n_objects[1] + 1)))
    marks = objects(kind="mark")
    ents += [
        marks[int(i)] for i in rng.choice(len(marks), size=int(rng.integers(0, 3)), replace=False)
    ]
    half = np.array([env.width / 2, env.height / 2])
    taken: list[tuple[np.ndarray, float]] = []
    placed_o: list[Placed] = []
    placed_m: list[Placed] = []
    things = []
    for e in ents:
        reach = e.radius * (1.45 if e.kind == "mark" else 1.25)
        for _ in range(100):
            p = rng.uniform(-(half - reach - 0.02), half - reach - 0.02)  # (2,)
            if all(np.linalg.norm(p - q) >= reach + r + 0.01 for q, r in taken):
                break
        else:
            continue  # table full: leave this one out
        taken.append((p, reach))
        pos = (float(p[0]), float(p[1]))
        if e.kind == "object":
            placed_o.append(Placed(e.name, pos, float(rng.uniform(-np.pi, np.pi))))
        else:
            placed_m.append(Placed(e.name, pos))
        cell = tuple(int(v) for v in np.clip(np.round(p / half * 1.5), -1, 1))
        things.append((e, CELLS[cell]))  # type: ignore[index]
    scene = Scene(env, background, tuple(placed_o), tuple(placed_m), _look(rng), texture_seed)
    order = [t for t in things if t[0].kind == "object"] + [
        t for t in things if t[0].kind == "mark"
    ]
    return WebScene(scene, tuple(order))


def closeup_scene(entry: CatalogueEntry, rng: np.random.Generator, texture_seed: int) -> WebScene:
    """One object or mark photographed from close by on a random table top."""
    floor = _CLOSEUP_FLOORS[int(rng.integers(len(_CLOSEUP_FLOORS)))]
    env = Environment("closeup", 0.3, 0.25, floor, (60, 60, 64), 0.0)
    background = sorted(BACKGROUNDS)[int(rng.integers(len(BACKGROUNDS)))]
    pos = (float(rng.uniform(-0.01, 0.01)), float(rng.uniform(-0.01, 0.01)))
    if entry.kind == "object":
        objs, marks = (Placed(entry.name, pos, float(rng.uniform(-np.pi, np.pi))),), ()
    else:
        objs, marks = (), (Placed(entry.name, pos),)
    scene = Scene(env, background, objs, marks, _look(rng, scale=1.8), texture_seed)
    return WebScene(scene, ((entry, "center"),), closeup=True)


def render(web: WebScene, renderer: Renderer) -> np.ndarray:
    """(S, S, 3) uint8 picture of ``web.scene`` (no robot pusher)."""
    sc = web.scene
    renderer.build(sc)
    if sc.objects:
        pos = np.array([o.pos for o in sc.objects], dtype=np.float64)  # (N, 2)
        ang = np.array([o.angle for o in sc.objects], dtype=np.float64)  # (N,)
    else:
        pos, ang = np.zeros((0, 2)), np.zeros(0)
    return renderer.draw(pos, ang, _HIDDEN)
