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
