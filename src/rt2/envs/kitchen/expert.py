"""Scripted kitchen expert: per-skill waypoints for the mocap gripper, read from true poses.

Each skill is a list of phases ``(position, quaternion, gripper, hold_steps)``, planned at the
first step of an episode from the object poses; the expert moves the tool centre point towards
the current phase (at most 0.05 m and 0.25 rad per step) and advances when it is reached and held.
When the plan is done and the task is still not solved it sends ``terminate``.

>>> expert = KitchenExpert(noise=0.0, seed=0)
>>> action = expert.act(env)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from rt2.envs.kitchen.world import (
    DRAWER_FLOOR,
    DRAWER_TRAVEL,
    HANDLE_GAP,
    HANDLE_Z,
    get_kitchen_object,
)

MAX_T, MAX_R = 0.05, 0.25
OPEN, CLOSED = 1.0, 0.0


@dataclass(frozen=True)
class Phase:
    """Go to ``pos``/``quat`` with the gripper at ``grip``; then hold ``hold`` steps."""

    pos: np.ndarray
    quat: np.ndarray
    grip: float
    hold: int = 0
    speed: float = MAX_T


def yaw_quat(yaw: float) -> np.ndarray:
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


def _wrap_half(a: float) -> float:
    """Wrap an angle to [-pi/2, pi/2) (the gripper is symmetric under a half turn)."""
    return float((a + np.pi / 2) % np.pi - np.pi / 2)


def _rotvec(q_to: np.ndarray, q_from: np.ndarray) -> np.ndarray:
    """World-frame rotation vector taking ``q_from`` to ``q_to``."""
    inv, dq, v = np.zeros(4), np.zeros(4), np.zeros(3)
    mujoco.mju_negQuat(inv, q_from)
    mujoco.mju_mulQuat(dq, q_to, inv)
    mujoco.mju_quat2Vel(v, dq, 1.0)
    return v


class KitchenExpert:
    """Closed-loop waypoint policy for ``rt2/Kitchen-v0``; ``act(env)`` returns an (8,) action."""

    def __init__(self, noise: float = 0.0, seed: int | None = None) -> None:
        if not (isinstance(noise, int | float) and 0 <= noise <= 1):
            raise ValueError(f"noise: expected a number in [0, 1], got {noise!r}")
        self.noise = float(noise)
        self.rng = np.random.default_rng(seed)
        self.clean_action = np.zeros(8, dtype=np.float32)
        self.reset()

    def reset(self) -> None:
        """Forget the previous episode's plan."""
        self._task: Any = None
        self._plan: list[Phase] = []
        self._i = 0
        self._held = 0

    def act(self, env: Any) -> np.ndarray:
        """Action for the current state of ``env`` (any wrapper around a KitchenEnv)."""
        u = env.unwrapped
        if u.task is not self._task:
            self.reset()
            self._task = u.task
            self._plan = self._make_plan(u)
        pos, quat = u.tcp()
        if self._i >= len(self._plan):
            clean = np.zeros(8)
            clean[0] = 1.0
            clean[7] = OPEN
            self.clean_action = clean.astype(np.float32)
            return self.clean_action.copy()
        ph = self._plan[self._i]
        dp = ph.pos - pos
        dr = _rotvec(ph.quat, quat)
        if np.linalg.norm(dp) < 2e-3 and np.linalg.norm(dr) < 0.02:
            self._held += 1
            if self._held > ph.hold:
                self._i, self._held = self._i + 1, 0
        clean = np.zeros(8)
        clean[1:4] = dp * min(1.0, ph.speed / max(np.abs(dp).max(), 1e-9))
        clean[4:7] = dr * min(1.0, MAX_R / max(np.abs(dr).max(), 1e-9))
        clean[7] = ph.grip
        self.clean_action = clean.astype(np.float32)
        action = clean.copy()
        if self.noise > 0:
            action[1:4] += self.rng.normal(0.0, self.noise * MAX_T, 3)
            action[4:7] += self.rng.normal(0.0, self.noise * MAX_R, 3)
            action[1:4] = np.clip(action[1:4], -MAX_T, MAX_T)
            action[4:7] = np.clip(action[4:7], -MAX_R, MAX_R)
        return action.astype(np.float32)

    # ---- planning -------------------------------------------------------------------------
    def _make_plan(self, u: Any) -> list[Phase]:
        task = u.task
        st = u.pose_state()
        pos0, q0 = u.tcp()
        handle = self._handle(u)
        plan = getattr(self, f"_plan_{task.skill}")(u, st, handle)
        del pos0, q0
        return plan

    @staticmethod
    def _handle(u: Any) -> np.ndarray:
        gid = mujoco.mj_name2id(u.model, mujoco.mjtObj.mjOBJ_GEOM, "handle")
        return u.data.geom_xpos[gid].copy()

    @staticmethod
    def _grasp(u: Any, name: str) -> tuple[np.ndarray, float, float]:
        """Grasp point (3,), gripper yaw and the object's half height (as it lies now)."""
        d = u.data
        bid = u._ids[name]
        obj = get_kitchen_object(name)
        centre = d.xpos[bid].copy()
        mat = d.xmat[bid].reshape(3, 3)
        if obj.shape == "cylinder" and abs(mat[2, 2]) < 0.7:  # lying: close across the axis
            ax = mat[:, 2]
            yaw = np.arctan2(ax[1], ax[0]) + np.pi / 2
            hh = obj.size[0]
        elif obj.shape in ("box", "capsule", "ellipsoid"):
            xa = mat[:, 0]
            yaw = np.arctan2(xa[1], xa[0])
            if obj.shape == "capsule" or (obj.shape == "ellipsoid" and obj.size[1] < obj.size[0]):
                yaw += np.pi / 2
            hh = obj.half_height
        else:
            yaw, hh = 0.0, obj.half_height
        grasp = centre.copy()
        grasp[2] = max(centre[2], 0.02)
        return grasp, _wrap_half(float(yaw)), hh

    def _pick_phases(self, u: Any, name: str, lift: float = 0.18) -> list[Phase]:
        g, yaw, hh = self._grasp(u, name)
        q = yaw_quat(yaw)
        above = g + np.array([0.0, 0.0, hh + 0.06])
        return [
            Phase(above, q, OPEN),
            Phase(g, q, OPEN, speed=0.04),
            Phase(g, q, CLOSED, hold=4),
            Phase(np.array([g[0], g[1], lift]), q, CLOSED, speed=0.04),
        ]

    def _plan_pick(self, u: Any, st: Any, handle: np.ndarray) -> list[Phase]:
        return self._pick_phases(u, u.task.target)

    def _plan_move_near(self, u: Any, st: Any, handle: np.ndarray) -> list[Phase]:
        x, y = u.task.target, u.task.reference
        px, py = st.pos[x][:2], st.pos[y][:2]
        v = px - py
        v = v / max(np.linalg.norm(v), 1e-9)
        gap = get_kitchen_object(x).radius + get_kitchen_object(y).radius + 0.02
        dest = py + v * gap
        phases = self._pick_phases(u, x)
        g, q = phases[1].pos, phases[1].quat
        return [
            *phases,
            Phase(np.array([dest[0], dest[1], 0.18]), q, CLOSED),
            Phase(np.array([dest[0], dest[1], g[2] + 0.006]), q, CLOSED, speed=0.03),
            Phase(np.array([dest[0], dest[1], g[2] + 0.006]), q, OPEN, hold=4),
            Phase(np.array([dest[0], dest[1], 0.2]), q, OPEN),
        ]

    def _plan_knock_over(self, u: Any, st: Any, handle: np.ndarray) -> list[Phase]:
        name = u.task.target
        obj = get_kitchen_object(name)
        c = st.pos[name]
        others = [(p[:2], get_kitchen_object(n).radius) for n, p in st.pos.items() if n != name]
        tx, ty = u.scene.layout.table
        fall = 2 * obj.half_height + obj.radius  # how far the toppled body reaches
        best, d_best = -1.0, np.array([1.0, 0.0])
        for k in range(16):
            a = 2 * np.pi * k / 16
            d = np.array([np.cos(a), np.sin(a)])
            end, start = c[:2] + d * 0.2, c[:2] - d * (obj.radius + 0.06)
            score = min(tx - abs(end[0]), ty - abs(end[1]), tx - abs(start[0]), ty - abs(start[1]))
            for o, r in others:
                along = float(np.clip(np.dot(o - c[:2], d), 0.0, fall))  # the fall's swept path
                swept = np.linalg.norm(o - c[:2] - d * along) - r - obj.radius - 0.02
                score = min(score, swept, np.linalg.norm(o - start) - r - 0.04)
            if end[1] > u.scene.layout.cabinet_front - 0.05:
                score -= 0.2
            if score > best:
                best, d_best = score, d
        d = d_best
        h = 1.5 * obj.half_height
        start = np.array([*(c[:2] - d * (obj.radius + 0.04)), h])
        end = np.array([*(c[:2] + d * 0.12), h])
        q = yaw_quat(_wrap_half(float(np.arctan2(d[1], d[0]))))
        return [
            Phase(start + np.array([0.0, 0.0, obj.half_height + 0.08]), q, CLOSED),
            Phase(start, q, CLOSED),
            Phase(end, q, CLOSED, speed=0.04),
            Phase(end + np.array([0.0, 0.0, 0.1]), q, CLOSED),
        ]

    def _plan_place_upright(self, u: Any, st: Any, handle: np.ndarray) -> list[Phase]:
        name = u.task.target
        obj = get_kitchen_object(name)
        phases = self._pick_phases(u, name, lift=obj.half_height + 0.1)
        g, q = phases[1].pos, phases[1].quat
        yaw = 2 * np.arctan2(q[3], q[0])
        axis = np.array([np.cos(yaw), np.sin(yaw), 0.0])
        rot, upright = np.zeros(4), np.zeros(4)
        mujoco.mju_axisAngle2Quat(rot, axis, np.pi / 2)
        mujoco.mju_mulQuat(upright, rot, q)
        top = np.array([g[0], g[1], obj.half_height + 0.1])
        down = np.array([g[0], g[1], obj.half_height + 0.006])
        return [
            *phases,
            Phase(top, upright, CLOSED, hold=2),
            Phase(down, upright, CLOSED, speed=0.03),
            Phase(down, upright, OPEN, hold=4),
            Phase(down + np.array([0.0, 0.0, 0.12]), upright, OPEN),
        ]

    def _plan_open_drawer(self, u: Any, st: Any, handle: np.ndarray) -> list[Phase]:
        hook = np.array([handle[0], handle[1] + 0.005 + HANDLE_GAP / 2, HANDLE_Z])
        q = yaw_quat(0.0)
        pulled = hook - [0, DRAWER_TRAVEL + 0.005 - st.drawer, 0]
        return [
            Phase(hook + np.array([0.0, 0.0, 0.09]), q, CLOSED),
            Phase(hook, q, CLOSED, speed=0.03),
            Phase(pulled, q, CLOSED, speed=0.03),
            Phase(pulled + np.array([0.0, 0.0, 0.1]), q, CLOSED),
        ]

    def _plan_close_drawer(self, u: Any, st: Any, handle: np.ndarray) -> list[Phase]:
        q = yaw_quat(0.0)
        behind = np.array([handle[0], handle[1] - 0.005 - 0.012 - 0.03, HANDLE_Z])
        pushed = np.array([handle[0], handle[1] + st.drawer - 0.005 - 0.012 - 0.004, HANDLE_Z])
        return [
            Phase(behind + np.array([0.0, 0.0, 0.1]), q, CLOSED),
            Phase(behind, q, CLOSED, speed=0.03),
            Phase(pushed, q, CLOSED, speed=0.03),
            Phase(pushed - [0, 0.05, 0], q, CLOSED),
        ]

    def _plan_put_in_drawer(self, u: Any, st: Any, handle: np.ndarray) -> list[Phase]:
        name = u.task.target
        phases = self._pick_phases(u, name, lift=0.22)
        g = phases[1].pos
        lo, _ = st.drawer_box
        front = u.scene.layout.cabinet_front
        x, y = u.scene.layout.cabinet_x, (lo[1] + front) / 2
        q = yaw_quat(0.0)
        low = np.array([x, y, DRAWER_FLOOR + g[2] + 0.012])
        return [
            *phases,
            Phase(np.array([x, y, 0.22]), q, CLOSED),
            Phase(low, q, CLOSED, speed=0.03),
            Phase(low, q, 0.75, hold=4),
            Phase(low + np.array([0.0, 0.0, 0.12]), q, 0.75),
        ]
