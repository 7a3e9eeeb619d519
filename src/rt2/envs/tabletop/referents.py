"""Referents: which object a policy moved, and which candidate target it took that object to.

Success mixes understanding with motor skill. Referent accuracy separates them: from the
simulator's state, an episode records

- the **mover referent**: the object the policy moved: among the objects whose path (the sum of
  their per-step displacements) reached :data:`MIN_TRAVEL`, the one displaced most *toward one
  of its candidate targets* (start distance minus end distance, best target). Objects nudged or
  bulldozed on the way (brushed by the pusher on its approach, bumped by the pushed object)
  can travel far, even farther than the pushed one, but they travel without approaching a
  target; path length alone named the wrong object in ~3% of the scripted expert's seen
  episodes, this rule in none of 200. Nothing travelled ``MIN_TRAVEL``: no mover (``""``).
- the **target referent**: among the task's candidate targets (objects, marks, table regions,
  spots beside objects, directions: every candidate of the role the instruction names), the one
  the moved object ends closest to (where it ends within the goal radius of several, as in a
  crowded "move A near B", the one of those it approached most); for a ``far`` goal ("separate A and B"), the one it was
  closest to at the start among those it ended farther from (what it was moved away from). "Separate A and B"
  names a pair and succeeds whichever of the two moves, so either counts as the mover and the
  other as the target.

Chance levels come from the episode's candidate (mover, target) pairs: every object on the
table may be the mover; a target is valid for a mover unless it is the mover itself (object
targets, spots beside it) or lies off the table (spots and directions); for "separate", only
objects that start within the separation distance of the mover are targets. Chance is the share of
the pairs a uniform pick gets right: 1 / #objects for the mover, 1 / #targets for independent
roles (marks, regions), 1 / #pairs for both. When mover and target are drawn from the same
objects ("push A to B") the target chance is 1 / #objects, not 1 / (#objects - 1): a uniformly
picked mover is the target itself 1 time in #objects. The concept-blind expert
(:class:`~rt2.envs.tabletop.expert.BlindTabletopExpert`) picks one of these pairs uniformly, so its
referent accuracy equals chance in expectation and its success is the ceiling of luck.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rt2.envs.tabletop.scene import Goal, Task

MIN_TRAVEL = 0.01  # metres of path: less is a nudge, not a move
SPOT_INSET = 0.075  # a spot (beside an object, or a direction away) must be this far inside


@dataclass(frozen=True)
class Target:
    """A candidate target of a task: ``name`` (as reports show it) and the goal it stands for.

    ``from_start``: ``goal.point`` is an offset from the *moved* object's start ("move it
    left"), so the spot depends on which object the policy moved."""

    name: str
    goal: Goal
    from_start: bool = False

    def goal_for(self, mover_start: np.ndarray) -> Goal:
        """The goal this target means for an object that started at ``mover_start`` (2,)."""
        if not self.from_start:
            return self.goal
        p = np.asarray(mover_start, dtype=np.float64) + np.asarray(self.goal.point)
        return replace(self.goal, point=(float(p[0]), float(p[1])))

    def valid_for(self, mover: str, start: dict[str, np.ndarray], half: np.ndarray) -> bool:
        """Whether ``mover`` can be taken to this target: not itself, not off the table; for a
        ``far`` goal, only what starts within its radius (nothing else needs separating)."""
        if self.goal.ref == mover:
            return False
        if self.goal.kind == "far":
            return not self.goal.reached(start[mover], start)
        if self.from_start or self.goal.offset != (0.0, 0.0):
            spot = self.goal_for(start[mover]).goal_point(start)
            return bool(np.all(np.abs(spot) <= np.asarray(half) - SPOT_INSET))
        return True


def candidate_pairs(
    task: Task, objects: Sequence[str], start: dict[str, np.ndarray], half: np.ndarray
) -> list[tuple[str, Target]]:
    """Every (mover, target) pair of the episode: each object on the table with each target
    valid for it (see :meth:`Target.valid_for`)."""
    return [(m, t) for m in objects for t in task.targets if t.valid_for(m, start, half)]


def correct(task: Task, mover: str, target: str) -> tuple[bool, bool]:
    """Whether ``mover`` and ``target`` are the ones the instruction means. A ``far`` goal
    ("separate A and B") names a pair and succeeds whichever of the two moves: either is the
    right mover, and the other the right target."""
    if task.goal.kind == "far":
        pair = {task.mover, task.target}
        return mover in pair, target in pair and target != mover
    return mover == task.mover, bool(target) and target == task.target


