"""``rt2/Kitchen-v0``: 3-D MuJoCo kitchen manipulation with RT-2's 8-dim action space.

Observation (the same contract as ``rt2/Tabletop-v0``)::

    {"image": uint8 (H, W, 3) RGB from the front camera, H = W = image_size,
     "instruction": str,
     "state": float32 (8,) = [tcp x, y, z, quat w, x, y, z, gripper opening in [0, 1]]}

Action: ``ActionSpace.preset("rt2")`` = [terminate, dx, dy, dz, droll, dpitch, dyaw, gripper] at
10 Hz: the tool centre point moves by (dx, dy, dz) metres (clipped to +-0.05) and rotates by the
world-frame rotation vector (droll, dpitch, dyaw) (clipped to +-0.25 rad); ``gripper`` is the
finger opening (1 = open, 0 = closed); ``terminate > 0.5`` ends the episode.

``info``: ``success``, ``task_family`` (the skill), ``task_id``, ``suite``, ``split_group``,
``instruction``, ``drawer`` (opening in metres).
"""

from __future__ import annotations

import string
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from rt2.actions import ActionSpace
from rt2.envs.gym_glue import action_box, check_action, check_env_args, observation_space
from rt2.envs.kitchen.render import KitchenRenderer
from rt2.envs.kitchen.spec import KitchenSampler, load_kitchen_suite, load_kitchen_task_file
from rt2.envs.kitchen.tasks import KitchenTask, PoseState, drawer_box, resting_heights
from rt2.envs.kitchen.world import FINGER_MAX, KitchenScene, build_model

KITCHEN_STATE_NAMES = ("tcp_x", "tcp_y", "tcp_z", "quat_w", "quat_x", "quat_y", "quat_z", "gripper")
CONTROL_HZ = 10
WORKSPACE = (np.array([-0.4, -0.32, 0.012]), np.array([0.4, 0.3, 0.35]))
_CHARSET = frozenset(string.printable)


