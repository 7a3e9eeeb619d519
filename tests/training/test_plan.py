"""Grounded plans (ECoT): recorded by the collector, written as text, trained, decoded by policies."""

import json

import numpy as np
import pytest
import torch

from rt2.data.plan import PlanFormat
from rt2.data.reader import EpisodeDataset
from rt2.data.robot import load_robot_sources
from rt2.training.config import DataConfig, TrainConfig, apply_overrides
from rt2.training.trainer import Trainer

from .test_trainer import config


def test_plan_text_round_trips_to_cell_centres() -> None:
    fmt = PlanFormat(bins=32)
    rng = np.random.default_rng(0)
    state = rng.uniform(-1, 1, 6)
    back = fmt.parse("Plan: " + fmt.text(state) + ". Action:")
    assert back is not None and np.all(np.abs(back - state) <= 1 / 32 + 1e-9)
    assert fmt.text(np.array([-1.0, 1.0, -5, 5, 0, 0])) == "arm 0 31, block 0 31, goal 16 16"
    assert fmt.parse("arm 1 2, block 3 4") is None  # goal missing
    assert fmt.parse("arm 1 2, block 3 4, goal 32 0") is None  # off the grid
    with pytest.raises(ValueError, match="expected shape"):
        fmt.text(np.zeros(4))
    with pytest.raises(ValueError, match="bins"):
        PlanFormat(bins=1)
    with pytest.raises(ValueError, match="plan_bins"):
        DataConfig(plan_bins=1)


def test_letter_plans_round_trip_with_one_token_per_coordinate() -> None:
    from transformers import AutoTokenizer

    from rt2.backbones.pretrained import smollm2_dir

    smollm2_tokenizer = AutoTokenizer.from_pretrained(smollm2_dir())
    fmt = PlanFormat(bins=32, code="letters")
    rng = np.random.default_rng(1)
    for state in rng.uniform(-1, 1, (50, 6)):
        text = fmt.text(state)
        back = fmt.parse("Plan: " + text + ". Action:")
        assert back is not None and np.all(np.abs(back - state) <= 1 / 32 + 1e-9)
    assert fmt.text(np.array([-1.0, 1.0, -5, 5, 0, 0])) == "arm A f, block A f, goal Q Q"
    assert fmt.parse("arm A f, block A f, goal 16 16") is None  # digits are not this code
    assert DataConfig(plan_bins=32, plan_code="letters").plan_format() == fmt
    with pytest.raises(ValueError, match="at most 32 cells"):
        PlanFormat(bins=33, code="letters")
    with pytest.raises(ValueError, match="plan_code"):
        DataConfig(plan_bins=32, plan_code="roman")
    # SmolLM2 writes every coordinate with one token: 11 tokens instead of 21 (+ 5 for the
    # "Plan:" and ". Action:" markers)
    text = PlanFormat(bins=32).text(np.array([0.0, 0.0, -1.0, 1.0, 0.5, -0.5]))
    assert len(smollm2_tokenizer.encode(" " + fmt.text(np.zeros(6)))) == 11
    assert len(smollm2_tokenizer.encode(" " + text)) == 21


def test_relative_plans_write_offsets_and_round_trip_within_half_the_grid() -> None:
    """``relative``: the block as its offset from the arm, the goal from the block, shifted by
    half the grid; exact round trips while offsets stay within it, saturation past it."""
    fmt = PlanFormat(bins=32, code="letters", relative=True)
    absolute = PlanFormat(bins=32, code="letters")
    rng = np.random.default_rng(2)
    for state in rng.uniform(-0.45, 0.45, (50, 6)):  # every offset within 15 cells
        back = fmt.parse(fmt.text(state))
        np.testing.assert_allclose(back, absolute.parse(absolute.text(state)))
    same = np.array([0.3, -0.2, 0.3, -0.2, 0.3, -0.2])  # all in one cell: zero offsets
    assert fmt.text(same).endswith("block Q Q, goal Q Q")
    # the goal 31 cells right of the block saturates at +15, the block left of the arm at -16
    far = np.array([0.0, 0.0, -1.0, 0.0, 1.0, 0.0])
    assert fmt.text(far) == "arm Q Q, block A Q, goal f Q"
    assert DataConfig(plan_bins=32, plan_code="letters", plan_relative=True).plan_format() == fmt


