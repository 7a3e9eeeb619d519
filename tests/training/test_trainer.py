import json
from dataclasses import replace

import numpy as np
import pytest
import torch

import rt2.training.checkpoint as checkpoint_module
from rt2.training.checkpoint import latest_checkpoint
from rt2.training.config import DataConfig, ModelConfig, OptimConfig, TrainConfig
from rt2.training.factory import load_model
from rt2.training.trainer import Trainer

from .conftest import SMALL_BACKBONE


def config(steps: int = 8, **kw) -> TrainConfig:
    base = TrainConfig(
        name="test",
        model=ModelConfig(backbone_options=SMALL_BACKBONE),
        data=DataConfig(weights={"robot": 1.0}, eval_episodes=2, eval_samples=8),
        optim=OptimConfig(steps=steps, batch_size=8, grad_accum=2, lr=1e-3, warmup_steps=2),
        precision="fp32",
        log_every=1,
        eval_every=4,
        save_every=4,
    )
    return replace(base, **kw)


def losses(run_dir) -> dict[int, float]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


def test_resumed_run_matches_an_uninterrupted_one(tmp_path, tiny_dataset):
    full = Trainer(config(), tmp_path / "full", tiny_dataset).run(progress=False)
    assert full.step == 8
    Trainer(config(), tmp_path / "split", tiny_dataset).run(stop_after=4, progress=False)
    assert latest_checkpoint(tmp_path / "split").name == "step-000004"
    # the interrupted run logged steps 1..4; a fresh Trainer resumes from its checkpoint
    resumed = Trainer(None, tmp_path / "split", resume=True).run(progress=False)
    assert resumed.step == 8
    a, b = losses(tmp_path / "full"), losses(tmp_path / "split")
    assert sorted(a) == sorted(b) == list(range(1, 9))
    assert np.allclose([a[s] for s in a], [b[s] for s in a], rtol=0, atol=1e-5), (a, b)
    # and the resumed weights are the uninterrupted ones
    wa = load_model(tmp_path / "full").state_dict()
    wb = load_model(tmp_path / "split").state_dict()
    assert all(torch.allclose(wa[k], wb[k], atol=1e-5) for k in wa)


