"""``rt2/Tabletop-v0``: a Language-Table-style top-down pushing world (Gymnasium env).

Observation (the contract other modules rely on)::

    {"image": uint8 (H, W, 3) RGB top-down view, H = W = image_size,
     "instruction": str,
     "state": float32 (4,) = [effector x, effector y, effector target x, effector target y]}

Positions are metres in the table frame (origin at the table centre, x right, y up). Actions are
the ``language_table`` action space: (dx, dy) metres per 10 Hz step, clipped to +-0.05, with a
leading terminate flag (>0.5 ends the episode) if ``terminate_action=True``.

``info`` from reset/step: ``success``, ``task_family``, ``task_id``, ``suite``, ``split_group``,
``concept``, ``language``, ``instruction``, ``goal_distance`` (metres from the mover to its goal),
and ``referent`` (which object was moved, to which candidate target, and the chance of each: see
:mod:`rt2.envs.tabletop.referents`) when the task lists its candidate targets.
"""

from __future__ import annotations

import string
from typing import Any

import gymnasium as gym
import numpy as np

from rt2.actions import ActionSpace
from rt2.envs.gym_glue import action_box, check_action, check_env_args, observation_space
from rt2.envs.tabletop.physics import PushWorld
from rt2.envs.tabletop.referents import ReferentTracker
from rt2.envs.tabletop.render import Renderer
from rt2.envs.tabletop.scene import Scene, Task
from rt2.envs.tabletop.suites import SuiteSampler, load_suite

STATE_DIM = 4
STATE_NAMES = ("effector_x", "effector_y", "effector_target_x", "effector_target_y")
_CHARSET = frozenset(string.printable + "".join(chr(c) for c in range(0xC0, 0x180)))


class TabletopEnv(gym.Env[dict[str, Any], np.ndarray]):
    """Push objects on a table as the instruction says. See the module docstring for the API.

    Args:
        suite: built-in suite name (see ``rt2.envs.list_suites()``); ignored if ``task_file``.
        image_size: observation image side in pixels.
        max_steps: steps before ``truncated=True``.
        terminate_action: prepend a terminate flag to the action.
        task_file: YAML/JSON user task file (see :func:`rt2.envs.load_task_file`).
        render_size: side of the frames returned by ``render()`` (for videos).
        group: restrict episodes to one group of the suite (e.g. ``"hard"``).
        family: restrict episodes to one task family.
        substeps: physics substeps per control step.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}  # noqa: RUF012

    def __init__(
        self,
        suite: str = "seen",
        image_size: int = 128,
        max_steps: int = 80,
        terminate_action: bool = False,
        task_file: str | None = None,
        render_size: int = 256,
        render_mode: str | None = "rgb_array",
        group: str | None = None,
        family: str | None = None,
        substeps: int = 5,
    ) -> None:
        check_env_args(image_size, max_steps, render_mode, render_size)
        if task_file is not None:
            from rt2.envs.tabletop.task_file import TaskFileSampler, load_task_file

            self.sampler: Any = TaskFileSampler(load_task_file(task_file))
        else:
            self.sampler = SuiteSampler(load_suite(suite))
        self.suite_name: str = self.sampler.name
        self.image_size, self.render_size = image_size, render_size
        self.max_steps, self.substeps = max_steps, substeps
        self.render_mode = render_mode
        self.group, self.family = group, family
        self.terminate_action = terminate_action
        self.state_names: tuple[str, ...] = STATE_NAMES
        self.action_spec = ActionSpace.preset("language_table", terminate=terminate_action)
        self.action_space = action_box(self.action_spec)
        self._delta_slice = slice(1, 3) if terminate_action else slice(0, 2)
        self._delta_low = self.action_spec.low[self._delta_slice]
        self._delta_high = self.action_spec.high[self._delta_slice]
        self.observation_space = observation_space(image_size, STATE_DIM, _CHARSET)
        self._obs_renderer = Renderer(image_size)
        self._video_renderer: Renderer | None = None
        self._video_scene: Scene | None = None
        self.scene: Scene | None = None
        self.task: Task | None = None
        self.world: PushWorld | None = None
        self.split_group = ""
        self.steps = 0
        self._marks: dict[str, np.ndarray] = {}
        self.referents: ReferentTracker | None = None

    # ---- gym API --------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """New episode. ``options`` may set ``group`` and ``family`` for this episode."""
        super().reset(seed=seed)
        opts = options or {}
        group = opts.get("group", self.group)
        family = opts.get("family", self.family)
        self.scene, self.task, self.split_group = self.sampler.sample(
            self.np_random, group=group, family=family
        )
        self.world = PushWorld(self.scene, self.substeps)
        self._marks = {m.name: np.array(m.pos) for m in self.scene.marks}
        self._obs_renderer.build(self.scene)
        self.steps = 0
        self.referents = (
            ReferentTracker(self.task, self.world.names, self.positions(), self.world.half)
            if self.task.targets
            else None
        )
        return self._obs(), self._info(self._success())

    def step(self, action: np.ndarray) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self.world is None:
            raise RuntimeError("call reset() before step()")
        a = check_action(self.action_spec, action)
        delta = np.clip(a[self._delta_slice], self._delta_low, self._delta_high)
        self.world.step(delta)
        self.steps += 1
        if self.referents is not None:
            self.referents.update(self.positions())
        success = self._success()
        stop = bool(self.terminate_action and a[0] > 0.5)
        terminated = success or stop
        truncated = (not terminated) and self.steps >= self.max_steps
        return self._obs(), float(success), terminated, truncated, self._info(success)

    def render(self) -> np.ndarray:
        """(render_size, render_size, 3) uint8 RGB frame of the current state."""
        if self.world is None or self.scene is None:
            raise RuntimeError("call reset() before render()")
        if self._video_renderer is None:
            self._video_renderer = Renderer(self.render_size)
        if self._video_scene is not self.scene:
            self._video_renderer.build(self.scene)
            self._video_scene = self.scene
        w = self.world
        return self._video_renderer.draw(w.positions(), w.angles(), w.effector_pos())

    # ---- state ----------------------------------------------------------------------------
    def positions(self) -> dict[str, np.ndarray]:
        """Current (2,) centres of every object and mark by name."""
        assert self.world is not None
        pos = dict(self._marks)
        for name, p in zip(self.world.names, self.world.positions(), strict=True):
            pos[name] = p
        return pos

    def _success(self) -> bool:
        assert self.task is not None
        return self.task.success(self.positions())

    def _obs(self) -> dict[str, Any]:
        w = self.world
        assert w is not None and self.task is not None
        image = self._obs_renderer.draw(w.positions(), w.angles(), w.effector_pos())
        state = np.concatenate([w.effector_pos(), w.target]).astype(np.float32)
        return {"image": image, "instruction": self.task.instruction, "state": state}

    def _info(self, success: bool) -> dict[str, Any]:
        t = self.task
        assert t is not None
        pos = self.positions()
        info = {
            "success": bool(success),
            "task_family": t.family,
            "task_id": t.task_id,
            "suite": self.suite_name,
            "split_group": self.split_group,
            "concept": t.concept,
            "language": t.language,
            "instruction": t.instruction,
            "goal_distance": float(np.linalg.norm(pos[t.mover] - t.goal.goal_point(pos))),
        }
        if self.referents is not None:
            info["referent"] = self.referents.result(pos)
        return info
