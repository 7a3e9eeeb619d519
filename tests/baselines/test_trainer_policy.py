"""RT-1 through the shared trainer, checkpoints, ``load_model``/``load_policy`` and a stateful policy."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from rt2.actions import compute_stats
from rt2.baselines.rt1 import RT1
from rt2.policies.rt1 import RT1Policy
from rt2.training.checkpoint import latest_checkpoint
from rt2.training.config import DataConfig, ModelConfig, OptimConfig, TrainConfig
from rt2.training.factory import build_model, load_model
from rt2.training.trainer import Trainer

from .conftest import TINY_RT1, random_frames

OPTIONS = {k: v for k, v in TINY_RT1.items() if k != "frames"}


def rt1_config(steps: int = 4) -> TrainConfig:
    return TrainConfig(
        name="rt1-test",
        model=ModelConfig(kind="rt1", backbone_options=OPTIONS, history=2, num_bins=256),
        data=DataConfig(weights={"robot": 1.0}, eval_episodes=2, eval_samples=8),
        optim=OptimConfig(steps=steps, batch_size=4, grad_accum=2, lr=1e-3, warmup_steps=1),
        precision="fp32",
        log_every=1,
        eval_every=2,
        save_every=2,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory, rt1_dataset):
    out = tmp_path_factory.mktemp("rt1run")
    result = Trainer(rt1_config(), out, rt1_dataset).run(progress=False)
    return out, result


@pytest.mark.slow
def test_trainer_checkpoint_round_trip(trained):
    out, result = trained
    assert result.step == 4 and "eval/robot_action_acc" in result.eval_metrics
    assert result.eval_metrics["eval/robot_action_bin_error"] >= 0
    ckpt = latest_checkpoint(out)
    spec = json.loads((ckpt / "vla.json").read_text())
    assert spec["kind"] == "rt1" and spec["rt1"]["frames"] == 3
    stats = json.loads((ckpt / "stats.json").read_text())["action"]
    model = load_model(out)
    assert isinstance(model, RT1) and not model.training
    assert np.allclose(model.action_space.low, stats["q01"])
    from safetensors.torch import load_file

    saved = load_file(str(ckpt / "model.safetensors"))
    assert not any(k.startswith("vision.net._blocks.0.") for k in saved)  # frozen pretrained
    assert "vision.net._conv_head.weight" in saved  # fine-tuned pretrained weights are kept
    assert "vision.film.15.proj.weight" in saved
    assert not any("running_mean" in k for k in saved)  # BN statistics reload from the package
    # the reloaded model computes what the trained one computes
    again = load_model(ckpt)
    rng = np.random.default_rng(0)
    frames = random_frames(rng, 6).reshape(2, 3, 64, 64, 3)
    a = model.act_frames(frames, ["push the red star left"] * 2)
    b = again.act_frames(frames, ["push the red star left"] * 2)
    assert np.array_equal(a.bins, b.bins)
    w1, w2 = model.state_dict(), again.state_dict()
    assert all(torch.equal(w1[k], w2[k]) for k in w1)


@pytest.mark.slow
def test_load_policy_gives_a_stateful_rt1_policy(trained):
    from rt2.policies import load_policy

    out, _ = trained
    policy = load_policy(str(out))  # the VLA loader (registered first) must not claim it
    assert isinstance(policy, RT1Policy)
    policy.model.precision = "float32"  # exact comparisons below
    rng = np.random.default_rng(1)
    a_frames, b_frames = random_frames(rng, 4), random_frames(rng, 4)
    ins = "push the red star to the top left corner"

    # two slots stepped together, each with its own history
    for t in range(4):
        acts = policy.infer_batch(
            [{"image": a_frames[t], "instruction": ins, "env_slot": 0},
             {"image": b_frames[t], "instruction": ins, "env_slot": 1}]
        )  # fmt: skip
        assert acts.shape == (2, 2) and np.all(np.abs(acts) <= 0.06)
    both = policy.last_result.bins
    assert policy.history_length(0) == policy.history_length(1) == 3

    # slot 0 alone from a fresh policy gives the same action: histories do not mix
    solo = RT1Policy(policy.model, precision="float32")
    for t in range(4):
        solo.infer({"image": a_frames[t], "instruction": ins, "env_slot": 0})
    assert np.array_equal(solo.last_result.bins[0], both[0])
    expected = policy.model.act_frames(a_frames[None, 1:4], [ins]).bins[0]
    assert np.array_equal(expected, both[0])  # the last 3 frames, oldest first

    # a new episode in slot 0 restarts its history (the first frame fills it); slot 1 keeps its
    policy.start_episode(0, seed=7)
    assert policy.history_length(0) == 0 and policy.history_length(1) == 3
    policy.infer({"image": a_frames[3], "instruction": ins, "env_slot": 0})
    fresh = policy.model.act_frames(np.repeat(a_frames[None, 3:4], 3, axis=1), [ins]).bins[0]
    assert np.array_equal(policy.last_result.bins[0], fresh)
    # a new instruction in a slot restarts its history too (frame tokens depend on it)
    policy.infer({"image": b_frames[0], "instruction": "push the blue moon", "env_slot": 1})
    moon = policy.model.act_frames(
        np.repeat(b_frames[None, 0:1], 3, axis=1), ["push the blue moon"]
    )
    assert np.array_equal(policy.last_result.bins[0], moon.bins[0])
    policy.reset()
    assert policy.history_length(0) == policy.history_length(1) == 0
    with pytest.raises(ValueError, match="env_slot twice"):
        policy.infer_batch([{"image": a_frames[0], "instruction": ins}] * 2)


@pytest.mark.slow
def test_an_rt1_started_from_a_checkpoint_keeps_its_bins(trained):
    """model.init=RUN: the new run's stats do not re-bin the actions the weights learned."""
    out, _ = trained
    stats = json.loads((latest_checkpoint(out) / "stats.json").read_text())["action"]
    other = compute_stats(np.random.default_rng(0).uniform(-0.2, 0.2, size=(100, 2)))
    model_config = rt1_config().model
    assert np.allclose(build_model(model_config, other).action_space.low, other["q01"])
    started = build_model(replace(model_config, init=str(out)), other)
    assert np.allclose(started.action_space.low, stats["q01"])
    assert np.allclose(started.action_space.high, stats["q99"])
    assert torch.equal(started.head.weight, load_model(out).head.weight)