def test_collector_records_the_experts_plan_state(tiny_dataset) -> None:
    ds = EpisodeDataset(tiny_dataset)
    names = ds.features["observation.environment_state"]["names"]
    assert names == ["effector_x", "effector_y", "mover_x", "mover_y", "target_x", "target_y"]
    ep = ds.episode(0)
    assert ep.env_states.shape == (len(ep), 6) and np.all(np.abs(ep.env_states) <= 1.0)
    # the effector part is the proprioceptive effector position over the table's half extents
    scale = ep.states[:, :2] / ep.env_states[:, :2]
    assert np.allclose(scale, scale[0], rtol=1e-4)
    # pushing moves the named object toward its target: the mover-target gap shrinks
    gap = np.linalg.norm(ep.env_states[:, 2:4] - ep.env_states[:, 4:6], axis=1)
    assert gap[-1] < gap[0]


def test_robot_samples_carry_plans_and_old_datasets_are_named(tiny_dataset, tmp_path) -> None:
    train, _ = load_robot_sources(tiny_dataset, eval_episodes=2, plan=PlanFormat(bins=16))
    sample = train[3]
    assert sample.plan == PlanFormat(bins=16).text(train.plan_states[3])
    plain, _ = load_robot_sources(tiny_dataset, eval_episodes=2)
    assert plain[3].plan is None
    # a dataset without the feature: the error says what is missing and what to do
    info_path = tmp_path / "meta" / "info.json"
    import shutil

    shutil.copytree(tiny_dataset, tmp_path, dirs_exist_ok=True)
    info = json.loads(info_path.read_text())
    del info["features"]["observation.environment_state"]
    info_path.write_text(json.dumps(info))
    with pytest.raises(ValueError, match="collect the dataset again"):
        load_robot_sources(tmp_path, eval_episodes=2, plan=PlanFormat())


def test_a_planning_checkpoint_plans_when_it_acts(tmp_path, tiny_dataset) -> None:
    cfg: TrainConfig = apply_overrides(config(steps=2), ["data.plan_bins=16"])
    trainer = Trainer(cfg, tmp_path, tiny_dataset)
    batch = trainer.unwrapped.collate([trainer.data.train["robot"][0]])
    answer = batch.input_ids[0][batch.labels[0] >= 0]
    text = trainer.unwrapped.backbone.tokenizer.decode(answer.tolist())
    assert text.startswith(" Plan: arm ") and ". Action:" in text
    trainer.run(progress=False)
    from rt2.policies import load_policy

    policy = load_policy(str(tmp_path))
    assert policy.cot
    image = np.zeros((64, 64, 3), np.uint8)
    action = policy.infer({"image": image, "instruction": "push the red star left"})
    assert action.shape == (2,) and policy.last_result.plans[0] is not None


def test_small_vla_learns_to_plan_then_act(tiny_dataset) -> None:
    """Overfit a few planned frames: decoding writes the demonstrated plan, then its action."""
    from rt2.model import build_vla

    from ..core.test_overfit import overfit
    from .conftest import SMALL_BACKBONE

    torch.manual_seed(0)
    fmt = PlanFormat(bins=16)
    train, _ = load_robot_sources(tiny_dataset, eval_episodes=2, plan=fmt)
    firsts = np.flatnonzero(np.arange(len(train)) == train.episode_start)  # one frame per scene
    samples = [train[int(i) + 2] for i in firsts[:5]]
    opts = {**SMALL_BACKBONE, "lm_dim": 96, "lm_layers": 2}
    vla = build_vla("tiny", "language_table", num_bins=21, **opts)
    metrics = overfit(vla, samples, max_steps=800, lr=3e-3)
    assert metrics["action_token_acc"] == 1.0, metrics
    vla.eval()
    res = vla.act_batch([s.image for s in samples], [s.instruction for s in samples], cot=True)
    assert [fmt.parse(p) is not None for p in res.plans] == [True] * len(samples), res.plans
    assert [p.strip(" .").removeprefix("Plan: ").removesuffix(". Action:") for p in res.plans] == [
        s.plan for s in samples
    ]
    truth = vla.action_tokenizer.encode(np.stack([s.action for s in samples]))
    assert np.array_equal(res.bins, truth)


def test_the_longest_plan_fits_the_default_decoding_budget() -> None:
    """With 32 bins a plan is 49 bytes with its markers: a byte-level model must not be cut off."""
    from rt2.backbones.byte_tokenizer import ByteTokenizer
    from rt2.decoding import SamplingConfig
    from rt2.samples import PromptFormat

    text = PromptFormat().plan_text(PlanFormat(bins=32).text(np.ones(6)))
    assert len(ByteTokenizer().encode(text)) <= SamplingConfig().max_new_tokens