def chances(task: Task, pairs: Sequence[tuple[str, Target]]) -> tuple[float, float, float]:
    """(mover, target, both) chance: the share of ``pairs`` a uniform pick gets right."""
    if not pairs:
        raise ValueError(f"task {task.task_id!r}: no candidate (mover, target) pairs")
    hits = [correct(task, m, t.name) for m, t in pairs]
    n = len(pairs)
    return (
        sum(m for m, _ in hits) / n,
        sum(t for _, t in hits) / n,
        sum(m and t for m, t in hits) / n,
    )


class ReferentTracker:
    """Follows one episode: every object's path length, then the referents at any step.

    ``result(positions)`` is the ``info["referent"]`` dict of ``rt2/Tabletop-v0``: ``mover``
    and ``target`` (names, ``""`` when nothing moved), ``mover_correct``, ``target_correct``,
    ``mover_chance``, ``target_chance``, ``both_chance``, ``moved_distance`` (metres of path of
    the moved object) and ``candidates`` (number of (mover, target) pairs)."""

    def __init__(
        self, task: Task, objects: Sequence[str], positions: dict[str, np.ndarray], half: Any
    ) -> None:
        if not task.targets or not task.target:
            raise ValueError(f"task {task.task_id!r} lists no candidate targets")
        if task.target not in {t.name for t in task.targets}:
            raise ValueError(
                f"task {task.task_id!r}: target {task.target!r} is not among its candidates "
                f"{[t.name for t in task.targets]}"
            )
        self.task = task
        self.objects = tuple(objects)
        self.start = {n: np.array(p, dtype=np.float64) for n, p in positions.items()}
        self._last = {n: self.start[n].copy() for n in self.objects}
        self.travel = dict.fromkeys(self.objects, 0.0)
        self.pairs = candidate_pairs(task, self.objects, self.start, np.asarray(half))
        self.chance = chances(task, self.pairs)

    def update(self, positions: dict[str, np.ndarray]) -> None:
        """Add this step's displacement to every object's path."""
        for n in self.objects:
            p = np.asarray(positions[n], dtype=np.float64)
            self.travel[n] += float(np.linalg.norm(p - self._last[n]))
            self._last[n] = p.copy()

    def _gap(self, mover: str, t: Target, pos: dict[str, np.ndarray], at: np.ndarray) -> float:
        return float(np.linalg.norm(at - t.goal_for(self.start[mover]).goal_point(pos)))

    def progress(self, mover: str, t: Target, positions: dict[str, np.ndarray]) -> float:
        """Metres ``mover`` came closer to ``t`` since the start (``far`` goals: went away)."""
        before = self._gap(mover, t, self.start, self.start[mover])
        after = self._gap(mover, t, positions, np.asarray(positions[mover], dtype=np.float64))
        return after - before if self.task.goal.kind == "far" else before - after

    def moved(self, positions: dict[str, np.ndarray]) -> str:
        """The object displaced most toward one of its candidate targets, among those that
        travelled ``MIN_TRAVEL`` or more (``""`` if none did)."""
        moving = [n for n in self.objects if self.travel[n] >= MIN_TRAVEL]
        if not moving:
            return ""

        def best(n: str) -> tuple[float, float]:
            gains = [self.progress(n, t, positions) for m, t in self.pairs if m == n]
            return (max(gains, default=-np.inf), self.travel[n])

        return max(moving, key=best)

    def target_of(self, mover: str, positions: dict[str, np.ndarray]) -> str:
        """The candidate target ``mover`` is at: the closest (``near`` goals; where it is within
        the goal radius of several, the one of those it approached most), or for ``far``
        goals the one it was closest to at the start among those it ended farther from (what
        it was separated from); ``""`` for none."""
        options = [t for m, t in self.pairs if m == mover]
        if not mover or not options:
            return ""
        if self.task.goal.kind == "far":  # what it was next to and ended farther from
            away = [t for t in options if self.progress(mover, t, positions) > 0]
            start = self.start[mover]
            near = min(away, key=lambda t: self._gap(mover, t, self.start, start), default=None)
            return near.name if near is not None else ""
        at = np.asarray(positions[mover], dtype=np.float64)
        start = self.start[mover]
        reached = [t for t in options if t.goal_for(start).reached(at, positions)]
        if len(reached) > 1:  # at several: the one it headed for is the one it approached most
            return max(reached, key=lambda t: self.progress(mover, t, positions)).name
        return min(options, key=lambda t: self._gap(mover, t, positions, at)).name

    def result(self, positions: dict[str, np.ndarray]) -> dict[str, Any]:
        mover = self.moved(positions)
        target = self.target_of(mover, positions)
        mc, tc, bc = self.chance
        mover_ok, target_ok = correct(self.task, mover, target)
        return {
            "mover": mover,
            "target": target,
            "mover_correct": mover_ok,
            "target_correct": target_ok,
            "mover_chance": mc,
            "target_chance": tc,
            "both_chance": bc,
            "moved_distance": self.travel[mover] if mover else 0.0,
            "candidates": len(self.pairs),
        }