class KitchenEnv(gym.Env[dict[str, Any], np.ndarray]):
    """Manipulate kitchen objects and a drawer as the instruction says (see module docstring).

    Args:
        suite: built-in kitchen suite (``seen``, ``unseen_objects``, ``unseen_backgrounds``,
            ``unseen_environments``); ignored if ``task_file``.
        image_size: observation image side in pixels.
        max_steps: steps before ``truncated=True``.
        terminate_action: accepted for the tabletop's interface; the rt2 space always has it.
        task_file: a user task file in the suite format (YAML/JSON).
        render_size: side of ``render()`` frames.
        group / skill: restrict episodes to one suite group / one skill.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": CONTROL_HZ}  # noqa: RUF012

    def __init__(
        self,
        suite: str = "seen",
        image_size: int = 128,
        max_steps: int = 100,
        terminate_action: bool = True,
        task_file: str | None = None,
        render_size: int = 256,
        render_mode: str | None = "rgb_array",
        group: str | None = None,
        skill: str | None = None,
        substeps: int = 40,
    ) -> None:
        check_env_args(image_size, max_steps, render_mode)
        if not (isinstance(substeps, int) and substeps >= 1):
            raise ValueError(f"substeps: expected a positive int, got {substeps!r}")
        suite_spec = load_kitchen_task_file(task_file) if task_file else load_kitchen_suite(suite)
        self.sampler = KitchenSampler(suite_spec)
        self.suite_name = self.sampler.name
        self.image_size, self.render_size = image_size, render_size
        self.max_steps, self.substeps = max_steps, substeps
        self.render_mode, self.group, self.skill = render_mode, group, skill
        self.terminate_action = True
        self.state_names: tuple[str, ...] = KITCHEN_STATE_NAMES
        self.action_spec = ActionSpace.preset("rt2")
        self.action_space = action_box(self.action_spec)
        self.observation_space = observation_space(image_size, len(KITCHEN_STATE_NAMES), _CHARSET)
        self._renderer: KitchenRenderer | None = None
        self._video: KitchenRenderer | None = None
        self.model: mujoco.MjModel | None = None
        self.data: mujoco.MjData | None = None
        self.scene: KitchenScene | None = None
        self.task: KitchenTask | None = None
        self.split_group = ""
        self.steps = 0
        self._rest: dict[str, float] = {}
        self._start: dict[str, np.ndarray] = {}

    # ---- gym API --------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """New episode; ``options`` may set ``group`` and ``skill`` for this episode."""
        super().reset(seed=seed)
        opts = options or {}
        self.scene, self.task, self.split_group = self.sampler.sample(
            self.np_random, group=opts.get("group", self.group), skill=opts.get("skill", self.skill)
        )
        self.model = build_model(self.scene, max(self.image_size, self.render_size))
        self.data = mujoco.MjData(self.model)
        m, d = self.model, self.data
        self._ids = {
            p.name: mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, f"obj{i}")
            for i, p in enumerate(self.scene.objects)
        }
        self._drawer_q = m.jnt_qposadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, "drawer")]
        d.qpos[self._drawer_q] = self.scene.drawer_open
        d.ctrl[:] = FINGER_MAX
        d.qpos[m.jnt_qposadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, "left_finger")]] = (
            FINGER_MAX
        )
        d.qpos[m.jnt_qposadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, "right_finger")]] = (
            FINGER_MAX
        )
        mujoco.mj_forward(m, d)
        mujoco.mj_step(m, d, nstep=60)  # let objects settle
        self._rest = resting_heights(self.scene)
        self._start = {n: d.xpos[i].copy() for n, i in self._ids.items()}
        if self._renderer is None:
            self._renderer = KitchenRenderer(self.image_size)
        self._renderer.bind(m)
        self._video_bound = False
        self.steps = 0
        return self._obs(), self._info(self._success())

    def step(self, action: np.ndarray) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self.data is None or self.model is None:
            raise RuntimeError("call reset() before step()")
        a = np.clip(
            check_action(self.action_spec, action), self.action_spec.low, self.action_spec.high
        )
        m, d = self.model, self.data
        start = d.mocap_pos[0].copy()
        goal = np.clip(start + a[1:4], *WORKSPACE)
        q0 = d.mocap_quat[0].copy()
        dq = np.zeros(4)
        mujoco.mju_axisAngle2Quat(
            dq, a[4:7] / max(np.linalg.norm(a[4:7]), 1e-12), np.linalg.norm(a[4:7])
        )
        q1 = np.zeros(4)
        mujoco.mju_mulQuat(q1, dq, q0)
        mujoco.mju_normalize4(q1)
        d.ctrl[:] = float(a[7]) * FINGER_MAX
        chunks = 8
        per = max(1, self.substeps // chunks)
        for k in range(1, chunks + 1):
            t = k / chunks
            d.mocap_pos[0] = start + (goal - start) * t
            qt = np.zeros(4)
            _slerp(qt, q0, q1, t)
            d.mocap_quat[0] = qt
            mujoco.mj_step(m, d, nstep=per)
        self.steps += 1
        success = self._success()
        terminated = success or bool(a[0] > 0.5)
        truncated = (not terminated) and self.steps >= self.max_steps
        return self._obs(), float(success), terminated, truncated, self._info(success)

    def render(self) -> np.ndarray:
        """(render_size, render_size, 3) uint8 RGB frame of the current state."""
        if self.data is None or self.model is None:
            raise RuntimeError("call reset() before render()")
        if self._video is None:
            self._video = KitchenRenderer(self.render_size)
        if not self._video_bound:
            self._video.bind(self.model)
            self._video_bound = True
        return self._video.render(self.data)

    def close(self) -> None:
        for r in (self._renderer, self._video):
            if r is not None:
                r.close()
        self._renderer = self._video = None

    # ---- state ----------------------------------------------------------------------------
    def pose_state(self) -> PoseState:
        """Object centres/axes and the drawer, as read by the success checks."""
        d, scene = self.data, self.scene
        assert d is not None and scene is not None
        pos = {n: d.xpos[i].copy() for n, i in self._ids.items()}
        axis = {n: d.xmat[i].reshape(3, 3)[:, 2].copy() for n, i in self._ids.items()}
        opening = float(d.qpos[self._drawer_q])
        box = drawer_box(scene.layout, opening)
        return PoseState(pos, axis, self._rest, opening, box, self._start)

    def tcp(self) -> tuple[np.ndarray, np.ndarray]:
        """Commanded tool centre point position (3,) and quaternion (4,) wxyz."""
        assert self.data is not None
        return self.data.mocap_pos[0].copy(), self.data.mocap_quat[0].copy()

    def gripper_opening(self) -> float:
        """Mean finger joint position / FINGER_MAX, in [0, 1]."""
        assert self.data is not None and self.model is not None
        return float(np.clip(self.data.actuator_length.mean() / FINGER_MAX, 0.0, 1.0))

    def _success(self) -> bool:
        assert self.task is not None
        return self.task.success(self.pose_state())

    def _obs(self) -> dict[str, Any]:
        assert self._renderer is not None and self.task is not None and self.data is not None
        pos, quat = self.tcp()
        state = np.concatenate([pos, quat, [self.gripper_opening()]]).astype(np.float32)
        image = self._renderer.render(self.data)
        return {"image": image, "instruction": self.task.instruction, "state": state}

    def _info(self, success: bool) -> dict[str, Any]:
        t = self.task
        assert t is not None
        return {
            "success": bool(success),
            "task_family": t.skill,
            "task_id": t.task_id,
            "suite": self.suite_name,
            "split_group": self.split_group,
            "instruction": t.instruction,
            "drawer": float(self.data.qpos[self._drawer_q]) if self.data is not None else 0.0,
        }


def _slerp(out: np.ndarray, q0: np.ndarray, q1: np.ndarray, t: float) -> None:
    """Spherical interpolation of unit quaternions into ``out``."""
    dot = float(np.dot(q0, q1))
    if dot < 0:
        q1, dot = -q1, -dot
    if dot > 0.9995:
        out[:] = q0 + t * (q1 - q0)
    else:
        th = np.arccos(dot)
        out[:] = (np.sin((1 - t) * th) * q0 + np.sin(t * th) * q1) / np.sin(th)
    out /= np.linalg.norm(out)
