"""Gymnasium registration, the observation/info contract, actions, limits and rendering."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rt2.envs
from rt2.envs import ENV_ID, TabletopEnv

INFO_KEYS = {"success", "task_family", "task_id", "suite", "split_group"}


def test_registered_on_import() -> None:
    assert ENV_ID == "rt2/Tabletop-v0"
    env = gym.make(ENV_ID, suite="seen", image_size=64)
    assert isinstance(env.unwrapped, TabletopEnv)
    env.close()


def test_gymnasium_env_checker() -> None:
    env = gym.make(ENV_ID, image_size=64).unwrapped
    check_env(env, skip_render_check=False)


@pytest.mark.parametrize("suite", rt2.envs.list_suites())
def test_observation_and_info_contract(suite: str) -> None:
    env = TabletopEnv(suite=suite, image_size=96)
    obs, info = env.reset(seed=3)
    assert set(obs) == {"image", "instruction", "state"}
    assert obs["image"].dtype == np.uint8 and obs["image"].shape == (96, 96, 3)
    assert isinstance(obs["instruction"], str) and obs["instruction"]
    assert obs["state"].dtype == np.float32 and obs["state"].shape == (4,)
    np.testing.assert_allclose(obs["state"][:2], env.world.effector_pos(), atol=1e-6)
    assert set(info) >= INFO_KEYS
    assert info["suite"] == suite and info["success"] is False
    assert info["split_group"] in env.sampler.suite.groups
    assert env.task is not None and env.task.instruction == obs["instruction"]
    _obs2, reward, _terminated, _truncated, info2 = env.step(np.zeros(2, np.float32))
    assert set(info2) >= INFO_KEYS and isinstance(reward, float)


def test_actions_are_clipped_to_the_language_table_bounds() -> None:
    env = TabletopEnv(image_size=64)
    env.reset(seed=0)
    before = env.world.target.copy()
    env.step(np.array([1.0, -1.0]))  # far outside +-0.05
    moved = env.world.target - before
    assert np.all(np.abs(moved) <= 0.05 + 1e-9)
    with pytest.raises(ValueError, match="action"):
        env.step(np.zeros(3))


def test_step_limit_truncates() -> None:
    env = TabletopEnv(image_size=32, max_steps=5)
    env.reset(seed=1)
    flags = [env.step(np.zeros(2))[2:4] for _ in range(5)]
    assert flags[-1] == (False, True)
    assert all(f == (False, False) for f in flags[:-1])


def test_terminate_action() -> None:
    env = TabletopEnv(image_size=32, terminate_action=True)
    assert env.action_space.shape == (3,)
    env.reset(seed=2)
    _, _, terminated, _, info = env.step(np.array([0.0, 0.01, 0.0]))
    assert not terminated
    _, _, terminated, truncated, info = env.step(np.array([1.0, 0.0, 0.0]))
    assert terminated and not truncated and info["success"] is False


def test_render_size_and_options() -> None:
    env = TabletopEnv(image_size=64, render_size=200)
    _obs, info = env.reset(seed=0, options={"family": "separate"})
    assert info["task_family"] == "separate"
    frame = env.render()
    assert frame.shape == (200, 200, 3) and frame.dtype == np.uint8
    env2 = TabletopEnv(suite="unseen_objects")
    _, info = env2.reset(seed=0, options={"group": "hard"})
    assert info["split_group"] == "hard"


def test_bad_constructor_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="image_size"):
        TabletopEnv(image_size=3)
    with pytest.raises(KeyError, match="did you mean 'seen'"):
        TabletopEnv(suite="sen")


def test_table_to_image_is_the_renderers_framing_without_camera_jitter() -> None:
    """The grounding targets of robot frames: table half-extents -> image (u, v), as the
    renderer frames the table (every environment size) when the camera does not move."""
    import dataclasses

    from rt2.envs.tabletop.render import Renderer, table_to_image
    from rt2.envs.tabletop.scene import Look

    env = TabletopEnv(suite="seen", image_size=128)
    env.reset(seed=3)
    renderer = Renderer(128)
    xy = np.array([[-1.0, -1.0], [1.0, 1.0], [0.3, -0.6], [0.0, 0.0]])  # half-extents
    for name, width, height in (("a", 0.6, 0.4), ("b", 0.56, 0.38), ("c", 0.9, 0.5)):
        table = dataclasses.replace(env.scene.environment, name=name, width=width, height=height)
        renderer.build(dataclasses.replace(env.scene, environment=table, look=Look()))
        px = renderer.world_to_pixel(xy * [width / 2, height / 2]) / 128
        np.testing.assert_allclose(table_to_image(xy, width, height), px, atol=1e-9)
    env.close()
