"""rt2 eval --data: offline evaluation; a 6-dim, two-camera, state-reading VLA learns."""

import json

import numpy as np
import pytest

from rt2.cli import main
from rt2.evaluation.offline import OfflineConfig, evaluate_offline
from rt2.training.config import DataConfig, ModelConfig, OptimConfig, TrainConfig
from rt2.training.factory import load_model
from rt2.training.trainer import Trainer

from .conftest import SMALL_BACKBONE


def config(steps: int) -> TrainConfig:
    return TrainConfig(
        name="so100-full",
        model=ModelConfig(action_space="dataset", backbone_options=SMALL_BACKBONE, num_bins=32),
        data=DataConfig(weights={"robot": 1.0}, eval_episodes=3, eval_samples=16, state="tokens"),
        optim=OptimConfig(steps=steps, batch_size=16, lr=3e-3, warmup_steps=5),
        precision="fp32",
        log_every=10,
        eval_every=1000,
        save_every=1000,
    )


def test_two_cameras_and_state_learn_below_the_first_step_and_the_mean(tmp_path, so100_dataset):
    first = Trainer(config(60), tmp_path, so100_dataset)
    first.run(stop_after=1, progress=False)
    mean = np.asarray(first.data.stats["mean"])  # (6,) training mean action
    held = OfflineConfig(episodes=3)
    at_step_1 = evaluate_offline(load_model(tmp_path), so100_dataset, held, mean)
    Trainer(None, tmp_path, resume=True).run(progress=False)
    model = load_model(tmp_path)
    assert model.cameras == ("observation.images.front", "observation.images.wrist")
    assert model.state_format is not None
    trained = evaluate_offline(model, so100_dataset, held, mean)
    assert trained["episodes"] == [9, 10, 11] and trained["frames"] == 3 * 24
    # measured: 3.7 degrees against 19.5 for the training mean and ~30 after one step
    assert trained["mae"] < 0.5 * trained["mean_baseline_mae"], trained["mae"]
    assert trained["mae"] < 0.5 * at_step_1["mae"]
    assert trained["token_accuracy"] > at_step_1["token_accuracy"]


def test_eval_data_writes_its_report(tmp_path, so100_dataset, capsys):
    Trainer(config(4), tmp_path / "run", so100_dataset).run(progress=False)
    out = tmp_path / "report"
    argv = ["eval", "--data", str(so100_dataset), "--policy", str(tmp_path / "run")]
    assert main([*argv, "--out", str(out), "--videos", "2"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["episodes"] == [9, 10, 11]  # the checkpoint's data.eval_episodes
    assert set(report["per_dim"]) == {
        "shoulder_pan.pos", "shoulder_lift.pos", "elbow_flex.pos",
        "wrist_flex.pos", "wrist_roll.pos", "gripper.pos",
    }  # fmt: skip
    dim = report["per_dim"]["gripper.pos"]
    assert {"mae", "rmse", "bin_mae", "token_accuracy", "mean_baseline_mae"} <= set(dim)
    assert report["plots"] == ["plots/episode_0009.png", "plots/episode_0010.png"]
    for p in report["plots"]:
        assert (out / p).read_bytes()[:4] == b"\x89PNG"
    md = (out / "report.md").read_text()
    assert "| gripper.pos |" in md and "predicting the training mean" in md
    assert "action MAE" in capsys.readouterr().err


def test_eval_data_refuses_what_it_cannot_score(tmp_path, so100_dataset):
    with pytest.raises(FileNotFoundError, match="holds none"):
        main(["eval", "--data", str(so100_dataset), "--policy", "expert", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="plots: expected >= 0"):
        OfflineConfig(plots=-1)
