"""The scripted expert solves every family and every suite; a random policy rarely does."""

from __future__ import annotations

import numpy as np
import pytest

from rt2.envs import FAMILIES, TabletopEnv, TabletopExpert, list_suites
from rt2.envs.tabletop.measure import run_episodes, success_table


def _success(
    env: TabletopEnv, expert: TabletopExpert, seed: int, family: str | None = None
) -> bool:
    _, info = env.reset(seed=seed, options={"family": family} if family else None)
    expert.reset()
    done = False
    while not done:
        _, _, term, trunc, info = env.step(expert.act(env))
        done = term or trunc
    return info["success"]


@pytest.mark.parametrize("family", FAMILIES)
def test_expert_solves_each_family(family: str) -> None:
    env, ex = TabletopEnv(image_size=32), TabletopExpert(seed=0)
    rate = np.mean([_success(env, ex, s, family) for s in range(12)])
    assert rate >= 0.9, f"{family}: {rate}"


@pytest.mark.parametrize("suite", list_suites())
def test_expert_solves_each_suite(suite: str) -> None:
    infos, _ = run_episodes(suite, 30, "expert", seed=1, image_size=32)
    rate = success_table(infos)[("all", "all")][0]
    assert rate >= 0.9, f"{suite}: {rate}"


def test_noisy_expert_still_mostly_succeeds() -> None:
    infos, _ = run_episodes("seen", 30, "expert", seed=2, noise=0.2, image_size=32)
    assert success_table(infos)[("all", "all")][0] >= 0.8


def test_random_policy_rarely_succeeds() -> None:
    infos, _ = run_episodes("seen", 30, "random", seed=3, image_size=32, max_steps=40)
    assert success_table(infos)[("all", "all")][0] <= 0.35


@pytest.mark.slow
def test_expert_95_percent_on_every_suite() -> None:
    for suite in list_suites():
        infos, _ = run_episodes(suite, 100, "expert", seed=4, image_size=32)
        rate = success_table(infos)[("all", "all")][0]
        assert rate >= 0.95, f"{suite}: {rate}"


def test_detour_heads_for_another_object_first_and_keeps_the_experts_labels() -> None:
    env = TabletopEnv(image_size=32)
    plain, detour = TabletopExpert(seed=5), TabletopExpert(seed=5, detour=1.0, detour_steps=4)
    env.reset(seed=11)
    detour.reset()
    action = detour.act(env)
    u = env.unwrapped
    decoy = detour._decoy
    assert decoy is not None and decoy != u.task.mover
    to_decoy = u.positions()[decoy] - u.world.effector_pos()
    assert float(np.dot(action[-2:], to_decoy)) > 0  # executed: toward the decoy
    plain.reset()
    np.testing.assert_allclose(detour.clean_action, plain.act(env))  # label: the expert's
    success = _success(env, TabletopExpert(seed=5, detour=1.0), 11)
    assert success, "a short detour leaves the expert time to finish the task"


def test_detour_zero_keeps_the_experts_random_stream() -> None:
    env = TabletopEnv(image_size=32)
    runs = []
    for expert in (
        TabletopExpert(noise=0.3, seed=7),
        TabletopExpert(noise=0.3, seed=7, detour=0.0),
    ):
        env.reset(seed=3)
        expert.reset()
        runs.append([expert.act(env) for _ in range(3)])
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize("kwargs", [{"detour": 1.5}, {"detour": -0.1}, {"detour_steps": 0}])
def test_detour_settings_are_validated(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="detour"):
        TabletopExpert(**kwargs)
