"""Scripted pushing expert that reads the true state of ``rt2/Tabletop-v0``.

Strategy: pick the point the mover must reach; go behind the mover (w.r.t. that point), walking
around it on the side free of other objects; then push along the line through its centre,
re-aligning every step. Gaussian action noise (``noise`` x max delta) diversifies demonstrations;
``detour`` starts that share of episodes by heading for another object first (the states a
policy reaches when it misreads the instruction), while labels stay the expert's.

>>> expert = TabletopExpert(noise=0.0, seed=0)
>>> expert.reset()
>>> action = expert.act(env)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rt2.envs.tabletop.catalogue import get_object
from rt2.envs.tabletop.physics import EFFECTOR_RADIUS
from rt2.envs.tabletop.scene import Task

MAX_DELTA = 0.05
APPROACH_SPEED = 0.045
PUSH_SPEED = 0.03
BEHIND_GAP = 0.02  # free space between pusher and mover before pushing
BEHIND_COS = np.cos(np.deg2rad(25))
ARC_STEP = np.deg2rad(45)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else np.array([1.0, 0.0])


def _wrap(a: float) -> float:
    return float((a + np.pi) % (2 * np.pi) - np.pi)


class TabletopExpert:
    """Closed-loop pushing policy. ``act(env)`` returns an action for ``env.action_space``.

    After each ``act`` it also exposes ``clean_action`` (the noise-free action) and ``plan_state``:
    where the effector, the mover and the mover's push target are, in table half-extents
    (``[-1, 1]`` on each axis, named by ``plan_names``); the grounded plan a policy can be taught to
    write before acting (ECoT, Zawalski et al. 2024).
    """

    plan_names = ("effector_x", "effector_y", "mover_x", "mover_y", "target_x", "target_y")

    def __init__(
        self,
        noise: float = 0.0,
        seed: int | None = None,
        detour: float = 0.0,
        detour_steps: int = 10,
    ) -> None:
        for name, v in (("noise", noise), ("detour", detour)):
            if not (isinstance(v, int | float) and 0 <= v <= 1):
                raise ValueError(f"{name}: expected a number in [0, 1], got {v!r}")
        if detour_steps < 1:
            raise ValueError(f"detour_steps: expected >= 1, got {detour_steps}")
        self.noise, self.detour, self.detour_steps = float(noise), float(detour), detour_steps
        self.rng = np.random.default_rng(seed)
        self._task: Task | None = None
        self._fixed_target: np.ndarray | None = None
        self._decoy: str | None = None  # the object a detour heads for first
        self._detour_left = 0

    def reset(self) -> None:
        """Forget the previous episode's plan."""
        self._task = None
        self._fixed_target = None
        self._decoy, self._detour_left = None, 0

    # ---- policy ---------------------------------------------------------------------------
    def act(self, env: Any) -> np.ndarray:
        """Action for the current state of ``env`` (any wrapper around a TabletopEnv)."""
        u = env.unwrapped
        if u.task is not self._task:  # new episode: plan once
            self._task = u.task
            self._fixed_target = self._plan_far(u) if u.task.goal.kind == "far" else None
            if self.detour > 0:  # drawn only when asked: detour=0 keeps old datasets' streams
                self._start_detour(u)
        clean = np.clip(self._delta(u), -MAX_DELTA, MAX_DELTA)
        delta = self._detour_delta(u) if self._detour_left > 0 else clean
        if self.noise > 0:
            delta = delta + self.rng.normal(0.0, self.noise * MAX_DELTA, size=2)
        delta = np.clip(delta, -MAX_DELTA, MAX_DELTA)
        # the noise-free action for the state reached, a corrective label (DART, Laskey et al. 2017)
        self.clean_action = self._format(u, clean)
        pos = u.positions()
        plan = np.concatenate([u.world.effector_pos(), pos[u.task.mover], self._target(u, pos)])
        self.plan_state = (plan.reshape(3, 2) / u.world.half).reshape(-1).astype(np.float32)
        return self._format(u, delta)

    def _start_detour(self, u: Any) -> None:
        others = [n for n in u.world.names if n != u.task.mover]
        if others and self.rng.random() < self.detour:
            self._decoy = others[int(self.rng.integers(len(others)))]
            self._detour_left = int(self.rng.integers(1, self.detour_steps + 1))

    def _detour_delta(self, u: Any) -> np.ndarray:
        """Head for the decoy object (stop on reaching it or after the drawn number of steps)."""
        assert self._decoy is not None
        self._detour_left -= 1
        to = u.positions()[self._decoy] - u.world.effector_pos()
        reach = get_object(self._decoy).radius + EFFECTOR_RADIUS + 0.01
        if float(np.linalg.norm(to)) <= reach:
            self._detour_left = 0
        return self._limit(to, APPROACH_SPEED)

    @staticmethod
    def _format(u: Any, delta: np.ndarray) -> np.ndarray:
        if u.terminate_action:
            return np.array([0.0, delta[0], delta[1]], dtype=np.float32)
        return delta.astype(np.float32)

    def _target(self, u: Any, pos: dict[str, np.ndarray]) -> np.ndarray:
        task: Task = u.task
        g = task.goal
        if self._fixed_target is not None:
            return self._fixed_target
        if g.ref is not None and g.ref in u.world.index and g.offset == (0.0, 0.0):
            # near another object: aim at the contact point on the mover's side
            o, q = pos[task.mover], pos[g.ref]
            reach = get_object(task.mover).radius + get_object(g.ref).radius + 0.006
            return q + _unit(o - q) * min(reach, 0.6 * g.radius)
        return g.goal_point(pos)

    def _delta(self, u: Any) -> np.ndarray:
        pos = u.positions()
        task: Task = u.task
        o = pos[task.mover]
        e = u.world.effector_pos()
        t = self._target(u, pos)
        to_goal = t - o
        dist = float(np.linalg.norm(to_goal))
        if dist < 0.004:
            return np.zeros(2)
        d = to_goal / dist
        rm = get_object(task.mover).radius
        contact = rm + EFFECTOR_RADIUS
        rel = e - o
        rel_n = float(np.linalg.norm(rel))
        behind = (
            rel_n > 1e-9
            and float(np.dot(rel / rel_n, -d)) >= BEHIND_COS
            and rel_n <= contact + BEHIND_GAP + 0.02
        )
        if behind:
            step = min(PUSH_SPEED, dist)
            desired = o - d * contact + d * step
            return self._limit(desired - e, PUSH_SPEED + 0.01)
        pre = o - d * (contact + BEHIND_GAP)
        clear = contact + 0.012
        if self._seg_dist(o, e, pre) >= clear:
            return self._limit(pre - e, APPROACH_SPEED)
        return self._limit(self._around(u, pos, o, e, d, contact + 0.03) - e, APPROACH_SPEED)

    def _around(
        self,
        u: Any,
        pos: dict[str, np.ndarray],
        o: np.ndarray,
        e: np.ndarray,
        d: np.ndarray,
        radius: float,
    ) -> np.ndarray:
        """Next waypoint on a circle around the mover toward the behind side, avoiding others."""
        th_e = float(np.arctan2(*(e - o)[::-1]))
        th_p = float(np.arctan2(-d[1], -d[0]))
        short = _wrap(th_p - th_e)
        others = [
            (pos[n], r)
            for n, r in zip(u.world.names, u.world.radii, strict=True)
            if n != u.task.mover
        ]
        lo, hi = u.world.lo, u.world.hi
        best, best_cost = None, np.inf
        for span in (short, short - np.sign(short) * 2 * np.pi):
            ts = th_e + np.linspace(0, span, 12)
            pts = o + radius * np.stack([np.cos(ts), np.sin(ts)], axis=1)  # (12, 2)
            blocked = any(
                np.min(np.linalg.norm(pts - q, axis=1)) < rq + EFFECTOR_RADIUS + 0.003
                for q, rq in others
            )
            outside = bool(np.any(pts < lo - 0.01) or np.any(pts > hi + 0.01))
            cost = abs(span) + (10.0 if blocked else 0.0) + (5.0 if outside else 0.0)
            if cost < best_cost:
                best_cost, best = cost, span
        assert best is not None
        th = th_e + float(np.clip(best, -ARC_STEP, ARC_STEP))
        r_now = float(np.linalg.norm(e - o))
        r = radius if r_now < radius else max(radius, r_now - 0.02)
        return o + r * np.array([np.cos(th), np.sin(th)])

    def _plan_far(self, u: Any) -> np.ndarray:
        """A fixed point to push the mover to so it ends ``radius`` (+margin) from its reference."""
        task: Task = u.task
        pos = u.positions()
        o, q = pos[task.mover], task.goal.goal_point(pos)
        want = task.goal.radius + 0.03
        rm = get_object(task.mover).radius
        half = u.world.half
        others = [
            (pos[n], r)
            for n, r in zip(u.world.names, u.world.radii, strict=True)
            if n != task.mover
        ]
        w = o - q
        best, best_cost = None, np.inf
        for ang in np.linspace(0, 2 * np.pi, 36, endpoint=False):
            v = np.array([np.cos(ang), np.sin(ang)])
            wv = float(np.dot(w, v))
            disc = wv * wv - float(np.dot(w, w)) + want * want
            length = -wv + np.sqrt(max(disc, 0.0))
            t = o + v * max(length, 0.0)
            if np.any(np.abs(t) > half - rm - 0.02):
                continue
            pre = o - v * (rm + EFFECTOR_RADIUS + BEHIND_GAP)
            if np.any(np.abs(pre) > half - EFFECTOR_RADIUS - 0.006):
                continue
            if any(np.linalg.norm(pre - p) < r + EFFECTOR_RADIUS + 0.004 for p, r in others):
                continue
            block = sum(self._seg_dist(p, o, t) < r + rm + 0.005 for p, r in others)
            cost = length + 0.2 * block
            if cost < best_cost:
                best, best_cost = t, cost
        if best is None:  # nothing feasible: push straight away from the reference
            best = np.clip(q + _unit(w) * want, -(half - rm - 0.02), half - rm - 0.02)
        return best

    @staticmethod
    def _seg_dist(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        ab = b - a
        t = float(np.clip(np.dot(p - a, ab) / max(float(np.dot(ab, ab)), 1e-12), 0.0, 1.0))
        return float(np.linalg.norm(p - (a + t * ab)))

    @staticmethod
    def _limit(v: np.ndarray, n: float) -> np.ndarray:
        norm = float(np.linalg.norm(v))
        return v * (n / norm) if norm > n else v


class _Swapped:
    """A view of an env whose ``task`` is another one (what the blind expert believes)."""

    def __init__(self, env: Any, task: Task) -> None:
        self._env, self.task = env, task

    @property
    def unwrapped(self) -> _Swapped:
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


class BlindTabletopExpert(TabletopExpert):
    """The scripted expert without the instruction's concepts: at the start of each episode it
    draws one (mover, target) pair uniformly among the episode's candidate pairs (every object,
    each with the targets of the instruction's role valid for it: :mod:`rt2.envs.tabletop.referents`),
    then pushes that mover to that target as the expert would. Its success is what perfect motor
    skill earns with no understanding; its referent accuracy is chance.

    ``last_pair`` is the (mover, target name) it drew for the current episode."""

    def __init__(self, noise: float = 0.0, seed: int | None = None) -> None:
        super().__init__(noise, seed)
        # its own stream: default_rng(seed) is the stream the env's reset(seed=seed) lays out
        # the episode with, and drawing from it again would tie the pick to the layout
        self._pick_rng = np.random.default_rng(None if seed is None else [int(seed), 0xB11D])
        self._episode_task: Task | None = None
        self._believed: Task | None = None
        self.last_pair: tuple[str, str] | None = None

    def reset(self) -> None:
        super().reset()
        self._episode_task = None
        self._believed = None
        self.last_pair = None

    def act(self, env: Any) -> np.ndarray:
        u = env.unwrapped
        if u.task is not self._episode_task:
            self._episode_task = u.task
            self._believed = self._draw(u)
        assert self._believed is not None
        return super().act(_Swapped(u, self._believed))

    def _draw(self, u: Any) -> Task:
        tracker = getattr(u, "referents", None)
        if tracker is None:
            raise ValueError(
                f"the blind expert needs a task with candidate targets; task {u.task.task_id!r} "
                "has none (a suite task or a task file, on rt2/Tabletop-v0)"
            )
        mover, target = tracker.pairs[int(self._pick_rng.integers(len(tracker.pairs)))]
        self.last_pair = (mover, target.name)
        goal = target.goal_for(tracker.start[mover])
        return Task(u.task.family, u.task.instruction, mover, goal, u.task.task_id)