def test_interrupted_save_leaves_the_previous_checkpoint(tmp_path, tiny_dataset, monkeypatch):
    trainer = Trainer(config(steps=8), tmp_path, tiny_dataset)
    trainer.run(stop_after=4, progress=False)
    before = latest_checkpoint(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # as if Ctrl-C arrived while the weights were being written

    monkeypatch.setattr(checkpoint_module, "save_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        trainer.save(8)
    ckpts = tmp_path / "checkpoints"
    assert latest_checkpoint(tmp_path) == before
    assert sorted(p.name for p in ckpts.iterdir()) == ["latest", "step-000004"]  # no temp dirs left
    load_model(tmp_path)  # still loads


def test_checkpoint_contents_and_policy(tmp_path, tiny_dataset):
    Trainer(config(steps=4), tmp_path, tiny_dataset).run(progress=False)
    ckpt = latest_checkpoint(tmp_path)
    names = {p.name for p in ckpt.iterdir()}
    assert {
        "model.safetensors",
        "config.json",
        "vla.json",
        "stats.json",
        "dataset.json",
        "trainer_state.pt",
    } <= names
    spec = json.loads((ckpt / "vla.json").read_text())
    assert spec["mapping"]["name"] == "reserved" and len(spec["mapping"]["token_ids"]) == 256
    stats = json.loads((ckpt / "stats.json").read_text())["action"]
    model = load_model(tmp_path)
    assert np.allclose(model.action_space.low, stats["q01"]) and np.allclose(
        model.action_space.high, stats["q99"]
    )
    from rt2.policies import load_policy

    policy = load_policy(str(tmp_path))
    image = np.zeros((64, 64, 3), np.uint8)
    action = policy.infer({"image": image, "instruction": "push the red star left"})
    assert action.shape == (2,) and np.all(np.abs(action) <= 0.05)


def test_freezing_keeps_weights(tmp_path, tiny_dataset):
    cfg = config(
        steps=2, model=ModelConfig(backbone_options=SMALL_BACKBONE, freeze=("backbone.patch",))
    )
    trainer = Trainer(cfg, tmp_path, tiny_dataset)
    before = next(trainer.unwrapped.backbone.patch.parameters()).detach().clone()
    other = trainer.unwrapped.backbone.projector[0].weight.detach().clone()
    trainer.run(progress=False)
    assert torch.equal(before, next(trainer.unwrapped.backbone.patch.parameters()))
    assert not torch.equal(other, trainer.unwrapped.backbone.projector[0].weight)


def test_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="--data DIR"):
        Trainer(config(), tmp_path, None)


@pytest.mark.slow
def test_two_process_cpu_training_with_accelerate_launch(tmp_path, tiny_dataset):
    """The multi-GPU path, exercised on CPU: `accelerate launch` with 2 processes (DDP, gloo)."""
    import os
    import shutil
    import subprocess
    import sys

    launcher = shutil.which("accelerate", path=os.path.dirname(sys.executable))
    assert launcher is not None, "accelerate's launcher is installed with the package"
    opts = ",".join(f"{k}:{v}" for k, v in SMALL_BACKBONE.items())
    cmd = [
        launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
        "--dynamo_backend", "no", "-m", "rt2.cli", "train", "--preset", "tiny-scratch", "--data", str(tiny_dataset),
        "--out", str(tmp_path), "--steps", "3", "--no-progress", f"model.backbone_options={opts}",
        "optim.batch_size=8", "optim.warmup_steps=1", "data.eval_episodes=1", "data.eval_samples=4",
        "log_every=1", "precision=fp32",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if "loss" in r]
    assert [r["step"] for r in train_rows] == [1, 2, 3]
    assert all(r["processes"] == 2 for r in train_rows)
    assert latest_checkpoint(tmp_path).name == "step-000003"


def test_parallel_chunked_run_logs_its_closed_loop_learning_curve(tmp_path, tiny_dataset):
    """A parallel-decoding VLA trained on chunks of 3 actions, with closed-loop rollouts during
    training; its checkpoint reloads as a chunking policy."""
    cfg = config(
        steps=4,
        model=ModelConfig(backbone_options=SMALL_BACKBONE, decoding="parallel", chunk=3),
        rollout_every=2,
        rollout_episodes=2,
    )
    Trainer(cfg, tmp_path / "run", tiny_dataset).run(progress=False)
    rows = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    curve = [r for r in rows if "rollout/seen_success" in r]
    assert [r["step"] for r in curve] == [2, 4]
    assert all(r["rollout/episodes"] == 2 and 0 <= r["rollout/seen_success"] <= 1 for r in curve)
    assert curve[-1]["rollout/robot_samples"] == 4 * 8
    model = load_model(tmp_path / "run")
    assert model.decoding.chunk == 3 and model.slots is not None
    from rt2.policies.vla import VLAPolicy

    obs = {"image": np.zeros((64, 64, 3), np.uint8), "instruction": "push the red star"}
    assert VLAPolicy(model).infer_batch([obs, obs]).shape == (2, 3, 2)  # chunks, for a server


def test_stop_at_ends_a_run_early_on_the_longer_schedule(tmp_path, tiny_dataset):
    """``optim.stop_at``: the run ends (evaluated and saved) there, and its learning rates are
    the full schedule's, not a schedule squeezed into the shorter run."""
    full = Trainer(config(), tmp_path / "full", tiny_dataset).run(progress=False)
    cut_cfg = replace(config(), optim=replace(config().optim, stop_at=5))
    cut = Trainer(cut_cfg, tmp_path / "cut", tiny_dataset).run(progress=False)
    assert (full.step, cut.step) == (8, 5)
    assert latest_checkpoint(tmp_path / "cut").name == "step-000005"
    rows = [json.loads(x) for x in (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()]
    assert any(r["step"] == 5 and any(k.startswith("eval/") for k in r) for r in rows)
    lr = {r["step"]: r["lr"] for r in rows if "lr" in r}
    full_rows = (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    full_lr = {r["step"]: r["lr"] for r in map(json.loads, full_rows) if "lr" in r}
    assert lr == {s: full_lr[s] for s in range(1, 6)}
    with pytest.raises(ValueError, match=r"optim.stop_at: expected in \[1, optim.steps=8\]"):
        replace(config().optim, stop_at=9)
