"""The demo sizes its evaluation to a time budget from speeds measured on the machine it runs on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rt2.demo import (
    CALIBRATION_CALLS,
    DemoConfig,
    episodes_for_budget,
    estimate_seconds,
    resolve_policies,
    step_seconds,
)


def test_the_estimate_is_the_worst_case_of_every_policy_on_every_suite() -> None:
    cfg = DemoConfig(suites=("seen", "emergent"), max_steps=40)
    # 2 suites x 10 episodes x 40 steps x (0.1 + 0.01) s
    assert estimate_seconds({"vla": 0.1, "random": 0.01}, 10, cfg) == pytest.approx(88.0)


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (11.0, 75),  # 660 s / (2 x 40 x 0.11 s) = 75
        (1000.0, 100),  # never more than eval_episodes
        (0.1, 10),  # never fewer than min_episodes, whatever the budget
    ],
)
def test_episodes_fit_the_budget_within_the_bounds(minutes: float, expected: int) -> None:
    cfg = DemoConfig(suites=("seen", "emergent"), max_steps=40, budget_minutes=minutes)
    n = episodes_for_budget({"vla": 0.1, "random": 0.01}, cfg)
    assert n == expected
    if 10 < n < 100:
        assert estimate_seconds({"vla": 0.1, "random": 0.01}, n, cfg) <= minutes * 60


def test_a_name_not_shipped_yet_runs_as_its_milestone_and_says_so() -> None:
    resolved = resolve_policies((("rt2:rt2-mini", "RT-2 mini (VLA)"), ("random", "random")))
    spec, label, about = resolved[0]
    assert (spec, label) == ("rt2:rt2-mini-v2-wip", "RT-2 mini (VLA)")
    assert about.startswith("RT-2 mini, co-fine-tuned (step")
    assert resolved[1][:2] == ("random", "random")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"budget_minutes": 0}, "budget_minutes: expected > 0"),
        ({"min_episodes": 0}, "min_episodes: expected >= 1"),
        ({"policies": ()}, "expected at least one policy"),
    ],
)
def test_bad_settings_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        DemoConfig(out=Path("x"), **kwargs)


class _ChunkPolicy:
    """Returns chunks of 4 zero actions; remembers each call's batch size."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def reset(self) -> None:
        pass

    def infer_batch(self, observations: list[dict]) -> np.ndarray:
        self.sizes.append(len(observations))
        return np.zeros((len(observations), 4, 2))


def test_a_chunked_policy_is_timed_at_the_batch_it_meets_once_episodes_drift_apart() -> None:
    policy = _ChunkPolicy()
    seconds = step_seconds(policy, DemoConfig(num_envs=6, max_steps=10))
    # the warm-up sees every env; then each timed call the ~6 / 4 envs whose chunk ran out
    assert policy.sizes == [6] + [2] * CALIBRATION_CALLS
    assert seconds > 0
