"""Success checks: moving the mover onto / away from its goal flips success and terminates."""

from __future__ import annotations

import numpy as np
import pytest

from rt2.envs import FAMILIES, Goal, TabletopEnv


def _teleport(env: TabletopEnv, name: str, xy: np.ndarray) -> None:
    body = env.world.bodies[env.world.index[name]]
    body.position = (float(xy[0]), float(xy[1]))
    body.velocity = (0.0, 0.0)


@pytest.mark.parametrize("family", FAMILIES)
def test_goal_reached_when_mover_is_put_there(family: str) -> None:
    env = TabletopEnv(image_size=32)
    _, info = env.reset(seed=4, options={"family": family})
    assert info["task_family"] == family and not info["success"]
    task = env.task
    pos = env.positions()
    goal = task.goal.goal_point(pos)
    if task.goal.kind == "near":
        target = goal + np.array([0.01, 0.0]) * (task.goal.radius < 0.02)
    else:  # far: put it far away along the line from the reference
        d = pos[task.mover] - goal
        target = goal + d / np.linalg.norm(d) * (task.goal.radius + 0.03)
    env.world.effector.position = (0.29, 0.19)
    env.world.control.position = (0.29, 0.19)
    env.world.target = np.array([0.29, 0.19])
    _teleport(env, task.mover, target)
    assert task.success(env.positions())
    _, reward, terminated, _, info = env.step(np.zeros(2))
    assert info["success"] and terminated and reward == 1.0


def test_goal_semantics() -> None:
    pos = {"a": np.array([0.0, 0.0]), "b": np.array([0.06, 0.0])}
    near = Goal("near", 0.08, ref="b")
    assert near.reached(pos["a"], pos)
    assert not near.reached(np.array([-0.05, 0.0]), pos)
    far = Goal("far", 0.14, ref="b")
    assert not far.reached(pos["a"], pos) and far.reached(np.array([-0.1, 0.0]), pos)
    assert Goal("near", 0.05, point=(0.1, 0.1)).reached(np.array([0.12, 0.1]), pos)
    offset = Goal("near", 0.05, ref="b", offset=(-0.1, 0.0))
    np.testing.assert_allclose(offset.goal_point(pos), [-0.04, 0.0])
    with pytest.raises(ValueError, match="radius"):
        Goal("near", -3)


def test_not_solved_at_start() -> None:
    env = TabletopEnv(suite="emergent", image_size=32)
    for seed in range(40):
        _, info = env.reset(seed=seed)
        assert not info["success"] and info["goal_distance"] > 0
