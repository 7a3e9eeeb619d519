"""data.state=tokens: observation.state binned over its q01..q99 and written in the prompt."""

import json
from dataclasses import replace

import numpy as np
import pytest
from so100 import CAMERAS, JOINTS

from rt2.actions.state import StateFormat
from rt2.data.reader import EpisodeDataset
from rt2.policies.vla import VLAPolicy
from rt2.samples import RobotSample
from rt2.training.checkpoint import latest_checkpoint
from rt2.training.config import DataConfig, ModelConfig, OptimConfig, TrainConfig
from rt2.training.factory import load_model
from rt2.training.trainer import Trainer

from .conftest import SMALL_BACKBONE


def config(**data) -> TrainConfig:
    return TrainConfig(
        name="so100-state",
        model=ModelConfig(action_space="dataset", backbone_options=SMALL_BACKBONE, num_bins=64),
        data=DataConfig(
            weights={"robot": 1.0}, eval_episodes=3, eval_samples=8, cameras=CAMERAS[:1], **data
        ),
        optim=OptimConfig(steps=2, batch_size=4, lr=1e-3, warmup_steps=1),
        precision="fp32",
        eval_every=2,
        save_every=2,
    )


def test_state_format_bins_and_names_a_wrong_size():
    fmt = StateFormat(("a", "b"), (0.0, -1.0), (1.0, 1.0), num_bins=4)
    assert fmt.encode([0.0, -1.0]).tolist() == [0, 0]
    assert fmt.encode([0.99, 0.6]).tolist() == [3, 3]
    assert fmt.encode([5.0, -9.0]).tolist() == [3, 0]  # outside q01..q99: clipped
    assert StateFormat.from_dict(fmt.to_dict()) == fmt
    with pytest.raises(ValueError, match=r"shape \(3,\); this policy reads 2 entries \['a', 'b'\]"):
        fmt.encode([0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="NaN"):
        fmt.encode([np.nan, 0.0])
    with pytest.raises(ValueError, match=r"data\.state: expected 'none' or 'tokens', got 'vector'"):
        DataConfig(state="vector")


def test_state_tokens_round_trip_and_are_checked_when_acting(tmp_path, so100_dataset):
    Trainer(config(state="tokens"), tmp_path, so100_dataset).run(progress=False)
    ds = EpisodeDataset(so100_dataset)
    train = np.concatenate([ds.episode(i).states for i in range(ds.num_episodes - 3)])
    model = load_model(tmp_path)
    fmt = model.state_format
    assert fmt is not None and fmt.names == JOINTS and fmt.num_bins == 64
    assert np.allclose(fmt.low, np.quantile(train.astype(np.float64), 0.01, axis=0))
    assert np.allclose(fmt.high, np.quantile(train.astype(np.float64), 0.99, axis=0))
    stats = json.loads((latest_checkpoint(tmp_path) / "stats.json").read_text())
    assert np.allclose(stats["observation.state"]["q99"], fmt.high)

    ep = ds.episode(10)
    # the prompt carries one action-bin token per state entry, after "State:"
    builder = model.builder
    low = builder.prompt_ids(RobotSample(ep.images[0], ep.instruction, state=np.array(fmt.low)))
    high = builder.prompt_ids(RobotSample(ep.images[0], ep.instruction, state=np.array(fmt.high)))
    differ = [i for i, (a, b) in enumerate(zip(low, high, strict=True)) if a != b]
    assert len(differ) == 6 and all(low[i] in model.mapping.action_token_ids for i in differ)

    policy = VLAPolicy(model)
    obs = {"image": ep.images[0], "instruction": ep.instruction}
    assert policy.infer(obs | {"state": ep.states[0]}).shape == (6,)
    with pytest.raises(ValueError, match=r"reads the robot state \(6 entries \['shoulder_pan"):
        policy.infer(obs)
    with pytest.raises(ValueError, match=r"shape \(5,\); this policy reads 6 entries"):
        policy.infer(obs | {"state": ep.states[0][:5]})


def test_a_model_without_state_keeps_its_old_prompt(tmp_path, so100_dataset):
    Trainer(replace(config(), name="no-state"), tmp_path, so100_dataset).run(progress=False)
    model = load_model(tmp_path)
    assert model.state_format is None and "state" not in model.spec()
    ep = EpisodeDataset(so100_dataset).episode(0)
    ids = model.builder.prompt_ids(RobotSample(ep.images[0], ep.instruction))
    assert model.backbone.tokenizer.decode(ids[1:]).startswith("Q: what action")


def test_rt1_reads_the_state_as_one_token_of_the_current_frame(tmp_path, so100_dataset):
    import torch

    from rt2.policies.rt1 import RT1Policy

    rt1 = dict(
        image_size=64, tokens_per_frame=4, token_learner_hidden=16, d_model=32, num_layers=2,
        num_heads=2, ff_dim=64, dropout=0.0, frozen_blocks=12, text_encoder="hash",
    )  # fmt: skip
    cfg = config(state="tokens")
    cfg = replace(
        cfg,
        model=ModelConfig(kind="rt1", action_space="dataset", backbone_options=rt1, history=2),
    )
    Trainer(cfg, tmp_path, so100_dataset).run(progress=False)
    model = load_model(tmp_path)
    assert model.state_format is not None and model.state_format.names == JOINTS
    tokens = torch.randn(1, 3, 4, 32)  # (B, F, T, d)
    low, high = -torch.ones(1, 6), torch.ones(1, 6)  # normalized states at q01 and q99
    with torch.no_grad():
        a = model.frame_logits(tokens, state=low)  # (1, F, D, NB)
        b = model.frame_logits(tokens, state=high)
    assert torch.equal(a[:, :2], b[:, :2])  # earlier frames never see the current state
    assert not torch.allclose(a[:, 2], b[:, 2])  # the current frame does
    ep = EpisodeDataset(so100_dataset).episode(10)
    policy = RT1Policy(model)
    obs = {"image": ep.images[0], "instruction": ep.instruction}
    assert policy.infer(obs | {"state": ep.states[0]}).shape == (6,)
    with pytest.raises(ValueError, match=r"this RT-1 reads the robot state \(6 entries"):
        policy.infer(obs)
