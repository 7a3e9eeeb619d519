"""The shipped tiny VLA (``rt2:tiny-vla``) acts: a regression test of its weights and of every
piece between them and the simulator (image preprocessing, prompt, plan decoding, action bins)."""

import json

import pytest

from rt2.evaluation import EvalConfig, RandomPolicy, load_policy, run_evaluation
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
    # measured on these 20 episodes (seeds 10000-10019): 6 successes; random: 0
    # (on 100 episodes 16% [10, 24] against random's 1% [0.2, 5.4])
    policy = load_policy("rt2:tiny-vla")
    cfg = EvalConfig(suites=("seen",), episodes=20, seed=10_000, num_envs=10, max_steps=40)
    vla = sum(r.success for r in run_evaluation(cfg, policy))
    rnd = sum(r.success for r in run_evaluation(cfg, RandomPolicy(policy.action_space, seed=0)))
    assert rnd <= 1
    assert vla >= 4, f"rt2:tiny-vla succeeded in {vla}/20 seen episodes (measured: 6)"
