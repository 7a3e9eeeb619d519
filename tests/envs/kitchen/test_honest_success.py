"""rt2/Kitchen-v0: no episode starts solved, idling never succeeds, the checks reject near-misses."""

from __future__ import annotations

import numpy as np
import pytest

from rt2.envs.kitchen import SKILLS, KitchenEnv
from rt2.envs.kitchen.spec import list_kitchen_suites, load_kitchen_suite
from rt2.envs.kitchen.tasks import (
    CLOSED_TOL,
    START_MARGIN,
    KitchenTask,
    PoseState,
    drawer_box,
    near_reach,
    sample_scene_task,
)
from rt2.envs.kitchen.world import LAYOUTS

UP, SIDE = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
CAN_START, APPLE_START = np.array([0.0, -0.1, 0.06]), np.array([-0.25, -0.1, 0.03])


def _state(
    can: np.ndarray = CAN_START,
    apple: np.ndarray = APPLE_START,
    can_axis: np.ndarray = UP,
    drawer: float = 0.0,
) -> PoseState:
    return PoseState(
        pos={"cola can": can, "apple": apple},
        axis={"cola can": can_axis, "apple": UP},
        rest={"cola can": 0.06, "apple": 0.03},
        drawer=drawer,
        drawer_box=drawer_box(LAYOUTS["kitchen_right"], drawer),
        start={"cola can": CAN_START, "apple": APPLE_START},
    )


@pytest.mark.parametrize("suite", list_kitchen_suites())
def test_move_near_layouts_start_clear_of_the_success_radius(suite: str) -> None:
    for group in load_kitchen_suite(suite).groups.values():
        rng = np.random.default_rng(0)
        for _ in range(150):
            scene, task = sample_scene_task(group, rng, "move_near")
            x, y = scene.objects[0], scene.objects[1]
            assert (x.name, y.name) == (task.target, task.reference)
            assert np.hypot(x.x - y.x, x.y - y.y) >= near_reach(task) + START_MARGIN


@pytest.mark.parametrize("suite", list_kitchen_suites())
def test_no_episode_starts_solved(suite: str) -> None:
    env = KitchenEnv(suite=suite, image_size=16, render_size=16)
    for skill in SKILLS:
        for seed in range(10):
            _, info = env.reset(seed=seed, options={"skill": skill})
            assert not info["success"], f"{suite} {skill} seed {seed} starts solved"
    env.close()


@pytest.mark.parametrize("skill", SKILLS)
def test_holding_still_never_succeeds(skill: str) -> None:
    """Nothing topples, rolls into place or closes by itself while the gripper hovers."""
    env = KitchenEnv(image_size=16, render_size=16)
    still = np.zeros(8, dtype=np.float32)
    still[7] = 1.0
    for seed in range(3):
        env.reset(seed=seed, options={"skill": skill})
        for _ in range(15):
            _, reward, *_ = env.step(still)
            assert reward == 0.0, f"{skill} seed {seed} succeeded without moving"
    env.close()


def test_knock_over_needs_the_target_lying_and_the_rest_in_place() -> None:
    knock = KitchenTask("knock_over", "cola can")
    lying = np.array([0.05, -0.1, 0.033])
    assert knock.success(_state(can=lying, can_axis=SIDE))
    tipping = np.array([np.sin(np.radians(70)), 0.0, np.cos(np.radians(70))])
    assert not knock.success(_state(can=np.array([0.02, -0.1, 0.045]), can_axis=tipping))
    leaning = np.array([0.05, -0.1, 0.06])  # on its side but propped up (e.g. on the gripper)
    assert not knock.success(_state(can=leaning, can_axis=SIDE))
    swept = APPLE_START + np.array([0.1, 0.0, 0.0])
    assert not knock.success(_state(can=lying, apple=swept, can_axis=SIDE))


def test_move_near_needs_the_target_moved() -> None:
    near = KitchenTask("move_near", "cola can", "apple")
    assert not near.success(_state())
    moved = np.array([-0.14, -0.1, 0.06])
    assert near.success(_state(can=moved))
    brought = CAN_START + np.array([-0.1, 0.0, -0.03])  # the apple pushed over to the can
    assert not near.success(_state(apple=brought))


def test_close_drawer_needs_it_shut() -> None:
    close = KitchenTask("close_drawer")
    assert close.success(_state(drawer=CLOSED_TOL))
    assert not close.success(_state(drawer=CLOSED_TOL + 0.005))
