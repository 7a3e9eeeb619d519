"""The shipped tiny VLA (``rt2:tiny-vla``) acts: a regression test of its weights and of every
piece between them and the simulator (image preprocessing, prompt, plan decoding, action bins)."""

import json

import pytest

from rt2.evaluation import EvalConfig, run_evaluation
from rt2.policies import RandomPolicy, load_policy
from rt2.weights import resolve


def test_the_shipped_checkpoint_is_complete():
    root = resolve("rt2:tiny-vla")
    config = json.loads((root / "config.json").read_text())
    assert config["data"]["plan_bins"] == 32  # it writes grounded plans
    assert json.loads((root / "dataset.json").read_text())["sha256"].startswith("bfffbd11")
    assert "Recipe" in (root / "README.md").read_text()
    assert not (root / "trainer_state.pt").exists()


@pytest.mark.slow
def test_the_shipped_tiny_vla_beats_random_on_seen():
    # seeds 10000-10079, 40 steps: 14/80 successes (17.5%) on an AMD EPYC, random 1/80; 20
    # episodes gave 6 on one CPU and 3 on another (closed loop amplifies float differences), so
    # the sample is sized for power: at 17.5%, 60 episodes fall below 5 with probability ~1.5%
    policy = load_policy("rt2:tiny-vla")
    cfg = EvalConfig(suites=("seen",), episodes=60, seed=10_000, num_envs=20, max_steps=40)
    vla = sum(r.success for r in run_evaluation(cfg, policy))
    rnd = sum(r.success for r in run_evaluation(cfg, RandomPolicy(policy.action_space, seed=0)))
    print(f"rt2:tiny-vla {vla}/60, random {rnd}/60")
    assert rnd <= 1
    assert vla >= 5, f"rt2:tiny-vla succeeded in {vla}/60 seen episodes (expected ~10)"
